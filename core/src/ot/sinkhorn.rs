//! The log-domain Sinkhorn solver (sequential g → f updates, OTT-JAX order).
//!
//! With dimensionless potentials u = f/ε, v = g/ε and κ = s/ε, one iteration is
//!
//! ```text
//! column pass:  S_j = Σ_i exp(u_i + v_j − κ c_ij)          (column sums of the current plan)
//!               v_j ← τ_b · (ln b_j − ln S_j + v_j)
//! row pass:     R_i = Σ_j exp(u_i + v_j − κ c_ij)
//!               u_i ← τ_a · (ln a_i − ln R_i + u_i)
//! ```
//!
//! which is OTT's `g ← τ_b(ε ln b − ε LSE_i((f − C)/ε))`, `f ← τ_a(ε ln a − ε LSE_j((g − C)/ε))`
//! written with the previous potential as the shift. After a row pass the row marginal
//! is exact (to rounding): Σ_j P_ij = a_i·e^{−f_i/ρ_a}. The next column pass therefore
//! measures the full L1 marginal error of the current iterate at no extra cost:
//! `err = Σ_j |S_j − b_j·e^{−g_j/ρ_b}|` (OTT's unbalanced error; the plain
//! ‖Pᵀ1 − b‖₁ when balanced). The same pass also yields Σ P and ⟨C, P⟩.

use crate::error::Error;
use crate::kernel::{shifted, CostSource, Sum, SumCost};
use crate::real::Real;
use crate::sum::Compensated;

use super::config::{relaxation, Config, Init};
use super::problem::Problem;
use super::workspace::{
    carve, cost_scale, load_log_weights, load_potentials, load_problem, store_potentials,
    with_sources,
};

/// How a solve ended (both mean "the outputs are usable").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The L1 marginal error reached the tolerance.
    Converged,
    /// The iteration budget ran out first; `error` says how far from feasible the
    /// returned potentials are. Call again with [`Init::Resume`] to continue.
    MaxIterations,
}

/// What a solve returns besides the potentials.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Solution<T> {
    /// Converged or out of budget.
    pub status: Status,
    /// Full iterations performed in this call.
    pub iterations: u32,
    /// L1 marginal error of the returned potentials, in weight units
    /// (‖P1 − a·e^{−f/ρ_a}‖₁ + ‖Pᵀ1 − b·e^{−g/ρ_b}‖₁, the first term exact to rounding).
    pub error: T,
    /// The absolute ε used (cost units).
    pub epsilon: T,
    /// The regularised OT cost in OTT-JAX's dual form (`reg_ot_cost`): for hard
    /// marginals ⟨a, f − ε ln a⟩ + ⟨b, g − ε ln b⟩ + ε(Σa·Σb − ΣP); a relaxed side
    /// contributes −Σ a_i ρ_a (e^{−(f_i − ε ln a_i)/ρ_a} − 1) instead.
    pub reg_ot_cost: T,
    /// The transport cost ⟨C, P⟩ of the returned plan.
    pub transport_cost: T,
    /// Total mass Σ_ij P_ij of the returned plan.
    pub plan_mass: T,
}

/// Measurements of one column pass.
struct Measure<T> {
    error: T,
    mass: T,
    cost: T,
}

