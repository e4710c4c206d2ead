# tools/gpu-bundle's planner: compiles every kernel variant the GPU bundle
# runs into the JIT cache (see tools/gpu/bundle_plan.c). Not a test.
add_executable(bundle_plan ${CMAKE_SOURCE_DIR}/tools/gpu/bundle_plan.c)
target_link_libraries(bundle_plan PRIVATE pftune_core)
