#!/bin/bash
# `pftune check` on emu: a small run passes with one progress line per
# variant and a summary; --json is complete; the same seed reproduces the
# same errors (also with --jobs 2, each variant reported once); the covering
# subset is what the header says; bad options are one-line usage errors.
. "$(dirname "$0")/lib/common.sh" "$1"
seed=$(( (RANDOM << 15) | RANDOM ))
echo "seed $seed"
three=(--variant MASK_STORAGE=bitmap,STAGES=1 --variant MASK_STORAGE=window,INDPTR_T=int64
       --variant MASK_STORAGE=spans,TILE_SKIP=0)

"$PFTUNE" check --device emu --head-dim 72 --seed "$seed" "${three[@]}" --json "$tmp/a.json" >"$tmp/a.out" 2>&1
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: check exit $rc"; cat "$tmp/a.out"; fail=1; }
grep -q "^check: device .* seed $seed\$" "$tmp/a.out" || { echo "FAIL: header lacks the seed"; fail=1; }
[ "$(grep -c '^\[[0-9]/3\] BLOCK_M=.*HEAD_DIM=72 ok  *err [0-9.e+-]*  (emu [0-9.]* s)$' "$tmp/a.out")" = 3 ] ||
    { echo "FAIL: want 3 progress lines"; cat "$tmp/a.out"; fail=1; }
grep -q '^check: 3 of 3 variants passed, 0 failed' "$tmp/a.out" || { echo "FAIL: summary"; fail=1; }
# JSON: schema, seed, every case, three variants with their errors
for want in '"schema": "pftune.check/1"' "\"seed\": \"$seed\"" '"passed": 3' '"failed": 0' \
    '"backend": "emu"' '"name": "tile-edges"' '"name": "random"' '"mode": "named"'; do
    grep -qF "$want" "$tmp/a.json" || { echo "FAIL: JSON lacks $want"; fail=1; }
done
[ "$(grep -c '"rel_frob_error"' "$tmp/a.json")" -ge 21 ] || { echo "FAIL: JSON lacks per-case errors"; fail=1; }
ls "$tmp" | grep -q tmp && { echo "FAIL: temp file left beside the JSON"; fail=1; }

# same seed, two workers: identical errors per variant (order may differ)
"$PFTUNE" check --device emu --head-dim 72 --seed "$seed" "${three[@]}" --jobs 2 --json "$tmp/b.json" >"$tmp/b.out" 2>&1 ||
    { echo "FAIL: --jobs 2 run failed"; cat "$tmp/b.out"; fail=1; }
for n in 1 2 3; do
    [ "$(grep -c "^\[$n/3\]" "$tmp/b.out")" = 1 ] || { echo "FAIL: --jobs 2: progress $n/3 not once"; fail=1; }
done
grep -o '"variant": "[^"]*"\|"rel_frob_error": [0-9.e+-]*' "$tmp/a.json" | sort >"$tmp/a.err"
grep -o '"variant": "[^"]*"\|"rel_frob_error": [0-9.e+-]*' "$tmp/b.json" | sort >"$tmp/b.err"
cmp -s "$tmp/a.err" "$tmp/b.err" || { echo "FAIL: same seed, different errors"; diff "$tmp/a.err" "$tmp/b.err"; fail=1; }
# another seed gives other inputs, hence other errors
"$PFTUNE" check --device emu --head-dim 72 --seed $((seed + 1)) "${three[@]}" --cases 2 --json "$tmp/c.json" >/dev/null 2>&1 || fail=1
grep -o '"rel_frob_error": [0-9.e+-]*' "$tmp/c.json" | sort >"$tmp/c.err"
grep -o '"rel_frob_error": [0-9.e+-]*' "$tmp/a.json" | sort | cmp -s - "$tmp/c.err" && { echo "FAIL: seed ignored"; fail=1; }
# --cases 2: two cases per variant, rotating
[ "$(grep -c '"kernel_ms"' "$tmp/c.json")" = 6 ] || { echo "FAIL: --cases 2 did not run 2 cases x 3 variants"; fail=1; }

# the default is the covering subset, sized as the header says
"$PFTUNE" check --device emu --head-dim 512 --seed "$seed" --case vision-tower --json "$tmp/d.json" >"$tmp/d.out" 2>&1 ||
    { echo "FAIL: covering run"; cat "$tmp/d.out"; fail=1; }
n=$(sed -n 's/^check: head dim 512: \([0-9]*\) variants (covering subset of \([0-9]*\) valid)$/\1 \2/p' "$tmp/d.out")
read -r chosen valid <<<"$n"
[ -n "$chosen" ] && [ "$chosen" -lt "$valid" ] && [ "$(grep -c '^\[' "$tmp/d.out")" = "$chosen" ] ||
    { echo "FAIL: covering header '$n'"; cat "$tmp/d.out"; fail=1; }
for s in dense bitmap window spans; do
    grep -q "MASK_STORAGE=$s" "$tmp/d.out" || { echo "FAIL: covering subset lacks $s"; fail=1; }
done

# usage errors: one line, exit 2
usage() { # NEEDLE ARGS...
    local needle=$1; shift
    "$PFTUNE" check "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    [ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q '^pftune: check: ' "$tmp/err" &&
        grep -qF -- "$needle" "$tmp/err" || { echo "FAIL: check $*: rc $rc: $(cat "$tmp/err")"; fail=1; }
}
usage "--cases" --device emu --cases 0
usage "--cases" --device emu --cases 99
usage "did you mean 'tile-edges'" --device emu --case tile-edge
usage "--head-dim 40" --device emu --head-dim 40
usage "--all and --variant are exclusive" --device emu --all --variant WARPS=4
usage "invalid variant: WARPS=3" --device emu --head-dim 64 --variant WARPS=3
usage "unknown key 'BLOCKM'" --device emu --head-dim 64 --variant BLOCKM=64
usage "unknown option '--jbos'" --jbos 2
usage "--jobs" --jobs 0

[ $fail -eq 0 ] && echo "check_basic: ok"
exit $fail
