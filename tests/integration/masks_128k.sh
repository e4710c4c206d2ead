#!/bin/bash
# `pftune masks --seq 131072` reproduces DESIGN.md's 128K table: dense ~16 GiB,
# bitmap ~2 GiB, window ~20 MiB (sliding W=1024), spans < 1 MiB; int32
# indptr refused for dense/bitmap, fine for window/spans.
set -u
PFTUNE=$1
fail=0
out=$("$PFTUNE" masks --seq 131072 --json) || { echo "masks --seq failed"; exit 1; }

# "storage layer bytes int32_fits" per row, from the indented JSON.
rows=$(printf '%s\n' "$out" | awk -F': ' '
  /"storage"/ { gsub(/[",]/, "", $2); s = $2 }
  /"layer"/ { gsub(/[",]/, "", $2); l = $2 }
  /"bytes"/ { gsub(/,/, "", $2); b = $2 }
  /"int32_fits"/ { gsub(/,/, "", $2); print s, l, b, $2 }')
[ "$(printf '%s\n' "$rows" | wc -l)" -eq 8 ] || { echo "expected 8 rows, got: $rows"; exit 1; }

# check STORAGE LAYER MIN_BYTES MAX_BYTES INT32
check() {
    local line
    line=$(printf '%s\n' "$rows" | awk -v s="$1" -v l="$2" '$1 == s && $2 == l')
    local bytes fits
    bytes=$(echo "$line" | awk '{print $3}')
    fits=$(echo "$line" | awk '{print $4}')
    if ! awk -v b="$bytes" -v lo="$3" -v hi="$4" 'BEGIN { exit !(b + 0 >= lo && b + 0 <= hi) }'; then
        echo "FAIL: $1/$2 bytes $bytes outside [$3, $4]"; fail=1
    fi
    if [ "$fits" != "$5" ]; then
        echo "FAIL: $1/$2 int32_fits $fits, want $5"; fail=1
    fi
}
GiB=1073741824; MiB=1048576
check dense full   $(awk "BEGIN{printf \"%.0f %.0f\", 15.9*$GiB, 16.1*$GiB}") false
check dense sliding $(awk "BEGIN{printf \"%.0f %.0f\", 15.9*$GiB, 16.1*$GiB}") false
check bitmap full  $(awk "BEGIN{printf \"%.0f %.0f\", 1.9*$GiB, 2.1*$GiB}") false
check window sliding $(awk "BEGIN{printf \"%.0f %.0f\", 19*$MiB, 21*$MiB}") true
check window full  1 $((5 * MiB)) true
check spans full   1 $((MiB - 1)) true
check spans sliding 1 $((MiB - 1)) true

# text output: human-readable sizes next to exact bytes
txt=$("$PFTUNE" masks --seq 131072) || { echo "text output failed"; exit 1; }
echo "$txt" | grep -Eq '^dense +full +16\.00 GiB +17179869200 +refused' || { echo "FAIL: text dense row"; echo "$txt"; fail=1; }
echo "$txt" | grep -q 'exceeds INT32_MAX (2147483647); use int64 indptr' || { echo "FAIL: int32 reason"; fail=1; }
echo "$txt" | grep -Eq '^window +sliding +20\.00 MiB' || { echo "FAIL: window row"; fail=1; }

[ $fail -eq 0 ] && echo "masks 128K table: ok"
exit $fail
