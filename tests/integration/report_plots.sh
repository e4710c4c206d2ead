#!/bin/bash
# `pftune report` on a small emu sweep made here by the tuner (several tile
# shapes and storages) and on a hand-made GPU-like results file with raw
# samples (tests/fixtures/report/gpu_results.json): every plot renders to a
# PNG and an SVG, its data file holds the numbers of the results, summary.md
# names the right winner; the emu plots say emu-host, the GPU one has its
# peak; without gnuplot the data and scripts are still written; --csv and
# --nvbench; malformed and future-version files are refused.
set -u
PFTUNE=$1
SRC=${PFTUNE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
FIX=$SRC/tests/fixtures/report
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() { [ "$1" = 0 ] || { echo "FAIL: $2"; fail=1; }; }

"$PFTUNE" tune "$FIX/heatmap_profile.json" --device emu --out "$tmp/emu" >"$tmp/tune.log" 2>&1
check $? "tune failed: $(tail -3 "$tmp/tune.log")"
"$PFTUNE" forward --model gemma3-tiny --layout 't6,i16,t6' --device emu --samples 1 --warmup 0 \
    --out "$tmp/emu" >"$tmp/forward.log" 2>&1
check $? "forward failed: $(tail -3 "$tmp/forward.log")"
cp "$FIX/gpu_results.json" "$tmp/gpu.json" && mkdir "$tmp/gpu" && cp "$FIX/gpu_results.json" "$tmp/gpu/results.json"

for d in emu gpu; do
    "$PFTUNE" report "$tmp/$d" --format both --csv "$tmp/$d.csv" --nvbench "$tmp/$d.nvbench.json" \
        >"$tmp/$d.out" 2>&1
    check $? "report $d failed: $(cat "$tmp/$d.out")"
    cat "$tmp/$d.out"
done

# every plot: a script, data, a PNG (magic bytes) and an SVG
python3 - "$tmp" <<'PY' || fail=1
import glob, json, os, re, sys, csv
tmp = sys.argv[1]
bad = 0
def fail(msg):
    global bad
    print("FAIL:", msg)
    bad = 1
for d in ["emu", "gpu"]:
    rep = os.path.join(tmp, d, "report")
    scripts = sorted(glob.glob(rep + "/*.gp"))
    names = [os.path.basename(s)[:-3] for s in scripts]
    kinds = {n.split("_")[0] for n in names}
    for k in ["scaling", "heatmap", "masks", "peak", "convergence"] + (["forward"] if d == "emu" else []):
        if k not in kinds:
            fail(f"{d}: no {k} plot (have {names})")
    for n in names:
        png = open(f"{rep}/{n}.png", "rb").read() if os.path.exists(f"{rep}/{n}.png") else b""
        if not png.startswith(b"\x89PNG\r\n\x1a\n") or len(png) < 1000:
            fail(f"{d}/{n}.png is not a PNG")
        svg = open(f"{rep}/{n}.svg").read() if os.path.exists(f"{rep}/{n}.svg") else ""
        if "<svg" not in svg:
            fail(f"{d}/{n}.svg is not an SVG")
        gp = open(f"{rep}/{n}.gp").read()
        if d == "emu" and 'timer = "emu-host"' not in gp:
            fail(f"{d}/{n}.gp does not say emu-host")
        if d == "emu" and "emu-host" not in svg:
            fail(f"{d}/{n}.svg does not show emu-host")
    res = json.load(open(os.path.join(tmp, d, "results.json")))
    recs = res["records"]
    timed = [r for r in recs if r["status"] == "ok" and r.get("time")]
    # the winner of each problem, in summary.md
    md = open(f"{rep}/summary.md").read()
    for prob in {r["problem"] for r in recs}:
        best = min((r for r in timed if r["problem"] == prob), key=lambda r: r["time"]["median_ms"])
        row = [l for l in md.splitlines() if l.startswith("| " + prob + " | `")]
        if not row or best["variant"] not in row[0]:
            fail(f"{d}: summary.md does not name {best['variant']} for {prob}")
    # scaling data: each line's median is the best of its storage at that length
    for f in glob.glob(rep + "/scaling_*.dat"):
        text = open(f).read()
        for block in text.split("\n\n\n"):
            m = re.search(r"# series \d+: (\S+)", block)
            label = m.group(1)
            stor = label.split(",")[0]
            for line in block.splitlines():
                if line.startswith("#") or not line.strip():
                    continue
                seq, med = int(line.split()[0]), float(line.split()[1])
                cands = [r["time"]["median_ms"] for r in timed
                         if f"MASK_STORAGE={stor}," in r["variant"] and f"seq {seq}:" in r["problem"]
                         and (("skip=" not in label) or f"TILE_SKIP={label.split('=')[1]}" in r["variant"])
                         and ("full" in os.path.basename(f)) == (" full " in r["problem"])]
                if not cands or abs(min(cands) - med) > 1e-5 * med:
                    fail(f"{f}: {label} seq {seq}: {med} is not the best {min(cands) if cands else None}")
    # heatmap data: cells hold the results' medians; pruned cells only where the points were pruned
    for f in glob.glob(rep + "/heatmap_*.dat"):
        lines = open(f).read().splitlines()
        prob = lines[0].split(": ", 1)[1]
        storages = [l.split()[-1] for l in lines if l.startswith("# storage")]
        winners = 0
        si = -1
        for l in lines:
            if l.startswith("# storage"):
                si += 1
                continue
            if l.startswith("#") or not l.strip():
                continue
            parts = re.findall(r'"[^"]*"|\S+', l)
            st, ms, win, bm, bn = int(parts[2]), parts[3], int(parts[5]), parts[6], parts[7]
            winners += win
            pts = [r for r in recs if r["problem"] == prob and f"BLOCK_M={bm}," in r["variant"]
                   and f"BLOCK_N={bn}," in r["variant"] and f"MASK_STORAGE={storages[si]}," in r["variant"]]
            if st == 0:
                best = min(r["time"]["median_ms"] for r in pts if r["status"] == "ok")
                if abs(best - float(ms)) > 1e-5 * best:
                    fail(f"{f}: cell {bm}x{bn} {storages[si]}: {ms} vs {best}")
            elif st == 1 and any(r["status"] != "invalid" for r in pts):
                fail(f"{f}: cell {bm}x{bn} {storages[si]} shown pruned")
        if winners != 1:
            fail(f"{f}: {winners} winners")
    # csv: one row per record; nvbench: one state per timed record
    rows = list(csv.DictReader(open(os.path.join(tmp, d + ".csv"))))
    if len(rows) != len(recs):
        fail(f"{d}.csv: {len(rows)} rows for {len(recs)} records")
    for r in rows:  # rows per warp: the variant's WARP_ROWS, else BLOCK_M / min(WARPS, BLOCK_M/16)
        v = dict(kv.split("=", 1) for kv in r["variant"].split(",") if "=" in kv)
        if "BLOCK_M" in v and "WARPS" in v:
            bm, w = int(v["BLOCK_M"]), int(v["WARPS"])
            want = int(v.get("WARP_ROWS", 0)) or bm // max(1, min(w, bm // 16))
            if r["warp_rows"] != str(want):
                fail(f"{d}.csv: warp_rows {r['warp_rows']} for {r['variant']} (expected {want})")
    nv = json.load(open(os.path.join(tmp, d + ".nvbench.json")))
    states = sum(len(b["states"]) for b in nv["benchmarks"])
    if states != len(timed) or nv["meta"]["version"]["json"]["string"] != "1.0.0":
        fail(f"{d}.nvbench.json: {states} states for {len(timed)} timed records")
    s0 = nv["benchmarks"][0]["states"][0]
    tags = {s["tag"] for s in s0["summaries"]}
    if not {"nv/cold/time/gpu/mean", "nv/cold/time/gpu/stdev/relative"} <= tags:
        fail(f"{d}.nvbench.json: summaries {tags}")
# the peak plot: the H100 peak for the GPU fixture, none on emu
gp = open(os.path.join(tmp, "gpu/report/peak.gp")).read()
if "peak = 989" not in gp:
    fail("gpu peak.gp has no H100 peak")
if "No peak: host timings" not in open(os.path.join(tmp, "emu/report/summary.md")).read():
    fail("emu summary.md does not say there is no peak")
if "Skipped: no forward.json" not in open(os.path.join(tmp, "gpu/report/summary.md")).read():
    fail("summary.md does not say the forward plot was skipped")
# masks: the int32 limit of dense and bitmap for one request is 46341 tokens
if "46341" not in open(os.path.join(tmp, "gpu/report/masks_full.gp")).read():
    fail("masks_full.gp does not mark the int32 limit at 46341")
sys.exit(bad)
PY

# a results file given directly writes beside it
"$PFTUNE" report "$tmp/gpu.json" --format svg >/dev/null 2>&1; check $? "report of a file"
[ -s "$tmp/report/peak.svg" ]; check $? "report FILE writes FILE's folder/report"

# without gnuplot: data and scripts, and one line saying how to render
mkdir "$tmp/nognu" && cp "$FIX/gpu_results.json" "$tmp/nognu/results.json"
PFTUNE_GNUPLOT=none "$PFTUNE" report "$tmp/nognu" >"$tmp/nognu.out" 2>&1
check $? "report without gnuplot failed"
grep -q "gnuplot not found: data (.dat) and scripts (.gp) written; render with: " "$tmp/nognu.out"
check $? "no render hint without gnuplot: $(cat "$tmp/nognu.out")"
ls "$tmp/nognu/report/"*.png >/dev/null 2>&1 && { echo "FAIL: PNGs without gnuplot"; fail=1; }
[ -s "$tmp/nognu/report/peak.gp" ] && [ -s "$tmp/nognu/report/peak.dat" ]; check $? "scripts and data"
if command -v gnuplot >/dev/null; then # and the written script renders as is
    (cd "$tmp/nognu/report" && gnuplot peak.gp) && [ -s "$tmp/nognu/report/peak.png" ]
    check $? "gnuplot peak.gp by hand"
fi

# refusals: one line each, naming what is wrong
err() { # REGEX FILE
    mkdir -p "$tmp/bad" && cp "$2" "$tmp/bad/results.json"
    "$PFTUNE" report "$tmp/bad" >/dev/null 2>"$tmp/err"
    local rc=$?
    [ $rc = 1 ] || { echo "FAIL: report $2: exit $rc"; fail=1; }
    grep -Eq "^pftune: report: $1" "$tmp/err" || { echo "FAIL: $2: $(cat "$tmp/err")"; fail=1; }
}
sed 's#"pftune.results/1"#"pftune.results/2"#' "$tmp/gpu.json" >"$tmp/v2.json"
err ".*results.json: schema 'pftune.results/2' is not supported \(this pftune reads pftune.results/1\)$" "$tmp/v2.json"
sed 's#"pftune.results/1"#"pftune.tuned/1"#' "$tmp/gpu.json" >"$tmp/tuned.json"
err ".*schema 'pftune.tuned/1' is not a results file" "$tmp/tuned.json"
python3 -c "
import json,sys; d=json.load(open('$tmp/gpu.json')); del d['records'][3]['variant']; json.dump(d,open('$tmp/novar.json','w'))"
err '.*records\[3\]: missing "variant" \(a string\)$' "$tmp/novar.json"
python3 -c "
import json,sys; d=json.load(open('$tmp/gpu.json')); r=[x for x in d['records'] if x['status']=='ok'][0]; del r['time']['median_ms']; json.dump(d,open('$tmp/nomed.json','w'))"
err '.*records\[[0-9]+\]: "time" has no "median_ms"' "$tmp/nomed.json"
echo '{"schema": "pftune.results/1", "meta": {}}' >"$tmp/norec.json"
err '.*missing "records" \(an array\)$' "$tmp/norec.json"
echo '{"schema": ' >"$tmp/torn.json"
err '.*results.json: .*line' "$tmp/torn.json"
"$PFTUNE" report "$tmp/nothing" >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "cannot open" "$tmp/err"; check $? "missing dir"
"$PFTUNE" report >/dev/null 2>&1; [ $? = 2 ]; check $? "no DIR is a usage error"
"$PFTUNE" report "$tmp/gpu" --format jpg >/dev/null 2>&1; [ $? = 2 ]; check $? "--format jpg"
exit $fail
