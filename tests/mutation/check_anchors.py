#!/usr/bin/env python3
"""The mutation CTest's baseline survives other edits of the poller: code
added at the top of three functions shifts the ordinals in the mutant ids,
yet the baseline (matched by anchor, scripts/mutate match_baseline) picks
the same sample and records each sampled mutant's own verdict; matched by
id it would not (the check that the shift happened at all)."""
import importlib.machinery
import importlib.util
import json
import os
import shutil
import sys
import tempfile

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load(root, name):
    loader = importlib.machinery.SourceFileLoader(name, os.path.join(root, "scripts", "mutate"))
    spec = importlib.util.spec_from_loader(name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def sample(mod, records):
    muts = mod.all_mutants()
    base = mod.match_baseline(muts, records)
    return {m["anchor"]: (m["id"], base[m["id"]]) for m in mod.stable_sample(muts, 36, base)}


def merged(mod, root):
    """render --current of the committed whole-set report, as seen from root's poller."""
    out = os.path.join(root, "merged.json")
    cwd = os.getcwd()
    os.chdir(root)
    try:
        with open(os.devnull, "w") as null:
            old = sys.stdout, sys.stderr
            sys.stdout = sys.stderr = null
            try:
                mod.render(os.path.join(SRC, "tests", "mutation", "whole-set.json"), out, True)
            finally:
                sys.stdout, sys.stderr = old
    finally:
        os.chdir(cwd)
    doc = json.load(open(out))
    return {r["anchor"]: r for r in doc["mutants"]}, doc["summary"]


def check_render_current(mod_src, mod_after, tmp):
    """render --current carries each verdict onto the same line's mutant after
    the ids shifted, under its new id, and loses none."""
    fail = []
    ref_dir = tempfile.mkdtemp(dir=tmp)
    before, sb = merged(mod_src, ref_dir)
    after, sa = merged(mod_after, tmp)
    if set(before) != set(after):
        fail.append("render --current: %d verdicts lost after the edit" % len(set(before) ^ set(after)))
    # SURVIVORS.md names mutants by id, so a shift may move a survivor between
    # "equivalent" and "survived"; a kill must stay a kill
    alive = ("survived", "equivalent")
    moved = 0
    for a, r in before.items():
        if a in after:
            x, y = after[a]["status"], r["status"]
            if x != y and not (x in alive and y in alive):
                fail.append("render --current: %s changed from %s to %s" % (a, y, x))
            moved += after[a]["id"] != r["id"]
    if not moved:
        fail.append("render --current: no verdict moved to a shifted id")
    added = len([m for m in mod_after.all_mutants() if "if (1 < 2 && 0 != 1) (void)0;" in m["anchor"]])
    for k in ("killed", "timed_out", "build_failed"):
        if sb.get(k) != sa.get(k):
            fail.append("render --current: %s %s before, %s after the edit" % (k, sb.get(k), sa.get(k)))
    if sb["survived"] + sb["equivalent"] != sa["survived"] + sa["equivalent"]:
        fail.append("render --current: survivors %d before, %d after the edit" % (
            sb["survived"] + sb["equivalent"], sa["survived"] + sa["equivalent"]))
    if sa["unjudged"] != sb["unjudged"] + added:
        fail.append("render --current: %d unjudged after the edit, want %d + the %d new mutants of the added lines"
                    % (sa["unjudged"], sb["unjudged"], added))
    if not fail:
        print("render --current: %d verdicts carried, %d onto shifted ids" % (len(after), moved))
    return fail


def check_whole_set_current(mod_src):
    """The committed whole-set report describes today's poller: every mutant
    of today's source has its verdict there and no record is of a line that
    is gone (an edit of poller/*.c is judged before the README's table can
    stay true)."""
    tmp = tempfile.mkdtemp()
    try:
        recs, summary = merged(mod_src, tmp)
    finally:
        shutil.rmtree(tmp)
    fail = []
    if summary.get("unjudged"):
        fail.append("whole-set.json: %d of today's mutants unjudged: judge them (README, Mutation testing)"
                    % summary["unjudged"])
    n = len(json.load(open(os.path.join(SRC, "tests", "mutation", "whole-set.json")))["mutants"])
    if n != len(recs):
        fail.append("whole-set.json: %d records, %d of them of today's mutants" % (n, len(recs)))
    if not fail:
        print("whole-set.json: all %d of today's mutants judged" % len(recs))
    return fail


def main():
    records = json.load(open(os.path.join(SRC, "tests", "mutation", "baseline.json")))["mutants"]
    with tempfile.TemporaryDirectory() as tmp:
        for d in ("scripts", "poller"):
            shutil.copytree(os.path.join(SRC, d), os.path.join(tmp, d))
        before = sample(load(tmp, "mutate_before"), records)
        for f, fn in (("netpoll.c", "np_poll("), ("polldesc.c", "np__pd_set_deadline("), ("fdio.c", "exec_io(")):
            p = os.path.join(tmp, "poller", f)
            text = open(p).read()
            j = text.index("{", text.index(fn))
            text = text[:j + 1] + "\n    if (1 < 2 && 0 != 1) (void)0;\n" + text[j + 1:]
            with open(p, "w") as out:
                out.write(text)
        mod_after = load(tmp, "mutate_after")
        after = sample(mod_after, records)
        mod_src = load(SRC, "mutate_src")
        fail = check_render_current(mod_src, mod_after, tmp) + check_whole_set_current(mod_src)

    if set(before) != set(after):
        fail.append("the sample changed: %d mutants left it" % len(set(before) - set(after)))
    shifted = [a for a in before if a in after and before[a][0] != after[a][0]]
    if not shifted:
        fail.append("no id shifted: the edit did not test anything")
    for a in before:
        if a in after and after[a][1] is not before[a][1]:
            fail.append("%s: matched another baseline record after the edit" % a)
    for a, (mid, rec) in after.items():
        if rec["anchor"] != a:
            fail.append("%s matched the record of %s" % (mid, rec["id"]))
    if fail:
        print("\n".join(fail))
        return 1
    print("same %d-mutant sample after the edit; %d ids shifted, each matched to its own baseline record"
          % (len(after), len(shifted)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
