//! Vector–Jacobian products of a balanced plan's outputs by implicit differentiation:
//! the barycentric map T and the potentials f, g, with respect to the points x, y and
//! the weights a, b.
//!
//! The potentials solve the marginal equations; their derivatives come from the
//! adjoint system of [`adjoint`](super::adjoint) (μ = H⁺·(f̄, ḡ), conjugate gradient,
//! two kernel passes per iteration), after which ā = ε μ_rows, b̄ = ε μ_cols and
//! the cost gets C̄_ij = (μ_i + μ'_j)·P_ij, i.e. for C = s‖x − y‖²
//!
//! ```text
//! x̄_i = 2s Σ_j (μ_i + μ'_j) P_ij (x_i − y_j),   ȳ_j = 2s Σ_i (μ_i + μ'_j) P_ij (y_j − x_i).
//! ```
//!
//! T_i = Σ_j P_ij y_j / Σ_j P_ij depends on g and on the points directly:
//! ∂T_i/∂x_i = (2s/ε)·Cov_i (the covariance of y under row i of the plan), and
//! ∂T_i/∂g_j, ∂T_i/∂y_j through the row-normalised plan P̃_ij = P_ij / Σ_k P_ik,
//! computed with the soft c-transform of g so that zero-weight rows have a map too.
//!
//! Exact only at a solution: the equations are those of hard marginals, so the plan
//! must come from a balanced solve that converged (the report gives the plan's
//! marginal error; with a relaxed marginal it is not the derivative of that solve).
//! Potentials are defined up to (f + k, g − k): the potentials' VJP is that of the
//! gauge in which Σ_i f_i − Σ_j g_j (live points) stays fixed, exact for any loss
//! invariant to the shift, and the weight gradients are the ones orthogonal to it.
//! Zero-weight points get 0 weight gradients, and their f̄ (ḡ) is ignored.

use crate::buf::{self, copy, rows_mut, take};
use crate::dispatch::dispatch;
use crate::error::Error;
use crate::kernel::{chunk_major, masked, shifted, Bilinear, CostSource, Tuned, Weighted};
use crate::real::Real;

use super::adjoint::{self, cg_workspace_len, set_channel, Cg, CgReport, Product, System};
use super::divergence::{check_outputs, publish, Gradient};
use super::plan::{reduce_weighted, Plan};
use super::problem::{check_finite, Cost};
use super::workspace::{cost_scale, padded_sat, with_sources, workspace_len};
use crate::parallel::Serial;

/// What an implicit VJP did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ImplicitReport<T> {
    /// The adjoint solve.
    pub cg: CgReport<T>,
    /// The plan's L1 marginal violation Σ|P1 − a| + Σ|Pᵀ1 − b| (mass units): the VJP is
    /// that of a solution only as far as this is small.
    pub marginal_error: T,
}

/// Workspace elements [`Plan::barycentric_vjp`] and [`Plan::potentials_vjp`] need:
/// [`workspace_len`]`(n, m, d)` + `(d + 1)·(n + m + n̂) + 6·(n̂ + m̂) + (2d + 1)·max(n̂, m̂)
/// + 2d + 2`, with n̂, m̂ = n, m rounded up to a multiple of
/// [`LANES`](crate::kernel::LANES). Saturates at `usize::MAX` on overflow.
#[must_use]
pub const fn implicit_workspace_len(n: usize, m: usize, dim: usize) -> usize {
    let (np, mp) = (padded_sat(n), padded_sat(m));
    let big = if np > mp { np } else { mp };
    let d1 = dim.saturating_add(1);
    workspace_len(n, m, dim)
        .saturating_add(d1.saturating_mul(n.saturating_add(m).saturating_add(np)))
        .saturating_add(np.saturating_add(mp).saturating_mul(3))
        .saturating_add(cg_workspace_len(np.saturating_add(mp)))
        .saturating_add(dim.saturating_mul(2).saturating_add(1).saturating_mul(big))
        .saturating_add(dim.saturating_mul(2).saturating_add(2))
}

