#!/bin/bash
# Run one libFuzzer target for a bounded time (the ctest tests labelled fuzz).
#   run_fuzz.sh BINARY NAME SECONDS SEEDS_DIR BUILD_DIR [DICT]
# PFTUNE_FUZZ_SECONDS overrides SECONDS. New inputs go to BUILD_DIR/corpus/NAME,
# never to the committed SEEDS_DIR (libFuzzer writes only to the first corpus
# dir). A crash, leak, sanitizer report, OOM or slow input fails the test and
# leaves its reproducer in BUILD_DIR/crashes/NAME/.
set -euo pipefail
bin=$1 name=$2 seconds=${PFTUNE_FUZZ_SECONDS:-$3} seeds=$4 build=$5 dict=${6:-}
scratch=$build/corpus/$name
crashes=$build/crashes/$name
mkdir -p "$scratch" "$crashes"
stamp=$build/crashes/.start-$name
touch "$stamp"
args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
      -artifact_prefix="$crashes/")
[ -z "$dict" ] || args+=(-dict="$dict")
echo "fuzz.$name: ${seconds}s, seeds $seeds, new inputs $scratch, reproducers $crashes/"
if "$bin" "${args[@]}" "$scratch" "$seeds"; then
    exit 0
fi
echo "fuzz.$name: FAILED; reproducer(s):"
find "$crashes" -type f -newer "$stamp" | sed 's/^/  /'
echo "replay one with: $bin <file>"
exit 1
