//! Optimal-transport resampling (Corenflos, Thornton, Deligiannidis & Doucet 2021) as
//! the authors' `filterflow` code runs it (`RegularisedTransform`), on the shared
//! streaming kernel: O(N·D) memory, no N×N buffer.
//!
//! Given particles x_1..x_N ∈ ℝ^D with weights w, the map is x̃ = T·x with
//! T = N·P^ε, P^ε the entropic OT plan between Σ_j w_j δ_{z_j} (sources) and
//! (1/N) Σ_i δ_{z_i} (targets) in the normalised coordinates
//! z_i = (x_i − m)/(s·√D), m the unweighted mean, s the largest per-coordinate
//! population standard deviation (1 if it is 0), cost C_ij = ½‖z_i − z_j‖². After it
//! every weight is 1/N.
//!
//! The Sinkhorn iteration (filterflow `sinkhorn.py`): potentials a (targets), b
//! (sources) start at softmin_ε₀(log w), softmin_ε₀(−log N) with
//! softmin_e(h)_i = −e·LSE_j(h_j − C_ij/e); each iteration computes both updates from
//! the old pair (Jacobi), averages them with the old values (½-damping), and shrinks
//! e ← max(e·scaling², ε). Both updates share one kernel pass, which exponentiates
//! each geometric term exp(−C_ij/e) once and weighs it for both, and redoes in the
//! log domain any target whose weighted sum underflows (`softmin_pair`). Under
//! filterflow's rule ([`OtSchedule::Filterflow`]) it stops when e has reached ε and
//! the largest potential change is ≤ `tolerance` (cost units of the normalised
//! cloud), or after `max_iterations − 1` iterations, and one final step at ε gives
//! a*. Under the default [`OtSchedule::Marginal`] the damped loop only anneals, and
//! the final step is repeated (b ← g + ε·ln N between repeats: undamped
//! alternating Sinkhorn) until the transport's row error is ≤ `tolerance`; the
//! warm start ([`ot_resample_warm`]) skips the annealing. The final step gives a*; the transport is T_ij = N·w_j·exp((a*_i + g_j − C_ij)/ε) with
//! g_j = softmin_ε(a*/ε)_j — filterflow's exact column renormalisation written in
//! closed form (it cancels the final b*).
//!
//! Decisions on the quirks listed in the research note (`dpf-anchors.md` §1.2):
//! - Q1 (`reduce_all` batch stop): there is no batch here; one cloud stops by its own
//!   criterion.
//! - Q2 (debiasing potentials a_x, b_y): not computed; the transport never uses them.
//! - Q3 (NF's `min_min` typo): ε₀ is the squared extent max − min over all normalised
//!   coordinates, as filterflow; a test pins ε₀ on a known cloud.
//! - ε₀ below ε: filterflow would start below the target and jump up; we start at
//!   max(extent², ε).
//! - Centring (our change): x̃_i = m + Σ_j T_ij (x_j − m) instead of Σ_j T_ij x_j. Both
//!   are equal when the rows of T sum to 1; ours is translation-equivariant when they
//!   do so only to the solver's accuracy (row error δ moves filterflow's particle by
//!   δ·x, ours by δ·(x − m)), and keeps the weighted mean exact: (1/N)Σ x̃_i = Σ w_j x_j.
//!
//! ε is dimensionless (it applies to the normalised cloud). Filterflow's scripts use
//! 0.25–0.75, its README 0.5; the consistency theory asks for ε → 0 as N grows. We
//! recommend ε = 0.5 for N ≤ 100 and smaller (≈ 1/log N) for larger N; smaller ε costs
//! more annealing iterations (⌈log(ε/ε₀)/log(scaling²)⌉) and rows that sum to 1 less
//! exactly in f32.

use crate::buf::{copy, head_mut, rows_mut, take};
use crate::error::Error;
use crate::kernel::{on_clouds, padded, shifted, Clouds, CostSource, Weighted, Write, LANES};
use crate::ot::workspace::load_points;
use crate::ot::Status;
use crate::parallel::{self, ParallelFor, Serial, Wide};
use crate::points::Points;
use crate::real::Real;

use super::weights::LogSumExp;

/// Settings of the OT resampler (filterflow's defaults except ε, which is required,
/// and the stop rule, [`OtSchedule::Marginal`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OtConfig<T> {
    /// Target regularisation ε of the normalised cloud (dimensionless, > 0).
    pub epsilon: T,
    /// Annealing factor: e shrinks by `scaling²` per iteration; in (0, 1). Default 0.75.
    pub scaling: T,
    /// The stop rule's tolerance (≥ 0; default 1e-3): the transport's row error
    /// (dimensionless) under [`OtSchedule::Marginal`], the largest potential change
    /// (cost units) under [`OtSchedule::Filterflow`].
    pub tolerance: T,
    /// Iteration cap, a hard bound under either schedule (filterflow's `max_iter`: at
    /// most `max_iterations − 1` iterations, then the final step). Default 100.
    pub max_iterations: u32,
    /// 0 (default): normalise by s·√D computed from the cloud. > 0: use this value as
    /// the divisor s·√D instead (1/(ε·scale) must be finite) (freezes the normalisation, e.g. to compare a gradient
    /// with finite differences or to keep ε fixed in physical units).
    pub scale: T,
    /// How the loop runs and when it stops (default [`OtSchedule::Marginal`]).
    pub schedule: OtSchedule,
}

/// The Sinkhorn schedule of OT resampling: both anneal e from ε₀ to ε with
/// filterflow's damped Jacobi iterations; they differ once e has reached ε.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OtSchedule {
    /// Filterflow's rule: keep iterating the damped pair at ε until the largest
    /// potential change is ≤ `tolerance` (cost units of the normalised cloud), then
    /// one final step. The damping halves the convergence rate (the error shrinks by
    /// (1 + ρ)/2 per pass instead of ρ), and a potential tolerance in cost units is a
    /// marginal error of about 2·`tolerance`/ε (3·10⁻² at ε = 0.1).
    Filterflow,
    /// Stop on the marginal error (default): at ε the loop alternates undamped
    /// half-steps b → a* → g, each pair of them being filterflow's final step, and
    /// stops as soon as the row error of the transport it would give, the report's
    /// `error` = max_i |Σ_j T_ij − 1|, is ≤ `tolerance` (dimensionless). Two kernel
    /// passes per iteration at ε, the last pair being the final step itself; the
    /// same fixed point as [`OtSchedule::Filterflow`], reached in fewer passes, with
    /// the accuracy stated in the units the result is judged by.
    #[default]
    Marginal,
}

