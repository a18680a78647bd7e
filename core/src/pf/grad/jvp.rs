//! Jacobian–vector products of OT resampling (forward mode), exact for the converged
//! map by implicit differentiation, on the adjoint solve the VJP uses.
//!
//! With x̃_i = m + N·S·Σ_j P_ij z_j (parent module's notation; S held constant) and a
//! tangent (ẋ, l̇): ṁ = mean(ẋ), ż = (ẋ − ṁ)/S, ℓ̇ = l̇ − Σ_k w_k l̇_k, and the cost
//! C_ij = ‖z_i − z_j‖² moves by Ċ_ij = 2(z_i − z_j)·(ż_i − ż_j). The plan moves by
//! Ṗ_ij = P_ij (φ_i + ψ_j − κĊ_ij), κ = 1/(2ε), where (φ, ψ) keeps both marginals:
//!
//! ```text
//! H (φ, ψ) = (κ·(P⊙Ċ)·1, κ·(P⊙Ċ)ᵀ·1 + w⊙ℓ̇),   H = [[diag(P1), P], [Pᵀ, diag(Pᵀ1)]],
//! ẋ̃_i = ṁ + N·S·[(Pż)_i + φ_i (Pz)_i + (P(ψz))_i − κ Σ_j P_ij Ċ_ij z_j],
//! ```
//!
//! every sum over j a kernel pass with weight channels (the Ċ terms expand into the
//! fields ż, z, z·ż, (z·ż)z and two bilinear passes). Cost per tangent direction:
//! 8 + 2k kernel passes for k conjugate-gradient iterations, after one forward solve
//! shared by all directions.

use crate::buf::{copy, rows_mut, take};
use crate::error::Error;
use crate::kernel::{chunk_major, padded};
use crate::ot::adjoint::{set_channel, Cg};
use crate::parallel::Serial;
use crate::real::Real;

use super::super::ot_resample::{check_cloud, fit, split, transport, OtConfig};
use super::{adjoint, at, Bufs, Pool};

/// What a JVP did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct JvpReport<T> {
    /// How the forward solve ended (see [`OtReport::status`](crate::pf::OtReport)).
    pub forward_status: crate::ot::Status,
    /// The forward solve's iterations.
    pub forward_iterations: u32,
    /// The most conjugate-gradient iterations any direction took.
    pub cg_iterations: u32,
    /// The largest final relative CG residual over the directions.
    pub cg_residual: T,
    /// The forward solve's full report (as [`ot_resample`](fn@crate::pf::ot_resample)'s).
    pub forward: crate::pf::OtReport<T>,
}

/// Workspace elements [`ot_resample_jvp`] needs for N particles in dimension d and
/// `dirs` tangent directions: [`ot_workspace_len`](crate::pf::ot_workspace_len)`(N,
/// d) + N·d·(1 + dirs) + (13·d + 20)·N̂ + 2·d`, N̂ = N rounded up to the kernel width.
/// The N·d·(1 + dirs) hold the results until all are known to be finite.
#[must_use]
pub const fn jvp_workspace_len(n: usize, d: usize, dirs: usize) -> usize {
    crate::pf::ot_workspace_len(n, d)
        .saturating_add(n.saturating_mul(d).saturating_mul(dirs.saturating_add(1)))
        .saturating_add(padded(n).saturating_mul(d.saturating_mul(13).saturating_add(20)))
        .saturating_add(d.saturating_mul(2))
}

