//! The debiased Sinkhorn divergence and the gradients of OT_ε and S_ε.
//!
//! S_ε(α, β) = OT_ε(α, β) − ½ OT_ε(α, α) − ½ OT_ε(β, β) + ½ ε (Σa − Σb)², with OT_ε
//! OTT-JAX's `reg_ot_cost` (the dual value of [`solve`]), as OTT-JAX's
//! `sinkhorn_divergence` (the mass term vanishes when balanced). For GeomLoss's
//! `SamplesLoss("sinkhorn", p=2, blur, debias=True)` use scale ½ and ε = blur².
//!
//! The symmetric terms are solved as OTT-JAX and GeomLoss do (Feydy et al. 2019, eq.
//! 25): one potential f, updated by the average of itself and its Sinkhorn update,
//! f ← ½ (f + τ (ε ln a − ε LSE_j((f_j − C_ij)/ε))): one pass over the n² pairs per
//! iteration, on the shared kernel.
//!
//! Gradients, balanced problems only (envelope theorem, potentials held fixed; exact
//! only at convergence, off it they are the gradients of the dual objective at the
//! returned potentials): ∇_{x_i} OT_ε = Σ_j P_ij ∇_{x_i} C_ij = 2s·a_i (x_i − T(x_i))
//! (T the barycentric map), from [`Plan::row_gradient`]; ∇_{a_i} OT_ε = c̃_i + ε (Σb − 1),
//! c̃ the soft c-transform of g. Balanced weight gradients are defined up to adding k
//! to every ∂/∂a and −k to every ∂/∂b (the potentials' own freedom): only directions
//! that keep Σa = Σb are meaningful. For S_ε the symmetric terms enter with both of
//! their sides. With a relaxed marginal, OTT-JAX's `reg_ot_cost` is not stationary at
//! the fixed point its iteration (and [`solve`]) reaches (its entropy is relative to
//! 1⊗1, its value formula to a⊗b: `tools/reference/README.md`), so no envelope
//! gradient exists; the gradient functions refuse such configurations.

use crate::buf::{copy, take};
use crate::dispatch::dispatch;
use crate::error::Error;
use crate::kernel::{shifted, CostSource, Tuned};
use crate::points::Points;
use crate::real::Real;
use crate::sum::Compensated;

use super::config::{Config, Epsilon, Init};
use super::plan::Plan;
use super::problem::{Cost, Problem};
use super::sinkhorn::{solve, Side, Status};
use super::workspace::{
    carve, cost_scale, load_log_weights, load_potentials, load_problem, scaled, with_sources,
    workspace_len,
};

/// The potentials of the three problems of S_ε (cost units, the convention of
/// [`solve`]): read as the warm start with [`Init::Potentials`], written on success.
pub struct DivergencePotentials<'p, T> {
    /// Row potential of OT_ε(α, β), length n.
    pub f_xy: &'p mut [T],
    /// Column potential of OT_ε(α, β), length m.
    pub g_xy: &'p mut [T],
    /// The symmetric potential of OT_ε(α, α) (both sides), length n.
    pub f_xx: &'p mut [T],
    /// The symmetric potential of OT_ε(β, β), length m.
    pub g_yy: &'p mut [T],
}

/// What [`divergence`] returns besides the potentials.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Divergence<T> {
    /// S_ε (cost units × mass).
    pub value: T,
    /// OT_ε(α, β), OT_ε(α, α), OT_ε(β, β) (OTT-JAX's `reg_ot_cost` of each).
    pub terms: [T; 3],
    /// The absolute ε of all three problems (resolved on the (α, β) problem, as
    /// OTT-JAX's `share_epsilon`).
    pub epsilon: T,
    /// Iterations of the three solves.
    pub iterations: [u32; 3],
    /// The largest of the three L1 marginal errors (weight units).
    pub error: T,
    /// [`Status::Converged`] if all three solves converged, else
    /// [`Status::MaxIterations`].
    pub status: Status,
}

/// Elements of workspace [`divergence`] needs: n + m staged potentials plus the
/// largest of the three solves' [`workspace_len`]s (O(n + m); saturating).
#[must_use]
pub const fn divergence_workspace_len(n: usize, m: usize, dim: usize) -> usize {
    let big = if n > m { n } else { m };
    workspace_len(big, big, dim).saturating_add(n.saturating_add(m))
}