impl<T: Real> OtConfig<T> {
    /// Filterflow's defaults with the given ε: scaling 0.75, tolerance 1e-3, 100
    /// iterations, automatic scale; the marginal-error stop.
    #[must_use]
    pub fn new(epsilon: T) -> Self {
        Self {
            epsilon,
            scaling: T::from_f64(0.75),
            tolerance: T::from_f64(1e-3),
            max_iterations: 100,
            scale: T::ZERO,
            schedule: OtSchedule::Marginal,
        }
    }

    pub(crate) fn check(&self) -> Result<(), Error> {
        if !(self.epsilon.is_finite() && self.epsilon > T::ZERO) {
            return Err(Error::InvalidEpsilon);
        }
        let ok = self.scaling > T::ZERO
            && self.scaling < T::ONE
            && self.tolerance >= T::ZERO
            && self.tolerance.is_finite()
            && self.scale >= T::ZERO
            && self.scale.is_finite()
            // A caller's scale so small that 1/(ε·scale), the factor of the VJPs,
            // overflows.
            && (self.scale == T::ZERO || (T::ONE / (self.epsilon * self.scale)).is_finite());
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidParameter)
        }
    }
}

/// What one OT resampling did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OtReport<T> {
    /// [`Status::Converged`]: the loop met its stopping rule (ε reached and potential
    /// change ≤ tolerance). [`Status::MaxIterations`]: it ran out of iterations first;
    /// the particles are written and `error` bounds how far the rows of T are from 1.
    pub status: Status,
    /// Damped iterations run, plus 1 for the final step (plus 1 for each repeated
    /// final step under [`OtSchedule::Marginal`]).
    pub iterations: u32,
    /// Kernel passes of N² entries the solve ran (the cost measure: an iteration is
    /// one or two of them); the transport adds one.
    pub passes: u32,
    /// ε₀ the annealing started from (ε after a warm start, which does not anneal).
    pub epsilon_start: T,
    /// The divisor s·√D of the normalisation.
    pub scale: T,
    /// Largest potential change of the last damped iteration (0 if none ran).
    pub change: T,
    /// Bound on the row error of T, max_i |Σ_j T_ij − 1| ≤ `error` (dimensionless):
    /// max over the live particles j of |e^{δ_j} − 1|, δ_j = (g_j − b_j)/ε + ln N (the
    /// final column potential against the loop's). Each new particle then lies within
    /// `error`·max_j ‖x_j − m‖ of the convex hull of the old ones (inside it where its
    /// row sums to at most 1), and the weighted mean is preserved whatever `error` is.
    pub error: T,
}

/// Largest `max(|a*|, |b|, |g|, max C)/ε` (the magnitude of the kernel's exponents,
/// in nats) that the transport accepts, as a multiple of 1/[`Real::EPSILON`]: each
/// entry of T is computed from exponents of that size, so it carries a relative
/// rounding error of a few times that magnitude × `EPSILON` ≤ a few × 2^−10 — the
/// accuracy to which the columns of T sum to N·w (hence the weighted mean is
/// preserved). Beyond it (f32: about 8·10³, f64: 4·10¹², e.g. ε < 1e-3·max C in f32)
/// the column sums are not meaningful, and the call fails with
/// [`Error::InvalidEpsilon`].
const EXPONENT_RANGE: f64 = 1.0 / 1024.0;

/// Workspace elements [`ot_resample`] needs: `(2d + 7)·N̂`, with N̂ = N rounded up to a
/// multiple of the kernel width [`LANES`] (16; 4 on 32-bit Arm).
#[must_use]
pub const fn ot_workspace_len(n: usize, d: usize) -> usize {
    padded(n).saturating_mul(d.saturating_mul(2).saturating_add(7))
}

/// The pieces of the workspace (each a padded vector; zr and zc are d of them).
pub(crate) struct OtWork<'a, T> {
    /// Normalised particles, row-major (`zr[i·d + k]`; the kernel's targets); only the
    /// first N·d entries are used.
    pub zr: &'a mut [T],
    /// The same particles chunk-major (see [`crate::kernel::chunk_major`]; the kernel's
    /// sources and the weight channels of the transport), padded with copies of the
    /// last particle.
    pub zc: &'a mut [T],
    /// a* after the final step.
    pub fa: &'a mut [T],
    /// Scratch exponent vector for the kernel.
    pub v: &'a mut [T],
    /// The loop's buffers ([`OtLoop`], 5·N̂): once the transport's source exponents
    /// are in `v`, the transport stages its rows here (when they fit).
    pub spare: &'a mut [T],
}

/// The loop's buffers, carved from [`OtWork::spare`] by [`loop_parts`].
pub(crate) struct OtLoop<'a, T> {
    /// Loop target potential a (cost units).
    pub a: &'a mut [T],
    /// Loop source potential b.
    pub b: &'a mut [T],
    /// Column-normalisation potential g.
    pub g: &'a mut [T],
    /// The two source channels of [`softmin_pair`] (2·N̂, chunk-major).
    pub pair: &'a mut [T],
}

/// Carves the loop's buffers for `np` (padded) particles from `spare`.
pub(crate) fn loop_parts<T>(spare: &mut [T], np: usize) -> Result<OtLoop<'_, T>, Error> {
    let mut rest = spare;
    Ok(OtLoop {
        a: take(&mut rest, np)?,
        b: take(&mut rest, np)?,
        g: take(&mut rest, np)?,
        pair: take(&mut rest, np.saturating_mul(2))?,
    })
}

/// Normalisation and potentials of a finished forward pass.
#[derive(Clone, Copy)]
pub(crate) struct Fitted<T> {
    pub n: usize,
    pub np: usize,
    pub d: usize,
    /// The log-weights' normalisation: ℓ_j = (logw_j − top) − log_sum (see `log_norm`).
    pub top: T,
    pub log_sum: T,
    /// s·√D in the caller's units.
    pub scale: T,
    /// The power of two the cloud was multiplied by for the normalisation.
    pub q: T,
    pub eps: T,
    pub report: OtReport<T>,
}

