//! The hot loop: one streaming, shifted log-sum-exp over a point cloud or a dense
//! cost matrix.
//!
//! Every operation on an entropic transport plan — the Sinkhorn half-iterations, the
//! transport cost ⟨C,P⟩, P·v, Pᵀ·u, the barycentric projection, the dense plan — is a
//! reduction over one "target" point `p` of terms
//!
//! ```text
//! e_pq = 2^(u_p + v_q − κ·c_pq − shift),      κ = s·log₂e/ε,
//! ```
//!
//! in *kernel units* (base-2 exponents): `u`, `v` are the potentials times log₂e/ε
//! (dimensionless), `c_pq` the raw cost (‖x_p − y_q‖² for point clouds, or the dense
//! matrix entry) and `s` the cost scale, so that e_pq = exp((f_p + g_q − s·c_pq)/ε)
//! up to the shift. Base 2 makes the exponential's range reduction exact (see
//! [`Real::exp2_kernel`]). For point clouds the kernel does not form c_pq: the
//! squared norms are absorbed into the potentials and only the dot product is
//! computed per entry (see `CostSource`); the potentials it takes are in that
//! absorbed form, û_p and v̂_q. `stream` walks the sources in fixed chunks of [`LANES`]
//! so that LLVM vectorises the cost recomputation, the branch-free exponential and the
//! accumulation; a `Reduce` implementation decides what is accumulated. Nothing n×m
//! is ever stored.
//!
//! Source arrays are padded to a multiple of [`LANES`]: padded and zero-weight sources
//! come with `v_q = −∞`, which absorbing them (`CostSource::absorb_sources`) turns
//! into the finite [`Real::MASKED`], for which `exp2_kernel` returns exactly 0 (the
//! Cortex-M exponential needs finite arguments); `masked` tells such potentials.
//!
//! The shift: the Sinkhorn solver passes the target's previous potential as `u_p`, so
//! the arguments are the log plan entries of the previous iterate and lie in a narrow
//! range near convergence. `shifted` runs the reduction once with no extra shift;
//! `stream` returns Σ_q e_pq with the shift it applied (a `Shift`), and only if that
//! sum leaves
//! [[`Real::LSE_SUM_MIN`], [`Real::LSE_SUM_MAX`]] (early iterations, cold
//! starts, a far-off warm start) does it find the largest exponent (`peak`, a pass
//! without exponentials) and run the reduction again shifted by it. The sum is a sound
//! test because the kernel's exponentials (`exp2_kernel`, and the AVX-512 path's f32
//! chunk form) are 0 or subnormal below their range and non-finite above it: a sum
//! inside the window means no term overflowed and the largest one is at least
//! `LSE_SUM_MIN` / n, far above the flushed ones. In steady state one pass suffices, and the
//! pass keeps no running maximum (on Cortex-M a float maximum costs 4 instructions).

use crate::dispatch::{Isa, Portable};
use crate::points::Points;
use crate::real::Real;

/// Chunk width of the kernel, in elements: 16 where the FPU has SIMD registers (16 f32
/// = one AVX-512 register, two AVX2 or NEON ones; 16 f64 = two AVX-512 registers), 4 on
/// 32-bit Arm, whose Cortex-M FPU is scalar: short chunks keep each lane's state in
/// registers instead of spilling 16-lane arrays to the stack, and keep the unrolled
/// code small for flash, while 4 lanes share one round of loop control and constant
/// loads (fewer instructions per entry than 2 or 1 lanes; `docs/embedded.md`).
#[cfg(not(target_arch = "arm"))]
pub const LANES: usize = 16;
/// Chunk width of the kernel (see the 16-lane definition for other targets).
#[cfg(target_arch = "arm")]
pub const LANES: usize = 4;

/// Rounds a point count up to a whole number of kernel chunks.
#[inline]
#[must_use]
pub const fn padded(len: usize) -> usize {
    len.div_ceil(LANES) * LANES
}

/// The exponents between one target point and chunks of [`LANES`] sources.
///
/// An exponent is `base + v̂_q + x_pq`: `base` the target's potential (absorbed, see
/// below) minus the shift, `v̂_q` the source's absorbed potential and `x_pq` the
/// cross term, which [`CostSource::cross`] adds. With c_pq = ‖x̃_p − ỹ_q‖² and
/// ‖x̃_p − ỹ_q‖² = ‖x̃_p‖² + ‖ỹ_q‖² − 2 x̃_p·ỹ_q (coordinates relative to a
/// common centre), the squared norms go into the potentials ("absorbed": û_p = u_p −
/// κ‖x̃_p‖², v̂_q = v_q − κ‖ỹ_q‖², see [`CostSource::absorb_target`] and
/// [`CostSource::absorb_sources`]) and the cross term is the dot product
/// Σ_k (2κ x̃_pk) ỹ_qk: d multiply-adds per entry, against a subtraction, a multiply
/// and a multiply-add per coordinate plus the κ multiply-add for the difference form
/// (`docs/performance.md`). The rounding is that of the potentials
/// themselves: û, v̂ and the cross term are of the size κ·R² (R the distance from
/// the centre), as the potentials are of the size κ·C. A dense cost matrix has
/// nothing to absorb and adds −κ·c_pq.
pub(crate) trait CostSource<T: Real>: Sync {
    /// What the exponents of one target need, read once per target.
    type Target<'t>: Copy
    where
        Self: 't;
    /// One chunk of [`LANES`] sources.
    type Chunk<'t>: Copy
    where
        Self: 't;
    /// The instruction-set path of the passes over this source: [`Portable`], or an
    /// FMA token inside a dispatched pass (see [`Tuned`] and `crate::dispatch`).
    type Isa: Isa;
    /// This source's [`CostSource::Isa`] token.
    fn isa(&self) -> Self::Isa;
    /// The data of target `p` at scale κ (kernel units). A target index out of range,
    /// which no caller passes, gets finite exponents.
    fn target(&self, p: usize, kappa: T) -> Self::Target<'_>;
    /// The source chunks, in order (sources past the real count must still give finite
    /// exponents and costs: they are masked by `v̂ = Real::MASKED`).
    fn chunks(&self) -> impl Iterator<Item = Self::Chunk<'_>> + '_;
    /// Adds the cross terms of target `t` and `chunk` to `z`, with `isa`'s
    /// multiply-adds.
    fn cross<'t, I: Isa>(
        &'t self,
        isa: I,
        t: &Self::Target<'t>,
        chunk: Self::Chunk<'t>,
        z: &mut [T; LANES],
    );
    /// The raw costs c_pq of target `t` and `chunk` (for ⟨C, P⟩; not on the hot path).
    fn costs<'t>(&'t self, t: &Self::Target<'t>, chunk: Self::Chunk<'t>) -> [T; LANES];
    /// Target `p`'s potential `u` (kernel units) in absorbed form.
    fn absorb_target(&self, p: usize, u: T, kappa: T) -> T;
    /// Source potentials `v` (kernel units, padded) into absorbed form, in place;
    /// masked ones (−∞) become [`Real::MASKED`].
    fn absorb_sources(&self, v: &mut [T], kappa: T);
    /// This source as a 2-D cloud of compile-time dimension, if [`stream`] should run
    /// it so: a 2-D cloud on Cortex-M, never elsewhere. Cortex-M builds keep one run-time-dimension
    /// instance of every pass, for flash; LLVM does not specialise its chunk loop for
    /// d = 2 by itself, so [`stream`] does, per target, at the price of a second copy
    /// of the loop (the ≤ 25 instructions per entry target needs it). The exponents are
    /// the same bit for bit.
    fn planar(&self) -> Option<Clouds<'_, T, Fixed<2>>> {
        None
    }
    /// The source [`shifted`]'s re-shifted passes run on (Cortex-M): one type for a
    /// source and its [`Tuned`] views, so that they share one copy of that rare code.
    #[cfg(target_arch = "arm")]
    type Rare<'r>: CostSource<T>
    where
        Self: 'r;
    /// This source as [`CostSource::Rare`] (the same exponents).
    #[cfg(target_arch = "arm")]
    fn rare(&self) -> Self::Rare<'_>;
}

