#!/bin/bash
# `pftune replay` on a synthetic results file: three problems of 24-32
# candidates with failed ones and a re-measured variant, each with a unique
# best at a known rank. Exhaustive needs exactly that rank to get within
# 1/2/5%; every strategy runs, the same seed gives the same report, --json is
# a pftune.replay/1 document; a bad schema, a missing file and an unknown
# strategy are one-line errors (exit 1, 1, 2).
. "$(dirname "$0")/lib/common.sh" "$1"

# records NAME BEST_RANK SKIP: the grid BLOCK_M x BLOCK_N x WARPS x MASK_STORAGE in
# order, every SKIP-th point left out (0: none), the best (1.0 ms) at BEST_RANK,
# the others >= 2 ms, ranks 5, 14, 23, 32 failed (compile_failed, no time)
records() {
    awk -v name="$1" -v best="$2" -v skip="$3" 'BEGIN {
        split("64 128", bm); split("32 64", bn); split("4 8", w)
        split("bitmap dense spans window", st)
        i = 0; rank = 0
        for (a = 1; a <= 2; a++) for (b = 1; b <= 2; b++) for (c = 1; c <= 2; c++)
        for (d = 1; d <= 4; d++) {
            i++
            if (skip && i % skip == 0) continue
            rank++
            v = sprintf("BLOCK_M=%s,BLOCK_N=%s,WARPS=%s,MASK_STORAGE=%s,TILE_SKIP=1",
                        bm[a], bn[b], w[c], st[d])
            ms = 2 + 0.01 * ((rank * 7) % 31)
            if (rank == best) ms = 1.0
            if (rank != best && rank % 9 == 5)
                printf "    {\"status\": \"compile_failed\", \"variant\": \"%s\", \"problem\": \"%s\", \"time\": null, \"message\": \"ptxas error\"},\n", v, name
            else
                printf "    {\"status\": \"ok\", \"family\": \"attention\", \"variant\": \"%s\", \"problem\": \"%s\", \"time\": {\"samples\": 10, \"median_ms\": %.4f, \"timer\": \"cuda-events\"}, \"registers\": %d, \"spill_bytes\": 0, \"smem_bytes\": %d, \"metadata_bytes\": %d},\n", v, name, ms, 96 + 8 * c, 16384 * b, 1000 * d
        }
    }'
}

{
    printf '{\n  "schema": "pftune.results/1",\n  "meta": {"profile": "synthetic"},\n  "records": [\n'
    records "layout t20,i256 heads 8:4 rule gemma3 full" 13 0
    records "layout t4096,i256 heads 8:4 rule gemma3 sliding" 22 16
    records "layout t100|t40,i64,t5 heads 8:1 rule gemma4 full" 1 4
    # the first problem's 3rd candidate re-measured: its latest time counts
    printf '    {"status": "ok", "variant": "BLOCK_M=64,BLOCK_N=32,WARPS=4,MASK_STORAGE=spans,TILE_SKIP=1", "problem": "layout t20,i256 heads 8:4 rule gemma3 full", "time": {"samples": 10, "median_ms": 5.0}}\n'
    printf '  ]\n}\n'
} >"$tmp/results.json"

check() { # DESCRIPTION: fails when the last grep did not match
    [ "$1" = 0 ] || { echo "FAIL: $2"; fail=1; }
}

"$PFTUNE" replay "$tmp/results.json" --strategy exhaustive >"$tmp/ex.txt" 2>"$tmp/ex.err"
check $? "exhaustive replay failed: $(cat "$tmp/ex.err")"
cat "$tmp/ex.txt"
grep -q '^replay .*: strategy exhaustive, seed 1, no budget, asking 1 ahead; 87 records, 3 problems$' \
    "$tmp/ex.txt"; check $? "header line"
grep -q '^  32 candidates (4 failed), axes BLOCK_M(2) BLOCK_N(2) WARPS(2) MASK_STORAGE(4) TILE_SKIP(1)$' \
    "$tmp/ex.txt"; check $? "first problem: 32 candidates (the re-measured one counted once), 4 failed"
grep -q '^  30 candidates' "$tmp/ex.txt"; check $? "second problem: 30 candidates"
grep -q '^  24 candidates' "$tmp/ex.txt"; check $? "third problem: 24 candidates"
grep -q '^  best 1.0000 ms  BLOCK_M=64,BLOCK_N=64,WARPS=8,MASK_STORAGE=bitmap,TILE_SKIP=1$' \
    "$tmp/ex.txt"; check $? "first problem's best (rank 13)"
