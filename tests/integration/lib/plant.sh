# Sourced by the integration tests that plant bugs in the kernels.
# src: the kernels/ folder of the source tree.
src=${PFTUNE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}/kernels

# plant_kernels DEST DEFINE: DEST = a copy of $src whose attention.cu
# defines DEFINE right after its includes.
plant_kernels() {
    local last
    mkdir -p "$1"
    cp -r "$src"/. "$1/"
    last=$(grep -n '^#include' "$src/attention.cu" | tail -1 | cut -d: -f1)
    { head -n "$last" "$src/attention.cu"; echo "$2"; tail -n +$((last + 1)) "$src/attention.cu"; } \
        >"$1/attention.cu"
}
