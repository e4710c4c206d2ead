#!/bin/bash
# `pftune check` catches broken kernels: copies of kernels/ with a planted
# bug (softmax at half temperature; NaN probabilities) must fail with exit 1,
# naming the variant and the case, with a replay line and JSON saying so;
# the unmodified kernels pass with the same command.
. "$(dirname "$0")/lib/common.sh" "$1"
# shellcheck source=lib/plant.sh
source "$(dirname "$0")/lib/plant.sh" # sets src
seed=$(( (RANDOM << 15) | RANDOM ))
args=(check --device emu --head-dim 64 --seed "$seed" --variant MASK_STORAGE=dense,TILE_SKIP=0
      --variant MASK_STORAGE=spans --cases 3)

plant_kernels "$tmp/hot" '#define pf_exp2_approx(x) pf_exp2_approx((x) * 0.5f)'
plant_kernels "$tmp/nan" '#define pf_exp2_approx(x) (0.0f * (x) / 0.0f)'

PFTUNE_KERNEL_DIR="$tmp/hot" "$PFTUNE" "${args[@]}" --json "$tmp/hot.json" >"$tmp/hot.out" 2>&1
rc=$?
[ $rc -eq 1 ] || { echo "FAIL: planted temperature bug: exit $rc"; cat "$tmp/hot.out"; fail=1; }
grep -q '^check: 0 of 2 variants passed, 2 failed' "$tmp/hot.out" || { echo "FAIL: summary"; cat "$tmp/hot.out"; fail=1; }
grep -q '^FAILED BLOCK_M=.*MASK_STORAGE=dense.*TILE_SKIP=0' "$tmp/hot.out" || { echo "FAIL: dense variant not named"; fail=1; }
grep -q 'case [a-z0-9-]* (.*layout .*): relative Frobenius error' "$tmp/hot.out" ||
    { echo "FAIL: the failing case is not described"; cat "$tmp/hot.out"; fail=1; }
grep -q "replay: pftune check --device emu --seed $seed --variant BLOCK_M=.* --case " "$tmp/hot.out" ||
    { echo "FAIL: no replay line"; fail=1; }
grep -q '"failed": 2' "$tmp/hot.json" && grep -q '"ok": false' "$tmp/hot.json" ||
    { echo "FAIL: JSON does not record the failures"; fail=1; }

# the replay line reproduces the failure on its own
replay=$(sed -n 's/^    replay: pftune //p' "$tmp/hot.out" | head -1)
if [ -n "$replay" ]; then
    # shellcheck disable=SC2086
    PFTUNE_KERNEL_DIR="$tmp/hot" "$PFTUNE" $replay >"$tmp/replay.out" 2>&1
    rc=$?
    [ $rc -eq 1 ] && grep -q '^check: 0 of 1 variants passed' "$tmp/replay.out" ||
        { echo "FAIL: replay '$replay' exit $rc"; cat "$tmp/replay.out"; fail=1; }
fi

PFTUNE_KERNEL_DIR="$tmp/nan" "$PFTUNE" "${args[@]}" >"$tmp/nan.out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q 'NaN/Inf outputs, first at row' "$tmp/nan.out" ||
    { echo "FAIL: planted NaN: exit $rc"; cat "$tmp/nan.out"; fail=1; }

# a mask bug only cached prefixes expose (query position taken without the
# prefix in the spans reader): the prefix cases catch it, the others cannot
mkdir -p "$tmp/prefix" && cp -r "$src"/. "$tmp/prefix/"
if grep -q 'int q = p->prefix + i;' "$src/attention_mask.h"; then
    sed -i 's/int q = p->prefix + i;/int q = i;/' "$tmp/prefix/attention_mask.h"
    one=(check --device emu --head-dim 64 --seed "$seed" --variant MASK_STORAGE=spans,TILE_SKIP=0)
    PFTUNE_KERNEL_DIR="$tmp/prefix" "$PFTUNE" "${one[@]}" --case prefix-full >"$tmp/p1.out" 2>&1
    rc=$?
    [ $rc -eq 1 ] && grep -q 'case prefix-full (gemma4 full' "$tmp/p1.out" ||
        { echo "FAIL: prefix bug not caught by prefix-full: exit $rc"; cat "$tmp/p1.out"; fail=1; }
    PFTUNE_KERNEL_DIR="$tmp/prefix" "$PFTUNE" "${one[@]}" --case tile-edges >"$tmp/p2.out" 2>&1 ||
        { echo "FAIL: prefix bug changed a case without prefixes"; cat "$tmp/p2.out"; fail=1; }
    PFTUNE_KERNEL_DIR="$tmp/prefix" "$PFTUNE" "${one[@]}" >"$tmp/p3.out" 2>&1
    [ $? -eq 1 ] || { echo "FAIL: the full case list misses the prefix bug"; fail=1; }
else
    echo "note: spans reader changed; prefix plant skipped"
fi

# the real kernels pass the same check
"$PFTUNE" "${args[@]}" >"$tmp/good.out" 2>&1 || { echo "FAIL: real kernels fail:"; cat "$tmp/good.out"; fail=1; }

[ $fail -eq 0 ] && echo "check_planted: ok"
exit $fail
