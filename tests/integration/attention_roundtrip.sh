#!/bin/bash
# `pftune attention` round trip: inputs generated with --seed and dumped with
# --dump-inputs, fed back with --q/--k/--v, give bit-identical outputs (kernel
# and reference); the layout may come from a string or a JSON file; the
# dumped arrays have the documented shapes and are bf16-exact floats.
. "$(dirname "$0")/lib/common.sh" "$1"
seed=$(( (RANDOM << 15) | RANDOM ))
echo "seed $seed"

npy_header() { # FILE: the header dict
    local hlen
    hlen=$(od -A n -t u2 -j 8 -N 2 "$1" | tr -d ' ')
    head -c $((10 + hlen)) "$1" | tail -c "$hlen" | tr -d '\0'
}

L='i19,t6,i3,t1,i8;t30|t2,i17'   # 37 + 19 = 56 query tokens, 37 + 49 = 86 kv tokens
common=(--layout "$L" --heads 6:3 --head-dim 72 --rule gemma3 --layer sliding --window 13 --device emu)

for mode in kernel reference; do
    extra=()
    [ $mode = reference ] && extra=(--reference)
    "$PFTUNE" attention "${common[@]}" "${extra[@]}" --seed "$seed" --dump-inputs "$tmp/in" \
        --out "$tmp/$mode.seed.npy" >"$tmp/log" 2>&1 || { echo "FAIL: $mode --seed:"; cat "$tmp/log"; fail=1; continue; }
    "$PFTUNE" attention "${common[@]}" "${extra[@]}" --q "$tmp/in/q.npy" --k "$tmp/in/k.npy" \
        --v "$tmp/in/v.npy" --out "$tmp/$mode.files.npy" >"$tmp/log" 2>&1 ||
        { echo "FAIL: $mode --q/--k/--v:"; cat "$tmp/log"; fail=1; continue; }
    cmp -s "$tmp/$mode.seed.npy" "$tmp/$mode.files.npy" ||
        { echo "FAIL: $mode: outputs from --seed and from the dumped files differ"; fail=1; }
done

# shapes of what was dumped and written
npy_header "$tmp/in/q.npy" | grep -q "'descr': '<f4'.*'shape': (56, 6, 72)" || { echo "FAIL: q header $(npy_header "$tmp/in/q.npy")"; fail=1; }
npy_header "$tmp/in/k.npy" | grep -q "'shape': (86, 3, 72)" || { echo "FAIL: k header $(npy_header "$tmp/in/k.npy")"; fail=1; }
npy_header "$tmp/kernel.seed.npy" | grep -q "'shape': (56, 6, 72)" || { echo "FAIL: o header"; fail=1; }

# inputs are bf16-exact: the low 16 bits of every float32 are zero
hlen=$(od -A n -t u2 -j 8 -N 2 "$tmp/in/v.npy" | tr -d ' ')
nonzero_low=$(od -A n -v -t u2 -j $((10 + hlen)) "$tmp/in/v.npy" | tr -s ' ' '\n' | sed '/^$/d' |
    awk 'NR % 2 == 1 && $1 != 0 { n++ } END { print n + 0 }')
[ "$nonzero_low" = 0 ] || { echo "FAIL: $nonzero_low dumped values are not bf16"; fail=1; }
# ...and not all zero: a normal-ish spread
spread=$(od -A n -v -t f4 -j $((10 + hlen)) "$tmp/in/v.npy" | tr -s ' ' '\n' | sed '/^$/d' |
    awk '{ s += $1 * $1; n++ } END { printf "%.3f", s / n }')
awk -v s="$spread" 'BEGIN { exit !(s > 0.7 && s < 1.3) }' || { echo "FAIL: inputs variance $spread"; fail=1; }

# another seed gives other inputs
"$PFTUNE" attention "${common[@]}" --reference --seed $((seed + 1)) --out "$tmp/other.npy" >/dev/null 2>&1 || fail=1
cmp -s "$tmp/other.npy" "$tmp/reference.seed.npy" && { echo "FAIL: seeds $seed and $((seed + 1)) agree"; fail=1; }

# the same layout from a JSON file
cat >"$tmp/layout.json" <<'JSON'
{"requests": [{"spans": [["i",19],["t",6],["i",3],["t",1],["i",8]]},
              {"prefix": 30, "spans": [["t",30],["t",2],["i",17]]}]}
JSON
"$PFTUNE" attention --layout "$tmp/layout.json" --heads 6:3 --head-dim 72 --rule gemma3 --layer sliding \
    --window 13 --reference --q "$tmp/in/q.npy" --k "$tmp/in/k.npy" --v "$tmp/in/v.npy" \
    --out "$tmp/json.npy" >"$tmp/log" 2>&1 || { echo "FAIL: JSON layout:"; cat "$tmp/log"; fail=1; }
cmp -s "$tmp/json.npy" "$tmp/reference.seed.npy" || { echo "FAIL: JSON layout gives another result"; fail=1; }

# an unwritable --out is a failure (exit 1) that leaves nothing behind
"$PFTUNE" attention "${common[@]}" --reference --seed 1 --out "$tmp/no/such/dir/o.npy" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -q '^pftune: attention: --out' "$tmp/err" || { echo "FAIL: unwritable --out: rc $rc $(cat "$tmp/err")"; fail=1; }

[ $fail -eq 0 ] && echo "attention_roundtrip: ok"
exit $fail
