#!/bin/bash
# `pftune forward` on emu: the tiny presets run in seconds, write logits of
# the documented shape and a forward.json with per-phase times (labelled
# emu-host) and memory; bad models and inputs fail with one line naming the
# problem.
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

"$PFTUNE" forward --model gemma3-tiny --layout 't8,i16,t8;t5,i32,t3' --device emu \
    --samples 1 --warmup 0 --out "$tmp/mm" >"$tmp/mm.txt" || { echo "FAIL: multimodal run"; cat "$tmp/mm.txt"; fail=1; }
[ "$(npy_shape "$tmp/mm/logits.npy")" = "'shape': (2, 512)" ] ||
    { echo "FAIL: last-position logits shape: $(npy_shape "$tmp/mm/logits.npy")"; fail=1; }
sed -n 2p "$tmp/mm/forward.json" | grep -qxF '  "schema": "pftune.forward/1",' ||
    { echo "FAIL: forward.json schema"; fail=1; }
for key in '"timer": "emu-host"' '"images": 3' '"tokens": 72' '"vision_tower_ms"' \
    '"attention_ms"' '"mask_metadata_bytes"' '"tokens_per_second"'; do
    grep -qF "$key" "$tmp/mm/forward.json" || { echo "FAIL: forward.json lacks $key"; fail=1; }
done
grep -q "emu-host" "$tmp/mm.txt" || { echo "FAIL: summary does not label the timer"; fail=1; }

"$PFTUNE" forward --model gemma3-tiny-text --layout 't30;t7' --device emu --all-logits \
    --no-time --out "$tmp/txt" >/dev/null || { echo "FAIL: text-only run"; fail=1; }
[ "$(npy_shape "$tmp/txt/logits.npy")" = "'shape': (37, 512)" ] ||
    { echo "FAIL: all-logits shape: $(npy_shape "$tmp/txt/logits.npy")"; fail=1; }
grep -q '"timed": false' "$tmp/txt/forward.json" || { echo "FAIL: --no-time not recorded"; fail=1; }

# the same seeds give the same logits; another variant of the family agrees closely
"$PFTUNE" forward --model gemma3-tiny-text --layout 't30;t7' --device emu --all-logits \
    --no-time --attn BLOCK_M=16,BLOCK_N=32,WARPS=1,MASK_STORAGE=dense --out "$tmp/txt2" >/dev/null ||
    { echo "FAIL: --attn run"; fail=1; }
grep -q 'MASK_STORAGE=dense' "$tmp/txt2/forward.json" || { echo "FAIL: --attn not applied"; fail=1; }

# mask audit: vision positions move, text before the first image does not
"$PFTUNE" forward --model gemma3-tiny --layout 't8,i16,t8' --device emu --no-time --mask-audit \
    --out "$tmp/audit" >"$tmp/audit.txt" || { echo "FAIL: --mask-audit run"; fail=1; }
python3 - "$tmp/audit/forward.json" <<'PY' || fail=1
import json, sys
a = json.load(open(sys.argv[1]))["mask_audit"]
ok = a["vision"]["kl_mean"] > 1e-3 and a["text_before_first_vision_kl_max"] == 0 \
    and a["first_vision_position"] == 8 and len(a["kl"]) == 32
print("" if ok else "FAIL: mask audit %s" % {k: a[k] for k in a if k not in ("kl", "argmax_logprob_change")})
sys.exit(0 if ok else 1)
PY
expect_fail "no token_type_ids" --model gemma3-tiny-text --layout t8 --mask-audit --device emu --out "$tmp/x"

# HF-style --inputs with bad contents (written by the stdlib: no numpy here)
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
mkdir -p "$tmp/in1" "$tmp/in2"
# 16 image tokens (id 511 in gemma3-tiny) but pixel values for 2 images
write_npy "$tmp/in1/input_ids.npy" '<i8' '(1, 20)' '[5, 6] + [511] * 16 + [7, 8]'
write_npy "$tmp/in1/token_type_ids.npy" '<i8' '(1, 20)' '[0, 0] + [1] * 16 + [0, 0]'
write_npy "$tmp/in1/pixel_values.npy" '<f4' '(2, 3, 32, 32)' '[0.5] * (2 * 3 * 32 * 32)'
expect_fail "16 image tokens (id 511), but 2 images" --model gemma3-tiny --inputs "$tmp/in1" --device emu --out "$tmp/x"
# images of the wrong size for the config (image_size 32)
cp "$tmp/in1/input_ids.npy" "$tmp/in1/token_type_ids.npy" "$tmp/in2/"
write_npy "$tmp/in2/pixel_values.npy" '<f4' '(1, 3, 16, 16)' '[0.5] * (3 * 16 * 16)'
expect_fail "image_size 32" --model gemma3-tiny --inputs "$tmp/in2" --device emu --out "$tmp/x"
# token_type_ids of another shape; a token id outside the vocabulary
write_npy "$tmp/in2/token_type_ids.npy" '<i8' '(20,)' '[0] * 20'
expect_fail "token_type_ids.npy: shape disagrees" --model gemma3-tiny --inputs "$tmp/in2" --device emu --out "$tmp/x"
write_npy "$tmp/in2/input_ids.npy" '<i4' '(3,)' '[1, 9999, 2]'
rm "$tmp/in2/token_type_ids.npy" "$tmp/in2/pixel_values.npy"
expect_fail "outside the vocabulary" --model gemma3-tiny-text --inputs "$tmp/in2" --device emu --out "$tmp/x"

: >"$tmp/afile"
expect_fail "not a directory" --model gemma3-tiny --layout t8 --device emu --no-time --out "$tmp/afile"
expect_fail "unknown model preset" --model nope --layout t8 --device emu --out "$tmp/x"
expect_fail "whole number of images" --model gemma3-tiny --layout 't8,i10,t8' --device emu --out "$tmp/x"
expect_fail "text-only" --model gemma3-tiny-text --layout 't8,i16' --device emu --out "$tmp/x"
expect_fail "cached prefix" --model gemma3-tiny --layout 't8|t8' --device emu --out "$tmp/x"
expect_fail "input_ids.npy: missing" --model gemma3-tiny --inputs "$tmp" --device emu --out "$tmp/x"
expect_fail "exactly one of" --model gemma3-tiny --device emu --out "$tmp/x"
expect_fail "--attn" --model gemma3-tiny --layout t8 --attn BLOCK_M=7 --device emu --out "$tmp/x"
exit $fail
