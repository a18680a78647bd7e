//! Errors: what went wrong, precisely enough for a C status code.

/// Why a call was refused or failed. Every variant means "nothing was written to the
/// caller's outputs".
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// An input slice has the wrong length for the stated sizes (e.g. `x.len() != n·d`,
    /// `a.len() != n`, an output buffer of the wrong size).
    LengthMismatch,
    /// A size that must be positive is zero (n, m, d).
    EmptyInput,
    /// An input contains NaN or ±∞ (coordinates, weights, costs, potentials, vectors).
    NonFiniteInput,
    /// A weight is negative.
    NegativeWeight,
    /// The weights of one side sum to zero.
    ZeroMass,
    /// A balanced problem whose total masses differ by more than
    /// [`Real::MASS_TOLERANCE`](crate::Real::MASS_TOLERANCE) relative.
    MassMismatch,
    /// ε is not finite and positive (or the relative-ε base is not).
    InvalidEpsilon,
    /// Another parameter is out of range (tolerance < 0 or NaN, ρ ≤ 0 or NaN, cost
    /// scale not finite and positive, a cost so large that s·‖x−y‖² overflows).
    InvalidParameter,
    /// The caller's workspace is shorter than the documented length.
    WorkspaceTooSmall,
    /// The operation needs point clouds but was given a dense cost matrix
    /// (barycentric projection).
    NeedsPointClouds,
    /// A non-finite value appeared during the computation (overflow); the potentials
    /// of the last good iterate are not returned.
    NonFinite,
    /// A user callback (a model or an SDE given through the C ABI) reported failure.
    CallbackFailed,
    /// The call needs a cargo feature this build was compiled without (`initializers`
    /// for the data-dependent Sinkhorn starts, `dense` for dense cost matrices).
    FeatureDisabled,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Error::LengthMismatch => "input length does not match the stated sizes",
            Error::EmptyInput => "a size that must be positive is zero",
            Error::NonFiniteInput => "input contains NaN or infinity",
            Error::NegativeWeight => "a weight is negative",
            Error::ZeroMass => "weights sum to zero",
            Error::MassMismatch => "balanced problem with different total masses",
            Error::InvalidEpsilon => "epsilon must be finite and positive",
            Error::InvalidParameter => "a parameter is out of range",
            Error::WorkspaceTooSmall => "workspace too small",
            Error::NeedsPointClouds => "operation needs point clouds, not a cost matrix",
            Error::NonFinite => "non-finite value during the computation",
            Error::CallbackFailed => "a user callback reported failure",
            Error::FeatureDisabled => {
                "this build of otcore was compiled without the feature the call needs"
            }
        })
    }
}
