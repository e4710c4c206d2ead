#!/usr/bin/env python3
"""The HF transformers peer of `pftune forward` (GPU bundle steps `forward`
and `forward4`): Gemma3ForConditionalGeneration or (gemma4-* presets)
Gemma4ForConditionalGeneration built from a config with a pftune preset's
sizes, random init in bf16 on the GPU (nothing is downloaded), attention
"sdpa", run on the same token layouts as pftune (the layout grammar of
`pftune forward --layout`: one request, spans tN / iN). Gemma-3: i spans are
whole images of mm_tokens_per_image tokens, with token_type_ids and random
pixel_values. Gemma-4: each maximal i span is one image of that many soft
tokens (pftune's gemma4_inputs_layout.c: the most nearly square pooled grid
times the pooling kernel, row-major patch positions, padding patches at
(-1, -1) up to the largest image), with mm_token_type_ids, patchified
pixel_values and image_position_ids. A transformers without Gemma-4
(no transformers.models.gemma4) exits 3 with that reason.

    peer_forward.py --layout 't682,i256,...' [--layout ...] --json OUT
                    [--model gemma3-4b] [--device cuda] [--warmup 1]
                    [--iters 3] [--deadline SECONDS] [--config-only]

Per layout: one untimed warm-up forward (more with --warmup), then --iters
timed forwards (torch.cuda events around the whole forward call, mask
construction included; logits of the last position only, as pftune's
default), median reported with tokens/s and torch.cuda.max_memory_allocated
(weights included, reset per layout). A layout whose predicted time (from the
previous layout, scaled by the square of the token ratio) does not fit what
is left of --deadline is reported "skipped"; an out-of-memory error "oom".
Exit 0 when every layout is ok, oom or skipped; 1 on any other error; 3
when torch with CUDA or transformers is missing (the bundle lists the peer
as skipped). Numbers come only from what ran."""
import argparse
import json
import re
import statistics
import sys
import time

# pftune's presets (models/gemma3_presets.c), the sizes HF's config needs
PRESETS = {
    "gemma3-4b": dict(
        text=dict(vocab_size=262208, hidden_size=2560, intermediate_size=10240,
                  num_hidden_layers=34, num_attention_heads=8, num_key_value_heads=4,
                  head_dim=256, query_pre_attn_scalar=256, sliding_window=1024,
                  pattern=6, rope_factor=8.0),
        vision=dict(hidden_size=1152, intermediate_size=4304, num_hidden_layers=27,
                    num_attention_heads=16, image_size=896, patch_size=14),
        mm_tokens_per_image=256, image_token_index=262144, boi_token_index=255999,
        eoi_token_index=256000),
    # pftune's gemma3-tiny (emu test model): for trying this script on a CPU
    "gemma3-tiny": dict(
        text=dict(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=4,
                  num_attention_heads=2, num_key_value_heads=1, head_dim=64,
                  query_pre_attn_scalar=64, sliding_window=8, pattern=2, rope_factor=2.0),
        vision=dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                    num_attention_heads=1, image_size=32, patch_size=4),
        mm_tokens_per_image=16, image_token_index=511, boi_token_index=509,
        eoi_token_index=510),
}

# pftune's Gemma-4 presets (models/gemma4_presets.c): released sizes, and the
# emu test model gemma4-tiny (for trying this script on a CPU)
G4_VISION_RELEASED = dict(hidden_size=1152, intermediate_size=4304, num_hidden_layers=27,
                          num_attention_heads=16, num_key_value_heads=16, head_dim=72,
                          patch_size=16, pooling_kernel_size=3, position_embedding_size=10240,
                          standardize=True, use_clipped_linears=False)
G4_IDS_RELEASED = dict(image_token_id=258880, video_token_id=258884, audio_token_id=258881,
                       boi_token_id=255999, eoi_token_id=258882)
