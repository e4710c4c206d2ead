#!/bin/bash
# `pftune forward` for Gemma-4 on emu: gemma4-tiny (MoE, k_eq_v) and
# gemma4-tiny-dense run in seconds on text and image layouts, write logits of the
# documented shape and a forward.json with per-phase times (the MoE split:
# routing, expert GEMMs, combine; gemma4-tiny-ple's per-layer inputs), memory and the per-kind variants (full
# layers with their own head dim); a checkpoint runs on .npy inputs; the
# mask audit runs; bad models and inputs fail with one line naming the
# problem; image spans and the fixture's images run through the device
# vision side, and so do video frames (layout vFxN spans, the video
# fixture's .npy inputs); bad video inputs fail naming the field.
. "$(dirname "$0")/lib/common.sh" "$1"

npy_shape() { head -c 128 "$1" | tr -d '\0' | grep -o "'shape': ([0-9, ]*)"; }
expect_fail() { # pattern, args...
    local pat=$1
    shift
    if "$PFTUNE" forward "$@" >"$tmp/out" 2>"$tmp/err"; then
        echo "FAIL: forward $* succeeded"; fail=1; return
    fi
    [ "$(wc -l <"$tmp/err")" -eq 1 ] || { echo "FAIL: forward $*: not one line:"; cat "$tmp/err"; fail=1; }
    grep -q -- "$pat" "$tmp/err" || { echo "FAIL: forward $*: no '$pat' in:"; cat "$tmp/err"; fail=1; }
}
fixture="${PFTUNE_SOURCE_DIR:-$(dirname "$0")/../..}/tests/fixtures/hf-gemma4-moe"

"$PFTUNE" forward --model gemma4-tiny --layout 't20;t7,t5' --device emu --samples 1 --warmup 0 \
    --out "$tmp/moe" >"$tmp/moe.txt" || { echo "FAIL: gemma4-tiny run"; cat "$tmp/moe.txt"; fail=1; }
[ "$(npy_shape "$tmp/moe/logits.npy")" = "'shape': (2, 512)" ] ||
    { echo "FAIL: last-position logits shape: $(npy_shape "$tmp/moe/logits.npy")"; fail=1; }
python3 - "$tmp/moe/forward.json" <<'PY' || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
ph, layers = d["phases"], d["layers"]
ok = d["schema"] == "pftune.forward/1" and d["timer"] == "emu-host" and d["tokens"] == 32 \
    and d["model_family"] == "gemma4" and d["tokens_per_second"] > 0 \
    and all(ph["layers_moe_%s_ms" % k] > 0 for k in ("routing", "experts", "combine")) \
    and len(layers) == 4 and [l["kind"] for l in layers] == ["sliding", "full"] * 2 \
    and all(l["moe_experts_ms"] > 0 for l in layers) \
    and "HEAD_DIM=128" in d["attention_variants"]["full"] \
    and "HEAD_DIM=64" in d["attention_variants"]["sliding"] \
    and d["memory"]["peak_bytes"] >= d["memory"]["weights_bytes"] > 0
print("" if ok else "FAIL: gemma4-tiny forward.json: %s" % json.dumps(d)[:600])
sys.exit(0 if ok else 1)
PY
grep -q "moe routing" "$tmp/moe.txt" || { echo "FAIL: summary lacks the MoE split"; fail=1; }

"$PFTUNE" forward --model gemma4-tiny-dense --layout 't30;t7' --device emu --all-logits \
    --no-time --attn BLOCK_M=16,BLOCK_N=32,WARPS=1,MASK_STORAGE=dense --out "$tmp/dense" >/dev/null ||
    { echo "FAIL: gemma4-tiny-dense run"; fail=1; }
[ "$(npy_shape "$tmp/dense/logits.npy")" = "'shape': (37, 512)" ] ||
    { echo "FAIL: all-logits shape: $(npy_shape "$tmp/dense/logits.npy")"; fail=1; }
grep -q '"timed": false' "$tmp/dense/forward.json" || { echo "FAIL: --no-time not recorded"; fail=1; }
[ "$(grep -c 'MASK_STORAGE=dense' "$tmp/dense/forward.json")" -eq 2 ] ||
    { echo "FAIL: an unprefixed --attn sets both layer kinds"; fail=1; }
grep -q 'moe_' "$tmp/dense/forward.json" && { echo "FAIL: dense model reports MoE times"; fail=1; }