impl<T: Real> Plan<'_, T> {
    /// The VJP of the barycentric map: given `tbar` = ∂L/∂T (n×d row-major, T as
    /// [`Plan::barycentric`] returns it), writes ∂L/∂x, ∂L/∂y, ∂L/∂a, ∂L/∂b into `out`
    /// (module docs: exact at a converged balanced solution). Cost: 10 + 2k streamed
    /// passes for k conjugate-gradient iterations; memory
    /// [`implicit_workspace_len`]`(n, m, d)`, never n×m.
    ///
    /// # Errors
    /// Nothing is written on error. [`Error::NeedsPointClouds`] for a dense cost;
    /// [`Error::LengthMismatch`] for `tbar` or the outputs; [`Error::NonFiniteInput`]
    /// for a NaN/∞ in `tbar`; [`Error::InvalidParameter`] for a CG tolerance that is
    /// not finite and positive; [`Error::NonFinite`] if a gradient or the plan's
    /// marginals overflow; otherwise those of [`Plan::apply`].
    pub fn barycentric_vjp(
        &self,
        tbar: &[T],
        cg: &Cg<T>,
        out: Gradient<'_, T>,
        ws: &mut [T],
    ) -> Result<ImplicitReport<T>, Error> {
        self.implicit_vjp(Cotangent::Map(tbar), cg, out, ws)
    }

    /// The VJP of the potentials: given `fbar` = ∂L/∂f (n) and `gbar` = ∂L/∂g (m),
    /// cost units, writes ∂L/∂x, ∂L/∂y, ∂L/∂a, ∂L/∂b into `out` (module docs: the
    /// gauge, exact at a converged balanced solution). Cost: 6 + 2k streamed passes;
    /// memory [`implicit_workspace_len`]`(n, m, d)`.
    ///
    /// # Errors
    /// As [`Plan::barycentric_vjp`], for `fbar` and `gbar`.
    pub fn potentials_vjp(
        &self,
        fbar: &[T],
        gbar: &[T],
        cg: &Cg<T>,
        out: Gradient<'_, T>,
        ws: &mut [T],
    ) -> Result<ImplicitReport<T>, Error> {
        self.implicit_vjp(Cotangent::Potentials(fbar, gbar), cg, out, ws)
    }

    fn implicit_vjp(
        &self,
        bar: Cotangent<'_, T>,
        cg: &Cg<T>,
        out: Gradient<'_, T>,
        ws: &mut [T],
    ) -> Result<ImplicitReport<T>, Error> {
        let Cost::SqEuclidean { dim, scale, .. } = self.problem.cost else {
            return Err(Error::NeedsPointClouds);
        };
        cg.check()?;
        let (n, m) = (self.problem.n(), self.problem.m());
        check_outputs(&out, n, m, dim)?;
        match bar {
            Cotangent::Map(tbar) => {
                if Some(tbar.len()) != n.checked_mul(dim) {
                    return Err(Error::LengthMismatch);
                }
                check_finite(tbar)?;
            }
            Cotangent::Potentials(fbar, gbar) => {
                if fbar.len() != n || gbar.len() != m {
                    return Err(Error::LengthMismatch);
                }
                check_finite(fbar)?;
                check_finite(gbar)?;
            }
        }
        if ws.len() < implicit_workspace_len(n, m, dim) {
            return Err(Error::WorkspaceTooSmall);
        }
        let (mut extra, base) = ws
            .split_at_mut_checked(implicit_workspace_len(n, m, dim) - workspace_len(n, m, dim))
            .ok_or(Error::WorkspaceTooSmall)?;
        let (chk, lay) = self.prepare(base)?;
        let (np, mp) = (lay.np, lay.mp);
        let st_x = take(&mut extra, n * (dim + 1))?;
        let st_y = take(&mut extra, m * (dim + 1))?;
        let bufs = Bufs {
            sums: take(&mut extra, np + mp)?,
            rhs: take(&mut extra, np + mp)?,
            mu: take(&mut extra, np + mp)?,
            ft: take(&mut extra, np)?,
            tb: take(&mut extra, dim * np)?,
            chan: take(&mut extra, (2 * dim + 1) * np.max(mp))?,
            tmp: take(&mut extra, 2 * dim + 2)?,
            pool: extra,
        };
        let (_, kappa) = cost_scale(&self.problem, self.epsilon);
        let ctx = Ctx {
            plan: self,
            n,
            m,
            np,
            mp,
            d: dim,
            two_s: scale + scale,
            kappa,
            xs: &*lay.xs,
            ys: &*lay.ys,
            u: &*lay.u,
            v: &*lay.v,
        };
        let (xs, ys) = (&*lay.xs, &*lay.ys);
        let report = with_sources!(self.problem.cost, xs, ys, chk.m, |rows, cols| {
            ctx.run(&rows, &cols, bar, cg, bufs, (&mut *st_x, &mut *st_y))
        })?;
        publish(out, st_x, st_y, n, m, dim)?;
        Ok(report)
    }
}

