#!/usr/bin/env bash
# check_mutant_schedules.sh - every mutant's stored shortest failing schedule
# (scenarios/mutant-schedules.txt, from scripts/mutant-schedules) replayed
# against its mutant, where it must fail with the stored property (a strict
# replay: the exact execution), and against the correct poller, where it is a
# stored schedule (`schedule "..." expect pass`, followed as far as it fits)
# and the scenario must pass. Deterministic, about a second.
# Usage: check_mutant_schedules.sh BUILD_DIR   (from the source root)
set -u
B=${1:?build dir}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0 n=0
while read -r m scn prop sched; do
  case $m in ''|'#'*) continue ;; esac
  n=$((n + 1))
  out=$("$B/iocpcheck-mutant-$m" replay "scenarios/$scn" --schedule "$sched" --json 2>&1)
  rc=$?
  if [ $rc -eq 1 ] && grep -q "\"property\":\"$prop\"" <<<"$out"; then
    pass=$((pass + 1)); echo "ok   $m fails $prop on its schedule ($scn)"
  else
    fail=$((fail + 1)); echo "FAIL $m on its schedule ($scn): exit $rc, want 1 and $prop: ${out:0:300}"
  fi
  f="$T/$m.scn"
  { cat "scenarios/$scn"; printf '\nschedule "%s" expect pass\n' "$sched"; } > "$f"
  out=$("$B/iocpcheck" run "$f" 2>&1)
  rc=$?
  if [ $rc -eq 0 ]; then
    pass=$((pass + 1)); echo "ok   the correct poller passes $m's schedule ($scn)"
  else
    fail=$((fail + 1)); echo "FAIL the correct poller on $m's schedule ($scn): exit $rc: ${out:0:400}"
  fi
done < scenarios/mutant-schedules.txt
echo "mutant schedules: $n, $pass passed, $fail failed"
[ "$n" -gt 0 ] && [ $fail -eq 0 ]