/// What a kernel pass accumulates from each chunk.
pub(crate) trait Reduce<T: Real> {
    /// Takes the chunk of terms `e` (already exponentiated) for sources
    /// `q0..q0+LANES`; `costs` gives their raw costs, for the reductions that need them.
    fn add(&mut self, q0: usize, e: &[T; LANES], costs: impl FnOnce() -> [T; LANES]);
    /// Forgets everything accumulated (before a re-shifted second pass).
    fn reset(&mut self);
    /// [`Reduce::add`] with `isa`'s multiply-adds (what the kernel calls; the
    /// reducers that multiply-add per entry override it).
    #[inline(always)]
    fn add_isa<I: Isa>(
        &mut self,
        isa: I,
        q0: usize,
        e: &[T; LANES],
        costs: impl FnOnce() -> [T; LANES],
    ) {
        let _ = isa;
        self.add(q0, e, costs);
    }
    /// This reducer as the one type [`shifted`]'s re-shifted passes share on Cortex-M,
    /// if it is a Sinkhorn pass's (`()`, [`CostSum`]); `None`: a copy of its own.
    #[cfg(target_arch = "arm")]
    fn shared(&mut self) -> Option<Shared<'_, T>> {
        None
    }
}

/// A cost source whose passes run on the instruction-set path `isa` (the token a
/// dispatched pass got from `crate::dispatch::dispatch!`): the same source, the same
/// exponents, computed with that path's multiply-adds and exponential. Without
/// `PLANAR`, the source's 2-D specialisation is off ([`CostSource::planar`]).
pub(crate) struct Tuned<'s, S, I, const PLANAR: bool = true> {
    /// The source.
    pub src: &'s S,
    /// The path's token.
    pub isa: I,
}

impl<'s, S, I> Tuned<'s, S, I> {
    /// `src` on path `isa`.
    #[inline(always)]
    pub(crate) const fn new(src: &'s S, isa: I) -> Self {
        Self { src, isa }
    }
}

impl<'s, S, I> Tuned<'s, S, I, false> {
    /// `src` on path `isa`, its passes with one chunk loop, the run-time-dimension one
    /// (the same exponents): for a pass that runs once per solve, or rarely (Cortex-M's
    /// re-shifted passes), where the 2-D loop would cost flash for a few instructions
    /// per entry of one pass.
    #[inline(always)]
    pub(crate) const fn unspecialised(src: &'s S, isa: I) -> Self {
        Self { src, isa }
    }
}

impl<T: Real, S: CostSource<T>, I: Isa, const PLANAR: bool> CostSource<T>
    for Tuned<'_, S, I, PLANAR>
{
    type Target<'t>
        = S::Target<'t>
    where
        Self: 't;
    type Chunk<'t>
        = S::Chunk<'t>
    where
        Self: 't;
    type Isa = I;
    #[inline(always)]
    fn isa(&self) -> I {
        self.isa
    }
    #[inline(always)]
    fn target(&self, p: usize, kappa: T) -> Self::Target<'_> {
        self.src.target(p, kappa)
    }
    #[inline(always)]
    fn chunks(&self) -> impl Iterator<Item = Self::Chunk<'_>> + '_ {
        self.src.chunks()
    }
    #[inline(always)]
    fn cross<'t, J: Isa>(
        &'t self,
        isa: J,
        t: &Self::Target<'t>,
        chunk: Self::Chunk<'t>,
        z: &mut [T; LANES],
    ) {
        self.src.cross(isa, t, chunk, z);
    }
    #[inline(always)]
    fn costs<'t>(&'t self, t: &Self::Target<'t>, chunk: Self::Chunk<'t>) -> [T; LANES] {
        self.src.costs(t, chunk)
    }
    #[inline(always)]
    fn absorb_target(&self, p: usize, u: T, kappa: T) -> T {
        self.src.absorb_target(p, u, kappa)
    }
    #[inline(always)]
    fn absorb_sources(&self, v: &mut [T], kappa: T) {
        self.src.absorb_sources(v, kappa);
    }
    #[inline(always)]
    fn planar(&self) -> Option<Clouds<'_, T, Fixed<2>>> {
        if PLANAR {
            self.src.planar()
        } else {
            None
        }
    }
    // The source itself: on Cortex-M the path is always `Portable`.
    #[cfg(target_arch = "arm")]
    type Rare<'r>
        = S::Rare<'r>
    where
        Self: 'r;
    #[cfg(target_arch = "arm")]
    #[inline(always)]
    fn rare(&self) -> S::Rare<'_> {
        S::rare(self.src)
    }
}

/// Squared Euclidean costs between the rows of a row-major target array and sources
/// stored chunk-major ("array of structures of arrays"): chunk `c` holds the
/// coordinates of sources `16c … 16c + 15` as `dim` consecutive blocks of [`LANES`]
/// values, coordinate after coordinate, so one chunk is one contiguous slice and the
/// inner loop needs no index arithmetic or bounds checks (see [`chunk_major`]).
///
/// The sources are stored relative to `center` (see [`load_points`](crate::ot::workspace::load_points));
/// the targets are the caller's points in the caller's layout, and the centre is
/// subtracted once per target.
pub(crate) struct Clouds<'a, T, K = usize> {
    /// Target points (`dim` coordinates per point).
    pub tgt: Points<'a, T>,
    /// Source points minus `center`, chunk-major, padded to whole chunks.
    pub src: &'a [T],
    /// The centre subtracted from both sides: point 0 of this view
    /// ([`Points::empty`] for the origin).
    pub center: Points<'a, T>,
    /// The targets minus `center`, chunk-major like `src`, where the caller has them
    /// (the solver keeps both clouds so): the 2-D path on Cortex-M reads a target
    /// there, with one bounds check and no subtraction, instead of through the
    /// caller's layout. The values are the same, so the results are too.
    pub tgt_chunks: Option<&'a [T]>,
    /// Dimension: a `usize`, or [`Fixed`] when it is known at compile time.
    pub dim: K,
}

