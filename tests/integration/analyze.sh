#!/bin/bash
# `pftune analyze`: usage errors (exit 2, one line), --sass on the committed
# fixture (no disassembler needed): text and pftune.analyze/1 JSON; where a
# disassembler is found (tools/setup.sh installs one), the default attention
# variants on sm_80/sm_90 have a main loop with HMMAs, no spills or local
# memory, and meet issue 12's static targets (D=128: LDSM x4 per HMMA <=
# 0.30 and 2 blocks/SM; D=256: <= 0.40).
set -u
PFTUNE=$1
SRC=${PFTUNE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
FIX=$SRC/tests/fixtures/mma_probe.sm_80.sass
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

expect_usage() {
    local needle=$1; shift
    "$PFTUNE" analyze "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ $rc -ne 2 ] || [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -q '^pftune: analyze: ' "$tmp/err" ||
        ! grep -qF -- "$needle" "$tmp/err"; then
        echo "FAIL: analyze $*: exit $rc, '$(cat "$tmp/err")', want '$needle'"; fail=1
    fi
}
expect_usage "missing --arch"
expect_usage "emu has no SASS" --arch emu
expect_usage "unknown" --arch sm_99
expect_usage "--variant and --head-dim apply to the attention kernel only" --arch sm_80 --kernel "$SRC/kernels/test/reduce.cu" --head-dim 64
expect_usage "change them with --variant" --arch sm_80 --threads 64
expect_usage "--sass takes at most one --arch" --sass "$FIX" --arch sm_80,sm_90
"$PFTUNE" analyze --help | grep -q "main loop" || { echo "FAIL: --help"; fail=1; }

"$PFTUNE" analyze --sass "$tmp/missing.sass" 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "cannot open" "$tmp/err" || { echo "FAIL: missing --sass file"; fail=1; }

# the fixture: the GEMM's main loop and occupancy
out=$("$PFTUNE" analyze --sass "$FIX" --arch sm_80 --entry pf_mma_probe_gemm) || { echo "FAIL: --sass"; fail=1; }
echo "$out" | grep -Eq '^  HMMA +16 +16$' || { echo "FAIL: HMMA row"; echo "$out"; fail=1; }
echo "$out" | grep -Eq '^  LDSM.T x1/x2/x4 +0/0/4 +0/0/4$' || { echo "FAIL: LDSM.T row"; fail=1; }
echo "$out" | grep -q 'main loop: 0x0640..0x0cb0, 3 blocks' || { echo "FAIL: main loop"; fail=1; }
echo "$out" | grep -q 'occupancy: 5 blocks/SM, 20 warps/SM (31.2%), limited by registers' ||
    { echo "FAIL: occupancy"; echo "$out"; fail=1; }
"$PFTUNE" analyze --sass "$FIX" --entry nope 2>"$tmp/err"
grep -q "no kernel entry named 'nope'" "$tmp/err" || { echo "FAIL: --entry nope"; fail=1; }

"$PFTUNE" analyze --sass "$FIX" --arch sm_80 --json >"$tmp/a.json" || { echo "FAIL: --json"; fail=1; }
sed -n 2p "$tmp/a.json" | grep -qxF '  "schema": "pftune.analyze/1",' || { echo "FAIL: schema"; fail=1; }
python3 - "$tmp/a.json" <<'PY' || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
e = {x["entry"]: x for x in d["results"][0]["entries"]}
g = e["pf_mma_probe_gemm"]
assert g["registers"] == 90 and g["kernel"]["hmma"] == 16, g
assert g["main_loop"]["found"] and g["main_loop"]["mix"]["ldsm"]["x4_t"] == 4
assert abs(g["main_loop"]["mix"]["ldsm_x4_per_hmma"] - 5 / 16) < 1e-9
assert g["occupancy"]["blocks_per_sm"] == 5
assert not e["pf_mma_probe_tile"]["main_loop"]["found"]
PY

# the real chain, where a disassembler is installed
# (sm_90 cubins keep registers in .nv.info, sm_80 ones in the section header)
if "$PFTUNE" analyze --arch sm_80,sm_90 --json >"$tmp/attn.json" 2>"$tmp/err"; then
    python3 - "$tmp/attn.json" <<'PY' || fail=1
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    e = r["entries"][0]
    assert r["variant"].startswith("BLOCK_M="), r
    assert e["entry"] == "attention" and e["main_loop"]["found"], e["main_loop"]
    assert e["main_loop"]["mix"]["hmma"] == e["kernel"]["hmma"] > 0
    assert e["kernel"]["ldl"] == 0 and e["kernel"]["stl"] == 0
    assert 0 < e["registers"] <= 255 and e["occupancy"]["blocks_per_sm"] >= 1, (r["target"], e)
    assert r["ptxas_spill_stores"] == 0 and r["ptxas_spill_loads"] == 0, r
    # issue 12's static targets for the D=128 default (docs/kernel-analysis.md)
    assert e["main_loop"]["mix"]["ldsm_x4_per_hmma"] <= 0.30, (r["target"], e["main_loop"]["mix"])
    assert e["occupancy"]["blocks_per_sm"] >= 2, (r["target"], e["occupancy"])
PY
    # and D=256: at most 0.40 LDSM x4 per HMMA, no local memory
    if "$PFTUNE" analyze --arch sm_80,sm_90 --head-dim 256 --json >"$tmp/a256.json" 2>"$tmp/err"; then
        python3 - "$tmp/a256.json" <<'PY' || fail=1
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    e = r["entries"][0]
    assert e["kernel"]["ldl"] == 0 and e["kernel"]["stl"] == 0, r["target"]
    assert e["main_loop"]["mix"]["ldsm_x4_per_hmma"] <= 0.40, (r["target"], e["main_loop"]["mix"])
PY
    else
        echo "FAIL: analyze --head-dim 256: $(cat "$tmp/err")"; fail=1
    fi
elif grep -q "no SASS disassembler" "$tmp/err"; then
    echo "skip: $(cat "$tmp/err")"
else
    echo "FAIL: analyze attention: $(cat "$tmp/err")"; fail=1
fi

[ $fail -eq 0 ] && echo "analyze: ok"
exit $fail
