//! Operations on the entropic plan P_ij = exp((f_i + g_j − C_ij)/ε), streamed through
//! the kernel without storing P.

use crate::buf::{copy, head_mut, rows_mut};
use crate::dispatch::dispatch;
use crate::error::Error;
#[cfg(not(target_arch = "arm"))]
use crate::kernel::Fixed;
use crate::kernel::{
    masked, on_clouds, shifted, stream, Clouds, CostSource, CostSum, Reduce, Tuned, Weighted,
    Write, LANES,
};
use crate::ot::matches::UNMATCHED;
use crate::parallel::{self, ParallelFor, Serial, Wide};
use crate::points::Points;
use crate::real::Real;
use crate::sum::Compensated;

use super::problem::{check_finite, Checked, Cost, Problem};
use super::workspace::{
    carve, cost_scale, load_potentials, load_problem, to_kernel_units, with_sources, Layout,
};

/// The plan defined by a problem, ε (absolute, cost units: [`Solution::epsilon`](super::Solution))
/// and potentials f, g in cost units (what [`solve`](super::solve) returns).
///
/// Every operation validates its inputs, needs
/// [`workspace_len`](super::workspace_len)`(n, m, d)` elements of workspace, costs one
/// pass over the n·m pairs (two for [`Plan::dense`]) and writes its output only on
/// success. Entries of f (g) at zero-weight points are ignored: those rows (columns) of
/// P are 0.
#[derive(Clone, Copy, Debug)]
pub struct Plan<'a, T> {
    /// The problem.
    pub problem: Problem<'a, T>,
    /// ε in cost units.
    pub epsilon: T,
    /// Row potentials, length n.
    pub f: &'a [T],
    /// Column potentials, length m.
    pub g: &'a [T],
}

/// Which side of the plan an operation reduces over.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    /// Targets are rows (first side): results of length n.
    Rows,
    /// Targets are columns: results of length m.
    Cols,
}

impl<'a, T: Real> Plan<'a, T> {
    /// Bundles a problem, ε and potentials.
    #[must_use]
    pub fn new(problem: Problem<'a, T>, epsilon: T, f: &'a [T], g: &'a [T]) -> Self {
        Self {
            problem,
            epsilon,
            f,
            g,
        }
    }

    fn check(&self) -> Result<Checked<T>, Error> {
        let chk = self.problem.check()?;
        if self.f.len() != chk.n || self.g.len() != chk.m {
            return Err(Error::LengthMismatch);
        }
        let eps = self.epsilon;
        if !(eps.is_finite() && eps > T::ZERO && (chk.max_cost / eps).is_finite()) {
            return Err(Error::InvalidEpsilon);
        }
        for (pot, w) in [(self.f, self.problem.a), (self.g, self.problem.b)] {
            if !pot
                .iter()
                .zip(w)
                .all(|(&p, &wi)| wi == T::ZERO || p.is_finite())
            {
                return Err(Error::NonFiniteInput);
            }
        }
        Ok(chk)
    }

