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
use crate::kernel::{batched_rows, shifted, shifted_rare, CostSource, CostSum};
use crate::parallel::{self, ParallelFor, Serial};
use crate::real::Real;
use crate::sum::Compensated;

use super::accel::{relax_all, Momentum};
use super::config::{Config, Init};
use super::problem::Problem;
use super::workspace::{
    carve, cost_scale, load_log_weights, load_potentials, load_problem, scaled, to_kernel_units,
    with_sources,
};

/// How a solve ended (both mean "the outputs are usable").
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The L1 marginal error reached the tolerance.
    Converged,
    /// The iteration budget ran out first; `error` says how far from feasible the
    /// returned potentials are. Call again with [`Init::Resume`] to continue.
    MaxIterations,
    /// Potentials, `error`, `transport_cost` and `plan_mass` are returned and finite,
    /// but `reg_ot_cost` is below the range of the type and is returned as −∞ (compare
    /// `error` with the tolerance to know whether the solve converged). Only with a
    /// relaxed side: its term −ρ Σ_i w_i (e^{−(p_i − ε ln w_i)/ρ} − 1) contains
    /// w_i^{ε/ρ}·e^{−p_i/ρ}, which exceeds the range when ε/ρ is large and a weight is
    /// above 1 (e.g. ε = 0.1, ρ = 1e-3 and a point of weight ≥ ~2.4 in f32, ~1200 in
    /// f64), whatever the plan.
    RegCostOverflow,
}

/// What a solve returns besides the potentials.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
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
    /// Σ_ij P_ij and Σ_ij P_ij c_ij (raw costs), if measured (a pass that ends the
    /// solve).
    totals: Option<(T, T)>,
}

/// Solves the entropic OT problem by log-domain Sinkhorn.
///
/// - `f` (length n) and `g` (length m) receive the potentials in cost units, convention
///   P_ij = exp((f_i + g_j − C_ij)/ε); zero-weight points get −∞. With
///   [`Init::Potentials`] or [`Init::Resume`] they are also read as the starting point
///   (entries of zero-weight points are ignored).
/// - `workspace` needs [`workspace_len`](super::workspace_len)`(n, m, d)` elements,
///   plus [`init_workspace_len`](super::init_workspace_len) for an initializer
///   ([`Init::Gaussian`], [`Init::Sorted`], [`Init::Subsample`]; in total
///   [`solve_workspace_len`](super::solve_workspace_len)); its contents on entry do
///   not matter. An initializer computes the starting potentials (f, g are then not
///   read) and the solve continues as from [`Init::Potentials`]: the same solution,
///   in fewer iterations when the start is good.
/// - A balanced problem (both ρ infinite) must have Σa and Σb equal within
///   [`Real::MASS_TOLERANCE`] relative; `b` is then rescaled internally to the mass
///   of `a`, so the iteration can converge exactly.
/// - `iterations` never exceeds `max_iterations`, over all ε-scaling stages. With
///   [`Init::Zero`] or [`Init::Potentials`] the budget must be at least 1 (one
///   iteration is needed to measure the error); ε-scaling stages stop early so that
///   the last iteration of the budget runs at ε.
///
/// Cost per iteration: two passes over the n·m pairs, nothing n×m stored.
///
/// # Errors
/// Nothing is written to `f`, `g` on error.
/// - [`Error::EmptyInput`], [`Error::LengthMismatch`] (also `f`/`g` lengths),
///   [`Error::NonFiniteInput`] (coordinates, costs, weights, starting potentials of
///   positive-weight points), [`Error::NegativeWeight`], [`Error::ZeroMass`],
///   [`Error::MassMismatch`], [`Error::InvalidEpsilon`] (also when max C/ε overflows),
///   [`Error::InvalidParameter`] (also `max_iterations` = 0 without [`Init::Resume`],
///   [`Init::Sorted`] with d ≠ 1, a subsample of size 0, an acceleration starting
///   before iteration 2), [`Error::NeedsPointClouds`] (an initializer on a dense cost),
///   [`Error::WorkspaceTooSmall`], [`Error::FeatureDisabled`] (an initializer, a dense
///   cost, or a relaxed marginal, ε-scaling or acceleration without the
///   `initializers`, `dense` or `variants` feature).
/// - [`Error::NonFinite`] if the iteration, the error, ⟨C, P⟩ or ΣP overflows (e.g.
///   weights near the top of the range). A `reg_ot_cost` below the range with a
///   relaxed side is not an error: see [`Status::RegCostOverflow`].
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
    solve_on(&Serial, problem, config, init, f, g, workspace)
}