/// Elements of workspace [`divergence_gradient`] needs: 2(n + m)(d + 1) staged
/// results plus the largest plan-operation workspace (O(n + m); saturating).
#[must_use]
pub const fn divergence_gradient_workspace_len(n: usize, m: usize, dim: usize) -> usize {
    let big = if n > m { n } else { m };
    let staged = n
        .saturating_add(m)
        .saturating_mul(dim.saturating_add(1))
        .saturating_mul(2);
    workspace_len(big, big, dim).saturating_add(staged)
}

/// The debiased Sinkhorn divergence S_ε(α, β) between two weighted point clouds.
///
/// `problem` gives x, y, the cost scale s and the weights; `config` the ε (relative ε
/// is resolved on the (x, y) costs and shared by the three problems), the ρ's (the
/// symmetric problems use ρ_a for α, ρ_b for β), tolerance and budget (per solve).
/// `init`: [`Init::Zero`], or [`Init::Potentials`] to warm-start all three from
/// `pots` (the gradient flow's case). Three solves; memory
/// [`divergence_workspace_len`], never n×m.
///
/// # Errors
/// Nothing is written on error. [`Error::NeedsPointClouds`] for a dense cost,
/// [`Error::InvalidParameter`] for another `init`, [`Error::NonFinite`] if a value is
/// not finite (also a relaxed term below the range, see
/// [`Status::RegCostOverflow`]); otherwise those of [`solve`].
pub fn divergence<T: Real>(
    problem: &Problem<'_, T>,
    config: &Config<T>,
    init: Init,
    pots: DivergencePotentials<'_, T>,
    ws: &mut [T],
) -> Result<Divergence<T>, Error> {
    let Cost::SqEuclidean { x, y, dim, scale } = problem.cost else {
        return Err(Error::NeedsPointClouds);
    };
    if !matches!(init, Init::Zero | Init::Potentials) {
        return Err(Error::InvalidParameter);
    }
    config.check()?;
    let chk = problem.check()?;
    let (n, m) = (chk.n, chk.m);
    if pots.f_xy.len() != n || pots.g_xy.len() != m || pots.f_xx.len() != n || pots.g_yy.len() != m
    {
        return Err(Error::LengthMismatch);
    }
    if ws.len() < divergence_workspace_len(n, m, dim) {
        return Err(Error::WorkspaceTooSmall);
    }
    let eps = config.epsilon.resolve(chk.mean_cost)?;
    let shared = Config {
        epsilon: Epsilon::Absolute(eps),
        ..*config
    };
    let mut ws = ws;
    let f_xx = take(&mut ws, n)?;
    let g_yy = take(&mut ws, m)?;
    let warm = init == Init::Potentials;
    copy(f_xx, pots.f_xx);
    copy(g_yy, pots.g_yy);
    let xx = symmetric(
        x,
        dim,
        scale,
        problem.a,
        (eps, config.rho_a),
        &shared,
        warm,
        f_xx,
        ws,
    )?;
    let yy = symmetric(
        y,
        dim,
        scale,
        problem.b,
        (eps, config.rho_b),
        &shared,
        warm,
        g_yy,
        ws,
    )?;
    let xy = solve(problem, &shared, init, pots.f_xy, pots.g_xy, ws)?;
    let dm = chk.mass_a - chk.mass_b;
    let value =
        xy.reg_ot_cost - T::HALF * (xx.reg_ot_cost + yy.reg_ot_cost) + T::HALF * eps * dm * dm;
    if !value.is_finite() || xy.status == Status::RegCostOverflow {
        return Err(Error::NonFinite);
    }
    copy(pots.f_xx, f_xx);
    copy(pots.g_yy, g_yy);
    let converged = [xy.status, xx.status, yy.status]
        .iter()
        .all(|&s| s == Status::Converged);
    Ok(Divergence {
        value,
        terms: [xy.reg_ot_cost, xx.reg_ot_cost, yy.reg_ot_cost],
        epsilon: eps,
        iterations: [xy.iterations, xx.iterations, yy.iterations],
        error: xy.error.max_fast(xx.error).max_fast(yy.error),
        status: if converged {
            Status::Converged
        } else {
            Status::MaxIterations
        },
    })
}

