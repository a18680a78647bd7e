//! A feasible plan from a Sinkhorn plan, and a certificate for the unregularised
//! problem, without storing any n×m array.
//!
//! ROUND of Altschuler, Weed & Rigollet (2017, Alg. 2) on F = P: scale the rows down to
//! at most a (x_i = min(a_i / (F1)_i, 1)), then the columns of that down to at most b
//! (y_j = min(b_j / (F′ᵀ1)_j, 1), column sums of the row-scaled F′), and add the
//! rank-one correction G = F″ + e_a e_bᵀ / ‖e_a‖₁ with e_a = a − F″1, e_b = b − F″ᵀ1
//! (both ≥ 0, equal mass). G has marginals a and b exactly (to rounding) and
//! ‖G − F‖₁ ≤ 2 (‖F1 − a‖₁ + ‖Fᵀ1 − b‖₁) (their Lemma 7). The scalings are potentials:
//! F″ is the entropic plan of f + ε ln x, g + ε ln y, so G is stored as those two
//! potentials and e_a, e_b, O(n + m), and applied by the streamed plan operations.
//!
//! Certificate: the soft c-transform φ_i = −ε ln Σ_j exp((g_j − C_ij)/ε) ≤
//! min_j (C_ij − g_j) makes (φ, g) feasible for the unregularised dual, so
//! L = ⟨a, φ⟩ + ⟨b, g⟩ ≤ OT₀ ≤ ⟨C, G⟩ and ⟨C, G⟩ − OT₀ ≤ gap = ⟨C, G⟩ − L (up to the
//! rounding of the sums and of the kernel's exponential, ~1e-14 ε relative in f64).

use crate::buf::{copy, rows, take};
use crate::error::Error;
use crate::real::Real;
use crate::sum::{sum, Compensated};

use super::plan::Plan;
use super::problem::{Cost, Problem};
use super::workspace::workspace_len;

/// The rounded plan G = F″ + e_a e_bᵀ / ‖e_a‖₁: F″ the entropic plan of `plan`
/// (problem, ε and the scaled potentials), e_a, e_b the marginal deficits.
#[derive(Clone, Copy, Debug)]
pub struct RoundedPlan<'a, T> {
    /// F″ as an entropic plan.
    pub plan: Plan<'a, T>,
    /// e_a = a − F″1 ≥ 0, length n.
    pub err_a: &'a [T],
    /// e_b = b − F″ᵀ1 ≥ 0, length m.
    pub err_b: &'a [T],
}

/// Where [`round`] writes the rounded plan (lengths n, m, n, m).
pub struct RoundedParts<'o, T> {
    /// f + ε ln x (cost units).
    pub f: &'o mut [T],
    /// g + ε ln y (cost units).
    pub g: &'o mut [T],
    /// e_a.
    pub err_a: &'o mut [T],
    /// e_b.
    pub err_b: &'o mut [T],
}

/// What [`round`] certifies (cost units × mass).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Certificate<T> {
    /// ⟨C, G⟩, the transport cost of the rounded (feasible) plan: ≥ OT₀.
    pub transport_cost: T,
    /// ⟨a, φ⟩ + ⟨b, g⟩ for the dual-feasible pair (φ, g): ≤ OT₀.
    pub lower_bound: T,
    /// `transport_cost − lower_bound` ≥ ⟨C, G⟩ − OT₀ ≥ 0.
    pub gap: T,
    /// ‖e_a‖₁ = ‖e_b‖₁, the mass the rank-one correction moves.
    pub correction_mass: T,
}

/// Elements of workspace [`round`] and [`RoundedPlan`]'s operations need:
/// 3(n + m) + [`workspace_len`]`(n, m, d)` (O(n + m); saturating).
#[must_use]
pub const fn round_workspace_len(n: usize, m: usize, dim: usize) -> usize {
    workspace_len(n, m, dim).saturating_add(n.saturating_add(m).saturating_mul(3))
}