pub(crate) fn split<T>(
    ws: &mut [T],
    n: usize,
    d: usize,
) -> Result<(OtWork<'_, T>, &mut [T]), Error> {
    let np = padded(n);
    let mut rest = ws;
    let work = OtWork {
        zr: take(&mut rest, d.saturating_mul(np))?,
        zc: take(&mut rest, d.saturating_mul(np))?,
        fa: take(&mut rest, np)?,
        v: take(&mut rest, np)?,
        spare: take(&mut rest, np.saturating_mul(5))?,
    };
    Ok((work, rest))
}

/// The symmetric point-cloud cost source over the normalised particles: targets
/// row-major `zr`, sources chunk-major `zc` (centred already: the centre is the origin).
pub(crate) fn cloud<'a, T>(zr: &'a [T], zc: &'a [T], d: usize) -> Clouds<'a, T> {
    Clouds::new(Points::row_major(zr, d), zc, Points::empty(), d).with_target_chunks(zc)
}

/// The kernel's κ for the cost ½‖·‖² at regularisation `e` (base-2 kernel units).
pub(crate) fn kappa<T: Real>(e: T) -> T {
    T::HALF * T::LOG2_E / e
}

/// Fills `v` with the source exponents f(j)·log₂e (kernel units) for the `n` real
/// points and −∞ on the padding.
fn fill<T: Real>(v: &mut [T], n: usize, f: &dyn Fn(usize) -> T) {
    for (j, vj) in v.iter_mut().enumerate() {
        *vj = if j < n {
            f(j) * T::LOG2_E
        } else {
            T::NEG_INFINITY
        };
    }
}

/// out_i = −e·LSE_j(h_j − ½‖z_i − z_j‖²/e) for the n real targets, with `h` given in
/// kernel units (h·log₂e, −∞ on padding), the targets split over `pool`; `h` is left
/// in absorbed form.
///
/// # Errors
/// [`Error::CallbackFailed`] if the pool fails (`out` partly written).
pub(crate) fn softmin<T: Real, P: ParallelFor>(
    pool: &P,
    cl: &Clouds<'_, T>,
    h: &mut [T],
    e: T,
    n: usize,
    out: &mut [T],
) -> Result<(), Error> {
    let kappa = kappa(e);
    cl.absorb_sources(h, kappa);
    let h = &*h;
    let task = |lo: usize, out: &mut [T]| {
        on_clouds!(cl, |src| for (k, o) in out.iter_mut().enumerate() {
            *o = softmin_row(src, lo + k, h, e, kappa);
        });
        Ok(())
    };
    parallel::rows(pool, head_mut(out, n), task, |(), ()| ())
}

/// One target of [`softmin`] (`h` absorbed). Inlined into the dispatched passes (out
/// of line, an FMA path's multiply-adds would be calls); one shared copy on Cortex-M.
#[cfg_attr(not(target_arch = "arm"), inline(always))]
fn softmin_row<T: Real, S: CostSource<T>>(cl: &S, p: usize, h: &[T], e: T, kappa: T) -> T {
    let u = cl.absorb_target(p, T::ZERO, kappa);
    let (sh, s) = shifted(cl, p, u, h, kappa, &mut ());
    -e * (sh.ln() + s.ln_kernel())
}

/// Two [`softmin`]s at the same `e` over the same cloud, independent of each other
/// (the Jacobi pair of an iteration): `out[c]_i = −e·LSE_j(h_c(j) − ½‖z_i − z_j‖²/e)`
/// for c = 0, 1 and the n real targets, h_c in natural units (finite or −∞).
///
/// Every term factors as exp(h_c(j))·exp(−½‖z_i − z_j‖²/e), so one kernel pass
/// exponentiates the geometric part once per entry and its [`Weighted`] reducer
/// accumulates it against both channels E_c(j) = 2^(h_c(j)·log₂e − s_c), shifted by
/// s_c = max_j h_c(j)·log₂e: one exponential per entry for both updates instead of
/// one each (on the Cortex-M4F, what brings one OT resampling of N = 64 under the
/// 3 M-instruction target, for some flash; `docs/embedded.md`).
///
/// Accuracy: the geometric exponent −κ‖z_i − z_j‖² is ≤ 0, so every kernel term is at
/// most 1 (up to rounding), as is every E_c(j). A product lost to underflow (a
/// factor flushed to 0) is therefore below 2^−124 in f32 (2^−1020 in f64), and n of
/// them are negligible against a channel sum of at least [`Real::LSE_SUM_MIN`]
/// (relative n·2^−52 in f32). A target whose channel sum is below that (all of the
/// channel's mass lies where the geometric factor or the weight factor underflows:
/// ε small against the cloud and weights spread over more than ~50 nats in f32) or
/// not finite is computed again in the log domain by [`softmin_row`] from h_c, so the
/// outputs are those of two [`softmin`] calls up to rounding. `v` and `pair` are
/// scratch (N̂ and 2·N̂ elements). The pass's targets are split over `pool`, the redone
/// ones run on the calling thread.
///
/// # Errors
/// [`Error::CallbackFailed`] if the pool fails (`out` partly written).
pub(crate) fn softmin_pair<T: Real, P: ParallelFor>(
    pool: &P,
    cl: &Clouds<'_, T>,
    h: [&dyn Fn(usize) -> T; 2],
    e: T,
    n: usize,
    (v, pair): (&mut [T], &mut [T]),
    out: [&mut [T]; 2],
) -> Result<(), Error> {
    let kappa = kappa(e);
    // h_c(j)·log₂e, chunk-major (chunk k holds channel k % 2 of points
    // (k / 2)·LANES + l; −∞ on the padding), and the shifts s_c = their maxima.
    let mut top = [T::NEG_INFINITY; 2];
    for (k, chunk) in pair.as_chunks_mut::<LANES>().0.iter_mut().enumerate() {
        let c = k % 2;
        for (l, x) in chunk.iter_mut().enumerate() {
            let j = (k / 2) * LANES + l;
            *x = if j < n {
                h[c](j) * T::LOG2_E
            } else {
                T::NEG_INFINITY
            };
            top[c] = top[c].max_fast(*x);
        }
    }
    // 0 if a maximum is not finite: then every row of that channel is redone in the
    // log domain, which reports it as before.
    let shift = top.map(|s| if s.is_finite() { s } else { T::ZERO });
    // E_c(j) = 2^(h_c(j)·log₂e − s_c), exactly 0 on the padding.
    for (k, chunk) in pair.as_chunks_mut::<LANES>().0.iter_mut().enumerate() {
        for x in chunk.iter_mut() {
            *x = (*x - shift[k % 2]).exp2_kernel();
        }
    }
    // The geometric part: zero potentials, absorbed (−κ‖z_j‖², −∞ on the padding).
    fill(v, n, &|_| T::ZERO);
    cl.absorb_sources(v, kappa);
    let [out0, out1] = out;
    let (pair_r, v_r) = (&*pair, &*v);
    let task = |lo: usize, (out0, out1): (&mut [T], &mut [T])| {
        on_clouds!(
            cl,
            |src| for (k, (o0, o1)) in out0.iter_mut().zip(out1.iter_mut()).enumerate() {
                let p = lo + k;
                let u = src.absorb_target(p, T::ZERO, kappa);
                let mut red = Weighted {
                    w: pair_r,
                    out: [T::ZERO; 2],
                };
                let (sh, _) = shifted(src, p, u, v_r, kappa, &mut red);
                for ((o, s), a) in [o0, o1].into_iter().zip(shift).zip(red.out) {
                    *o = if a >= T::LSE_SUM_MIN && a <= T::LSE_SUM_MAX {
                        -e * (sh.ln() + s * T::LN_2 + a.ln_kernel())
                    } else {
                        T::INFINITY
                    };
                }
            }
        );
        Ok(())
    };
    parallel::rows(
        pool,
        (head_mut(&mut *out0, n), head_mut(&mut *out1, n)),
        task,
        |(), ()| (),
    )?;
    // The targets to redo, channel by channel.
    for (f, o) in h.into_iter().zip([out0, out1]) {
        if o.iter().take(n).any(|x| !x.is_finite()) {
            fill(v, n, f);
            cl.absorb_sources(v, kappa);
            for (p, x) in o.iter_mut().enumerate().take(n) {
                if !x.is_finite() {
                    *x = softmin_row(cl, p, v, e, kappa);
                }
            }
        }
    }
    Ok(())
}