/// [`solve`] with the passes' target rows split over a caller's `pool` (see
/// [`crate::parallel`]): the same bits as [`solve`] whatever the pool, once passes have
/// more than [`MIN_TASK_ROWS`](crate::parallel::MIN_TASK_ROWS) rows; smaller ones run
/// on the calling thread. Initializers run on the calling thread.
///
/// # Errors
/// As [`solve`], and [`Error::CallbackFailed`] if the pool fails or returns with a task
/// not run (nothing written to `f`, `g`).
pub fn solve_on<T: Real, P: ParallelFor>(
    pool: &P,
    problem: &Problem<'_, T>,
    config: &Config<T>,
    init: Init,
    f: &mut [T],
    g: &mut [T],
    workspace: &mut [T],
) -> Result<Solution<T>, Error> {
    // --- initializers (ot/init.rs): starting potentials in the workspace's tail ---
    let (init, start, workspace) = match init {
        Init::Zero | Init::Potentials | Init::Resume => (init, None, workspace),
        #[cfg(feature = "initializers")]
        Init::Gaussian | Init::Sorted | Init::Subsample { .. } => {
            let main = super::workspace_len(problem.n(), problem.m(), problem.dim());
            let (main, tail) = workspace
                .split_at_mut_checked(main)
                .ok_or(Error::WorkspaceTooSmall)?;
            let start = super::init::start(problem, config, init, tail)?;
            (Init::Potentials, Some(start), main)
        }
        #[cfg(not(feature = "initializers"))]
        Init::Gaussian | Init::Sorted | Init::Subsample { .. } => {
            return Err(Error::FeatureDisabled)
        }
    };
    run(pool, problem, config, init, start, f, g, workspace)
}

