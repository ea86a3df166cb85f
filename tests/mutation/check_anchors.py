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
        after = sample(load(tmp, "mutate_after"), records)
    fail = []
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
