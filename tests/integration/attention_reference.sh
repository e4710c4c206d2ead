#!/bin/bash
# `pftune attention`: a kernel run on seeded inputs agrees with --reference on
# the same inputs. Checked twice, independently: the command's own
# --compare-reference line, and a direct comparison of the two .npy files
# (float32 payloads read with od, relative Frobenius error in awk). The
# user-supplied .npy path must give bit-identical results to --seed.
. "$(dirname "$0")/lib/common.sh" "$1"
seed=$(( (RANDOM << 15) | RANDOM ))
echo "seed $seed"

# npy_floats FILE: the float32 payload, one value per line
npy_floats() {
    local hlen
    hlen=$(od -A n -t u2 -j 8 -N 2 "$1" | tr -d ' ')
    od -A n -v -t f4 -j $((10 + hlen)) "$1" | tr -s ' ' '\n' | sed '/^$/d'
}

# rel_frob A B: ||a-b|| / ||b||, and NaN count, from two .npy files
rel_frob() {
    paste <(npy_floats "$1") <(npy_floats "$2") | awk '
        { n++; if ($1 != $1 + 0 || $1 ~ /nan/) bad++; d = $1 - $2; num += d * d; den += $2 * $2 }
        END { if (n == 0) { print "empty"; exit } printf "%.6e %d %d\n", sqrt(num / den), bad + 0, n }'
}

run_pair() { # NAME ATTENTION-ARGS... (KERNEL_ARGS: extra args of the kernel run only)
    local name=$1; shift
    local args=(attention --seed "$seed" --device emu "$@")
    if ! "$PFTUNE" "${args[@]}" ${KERNEL_ARGS:-} --compare-reference --out "$tmp/$name.k.npy" --lse "$tmp/$name.lse.npy" \
        >"$tmp/$name.out" 2>&1; then
        echo "FAIL: $name: kernel run failed:"; cat "$tmp/$name.out"; fail=1; return
    fi
    if ! "$PFTUNE" "${args[@]}" --reference --out "$tmp/$name.r.npy" >"$tmp/$name.ref" 2>&1; then
        echo "FAIL: $name: reference run failed:"; cat "$tmp/$name.ref"; fail=1; return
    fi
    # the command's report
    local reported
    reported=$(sed -n 's/^vs reference: max abs error \([^,]*\), relative Frobenius error \([0-9.e+-]*\).*/\2/p' "$tmp/$name.out")
    if [ -z "$reported" ] || ! awk -v e="$reported" 'BEGIN { exit !(e < 1e-2 && e > 0) }'; then
        echo "FAIL: $name: --compare-reference reported '$reported'"; cat "$tmp/$name.out"; fail=1
    fi
    grep -q '^time .* ms (emu-host timing, not a GPU number)' "$tmp/$name.out" ||
        { echo "FAIL: $name: time line not labelled as emu host timing"; cat "$tmp/$name.out"; fail=1; }
    grep -q '^variant BLOCK_M=' "$tmp/$name.out" || { echo "FAIL: $name: no variant line"; fail=1; }
    grep -q '^mask metadata [0-9]* bytes' "$tmp/$name.out" || { echo "FAIL: $name: no mask bytes"; fail=1; }
    # independent comparison of the files
    read -r err bad n <<<"$(rel_frob "$tmp/$name.k.npy" "$tmp/$name.r.npy")"
    if [ "${bad:-1}" != 0 ] || ! awk -v e="$err" 'BEGIN { exit !(e < 1e-2) }'; then
        echo "FAIL: $name: files differ: rel err $err, $bad NaN of $n"; fail=1
    else
        echo "$name: rel err $err over $n values (reported $reported)"
    fi
    # the reported error matches the one computed here
    awk -v a="$err" -v b="$reported" 'BEGIN { exit !(a / b < 1.01 && b / a < 1.01) }' ||
        { echo "FAIL: $name: reported $reported, files give $err"; fail=1; }
}

run_pair g3full --layout 't13,i37,t5;i9,t1,i11|t3' --heads 4:2 --head-dim 64
run_pair g4slide --layout 't21,i30,t11;t40|t5' --heads 8:1 --head-dim 72 --rule gemma4 --layer sliding --window 9
KERNEL_ARGS="--variant MASK_STORAGE=bitmap,TILE_SKIP=0" \
    run_pair causal --layout 't77;t1' --heads 3:3 --head-dim 128 --rule causal

# a different --scale changes the answer (the option is used)
"$PFTUNE" attention --seed "$seed" --layout 't13,i37,t5;i9,t1,i11|t3' --heads 4:2 --head-dim 64 \
    --reference --scale 0.5 --out "$tmp/scaled.npy" >/dev/null || fail=1
read -r err bad n <<<"$(rel_frob "$tmp/scaled.npy" "$tmp/g3full.r.npy")"
awk -v e="$err" 'BEGIN { exit !(e > 0.05) }' || { echo "FAIL: --scale 0.5 changed nothing ($err)"; fail=1; }

# the LSE file has one value per query row and head
hlen=$(od -A n -t u2 -j 8 -N 2 "$tmp/g3full.lse.npy" | tr -d ' ')
head -c $((10 + hlen)) "$tmp/g3full.lse.npy" | tr -d '\0' | grep -q "'shape': (58, 4)" ||
    { echo "FAIL: lse shape: $(head -c $((10 + hlen)) "$tmp/g3full.lse.npy" | tr -d '\0')"; fail=1; }

[ $fail -eq 0 ] && echo "attention_reference: ok"
exit $fail