/// [`solve`] from a plain start; `start`, if given, replaces `f`, `g` as the warm start
/// of [`Init::Potentials`]. With the initializers, out of line: the subsample
/// initializer calls it too, and one copy of the iteration keeps Cortex-M flash down.
/// Without them, inlined into `solve`: the out-of-line copy cost 0.7 instructions per
/// matrix entry on Cortex-M (`bash scripts/embedded.sh numbers`).
#[cfg_attr(feature = "initializers", inline(never))]
#[cfg_attr(not(feature = "initializers"), inline)]
#[allow(clippy::too_many_arguments)]
pub(super) fn run<T: Real, P: ParallelFor>(
    pool: &P,
    problem: &Problem<'_, T>,
    config: &Config<T>,
    init: Init,
    start: Option<(&[T], &[T])>,
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
    // From a cold or warm start the row marginal is unknown until one iteration has
    // run: a budget of 0 could not report a measured error.
    if config.max_iterations == 0 && init != Init::Resume {
        return Err(Error::InvalidParameter);
    }
    let warm = init != Init::Zero;
    let (f_start, g_start) = start.unwrap_or((&*f, &*g));
    if warm {
        check_start(f_start, problem.a)?;
        check_start(g_start, problem.b)?;
    }

    let mut lay = carve(workspace, chk.n, chk.m, chk.dim)?;
    load_problem(&mut lay, problem);
    load_potentials(lay.u, warm.then_some(f_start), problem.a, T::ONE);
    load_potentials(lay.v, warm.then_some(g_start), problem.b, T::ONE);
    load_log_weights(lay.la, problem.a, T::ZERO);
    load_log_weights(lay.lb, problem.b, log_b_offset);

    let (scale, _) = cost_scale(problem, eps);
    // The second side's weights as the column pass compares its sums with them.
    let b = Weights {
        w: problem.b,
        scale: log_b_offset.exp(),
    };
    let mass_b = chk.mass_b * b.scale;
    // ε-scaling from a cold start: ε₀ = the largest cost, then ε₀q, ε₀q², … down to ε.
    let q = if cfg!(feature = "variants") {
        config.epsilon_scaling
    } else {
        T::ZERO
    };
    let mut stage_eps = if init == Init::Zero && q > T::ZERO && chk.max_cost > eps {
        chk.max_cost
    } else {
        eps
    };

    let mut rows_exact = init == Init::Resume;
    let mut iterations = 0u32;
    let mut momentum = Momentum::new(config.acceleration);
    let sources = &mut *lay.sources;
    let (f_w, g_w, la, lb, g_next) = (
        &mut *lay.u,
        &mut *lay.v,
        &*lay.la,
        &*lay.lb,
        &mut *lay.scratch,
    );
    let (status, measure) = with_sources!(problem.cost, lay.xs, lay.ys, chk.m, |rows, cols| {
        loop {
            // The intermediate stages may use the budget but one iteration, which the
            // last stage (at ε) needs to report a measured error: once they have used
            // it, go straight to ε. With this, `iterations` never exceeds the budget.
            if iterations >= config.max_iterations.saturating_sub(1) {
                stage_eps = eps;
            }
            let last = stage_eps <= eps;
            let e = if last { eps } else { stage_eps };
            let stage = Stage {
                kappa: cost_scale(problem, e).1,
                a: Side::new(config.rho_a, e),
                b: Side::new(config.rho_b, e),
                tolerance: if last {
                    config.tolerance
                } else {
                    config
                        .tolerance
                        .max_fast(T::from_f64(STAGE_TOLERANCE) * mass_b)
                },
                // Keep one iteration of the budget for the final ε.
                limit: if last {
                    config.max_iterations
                } else {
                    config.max_iterations.saturating_sub(1)
                },
            };
            let done = loop {
                let src_u = sources
                    .get_mut(..f_w.len())
                    .ok_or(Error::WorkspaceTooSmall)?;
                let pass = Pass {
                    src: &cols,
                    kappa: stage.kappa,
                    side: &stage.b,
                };
                pass.load_sources(src_u, f_w);
                // ⟨C, P⟩ is measured only by a pass that ends the solve: at the end of
                // the budget, or once more after convergence.
                let end = last && rows_exact;
                let meas = if end && iterations >= stage.limit {
                    pass.measured(pool, g_w, src_u, lb, &b, g_next)?
                } else {
                    let error = pass.update(pool, Some(g_w), src_u, lb, Some(&b), g_next)?;
                    if end && error <= stage.tolerance {
                        pass.measured(pool, g_w, src_u, lb, &b, g_next)?
                    } else {
                        Measure {
                            error,
                            totals: None,
                        }
                    }
                };
                if rows_exact && meas.error <= stage.tolerance {
                    break (Status::Converged, meas);
                }
                if rows_exact && iterations >= stage.limit {
                    break (Status::MaxIterations, meas);
                }
                // --- acceleration (ot/accel.rs): ω = 1 is the plain update ---
                let omega = if cfg!(feature = "variants") {
                    momentum.observe(meas.error, iterations, stage.tolerance, last);
                    momentum.omega(iterations, stage.limit)
                } else {
                    T::ONE
                };
                let g_new = g_next.get(..g_w.len()).ok_or(Error::WorkspaceTooSmall)?;
                relax_all(g_w, g_new, omega);
                let src_v = sources
                    .get_mut(..g_w.len())
                    .ok_or(Error::WorkspaceTooSmall)?;
                let pass = Pass {
                    src: &rows,
                    kappa: stage.kappa,
                    side: &stage.a,
                };
                pass.load_sources(src_v, g_w);
                // The row pass updates in place (the relaxation kept out of its loop):
                // the old f waits in the scratch, free again now that g is updated, and
                // is relaxed towards the new f after.
                let f_old = g_next
                    .get_mut(..f_w.len())
                    .ok_or(Error::WorkspaceTooSmall)?;
                if omega != T::ONE {
                    f_old.copy_from_slice(f_w);
                }
                pass.update(pool, None, src_v, la, None, f_w)?;
                if omega != T::ONE {
                    relax_all(f_old, f_w, omega);
                    f_w.copy_from_slice(f_old);
                }
                // An over-relaxed row pass leaves the row marginal inexact.
                rows_exact = omega == T::ONE;
                iterations += 1;
            };
            if last {
                break done;
            }
            // A new ε changes the plan: its row marginal is no longer known.
            rows_exact = false;
            stage_eps = (stage_eps * q).max_fast(eps);
        }
    });

    let (side_a, side_b) = (Side::new(config.rho_a, eps), Side::new(config.rho_b, eps));
    // Every way out of the last stage measured the totals (see the loop); missing ones
    // would fail the finiteness check below, not pass silently.
    let (plan_mass, cost) = measure.totals.unwrap_or((T::INFINITY, T::INFINITY));
    let divergences = [side_a.divergence(f_w, la), side_b.divergence(g_w, lb)];
    let mut reg = Compensated::new();
    for t in divergences {
        reg.add(t);
    }
    reg.add(eps * (chk.mass_a * mass_b - plan_mass));
    // A relaxed side's term can be below the range (see `Status::RegCostOverflow`);
    // the compensated sum of −∞ would be NaN.
    let relaxed = side_a.relaxed() || side_b.relaxed();
    let below = divergences.contains(&T::NEG_INFINITY) || reg.value() == T::NEG_INFINITY;
    let (reg_ot_cost, status) = if relaxed && below {
        (T::NEG_INFINITY, Status::RegCostOverflow)
    } else {
        (reg.value(), status)
    };
    let transport_cost = scale * cost;
    let reg_ok = reg_ot_cost.is_finite() || status == Status::RegCostOverflow;
    let finite = transport_cost.is_finite() && plan_mass.is_finite() && measure.error.is_finite();
    if !(reg_ok && finite) {
        return Err(Error::NonFinite);
    }
    f.copy_from_slice(f_w.get(..chk.n).ok_or(Error::WorkspaceTooSmall)?);
    g.copy_from_slice(g_w.get(..chk.m).ok_or(Error::WorkspaceTooSmall)?);
    Ok(Solution {
        status,
        iterations,
        error: measure.error,
        epsilon: eps,
        reg_ot_cost,
        transport_cost,
        plan_mass,
    })
}

