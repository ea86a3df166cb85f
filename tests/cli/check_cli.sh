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
strip_summary() { grep -v '"type":"summary"' "$1"; }

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
  "cmp -s <(strip_summary $T/whole.json | sort) <(cat $T/shard[1-4].json | grep -v '\"type\":\"summary\"' | sort)"
check "shards are disjoint" "[ \$(cat $T/shard[1-4].json | grep -v '\"type\":\"summary\"' | wc -l) -eq 400 ]"
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

# Options apply to the commands that read them: one given to any other
# command exits 2 naming the option and the command, before anything runs.
misapplied() { # expected-option expected-command args...
  local opt=$1 cmd=$2; shift 2
  $CLI "$@" > $T/o.txt 2> $T/e.txt
  local rc=$?
  check "$* : exit 2 naming $opt and '$cmd'" \
    "[ $rc -eq 2 ] && grep -q -- \"option $opt does not apply to '$cmd'\" $T/e.txt && [ ! -s $T/o.txt ]"
}
misapplied --preemptions run run $S --preemptions 3
misapplied --runs run run $S --runs 5
misapplied --preemptions fuzz fuzz $S --preemptions 3
misapplied --junit replay replay $S --schedule t0 --junit $T/x.xml # run, fuzz, explore write it (check_outputs.py)
misapplied --por fuzz fuzz $S --por dpor
misapplied --seed explore explore $S --seed 3
misapplied --strategy replay replay $S --schedule t0 --strategy pct:3
misapplied --seed shrink shrink $S --schedule t0 --seed 2
misapplied --jobs bench bench $S --jobs 2
misapplied --json bench bench $S --json
misapplied --strategy 'bench --explore' bench --explore $S --strategy swarm
misapplied --backend 'bench --explore' bench --explore --backend win32 $S
misapplied --backend 'bench --explore' bench --backend win32 --explore $S
# validate takes --junit and --trace-json (the Wine test wine-outputs reads
# them); this build has no real backend and says so, exit 2, before writing.
for o in "--junit $T/v.xml" "--trace-json $T/v.json"; do
  $CLI validate $S --backend win32 $o > $T/o.txt 2> $T/e.txt
  rc=$?
  check "validate $o on Linux: exit 2, it needs the Windows build, nothing written" \
    "[ $rc -eq 2 ] && grep -q 'needs the Windows build' $T/e.txt && [ ! -s $T/o.txt ] && [ ! -e ${o#* } ]"
done
misapplied --max-execs validate validate $S --backend win32 --max-execs 5
misapplied --backend run run $S --backend win32
misapplied --seed 'demo --replay-lost-update' demo --replay-lost-update t0 --seed 2
check "the message names where the option applies" "grep -q 'it applies to explore, bench --explore' <($CLI run $S --preemptions 3 2>&1)"

# The whole matrix, from the usage text (printed from the same table the
# parser reads): every option listed for a command is accepted by it, every
# other one is refused with "does not apply". Budgets are tiny: this checks
# parsing, not the commands.
SCH=$($CLI run $S --json | grep -o '"schedule":"[^"]*"' | cut -d'"' -f4)
sample() { # a valid value for an option
  case $1 in
    --seed|--swarm) echo 1 ;; --runs) echo 2 ;; --time) echo 0.05s ;; --strategy) echo random ;;
    --jobs) echo 1 ;; --shard) echo 1/1 ;; --schedule|--replay-lost-update) echo "$SCH" ;;
    --preemptions|--kernel-bound) echo 0 ;; --por) echo dpor ;; --max-execs) echo 5 ;;
    --backend) echo sim ;; --tolerance-ms) echo 5 ;; --platform) echo any ;; --junit) echo $T/m.xml ;; --trace) echo $T/m.txt ;;
    --trace-json) echo $T/m.json ;;
  esac
}
$CLI help > $T/help.txt
all_opts=$(sed -n '/^options:/,/^$/p' $T/help.txt | grep -o -- '^  --[a-z-]*' | sort -u)
matrix_ok=0 matrix_bad=0
while IFS=$'\t' read -r syn opts; do
  base=$(printf '%s' "$syn" | sed -e "s#\[FILE\.\.\.\]#$S#" -e "s#FILE\.\.\.#$S#" -e "s#FILE#$S#" -e "s#--schedule STR#--schedule $SCH#" -e "s#--replay-lost-update STR#--replay-lost-update $SCH#")
  case $syn in
    fuzz*) budget="--runs 2" ;; explore*|"bench --explore"*) budget="--max-execs 5" ;; bench*) budget="--time 0.05s" ;; *) budget= ;;
  esac
  for o in $all_opts; do
    name=${syn%% *}
    case "$name:$o" in validate:--conformance|bench:--explore|demo:--replay-lost-update) continue ;; esac
    case " $base " in *" $o "*) continue ;; esac
    if grep -q -- "\[$o[] ]" <<<"$opts"; then
      takes=$(grep -o -- "\[$o [^]]*\]" <<<"$opts" | head -1)
      val=; [ -n "$takes" ] && val=$(sample $o)
      b=$budget; case $o in --runs|--time|--max-execs) b= ;; esac
      $CLI $base $b $o $val > /dev/null 2> $T/e.txt
      rc=$?
      if grep -q 'does not apply\|unknown option\|needs a value\| needs ' $T/e.txt && ! grep -q 'needs the Windows build' $T/e.txt; then
        matrix_bad=$((matrix_bad + 1)); echo "  refused: $base $b $o $val: $(head -1 $T/e.txt)"
      elif [ $rc -eq 2 ] && ! grep -q 'needs the Windows build' $T/e.txt; then
        matrix_bad=$((matrix_bad + 1)); echo "  exit 2: $base $b $o $val: $(head -1 $T/e.txt)"
      else
        matrix_ok=$((matrix_ok + 1))
      fi
    else
      val=$(sample $o)
      [ "$name:$o" = demo:--trace ] && val= # demo's --trace is a flag
      $CLI $base $o $val > $T/o.txt 2> $T/e.txt
      rc=$?
      if [ $rc -eq 2 ] && grep -q -- "does not apply to" $T/e.txt && [ ! -s $T/o.txt ]; then
        matrix_ok=$((matrix_ok + 1))
      else
        matrix_bad=$((matrix_bad + 1)); echo "  accepted: $base $o: exit $rc"
      fi
    fi
  done
done < <(awk '/^commands/ { on = 1; next } /^  version/ { on = 0 }
  on && /^  [a-z]/ { if (syn != "") print syn "\t" opts; syn = substr($0, 3); sub(/  .*/, "", syn); opts = "" }
  on && /^      \[/ { opts = opts substr($0, 7) " " }
  END { if (syn != "") print syn "\t" opts }' $T/help.txt)
check "every (command, option) pair as the usage says ($matrix_ok checked)" "[ $matrix_bad -eq 0 ] && [ $matrix_ok -gt 150 ]"

# The README's demo replay line still replays the demo's lost update.
demo_sched=$(grep -o "demo --replay-lost-update '[^']*'" README.md | head -1 | cut -d"'" -f2)
$CLI demo --replay-lost-update "$demo_sched" > $T/demo.txt
rc=$?
check "README's demo replay: exit 1, lost-update" "[ -n \"$demo_sched\" ] && [ $rc -eq 1 ] && grep -q 'verdict: fail (lost-update)' $T/demo.txt"

echo "cli: $pass passed, $fail failed"
[ $fail -eq 0 ]
