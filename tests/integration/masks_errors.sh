#!/bin/bash
# `pftune masks` bad input: one-line "pftune: masks: ..." errors, exit 2 for
# a bad command line, 1 for a bad layout file;
# layouts from strings, JSON and .npy agree.
. "$(dirname "$0")/lib/common.sh" "$1"

# expect_exit CODE NEEDLE ARGS...: exit CODE, one stderr line with the prefix and needle
expect_exit() {
    local want=$1 needle=$2; shift 2
    "$PFTUNE" masks "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ $rc -ne "$want" ]; then echo "FAIL: masks $* exited $rc, want $want"; fail=1; return; fi
    if [ "$(wc -l <"$tmp/err")" -ne 1 ]; then echo "FAIL: masks $*: not one line:"; cat "$tmp/err"; fail=1; return; fi
    if ! grep -q '^pftune: masks: ' "$tmp/err" || ! grep -qF -- "$needle" "$tmp/err"; then
        echo "FAIL: masks $*: got '$(cat "$tmp/err")', want '$needle'"; fail=1
    fi
}
expect_usage() { expect_exit 2 "$@"; }
expect_bad_file() { expect_exit 1 "$@"; }

expect_usage "span 'x5' at offset 7: unknown span kind 'x'" --layout 't20,i3;x5'
expect_usage "request 1: cached prefix ends at position 40 inside image group 0 (positions 30..69)" --layout 't5;t30,i10|i30'
expect_usage "count must be positive" --layout 't0'
expect_usage "no new tokens" --layout 't5|'
expect_usage "give exactly one of" --seq 100 --layout t5
expect_usage "give exactly one of"
expect_usage "--seq" --seq 0
expect_usage "--seq" --seq abc
expect_usage "--window" --seq 100 --window 0
expect_usage "unknown rule 'gemma9'" --seq 100 --rule gemma9
expect_usage "--indptr must be int32 or int64" --seq 100 --indptr int16
expect_bad_file "unknown file type" --layout-file "$tmp/layout.txt"
echo '{"requests": [{"spans": [["q", 3]]}]}' >"$tmp/bad.json"
expect_bad_file "unknown span kind 'q'" --layout-file "$tmp/bad.json"
expect_bad_file "cannot open" --layout-file "$tmp/missing.json"

# The same layout three ways gives identical byte counts.
echo '{"requests": [{"prefix": 3, "spans": [["t",3],["i",4],["t",2]]}, {"token_types": [1,1,0,2,3]}]}' >"$tmp/l.json"
a=$("$PFTUNE" masks --layout 't3|i4,t2;i2,t1,v1,a1' --json --rule gemma3) || fail=1
b=$("$PFTUNE" masks --layout-file "$tmp/l.json" --json --rule gemma3) || fail=1
[ "$a" = "$b" ] || { echo "FAIL: string and JSON layouts differ"; fail=1; }
# dense full for that layout: 6*9 + 5*5 elements + 3 int64 offsets
echo "$a" | grep -q '"bytes": 103,' || { echo "FAIL: dense bytes"; echo "$a" | head -20; fail=1; }
# bidirectional has no sliding rows
n=$("$PFTUNE" masks --layout t9 --rule bidirectional --json | grep -c '"layer": "sliding"')
[ "$n" -eq 0 ] || { echo "FAIL: bidirectional printed sliding rows"; fail=1; }
"$PFTUNE" masks --help >/dev/null || { echo "FAIL: --help"; fail=1; }

# int32 indptr: one request of 46340 tokens fits dense and bitmap, 46341 does
# not; bitmap is refused on its bit index (the kernel's i*kv_len + k).
n=$("$PFTUNE" masks --seq 46340 --indptr int32 | grep -Ec '^(dense|bitmap) .* fits$')
[ "$n" -eq 4 ] || { echo "FAIL: --seq 46340 dense/bitmap should fit int32 ($n rows)"; fail=1; }
out=$("$PFTUNE" masks --seq 46341 --indptr int32)
n=$(echo "$out" | grep -Ec '^(dense|bitmap) .* refused$')
[ "$n" -eq 4 ] || { echo "FAIL: --seq 46341 dense/bitmap should be refused ($n rows)"; fail=1; }
echo "$out" | grep -q 'bitmap mask with int32 indptr: request 0 bit index 2147488280 (46341 x 46341 bits) exceeds INT32_MAX (2147483647)' ||
    { echo "FAIL: bitmap bit-index reason"; echo "$out"; fail=1; }

[ $fail -eq 0 ] && echo "masks errors: ok"
exit $fail
