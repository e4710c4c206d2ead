#!/usr/bin/env python3
"""The GPU bundle run's summary (called by DIR/run): gpu-summary.json
(schema pftune.gpu-run/1), gpu-log-entry.md (a docs/gpu-log.md entry) and,
printed last, a short table of what passed and the key numbers. Reads the
run's work files; numbers come only from what the steps wrote."""
import argparse
import datetime
import json
import os
import re
import sys


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def load(path):
    text = read(path)
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def tsv(path):
    text = read(path) or ""
    return [line.split("\t") for line in text.splitlines() if line.strip()]


PROBLEM = re.compile(r"^(\S+) (\d+) tokens, (\w+) layer, rule (\w+)")


def bench_best(doc):
    """Best kernel row per (model, seq, layer, rule): useful TFLOP/s."""
    best = {}
    for r in (doc or {}).get("records", []):
        m = PROBLEM.match(r.get("problem", ""))
        tf = r.get("useful_tflops")
        if not m or r.get("status") != "ok" or not tf:
            continue
        key = (m.group(1), int(m.group(2)), m.group(3), m.group(4))
        if key not in best or tf > best[key]["tflops"]:
            t = r.get("time") or {}
            best[key] = {"tflops": tf, "variant": r.get("variant"), "median_ms": t.get("median_ms"),
                         "timer": t.get("timer")}
    return best


def d128_ab(bench, alt):
    """The D=128 A/B (docs/kernel-analysis.md round 4): per gemma3-27b row
    of the 128-row run (bench-d128-rows128.json), the default's spans
    TILE_SKIP=1 row of bench.json on the same problem; TFLOP/s of both."""
    def rows(doc, default):
        out = {}
        for r in (doc or {}).get("records", []):
            m, v = PROBLEM.match(r.get("problem", "")), r.get("variant") or ""
            if (not m or m.group(1) != "gemma3-27b" or r.get("status") != "ok" or
                    "MASK_STORAGE=spans" not in v or "TILE_SKIP=1" not in v):
                continue
            if default and "WARP_ROWS=32" not in v:
                continue  # the default at D=128 is the WARP_ROWS=32 shape
            out[(int(m.group(2)), m.group(3), m.group(4))] = (r.get("useful_tflops"), v)
        return out
    d, b = rows(bench, True), rows(alt, False)
    return [{"seq": k[0], "layer": k[1], "rule": k[2], "default_tflops": d[k][0], "default": d[k][1],
             "rows128_tflops": b[k][0], "rows128": b[k][1]} for k in sorted(b) if k in d]


GIB = float(1 << 30)


def forward_points(work):
    """The forward step's numbers per token count: pftune (default and
    tuned variants) and HF from what the parts wrote, with the ratio."""
    parts = {}
    for row in tsv(os.path.join(work, "forward.tsv")):
        row += [""] * (5 - len(row))
        parts[row[0]] = {"part": row[0], "status": row[1], "seconds": float(row[2] or 0),
                         "estimate_s": int(row[3] or 0), "note": row[4]}
    points = {}

    def point(tokens):
        return points.setdefault(tokens, {"tokens": tokens})

    for name in ("pf-8k", "pf-32k", "pf-8k-tuned", "pf-32k-tuned"):
        d = load(os.path.join(work, "forward", name, "forward.json"))
        if not d or name not in parts or parts[name]["status"] != "passed":
            continue
        key = "pftune_tuned" if name.endswith("tuned") else "pftune"
        point(d.get("tokens"))[key] = {
            "total_ms": d.get("total_ms"), "tokens_per_second": d.get("tokens_per_second"),
            "peak_bytes": (d.get("memory") or {}).get("peak_bytes"), "timer": d.get("timer"),
            "images": d.get("images"), "variants": d.get("attention_variants"),
            "phases": d.get("phases")}
    hf = load(os.path.join(work, "forward", "hf.json"))
    for r in (hf or {}).get("records", []):
        point(r.get("tokens"))["hf"] = {k: r.get(k) for k in (
            "status", "ms", "tokens_per_second", "max_memory_allocated", "error", "reason")}
    for p in points.values():
        pf, h = (p.get("pftune") or {}).get("tokens_per_second"), p.get("hf") or {}
        if pf and h.get("status") == "ok" and h.get("tokens_per_second"):
            p["ratio"] = round(pf / h["tokens_per_second"], 3)
    meta = {k: (hf or {}).get(k) for k in ("torch", "transformers", "init_s", "weights_bytes",
                                            "attn_implementation", "error")} if hf else None
    return list(parts.values()), [points[k] for k in sorted(x for x in points if x)], meta