/// OT resampling and its Jacobian–vector products: writes x̃ (N×d) to `x_out`, as
/// [`ot_resample`](fn@crate::pf::ot_resample) does (same bits), and for each of the
/// `dirs` tangent directions (ẋ: N×d in `x_dot`, l̇: N in `logw_dot`, directions
/// stacked) the tangent of x̃ into `x_out_dot` (dirs·N·d). Log-weights are
/// unnormalised (a common shift of l̇ does nothing); the normalisation scale S is a
/// constant (freeze it with [`OtConfig::scale`] to compare with finite differences).
/// Exact for the converged map: use a small forward tolerance. Workspace
/// [`jvp_workspace_len`]`(N, d, dirs)`.
///
/// # Errors
/// As [`ot_resample`](fn@crate::pf::ot_resample); `EmptyInput` for no direction;
/// `LengthMismatch` for the tangents or outputs (`x_dot`: dirs·N·d with dirs =
/// `logw_dot.len() / N`); `NonFiniteInput` for a NaN/∞ tangent; `InvalidParameter`
/// for a CG tolerance that is not finite and positive; `NonFinite` on overflow.
/// Nothing is written on error.
///
/// # Panics
/// Never.
#[allow(clippy::too_many_arguments)]
pub fn ot_resample_jvp<T: Real>(
    x: &[T],
    logw: &[T],
    d: usize,
    cfg: &OtConfig<T>,
    cg: &Cg<T>,
    (x_dot, logw_dot): (&[T], &[T]),
    (x_out, x_out_dot): (&mut [T], &mut [T]),
    ws: &mut [T],
) -> Result<JvpReport<T>, Error> {
    check_cloud(x, logw, d)?;
    cfg.check()?;
    cg.check()?;
    let n = logw.len();
    // n ≥ 1 (checked above); `checked_div` only keeps a panic branch out.
    let dirs = logw_dot.len().checked_div(n).unwrap_or(0);
    if dirs == 0 {
        return Err(Error::EmptyInput);
    }
    let nd = n * d;
    if logw_dot.len() != dirs * n
        || Some(x_dot.len()) != nd.checked_mul(dirs)
        || x_out.len() != nd
        || x_out_dot.len() != x_dot.len()
    {
        return Err(Error::LengthMismatch);
    }
    if x_dot.iter().chain(logw_dot).any(|v| !v.is_finite()) {
        return Err(Error::NonFiniteInput);
    }
    if ws.len() < jvp_workspace_len(n, d, dirs) {
        return Err(Error::WorkspaceTooSmall);
    }
    let (mut w, rest) = split(ws, n, d)?;
    let fitted = fit(x, logw, d, cfg, &mut w)?;
    let np = fitted.np;
    let mut pool: Pool<'_, T> = rest;
    let xo = take(&mut pool, nd)?;
    transport(&Serial, x, logw, &fitted, &mut w, xo)?;
    let xod = take(&mut pool, nd * dirs)?;
    let mut tan = Tangent {
        zd: take(&mut pool, d * np)?,
        chan: take(&mut pool, (3 * d + 1) * np)?,
        rowa: take(&mut pool, (3 * d + 2) * np)?,
        cola: take(&mut pool, (3 * d + 2) * np)?,
        b1: take(&mut pool, (d + 1) * np)?,
        b2: take(&mut pool, (d + 1) * np)?,
        rowc: take(&mut pool, (d + 1) * np)?,
        rhs: take(&mut pool, 2 * np)?,
        mu: take(&mut pool, 2 * np)?,
        t: take(&mut pool, d)?,
        mdot: take(&mut pool, d)?,
    };
    let b = Bufs::of_plan(w, logw, fitted, &[])?;
    let (mut its, mut resid) = (0, T::ZERO);
    for dir in 0..dirs {
        // Indexed rather than zipped chunks: a zip of three `chunks_exact` iterators
        // is not inlined on Cortex-M and keeps a division-by-zero branch.
        let (Some(xd), Some(ld), Some(out)) = (
            x_dot.get(dir * nd..(dir + 1) * nd),
            logw_dot.get(dir * n..(dir + 1) * n),
            xod.get_mut(dir * nd..(dir + 1) * nd),
        ) else {
            return Err(Error::LengthMismatch);
        };
        // Each direction's adjoint solve reuses the same scratch.
        let mut scratch: Pool<'_, T> = &mut *pool;
        let r = tan.direction(&b, cg, (xd, ld), &mut scratch, out)?;
        its = its.max(r.iterations);
        resid = resid.max_fast(r.residual);
    }
    if xo.iter().chain(xod.iter()).any(|v| !v.is_finite()) {
        return Err(Error::NonFinite);
    }
    copy(x_out, xo);
    copy(x_out_dot, xod);
    Ok(JvpReport {
        forward_status: b.fit.report.status,
        forward_iterations: b.fit.report.iterations,
        cg_iterations: its,
        cg_residual: resid,
        forward: b.fit.report,
    })
}

/// Per-direction buffers.
struct Tangent<'w, T> {
    /// ż, chunk-major.
    zd: &'w mut [T],
    /// Source channels, chunk-major: [ż, z, z·ż, (z·ż)z], then [ψz].
    chan: &'w mut [T],
    /// Row and column passes over `chan`, target-major [ΣP, then one per channel].
    rowa: &'w mut [T],
    cola: &'w mut [T],
    /// Σ_j P_ij (z_i·ż_j) z_j and Σ_j P_ij (ż_i·z_j) z_j, target-major after a sum.
    b1: &'w mut [T],
    b2: &'w mut [T],
    /// Row pass over [ψz].
    rowc: &'w mut [T],
    /// The adjoint system's right-hand side and solution (φ, ψ).
    rhs: &'w mut [T],
    mu: &'w mut [T],
    /// Bilinear scratch, d.
    t: &'w mut [T],
    /// ṁ, d.
    mdot: &'w mut [T],
}

