# Sourced by the tests of sharded sweeps (tune --slurm, the Slurm cluster).

# tiny_profile FILE SEED [MEASURE]: an emu profile of 16 points, 2 lengths x
# (BLOCK_M 32/64 x WARPS 2/4 x 2 storages), of which BLOCK_M=32,WARPS=4 (8
# rows a warp) is pruned by the constraint: 12 candidates, 4 pruned.
tiny_profile() {
    local measure=${3:-'{"warmup": 0, "min_samples": 2, "max_samples": 2, "flush_l2": false}'}
    cat >"$1" <<JSON
{
  "family": "attention",
  "model": "test-tiny",
  "seq_lens": [40, 72],
  "layers": ["full"],
  "workload": {"images": {"tokens": 16, "every": 24}},
  "axes": {"BLOCK_M": [32, 64], "BLOCK_N": [32], "WARPS": [2, 4], "STAGES": [1],
           "MASK_STORAGE": ["spans", "bitmap"], "INDPTR_T": ["int32"], "TILE_SKIP": [1]},
  "constraints": ["BLOCK_M / WARPS >= 16"],
  "seed": $2,
  "measure": $measure
}
JSON
}

# result_keys RESULTS_JSON: "problem|variant|status" per record, sorted.
result_keys() {
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("\n".join(sorted(r["problem"]+"|"+r["variant"]+"|"+r["status"] for r in d["records"])))' "$1"
}