# the E2B/E4B extras (per-layer inputs, kv-shared layers): their own phase
"$PFTUNE" forward --model gemma4-tiny-ple --layout 't6,i12,t5;t9' --device emu --samples 1 \
    --warmup 0 --out "$tmp/ple" >"$tmp/ple.txt" || { echo "FAIL: gemma4-tiny-ple run"; cat "$tmp/ple.txt"; fail=1; }
python3 - "$tmp/ple/forward.json" <<'PY' || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
ok = d["phases"]["per_layer_inputs_ms"] > 0 and len(d["layers"]) == 6
print("" if ok else "FAIL: gemma4-tiny-ple forward.json: %s" % json.dumps(d)[:600])
sys.exit(0 if ok else 1)
PY
grep -q "per-layer inputs" "$tmp/ple.txt" || { echo "FAIL: summary lacks the per-layer inputs"; fail=1; }
grep -q 'per_layer_inputs_ms' "$tmp/dense/forward.json" &&
    { echo "FAIL: a model without per-layer inputs reports them"; fail=1; }

# mask audit (text only: nothing moves); a checkpoint on .npy text inputs
"$PFTUNE" forward --model gemma4-tiny --layout 't12;t9' --device emu --no-time --mask-audit \
    --out "$tmp/audit" >/dev/null || { echo "FAIL: --mask-audit run"; fail=1; }
python3 - "$tmp/audit/forward.json" <<'PY' || fail=1
import json, sys
a = json.load(open(sys.argv[1]))["mask_audit"]
ok = len(a["kl"]) == 21 and max(a["kl"]) == 0
print("" if ok else "FAIL: text-only mask audit %s" % a)
sys.exit(0 if ok else 1)
PY

# with images (layout image spans): vision positions move, text before the
# first image does not; the fixture's own .npy inputs with images run
"$PFTUNE" forward --model gemma4-tiny --layout 't6,i12,t5;t4,i16,t3' --device emu --no-time \
    --mask-audit --out "$tmp/audit2" >/dev/null || { echo "FAIL: --mask-audit with images"; fail=1; }
python3 - "$tmp/audit2/forward.json" <<'PY' || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
a = d["mask_audit"]
ok = d["images"] == 2 and a["vision"]["kl_mean"] > 1e-3 and \
    a["text_before_first_vision_kl_max"] == 0 and a["first_vision_position"] == 6
print("" if ok else "FAIL: mask audit with images %s" % {k: a[k] for k in a if k not in ("kl", "argmax_logprob_change")})
sys.exit(0 if ok else 1)
PY
"$PFTUNE" forward --model "$fixture" --inputs "$fixture" --device emu --samples 1 --warmup 0 \
    --out "$tmp/fx" >/dev/null 2>"$tmp/fx.err" || { echo "FAIL: fixture with images"; cat "$tmp/fx.err"; fail=1; }
grep -q '"vision_tower_ms"' "$tmp/fx/forward.json" || { echo "FAIL: no vision time"; fail=1; }

write_npy() { # path, descr, shape (python tuple), values (python list)
    python3 - "$@" <<'PY'
import struct, sys
path, descr, shape, values = sys.argv[1], sys.argv[2], eval(sys.argv[3]), eval(sys.argv[4])
hdr = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, repr(shape))
hdr += " " * (63 - (10 + len(hdr)) % 64) + "\n"
fmt = {"<i4": "i", "<i8": "q", "<f4": "f"}[descr]
with open(path, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
    f.write(struct.pack("<%d%s" % (len(values), fmt), *values))
PY
}
mkdir -p "$tmp/in1" "$tmp/in2" "$tmp/in3"
write_npy "$tmp/in1/input_ids.npy" '<i8' '(2, 9)' 'list(range(2, 20))'
write_npy "$tmp/in1/mm_token_type_ids.npy" '<i8' '(2, 9)' '[0] * 18'
"$PFTUNE" forward --model "$fixture" --inputs "$tmp/in1" --device emu --no-time --out "$tmp/ckpt" \
    >/dev/null 2>"$tmp/ckpt.err" || { echo "FAIL: checkpoint run"; cat "$tmp/ckpt.err"; fail=1; }
[ "$(npy_shape "$tmp/ckpt/logits.npy")" = "'shape': (2, 512)" ] ||
    { echo "FAIL: checkpoint logits shape: $(npy_shape "$tmp/ckpt/logits.npy")"; fail=1; }

