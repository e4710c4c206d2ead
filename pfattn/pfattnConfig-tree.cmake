# find_package(pfattn) with CMAKE_PREFIX_PATH at the unbuilt package itself:
# the runtime is built inside the consumer's project (target pfattn::pfattn,
# an alias there); kernels are read from this directory's kernels/.
if(NOT TARGET pfattn::pfattn)
  add_subdirectory("${CMAKE_CURRENT_LIST_DIR}" "${CMAKE_BINARY_DIR}/_pfattn" EXCLUDE_FROM_ALL)
endif()
set(pfattn_KERNEL_DIR "${CMAKE_CURRENT_LIST_DIR}/kernels")
set(pfattn_FOUND TRUE)
