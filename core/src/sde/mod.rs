//! Score-based diffusion sampling: forward processes, time grids, a batched model
//! callback, counter-based noise, fixed-step and adaptive samplers, flow-matching
//! samplers on the linear interpolant, generic Itô steps and a closed-form
//! Gaussian-mixture score.
//!
//! Conventions (formulas in each module):
//! - A state is n samples of dimension d, row by row, in caller memory (`&mut [T]`).
//! - Time runs backwards during sampling, from `T` (or any start) down to an end time
//!   ≥ 0; the forward process is `dx = f(t)·x dt + g(t) dW` with
//!   `x_t | x_0 ~ N(a_t·x_0, s_t²I)` ([`process`]).
//! - Every draw of noise is keyed by `(seed, first_sample + i, step)` ([`noise`]), so
//!   sample `i` is the same whatever the batch it is computed in.
//! - "Evaluations" count batched model calls (score_sde's NFE).
//! - Every entry point checks its inputs first and returns an [`Error`] with the caller's
//!   buffers untouched; samplers work in the workspace and copy the result out only on
//!   success.

pub mod flow;
pub mod grid;
pub mod guidance;
pub mod ito;
pub mod mixture;
pub mod model;
pub mod noise;
pub mod process;
pub mod steppers;

pub use grid::Spacing;
pub use mixture::{Covariance, Mixture};
pub use model::{Model, Output};
pub use process::{Coefs, Process};
pub use steppers::{
    adaptive, adaptive_resume, adaptive_state_len, restart, sample, step, workspace_len,
    AdaptiveConfig, AdaptiveStats, Churn, Config, Corrector, Method, Multistep, Restart, Stats,
};

use crate::{Error, Real};

/// Number of rows of a row-major buffer of `len` values in dimension `d`.
///
/// # Errors
/// `EmptyInput` if d = 0 or len = 0, `LengthMismatch` if d does not divide len.
pub(crate) fn check_shape(len: usize, d: usize) -> Result<usize, Error> {
    if d == 0 || len == 0 {
        return Err(Error::EmptyInput);
    }
    if !len.is_multiple_of(d) {
        return Err(Error::LengthMismatch);
    }
    Ok(len / d)
}

/// `NonFiniteInput` if any value is NaN or ±∞.
pub(crate) fn check_finite<T: Real>(v: &[T]) -> Result<(), Error> {
    if v.iter().all(|x| x.is_finite()) {
        Ok(())
    } else {
        Err(Error::NonFiniteInput)
    }
}

/// `InvalidParameter` unless `v` is finite and ≥ `min` (or > `min` when `strict`).
pub(crate) fn check_param(v: f64, min: f64, strict: bool) -> Result<(), Error> {
    let ok = v.is_finite() && if strict { v > min } else { v >= min };
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidParameter)
    }
}
