#!/bin/bash
# `pftune attention` bad input: each error is one line "pftune: attention:
# ...", naming what is wrong; exit 2 for command-line mistakes, 1 for bad
# data files; no output file is left behind.
. "$(dirname "$0")/lib/common.sh" "$1"

# expect RC NEEDLE ARGS...
expect() {
    local want=$1 needle=$2; shift 2
    rm -f "$tmp/o.npy"
    "$PFTUNE" attention "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ $rc -ne "$want" ]; then
        echo "FAIL: attention $*: exit $rc, want $want ($(cat "$tmp/err"))"; fail=1; return
    fi
    if [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
        echo "FAIL: attention $*: stderr is not one line:"; cat "$tmp/err"; fail=1; return
    fi
    if ! grep -q '^pftune: attention: ' "$tmp/err" || ! grep -qF -- "$needle" "$tmp/err"; then
        echo "FAIL: attention $*: got '$(cat "$tmp/err")', want '$needle'"; fail=1
    fi
    if [ -e "$tmp/o.npy" ]; then echo "FAIL: attention $*: wrote o.npy despite the error"; fail=1; fi
}

L='t7,i13,t5;t9|t4'      # 29 query tokens, 38 key/value tokens
base=(--layout "$L" --head-dim 64 --device emu --out "$tmp/o.npy")

# inputs to misuse: 4 query heads, 2 kv heads
"$PFTUNE" attention "${base[@]}" --heads 4:2 --seed 11 --reference --dump-inputs "$tmp/in" >/dev/null ||
    { echo "FAIL: could not create inputs"; exit 1; }
files=(--q "$tmp/in/q.npy" --k "$tmp/in/k.npy" --v "$tmp/in/v.npy")

# wrong array shapes: the array is named, with expected and actual shapes
expect 1 "k ($tmp/in/k.npy): expected shape [38, 4, 64]" "${base[@]}" --heads 4:4 "${files[@]}"
expect 1 "got [38, 2, 64]" "${base[@]}" --heads 4:4 "${files[@]}"
expect 1 "q ($tmp/in/q.npy): expected shape [29, 4, 72]" --layout "$L" --head-dim 72 --heads 4:2 \
    "${files[@]}" --reference --out "$tmp/o.npy"
# layout token counts that do not match the arrays
expect 1 "has 29 rows but the layout has 30 query (new) tokens" --layout 't7,i13,t6;t9|t4' \
    --head-dim 64 --heads 4:2 "${files[@]}" --reference --out "$tmp/o.npy"
expect 1 "k ($tmp/in/k.npy) has 38 rows but the layout has 37 key/value" --layout 't7,i13,t5;t8|t4' \
    --head-dim 64 --heads 4:2 "${files[@]}" --reference --out "$tmp/o.npy"
# heads
expect 2 "HQ (6) is not a multiple of HKV (4)" "${base[@]}" --heads 6:4 --seed 1
expect 2 "expected HQ:HKV" "${base[@]}" --heads 6 --seed 1
# rule / layer / window
expect 2 "--rule: unknown value 'gemma5' (did you mean 'gemma3'?" "${base[@]}" --heads 2:2 --seed 1 --rule gemma5
expect 2 "--layer sliding needs --window W" "${base[@]}" --heads 2:2 --seed 1 --layer sliding
expect 2 "bidirectional has no sliding layer" "${base[@]}" --heads 2:2 --seed 1 --rule bidirectional --layer sliding --window 4
# variants
expect 2 "unknown key 'BLOCK_Q'" "${base[@]}" --heads 2:2 --seed 1 --variant BLOCK_Q=64
expect 2 "invalid variant: WARPS=3" "${base[@]}" --heads 2:2 --seed 1 --variant WARPS=3
expect 2 "invalid variant: BLOCK_M=128, BLOCK_N=32, WARPS=2" "${base[@]}" --heads 2:2 --seed 1 --variant BLOCK_M=128,WARPS=2
expect 2 "--head-dim 40: the kernels support" --layout "$L" --head-dim 40 --heads 2:2 --seed 1 --device emu --out "$tmp/o.npy"
# missing pieces
expect 2 "missing --out" --layout "$L" --head-dim 64 --heads 2:2 --seed 1
expect 2 "missing --layout" --head-dim 64 --heads 2:2 --seed 1 --out "$tmp/o.npy"
expect 2 "give all of --q, --k and --v" "${base[@]}" --heads 4:2 --q "$tmp/in/q.npy"
expect 2 "unknown option '--sed'" "${base[@]}" --heads 4:2 --sed 3
expect 2 "span 'x3'" --layout 't7,x3' --head-dim 64 --heads 2:2 --seed 1 --out "$tmp/o.npy"
expect 1 "--layout $tmp/missing.json" --layout "$tmp/missing.json" --head-dim 64 --heads 2:2 --seed 1 --out "$tmp/o.npy"
# unreadable .npy files
expect 1 "--q $tmp/missing.npy" "${base[@]}" --heads 4:2 --q "$tmp/missing.npy" --k "$tmp/in/k.npy" --v "$tmp/in/v.npy"
echo "not a numpy file" >"$tmp/bad.npy"
expect 1 "--v $tmp/bad.npy" "${base[@]}" --heads 4:2 --q "$tmp/in/q.npy" --k "$tmp/in/k.npy" --v "$tmp/bad.npy"
head -c 100 "$tmp/in/k.npy" >"$tmp/short.npy"
expect 1 "--k $tmp/short.npy" "${base[@]}" --heads 4:2 --q "$tmp/in/q.npy" --k "$tmp/short.npy" --v "$tmp/in/v.npy"

# --help works and names every option
"$PFTUNE" attention --help >"$tmp/help" || { echo "FAIL: --help exit $?"; fail=1; }
for o in --layout --heads --head-dim --rule --layer --window --scale --q --k --v --seed --variant \
    --reference --compare-reference --device --lse --out --dump-inputs; do
    grep -q -- "$o " "$tmp/help" || { echo "FAIL: --help lacks $o"; fail=1; }
done

[ $fail -eq 0 ] && echo "attention_errors: ok"
exit $fail
