#!/usr/bin/env bash
# check_cli.sh - the iocpcheck command line, end to end: determinism over
# 1,000 seeds, replay, shrink, sharding, jobs, reports and bad input.
# Usage: check_cli.sh BUILD_DIR   (run from the source root)
set -u
B=${1:?build dir}
CLI=$B/iocpcheck
MUT=$B/iocpcheck-mutant-no-recheck
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
strip_summary() { grep -v '"summary":true' "$1"; }

S=scenarios/close/close-concurrent.scn

# Determinism: the same seeds give byte-identical executions (schedules and
# trace hashes) in two separate processes, and `run --seed` agrees with fuzz.
$CLI fuzz $S --runs 1000 --json --all > $T/a.json
$CLI fuzz $S --runs 1000 --json --all > $T/b.json
check "1000 seeds run twice: identical JSON lines" "cmp -s <(strip_summary $T/a.json) <(strip_summary $T/b.json)"
check "1000 executions reported" "[ \$(strip_summary $T/a.json | wc -l) -eq 1000 ]"
check "trace hashes tell executions apart" "[ \$(grep -o '\"trace_hash\":\"[0-9a-f]*\"' $T/a.json | sort -u | wc -l) -gt 50 ]"
for seed in 7 123 999; do
  want=$(grep "\"seed\":$seed," $T/a.json | grep -o '"trace_hash":"[0-9a-f]*"')
  got=$($CLI run $S --seed $seed --json | grep -o '"trace_hash":"[0-9a-f]*"')
  check "run --seed $seed matches fuzz's execution" "[ -n \"$want\" ] && [ \"$want\" = \"$got\" ]"
done

# Sharding: the union of --shard k/4 is the unsharded run; --jobs changes nothing.
$CLI fuzz $S --runs 400 --json --all > $T/whole.json
for k in 1 2 3 4; do $CLI fuzz $S --runs 400 --json --all --shard $k/4 > $T/shard$k.json; done
check "union of --shard k/4 equals the unsharded run" \
  "cmp -s <(strip_summary $T/whole.json | sort) <(cat $T/shard[1-4].json | grep -v '\"summary\":true' | sort)"
check "shards are disjoint" "[ \$(cat $T/shard[1-4].json | grep -v '\"summary\":true' | wc -l) -eq 400 ]"
$CLI fuzz scenarios/break --runs 300 --json > $T/j1.json
$CLI fuzz scenarios/break --runs 300 --json --jobs 2 > $T/j2.json
check "--jobs 2 gives the same counts as one process" \
  "[ \"\$(grep -o '\"executions\":[0-9]*,\"failures\":[0-9]*' $T/j1.json)\" = \"\$(grep -o '\"executions\":[0-9]*,\"failures\":[0-9]*' $T/j2.json)\" ]"

# A failure: found, shrunk, and replayed exactly from its schedule.
$MUT fuzz $S --runs 20000 --json --no-shrink > $T/found.json
rc=$?
check "a mutant's failure is reported with exit 1" "[ $rc -eq 1 ]"
line=$(grep '"verdict":"fail"' $T/found.json | head -1)
prop=$(echo "$line" | grep -o '"property":"[^"]*"' | cut -d'"' -f4)
sched=$(echo "$line" | grep -o '"schedule":"[^"]*"' | cut -d'"' -f4)
hash=$(echo "$line" | grep -o '"trace_hash":"[0-9a-f]*"')
$MUT replay $S --schedule "$sched" --json > $T/replay.json
rc=$?
check "replay: exit 1, same property, same trace hash" \
  "[ $rc -eq 1 ] && grep -q '\"property\":\"$prop\"' $T/replay.json && grep -q '$hash' $T/replay.json"
$MUT shrink $S --schedule "$sched" --json > $T/shrunk.json
small=$(grep -o '"schedule":"[^"]*"' $T/shrunk.json | cut -d'"' -f4)
n0=$(echo "$line" | grep -o '"decisions":[0-9]*' | cut -d: -f2)
n1=$(grep -o '"decisions":[0-9]*' $T/shrunk.json | cut -d: -f2)
check "shrink: the shrunk schedule fails the same property" "grep -q '\"property\":\"$prop\"' $T/shrunk.json"
check "shrink: no more decisions than before ($n0 -> $n1)" "[ -n \"$n1\" ] && [ $n1 -le $n0 ]"
$MUT replay $S --schedule "$small" --json > $T/replay2.json
check "the shrunk schedule replays to the same property" "grep -q '\"property\":\"$prop\"' $T/replay2.json"
$MUT fuzz $S --runs 20000 > $T/report.txt
check "the text report names the property, schedule and replay command" \
  "grep -q 'property: ' $T/report.txt && grep -q '  schedule: ' $T/report.txt && grep -q 'replay scenarios/close/close-concurrent.scn --schedule' $T/report.txt"

# Reports.
$CLI fuzz scenarios/break --runs 50 --junit $T/junit.xml > /dev/null
check "JUnit: one test case per scenario" "[ \$(grep -c '<testcase ' $T/junit.xml) -eq \$(ls scenarios/break/*.scn | wc -l) ]"
$CLI run $S --seed 3 --trace-json $T/trace.json --trace $T/trace.txt > /dev/null
check "Chrome trace: thread tracks and instant events" "grep -q '\"thread_name\"' $T/trace.json && grep -q '\"ph\":\"i\"' $T/trace.json"
check "text trace: simulator and model traces" "grep -q '== simulator trace' $T/trace.txt && grep -q '== model trace' $T/trace.txt"
check "--progress is silent when stderr is not a terminal" "[ ! -s <($CLI fuzz $S --runs 100 2>&1 >/dev/null) ]"

# Bad input: exit 2, the position, and nothing run.
$CLI replay $S --schedule 't0,,t1' > $T/o.txt 2> $T/e.txt
rc=$?
check "bad schedule: exit 2 with its column" "[ $rc -eq 2 ] && grep -q 'col 4' $T/e.txt && [ ! -s $T/o.txt ]"
$CLI replay $S --schedule 't63' > /dev/null 2> $T/e.txt
check "schedule that does not fit: exit 2" "[ \$? -eq 2 ]"
printf 'thread a:\n  frobnicate\n' > $T/bad.scn
$CLI fuzz $T/bad.scn > $T/o.txt 2> $T/e.txt
rc=$?
check "bad scenario: exit 2 with path:line:col" "[ $rc -eq 2 ] && grep -q 'bad.scn:2:' $T/e.txt && [ ! -s $T/o.txt ]"
$CLI fuzz $S --runs 0 > /dev/null 2>&1
check "bad option value: exit 2" "[ \$? -eq 2 ]"
$CLI fuzz $S --frobnicate > /dev/null 2>&1
check "unknown option: exit 2" "[ \$? -eq 2 ]"
$CLI fuzz $S --shard 5/4 > /dev/null 2>&1
check "bad shard: exit 2" "[ \$? -eq 2 ]"

echo "cli: $pass passed, $fail failed"
[ $fail -eq 0 ]
