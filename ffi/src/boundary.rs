//! The panic boundary every exported function runs its body in.
//!
//! A function taking a closure rather than a brace macro, so rustfmt formats the
//! bodies. With `std` an unwind becomes `OTC_STATUS_PANIC`; without it (firmware,
//! `panic = "abort"`) there is nothing to catch and the body runs directly. The core is
//! written not to panic (its entry points are documented "Panics: never").

use crate::status::otc_status;

/// Runs `body` and returns its status as the C integer; `Err` carries an error status.
/// Public, hidden, only for `ffi/tests/boundary.rs`: no exported function panics.
pub fn run(body: impl FnOnce() -> Result<otc_status, otc_status>) -> i32 {
    let status = catch(body).unwrap_or_else(|e| e);
    status as i32
}

#[cfg(feature = "std")]
fn catch(body: impl FnOnce() -> Result<otc_status, otc_status>) -> Result<otc_status, otc_status> {
    // AssertUnwindSafe: after a panic the caller gets PANIC and no outputs; nothing
    // observes the state a panic may have left behind.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).unwrap_or(Err(otc_status::Panic))
}

#[cfg(not(feature = "std"))]
fn catch(body: impl FnOnce() -> Result<otc_status, otc_status>) -> Result<otc_status, otc_status> {
    body()
}
