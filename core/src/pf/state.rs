//! The description of a state, coordinate by coordinate, and what depends on it:
//! circular statistics for periodic coordinates (a heading), and OT resampling whose
//! cost and transported values respect the period.
//!
//! A coordinate is linear or periodic with period P (an angle in radians has
//! P = 2π; values may lie anywhere, they are read modulo P). Each carries a cost
//! weight s ≥ 0 for OT resampling and a bin width for KLD-sampling and clusters
//! ([`kld`](super::kld)).
//!
//! - **Mean**: linear coordinates get the weighted mean; a periodic one the circular
//!   mean μ = (P/2π)·atan2(Σ W_i sin φ_i, Σ W_i cos φ_i), φ = 2πθ/P, returned in
//!   [−P/2, P/2]. (If the weighted unit vectors cancel exactly, the direction is
//!   undefined and μ = 0.)
//! - **Covariance**: Σ W_i r_i r_iᵀ of the residuals in the tangent space at the mean:
//!   r_k = x_k − μ_k (linear), the residual wrapped into [−P/2, P/2) (periodic).
//! - **OT cost**: Σ_k s_k·δ_k² with δ_k = x_k − y_k (linear) and the chord
//!   δ_k = (P/π)·sin(π(x_k − y_k)/P) (periodic; ≈ x_k − y_k when small, at most P/π
//!   in size). It is the squared Euclidean distance between the embedded points
//!   √s_k·x_k and √s_k·(P/2π)·(cos φ, sin φ), so [`ot_resample`] runs unchanged on the
//!   embedded cloud of d + p coordinates (p periodic ones): one more coordinate per
//!   periodic one in each kernel entry, no second kernel. A transported point is a
//!   convex combination of embedded points, inside the circle; its angle
//!   atan2(sin, cos) is the circular mean of the mass it receives.

use crate::buf::{copy, rows, rows_mut, take};
use crate::error::Error;
use crate::real::Real;

use super::ot_resample::{check_cloud, ot_resample, ot_workspace_len, OtConfig, OtReport};
use super::rng::RandomSource;
use super::weights::log_sum_exp_parts;

/// How one coordinate behaves.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind<T> {
    /// An ordinary real coordinate.
    Linear,
    /// Periodic with this period (> 0, finite), in the coordinate's units.
    Periodic(T),
}

/// One coordinate of the state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Coord<T> {
    /// Linear or periodic.
    pub kind: Kind<T>,
    /// Weight s ≥ 0 of this coordinate in the OT cost Σ s_k·δ_k² (per squared unit).
    pub cost_scale: T,
    /// Bin width (> 0, in the coordinate's units) of KLD-sampling and of the clusters
    /// ([`kld`](super::kld)); not used by the moments or OT.
    pub bin: T,
}

impl<T: Real> Coord<T> {
    /// A linear coordinate with cost weight 1 and bin width `bin`.
    #[must_use]
    pub fn linear(bin: T) -> Self {
        Self {
            kind: Kind::Linear,
            cost_scale: T::ONE,
            bin,
        }
    }

    /// A periodic coordinate of period `period`, cost weight 1, bin width `bin`.
    #[must_use]
    pub fn periodic(period: T, bin: T) -> Self {
        Self {
            kind: Kind::Periodic(period),
            cost_scale: T::ONE,
            bin,
        }
    }
}

/// The trigonometry and rounding the state description needs, routed to libm (kept
/// apart from [`Real`]: nothing outside the particle filter uses it). Implemented for
/// `f32` and `f64` only (it extends the sealed [`Real`]).
pub trait Angles: Real {
    /// sin x (x in radians).
    fn sin(self) -> Self;
    /// cos x.
    fn cos(self) -> Self;
    /// The angle of (x, self) in (−π, π].
    fn atan2(self, x: Self) -> Self;
    /// The largest integer ≤ self.
    fn floor(self) -> Self;
    /// 2π.
    const TAU: Self;
}

impl Angles for f32 {
    fn sin(self) -> Self {
        libm::sinf(self)
    }
    fn cos(self) -> Self {
        libm::cosf(self)
    }
    fn atan2(self, x: Self) -> Self {
        libm::atan2f(self, x)
    }
    fn floor(self) -> Self {
        libm::floorf(self)
    }
    const TAU: Self = core::f32::consts::TAU;
}

impl Angles for f64 {
    fn sin(self) -> Self {
        libm::sin(self)
    }
    fn cos(self) -> Self {
        libm::cos(self)
    }
    fn atan2(self, x: Self) -> Self {
        libm::atan2(self, x)
    }
    fn floor(self) -> Self {
        libm::floor(self)
    }
    const TAU: Self = core::f64::consts::TAU;
}

