#!/bin/bash
# pftune export end to end on the CPU: export an emu-tuned and a GPU-shaped
# tuned.json for sm_80,sm_90 (NVRTC), check every PTX/cubin, build the
# package and an engine-side consumer with CMake against the package alone
# (in place and installed), compare the package's mask builders byte for
# byte with pftune's encoders on random multimodal layouts from C and from
# pfattn.py (numpy), run the exported kernel sources on emu against the
# reference, and check that bad inputs fail in one line leaving nothing.
set -u
PFTUNE=$1
src=${PFTUNE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# ---- export both fixtures
for f in quickstart_emu gpu_h100; do
    "$PFTUNE" export "$src/tests/fixtures/tuned_$f.json" --out "$tmp/$f" --arch sm_80,sm_90 \
        >"$tmp/$f.out" 2>"$tmp/$f.err" || { bad "export $f: $(cat "$tmp/$f.err")"; continue; }
    for k in "$tmp/$f"/kernels/attn_*.cu; do
        for a in sm_80 sm_90; do
            for ext in cubin ptx; do
                [ -s "${k%.cu}.$a.$ext" ] || bad "$f: ${k%.cu}.$a.$ext missing or empty"
            done
        done
    done
    n=$(ls "$tmp/$f"/kernels/attn_*.cu | wc -l)
    [ "$n" = 3 ] || bad "$f: want 3 kernel sources, got $n"
    grep -rq 'pftune_core\|harness/' "$tmp/$f/src" "$tmp/$f/include" "$tmp/$f/CMakeLists.txt" &&
        bad "$f: the runtime refers to pftune"
done
grep -q 'host (CPU emulator) timings' "$tmp/quickstart_emu/README.md" || bad "emu README lacks the warning"
grep -q 'host (CPU emulator) timings' "$tmp/gpu_h100/README.md" && bad "GPU README has the emu warning"
grep -q '`NVIDIA H100 80GB HBM3`' "$tmp/gpu_h100/README.md" || bad "GPU README does not name the device"
[ -s "$tmp/gpu_h100/configs/device_name=NVIDIA_H100_80GB_HBM3,dtype=bf16,head_dim=128,layer=sliding,rule=gemma3.json" ] ||
    bad "GPU config file name"
ls -a "$tmp" | grep -q '^\.' && ls -a "$tmp" | grep '^\.[a-z]' && bad "staging directory left behind"

# ---- the consumer, against the package directory and against its install
pkg=$tmp/quickstart_emu
cmake -S "$src/tests/export_consumer" -B "$tmp/c1" -DCMAKE_PREFIX_PATH="$pkg" >"$tmp/c1.log" 2>&1 &&
    cmake --build "$tmp/c1" >>"$tmp/c1.log" 2>&1 || { bad "consumer (package dir)"; tail -20 "$tmp/c1.log"; }
{ cmake -S "$pkg" -B "$tmp/pb" -DCMAKE_INSTALL_PREFIX="$tmp/prefix" &&
  cmake --build "$tmp/pb" && cmake --install "$tmp/pb" &&
  cmake -S "$src/tests/export_consumer" -B "$tmp/c2" -DCMAKE_PREFIX_PATH="$tmp/prefix" &&
  cmake --build "$tmp/c2"; } >"$tmp/c2.log" 2>&1 || { bad "consumer (installed)"; tail -20 "$tmp/c2.log"; }
[ -f "$tmp/prefix/lib/cmake/pfattn/pfattnConfig.cmake" ] || bad "config file not installed"
consumer=$tmp/c2/pfattn_consumer
for c in "$tmp/c1/pfattn_consumer" "$consumer"; do
    grep -rqs 'pftune' "$(dirname "$c")/CMakeFiles/pfattn_consumer.dir/link.txt" && bad "$c links pftune"
    ldd "$c" 2>/dev/null | grep -q 'pftune' && bad "$c loads a pftune library"
done
"$consumer" info >"$tmp/info" || bad "consumer info"
grep -c '^kernel ' "$tmp/info" | grep -qx 3 || bad "consumer sees $(grep -c '^kernel ' "$tmp/info") kernels"
if [ ! -e /dev/nvidiactl ]; then # without a driver the launch must fail cleanly
    "$consumer" launch 64 >"$tmp/launch" || bad "launch without a driver: $(cat "$tmp/launch")"
    grep -q 'cannot load the CUDA driver' "$tmp/launch" || bad "launch message: $(cat "$tmp/launch")"
fi

# ---- mask metadata: pftune's encoders vs the package (C and Python)
RANDOM=11
kinds=(t t i v a)
layouts=("t5,i4,t3;t2|i3,t2" "i7,i3,v2,t1" "t1" "a3,i5,t1,i5|t4,i1;t46")
for n in $(seq 1 10); do
    l=""
    for r in $(seq 0 $((RANDOM % 3))); do
        req="" prev=""
        for s in $(seq 0 $((RANDOM % 6))); do
            k=${kinds[$((RANDOM % 5))]}
            # a cached prefix may end only next to a text or audio span
            sep=","
            [ -n "$req" ] && [ $((RANDOM % 5)) = 0 ] && [[ "$prev$k" == *[ta]* ]] && [[ "$req" != *"|"* ]] && sep="|"
            req="$req${req:+$sep}$k$((RANDOM % 40 + 1))"
            prev=$k
        done
        l="$l${l:+;}$req"
    done
    layouts+=("$l")
done
: >"$tmp/cases"
i=0
for l in "${layouts[@]}"; do
    for rule in causal gemma3 gemma4 bidirectional; do
        w=$((RANDOM % 50 + 1)) tiles="16x16,16x32,64x32,128x64"
        i=$((i + 1))
        "$PFTUNE" masks --layout "$l" --rule "$rule" --window "$w" --tiles "$tiles" \
            --dump "$tmp/m$i.pftune" 2>"$tmp/m$i.err" || { bad "pftune dump '$l': $(cat "$tmp/m$i.err")"; continue; }
        "$consumer" dump "$tmp/m$i.pfattn" "$l" "$rule" "$w" "$tiles" || { bad "consumer dump '$l'"; continue; }
        diff -r "$tmp/m$i.pftune" "$tmp/m$i.pfattn" >"$tmp/m$i.diff" ||
            { bad "metadata differs for '$l' $rule W=$w"; head -5 "$tmp/m$i.diff"; }
        printf '%s\t%s\t%s\t%s\t%s\n' "$tmp/m$i.pftune" "$l" "$rule" "$w" "$tiles" >>"$tmp/cases"
    done
done
py=""
for p in python3 /usr/bin/python3; do
    command -v "$p" >/dev/null && "$p" -c 'import numpy' 2>/dev/null && { py=$p; break; }
done
if [ -n "$py" ]; then
    PYTHONPATH="$tmp/pb" "$py" "$src/tests/export_consumer/check_pfattn.py" "$tmp/cases" >"$tmp/py.out" 2>&1 ||
        { bad "pfattn.py metadata"; tail -20 "$tmp/py.out"; }
else
    echo "SKIP: pfattn.py check (no python3 with numpy; tools/setup.sh installs python3-numpy)"
fi

# ---- the exported kernel sources on emu, through pftune's launcher: the
# kernel dir is a directory whose attention.cu includes the exported
# NAME.cu (which defines the variant and includes the exported copy)
emu_check() { # package kernel-name seed
    local kd=$tmp/kd-$2-$3 v
    mkdir -p "$kd"
    echo "#include \"$1/kernels/$2.cu\"" >"$kd/attention.cu"
    v=$(sed -n 's/^ \*   \(BLOCK_M=.*\)$/\1/p' "$1/kernels/$2.cu")
    PFTUNE_KERNEL_DIR=$kd "$PFTUNE" check --device emu --head-dim "${v##*HEAD_DIM=}" \
        --variant "$v" --seed "$3" >"$kd.out" 2>&1
}
for k in "$pkg"/kernels/attn_*.cu; do
    for seed in 1 2; do
        emu_check "$pkg" "$(basename "${k%.cu}")" $seed || { bad "emu check of $k"; tail -3 "$tmp/kd-$(basename "${k%.cu}")-$seed.out"; }
    done
done
emu_check "$tmp/gpu_h100" attn_d128_m64_n32_w4_s2_window_i32_skip1 3 ||
    bad "emu check of the exported window kernel (D=128)"
# the check really compiles the exported file: a broken copy fails
cp -r "$pkg" "$tmp/broken"
k=attn_d64_m64_n32_w4_s2_spans_i32_skip1
sed -i 's/^#include "attention.cu"/#error exported wrapper compiled\n&/' "$tmp/broken/kernels/$k.cu"
emu_check "$tmp/broken" $k 1 && bad "a broken exported wrapper passed the emu check"

# ---- failures: one line, exit 1, nothing left behind
expect_fail() { # name, then export arguments
    local name=$1
    shift
    mkdir -p "$tmp/f-$name"
    "$PFTUNE" export "$@" >"$tmp/f-$name/out" 2>"$tmp/f-$name/err"
    local rc=$?
    [ $rc = 1 ] || bad "$name: exit $rc (want 1)"
    [ "$(wc -l <"$tmp/f-$name/err")" = 1 ] && grep -q '^pftune: export: ' "$tmp/f-$name/err" ||
        { bad "$name: want one 'pftune: export:' line"; cat "$tmp/f-$name/err"; }
    [ "$name" = exists ] || [ -z "$(ls -A "$tmp/f-$name/pkg" 2>/dev/null)" ] || bad "$name: left a package"
    ls -a "$tmp/f-$name" | grep -q '^\.pkg\.' && bad "$name: left a staging directory"
    grep -q "$PFTUNE_EXPECT" "$tmp/f-$name/err" || bad "$name: message '$(cat "$tmp/f-$name/err")'"
}
: >"$tmp/empty.json"
echo '{"schema": "pftune.tuned/1", "device": "x", "entries": []}' >"$tmp/noentries.json"
echo '{"schema": "pftune.results/1"}' >"$tmp/results.json"
sed 's/BLOCK_M=128,BLOCK_N=64/BLOCK_M=96,BLOCK_N=64/' "$src/tests/fixtures/tuned_gpu_h100.json" >"$tmp/badvariant.json"
good=$src/tests/fixtures/tuned_quickstart_emu.json
PFTUNE_EXPECT='not a JSON tuned configuration' expect_fail empty "$tmp/empty.json" --out "$tmp/f-empty/pkg"
PFTUNE_EXPECT='no entries to export' expect_fail noentries "$tmp/noentries.json" --out "$tmp/f-noentries/pkg"
PFTUNE_EXPECT='is not pftune.tuned/1' expect_fail schema "$tmp/results.json" --out "$tmp/f-schema/pkg"
PFTUNE_EXPECT='entries\[0\].buckets\[0\].variant' expect_fail variant "$tmp/badvariant.json" --out "$tmp/f-variant/pkg"
PFTUNE_EXPECT='NVRTC does not know arch sm_99' expect_fail arch "$good" --out "$tmp/f-arch/pkg" --arch sm_80,sm_99
PFTUNE_EXPECT='unknown target' expect_fail arch75 "$good" --out "$tmp/f-arch75/pkg" --arch sm_75
PFTUNE_EXPECT='emu is not a GPU arch' expect_fail emu "$good" --out "$tmp/f-emu/pkg" --arch emu
PFTUNE_EXPECT='does not exist' expect_fail outdir "$good" --out "$tmp/f-outdir/nodir/pkg"
PFTUNE_EXPECT='cannot' expect_fail proc "$good" --out /proc/pfattn-export-test
mkdir -p "$tmp/f-exists/pkg/keep"
PFTUNE_EXPECT='already exists' expect_fail exists "$good" --out "$tmp/f-exists/pkg" 2>/dev/null
[ -d "$tmp/f-exists/pkg/keep" ] || bad "an existing directory was touched without --force"
"$PFTUNE" export "$good" --out "$tmp/f-exists/pkg" --force >/dev/null 2>&1 || bad "--force"
[ -s "$tmp/f-exists/pkg/README.md" ] && [ ! -d "$tmp/f-exists/pkg/keep" ] || bad "--force did not replace"
ls -a "$tmp/f-exists" | grep -q '^\.pkg\.' && bad "--force left a directory behind"
exit $fail
