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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--bundle")
    ap.add_argument("--budget", type=int)
    ap.add_argument("--wall", type=int)
    ap.add_argument("--cache", default="0,0")
    a = ap.parse_args()
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
    if "bench" in by:
        by["bench"]["best"] = [dict(model=k[0], seq=k[1], layer=k[2], rule=k[3], **v)
                               for k, v in sorted(best.items())]
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

    doc = {
        "schema": "pftune.gpu-run", "version": 1,
        "finished": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "device": device, "driver": driver, "toolkit": toolkit,
        "gpu": gpu, "devices": load(w("devices.json")),
        "bundle": bundle, "budget_s": a.budget, "wall_s": a.wall,
        "jit_cache": {"bundled": bundled, "compiled_here": compiled},
        "steps": steps,
        "skipped": [s["name"] for s in steps if s["status"] == "skipped"],
        "passed": all(s["status"] in ("passed", "skipped") for s in steps),
    }
    with open(o("gpu-summary.json"), "w") as f:
        json.dump(doc, f, indent=1)

    # the docs/gpu-log.md entry
    rev = (bundle or {}).get("revision", "unknown")
    md = [f"## {doc['finished']} — {device} (driver {driver}, CUDA {toolkit}), revision {rev}", "",
          f"Bundle run (`gpu-bundle/run --budget {a.budget}`), {a.wall} s wall; JIT cache: "
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
    failed_tests = [t["name"] for t in tests if t["status"] != "passed"]
    if failed_tests:
        md += ["", "GPU tests not passed: " + ", ".join(failed_tests)]
    bad_san = [f"{r['tool']}/{r['storage']} ({r['errors']} errors)" for r in san if r["status"] != "passed"]
    if bad_san:
        md += ["", "compute-sanitizer runs not clean: " + ", ".join(bad_san)]
    if doc["skipped"]:
        md += ["", "Skipped: " + ", ".join(f"{s['name']} ({s['note']})" for s in steps
                                          if s["status"] == "skipped")]
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
    if "tune" in by and by["tune"].get("variants_per_hour") is not None:
        print(f"  tune: {by['tune']['points']} points, {by['tune']['variants_per_hour']} variants/hour")
    print(f"== {'PASSED' if doc['passed'] else 'FAILED'}; wrote {a.out}/gpu-summary.json, "
          f"gpu-log-entry.md, gpu-run.log")
    return 0


if __name__ == "__main__":
    sys.exit(main())
