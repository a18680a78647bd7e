//! The library version, from `Cargo.toml`.

/// Parses a decimal version component at compile time.
const fn parse(s: &str) -> u32 {
    let bytes = s.as_bytes();
    let mut value = 0u32;
    let mut i = 0;
    while i < bytes.len() {
        value = value * 10 + (bytes[i] - b'0') as u32;
        i += 1;
    }
    value
}

/// Major version (`Cargo.toml`).
const MAJOR: u32 = parse(env!("CARGO_PKG_VERSION_MAJOR"));
/// Minor version.
const MINOR: u32 = parse(env!("CARGO_PKG_VERSION_MINOR"));
/// Patch version.
const PATCH: u32 = parse(env!("CARGO_PKG_VERSION_PATCH"));
/// `MAJOR << 16 | MINOR << 8 | PATCH`, as `OTC_VERSION_NUMBER` in the header.
const NUMBER: u32 = (MAJOR << 16) | (MINOR << 8) | PATCH;

/// The version of the linked library, packed as `major << 16 | minor << 8 | patch`;
/// compare with `OTC_VERSION_NUMBER` to check that the header matches the library.
/// Before 1.0 there is no ABI stability across versions: link statically and match
/// exact versions.
#[unsafe(no_mangle)]
pub extern "C" fn otc_version() -> u32 {
    NUMBER
}
