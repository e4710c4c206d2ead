#!/bin/bash
# `pftune attention --sanitize`: the attention kernel (every mask storage at
# head dim 64, dense and spans at 128; STAGES 1 and 2 so the cp.async
# pipelines are covered)
# gives bit-identical O and LSE under two chaos seeds, also with the mask
# built on the device; it runs clean under the init check (and, in a TSan
# build, the race check); unknown check words are usage errors, and `race`
# in a build without ThreadSanitizer says so.
set -u
PFTUNE=$1
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

layout='t5,i9,t3,v4|t2,i6,t4;i3,t7;t1'
. "$(dirname "$0")/lib/attention_run.sh"

for d in 64 128; do
    storages="dense bitmap window spans"
    [ $d = 128 ] && storages="dense spans"
    for storage in $storages; do
        for stages in 1 2; do
            tag=d$d.$storage.s$stages
            args=(--head-dim $d --variant "MASK_STORAGE=$storage,STAGES=$stages,HEAD_DIM=$d")
            [ $storage = spans ] || args+=(--encode-on-device)
            PFTUNE_SANITIZE_SEED=1 run "$tag.c1" "${args[@]}" --sanitize chaos || continue
            PFTUNE_SANITIZE_SEED=2 run "$tag.c2" "${args[@]}" --sanitize chaos || continue
            if cmp -s "$tmp/$tag.c1.npy" "$tmp/$tag.c2.npy" && cmp -s "$tmp/$tag.c1.lse.npy" "$tmp/$tag.c2.lse.npy"; then
                echo "$tag: chaos seeds 1 and 2 identical"
            else
                echo "FAIL: $tag: output depends on the fiber order"; fail=1
            fi
            run "$tag.init" "${args[@]}" --sanitize init --compare-reference && echo "$tag: init clean"
        done
    done
done

# usage errors
if "$PFTUNE" attention --device emu --seed 7 --layout t3 --heads 1:1 --head-dim 64 --out "$tmp/x.npy" \
    --sanitize race,bogus >"$tmp/bad.log" 2>&1; then
    echo "FAIL: --sanitize bogus accepted"; fail=1
elif ! grep -q "unknown check 'bogus'" "$tmp/bad.log"; then
    echo "FAIL: --sanitize bogus: unclear error:"; cat "$tmp/bad.log"; fail=1
fi
"$PFTUNE" attention --device emu --seed 7 --layout t3 --heads 1:1 --head-dim 64 --out "$tmp/r.npy" \
    --sanitize race >"$tmp/race.log" 2>&1
rc=$?
if grep -q "needs a ThreadSanitizer build" "$tmp/race.log"; then
    [ $rc = 2 ] || { echo "FAIL: --sanitize race without TSan: exit $rc, want 2"; fail=1; }
    echo "race: refused (not a TSan build)"
elif [ $rc != 0 ]; then
    echo "FAIL: --sanitize race in a TSan build:"; cat "$tmp/race.log"; fail=1
else
    echo "race: clean (TSan build)"
fi
exit $fail
