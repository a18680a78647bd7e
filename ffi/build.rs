//! Gives the shared library built for Linux its SONAME, `libotcore.so.<major>.<minor>`:
//! before 1.0 every minor version may change the ABI, so a program linked against one
//! does not load another (ffi/CMakeLists.txt installs the file under that name).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" {
        let major = env!("CARGO_PKG_VERSION_MAJOR");
        let minor = env!("CARGO_PKG_VERSION_MINOR");
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libotcore.so.{major}.{minor}");
    }
}