impl<'a, T, K> Clouds<'a, T, K> {
    /// Targets `tgt` against chunk-major sources `src` stored relative to `center`.
    pub(crate) const fn new(
        tgt: Points<'a, T>,
        src: &'a [T],
        center: Points<'a, T>,
        dim: K,
    ) -> Self {
        Self {
            tgt,
            src,
            center,
            tgt_chunks: None,
            dim,
        }
    }

    /// The same, with the targets' chunk-major copy (see `tgt_chunks`).
    pub(crate) const fn with_target_chunks(mut self, chunks: &'a [T]) -> Self {
        self.tgt_chunks = Some(chunks);
        self
    }
}

impl<'a, T: Copy, K> Clouds<'a, T, K> {
    /// The same clouds with the dimension given as `dim` (which must be the same
    /// number: a [`Fixed`] for a run-time `usize`, see [`on_clouds`]).
    #[inline(always)]
    #[cfg_attr(target_arch = "arm", allow(dead_code))]
    pub(crate) const fn with_dim<D>(&self, dim: D) -> Clouds<'a, T, D> {
        Clouds {
            tgt: self.tgt,
            src: self.src,
            center: self.center,
            tgt_chunks: self.tgt_chunks,
            dim,
        }
    }
}

/// `on_clouds!(cl, |src| body)`: runs `body` (a whole pass over the targets of the
/// run-time-dimension [`Clouds`] `cl`) on the dispatched instruction-set path (see
/// `crate::dispatch::dispatch!`) with `src` a [`Tuned`] view of `cl` whose dimension
/// is a compile-time [`Fixed`] for d ∈ 1..=4 where the FPU has SIMD: the coordinate
/// loop unrolls, and d = 1, 3, 4 run as tight a chunk loop as d = 2 (plus the
/// multiply-add per coordinate). One run-time-dimension instance on Cortex-M (flash).
macro_rules! on_clouds {
    ($cl:expr, |$src:ident| $body:expr) => {
        $crate::dispatch::dispatch!(|isa| {
            let cl = $cl;
            #[cfg(not(target_arch = "arm"))]
            match cl.dim {
                1 => {
                    let c = cl.with_dim($crate::kernel::Fixed::<1>);
                    let $src = &$crate::kernel::Tuned::new(&c, isa);
                    $body
                }
                2 => {
                    let c = cl.with_dim($crate::kernel::Fixed::<2>);
                    let $src = &$crate::kernel::Tuned::new(&c, isa);
                    $body
                }
                3 => {
                    let c = cl.with_dim($crate::kernel::Fixed::<3>);
                    let $src = &$crate::kernel::Tuned::new(&c, isa);
                    $body
                }
                4 => {
                    let c = cl.with_dim($crate::kernel::Fixed::<4>);
                    let $src = &$crate::kernel::Tuned::new(&c, isa);
                    $body
                }
                _ => {
                    let $src = &$crate::kernel::Tuned::new(cl, isa);
                    $body
                }
            }
            // Cortex-M: the clouds themselves, the code of one path.
            #[cfg(target_arch = "arm")]
            {
                let _ = isa;
                let $src = cl;
                $body
            }
        })
    };
}
pub(crate) use on_clouds;

/// A point dimension, known at run time (`usize`) or at compile time ([`Fixed`]).
pub(crate) trait Dim: Copy + Sync {
    /// The dimension.
    fn get(self) -> usize;
}

impl Dim for usize {
    #[inline(always)]
    fn get(self) -> usize {
        self
    }
}

/// A dimension fixed at compile time: the cost loop over coordinates unrolls and the
/// chunk offsets become shifts. The Sinkhorn solver and the plan operations
/// instantiate it for d = 2 and 3 on targets with SIMD, where it is markedly faster;
/// Cortex-M builds keep the one generic instance, for flash.
#[derive(Clone, Copy)]
pub(crate) struct Fixed<const D: usize>;

impl<const D: usize> Dim for Fixed<D> {
    #[inline(always)]
    fn get(self) -> usize {
        D
    }
}

/// Up to how many dimensions [`CloudTarget`] holds its cross-term factors: 4 where the
/// FPU has SIMD (d = 1 to 4 then run the same chunk loop, one multiply-add per
/// coordinate), 2 on Cortex-M (registers and stack).
const FACTORS: usize = if cfg!(target_arch = "arm") { 2 } else { 4 };

/// One target of [`Clouds`]: its coordinates, and the cross-term factors 2κ·x̃ of
/// its first coordinates computed once.
#[derive(Clone, Copy)]
pub(crate) struct CloudTarget<'a, T> {
    /// The target's coordinates, as given: coordinate k at `k·coord_stride`.
    x: &'a [T],
    /// 2κ (kernel units).
    two_kappa: T,
    /// 2κ·x̃_k (the centre subtracted) for every coordinate if d ≤ [`FACTORS`] (on
    /// Cortex-M only in 2-D); 0 otherwise (unused).
    a: [T; FACTORS],
    /// x̃_k itself, likewise (off Cortex-M): [`CostSource::costs`] reads it instead of
    /// subtracting the centre again in every chunk (a scalar subtraction per coordinate
    /// in the vector loop, which LLVM does not hoist).
    #[cfg(not(target_arch = "arm"))]
    r: [T; FACTORS],
}

impl<T: Real, K: Dim> Clouds<'_, T, K> {
    /// Coordinate `k` of a target point (its elements from [`Points::point_onwards`])
    /// relative to the centre (0 past the end).
    #[inline(always)]
    fn centred(&self, x: &[T], k: usize) -> T {
        let xk = x
            .get(k.wrapping_mul(self.tgt.coord_stride()))
            .copied()
            .unwrap_or(T::ZERO);
        xk - self.center.get(0, k)
    }

    /// Target `p` of a 2-D cloud relative to the centre (0 if out of range), each
    /// slice checked once, so that the loads are unconditional and the copies in `norm`
    /// and `target` of one row merge (otherwise a check and a conditional load per
    /// coordinate and side, twice per row and pass on the Cortex-M4F).
    #[inline(always)]
    fn centred2(&self, p: usize) -> [T; 2] {
        // Only on Cortex-M, where it saves instructions per row; x86-64 builds ran the
        // row pass's chunk loop slower with it.
        if let (true, Some(chunks)) = (cfg!(target_arch = "arm"), self.tgt_chunks) {
            let at = chunk_major(p, 0, 2);
            return match chunks.get(at..at + LANES + 1) {
                Some(&[x0, .., x1]) => [x0, x1],
                _ => [T::ZERO; 2],
            };
        }
        let x = self.tgt.pair(p).unwrap_or([T::ZERO; 2]);
        match self.center.pair(0) {
            Some([c0, c1]) => [x[0] - c0, x[1] - c1],
            None => x,
        }
    }

    /// ‖x̃_p‖², target `p` relative to the centre.
    #[inline(always)]
    fn norm(&self, p: usize) -> T {
        let d = self.dim.get();
        if d == 2 {
            let [r0, r1] = self.centred2(p);
            return r1.mul_add(r1, r0.mul_add(r0, T::ZERO));
        }
        let x = self.tgt.point_onwards(p);
        (0..d).fold(T::ZERO, |acc, k| {
            let r = self.centred(x, k);
            r.mul_add(r, acc)
        })
    }
}