G4_PRESETS = {
    "gemma4-26b-a4b": dict(
        text=dict(hidden_size=2816, intermediate_size=2112, num_hidden_layers=30,
                  num_attention_heads=16, num_key_value_heads=8, head_dim=256,
                  global_head_dim=512, num_global_key_value_heads=2, attention_k_eq_v=True,
                  sliding_window=1024, vocab_size=262144, pattern=6, enable_moe_block=True,
                  num_experts=128, top_k_experts=8, moe_intermediate_size=704),
        vision=G4_VISION_RELEASED, ids=G4_IDS_RELEASED),
    "gemma4-31b": dict(
        text=dict(hidden_size=5376, intermediate_size=21504, num_hidden_layers=60,
                  num_attention_heads=32, num_key_value_heads=16, head_dim=256,
                  global_head_dim=512, num_global_key_value_heads=4, attention_k_eq_v=True,
                  sliding_window=1024, vocab_size=262144, pattern=6),
        vision=G4_VISION_RELEASED, ids=G4_IDS_RELEASED),
    "gemma4-tiny": dict(
        text=dict(hidden_size=64, intermediate_size=128, num_hidden_layers=4,
                  num_attention_heads=2, num_key_value_heads=1, head_dim=64, global_head_dim=128,
                  num_global_key_value_heads=1, attention_k_eq_v=True, sliding_window=8,
                  vocab_size=512, pattern=2, enable_moe_block=True, num_experts=4,
                  top_k_experts=2, moe_intermediate_size=32),
        vision=dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                    num_attention_heads=1, num_key_value_heads=1, head_dim=64, patch_size=4,
                    pooling_kernel_size=2, position_embedding_size=64, standardize=True,
                    use_clipped_linears=False),
        ids=dict(image_token_id=507, video_token_id=508, audio_token_id=506, boi_token_id=509,
                 eoi_token_id=510)),
}


def g4_config_dict(name):
    """Gemma4Config keyword arguments for a preset (transformers 5 names; the
    RoPE parameters are Gemma-4's defaults: proportional 0.25 / 1e6 on full
    layers, 1e4 on sliding ones, as pftune's presets)."""
    p = G4_PRESETS[name]
    t = dict(p["text"])
    pattern = t.pop("pattern")
    n = t["num_hidden_layers"]
    t["layer_types"] = ["full_attention" if (i + 1) % pattern == 0 or i == n - 1
                        else "sliding_attention" for i in range(n)]
    t.update(rms_norm_eps=1e-6, final_logit_softcapping=30.0, hidden_size_per_layer_input=0,
             use_bidirectional_attention="vision", max_position_embeddings=131072)
    return dict(text_config=t, vision_config=dict(p["vision"]), **p["ids"])


def g4_grid(n):
    """A pooled grid of n soft tokens, as square as n allows: (rows, cols)."""
    a = 1
    d = 1
    while d * d <= n:
        if n % d == 0:
            a = d
        d += 1
    return a, n // a


def config_dict(name):
    """Gemma3Config keyword arguments for a preset (transformers 5 names)."""
    p = PRESETS[name]
    t = dict(p["text"])
    pattern, factor = t.pop("pattern"), t.pop("rope_factor")
    t["layer_types"] = ["full_attention" if (i + 1) % pattern == 0 else "sliding_attention"
                        for i in range(t["num_hidden_layers"])]
    t["rope_parameters"] = {
        "full_attention": {"rope_type": "linear", "factor": factor, "rope_theta": 1e6},
        "sliding_attention": {"rope_type": "default", "rope_theta": 1e4},
    }
    t.update(rms_norm_eps=1e-6, hidden_activation="gelu_pytorch_tanh",
             max_position_embeddings=131072)
    v = dict(p["vision"], layer_norm_eps=1e-6, vision_use_head=False)
    return dict(text_config=t, vision_config=v, mm_tokens_per_image=p["mm_tokens_per_image"],
                image_token_index=p["image_token_index"], boi_token_index=p["boi_token_index"],
                eoi_token_index=p["eoi_token_index"])


SPAN = re.compile(r"^([ti])(\d+)$")


def parse_layout_g4(spec):
    """'t8,i256,t8' -> token types (0 text, 1 image) and each image's soft
    token count (a maximal i run is one image)."""
    if ";" in spec or "|" in spec:
        raise ValueError("layout %r: one request without a cached prefix only" % spec)
    types = []
    for part in spec.split(","):
        m = SPAN.match(part.strip())
        if not m or int(m.group(2)) <= 0:
            raise ValueError("layout %r: bad span %r (want tN or iN)" % (spec, part))
        types += [1 if m.group(1) == "i" else 0] * int(m.group(2))
    images, run = [], 0
    for t in types + [0]:
        if t:
            run += 1
        elif run:
            images.append(run)
            run = 0
    return types, images