/// Solves the entropic OT problem by log-domain Sinkhorn.
///
/// - `f` (length n) and `g` (length m) receive the potentials in cost units, convention
///   P_ij = exp((f_i + g_j − C_ij)/ε); zero-weight points get −∞. With
///   [`Init::Potentials`] or [`Init::Resume`] they are also read as the starting point
///   (entries of zero-weight points are ignored).
/// - `workspace` needs [`workspace_len`](super::workspace_len)`(n, m, d)` elements;
///   its contents on entry do not matter.
/// - A balanced problem (both ρ infinite) must have Σa and Σb equal within
///   [`Real::MASS_TOLERANCE`] relative; `b` is then rescaled internally to the mass
///   of `a`, so the iteration can converge exactly.
/// - With [`Init::Zero`] or [`Init::Potentials`] at least one iteration runs even if
///   `max_iterations` is 0, so the reported error is the full marginal error.
///
/// Cost per iteration: two passes over the n·m pairs, nothing n×m stored.
///
/// # Errors
/// Nothing is written to `f`, `g` on error.
/// - [`Error::EmptyInput`], [`Error::LengthMismatch`] (also `f`/`g` lengths),
///   [`Error::NonFiniteInput`] (coordinates, costs, weights, starting potentials of
///   positive-weight points), [`Error::NegativeWeight`], [`Error::ZeroMass`],
///   [`Error::MassMismatch`], [`Error::InvalidEpsilon`] (also when max C/ε overflows),
///   [`Error::InvalidParameter`], [`Error::WorkspaceTooSmall`].
/// - [`Error::NonFinite`] if the iteration overflows.
///
/// # Panics
/// Never.
pub fn solve<T: Real>(
    problem: &Problem<'_, T>,
    config: &Config<T>,
    init: Init,
    f: &mut [T],
    g: &mut [T],
    workspace: &mut [T],
) -> Result<Solution<T>, Error> {
    config.check()?;
    let chk = problem.check()?;
    if f.len() != chk.n || g.len() != chk.m {
        return Err(Error::LengthMismatch);
    }
    let eps = config.epsilon.resolve(chk.mean_cost)?;
    if !(chk.max_cost / eps).is_finite() {
        return Err(Error::InvalidEpsilon);
    }
    let log_b_offset = if config.is_balanced() {
        let (ma, mb) = (chk.mass_a, chk.mass_b);
        if (ma - mb).abs() > T::MASS_TOLERANCE * ma.max_fast(mb) {
            return Err(Error::MassMismatch);
        }
        ma.ln() - mb.ln()
    } else {
        T::ZERO
    };
    let warm = init != Init::Zero;
    if warm {
        check_start(f, problem.a)?;
        check_start(g, problem.b)?;
    }

    let mut lay = carve(workspace, chk.n, chk.m, chk.dim)?;
    load_problem(&mut lay, problem);
    load_potentials(lay.u, warm.then_some(&*f), problem.a, eps);
    load_potentials(lay.v, warm.then_some(&*g), problem.b, eps);
    load_log_weights(lay.la, problem.a, T::ZERO);
    load_log_weights(lay.lb, problem.b, log_b_offset);

    let (scale, kappa) = cost_scale(problem, eps);
    let (tau_a, eps_rho_a) = relaxation(config.rho_a, eps);
    let (tau_b, eps_rho_b) = relaxation(config.rho_b, eps);

    let mut rows_exact = init == Init::Resume;
    let mut iterations = 0u32;
    let (status, measure) = with_sources!(
        problem.cost,
        lay.xs,
        lay.ys,
        lay.np,
        lay.mp,
        chk.m,
        |rows, cols| {
            loop {
                let meas = column_pass(&cols, lay.v, lay.u, lay.lb, eps_rho_b, kappa, lay.scratch)?;
                if rows_exact && meas.error <= config.tolerance {
                    break (Status::Converged, meas);
                }
                if rows_exact && iterations >= config.max_iterations {
                    break (Status::MaxIterations, meas);
                }
                update(lay.v, lay.lb, lay.scratch, tau_b)?;
                row_pass(&rows, lay.u, lay.v, lay.la, tau_a, kappa)?;
                rows_exact = true;
                iterations += 1;
            }
        }
    );

    let reg_ot_cost = reg_ot_cost(
        lay.u,
        lay.la,
        config.rho_a,
        eps_rho_a,
        lay.v,
        lay.lb,
        config.rho_b,
        eps_rho_b,
        eps,
        chk.mass_a * (chk.mass_b * log_b_offset.exp()) - measure.mass,
    );
    let transport_cost = scale * measure.cost;
    if !(reg_ot_cost.is_finite() && transport_cost.is_finite() && measure.error.is_finite()) {
        return Err(Error::NonFinite);
    }
    store_potentials(f, lay.u, eps);
    store_potentials(g, lay.v, eps);
    Ok(Solution {
        status,
        iterations,
        error: measure.error,
        epsilon: eps,
        reg_ot_cost,
        transport_cost,
        plan_mass: measure.mass,
    })
}

/// Starting potentials must be finite wherever the weight is positive.
fn check_start<T: Real>(pot: &[T], w: &[T]) -> Result<(), Error> {
    if pot
        .iter()
        .zip(w)
        .all(|(&p, &wi)| wi == T::ZERO || p.is_finite())
    {
        Ok(())
    } else {
        Err(Error::NonFiniteInput)
    }
}