/// Tolerance of the intermediate ε-scaling stages, relative to the mass of b: they only
/// need to bring the potentials close to the next stage's.
const STAGE_TOLERANCE: f64 = 1e-2;

/// Constants of one ε-scaling stage (the whole solve when scaling is off).
struct Stage<T> {
    kappa: T,
    a: Side<T>,
    b: Side<T>,
    tolerance: T,
    limit: u32,
}

/// Per-side constants of the update h ← τ (ε (ln w − ln S) + h) (also used by the
/// symmetric solves of the Sinkhorn divergence). Without the `variants` feature every
/// side is hard (τ = 1; `Config::check` refuses the others) and the relaxed code is
/// left out.
pub(super) struct Side<T> {
    pub(super) eps: T,
    /// log₂e/ε: potentials (cost units) to kernel units.
    pub(super) unit: T,
    /// τ = ρ/(ρ + ε), 1 for a hard marginal.
    pub(super) tau: T,
    /// ρ (∞ for a hard marginal).
    pub(super) rho: T,
    /// 1/ρ, 0 for a hard marginal.
    pub(super) inv_rho: T,
}

impl<T: Real> Side<T> {
    #[inline(never)]
    pub(super) fn new(rho: T, eps: T) -> Self {
        let (tau, inv_rho) = if !cfg!(feature = "variants") || rho == T::INFINITY {
            (T::ONE, T::ZERO)
        } else {
            (rho / (rho + eps), T::ONE / rho)
        };
        Self {
            eps,
            unit: to_kernel_units(eps),
            tau,
            rho,
            inv_rho,
        }
    }

    /// The updated potential of a point with log weight `lw`, potential `h` and
    /// log marginal `ls`; `None` if not finite.
    #[inline]
    pub(super) fn update(&self, lw: T, ls: T, h: T) -> Option<T> {
        let new = self.tau * (self.eps * (lw - ls) + h);
        new.is_finite().then_some(new)
    }

    /// Whether this marginal is relaxed (never without the `variants` feature).
    #[inline(always)]
    pub(super) fn relaxed(&self) -> bool {
        cfg!(feature = "variants") && self.inv_rho != T::ZERO
    }

    /// The marginal this side should have at potential `h`: w·e^{−h/ρ} (`lw` = ln w);
    /// w itself for a hard marginal, without an `exp` (one per column and pass).
    #[inline]
    pub(super) fn target(&self, lw: T, w: T, h: T) -> T {
        if !cfg!(feature = "variants") || self.inv_rho == T::ZERO {
            w
        } else {
            (lw - h * self.inv_rho).exp()
        }
    }