impl<T: Real, K: Dim> CostSource<T> for Clouds<'_, T, K> {
    type Target<'t>
        = CloudTarget<'t, T>
    where
        Self: 't;
    type Chunk<'t>
        = &'t [T]
    where
        Self: 't;
    type Isa = Portable;
    #[inline(always)]
    fn isa(&self) -> Portable {
        Portable
    }

    #[inline(always)]
    fn target(&self, p: usize, kappa: T) -> CloudTarget<'_, T> {
        let d = self.dim.get();
        let x = self.tgt.point_onwards(p);
        let two_kappa = kappa + kappa;
        #[cfg(target_arch = "arm")]
        let a = {
            let [r0, r1] = if d == 2 {
                self.centred2(p)
            } else {
                [T::ZERO; 2]
            };
            [two_kappa * r0, two_kappa * r1]
        };
        #[cfg(not(target_arch = "arm"))]
        let (a, r) = {
            let (mut a, mut r) = ([T::ZERO; FACTORS], [T::ZERO; FACTORS]);
            if d == 2 {
                let [r0, r1] = self.centred2(p);
                (r[0], r[1]) = (r0, r1);
                (a[0], a[1]) = (two_kappa * r0, two_kappa * r1);
            } else if d <= FACTORS {
                for (k, (ak, rk)) in a.iter_mut().zip(&mut r).enumerate().take(d) {
                    *rk = self.centred(x, k);
                    *ak = two_kappa * *rk;
                }
            }
            (a, r)
        };
        CloudTarget {
            x,
            two_kappa,
            a,
            #[cfg(not(target_arch = "arm"))]
            r,
        }
    }

    #[inline(always)]
    fn chunks(&self) -> impl Iterator<Item = &[T]> + '_ {
        // Never 0 (chunks_exact would panic): `max` keeps the panic path out.
        self.src
            .chunks_exact(LANES.saturating_mul(self.dim.get()).max(LANES))
    }

    #[inline(always)]
    fn cross<'t, I: Isa>(
        &'t self,
        isa: I,
        t: &CloudTarget<'t, T>,
        chunk: &'t [T],
        z: &mut [T; LANES],
    ) {
        // d = 2 written out, with the factors read once per target: a runtime
        // dimension otherwise keeps a coordinate loop per chunk (Cortex-M, where d is
        // not a compile-time constant). With `Fixed<2>` the test is a constant.
        let d = self.dim.get();
        if d == 2 {
            if let (Some((y0, y1)), [a0, a1, ..]) = (chunk.split_at_checked(LANES), t.a) {
                for ((zl, &b0), &b1) in z.iter_mut().zip(y0).zip(y1) {
                    *zl = isa.mul_add(a0, b0, isa.mul_add(a1, b1, *zl));
                }
            }
            return;
        }
        // d = 1, 3, 4 with SIMD: the factors computed once per target, coordinate by
        // coordinate as below (the same bits), one multiply-add per coordinate.
        if !cfg!(target_arch = "arm") && d <= FACTORS {
            for (ys, &a) in chunk.as_chunks::<LANES>().0.iter().zip(&t.a) {
                for (zl, &y) in z.iter_mut().zip(ys) {
                    *zl = isa.mul_add(a, y, *zl);
                }
            }
            return;
        }
        for (k, ys) in chunk.chunks_exact(LANES).enumerate() {
            let a = t.two_kappa * self.centred(t.x, k);
            for (zl, &y) in z.iter_mut().zip(ys) {
                *zl = isa.mul_add(a, y, *zl);
            }
        }
    }

    fn costs<'t>(&'t self, t: &CloudTarget<'t, T>, chunk: &'t [T]) -> [T; LANES] {
        let mut c = [T::ZERO; LANES];
        for (k, ys) in chunk.chunks_exact(LANES).enumerate() {
            #[cfg(not(target_arch = "arm"))]
            let xk = match t.r.get(k) {
                Some(&rk) if self.dim.get() <= FACTORS => rk,
                _ => self.centred(t.x, k),
            };
            #[cfg(target_arch = "arm")]
            let xk = self.centred(t.x, k);
            for (cl, &y) in c.iter_mut().zip(ys) {
                let r = xk - y;
                *cl = r.mul_add(r, *cl);
            }
        }
        c
    }

    #[inline(always)]
    fn absorb_target(&self, p: usize, u: T, kappa: T) -> T {
        // Through the compile-time 2-D cloud where `stream` runs one, and inlined: it
        // runs once per row and pass, which counts on the Cortex-M4F. (`norm` has its
        // own 2-D branch, but the planar dispatch is the cheaper of the two there.)
        let norm = match self.planar() {
            Some(planar) => planar.norm(p),
            None => self.norm(p),
        };
        (-kappa).mul_add(norm, u)
    }

    #[inline(always)]
    fn planar(&self) -> Option<Clouds<'_, T, Fixed<2>>> {
        (cfg!(target_arch = "arm") && self.dim.get() == 2).then_some(Clouds {
            tgt: self.tgt,
            src: self.src,
            center: self.center,
            tgt_chunks: self.tgt_chunks,
            dim: Fixed,
        })
    }

    // One chunk loop, the run-time-dimension one: the 2-D copy is not worth its flash
    // in a pass that is rare after the first iterations.
    #[cfg(target_arch = "arm")]
    type Rare<'r>
        = Tuned<'r, Self, Portable, false>
    where
        Self: 'r;
    #[cfg(target_arch = "arm")]
    #[inline(always)]
    fn rare(&self) -> Tuned<'_, Self, Portable, false> {
        Tuned::unspecialised(self, Portable)
    }

    fn absorb_sources(&self, v: &mut [T], kappa: T) {
        // The potentials as arrays (`as_chunks_mut`), as in `chunks`: no panic path.
        for (chunk, vc) in self.chunks().zip(v.as_chunks_mut::<LANES>().0) {
            let mut norm = [T::ZERO; LANES];
            for ys in chunk.chunks_exact(LANES) {
                for (nl, &y) in norm.iter_mut().zip(ys) {
                    *nl = y.mul_add(y, *nl);
                }
            }
            for (vl, nl) in vc.iter_mut().zip(norm) {
                // Argument order keeps a NaN (only −∞ and below become `MASKED`).
                *vl = T::MASKED.max_fast((-kappa).mul_add(nl, *vl));
            }
        }
    }
}

/// Index of coordinate `k` of point `i` in chunk-major storage of `dim`-dimensional
/// points (the layout [`Clouds`] reads and [`Weighted`] uses for its channels).
#[inline]
#[must_use]
pub(crate) const fn chunk_major(i: usize, k: usize, dim: usize) -> usize {
    (i / LANES) * LANES * dim + k * LANES + i % LANES
}

/// A dense row-major cost matrix with `cols` columns, seen from its rows (target =
/// row, sources = columns) or, if `BY_COLS`, from its columns.
#[cfg(feature = "dense")]
pub(crate) struct Dense<'a, T, const BY_COLS: bool> {
    /// Entries, row-major.
    pub c: &'a [T],
    /// Number of columns.
    pub cols: usize,
}

