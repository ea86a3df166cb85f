#!/usr/bin/env bash
# check_shards.sh - scripts/merge-shards on shards run here: the merge of
# `fuzz --shard K/N` equals the single-machine run (CTest shard-merge).
#   tests/cli/check_shards.sh BUILD_DIR     (run from the repository root)
set -u
build=$1
cli=$build/iocpcheck-mutant-no-recheck  # fails several close/ scenarios: failures to merge
ok=$build/iocpcheck
work=$build/shard-merge
rm -rf "$work"; mkdir -p "$work"
fails=0
check() { if "$@"; then echo "ok: $name"; else echo "FAILED: $name"; fails=$((fails + 1)); fi; }

# Runs BIN over the close/ scenarios as N shards and as one run; merges.
# $1 tag, $2 binary, $3 shards, rest: fuzz flags.
run_case() {
  local tag=$1 bin=$2 n=$3
  shift 3
  local xmls=() jsons=()
  for k in $(seq 1 "$n"); do
    "$bin" fuzz scenarios/close --runs 300 --shard "$k/$n" --json --junit "$work/$tag-$k.xml" "$@" >"$work/$tag-$k.jsonl"
    jsons+=("$work/$tag-$k.jsonl"); xmls+=("$work/$tag-$k.xml")
  done
  "$bin" fuzz scenarios/close --runs 300 --json --junit "$work/$tag-single.xml" "$@" >"$work/$tag-single.jsonl"
  single_rc=$?
  scripts/merge-shards --json "$work/$tag-merged.jsonl" --junit "$work/$tag-merged.xml" "${jsons[@]}" -- "${xmls[@]}"
  merge_rc=$?
}

# Compares merged and single: outcome records equal, JUnit cases equal;
# with $3 = exact, the summary counts and JUnit executions too.
compare() {
  python3 - "$work/$1-merged.jsonl" "$work/$1-single.jsonl" "$work/$1-merged.xml" "$work/$1-single.xml" "$2" <<'PY'
import json, sys, xml.etree.ElementTree as ET
mj, sj, mx, sx, mode = sys.argv[1:]
def recs(p):
    rs = [json.loads(l) for l in open(p) if l.strip()]
    summ = [r for r in rs if r.get("summary") is True or r.get("type") == "summary"]
    assert len(summ) == 1, p
    return [r for r in rs if r not in summ], summ[0]
mo, ms = recs(mj); so, ss = recs(sj)
assert mo == so, "outcome records differ:\n%s\n%s" % (mo, so)
assert ms["failed_scenarios"] == sum(r["verdict"] == "fail" for r in so)
if mode == "exact":
    for k in ("executions", "failures"):
        assert ms[k] == ss[k], "%s: merged %s, single %s" % (k, ms[k], ss[k])
def cases(p):
    root = ET.parse(p).getroot()
    out = {}
    for c in root.iter("testcase"):
        f = c.find("failure")
        out[(c.get("classname"), c.get("name"))] = (
            None if f is None else (f.get("type"), f.get("message"), "".join(f.itertext())),
            c.find("system-out").text if mode == "exact" else None)
    suite = root.find("testsuite")
    return out, (root.get("tests"), root.get("failures"), suite.get("tests"), suite.get("failures"))
mc, mt = cases(mx); sc, st = cases(sx)
assert mc == sc, "JUnit cases differ:\n%s\n%s" % (mc, sc)
assert mt == st, "JUnit totals differ: %s %s" % (mt, st)
print("  %d outcome records, %d JUnit cases, %d failed" % (len(mo), len(mc), sum(v[0] is not None for v in mc.values())))
PY
}

name="3 shards with --keep-going = one run (records, executions, failures, JUnit)"
run_case kg "$cli" 3 --keep-going --no-shrink
check test "$merge_rc" = 1 -a "$single_rc" = 1
check compare kg exact
name="4 shards, stopping at each first failure: the same failures reported"
run_case stop "$cli" 4
check test "$merge_rc" = 1
check compare stop failures
name="the correct poller: 2 shards pass, merge exits 0, counts add up"
run_case pass "$ok" 2
check test "$merge_rc" = 0 -a "$single_rc" = 0
check compare pass exact
name="shrunk failures merge the same (with shrinking on, pct)"
run_case pct "$cli" 2 --strategy pct:3
check compare pct failures
name="bad input: a line that is not JSON, exit 2 naming file:line"
printf '{"summary":true,"executions":1}\nnot json\n' >"$work/bad.jsonl"
scripts/merge-shards "$work/bad.jsonl" >/dev/null 2>"$work/bad.err"
check test $? = 2
check grep -q "bad.jsonl:2: not a JSON record" "$work/bad.err"
name="bad input: a shard without its summary (did not finish), exit 2"
head -n 1 "$work/kg-1.jsonl" >"$work/cut.jsonl"
scripts/merge-shards "$work/kg-2.jsonl" "$work/cut.jsonl" >/dev/null 2>"$work/cut.err"
check test $? = 2
check grep -q "did not finish" "$work/cut.err"
name="records with a type field (the JSON schema's) merge like those without"
sed 's/^{"summary":true,/{"type":"summary",/; s/^{"scenario"/{"type":"execution","scenario"/' "$work/kg-1.jsonl" >"$work/typed-1.jsonl"
scripts/merge-shards "$work/typed-1.jsonl" "$work/kg-2.jsonl" "$work/kg-3.jsonl" >"$work/typed.jsonl"
check python3 -c 'import json,sys
a=[json.loads(l) for l in open(sys.argv[1])]; b=[json.loads(l) for l in open(sys.argv[2])]
strip=lambda r: {k: v for k, v in r.items() if k not in ("type", "summary", "exec_per_s", "elapsed_s")}
assert [strip(r) for r in a] == [strip(r) for r in b], (a, b)' "$work/typed.jsonl" "$work/kg-merged.jsonl"
[ $fails -eq 0 ] && echo "check_shards: all passed" || echo "check_shards: $fails failed"
[ $fails -eq 0 ]
