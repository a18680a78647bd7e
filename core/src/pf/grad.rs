//! Vector–Jacobian products of OT resampling: given ∂L/∂x̃ (N×d), return ∂L/∂x (N×d)
//! and ∂L/∂log w (N), matrix-free on the shared kernel (O(N·d) memory).
//!
//! Notation (see [`ot_resample`](fn@super::ot_resample)): z = (x − m)/S the normalised
//! cloud, κ = 1/(2ε) (the kernel gets exponents and κ times log₂e), P_ij = exp(F_i + G_j − κ‖z_i − z_j‖²) = T_ij/N with
//! F = a*/ε, G_j = ℓ_j + g_j/ε, ℓ = log w normalised, and x̃_i = m + N Σ_j P_ij (x_j − m).
//! Both forms differentiate that map exactly in x̃'s explicit dependence on x and on
//! the mean m; they differ in how the plan depends on the inputs. The scale S is a
//! constant for both (filterflow's stop-gradient); freeze it with
//! [`OtConfig::scale`](super::OtConfig) to compare with finite differences.
//!
//! **Filterflow form** ([`Vjp::Filterflow`]): the damped loop's potentials b are
//! constants (stop-gradient); the gradient flows through the final step
//! a* = softmin_ε(ℓ + b/ε) and the column-renormalised plan, with the upstream
//! ∂L/∂T_ij optionally clipped to [−clip, clip] elementwise (filterflow clips at 1).
//! Cost: 6 kernel passes plus the forward solve.
//!
//! **Implicit form** ([`Vjp::Implicit`]): the exact gradient of the converged map
//! (both marginals hold) by the implicit function theorem. The adjoint system
//! H μ = (Σ_j Γ_ij, Σ_i Γ_ij), Γ = N·P ⊙ (ȳ_i·(x_j − m)), with
//! H = [[diag(P1), P], [Pᵀ, diag(Pᵀ1)]] (positive semi-definite, null vector (1, −1)),
//! is solved by conjugate gradient on its Schur complement (`ot::adjoint`: two kernel
//! passes per iteration, P·v and Pᵀ·u); then ∂L/∂(κC_ij) = P_ij(μ_i + μ'_j − N ȳ_i·(x_j − m)), and
//! ∂L/∂log w_j = w_j(μ'_j − Σ_k w_k μ'_k). It is exact for the map only when the
//! forward solve converged: use a small tolerance.
//!
//! Layouts: per-source fields fed to the kernel (z, ȳ, the channels of
//! `kernel::Weighted`/`kernel::Bilinear`) are chunk-major (`kernel::chunk_major`); per-target results
//! are target-major, `1 + channels` values per target.

mod jvp;

pub use jvp::{jvp_workspace_len, ot_resample_jvp, JvpReport};

use crate::buf::take;
use crate::buf::{copy, rows_mut};
use crate::error::Error;
use crate::kernel::{chunk_major, on_clouds, shifted, Bilinear, Clouds, CostSource, Weighted};
use crate::ot::adjoint::{self, set_channel, Cg, CgReport, Product, System};
use crate::ot::workspace::load_points;
use crate::points::Points;
use crate::real::Real;

use super::ot_resample::{
    check_cloud, cloud, fit, kappa, loop_parts, source_exponents, split, Fitted, OtConfig, OtWork,
};

/// Which vector–Jacobian product.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Vjp<T> {
    /// Filterflow's: through the final Sinkhorn step only, ∂L/∂T clipped to
    /// [−clip, clip] (`T::INFINITY`: no clipping; filterflow uses 1).
    Filterflow {
        /// Clipping bound (> 0).
        clip: T,
    },
    /// The exact gradient of the converged map by implicit differentiation.
    Implicit {
        /// Conjugate-gradient stop: ‖residual‖ ≤ tolerance·‖right-hand side‖ (> 0).
        cg_tolerance: T,
        /// Conjugate-gradient iteration cap.
        cg_max_iterations: u32,
    },
}

/// What a VJP did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VjpReport<T> {
    /// How the forward solve ended (see [`OtReport::status`](super::OtReport)).
    pub forward_status: crate::ot::Status,
    /// The forward solve's iterations.
    pub forward_iterations: u32,
    /// Conjugate-gradient iterations (0 for the filterflow form).
    pub cg_iterations: u32,
    /// Final relative CG residual (0 for the filterflow form).
    pub cg_residual: T,
}

