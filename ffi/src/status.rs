//! Status codes: the one integer every fallible function returns.

use core::ffi::c_char;

use otcore::ot::Status;
use otcore::Error;

/// What a call did. Every fallible function returns one of these values as an
/// `int32_t`: 0 = success, > 0 = completed with a caveat (outputs written), < 0 = error
/// (nothing written to the outputs). The values are frozen: they will never change
/// meaning, and a retired value is never reused.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum otc_status {
    /// Success.
    Ok = 0,
    /// Completed, but the solver hit `max_iterations` before the tolerance: the
    /// outputs are written and usable, `error` says how far from feasible they are.
    /// Call again with `OTC_INIT_RESUME` to continue.
    MaxIterations = 1,
    /// Completed (unbalanced Sinkhorn only): potentials, `error`, `transport_cost`
    /// and `plan_mass` are written and finite, but `reg_ot_cost` (OTT-JAX's dual form,
    /// whose relaxed-side term contains w_i^{ε/ρ}·e^{−f_i/ρ}) is below the range of
    /// the type and is written as −INFINITY. Compare `error` with the tolerance to
    /// know whether the solve converged.
    RegCostOverflow = 2,
    /// A pointer argument is NULL (or, for a problem, neither x/y nor c is given).
    NullPointer = -1,
    /// A buffer length does not match the sizes (n, m, d) it must have, or a size
    /// product overflows.
    LengthMismatch = -2,
    /// n, m or (for point clouds) d is zero.
    EmptyInput = -3,
    /// An input contains NaN or ±∞ (coordinates, costs, weights, potentials, vectors).
    NonFiniteInput = -4,
    /// A weight is negative.
    NegativeWeight = -5,
    /// The weights of one side sum to zero.
    ZeroMass = -6,
    /// Balanced problem (both ρ infinite) whose total masses Σa and Σb differ by more
    /// than 1e-4 (float) or 1e-10 (double) relative.
    MassMismatch = -7,
    /// ε is not finite and positive, or max C/ε overflows.
    InvalidEpsilon = -8,
    /// Another parameter is out of range: tolerance < 0 or not finite, ρ ≤ 0 or NaN,
    /// cost scale not finite and positive, an unknown `epsilon_mode` or `init`, both
    /// point clouds and a cost matrix given, buffers that overlap.
    InvalidParameter = -9,
    /// The workspace is smaller than the size query returns.
    WorkspaceTooSmall = -10,
    /// A pointer is not aligned: the workspace to `OTC_WORKSPACE_ALIGN` bytes, arrays
    /// to the size of their element.
    Misaligned = -11,
    /// The operation needs point clouds but the problem has a dense cost matrix.
    NeedsPointClouds = -12,
    /// A value overflowed during the computation (numerical breakdown, e.g. ε far too
    /// small for the cost range in float).
    NonFinite = -13,
    /// A struct's `struct_size` is not the size this library knows, or its `reserved`
    /// fields are not zero.
    StructSize = -14,
    /// A bug: the library panicked. The panic was caught at the boundary (host build).
    Panic = -15,
    /// A user callback (score model, SDE drift/diffusion) returned non-zero; the call
    /// stopped and wrote nothing.
    CallbackFailed = -16,
    /// This build of the library was compiled without the cargo feature the call needs
    /// (`initializers`: `OTC_INIT_GAUSSIAN`, `OTC_INIT_SORTED`, `OTC_INIT_SUBSAMPLE`;
    /// `dense`: a dense cost matrix). The host libraries have every feature; the
    /// firmware archives name theirs in MANIFEST.txt.
    FeatureDisabled = -17,
}

impl From<Error> for otc_status {
    fn from(e: Error) -> Self {
        match e {
            Error::LengthMismatch => Self::LengthMismatch,
            Error::EmptyInput => Self::EmptyInput,
            Error::NonFiniteInput => Self::NonFiniteInput,
            Error::NegativeWeight => Self::NegativeWeight,
            Error::ZeroMass => Self::ZeroMass,
            Error::MassMismatch => Self::MassMismatch,
            Error::InvalidEpsilon => Self::InvalidEpsilon,
            Error::InvalidParameter => Self::InvalidParameter,
            Error::WorkspaceTooSmall => Self::WorkspaceTooSmall,
            Error::NeedsPointClouds => Self::NeedsPointClouds,
            Error::NonFinite => Self::NonFinite,
            Error::CallbackFailed => Self::CallbackFailed,
            Error::FeatureDisabled => Self::FeatureDisabled,
        }
    }
}