/// What is differentiated.
#[derive(Clone, Copy)]
enum Cotangent<'c, T> {
    /// ∂L/∂T, n×d.
    Map(&'c [T]),
    /// ∂L/∂f, ∂L/∂g.
    Potentials(&'c [T], &'c [T]),
}

/// The plan as loaded by `Plan::prepare`, and its sizes.
struct Ctx<'p, 'a, T> {
    plan: &'p Plan<'a, T>,
    n: usize,
    m: usize,
    np: usize,
    mp: usize,
    d: usize,
    two_s: T,
    kappa: T,
    /// x and y relative to x's first point, chunk-major.
    xs: &'p [T],
    ys: &'p [T],
    /// Row and column potentials, kernel units, absorbed (masked at zero weights).
    u: &'p [T],
    v: &'p [T],
}

/// Workspace parts.
struct Bufs<'w, T> {
    /// Row sums (np), then column sums (mp) of P.
    sums: &'w mut [T],
    /// The adjoint system's right-hand side and solution, rows then columns.
    rhs: &'w mut [T],
    mu: &'w mut [T],
    /// The soft c-transform of g, kernel units, absorbed.
    ft: &'w mut [T],
    /// ∂L/∂T, chunk-major.
    tb: &'w mut [T],
    /// Source channels, chunk-major, up to 2d + 1 of them.
    chan: &'w mut [T],
    /// Per-target totals, 2d + 2.
    tmp: &'w mut [T],
    /// The conjugate gradient's vectors.
    pool: &'w mut [T],
}

fn at<T: Real>(v: &[T], i: usize) -> T {
    v.get(i).copied().unwrap_or(T::ZERO)
}

impl<T: Real> Ctx<'_, '_, T> {
    /// Coordinate k of point i of a chunk-major field (x or y, relative).
    fn coord(&self, field: &[T], i: usize, k: usize) -> T {
        at(field, chunk_major(i, k, self.d))
    }

