#!/bin/bash
# The verification gate of `pftune tune`: a planted wrong variant (a copy of
# the kernel sources whose BLOCK_N=32 variants scale their output by 1.5) is
# recorded verify_failed with its error, never timed, and never chosen, even
# though it is as fast as the rest.
. "$(dirname "$0")/lib/common.sh" "$1"
src=${PFTUNE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cp -r "$src/kernels" "$tmp/kernels"
line='            const float inv = l > 0.0f ? 1.0f / l : 0.0f;'
grep -qF "$line" "$tmp/kernels/attention.cu" || { echo "FAIL: the planting point moved"; exit 1; }
sed -i "s|^$line\$|$line\n#if BLOCK_N == 32 /* planted bug */\n            inv *= 1.5f;\n#endif|" "$tmp/kernels/attention.cu"
sed -i 's|            const float inv = l > 0.0f|            float inv = l > 0.0f|' "$tmp/kernels/attention.cu"

cat >"$tmp/p.json" <<'JSON'
{
  "family": "attention",
  "model": "test-tiny",
  "seq_lens": [48],
  "layers": ["full"],
  "workload": {"images": {"tokens": 8, "every": 16}},
  "axes": {"BLOCK_M": [64], "BLOCK_N": [32, 64], "WARPS": [4], "STAGES": [1],
           "MASK_STORAGE": ["spans", "dense"], "INDPTR_T": ["int32"], "TILE_SKIP": [0]},
  "measure": {"warmup": 0, "min_samples": 1, "max_samples": 1, "flush_l2": false}
}
JSON
PFTUNE_KERNEL_DIR="$tmp/kernels" "$PFTUNE" tune "$tmp/p.json" --device emu --out "$tmp/o" \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: tune exit $rc"; cat "$tmp/err"; fail=1; }
python3 - "$tmp/o/results.json" "$tmp/o/tuned.json" <<'PY' || fail=1
import json, sys
res = json.load(open(sys.argv[1]))["records"]
tuned = json.load(open(sys.argv[2]))
bad = [r for r in res if "BLOCK_N=32" in r["variant"]]
good = [r for r in res if "BLOCK_N=64" in r["variant"]]
ok = True
def fail(msg):
    global ok
    print("FAIL:", msg); ok = False
if len(bad) != 2 or len(good) != 2: fail("want 2 planted and 2 good points, got %d/%d" % (len(bad), len(good)))
for r in bad:
    if r["status"] != "verify_failed": fail("planted %s is %s" % (r["variant"], r["status"]))
    if r["time"] is not None: fail("planted %s was timed" % r["variant"])
    if not (r["error"] and r["error"] > 0.1): fail("planted error %s" % r["error"])
    if "verification failed" not in r["message"]: fail("message: " + r["message"])
for r in good:
    if r["status"] != "ok" or r["time"] is None: fail("good %s: %s" % (r["variant"], r["status"]))
chosen = [b["variant"] for e in tuned["entries"] for b in e["buckets"]]
if not chosen or any("BLOCK_N=32" in v for v in chosen): fail("chosen: %s" % chosen)
sys.exit(0 if ok else 1)
PY
exit $fail