/// Rounds the plan of `plan` (a balanced problem: Σa = Σb within
/// [`Real::MASS_TOLERANCE`]) onto the transport polytope U(a, b) and certifies it.
/// Five streamed passes (row sums of F, column sums of the row-scaled plan, both
/// marginals of F″, ⟨C, F″⟩); memory [`round_workspace_len`].
///
/// # Errors
/// Nothing is written on error. [`Error::MassMismatch`], [`Error::LengthMismatch`]
/// (outputs), [`Error::NonFinite`] (a row or column of the plan with no mass where the
/// weight is positive, or an overflow); otherwise those of [`Plan::apply`].
pub fn round<T: Real>(
    plan: &Plan<'_, T>,
    out: RoundedParts<'_, T>,
    ws: &mut [T],
) -> Result<Certificate<T>, Error> {
    let (a, b, eps) = (plan.problem.a, plan.problem.b, plan.epsilon);
    let (n, m) = (a.len(), b.len());
    if out.f.len() != n || out.g.len() != m || out.err_a.len() != n || out.err_b.len() != m {
        return Err(Error::LengthMismatch);
    }
    if ws.len() < round_workspace_len(n, m, plan.problem.dim()) {
        return Err(Error::WorkspaceTooSmall);
    }
    let (ma, mb) = (sum(a), sum(b));
    if (ma - mb).abs() > T::MASS_TOLERANCE * ma.max_fast(mb) {
        return Err(Error::MassMismatch);
    }
    let mut ws = ws;
    let f2 = take(&mut ws, n)?;
    let g2 = take(&mut ws, m)?;
    let ea = take(&mut ws, n)?;
    let eb = take(&mut ws, m)?;
    let vn = take(&mut ws, n)?;
    let vm = take(&mut ws, m)?;
    // Row sums r of F; f′ = f + ε ln min(a / r, 1); φ = f − ε ln r (the soft
    // c-transform of g) for the lower bound.
    vm.fill(T::ONE);
    plan.apply(vm, vn, ws)?;
    let mut lower = Compensated::new();
    for (fi, ((&ri, &wi), &pi)) in f2.iter_mut().zip(vn.iter().zip(a).zip(plan.f)) {
        *fi = if wi == T::ZERO {
            T::NEG_INFINITY
        } else {
            let ln_r = ri.ln();
            lower.add(wi * (pi - eps * ln_r));
            pi + eps * (wi.ln() - ln_r).min_fast(T::ZERO)
        };
    }
    for (&wj, &gj) in b.iter().zip(plan.g) {
        if wj > T::ZERO {
            lower.add(wj * gj);
        }
    }
    // Column sums of F′ = diag(x) F; g′ = g + ε ln min(b / c′, 1).
    vn.fill(T::ONE);
    Plan::new(plan.problem, eps, f2, plan.g).apply_transpose(vn, vm, ws)?;
    for (gj, ((&cj, &wj), &pj)) in g2.iter_mut().zip(vm.iter().zip(b).zip(plan.g)) {
        *gj = if wj == T::ZERO {
            T::NEG_INFINITY
        } else {
            pj + eps * (wj.ln() - cj.ln()).min_fast(T::ZERO)
        };
    }
    // The deficits of F″ (≥ 0 in exact arithmetic; rounding clamped).
    let rounded = Plan::new(plan.problem, eps, f2, g2);
    vm.fill(T::ONE);
    rounded.apply(vm, ea, ws)?;
    vn.fill(T::ONE);
    rounded.apply_transpose(vn, eb, ws)?;
    for (e, &w) in ea.iter_mut().zip(a).chain(eb.iter_mut().zip(b)) {
        *e = (w - *e).max_fast(T::ZERO);
    }
    let mass = sum(ea);
    let cost = rounded.transport_cost(ws)? + correction_cost(&plan.problem, ea, eb, mass);
    let lower_bound = lower.value();
    if !(cost.is_finite() && lower_bound.is_finite()) {
        return Err(Error::NonFinite);
    }
    copy(out.f, f2);
    copy(out.g, g2);
    copy(out.err_a, ea);
    copy(out.err_b, eb);
    Ok(Certificate {
        transport_cost: cost,
        lower_bound,
        gap: cost - lower_bound,
        correction_mass: mass,
    })
}

