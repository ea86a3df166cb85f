# windows.cmake - what a Windows build adds (included from CMakeLists.txt
# when WIN32): the real backend, and the test programs that run under Wine.
#
# Linux-hosted cross builds (cmake/toolchain-mingw64.cmake, preset `mingw`)
# run their tests through CMAKE_CROSSCOMPILING_EMULATOR (wine); every such
# test carries the label `wine`. Check is not packaged for Windows, so the
# test programs compile against tests/mingw/check.h, a small stand-in.

if(MINGW)
  # C99 printf formats (%zu, %lld) from MinGW's own stdio, not msvcrt's.
  target_compile_definitions(iocpcheck_sim PUBLIC __USE_MINGW_ANSI_STDIO=1)
endif()

# ---- The real backend: shim/shim_win32.c, the only file with <windows.h> ----
add_library(iocpcheck_win32 STATIC shim/shim_win32.c)
target_include_directories(iocpcheck_win32 PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(iocpcheck_win32 PUBLIC ws2_32 mswsock) # mswsock: AcceptEx, as Go links it
if(MINGW)
  target_compile_definitions(iocpcheck_win32 PUBLIC __USE_MINGW_ANSI_STDIO=1)
endif()
# One Windows binary runs scenarios on both backends (validate, bench --backend win32).
target_link_libraries(iocpcheck_cli PUBLIC iocpcheck_win32)

if(NOT IOCPCHECK_TESTS)
  return()
endif()
enable_testing()

add_library(iocpcheck_checkshim STATIC tests/mingw/check.c)
target_include_directories(iocpcheck_checkshim PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/tests/mingw)
if(MINGW)
  target_compile_definitions(iocpcheck_checkshim PUBLIC __USE_MINGW_ANSI_STDIO=1)
endif()

# When cross-compiling, tests need the emulator; without it none is
# registered (scripts/test says so in one line).
if(CMAKE_CROSSCOMPILING AND NOT CMAKE_CROSSCOMPILING_EMULATOR)
  message(STATUS "wine not found: the wine tests are not registered")
  return()
endif()

# Wine keeps its state in a prefix: a writable directory (CI runs as root in
# a fresh clone), created by the first wine start. The `wine-prefix` test
# creates it once, quietly and with a time limit, as a fixture the others need.
set(IOCPCHECK_WINEPREFIX "$ENV{WINEPREFIX}" CACHE PATH "WINEPREFIX for the wine tests")
if(NOT IOCPCHECK_WINEPREFIX)
  set(IOCPCHECK_WINEPREFIX "${CMAKE_BINARY_DIR}/wineprefix")
endif()
# -all: no debug channels; mscoree/mshtml disabled: no Mono/Gecko install prompts.
set(IOCPCHECK_WINE_ENV
  "WINEPREFIX=${IOCPCHECK_WINEPREFIX}" "WINEDEBUG=-all" "WINEDLLOVERRIDES=mscoree,mshtml=")
set(wine_fixture "")
if(CMAKE_CROSSCOMPILING)
  add_test(NAME wine-prefix COMMAND ${CMAKE_CROSSCOMPILING_EMULATOR} wineboot.exe -i)
  set_tests_properties(wine-prefix PROPERTIES LABELS wine TIMEOUT 300
    ENVIRONMENT "${IOCPCHECK_WINE_ENV}" FIXTURES_SETUP wineprefix)
  set(wine_fixture FIXTURES_REQUIRED wineprefix)
endif()

# add_test(NAME wine-<name> COMMAND <target> args...) with the wine settings.
function(iocpcheck_add_wine_test name)
  add_test(NAME wine-${name} COMMAND ${ARGN})
  set_tests_properties(wine-${name} PROPERTIES LABELS wine TIMEOUT 300
    ENVIRONMENT "${IOCPCHECK_WINE_ENV}" ${wine_fixture})
endfunction()

# The real backend against real ports and loopback sockets.
add_executable(check_win32 tests/check_win32.c)
target_link_libraries(check_win32 PRIVATE iocpcheck_win32 iocpcheck_shims iocpcheck_poller iocpcheck_checkshim)
iocpcheck_add_wine_test(win32 check_win32)

# The scenario library on the real backend (README, "The real backend"):
# every trace checked by the models in real time, 5 runs per scenario; the
# scenarios this host cannot run (wait packets on Wine 8, virtual-time-only
# waits) are named NOT-RUN with the reason, and the Wine
# differences the traces show are named too. Then --conformance: every real
# outcome must be one the simulator produces (a fidelity gap fails).
iocpcheck_add_wine_test(validate iocpcheck validate scenarios --backend win32 --runs 5)
iocpcheck_add_wine_test(conformance iocpcheck validate scenarios --backend win32 --runs 5 --conformance)
# The side-by-side benchmark prints (a few scenarios, short budget).
iocpcheck_add_wine_test(bench-real iocpcheck bench --backend win32 --time 0.1s
  scenarios/break/break-wakes-blocked.scn scenarios/close/close-data-race.scn scenarios/timeout/deadline-past.scn)
# The same seeds give byte-identical executions on the Windows build (tests/golden/).
iocpcheck_add_wine_test(golden ${CMAKE_COMMAND} -DGOLDEN=${CMAKE_CURRENT_SOURCE_DIR}/tests/golden/close-data-race.jsonl
  "-DCMD=${CMAKE_CROSSCOMPILING_EMULATOR}|$<TARGET_FILE:iocpcheck>|fuzz|scenarios/close/close-data-race.scn|--runs|300|--json|--all"
  -P ${CMAKE_CURRENT_SOURCE_DIR}/tests/golden/compare.cmake)
# validate's outputs by real parsers: JSON lines against schemas/iocpcheck.schema.json
# (python3-jsonschema), --junit (XML), --trace-json (the Chrome-trace reader of cli-outputs), --trace.
iocpcheck_add_wine_test(outputs python3 ${CMAKE_CURRENT_SOURCE_DIR}/tests/cli/check_validate_json.py
  ${CMAKE_CROSSCOMPILING_EMULATOR} $<TARGET_FILE:iocpcheck>)
foreach(t validate conformance bench-real golden outputs)
  set_tests_properties(wine-${t} PROPERTIES WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR} TIMEOUT 600)
endforeach()
# Real time is judged in these: each runs alone, so that the suite's own
# parallelism does not deschedule the threads whose timing they check.
foreach(t validate conformance bench-real outputs)
  set_tests_properties(wine-${t} PROPERTIES RUN_SERIAL TRUE)
endforeach()

# The simulator on Windows: the Win64 fiber switch (the demo runs virtual
# threads) and a portable unit suite.
iocpcheck_add_wine_test(cli-demo iocpcheck demo)
add_executable(check_schedule tests/check_schedule.c)
target_link_libraries(check_schedule PRIVATE iocpcheck_sim iocpcheck_checkshim)
iocpcheck_add_wine_test(schedule check_schedule)
