# CMake package config of a prebuilt otcore release for Cortex-M (the tarball that
# `bash scripts/embedded.sh release` writes): find_package(otcore) defines
#   otcore::otcore   the stripped static library for OTCORE_RUST_TARGET and
#                    OTCORE_FEATURE_SET, with the header; its users link with section
#                    garbage collection. No Rust toolchain is needed.
# OTCORE_RUST_TARGET: thumbv7em-none-eabihf (Cortex-M4F/M7, the default),
# thumbv8m.main-none-eabihf (M33) or thumbv6m-none-eabi (M0/M0+); OTCORE_FEATURE_SET:
# full (the default) or minimal, a directory under lib/<target>/ (MANIFEST.txt lists
# them and their flags).
set(OTCORE_RUST_TARGET "thumbv7em-none-eabihf" CACHE STRING "Rust target of the prebuilt otcore archive")
set(OTCORE_FEATURE_SET "full" CACHE STRING "feature set of the prebuilt otcore archive")
get_filename_component(otcore_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
set(otcore_archive "${otcore_prefix}/lib/${OTCORE_RUST_TARGET}/${OTCORE_FEATURE_SET}/libotcore.a")
if(NOT EXISTS "${otcore_archive}")
  set(otcore_FOUND FALSE)
  set(otcore_NOT_FOUND_MESSAGE "no prebuilt archive ${otcore_archive} (see ${otcore_prefix}/MANIFEST.txt)")
  return()
endif()
if(NOT TARGET otcore::otcore)
  add_library(otcore::otcore STATIC IMPORTED)
  set_target_properties(otcore::otcore PROPERTIES
    IMPORTED_LOCATION "${otcore_archive}"
    INTERFACE_INCLUDE_DIRECTORIES "${otcore_prefix}/include"
    INTERFACE_LINK_OPTIONS "LINKER:--gc-sections")
endif()
