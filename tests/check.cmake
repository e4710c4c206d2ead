# Verification of the attention kernel variants on the emu backend (label
# "verify", part of the default test run): every valid variant for head dims
# 64 and 128, the covering subset for 72, 256 and 512. Each entry prints its
# seed so a failure replays with `pftune check --seed N --variant ...`.
foreach(entry "all;64" "all;128" "cover;72" "cover;256" "cover;512")
  list(GET entry 0 kind)
  list(GET entry 1 dim)
  set(args check --device emu --head-dim ${dim} --jobs 2)
  if(kind STREQUAL "all")
    list(APPEND args --all)
  endif()
  add_test(NAME verify.check_${kind}_d${dim} COMMAND pftune ${args})
  set_tests_properties(verify.check_${kind}_d${dim} PROPERTIES LABELS verify TIMEOUT 1500 PROCESSORS 2
    ENVIRONMENT "PFTUNE_CACHE_DIR=${CMAKE_BINARY_DIR}/test-cache;PFTUNE_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endforeach()
