#!/bin/bash
# `pftune tune --slurm` without a cluster: --dry-run prints scripts with
# the sbatch options asked for and creates nothing; a submission through a
# stand-in sbatch (records its arguments, answers a job id) writes the
# scripts and DIR/slurm-jobs.json; the scripts run by hand as Slurm would
# (SLURM_ARRAY_TASK_ID) sweep the shards, the merge job names a missing
# shard and exits 1, the rerun resubmits only that shard (--array=1), and
# the final merge equals one unsharded run; a worker's SIGTERM is no
# crash; status and bad input.
# tests/integration/slurm_cluster.sh does the same on a real Slurm.
set -u
PFTUNE=$1
source "$(dirname "${BASH_SOURCE[0]}")/lib/tiny_sweep.sh"
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

tiny_profile p.json 3
has() { grep -qF -- "$2" "$1" || { echo "FAIL: $1 lacks: $2"; fail=1; }; }

# --dry-run: the options asked for, nothing created
"$PFTUNE" tune p.json --slurm --tasks 3 --gpus-per-task 2 --partition gpu --time 01:30:00 \
    --account proj7 --sbatch-arg=--mem=16G --sbatch-arg --exclusive --strategy random --budget 5 \
    --dry-run --out d >dry.out 2>dry.err
[ $? -eq 0 ] || { echo "FAIL: dry run"; cat dry.err; fail=1; }
[ ! -e d ] || { echo "FAIL: --dry-run created its --out"; fail=1; }
for want in "#SBATCH --array=0-2" "#SBATCH --gpus-per-task=2" "#SBATCH --partition=gpu" \
    "#SBATCH --time=01:30:00" "#SBATCH --account=proj7" "#SBATCH --mem=16G" "#SBATCH --exclusive" \
    "#SBATCH --requeue" "#SBATCH --open-mode=append" "#SBATCH --output=$tmp/d/logs/task-%a.log" \
    "--shard \"\$i/3\" --resume --out \"\$dir/shard-\$i\" --device all '--strategy' 'random' '--budget' '5'" \
    "trap 'kill -TERM" "merge --complete-only" "#SBATCH --output=$tmp/d/logs/merge.log" \
    "help report" "--dependency=afterany:<array job>"; do
    has dry.out "$want"
done
[ "$(grep -c -- '--gpus-per-task' dry.out)" = 1 ] || { echo "FAIL: the merge job asks for GPUs"; fail=1; }
"$PFTUNE" tune p.json --slurm --device emu --jobs 2 --dry-run --out d >dry2.out 2>&1
has dry2.out "#SBATCH --array=0-3"
has dry2.out "#SBATCH --cpus-per-task=2"
has dry2.out "--device emu '--jobs' '2'"
! grep -q -- "--gpus-per-task" dry2.out || { echo "FAIL: emu tasks ask for GPUs"; fail=1; }

# a submission through a stand-in sbatch
mkdir bin
cat >bin/sbatch <<'SH'
#!/bin/bash
echo "$*" >>"$SBATCH_LOG"
id=$(( $(wc -l <"$SBATCH_LOG") + 100 ))
echo "$id;cluster"
SH
chmod +x bin/sbatch
export PATH="$tmp/bin:$PATH" SBATCH_LOG="$tmp/sbatch.log"
"$PFTUNE" tune p.json --slurm --device emu --tasks 4 --out run >sub.out 2>sub.err ||
    { echo "FAIL: submission"; cat sub.err; fail=1; }
has sub.out "slurm: array job 101: tasks 0-3 of 4"
has sub.out "slurm: merge job 102 (after the array ends)"
has sub.out "squeue -j 101,102"
has sbatch.log "--parsable --dependency=afterany:101 $tmp/run/slurm-merge.sh"
has run/slurm-jobs.json '"array_job": "101"'
[ -x run/slurm-array.sh ] && [ -x run/slurm-merge.sh ] || { echo "FAIL: scripts not written"; fail=1; }
for i in 0 2 3; do
    SLURM_ARRAY_TASK_ID=$i bash run/slurm-array.sh >/dev/null 2>&1 || { echo "FAIL: task $i"; fail=1; }
done
bash run/slurm-merge.sh >merge1.out 2>merge1.err
[ $? -eq 1 ] || { echo "FAIL: merge with shard 1 missing did not exit 1"; fail=1; }
grep -q "run/shard-1 (not started)" merge1.err || { echo "FAIL: merge does not name shard-1"; cat merge1.err; fail=1; }
python3 -c 'import json; m=json.load(open("run/results.json"))["meta"]; assert m["complete"] is False and len(m["merged_from"]) == 3' ||
    { echo "FAIL: partial merge meta"; fail=1; }
