#!/bin/bash
# `pftune compare` and `pftune history` on results drawn here from known
# distributions (from the GPU-like fixture's points): two runs of the same
# distribution are `same` (exit 0); a 10% slowdown with 1% noise is
# `slower` (exit 1); heavily overlapping noisy samples below the threshold
# are never `slower`; md and pftune.compare/1 JSON; different devices are
# refused unless --ignore-device; history finds a planted step at the
# right result and nothing in a flat series.
set -u
PFTUNE=$1
SRC=${PFTUNE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() { [ "$1" = 0 ] || { echo "FAIL: $2"; fail=1; }; }

# draw NAME FACTOR NOISE SEED [FINISHED] [DEVICE]: the fixture's ok points with
# 24 fresh samples around median*FACTOR (relative noise NOISE)
draw() {
    python3 - "$SRC/tests/fixtures/report/gpu_results.json" "$tmp/$1.json" "$2" "$3" "$4" \
        "${5:-2026-03-01T10:42:00Z}" "${6:-}" <<'PY'
import json, random, sys
src, out, f, noise, seed, fin, dev = sys.argv[1:8]
random.seed(int(seed))
d = json.load(open(src))
d["meta"]["finished"] = fin
if dev:
    d["meta"]["device"]["name"] = dev
for r in d["records"]:
    if dev:
        r["device"] = dev
    t = r.get("time")
    if not t:
        continue
    m = t["median_ms"] * float(f)
    s = sorted(m * random.gauss(1, float(noise)) for _ in range(24))
    q = lambda p: s[int(p * 23)] + (p * 23 - int(p * 23)) * (s[min(int(p * 23) + 1, 23)] - s[int(p * 23)])
    t.update(samples=24, samples_ms=s, min_ms=s[0], max_ms=s[-1], median_ms=q(0.5),
             q1_ms=q(0.25), q3_ms=q(0.75), mean_ms=sum(s) / 24)
json.dump(d, open(out, "w"))
PY
}
count() { # VERDICT FILE: points with that verdict in a JSON compare
    python3 -c "import json,sys; print(json.load(open('$2'))['counts']['$1'])"
}

draw base 1.0 0.01 1
draw same 1.0 0.01 2
draw slow 1.10 0.01 3
draw noisy_a 1.0 0.25 4
draw noisy_b 1.03 0.25 5

"$PFTUNE" compare "$tmp/base.json" "$tmp/same.json" --format json >"$tmp/same.out"
check $? "same distribution: exit not 0"
[ "$(count slower "$tmp/same.out")" = 0 ] && [ "$(count same "$tmp/same.out")" -gt 100 ]
check $? "same distribution: $(python3 -c "import json; print(json.load(open('$tmp/same.out'))['counts'])")"
head -3 "$tmp/same.out" | grep -q '"schema": "pftune.compare/1"'; check $? "compare JSON schema"

"$PFTUNE" compare "$tmp/base.json" "$tmp/slow.json" --format json >"$tmp/slow.out"
check $([ $? = 1 ] && echo 0 || echo 1) "10% slower: exit not 1"
python3 - "$tmp/slow.out" <<'PY' || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
timed = [p for p in d["points"] if p["base"] and p["base"].get("median_ms")
         and p["new"] and p["new"].get("median_ms")]
bad = [p for p in timed if p["verdict"] != "slower" or not (8 < p["change_pct"] < 12) or p["p_value"] >= 0.01]
if bad or not timed:
    print("FAIL: 10%% slower: %d of %d points not judged slower, e.g. %s" % (len(bad), len(timed), bad[:1]))
    sys.exit(1)
PY
"$PFTUNE" compare "$tmp/base.json" "$tmp/slow.json" >"$tmp/slow.txt"
grep -q '^slower  *+1[01]\.[0-9][0-9]%' "$tmp/slow.txt"; check $? "text lists slower points"
grep -q '^total: [0-9]* points: [0-9]* slower' "$tmp/slow.txt"; check $? "text total"
"$PFTUNE" compare "$tmp/base.json" "$tmp/slow.json" --format md >"$tmp/slow.md"
grep -q '^| verdict | change | p | base ms | new ms | problem | variant |$' "$tmp/slow.md" &&
    grep -q '^| :x: slower | +1[01]\.[0-9]*% |' "$tmp/slow.md"; check $? "md table"
# a 15% threshold: a 10% slowdown is real but within it
"$PFTUNE" compare "$tmp/base.json" "$tmp/slow.json" --threshold 15 --format json >"$tmp/t15.out"
check $? "--threshold 15: exit not 0"
[ "$(count slower "$tmp/t15.out")" = 0 ]; check $? "--threshold 15: slower points"

"$PFTUNE" compare "$tmp/noisy_a.json" "$tmp/noisy_b.json" --format json >"$tmp/noisy.out"
check $? "overlapping noise: exit not 0"
[ "$(count slower "$tmp/noisy.out")" = 0 ]; check $? "overlapping noise judged slower"

# points on one side only; different devices
python3 -c "
import json; d=json.load(open('$tmp/same.json')); d['records']=d['records'][5:]; json.dump(d,open('$tmp/fewer.json','w'))"
"$PFTUNE" compare "$tmp/base.json" "$tmp/fewer.json" --format json >"$tmp/fewer.out"
[ "$(count base-only "$tmp/fewer.out")" = 5 ]; check $? "base-only points"
draw a100 1.0 0.01 6 2026-03-02T00:00:00Z "NVIDIA A100-SXM4-80GB"
"$PFTUNE" compare "$tmp/base.json" "$tmp/a100.json" >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "^pftune: compare: the devices differ: BASE .* ran on 'NVIDIA H100 80GB HBM3', NEW .* on 'NVIDIA A100-SXM4-80GB' (--ignore-device compares them anyway)$" "$tmp/err"
check $? "different devices: $(cat "$tmp/err")"
"$PFTUNE" compare "$tmp/base.json" "$tmp/a100.json" --ignore-device --format json >"$tmp/ign.out"
check $? "--ignore-device"
[ "$(count same "$tmp/ign.out")" -gt 100 ]; check $? "--ignore-device matches the points"
sed 's#"pftune.results/1"#"pftune.results/9"#' "$tmp/base.json" >"$tmp/v9.json"
"$PFTUNE" compare "$tmp/base.json" "$tmp/v9.json" >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "schema 'pftune.results/9' is not supported" "$tmp/err"; check $? "future version"
"$PFTUNE" compare "$tmp/base.json" >/dev/null 2>&1; [ $? = 2 ]; check $? "one file is a usage error"

# history: 10 results, the level 15% higher from the 7th on (given out of order)
for i in 0 1 2 3 4 5 6 7 8 9; do
    f=1.0; [ $i -ge 6 ] && f=1.15
    draw "h$i" $f 0.01 $((10 + i)) "2026-04-$(printf %02d $((i + 1)))T00:00:00Z"
done
"$PFTUNE" history "$tmp"/h9.json "$tmp"/h[0-8].json --key "full D=256" --out "$tmp/hist" --format both \
    >"$tmp/hist.out" 2>&1
check $? "history failed: $(cat "$tmp/hist.out")"
cat "$tmp/hist.out"
n=$(grep -c '^step: ' "$tmp/hist.out")
[ "$n" = 3 ]; check $? "history: $n steps for 3 problems"
[ "$(grep -c '^step: .* at result 7 (.*/h6.json): +1[45]\.[0-9]*%, p [0-9.e-]* (mann-whitney)$' "$tmp/hist.out")" = 3 ]
check $? "history: steps not at result 7 (h6.json)"
head -c 8 "$tmp/hist/history.png" | od -c | head -1 | grep -q 'P   N   G'; check $? "history.png"
grep -q '<svg' "$tmp/hist/history.svg"; check $? "history.svg"
grep -q '| 7 (`' "$tmp/hist/history.md"; check $? "history.md lists the step"
# a flat series: no steps
"$PFTUNE" history "$tmp"/h[0-5].json --out "$tmp/flat" >"$tmp/flat.out" 2>&1
check $? "flat history failed"
grep -q '^no step changes beyond 5%' "$tmp/flat.out"; check $? "flat series: $(cat "$tmp/flat.out")"
"$PFTUNE" history "$tmp"/h0.json "$tmp"/h1.json --key nothing-like-this --out "$tmp/x" >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "no problem contains 'nothing-like-this'" "$tmp/err"; check $? "--key without a match"
exit $fail
