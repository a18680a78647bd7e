//! Hard matches from an entropic plan, and partial matching with a dustbin point
//! (SuperGlue, Sarlin et al. 2020, `log_optimal_transport`), streamed.
//!
//! [`matches()`]: mutual argmax pairs of the plan (j = argmax_j P_ij and
//! i = argmax_i P_ij) whose confidence P_ij / a_i reaches a threshold, from one pass
//! over the rows and one over the columns ([`Plan::row_argmax`],
//! [`Plan::col_argmax`]).
//!
//! [`dustbin_solve`]: Sinkhorn on the problem augmented by one dustbin point on each
//! side, at cost `z` from every point and between the two dustbins, with dustbin
//! weights Σb (rows) and Σa (columns), so that any point may stay unmatched:
//! SuperGlue's formulation with a = b = 1/(n + m) and z = −α, α its bin score. The
//! real block of that plan is the plan of the returned f, g on the real points, so
//! [`matches()`] on it gives SuperGlue's matches; a point whose mass went to a dustbin
//! has a low confidence.

use crate::buf::{copy, take};
use crate::dispatch::dispatch;
use crate::error::Error;
use crate::kernel::{shifted, CostSource, Tuned};
use crate::real::Real;
use crate::sum::Compensated;

use super::config::{Acceleration, Config, Init};
use super::plan::{index_of, Plan};
use super::problem::Problem;
use super::sinkhorn::Status;
use super::workspace::{
    carve, cost_scale, load_potentials, load_problem, scaled, to_kernel_units, with_sources,
    workspace_len,
};

/// Marks "no match" in the index outputs.
pub const UNMATCHED: usize = usize::MAX;

/// Where [`matches()`] writes (lengths n, n, m).
pub struct Matches<'o, T> {
    /// Row i's mutual match j if its confidence reaches the threshold, else
    /// [`UNMATCHED`].
    pub rows: &'o mut [usize],
    /// Row i's confidence max_j P_ij / a_i (0 for a zero-weight row).
    pub confidence: &'o mut [T],
    /// Column j's match i (the same pairs as `rows`), else [`UNMATCHED`].
    pub cols: &'o mut [usize],
}

/// Elements of workspace [`matches()`] needs: 2(n + m) + [`workspace_len`]`(n, m, d)`.
#[must_use]
pub const fn matches_workspace_len(n: usize, m: usize, dim: usize) -> usize {
    workspace_len(n, m, dim).saturating_add(n.saturating_add(m).saturating_mul(2))
}

/// Mutual-argmax matches of `plan` with confidence ≥ `threshold` (a probability in
/// [0, 1]; 0 keeps every mutual pair). Two streamed passes; memory
/// [`matches_workspace_len`].
///
/// # Errors
/// Nothing is written on error. [`Error::InvalidParameter`] (threshold not in
/// [0, 1]), [`Error::LengthMismatch`] (outputs); otherwise those of
/// [`Plan::row_argmax`].
pub fn matches<T: Real>(
    plan: &Plan<'_, T>,
    threshold: T,
    out: Matches<'_, T>,
    ws: &mut [T],
) -> Result<(), Error> {
    if !(threshold >= T::ZERO && threshold <= T::ONE) {
        return Err(Error::InvalidParameter);
    }
    let (n, m) = (plan.problem.n(), plan.problem.m());
    if out.rows.len() != n || out.confidence.len() != n || out.cols.len() != m {
        return Err(Error::LengthMismatch);
    }
    if ws.len() < matches_workspace_len(n, m, plan.problem.dim()) {
        return Err(Error::WorkspaceTooSmall);
    }
    let mut ws = ws;
    let row_idx = take(&mut ws, n)?;
    let row_conf = take(&mut ws, n)?;
    let col_idx = take(&mut ws, m)?;
    let col_conf = take(&mut ws, m)?;
    plan.argmax_staged(true, row_idx, row_conf, ws)?;
    plan.argmax_staged(false, col_idx, col_conf, ws)?;
    for (i, (slot, (&j, &c))) in out
        .rows
        .iter_mut()
        .zip(row_idx.iter().zip(&*row_conf))
        .enumerate()
    {
        let j = index_of(j);
        let mutual = col_idx.get(j).is_some_and(|&back| index_of(back) == i);
        *slot = if mutual && c >= threshold {
            j
        } else {
            UNMATCHED
        };
    }
    for c in out.cols.iter_mut() {
        *c = UNMATCHED;
    }
    for (i, &j) in out.rows.iter().enumerate() {
        if let Some(slot) = out.cols.get_mut(j) {
            *slot = i;
        }
    }
    copy(out.confidence, row_conf);
    Ok(())
}