/// The gradients of one side's terms, written by [`divergence_gradient`] and
/// [`ot_gradient`]: with respect to the points x (n×d row-major), y (m×d) and the
/// weights a (n), b (m), in value units per coordinate unit / per unit of weight.
pub struct Gradient<'o, T> {
    /// ∂/∂x, n×d row-major.
    pub x: &'o mut [T],
    /// ∂/∂y, m×d row-major.
    pub y: &'o mut [T],
    /// ∂/∂a, length n.
    pub a: &'o mut [T],
    /// ∂/∂b, length m.
    pub b: &'o mut [T],
}

/// The gradients of S_ε with respect to x, y, a, b from the potentials [`divergence`]
/// returned (`epsilon`: its [`Divergence::epsilon`]; `config`: the one it used, which
/// must be balanced).
/// Four streamed passes (rows and columns of the (α, β) plan, rows of each symmetric
/// plan), memory [`divergence_gradient_workspace_len`]. Exact at convergence (module
/// docs).
///
/// # Errors
/// Nothing is written on error. [`Error::NeedsPointClouds`], [`Error::InvalidParameter`]
/// (a relaxed marginal), [`Error::LengthMismatch`] (potentials, outputs),
/// [`Error::NonFinite`]; otherwise those of [`Plan::apply`].
pub fn divergence_gradient<T: Real>(
    problem: &Problem<'_, T>,
    config: &Config<T>,
    epsilon: T,
    pots: [&[T]; 4],
    out: Gradient<'_, T>,
    ws: &mut [T],
) -> Result<(), Error> {
    let Cost::SqEuclidean { x, y, dim, scale } = problem.cost else {
        return Err(Error::NeedsPointClouds);
    };
    balanced_only(config)?;
    let [f_xy, g_xy, f_xx, g_yy] = pots;
    let (n, m) = (problem.n(), problem.m());
    check_outputs(&out, n, m, dim)?;
    if ws.len() < divergence_gradient_workspace_len(n, m, dim) {
        return Err(Error::WorkspaceTooSmall);
    }
    let (a, b) = (problem.a, problem.b);
    let (ma, mb) = (crate::sum::sum(a), crate::sum::sum(b));
    let dm = epsilon * (ma - mb);
    let mut ws = ws;
    let st_x = take(&mut ws, 2 * n * (dim + 1))?;
    let st_y = take(&mut ws, 2 * m * (dim + 1))?;
    let plan = Plan::new(*problem, epsilon, f_xy, g_xy);
    let sides = [
        (plan, x, a, f_xx, (mb, ma), &mut *st_x),
        (plan.transposed()?, y, b, g_yy, (ma, mb), &mut *st_y),
    ];
    for (pl, pts, w, f, masses, st) in sides {
        // The (α, β) term minus the symmetric one, into the first half of `st`
        // ([∂x | ∂a] of the (α, β) term, then of the symmetric one).
        let len = w.len();
        let mut st = st;
        let gx = take(&mut st, len * dim)?;
        let ga = take(&mut st, len)?;
        let sx = take(&mut st, len * dim)?;
        let sa = take(&mut st, len)?;
        pl.row_gradient(gx, ga, ws)?;
        weight_gradient(ga, epsilon, masses.0);
        let sym_problem = Problem::strided_clouds(pts, pts, dim, scale, w, w);
        Plan::new(sym_problem, epsilon, f, f).row_gradient(sx, sa, ws)?;
        weight_gradient(sa, epsilon, masses.1);
        for (o, s) in gx.iter_mut().zip(&*sx).chain(ga.iter_mut().zip(&*sa)) {
            *o -= *s;
        }
    }
    // The mass term ½ ε (Σa − Σb)².
    let (st_x, st_y) = (
        st_x.get_mut(..n * (dim + 1))
            .ok_or(Error::WorkspaceTooSmall)?,
        st_y.get_mut(..m * (dim + 1))
            .ok_or(Error::WorkspaceTooSmall)?,
    );
    let (gxa, gyb) = (
        st_x.get_mut(n * dim..).ok_or(Error::WorkspaceTooSmall)?,
        st_y.get_mut(m * dim..).ok_or(Error::WorkspaceTooSmall)?,
    );
    gxa.iter_mut().for_each(|v| *v += dm);
    gyb.iter_mut().for_each(|v| *v -= dm);
    publish(out, st_x, st_y, n, m, dim)
}

