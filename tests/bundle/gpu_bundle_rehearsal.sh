#!/bin/bash
# Rehearsal of a GPU run on this CPU machine (ctest label "bundle"): build the
# bundle (tools/gpu-bundle), then, in a mount namespace where the source tree,
# the staging JIT cache and the system copies of every bundled library
# (libjansson, libopenblas, libxxhash, ...) are hidden under empty bind
# mounts, run from the bundle alone: `run --dry-run`, `pftune devices`, an
# emu `pftune check` of a few variants, and a `pftune compile --json` of
# every bundled (variant, arch) that must come from the cache (zero NVRTC
# compiles). The model steps (`run --steps model`: export, forward): their
# dry run fits the budget; the export package (sm_90 cubins), consumer and
# pfattn.py are bundled, the consumer resolves libpfattn from the bundle,
# lists the kernels and fails cleanly without a driver, pfattn.py loads it
# (where numpy is); the forward layouts parse (8K and 32K tokens, 8 images);
# peer_forward.py exits 3 without transformers (or builds the gemma3-4b
# config with it); the forward step's pftune command line runs on emu with
# gemma3-tiny (default and --tuned with the fixture tuned.json) and writes
# the fields the summary reads; the Python scripts compile. Asserts the
# 48 MiB limit and relative run paths. A bundle that
# would fail on a bare machine fails here first.
#
# Needs root and `unshare -m`; without them it FAILS, unless
# PFTUNE_REHEARSAL_NO_NAMESPACE=1 explicitly opts out of the hidden part.
# The cubins come through $PFTUNE_CACHE_DIR (ctest: the build's test-cache).
set -euo pipefail