/// Workspace elements [`ot_resample_vjp`] needs: `(13·d + 29)·N̂ + d`, with N̂ = N
/// rounded up to a multiple of the kernel width [`LANES`](crate::kernel::LANES) (16;
/// 4 on 32-bit Arm). Of these, `(d + 1)·N̂` hold the gradients until they are known to
/// be finite, so that nothing is written otherwise.
#[must_use]
pub const fn vjp_workspace_len(n: usize, d: usize) -> usize {
    crate::kernel::padded(n)
        .saturating_mul(d.saturating_mul(13).saturating_add(29))
        .saturating_add(d)
}

/// The rest of the workspace, cut front to back by [`take`].
type Pool<'a, T> = &'a mut [T];

/// The kernel seen from one side: targets get exponents `u`, sources `v` (kernel
/// units, padded, −∞ masked); the cost is symmetric so rows and columns use the same
/// cloud.
struct Side<'a, T> {
    cl: Clouds<'a, T>,
    u: &'a [T],
    v: &'a [T],
    kappa: T,
    n: usize,
}

impl<T: Real> Side<'_, T> {
    /// Runs one target through the kernel; returns the factor 2^shift by which the
    /// reducer's totals must be multiplied, and Σ_q of the (shifted) terms.
    /// `src` is this side's cloud on a dispatch path (`on_clouds!`).
    #[inline(always)]
    fn reduce<S: CostSource<T>, R: crate::kernel::Reduce<T>>(
        &self,
        src: &S,
        p: usize,
        red: &mut R,
    ) -> (T, T) {
        let u = self.u.get(p).copied().unwrap_or(T::ZERO);
        let (shift, sum) = shifted(src, p, u, self.v, self.kappa, red);
        (shift.factor(), sum)
    }

    /// Target-major output, `1 + nch` values per target: Σ_q K_pq and
    /// Σ_q K_pq·chan_c(q) for the `nch` channels of `chan` (chunk-major).
    fn weighted(&self, chan: &[T], nch: usize, out: &mut [T]) {
        on_clouds!(
            &self.cl,
            |src| for (p, o) in rows_mut(out, 1 + nch).enumerate().take(self.n) {
                let (s0, rest) = o.split_at_mut(1);
                let mut red = Weighted {
                    w: chan,
                    out: &mut *rest,
                };
                let (f, sum) = self.reduce(src, p, &mut red);
                s0[0] = sum * f;
                for r in rest.iter_mut() {
                    *r *= f;
                }
            }
        );
    }

    /// Target-major output, `1 + d` values per target: Σ_q K_pq φ(t_p·a_q) and
    /// Σ_q K_pq φ(t_p·a_q)·b_q with t_p = factor·tfield(p) (chunk-major `d`-channel
    /// fields; `t` is d values of scratch).
    #[allow(clippy::too_many_arguments)]
    fn bilinear(
        &self,
        tfield: &[T],
        factor: T,
        a: &[T],
        b: &[T],
        clip: T,
        t: &mut [T],
        out: &mut [T],
    ) {
        let d = t.len();
        on_clouds!(&self.cl, |src| for (p, o) in
            out.chunks_exact_mut(1 + d).enumerate().take(self.n)
        {
            for (k, tk) in t.iter_mut().enumerate() {
                *tk = factor * at(tfield, chunk_major(p, k, d));
            }
            let mut red = Bilinear {
                t: &*t,
                a,
                b,
                clip,
                out: &mut *o,
            };
            let (f, _) = self.reduce(src, p, &mut red);
            for r in o.iter_mut() {
                *r *= f;
            }
        });
    }
}

fn at<T: Real>(v: &[T], i: usize) -> T {
    v.get(i).copied().unwrap_or(T::ZERO)
}

