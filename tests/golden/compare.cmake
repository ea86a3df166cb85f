# compare.cmake - runs a command and compares its JSON lines with a golden
# file: the same seeds must give byte-identical executions (schedules, steps,
# virtual times, trace hashes) on every build: asm or ucontext fibers, with or
# without sanitizers, Linux or Windows. The summary line (wall-clock rates) and
# carriage returns (Windows console output) are left out.
#   cmake -DGOLDEN=file -DCMD=exe|arg|... -P compare.cmake   ('|' separates: lists
#   of arguments do not survive being passed through CMake functions)
# After an intended change of the simulator's behaviour, regenerate with the
# command in tests/golden/README.md.
string(REPLACE "|" ";" CMD "${CMD}")
execute_process(COMMAND ${CMD} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
string(REPLACE "\r" "" out "${out}")
string(REGEX REPLACE "[^\n]*\"type\":\"summary\"[^\n]*\n?" "" out "${out}")
file(READ "${GOLDEN}" want)
if(NOT out STREQUAL want)
  file(WRITE "${GOLDEN}.actual" "${out}")
  message(FATAL_ERROR "output differs from ${GOLDEN} (written to ${GOLDEN}.actual); exit code ${rc}")
endif()
message(STATUS "golden: identical to ${GOLDEN}")
