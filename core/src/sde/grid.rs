//! Time grids for the fixed-step samplers: decreasing times `t_0 > t_1 > … > t_N`
//! from the start (usually `T`) to the end (usually [`Process::t_eps`], or 0).
//!
//! - [`Spacing::UniformTime`]: `t_i = t_0 + i/N·(t_N − t_0)` (score_sde's
//!   `linspace(T, eps, N)`).
//! - [`Spacing::UniformLogSnr`]: uniform in `λ = ln(a/s)` (DPM-Solver's `logSNR`), each
//!   `λ` mapped back to `t` by [`Process::time_of_lambda`]; needs `t_N > 0`.
//! - [`Spacing::Karras`]: `σ̃_i = (σ̃_0^{1/ρ} + i/N·(σ̃_N^{1/ρ} − σ̃_0^{1/ρ}))^ρ` in
//!   `σ̃ = s/a` (EDM's grid; ρ = 7), mapped back to `t`. An end time `t_N = 0` gives
//!   EDM's grid with its trailing `σ = 0`: the first N points run from `σ̃(t_0)` down to
//!   `σ̃_min = σ̃(`[`Process::t_eps`]`)` (`i/(N−1)` in the formula), and the last step
//!   goes from there to 0. (Spacing the points towards `σ̃ = 0` itself would put the
//!   last ones at `σ̃ ≈ 1e-8, 6e-13`, steps that cost evaluations and move nothing.)

use super::process::Process;
use crate::{Error, Real};

/// How grid points are spaced.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Spacing {
    /// Uniform in t.
    UniformTime,
    /// Uniform in the half log-SNR λ.
    UniformLogSnr,
    /// Karras et al.: uniform in `σ̃^{1/ρ}`.
    Karras {
        /// ρ (EDM uses 7); must be finite and positive.
        rho: f64,
    },
}

/// Fills `out` (N + 1 ≥ 2 points) with a grid from `t_start` down to `t_end`.
///
/// # Errors
/// `EmptyInput` if `out.len() < 2`; `NonFiniteInput` for non-finite times;
/// `InvalidParameter` unless `T ≥ t_start > t_end ≥ 0` (and `t_end > 0` for
/// `UniformLogSnr`; `t_start > t_eps` for `Karras` with `t_end = 0`), ρ finite and
/// positive, the process valid, or if the grid comes out not strictly decreasing (N too
/// large for the precision of `T`).
pub fn fill<T: Real>(
    process: &Process,
    spacing: Spacing,
    t_start: f64,
    t_end: f64,
    out: &mut [T],
) -> Result<(), Error> {
    process.validate()?;
    if out.len() < 2 {
        return Err(Error::EmptyInput);
    }
    process.check_eval_time(t_start)?;
    process.check_time(t_end)?;
    if t_end >= t_start {
        return Err(Error::InvalidParameter);
    }
    let n = (out.len() - 1) as f64;
    let point = |i: usize| -> Result<f64, Error> {
        let u = i as f64 / n;
        Ok(match spacing {
            Spacing::UniformTime => t_start + u * (t_end - t_start),
            Spacing::UniformLogSnr => {
                if t_end <= 0.0 {
                    return Err(Error::InvalidParameter);
                }
                let (l0, l1) = (process.lambda(t_start), process.lambda(t_end));
                process.time_of_lambda(l0 + u * (l1 - l0))
            }
            Spacing::Karras { rho } => {
                if !(rho.is_finite() && rho > 0.0) {
                    return Err(Error::InvalidParameter);
                }
                // To t_end = 0: Karras points down to σ̃(t_eps) at i = N − 1, then 0.
                let (t_low, u) = if t_end > 0.0 {
                    (t_end, u)
                } else if process.t_eps() < t_start {
                    (process.t_eps(), i as f64 / (n - 1.0))
                } else {
                    return Err(Error::InvalidParameter);
                };
                let s0 = libm::pow(process.coefs(t_start).sigma(), 1.0 / rho);
                let s1 = libm::pow(process.coefs(t_low).sigma(), 1.0 / rho);
                process.time_of_sigma(libm::pow(s0 + u * (s1 - s0), rho))
            }
        })
    };
    // Compute into nothing first so that an error leaves `out` untouched.
    let mut prev = f64::INFINITY;
    for i in 0..out.len() {
        let t = if i == 0 {
            t_start
        } else if i == out.len() - 1 {
            t_end
        } else {
            point(i)?
        };
        let rounded = T::from_f64(t).to_f64();
        if rounded >= prev {
            return Err(Error::InvalidParameter);
        }
        prev = rounded;
    }
    let last = out.len() - 1;
    for (i, o) in out.iter_mut().enumerate() {
        *o = T::from_f64(match i {
            0 => t_start,
            _ if i == last => t_end,
            _ => point(i)?,
        });
    }
    Ok(())
}

/// Checks a caller's grid: at least 2 points, finite, strictly decreasing, within
/// `[0, T]`, and the model evaluable (`s > 0`) at every point but the last.
///
/// # Errors
/// `EmptyInput` (fewer than 2 points = zero steps), `NonFiniteInput`,
/// `InvalidParameter` (out of range or not strictly decreasing).
pub fn validate<T: Real>(process: &Process, grid: &[T]) -> Result<(), Error> {
    if grid.len() < 2 {
        return Err(Error::EmptyInput);
    }
    super::check_finite(grid)?;
    let mut prev = f64::INFINITY;
    for (i, t) in grid.iter().enumerate() {
        let t = t.to_f64();
        if i + 1 < grid.len() {
            process.check_eval_time(t)?;
        } else {
            process.check_time(t)?;
        }
        if t >= prev {
            return Err(Error::InvalidParameter);
        }
        prev = t;
    }
    Ok(())
}
