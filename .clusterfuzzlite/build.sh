#!/bin/bash -eu
# build.sh - OSS-Fuzz / ClusterFuzzLite build of the libFuzzer targets.
# Takes what OSS-Fuzz sets: CC, CFLAGS (sanitizers and coverage),
# LIB_FUZZING_ENGINE (the engine's link flags or library), SRC (the
# checkout is $SRC/iocpcheck), OUT (where targets, dictionaries, options
# and seed corpora go); WORK (scratch) when set. Checked locally by
# fuzz/cflite-check (CTest fuzz-cflite-build).
src=$SRC/iocpcheck
build=${WORK:-/tmp}/iocpcheck-build
configure() { # BUILD_DIR EXTRA_CFLAGS
  cmake -S "$src" -B "$1" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$CFLAGS $2" \
    -DIOCPCHECK_FUZZ=ON -DIOCPCHECK_FUZZ_ENGINE="$LIB_FUZZING_ENGINE" -DIOCPCHECK_FUZZ_MUTANTS= \
    -DIOCPCHECK_TESTS=OFF -DIOCPCHECK_BENCH=OFF -DIOCPCHECK_MUTANTS=OFF
}
# The parsers' targets: everything instrumented.
configure "$build" ""
cmake --build "$build" --target fuzz_scenario_parse fuzz_schedule -j "$(nproc)"
cp "$build/fuzz/fuzz_scenario_parse" "$build/fuzz/fuzz_schedule" "$OUT/"
# fuzz_decisions: coverage of the poller and of fuzz/ only (the README's
# "Fuzzing" section: the engine's and the interpreter's edges are noise to
# a schedule search, and cost time). Sanitizers still cover everything.
# fuzz_decisions_schedule writes fuzz_decisions' seeds when it is built.
if [[ "$CFLAGS" == *-fsanitize=fuzzer-no-link* || "$CFLAGS" == *-fsanitize-coverage=* ]]; then
  configure "$build-decisions" "-fsanitize-coverage-allowlist=$src/fuzz/coverage-allow.txt"
else
  configure "$build-decisions" "" # no SanitizerCoverage (a coverage or AFL++ build): nothing to limit
fi
cmake --build "$build-decisions" --target fuzz_decisions fuzz_decisions_schedule -j "$(nproc)"
cp "$build-decisions/fuzz/fuzz_decisions" "$OUT/"
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
seed_zip "$OUT/fuzz_decisions_seed_corpus.zip" "$build-decisions/fuzz/seeds/decisions"