/// The vector–Jacobian product of [`ot_resample`](fn@super::ot_resample): given
/// `ybar` = ∂L/∂x̃ (N×d row-major) writes `dx` = ∂L/∂x (N×d) and `dlogw` = ∂L/∂log w
/// (N; log-weights are treated as unnormalised, so Σ dlogw = 0).
///
/// Runs the forward solve itself (same `x`, `logw`, `cfg`). `ws`: at least
/// [`vjp_workspace_len`]`(N, d)` elements.
///
/// # Errors
/// As [`ot_resample`](fn@super::ot_resample); `LengthMismatch` for `ybar`, `dx`,
/// `dlogw`; `NonFiniteInput` for a NaN/∞ in `ybar`; `InvalidParameter` for clip ≤ 0
/// or NaN, CG tolerance ≤ 0 or not finite; `NonFinite` if a gradient overflows
/// (e.g. ∂L/∂x̃ near the top of the range). Nothing is written on error.
///
/// # Panics
/// Never.
#[allow(clippy::too_many_arguments)]
pub fn ot_resample_vjp<T: Real>(
    x: &[T],
    logw: &[T],
    d: usize,
    cfg: &OtConfig<T>,
    vjp: &Vjp<T>,
    ybar: &[T],
    dx: &mut [T],
    dlogw: &mut [T],
    ws: &mut [T],
) -> Result<VjpReport<T>, Error> {
    check_cloud(x, logw, d)?;
    cfg.check()?;
    let n = logw.len();
    if ybar.len() != x.len() || dx.len() != x.len() || dlogw.len() != n {
        return Err(Error::LengthMismatch);
    }
    if ybar.iter().any(|v| !v.is_finite()) {
        return Err(Error::NonFiniteInput);
    }
    let ok = match *vjp {
        Vjp::Filterflow { clip } => clip > T::ZERO,
        Vjp::Implicit { cg_tolerance, .. } => cg_tolerance > T::ZERO && cg_tolerance.is_finite(),
    };
    if !ok {
        return Err(Error::InvalidParameter);
    }
    if ws.len() < vjp_workspace_len(n, d) {
        return Err(Error::WorkspaceTooSmall);
    }
    let (mut w, rest) = split(ws, n, d)?;
    let fitted = fit(x, logw, d, cfg, &mut w)?;
    let np = fitted.np;
    let mut pool: Pool<'_, T> = rest;
    // The gradients are computed here and copied out once known to be finite.
    let gx = take(&mut pool, d * np)?
        .get_mut(..n * d)
        .ok_or(Error::WorkspaceTooSmall)?;
    let gl = take(&mut pool, np)?
        .get_mut(..n)
        .ok_or(Error::WorkspaceTooSmall)?;
    let yb = take(&mut pool, d * np)?;
    load_points(yb, &Points::row_major(ybar, d), n, &Points::empty(), d, np);
    let bufs = Bufs::of_plan(w, logw, fitted, yb)?;
    // Shared by both forms: scratch, the channel buffer and [c_j, (Pᵀȳ)_j].
    let common = Common {
        t: take(&mut pool, d)?,
        chan: take(&mut pool, (2 * d + 1) * np)?,
        colyb: take(&mut pool, (1 + d) * np)?,
    };
    bufs.cols().weighted(bufs.yb, d, common.colyb);
    let (cg_iterations, cg_residual) = match *vjp {
        Vjp::Filterflow { clip } => {
            filterflow(&bufs, common, clip, &mut pool, gx, gl)?;
            (0, T::ZERO)
        }
        Vjp::Implicit {
            cg_tolerance,
            cg_max_iterations,
        } => {
            let cg = Cg {
                tolerance: cg_tolerance,
                max_iterations: cg_max_iterations,
            };
            let r = implicit(&bufs, common, &cg, &mut pool, gx, gl)?;
            (r.iterations, r.residual)
        }
    };
    if gx.iter().chain(gl.iter()).any(|v| !v.is_finite()) {
        return Err(Error::NonFinite);
    }
    copy(dx, gx);
    copy(dlogw, gl);
    Ok(VjpReport {
        forward_status: fitted.report.status,
        forward_iterations: fitted.report.iterations,
        cg_iterations,
        cg_residual,
    })
}

