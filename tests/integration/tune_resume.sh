#!/bin/bash
# `pftune tune` end to end on emu with a tiny profile: results.json,
# tuned.json and `best` agree; kill -9 at random moments followed by
# --resume, repeated, ends with exactly one record per point and none
# measured twice; two shards merged hold the same points as one unsharded
# run; a resume with a changed profile is refused; bad input is one line.
. "$(dirname "$0")/lib/common.sh" "$1"
source "$(dirname "${BASH_SOURCE[0]}")/lib/tiny_sweep.sh"
seed=$(( RANDOM % 1000 + 1 ))
echo "seed $seed"

tiny_profile "$tmp/p.json" "$seed" # 16 points, 4 pruned
count() { grep -c '"status"' "$1"; }

"$PFTUNE" tune "$tmp/p.json" --device emu --out "$tmp/full" >"$tmp/full.out" 2>"$tmp/full.err"
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: tune exit $rc"; cat "$tmp/full.err"; fail=1; }
[ "$(count "$tmp/full/results.json")" = 16 ] || { echo "FAIL: want 16 records"; fail=1; }
[ "$(grep -c '"status": "invalid"' "$tmp/full/results.json")" = 4 ] ||
    { echo "FAIL: want 4 pruned points"; fail=1; }
grep -q '"message": "constraint BLOCK_M / WARPS >= 16' "$tmp/full/results.json" ||
    { echo "FAIL: pruned points lack their reason"; fail=1; }
grep -q '"timer": "emu-host"' "$tmp/full/results.json" || { echo "FAIL: timer label"; fail=1; }
grep -q '"schema": "pftune.tuned/1"' "$tmp/full/tuned.json" || { echo "FAIL: tuned.json"; fail=1; }
grep -q '^tuned: ' "$tmp/full.out" || { echo "FAIL: summary lacks the tuned path"; fail=1; }
best=$("$PFTUNE" best "$tmp/full/tuned.json" --seq 70 --layer full 2>/dev/null)
grep -q "^best for full D=64 seq 72: $best " "$tmp/full.out" ||
    { echo "FAIL: best '$best' is not the sweep's choice at 72"; cat "$tmp/full.out"; fail=1; }

# kill -9 at random moments, then --resume until done
"$PFTUNE" tune "$tmp/p.json" --device emu --out "$tmp/k" >/dev/null 2>&1 &
pid=$!
for round in 1 2 3; do
    sleep "0.$(( RANDOM % 9 + 1 ))"
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    "$PFTUNE" tune "$tmp/p.json" --device emu --out "$tmp/k" --resume >/dev/null 2>"$tmp/k$round.err" &
    pid=$!
done
wait $pid
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: final resume exit $rc"; cat "$tmp/k3.err"; fail=1; }
[ "$(count "$tmp/k/results.json")" = 16 ] || { echo "FAIL: resumed sweep has $(count "$tmp/k/results.json") records"; fail=1; }
# the journal: header + one line per point, none twice
lines=$(( $(wc -l <"$tmp/k/journal.jsonl") - 1 ))
uniq_pts=$(tail -n +2 "$tmp/k/journal.jsonl" | grep -o '"variant": *"[^"]*", *"problem": *"[^"]*"\|"problem": *"[^"]*", *"variant": *"[^"]*"' | sort -u | wc -l)
[ "$lines" = 16 ] || { echo "FAIL: journal has $lines point lines, want 16 (measured twice?)"; fail=1; }
[ "$uniq_pts" = "$lines" ] || { echo "FAIL: journal repeats points ($uniq_pts unique of $lines)"; fail=1; }

# shards 0/2 and 1/2 merged: the points of the unsharded run
for i in 0 1; do
    "$PFTUNE" tune "$tmp/p.json" --device emu --shard $i/2 --out "$tmp/s$i" >/dev/null 2>&1 ||
        { echo "FAIL: shard $i"; fail=1; }
done
"$PFTUNE" merge "$tmp/s0" "$tmp/s1" --out "$tmp/m" >/dev/null || { echo "FAIL: merge"; fail=1; }
[ "$(result_keys "$tmp/m/results.json")" = "$(result_keys "$tmp/full/results.json")" ] ||
    { echo "FAIL: merged shards differ from the unsharded run"; fail=1; }

# a resume with a changed profile is refused, naming it
sed -i 's/"seq_lens": \[40, 72\]/"seq_lens": [40, 80]/' "$tmp/p.json"
"$PFTUNE" tune "$tmp/p.json" --device emu --out "$tmp/k" --resume >/dev/null 2>"$tmp/e.err"
[ $? -eq 1 ] && grep -q "profile (journal" "$tmp/e.err" ||
    { echo "FAIL: changed profile not refused"; cat "$tmp/e.err"; fail=1; }
"$PFTUNE" tune "$tmp/p.json" --device emu --out "$tmp/k" >/dev/null 2>"$tmp/e.err"
[ $? -eq 1 ] && grep -q -- "--resume" "$tmp/e.err" || { echo "FAIL: existing journal overwritten?"; fail=1; }
# bad input: one line, exit codes
echo '{"family": "attention", "seq_lens": [64], "model": "gemma3-4b", "bogus": 1}' >"$tmp/bad.json"
"$PFTUNE" tune "$tmp/bad.json" --device emu --out "$tmp/b" 2>"$tmp/e.err"
[ $? -eq 1 ] && [ "$(wc -l <"$tmp/e.err")" = 1 ] && grep -q bogus "$tmp/e.err" ||
    { echo "FAIL: bad profile"; cat "$tmp/e.err"; fail=1; }
"$PFTUNE" tune "$tmp/p.json" --shard 2/2 2>/dev/null; [ $? -eq 2 ] || { echo "FAIL: --shard 2/2"; fail=1; }
"$PFTUNE" tune 2>/dev/null; [ $? -eq 2 ] || { echo "FAIL: no profile"; fail=1; }
"$PFTUNE" merge "$tmp/s0" "$tmp/nope" --out "$tmp/m2" 2>/dev/null; [ $? -eq 1 ] || { echo "FAIL: merge of a missing shard"; fail=1; }
exit $fail