/// Column pass: for every positive-weight target j, ln S_j into `log_s`, and the
/// error, mass and (unscaled) transport cost of the current plan. Targets and sources
/// here are the second and first side.
fn column_pass<T: Real, S: CostSource<T>>(
    src: &S,
    v: &[T],
    u: &[T],
    lb: &[T],
    eps_over_rho: T,
    kappa: T,
    log_s: &mut [T],
) -> Result<Measure<T>, Error> {
    let mut error = Compensated::new();
    let mut mass = Compensated::new();
    let mut cost = Compensated::new();
    let mut red = SumCost::new();
    for (j, ((&vj, &lbj), out)) in v.iter().zip(lb).zip(log_s.iter_mut()).enumerate() {
        if lbj == T::NEG_INFINITY {
            *out = T::NEG_INFINITY;
            continue;
        }
        let sigma = shifted(src, j, vj, u, kappa, &mut red);
        let (s, cs) = red.totals();
        let ls = sigma + s.ln();
        if !ls.is_finite() {
            return Err(Error::NonFinite);
        }
        let rescale = if sigma == T::ZERO {
            T::ONE
        } else {
            sigma.exp()
        };
        let col = s * rescale;
        let target = (lbj - vj * eps_over_rho).exp();
        error.add((col - target).abs());
        mass.add(col);
        cost.add(cs * rescale);
        *out = ls;
    }
    Ok(Measure {
        error: error.value(),
        mass: mass.value(),
        cost: cost.value(),
    })
}

/// v_j ← τ (ln b_j − ln S_j + v_j) for positive-weight j.
fn update<T: Real>(v: &mut [T], lb: &[T], log_s: &[T], tau: T) -> Result<(), Error> {
    for ((vj, &lbj), &ls) in v.iter_mut().zip(lb).zip(log_s) {
        if lbj == T::NEG_INFINITY {
            continue;
        }
        let new = tau * (lbj - ls + *vj);
        if !new.is_finite() {
            return Err(Error::NonFinite);
        }
        *vj = new;
    }
    Ok(())
}

/// Row pass: u_i ← τ (ln a_i − ln R_i + u_i) in place for positive-weight i.
fn row_pass<T: Real, S: CostSource<T>>(
    src: &S,
    u: &mut [T],
    v: &[T],
    la: &[T],
    tau: T,
    kappa: T,
) -> Result<(), Error> {
    let mut red = Sum::new();
    for (i, (ui, &lai)) in u.iter_mut().zip(la).enumerate() {
        if lai == T::NEG_INFINITY {
            continue;
        }
        let sigma = shifted(src, i, *ui, v, kappa, &mut red);
        let new = tau * (lai - (sigma + red.total().ln()) + *ui);
        if !new.is_finite() {
            return Err(Error::NonFinite);
        }
        *ui = new;
    }
    Ok(())
}

/// OTT-JAX's `reg_ot_cost` from dimensionless potentials and log weights.
#[allow(clippy::too_many_arguments)]
fn reg_ot_cost<T: Real>(
    u: &[T],
    la: &[T],
    rho_a: T,
    eps_rho_a: T,
    v: &[T],
    lb: &[T],
    rho_b: T,
    eps_rho_b: T,
    eps: T,
    mass_gap: T,
) -> T {
    let mut total = Compensated::new();
    total.add(divergence_term(u, la, rho_a, eps_rho_a, eps));
    total.add(divergence_term(v, lb, rho_b, eps_rho_b, eps));
    total.add(eps * mass_gap);
    total.value()
}

/// ⟨w, p − ε ln w⟩ for a hard side, −Σ w ρ (e^{−(p − ε ln w)/ρ} − 1) for a relaxed one,
/// over positive weights; `p = ε·u`.
fn divergence_term<T: Real>(u: &[T], lw: &[T], rho: T, eps_over_rho: T, eps: T) -> T {
    let mut s = Compensated::new();
    for (&ui, &lwi) in u.iter().zip(lw) {
        if lwi == T::NEG_INFINITY {
            continue;
        }
        let w = lwi.exp();
        let h = ui - lwi; // (f − ε ln w)/ε
        if eps_over_rho == T::ZERO {
            s.add(w * h * eps);
        } else {
            s.add(-(w * rho) * ((-h * eps_over_rho).exp() - T::ONE));
        }
    }
    s.value()
}