    /// Checks, carves the workspace and loads the problem and the potentials (kernel
    /// units, absorbed: each side's array serves as targets and as sources, see
    /// [`CostSource`]).
    pub(super) fn prepare<'w>(
        &self,
        ws: &'w mut [T],
    ) -> Result<(Checked<T>, Layout<'w, T>), Error> {
        let chk = self.check()?;
        let mut lay = carve(ws, chk.n, chk.m, chk.dim)?;
        load_problem(&mut lay, &self.problem);
        let unit = to_kernel_units(self.epsilon);
        load_potentials(lay.u, Some(self.f), self.problem.a, unit);
        load_potentials(lay.v, Some(self.g), self.problem.b, unit);
        let (_, kappa) = cost_scale(&self.problem, self.epsilon);
        let (xs, ys, u, v) = (&*lay.xs, &*lay.ys, &mut *lay.u, &mut *lay.v);
        with_sources!(self.problem.cost, xs, ys, chk.m, |rows, cols| {
            cols.absorb_sources(u, kappa);
            rows.absorb_sources(v, kappa);
        });
        Ok((chk, lay))
    }

    /// This plan with its row passes split over a caller's `pool` (see
    /// [`crate::parallel`]): [`PlanOn`] has the operations below with the same bits
    /// whatever the pool, once a pass has more than
    /// [`MIN_TASK_ROWS`](crate::parallel::MIN_TASK_ROWS) targets.
    #[must_use]
    pub fn on<'p, P: ParallelFor>(self, pool: &'p P) -> PlanOn<'p, 'a, T, P> {
        PlanOn { plan: self, pool }
    }

    /// `out_i = Σ_j P_ij v_j` (length n) for `v` of length m.
    ///
    /// # Errors
    /// Those of the problem checks, [`Error::LengthMismatch`] for `v`/`out`,
    /// [`Error::NonFiniteInput`] for `v`, [`Error::NonFinite`] on overflow,
    /// [`Error::WorkspaceTooSmall`].
    pub fn apply(&self, v: &[T], out: &mut [T], ws: &mut [T]) -> Result<(), Error> {
        self.on(&Serial).apply(v, out, ws)
    }

    /// `out_j = Σ_i P_ij u_i` (length m) for `u` of length n.
    ///
    /// # Errors
    /// As [`Plan::apply`].
    pub fn apply_transpose(&self, u: &[T], out: &mut [T], ws: &mut [T]) -> Result<(), Error> {
        self.on(&Serial).apply_transpose(u, out, ws)
    }

    /// The barycentric projection (entropic map) `T(x_i) = Σ_j P_ij y_j / Σ_j P_ij`,
    /// written row-major into `out` (n×d). It does not depend on f, so it is also
    /// defined at zero-weight points (there it is the map of the soft c-transform of g).
    ///
    /// # Errors
    /// [`Error::NeedsPointClouds`] for a dense-cost problem; otherwise as
    /// [`Plan::apply`].
    pub fn barycentric(&self, out: &mut [T], ws: &mut [T]) -> Result<(), Error> {
        self.on(&Serial).barycentric(out, ws)
    }

    /// The same plan seen from its columns: the problem with its sides swapped
    /// (y, b first) and the potentials (g, f). Operations on it give the column
    /// versions of the row operations (Pᵀ·u is the transpose's [`Plan::apply`]).
    ///
    /// # Errors
    /// [`Error::NeedsPointClouds`] for a dense cost (its transpose is not stored).
    pub fn transposed(&self) -> Result<Self, Error> {
        let Cost::SqEuclidean { x, y, dim, scale } = self.problem.cost else {
            return Err(Error::NeedsPointClouds);
        };
        let problem = Problem::strided_clouds(y, x, dim, scale, self.problem.b, self.problem.a);
        Ok(Self::new(problem, self.epsilon, self.g, self.f))
    }

    /// Per row i, in one pass: the gradient of ⟨C, P⟩ with respect to x_i at fixed
    /// potentials, `grad_x[i] = Σ_j P_ij ∇_{x_i} C_ij = 2s·R_i·(x_i − T(x_i))` (n×d,
    /// row-major; R_i = Σ_j P_ij, T the barycentric map; 0 at zero-weight points), and
    /// the soft c-transform of g, `ctransform[i] = −ε ln Σ_j exp((g_j − C_ij)/ε)`
    /// (length n, cost units: the row potential in the a⊗b convention of GeomLoss,
    /// f_i − ε ln a_i once the row marginal is exact). These are the envelope-theorem
    /// pieces of the gradients of OT_ε and S_ε (see [the module](mod@crate::ot::divergence)).
    ///
    /// # Errors
    /// [`Error::NeedsPointClouds`] for a dense cost; otherwise as [`Plan::apply`].
    pub fn row_gradient(
        &self,
        grad_x: &mut [T],
        ctransform: &mut [T],
        ws: &mut [T],
    ) -> Result<(), Error> {
        self.on(&Serial).row_gradient(grad_x, ctransform, ws)
    }

    /// Per row i, the column of the largest entry, `at[i] = argmax_j P_ij` (the first
    /// one on ties), and its confidence `confidence[i] = P_ij / a_i` (the conditional
    /// probability of the match once the row marginal is exact); a zero-weight row gets
    /// [`UNMATCHED`](crate::ot::matches::UNMATCHED) and 0. One streamed pass.
    ///
    /// Workspace: n + [`workspace_len`](super::workspace_len)`(n, m, d)` elements
    /// (m + … for [`Plan::col_argmax`]).
    ///
    /// # Errors
    /// As [`Plan::apply`]; [`Error::LengthMismatch`] also when m is beyond the
    /// integers `T` represents exactly (2^24 for f32: the indices are staged in the
    /// workspace).
    pub fn row_argmax(
        &self,
        at: &mut [usize],
        confidence: &mut [T],
        ws: &mut [T],
    ) -> Result<(), Error> {
        self.on(&Serial).row_argmax(at, confidence, ws)
    }

    /// The same per column j: `at[j] = argmax_i P_ij`, `confidence[j] = P_ij / b_j`.
    ///
    /// # Errors
    /// As [`Plan::row_argmax`] (with n).
    pub fn col_argmax(
        &self,
        at: &mut [usize],
        confidence: &mut [T],
        ws: &mut [T],
    ) -> Result<(), Error> {
        self.on(&Serial).col_argmax(at, confidence, ws)
    }

    /// [`Plan::row_argmax`] (`rows`) or [`Plan::col_argmax`] with the indices as `T`
    /// (−1: none) in `idx`, for callers that stage them; `ws` as [`Plan::apply`].
    pub(crate) fn argmax_staged(
        &self,
        rows: bool,
        idx: &mut [T],
        conf: &mut [T],
        ws: &mut [T],
    ) -> Result<(), Error> {
        self.on(&Serial).argmax_staged(rows, idx, conf, ws)
    }

    /// The transport cost ⟨C, P⟩ = Σ_ij C_ij P_ij (cost units × mass).
    ///
    /// # Errors
    /// As [`Plan::apply`] (without the vector checks).
    pub fn transport_cost(&self, ws: &mut [T]) -> Result<T, Error> {
        self.on(&Serial).transport_cost(ws)
    }

    /// Writes the dense plan P (n×m, row-major) into `out`: the only operation whose
    /// output is O(n·m). Rows and columns of zero-weight points are 0.
    ///
    /// # Errors
    /// As [`Plan::apply`]; [`Error::NonFinite`] if a row's sum would exceed
    /// [`Real::LSE_SUM_MAX`] (checked in a first pass, before anything is written).
    pub fn dense(&self, out: &mut [T], ws: &mut [T]) -> Result<(), Error> {
        let (chk, lay) = self.prepare(ws)?;
        if Some(out.len()) != chk.n.checked_mul(chk.m) {
            return Err(Error::LengthMismatch);
        }
        let (_, kappa) = cost_scale(&self.problem, self.epsilon);
        let (xs, ys, u, v) = (&*lay.xs, &*lay.ys, &*lay.u, &*lay.v);
        let step = chk.m.max(1);
        with_sources!(self.problem.cost, xs, ys, chk.m, |rows, _cols| {
            for (i, &ui) in u.iter().take(chk.n).enumerate() {
                let (_, sum) = stream::<_, _, _, true>(&rows, i, ui, v, kappa, T::ZERO, &mut ());
                if sum > T::LSE_SUM_MAX || sum.is_nan() {
                    return Err(Error::NonFinite);
                }
            }
            for (i, (&ui, row)) in u.iter().zip(out.chunks_exact_mut(step)).enumerate() {
                if masked(ui) {
                    row.iter_mut().for_each(|p| *p = T::ZERO);
                } else {
                    let (shift, _) = stream::<_, _, _, true>(
                        &rows,
                        i,
                        ui,
                        v,
                        kappa,
                        T::ZERO,
                        &mut Write { row: &mut *row },
                    );
                    // The offset's rounding (Cortex-M f32; a factor 1 elsewhere).
                    let factor = shift.factor();
                    row.iter_mut().for_each(|p| *p *= factor);
                }
            }
            Ok(())
        })
    }
}

