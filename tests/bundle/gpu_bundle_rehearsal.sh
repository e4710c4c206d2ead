#!/bin/bash
# Rehearsal of a GPU run on this CPU machine (ctest label "bundle"): build the
# bundle (tools/gpu-bundle), then, in a mount namespace where the source tree,
# the staging JIT cache and the system copies of every bundled library
# (libjansson, libopenblas, libxxhash, ...) are hidden under empty bind
# mounts, run from the bundle alone: `run --dry-run`, `pftune devices`, an
# emu `pftune check` of a few variants, and a `pftune compile --json` of
# every bundled (variant, arch) that must come from the cache (zero NVRTC
# compiles). Asserts the 48 MiB limit and relative run paths. A bundle that
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
