#!/bin/bash
# The real attention kernel compiles for sm_80, sm_90 (NVRTC, no GPU) and emu
# with its default variant; resource records are plausible; variant options
# are checked.
set -u
PFTUNE=${1:?usage: compile_attention.sh PFTUNE}
fails=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; fails=$((fails+1)); }
json_field() { grep -o "\"$2\": [^,}]*" "$1" | sed -n "${3:-1}p" | sed 's/^[^:]*: //; s/"//g'; }

# a head dim picked at random among those the family supports
hd=$(shuf -n1 -e 64 128 256)
"$PFTUNE" compile --arch sm_80,sm_90,emu --kernel attention --head-dim $hd --no-cache --json \
    >"$tmp/a.json" 2>"$tmp/err" || { fail "compile exited $?"; cat "$tmp/err" "$tmp/a.json"; }
for i in 1 2; do
    regs=$(json_field "$tmp/a.json" registers $i)
    [ "${regs:-0}" -gt 0 ] && [ "$regs" -le 255 ] || fail "result $i: registers '$regs'"
    [ "$(json_field "$tmp/a.json" spill_stores $i)" = 0 ] || fail "result $i spills (head dim $hd)"
done
[ "$(json_field "$tmp/a.json" HEAD_DIM 1)" = "$hd" ] || fail "HEAD_DIM define not $hd"
[ "$(json_field "$tmp/a.json" valid 4)" = true ] || fail "not all valid"
grep -q '"shared_object": "/' "$tmp/a.json" || fail "no emu shared object"

"$PFTUNE" compile --arch sm_90 --kernel attention --variant BLOCK_M=24 >/dev/null 2>"$tmp/err"
[ $? = 2 ] && grep -q "invalid attention variant" "$tmp/err" || fail "bad --variant not a usage error"
"$PFTUNE" compile --arch sm_90 --kernel attention --variant NOPE=1 >/dev/null 2>"$tmp/err"
[ $? = 2 ] || fail "unknown variant key not a usage error"
"$PFTUNE" compile --arch sm_90 --kernel "$(dirname "$0")/../../kernels/test/syntax_error.cu" --head-dim 64 >/dev/null 2>"$tmp/err"
[ $? = 2 ] && grep -q "attention kernel only" "$tmp/err" || fail "--head-dim accepted for a non-attention kernel"

[ "$fails" = 0 ] && echo "compile_attention: all passed (head dim $hd)" || { echo "compile_attention: $fails failed"; exit 1; }
