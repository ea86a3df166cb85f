#!/usr/bin/env python3
"""check_validate_json.py - validate's JSON lines (the real backend) against
schemas/iocpcheck.schema.json: validate and validate --conformance over a
few scenarios, one of them NOT-RUN on Wine, every line checked, the record
types in their order (validate-host first, a validate record per scenario,
a conformance record per scenario run with --conformance, summary last).
Usage: check_validate_json.py CMD...   (e.g. wine build-mingw/iocpcheck.exe; from the source root)
"""
import json
import subprocess
import sys

import jsonschema

CMD = sys.argv[1:]
V = jsonschema.Draft202012Validator(json.load(open("schemas/iocpcheck.schema.json")))
SCNS = ["scenarios/break/break-twice.scn", "scenarios/timeout/deadline-far-future.scn",
        "scenarios/timer/delay-conversion.scn"]
bad = 0
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
    print("%s validate %s: exit %d, %d records %s%s" % ("ok  " if ok else "FAIL", " ".join(extra), r.returncode,
                                                         len(recs), types, "; " + errs[0] if errs else ""))
    bad += not ok
sys.exit(1 if bad else 0)
