#!/usr/bin/env python3
"""check_validate_json.py - validate's outputs (the real backend) read back by
real parsers: validate and validate --conformance over a few scenarios, one
of them NOT-RUN on Wine, one failing (an expectation it cannot meet).
  - every JSON line against schemas/iocpcheck.schema.json, the record types
    in their order (validate-host first, a validate record per scenario, a
    conformance record per scenario run with --conformance, summary last);
  - --junit with an XML parser: the scenario names in order, the failing one
    a failure, the NOT-RUN one skipped with its reason, the counts;
  - --trace-json with the Chrome-trace reader the simulator's traces use
    (outputs_lib.chrome): one process per scenario run, ts in wall
    microseconds (args.wall_ns), monotonic per track, tracks named after
    the scenario's threads;
  - --trace: one section per scenario run.
Usage: check_validate_json.py CMD...   (e.g. wine build-mingw/iocpcheck.exe; from the source root)
"""
import json
import os
import subprocess
import sys
import tempfile

import jsonschema

import outputs_lib

CMD = sys.argv[1:]
V = jsonschema.Draft202012Validator(json.load(open("schemas/iocpcheck.schema.json")))
T = tempfile.mkdtemp(prefix="iocpcheck-validate-")
SCNS = ["scenarios/break/break-twice.scn", "scenarios/timeout/deadline-far-future.scn",
        "scenarios/timer/delay-conversion.scn"]
# A failing scenario: break-twice with an expectation its second poll cannot meet.
FAILSCN = os.path.join(T, "fails.scn")
src = open(SCNS[0]).read()
assert "    expect r2 in {ok(0)}" in src
open(FAILSCN, "w").write(src.replace("scenario break-twice", "scenario fails")
                         .replace("    expect r2 in {ok(0)}", "    expect r2 in {timeout}"))
bad = 0


def report(ok, what, detail=""):
    global bad
    print("%s %s%s" % ("ok  " if ok else "FAIL", what, ": " + detail if detail and not ok else ""))
    bad += not ok


for extra in ([], ["--conformance"]):
    r = subprocess.run(CMD + ["validate"] + SCNS + ["--backend", "win32", "--runs", "2", "--json"] + extra,
                       stdout=subprocess.PIPE, text=True, timeout=600)
    recs = [json.loads(l) for l in r.stdout.replace("\r", "").splitlines() if l.strip()]
    errs = [e.message for rec in recs for e in V.iter_errors(rec)]
    types = [rec["type"] for rec in recs]
    want = ["validate-host"] + ["validate"] * 3 + ["summary"]
    if extra:
        want = ["validate-host", "validate", "conformance", "validate", "conformance", "validate", "summary"]
    runs = {rec["file"]: rec["verdict"] for rec in recs if rec["type"] == "validate"}
    ok = (not errs and types == want and runs.get(SCNS[2]) == "not-run"
          and runs.get(SCNS[1]) == "pass")  # item 20: a far deadline that data beats runs
    report(ok, "validate --json %s: exit %d, %d records %s" % (" ".join(extra), r.returncode, len(recs), types),
           errs[0] if errs else "")

# --junit, --trace-json, --trace over a passing, a failing and a NOT-RUN scenario.
x, j, t = (os.path.join(T, "v" + s) for s in (".xml", ".json", ".txt"))
files = [SCNS[0], FAILSCN, SCNS[2]]
# The widest tolerance: on a loaded machine a failed run during which the host
# held a thread longer than the tolerance is "host too slow", not a failure;
# this one fails whatever the timing (its expectation is about an outcome).
r = subprocess.run(CMD + ["validate"] + files + ["--backend", "win32", "--runs", "2", "--tolerance-ms", "600000",
                                                 "--junit", x, "--trace-json", j, "--trace", t],
                   stdout=subprocess.PIPE, text=True, timeout=600)
report(r.returncode == 1, "validate with a failing scenario exits 1 (got %d)" % r.returncode, r.stdout[-400:])
names = [outputs_lib.scn_info(f)[0] for f in files]
p = outputs_lib.junit(x, names, [names[1]], [names[2]])
report(not p, "validate --junit: names %s, failed %s, skipped %s" % (names, names[1], names[2]), "; ".join(p[:3]))
# The scenarios that ran: the passing one's last run, the failing one's first failing run.
p, tnames = outputs_lib.chrome(j, 2, files[:2], clock="wall_ns")
report(not p, "validate --trace-json: 2 processes, wall-clock ts monotonic per track, tracks named %s"
       % sorted(set(tnames.values())), "; ".join(p[:3]))
text = open(t).read()
report(text.count("== model trace: ") == 2 and "the failure ==" in text,
       "validate --trace: one section per scenario run, the failing run named")
# A path that cannot be written stops validate before it runs anything.
for flag in ("--junit", "--trace-json", "--trace"):
    r = subprocess.run(CMD + ["validate", SCNS[0], "--backend", "win32", flag, "/nonexistent/dir/x"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    report(r.returncode == 2 and r.stdout == "" and flag in r.stderr,
           "validate %s /nonexistent/dir/x: exit 2, nothing run" % flag, "exit %d %r" % (r.returncode, r.stdout[:200]))
sys.exit(1 if bad else 0)
