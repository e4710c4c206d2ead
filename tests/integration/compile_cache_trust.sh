#!/bin/bash
# `pftune compile` never trusts a cache others can write: a world-writable,
# group-writable or foreign --cache-dir is refused (one line naming the fix,
# exit 1); the default dir is created 0700, entries 0600, objects 0700; a
# foreign or symlinked entry is ignored with a warning and rebuilt;
# --cache-shared accepts a team directory for GPU binaries only (emu stays
# private); --no-cache needs no directory. (Planted shared objects that would
# run: tests/unit/test_jit_cache_trust.c.)
set -u
PFTUNE=${1:?usage: compile_cache_trust.sh PFTUNE}
fails=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
unset PFTUNE_CACHE_DIR PFTUNE_CACHE_SHARED XDG_CACHE_HOME
export HOME=$tmp/home
mkdir -m 700 "$HOME"

fail() { echo "FAIL: $*"; fails=$((fails+1)); }
run() {
    local want=$1; shift
    "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
    [ "$rc" = "$want" ] || { fail "'$*' exited $rc, expected $want"; cat "$tmp/err"; }
}
expect() { grep -Eq -- "$2" "$tmp/$1" || { fail "$1 lacks /$2/:"; cat "$tmp/$1"; }; }
one_line_err() {
    local n; n=$(wc -l <"$tmp/err")
    [ "$n" = 1 ] || { fail "expected one stderr line, got $n:"; cat "$tmp/err"; }
}
mode() { stat -c %a "$1"; }
json_field() { grep -o "\"$2\": [^,}]*" "$1" | sed -n "${3:-1}p" | sed 's/^[^:]*: //; s/"//g'; }

K=$tmp/trust_$RANDOM.cu
cat >"$K" <<KERNEL
#ifdef __CUDACC_RTC__
extern "C" __global__ void trust_kernel(float *x) { x[threadIdx.x] *= $RANDOM.0f; }
#else
void trust_kernel(float *x) { x[0] *= $RANDOM.0f; }
#endif
KERNEL

# refused directories: one line, the directory, the problem, the fix
mkdir "$tmp/world"; chmod 1777 "$tmp/world"
run 1 "$PFTUNE" compile --arch emu --kernel "$K" --cache-dir "$tmp/world"
one_line_err
expect err "^pftune: compile: cache directory '$tmp/world' is writable by others \(mode 1777\): chmod 700 $tmp/world, or use another --cache-dir, or --no-cache$"
mkdir "$tmp/group"; chmod 770 "$tmp/group"
run 1 "$PFTUNE" compile --arch sm_90 --kernel "$K" --cache-dir "$tmp/group"
one_line_err; expect err "cache directory '$tmp/group' is writable by its group \(mode 0770\): chmod 700"
[ -z "$(ls -A "$tmp/world")$(ls -A "$tmp/group")" ] || fail "a refused directory was written to"
mkdir -m 777 "$tmp/open"
run 1 "$PFTUNE" compile --arch emu --kernel "$K" --cache-dir "$tmp/open/cache"
one_line_err; expect err "is inside '$tmp/open', which is writable by others"
if [ "$(id -u)" = 0 ]; then # chown needs root
    mkdir "$tmp/foreign"; chown 65534:65534 "$tmp/foreign"
    run 1 "$PFTUNE" compile --arch emu --kernel "$K" --cache-dir "$tmp/foreign"
    one_line_err; expect err "cache directory '$tmp/foreign' is owned by uid 65534, not you \(uid 0\): use a directory of your own"
fi
# the same for the environment variable and for an unsafe default
PFTUNE_CACHE_DIR=$tmp/world run 1 "$PFTUNE" compile --arch emu --kernel "$K"
one_line_err; expect err "writable by others"
# --no-cache does not need a directory at all
run 0 "$PFTUNE" compile --arch emu --kernel "$K" --cache-dir "$tmp/world" --no-cache
expect out '^emu: ok'