/// The matrix seen from its rows.
#[cfg(feature = "dense")]
pub(crate) type DenseRows<'a, T> = Dense<'a, T, false>;
/// The matrix seen from its columns.
#[cfg(feature = "dense")]
pub(crate) type DenseCols<'a, T> = Dense<'a, T, true>;

/// One target of a dense matrix: its index and κ.
#[cfg(feature = "dense")]
#[derive(Clone, Copy)]
pub(crate) struct DenseTarget<T> {
    p: usize,
    kappa: T,
}

#[cfg(feature = "dense")]
impl<T: Real, const BY_COLS: bool> CostSource<T> for Dense<'_, T, BY_COLS> {
    type Target<'t>
        = DenseTarget<T>
    where
        Self: 't;
    type Chunk<'t>
        = usize
    where
        Self: 't;
    type Isa = Portable;
    fn isa(&self) -> Portable {
        Portable
    }

    fn target(&self, p: usize, kappa: T) -> DenseTarget<T> {
        DenseTarget { p, kappa }
    }
    fn chunks(&self) -> impl Iterator<Item = usize> + '_ {
        let sources = if BY_COLS {
            self.c.len() / self.cols.max(1)
        } else {
            self.cols
        };
        0..padded(sources) / LANES
    }
    /// The cross term is −κ·c_pq: nothing is absorbed into the potentials.
    #[inline(always)]
    fn cross<I: Isa>(&self, isa: I, t: &DenseTarget<T>, chunk: usize, z: &mut [T; LANES]) {
        for (zl, cl) in z.iter_mut().zip(self.costs(t, chunk)) {
            *zl = isa.mul_add(-t.kappa, cl, *zl);
        }
    }
    #[inline(always)]
    fn costs(&self, t: &DenseTarget<T>, chunk: usize) -> [T; LANES] {
        core::array::from_fn(|l| {
            let q = chunk * LANES + l;
            let entry = if BY_COLS {
                self.c.get(q * self.cols + t.p)
            } else if q < self.cols {
                self.c.get(t.p * self.cols + q)
            } else {
                None
            };
            entry.copied().unwrap_or(T::ZERO)
        })
    }
    fn absorb_target(&self, _p: usize, u: T, _kappa: T) -> T {
        u
    }
    /// Nothing to absorb; masked potentials become [`Real::MASKED`].
    fn absorb_sources(&self, v: &mut [T], _kappa: T) {
        for vl in v {
            *vl = T::MASKED.max_fast(*vl);
        }
    }
    #[cfg(target_arch = "arm")]
    type Rare<'r>
        = Dense<'r, T, BY_COLS>
    where
        Self: 'r;
    #[cfg(target_arch = "arm")]
    fn rare(&self) -> Dense<'_, T, BY_COLS> {
        Dense {
            c: self.c,
            cols: self.cols,
        }
    }
}

/// One pass over all sources for target `p`: feeds the terms `2^(û_p + v̂_q + x_pq −
/// shift − φ)` (kernel units, absorbed potentials, see [`CostSource`]) to `red` chunk by
/// chunk and returns `(Shift(shift + φ), their sum)` (the sum 0 if every source is
/// masked; non-finite if a term overflowed). φ is the exponential's rounding of the
/// offset û_p − shift (the path's [`Real::exp2_bias`]: 0 in f64; in f32 below 1/2
/// in magnitude, 1/64 on AVX-512 and 1/128 on Cortex-M), so the true terms are
/// 2^(returned shift) times those fed.
///
/// `v.len()` must be a multiple of [`LANES`] (padded); a ragged tail is ignored.
/// `FULL` selects the full-range exponential (exact 0 for every exponent below the
/// range); without, one that may give NaN for exponents below −2^17 (only `shifted`'s
/// first pass, which redoes such a target; see [`Real::exp2_biased`]).
#[inline(always)]
pub(crate) fn stream<T: Real, S: CostSource<T>, R: Reduce<T>, const FULL: bool>(
    src: &S,
    p: usize,
    u_p: T,
    v: &[T],
    kappa: T,
    shift: T,
    red: &mut R,
) -> (Shift<T>, T) {
    let Some((bias, phi)) = src.isa().exp2_bias(u_p - shift) else {
        // An offset the split cannot hold: added to each exponent (one copy of the loop,
        // for potentials of millions of ε).
        let sum = chunks::<_, _, _, FULL, false>(src, src.target(p, kappa), u_p - shift, v, red);
        return (Shift(shift), sum);
    };
    let sum = match src.planar() {
        Some(planar) => {
            chunks::<_, _, _, FULL, true>(&planar, planar.target(p, kappa), bias, v, red)
        }
        None => chunks::<_, _, _, FULL, true>(src, src.target(p, kappa), bias, v, red),
    };
    (Shift(shift + phi), sum)
}

/// The loop of [`stream`], for target `t` of `src`: `bias` from [`Real::exp2_bias`]
/// if `SPLIT`, else the offset itself, added to each exponent.
#[inline(always)]
fn chunks<'t, T: Real, S: CostSource<T>, R: Reduce<T>, const FULL: bool, const SPLIT: bool>(
    src: &'t S,
    t: S::Target<'t>,
    bias: T,
    v: &[T],
    red: &mut R,
) -> T {
    // The unsplit form: the offset added to each exponent, with the b of offset 0.
    let (zero, _) = src.isa().exp2_bias(T::ZERO).unwrap_or((T::ZERO, T::ZERO));
    let mut sum = [T::ZERO; LANES];
    let mut e = [T::ZERO; LANES];
    // `zip` with the potentials as arrays (`as_chunks`): one trip count for both, no
    // bounds checks and no panic path (separate `next()` calls keep two counters and
    // two exits).
    for (chunk, (ys, vq)) in src.chunks().zip(v.as_chunks::<LANES>().0).enumerate() {
        let w = exponents(src, &t, ys, vq);
        let whole = if SPLIT {
            src.isa().exp2_chunk::<T, FULL>(&w, bias, &mut e, &mut sum)
        } else {
            src.isa()
                .exp2_chunk::<T, FULL>(&w.map(|x| x + bias), zero, &mut e, &mut sum)
        };
        if !whole {
            for l in 0..LANES {
                e[l] = if SPLIT {
                    src.isa().exp2_biased::<T, FULL>(w[l], bias)
                } else {
                    src.isa().exp2_biased::<T, FULL>(w[l] + bias, zero)
                };
                sum[l] += e[l];
            }
        }
        red.add_isa(src.isa(), chunk * LANES, &e, || src.costs(&t, ys));
    }
    tree(sum, |a, b| a + b)
}

/// The exponents `v̂_q + x_pq` of one chunk without the target's offset (kernel
/// units): the one formula [`stream`] and [`peak`] share.
#[inline(always)]
fn exponents<'t, T: Real, S: CostSource<T>>(
    src: &'t S,
    t: &S::Target<'t>,
    chunk: S::Chunk<'t>,
    vq: &[T; LANES],
) -> [T; LANES] {
    let mut w = *vq;
    src.cross(src.isa(), t, chunk, &mut w);
    w
}

