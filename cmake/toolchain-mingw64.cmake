# toolchain-mingw64.cmake - cross-build for 64-bit Windows with MinGW-w64
# (Debian: gcc-mingw-w64-x86-64), used by the `mingw` preset.
#
# The results are Windows executables; CTest runs them through Wine when it
# is installed (CMAKE_CROSSCOMPILING_EMULATOR), and the tests that need it
# carry the label `wine`. Without wine the tests are not registered.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(IOCPCHECK_MINGW_PREFIX x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${IOCPCHECK_MINGW_PREFIX}-gcc)
set(CMAKE_ASM_COMPILER ${IOCPCHECK_MINGW_PREFIX}-gcc)
set(CMAKE_RC_COMPILER ${IOCPCHECK_MINGW_PREFIX}-windres)

# Headers and libraries come from the MinGW sysroot only, programs from the host.
set(CMAKE_FIND_ROOT_PATH /usr/${IOCPCHECK_MINGW_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)

# Self-contained .exe files: no libgcc/libwinpthread DLLs to find under Wine.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

# `wine` (Debian's wrapper) picks wine64 for 64-bit executables.
find_program(IOCPCHECK_WINE NAMES wine wine64)
if(IOCPCHECK_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${IOCPCHECK_WINE})
endif()
