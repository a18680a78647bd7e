//! Length arithmetic and the workspace-size queries shared by the exported functions:
//! an overflow is reported as `OTC_STATUS_LENGTH_MISMATCH`, never wrapped.

use crate::args::{Array, Checked};
use crate::boundary::run;
use crate::status::otc_status;

/// `n·d` values, or `LengthMismatch` on overflow.
pub(crate) fn cells(n: usize, d: usize) -> Checked<usize> {
    n.checked_mul(d).ok_or(otc_status::LengthMismatch)
}

/// Bytes of `len` values of `T`, or `LengthMismatch` on overflow. The core's
/// workspace-length functions saturate at `usize::MAX` on overflow, so that value is
/// an overflow too.
fn bytes<T>(len: usize) -> Checked<usize> {
    match len {
        usize::MAX => None,
        l => l.checked_mul(size_of::<T>()),
    }
    .ok_or(otc_status::LengthMismatch)
}

/// Writes the byte size of a workspace of `len` values of `T` to `out_bytes`.
///
/// # Safety
/// `out_bytes` must be NULL or writable.
pub(crate) unsafe fn write_workspace_size<T>(len: Checked<usize>, out_bytes: *mut usize) -> i32 {
    run(|| {
        let out = Array::output(out_bytes, 1)?;
        let b = bytes::<T>(len?)?;
        // SAFETY: checked non-NULL and aligned; writable by the caller's contract.
        unsafe { out.fill(b) };
        Ok(otc_status::Ok)
    })
}
