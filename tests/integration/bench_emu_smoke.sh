#!/bin/bash
# attention_bench's own flow on the emu backend at toy sizes (--emu-smoke):
# --spans-only keeps the spans TILE_SKIP=1 and causal rows (the A/B the GPU
# bundle's bench step runs for the D=128 shapes), --variant reaches every
# record, every time is labelled emu-host, and bad options exit 2.
set -u
PFTUNE=$1
BENCH=$(dirname "$PFTUNE")/attention_bench
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -x "$BENCH" ] || { echo "FAIL: no attention_bench beside $PFTUNE"; exit 1; }

"$BENCH" --emu-smoke --spans-only --model 27b --seq 200 --iters 2 \
    --variant BLOCK_M=128,BLOCK_N=32,WARPS=4 --json "$tmp/b.json" >"$tmp/out" 2>&1 ||
    { echo "FAIL: emu smoke run"; cat "$tmp/out"; fail=1; }
python3 - "$tmp/b.json" <<'PY' || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
r = d["records"]
# full + sliding, each the gemma3 rule on spans and the causal row
assert len(r) == 4, [x.get("variant") for x in r]
for x in r:
    v = x["variant"]
    assert "BLOCK_M=128,BLOCK_N=32,WARPS=4," in v and "MASK_STORAGE=spans" in v, v
    assert "TILE_SKIP=1" in v and "WARP_ROWS" not in v, v
PY
grep -q "emu-host" "$tmp/out" || { echo "FAIL: times not labelled emu-host"; fail=1; }
[ "$(grep -c ' ok ' "$tmp/out")" -eq 4 ] || { echo "FAIL: want 4 ok rows"; cat "$tmp/out"; fail=1; }

"$BENCH" --spans-only --bogus >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "unknown or incomplete option" "$tmp/err" || { echo "FAIL: bad option"; fail=1; }

[ $fail -eq 0 ] && echo "bench_emu_smoke: ok"
exit $fail
