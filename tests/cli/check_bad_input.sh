#!/usr/bin/env bash
# check_bad_input.sh - bad input to iocpcheck, file and flag: each kind exits 2
# with a message that names the place (file:line:col for a file, the option
# or argument for a flag), prints nothing on stdout (nothing ran), and, on a
# sanitizer build, reports no error and no leak (LeakSanitizer would change
# the exit code and write its report on stderr).
# Usage: check_bad_input.sh BUILD_DIR   (from the source root)
set -u
B=${1:?build dir}
CLI=$B/iocpcheck
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
S=scenarios/break/break-twice.scn
pass=0 fail=0 kinds=0

# bad WHERE-REGEX ARGS...: exit 2, stderr names the place, stdout empty, no sanitizer report.
bad() {
  local where=$1; shift
  kinds=$((kinds + 1))
  "$CLI" "$@" > "$T/out" 2> "$T/err"
  local rc=$?
  if [ $rc -eq 2 ] && [ ! -s "$T/out" ] && grep -Eq -- "$where" "$T/err" && ! grep -q 'Sanitizer' "$T/err"; then
    pass=$((pass + 1)); echo "ok   $*"
  else
    fail=$((fail + 1)); echo "FAIL $*: exit $rc, want 2 and /$where/ on stderr: $(head -c 400 "$T/err")"
  fi
}