/// The largest exponent `max_q (û_p + v̂_q + x_pq)` over all sources of target `p`
/// (a [`masked`] value if every source is): the shift of [`shifted`]'s second pass.
/// Out of line on Cortex-M (flash); inlined elsewhere, into the dispatched pass whose
/// instruction set it must share (out of line, an FMA path's multiply-adds would be
/// calls).
#[cfg_attr(target_arch = "arm", inline(never))]
#[cfg_attr(not(target_arch = "arm"), inline(always))]
fn peak<T: Real, S: CostSource<T>>(src: &S, p: usize, u_p: T, v: &[T], kappa: T) -> T {
    let mut mx = [T::NEG_INFINITY; LANES];
    let t = src.target(p, kappa);
    for (ys, vq) in src.chunks().zip(v.as_chunks::<LANES>().0) {
        let w = exponents(src, &t, ys, vq);
        for l in 0..LANES {
            mx[l] = w[l].max_fast(mx[l]);
        }
    }
    tree(mx, T::max_fast) + u_p
}

/// Folds the lanes pairwise (a balanced tree, log₂ [`LANES`] dependent steps instead of
/// [`LANES`]): the per-target horizontal reductions stay off the critical path.
#[inline(always)]
fn tree<T: Real>(mut lanes: [T; LANES], op: impl Fn(T, T) -> T) -> T {
    let mut width = LANES / 2;
    while width > 0 {
        for l in 0..width {
            lanes[l] = op(lanes[l], lanes[l + width]);
        }
        width /= 2;
    }
    lanes[0]
}

/// [`stream`] with the shift chosen for accuracy: one pass if the sum of the terms is
/// inside the precision window, otherwise a second pass shifted by the largest
/// exponent. Returns `(shift, Σ_q e_pq)`: the true reduction is 2^shift times what
/// `red` holds and the returned sum (the shift is 0 in the one-pass case except for
/// Cortex-M f32's rounding φ, see [`stream`]).
///
/// If every source is masked the result is (Shift(−∞), 0) with `red` holding zeros.
///
/// The first pass may feed the exponential exponents above its range (a cold start, a
/// far-off warm start): their terms are non-finite, so the sum leaves the window and
/// the pass is redone shifted, with every exponent ≤ 0. Its exponential may give NaN
/// for exponents far below the range (costs beyond ~10⁵ ε), which takes the same way;
/// the shifted pass uses the full-range one (see [`Real::exp2_biased`]).
#[inline(always)]
pub(crate) fn shifted<T: Real, S: CostSource<T>, R: Reduce<T>>(
    src: &S,
    p: usize,
    u_p: T,
    v: &[T],
    kappa: T,
    red: &mut R,
) -> (Shift<T>, T) {
    red.reset();
    let (shift, sum) = stream::<_, _, _, false>(src, p, u_p, v, kappa, T::ZERO, red);
    if in_window(sum) {
        return (shift, sum);
    }
    // Cortex-M: one copy for the Sinkhorn passes' reducers.
    #[cfg(target_arch = "arm")]
    if let Some(mut red) = red.shared() {
        return shared_rare(&src.rare(), (p, u_p), (v, kappa), &mut red, sum);
    }
    reshifted(src, (p, u_p), (v, kappa), red, sum)
}

/// Whether a pass's sum is inside the precision window (see [`shifted`]).
#[inline(always)]
fn in_window<T: Real>(sum: T) -> bool {
    sum >= T::LSE_SUM_MIN && sum <= T::LSE_SUM_MAX
}

/// [`shifted`] for a pass that runs once or twice per solve (the Sinkhorn pass that
/// measures ⟨C, P⟩). On Cortex-M its first pass runs in the one out-of-line copy of the
/// Sinkhorn passes' re-shifted pass ([`Reduce::shared`]) instead of a loop of its own:
/// flash, for the full-range exponential's extra instruction per entry of a rare pass.
/// The terms are the same down to exponents of −2^17; below, exact zeros where the
/// inline first pass would redo the target shifted. Elsewhere [`shifted`].
#[inline(always)]
pub(crate) fn shifted_rare<T: Real, S: CostSource<T>, R: Reduce<T>>(
    src: &S,
    p: usize,
    u_p: T,
    v: &[T],
    kappa: T,
    red: &mut R,
) -> (Shift<T>, T) {
    #[cfg(target_arch = "arm")]
    if let Some(mut red) = red.shared() {
        let src = src.rare();
        let (shift, sum) = shared_pass(&src, (p, u_p), (v, kappa), &mut red, T::ZERO);
        if in_window(sum) {
            return (shift, sum);
        }
        return shared_rare(&src, (p, u_p), (v, kappa), &mut red, sum);
    }
    shifted(src, p, u_p, v, kappa, red)
}

/// The rest of [`shifted`] for a target whose first sum `sum` left the window: the
/// largest exponent, and the pass again shifted by it. Out of line: it is rare after
/// the first iterations, and inlined it makes every caller larger and its registers
/// scarcer on the Cortex-M4F (fewer instructions and less flash out of line).
/// Inlined elsewhere: out of line the f64 kernel is slower on x86-64.
#[cfg_attr(target_arch = "arm", inline(never))]
#[cfg_attr(not(target_arch = "arm"), inline(always))]
fn reshifted<T: Real, S: CostSource<T>, R: Reduce<T>>(
    src: &S,
    at: (usize, T),
    pot: (&[T], T),
    red: &mut R,
    sum: T,
) -> (Shift<T>, T) {
    // Cortex-M: on the source's rare form, one copy for a source and its views. Made
    // here, not in `shifted`: there it cost OT resampling's inlined passes instructions.
    #[cfg(target_arch = "arm")]
    return rare_pass(&src.rare(), at, pot, red, sum);
    #[cfg(not(target_arch = "arm"))]
    rare_pass(src, at, pot, red, sum)
}

/// The body of [`reshifted`].
#[cfg_attr(target_arch = "arm", inline(never))]
#[cfg_attr(not(target_arch = "arm"), inline(always))]
fn rare_pass<T: Real, S: CostSource<T>, R: Reduce<T>>(
    src: &S,
    at: (usize, T),
    pot: (&[T], T),
    red: &mut R,
    sum: T,
) -> (Shift<T>, T) {
    reshift(src, at, pot, sum, |mx| full_pass(src, at, pot, red, mx))
}

/// [`rare_pass`] for the Sinkhorn passes' shared reducer on Cortex-M, its pass
/// [`shared_pass`] (the one copy [`shifted_rare`] runs too).
#[cfg(target_arch = "arm")]
#[inline(never)]
fn shared_rare<T: Real, S: CostSource<T>>(
    src: &S,
    at: (usize, T),
    pot: (&[T], T),
    red: &mut Shared<'_, T>,
    sum: T,
) -> (Shift<T>, T) {
    reshift(src, at, pot, sum, |mx| shared_pass(src, at, pot, red, mx))
}