/// Checks the particle cloud and the log-weights; returns log Σ exp(logw).
pub(crate) fn check_inputs<T: Real>(x: &[T], logw: &[T], d: usize) -> Result<LogSumExp<T>, Error> {
    check_cloud(x, logw, d)?;
    super::weights::log_sum_exp_parts(logw)
}

/// Checks the particle cloud and the log-weights without normalising them (`fit`
/// does): sizes, finite coordinates, no NaN or +∞ log-weight, not all −∞.
pub(crate) fn check_cloud<T: Real>(x: &[T], logw: &[T], d: usize) -> Result<(), Error> {
    let n = logw.len();
    if n == 0 || d == 0 {
        return Err(Error::EmptyInput);
    }
    if n.checked_mul(d) != Some(x.len()) {
        return Err(Error::LengthMismatch);
    }
    if x.iter().any(|v| !v.is_finite()) {
        return Err(Error::NonFiniteInput);
    }
    if logw.iter().any(|&l| l.is_nan() || l == T::INFINITY) {
        return Err(Error::NonFiniteInput);
    }
    if logw.iter().all(|&l| l == T::NEG_INFINITY) {
        return Err(Error::ZeroMass);
    }
    Ok(())
}

/// Runs the normalisation and the annealed Sinkhorn; leaves z, a, b, a*, g in `w`.
/// Inputs are checked by the caller.
pub(crate) fn fit<T: Real>(
    x: &[T],
    logw: &[T],
    d: usize,
    cfg: &OtConfig<T>,
    w: &mut OtWork<'_, T>,
) -> Result<Fitted<T>, Error> {
    fit_from(&Serial, x, logw, d, cfg, w, None)
}