    /// OTT's term of `reg_ot_cost` for this side over positive weights, with
    /// h_i = p_i − ε ln w_i: Σ w h when hard, −Σ w ρ (e^{−h/ρ} − 1) when relaxed; −∞
    /// when a relaxed term is below the range of `T`. The product w·ρ·e^{−h/ρ} is
    /// formed as one exponential, e^{ln(wρ) − h/ρ}, so that it overflows only if the
    /// term itself does.
    pub(super) fn divergence(&self, pot: &[T], lw: &[T]) -> T {
        let mut s = Compensated::new();
        for (&p, &l) in pot.iter().zip(lw) {
            if l == T::NEG_INFINITY {
                continue;
            }
            let (w, h) = (l.exp(), p - self.eps * l);
            if !self.relaxed() {
                s.add(w * h);
            } else {
                let big = (l + self.rho.ln() - h * self.inv_rho).exp();
                if big == T::INFINITY {
                    return T::NEG_INFINITY;
                }
                s.add(w * self.rho - big);
            }
        }
        s.value()
    }
}

/// A side's weights as its marginal: `scale·w` (the balanced solve rescales b to the
/// mass of a).
struct Weights<'a, T> {
    w: &'a [T],
    scale: T,
}

/// Starting potentials must be finite wherever the weight is positive.
#[inline(never)]
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

/// One half-iteration's constants: the cost source (targets = the side being updated),
/// κ and the updated side's constants.
struct Pass<'a, T, S> {
    src: &'a S,
    kappa: T,
    side: &'a Side<T>,
}

