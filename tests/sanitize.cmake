# The emu checks (label "sanitize"): the planted-bug kernels and the
# attention family's covering subset (every storage) for head dims 64, 128
# and 256 under --sanitize. In a -DPF_TSAN=ON build (build-tsan/, run by
# tools/setup.sh --test as `ctest -L sanitize`) that is the race check; in
# other builds the init check (the race unit test is not built there).
if(PF_TSAN)
  set(PF_SANITIZE_CHECKS race)
else()
  set(PF_SANITIZE_CHECKS init)
endif()
foreach(t unit.test_emu_sanitize unit.test_emu_race)
  if(TEST ${t})
    set_tests_properties(${t} PROPERTIES LABELS "unit;sanitize")
  endif()
endforeach()
foreach(dim 64 128 256)
  set(name sanitize.check_${PF_SANITIZE_CHECKS}_d${dim})
  add_test(NAME ${name} COMMAND pftune check --device emu --head-dim ${dim} --jobs 2 --cases 1
                                --sanitize ${PF_SANITIZE_CHECKS})
  set_tests_properties(${name} PROPERTIES LABELS sanitize TIMEOUT 1500 PROCESSORS 2
    ENVIRONMENT "PFTUNE_CACHE_DIR=${CMAKE_BINARY_DIR}/test-cache;PFTUNE_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endforeach()