/// What [`dustbin_solve`] returns besides the potentials.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DustbinSolution<T> {
    /// Converged or out of budget.
    pub status: Status,
    /// Full iterations performed.
    pub iterations: u32,
    /// L1 marginal error of the augmented plan (weight units; its rows are exact).
    pub error: T,
    /// The absolute ε used (cost units).
    pub epsilon: T,
}

/// Sinkhorn on the problem augmented by a dustbin on each side (module docs): `f`
/// (n + 1) and `g` (m + 1) receive the potentials, cost units, the dustbins' last;
/// the real block of the plan is [`Plan`]`(problem, ε, f[..n], g[..m])`. `z` is the
/// cost of leaving a point unmatched (cost units, finite; lower keeps fewer
/// matches). `config`: ε, tolerance and budget; balanced, without ε-scaling or
/// acceleration. `init`: [`Init::Zero`] or [`Init::Potentials`] (a warm start from
/// `f`, `g`). Two streamed passes per iteration; memory [`workspace_len`]`(n, m, d)`.
///
/// # Errors
/// Nothing is written on error. [`Error::InvalidParameter`] (`z` not finite, a relaxed
/// marginal, ε-scaling, acceleration, another `init`, zero budget),
/// [`Error::LengthMismatch`] (`f`, `g`), [`Error::NonFinite`]; otherwise those of
/// [`solve`](super::solve).
pub fn dustbin_solve<T: Real>(
    problem: &Problem<'_, T>,
    z: T,
    config: &Config<T>,
    init: Init,
    f: &mut [T],
    g: &mut [T],
    ws: &mut [T],
) -> Result<DustbinSolution<T>, Error> {
    config.check()?;
    let plain = config.is_balanced()
        && config.epsilon_scaling == T::ZERO
        && config.acceleration == Acceleration::Off
        && config.max_iterations > 0
        && matches!(init, Init::Zero | Init::Potentials);
    if !(plain && z.is_finite()) {
        return Err(Error::InvalidParameter);
    }
    let chk = problem.check()?;
    let (n, m) = (chk.n, chk.m);
    if f.len() != n + 1 || g.len() != m + 1 {
        return Err(Error::LengthMismatch);
    }
    // The real points' potentials (n, m) and the dustbins' (last).
    let (Some((f_bin, f_pts)), Some((g_bin, g_pts))) = (f.split_last_mut(), g.split_last_mut())
    else {
        return Err(Error::LengthMismatch);
    };
    let eps = config.epsilon.resolve(chk.mean_cost)?;
    if !((chk.max_cost / eps).is_finite() && (z / eps).is_finite()) {
        return Err(Error::InvalidEpsilon);
    }
    let warm = init == Init::Potentials;
    if warm && !(f_bin.is_finite() && g_bin.is_finite()) {
        return Err(Error::NonFiniteInput);
    }
    let mut lay = carve(ws, n, m, chk.dim)?;
    load_problem(&mut lay, problem);
    load_potentials(lay.u, warm.then_some(&*f_pts), problem.a, T::ONE);
    load_potentials(lay.v, warm.then_some(&*g_pts), problem.b, T::ONE);
    let (mut fd, mut gd) = if warm {
        (*f_bin, *g_bin)
    } else {
        (T::ZERO, T::ZERO)
    };
    // Dustbin weights: each dustbin can take the whole other side.
    let (ln_ad, ln_bd) = (chk.mass_b.ln(), chk.mass_a.ln());
    let k = Half {
        kappa: cost_scale(problem, eps).1,
        unit: to_kernel_units(eps),
        eps,
        z_eps: z / eps,
    };
    // u, v are padded to np, mp (the sources' length); the passes use their first n, m.
    let (np, mp) = (lay.np, lay.mp);
    let (u, v, next, src) = (
        lay.u.get_mut(..n).ok_or(Error::WorkspaceTooSmall)?,
        lay.v.get_mut(..m).ok_or(Error::WorkspaceTooSmall)?,
        &mut *lay.scratch,
        &mut *lay.sources,
    );
    let mut iterations = 0u32;
    let (status, error) = with_sources!(problem.cost, lay.xs, lay.ys, m, |rows, cols| {
        loop {
            // Column pass: the column sums of the current plan (rows exact after a
            // row pass), the error, and the new g (applied only if going on).
            let srcs = src.get_mut(..np).ok_or(Error::WorkspaceTooSmall)?;
            let bins = [(gd, ln_bd, chk.mass_a), (fd, T::ZERO, T::ZERO)];
            let (error, gd_new) = k.pass(&cols, (&*v, problem.b), &*u, bins, srcs, next)?;
            if iterations > 0 && error <= config.tolerance {
                break (Status::Converged, error);
            }
            if iterations >= config.max_iterations {
                break (Status::MaxIterations, error);
            }
            copy(v, next);
            gd = gd_new;
            // Row pass: f from the new g.
            let srcs = src.get_mut(..mp).ok_or(Error::WorkspaceTooSmall)?;
            let bins = [(fd, ln_ad, chk.mass_b), (gd, T::ZERO, T::ZERO)];
            let (_, fd_new) = k.pass(&rows, (&*u, problem.a), &*v, bins, srcs, next)?;
            copy(u, next);
            fd = fd_new;
            iterations += 1;
        }
    });
    copy(f_pts, u);
    *f_bin = fd;
    copy(g_pts, v);
    *g_bin = gd;
    Ok(DustbinSolution {
        status,
        iterations,
        error,
        epsilon: eps,
    })
}

