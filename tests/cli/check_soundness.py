#!/usr/bin/env python3
"""check_soundness.py - model soundness: the whole library on the correct
poller under pct:3 and swarm with time passing between calls (--time-jumps:
time may pass while a thread could run, as on a loaded machine), 2,400
executions per scenario and strategy (206,400 in all). A property failure
here is a false alarm (the poller is correct): every failing scenario must be
one of tests/soundness-known.txt (the findings still open), and every listed
one must still fail (fixed: remove it from the list).
Usage: check_soundness.py BUILD_DIR [RUNS]   (from the source root)
"""
import json
import os
import subprocess
import sys

B = sys.argv[1]
RUNS = sys.argv[2] if len(sys.argv) > 2 else "2400"
known = set()
for line in open("tests/soundness-known.txt"):
    if line.strip() and not line.startswith("#"):
        strategy, path, prop = line.split()[:3]
        known.add((strategy, path, prop))
found, total = set(), 0
for strategy in ("pct:3", "swarm"):
    r = subprocess.run([os.path.join(B, "iocpcheck"), "fuzz", "scenarios", "--strategy", strategy, "--runs", RUNS,
                        "--time-jumps", "--keep-going", "--jobs", "2", "--no-shrink", "--json"],
                       stdout=subprocess.PIPE, text=True, timeout=3000)
    for line in r.stdout.splitlines():
        rec = json.loads(line)
        if rec["type"] == "summary":
            total += rec["executions"]
            print("%s: %d executions, %d scenarios failed, %d failing executions" % (
                strategy, rec["executions"], rec["failed"], rec["failures"]))
        elif rec["type"] == "execution" and rec["verdict"] != "pass":
            found.add((strategy, rec["file"], rec["property"]))
            if (strategy, rec["file"], rec["property"]) not in known:
                print("NEW  %s %s %s: %s\n     replay: %s replay %s --schedule '%s'" % (
                    strategy, rec["file"], rec["property"], rec["message"].splitlines()[0], os.path.join(B, "iocpcheck"),
                    rec["file"], rec["schedule"]))
new = found - known
gone = known - found
for g in sorted(gone):
    print("GONE %s %s %s: no longer fails: remove it from tests/soundness-known.txt" % g)
print("model soundness: %d executions, %d known false alarms, %d new, %d gone" % (total, len(found & known), len(new),
                                                                                 len(gone)))
sys.exit(1 if new or gone or total < 200000 else 0)