/// [`full_pass`] for the Sinkhorn passes' shared reducer, out of line (Cortex-M).
#[cfg(target_arch = "arm")]
#[inline(never)]
fn shared_pass<T: Real, S: CostSource<T>>(
    src: &S,
    at: (usize, T),
    pot: (&[T], T),
    red: &mut Shared<'_, T>,
    shift: T,
) -> (Shift<T>, T) {
    full_pass(src, at, pot, red, shift)
}

/// A re-shifted pass: `pass` run shifted by the largest exponent of target `p`
/// ([`peak`]), or, when there is nothing to re-shift (every source masked: shift −∞; a
/// non-finite argument: that value), the first pass's `sum` left as it is.
#[inline(always)]
fn reshift<T: Real, S: CostSource<T>>(
    src: &S,
    (p, u_p): (usize, T),
    (v, kappa): (&[T], T),
    sum: T,
    pass: impl FnOnce(T) -> (Shift<T>, T),
) -> (Shift<T>, T) {
    let mx = peak(src, p, u_p, v, kappa);
    if masked(mx) {
        // All sources masked: nothing to rescale.
        return (Shift(T::NEG_INFINITY), sum);
    }
    if !mx.is_finite() {
        // A non-finite argument.
        return (Shift(mx), sum);
    }
    pass(mx)
}

/// The pass of target `p` shifted by `shift`, with the full-range exponential.
#[inline(always)]
fn full_pass<T: Real, S: CostSource<T>, R: Reduce<T>>(
    src: &S,
    (p, u_p): (usize, T),
    (v, kappa): (&[T], T),
    red: &mut R,
    shift: T,
) -> (Shift<T>, T) {
    red.reset();
    stream::<_, _, _, true>(src, p, u_p, v, kappa, shift, red)
}

/// Whether an absorbed potential or exponent is masked (at or below half of
/// [`Real::MASKED`]; −∞ included).
#[inline]
pub(crate) fn masked<T: Real>(u: T) -> bool {
    u <= T::MASKED * T::HALF
}

/// A kernel pass's shift in kernel units (base 2): the true reduction is 2^shift times
/// what the pass accumulated. The default is no shift.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Shift<T>(T);

/// Targets whose kernel sums a pass computes before it runs their per-target tails
/// (log, potential update, checks). Each tail is a chain of dependent scalar steps as
/// long as a short row's chunk loop; batched, the tails of 16 rows are independent of
/// each other and overlap, where one after each row they stall it. 1 on Cortex-M: an
/// in-order core has nothing to overlap.
const ROW_BATCH: usize = if cfg!(target_arch = "arm") { 1 } else { 16 };

/// A row pass over the targets of `out` (log-weights `lw`, −∞ for none): `sum_of(k,
/// out[k])` is target k's kernel sum, `tail(k, &mut out[k], lw[k], sum)` its update;
/// targets without weight get −∞ and neither. In batches of [`ROW_BATCH`] targets, all
/// sums before their tails; every target's operations are the same.
///
/// # Errors
/// The first error of `tail` (targets before it are updated, later ones are not).
#[inline(always)]
pub(crate) fn batched_rows<T: Real, E>(
    out: &mut [T],
    lw: &[T],
    sum_of: impl Fn(usize, T) -> (Shift<T>, T),
    mut tail: impl FnMut(usize, &mut T, T, (Shift<T>, T)) -> Result<(), E>,
) -> Result<(), E> {
    if ROW_BATCH == 1 {
        for (k, (o, &lwp)) in out.iter_mut().zip(lw).enumerate() {
            let sum = row_sum(&sum_of, k, *o, lwp);
            row_tail(&mut tail, k, o, lwp, sum)?;
        }
        return Ok(());
    }
    let mut sums = [(Shift::default(), T::ZERO); ROW_BATCH];
    for (b, (out, lw)) in out
        .chunks_mut(ROW_BATCH)
        .zip(lw.chunks(ROW_BATCH))
        .enumerate()
    {
        let first = b * ROW_BATCH;
        for (k, ((o, &lwp), sum)) in out.iter().zip(lw).zip(&mut sums).enumerate() {
            *sum = row_sum(&sum_of, first + k, *o, lwp);
        }
        for (k, ((o, &lwp), &sum)) in out.iter_mut().zip(lw).zip(&sums).enumerate() {
            row_tail(&mut tail, first + k, o, lwp, sum)?;
        }
    }
    Ok(())
}

/// [`batched_rows`]' sum of one target (none without weight). Inlined, as the closures
/// it calls: out of line, a dispatch path's multiply-adds would be calls.
#[inline(always)]
fn row_sum<T: Real>(
    sum_of: &impl Fn(usize, T) -> (Shift<T>, T),
    k: usize,
    o: T,
    lwp: T,
) -> (Shift<T>, T) {
    if lwp == T::NEG_INFINITY {
        (Shift::default(), T::ZERO)
    } else {
        sum_of(k, o)
    }
}

/// [`batched_rows`]' tail of one target (−∞ without weight).
#[inline(always)]
fn row_tail<T: Real, E>(
    tail: &mut impl FnMut(usize, &mut T, T, (Shift<T>, T)) -> Result<(), E>,
    k: usize,
    o: &mut T,
    lwp: T,
    sum: (Shift<T>, T),
) -> Result<(), E> {
    if lwp == T::NEG_INFINITY {
        *o = T::NEG_INFINITY;
        Ok(())
    } else {
        tail(k, o, lwp, sum)
    }
}

impl<T: Real> Shift<T> {
    /// In natural-log units (σ = shift·ln 2), to add to the log of a sum.
    #[inline]
    pub fn ln(self) -> T {
        self.0 * T::LN_2
    }

    /// The factor 2^shift by which accumulated values are multiplied: exactly 1 for no
    /// shift, 0 when every source is masked, non-finite for a non-finite shift.
    #[inline]
    pub fn factor(self) -> T {
        if self.0 == T::ZERO {
            T::ONE
        } else if masked(self.0) {
            T::ZERO
        } else {
            self.0.exp2_kernel()
        }
    }
}

/// Nothing beyond the sum [`stream`] returns (log-sum-exp passes).
impl<T: Real> Reduce<T> for () {
    #[inline(always)]
    fn add(&mut self, _q0: usize, _e: &[T; LANES], _costs: impl FnOnce() -> [T; LANES]) {}
    fn reset(&mut self) {}
    #[cfg(target_arch = "arm")]
    #[inline(always)]
    fn shared(&mut self) -> Option<Shared<'_, T>> {
        Some(Shared(None))
    }
}

/// The reducer of the shared re-shifted passes on Cortex-M (see [`Reduce::shared`]): a
/// [`CostSum`], or nothing (`()`).
#[cfg(target_arch = "arm")]
pub(crate) struct Shared<'a, T>(Option<&'a mut CostSum<T>>);

#[cfg(target_arch = "arm")]
impl<T: Real> Reduce<T> for Shared<'_, T> {
    #[inline(always)]
    fn add(&mut self, q0: usize, e: &[T; LANES], costs: impl FnOnce() -> [T; LANES]) {
        if let Some(red) = &mut self.0 {
            red.add(q0, e, costs);
        }
    }
    fn reset(&mut self) {
        if let Some(red) = &mut self.0 {
            red.reset();
        }
    }
}