/// A [`Plan`] whose row passes split their targets over a caller's pool
/// ([`Plan::on`]). It dereferences to the plan: the operations it does not list
/// ([`Plan::dense`], [`Plan::transposed`]) run on the calling thread.
#[derive(Clone, Copy, Debug)]
pub struct PlanOn<'p, 'a, T, P> {
    plan: Plan<'a, T>,
    pool: &'p P,
}

impl<'a, T, P> core::ops::Deref for PlanOn<'_, 'a, T, P> {
    type Target = Plan<'a, T>;
    fn deref(&self) -> &Plan<'a, T> {
        &self.plan
    }
}

impl<T: Real, P: ParallelFor> PlanOn<'_, '_, T, P> {
    /// [`Plan::apply`], its targets split over the pool.
    ///
    /// # Errors
    /// As [`Plan::apply`]; [`Error::CallbackFailed`] if the pool fails (nothing
    /// written).
    pub fn apply(&self, v: &[T], out: &mut [T], ws: &mut [T]) -> Result<(), Error> {
        self.weighted_sums(Side::Rows, v, out, ws)
    }

    /// [`Plan::apply_transpose`], its targets split over the pool.
    ///
    /// # Errors
    /// As [`PlanOn::apply`].
    pub fn apply_transpose(&self, u: &[T], out: &mut [T], ws: &mut [T]) -> Result<(), Error> {
        self.weighted_sums(Side::Cols, u, out, ws)
    }

