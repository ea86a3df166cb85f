# pgo.cmake - profile feedback (GCC) for the core libraries, IOCPCHECK_PGO=ON.
#
# Why: an execution of a small scenario walks some 50,000 instructions spread
# over the engine, the kernel, the poller, the shims, the models and the
# interpreter; the profile is flat and the VM's time goes as much to
# instruction-cache misses and mispredicted branches as to instructions.
# GCC's profile feedback lays the hot paths out together and decides inlining
# and branch order from a training run: 7.6% fewer instructions and 13% to
# 18% more executions per CPU second on close/close-parked-reader (README,
# "Profile feedback" under "Performance").
#
# How: an instrumented build of the iocpcheck target in <build>/pgo/build
# (ExternalProject, same source, -fprofile-generate), one deterministic
# training run of the whole library (`fuzz scenarios --runs N`, fixed
# seeds: the same profile every time, so the same binary), then the core
# libraries of this build compiled with -fprofile-use. Object paths are made
# relative (-fprofile-prefix-path) so both trees name the same .gcda files.
# The profile only steers optimisation: a stale or missing one (an object
# compiled before the last retraining, a file the training never ran) costs
# speed, never correctness, and draws no warning. Objects are not recompiled
# for a new profile alone: a clean build is the one to measure.
if(NOT IOCPCHECK_PGO)
  return()
endif()
if(NOT CMAKE_C_COMPILER_ID STREQUAL "GNU" OR CMAKE_CROSSCOMPILING)
  message(FATAL_ERROR "IOCPCHECK_PGO=ON needs a native GCC build")
endif()
include(ExternalProject)

set(IOCPCHECK_PGO_RUNS 150 CACHE STRING "fuzz --runs per library scenario in the profile-feedback training run")
set(pgo_root ${CMAKE_BINARY_DIR}/pgo)
set(pgo_build ${pgo_root}/build)
set(pgo_prof ${pgo_root}/prof)

ExternalProject_Add(pgo_instrumented
  SOURCE_DIR ${CMAKE_SOURCE_DIR}
  BINARY_DIR ${pgo_build}
  CMAKE_ARGS
    -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE}
    -DCMAKE_C_COMPILER=${CMAKE_C_COMPILER}
    -DIOCPCHECK_PGO=OFF -DIOCPCHECK_TESTS=OFF -DIOCPCHECK_BENCH=OFF -DIOCPCHECK_MUTANTS=OFF
    -DIOCPCHECK_FIBER=${IOCPCHECK_FIBER}
    "-DCMAKE_C_FLAGS=${CMAKE_C_FLAGS} -fprofile-generate=${pgo_prof} -fprofile-prefix-path=${pgo_build} -fprofile-update=single"
    "-DCMAKE_EXE_LINKER_FLAGS=${CMAKE_EXE_LINKER_FLAGS} -fprofile-generate"
  BUILD_COMMAND ${CMAKE_COMMAND} --build ${pgo_build} --target iocpcheck
  BUILD_BYPRODUCTS ${pgo_build}/iocpcheck
  INSTALL_COMMAND ""
  BUILD_ALWAYS ON)

# Counts from one run only (gcov adds to existing files): the profile, and so
# the optimised build, is the same from one build to the next. A finding of
# the training run (its exit status) is not this build's concern: the tests
# report it.
add_custom_command(OUTPUT ${pgo_root}/trained.stamp
  COMMAND ${CMAKE_COMMAND} -E rm -rf ${pgo_prof}
  COMMAND sh -c "'${pgo_build}/iocpcheck' fuzz scenarios --runs ${IOCPCHECK_PGO_RUNS} >/dev/null 2>&1 || true"
  COMMAND ${CMAKE_COMMAND} -E touch ${pgo_root}/trained.stamp
  DEPENDS ${pgo_build}/iocpcheck pgo_instrumented
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  COMMENT "Training run for profile feedback (fuzz scenarios --runs ${IOCPCHECK_PGO_RUNS}, instrumented build)"
  VERBATIM)
add_custom_target(pgo_train DEPENDS ${pgo_root}/trained.stamp)

# The libraries of the iocpcheck target, built here exactly as there (the
# mutant pollers are other objects and keep no profile).
foreach(lib iocpcheck_sim iocpcheck_search iocpcheck_poller iocpcheck_models iocpcheck_shims iocpcheck_lang
            iocpcheck_cli iocpcheck)
  add_dependencies(${lib} pgo_train)
  target_compile_options(${lib} PRIVATE
    "$<$<COMPILE_LANGUAGE:C>:-fprofile-use=${pgo_prof};-fprofile-prefix-path=${CMAKE_BINARY_DIR};-fprofile-partial-training;-Wno-missing-profile;-Wno-coverage-mismatch>")
endforeach()
