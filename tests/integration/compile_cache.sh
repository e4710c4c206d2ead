#!/bin/bash
# `pftune compile` through the cache: a fresh kernel misses, then hits (and
# the hit is faster); a corrupted or truncated entry is rebuilt; --no-cache
# leaves the cache alone; names resolve in PFTUNE_KERNEL_DIR; sm_80, sm_90
# and emu all produce real artifacts.
set -u
PFTUNE=${1:?usage: compile_cache.sh PFTUNE}
fails=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cache=$tmp/cache
fail() { echo "FAIL: $*"; fails=$((fails+1)); }

# json_field FILE NAME [N]: value of the Nth (1-based) "NAME": in the JSON
json_field() { grep -o "\"$2\": [^,}]*" "$1" | sed -n "${3:-1}p" | sed 's/^[^:]*: //; s/"//g'; }

# A kernel that is valid C and CUDA, unique to this run (random constants).
mkdir -p "$tmp/kdir"
K=$tmp/kdir/cachetest.cu
cat >"$K" <<KERNEL
#ifdef __CUDACC_RTC__
#define ENTRY extern "C" __global__ void
#define TID threadIdx.x
#else
#define ENTRY void
#define TID 0
#endif
ENTRY cachetest(float *x, int n)
{
    int i = TID;
    float acc = 0.0f;
    for (int j = 0; j < n; j++) acc += x[(i + j * $RANDOM) % n] * SCALE;
    x[i] = acc + $RANDOM.0f;
}
KERNEL
D="--define SCALE=$((RANDOM % 97 + 2))"

for arch in sm_80 sm_90 emu; do
    "$PFTUNE" compile --arch $arch --kernel "$K" $D --cache-dir "$cache" --json >"$tmp/miss.json" 2>"$tmp/err" || { fail "$arch miss exited $?"; cat "$tmp/err"; continue; }
    "$PFTUNE" compile --arch $arch --kernel "$K" $D --cache-dir "$cache" --json >"$tmp/hit.json" 2>"$tmp/err" || { fail "$arch hit exited $?"; continue; }
    [ "$(json_field "$tmp/miss.json" from_cache)" = false ] || fail "$arch: first compile served from cache"
    [ "$(json_field "$tmp/hit.json" from_cache)" = true ] || fail "$arch: second compile not served from cache"
    miss_ms=$(json_field "$tmp/miss.json" compile_ms); hit_ms=$(json_field "$tmp/hit.json" compile_ms)
    awk -v h="$hit_ms" -v m="$miss_ms" 'BEGIN { exit !(h < m) }' || fail "$arch: hit ${hit_ms} ms not faster than miss ${miss_ms} ms"
    key=$(json_field "$tmp/hit.json" key)
    [ "$(json_field "$tmp/miss.json" key)" = "$key" ] || fail "$arch: key changed between runs"
    if [ $arch = emu ]; then
        so=$(json_field "$tmp/hit.json" shared_object)
        [ -f "$so" ] && head -c 4 "$so" | grep -q ELF || fail "emu: no shared object at '$so'"
    else
        regs=$(json_field "$tmp/miss.json" registers)
        [ "${regs:-0}" -gt 0 ] || fail "$arch: registers '$regs'"
        [ "$(json_field "$tmp/hit.json" registers)" = "$regs" ] || fail "$arch: cached registers differ"
    fi

    # corrupt the entry (flip bytes in its body), then truncate it: each time
    # the next compile rebuilds (miss) and the one after hits again
    entry=$cache/$key.entry
    [ -f "$entry" ] || { fail "$arch: no entry file $entry"; continue; }
    size=$(stat -c %s "$entry")
    printf '\x00\xff\x13\x37' | dd of="$entry" bs=1 seek=$((24 + RANDOM % (size - 28))) conv=notrunc status=none
    for round in corrupted truncated; do
        "$PFTUNE" compile --arch $arch --kernel "$K" $D --cache-dir "$cache" --json >"$tmp/r.json" 2>/dev/null || fail "$arch $round: exit $?"
        [ "$(json_field "$tmp/r.json" from_cache)" = false ] || fail "$arch: $round entry was served"
        "$PFTUNE" compile --arch $arch --kernel "$K" $D --cache-dir "$cache" --json >"$tmp/r.json" 2>/dev/null
        [ "$(json_field "$tmp/r.json" from_cache)" = true ] || fail "$arch: rebuilt entry ($round) not cached"
        truncate -s $(( $(stat -c %s "$entry") / 3 )) "$entry"
    done
done

# several targets in one call, in parallel, via a name in PFTUNE_KERNEL_DIR
PFTUNE_KERNEL_DIR=$tmp/kdir "$PFTUNE" compile --arch sm_80,sm_90 --arch emu --kernel cachetest $D \
    --cache-dir "$cache" --jobs 3 >"$tmp/multi.txt" 2>"$tmp/err" || { fail "multi-target exit $?"; cat "$tmp/err"; }
for arch in sm_80 sm_90 emu; do grep -q "^$arch: ok" "$tmp/multi.txt" || fail "multi-target: no '$arch: ok'"; done

# concurrent processes building the same fresh variant into one cache: all
# succeed with the same key, and the entry they leave serves the next call
for arch in sm_90 emu; do
    pids=()
    for i in 1 2 3 4; do
        "$PFTUNE" compile --arch $arch --kernel "$K" --define SCALE=777 --cache-dir "$tmp/cc" --json \
            >"$tmp/cc$i.json" 2>&1 & pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || fail "$arch: a concurrent compile failed"; done
    k1=$(json_field "$tmp/cc1.json" key)
    for i in 2 3 4; do [ "$(json_field "$tmp/cc$i.json" key)" = "$k1" ] || fail "$arch: concurrent keys differ"; done
    "$PFTUNE" compile --arch $arch --kernel "$K" --define SCALE=777 --cache-dir "$tmp/cc" --json >"$tmp/cc.json" 2>&1
    [ "$(json_field "$tmp/cc.json" from_cache)" = true ] || fail "$arch: no hit after concurrent builds"
done

# --no-cache: compiles (a miss) and writes nothing into the cache
before=$(ls "$cache" | wc -l)
"$PFTUNE" compile --arch sm_90 --kernel "$K" --define SCALE=12345 --cache-dir "$cache" --no-cache --json >"$tmp/nc.json" || fail "no-cache exit $?"
[ "$(json_field "$tmp/nc.json" from_cache)" = false ] || fail "--no-cache served from cache"
[ "$(ls "$cache" | wc -l)" = "$before" ] || fail "--no-cache wrote to the cache"
ls -a "$cache" | grep -q '^\.tmp-\|\.tmp\.' && fail "temp files left in the cache"

[ "$fails" = 0 ] && echo "compile_cache: all passed" || { echo "compile_cache: $fails failed"; exit 1; }