/// [`fit`] from a checked warm-start state ([`ot_resample_warm`]; `None`: cold), the
/// kernel passes' targets split over `pool`.
fn fit_from<T: Real, P: ParallelFor>(
    pool: &P,
    x: &[T],
    logw: &[T],
    d: usize,
    cfg: &OtConfig<T>,
    w: &mut OtWork<'_, T>,
    warm: Option<Warm<'_, T>>,
) -> Result<Fitted<T>, Error> {
    let n = logw.len();
    let np = padded(n);
    let nf = T::from_usize(n);
    let lp = loop_parts(&mut *w.spare, np)?;
    // (a) normalisation: unweighted mean, max population std, divisor s·√D, computed
    // on the cloud scaled by a power of two (exact) so that |x|·q < 2: sums and squares
    // of coordinates near the top of the range do not overflow.
    let (q, edge) = unit_scale(x.iter());
    let mut smax = T::ZERO;
    w.zr.fill(T::ZERO);
    for k in 0..d {
        let col = x.iter().skip(k).step_by(d.max(1)).map(|&v| v * q);
        let mean = col.clone().fold(T::ZERO, |a, v| a + v) / nf;
        let var = col
            .clone()
            .fold(T::ZERO, |a, v| a + (v - mean) * (v - mean))
            / nf;
        smax = smax.max_fast(var.sqrt());
        let zk = w.zr.iter_mut().skip(k).step_by(d.max(1));
        for (zi, v) in zk.zip(col) {
            *zi = v - mean;
        }
    }
    // The divisor in the scaled units, and in the caller's.
    let (scale_q, scale) = if cfg.scale > T::ZERO {
        (cfg.scale * q, cfg.scale)
    } else {
        let s = if smax > T::ZERO { smax } else { q };
        let s = s * T::from_usize(d).sqrt();
        (s, s / q)
    };
    if !scale.is_finite() {
        return Err(Error::NonFinite);
    }
    let (mut lo, mut hi, mut spread) = (T::INFINITY, T::NEG_INFINITY, false);
    let zr = w.zr.get_mut(..n * d).unwrap_or(&mut []);
    for zi in zr.iter_mut() {
        spread |= *zi != T::ZERO;
        *zi = *zi / scale_q;
        lo = lo.min_fast(*zi);
        hi = hi.max_fast(*zi);
    }
    // A caller's scale so large that the normalised cloud of a spread-out cloud
    // underflows (1/(extent·EPSILON) overflows: its coordinates lose their precision,
    // and at 0 the transport would average the particles without their weights) is
    // refused.
    if cfg.scale > T::ZERO && spread && !(T::ONE / (zr_extent(lo, hi) * T::EPSILON)).is_finite() {
        return Err(Error::InvalidParameter);
    }
    // The largest cost ½·D·(hi − lo)² must be finite, and so must its ratio to ε: a
    // caller's scale so small that the normalised cloud overflows is refused.
    let cost_max = T::HALF * T::from_usize(d) * (hi - lo) * (hi - lo);
    if !(cost_max / cfg.epsilon).is_finite() {
        return Err(if cfg.scale > T::ZERO {
            Error::InvalidParameter
        } else {
            Error::InvalidEpsilon
        });
    }
    // The exponent magnitude measured after the loop starts at the largest cost: an ε
    // that fails the range for the cost alone is refused before any pass, so the status
    // does not depend on how a SIMD path's exponential saturates.
    let in_range = cost_max / cfg.epsilon * T::EPSILON <= T::from_f64(EXPONENT_RANGE);
    if !in_range {
        return Err(Error::InvalidEpsilon);
    }
    load_points(w.zc, &Points::row_major(zr, d), n, &Points::empty(), d, np);
    let eps = cfg.epsilon;
    let e0 = ((hi - lo) * (hi - lo)).max_fast(eps);
    let cl = cloud(&*w.zr, &*w.zc, d);
    let log_n = nf.ln();
    // Normalised log-weights ℓ_j = (logw_j − top) − log_sum (see `log_norm`).
    let (top, log_sum) = log_norm(super::weights::log_sum_exp_parts(logw)?);
    let ell = |j: usize| {
        logw.get(j)
            .map_or(T::NEG_INFINITY, |&l| (l - top) - log_sum)
    };
    let filterflow = cfg.schedule == OtSchedule::Filterflow;
    // (c) initial potentials at ε₀; or, warm, b at ε as the c-transform of the
    // previous a* from the previous cloud: b_j = ε·ln N − ε·LSE_i(a*_i/ε − C(z_j,
    // z'_i)/ε) (no annealing; under Filterflow a = softmin(ℓ + b/ε) too).
    let mut e = e0;
    let mut passes = 1u32;
    if let Some(prev) = warm {
        e = eps;
        let cross = Clouds::new(Points::row_major(&*w.zr, d), prev.zc, Points::empty(), d);
        fill(w.v, n, &|i| {
            prev.fa.get(i).copied().unwrap_or(T::ZERO) / eps
        });
        softmin(pool, &cross, w.v, eps, n, lp.b)?;
        for bj in lp.b.iter_mut().take(n) {
            *bj += eps * log_n;
        }
        if filterflow {
            fill(w.v, n, &|j| {
                ell(j) + lp.b.get(j).copied().unwrap_or(T::ZERO) / eps
            });
            softmin(pool, &cl, w.v, eps, n, lp.a)?;
            passes += 1;
        }
    } else {
        softmin_pair(
            pool,
            &cl,
            [&ell, &|_| -log_n],
            e,
            n,
            (w.v, lp.pair),
            [lp.a, lp.b],
        )?;
    }
    let e_start = e;
    let mut it = 0u32;
    let mut change = T::ZERO;
    // Marginal: the damped loop only anneals; the iterations at ε are the final steps.
    let mut cont = filterflow || e > eps;
    let cap = cfg.max_iterations.saturating_sub(1);
    let (a, b) = (&mut *lp.a, &mut *lp.b);
    while cont && it < cap {
        // Jacobi: a' from the old b into `fa`, b' from the old a into `g`.
        let a_new = |j: usize| ell(j) + b.get(j).copied().unwrap_or(T::ZERO) / e;
        let b_new = |i: usize| -log_n + a.get(i).copied().unwrap_or(T::ZERO) / e;
        softmin_pair(
            pool,
            &cl,
            [&a_new, &b_new],
            e,
            n,
            (w.v, lp.pair),
            [w.fa, lp.g],
        )?;
        change = T::ZERO;
        let pairs = a.iter_mut().zip(w.fa.iter()).take(n);
        for (old, new) in pairs.chain(b.iter_mut().zip(lp.g.iter()).take(n)) {
            let avg = (*old + *new) * T::HALF;
            change = change.max_fast((avg - *old).abs());
            *old = avg;
        }
        if !change.is_finite() {
            return Err(Error::NonFinite);
        }
        let e_next = (e * cfg.scaling * cfg.scaling).max_fast(eps);
        cont = if filterflow {
            e_next < e || change > cfg.tolerance
        } else {
            e_next > eps
        };
        e = e_next;
        it += 1;
        passes += 1;
    }
    // (d) the final step at ε, and the column-normalisation potential g; under
    // `Marginal` repeated (b ← g + ε·ln N, the undamped source half-step) until the
    // row error is within the tolerance or the iterations run out.
    let (error, mag, met) = loop {
        fill(w.v, n, &|j| {
            ell(j) + b.get(j).copied().unwrap_or(T::ZERO) / eps
        });
        softmin(pool, &cl, w.v, eps, n, w.fa)?;
        fill(w.v, n, &|i| w.fa.get(i).copied().unwrap_or(T::ZERO) / eps);
        softmin(pool, &cl, w.v, eps, n, lp.g)?;
        passes = passes.saturating_add(2);
        // Exponent magnitude (see EXPONENT_RANGE) and the row-error bound (see OtReport).
        let mut mag = cost_max;
        let (mut d_lo, mut d_hi) = (T::INFINITY, T::NEG_INFINITY);
        for (j, ((&fa, &gj), &bj)) in
            w.fa.iter()
                .zip(lp.g.iter())
                .zip(b.iter())
                .take(n)
                .enumerate()
        {
            if !(fa.is_finite() && gj.is_finite()) {
                return Err(Error::NonFinite);
            }
            mag = mag.max_fast(fa.abs()).max_fast(gj.abs()).max_fast(bj.abs());
            if ell(j) > T::NEG_INFINITY {
                let delta = (gj - bj) / eps + log_n;
                d_lo = d_lo.min_fast(delta);
                d_hi = d_hi.max_fast(delta);
            }
        }
        let error = (d_hi.exp() - T::ONE).max_fast(T::ONE - d_lo.exp());
        // NaN compares false: a NaN error stops here and is refused below.
        let met = error <= cfg.tolerance;
        if filterflow || met || it >= cap {
            break (error, mag, met);
        }
        change = T::ZERO;
        for (bj, &gj) in b.iter_mut().zip(lp.g.iter()).take(n) {
            let next = gj + eps * log_n;
            change = change.max_fast((next - *bj).abs());
            *bj = next;
        }
        it += 1;
    };
    // NaN compares false: refused too.
    let representable = mag / eps * T::EPSILON <= T::from_f64(EXPONENT_RANGE);
    if !representable {
        return Err(Error::InvalidEpsilon);
    }
    // Coordinate k of a new particle lies in [lo_k − error·(m_k − lo_k), hi_k +
    // error·(hi_k − m_k)] (its row sum bounds the weights of a convex combination):
    // refuse what would overflow in the caller's units, before anything is written.
    // Within 2^−10 of the largest finite value the bound is rounding, not a result
    // beyond the range (a particle at the edge maps to itself up to rounding): such
    // results are saturated by `transport`.
    let reach = zr_extent(lo, hi) * scale_q * error;
    if !((edge + reach) * T::from_f64(1.0 - 1.0 / 1024.0) / q).is_finite() {
        return Err(Error::NonFinite);
    }
    Ok(Fitted {
        n,
        np,
        d,
        top,
        log_sum,
        scale,
        q,
        eps,
        report: OtReport {
            status: if (filterflow && cont) || !(filterflow || met) {
                Status::MaxIterations
            } else {
                Status::Converged
            },
            iterations: it + 1,
            passes,
            epsilon_start: e_start,
            scale,
            change,
            error,
        },
    })
}