# Files: every malformed scenario of tests/scenarios/bad, each with the exact
# error its first comment line names (file:line:col: message).
for f in tests/scenarios/bad/*.scn; do
  want=$(grep -m1 '^# error: ' "$f" | sed 's/^# error: //')
  [ -n "$want" ] || { fail=$((fail + 1)); echo "FAIL $f has no '# error:' line"; continue; }
  for cmd in run; do
    kinds=$((kinds + 1))
    "$CLI" $cmd "$f" > "$T/out" 2> "$T/err"
    rc=$?
    if [ $rc -eq 2 ] && [ ! -s "$T/out" ] && [ "$(head -1 "$T/err")" = "$want" ] && ! grep -q Sanitizer "$T/err"; then
      pass=$((pass + 1)); echo "ok   $cmd $f"
    else
      fail=$((fail + 1)); echo "FAIL $cmd $f: exit $rc, want '$want', got '$(head -c 300 "$T/err")'"
    fi
  done
done

# A bad file among good ones: reported before anything runs, whatever the command.
for cmd in "fuzz --runs 5" "explore --max-execs 5" "replay --schedule t0" "shrink --schedule t0"; do
  bad "^tests/scenarios/bad/no-threads.scn:[0-9]+:[0-9]+: " $cmd $S tests/scenarios/bad/no-threads.scn
done

# Files made here: binary bytes, empty, only comments, a long line, item 12's messages.
printf 'scenario x\n\001\002\003\n' > "$T/binary.scn"
: > "$T/empty.scn"
printf '# nothing\n' > "$T/comment.scn"
{ printf 'scenario long\nsocket s\nthread t:\n    break '; head -c 5000 /dev/zero | tr '\0' 'a'; printf '\n'; } > "$T/long.scn"
printf 'scenario big\nsocket s\nthread t:\n    sleep 1000000000000000s\n' > "$T/big-sleep.scn"
printf 'scenario z\nsocket s\nthread t:\n    break\nschedule "t0x0"\n' > "$T/zero-repeat.scn"
printf 'scenario z\nsocket s\nthread t:\n    break\nschedule "t0" expect fail nosuch\n' > "$T/no-property.scn"
bad "^$T/binary.scn:2:1: " run "$T/binary.scn"
bad "^$T/empty.scn:1:1: " run "$T/empty.scn"
bad "^$T/comment.scn:[0-9]+:[0-9]+: " run "$T/comment.scn"
bad "^$T/long.scn:4:[0-9]+: " run "$T/long.scn"
bad "^$T/big-sleep.scn:4:11: bad duration '1000000000000000s': too long" run "$T/big-sleep.scn"
bad "^$T/zero-repeat.scn:5:14: bad schedule: a repeat count is from 1 to 100000000, not 0" run "$T/zero-repeat.scn"
bad "^$T/no-property.scn:5:27: expected a property after 'fail' \(one-completion,.*poll-delay, foreign-packets, no-fatal, expect, deadlock, livelock.*\), got 'nosuch'" run "$T/no-property.scn"

# Flags.
bad "unknown command 'frobnicate'" frobnicate $S
bad "unknown option '--frobnicate'" run $S --frobnicate
bad "cannot read '/nonexistent.scn'" run /nonexistent.scn
bad "run needs at least one scenario file" run
bad "--runs needs a positive integer, got '0'" fuzz $S --runs 0
bad "--runs needs a positive integer, got 'many'" fuzz $S --runs many
bad "--runs needs a value" fuzz $S --runs
bad "--seed needs a non-negative integer, got '-1'" run $S --seed -1
bad "--seed needs a non-negative integer, got '99999999999999999999999'" run $S --seed 99999999999999999999999
bad "--time needs a duration with its unit.*got '5'" fuzz $S --time 5
bad "--time needs .*got '0s'" fuzz $S --time 0s
bad "--time needs .*got '5x'" fuzz $S --time 5x
bad "--time needs .*got 'inf'" fuzz $S --time inf
bad "--runs and --time are exclusive" fuzz $S --runs 5 --time 1s
bad "--jobs needs an integer from 1 to 64, got '0'" fuzz $S --jobs 0
bad "--jobs needs an integer from 1 to 64, got '65'" fuzz $S --jobs 65
bad "--shard needs K/N.*got '3/2'" fuzz $S --shard 3/2
bad "--shard needs K/N.*got '0/2'" fuzz $S --shard 0/2
bad "--shard needs K/N.*got '1/2x'" fuzz $S --shard 1/2x
bad "--strategy needs .*got 'pct:0'" fuzz $S --strategy pct:0
bad "--strategy needs .*got 'pct:17'" fuzz $S --strategy pct:17
bad "--strategy needs .*got 'dfs'" fuzz $S --strategy dfs
bad "--preemptions needs .*got '65'" explore $S --preemptions 65
bad "--kernel-bound needs .*got '-1'" explore $S --kernel-bound -1
bad "--por needs none, sleep or dpor, got 'full'" explore $S --por full
bad "--max-execs needs a positive integer, got '0'" explore $S --max-execs 0
bad "--backend needs sim or win32, got 'linux'" validate $S --backend linux
bad "--tolerance-ms needs .*got '-1'" validate $S --backend win32 --tolerance-ms -1
bad "option --preemptions does not apply to 'run'" run $S --preemptions 3
bad "option --junit does not apply to 'replay'" replay $S --schedule t0 --junit "$T/x.xml"
bad "replay needs --schedule" replay $S
bad "replay needs exactly one scenario file" replay $S $S --schedule t0
bad "^iocpcheck: --schedule: col 4: expected a choice letter .*got 'Q'" replay $S --schedule t0,Q1
bad "^iocpcheck: --schedule: col 4: repeat count too large \(at most 100000000\)" replay $S --schedule t0x999999999
bad "^iocpcheck: --schedule: the schedule does not fit this scenario" replay $S --schedule t9
bad "^iocpcheck: --trace: cannot write /nonexistent/dir/t.txt" run $S --trace /nonexistent/dir/t.txt
bad "^iocpcheck: --trace-json: cannot write /nonexistent/dir/t.json" fuzz $S --trace-json /nonexistent/dir/t.json
bad "^iocpcheck: --junit: cannot write /nonexistent/dir/j.xml" explore $S --junit /nonexistent/dir/j.xml
bad "demo takes no FILE arguments, got '$S'" demo $S

echo "bad input: $kinds kinds, $pass passed, $fail failed"
[ "$kinds" -ge 40 ] || { echo "FAIL fewer than 40 kinds of bad input"; exit 1; }
[ $fail -eq 0 ]
