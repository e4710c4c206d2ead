#!/bin/bash
# `pftune tune --slurm` on a real Slurm: a single-node cluster started here
# (munged, slurmctld, slurmd on localhost; key, ports, state, spool and
# logs in a temporary directory) and stopped again (exactly the daemons
# started here, by their pids). With emu tasks of a tiny profile:
# - a 4-task array plus its merge job gives the points of one unsharded run;
# - one array task cancelled mid-way (scancel), the merge job names its
#   shard and fails, the rerun resubmits only that shard, and in the end
#   every point is there exactly once and the cancelled shard resumed from
#   its journal, measuring nothing twice; status follows it all;
# - the generated scripts pass `sbatch --test-only`.
# Needs root and Debian's slurmctld, slurmd, slurm-client and munge
# (tools/setup.sh installs them); a machine where the cluster cannot start
# FAILS this test, saying why.
set -u
PFTUNE=$1
source "$(dirname "${BASH_SOURCE[0]}")/lib/tiny_sweep.sh"
fail=0
tmp=$(mktemp -d)
chmod 755 "$tmp" # munged wants its socket's directory searchable by all
pids=()
die() { echo "FAIL: $*"; for f in "$tmp"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 15 "$f"; }; done; exit 1; }
stop() {
    # cancel what is left, then stop the daemons started here
    [ ${#pids[@]} -gt 1 ] && scancel --quiet --user="$(id -un)" 2>/dev/null
    for ((k = ${#pids[@]} - 1; k >= 0; k--)); do kill "${pids[k]}" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap stop EXIT
t0=$SECONDS

# ---- the cluster ----
[ "$(id -u)" = 0 ] || die "needs root: slurmd runs jobs as their user and this cluster runs as root"
for prog in munged mungekey slurmctld slurmd sbatch squeue scancel sinfo; do
    command -v "$prog" >/dev/null || die "$prog is not installed (tools/setup.sh installs slurmctld slurmd slurm-client munge)"
done
mungekey --create --keyfile="$tmp/munge.key" || die "mungekey failed"
munged -F --key-file="$tmp/munge.key" --socket="$tmp/munge.sock" --pid-file="$tmp/munged.pid" \
    --log-file="$tmp/munged.log" --seed-file="$tmp/munge.seed" &
pids+=($!)
free_port() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for try in 1 2 3 4 5 6 7 8; do
    port=$(( 20000 + RANDOM % 30000 ))
    free_port "$port" && free_port $((port + 1)) && break
done
host=$(hostname -s)
mkdir -p "$tmp/state" "$tmp/spool"
export SLURM_CONF="$tmp/slurm.conf"
cat >"$SLURM_CONF" <<CONF
ClusterName=pftunetest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge.sock
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
SlurmdParameters=config_overrides
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
KillWait=5
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=4 RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
for i in $(seq 50); do [ -S "$tmp/munge.sock" ] && break; sleep 0.1; done
[ -S "$tmp/munge.sock" ] || die "munged did not start"
slurmctld -D -f "$SLURM_CONF" &
pids+=($!)
slurmd -D -f "$SLURM_CONF" -N "$host" &
pids+=($!)
for i in $(seq 60); do
    [ "$(sinfo -h -o %T 2>/dev/null)" = idle ] && break
    sleep 0.5
done
[ "$(sinfo -h -o %T 2>/dev/null)" = idle ] || die "the node did not become idle: $(sinfo 2>&1)"
echo "cluster up on port $port after $((SECONDS - t0)) s"

# ---- the sweep ----
# 12 candidates + 4 pruned; each point samples for 1.5 s so a task lasts
# seconds and can be cancelled mid-way
tiny_profile "$tmp/p.json" 11 '{"warmup": 0, "min_samples": 1000, "max_samples": 1000, "stdrel": 0,
                                 "max_seconds": 1.5, "flush_l2": false}'
# the unsharded run, meanwhile
"$PFTUNE" tune "$tmp/p.json" --device emu --out "$tmp/full" >/dev/null 2>"$tmp/full.err" &
full_pid=$!
submit() { "$PFTUNE" tune "$tmp/p.json" --slurm --device emu --jobs 1 --tasks 4 --out "$1"; }
job_of() { sed -n "s/^slurm: $1 job \([0-9]*\).*/\1/p" "$2"; }
# wait for a job to end (up to $2 s); its final state on stdout
wait_job() {
    local s
    for ((w = 0; w < $2 * 2; w++)); do
        s=$(squeue -h -t all -j "$1" -o %T 2>/dev/null)
        case "$s" in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY) echo "$s"; return;; esac
        sleep 0.5
    done
    echo "still ${s:-unknown}"
}

# 1. four tasks and the merge
submit "$tmp/a" >"$tmp/a.out" 2>&1 || die "submission: $(cat "$tmp/a.out")"
array=$(job_of array "$tmp/a.out") merge=$(job_of merge "$tmp/a.out")
[ -n "$array" ] && [ -n "$merge" ] || die "no job ids in: $(cat "$tmp/a.out")"
grep -q "tasks 0-3 of 4" "$tmp/a.out" || { echo "FAIL: $(cat "$tmp/a.out")"; fail=1; }
state=$(wait_job "$merge" 90)
[ "$state" = COMPLETED ] || { echo "FAIL: merge job $merge: $state"; cat "$tmp/a/logs/"*.log; fail=1; }
wait $full_pid || { echo "FAIL: unsharded run"; cat "$tmp/full.err"; fail=1; }
[ "$(result_keys "$tmp/a/results.json")" = "$(result_keys "$tmp/full/results.json")" ] ||
    { echo "FAIL: the 4-task sweep differs from the unsharded run"; fail=1; }
[ -f "$tmp/a/tuned.json" ] || { echo "FAIL: no merged tuned.json"; fail=1; }
"$PFTUNE" status "$tmp/a" >"$tmp/st.out" 2>&1
[ "$(grep -cE "^[0-3] +${array}_[0-3] +COMPLETED .* complete$" "$tmp/st.out")" = 4 ] ||
    { echo "FAIL: status after the sweep"; cat "$tmp/st.out"; fail=1; }
grep -q "merge job $merge (COMPLETED)" "$tmp/st.out" || { echo "FAIL: status: merge job"; fail=1; }
echo "4-task sweep merged after $((SECONDS - t0)) s"

# 2. task 1 cancelled once it has measured a point; the merge names it
submit "$tmp/b" >"$tmp/b.out" 2>&1 || die "submission: $(cat "$tmp/b.out")"
array=$(job_of array "$tmp/b.out") merge=$(job_of merge "$tmp/b.out")
j="$tmp/b/shard-1/journal.jsonl"
for ((w = 0; w < 300; w++)); do
    grep -qE '"status": ?"ok"' "$j" 2>/dev/null && break
    sleep 0.2
done
scancel "${array}_1"
state=$(wait_job "$merge" 90)
[ "$state" = FAILED ] || { echo "FAIL: merge job with a cancelled task: $state"; fail=1; }
grep -q "incomplete shards left out: $tmp/b/shard-1 (" "$tmp/b/logs/merge.log" ||
    { echo "FAIL: the merge job does not name shard-1"; cat "$tmp/b/logs/merge.log"; fail=1; }
"$PFTUNE" status "$tmp/b" >"$tmp/st.out" 2>&1
grep -qE "^1 +${array}_1 +CANCELLED +[0-9]+ +[0-9]+ +0 +[1-9]" "$tmp/st.out" ||
    { echo "FAIL: status of the cancelled task (did it finish before the cancel?)"; cat "$tmp/st.out"; fail=1; }
# points journalled by then (pruned ones are written as their problem starts)
journalled=$(( $(wc -l <"$j") - 1 ))
# 3. the rerun resubmits shard 1 only, which resumes from its journal
submit "$tmp/b" >"$tmp/b2.out" 2>&1 || { echo "FAIL: resubmission: $(cat "$tmp/b2.out")"; fail=1; }
grep -q "tasks 1 of 4" "$tmp/b2.out" || { echo "FAIL: resubmission: $(cat "$tmp/b2.out")"; fail=1; }
merge=$(job_of merge "$tmp/b2.out")
state=$(wait_job "$merge" 90)
[ "$state" = COMPLETED ] || { echo "FAIL: merge after the rerun: $state"; cat "$tmp/b/logs/merge.log"; fail=1; }
grep -q "tune: resuming: $journalled points already in" "$tmp/b/logs/task-1.log" ||
    { echo "FAIL: task 1 did not resume its $journalled journalled points"; cat "$tmp/b/logs/task-1.log"; fail=1; }
[ "$(result_keys "$tmp/b/results.json")" = "$(result_keys "$tmp/full/results.json")" ] ||
    { echo "FAIL: after cancel + rerun the sweep differs from the unsharded run"; fail=1; }
# every candidate in exactly one shard's journal, exactly once
python3 - "$tmp/b" <<'PY' || fail=1
import json, sys, collections
seen = collections.Counter()
for i in range(4):
    lines = open(f"{sys.argv[1]}/shard-{i}/journal.jsonl").read().splitlines()[1:]
    for l in lines:
        r = json.loads(l)
        if r["status"] != "invalid":
            seen[(r["problem"], r["variant"])] += 1
twice = [k for k, n in seen.items() if n != 1]
if len(seen) != 12 or twice:
    print(f"FAIL: {len(seen)} candidates in the journals (want 12), twice: {twice}")
    sys.exit(1)
PY
submit "$tmp/b" >"$tmp/b3.out" 2>&1
grep -q "nothing to submit" "$tmp/b3.out" || { echo "FAIL: a complete sweep resubmitted: $(cat "$tmp/b3.out")"; fail=1; }

# 4. Slurm accepts the generated scripts as they are
sbatch --test-only "$tmp/b/slurm-array.sh" >/dev/null 2>"$tmp/t.err" ||
    { echo "FAIL: sbatch --test-only refuses the array script: $(cat "$tmp/t.err")"; fail=1; }
sbatch --test-only "$tmp/b/slurm-merge.sh" >/dev/null 2>"$tmp/t.err" ||
    { echo "FAIL: sbatch --test-only refuses the merge script: $(cat "$tmp/t.err")"; fail=1; }
echo "done in $((SECONDS - t0)) s"
exit $fail