/// The normalisation of log-weights as a pair (top, rest), ℓ_j = (logw_j − top) −
/// rest: (LSE, 0) — one subtraction, as [`log_sum_exp`](super::weights::log_sum_exp)
/// — while LSE·`EPSILON` ≤ 2^−12 (f32: |LSE| ≤ 4096 nats), so that the rounding of
/// LSE moves no weight by more than 2^−12 relative; beyond, (max logw, ln Σ
/// e^{logw − max}), which keeps the ln Σ part that LSE itself would round away (log-
/// weights near the top of the range).
fn log_norm<T: Real>(parts: LogSumExp<T>) -> (T, T) {
    let (top, rest) = (parts.max, parts.ln_sum);
    let lse = parts.value();
    if lse.abs() * T::EPSILON <= T::from_f64(1.0 / 4096.0) {
        (lse, T::ZERO)
    } else {
        (top, rest)
    }
}

/// The power of two q with max|x|·q in [1, 2) (1 if every x is 0), and max|x|·q;
/// q is capped so that q²
/// stays finite (a cloud of subnormal coordinates is scaled up as far as that allows;
/// its variance may then still underflow, and it is treated as a single point):
/// multiplying by it is exact (unless a coordinate 2^−p smaller than the largest
/// underflows, which cannot move any result by a representable amount).
fn unit_scale<'a, T: Real + 'a>(x: impl Iterator<Item = &'a T>) -> (T, T) {
    let top = x.fold(T::ZERO, |a, &v| a.max_fast(v.abs()));
    let mut q = T::ONE;
    if top > T::ZERO {
        let (two, half) = (T::from_f64(2.0), T::HALF);
        let mut t = top;
        // At most ~128 (f32) / ~1100 (f64) halvings or doublings: the exponent range.
        while t >= two {
            t *= half;
            q *= half;
        }
        while t < T::ONE && (q * two * q * two).is_finite() {
            t *= two;
            q *= two;
        }
    }
    (q, top * q)
}

/// max(|lo|, |hi|): the largest normalised coordinate's magnitude (an upper bound of
/// max_j |z_jk| in every coordinate).
fn zr_extent<T: Real>(lo: T, hi: T) -> T {
    lo.abs().max_fast(hi.abs())
}

/// Fills `v` with the source exponents in kernel units, G_j·log₂e with
/// G_j = ℓ_j + g_j/ε (−∞ on padding), so that
/// P_ij = exp(a*_i/ε + G_j − ½‖z_i − z_j‖²/ε) = T_ij / N.
pub(crate) fn source_exponents<T: Real>(logw: &[T], fit: &Fitted<T>, g: &[T], v: &mut [T]) {
    fill(v, fit.n, &|j| match (logw.get(j), g.get(j)) {
        (Some(&l), Some(&gj)) => (l - fit.top) - fit.log_sum + gj / fit.eps,
        _ => T::NEG_INFINITY,
    });
}

/// Row exponent of target i in kernel units: a*_i·log₂e/ε.
pub(crate) fn row_exponent<T: Real>(fa: &[T], fit: &Fitted<T>, i: usize) -> T {
    fa.get(i).copied().unwrap_or(T::ZERO) * T::LOG2_E / fit.eps
}

/// Applies the fitted transport: x̃_i = m + S·N·Σ_j P_ij z_j (x̃: N×d row-major), the
/// rows split over `pool`. With more than one task the rows are staged in the loop's
/// buffers ([`OtWork::spare`], which they fit for d ≤ 5) and written to `out` once
/// every task has run; wider rows run on the calling thread. So `out` is written only
/// on success.
///
/// # Errors
/// [`Error::CallbackFailed`] if the pool fails (nothing written to `out`);
/// [`Error::WorkspaceTooSmall`] if `w` is not [`split`]'s.
pub(crate) fn transport<T: Real, P: ParallelFor>(
    pool: &P,
    x: &[T],
    logw: &[T],
    fit: &Fitted<T>,
    w: &mut OtWork<'_, T>,
    out: &mut [T],
) -> Result<(), Error> {
    source_exponents(logw, fit, loop_parts(&mut *w.spare, fit.np)?.g, w.v);
    let cl = cloud(&*w.zr, &*w.zc, fit.d);
    let kappa = kappa(fit.eps);
    cl.absorb_sources(w.v, kappa);
    let pass = Transport {
        x,
        fit,
        cl: &cl,
        kappa,
        zc: &*w.zc,
        v: &*w.v,
        fa: &*w.fa,
    };
    let stage = w.spare.get_mut(..x.len());
    match stage.filter(|_| parallel::splits(fit.n)) {
        Some(stage) => {
            pass.run(pool, stage)?;
            copy(out, stage);
            Ok(())
        }
        None => pass.run(&Serial, out),
    }
}

