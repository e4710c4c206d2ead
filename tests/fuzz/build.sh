#!/bin/bash
# Build the libFuzzer targets with clang (not part of ctest).
#   tests/fuzz/build.sh [OUT_DIR]    then    OUT_DIR/fuzz_npy -max_total_time=60 CORPUS_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/build-fuzz}
command -v clang >/dev/null || { echo "clang not found: the fuzz targets need clang's libFuzzer" >&2; exit 1; }
mkdir -p "$out"
clang -std=gnu11 -g -O1 -Wall -Wextra -fsanitize=fuzzer,address,undefined \
    -I"$root/harness" -o "$out/fuzz_npy" \
    "$root/tests/fuzz/fuzz_npy.c" "$root/harness/core/npy.c" "$root/harness/core/pf_error.c" -lm
echo "built $out/fuzz_npy"