    #[allow(clippy::too_many_arguments)]
    fn run<R: CostSource<T>, C: CostSource<T>>(
        &self,
        rows: &R,
        cols: &C,
        bar: Cotangent<'_, T>,
        cg: &Cg<T>,
        b: Bufs<'_, T>,
        (st_x, st_y): (&mut [T], &mut [T]),
    ) -> Result<ImplicitReport<T>, Error> {
        let (n, m, np, d) = (self.n, self.m, self.np, self.d);
        let Bufs {
            sums,
            rhs,
            mu,
            ft,
            tb,
            chan,
            tmp,
            mut pool,
        } = b;
        let (gx, ga) = st_x
            .split_at_mut_checked(n * d)
            .ok_or(Error::WorkspaceTooSmall)?;
        let (gy, gb) = st_y
            .split_at_mut_checked(m * d)
            .ok_or(Error::WorkspaceTooSmall)?;
        // Marginals of P.
        let (r, c) = sums
            .split_at_mut_checked(np)
            .ok_or(Error::WorkspaceTooSmall)?;
        dispatch!(|isa| marginal(&Tuned::new(rows, isa), self.u, self.v, self.kappa, r));
        dispatch!(|isa| marginal(&Tuned::new(cols, isa), self.v, self.u, self.kappa, c));
        let (a, bw) = (self.plan.problem.a, self.plan.problem.b);
        let mut marginal_error = T::ZERO;
        for (&ri, &ai) in r.iter().zip(a) {
            marginal_error += (ri - ai).abs();
        }
        for (&cj, &bj) in c.iter().zip(bw) {
            marginal_error += (cj - bj).abs();
        }
        if !marginal_error.is_finite() {
            return Err(Error::NonFinite);
        }
        rhs.fill(T::ZERO);
        gx.fill(T::ZERO);
        gy.fill(T::ZERO);
        match bar {
            Cotangent::Map(tbar) => {
                let (_, rc) = rhs
                    .split_at_mut_checked(np)
                    .ok_or(Error::WorkspaceTooSmall)?;
                let bufs = (&mut *ft, &mut *tb, &mut *chan, &mut *tmp);
                dispatch!(|isa| {
                    let (rows, cols) = (&Tuned::new(rows, isa), &Tuned::new(cols, isa));
                    self.map_explicit(rows, cols, tbar, bufs, gx, gy, rc)
                })?;
            }
            Cotangent::Potentials(fbar, gbar) => {
                let (rr, rc) = rhs
                    .split_at_mut_checked(np)
                    .ok_or(Error::WorkspaceTooSmall)?;
                copy(rr, fbar);
                copy(rc, gbar);
            }
        }
        // μ = H⁺·rhs.
        let apply = |product: Product, vec: &[T], out: &mut [T]| match product {
            Product::P => reduce_weighted(&Serial, rows, self.u, self.v, self.kappa, vec, out),
            Product::Pt => reduce_weighted(&Serial, cols, self.v, self.u, self.kappa, vec, out),
        };
        let live = |k: usize| {
            if k < np {
                a.get(k).is_some_and(|&w| w > T::ZERO)
            } else {
                bw.get(k - np).is_some_and(|&w| w > T::ZERO)
            }
        };
        let sys = System {
            r: &*r,
            c: &*c,
            apply,
        };
        let report = adjoint::solve(sys, live, rhs, mu, cg, &mut pool)?;
        let (mr, mc) = mu.split_at_checked(np).ok_or(Error::WorkspaceTooSmall)?;
        let eps = self.plan.epsilon;
        for (o, &v) in ga.iter_mut().zip(mr) {
            *o = eps * v;
        }
        for (o, &v) in gb.iter_mut().zip(mc) {
            *o = eps * v;
        }
        let scratch = (&mut *chan, &mut *tmp);
        let (sx, sy) = ((self.ys, self.xs), (self.xs, self.ys));
        dispatch!(|isa| {
            let pots = (self.u, self.v);
            let rows = &Tuned::new(rows, isa);
            self.cost_adjoint(rows, pots, (mr, mc), sx, (m, self.mp), scratch, gx)
        })?;
        let scratch = (&mut *chan, &mut *tmp);
        dispatch!(|isa| {
            let pots = (self.v, self.u);
            let cols = &Tuned::new(cols, isa);
            self.cost_adjoint(cols, pots, (mc, mr), sy, (n, np), scratch, gy)
        })?;
        Ok(ImplicitReport {
            cg: report,
            marginal_error,
        })
    }