/// The gradients of OT_ε(α, β) (OTT-JAX's `reg_ot_cost`) with respect to x, y, a, b
/// at the plan's potentials (`config`: that of the solve, which must be balanced). Two streamed passes,
/// memory [`divergence_gradient_workspace_len`]. Exact at convergence (module docs).
///
/// # Errors
/// As [`divergence_gradient`].
pub fn ot_gradient<T: Real>(
    plan: &Plan<'_, T>,
    config: &Config<T>,
    out: Gradient<'_, T>,
    ws: &mut [T],
) -> Result<(), Error> {
    let dim = match plan.problem.cost {
        Cost::SqEuclidean { dim, .. } => dim,
        Cost::Matrix { .. } => return Err(Error::NeedsPointClouds),
    };
    balanced_only(config)?;
    let (n, m) = (plan.problem.n(), plan.problem.m());
    check_outputs(&out, n, m, dim)?;
    if ws.len() < divergence_gradient_workspace_len(n, m, dim) {
        return Err(Error::WorkspaceTooSmall);
    }
    let (ma, mb) = (
        crate::sum::sum(plan.problem.a),
        crate::sum::sum(plan.problem.b),
    );
    let mut ws = ws;
    let st_x = take(&mut ws, n * (dim + 1))?;
    let st_y = take(&mut ws, m * (dim + 1))?;
    {
        let (gx, ga) = st_x
            .split_at_mut_checked(n * dim)
            .ok_or(Error::WorkspaceTooSmall)?;
        plan.row_gradient(gx, ga, ws)?;
        weight_gradient(ga, plan.epsilon, mb);
    }
    {
        let (gy, gb) = st_y
            .split_at_mut_checked(m * dim)
            .ok_or(Error::WorkspaceTooSmall)?;
        plan.transposed()?.row_gradient(gy, gb, ws)?;
        weight_gradient(gb, plan.epsilon, ma);
    }
    publish(out, st_x, st_y, n, m, dim)
}

/// The gradients exist for hard marginals only (module docs).
fn balanced_only<T: Real>(config: &Config<T>) -> Result<(), Error> {
    config.check()?;
    if config.is_balanced() {
        Ok(())
    } else {
        Err(Error::InvalidParameter)
    }
}

pub(super) fn check_outputs<T>(
    out: &Gradient<'_, T>,
    n: usize,
    m: usize,
    dim: usize,
) -> Result<(), Error> {
    let ok = Some(out.x.len()) == n.checked_mul(dim)
        && Some(out.y.len()) == m.checked_mul(dim)
        && out.a.len() == n
        && out.b.len() == m;
    if ok {
        Ok(())
    } else {
        Err(Error::LengthMismatch)
    }
}

/// Copies staged `[∂x | ∂a]`, `[∂y | ∂b]` to the outputs after a finiteness check.
pub(super) fn publish<T: Real>(
    out: Gradient<'_, T>,
    st_x: &[T],
    st_y: &[T],
    n: usize,
    m: usize,
    dim: usize,
) -> Result<(), Error> {
    if !st_x.iter().chain(st_y).all(|v| v.is_finite()) {
        return Err(Error::NonFinite);
    }
    let (sx, sa) = st_x
        .split_at_checked(n * dim)
        .ok_or(Error::WorkspaceTooSmall)?;
    let (sy, sb) = st_y
        .split_at_checked(m * dim)
        .ok_or(Error::WorkspaceTooSmall)?;
    copy(out.x, sx);
    copy(out.a, sa);
    copy(out.y, sy);
    copy(out.b, sb);
    Ok(())
}

/// Turns the soft c-transform `ct` of one side into that side's weight gradient of
/// `reg_ot_cost` in place (module docs); `other` is the other side's mass.
fn weight_gradient<T: Real>(ct: &mut [T], eps: T, other: T) {
    for c in ct {
        *c = *c - eps + eps * other;
    }
}