if [ "${1:-}" = --inside ]; then
    # ---- inside the namespace: $2 = bundle, $3 = source tree, $4 = scratch
    bundle=$2 src=$3 tmp=$4
    fail() { echo "FAIL (inside): $*" >&2; exit 1; }
    cd "$tmp" # the working directory may be inside the hidden tree
    [ ! -e "$src/CMakeLists.txt" ] || fail "the source tree is still visible"
    unset PFTUNE_SOURCE_DIR PFTUNE_KERNEL_DIR PFTUNE_CACHE_DIR LD_LIBRARY_PATH XDG_CACHE_HOME
    export HOME=$tmp/home
    mkdir -p "$HOME"
    echo "== run --dry-run"
    "$bundle/run" --dry-run | tee "$tmp/dry.txt"
    grep -q '^run: dry run ok' "$tmp/dry.txt" || fail "dry run not ok"
    total=$(awk '$1 == "total" { print $2 }' "$tmp/dry.txt")
    [ "$total" -le 480 ] || fail "the step estimates ($total s) exceed the default budget"
    if grep -Eq '^  (export|forward) ' "$tmp/dry.txt"; then fail "the default steps list a model step"; fi

    echo "== run --dry-run --steps model, --steps all"
    "$bundle/run" --dry-run --steps model | tee "$tmp/dry-model.txt"
    grep -q '^run: dry run ok' "$tmp/dry-model.txt" || fail "--steps model: dry run not ok"
    for s in facts tune export forward; do
        grep -Eq "^  $s +[0-9]+  " "$tmp/dry-model.txt" || fail "--steps model does not list $s"
    done
    total=$(awk '$1 == "total" { print $2 }' "$tmp/dry-model.txt")
    [ "$total" -le 480 ] || fail "--steps model: estimates ($total s) exceed the default budget"
    "$bundle/run" --dry-run --steps all --budget 100000 >"$tmp/dry-all.txt" || fail "--steps all dry run"
    n=$(grep -Ec '^  (facts|tests|check|sanitizer|bench|peers|tune|export|forward) +[0-9]+  ' "$tmp/dry-all.txt")
    [ "$n" = 9 ] || fail "--steps all lists $n steps, want 9"
    echo "== run --dry-run --steps model4 (Gemma-4: tune4, forward4; the layouts pass pftune forward --dry-run)"
    "$bundle/run" --dry-run --steps model4 | tee "$tmp/dry-model4.txt"
    grep -q '^run: dry run ok' "$tmp/dry-model4.txt" || fail "--steps model4: dry run not ok"
    for s in facts tune4 forward4; do
        grep -Eq "^  $s +[0-9]+  " "$tmp/dry-model4.txt" || fail "--steps model4 does not list $s"
    done
    total=$(awk '$1 == "total" { print $2 }' "$tmp/dry-model4.txt")
    [ "$total" -le 480 ] || fail "--steps model4: estimates ($total s) exceed the default budget"
    grep -q '^  forward4 layouts: .* pass pftune forward --dry-run' "$tmp/dry-model4.txt" ||
        fail "--steps model4: the Gemma-4 layouts were not checked"
    if "$bundle/run" --dry-run --steps nosuch >/dev/null 2>&1; then fail "--steps nosuch accepted"; fi

    # the payload as run unpacks it
    rt=$tmp/rt
    mkdir -p "$rt" && tar -xzf "$bundle/payload.tar.gz" --no-same-owner -C "$rt"
    chmod 700 "$rt/cache" && chmod 600 "$rt"/cache/*.entry
    for p in "$rt/pftune" "$rt/attention_bench" "$rt"/gpu_test_*; do
        out=$(ldd "$p")
        if echo "$out" | grep -q 'not found'; then echo "$out"; fail "$(basename "$p"): a library is missing"; fi
        for lib in $(ls "$rt/lib"); do
            if echo "$out" | grep -q "^[[:space:]]*$lib =>" &&
               ! echo "$out" | grep -q "$lib => $rt/lib/$lib"; then
                fail "$(basename "$p") loads $lib from outside the bundle"
            fi
        done
    done
    for lib in libjansson.so.4 libopenblas.so.0 libxxhash.so.0 libpftune_core.so; do
        [ -f "$rt/lib/$lib" ] || fail "lib/$lib is not bundled"
    done
    echo "== pftune devices"
    "$rt/pftune" devices
    "$rt/pftune" devices --json | python3 -c 'import json,sys; json.load(sys.stdin)'

    export PFTUNE_KERNEL_DIR=$rt/kernels
    echo "== pftune check --device emu (host cc builds emu code: not what the bundle ships)"
    mkdir -p "$tmp/emu-cache" && chmod 700 "$tmp/emu-cache"
    # (the host linker, ld, needs libjansson too: it gets the bundle's copy)
    LD_LIBRARY_PATH=$rt/lib PFTUNE_CACHE_DIR=$tmp/emu-cache "$rt/pftune" check --device emu --head-dim 64 --seed 1 \
        --variant BLOCK_M=32,WARPS=2,MASK_STORAGE=bitmap --variant MASK_STORAGE=spans --cases 4 \
        --json "$tmp/check.json"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["passed"] == 2 and d["failed"] == 0, d' \
        "$tmp/check.json" || fail "emu check"

    echo "== the export step's files: package (sm_90 cubins), consumer, pfattn.py"
    ex=$rt/export
    for f in pfattn_consumer lib/libpfattn.so.1 py/pfattn.py py/libpfattn.so gpu_check.py \
             pkg/manifest.json pkg/include/pfattn.h; do
        [ -s "$ex/$f" ] || fail "export/$f is not bundled"
    done
    nk=$(ls "$ex"/pkg/kernels/attn_*.sm_90.cubin | wc -l)
    [ "$nk" = 3 ] || fail "export/pkg has $nk sm_90 cubins, want 3"
    out=$(LD_LIBRARY_PATH=$ex/lib ldd "$ex/pfattn_consumer")
    echo "$out" | grep -q "libpfattn.so.1 => $ex/lib/libpfattn.so.1" || { echo "$out"; fail "consumer: libpfattn not from the bundle"; }
    if echo "$out" | grep -q 'not found'; then echo "$out"; fail "consumer: a library is missing"; fi
    if echo "$out" | grep -q 'libpftune'; then fail "the consumer loads a pftune library"; fi
    LD_LIBRARY_PATH=$ex/lib "$ex/pfattn_consumer" info | tee "$tmp/info.txt"
    [ "$(grep -c '^kernel ' "$tmp/info.txt")" = 3 ] || fail "consumer info"
    if [ ! -e /dev/nvidiactl ]; then
        LD_LIBRARY_PATH=$ex/lib "$ex/pfattn_consumer" launch 128 >"$tmp/launch.txt" 2>&1 ||
            fail "consumer launch without a driver: $(cat "$tmp/launch.txt")"
        grep -q 'cannot load the CUDA driver' "$tmp/launch.txt" || fail "launch: $(cat "$tmp/launch.txt")"
        if LD_LIBRARY_PATH=$ex/lib "$ex/pfattn_consumer" gpu >"$tmp/gpu.txt" 2>&1; then
            fail "consumer gpu passed without a driver"
        fi
        grep -q 'cannot load libcuda.so.1' "$tmp/gpu.txt" || fail "consumer gpu: $(cat "$tmp/gpu.txt")"
    fi
    py=""
    for p in python3 /usr/bin/python3; do
        command -v "$p" >/dev/null && "$p" -c 'import numpy' 2>/dev/null && { py=$p; break; }
    done
    if [ -n "$py" ]; then
        PFATTN_LIB=$ex/py/libpfattn.so PYTHONPATH=$ex/py "$py" -c \
            'import pfattn; ks = pfattn.kernels(); assert len(ks) == 3, ks; print("pfattn.py:", len(ks), "kernels")' ||
            fail "pfattn.py does not load the bundled library"
    else
        echo "SKIP: pfattn.py import (no python3 with numpy)"
    fi
    for f in "$rt/peer_forward.py" "$rt/summarize.py" "$rt/peer_attention.py" "$ex/gpu_check.py" "$ex/py/pfattn.py"; do
        python3 -m py_compile "$f" || fail "$(basename "$f") does not compile"
    done

    echo "== the forward step: layouts, peer_forward.py, pftune forward's command line on emu"
    l8=$(sed -n 's/^  forward layout 8192: //p' "$tmp/dry-model.txt")
    l32=$(sed -n 's/^  forward layout 32768: //p' "$tmp/dry-model.txt")
    python3 - "$rt" "$l8" "$l32" <<'EOF' || fail "the forward layouts"
import sys
sys.path.insert(0, sys.argv[1])
import peer_forward
for spec, n in ((sys.argv[2], 8192), (sys.argv[3], 32768)):
    types, images = peer_forward.parse_layout(spec, 256)
    assert (len(types), images) == (n, 8), (spec, len(types), images)
print("forward layouts: 8192 and 32768 tokens, 8 images each")
EOF
    rc=0
    python3 "$rt/peer_forward.py" --config-only --model gemma3-4b --layout "$l8" --layout "$l32" \
        --json "$tmp/peer_forward.json" || rc=$?
    case $rc in
        0) echo "peer_forward.py: gemma3-4b config built (transformers present)" ;;
        3) grep -q 'transformers unavailable' "$tmp/peer_forward.json" || fail "peer_forward exit 3 without saying why"
           echo "peer_forward.py: exit 3 without transformers (the run lists hf as skipped)" ;;
        *) fail "peer_forward.py --config-only: exit $rc" ;;
    esac
    # the run's option set (tools/gpu/run step_forward) on emu with gemma3-tiny
    mkdir -p "$tmp/fwd-cache" && chmod 700 "$tmp/fwd-cache"
    for mode in default tuned; do
        extra=()
        if [ "$mode" = tuned ]; then
            for layer in full sliding; do
                "$rt/pftune" best "$tmp/tuned_emu.json" --seq 8192 --layer $layer --head-dim 64 \
                    --rule gemma3 >/dev/null || fail "pftune best on the fixture ($layer)"
            done
            extra=(--tuned "$tmp/tuned_emu.json")
        fi
        LD_LIBRARY_PATH=$rt/lib PFTUNE_CACHE_DIR=$tmp/fwd-cache "$rt/pftune" forward --model gemma3-tiny \
            --layout 't8,i16,t8,i16,t4' --device emu --samples 1 --warmup 0 "${extra[@]}" \
            --out "$tmp/fwd-$mode" >"$tmp/fwd-$mode.txt" 2>&1 ||
            { cat "$tmp/fwd-$mode.txt"; fail "pftune forward ($mode) on emu"; }
        python3 - "$tmp/fwd-$mode/forward.json" <<'EOF' || fail "forward.json ($mode) lacks what the summary reads"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["tokens"] == 52 and d["images"] == 2, d
assert d["total_ms"] > 0 and d["tokens_per_second"] > 0 and d["memory"]["peak_bytes"] > 0, d
EOF
    done
    echo "forward: the step's command line ran on emu (default and --tuned)"

    echo "== the forward4 step: peer_forward.py for Gemma-4, its pftune command line on emu"
    python3 - "$rt" "$l8" "$l32" <<'EOF' || fail "the forward4 layouts (Gemma-4 images)"
import sys
sys.path.insert(0, sys.argv[1])
import peer_forward
for spec, n in ((sys.argv[2], 8192), (sys.argv[3], 32768)):
    types, images = peer_forward.parse_layout_g4(spec)
    assert (len(types), images) == (n, [256] * 8), (spec, len(types), images)
    assert peer_forward.g4_grid(256) == (16, 16)
print("forward4 layouts: 8192 and 32768 tokens, 8 images of 256 soft tokens")
EOF
    rc=0
    python3 "$rt/peer_forward.py" --config-only --model gemma4-26b-a4b --layout "$l8" \
        --json "$tmp/peer_forward4.json" || rc=$?
    case $rc in
        0) echo "peer_forward.py: gemma4-26b-a4b config built (transformers with Gemma-4)" ;;
        3) grep -Eq 'transformers unavailable|has no Gemma-4' "$tmp/peer_forward4.json" ||
               fail "peer_forward (gemma4) exit 3 without saying why"
           echo "peer_forward.py: exit 3 without transformers/Gemma-4 (the run lists hf as skipped)" ;;
        *) fail "peer_forward.py --config-only --model gemma4-26b-a4b: exit $rc" ;;
    esac
    # the run's option set (tools/gpu/run step_forward4) on emu with gemma4-tiny:
    # the same layout shape scaled down (8 images of 16 soft tokens)
    LD_LIBRARY_PATH=$rt/lib PFTUNE_CACHE_DIR=$tmp/fwd-cache "$rt/pftune" forward --model gemma4-tiny \
        --layout 't4,i16,t4,i16,t4,i16,t4,i16,t4,i16,t4,i16,t4,i16,t4,i16,t4' --device emu \
        --samples 1 --warmup 1 --out "$tmp/fwd4" >"$tmp/fwd4.txt" 2>&1 ||
        { cat "$tmp/fwd4.txt"; fail "pftune forward gemma4-tiny on emu"; }
    python3 - "$tmp/fwd4/forward.json" <<'EOF' || fail "forward.json (gemma4) lacks what the summary reads"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["tokens"] == 164 and d["images"] == 8, d
assert d["total_ms"] > 0 and d["tokens_per_second"] > 0 and d["memory"]["peak_bytes"] > 0, d
EOF
    echo "forward4: the step's pftune command line ran on emu (gemma4-tiny, 8 images)"

    echo "== the bundled JIT cache serves every (variant, arch) with no compile"
    export PFTUNE_CACHE_DIR=$rt/cache
    before=$(ls "$rt/cache" | wc -l)
    # one compile per variant, every arch it is bundled for at once
    python3 - "$bundle/variants.tsv" >"$tmp/groups.tsv" <<'EOF'
import sys
groups = {}
for line in open(sys.argv[1]):
    key, target, kind, dim, text = line.rstrip("\n").split("\t")
    groups.setdefault((kind, dim, text), []).append((target, key))
for (kind, dim, text), tk in groups.items():
    print("\t".join([",".join(t for t, _ in tk), ",".join(k for _, k in tk), kind, dim, text]))
EOF
    n=0
    while IFS=$'\t' read -r targets keys kind dim text; do
        if [ "$kind" = mask_build ]; then
            args=(--kernel "$rt/kernels/mask_build.cu")
            IFS=, read -ra defs <<<"$text"
            for d in "${defs[@]}"; do args+=(--define "$d"); done
        else
            args=(--kernel attention --head-dim "$dim" --variant "$text")
        fi
        "$rt/pftune" compile --arch "$targets" "${args[@]}" --json >"$tmp/c.json" ||
            fail "compile $targets $kind $text"
        python3 - "$tmp/c.json" "$keys" "$targets $kind $text" <<'EOF' || fail "not served by the cache: $targets $kind $text"
import json, sys
rs = json.load(open(sys.argv[1]))["results"]
keys = sys.argv[2].split(",")
bad = [f"{r['target']}: from_cache {r['from_cache']}, key {r['key']}" for r, k in zip(rs, keys)
       if not r["from_cache"] or r["key"] != k]
if bad or len(rs) != len(keys):
    sys.exit(f"{sys.argv[3]}: " + "; ".join(bad))
EOF
        n=$((n + $(echo "$targets" | tr ',' '\n' | wc -l)))
    done <"$tmp/groups.tsv"
    after=$(ls "$rt/cache" | wc -l)
    [ "$before" = "$after" ] || fail "the cache grew from $before to $after entries"
    echo "all $n bundled cubins served from the cache, 0 compiles"
    exit 0
fi

# ---- outside: build the bundle, then rehearse in a namespace
root=$(cd "$(dirname "$0")/../.." && pwd)
t0=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pftune-rehearsal-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
bundle=$tmp/gpu-bundle
"$root/tools/gpu-bundle" "$bundle" --max-mib 48
kib=$(du -sk "$bundle" | cut -f1)
[ "$kib" -le $((48 * 1024)) ] || { echo "FAIL: bundle is $kib KiB, over 48 MiB"; exit 1; }
# relative run paths only: nothing points into this tree
mkdir -p "$tmp/peek" && tar -xzf "$bundle/payload.tar.gz" -C "$tmp/peek" ./pftune ./lib/libpftune_core.so
for f in "$tmp/peek/pftune" "$tmp/peek/lib/libpftune_core.so"; do
    rp=$(readelf -d "$f" | sed -n 's/.*(RUNPATH\|RPATH).*\[\(.*\)\]/\1/p')
    case "$rp" in *'$ORIGIN'*) ;; *) echo "FAIL: $(basename "$f") run path '$rp' lacks \$ORIGIN"; exit 1 ;; esac
    case "$rp" in *"$root"*) echo "FAIL: $(basename "$f") run path '$rp' points into $root"; exit 1 ;; esac
done

if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
    if [ "${PFTUNE_REHEARSAL_NO_NAMESPACE:-}" = 1 ]; then
        echo "WARNING: no mount namespace (needs root and unshare -m); PFTUNE_REHEARSAL_NO_NAMESPACE=1:"
        echo "WARNING: the bundle was built but NOT rehearsed with the source tree and system libraries hidden"
        exit 0
    fi
    echo "FAIL: the rehearsal needs root and 'unshare -m' to hide the source tree and system libraries"
    echo "      (set PFTUNE_REHEARSAL_NO_NAMESPACE=1 to build the bundle without rehearsing it)"
    exit 1
fi

# What to hide: the tree, the staging cache, every system copy of a bundled library.
cp "$0" "$tmp/rehearsal.sh"
cp "$root/tests/fixtures/tuned_quickstart_emu.json" "$tmp/tuned_emu.json" # forward --tuned
mkdir -p "$tmp/empty-dir" && : >"$tmp/empty-file"
hide_dirs=("$root")
stage=${PFTUNE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pftune}
case "$stage/" in "$root"/*) ;; *) [ -d "$stage" ] && hide_dirs+=("$stage") ;; esac
hide_files=()
for lib in $(tar -tzf "$bundle/payload.tar.gz" | sed -n 's|^\./lib/\(..*\)$|\1|p'); do
    base=${lib%%.so*}
    while read -r f; do
        [ -e "$f" ] && hide_files+=("$(readlink -f "$f")")
    done < <({ ldconfig -p | awk -v n="$lib" '$1 == n { print $NF }'
               ls -d /usr/lib/x86_64-linux-gnu/"$base".so* /usr/lib/x86_64-linux-gnu/*/"$base"*.so* \
                     /lib/x86_64-linux-gnu/"$base".so* 2>/dev/null; } | sort -u)
done
mapfile -t hide_files < <(printf '%s\n' "${hide_files[@]}" | sort -u)
echo "== hiding $root${hide_dirs[1]:+, $stage} and ${#hide_files[@]} system libraries: ${hide_files[*]}"
cd "$tmp"
unshare -m --propagation private bash -c '
    set -e
    tmp=$1; shift
    while [ "$1" != -- ]; do mount --bind "$tmp/empty-dir" "$1"; shift; done; shift
    while [ "$1" != -- ]; do mount --bind "$tmp/empty-file" "$1"; shift; done; shift
    exec bash ${PFTUNE_REHEARSAL_TRACE:+-x} "$tmp/rehearsal.sh" --inside "$@"
' _ "$tmp" "${hide_dirs[@]}" -- "${hide_files[@]}" -- "$bundle" "$root" "$tmp"
echo "rehearsal passed: bundle $((kib / 1024)) MiB, $(( $(date +%s) - t0 )) s"
