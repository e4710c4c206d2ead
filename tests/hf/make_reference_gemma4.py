#!/usr/bin/env python3
"""Ground truth for the Gemma-4 forward: small random Gemma4ForConditionalGeneration
models built with HF transformers (CPU, bf16, eager attention) and HF's logits
for every position, with and without mm_token_type_ids.

    /work/hf-venv/bin/python tests/hf/make_reference_gemma4.py [OUT_ROOT] [--only NAME,...] [--video]

writes OUT_ROOT/hf-gemma4-{moe,dense,ple,ple-vision,video}/ (default
tests/fixtures/; --only moe,dense,ple,ple-vision,video picks some; --video
is --only video), each with config.json, model.safetensors (bf16),
input_ids.npy, mm_token_type_ids.npy, pixel_values.npy,
image_position_ids.npy, hf_logits.npy, hf_logits_no_mm.npy, versions.json.
video: hf-gemma4-video/, the dense model
(its own seed) on two images and one video of three frames (one frame
grid, padded to a max_patches other than the images'), placed as the
processor does (per frame: a timestamp, boi, video tokens, eoi; the second
image after the video, so image and video soft tokens interleave by
position but not by scatter order), plus pixel_values_videos.npy,
video_position_ids.npy and num_frames_per_video.npy.

moe:   MoE (4 experts, top 2) + attention_k_eq_v on full layers, vision head
       dim 64, no clipping.
dense: dense MLP, k_eq_v off (full layers have v_proj), vision head dim 72
       with use_clipped_linears (bounds set so that clipping happens).
ple:   the E2B/E4B extras on the dense model: per-layer inputs
       (hidden_size_per_layer_input 16), 6 layers of which the last 2 are
       kv-shared (reusing layers 2 and 3), double-wide MLP there, and
       use_bidirectional_attention None as the small released models: every
       layer causal, image tokens included (both logits files agree).
ple-vision: the same with use_bidirectional_attention "vision" (the masks
       of the large models; kv-shared layers keep their own kind's mask).
Logits come from the saved checkpoint reloaded with from_pretrained (bf16),
as users run it (RoPE inv_freq in fp32).
All: sliding window 8 (shorter than the 15-token image), softcap 30,
use_bidirectional_attention "vision" (but ple), standardize, every weight, norm, scale
and buffer randomized, three images of different patch grids padded to one
max_patches (padding patches at (-1, -1) with zero pixels).
"""
import json
import os
import platform
import sys

import numpy as np
import torch
import transformers
from transformers import Gemma4Config, Gemma4ForConditionalGeneration

SEED = 1234
VOCAB = 512
IMAGE, VIDEO, AUDIO, BOI, EOI = 507, 508, 506, 509, 510
PATCH, POOL = 4, 2
MAX_SOFT = 16                      # soft tokens per image the inputs are padded to
MAX_PATCHES = MAX_SOFT * POOL * POOL
GRIDS = [(8, 6), (4, 4), (6, 10)]  # (Wp, Hp) patches: 12, 4 and 15 soft tokens
# --video: two images, then one video of FRAMES frames of FRAME_GRID patches
# (6 soft tokens each), padded to VIDEO_MAX_PATCHES (10 soft tokens)
VIDEO_GRIDS = [(6, 4), (4, 8)]
FRAMES, FRAME_GRID, VIDEO_MAX_PATCHES = 3, (6, 4), 40


def text_config(moe, ple=None):
    if ple:
        tc = text_config(False)
        tc.update(num_hidden_layers=6, layer_types=["sliding_attention", "full_attention"] * 3,
                  hidden_size_per_layer_input=16, vocab_size_per_layer_input=VOCAB,
                  num_kv_shared_layers=2, use_double_wide_mlp=True,
                  use_bidirectional_attention="vision" if ple == "ple-vision" else None)
        return tc
    tc = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=4,
              num_attention_heads=2, num_key_value_heads=1, head_dim=64,
              global_head_dim=128, sliding_window=8, vocab_size=VOCAB,
              hidden_size_per_layer_input=0, final_logit_softcapping=30.0,
              use_bidirectional_attention="vision",
              layer_types=["sliding_attention", "full_attention"] * 2)
    if moe:
        tc.update(attention_k_eq_v=True, num_global_key_value_heads=1, enable_moe_block=True,
                  num_experts=4, top_k_experts=2, moe_intermediate_size=32)
    else:
        tc.update(attention_k_eq_v=False)
    return tc


def vision_config(moe):
    hd = 64 if moe else 72
    return dict(hidden_size=hd, intermediate_size=128, num_hidden_layers=2,
                num_attention_heads=1, num_key_value_heads=1, head_dim=hd,
                patch_size=PATCH, pooling_kernel_size=POOL, position_embedding_size=64,
                standardize=True, use_clipped_linears=not moe)


