#!/bin/bash
# `pftune devices` starts and reports cleanly whether or not a driver exists:
# without one it says why and names emu as the backend; with the toolkit's
# stub libcuda forced onto the loader path it must still say "no GPU".
set -u
PFTUNE=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

out=$("$PFTUNE" devices 2>&1) || fail "devices exited $?: $out"
json=$("$PFTUNE" devices --json 2>&1) || fail "devices --json exited $?: $json"
printf '%s\n' "$json" | python3 -c '
import json, sys
d = json.load(sys.stdin)
cuda, emu = d["cuda"], d["emu"]
assert isinstance(cuda["available"], bool) and isinstance(cuda["devices"], list)
if cuda["available"]:
    assert d["auto"] == "cuda:0" and cuda["devices"], d
    p = cuda["devices"][0]
    assert p["sm_count"] > 0 and p["mem_bytes"] > 0 and p["arch"].startswith("sm_"), p
else:
    assert d["auto"] == "emu" and not cuda["devices"] and cuda["reason"], d
    assert "sm_90" in d["auto_description"], d
assert emu["timer"] == "emu-host" and emu["arch"] == "sm_90"
' || fail "--json output does not match the expected shape: $json"

has_gpu=$(printf '%s' "$json" | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["cuda"]["available"]))')
if [ "$has_gpu" = 0 ]; then
    grep -q "^  no GPU: " <<<"$out" || fail "no 'no GPU:' line: $out"
    grep -q "emu (CPU), mimicking sm_90 limits" <<<"$out" || fail "auto backend not named: $out"
fi

# The stub library under a real soname on LD_LIBRARY_PATH: first as a link
# into the toolkit's stubs dir, then as a copy (only cuInit can tell).
stub=""
for d in /usr/local/cuda/lib64/stubs /usr/local/cuda/targets/*/lib/stubs; do
    [ -e "$d/libcuda.so" ] && stub="$d/libcuda.so" && break
done
if [ -n "$stub" ]; then
    mkdir -p "$tmp/link" "$tmp/copy"
    ln -s "$stub" "$tmp/link/libcuda.so.1"
    cp "$stub" "$tmp/copy/libcuda.so.1"
    for dir in "$tmp/link" "$tmp/copy"; do
        s=$(LD_LIBRARY_PATH="$dir" "$PFTUNE" devices 2>&1) || fail "devices with stub in $dir exited $?: $s"
        grep -q "no GPU: .*stub" <<<"$s" || fail "stub in $dir not reported as such: $s"
        grep -q "emu (CPU)" <<<"$s" || fail "stub in $dir: emu not named: $s"
    done
else
    echo "note: no CUDA stub library found; stub checks not run"
fi

# Usage errors exit 2 with a one-line message.
"$PFTUNE" devices --bogus >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] || fail "unknown option did not exit 2"
grep -q "^pftune: devices: unknown option '--bogus'" "$tmp/err" || fail "bad usage message: $(cat "$tmp/err")"
echo "ok"