/// e_aᵀ C e_b / mass (0 without correction): O((n + m) d) for point clouds by
/// expanding ‖x − y‖² around x's first point, O(n m) reads of a dense matrix.
fn correction_cost<T: Real>(problem: &Problem<'_, T>, ea: &[T], eb: &[T], mass: T) -> T {
    if mass == T::ZERO {
        return T::ZERO;
    }
    let mut total = Compensated::new();
    match problem.cost {
        Cost::SqEuclidean { x, y, dim, scale } => {
            let (sa, sb) = (sum(ea), sum(eb));
            for k in 0..dim {
                let c = x.get(0, k);
                let (mut xa, mut xb, mut x2, mut y2) = (
                    Compensated::new(),
                    Compensated::new(),
                    Compensated::new(),
                    Compensated::new(),
                );
                for (i, &e) in ea.iter().enumerate() {
                    let r = x.get(i, k) - c;
                    xa.add(e * r);
                    x2.add(e * r * r);
                }
                for (j, &e) in eb.iter().enumerate() {
                    let r = y.get(j, k) - c;
                    xb.add(e * r);
                    y2.add(e * r * r);
                }
                total.add(scale * (x2.value() * sb + y2.value() * sa));
                total.add(-(scale + scale) * xa.value() * xb.value());
            }
        }
        Cost::Matrix { c } => {
            for (row, &e) in rows(c, eb.len()).zip(ea) {
                for (&cij, &f) in row.iter().zip(eb) {
                    total.add(e * f * cij);
                }
            }
        }
    }
    total.value() / mass
}

impl<T: Real> RoundedPlan<'_, T> {
    /// `out_i = Σ_j G_ij v_j` (length n) for `v` of length m; workspace
    /// [`workspace_len`]`(n, m, d)`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] (also `err_a`, `err_b`), [`Error::NonFiniteInput`]
    /// (also `err_a`, `err_b`); otherwise as [`Plan::apply`].
    pub fn apply(&self, v: &[T], out: &mut [T], ws: &mut [T]) -> Result<(), Error> {
        let k = self.coefficient(self.err_b, v)?;
        self.plan.apply(v, out, ws)?;
        rank_one(out, self.err_a, k);
        Ok(())
    }

    /// `out_j = Σ_i G_ij u_i` (length m) for `u` of length n; as [`RoundedPlan::apply`].
    ///
    /// # Errors
    /// As [`RoundedPlan::apply`].
    pub fn apply_transpose(&self, u: &[T], out: &mut [T], ws: &mut [T]) -> Result<(), Error> {
        let k = self.coefficient(self.err_a, u)?;
        self.plan.apply_transpose(u, out, ws)?;
        rank_one(out, self.err_b, k);
        Ok(())
    }

    /// The rank-one term's coefficient (e · w)/‖e_a‖₁ for the input `w`, after the
    /// checks that the plan pass does not make (before it writes anything).
    fn coefficient(&self, e: &[T], w: &[T]) -> Result<T, Error> {
        let (n, m) = (self.plan.problem.n(), self.plan.problem.m());
        if self.err_a.len() != n || self.err_b.len() != m || e.len() != w.len() {
            return Err(Error::LengthMismatch);
        }
        let s = sum(self.err_a);
        let k = if s > T::ZERO { dot(e, w) / s } else { T::ZERO };
        let finite = self.err_a.iter().chain(self.err_b).all(|v| v.is_finite());
        if finite && k.is_finite() {
            Ok(k)
        } else {
            Err(Error::NonFiniteInput)
        }
    }
}

fn dot<T: Real>(p: &[T], q: &[T]) -> T {
    let mut s = Compensated::new();
    for (&a, &b) in p.iter().zip(q) {
        s.add(a * b);
    }
    s.value()
}

/// `out += k·e`.
fn rank_one<T: Real>(out: &mut [T], e: &[T], k: T) {
    for (o, &ei) in out.iter_mut().zip(e) {
        *o += k * ei;
    }
}
