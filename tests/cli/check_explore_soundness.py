#!/usr/bin/env python3
"""check_explore_soundness.py - DPOR against naive DFS on library scenarios.

The reductions of `explore` (source-DPOR with sleep sets over the access log,
the kernel as many objects, kernel choices nobody observed) must find what
naive DFS finds. For every (K, D) of the grid {0, 1, 2} x {0, 1, 2}:

  1. small scenarios on the correct poller: where naive DFS covers the space
     within its budget, DPOR covers it too, with the same verdict, the same
     number of distinct final states (DPOR's are a subset of naive DFS's, so
     equal counts are equal sets), no more executions, and the same number
     of classes (explore_class.c), except at the points listed in
     tests/explore-class-gaps.txt with both counts exactly (a listed point
     that changes fails too, so the list only shrinks);
  2. every poller mutant on its explore scenario: where naive DFS exposes it
     within its budget, DPOR exposes it in the same round (K, D) of the
     iterative deepening, that is, at the smallest bound where naive DFS does;
  3. --last-round-first (the round (2, 2) alone) on the small scenarios: the
     same verdict, final states and classes as the rounds from (0, 0), in
     no more executions.

Usage: check_explore_soundness.py BUILD_DIR SOURCE_DIR [NAIVE_BUDGET]
"""
import json
import subprocess
import sys

GRID = [(k, d) for k in range(3) for d in range(3)]
SMALL = [
    "break/break-twice.scn",
    "break/break-wakes-blocked.scn",
    "break/break-vs-timeout.scn",
    "timer/delay-conversion.scn",
    "timer/no-wait-packets.scn",
    "timer/timer-already-signaled.scn",
    "timeout/deadline-unblocks-parked.scn",
    "close/close-parked-writer.scn",
    "skipsync/go22149-skip-ineffective.scn",
]


def explore(binary, src, scn, por, k, d, budget, extra=()):
    cmd = [binary, "explore", f"{src}/scenarios/{scn}", "--por", por, "--preemptions", str(k),
           "--kernel-bound", str(d), "--max-execs", str(budget), "--json", *extra]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
    recs = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    ex = [r for r in recs if r.get("type") == "explore"]
    if len(ex) != 1:
        raise SystemExit(f"FAIL: {' '.join(cmd)}: expected one explore record, got {len(ex)}")
    fails = [r for r in recs if r.get("type") == "execution" and r.get("verdict") == "fail"]
    return ex[0], fails


def class_gaps(src):
    """(scenario, K, D) -> (naive classes, DPOR classes) from explore-class-gaps.txt."""
    gaps = {}
    with open(f"{src}/tests/explore-class-gaps.txt", encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            if len(words) != 5:
                raise SystemExit(f"tests/explore-class-gaps.txt:{n}:1: expected SCENARIO K D NAIVE DPOR")
            gaps[(words[0], int(words[1]), int(words[2]))] = (int(words[3]), int(words[4]))
    return gaps


def main():
    build, src = sys.argv[1], sys.argv[2]
    budget = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
    errors, compared, skipped = [], 0, 0
    gaps, gaps_seen = class_gaps(src), set()
    for scn in SMALL:
        for k, d in GRID:
            naive, _ = explore(f"{build}/iocpcheck", src, scn, "none", k, d, budget)
            if not naive["complete"]:
                skipped += 1
                continue
            dpor, _ = explore(f"{build}/iocpcheck", src, scn, "dpor", k, d, budget)
            compared += 1
            where = f"{scn} (K, D) = ({k}, {d})"
            if not dpor["complete"]:
                errors.append(f"{where}: naive DFS complete, DPOR not ({dpor['stopped_by']})")
            if dpor["verdict"] != naive["verdict"]:
                errors.append(f"{where}: verdict {dpor['verdict']}, naive DFS {naive['verdict']}")
            if dpor["distinct_states"] != naive["distinct_states"]:
                errors.append(f"{where}: {dpor['distinct_states']} final states, naive DFS {naive['distinct_states']}")
            if dpor["executions"] > naive["executions"]:
                errors.append(f"{where}: {dpor['executions']} executions, naive DFS {naive['executions']}")
            counts, known = (naive["classes"], dpor["classes"]), gaps.get((scn, k, d))
            if known is not None:
                gaps_seen.add((scn, k, d))
                if counts != known:
                    errors.append(f"{where}: classes naive DFS {counts[0]}, DPOR {counts[1]}; "
                                  f"explore-class-gaps.txt says {known[0]}, {known[1]}")
            elif counts[0] != counts[1]:
                errors.append(f"{where}: {counts[1]} classes, naive DFS {counts[0]}")
    last_compared = 0
    for scn in SMALL:
        deep, _ = explore(f"{build}/iocpcheck", src, scn, "dpor", 2, 2, budget)
        last, _ = explore(f"{build}/iocpcheck", src, scn, "dpor", 2, 2, budget, ["--last-round-first"])
        if not deep["complete"]:
            continue
        last_compared += 1
        where = f"{scn} --last-round-first"
        for key in ("complete", "verdict", "distinct_states", "classes"):
            if last[key] != deep[key]:
                errors.append(f"{where}: {key} {last[key]}, the rounds from (0, 0) {deep[key]}")
        if last["executions"] > deep["executions"]:
            errors.append(f"{where}: {last['executions']} executions, the rounds from (0, 0) {deep['executions']}")
    for key in sorted(set(gaps) - gaps_seen):
        errors.append(f"explore-class-gaps.txt lists {key}, which naive DFS no longer covers")
    mutants, mskipped = 0, 0
    with open(f"{src}/scenarios/mutants.txt", encoding="utf-8") as f:
        rows = [line.split() for line in f if line[:1].isalpha()]
    for row in rows:
        name, scn = row[0], row[2] if len(row) > 2 else row[1]
        binary = f"{build}/iocpcheck-mutant-{name}"
        naive, nf = explore(binary, src, scn, "none", 2, 2, budget)
        if not nf:
            mskipped += 1
            continue
        dpor, df = explore(binary, src, scn, "dpor", 2, 2, budget * 10)
        mutants += 1
        nround = (naive["preemption_bound"], naive["kernel_bound"])
        dround = (dpor["preemption_bound"], dpor["kernel_bound"])
        if not df:
            errors.append(f"mutant {name} on {scn}: naive DFS exposes it at {nround}, DPOR does not")
        elif dround != nround:
            errors.append(f"mutant {name} on {scn}: DPOR exposes it at {dround}, naive DFS at {nround}")
    print(f"{compared} (scenario, K, D) compared ({skipped} over the naive budget of {budget}); "
          f"{mutants} mutants compared ({mskipped} not exposed by naive DFS within it); "
          f"{last_compared} scenarios with --last-round-first")
    # The grid must really be exercised, not skipped wholesale.
    if compared < 40 or mutants < 15 or last_compared < 6:
        errors.append(f"too little compared: {compared} points, {mutants} mutants")
    for e in errors:
        print("FAIL:", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