for want in '32 evaluations, found 1.0000 ms; within 1%: 13, 2%: 13, 5%: 13' \
    '30 evaluations, found 1.0000 ms; within 1%: 22, 2%: 22, 5%: 22' \
    '24 evaluations, found 1.0000 ms; within 1%: 1, 2%: 1, 5%: 1'; do
    grep -qxF "  exhaustive: $want" "$tmp/ex.txt"; check $? "exhaustive: $want"
done
grep -qxF 'total: 3 problems, 86 candidates (10 failed), 86 evaluations; within 1%: 36, 2%: 36, 5%: 36' \
    "$tmp/ex.txt"; check $? "total line"

# --json: the schema first, the same numbers
"$PFTUNE" replay "$tmp/results.json" --strategy exhaustive --json >"$tmp/ex.json"
check $? "exhaustive --json failed"
sed -n 2p "$tmp/ex.json" | grep -qxF '  "schema": "pftune.replay/1",'; check $? "json schema key"
tr -d ' \n' <"$tmp/ex.json" >"$tmp/ex.flat"
grep -qF '"evals_within":{"1%":13,"2%":13,"5%":13}' "$tmp/ex.flat"; check $? "json evals_within 13"
grep -qF '"total":{"problems":3,"problems_with_best":3,"candidates":86,"failed":10,"evaluations":86,"evals_within":{"1%":36,"2%":36,"5%":36}' \
    "$tmp/ex.flat"; check $? "json total"

# every strategy: runs, is deterministic per seed, honours --budget
for s in random anneal model; do
    "$PFTUNE" replay "$tmp/results.json" -s $s --seed 5 --ahead 3 >"$tmp/$s.1" 2>&1
    check $? "$s failed: $(cat "$tmp/$s.1")"
    "$PFTUNE" replay "$tmp/results.json" -s $s --seed 5 --ahead 3 >"$tmp/$s.2" 2>&1
    cmp -s "$tmp/$s.1" "$tmp/$s.2"; check $? "$s: same seed, different reports"
    grep -q "^total: 3 problems, 86 candidates (10 failed), [0-9]* evaluations; within 1%: " \
        "$tmp/$s.1"; check $? "$s: total line"
    "$PFTUNE" replay "$tmp/results.json" -s $s --budget 5 >"$tmp/$s.b" 2>&1
    ! grep -q "^  $s: \([6-9]\|[1-9][0-9]\) evaluations" "$tmp/$s.b"; check $? "$s: --budget 5 exceeded"
done
cat "$tmp/model.1"

# errors: one line each, exit 1 for bad input, 2 for usage
err() { # WANT-RC REGEX ARGS...
    local want=$1 re=$2; shift 2
    "$PFTUNE" replay "$@" >/dev/null 2>"$tmp/err"
    local rc=$?
    [ $rc = "$want" ] || { echo "FAIL: replay $*: exit $rc, expected $want"; fail=1; }
    [ "$(wc -l <"$tmp/err")" = 1 ] || { echo "FAIL: replay $*: not one line:"; cat "$tmp/err"; fail=1; }
    grep -Eq "^pftune: replay: $re" "$tmp/err" ||
        { echo "FAIL: replay $*: message: $(cat "$tmp/err")"; fail=1; }
}
sed 's#"pftune.results/1"#"pftune.check/1"#' "$tmp/results.json" >"$tmp/check.json"
sed 's#"pftune.results/1"#"pftune.results/2"#' "$tmp/results.json" >"$tmp/v2.json"
sed '0,/"status": "ok"/s//"status": "fine"/' "$tmp/results.json" >"$tmp/status.json"
err 1 ".*check.json: schema 'pftune.check/1' is not a results file \(replay reads pftune.results/1\)$" \
    "$tmp/check.json" -s exhaustive
err 1 ".*v2.json: schema 'pftune.results/2' is not supported" "$tmp/v2.json" -s model
err 1 ".*status.json: records\[0\]: record: \"status\" 'fine'" "$tmp/status.json" -s random
err 1 ".*nope.json: cannot open: No such file or directory$" "$tmp/nope.json" -s exhaustive
err 2 "--strategy: unknown value 'anneel' \(did you mean 'anneal'\?" "$tmp/results.json" -s anneel
err 2 "give --strategy" "$tmp/results.json"
exit $fail