def forward_line(points):
    """One line: per token count pftune tokens/s, HF tokens/s, ratio, peaks."""
    out = []
    for p in points:
        pf, pt, h = p.get("pftune") or {}, p.get("pftune_tuned") or {}, p.get("hf") or {}
        s = "%dK:" % round(p["tokens"] / 1024)
        s += " pftune %s tok/s" % ("%.0f" % pf["tokens_per_second"] if pf.get("tokens_per_second") else "-")
        if pt.get("tokens_per_second"):
            s += " (tuned %.0f)" % pt["tokens_per_second"]
        if h.get("status") == "ok":
            s += ", HF %.0f tok/s" % h["tokens_per_second"]
        elif h:
            s += ", HF %s" % h.get("status")
        if p.get("ratio"):
            s += " = %.2fx%s" % (p["ratio"], "" if p["ratio"] >= 2 else " (< 2x target)")
        peaks = []
        if pf.get("peak_bytes"):
            peaks.append("pftune %.1f" % (pf["peak_bytes"] / GIB))
        if h.get("max_memory_allocated"):
            peaks.append("HF %.1f" % (h["max_memory_allocated"] / GIB))
        if peaks:
            s += ", peak GiB " + "/".join(peaks)
        out.append(s)
    return "; ".join(out) if out else "no forward numbers"


G4_PARTS = {"26": "gemma4-26b-a4b", "31": "gemma4-31b"}


def forward4_points(work):
    """The forward4 step's numbers per (model, token count): pftune (default
    and tuned variants, with the per-phase times of forward.json) and HF,
    with the ratio against the default and the tuned runs."""
    parts = {}
    for row in tsv(os.path.join(work, "forward4.tsv")):
        row += [""] * (5 - len(row))
        parts[row[0]] = {"part": row[0], "status": row[1], "seconds": float(row[2] or 0),
                         "estimate_s": int(row[3] or 0), "note": row[4]}
    points, hfmeta = {}, {}

    def point(model, tokens):
        return points.setdefault((model, tokens), {"model": model, "tokens": tokens})

    for name, part in parts.items():
        model = G4_PARTS.get(name[2:4])
        if not model or part["status"] != "passed":
            continue
        if name.startswith("pf"):
            d = load(os.path.join(work, "forward4", name, "forward.json"))
            if not d:
                continue
            key = "pftune_tuned" if name.endswith("tuned") else "pftune"
            point(model, d.get("tokens"))[key] = {
                "total_ms": d.get("total_ms"), "tokens_per_second": d.get("tokens_per_second"),
                "peak_bytes": (d.get("memory") or {}).get("peak_bytes"), "timer": d.get("timer"),
                "images": d.get("images"), "variants": d.get("attention_variants"),
                "phases": d.get("phases")}
    for key, model in G4_PARTS.items():
        hf = load(os.path.join(work, "forward4", "hf%s.json" % key))
        if not hf:
            continue
        hfmeta[model] = {k: hf.get(k) for k in ("torch", "transformers", "init_s", "weights_bytes",
                                                 "attn_implementation", "error")}
        for r in hf.get("records", []):
            point(model, r.get("tokens"))["hf"] = {k: r.get(k) for k in (
                "status", "ms", "tokens_per_second", "max_memory_allocated", "error", "reason")}
    for p in points.values():
        h = p.get("hf") or {}
        for key, rkey in (("pftune", "ratio"), ("pftune_tuned", "ratio_tuned")):
            pf = (p.get(key) or {}).get("tokens_per_second")
            if pf and h.get("status") == "ok" and h.get("tokens_per_second"):
                p[rkey] = round(pf / h["tokens_per_second"], 3)
    order = sorted((k for k in points if k[1]), key=lambda k: (k[0], k[1]))
    return list(parts.values()), [points[k] for k in order], hfmeta