# bad inputs, one line each
expect_fail "audio spans" --model gemma4-tiny --layout 't8,a12' --device emu --out "$tmp/x"
expect_fail "adjacent video spans" --model gemma4-tiny --layout 't8,v4,v4' --device emu --out "$tmp/x"
write_npy "$tmp/in2/input_ids.npy" '<i4' '(3,)' '[1, 9999, 2]'
expect_fail "outside the vocabulary" --model gemma4-tiny --inputs "$tmp/in2" --device emu --out "$tmp/x"
write_npy "$tmp/in3/input_ids.npy" '<i4' '(4,)' '[1, 2, 3, 4]'
write_npy "$tmp/in3/mm_token_type_ids.npy" '<i4' '(4,)' '[0, 3, 0, 0]'
expect_fail "audio" --model gemma4-tiny --inputs "$tmp/in3" --device emu --out "$tmp/x"
write_npy "$tmp/in3/mm_token_type_ids.npy" '<i4' '(4,)' '[0, 1, 0, 0]'
expect_fail "image tokens (type 1)" --model gemma4-tiny --inputs "$tmp/in3" --device emu --out "$tmp/x"
expect_fail "unknown model preset" --model gemma4-nope --layout t8 --device emu --out "$tmp/x"
expect_fail "cached prefix" --model gemma4-tiny --layout 't8|t8' --device emu --out "$tmp/x"
expect_fail "head dim 128" --model gemma4-tiny --layout t8 --attn full:BLOCK_M=7 --device emu --out "$tmp/x"
# video: layout frames (vFxN) with images, and the video fixture's .npy
# inputs; bad video inputs (copies of the fixture, one field changed)
"$PFTUNE" forward --model gemma4-tiny --layout 't6,i12,t3,v3x6,t4;t5,v4,t2' --device emu \
    --no-time --mask-audit --out "$tmp/vid" >/dev/null 2>"$tmp/vid.err" ||
    { echo "FAIL: layout with video"; cat "$tmp/vid.err"; fail=1; }
python3 - "$tmp/vid/forward.json" <<'PY' || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
a = d["mask_audit"]
ok = d["images"] == 1 and d["videos"] == 2 and d["video_frames"] == 4 and \
    a["vision"]["kl_mean"] > 1e-3 and a["first_vision_position"] == 6
print("" if ok else "FAIL: layout with video %s" % json.dumps(d)[:400])
sys.exit(0 if ok else 1)
PY
vfx="${PFTUNE_SOURCE_DIR:-$(dirname "$0")/../..}/tests/fixtures/hf-gemma4-video"
"$PFTUNE" forward --model "$vfx" --inputs "$vfx" --device emu --samples 1 --warmup 0 \
    --out "$tmp/vfx" >"$tmp/vfx.txt" 2>&1 || { echo "FAIL: video fixture"; cat "$tmp/vfx.txt"; fail=1; }
grep -q "1 video(s) of 3 frame(s)" "$tmp/vfx.txt" || { echo "FAIL: video summary"; cat "$tmp/vfx.txt"; fail=1; }
edit_npy() { # path, old value, new value: the first element equal to old becomes new
    python3 - "$@" <<'PY'
import struct, sys
path, old, new = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
raw = open(path, "rb").read()
off = 10 + struct.unpack("<H", raw[8:10])[0]
fmt = {"<i8": "q", "<i4": "i"}[raw[10:off].decode().split("'descr': '")[1][:3]]
n = (len(raw) - off) // struct.calcsize(fmt)
v = list(struct.unpack("<%d%s" % (n, fmt), raw[off:]))
v[v.index(old)] = new
open(path, "wb").write(raw[:off] + struct.pack("<%d%s" % (n, fmt), *v))
PY
}
bad_video() { # file, old, new, pattern: the fixture with one value changed fails naming it
    rm -rf "$tmp/bv" && cp -r "$vfx" "$tmp/bv" && edit_npy "$tmp/bv/$1" "$2" "$3"
    expect_fail "$4" --model "$vfx" --inputs "$tmp/bv" --device emu --out "$tmp/x"
}
bad_video input_ids.npy 508 5 "input_ids.npy: 17 video tokens (video_token_id 508), but the 3 frames give 18"
bad_video mm_token_type_ids.npy 2 0 "mm_token_type_ids.npy: 17 video tokens (type 2)"
bad_video num_frames_per_video.npy 3 2 "num_frames_per_video.npy: frames per video sum to 2"
bad_video video_position_ids.npy 5 64 "video_position_ids.npy: frame 0 patch 5: position (64, 0) is outside"
rm -rf "$tmp/bv" && cp -r "$vfx" "$tmp/bv" && rm "$tmp/bv/num_frames_per_video.npy"
expect_fail "num_frames_per_video.npy: missing" --model "$vfx" --inputs "$tmp/bv" --device emu --out "$tmp/x"
exit $fail
