#!/bin/bash
# `pftune compile` bad input: each is a one-line error with the right exit
# code (2 usage, 1 failure); an invalid variant prints its log and exits 1.
set -u
PFTUNE=${1:?usage: compile_errors.sh PFTUNE}
SRC=${PFTUNE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
fails=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export PFTUNE_CACHE_DIR=$tmp/cache

run() {
    local want=$1; shift
    "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
    if [ "$rc" != "$want" ]; then
        echo "FAIL: '$*' exited $rc, expected $want"; cat "$tmp/err"; fails=$((fails+1))
    fi
}
expect() {
    if ! grep -Eq -- "$2" "$tmp/$1"; then echo "FAIL: $1 lacks /$2/:"; cat "$tmp/$1"; fails=$((fails+1)); fi
}
one_line_err() {
    local n; n=$(wc -l <"$tmp/err")
    if [ "$n" != 1 ]; then echo "FAIL: expected one stderr line, got $n:"; cat "$tmp/err"; fails=$((fails+1)); fi
}

# a small valid kernel, unique to this run
K=$tmp/ok_$RANDOM.cu
cat >"$K" <<KERNEL
extern "C" __global__ void ok_kernel(float *x) { x[threadIdx.x] *= $RANDOM.0f; }
KERNEL

run 2 "$PFTUNE" compile --kernel "$K";                        one_line_err; expect err '^pftune: compile: missing --arch'
run 2 "$PFTUNE" compile --arch sm_90;                         one_line_err; expect err '^pftune: compile: missing --kernel'
run 2 "$PFTUNE" compile --arch sm_75 --kernel "$K";           one_line_err
expect err "^pftune: compile: unknown target 'sm_75' \(known: sm_80, sm_86, sm_89, sm_90, sm_90a, sm_100, sm_120, emu\)$"
run 2 "$PFTUNE" compile --arch sm_90,sm_7 --kernel "$K";      one_line_err; expect err "unknown target 'sm_7'"
for bad in "1X=3" "=3" "X=" "A-B=1" "X Y=1"; do
    run 2 "$PFTUNE" compile --arch sm_90 --kernel "$K" --define "$bad"
    one_line_err; expect err "^pftune: compile: malformed define"
done
run 2 "$PFTUNE" compile --arch sm_90 --kernel "$K" --jobs 0;   one_line_err; expect err -- '--jobs: 0 is out of range'
run 2 "$PFTUNE" compile --arch sm_90 --kernel "$K" --jobs two; one_line_err; expect err -- "--jobs: 'two' is not an integer"
run 2 "$PFTUNE" compile --arch sm_90 --kernel "$K" extra;      one_line_err; expect err "unexpected argument 'extra'"
run 1 "$PFTUNE" compile --arch sm_90 --kernel "$tmp/nope.cu";  one_line_err; expect err "^pftune: compile: cannot read kernel '.*nope.cu'"
run 1 "$PFTUNE" compile --arch sm_90 --kernel no_such_kernel_name
one_line_err; expect err "cannot read kernel 'no_such_kernel_name' \(looked for .*/no_such_kernel_name.cu\)"

# an unusable cache directory (under a regular file: fails even for root)
touch "$tmp/plainfile"
run 1 "$PFTUNE" compile --arch sm_90 --kernel "$K" --cache-dir "$tmp/plainfile/cache"
one_line_err; expect err "^pftune: compile: cannot create cache directory '.*plainfile.*': Not a directory$"
if [ "$(id -u)" != 0 ]; then # permission bits only bind non-root users
    mkdir "$tmp/ro"; chmod 555 "$tmp/ro"
    run 1 "$PFTUNE" compile --arch sm_90 --kernel "$K" --cache-dir "$tmp/ro"
    one_line_err; expect err "cache directory '.*ro' is not writable"
fi
# ... but --no-cache does not need it
run 0 "$PFTUNE" compile --arch sm_90 --kernel "$K" --cache-dir "$tmp/plainfile/cache" --no-cache
expect out 'registers +[1-9]'

# invalid variants: exit 1, "invalid variant", the compiler's error in the log
for arch in sm_90 emu; do
    run 1 "$PFTUNE" compile --arch $arch --kernel "$SRC/kernels/test/syntax_error.cu"
    expect out "^$arch: invalid variant"; expect out 'error'
    expect err '^pftune: compile: invalid variant'
    run 1 "$PFTUNE" compile --arch $arch --kernel "$SRC/kernels/test/syntax_error.cu" --json
    expect out '"valid": false'; expect out '"log": ".*error'
done

[ "$fails" = 0 ] && echo "compile_errors: all passed" || { echo "compile_errors: $fails failed"; exit 1; }