def g4_inputs(config, types, images, g, torch):
    """input_ids, mm_token_type_ids, pixel_values [n, max_patches, 3 p^2] in
    [0, 1) and image_position_ids [n, max_patches, 2] (x, y; padding -1)."""
    v = config.vision_config
    k, patch = v.pooling_kernel_size, v.patch_size
    n = len(types)
    tt = torch.tensor([types], dtype=torch.long)
    ids = torch.randint(1, config.boi_token_id, (1, n), generator=g)
    ids = torch.where(tt == 1, config.image_token_id, ids)
    out = dict(input_ids=ids, mm_token_type_ids=tt, attention_mask=torch.ones(1, n, dtype=torch.long))
    if images:
        grids = [g4_grid(s) for s in images]
        maxp = max(a * k * b * k for a, b in grids)
        pix = torch.zeros(len(images), maxp, 3 * patch * patch)
        pos = torch.full((len(images), maxp, 2), -1, dtype=torch.long)
        for i, (a, b) in enumerate(grids):
            hp, wp = a * k, b * k
            valid = hp * wp
            pix[i, :valid] = torch.rand(valid, 3 * patch * patch, generator=g)
            r = torch.arange(valid)
            pos[i, :valid, 0] = r % wp
            pos[i, :valid, 1] = r // wp
        out.update(pixel_values=pix.to(torch.bfloat16), image_position_ids=pos)
    return out


