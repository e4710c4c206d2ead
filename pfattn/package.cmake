# pfattn: the tuned attention kernels of this package and their C runtime.
#   cmake -S . -B build && cmake --build build          # libpfattn.so + pfattn.py beside it
#   cmake --install build --prefix /opt/pfattn           # find_package(pfattn)
# Consumers may also point CMAKE_PREFIX_PATH at this directory itself
# (pfattnConfig.cmake here builds the runtime inside their project).
cmake_minimum_required(VERSION 3.16)
project(pfattn VERSION 1.0.0 LANGUAGES C)

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
find_package(Threads REQUIRED)

add_library(pfattn SHARED
  src/pfattn_layout.c src/pfattn_masks.c src/pfattn_select.c src/pfattn_launch.c
  src/pfattn_table.c)
add_library(pfattn::pfattn ALIAS pfattn)
# gnu11: C11 plus POSIX (dlopen, pthreads, access)
set_target_properties(pfattn PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS ON
                                        VERSION ${PROJECT_VERSION} SOVERSION 1)
target_include_directories(pfattn PUBLIC
  $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
# Where NAME.sm_XX.{cubin,ptx} are found at run time when neither
# pfattn_set_kernel_dir nor PFATTN_KERNEL_DIR says: installed, else here.
target_compile_definitions(pfattn PRIVATE
  PFATTN_SOURCE_KERNEL_DIR="${CMAKE_CURRENT_SOURCE_DIR}/kernels"
  PFATTN_INSTALL_KERNEL_DIR="${CMAKE_INSTALL_FULL_DATADIR}/pfattn/kernels")
# The CUDA driver is dlopen'd at the first launch: never linked.
target_link_libraries(pfattn PRIVATE Threads::Threads ${CMAKE_DL_LIBS} m)

# pfattn.py finds libpfattn.so beside itself (build tree and install).
configure_file(python/pfattn.py ${CMAKE_CURRENT_BINARY_DIR}/pfattn.py COPYONLY)

install(TARGETS pfattn EXPORT pfattnTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES include/pfattn.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES python/pfattn.py DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY kernels/ DESTINATION ${CMAKE_INSTALL_DATADIR}/pfattn/kernels)
install(DIRECTORY configs/ DESTINATION ${CMAKE_INSTALL_DATADIR}/pfattn/configs)
install(FILES manifest.json README.md DESTINATION ${CMAKE_INSTALL_DATADIR}/pfattn)
install(EXPORT pfattnTargets NAMESPACE pfattn:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/pfattn)
configure_package_config_file(cmake/pfattnConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/pfattnConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/pfattn
  PATH_VARS CMAKE_INSTALL_DATADIR)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/pfattnConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/pfattnConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/pfattnConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/pfattn)