impl<T: Real, S: CostSource<T>> Pass<'_, T, S> {
    /// The other side's potentials `pot` (cost units) into `dst` as this pass's
    /// sources: kernel units, absorbed (ε is the same on both sides).
    fn load_sources(&self, dst: &mut [T], pot: &[T]) {
        scaled(dst, pot, self.side.unit);
        self.src.absorb_sources(dst, self.kappa);
    }

    /// One half-iteration without measurements: for every positive-weight target p
    /// (the side being updated), the updated potential τ (ε (ln w_p − ln S_p) + h_p)
    /// into `out`, S_p the target's marginal of the current plan; −∞ for the others.
    /// `h` holds the current potentials, or is `None` when they are `out` itself (the
    /// row pass updates in place); `src_o` holds the other side's potentials in kernel
    /// units, absorbed, and `lw` this side's log weights. With `marg`, this side's
    /// weights (the column pass), it returns the L1 error Σ_p |S_p − w_p e^{−h_p/ρ}| of
    /// the current iterate, plainly summed (relative rounding ≤ m·2^−24, immaterial to
    /// a stopping test); 0 without.
    ///
    /// One function for both sides: on Cortex-M one copy of the kernel's hot loops
    /// serves the row and the column pass (a call per pass, not per entry). Out of
    /// line on SIMD targets too: inlined into `solve`, its accumulators are spilled
    /// to the stack.
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn update<P: ParallelFor>(
        &self,
        pool: &P,
        h: Option<&[T]>,
        src_o: &[T],
        lw: &[T],
        marg: Option<&Weights<'_, T>>,
        out: &mut [T],
    ) -> Result<T, Error> {
        let task = |lo: usize, out: &mut [T]| {
            #[cfg(not(target_arch = "arm"))]
            return crate::dispatch::dispatch!(|isa| self
                .on(&crate::kernel::Tuned::new(self.src, isa))
                .update_on(lo, h, src_o, lw, marg, out));
            // Cortex-M: one path, the source itself.
            #[cfg(target_arch = "arm")]
            self.update_on(lo, h, src_o, lw, marg, out)
        };
        parallel::rows(pool, out, task, |a, b| *a += b)
    }

    /// This pass over `src` (the same source on a dispatch path, see
    /// `crate::dispatch`).
    #[inline(always)]
    fn on<'s, U: CostSource<T>>(&'s self, src: &'s U) -> Pass<'s, T, U> {
        Pass {
            src,
            kappa: self.kappa,
            side: self.side,
        }
    }

    /// [`Pass::update`] over targets `lo..lo + out.len()`, on the path of `S`.
    #[inline(always)]
    fn update_on(
        &self,
        lo: usize,
        h: Option<&[T]>,
        src_o: &[T],
        lw: &[T],
        marg: Option<&Weights<'_, T>>,
        out: &mut [T],
    ) -> Result<T, Error> {
        let side = self.side;
        let lw = lw.get(lo..).unwrap_or(&[]);
        let h = h.map(|h| h.get(lo..).unwrap_or(&[]));
        // The targets with a weight (and a potential in `h`, if given).
        let rows = out
            .len()
            .min(lw.len())
            .min(h.map_or(usize::MAX, <[T]>::len));
        let (out, lw) = (
            out.get_mut(..rows).unwrap_or(&mut []),
            lw.get(..rows).unwrap_or(&[]),
        );
        // The old potential of target k: from `h`, or the one `out` still holds.
        let old = |k: usize, o: T| h.and_then(|h| h.get(k)).map_or(o, |&hp| hp);
        let mut error = T::ZERO;
        batched_rows(
            out,
            lw,
            #[inline(always)]
            |k, o| {
                let p = lo + k;
                let u = self.src.absorb_target(p, old(k, o) * side.unit, self.kappa);
                shifted(self.src, p, u, src_o, self.kappa, &mut ())
            },
            #[inline(always)]
            |k, o, lwp, (shift, s)| {
                let hp = old(k, *o);
                *o = side
                    .update(lwp, shift.ln() + s.ln_kernel(), hp)
                    .ok_or(Error::NonFinite)?;
                if let Some(b) = marg {
                    let wp = b.w.get(lo + k).map_or(T::ZERO, |&w| w * b.scale);
                    error += (s * shift.factor() - side.target(lwp, wp, hp)).abs();
                }
                Ok(())
            },
        )?;
        Ok(error)
    }

    /// The column pass that ends the solve: as [`Pass::update`] with `g` and the
    /// weights `b`, and also Σ_ij P_ij and ⟨C, P⟩, all three sums compensated (they
    /// are what the solve reports). Runs once or twice per solve: one chunk loop
    /// ([`Tuned::unspecialised`](crate::kernel::Tuned::unspecialised)).
    #[inline(never)]
    fn measured<P: ParallelFor>(
        &self,
        pool: &P,
        g: &[T],
        src_u: &[T],
        lb: &[T],
        b: &Weights<'_, T>,
        next: &mut [T],
    ) -> Result<Measure<T>, Error> {
        let task = |lo: usize, next: &mut [T]| {
            crate::dispatch::dispatch!(|isa| self
                .on(&crate::kernel::Tuned::unspecialised(self.src, isa))
                .measured_on(lo, g, src_u, lb, b, next))
        };
        let sums = parallel::rows(pool, next, task, ColumnSums::merge)?;
        Ok(Measure {
            error: sums.error.value(),
            totals: Some((sums.mass.value(), sums.total.value())),
        })
    }

    /// [`Pass::measured`] over targets `lo..lo + next.len()`, on the path of `S`.
    #[inline(always)]
    fn measured_on(
        &self,
        lo: usize,
        g: &[T],
        src_u: &[T],
        lb: &[T],
        b: &Weights<'_, T>,
        next: &mut [T],
    ) -> Result<ColumnSums<T>, Error> {
        let side = self.side;
        let mut sums = ColumnSums {
            error: Compensated::new(),
            mass: Compensated::new(),
            total: Compensated::new(),
        };
        let mut red = CostSum::new();
        let (g, lb) = (g.get(lo..).unwrap_or(&[]), lb.get(lo..).unwrap_or(&[]));
        for (k, ((&gj, &lbj), out)) in g.iter().zip(lb).zip(next.iter_mut()).enumerate() {
            let j = lo + k;
            if lbj == T::NEG_INFINITY {
                *out = T::NEG_INFINITY;
                continue;
            }
            let u = self.src.absorb_target(j, gj * side.unit, self.kappa);
            let (shift, s) = shifted_rare(self.src, j, u, src_u, self.kappa, &mut red);
            *out = side
                .update(lbj, shift.ln() + s.ln_kernel(), gj)
                .ok_or(Error::NonFinite)?;
            let rescale = shift.factor();
            let col = s * rescale;
            let bj = b.w.get(j).map_or(T::ZERO, |&w| w * b.scale);
            sums.error.add((col - side.target(lbj, bj, gj)).abs());
            sums.mass.add(col);
            sums.total.add(red.total() * rescale);
        }
        Ok(sums)
    }
}

/// The measured column pass's sums over its targets (or one task's share of them):
/// the L1 error, Σ_j S_j and Σ_j ⟨C_·j, P_·j⟩.
struct ColumnSums<T> {
    error: Compensated<T>,
    mass: Compensated<T>,
    total: Compensated<T>,
}

impl<T: Real> ColumnSums<T> {
    /// Adds the next task's sums (in task order, so the result does not depend on the
    /// pool).
    fn merge(&mut self, next: Self) {
        self.error.add(next.error.value());
        self.mass.add(next.mass.value());
        self.total.add(next.total.value());
    }
}