    fn weighted_sums(&self, side: Side, w: &[T], out: &mut [T], ws: &mut [T]) -> Result<(), Error> {
        let (chk, lay) = self.prepare(ws)?;
        let (n_out, n_in) = match side {
            Side::Rows => (chk.n, chk.m),
            Side::Cols => (chk.m, chk.n),
        };
        if w.len() != n_in || out.len() != n_out {
            return Err(Error::LengthMismatch);
        }
        check_finite(w)?;
        let (_, kappa) = cost_scale(&self.problem, self.epsilon);
        // Padded copy of the weights (zeros past the end) and the results, in the
        // log-weight regions, which plan operations do not use.
        let (wbuf, res) = match side {
            Side::Rows => (lay.lb, lay.la),
            Side::Cols => (lay.la, lay.lb),
        };
        for (i, slot) in wbuf.iter_mut().enumerate() {
            *slot = w.get(i).copied().unwrap_or(T::ZERO);
        }
        let wbuf = &*wbuf;
        let (xs, ys, u, v) = (&*lay.xs, &*lay.ys, &*lay.u, &*lay.v);
        with_sources!(self.problem.cost, xs, ys, chk.m, |rows, cols| {
            match side {
                Side::Rows => reduce_weighted(self.pool, &rows, u, v, kappa, wbuf, res),
                Side::Cols => reduce_weighted(self.pool, &cols, v, u, kappa, wbuf, res),
            }
        })?;
        out.copy_from_slice(res.get(..n_out).ok_or(Error::WorkspaceTooSmall)?);
        Ok(())
    }