impl From<Status> for otc_status {
    fn from(s: Status) -> Self {
        match s {
            Status::Converged => Self::Ok,
            Status::MaxIterations => Self::MaxIterations,
            Status::RegCostOverflow => Self::RegCostOverflow,
        }
    }
}

/// Every status, in value order from the largest. Crate-private: cbindgen would export
/// an associated const of `otc_status` as a C macro naming the Rust variants, which
/// does not compile.
pub(crate) const ALL: [otc_status; 20] = [
    otc_status::RegCostOverflow,
    otc_status::MaxIterations,
    otc_status::Ok,
    otc_status::NullPointer,
    otc_status::LengthMismatch,
    otc_status::EmptyInput,
    otc_status::NonFiniteInput,
    otc_status::NegativeWeight,
    otc_status::ZeroMass,
    otc_status::MassMismatch,
    otc_status::InvalidEpsilon,
    otc_status::InvalidParameter,
    otc_status::WorkspaceTooSmall,
    otc_status::Misaligned,
    otc_status::NeedsPointClouds,
    otc_status::NonFinite,
    otc_status::StructSize,
    otc_status::Panic,
    otc_status::CallbackFailed,
    otc_status::FeatureDisabled,
];

impl otc_status {
    /// A short English description, NUL-terminated and static.
    #[must_use]
    pub const fn description(self) -> &'static core::ffi::CStr {
        match self {
            Self::Ok => c"ok",
            Self::MaxIterations => c"completed: maximum iterations reached before the tolerance",
            Self::RegCostOverflow => c"completed: reg_ot_cost below the range of the type",
            Self::NullPointer => c"a pointer argument is NULL",
            Self::LengthMismatch => c"a buffer length does not match the stated sizes",
            Self::EmptyInput => c"a size that must be positive is zero",
            Self::NonFiniteInput => c"input contains NaN or infinity",
            Self::NegativeWeight => c"a weight is negative",
            Self::ZeroMass => c"weights sum to zero",
            Self::MassMismatch => c"balanced problem with different total masses",
            Self::InvalidEpsilon => c"epsilon must be finite and positive",
            Self::InvalidParameter => c"a parameter is out of range",
            Self::WorkspaceTooSmall => c"workspace too small",
            Self::Misaligned => c"a pointer is not aligned",
            Self::NeedsPointClouds => c"operation needs point clouds, not a cost matrix",
            Self::NonFinite => c"non-finite value during the computation",
            Self::StructSize => c"struct_size not recognised or reserved fields not zero",
            Self::Panic => c"internal error: the library panicked",
            Self::CallbackFailed => c"a user callback reported failure",
            Self::FeatureDisabled => c"the library was built without the feature this call needs",
        }
    }
}

/// A static, NUL-terminated English description of a status value, for logs.
/// Never NULL: an unknown value gives "unknown status". The string must not be freed.
#[unsafe(no_mangle)]
pub extern "C" fn otc_status_str(status: i32) -> *const c_char {
    ALL.iter()
        .find(|s| **s as i32 == status)
        .map_or(c"unknown status", |s| s.description())
        .as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_frozen() {
        let values: [i32; 20] = ALL.map(|s| s as i32);
        assert_eq!(
            values,
            [2, 1, 0, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12, -13, -14, -15, -16, -17]
        );
    }

    #[test]
    fn every_status_has_its_own_string() {
        for s in ALL {
            // SAFETY: otc_status_str returns a pointer to a static C string.
            let got = unsafe { core::ffi::CStr::from_ptr(otc_status_str(s as i32)) };
            assert_eq!(got, s.description());
        }
        // SAFETY: as above.
        let unknown = unsafe { core::ffi::CStr::from_ptr(otc_status_str(42)) };
        assert_eq!(unknown, c"unknown status");
    }
}