/// The fitted transport's pass, ready to run (see [`transport`]).
struct Transport<'a, T> {
    x: &'a [T],
    fit: &'a Fitted<T>,
    cl: &'a Clouds<'a, T>,
    kappa: T,
    zc: &'a [T],
    v: &'a [T],
    fa: &'a [T],
}

impl<T: Real> Transport<'_, T> {
    /// Writes x̃ into `out` (N×d), the rows split over `pool`.
    fn run<P: ParallelFor>(&self, pool: &P, out: &mut [T]) -> Result<(), Error> {
        let (fit, kappa, x) = (self.fit, self.kappa, self.x);
        let (n, d) = (fit.n, fit.d);
        let nf = T::from_usize(n);
        let task = |lo: usize, rows: Wide<'_, T>| {
            on_clouds!(
                self.cl,
                |src| for (k, oi) in rows_mut(rows.data, d).enumerate() {
                    let i = lo + k;
                    let u = src.absorb_target(i, row_exponent(self.fa, fit, i), kappa);
                    // The output row is the reducer's accumulator (one channel per
                    // coordinate).
                    let mut red = Weighted {
                        w: self.zc,
                        out: &mut *oi,
                    };
                    let (sh, _) = shifted(src, i, u, self.v, kappa, &mut red);
                    let g = nf * sh.factor();
                    let f = fit.scale * fit.q * g;
                    if f.is_finite() {
                        for o in oi.iter_mut() {
                            *o *= f;
                        }
                    } else {
                        // A caller's scale near the top of the range: the product is
                        // bounded by the cloud's extent, the factor alone is not.
                        for o in oi.iter_mut() {
                            *o = *o * g * (fit.scale * fit.q);
                        }
                    }
                }
            );
            Ok(())
        };
        let rows = Wide {
            data: head_mut(&mut *out, n.saturating_mul(d)),
            width: d,
        };
        parallel::rows(pool, rows, task, |(), ()| ())?;
        // Back to the caller's units, and add the mean back, coordinate by coordinate
        // (O(N·d)). The mean is summed on the coordinate scaled by its own power of two
        // (no overflow near the top of the range, no underflow of a coordinate much
        // smaller than the others); powers of two are exact, so these are the bits of
        // the plain computation wherever it does not overflow.
        for k in 0..d {
            let col = x.iter().skip(k).step_by(d.max(1));
            let (qk, _) = unit_scale(col.clone());
            let mean = col.fold(T::ZERO, |a, &v| a + v * qk) / nf / qk;
            // `fit` bounded every result by the range; one within rounding of its edge
            // can round past it, and is saturated instead.
            for o in out.iter_mut().skip(k).step_by(d.max(1)) {
                let v = *o / fit.q + mean;
                *o = if v == T::INFINITY {
                    T::MAX
                } else if v == T::NEG_INFINITY {
                    -T::MAX
                } else {
                    v
                };
            }
        }
        Ok(())
    }
}

/// OT resampling: writes x̃ (N×d row-major) to `x_out`; the new weights are uniform
/// (log-weight −log N, the caller sets them).
///
/// `x`: N×d particles, row-major. `logw`: N log-weights (need not be normalised; −∞
/// allowed). `ws`: at least [`ot_workspace_len`]`(N, d)` elements, contents ignored.
///
/// Cost (the report's `passes`, plus one for the transport, whose entries carry d
/// weight channels), in kernel passes of N² entries: one for the initial potentials
/// and one per damped iteration, each computing both potentials; two per final step
/// (one under [`OtSchedule::Filterflow`], repeated under [`OtSchedule::Marginal`]).
/// At most about 2·`max_iterations` + 2 passes whatever the schedule. Plus a
/// log-domain row for any target whose pair sum underflows (see the module docs).
///
/// # Errors
/// `EmptyInput` (N = 0 or d = 0), `LengthMismatch` (`x` or `x_out` not N·d),
/// `NonFiniteInput` (NaN/∞ coordinate, NaN or +∞ log-weight), `ZeroMass` (all
/// log-weights −∞), `InvalidEpsilon`, `InvalidParameter` (scaling ∉ (0, 1), tolerance
/// < 0, scale < 0 or not finite, or so small or large against the cloud that the
/// normalised cloud overflows or underflows), `WorkspaceTooSmall`, `NonFinite`
/// (overflow). Nothing is written to `x_out` on error.
///
/// # Panics
/// Never.
pub fn ot_resample<T: Real>(
    x: &[T],
    logw: &[T],
    d: usize,
    cfg: &OtConfig<T>,
    x_out: &mut [T],
    ws: &mut [T],
) -> Result<OtReport<T>, Error> {
    ot_resample_on(&Serial, x, logw, d, cfg, x_out, ws)
}

/// [`ot_resample`] with the kernel passes' target rows split over a caller's `pool`
/// (see [`crate::parallel`]): the same bits whatever the pool. Passes over N ≤
/// [`MIN_TASK_ROWS`](crate::parallel::MIN_TASK_ROWS) particles run on the calling
/// thread, and so does the transport when d > 5 (its rows are staged in the workspace
/// only up to d = 5).
///
/// # Errors
/// As [`ot_resample`], and [`Error::CallbackFailed`] if the pool fails or returns with
/// a task not run (nothing written to `x_out`).
pub fn ot_resample_on<T: Real, P: ParallelFor>(
    pool: &P,
    x: &[T],
    logw: &[T],
    d: usize,
    cfg: &OtConfig<T>,
    x_out: &mut [T],
    ws: &mut [T],
) -> Result<OtReport<T>, Error> {
    check_cloud(x, logw, d)?;
    cfg.check()?;
    if x_out.len() != x.len() {
        return Err(Error::LengthMismatch);
    }
    let (mut w, _) = split(ws, logw.len(), d)?;
    let fit = fit_from(pool, x, logw, d, cfg, &mut w, None)?;
    transport(pool, x, logw, &fit, &mut w, x_out)?;
    Ok(fit.report)
}