/// Σ_q e_pq·c_pq (the transport cost; the marginal Σ_q e_pq comes with it from
/// [`stream`]).
pub(crate) struct CostSum<T> {
    cost: [T; LANES],
}

impl<T: Real> CostSum<T> {
    /// An empty sum.
    pub fn new() -> Self {
        Self {
            cost: [T::ZERO; LANES],
        }
    }
    /// Σ e·c.
    pub fn total(&self) -> T {
        tree(self.cost, |a, b| a + b)
    }
}

impl<T: Real> Reduce<T> for CostSum<T> {
    #[inline(always)]
    fn add(&mut self, _q0: usize, e: &[T; LANES], costs: impl FnOnce() -> [T; LANES]) {
        let c = costs();
        for l in 0..LANES {
            self.cost[l] += e[l] * c[l];
        }
    }
    fn reset(&mut self) {
        self.cost = [T::ZERO; LANES];
    }
    #[cfg(target_arch = "arm")]
    #[inline(always)]
    fn shared(&mut self) -> Option<Shared<'_, T>> {
        Some(Shared(Some(self)))
    }
}

/// Σ_q e_pq·w_q[k] for `out.len()` weight channels stored chunk-major
/// like [`Clouds`] sources (P·v has one channel, i.e. a plain padded vector; the
/// barycentric projection uses the source coordinates, one channel per coordinate).
/// Per-channel totals go to `out`: a slice, or an array owned by the reducer when the
/// channel count is known at compile time (then the totals stay in registers: OT
/// resampling's two channels use an array, faster than a slice on x86-64 and on the
/// Cortex-M4F, at the price of a kernel instance of its own, about 1.5 KB of flash).
///
/// Off Cortex-M a chunk's products are folded by [`tree`] before they join the total:
/// one multiply-add per entry into the running total would chain every entry of a row
/// on the one before, a latency-bound pass that wide vectors cannot speed up.
/// Cortex-M keeps the multiply-add chain (4 lanes: short, and fewer instructions).
pub(crate) struct Weighted<'a, T, O = &'a mut [T]> {
    /// Source weights, chunk-major, padded with finite values.
    pub w: &'a [T],
    /// Per-channel running totals (one per channel).
    pub out: O,
}

impl<T: Real, O: AsMut<[T]>> Reduce<T> for Weighted<'_, T, O> {
    #[inline(always)]
    fn add(&mut self, q0: usize, e: &[T; LANES], costs: impl FnOnce() -> [T; LANES]) {
        self.add_isa(Portable, q0, e, costs);
    }
    #[inline(always)]
    fn add_isa<I: Isa>(
        &mut self,
        isa: I,
        q0: usize,
        e: &[T; LANES],
        _costs: impl FnOnce() -> [T; LANES],
    ) {
        let out = self.out.as_mut();
        let channels = out.len();
        let Some(chunk) = self.w.get(q0 * channels..(q0 + LANES) * channels) else {
            return;
        };
        // Plain products off Cortex-M: the fold, not a multiply-add chain, sums them.
        #[cfg(not(target_arch = "arm"))]
        let _ = isa;
        #[cfg(not(target_arch = "arm"))]
        for (acc, w) in out.iter_mut().zip(chunk.as_chunks::<LANES>().0) {
            let mut p = [T::ZERO; LANES];
            for l in 0..LANES {
                p[l] = e[l] * w[l];
            }
            *acc += tree(p, |a, b| a + b);
        }
        #[cfg(target_arch = "arm")]
        for (acc, w) in out.iter_mut().zip(chunk.chunks_exact(LANES)) {
            for (&ei, &wi) in e.iter().zip(w) {
                *acc = isa.mul_add(ei, wi, *acc);
            }
        }
    }
    fn reset(&mut self) {
        for o in self.out.as_mut() {
            *o = T::ZERO;
        }
    }
}

/// Writes the terms themselves into a row (the dense plan); `row.len()` is the real
/// source count, padded lanes are dropped.
pub(crate) struct Write<'a, T> {
    /// Destination row.
    pub row: &'a mut [T],
}

impl<T: Real> Reduce<T> for Write<'_, T> {
    #[inline(always)]
    fn add(&mut self, q0: usize, e: &[T; LANES], _costs: impl FnOnce() -> [T; LANES]) {
        if let Some(dst) = self.row.get_mut(q0..) {
            for (d, s) in dst.iter_mut().zip(e) {
                *d = *s;
            }
        }
    }
    fn reset(&mut self) {}
}

/// Bilinear reduction for gradients (particle-filter VJPs): with a per-target vector
/// `t` (length `dim`), accumulates s_q = e_pq·φ(t·a_q) into `out[0]` and s_q·b_q[k]
/// into `out[1 + k]`, where a, b are `dim`-channel source fields stored chunk-major
/// like [`Clouds`] sources (see [`chunk_major`]) and φ clips to [−clip, clip]
/// (`clip` = ∞: no clipping).
pub(crate) struct Bilinear<'a, T> {
    /// The target's vector, length `dim`.
    pub t: &'a [T],
    /// Dotted source field, chunk-major, padded with finite values.
    pub a: &'a [T],
    /// Accumulated source field, chunk-major, padded with finite values.
    pub b: &'a [T],
    /// Clipping bound of t·a_q (> 0).
    pub clip: T,
    /// Running totals, length `dim + 1`.
    pub out: &'a mut [T],
}

impl<T: Real> Reduce<T> for Bilinear<'_, T> {
    #[inline(always)]
    fn add(&mut self, q0: usize, e: &[T; LANES], costs: impl FnOnce() -> [T; LANES]) {
        self.add_isa(Portable, q0, e, costs);
    }
    #[inline(always)]
    fn add_isa<I: Isa>(
        &mut self,
        isa: I,
        q0: usize,
        e: &[T; LANES],
        _costs: impl FnOnce() -> [T; LANES],
    ) {
        let dim = self.t.len();
        let chunk = q0 * dim..(q0 + LANES) * dim;
        let (Some(a), Some(b)) = (self.a.get(chunk.clone()), self.b.get(chunk)) else {
            return;
        };
        let mut s = [T::ZERO; LANES];
        for (&tk, ak) in self.t.iter().zip(a.chunks_exact(LANES)) {
            for (sl, &al) in s.iter_mut().zip(ak) {
                *sl = isa.mul_add(tk, al, *sl);
            }
        }
        let mut tot = T::ZERO;
        for (sl, &el) in s.iter_mut().zip(e) {
            *sl = el * sl.max_fast(-self.clip).min_fast(self.clip);
            tot += *sl;
        }
        let Some((first, rest)) = self.out.split_first_mut() else {
            return;
        };
        *first += tot;
        for (acc, bk) in rest.iter_mut().zip(b.chunks_exact(LANES)) {
            let mut v = T::ZERO;
            for (&sl, &bl) in s.iter().zip(bk) {
                v = isa.mul_add(sl, bl, v);
            }
            *acc += v;
        }
    }
    fn reset(&mut self) {
        self.out.fill(T::ZERO);
    }
}
