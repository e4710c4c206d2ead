# tools/gpu-bundle's planner: compiles every kernel variant the GPU bundle
# runs into the JIT cache (see tools/gpu/bundle_plan.c). Not a test.
add_executable(bundle_plan ${CMAKE_SOURCE_DIR}/tools/gpu/bundle_plan.c)
target_link_libraries(bundle_plan PRIVATE pftune_core)

# The rehearsal of a GPU run (label "bundle"; tools/setup.sh --test runs it
# after the other labels): builds the bundle with build-release/, then runs
# it with the source tree and the system libraries it bundles hidden in a
# mount namespace (needs root and unshare -m).
add_test(NAME bundle.gpu_bundle_rehearsal
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/bundle/gpu_bundle_rehearsal.sh)
set_tests_properties(bundle.gpu_bundle_rehearsal PROPERTIES LABELS bundle TIMEOUT 1800 RUN_SERIAL TRUE
  ENVIRONMENT "PFTUNE_CACHE_DIR=${CMAKE_BINARY_DIR}/test-cache")