/// Elements of the warm-start state of [`ot_resample_warm`] for N particles of
/// dimension d: `(d + 1)·N̂ + 2` (N̂ as in [`ot_workspace_len`]): the normalised
/// cloud (chunk-major), its final target potential a*, and a header (the count the
/// state holds, 0 when empty; ε).
#[must_use]
pub const fn ot_warm_len(n: usize, d: usize) -> usize {
    padded(n)
        .saturating_mul(d.saturating_add(1))
        .saturating_add(WARM_HEADER)
}

/// Header elements of a warm-start state: [count, ε].
const WARM_HEADER: usize = 2;

/// A checked warm-start state: the previous normalised cloud (chunk-major, padded)
/// and its a* (cost units).
#[derive(Clone, Copy)]
struct Warm<'a, T> {
    zc: &'a [T],
    fa: &'a [T],
}

/// OT resampling warm-started from the previous call's potentials: a filter
/// resamples similar clouds tick after tick, so the potential of the last solve,
/// carried to the new particles by the soft c-transform (its values at the new
/// points, whatever index they carry: the particles moved), starts the loop at ε
/// with no annealing. Writes x̃ as [`ot_resample`] and, on success, the state for the
/// next call.
///
/// `state`: [`ot_warm_len`]`(N, d)` elements, all zero before the first call (or to
/// forget). A state written for another particle count starts cold (it is
/// overwritten), so an adaptive count needs no special care. The result depends on
/// the state (a different start of the same fixed point, within `tolerance`).
///
/// Cost: one kernel pass for the c-transform (two under
/// [`OtSchedule::Filterflow`]), then the loop at ε, the transport.
///
/// # Errors
/// As [`ot_resample`], plus `LengthMismatch` (`state` not [`ot_warm_len`]`(N, d)`)
/// and `NonFiniteInput` (a state holding this count whose values are not finite: a
/// corrupted state is refused rather than silently restarted). Nothing is written
/// to `x_out` or `state` on error.
///
/// # Panics
/// Never.
pub fn ot_resample_warm<T: Real>(
    x: &[T],
    logw: &[T],
    d: usize,
    cfg: &OtConfig<T>,
    x_out: &mut [T],
    ws: &mut [T],
    state: &mut [T],
) -> Result<OtReport<T>, Error> {
    ot_resample_warm_on(&Serial, x, logw, d, cfg, x_out, ws, state)
}

/// [`ot_resample_warm`] with the passes split over a caller's `pool`, as
/// [`ot_resample_on`].
///
/// # Errors
/// As [`ot_resample_warm`], and [`Error::CallbackFailed`] if the pool fails or returns
/// with a task not run (nothing written to `x_out` or `state`).
#[allow(clippy::too_many_arguments)]
pub fn ot_resample_warm_on<T: Real, P: ParallelFor>(
    pool: &P,
    x: &[T],
    logw: &[T],
    d: usize,
    cfg: &OtConfig<T>,
    x_out: &mut [T],
    ws: &mut [T],
    state: &mut [T],
) -> Result<OtReport<T>, Error> {
    check_cloud(x, logw, d)?;
    cfg.check()?;
    let n = logw.len();
    if x_out.len() != x.len() || state.len() != ot_warm_len(n, d) {
        return Err(Error::LengthMismatch);
    }
    // The state's parts: previous cloud (chunk-major), its a*, the header.
    let np = padded(n);
    let mut header = state;
    let zc_old = take(&mut header, d.saturating_mul(np))?;
    let fa_old = take(&mut header, np)?;
    let count = header.first().copied().unwrap_or(T::ZERO);
    let held = count == T::from_usize(n);
    if count.is_nan() {
        return Err(Error::NonFiniteInput);
    }
    if held
        && !(zc_old.iter().all(|v| v.is_finite()) && fa_old.iter().take(n).all(|v| v.is_finite()))
    {
        return Err(Error::NonFiniteInput);
    }
    let (mut w, _) = split(ws, n, d)?;
    let warm = held.then_some(Warm {
        zc: &*zc_old,
        fa: &*fa_old,
    });
    let fit = fit_from(pool, x, logw, d, cfg, &mut w, warm)?;
    transport(pool, x, logw, &fit, &mut w, x_out)?;
    copy(zc_old, w.zc);
    copy(fa_old, w.fa);
    for (h, v) in header.iter_mut().zip([T::from_usize(n), fit.eps]) {
        *h = v;
    }
    Ok(fit.report)
}

/// The dense transport matrix T (N×N row-major, rows = new particles, columns = old)
/// of [`ot_resample`], for inspection and tests: Σ_i T_ij = N·w_j up to rounding,
/// Σ_j T_ij ≈ 1 to the solver's accuracy, x̃ = m + T·(x − m). Needs N² extra memory
/// (`t_out`), which the resampler itself never does.
///
/// # Errors
/// As [`ot_resample`], with `LengthMismatch` for `t_out.len() != N²`.
///
/// # Panics
/// Never.
pub fn ot_transport_matrix<T: Real>(
    x: &[T],
    logw: &[T],
    d: usize,
    cfg: &OtConfig<T>,
    t_out: &mut [T],
    ws: &mut [T],
) -> Result<OtReport<T>, Error> {
    check_cloud(x, logw, d)?;
    cfg.check()?;
    let n = logw.len();
    if n.checked_mul(n) != Some(t_out.len()) {
        return Err(Error::LengthMismatch);
    }
    let (mut w, _) = split(ws, n, d)?;
    let fit = fit(x, logw, d, cfg, &mut w)?;
    source_exponents(logw, &fit, loop_parts(&mut *w.spare, fit.np)?.g, w.v);
    let cl = cloud(&*w.zr, &*w.zc, d);
    let kappa = kappa(fit.eps);
    cl.absorb_sources(w.v, kappa);
    let nf = T::from_usize(n);
    on_clouds!(&cl, |src| {
        for (i, row) in rows_mut(t_out, n).enumerate() {
            let u = src.absorb_target(i, row_exponent(w.fa, &fit, i), kappa);
            let mut red = Write { row: &mut *row };
            // `Write` keeps the last pass: with a second (shifted) pass the row holds
            // terms scaled by 2^−shift.
            let (sh, _) = shifted(src, i, u, w.v, kappa, &mut red);
            let f = nf * sh.factor();
            for t in row.iter_mut() {
                *t *= f;
            }
        }
    });
    Ok(fit.report)
}
