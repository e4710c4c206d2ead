# Unit tests: one executable per tests/unit/test_*.c, label "unit".
file(GLOB PF_UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/test_*.c)
if(NOT PF_TSAN) # the race check needs a ThreadSanitizer build
  list(REMOVE_ITEM PF_UNIT_TESTS ${CMAKE_SOURCE_DIR}/tests/unit/test_emu_race.c)
endif()
foreach(src ${PF_UNIT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_link_libraries(${name} PRIVATE pftune_core)
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  add_test(NAME unit.${name} COMMAND ${name})
  set_tests_properties(unit.${name} PROPERTIES LABELS unit
    ENVIRONMENT "PFTUNE_CACHE_DIR=${CMAKE_BINARY_DIR}/test-cache;PFTUNE_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endforeach()

# Integration tests: shell scripts that drive the pftune binary (emu backend).
file(GLOB PF_INTEGRATION_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/integration/*.sh)
foreach(script ${PF_INTEGRATION_TESTS})
  get_filename_component(name ${script} NAME_WE)
  add_test(NAME integration.${name} COMMAND bash ${script} $<TARGET_FILE:pftune>)
  set_tests_properties(integration.${name} PROPERTIES LABELS integration
    ENVIRONMENT "PFTUNE_CACHE_DIR=${CMAKE_BINARY_DIR}/test-cache;PFTUNE_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endforeach()

# GPU tests: need a real device; label "gpu", run by tools/gpu-suite.
file(GLOB PF_GPU_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/gpu/test_*.c)
foreach(src ${PF_GPU_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(gpu_${name} ${src})
  target_link_libraries(gpu_${name} PRIVATE pftune_core)
  target_include_directories(gpu_${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  add_test(NAME gpu.${name} COMMAND gpu_${name})
  set_tests_properties(gpu.${name} PROPERTIES LABELS gpu
    ENVIRONMENT "PFTUNE_CACHE_DIR=${CMAKE_BINARY_DIR}/test-cache;PFTUNE_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endforeach()
include(${CMAKE_SOURCE_DIR}/tests/check.cmake OPTIONAL)
include(${CMAKE_SOURCE_DIR}/tests/sanitize.cmake OPTIONAL)


# The real-Slurm test starts a one-node cluster (root, Debian's slurm and
# munge packages): also label "slurm"; alone, so its tasks get the cores.
if(TEST integration.slurm_cluster)
  set_tests_properties(integration.slurm_cluster PROPERTIES LABELS "integration;slurm"
    TIMEOUT 300 RUN_SERIAL TRUE)
endif()
