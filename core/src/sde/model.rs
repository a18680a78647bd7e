//! The user's model: a batched callback that returns, as the caller declares, a score,
//! a noise prediction or a denoised estimate; the library converts between them.
//!
//! With `x_t = a_t·x_0 + s_t·ε` (coefficients from [`Process::coefs`]):
//!
//! | from \ to | score `∇log p_t` | noise `ε̂` | denoised `x̂_0` |
//! |---|---|---|---|
//! | score `σ` | – | `−s·σ` | `(x + s²·σ)/a` (Tweedie) |
//! | noise `ε̂` | `−ε̂/s` | – | `(x − s·ε̂)/a` |
//! | denoised `D` | `(a·D − x)/s²` | `(x − a·D)/s` | – |
//!
//! The EDM denoiser `D(y; σ̃)` of the rescaled state `y = x/a` at `σ̃ = s/a` equals
//! `x̂_0`, so an EDM network is a `Denoised` model (called with `x = a·y`, which is `y`
//! for VE/EDM). Conversions need `s > 0`: the samplers never evaluate the model where
//! `s_t = 0` (see [`Process::check_eval_time`]).

use super::process::Process;
use crate::buf::{rows, rows_mut};
use crate::{Error, Real};

/// What a model returns.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// The score `∇_x log p_t(x)`.
    Score,
    /// The noise prediction `ε̂ = −s_t·score`.
    Noise,
    /// The denoised estimate `x̂_0 = E[x_0 | x_t]`.
    Denoised,
    /// The velocity `E[ε − x_0 | x_t]` of the linear interpolant `x_t = (1 − t)x_0 + tε`
    /// (flow matching, rectified flow): only for the samplers of [`super::flow`]; the
    /// score-based samplers return `InvalidParameter` for it (their processes are not
    /// that path).
    Velocity,
}

/// A batched model of the data distribution.
pub trait Model<T: Real> {
    /// What [`Model::eval`] returns.
    fn output(&self) -> Output;

    /// Evaluates the model on a batch: `x` holds n samples of dimension d row by row,
    /// `t` the n times (one per sample; the fixed-step samplers pass equal times),
    /// `out` (n·d) receives the declared output.
    ///
    /// # Errors
    /// Any error the model reports is returned by the sampler unchanged (the C ABI
    /// maps a non-zero callback return to `CallbackFailed`).
    fn eval(&mut self, x: &[T], t: &[T], out: &mut [T]) -> Result<(), Error>;
}

/// Converts one row `m` (the model's output at `x`, `a`, `s`) from `from` to `to`
/// (score, noise, denoised; a velocity is left as it is: its conversions are the linear
/// path's, in [`super::flow`]).
pub fn convert<T: Real>(from: Output, to: Output, x: &[T], m: &mut [T], a: f64, s: f64) {
    // m' = p·x + q·m for every pair of kinds.
    let (p, q) = match (from, to) {
        (Output::Score, Output::Noise) => (0.0, -s),
        (Output::Score, Output::Denoised) => (1.0 / a, s * s / a),
        (Output::Noise, Output::Score) => (0.0, -1.0 / s),
        (Output::Noise, Output::Denoised) => (1.0 / a, -s / a),
        (Output::Denoised, Output::Score) => (-1.0 / (s * s), a / (s * s)),
        (Output::Denoised, Output::Noise) => (1.0 / s, -a / s),
        _ => return,
    };
    let (p, q) = (T::from_f64(p), T::from_f64(q));
    for (mv, xv) in m.iter_mut().zip(x) {
        *mv = p * *xv + q * *mv;
    }
}

/// A model together with its process, evaluation counter and time buffer.
pub(crate) struct Evaluator<'m, M> {
    pub(crate) model: &'m mut M,
    pub(crate) process: Process,
    pub(crate) d: usize,
    /// Number of batched calls so far.
    pub(crate) count: u64,
}

impl<'m, M> Evaluator<'m, M> {
    /// A counter at zero around `model`.
    pub(crate) fn new(model: &'m mut M, process: &Process, d: usize) -> Self {
        Self {
            model,
            process: *process,
            d,
            count: 0,
        }
    }

    /// Evaluates at per-sample times `t` (n values) and converts to `want`.
    ///
    /// # Errors
    /// The model's error; `NonFinite` if it returned NaN/∞.
    pub(crate) fn eval<T: Real>(
        &mut self,
        x: &[T],
        t: &[T],
        want: Output,
        out: &mut [T],
    ) -> Result<(), Error>
    where
        M: Model<T>,
    {
        self.model.eval(x, t, out)?;
        self.count += 1;
        if out.iter().any(|v| !v.is_finite()) {
            return Err(Error::NonFinite);
        }
        let from = self.model.output();
        if from == want {
            return Ok(());
        }
        let mut cached: Option<(T, f64, f64)> = None;
        for ((xr, mr), tv) in rows(x, self.d).zip(rows_mut(out, self.d)).zip(t) {
            let (a, s) = match cached {
                Some((tc, a, s)) if tc.to_f64() == tv.to_f64() => (a, s),
                _ => {
                    let c = self.process.coefs(tv.to_f64());
                    cached = Some((*tv, c.a, c.s));
                    (c.a, c.s)
                }
            };
            convert(from, want, xr, mr, a, s);
        }
        if out.iter().any(|v| !v.is_finite()) {
            return Err(Error::NonFinite);
        }
        Ok(())
    }

    /// Evaluates the whole batch at one time `t`, using `tbuf` (n values) for the times.
    ///
    /// # Errors
    /// As [`Evaluator::eval`].
    pub(crate) fn eval_at<T: Real>(
        &mut self,
        x: &[T],
        t: f64,
        tbuf: &mut [T],
        want: Output,
        out: &mut [T],
    ) -> Result<(), Error>
    where
        M: Model<T>,
    {
        tbuf.fill(T::from_f64(t));
        self.eval(x, tbuf, want, out)
    }
}