def forward4_line(points):
    out = []
    for p in points:
        short = "26B" if "26b" in p["model"] else "31B"
        q = dict(p, tokens=p["tokens"])
        out.append(short + " " + forward_line([q]))
    return "; ".join(out) if out else "no forward4 numbers"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--out")
    ap.add_argument("--forward4-note", action="store_true",
                    help="print the forward4 step's one-line note from --work and stop")
    ap.add_argument("--forward-note", action="store_true",
                    help="print the forward step's one-line note from --work and stop")
    ap.add_argument("--bundle")
    ap.add_argument("--budget", type=int)
    ap.add_argument("--wall", type=int)
    ap.add_argument("--cache", default="0,0")
    ap.add_argument("--steps", default="kernels", help="the run's --steps")
    a = ap.parse_args()
    if a.forward_note:
        print(forward_line(forward_points(a.work)[1]))
        return 0
    if a.forward4_note:
        print(forward4_line(forward4_points(a.work)[1]))
        return 0
    if not a.out:
        ap.error("--out is required")
    w = lambda name: os.path.join(a.work, name)  # noqa: E731
    o = lambda name: os.path.join(a.out, name)  # noqa: E731

    bundle = load(a.bundle) if a.bundle else None
    gpu = (read(w("gpu.csv")) or "").splitlines()
    gpu = [x.strip() for x in gpu[0].split(",")] if gpu else []
    device = gpu[0] if gpu else "unknown"
    driver = gpu[1] if len(gpu) > 1 else "unknown"
    toolkit = (read(w("toolkit.txt")) or "toolkit=unknown").strip().split("=", 1)[1]
    bundled, compiled = (int(x) for x in a.cache.split(","))

    steps = []
    for row in tsv(w("steps.tsv")):
        row += [""] * (5 - len(row))
        steps.append({"name": row[0], "status": row[1], "seconds": float(row[2] or 0),
                      "estimate_s": int(row[3] or 0), "note": row[4]})
    by = {s["name"]: s for s in steps}

    # key numbers per step
    tests = [{"name": r[0], "status": r[1], "seconds": float(r[2])} for r in tsv(w("tests.tsv"))]
    if "tests" in by:
        by["tests"]["tests"] = tests
    check = load(o("check.json"))
    if check and "check" in by:
        ok = [v["rel_frob_error"] for v in check.get("variants", []) if v.get("ok")]
        by["check"].update(passed=check.get("passed"), failed=check.get("failed"),
                           worst_passing_error=max(ok) if ok else None,
                           head_dims=check.get("head_dims"), seed=check.get("seed"))
    san = [{"storage": r[0], "tool": r[1], "status": r[2], "errors": r[3]}
           for r in tsv(w("sanitizer.tsv"))]
    if "sanitizer" in by:
        by["sanitizer"]["runs"] = san
    best = bench_best(load(o("bench.json")))
    ab = d128_ab(load(o("bench.json")), load(o("bench-d128-rows128.json")))
    if "bench" in by:
        by["bench"]["best"] = [dict(model=k[0], seq=k[1], layer=k[2], rule=k[3], **v)
                               for k, v in sorted(best.items())]
        by["bench"]["d128_ab"] = ab
    peer = load(o("peer.json"))
    peer_rows = [r for r in (peer or {}).get("records", []) if r.get("useful_tflops")]
    if "peers" in by:
        by["peers"]["records"] = [{k: r.get(k) for k in ("model", "seq", "layer", "rule", "impl",
                                                         "ms", "useful_tflops", "error")}
                                  for r in (peer or {}).get("records", [])]
        if peer:
            by["peers"]["torch"] = peer.get("torch")
    tune = load(o("tune-results.json"))
    if tune and "tune" in by:
        recs = tune.get("records", [])
        secs = by["tune"]["seconds"] or 1
        okr = [r for r in recs if r.get("status") == "ok" and r.get("useful_tflops")]
        by["tune"].update(points=len(recs), timed=len(okr),
                          variants_per_hour=round(len(recs) / secs * 3600, 1),
                          best_tflops=max((r["useful_tflops"] for r in okr), default=None))

    fparts, fpoints, fmeta = forward_points(a.work)
    if "forward" in by:
        by["forward"].update(parts=fparts, points=fpoints, hf=fmeta, target_ratio=2.0)
    f4parts, f4points, f4meta = forward4_points(a.work)
    if "forward4" in by:
        by["forward4"].update(parts=f4parts, points=f4points, hf=f4meta, target_ratio=2.0)
    xchecks = [{"check": r[0], "status": r[1], "note": r[2] if len(r) > 2 else ""}
               for r in tsv(w("export.tsv"))]
    if "export" in by:
        by["export"]["checks"] = xchecks
    skipped_parts = ["forward:%s" % p["part"] for p in fparts if p["status"] == "skipped"] + \
        ["export:%s" % c["check"] for c in xchecks if c["status"] == "skipped"] + \
        ["forward4:%s" % p["part"] for p in f4parts if p["status"] == "skipped"]

    doc = {
        "schema": "pftune.gpu-run", "version": 1,
        "finished": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "device": device, "driver": driver, "toolkit": toolkit,
        "gpu": gpu, "devices": load(w("devices.json")),
        "bundle": bundle, "budget_s": a.budget, "steps_selected": a.steps, "wall_s": a.wall,
        "jit_cache": {"bundled": bundled, "compiled_here": compiled},
        "steps": steps,
        "skipped": [s["name"] for s in steps if s["status"] == "skipped"] + skipped_parts,
        "passed": all(s["status"] in ("passed", "skipped") for s in steps),
    }
    with open(o("gpu-summary.json"), "w") as f:
        json.dump(doc, f, indent=1)

    # the docs/gpu-log.md entry
    rev = (bundle or {}).get("revision", "unknown")
    md = [f"## {doc['finished']} — {device} (driver {driver}, CUDA {toolkit}), revision {rev}", "",
          f"Bundle run (`gpu-bundle/run --budget {a.budget} --steps {a.steps}`), {a.wall} s wall; JIT cache: "
          f"{bundled} cubins bundled, {compiled} compiled on the machine.", "",
          "| step | status | seconds | result |", "|---|---|---|---|"]
    for s in steps:
        md.append(f"| {s['name']} | {s['status']} | {s['seconds']:.0f} | {s['note'].replace('|', '/')} |")
    if best:
        md += ["", "attention_bench, best variant per row (useful TFLOP/s) and the torch peers:", "",
               "| model | tokens | layer | rule | pftune | variant | flex | sdpa (mask) | sdpa causal |",
               "|---|---|---|---|---|---|---|---|---|"]
        for k, v in sorted(best.items()):
            def peer_tf(impl):
                for r in peer_rows:
                    if (r["model"], r["seq"], r["layer"], r["impl"]) == (k[0], k[1], k[2], impl):
                        return f"{r['useful_tflops']:.1f}"
                return "-"
            if k[3] != "gemma3":
                continue
            md.append(f"| {k[0]} | {k[1]} | {k[2]} | {k[3]} | {v['tflops']:.1f} | `{v['variant']}` | "
                      f"{peer_tf('flex')} | {peer_tf('sdpa_mask')} | "
                      f"{peer_tf('sdpa_causal') if k[2] == 'full' else '-'} |")
    if ab:
        md += ["", "D=128 default (64 rows, WARP_ROWS=32) against the 128-row shape, spans, "
               "useful TFLOP/s (revert `default_shapes` if the 128-row column wins):", "",
               "| tokens | layer | rule | default | 128-row |", "|---|---|---|---|---|"]
        for r in ab:
            md.append(f"| {r['seq']} | {r['layer']} | {r['rule']} | {r['default_tflops']:.1f} | "
                      f"{r['rows128_tflops']:.1f} |")
    if fpoints:
        md += ["", "pftune forward gemma3-4b (synthetic weights, 8 images) vs HF transformers "
               "(random init, sdpa), same GPU; tokens/s and peak memory:", "",
               "| tokens | pftune | pftune tuned | HF | ratio | peak pftune GiB | peak HF GiB |",
               "|---|---|---|---|---|---|---|"]
        for p in fpoints:
            pf, pt, h = p.get("pftune") or {}, p.get("pftune_tuned") or {}, p.get("hf") or {}
            f = lambda x, fmt="%.0f": fmt % x if x else "-"  # noqa: E731
            md.append("| %d | %s | %s | %s | %s | %s | %s |" % (
                p["tokens"], f(pf.get("tokens_per_second")), f(pt.get("tokens_per_second")),
                f(h.get("tokens_per_second")) if h.get("status") == "ok" else h.get("status", "-"),
                f(p.get("ratio"), "%.2fx"), f((pf.get("peak_bytes") or 0) / GIB, "%.1f"),
                f((h.get("max_memory_allocated") or 0) / GIB, "%.1f")))
    if f4points:
        md += ["", "pftune forward Gemma-4 (synthetic weights drawn on the GPU, 8 images of 256 "
               "soft tokens) vs HF transformers Gemma4ForConditionalGeneration (random init, sdpa), "
               "same GPU; tokens/s and peak memory:", "",
               "| model | tokens | pftune | pftune tuned | HF | ratio | ratio tuned | peak pftune GiB | peak HF GiB |",
               "|---|---|---|---|---|---|---|---|---|"]
        for p in f4points:
            pf, pt, h = p.get("pftune") or {}, p.get("pftune_tuned") or {}, p.get("hf") or {}
            f = lambda x, fmt="%.0f": fmt % x if x else "-"  # noqa: E731
            md.append("| %s | %d | %s | %s | %s | %s | %s | %s | %s |" % (
                p["model"], p["tokens"], f(pf.get("tokens_per_second")),
                f(pt.get("tokens_per_second")),
                f(h.get("tokens_per_second")) if h.get("status") == "ok" else h.get("status", "-"),
                f(p.get("ratio"), "%.2fx"), f(p.get("ratio_tuned"), "%.2fx"),
                f((pf.get("peak_bytes") or 0) / GIB, "%.1f"),
                f((h.get("max_memory_allocated") or 0) / GIB, "%.1f")))
    if xchecks:
        md += ["", "Exported package on the GPU: " + ", ".join(
            "%s %s" % (c["check"], c["status"]) for c in xchecks)]
    failed_tests = [t["name"] for t in tests if t["status"] != "passed"]
    if failed_tests:
        md += ["", "GPU tests not passed: " + ", ".join(failed_tests)]
    bad_san = [f"{r['tool']}/{r['storage']} ({r['errors']} errors)" for r in san if r["status"] != "passed"]
    if bad_san:
        md += ["", "compute-sanitizer runs not clean: " + ", ".join(bad_san)]
    if doc["skipped"]:
        md += ["", "Skipped: " + ", ".join(
            [f"{s['name']} ({s['note']})" for s in steps if s["status"] == "skipped"] +
            [f"forward:{p['part']} ({p['note']})" for p in fparts if p["status"] == "skipped"] +
            [f"export:{c['check']} ({c['note']})" for c in xchecks if c["status"] == "skipped"] +
            [f"forward4:{p['part']} ({p['note']})" for p in f4parts if p["status"] == "skipped"])]
    with open(o("gpu-log-entry.md"), "w") as f:
        f.write("\n".join(md) + "\n")

    # the table, last
    print()
    print(f"== {device}, driver {driver}, CUDA {toolkit}; {a.wall} s of {a.budget} s; "
          f"cache {bundled} bundled / {compiled} compiled here")
    for s in steps:
        print(f"  {s['name']:<10} {s['status']:<8} {s['seconds']:6.0f} s  {s['note'][:90]}")
    for k, v in sorted(best.items()):
        if k[3] == "gemma3" and k[1] == min(x[1] for x in best):
            print(f"  bench {k[0]} {k[1]} {k[2]}: {v['tflops']:.1f} TFLOP/s ({v['variant']})")
    for r in ab:
        print(f"  D=128 A/B {r['seq']} {r['layer']} {r['rule']}: default {r['default_tflops']:.1f}, "
              f"128-row {r['rows128_tflops']:.1f} TFLOP/s")
    if fpoints:
        print("  forward: " + forward_line(fpoints))
    for p in fparts:
        if p["status"] != "passed":
            print(f"  forward:{p['part']:<13} {p['status']:<8} {p['note'][:80]}")
    if f4points:
        print("  forward4: " + forward4_line(f4points))
    for p in f4parts:
        if p["status"] != "passed":
            print(f"  forward4:{p['part']:<14} {p['status']:<8} {p['note'][:80]}")
    for c in xchecks:
        print(f"  export:{c['check']:<10} {c['status']:<8} {c['note'][:80]}")
    if "tune" in by and by["tune"].get("variants_per_hour") is not None:
        print(f"  tune: {by['tune']['points']} points, {by['tune']['variants_per_hour']} variants/hour")
    print(f"== {'PASSED' if doc['passed'] else 'FAILED'}; wrote {a.out}/gpu-summary.json, "
          f"gpu-log-entry.md, gpu-run.log")
    return 0


if __name__ == "__main__":
    sys.exit(main())