    /// [`Plan::barycentric`], its targets split over the pool.
    ///
    /// # Errors
    /// As [`Plan::barycentric`]; [`Error::CallbackFailed`] as [`PlanOn::apply`].
    pub fn barycentric(&self, out: &mut [T], ws: &mut [T]) -> Result<(), Error> {
        let Cost::SqEuclidean { x, dim, .. } = self.problem.cost else {
            return Err(Error::NeedsPointClouds);
        };
        let (chk, lay) = self.prepare(ws)?;
        let len = chk.n.checked_mul(dim).ok_or(Error::LengthMismatch)?;
        if out.len() != len {
            return Err(Error::LengthMismatch);
        }
        let (_, kappa) = cost_scale(&self.problem, self.epsilon);
        // The kernel reads each target row straight from the caller's `x`; the
        // chunk-major copy of x is not needed, so its region holds the results. The
        // sources are stored relative to the centre, the first point of x.
        let res = lay.xs.get_mut(..len).ok_or(Error::WorkspaceTooSmall)?;
        let row = Clouds::new(x, &*lay.ys, x, dim);
        let (ys, v) = (&*lay.ys, &*lay.v);
        let task = |lo: usize, rows: Wide<'_, T>| {
            on_clouds!(&row, |src| {
                for (k, acc) in rows_mut(rows.data, dim).enumerate() {
                    let i = lo + k;
                    // The chunk-major source coordinates are the weights, one channel
                    // each.
                    let mut red = Weighted { w: ys, out: acc };
                    // f_i cancels in the ratio (and so does the kernel's shift): use 0.
                    let (_, total) = shifted(src, i, T::ZERO, v, kappa, &mut red);
                    for (k, a) in red.out.iter_mut().enumerate() {
                        *a = *a / total + x.get(0, k);
                        if !a.is_finite() {
                            return Err(Error::NonFinite);
                        }
                    }
                }
                Ok(())
            })
        };
        let rows = Wide {
            data: &mut *res,
            width: dim,
        };
        parallel::rows(self.pool, rows, task, |(), ()| ())?;
        out.copy_from_slice(res);
        Ok(())
    }

    /// [`Plan::row_gradient`], its targets split over the pool.
    ///
    /// # Errors
    /// As [`Plan::row_gradient`]; [`Error::CallbackFailed`] as [`PlanOn::apply`].
    pub fn row_gradient(
        &self,
        grad_x: &mut [T],
        ctransform: &mut [T],
        ws: &mut [T],
    ) -> Result<(), Error> {
        let Cost::SqEuclidean { x, dim, .. } = self.problem.cost else {
            return Err(Error::NeedsPointClouds);
        };
        let (chk, lay) = self.prepare(ws)?;
        let len = chk.n.checked_mul(dim).ok_or(Error::LengthMismatch)?;
        if grad_x.len() != len || ctransform.len() != chk.n {
            return Err(Error::LengthMismatch);
        }
        let (scale, kappa) = cost_scale(&self.problem, self.epsilon);
        // As in `barycentric`: targets read from the caller's x, results in the
        // region of x's chunk-major copy (the gradient) and of log a (the c-transform).
        let res = lay.xs.get_mut(..len).ok_or(Error::WorkspaceTooSmall)?;
        let cts = lay.la.get_mut(..chk.n).ok_or(Error::WorkspaceTooSmall)?;
        let (ys, v) = (&*lay.ys, &*lay.v);
        let pool = self.pool;
        let pass = RowGradient {
            plan: &self.plan,
            ys,
            v,
            kappa,
            two_s: scale + scale,
        };
        // Compile-time 2-D and 3-D clouds where the FPU has SIMD, as the solver's
        // passes (`with_sources!`); one generic instance on Cortex-M (flash).
        #[cfg(not(target_arch = "arm"))]
        match dim {
            2 => pass.run(pool, &Clouds::new(x, ys, x, Fixed::<2>), x, dim, res, cts)?,
            3 => pass.run(pool, &Clouds::new(x, ys, x, Fixed::<3>), x, dim, res, cts)?,
            _ => pass.run(pool, &Clouds::new(x, ys, x, dim), x, dim, res, cts)?,
        }
        #[cfg(target_arch = "arm")]
        pass.run(pool, &Clouds::new(x, ys, x, dim), x, dim, res, cts)?;
        copy(grad_x, res);
        copy(ctransform, cts);
        Ok(())
    }

    /// [`Plan::row_argmax`], its targets split over the pool.
    ///
    /// # Errors
    /// As [`Plan::row_argmax`]; [`Error::CallbackFailed`] as [`PlanOn::apply`].
    pub fn row_argmax(
        &self,
        at: &mut [usize],
        confidence: &mut [T],
        ws: &mut [T],
    ) -> Result<(), Error> {
        self.argmax(Side::Rows, at, confidence, ws)
    }

    /// [`Plan::col_argmax`], its targets split over the pool.
    ///
    /// # Errors
    /// As [`PlanOn::row_argmax`].
    pub fn col_argmax(
        &self,
        at: &mut [usize],
        confidence: &mut [T],
        ws: &mut [T],
    ) -> Result<(), Error> {
        self.argmax(Side::Cols, at, confidence, ws)
    }

    fn argmax(
        &self,
        side: Side,
        at: &mut [usize],
        conf: &mut [T],
        ws: &mut [T],
    ) -> Result<(), Error> {
        let len = at.len();
        let needed = match side {
            Side::Rows => self.problem.n(),
            Side::Cols => self.problem.m(),
        };
        if len != needed {
            return Err(Error::LengthMismatch);
        }
        let (idx, ws) = ws
            .split_at_mut_checked(len)
            .ok_or(Error::WorkspaceTooSmall)?;
        self.argmax_staged(side == Side::Rows, idx, conf, ws)?;
        for (a, &i) in at.iter_mut().zip(&*idx) {
            *a = index_of(i);
        }
        Ok(())
    }

    /// [`Plan::argmax_staged`] on the pool.
    pub(crate) fn argmax_staged(
        &self,
        rows: bool,
        idx: &mut [T],
        conf: &mut [T],
        ws: &mut [T],
    ) -> Result<(), Error> {
        let (chk, lay) = self.prepare(ws)?;
        let (n_out, n_src, w) = if rows {
            (chk.n, chk.m, self.problem.a)
        } else {
            (chk.m, chk.n, self.problem.b)
        };
        if idx.len() != n_out || conf.len() != n_out || n_src > exact_integers::<T>() {
            return Err(Error::LengthMismatch);
        }
        let (_, kappa) = cost_scale(&self.problem, self.epsilon);
        let (idx_w, cfs) = (&mut *lay.sources, &mut *lay.scratch);
        let (xs, ys, u, v) = (&*lay.xs, &*lay.ys, &*lay.u, &*lay.v);
        with_sources!(self.problem.cost, xs, ys, chk.m, |rows_src, cols_src| {
            if rows {
                argmax_each(self.pool, &rows_src, u, v, kappa, w, idx_w, cfs)
            } else {
                argmax_each(self.pool, &cols_src, v, u, kappa, w, idx_w, cfs)
            }
        })?;
        copy(idx, idx_w.get(..n_out).ok_or(Error::WorkspaceTooSmall)?);
        copy(conf, cfs.get(..n_out).ok_or(Error::WorkspaceTooSmall)?);
        Ok(())
    }

    /// [`Plan::transport_cost`], its rows split over the pool (the rows' costs are
    /// summed in row order, as without a pool).
    ///
    /// # Errors
    /// As [`Plan::transport_cost`]; [`Error::CallbackFailed`] as [`PlanOn::apply`].
    pub fn transport_cost(&self, ws: &mut [T]) -> Result<T, Error> {
        let (chk, lay) = self.prepare(ws)?;
        let (scale, kappa) = cost_scale(&self.problem, self.epsilon);
        let (xs, ys, u, v) = (&*lay.xs, &*lay.ys, &*lay.u, &*lay.v);
        // Each row's cost into the scratch, then their compensated sum in row order.
        let costs = head_mut(lay.scratch, u.len());
        with_sources!(self.problem.cost, xs, ys, chk.m, |rows, _cols| {
            let task = |lo: usize, costs: &mut [T]| {
                let u = u.get(lo..).unwrap_or(&[]);
                dispatch!(|isa| {
                    let rows = &Tuned::new(&rows, isa);
                    let mut red = CostSum::new();
                    for (k, (&ui, c)) in u.iter().zip(costs.iter_mut()).enumerate() {
                        *c = if masked(ui) {
                            T::ZERO
                        } else {
                            let (shift, _) = shifted(rows, lo + k, ui, v, kappa, &mut red);
                            red.total() * shift.factor()
                        };
                    }
                });
                Ok(())
            };
            parallel::rows(self.pool, &mut *costs, task, |(), ()| ())
        })?;
        let mut total = Compensated::new();
        for (&ui, &c) in u.iter().zip(&*costs) {
            if !masked(ui) {
                total.add(c);
            }
        }
        let cost = scale * total.value();
        if cost.is_finite() {
            Ok(cost)
        } else {
            Err(Error::NonFinite)
        }
    }
}

