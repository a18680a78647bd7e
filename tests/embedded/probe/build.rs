//! The firmware build script of the parent package (memory map, link.x).
include!("../build.rs");
