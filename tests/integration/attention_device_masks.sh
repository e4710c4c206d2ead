#!/bin/bash
# `pftune attention --encode-on-device`: the mask built on the device
# (kernels/mask_build.cu) gives the same O and LSE, bit for bit, as the
# host-encoded mask, for each storage it builds (dense, bitmap, window),
# int32 and int64 indptr, a sliding and a full layer, with a cached prefix.
. "$(dirname "$0")/lib/common.sh" "$1"

layout='t5,i9,t3,v4|t2,i6,t4;i3,t7;t1'
. "$(dirname "$0")/lib/attention_run.sh"

for storage in dense bitmap window; do
    for indptr in int32 int64; do
        for layer in full sliding; do
            tag=$storage.$indptr.$layer
            mask=(--rule gemma3)
            [ $layer = sliding ] && mask=(--rule gemma4 --layer sliding --window 5)
            args=(--head-dim 64 --variant "MASK_STORAGE=$storage,INDPTR_T=$indptr,TILE_SKIP=1" "${mask[@]}")
            run "$tag.host" "${args[@]}" || continue
            run "$tag.dev" "${args[@]}" --encode-on-device || continue
            grep -q '^mask metadata .*encoded on the device' "$tmp/$tag.dev.log" ||
                { echo "FAIL: $tag: no 'encoded on the device' in the report"; fail=1; }
            if grep -q 'encoded on the device' "$tmp/$tag.host.log"; then
                echo "FAIL: $tag: host run claims a device-encoded mask"; fail=1
            fi
            if cmp -s "$tmp/$tag.host.npy" "$tmp/$tag.dev.npy" &&
                cmp -s "$tmp/$tag.host.lse.npy" "$tmp/$tag.dev.lse.npy"; then
                echo "$tag: identical"
            else
                echo "FAIL: $tag: outputs differ with --encode-on-device"; fail=1
            fi
        done
    done
done

# spans has nothing to build: the flag is accepted and the group ids path runs
run spans --head-dim 64 --variant MASK_STORAGE=spans --encode-on-device &&
    ! grep -q 'encoded on the device' "$tmp/spans.log" ||
    { echo "FAIL: spans with --encode-on-device"; fail=1; }

# --reference does not run a kernel: usage error
"$PFTUNE" attention --reference --encode-on-device --seed 1 --layout t4 --heads 1:1 \
    --head-dim 64 --out "$tmp/r.npy" >/dev/null 2>&1
[ $? = 2 ] || { echo "FAIL: --reference --encode-on-device is not a usage error"; fail=1; }

exit $fail
