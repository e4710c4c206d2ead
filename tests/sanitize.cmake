# The emu checks (label "sanitize"): the planted-bug kernels
# (test_emu_sanitize everywhere; test_emu_race in a -DPF_TSAN=ON build) and
# in a TSan build the attention family's covering subset (every storage)
# for head dims 64, 128 and 256 under --sanitize race; elsewhere the
# attention kernel under chaos and init (integration.sanitize_attention,
# which the ASan run covers, so build-tsan/ skips it). The TSan build runs
# `ctest -L sanitize` from tools/setup.sh --test.
set(PF_SANITIZE_TESTS unit.test_emu_sanitize unit.test_emu_race)
if(NOT PF_TSAN)
  list(APPEND PF_SANITIZE_TESTS integration.sanitize_attention)
endif()
foreach(t ${PF_SANITIZE_TESTS})
  if(TEST ${t})
    get_test_property(${t} LABELS labels)
    set_tests_properties(${t} PROPERTIES LABELS "${labels};sanitize")
  endif()
endforeach()
if(PF_TSAN)
  foreach(dim 64 128 256)
    add_test(NAME sanitize.check_race_d${dim}
             COMMAND pftune check --device emu --head-dim ${dim} --jobs 2 --cases 1 --sanitize race)
    set_tests_properties(sanitize.check_race_d${dim} PROPERTIES LABELS sanitize TIMEOUT 1200 PROCESSORS 2
      ENVIRONMENT "PFTUNE_CACHE_DIR=${CMAKE_BINARY_DIR}/test-cache;PFTUNE_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
  endforeach()
endif()
