//! C ABI of otcore (skeleton; the full interface lands with the C ABI issue).
#![no_std]

/// The library version, packed as `major << 16 | minor << 8 | patch`.
#[unsafe(no_mangle)]
pub extern "C" fn otc_version() -> u32 {
    0x00_01_00
}