/// Checks a state description against d coordinates: periods finite and > 0, cost
/// scales finite and ≥ 0, and not all 0 (bins are checked by KLD-sampling).
///
/// # Errors
/// `EmptyInput` (d = 0), `LengthMismatch` (`coords.len() != d`), `InvalidParameter`.
pub(crate) fn check_coords<T: Real>(coords: &[Coord<T>], d: usize) -> Result<(), Error> {
    if d == 0 {
        return Err(Error::EmptyInput);
    }
    if coords.len() != d {
        return Err(Error::LengthMismatch);
    }
    let ok = coords.iter().all(|c| {
        let period_ok = match c.kind {
            Kind::Linear => true,
            Kind::Periodic(p) => p.is_finite() && p > T::ZERO,
        };
        period_ok && c.cost_scale.is_finite() && c.cost_scale >= T::ZERO
    }) && coords.iter().any(|c| c.cost_scale > T::ZERO);
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidParameter)
    }
}

/// `v` wrapped into [−P/2, P/2).
pub(crate) fn wrap<T: Angles>(v: T, period: T) -> T {
    v - period * (v / period + T::HALF).floor()
}

/// Weighted mean and covariance per the state description (see the module docs).
///
/// `x`: N×d row-major; `logw`: N log-weights (need not be normalised; −∞ allowed);
/// `mean`: d; `cov`: d×d row-major.
///
/// # Errors
/// `EmptyInput`, `LengthMismatch` (`x`, `coords`, `mean`, `cov`), `NonFiniteInput`
/// (NaN/∞ coordinate, NaN/+∞ log-weight), `ZeroMass`, `InvalidParameter` (a period or
/// cost scale, see [`Coord`]), `NonFinite` (moments that overflow). Nothing is written
/// on error.
pub fn state_moments<T: Real + Angles>(
    x: &[T],
    logw: &[T],
    coords: &[Coord<T>],
    mean: &mut [T],
    cov: &mut [T],
) -> Result<(), Error> {
    let d = coords.len();
    check_coords(coords, d)?;
    check_cloud(x, logw, d)?;
    if mean.len() != d || Some(cov.len()) != d.checked_mul(d) {
        return Err(Error::LengthMismatch);
    }
    let lse = log_sum_exp_parts(logw)?;
    let w = |l: T| lse.centre(l).exp();
    // Coordinate k of every particle (rows, not `step_by`: no panic path for d = 0).
    let column = |k: usize| rows(x, d).map(move |xi| xi.get(k).copied().unwrap_or(T::ZERO));
    // Mean of coordinate k, and its residual (wrapped for a periodic coordinate).
    let mean_of = |k: usize, c: &Coord<T>| {
        let col = column(k);
        match c.kind {
            Kind::Linear => col.zip(logw).fold(T::ZERO, |a, (v, &l)| a + w(l) * v),
            Kind::Periodic(p) => {
                let (mut sc, mut ss) = (T::ZERO, T::ZERO);
                for (v, &l) in col.zip(logw) {
                    let phi = wrap(v, p) * T::TAU / p;
                    sc += w(l) * phi.cos();
                    ss += w(l) * phi.sin();
                }
                wrap(ss.atan2(sc) * p / T::TAU, p)
            }
        }
    };
    // A periodic residual of a coordinate near the top of the range: v − m overflows,
    // the wrapped values' difference (both within P/2 of 0) does not.
    let residual = |v: T, m: T, c: Option<&Coord<T>>| match c.map(|c| c.kind) {
        Some(Kind::Periodic(p)) if (v - m).is_finite() => wrap(v - m, p),
        Some(Kind::Periodic(p)) => wrap(wrap(v, p) - m, p),
        _ => v - m,
    };
    // Every check before the first write (nothing is written on error), so each mean
    // is computed twice: an O(N·d) pass next to the O(N·d²) covariance.
    // The weights are normalised (each ≤ 1, sum 1 up to rounding), so every
    // covariance entry and partial sum is bounded by the largest squared residual,
    // times N for the rounding slack: refused if that overflows.
    let mut big = T::ZERO;
    for (k, c) in coords.iter().enumerate() {
        let m = mean_of(k, c);
        if !m.is_finite() {
            return Err(Error::NonFinite);
        }
        for v in column(k) {
            let r = residual(v, m, Some(c));
            if !r.is_finite() {
                return Err(Error::NonFinite);
            }
            big = big.max_fast(r.abs());
        }
    }
    if !(big * big * T::from_usize(logw.len())).is_finite() {
        return Err(Error::NonFinite);
    }
    for (k, (o, c)) in mean.iter_mut().zip(coords).enumerate() {
        *o = mean_of(k, c);
    }
    let resid = |xi: &[T], k: usize| {
        residual(
            xi.get(k).copied().unwrap_or(T::ZERO),
            mean.get(k).copied().unwrap_or(T::ZERO),
            coords.get(k),
        )
    };
    cov.fill(T::ZERO);
    for (xi, &l) in rows(x, d).zip(logw) {
        let wi = w(l);
        for (r, row) in rows_mut(cov, d).enumerate() {
            let dr = resid(xi, r);
            for (c, o) in row.iter_mut().enumerate() {
                *o += wi * dr * resid(xi, c);
            }
        }
    }
    Ok(())
}