/// The result of one symmetric solve.
struct Symmetric<T> {
    reg_ot_cost: T,
    iterations: u32,
    error: T,
    status: Status,
}

/// OT_ε(α, α) for the cloud `pts` with weights `w` by averaged symmetric updates
/// (module docs), from `f` (if `warm`) or 0; the potential is written to `f` (both
/// sides of the symmetric plan). `config` gives tolerance and budget.
#[allow(clippy::too_many_arguments)]
fn symmetric<T: Real>(
    pts: Points<'_, T>,
    dim: usize,
    scale: T,
    w: &[T],
    (eps, rho): (T, T),
    config: &Config<T>,
    warm: bool,
    f: &mut [T],
    ws: &mut [T],
) -> Result<Symmetric<T>, Error> {
    let problem = Problem::strided_clouds(pts, pts, dim, scale, w, w);
    let chk = problem.check()?;
    if !(chk.max_cost / eps).is_finite() {
        return Err(Error::InvalidEpsilon);
    }
    if warm
        && !f
            .iter()
            .zip(w)
            .all(|(&p, &wi)| wi == T::ZERO || p.is_finite())
    {
        return Err(Error::NonFiniteInput);
    }
    let side = Side::new(rho, eps);
    let (_, kappa) = cost_scale(&problem, eps);
    let mut lay = carve(ws, chk.n, chk.n, dim)?;
    load_problem(&mut lay, &problem);
    load_potentials(lay.u, warm.then_some(&*f), w, T::ONE);
    load_log_weights(lay.la, w, T::ZERO);
    let (u, la, next, src) = (&mut *lay.u, &*lay.la, &mut *lay.scratch, &mut *lay.sources);
    let mut iterations = 0u32;
    let (status, error, mass) =
        with_sources!(problem.cost, lay.xs, lay.ys, chk.n, |rows, _cols| {
            loop {
                let src = src.get_mut(..u.len()).ok_or(Error::WorkspaceTooSmall)?;
                scaled(src, u, side.unit);
                rows.absorb_sources(src, kappa);
                let (err, mass) = dispatch!(|isa| {
                    let rows = &Tuned::new(&rows, isa);
                    let (mut err, mut mass) = (Compensated::new(), Compensated::new());
                    for (i, ((&ui, &lai), out)) in u.iter().zip(la).zip(next.iter_mut()).enumerate()
                    {
                        if lai == T::NEG_INFINITY {
                            *out = T::NEG_INFINITY;
                            continue;
                        }
                        let target = rows.absorb_target(i, ui * side.unit, kappa);
                        let (shift, s) = shifted(rows, i, target, src, kappa, &mut ());
                        *out = side
                            .update(lai, shift.ln() + s.ln_kernel(), ui)
                            .ok_or(Error::NonFinite)?;
                        let row = s * shift.factor();
                        let wi = w.get(i).copied().unwrap_or(T::ZERO);
                        err.add((row - side.target(lai, wi, ui)).abs());
                        mass.add(row);
                    }
                    Ok((err, mass))
                })?;
                // Rows and columns of the symmetric plan have the same violation.
                let error = err.value() + err.value();
                if error <= config.tolerance {
                    break (Status::Converged, error, mass.value());
                }
                if iterations >= config.max_iterations {
                    break (Status::MaxIterations, error, mass.value());
                }
                for (ui, &new) in u.iter_mut().zip(&*next) {
                    if new != T::NEG_INFINITY {
                        *ui = T::HALF * (*ui + new);
                    }
                }
                iterations += 1;
            }
        });
    let mut reg = Compensated::new();
    let half = side.divergence(u, la);
    reg.add(half);
    reg.add(half);
    reg.add(eps * (chk.mass_a * chk.mass_a - mass));
    let reg_ot_cost = reg.value();
    if !(reg_ot_cost.is_finite() && error.is_finite()) {
        return Err(Error::NonFinite);
    }
    copy(f, u.get(..chk.n).ok_or(Error::WorkspaceTooSmall)?);
    Ok(Symmetric {
        reg_ot_cost,
        iterations,
        error,
        status,
    })
}