/// For every target p with a finite potential: the weighted sum Σ_q P_pq w_q into
/// `res[p]`; 0 for masked targets. The targets are split over `pool`.
///
/// # Errors
/// [`Error::NonFinite`] on overflow, [`Error::CallbackFailed`] if the pool fails.
pub(super) fn reduce_weighted<T: Real, S: CostSource<T>, P: ParallelFor>(
    pool: &P,
    src: &S,
    tgt_pot: &[T],
    src_pot: &[T],
    kappa: T,
    w: &[T],
    res: &mut [T],
) -> Result<(), Error> {
    let task = |lo: usize, res: &mut [T]| {
        let tgt = tgt_pot.get(lo..).unwrap_or(&[]);
        dispatch!(|isa| reduce_weighted_on(&Tuned::new(src, isa), lo, tgt, src_pot, kappa, w, res))
    };
    parallel::rows(pool, head_mut(res, tgt_pot.len()), task, |(), ()| ())
}

/// [`reduce_weighted`] over targets `lo..` (`tgt_pot` from `lo`) on the path of `S`
/// (see `crate::dispatch`).
#[inline(always)]
fn reduce_weighted_on<T: Real, S: CostSource<T>>(
    src: &S,
    lo: usize,
    tgt_pot: &[T],
    src_pot: &[T],
    kappa: T,
    w: &[T],
    res: &mut [T],
) -> Result<(), Error> {
    for (k, (&up, out)) in tgt_pot.iter().zip(res.chunks_mut(1)).enumerate() {
        let p = lo + k;
        if masked(up) {
            out.iter_mut().for_each(|o| *o = T::ZERO);
            continue;
        }
        let mut red = Weighted { w, out: &mut *out };
        let (shift, _) = shifted(src, p, up, src_pot, kappa, &mut red);
        let rescale = shift.factor();
        for o in out.iter_mut() {
            *o *= rescale;
            if !o.is_finite() {
                return Err(Error::NonFinite);
            }
        }
    }
    Ok(())
}

