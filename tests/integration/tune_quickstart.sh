#!/bin/bash
# The README's main job: the quickstart profile tuned end to end (on emu
# here), ending with the chosen variants and the paths of results.json and
# tuned.json.
set -u
PFTUNE=$1
src=${PFTUNE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
"$PFTUNE" tune "$src/profiles/quickstart.json" --device emu --out "$tmp/qs" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: exit $rc"; tail -5 "$tmp/err"; fail=1; }
tail -2 "$tmp/out" | head -1 | grep -qx "results: $tmp/qs/results.json" || { echo "FAIL: results path"; fail=1; }
tail -1 "$tmp/out" | grep -qx "tuned:   $tmp/qs/tuned.json" || { echo "FAIL: tuned path"; fail=1; }
[ "$(grep -c '^best for .*: BLOCK_M=.* ms (emu-host, host timing: not a GPU number)$' "$tmp/out")" = 4 ] ||
    { echo "FAIL: want a chosen variant for each of the 4 problems"; cat "$tmp/out"; fail=1; }
grep -q '"status": "verify_failed"\|"status": "crashed"' "$tmp/qs/results.json" &&
    { echo "FAIL: a quickstart variant failed"; fail=1; }
exit $fail
