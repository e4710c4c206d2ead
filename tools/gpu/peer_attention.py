#!/usr/bin/env python3
"""Peers of attention_bench on the machine's torch: FlexAttention and SDPA on
the same shapes and masks, with the same useful-TFLOP/s metric.

Shapes (bench/attention_bench.c): gemma3-4b (Hq 8, Hkv 4, D 256) and
gemma3-27b (Hq 32, Hkv 16, D 128); one request of --seq tokens, a 256-token
image after every 3840 text tokens (t3840,i256,t3840,i256,...,t<rest>);
full layers (gemma3 rule: causal || same image) and sliding layers (that and
k > q - 1024); bf16 q/k/v [1, H, S, D]. Useful TFLOP/s = 4*D*Hq per visible
(q,k) pair / time, pairs counted from the mask (as the bench does).

Implementations per row:
  flex            torch.nn.attention.flex_attention (compiled), BlockMask of
                  the rule (skips fully masked 128x128 blocks)
  sdpa_mask       F.scaled_dot_product_attention with the boolean mask (the
                  memory-efficient backend, kv heads repeated to Hq; skipped
                  when the mask would be over --max-mask-gib)
  sdpa_causal     F.scaled_dot_product_attention(is_causal=True): the plain
                  causal mask, flash backend (a ceiling: it is not the same
                  mask, its pairs are counted as causal pairs)

Times: CUDA events, --warmup runs then the median of --iters runs. Writes
--json FILE (schema pftune.peer.attention/1) and prints one row each.
Needs a CUDA GPU; without torch or a GPU it exits 1 with the reason (the run
script records that as the step's failure, not as numbers)."""
import argparse
import json
import math
import sys
import time

MODELS = {"4b": ("gemma3-4b", 8, 4, 256), "27b": ("gemma3-27b", 32, 16, 128)}
IMAGE, TEXT, WINDOW = 256, 4096 - 256, 1024


def layout_groups(seq):
    """Per-token image id (-1 for text), as pf_layout_gen_periodic builds it."""
    groups, pos, img = [], 0, 0
    while pos < seq:
        text = TEXT if TEXT < seq - pos else seq - pos
        groups += [-1] * text
        pos += text
        if pos + IMAGE <= seq:
            groups += [img] * IMAGE
            img += 1
            pos += IMAGE
    return groups