/// Coordinates of the embedded cloud: d + (number of periodic coordinates).
#[must_use]
pub fn embedded_dim<T>(coords: &[Coord<T>]) -> usize {
    coords.len() + periodic_count(coords)
}

fn periodic_count<T>(coords: &[Coord<T>]) -> usize {
    coords
        .iter()
        .filter(|c| matches!(c.kind, Kind::Periodic(_)))
        .count()
}

/// Embeds one state `xi` (d values) into `e` (d + p values): √s·x (linear),
/// √s·(P/2π)·(cos φ, sin φ) (periodic).
fn embed<T: Angles>(coords: &[Coord<T>], xi: &[T], e: &mut [T]) {
    let mut out = e.iter_mut();
    for (c, &v) in coords.iter().zip(xi) {
        let r = c.cost_scale.sqrt();
        match c.kind {
            Kind::Linear => {
                if let Some(o) = out.next() {
                    *o = r * v;
                }
            }
            Kind::Periodic(p) => {
                let phi = wrap(v, p) * T::TAU / p;
                let radius = r * p / T::TAU;
                if let Some(o) = out.next() {
                    *o = radius * phi.cos();
                }
                if let Some(o) = out.next() {
                    *o = radius * phi.sin();
                }
            }
        }
    }
}

/// Whether [`unembed`] maps `e` to finite values (the others are refused).
fn unembeds<T: Angles>(coords: &[Coord<T>], e: &[T]) -> bool {
    let mut inp = e.iter();
    coords.iter().all(|c| match c.kind {
        Kind::Linear => {
            let v = inp.next().copied().unwrap_or(T::ZERO);
            let r = c.cost_scale.sqrt();
            r == T::ZERO || linear_back(v, r).is_some()
        }
        Kind::Periodic(_) => {
            // cos and sin: an angle is always finite.
            inp.nth(1);
            true
        }
    })
}

/// A linear coordinate back in the caller's units, v/√s (`r` = √s > 0). A point within
/// rounding (2^−10) of the top of the range that rounds past it is saturated, as OT
/// resampling's transport does (a particle at the edge maps to itself); `None` beyond.
fn linear_back<T: Real>(v: T, r: T) -> Option<T> {
    let x = v / r;
    if x.is_finite() {
        Some(x)
    } else if (v * T::from_f64(1.0 - 1.0 / 1024.0) / r).is_finite() {
        Some(if x > T::ZERO { T::MAX } else { -T::MAX })
    } else {
        None
    }
}

/// The inverse of [`embed`] for a transported point `e`: x = e/√s (linear; a
/// coordinate with s = 0 takes `fallback`'s value, the particle's own before
/// transport), angle (P/2π)·atan2 in [−P/2, P/2] (periodic).
fn unembed<T: Angles>(coords: &[Coord<T>], e: &[T], fallback: &[T], xi: &mut [T]) {
    let mut inp = e.iter();
    for ((c, o), &f) in coords.iter().zip(xi.iter_mut()).zip(fallback) {
        let r = c.cost_scale.sqrt();
        match c.kind {
            Kind::Linear => {
                let v = inp.next().copied().unwrap_or(T::ZERO);
                *o = if r > T::ZERO {
                    // Checked by `unembeds` before anything is written.
                    linear_back(v, r).unwrap_or(f)
                } else {
                    f
                };
            }
            Kind::Periodic(p) => {
                let cs = inp.next().copied().unwrap_or(T::ZERO);
                let sn = inp.next().copied().unwrap_or(T::ZERO);
                *o = if r > T::ZERO {
                    wrap(sn.atan2(cs) * p / T::TAU, p)
                } else {
                    f
                };
            }
        }
    }
}

