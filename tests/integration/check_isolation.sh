#!/bin/bash
# `pftune check` isolates variants in worker processes (harness/runner): a
# kernel that kills its worker (a trap emu does not catch: SIGILL) fails
# as "crashed" naming the signal, and the replaced worker checks the rest;
# a kernel that never returns fails as "timeout" once --timeout passes;
# the JSON records each status; healthy kernels pass under --timeout.
# shellcheck source=lib/plant.sh
source "$(dirname "$0")/lib/plant.sh" # sets src
. "$(dirname "$0")/lib/common.sh" "$1"
three=(--variant MASK_STORAGE=spans --variant MASK_STORAGE=dense --variant MASK_STORAGE=bitmap)
args=(check --device emu --head-dim 64 --seed 5 --cases 1)

plant_kernels "$tmp/trap" '#define pf_exp2_approx(x) (__builtin_trap(), (x))'
plant_kernels "$tmp/hang" '#define pf_exp2_approx(x) ({ for (;;) {} (x); })'

# three crashing variants over two workers: the third runs on a replacement
PFTUNE_KERNEL_DIR="$tmp/trap" "$PFTUNE" "${args[@]}" "${three[@]}" --jobs 2 --json "$tmp/trap.json" \
    >"$tmp/trap.out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q '^check: 0 of 3 variants passed, 3 failed' "$tmp/trap.out" ||
    { echo "FAIL: trap: exit $rc"; cat "$tmp/trap.out"; fail=1; }
for n in 1 2 3; do
    [ "$(grep -c "^\[$n/3\] BLOCK_M=.* FAIL " "$tmp/trap.out")" = 1 ] || { echo "FAIL: trap: progress $n/3"; fail=1; }
done
[ "$(grep -c '^    crashed: its worker died of signal 4 (Illegal instruction)$' "$tmp/trap.out")" = 6 ] ||
    { echo "FAIL: trap: want the crash in 3 progress and 3 summary lines"; cat "$tmp/trap.out"; fail=1; }
[ "$(grep -c '"status": "crashed"' "$tmp/trap.json")" = 3 ] && grep -q '"failed": 3' "$tmp/trap.json" ||
    { echo "FAIL: trap: JSON statuses"; fail=1; }
grep -q '^    replay: pftune check --device emu --seed 5 --variant BLOCK_M=' "$tmp/trap.out" ||
    { echo "FAIL: trap: no replay line"; fail=1; }

# a hung kernel: killed at the timeout, one worker (--jobs 1) is enough
start=$SECONDS
PFTUNE_KERNEL_DIR="$tmp/hang" "$PFTUNE" "${args[@]}" --variant MASK_STORAGE=spans --timeout 3 \
    --json "$tmp/hang.json" >"$tmp/hang.out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q '^    timeout: no result within 3 s (its worker was killed)$' "$tmp/hang.out" ||
    { echo "FAIL: hang: exit $rc"; cat "$tmp/hang.out"; fail=1; }
grep -q '"status": "timeout"' "$tmp/hang.json" || { echo "FAIL: hang: JSON status"; fail=1; }
[ $((SECONDS - start)) -lt 60 ] || { echo "FAIL: hang: took $((SECONDS - start)) s"; fail=1; }

# the real kernels pass under a timeout, status ok
"$PFTUNE" "${args[@]}" --variant MASK_STORAGE=spans --timeout 300 --json "$tmp/ok.json" >"$tmp/ok.out" 2>&1 &&
    grep -q '"status": "ok"' "$tmp/ok.json" || { echo "FAIL: real kernel under --timeout"; cat "$tmp/ok.out"; fail=1; }

# usage
"$PFTUNE" check --device emu --timeout 0 >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q '^pftune: check: .*--timeout' "$tmp/err" || { echo "FAIL: --timeout 0: $(cat "$tmp/err")"; fail=1; }

[ $fail -eq 0 ] && echo "check_isolation: ok"
exit $fail
