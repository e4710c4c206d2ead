#!/usr/bin/env python3
"""Build the HF reference fixtures of the Gemma-3 forward (tests/fixtures/hf-gemma3-*).

Each fixture is a small random model saved by HF transformers (config.json +
model.safetensors, bf16), its inputs as .npy and HF's logits for every
position from an eager bf16 forward on the CPU. The C reference forward
(models/gemma3_ref_forward.c) is compared with them by
tests/unit/test_gemma3_ref_hf.c; the fixtures are committed, so the tests need
no torch. Regenerate (same seed, same files up to torch's CPU kernels) with the
venv of `tools/setup.sh --hf`:

    .hf-venv/bin/python tests/hf/make_reference.py [--out tests/fixtures]

hf-gemma3-mm:   Gemma3ForConditionalGeneration (SigLIP + projector + LM), one
                prompt with three images; logits with token_type_ids
                (bidirectional image groups) and without (plain causal).
hf-gemma3-text: Gemma3ForCausalLM (model_type gemma3_text) with the config
                rewritten in the older key form (sliding_window_pattern,
                rope_theta, rope_local_base_freq, rope_scaling), two requests.
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import transformers
from transformers import (Gemma3Config, Gemma3ForCausalLM, Gemma3ForConditionalGeneration,
                          Gemma3TextConfig, SiglipVisionConfig)

SEED = 20240917
VOCAB = 512
IMAGE, BOI, EOI = 511, 509, 510  # the gemma3-tiny preset's ids
BOS = 2


def randomize(model, seed):
    """Every parameter random and O(1)-preserving, so nothing HF computes is
    trivially an identity: Gemma RMSNorm weights w (the norm scales by 1+w),
    LayerNorm weights near 1 and biases, every Linear/conv weight."""
    g = torch.Generator().manual_seed(seed)

    def uni(shape, amp):
        return (torch.rand(shape, generator=g, dtype=torch.float64) * 2 - 1) * amp

    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            leaf = name.split(".")[-1]
            siglip_ln = ("layer_norm" in name or "post_layernorm" in name) and "vision" in name
            if siglip_ln and leaf == "weight":
                v = 1 + uni(p.shape, 0.3)
            elif leaf == "bias":
                v = uni(p.shape, 0.1)
            elif "norm" in name:  # Gemma RMSNorm (text, q/k norms, projector)
                v = uni(p.shape, 0.5)
            elif "embed_tokens" in name or "position_embedding" in name:
                v = uni(p.shape, 1.0)
            elif "mm_input_projection_weight" in name:  # x @ W: fan-in is dim 0
                v = uni(p.shape, math.sqrt(3.0 / p.shape[0]))
            else:  # Linear [out, in] or conv [out, C, P, P]: unit gain
                fan_in = p[0].numel()
                v = uni(p.shape, math.sqrt(3.0 / fan_in))
            p.copy_(v.to(p.dtype))


def hf_logits(model, **inputs):
    with torch.no_grad():
        out = model(**inputs, use_cache=False)
    return out.logits.float().reshape(-1, out.logits.shape[-1]).numpy()


def save_versions(d, extra):
    info = {"transformers": transformers.__version__, "torch": torch.__version__,
            "numpy": np.__version__, "seed": SEED, "script": "tests/hf/make_reference.py",
            "attn_implementation": "eager", "dtype": "bfloat16", "device": "cpu"}
    info.update(extra)
    with open(os.path.join(d, "versions.json"), "w") as f:
        json.dump(info, f, indent=2, sort_keys=True)
        f.write("\n")


def check_finite(name, logits):
    if not np.isfinite(logits).all():
        sys.exit(f"make_reference: {name}: logits are not finite")


def make_mm(root):
    d = os.path.join(root, "hf-gemma3-mm")
    os.makedirs(d, exist_ok=True)
    text = Gemma3TextConfig(
        vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=4,
        num_attention_heads=2, num_key_value_heads=1, head_dim=64, query_pre_attn_scalar=64,
        sliding_window=8,
        layer_types=["sliding_attention", "full_attention"] * 2,
        rope_parameters={"sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
                         "full_attention": {"rope_type": "linear", "factor": 2.0,
                                            "rope_theta": 1000000.0}},
        pad_token_id=0, bos_token_id=BOS, eos_token_id=1)
    vision = SiglipVisionConfig(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=1,
        num_channels=3, image_size=32, patch_size=4, layer_norm_eps=1e-6,
        hidden_act="gelu_pytorch_tanh", vision_use_head=False)
    cfg = Gemma3Config(text_config=text, vision_config=vision, mm_tokens_per_image=16,
                       image_token_index=IMAGE, boi_token_index=BOI, eoi_token_index=EOI)
    torch.manual_seed(SEED)
    model = Gemma3ForConditionalGeneration(cfg)
    randomize(model, SEED)
    model.to(torch.bfloat16).save_pretrained(d, safe_serialization=True)

    # One prompt: bos, text, three images (boi, 16 soft tokens, eoi), text
    # between; the window (8) is shorter than an image.
    rng = np.random.default_rng(SEED)
    text_ids = lambda n: list(rng.integers(3, BOI, size=n))
    image = [BOI] + [IMAGE] * 16 + [EOI]
    ids = [BOS] + text_ids(9) + image + text_ids(12) + image + text_ids(5) + image + text_ids(20)
    ids = np.array([ids], dtype=np.int64)
    tti = (ids == IMAGE).astype(np.int64)
    # like the processor's output: rescaled to [0, 1], normalized with mean
    # and std 0.5 to [-1, 1]; smooth content plus noise
    yy, xx = np.meshgrid(np.linspace(0, 1, 32), np.linspace(0, 1, 32), indexing="ij")
    pix = []
    for i in range(3):
        base = [0.5 + 0.4 * np.sin(2 * np.pi * (xx * (i + 1) + yy * c) + i) for c in range(3)]
        img = np.clip(np.stack(base) + 0.1 * rng.standard_normal((3, 32, 32)), 0, 1)
        pix.append((img - 0.5) / 0.5)
    pix = np.stack(pix).astype(np.float32)
    np.save(os.path.join(d, "input_ids.npy"), ids)
    np.save(os.path.join(d, "token_type_ids.npy"), tti)
    np.save(os.path.join(d, "pixel_values.npy"), pix)

    # the forward of what was saved, reloaded as any user would
    m = Gemma3ForConditionalGeneration.from_pretrained(d, dtype=torch.bfloat16,
                                                       attn_implementation="eager").eval()
    assert m.config.vision_config._attn_implementation == "eager"
    args = {"input_ids": torch.from_numpy(ids), "pixel_values": torch.from_numpy(pix)}
    with_tti = hf_logits(m, token_type_ids=torch.from_numpy(tti), **args)
    no_tti = hf_logits(m, **args)
    check_finite("hf-gemma3-mm", with_tti)
    check_finite("hf-gemma3-mm (no token_type_ids)", no_tti)
    np.save(os.path.join(d, "hf_logits.npy"), with_tti)
    np.save(os.path.join(d, "hf_logits_no_tti.npy"), no_tti)
    save_versions(d, {"model": "Gemma3ForConditionalGeneration", "tokens": int(ids.shape[1]),
                      "images": 3})
    return d


def make_text(root):
    d = os.path.join(root, "hf-gemma3-text")
    os.makedirs(d, exist_ok=True)
    # GQA 2, query_pre_attn_scalar != head_dim (a scale that is not a power
    # of two), window 16, linear factor 8 on full layers
    cfg = Gemma3TextConfig(
        vocab_size=VOCAB, hidden_size=64, intermediate_size=96, num_hidden_layers=4,
        num_attention_heads=4, num_key_value_heads=2, head_dim=64, query_pre_attn_scalar=48,
        sliding_window=16, sliding_window_pattern=2,
        rope_parameters={"sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
                         "full_attention": {"rope_type": "linear", "factor": 8.0,
                                            "rope_theta": 1000000.0}},
        pad_token_id=0, bos_token_id=BOS, eos_token_id=1)
    torch.manual_seed(SEED + 1)
    model = Gemma3ForCausalLM(cfg)
    randomize(model, SEED + 1)
    model.to(torch.bfloat16).save_pretrained(d, safe_serialization=True)
    rng = np.random.default_rng(SEED + 1)
    T = 48
    ids = np.concatenate([np.full((2, 1), BOS), rng.integers(3, VOCAB, size=(2, T - 1))], axis=1)
    ids = ids.astype(np.int64)
    np.save(os.path.join(d, "input_ids.npy"), ids)
    # the forward as saved (new config form), for the comparison below
    load = lambda: Gemma3ForCausalLM.from_pretrained(d, dtype=torch.bfloat16,
                                                     attn_implementation="eager").eval()
    m = load()
    want_types, want_rope = list(m.config.layer_types), m.config.rope_parameters
    want = hf_logits(m, input_ids=torch.from_numpy(ids))

    # Rewrite config.json in the older key form (transformers 5.x saves
    # layer_types and rope_parameters); HF must read it back identically.
    path = os.path.join(d, "config.json")
    with open(path) as f:
        c = json.load(f)
    # (5.24 also writes a private "_sliding_window_pattern", 6 unless the
    # config was built from the pattern; older HF never wrote it, and HF
    # ignores it on reading)
    del c["layer_types"], c["rope_parameters"], c["_sliding_window_pattern"]
    c["sliding_window_pattern"] = 2
    c["rope_theta"] = 1000000.0
    c["rope_local_base_freq"] = 10000.0
    c["rope_scaling"] = {"rope_type": "linear", "factor": 8.0}
    with open(path, "w") as f:
        json.dump(c, f, indent=2, sort_keys=True)
        f.write("\n")
    m = load()
    if list(m.config.layer_types) != want_types or m.config.rope_parameters != want_rope:
        sys.exit(f"make_reference: the older config form reads back as {m.config.layer_types} "
                 f"{m.config.rope_parameters}, want {want_types} {want_rope}")
    logits = hf_logits(m, input_ids=torch.from_numpy(ids))  # [2*T, vocab], rows concatenated
    if not np.array_equal(logits, want):
        sys.exit("make_reference: the older config form gives other logits than the new one")
    check_finite("hf-gemma3-text", logits)
    np.save(os.path.join(d, "hf_logits.npy"), logits)
    save_versions(d, {"model": "Gemma3ForCausalLM", "tokens_per_request": T, "requests": 2,
                      "config_form": "older keys (sliding_window_pattern, rope_theta, "
                                     "rope_local_base_freq, rope_scaling)"})
    return d


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "fixtures"))
    args = ap.parse_args()
    torch.set_num_threads(1)  # one summation order
    for d in (make_mm(args.out), make_text(args.out)):
        size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
        print(f"{os.path.relpath(d)}: {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