/// Buffers both forms start with.
struct Common<'a, T> {
    /// A d-vector of scratch.
    t: &'a mut [T],
    /// Source channels, chunk-major, room for 2d + 1 of them.
    chan: &'a mut [T],
    /// Column pass over P with ȳ: [c_j, (Pᵀȳ)_j], target-major.
    colyb: &'a mut [T],
}

/// Inputs shared by both forms.
struct Bufs<'a, T> {
    /// Normalised particles, row-major.
    zr: &'a [T],
    /// The same, chunk-major.
    zc: &'a [T],
    /// Row exponents F (kernel units).
    f: &'a [T],
    /// Source exponents G (kernel units).
    g: &'a [T],
    /// The damped loop's source potential b (cost units).
    b: &'a [T],
    /// ∂L/∂x̃, chunk-major.
    yb: &'a [T],
    logw: &'a [T],
    fit: Fitted<T>,
}

impl<'a, T: Real> Bufs<'a, T> {
    /// The converged plan of a forward pass: F (row exponents) into `fa`, G (source
    /// exponents) into `v`, both in kernel units and absorbed, since both serve as
    /// targets and as sources (see `CostSource`); `yb` the upstream field (if any).
    ///
    /// # Errors
    /// [`Error::WorkspaceTooSmall`] if `w` is not `split`'s.
    fn of_plan(
        w: OtWork<'a, T>,
        logw: &'a [T],
        fit: Fitted<T>,
        yb: &'a [T],
    ) -> Result<Self, Error> {
        let lp = loop_parts(w.spare, fit.np)?;
        source_exponents(logw, &fit, lp.g, w.v);
        // As source exponents (column passes) the padding must be masked with −∞.
        for (i, f) in w.fa.iter_mut().enumerate() {
            *f = if i < fit.n {
                *f * T::LOG2_E / fit.eps
            } else {
                T::NEG_INFINITY
            };
        }
        let cl = cloud(&*w.zr, &*w.zc, fit.d);
        cl.absorb_sources(w.v, kappa(fit.eps));
        cl.absorb_sources(w.fa, kappa(fit.eps));
        Ok(Bufs {
            zr: w.zr,
            zc: w.zc,
            f: w.fa,
            g: w.v,
            b: lp.b,
            yb,
            logw,
            fit,
        })
    }

    fn rows(&self) -> Side<'a, T> {
        Side {
            cl: cloud(self.zr, self.zc, self.fit.d),
            u: self.f,
            v: self.g,
            kappa: kappa(self.fit.eps),
            n: self.fit.n,
        }
    }
    fn cols(&self) -> Side<'a, T> {
        Side {
            cl: cloud(self.zr, self.zc, self.fit.d),
            u: self.g,
            v: self.f,
            kappa: kappa(self.fit.eps),
            n: self.fit.n,
        }
    }
    fn w(&self, j: usize) -> T {
        self.logw
            .get(j)
            .map_or(T::ZERO, |&l| ((l - self.fit.top) - self.fit.log_sum).exp())
    }
    /// Coordinate k of normalised particle i.
    fn zk(&self, k: usize, i: usize) -> T {
        at(self.zr, i * self.fit.d + k)
    }
    /// Coordinate k of ∂L/∂x̃_i.
    fn ybk(&self, k: usize, i: usize) -> T {
        at(self.yb, chunk_major(i, k, self.fit.d))
    }

    /// The explicit part of ∂L/∂x: N·(Pᵀȳ)_j + (1/N)Σ_i ȳ_i(1 − N·r_i), with `colyb`
    /// target-major [c_j, (Pᵀȳ)_j(d)] and `rowsum` target-major with r_i first.
    fn explicit_dx(&self, colyb: &[T], rows: &[T], row_stride: usize, dx: &mut [T]) {
        let (n, d) = (self.fit.n, self.fit.d);
        let nf = T::from_usize(n);
        for (j, o) in rows_mut(dx, d).enumerate() {
            for (k, v) in o.iter_mut().enumerate() {
                *v = nf * at(colyb, j * (1 + d) + 1 + k);
            }
        }
        for k in 0..d {
            let mut mbar = T::ZERO;
            for i in 0..n {
                mbar += self.ybk(k, i) * (T::ONE - nf * at(rows, i * row_stride));
            }
            for o in dx.iter_mut().skip(k).step_by(d) {
                *o += mbar / nf;
            }
        }
    }

    /// Adds ∂L/∂z → ∂L/∂x: dx_k += (1/(εS))[(rowQ_k + colQ_k) z_k − rowQz_k − colQz_k].
    fn add_dz(&self, q: impl Fn(usize) -> (T, T), qz: impl Fn(usize, usize) -> T, dx: &mut [T]) {
        let d = self.fit.d;
        let c = T::ONE / (self.fit.eps * self.fit.scale);
        for (i, o) in rows_mut(dx, d).enumerate() {
            let (rq, cq) = q(i);
            for (k, v) in o.iter_mut().enumerate() {
                *v += c * ((rq + cq) * self.zk(k, i) - qz(i, k));
            }
        }
    }
}