/// For every target p: the index of its largest term (as `T`, −1 for a masked target)
/// into `idx[p]` and that term over the target's weight into `conf[p]`, the targets
/// split over `pool`.
///
/// # Errors
/// [`Error::NonFinite`] on overflow, [`Error::CallbackFailed`] if the pool fails.
#[allow(clippy::too_many_arguments)]
fn argmax_each<T: Real, S: CostSource<T>, P: ParallelFor>(
    pool: &P,
    src: &S,
    tgt_pot: &[T],
    src_pot: &[T],
    kappa: T,
    w: &[T],
    idx: &mut [T],
    conf: &mut [T],
) -> Result<(), Error> {
    let task = |lo: usize, (idx, conf): (&mut [T], &mut [T])| {
        let (tgt, w) = (tgt_pot.get(lo..).unwrap_or(&[]), w.get(lo..).unwrap_or(&[]));
        dispatch!(|isa| argmax_each_on(
            &Tuned::new(src, isa),
            lo,
            tgt,
            src_pot,
            kappa,
            w,
            idx,
            conf
        ))
    };
    let n = tgt_pot.len().min(w.len());
    let out = (head_mut(idx, n), head_mut(conf, n));
    parallel::rows(pool, out, task, |(), ()| ())
}

/// [`argmax_each`] over targets `lo..` (`tgt_pot`, `w` from `lo`) on the path of `S`
/// (see `crate::dispatch`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn argmax_each_on<T: Real, S: CostSource<T>>(
    src: &S,
    lo: usize,
    tgt_pot: &[T],
    src_pot: &[T],
    kappa: T,
    w: &[T],
    idx: &mut [T],
    conf: &mut [T],
) -> Result<(), Error> {
    for (k, ((&up, &wp), (ip, cp))) in tgt_pot
        .iter()
        .zip(w)
        .zip(idx.iter_mut().zip(conf.iter_mut()))
        .enumerate()
    {
        let p = lo + k;
        if masked(up) || wp == T::ZERO {
            (*ip, *cp) = (-T::ONE, T::ZERO);
            continue;
        }
        let mut red = ArgMax {
            best: T::ZERO,
            at: UNMATCHED,
        };
        let (shift, _) = shifted(src, p, up, src_pot, kappa, &mut red);
        let c = red.best * shift.factor() / wp;
        if !c.is_finite() || red.at == UNMATCHED {
            return Err(Error::NonFinite);
        }
        (*ip, *cp) = (T::from_usize(red.at), c);
    }
    Ok(())
}