"$PFTUNE" status run >st1.out 2>&1 || { echo "FAIL: status"; cat st1.out; fail=1; }
grep -qE '^1 +101_1 +- +0 +0 +0 +[0-9?]+ +not started' st1.out || { echo "FAIL: status of shard 1"; cat st1.out; fail=1; }
grep -qE '^0 +101_0 .* complete$' st1.out || { echo "FAIL: status of shard 0"; cat st1.out; fail=1; }
grep -q "merged: results.json and tuned.json (partial" st1.out || { echo "FAIL: status merged line"; fail=1; }
# the rerun: only shard 1
"$PFTUNE" tune p.json --slurm --device emu --out run >sub2.out 2>&1 || { echo "FAIL: resubmission"; cat sub2.out; fail=1; }
has sub2.out "slurm: array job 103: tasks 1 of 4"
has run/slurm-array.sh "#SBATCH --array=1"
SLURM_ARRAY_TASK_ID=1 bash run/slurm-array.sh >/dev/null 2>&1 || { echo "FAIL: task 1"; fail=1; }
bash run/slurm-merge.sh >merge2.out 2>&1 || { echo "FAIL: final merge"; cat merge2.out; fail=1; }
"$PFTUNE" tune p.json --device emu --out full >/dev/null 2>&1 || { echo "FAIL: unsharded run"; fail=1; }
[ "$(result_keys run/results.json)" = "$(result_keys full/results.json)" ] ||
    { echo "FAIL: merged shards differ from the unsharded run"; fail=1; }
"$PFTUNE" status run --json >st2.json || fail=1
python3 -c '
import json; d = json.load(open("st2.json"))
assert d["schema"] == "pftune.status/1" and d["merged"]["complete"] is True
assert [s["job"] for s in d["shards"]] == ["101_0", "103_1", "101_2", "101_3"], d["shards"]
assert all(s["complete"] and s["remaining"] == 0 for s in d["shards"])
assert d["total"]["done"] + d["total"]["pruned"] + d["total"]["failed"] == 16, d["total"]
assert len(d["best"]) == 2' || { echo "FAIL: status --json"; cat st2.json; fail=1; }
"$PFTUNE" tune p.json --slurm --device emu --out run >sub3.out 2>&1
has sub3.out "nothing to submit"

# a worker stopped from outside (SIGTERM reaches every process of a
# cancelled or preempted job) is not journalled as a crash: the task stops,
# and its resume measures that point
tiny_profile slow.json 5 '{"warmup": 0, "min_samples": 1000, "max_samples": 1000, "stdrel": 0,
                           "max_seconds": 1.5, "flush_l2": false}'
# (shard 0/2: 3 points per problem, so the first ok leaves the worker mid-problem)
"$PFTUNE" tune slow.json --device emu --shard 0/2 --out w >/dev/null 2>w.err &
pid=$!
for ((k = 0; k < 150; k++)); do grep -qE '"status": ?"ok"' w/journal.jsonl 2>/dev/null && break; sleep 0.2; done
kill -TERM $(ps -o pid= --ppid $pid)
wait $pid
rc=$?
[ $rc -eq 1 ] && grep -q "stopped: a worker got signal 15 (Terminated) from outside" w.err ||
    { echo "FAIL: a worker's SIGTERM: exit $rc: $(cat w.err)"; fail=1; }
"$PFTUNE" tune slow.json --device emu --shard 0/2 --out w --resume >/dev/null 2>w.err ||
    { echo "FAIL: resume after SIGTERM: $(cat w.err)"; fail=1; }
! grep -q '"crashed"' w/journal.jsonl && [ "$(grep -cE '"status": ?"ok"' w/journal.jsonl)" = 6 ] ||
    { echo "FAIL: after SIGTERM + resume the journal holds a crash or misses points"; fail=1; }

# bad input: one line, exit 2 (usage) or 1
bad() { local want=$1; shift; "$PFTUNE" "$@" >/dev/null 2>e.err; local rc=$?
    [ $rc -eq "$want" ] && [ "$(wc -l <e.err)" = 1 ] && grep -q '^pftune: ' e.err ||
        { echo "FAIL: '$*' exit $rc (want $want): $(cat e.err)"; fail=1; }; }
bad 2 tune p.json --tasks 4
bad 2 tune p.json --slurm --shard 0/2
bad 2 tune p.json --slurm --time soon
bad 2 tune p.json --slurm --device emu --gpus-per-task 1
bad 2 tune p.json --slurm --partition "a b"
bad 2 tune p.json --slurm --sbatch-arg mem=1G
bad 1 tune p.json --slurm --device emu --tasks 3 --out run
bad 1 tune nope.json --slurm --dry-run
bad 1 status "$tmp/nothing-here"
bad 2 status
mkdir empty
env PATH="$tmp/empty" "$PFTUNE" tune p.json --slurm --out fresh >/dev/null 2>e.err
[ $? -eq 1 ] && grep -q "sbatch is not on PATH" e.err || { echo "FAIL: no sbatch: $(cat e.err)"; fail=1; }
exit $fail
