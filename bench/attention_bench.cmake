# GPU benchmark of the attention kernel family (label "bench"; needs a GPU,
# exits 1 with the reason without one).
add_executable(attention_bench ${CMAKE_SOURCE_DIR}/bench/attention_bench.c)
target_link_libraries(attention_bench PRIVATE pftune_core)
add_test(NAME bench.attention_bench COMMAND attention_bench --quick)
set_tests_properties(bench.attention_bench PROPERTIES LABELS "bench;gpu"
  ENVIRONMENT "PFTUNE_CACHE_DIR=${CMAKE_BINARY_DIR}/test-cache;PFTUNE_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