/// The largest term of a pass and its source index (the first on ties).
struct ArgMax<T> {
    best: T,
    at: usize,
}

impl<T: Real> Reduce<T> for ArgMax<T> {
    #[inline(always)]
    fn add(&mut self, q0: usize, e: &[T; LANES], _costs: impl FnOnce() -> [T; LANES]) {
        for (l, &v) in e.iter().enumerate() {
            if v > self.best {
                self.best = v;
                self.at = q0 + l;
            }
        }
    }
    fn reset(&mut self) {
        self.best = T::ZERO;
        self.at = UNMATCHED;
    }
}

/// A staged index (`T`, −1 for none) as an index or [`UNMATCHED`].
pub(crate) fn index_of<T: Real>(i: T) -> usize {
    if i < T::ZERO {
        UNMATCHED
    } else {
        i.to_f64() as usize
    }
}

/// The integers `T` holds exactly: 2/ε (2^24 for f32, 2^53 for f64; saturating).
fn exact_integers<T: Real>() -> usize {
    (2.0 / T::EPSILON.to_f64()) as usize
}

/// The per-row loop of [`Plan::row_gradient`], generic over the cloud's dimension type.
struct RowGradient<'p, 'a, T> {
    plan: &'p Plan<'a, T>,
    /// Source coordinates, chunk-major, relative to x's first point.
    ys: &'p [T],
    /// Source potentials, kernel units, absorbed.
    v: &'p [T],
    kappa: T,
    two_s: T,
}

impl<T: Real> RowGradient<'_, '_, T> {
    /// The gradient rows into `res` (n×d) and the c-transform into `cts`, the rows
    /// split over `pool`.
    fn run<S: CostSource<T>, P: ParallelFor>(
        &self,
        pool: &P,
        row: &S,
        x: Points<'_, T>,
        dim: usize,
        res: &mut [T],
        cts: &mut [T],
    ) -> Result<(), Error> {
        let task = |lo: usize, (res, cts): (Wide<'_, T>, &mut [T])| {
            dispatch!(|isa| self.run_on(&Tuned::new(row, isa), lo, x, dim, res.data, cts))
        };
        parallel::rows(
            pool,
            (
                Wide {
                    data: res,
                    width: dim,
                },
                cts,
            ),
            task,
            |(), ()| (),
        )
    }

    /// [`RowGradient::run`] over rows `lo..` on the path of `S` (see
    /// `crate::dispatch`).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn run_on<S: CostSource<T>>(
        &self,
        row: &S,
        lo: usize,
        x: Points<'_, T>,
        dim: usize,
        res: &mut [T],
        cts: &mut [T],
    ) -> Result<(), Error> {
        let (eps, f, a) = (self.plan.epsilon, self.plan.f, self.plan.problem.a);
        for (k, (acc, ct)) in rows_mut(res, dim).zip(cts.iter_mut()).enumerate() {
            let i = lo + k;
            let mut red = Weighted {
                w: self.ys,
                out: &mut *acc,
            };
            let u0 = row.absorb_target(i, T::ZERO, self.kappa);
            let (shift, total) = shifted(row, i, u0, self.v, self.kappa, &mut red);
            // ln Σ_j exp((g_j − C_ij)/ε) = shift (natural units) + ln(total).
            *ct = -eps * (shift.ln() + total.ln());
            let mass = match f.get(i) {
                Some(&fi) if a.get(i).is_some_and(|&w| w > T::ZERO) => ((fi - *ct) / eps).exp(),
                _ => T::ZERO,
            };
            for (k, gk) in acc.iter_mut().enumerate() {
                // x_i − T(x_i), both relative to the centre (x's first point).
                let rel = (x.get(i, k) - x.get(0, k)) - *gk / total;
                *gk = self.two_s * mass * rel;
                if !gk.is_finite() {
                    return Err(Error::NonFinite);
                }
            }
            if !ct.is_finite() {
                return Err(Error::NonFinite);
            }
        }
        Ok(())
    }
}