# the default location is created 0700 (its parents too); entries 0600, .so 0700
run 0 "$PFTUNE" compile --arch emu,sm_90 --kernel "$K" --json
cache=$HOME/.cache/pftune
[ "$(mode "$cache")" = 700 ] && [ "$(mode "$HOME/.cache")" = 700 ] || fail "default dir modes $(mode "$cache") $(mode "$HOME/.cache")"
for f in "$cache"/*.entry; do [ "$(mode "$f")" = 600 ] || fail "entry $f mode $(mode "$f")"; done
for f in "$cache"/*.so; do [ "$(mode "$f")" = 700 ] || fail "object $f mode $(mode "$f")"; done
[ "$(ls "$cache"/*.entry | wc -l)" = 2 ] && [ "$(ls "$cache"/*.so | wc -l)" = 1 ] || fail "cache holds $(ls "$cache")"
[ -z "$(ls -a "$cache" | grep tmp)" ] || fail "temporary files left: $(ls -a "$cache")"
chmod 755 "$cache" # not writable by others: still fine
run 0 "$PFTUNE" compile --arch emu --kernel "$K" --json
[ "$(json_field "$tmp/out" from_cache)" = true ] || fail "0755 default dir: not served"
chmod 775 "$cache"
run 1 "$PFTUNE" compile --arch emu --kernel "$K"
one_line_err; expect err "cache directory '$cache' is writable by its group"
chmod 700 "$cache"

# an entry that is not the user's own is ignored (warning) and rebuilt as theirs
entry=$(ls "$cache"/*.entry | head -1)
chmod 666 "$entry"
run 0 "$PFTUNE" compile --arch emu,sm_90 --kernel "$K" --json
grep -c "warning: ignoring untrusted cache entry: '$entry' is writable by others (mode 0666); rebuilding it" "$tmp/err" | grep -qx 1 || { fail "no single warning for a 0666 entry"; cat "$tmp/err"; }
[ "$(mode "$entry")" = 600 ] || fail "0666 entry not replaced"
[ "$(grep -o '"from_cache": false' "$tmp/out" | wc -l)" = 1 ] || fail "0666 entry was served"
if [ "$(id -u)" = 0 ]; then
    chown 65534 "$entry"
    run 0 "$PFTUNE" compile --arch emu,sm_90 --kernel "$K" --json
    expect err "'$entry' is owned by uid 65534, not you"
    [ "$(stat -c %u "$entry")" = 0 ] || fail "foreign entry not replaced"
fi
# a symlink is never followed, even to a good entry
cp "$entry" "$tmp/copy.entry"; ln -sf "$tmp/copy.entry" "$entry"
run 0 "$PFTUNE" compile --arch emu,sm_90 --kernel "$K" --json
expect err "'$entry' is a symbolic link \(not followed\); rebuilding it"
[ -f "$entry" ] && [ ! -L "$entry" ] || fail "symlinked entry not replaced"
[ "$(grep -o '"from_cache": false' "$tmp/out" | wc -l)" = 1 ] || fail "symlinked entry was served"

# a team cache of GPU binaries: only with --cache-shared / PFTUNE_CACHE_SHARED,
# never for emu objects (they go to the private default location)
mkdir "$tmp/team"; chmod 2770 "$tmp/team"
[ "$(id -u)" = 0 ] && chown 65534 "$tmp/team"
run 1 "$PFTUNE" compile --arch sm_90 --kernel "$K" --cache-dir "$tmp/team"
one_line_err
run 0 "$PFTUNE" compile --arch sm_90 --kernel "$K" --cache-dir "$tmp/team" --cache-shared
[ "$(ls "$tmp/team"/*.entry 2>/dev/null | wc -l)" = 1 ] || fail "shared: no sm_90 entry in the team dir"
for f in "$tmp/team"/*.entry; do [ "$(mode "$f")" = 644 ] || fail "shared entry $f mode $(mode "$f")"; done
PFTUNE_CACHE_SHARED=1 run 0 "$PFTUNE" compile --arch sm_90,emu --kernel "$K" --cache-dir "$tmp/team" --json
[ "$(json_field "$tmp/out" from_cache 1)" = true ] || fail "shared: sm_90 entry not served"
so=$(json_field "$tmp/out" shared_object)
case "$so" in "$cache"/*) ;; *) fail "shared: emu object at '$so', not in $cache" ;; esac
[ -z "$(ls "$tmp/team" | grep '\.so$')" ] || fail "shared: an emu object went to the team dir"
chmod 2777 "$tmp/team"
run 1 "$PFTUNE" compile --arch sm_90 --kernel "$K" --cache-dir "$tmp/team" --cache-shared
one_line_err; expect err "writable by others"

[ "$fails" = 0 ] && echo "compile_cache_trust: all passed" || { echo "compile_cache_trust: $fails failed"; exit 1; }
