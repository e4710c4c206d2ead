"""GPU check of an exported package through pfattn.py and PyTorch (needs a
CUDA GPU, torch and numpy; not run by the CPU test suite).

usage: PYTHONPATH=<package build dir> python3 gpu_check.py [HEAD_DIM]

For every exported entry of the head dim (default: every exported head dim),
at each of its buckets' kernels (metadata built for a sequence length that
selects the bucket): random multimodal layouts (HF-style
mm_token_type_ids), random bf16 q/k/v, pfattn.launch on torch's current
stream, compared with a float32 PyTorch reference whose mask comes from the
package's dense builder. Prints one line per case; exit 1 on any failure."""
import sys

import numpy as np
import torch

import pfattn


def reference(q, k, v, layout, rule, layer, window, scale):
    mask, ind = pfattn.encode_mask(layout, "dense", rule, layer, window, 8)
    qo, kv = pfattn.indptr(layout, 8)
    out = torch.empty_like(q, dtype=torch.float32)
    groups = q.shape[1] // k.shape[1]
    for r in range(layout.batch):
        q0, q1, k0, k1 = int(qo[r]), int(qo[r + 1]), int(kv[r]), int(kv[r + 1])
        m = torch.from_numpy(mask[ind[r]:ind[r + 1]].reshape(q1 - q0, k1 - k0).astype(bool))
        m = m.to(q.device)
        qr = q[q0:q1].float().transpose(0, 1)
        kr = k[k0:k1].float().repeat_interleave(groups, 1).transpose(0, 1)
        vr = v[k0:k1].float().repeat_interleave(groups, 1).transpose(0, 1)
        s = (qr @ kr.transpose(1, 2)) * scale
        s = s.masked_fill(~m, float("-inf"))
        p = torch.softmax(s, -1).nan_to_num(0.0)
        out[q0:q1] = (p @ vr).transpose(0, 1)
    return out


def random_types(rng, n):
    t = np.zeros(n, np.int64)
    pos = 0
    while pos < n:
        pos += int(rng.integers(1, 60))
        size = int(rng.integers(1, 40))
        t[pos:pos + size] = rng.choice([1, 2])
        pos += size
    return t


def main():
    ks = pfattn.kernels()
    dims = [int(sys.argv[1])] if len(sys.argv) > 1 else sorted({k["head_dim"] for k in ks})
    rng = np.random.default_rng(1)
    failed = cases = 0
    shapes = []
    for head_dim in dims:
        for layer in ("full", "sliding"):
            for rule in ("causal", "gemma3", "gemma4"):
                seen = set()
                for seq in (1, 8192, 32768, 131072, 1 << 22):
                    try:
                        k = pfattn.select(head_dim, layer, rule, seq)
                    except pfattn.PfattnError:
                        break
                    if k["index"] not in seen:
                        seen.add(k["index"])
                        shapes.append((head_dim, layer, rule, seq))
    for head_dim, layer, rule, seq in shapes:
        window = 37 if layer == "sliding" else 0
        for case in range(3):
            rows = [random_types(rng, int(rng.integers(1, 300))) for _ in range(3)]
            layout = pfattn.Layout(rows)
            md = pfattn.build_metadata(layout, head_dim, rule, layer, window, seq_len=seq)
            hq, hkv = 4, 2
            q = torch.randn(layout.total_q, hq, head_dim, device="cuda").bfloat16()
            k = torch.randn(layout.total_kv, hkv, head_dim, device="cuda").bfloat16()
            v = torch.randn(layout.total_kv, hkv, head_dim, device="cuda").bfloat16()
            o = torch.full_like(q, float("nan"))
            scale = head_dim ** -0.5
            pfattn.launch(q, k, v, o, md.to("cuda"), scale=scale)
            torch.cuda.synchronize()
            ref = reference(q, k, v, layout, rule, layer, window, scale)
            err = ((o.float() - ref).norm() / ref.norm().clamp_min(1e-9)).item()
            ok = err < 1e-2 and not torch.isnan(o).any().item()
            failed += not ok
            cases += 1
            print("%s D=%d %s %s bucket %d case %d kernel %s: rel err %.2e" % (
                "ok  " if ok else "FAIL", head_dim, layer, rule, md.kernel["bucket"], case,
                md.kernel["name"], err))
    print("gpu_check: %d of %d cases passed" % (cases - failed, cases))
    return 1 if failed or not cases else 0


if __name__ == "__main__":
    sys.exit(main())
