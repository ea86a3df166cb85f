#!/bin/bash -eu
# build.sh - OSS-Fuzz / ClusterFuzzLite build of the libFuzzer targets.
# Takes what OSS-Fuzz sets: CC, CFLAGS (sanitizers and coverage),
# LIB_FUZZING_ENGINE (the engine's link flags or library), SRC (the
# checkout is $SRC/iocpcheck), OUT (where targets, dictionaries, options
# and seed corpora go); WORK (scratch) when set. Checked locally by
# fuzz/cflite-check (CTest fuzz-cflite-build).
src=$SRC/iocpcheck
build=${WORK:-/tmp}/iocpcheck-build
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$CFLAGS" \
  -DIOCPCHECK_FUZZ=ON -DIOCPCHECK_FUZZ_ENGINE="$LIB_FUZZING_ENGINE" -DIOCPCHECK_FUZZ_MUTANTS= \
  -DIOCPCHECK_TESTS=OFF -DIOCPCHECK_BENCH=OFF -DIOCPCHECK_MUTANTS=OFF
targets="fuzz_scenario_parse fuzz_schedule fuzz_decisions"
# shellcheck disable=SC2086
cmake --build "$build" --target $targets -j "$(nproc)"
for t in $targets; do
  cp "$build/fuzz/$t" "$OUT/"
done
cp "$src/fuzz/scenario.dict" "$OUT/fuzz_scenario_parse.dict"
cp "$src/fuzz/schedule.dict" "$OUT/fuzz_schedule.dict"
for t in $targets; do
  printf '[libfuzzer]\nuse_value_profile = 1\nmax_len = %s\n' "$([ $t = fuzz_decisions ] && echo 2048 || echo 4096)" \
    >"$OUT/$t.options"
done
# Seed corpora: the scenario library and the test scenarios; the stored and
# generated schedules; one selector byte per library scenario.
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