def randomize(model, g):
    """Every parameter and persistent buffer, drawn so activations stay finite."""
    state = model.state_dict()
    for name, t in state.items():
        shape = t.shape
        def u(lo, hi):
            return lo + (hi - lo) * torch.rand(shape, generator=g)
        if name.endswith("input_min") or name.endswith("output_min"):
            v = -u(1.0, 3.0)
        elif name.endswith("input_max") or name.endswith("output_max"):
            v = u(1.0, 3.0)
        elif name.endswith("layer_scalar") or name.endswith("per_expert_scale"):
            v = u(0.5, 1.5)
        elif name.endswith("std_bias"):
            v = 0.1 * torch.randn(shape, generator=g)
        elif name.endswith("position_embedding_table"):
            v = 0.5 * torch.randn(shape, generator=g)
        elif "embed_tokens" in name:
            v = torch.randn(shape, generator=g)
        elif name.endswith("router.proj.weight"):
            # router logits of order 1 (not 0.1): routing far from ties, so a
            # one-ulp difference upstream does not flip an expert choice
            v = 16.0 * torch.randn(shape, generator=g) / shape[-1] ** 0.5
        elif name.endswith("q_norm.weight") or name.endswith("k_norm.weight"):
            # Gemma-4 scores q.k at scale 1.0 after these norms: weights near
            # d^-1/4 keep the scores of order 1, as trained ones do. Near 1
            # they reach ~sqrt(d) and the softmax turns so sharp that HF's own
            # eager and sdpa paths disagree by 30%: no parity test could pass.
            v = shape[-1] ** -0.25 * (1.0 + 0.2 * torch.randn(shape, generator=g))
        elif len(shape) == 1:  # norms (x*w), router.scale, std_scale
            v = 1.0 + 0.2 * torch.randn(shape, generator=g)
        else:                  # linears and expert stacks: fan_in is the last dim
            v = torch.randn(shape, generator=g) / shape[-1] ** 0.5
        state[name] = v.to(t.dtype)
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected, unexpected