    /// The explicit part of the map's VJP: ∂L/∂x into `gx`, the direct ∂L/∂y into `gy`
    /// and ∂L/∂g (the adjoint's column right-hand side) into `rc`.
    #[allow(clippy::too_many_arguments)]
    fn map_explicit<R: CostSource<T>, C: CostSource<T>>(
        &self,
        rows: &R,
        cols: &C,
        tbar: &[T],
        (ft, tb, chan, tmp): (&mut [T], &mut [T], &mut [T], &mut [T]),
        gx: &mut [T],
        gy: &mut [T],
        rc: &mut [T],
    ) -> Result<(), Error> {
        let (n, np, d) = (self.n, self.np, self.d);
        let (eps, kappa) = (self.plan.epsilon, self.kappa);
        let nch = 2 * d + 1;
        chan.fill(T::ZERO);
        for k in 0..d {
            set_channel(tb, (np, d), k, n, |i| at(tbar, i * d + k));
        }
        let (tot, rest) = tmp
            .split_at_mut_checked(d)
            .ok_or(Error::WorkspaceTooSmall)?;
        // Rows: T_i, the c-transform, Cov_i·T̄_i; channels [T̄, T̄·T, (T̄·T) x].
        for (i, (ti, gxi)) in buf::rows(tbar, d).zip(rows_mut(gx, d)).enumerate() {
            let u0 = rows.absorb_target(i, T::ZERO, kappa);
            let mut red = Weighted {
                w: self.ys,
                out: &mut *tot,
            };
            let (shift, total) = shifted(rows, i, u0, self.v, kappa, &mut red);
            if let Some(f) = ft.get_mut(i) {
                *f = -(shift.ln() + total.ln()) * T::LOG2_E;
            }
            let mut gamma = T::ZERO;
            for (t, &tk) in tot.iter_mut().zip(ti) {
                *t = *t / total;
                gamma += tk * *t;
            }
            let out = rest.get_mut(..1 + d).ok_or(Error::WorkspaceTooSmall)?;
            let mut red = Bilinear {
                t: ti,
                a: self.ys,
                b: self.ys,
                clip: T::INFINITY,
                out,
            };
            let (_, total2) = shifted(rows, i, u0, self.v, kappa, &mut red);
            let scale = self.two_s / eps;
            for ((g, &t), &second) in gxi.iter_mut().zip(&*tot).zip(red.out.iter().skip(1)) {
                *g = scale * (second / total2 - t * gamma);
            }
            if let Some(v) = chan.get_mut(chunk_major(i, d, nch)) {
                *v = gamma;
            }
            for k in 0..d {
                let xk = self.coord(self.xs, i, k);
                if let Some(v) = chan.get_mut(chunk_major(i, d + 1 + k, nch)) {
                    *v = gamma * xk;
                }
            }
        }
        for k in 0..d {
            set_channel(chan, (np, nch), k, n, |i| at(tbar, i * d + k));
        }
        for (i, f) in ft.iter_mut().enumerate() {
            if i >= n {
                *f = T::NEG_INFINITY;
            }
        }
        cols.absorb_sources(ft, kappa);
        // Columns: B = Σ P̃ T̄, Γ = Σ P̃ γ, ΓX = Σ P̃ γ x, BL = Σ P̃ (T̄·y_j) x.
        for (j, (gyj, g)) in rows_mut(gy, d).zip(rc.iter_mut()).enumerate() {
            let vj = at(self.v, j);
            if masked(vj) {
                continue;
            }
            let sums = tmp.get_mut(..nch).ok_or(Error::WorkspaceTooSmall)?;
            let mut red = Weighted {
                w: &*chan,
                out: &mut *sums,
            };
            let (shift, _) = shifted(cols, j, vj, ft, kappa, &mut red);
            let f = shift.factor();
            let bj = |k: usize| at(sums, k) * f;
            let gam = at(sums, d) * f;
            let mut by = T::ZERO;
            for k in 0..d {
                by += bj(k) * self.coord(self.ys, j, k);
            }
            *g = (by - gam) / eps;
            let scale = self.two_s / eps;
            for (k, o) in gyj.iter_mut().enumerate() {
                let y = self.coord(self.ys, j, k);
                *o = bj(k) - scale * (by * y - gam * y + at(sums, d + 1 + k) * f);
            }
            // BL_j through the bilinear pass (t = y_j), subtracted with its sign.
            let (t, out) = tmp
                .split_at_mut_checked(d)
                .ok_or(Error::WorkspaceTooSmall)?;
            for (k, tk) in t.iter_mut().enumerate() {
                *tk = self.coord(self.ys, j, k);
            }
            let out = out.get_mut(..1 + d).ok_or(Error::WorkspaceTooSmall)?;
            let mut red = Bilinear {
                t: &*t,
                a: &*tb,
                b: self.xs,
                clip: T::INFINITY,
                out,
            };
            let (shift, _) = shifted(cols, j, vj, ft, kappa, &mut red);
            let f = shift.factor();
            for (o, &bl) in gyj.iter_mut().zip(red.out.iter().skip(1)) {
                *o += scale * bl * f;
            }
        }
        Ok(())
    }

