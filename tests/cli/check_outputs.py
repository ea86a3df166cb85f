#!/usr/bin/env python3
"""check_outputs.py - every output iocpcheck writes, read back by a real parser.

Runs every command that runs scenarios on this build (run, fuzz, replay,
shrink, explore) with every output flag it accepts (--json, --junit, --trace,
--trace-json) over several scenarios, passing and failing, and checks:
  - every JSON line against schemas/iocpcheck.schema.json (python3-jsonschema);
  - every JUnit file with an XML parser: the scenario names, in order, and the
    test and failure counts;
  - every Chrome trace: well-formed events, ts monotonic per track and equal to
    the virtual time in microseconds, every track named (the scenario's thread
    names, the kernel its own track), one process per traced execution;
  - the text trace: one section per traced execution.
It also checks the fixes of issue 11 that concern outputs: a --junit whose
scenario is freed before the report (item 1), stored schedules run and their
`expect` checked (item 3), every scenario kept in a trace (item 4), output
paths checked before anything runs (item 5), one meaning per field (item 6),
--time as the command's budget and its unit (item 7), --max-execs per
scenario with --jobs (item 8), and the Chrome trace's time and names (item 13).
validate needs the Windows build: its records are in the schema and checked
by the Wine test `wine-outputs`.
Usage: check_outputs.py BUILD_DIR   (from the source root)
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import jsonschema

import outputs_lib
from outputs_lib import scn_info

B = sys.argv[1]
CLI = os.path.join(B, "iocpcheck")
SCHEMA = json.load(open("schemas/iocpcheck.schema.json"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
T = tempfile.mkdtemp(prefix="iocpcheck-outputs-")
failures = []
passes = 0


def check(name, cond, detail=""):
    global passes
    if cond:
        passes += 1
        print("ok   " + name)
    else:
        failures.append(name)
        print("FAIL " + name + (": " + detail if detail else ""))


def run(args, exe=CLI):
    t0 = time.monotonic()
    r = subprocess.run([exe] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    return r.returncode, r.stdout, r.stderr, time.monotonic() - t0


def records(out, name):
    """The JSON lines of `out`, each checked against the schema."""
    recs, bad = [], []
    for i, line in enumerate(out.splitlines()):
        try:
            rec = json.loads(line)
        except ValueError as e:
            bad.append("line %d not JSON: %s: %r" % (i + 1, e, line[:80]))
            continue
        errs = sorted(VALIDATOR.iter_errors(rec), key=str)
        if errs:
            bad.append("line %d: %s" % (i + 1, errs[0].message[:200]))
        recs.append(rec)
    check(name + ": %d JSON lines valid against the schema" % len(recs), recs and not bad, "; ".join(bad[:3]))
    return recs


def junit(path, name, want_names, want_failed):
    p = outputs_lib.junit(path, want_names, want_failed)
    check(name + ": JUnit names %s, failed %s" % (want_names, want_failed), not p, "; ".join(p[:3]))


def chrome(path, name, want_processes, scns):
    p, tnames = outputs_lib.chrome(path, want_processes, scns)
    check(name + ": Chrome trace: %d processes, tracks named, ts monotonic" % want_processes, not p, "; ".join(p[:3]))
    return tnames


def text_trace(path, name, want_sections):
    try:
        text = open(path).read()
    except OSError as e:
        check(name + ": text trace", False, str(e))
        return
    n = text.count("== simulator trace: ")
    check(name + ": text trace has %d executions" % want_sections,
          n == want_sections and text.count("== model trace ==") == want_sections, "got %d" % n)


# ---- scenarios ----
PASS1 = "scenarios/break/break-twice.scn"
PASS2 = "scenarios/close/close-concurrent.scn"
NAME1, _ = scn_info(PASS1)
NAME2, _ = scn_info(PASS2)
# A scenario with stored schedules: one that holds, then the same with one
# whose expectation is wrong (item 3).
src = open(PASS1).read()
STORED_OK = os.path.join(T, "stored-ok.scn")
open(STORED_OK, "w").write(src.replace("scenario break-twice", "scenario stored-ok")
                           + '\nschedule "t0" expect pass\n')
STORED_BAD = os.path.join(T, "stored-bad.scn")
open(STORED_BAD, "w").write(src.replace("scenario break-twice", "scenario stored-bad")
                            + '\nschedule "t0" expect pass\nschedule "t0" expect fail deadlock\n')
bad_line = len((src + '\nschedule "t0" expect pass\n').splitlines()) + 1


# A failing scenario that every build has (the asan preset builds no mutant):
# the second poll's expectation is one it cannot meet.
FAILSCN = os.path.join(T, "fails.scn")
open(FAILSCN, "w").write(src.replace("scenario break-twice", "scenario fails")
                         .replace("    expect r2 in {ok(0)}", "    expect r2 in {timeout}"))
NAMEF = "fails"


def outs(tag):
    return [os.path.join(T, tag + s) for s in (".xml", ".txt", ".json")]


# ---- run: every flag, several scenarios ----
x, t, j = outs("run")
rc, out, err, _ = run(["run", PASS1, PASS2, STORED_OK, "--json", "--junit", x, "--trace", t, "--trace-json", j])
check("run: exit 0 over three passing scenarios", rc == 0, err)
recs = records(out, "run --json")
check("run: one execution per scenario plus the summary",
      [r["type"] for r in recs] == ["execution"] * 3 + ["summary"] and recs[-1]["scenarios"] == 3, out[:300])
junit(x, "run --junit", [NAME1, NAME2, "stored-ok"], [])
text_trace(t, "run --trace", 4)  # stored-ok: its stored schedule and its execution
chrome(j, "run --trace-json", 4, [PASS1, PASS2, STORED_OK, STORED_OK])

KSCN = "scenarios/close/close-wakes-reader-writer.scn"
x, t, j = outs("runk")
rc, out, err, _ = run(["run", KSCN, "--trace-json", j])
tn = chrome(j, "run --trace-json, kernel actions", 1, [KSCN]) or {}
check("run --trace-json: the kernel is its own track, named kernel (item 13)", tn.get((1, 64)) == "kernel", str(tn))

# ---- fuzz: every flag, a passing and a failing scenario (item 1: the junit
# names come from a scenario freed before the report is written) ----
x, t, j = outs("fuzz")
rc, out, err, _ = run(["fuzz", PASS1, FAILSCN, PASS2, "--runs", "300", "--json", "--all", "--junit", x, "--trace", t,
                       "--trace-json", j])
check("fuzz: exit 1", rc == 1, err)
recs = records(out, "fuzz --json --all")
fails = [r for r in recs if r["type"] == "execution" and r["verdict"] == "fail"]
check("fuzz: the failure is an execution record with its seed and strategy",
      fails and fails[-1]["strategy"] == "random" and isinstance(fails[-1]["seed"], int), str(fails[-1:]))
check("fuzz: a summary last", recs[-1]["type"] == "summary" and recs[-1]["failed"] == 1)
junit(x, "fuzz --junit", [NAME1, NAMEF, NAME2], [NAMEF])
text_trace(t, "fuzz --trace", 1)
chrome(j, "fuzz --trace-json", 1, [FAILSCN])
x, t, j = outs("fuzz1")
rc, out, err, _ = run(["fuzz", "scenarios/break/break-twice.scn", "--runs", "10", "--junit", x])
junit(x, "fuzz --junit, one scenario (item 1)", [NAME1], [])

# ---- replay and shrink ----
sched = fails[-1]["schedule"] if fails else "t0"
for cmd in ("replay", "shrink"):
    x, t, j = outs(cmd)
    rc, out, err, _ = run([cmd, FAILSCN, "--schedule", sched, "--json", "--trace", t, "--trace-json", j])
    check(cmd + ": exit 1 on the failing schedule", rc == 1, err)
    recs = records(out, cmd + " --json")
    check(cmd + ": strategy schedule and seed null (item 6)",
          recs and recs[0]["strategy"] == "schedule" and recs[0]["seed"] is None, out[:200])
    text_trace(t, cmd + " --trace", 1)
    chrome(j, cmd + " --trace-json", 1, [FAILSCN])

# ---- explore ----
x, t, j = outs("explore")
rc, out, err, _ = run(["explore", PASS1, FAILSCN, PASS2, "--max-execs", "300", "--json", "--junit", x, "--trace", t,
                       "--trace-json", j])
check("explore: exit 1", rc == 1, err)
recs = records(out, "explore --json")
ex = [r for r in recs if r["type"] == "explore"]
fx = [r for r in recs if r["type"] == "execution"]
check("explore: a record per scenario, the failure with strategy explore, seed null (item 6)",
      len(ex) == 3 and len(fx) == 1 and fx[0]["strategy"] == "explore" and fx[0]["seed"] is None
      and fx[0]["preemptions"] <= max(ex[1]["preemption_bound"], 0), out[:400])
junit(x, "explore --junit", [NAME1, NAMEF, NAME2], [NAMEF])
text_trace(t, "explore --trace", 1)
chrome(j, "explore --trace-json", 1, [FAILSCN])

# ---- item 3: stored schedules run and their expect checked ----
for cmd, extra in (("run", []), ("fuzz", ["--runs", "5"]), ("explore", ["--max-execs", "5"])):
    rc, out, err, _ = run([cmd, STORED_BAD] + extra)
    check("%s: a stored schedule that does not end as expected fails, with file:line (item 3)" % cmd,
          rc == 1 and ("%s:%d" % (STORED_BAD, bad_line)) in out, "exit %d: %s" % (rc, out[:300]))
    rc, out, err, _ = run([cmd, STORED_OK] + extra)
    check("%s: a stored schedule that ends as expected passes" % cmd, rc == 0, out[:300])
rc, out, err, _ = run(["run", STORED_BAD, "--json"])
recs = records(out, "run --json, stored schedule")
check("run --json: the mismatch is an execution record, strategy stored, property stored-schedule",
      any(r["type"] == "execution" and r["strategy"] == "stored" and r["property"] == "stored-schedule"
          for r in recs), out[:300])

# ---- item 5: an output path that cannot be written stops the command first ----
for cmd, extra in (("run", []), ("fuzz", ["--runs", "5"]), ("explore", ["--max-execs", "5"]),
                   ("replay", ["--schedule", "t0"]), ("shrink", ["--schedule", "t0"])):
    flags = ["--trace", "--trace-json"] + (["--junit"] if cmd in ("run", "fuzz", "explore") else [])
    for flag in flags:
        rc, out, err, _ = run([cmd, PASS1, flag, "/nonexistent/dir/x"] + extra)
        check("%s %s /nonexistent/dir/x: exit 2 naming the option, nothing run" % (cmd, flag),
              rc == 2 and out == "" and flag in err and "/nonexistent/dir/x" in err, "exit %d %r %r" % (rc, out, err))

# ---- item 7: --time is the whole command's; a unit is required ----
rc, out, err, el = run(["fuzz", "scenarios/break", "--time", "2s", "--jobs", "2"])
check("fuzz scenarios/break --time 2s --jobs 2 takes about 2 s in all (%.1f s)" % el, rc == 0 and el < 4.5, err)
rc, out, err, _ = run(["fuzz", PASS1, "--time", "5"])
check("--time 5 (no unit) is refused like a scenario's duration", rc == 2 and "--time" in err and out == "", err)

# ---- item 8: --max-execs per scenario whatever --jobs ----
rc, out, err, _ = run(["explore", PASS2, "--preemptions", "3", "--max-execs", "300", "--jobs", "2", "--json"])
recs = records(out, "explore --jobs 2 --json")
ex = [r for r in recs if r["type"] == "explore"]
check("explore --jobs 2 --max-execs 300: at most 300 executions, stopped_by named",
      ex and ex[0]["executions"] <= 300 and (ex[0]["complete"] or ex[0]["stopped_by"] == "max-executions"),
      out[:300])

# A complete search is the same search with one job and with two: the same
# executions, the same last round, complete either way (item 8).
for scn in ("scenarios/break/break-twice.scn", "scenarios/break/break-vs-timeout.scn"):
    got = []
    for jobs in ("1", "2"):
        rc, out, err, _ = run(["explore", scn, "--jobs", jobs, "--json"])
        ex = [r for r in records(out, "explore --jobs %s --json" % jobs) if r["type"] == "explore"]
        got.append(tuple(ex[0][k] for k in ("executions", "complete", "stopped_by", "preemption_bound",
                                             "kernel_bound")) if ex else None)
    check("explore %s: a complete search counts the same with --jobs 1 and 2 (%s)" % (scn, got),
          got[0] is not None and got[0] == got[1] and got[0][1] is True, str(got))

# ---- item 9: a limit is reported as the limit, with its knob ----
LIM = os.path.join(T, "limit.scn")
open(LIM, "w").write("scenario lim\nsocket s\nknob max_decisions 5\nthread a:\n    break\nthread b:\n    break\n")
rc, out, err, _ = run(["run", LIM, "--json"])
recs = records(out, "run --json, a limit")
check("a decision limit reached: verdict limit, knob max_decisions (item 9)",
      rc == 1 and recs[0]["verdict"] == "limit" and recs[0]["knob"] == "max_decisions", out[:300])
rc, out, err, _ = run(["run", LIM])
check("... and in text: LIMIT, not a property failure, the knob named",
      out.startswith("LIMIT ") and "knob max_decisions" in out and "\n  property:" not in out, out[:300])

# ---- item 10: the progress bar, on a terminal (script(1) gives one) ----
def screen(raw):
    """The lines a terminal shows: \r returns, ESC[K erases to the end."""
    shown = []
    for line in raw.replace("\r\n", "\n").split("\n"):
        vis, col = "", 0
        for piece in re.split(r"(\r|\x1b\[K)", line):
            if piece == "\r":
                col = 0
            elif piece == "\x1b[K":
                vis = vis[:col]
            else:
                vis = vis[:col] + piece + vis[col + len(piece):]
                col += len(piece)
        shown.append(vis)
    return shown


for jobs in ("1", "2"):
    ts = os.path.join(T, "typescript" + jobs)
    r = subprocess.run(["script", "-qec", "%s fuzz scenarios/break --time 3s --jobs %s" % (CLI, jobs), ts],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    raw = open(ts, errors="replace", newline="").read()
    lines = [l for l in screen(raw) if l.strip() and not l.startswith("Script ")]
    drawn = "execs" in raw and (jobs == "1" or "x2 jobs" in raw)
    check("progress with --jobs %s: drawn while running, gone after: only PASS and summary lines stay" % jobs,
          r.returncode == 0 and drawn and all(re.match(r"(PASS |\d+ scenarios|\d+ passed)", l) for l in lines)
          and sum(l.startswith("PASS ") for l in lines) == 7, "exit %d drawn %s lines %r" % (r.returncode, drawn, lines[:4]))

print("\n%d passed, %d failed" % (passes, len(failures)))
sys.exit(1 if failures else 0)