def parse_layout(spec, mm_tokens):
    """'t8,i256,t8' -> token types (0 text, 1 image) and the image count."""
    if ";" in spec or "|" in spec:
        raise ValueError("layout %r: one request without a cached prefix only" % spec)
    types = []
    for part in spec.split(","):
        m = SPAN.match(part.strip())
        if not m or int(m.group(2)) <= 0:
            raise ValueError("layout %r: bad span %r (want tN or iN)" % (spec, part))
        types += [1 if m.group(1) == "i" else 0] * int(m.group(2))
    n_image_tokens = sum(types)
    # image spans are whole images; adjacent image spans are one group (HF)
    run = 0
    for t in types + [0]:
        if t:
            run += 1
        elif run:
            if run % mm_tokens:
                raise ValueError("layout %r: an image span of %d tokens is not a whole number "
                                 "of images of %d tokens" % (spec, run, mm_tokens))
            run = 0
    return types, n_image_tokens // mm_tokens


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--layout", action="append", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--model", default="gemma3-4b", choices=sorted(PRESETS) + sorted(G4_PRESETS))
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--deadline", type=float, default=0, help="seconds from start (0: none)")
    ap.add_argument("--config-only", action="store_true",
                    help="build the HF config and parse the layouts, then stop (no torch needed)")
    a = ap.parse_args()
    t_start = time.time()
    g4 = a.model in G4_PRESETS
    layouts = []
    for spec in a.layout:
        try:
            if g4:
                types, images = parse_layout_g4(spec)
                layouts.append((spec, types, len(images), images))
            else:
                layouts.append((spec,) + parse_layout(spec, PRESETS[a.model]["mm_tokens_per_image"])
                               + (None,))
        except ValueError as e:
            print("peer_forward: %s" % e, file=sys.stderr)
            return 2
    doc = {"schema": "pftune.peer-forward", "version": 1, "model": a.model,
           "weights": "random init (transformers), bf16", "attn_implementation": "sdpa",
           "warmup": a.warmup, "iters": a.iters, "records": []}

    def write():
        with open(a.json, "w") as f:
            json.dump(doc, f, indent=1)

    try:
        import transformers
    except Exception as e:  # noqa: BLE001
        doc["error"] = "transformers unavailable: %s" % e
        print("peer_forward: %s" % doc["error"])
        write()
        return 3
    doc["transformers"] = transformers.__version__
    try:
        if g4:
            import transformers.models.gemma4  # noqa: F401
            from transformers import Gemma4Config as Config, Gemma4ForConditionalGeneration as Model
        else:
            from transformers import Gemma3Config as Config, Gemma3ForConditionalGeneration as Model
    except Exception as e:  # noqa: BLE001
        doc["error"] = "transformers %s has no %s: %s" % (
            transformers.__version__, "Gemma-4" if g4 else "Gemma-3", e)
        print("peer_forward: %s" % doc["error"])
        write()
        return 3
    config = Config(**(g4_config_dict(a.model) if g4 else config_dict(a.model)))
    if a.config_only:
        doc["config"] = {"layers": config.text_config.num_hidden_layers,
                         "layer_types": config.text_config.layer_types}
        if not g4:
            doc["config"]["vision_image_size"] = config.vision_config.image_size
        for spec, types, n_img, _ in layouts:
            print("layout %d tokens, %d images: ok" % (len(types), n_img))
        write()
        return 0
    try:
        import torch
    except Exception as e:  # noqa: BLE001
        doc["error"] = "torch unavailable: %s" % e
        print("peer_forward: %s" % doc["error"])
        write()
        return 3
    doc["torch"] = torch.__version__
    cuda = a.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        doc["error"] = "torch sees no CUDA device"
        print("peer_forward: %s" % doc["error"])
        write()
        return 3
    dev = torch.device(a.device)
    doc["device"] = torch.cuda.get_device_name(dev) if cuda else a.device
    torch.manual_seed(a.seed)

    t0 = time.time()
    with torch.device(dev):
        model = Model._from_config(
            config, attn_implementation="sdpa", dtype=torch.bfloat16)
    model.eval()
    if cuda:
        torch.cuda.synchronize(dev)
    doc["init_s"] = round(time.time() - t0, 2)
    doc["parameters"] = sum(x.numel() for x in model.parameters())
    doc["weights_bytes"] = sum(x.numel() * x.element_size() for x in model.parameters())
    print("model %s: %.2fB parameters, init %.1f s (transformers %s, torch %s)" % (
        a.model, doc["parameters"] / 1e9, doc["init_s"], doc["transformers"], doc["torch"]))
    write()

    vision = config.vision_config
    prev = None  # (tokens, seconds of the last layout's forwards)
    failed = 0
    for spec, types, n_img, g4_images in layouts:
        n = len(types)
        rec = {"layout": spec, "tokens": n, "images": n_img}
        doc["records"].append(rec)
        left = a.deadline - (time.time() - t_start) if a.deadline else None
        if left is not None and prev:
            predicted = prev[1] * (n / prev[0]) ** 2
            if predicted > left:
                rec.update(status="skipped", reason="predicted %.0f s > %.0f s left" % (predicted, left))
                print("%d tokens: skipped (%s)" % (n, rec["reason"]))
                write()
                continue
        g = torch.Generator(device="cpu").manual_seed(a.seed)
        if g4:
            inputs = {k: v.to(dev) for k, v in g4_inputs(config, types, g4_images, g, torch).items()}
        else:
            tt = torch.tensor([types], dtype=torch.long)
            ids = torch.randint(0, config.boi_token_index, (1, n), generator=g)
            ids = torch.where(tt == 1, config.image_token_index, ids)
            inputs = dict(input_ids=ids.to(dev), token_type_ids=tt.to(dev),
                          attention_mask=torch.ones(1, n, dtype=torch.long, device=dev))
            if n_img:
                inputs["pixel_values"] = (torch.rand(n_img, 3, vision.image_size, vision.image_size,
                                                     generator=g) * 2 - 1).to(dev, torch.bfloat16)
        t_layout = time.time()
        try:
            if cuda:
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats(dev)
            times = []
            with torch.inference_mode():
                for i in range(a.warmup + a.iters):
                    if cuda:
                        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                        e0.record()
                        out = model(**inputs, use_cache=False, logits_to_keep=1)
                        e1.record()
                        torch.cuda.synchronize(dev)
                        ms = e0.elapsed_time(e1)
                    else:
                        c0 = time.perf_counter()
                        out = model(**inputs, use_cache=False, logits_to_keep=1)
                        ms = (time.perf_counter() - c0) * 1e3
                    if not torch.isfinite(out.logits.float()).all():
                        raise RuntimeError("non-finite logits")
                    del out
                    if i >= a.warmup:
                        times.append(ms)
            med = statistics.median(times)
            rec.update(status="ok", ms=round(med, 3), samples_ms=[round(x, 3) for x in times],
                       tokens_per_second=round(n / (med / 1e3), 1),
                       timer="cuda-events" if cuda else "host")
            if cuda:
                rec["max_memory_allocated"] = torch.cuda.max_memory_allocated(dev)
            print("%d tokens, %d images: %.2f ms median of %d, %.0f tokens/s, peak %.2f GiB" % (
                n, n_img, med, len(times), rec["tokens_per_second"],
                rec.get("max_memory_allocated", 0) / 2**30))
        except torch.cuda.OutOfMemoryError as e:
            rec.update(status="oom", error=str(e).splitlines()[0][:300])
            print("%d tokens: out of memory (%s)" % (n, rec["error"]))
        except Exception as e:  # noqa: BLE001
            if "out of memory" in str(e).lower():
                rec.update(status="oom", error=str(e).splitlines()[0][:300])
                print("%d tokens: out of memory (%s)" % (n, rec["error"]))
            else:
                rec.update(status="error", error="%s: %s" % (type(e).__name__, str(e)[:300]))
                print("%d tokens: FAILED %s" % (n, rec["error"]))
                failed += 1
        inputs = None
        prev = (n, time.time() - t_layout)
        write()
    write()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