    /// Adds the cost's share of the implicit part to one side's point gradient:
    /// g_p += 2s Σ_q (μ_p + μ'_q) P_pq (z_p − w_q), with targets z (`own`) and sources
    /// w (`other`), chunk-major, by one pass with channels [μ', w, μ'·w].
    #[allow(clippy::too_many_arguments)]
    fn cost_adjoint<S: CostSource<T>>(
        &self,
        src: &S,
        (tgt_pot, src_pot): (&[T], &[T]),
        (mu_t, mu_s): (&[T], &[T]),
        (other, own): (&[T], &[T]),
        (ns, nsp): (usize, usize),
        (chan, tmp): (&mut [T], &mut [T]),
        g: &mut [T],
    ) -> Result<(), Error> {
        let d = self.d;
        let nch = 2 * d + 1;
        set_channel(chan, (nsp, nch), 0, ns, |q| at(mu_s, q));
        for k in 0..d {
            set_channel(chan, (nsp, nch), 1 + k, ns, |q| {
                at(other, chunk_major(q, k, d))
            });
            set_channel(chan, (nsp, nch), 1 + d + k, ns, |q| {
                at(mu_s, q) * at(other, chunk_major(q, k, d))
            });
        }
        let sums = tmp.get_mut(..nch).ok_or(Error::WorkspaceTooSmall)?;
        for (p, gp) in rows_mut(g, d).enumerate() {
            let up = at(tgt_pot, p);
            if masked(up) {
                continue;
            }
            let mut red = Weighted {
                w: &*chan,
                out: &mut *sums,
            };
            let (shift, total) = shifted(src, p, up, src_pot, self.kappa, &mut red);
            let f = shift.factor();
            let (mp, rp, pm) = (at(mu_t, p), total * f, at(sums, 0) * f);
            for (k, o) in gp.iter_mut().enumerate() {
                let z = self.coord(own, p, k);
                let pw = at(sums, 1 + k) * f;
                let pmw = at(sums, 1 + d + k) * f;
                *o += self.two_s * ((mp * rp + pm) * z - mp * pw - pmw);
            }
        }
        Ok(())
    }
}

/// The marginal of P seen from `src`'s targets (0 at masked ones) into `out`.
fn marginal<T: Real, S: CostSource<T>>(src: &S, tgt: &[T], srcp: &[T], kappa: T, out: &mut [T]) {
    for (p, o) in out.iter_mut().enumerate() {
        let up = at(tgt, p);
        *o = if masked(up) {
            T::ZERO
        } else {
            let (shift, sum) = shifted(src, p, up, srcp, kappa, &mut ());
            sum * shift.factor()
        };
    }
}