def visible_pairs(torch, gid, layer, dev):
    """Count visible (q,k) pairs of the rule, in row chunks on the device."""
    s = gid.numel()
    k = torch.arange(s, device=dev)
    total, chunk = 0, max(1, (1 << 26) // s)
    for q0 in range(0, s, chunk):
        q = torch.arange(q0, min(s, q0 + chunk), device=dev)[:, None]
        gq = gid[q0:q0 + q.shape[0]][:, None]
        m = (k[None, :] <= q) | ((gq >= 0) & (gq == gid[None, :]))
        if layer == "sliding":
            m &= k[None, :] > q - WINDOW
        total += int(m.sum().item())
    return total


def time_ms(torch, fn, warmup, iters):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        a = torch.cuda.Event(enable_timing=True)
        b = torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    times.sort()
    return times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seq", type=int, action="append", help="tokens (repeatable; default 8192 32768)")
    ap.add_argument("--model", choices=sorted(MODELS), action="append", help="4b, 27b (default both)")
    ap.add_argument("--impl", action="append", choices=["flex", "sdpa_mask", "sdpa_causal"])
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--max-mask-gib", type=float, default=4.0)
    ap.add_argument("--json", help="write every record here")
    a = ap.parse_args()
    seqs = a.seq or [8192, 32768]
    models = a.model or ["4b", "27b"]
    impls = a.impl or ["flex", "sdpa_mask", "sdpa_causal"]
    doc = {"schema": "pftune.peer.attention", "version": 1, "records": []}

    def write():
        if a.json:
            with open(a.json, "w") as f:
                json.dump(doc, f, indent=1)

    try:
        import torch
        import torch.nn.functional as F
    except Exception as e:  # noqa: BLE001
        print(f"peer_attention: no torch: {e}", file=sys.stderr)
        doc["error"] = f"no torch: {e}"
        write()
        return 1
    if not torch.cuda.is_available():
        print("peer_attention: needs a CUDA GPU (torch.cuda.is_available() is False)", file=sys.stderr)
        doc["error"] = "no CUDA GPU"
        write()
        return 1
    dev = torch.device("cuda")
    doc.update(device=torch.cuda.get_device_name(0), torch=torch.__version__,
               cuda=torch.version.cuda)
    print(f"peer: {doc['device']}, torch {torch.__version__} (CUDA {torch.version.cuda}); "
          f"median of {a.iters} runs after {a.warmup} warm-up; useful TFLOP/s = 4*D*Hq*pairs/time")
    flex = None
    if "flex" in impls:
        try:
            from torch.nn.attention.flex_attention import create_block_mask, flex_attention
            flex = torch.compile(flex_attention)
        except Exception as e:  # noqa: BLE001
            print(f"peer_attention: FlexAttention unavailable: {e}", file=sys.stderr)
    failures = 0
    for mk in models:
        name, hq, hkv, d = MODELS[mk]
        for seq in seqs:
            gid = torch.tensor(layout_groups(seq), device=dev, dtype=torch.int32)
            torch.manual_seed(1234)
            q = torch.randn(1, hq, seq, d, device=dev, dtype=torch.bfloat16)
            k = torch.randn(1, hkv, seq, d, device=dev, dtype=torch.bfloat16)
            v = torch.randn(1, hkv, seq, d, device=dev, dtype=torch.bfloat16)
            # SDPA gets the kv heads repeated (its fused backends with a mask
            # may not take enable_gqa; the math fallback would not fit)
            kx = k.repeat_interleave(hq // hkv, dim=1)
            vx = v.repeat_interleave(hq // hkv, dim=1)
            scale = 1.0 / math.sqrt(d)
            for layer in ("full", "sliding"):
                pairs = visible_pairs(torch, gid, layer, dev)
                causal_pairs = seq * (seq + 1) // 2
                for impl in impls:
                    rec = {"model": name, "seq": seq, "layer": layer, "rule": "gemma3",
                           "impl": impl, "heads": [hq, hkv], "head_dim": d}
                    if impl == "sdpa_causal":
                        if layer == "sliding":
                            continue
                        rec["rule"] = "causal"
                    n = causal_pairs if impl == "sdpa_causal" else pairs
                    rec["visible_pairs"] = n
                    useful = 4.0 * d * hq * n
                    t0 = time.time()
                    try:
                        if impl == "flex":
                            if flex is None:
                                raise RuntimeError("FlexAttention unavailable")

                            def mask_mod(b, h, qi, ki, layer=layer):
                                m = (ki <= qi) | ((gid[qi] >= 0) & (gid[qi] == gid[ki]))
                                if layer == "sliding":
                                    m = m & (ki > qi - WINDOW)
                                return m
                            bm = create_block_mask(mask_mod, 1, 1, seq, seq, device=dev)
                            fn = lambda: flex(q, k, v, block_mask=bm, scale=scale, enable_gqa=True)  # noqa: E731
                        elif impl == "sdpa_mask":
                            gib = seq * seq / 2**30
                            if gib > a.max_mask_gib:
                                raise RuntimeError(f"boolean mask {gib:.1f} GiB over --max-mask-gib")
                            qi = torch.arange(seq, device=dev)[:, None]
                            ki = torch.arange(seq, device=dev)[None, :]
                            m = (ki <= qi) | ((gid[:, None] >= 0) & (gid[:, None] == gid[None, :]))
                            if layer == "sliding":
                                m &= ki > qi - WINDOW
                            mask = m[None, None]
                            fn = lambda: F.scaled_dot_product_attention(  # noqa: E731
                                q, kx, vx, attn_mask=mask, scale=scale)
                        else:
                            fn = lambda: F.scaled_dot_product_attention(  # noqa: E731
                                q, kx, vx, is_causal=True, scale=scale)
                        ms = time_ms(torch, fn, a.warmup, a.iters)
                        rec.update(ms=ms, useful_tflops=useful / (ms * 1e-3) / 1e12)
                        print(f"{name:<11} {seq:7d} {layer:<7} {rec['rule']:<6} {impl:<11} "
                              f"{ms:9.3f} ms {rec['useful_tflops']:7.1f} TFLOP/s")
                    except Exception as e:  # noqa: BLE001
                        failures += 1
                        rec["error"] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                        print(f"{name:<11} {seq:7d} {layer:<7} {rec['rule']:<6} {impl:<11} "
                              f"FAILED {rec['error']}")
                    rec["seconds"] = round(time.time() - t0, 2)
                    doc["records"].append(rec)
                    torch.cuda.empty_cache()
                    sys.stdout.flush()
                    write()
            del q, k, v, kx, vx
    write()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