/// Workspace elements [`ot_resample_state`] needs for N particles:
/// 2·N·d' + [`ot_workspace_len`]`(N, d')`, d' = [`embedded_dim`].
#[must_use]
pub fn ot_state_workspace_len(n: usize, embedded_dim: usize) -> usize {
    n.saturating_mul(embedded_dim)
        .saturating_mul(2)
        .saturating_add(ot_workspace_len(n, embedded_dim))
}

/// OT resampling per the state description, to M = `x_out.len() / d` particles.
///
/// The N particles are embedded (module docs), resampled by [`ot_resample`] to N
/// equally weighted embedded points, and mapped back. For M ≠ N, M of those N are
/// then taken by systematic selection (slot k takes point ⌊(k + U)·N/M⌋, one uniform
/// U from `rng`; for M = N nothing is drawn). A coordinate with cost scale 0 does not
/// enter the cost and is carried by its particle unchanged.
///
/// # Errors
/// As [`ot_resample`], plus `InvalidParameter` (the description, see [`Coord`]),
/// `LengthMismatch` (`coords`, or `x_out` not a positive multiple of d long),
/// `NonFinite` (a transported particle overflows in the caller's units: a linear
/// coordinate of cost scale below 1 near the top of the range).
/// Nothing is written, and the RNG is unchanged, on error.
#[allow(clippy::too_many_arguments)]
pub fn ot_resample_state<T: Real + Angles, R: RandomSource + ?Sized>(
    x: &[T],
    logw: &[T],
    coords: &[Coord<T>],
    cfg: &OtConfig<T>,
    rng: &mut R,
    x_out: &mut [T],
    ws: &mut [T],
) -> Result<OtReport<T>, Error> {
    let d = coords.len();
    check_coords(coords, d)?;
    check_cloud(x, logw, d)?;
    let m = out_count(x_out, d)?;
    let n = logw.len();
    let de = embedded_dim(coords);
    if ws.len() < ot_state_workspace_len(n, de) {
        return Err(Error::WorkspaceTooSmall);
    }
    let mut rest = ws;
    let emb = take(&mut rest, n * de)?;
    let moved = take(&mut rest, n * de)?;
    for (xi, e) in rows(x, d).zip(rows_mut(emb, de)) {
        embed(coords, xi, e);
    }
    let report = ot_resample(emb, logw, de, cfg, moved, rest)?;
    // Back in the caller's units a linear coordinate is divided by √s: a transported
    // point that lies within the range where it was embedded can leave it there
    // (s < 1 near the top of the range). Beyond rounding, refused before anything is
    // written.
    if !rows(moved, de).all(|e| unembeds(coords, e)) {
        return Err(Error::NonFinite);
    }
    let mut put = |slot: usize, i: usize| {
        let e = moved.get(i * de..(i + 1) * de).unwrap_or(&[]);
        let f = x.get(i * d..(i + 1) * d).unwrap_or(&[]);
        if let Some(o) = x_out.get_mut(slot * d..(slot + 1) * d) {
            unembed(coords, e, f, o);
        }
    };
    if m == n {
        (0..n).for_each(|i| put(i, i));
    } else {
        let u = rng.uniform::<T>();
        for k in 0..m {
            put(k, stride_pick(k, u, n, m));
        }
    }
    Ok(report)
}

/// ⌊(k + u)·N/M⌋ capped at N − 1 (rounding), the systematic pick of slot k.
pub(crate) fn stride_pick<T: Real>(k: usize, u: T, n: usize, m: usize) -> usize {
    let t = (T::from_usize(k) + u) * T::from_usize(n) / T::from_usize(m);
    let mut i = 0usize;
    // Exact floor of a value in [0, N) without a float-to-int cast: count up from
    // ⌊k·N/M⌋ (integer arithmetic) while the next integer is ≤ t.
    if let Some(base) = k.checked_mul(n).map(|v| v / m.max(1)) {
        i = base;
    }
    while i + 1 < n && T::from_usize(i + 1) <= t {
        i += 1;
    }
    i.min(n - 1)
}

/// M = `x_out.len() / d`, which must be a positive whole number.
pub(crate) fn out_count<T>(x_out: &[T], d: usize) -> Result<usize, Error> {
    if d == 0 || x_out.is_empty() || !x_out.len().is_multiple_of(d) {
        return Err(Error::LengthMismatch);
    }
    Ok(x_out.len() / d)
}

/// Copies row `i` of `src` (rows of d) to row `slot` of `dst`.
pub(crate) fn copy_row<T: Copy>(dst: &mut [T], slot: usize, src: &[T], i: usize, d: usize) {
    if let (Some(o), Some(s)) = (
        dst.get_mut(slot * d..(slot + 1) * d),
        src.get(i * d..(i + 1) * d),
    ) {
        copy(o, s);
    }
}