impl<T: Real> Tangent<'_, T> {
    /// One direction's tangent of x̃ into `out` (N×d).
    fn direction(
        &mut self,
        b: &Bufs<'_, T>,
        cg: &Cg<T>,
        (xd, ld): (&[T], &[T]),
        pool: &mut Pool<'_, T>,
        out: &mut [T],
    ) -> Result<crate::ot::CgReport<T>, Error> {
        let (n, np, d) = (b.fit.n, b.fit.np, b.fit.d);
        let (nf, s, eps) = (T::from_usize(n), b.fit.scale, b.fit.eps);
        let inv_eps = T::ONE / eps;
        // ṁ, ż = (ẋ − ṁ)/S.
        for (k, m) in self.mdot.iter_mut().enumerate() {
            let mut acc = T::ZERO;
            for i in 0..n {
                acc += at(xd, i * d + k);
            }
            *m = acc / nf;
        }
        for k in 0..d {
            let mk = at(self.mdot, k);
            set_channel(self.zd, (np, d), k, n, |i| (at(xd, i * d + k) - mk) / s);
        }
        let zdk = |zd: &[T], k: usize, i: usize| at(zd, chunk_major(i, k, d));
        let sdot = |zd: &[T], i: usize| {
            let mut v = T::ZERO;
            for k in 0..d {
                v += b.zk(k, i) * zdk(zd, k, i);
            }
            v
        };
        let nch = 3 * d + 1;
        let zd = &*self.zd;
        for k in 0..d {
            set_channel(self.chan, (np, nch), k, n, |j| zdk(zd, k, j));
            set_channel(self.chan, (np, nch), d + k, n, |j| b.zk(k, j));
            set_channel(self.chan, (np, nch), 2 * d + 1 + k, n, |j| {
                sdot(zd, j) * b.zk(k, j)
            });
        }
        set_channel(self.chan, (np, nch), 2 * d, n, |j| sdot(zd, j));
        b.rows().weighted(self.chan, nch, self.rowa);
        b.cols().weighted(self.chan, nch, self.cola);
        let t = &mut *self.t;
        b.rows()
            .bilinear(b.zc, T::ONE, zd, b.zc, T::INFINITY, t, self.b1);
        b.rows()
            .bilinear(zd, T::ONE, b.zc, b.zc, T::INFINITY, t, self.b2);
        // Σ_j P_ij Ċ_ij from a target-major pass over `chan` (2·[r z·ż − z·Pż − ż·Pz
        // + P(z·ż)]).
        let cdot = |pass: &[T], i: usize| {
            let base = i * (nch + 1);
            let mut v = at(pass, base) * sdot(zd, i) + at(pass, base + 1 + 2 * d);
            for k in 0..d {
                v -= b.zk(k, i) * at(pass, base + 1 + k)
                    + zdk(zd, k, i) * at(pass, base + 1 + d + k);
            }
            v + v
        };
        // The weighted mean of l̇ (log-weights are unnormalised).
        let mut lbar = T::ZERO;
        for j in 0..n {
            lbar += b.w(j) * at(ld, j);
        }
        let kappa = T::HALF * inv_eps;
        let (rr, rc) = self.rhs.split_at_mut(self.rhs.len() / 2);
        for (i, r) in rr.iter_mut().enumerate() {
            *r = if i < n {
                kappa * cdot(self.rowa, i)
            } else {
                T::ZERO
            };
        }
        for (j, r) in rc.iter_mut().enumerate() {
            *r = if j < n {
                kappa * cdot(self.cola, j) + b.w(j) * (at(ld, j) - lbar)
            } else {
                T::ZERO
            };
        }
        let passes = (&*self.rowa, &*self.cola, nch + 1);
        let report = adjoint(b, passes, self.rhs, self.mu, cg, pool)?;
        let (phi, psi) = self.mu.split_at(self.mu.len() / 2);
        for k in 0..d {
            set_channel(self.chan, (np, d), k, n, |j| at(psi, j) * b.zk(k, j));
        }
        b.rows().weighted(self.chan, d, self.rowc);
        let mdot = &*self.mdot;
        for (i, o) in rows_mut(out, d).enumerate() {
            let (ra, rb) = (i * (nch + 1), i * (d + 1));
            let (ph, szz) = (at(phi, i), sdot(zd, i));
            for (k, v) in o.iter_mut().enumerate() {
                let pz = at(self.rowa, ra + 1 + d + k);
                let curv = szz * pz - at(self.b1, rb + 1 + k) - at(self.b2, rb + 1 + k)
                    + at(self.rowa, ra + 2 + 2 * d + k);
                let inner = at(self.rowa, ra + 1 + k) + ph * pz + at(self.rowc, rb + 1 + k)
                    - inv_eps * curv;
                *v = at(mdot, k) + nf * s * inner;
            }
        }
        Ok(report)
    }
}
