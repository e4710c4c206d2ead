# Optional libFuzzer targets (clang only; not registered with ctest).
# Include from the top-level CMakeLists.txt:
#   include(${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz.cmake OPTIONAL)
option(PF_FUZZ "Build libFuzzer targets (needs clang)" OFF)
if(PF_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "PF_FUZZ needs clang (configure with -DCMAKE_C_COMPILER=clang)")
  endif()
  add_executable(fuzz_npy ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_npy.c
                          ${CMAKE_SOURCE_DIR}/harness/core/npy.c ${CMAKE_SOURCE_DIR}/harness/core/pf_error.c)
  target_include_directories(fuzz_npy PRIVATE ${CMAKE_SOURCE_DIR}/harness)
  target_compile_options(fuzz_npy PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_npy PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_npy PRIVATE m)
endif()
