# Benchmarks: built with the project, registered with ctest under label
# "bench" (excluded from the default test run: ctest -LE "gpu|bench").
add_executable(emu_bench ${CMAKE_SOURCE_DIR}/bench/emu_bench.c)
target_link_libraries(emu_bench PRIVATE pftune_core)
add_test(NAME bench.emu_bench COMMAND emu_bench)
set_tests_properties(bench.emu_bench PROPERTIES LABELS bench
  ENVIRONMENT "PFTUNE_CACHE_DIR=${CMAKE_BINARY_DIR}/test-cache;PFTUNE_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
include(${CMAKE_SOURCE_DIR}/bench/attention_bench.cmake OPTIONAL)
