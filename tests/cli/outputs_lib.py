"""outputs_lib.py - the readers of iocpcheck's output files, shared by the
tests that check them (check_outputs.py on the simulator, check_validate_json.py
on the real backend under Wine): each parses a file with a real parser and
returns the problems it finds (an empty list: the file is right).
"""
import json
import re
import xml.etree.ElementTree as ET


def scn_info(path):
    """A scenario file's name and its threads, in the order it declares them."""
    text = open(path).read()
    name = re.search(r"^scenario\s+(\S+)", text, re.M).group(1)
    threads = re.findall(r"^thread\s+([A-Za-z_][A-Za-z0-9_-]*)\s*:", text, re.M)
    return name, threads


def junit(path, want_names, want_failed, want_skipped=()):
    """A JUnit file: the test cases' names in order, which failed (each with a
    type), which were skipped (each with a message), the counts of the root
    and the suite, and each case's "N executions"."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as e:
        return ["JUnit does not parse: %s" % e]
    cases = list(root.iter("testcase"))
    names = [c.get("name") for c in cases]
    failed = [c.get("name") for c in cases if c.find("failure") is not None]
    skipped = [c.get("name") for c in cases if c.find("skipped") is not None]
    suite = root.find("testsuite")
    p = []
    if root.tag != "testsuites" or suite is None:
        p.append("root %s, suite %s" % (root.tag, suite))
    if names != list(want_names):
        p.append("names %s, want %s" % (names, list(want_names)))
    if sorted(failed) != sorted(want_failed):
        p.append("failed %s, want %s" % (failed, list(want_failed)))
    if sorted(skipped) != sorted(want_skipped):
        p.append("skipped %s, want %s" % (skipped, list(want_skipped)))
    for node in (root, suite):
        if node is None:
            continue
        got = (int(node.get("tests", -1)), int(node.get("failures", -1)), int(node.get("skipped", 0)))
        if got != (len(want_names), len(want_failed), len(want_skipped)):
            p.append("%s counts tests/failures/skipped %s" % (node.tag, got))
    for c in cases:
        f, s = c.find("failure"), c.find("skipped")
        if f is not None and not f.get("type"):
            p.append("%s: a failure without a type" % c.get("name"))
        if s is not None and not s.get("message"):
            p.append("%s: skipped without a reason" % c.get("name"))
        out = c.find("system-out")
        if out is None or not re.fullmatch(r"\d+ executions", out.text or ""):
            p.append("%s: system-out %r" % (c.get("name"), None if out is None else out.text))
    return p


def chrome(path, want_processes, scns, clock="virtual_ns"):
    """A Chrome trace: well-formed instant events, ts monotonic per track and
    equal to args[clock] / 1000 (virtual_ns on the simulator, wall_ns on the
    real backend), every track named before its events (the scenario's thread
    names, main, the kernel as tid 64), one process per execution named after
    its scenario (scns: the scenario files, in order). Returns (problems,
    {(pid, tid): thread name})."""
    try:
        doc = json.load(open(path))
    except (ValueError, OSError) as e:
        return ["Chrome trace does not parse: %s" % e], {}
    evs = doc.get("traceEvents")
    problems = []
    if not isinstance(evs, list):
        problems.append("no traceEvents list")
        evs = []
    pnames, tnames, last = {}, {}, {}
    for e in evs:
        for k in ("ph", "pid", "tid", "name"):
            if k not in e:
                problems.append("event without %s: %r" % (k, e))
        if e.get("ph") == "M":
            if e["name"] == "process_name":
                pnames[e["pid"]] = e["args"]["name"]
            elif e["name"] == "thread_name":
                tnames[(e["pid"], e["tid"])] = e["args"]["name"]
            continue
        if e.get("ph") != "i" or not isinstance(e.get("ts"), (int, float)) or e.get("s") != "t":
            problems.append("bad instant event %r" % e)
            continue
        track = (e["pid"], e["tid"])
        if track not in tnames:
            problems.append("track %s has events before (or without) a thread_name" % (track,))
        if e["ts"] < last.get(track, -1):
            problems.append("ts goes back on track %s at %r" % (track, e))
        last[track] = e["ts"]
        if not isinstance(e.get("args", {}).get(clock), int) or abs(e["ts"] * 1000 - e["args"][clock]) > 0.5:
            problems.append("ts %r is not %s/1000 (%r)" % (e["ts"], clock, e.get("args", {}).get(clock)))
    pids = sorted(pnames)
    if pids != list(range(1, want_processes + 1)):
        problems.append("processes %s, want 1..%d" % (pids, want_processes))
    for pid, scn in zip(pids, scns):
        sname, threads = scn_info(scn)
        if not pnames[pid].startswith(sname + " ("):
            problems.append("process %d named %r, not after %s" % (pid, pnames[pid], sname))
        names = {tnames[k] for k in tnames if k[0] == pid}
        want = {"main"} | set(threads)
        if not names <= want | {"kernel"} or not (names & set(threads)):
            problems.append("process %d threads %s, want from %s and kernel" % (pid, sorted(names), sorted(want)))
        for k, v in tnames.items():
            if k[0] != pid:
                continue
            if (k[1] == 64) != (v == "kernel"):
                problems.append("track %s named %r: the kernel (64) is the track named kernel" % (k, v))
            if 1 <= k[1] <= len(threads) and v != threads[k[1] - 1]:
                problems.append("track %s named %r: thread %d of the scenario is %s" % (k, v, k[1], threads[k[1] - 1]))
    return problems, tnames
