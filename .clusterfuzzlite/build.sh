#!/bin/bash -eu
# build.sh - OSS-Fuzz / ClusterFuzzLite build of the libFuzzer targets.
# Takes what OSS-Fuzz sets: CC, CFLAGS (sanitizers and coverage),
# LIB_FUZZING_ENGINE (the engine's link flags or library), SRC (the
# checkout is $SRC/iocpcheck), OUT (where targets, dictionaries, options
# and seed corpora go); WORK (scratch) when set. Checked locally by
# fuzz/cflite-check (CTest fuzz-cflite-build).
# OSS-Fuzz runs this with bash -eu; so does a plain `bash build.sh`.
set -eu
src=$(cd "$SRC/iocpcheck" && pwd)
build=${WORK:-/tmp}/iocpcheck-build
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$CFLAGS" \
  -DIOCPCHECK_FUZZ=ON -DIOCPCHECK_FUZZ_ENGINE="$LIB_FUZZING_ENGINE" -DIOCPCHECK_FUZZ_MUTANTS= \
  -DIOCPCHECK_TESTS=OFF -DIOCPCHECK_BENCH=OFF -DIOCPCHECK_MUTANTS=OFF
targets="fuzz_scenario_parse fuzz_schedule fuzz_decisions"
# fuzz_decisions_schedule writes fuzz_decisions' seeds when it is built.
# shellcheck disable=SC2086
cmake --build "$build" --target $targets fuzz_decisions_schedule -j "$(nproc)"
for t in $targets; do
  cp "$build/fuzz/$t" "$OUT/"
done
cp "$src/fuzz/scenario.dict" "$OUT/fuzz_scenario_parse.dict"
cp "$src/fuzz/schedule.dict" "$OUT/fuzz_schedule.dict"
# fuzz_decisions: inputs of any length from the start (len_control = 0):
# every byte is a decision, and short inputs are mostly non-preemptive.
printf '[libfuzzer]\nuse_value_profile = 1\nmax_len = 4096\n' >"$OUT/fuzz_scenario_parse.options"
printf '[libfuzzer]\nuse_value_profile = 1\nmax_len = 4096\n' >"$OUT/fuzz_schedule.options"
printf '[libfuzzer]\nuse_value_profile = 1\nmax_len = 2048\nlen_control = 0\n' >"$OUT/fuzz_decisions.options"
# Seed corpora: the scenario library and the test scenarios; the stored and
# generated schedules; per library scenario, inputs that repeat its
# non-preemptive execution and random executions 1..8.
seed_zip() { # ZIP DIR...
  python3 - "$@" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    for d in sys.argv[2:]:
        for root, _, files in os.walk(d):
            for f in sorted(files):
                p = os.path.join(root, f)
                z.write(p, os.path.relpath(p, d).replace(os.sep, "_"))
PY
}
seed_zip "$OUT/fuzz_scenario_parse_seed_corpus.zip" "$src/scenarios" "$src/tests/scenarios"
seed_zip "$OUT/fuzz_schedule_seed_corpus.zip" "$src/fuzz/seeds/schedule"
seed_zip "$OUT/fuzz_decisions_seed_corpus.zip" "$build/fuzz/seeds/decisions"