/// ∂L/∂log w from ∂L/∂ℓ (ℓ = normalised): subtract w·Σ.
fn project_logw<T: Real>(b: &Bufs<'_, T>, lbar: impl Fn(usize) -> T, dlogw: &mut [T]) {
    let n = b.fit.n;
    let mut s = T::ZERO;
    for j in 0..n {
        s += lbar(j);
    }
    for (j, o) in dlogw.iter_mut().enumerate() {
        *o = lbar(j) - b.w(j) * s;
    }
}

fn filterflow<T: Real>(
    b: &Bufs<'_, T>,
    common: Common<'_, T>,
    clip: T,
    pool: &mut Pool<'_, T>,
    dx: &mut [T],
    dlogw: &mut [T],
) -> Result<(), Error> {
    let (n, np, d) = (b.fit.n, b.fit.np, b.fit.d);
    let nf = T::from_usize(n);
    let s = b.fit.scale;
    let Common { t, chan, colyb } = common;
    // The clipped bilinear over columns: [ΣΨ/N, ΣΨz/N].
    let colpsi = take(pool, (1 + d) * np)?;
    b.cols().bilinear(b.zc, s, b.yb, b.zc, clip, t, colpsi);
    // ρ_j = colΨ_j / w_j (0 for dead particles), channels [ρ, ρ·z].
    let rho = |j: usize| {
        let w = b.w(j);
        if w > T::ZERO {
            nf * at(colpsi, j * (1 + d)) / w
        } else {
            T::ZERO
        }
    };
    let ch = (np, 1 + d);
    set_channel(chan, ch, 0, n, rho);
    for k in 0..d {
        set_channel(chan, ch, 1 + k, n, |j| rho(j) * b.zk(k, j));
    }
    let rowrho = take(pool, (2 + d) * np)?;
    b.rows().weighted(chan, 1 + d, rowrho);
    let rowpsi = take(pool, (1 + d) * np)?;
    b.rows().bilinear(b.yb, s, b.zc, b.zc, clip, t, rowpsi);
    // F̄_i = rowΨ_i − Σ_j P_ij ρ_j.
    let fbar = take(pool, np)?;
    for (i, fb) in fbar.iter_mut().enumerate() {
        *fb = if i < n {
            nf * at(rowpsi, i * (1 + d)) - at(rowrho, i * (2 + d) + 1)
        } else {
            T::ZERO
        };
    }
    // π_ij = exp(F_i + ℓ_j + β_j − κC_ij), β = b/ε: row pass [π1, πz], column pass
    // [_, ΣF̄π, ΣF̄πz] (targets j get ℓ_j + β_j); kernel units.
    let h = take(pool, np)?;
    for (j, hj) in h.iter_mut().enumerate() {
        *hj = match b.logw.get(j) {
            Some(&l) if j < n => {
                ((l - b.fit.top) - b.fit.log_sum + at(b.b, j) / b.fit.eps) * T::LOG2_E
            }
            _ => T::NEG_INFINITY,
        };
    }
    cloud(b.zr, b.zc, b.fit.d).absorb_sources(h, kappa(b.fit.eps));
    let pi_rows = Side {
        u: b.f,
        v: &*h,
        ..b.rows()
    };
    let pirow = take(pool, (1 + d) * np)?;
    pi_rows.weighted(b.zc, d, pirow);
    set_channel(chan, ch, 0, n, |i| at(fbar, i));
    for k in 0..d {
        set_channel(chan, ch, 1 + k, n, |i| at(fbar, i) * b.zk(k, i));
    }
    let pi_cols = Side {
        u: &*h,
        v: b.f,
        ..b.rows()
    };
    let picol = take(pool, (2 + d) * np)?;
    pi_cols.weighted(chan, 1 + d, picol);
    // Column pass over P with z for ρ_k Σ_l P_lk z_l.
    let colz = take(pool, (1 + d) * np)?;
    b.cols().weighted(b.zc, d, colz);
    // Assemble. Row sums of P for the mean term come from `rowrho` (first value).
    b.explicit_dx(colyb, rowrho, 2 + d, dx);
    let q = |i: usize| {
        let fb = at(fbar, i);
        let rq = fb * (at(pirow, i * (1 + d)) - T::ONE);
        let cq = -nf * at(colpsi, i * (1 + d))
            + rho(i) * at(colyb, i * (1 + d))
            + at(picol, i * (2 + d) + 1);
        (rq, cq)
    };
    let qz = |i: usize, k: usize| {
        let rqz = -nf * at(rowpsi, i * (1 + d) + 1 + k)
            + at(rowrho, i * (2 + d) + 2 + k)
            + at(fbar, i) * at(pirow, i * (1 + d) + 1 + k);
        let cqz = -nf * at(colpsi, i * (1 + d) + 1 + k)
            + rho(i) * at(colz, i * (1 + d) + 1 + k)
            + at(picol, i * (2 + d) + 2 + k);
        rqz + cqz
    };
    b.add_dz(q, qz, dx);
    // ∂L/∂ℓ_j = colΨ_j − Σ_i F̄_i π_ij.
    project_logw(
        b,
        |j| nf * at(colpsi, j * (1 + d)) - at(picol, j * (2 + d) + 1),
        dlogw,
    );
    Ok(())
}

