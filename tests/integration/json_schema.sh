#!/bin/bash
# Every JSON document pftune prints or writes starts with its schema name and
# version ("schema": "pftune.<doc>/<N>"), so readers can refuse what they do
# not understand.
. "$(dirname "$0")/lib/common.sh" "$1"

first_key() { # file, wanted schema: the first key of the document is the schema
    sed -n 2p "$1" | grep -qxF "  \"schema\": \"$2\"," ||
        { echo "FAIL: $1: first key is not \"schema\": \"$2\":"; head -3 "$1"; fail=1; }
}
"$PFTUNE" devices --json >"$tmp/devices.json" || { echo "FAIL: devices --json"; fail=1; }
first_key "$tmp/devices.json" pftune.devices/1
"$PFTUNE" masks --seq 4096 --json >"$tmp/masks.json" || { echo "FAIL: masks --json"; fail=1; }
first_key "$tmp/masks.json" pftune.masks/1
"$PFTUNE" compile --arch emu --kernel attention --json >"$tmp/compile.json" ||
    { echo "FAIL: compile --json"; fail=1; }
first_key "$tmp/compile.json" pftune.compile/1
"$PFTUNE" check --device emu --head-dim 64 --variant BLOCK_M=64,WARPS=4 --cases 1 --seed 7 \
    --json "$tmp/check.json" >/dev/null || { echo "FAIL: check --json"; fail=1; }
first_key "$tmp/check.json" pftune.check/1
"$PFTUNE" analyze --sass "${PFTUNE_SOURCE_DIR:-.}/tests/fixtures/mma_probe.sm_80.sass" --json \
    >"$tmp/analyze.json" || { echo "FAIL: analyze --json"; fail=1; }
first_key "$tmp/analyze.json" pftune.analyze/1
exit $fail