/// The constants of a dustbin half-iteration.
struct Half<T> {
    kappa: T,
    /// log₂e/ε.
    unit: T,
    eps: T,
    /// z/ε.
    z_eps: T,
}

impl<T: Real> Half<T> {
    /// One half-iteration for the side whose points are `src`'s targets, with
    /// potentials `tgt` and weights `w`; `other` are the other side's potentials.
    /// `bins` = [(this side's dustbin potential, ln of its weight, the mass its
    /// column/row should carry), (the other dustbin's potential, unused, unused)].
    /// Writes the updated potentials to `next` (−∞ at zero weights) and returns the L1
    /// marginal error of this side at the current potentials and the dustbin's update.
    fn pass<S: CostSource<T>>(
        &self,
        src: &S,
        (tgt, w): (&[T], &[T]),
        other: &[T],
        [(bin, ln_bin_w, bin_mass), (other_bin, _, _)]: [(T, T, T); 2],
        srcs: &mut [T],
        next: &mut [T],
    ) -> Result<(T, T), Error> {
        let (eps, inv) = (self.eps, T::ONE / self.eps);
        scaled(srcs, other, self.unit);
        for s in srcs.iter_mut().skip(other.len()) {
            *s = T::NEG_INFINITY;
        }
        src.absorb_sources(srcs, self.kappa);
        let from_bin = other_bin * inv - self.z_eps;
        let mut err = dispatch!(|isa| {
            let src = &Tuned::new(src, isa);
            let mut err = Compensated::new();
            for (p, ((&h, &wp), out)) in tgt.iter().zip(w).zip(next.iter_mut()).enumerate() {
                if wp == T::ZERO {
                    *out = T::NEG_INFINITY;
                    continue;
                }
                let t = src.absorb_target(p, h * self.unit, self.kappa);
                let (shift, s) = shifted(src, p, t, srcs, self.kappa, &mut ());
                let ln_sum = log_add_exp(shift.ln() + s.ln(), h * inv + from_bin);
                err.add((ln_sum.exp() - wp).abs());
                *out = eps * (wp.ln() - ln_sum) + h;
                if !out.is_finite() {
                    return Err(Error::NonFinite);
                }
            }
            Ok(err)
        })?;
        let ln_sum = log_add_exp(lse(other, inv), other_bin * inv) - self.z_eps;
        err.add(((bin * inv + ln_sum).exp() - bin_mass).abs());
        let error = err.value();
        if error.is_finite() {
            Ok((error, eps * (ln_bin_w - ln_sum)))
        } else {
            Err(Error::NonFinite)
        }
    }
}

/// ln(e^p + e^q), exact for −∞ arguments.
fn log_add_exp<T: Real>(p: T, q: T) -> T {
    let (hi, lo) = if p > q { (p, q) } else { (q, p) };
    if lo == T::NEG_INFINITY {
        hi
    } else {
        hi + (T::ONE + (lo - hi).exp()).ln()
    }
}

/// ln Σ_i e^{scale·h_i} over the finite h (−∞ if none): an O(n) pass, once per
/// half-iteration for the dustbin's own sum.
fn lse<T: Real>(h: &[T], scale: T) -> T {
    let top = h.iter().fold(T::NEG_INFINITY, |acc, &v| acc.max_fast(v)) * scale;
    if top == T::NEG_INFINITY {
        return top;
    }
    let mut s = Compensated::new();
    for &v in h {
        if v != T::NEG_INFINITY {
            s.add((v * scale - top).exp());
        }
    }
    top + s.value().ln()
}