/// μ = H⁺·rhs on the plan of `b` (2·np vectors: rows, then columns), by the shared
/// adjoint solve. Every row is live (weights 1/N); a column is live if its weight is
/// positive. The masses are read from a row and a column pass the caller made
/// (`passes`: their target-major outputs and values per target, the mass first).
fn adjoint<T: Real>(
    b: &Bufs<'_, T>,
    passes: (&[T], &[T], usize),
    rhs: &[T],
    mu: &mut [T],
    cg: &Cg<T>,
    pool: &mut Pool<'_, T>,
) -> Result<CgReport<T>, Error> {
    let (n, np) = (b.fit.n, b.fit.np);
    let (row_pass, col_pass, stride) = passes;
    let masses = take(pool, 2 * np)?;
    // Both halves are np long: halving the length (rather than splitting at np) has
    // no out-of-range branch (no-panic proof).
    let (r, c) = masses.split_at_mut(masses.len() / 2);
    for (i, (ri, ci)) in r.iter_mut().zip(c.iter_mut()).enumerate().take(n) {
        *ri = at(row_pass, i * stride);
        *ci = at(col_pass, i * stride);
    }
    let tmp = take(pool, 2 * np)?;
    let apply = |product: Product, v: &[T], out: &mut [T]| {
        let side = match product {
            Product::P => b.rows(),
            Product::Pt => b.cols(),
        };
        side.weighted(v, 1, tmp);
        for (i, o) in out.iter_mut().enumerate() {
            *o = if i < n { at(tmp, 2 * i + 1) } else { T::ZERO };
        }
        Ok(())
    };
    let live = |k: usize| {
        if k < np {
            k < n
        } else {
            k - np < n && b.w(k - np) > T::ZERO
        }
    };
    let sys = System {
        r: &*r,
        c: &*c,
        apply,
    };
    adjoint::solve(sys, live, rhs, mu, cg, pool)
}