def patches(g, grids, max_patches):
    """Pixels and row-major positions per grid, padded with (-1, -1) and zeros."""
    n = len(grids)
    pix = np.zeros((n, max_patches, 3 * PATCH * PATCH), np.float32)
    pos = np.full((n, max_patches, 2), -1, np.int64)
    tokens = []
    for i, (wp, hp) in enumerate(grids):
        valid = wp * hp
        pix[i, :valid] = torch.rand((valid, 3 * PATCH * PATCH), generator=g).numpy()
        ys, xs = np.divmod(np.arange(valid), wp)  # row-major
        pos[i, :valid, 0] = xs
        pos[i, :valid, 1] = ys
        tokens.append((wp // POOL) * (hp // POOL))
    return pix, pos, tokens


def make_video_inputs(g):
    """Image 0, a video (per frame: timestamp, boi, video tokens, eoi, as
    Gemma4Processor writes it), image 1, text between."""
    pix, pos, itok = patches(g, VIDEO_GRIDS, MAX_PATCHES)
    vpix, vpos, vtok = patches(g, [FRAME_GRID] * FRAMES, VIDEO_MAX_PATCHES)

    def text(k):
        return torch.randint(1, 500, (k,), generator=g).tolist()

    ids = text(4) + [BOI] + [IMAGE] * itok[0] + [EOI] + text(3)
    for t in vtok:
        ids += text(2) + [BOI] + [VIDEO] * t + [EOI]
    ids += text(3) + [BOI] + [IMAGE] * itok[1] + [EOI] + text(4)
    ids = np.array([ids], np.int64)
    mm = (ids == IMAGE).astype(np.int64) + 2 * (ids == VIDEO).astype(np.int64)
    return ids, mm, pix, pos, vpix, vpos, np.array([FRAMES], np.int64)


def make_inputs(g):
    pix, pos, tokens = patches(g, GRIDS, MAX_PATCHES)

    def text(k):
        return torch.randint(1, 500, (k,), generator=g).tolist()

    ids = text(5)
    for i, t in enumerate(tokens):
        ids += [BOI] + [IMAGE] * t + [EOI] + text(4 + i)
    ids = np.array([ids], np.int64)
    mm = (ids == IMAGE).astype(np.int64)
    return ids, mm, pix, pos


def build(out, moe, ple=None, video=False):
    g = torch.Generator().manual_seed(SEED + (3 if ple == "ple-vision" else 2 if ple else
                                              (0 if moe else 1) + (2 if video else 0)))
    cfg = Gemma4Config(text_config=text_config(moe, ple), vision_config=vision_config(moe),
                       image_token_id=IMAGE, video_token_id=VIDEO, audio_token_id=AUDIO,
                       boi_token_id=BOI, eoi_token_id=EOI)
    cfg._attn_implementation = "eager"
    model = Gemma4ForConditionalGeneration(cfg).eval()
    randomize(model, g)
    model = model.to(torch.bfloat16)
    model.config._attn_implementation = "eager"
    for sub in (model.config.text_config, model.config.vision_config):
        sub._attn_implementation = "eager"
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out)
    for f in os.listdir(out):
        if f not in ("config.json", "model.safetensors"):
            os.remove(os.path.join(out, f))

    if video:
        ids, mm, pix, pos, vpix, vpos, nfr = make_video_inputs(g)
    else:
        ids, mm, pix, pos = make_inputs(g)
    # Run the model as users load it: from_pretrained in bf16. The model built
    # above in fp32 and cast with .to(bf16) also cast its non-persistent RoPE
    # inv_freq buffers to bf16, which from_pretrained keeps in fp32 (0.3
    # relative difference in the logits of these models).
    model = Gemma4ForConditionalGeneration.from_pretrained(
        out, dtype=torch.bfloat16, attn_implementation="eager").eval()
    args = dict(input_ids=torch.from_numpy(ids),
                pixel_values=torch.from_numpy(pix).to(torch.bfloat16),
                image_position_ids=torch.from_numpy(pos))
    if video:
        args.update(pixel_values_videos=torch.from_numpy(vpix).to(torch.bfloat16),
                     video_position_ids=torch.from_numpy(vpos),
                     num_frames_per_video=torch.from_numpy(nfr))
    with torch.no_grad():
        logits = model(**args, mm_token_type_ids=torch.from_numpy(mm)).logits
        logits_no_mm = model(**args).logits
    np.save(os.path.join(out, "input_ids.npy"), ids)
    np.save(os.path.join(out, "mm_token_type_ids.npy"), mm)
    np.save(os.path.join(out, "pixel_values.npy"), pix)
    np.save(os.path.join(out, "image_position_ids.npy"), pos)
    if video:
        np.save(os.path.join(out, "pixel_values_videos.npy"), vpix)
        np.save(os.path.join(out, "video_position_ids.npy"), vpos)
        np.save(os.path.join(out, "num_frames_per_video.npy"), nfr)
    np.save(os.path.join(out, "hf_logits.npy"), logits.float().numpy()[0])
    np.save(os.path.join(out, "hf_logits_no_mm.npy"), logits_no_mm.float().numpy()[0])
    a, b = logits.float(), logits_no_mm.float()
    versions = dict(
        transformers=transformers.__version__, torch=torch.__version__, numpy=np.__version__,
        python=platform.python_version(), dtype="bfloat16", device="cpu",
        attn_implementation=model.config.text_config._attn_implementation,
        experts_implementation=getattr(model.config.text_config, "_experts_implementation", None),
        seed=SEED, generator=os.path.relpath(__file__, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
        tokens=int(ids.shape[1]), images=len(VIDEO_GRIDS if video else GRIDS),
        grids_wp_hp=VIDEO_GRIDS if video else GRIDS, max_patches=MAX_PATCHES,
        rel_frobenius_mm_vs_no_mm=float((a - b).norm() / a.norm()))
    if video:
        versions.update(num_frames_per_video=[FRAMES], frame_grid_wp_hp=FRAME_GRID,
                        video_max_patches=VIDEO_MAX_PATCHES)
    with open(os.path.join(out, "versions.json"), "w") as f:
        json.dump(versions, f, indent=2)
        f.write("\n")
    print(out, "tokens", ids.shape[1], "rel(mm vs no mm) %.4f" % versions["rel_frobenius_mm_vs_no_mm"])


def main():
    root = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
    only = ["moe", "dense", "ple", "ple-vision", "video"]
    if "--video" in sys.argv:
        only = ["video"]
    if "--only" in sys.argv:
        only = sys.argv[sys.argv.index("--only") + 1].split(",")
    torch.manual_seed(SEED)
    if "moe" in only:
        build(os.path.join(root, "hf-gemma4-moe"), moe=True)
    if "dense" in only:
        build(os.path.join(root, "hf-gemma4-dense"), moe=False)
    for ple in ("ple", "ple-vision"):
        if ple in only:
            build(os.path.join(root, "hf-gemma4-" + ple), moe=False, ple=ple)
    if "video" in only:  # seeds as before the fixtures shared one script
        build(os.path.join(root, "hf-gemma4-video"), moe=False, video=True)


if __name__ == "__main__":
    main()