fn implicit<T: Real>(
    b: &Bufs<'_, T>,
    common: Common<'_, T>,
    cg: &Cg<T>,
    pool: &mut Pool<'_, T>,
    dx: &mut [T],
    dlogw: &mut [T],
) -> Result<CgReport<T>, Error> {
    let (n, np, d) = (b.fit.n, b.fit.np, b.fit.d);
    let nf = T::from_usize(n);
    let s = b.fit.scale;
    let Common { t, chan, colyb } = common;
    // Row pass: [r_i, (Pz)_i].
    let rowz = take(pool, (1 + d) * np)?;
    b.rows().weighted(b.zc, d, rowz);
    // Right-hand side: Σ_j Γ_ij = N S ȳ_i·(Pz)_i, Σ_i Γ_ij = N S z_j·(Pᵀȳ)_j.
    let rhs = take(pool, 2 * np)?;
    rhs.fill(T::ZERO);
    for i in 0..n {
        let mut rg = T::ZERO;
        let mut cg = T::ZERO;
        for k in 0..d {
            rg += b.ybk(k, i) * at(rowz, i * (1 + d) + 1 + k);
            cg += b.zk(k, i) * at(colyb, i * (1 + d) + 1 + k);
        }
        if let Some(r) = rhs.get_mut(i) {
            *r = nf * s * rg;
        }
        if let Some(r) = rhs.get_mut(np + i) {
            *r = nf * s * cg;
        }
    }
    let mu = take(pool, 2 * np)?;
    let report = adjoint(b, (rowz, colyb, 1 + d), rhs, mu, cg, pool)?;
    // np each (halving: see `adjoint`).
    let (mu1, mu2) = mu.split_at(mu.len() / 2);
    // Row pass with [μ', μ'z]; column pass with [μ, μz, z]; the two bilinears.
    let ch = (np, 1 + d);
    set_channel(chan, ch, 0, n, |j| at(mu2, j));
    for k in 0..d {
        set_channel(chan, ch, 1 + k, n, |j| at(mu2, j) * b.zk(k, j));
    }
    let row2 = take(pool, (2 + d) * np)?;
    b.rows().weighted(chan, 1 + d, row2);
    let ch = (np, 1 + 2 * d);
    set_channel(chan, ch, 0, n, |j| at(mu1, j));
    for k in 0..d {
        set_channel(chan, ch, 1 + k, n, |j| at(mu1, j) * b.zk(k, j));
        set_channel(chan, ch, 1 + d + k, n, |j| b.zk(k, j));
    }
    let col2 = take(pool, (2 + 2 * d) * np)?;
    b.cols().weighted(chan, 1 + 2 * d, col2);
    let rowbil = take(pool, (1 + d) * np)?;
    b.rows()
        .bilinear(b.yb, T::ONE, b.zc, b.zc, T::INFINITY, t, rowbil);
    let colbil = take(pool, (1 + d) * np)?;
    b.cols()
        .bilinear(b.zc, T::ONE, b.yb, b.zc, T::INFINITY, t, colbil);
    b.explicit_dx(colyb, rowz, 1 + d, dx);
    let q = |i: usize| {
        let (m1, m2) = (at(mu1, i), at(mu2, i));
        let mut yr = T::ZERO;
        let mut zc = T::ZERO;
        for k in 0..d {
            yr += b.ybk(k, i) * at(rowz, i * (1 + d) + 1 + k);
            zc += b.zk(k, i) * at(colyb, i * (1 + d) + 1 + k);
        }
        let rq = -nf * s * yr + m1 * at(rowz, i * (1 + d)) + at(row2, i * (2 + d) + 1);
        let cq = -nf * s * zc + at(col2, i * (2 + 2 * d) + 1) + m2 * at(colyb, i * (1 + d));
        (rq, cq)
    };
    let qz = |i: usize, k: usize| {
        let (m1, m2) = (at(mu1, i), at(mu2, i));
        let rqz = -nf * s * at(rowbil, i * (1 + d) + 1 + k)
            + m1 * at(rowz, i * (1 + d) + 1 + k)
            + at(row2, i * (2 + d) + 2 + k);
        let cqz = -nf * s * at(colbil, i * (1 + d) + 1 + k)
            + at(col2, i * (2 + 2 * d) + 2 + k)
            + m2 * at(col2, i * (2 + 2 * d) + 2 + d + k);
        rqz + cqz
    };
    b.add_dz(q, qz, dx);
    // ∂L/∂ℓ_j = w_j μ'_j (then the softmax projection).
    project_logw(b, |j| b.w(j) * at(mu2, j), dlogw);
    Ok(report)
}
