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
//! [`Real::exp2_kernel`]). `stream` walks the sources in fixed chunks of [`LANES`]
//! so that LLVM vectorises the cost recomputation, the branch-free exponential and the
//! accumulation; a `Reduce` implementation decides what is accumulated. Nothing n×m
//! is ever stored.
//!
//! Source arrays are padded to a multiple of [`LANES`]: padded and zero-weight sources
//! carry `v_q = −∞`, for which `exp2_kernel` returns exactly 0.
//!
//! The shift: the Sinkhorn solver passes the target's previous potential as `u_p`, so
//! the arguments are the log plan entries of the previous iterate and lie in a narrow
//! range near convergence. `shifted` runs the reduction once with no extra shift;
//! `stream` always returns Σ_q e_pq, and only if that sum leaves
//! [[`Real::LSE_SUM_MIN`], [`Real::LSE_SUM_MAX`]] (early iterations, cold
//! starts, a far-off warm start) does it find the largest exponent (`peak`, a pass
//! without exponentials) and run the reduction again shifted by it. The sum is a sound
//! test because `exp2_kernel` is exactly 0 below its range and non-finite above it: a
//! sum inside the window means no term overflowed and the largest one is at least
//! `LSE_SUM_MIN` / n, far above the flushed ones. In steady state one pass suffices, and the
//! pass keeps no running maximum (on Cortex-M a float maximum costs 4 instructions).

use crate::real::Real;

/// Chunk width of the kernel, in elements: 16 where the FPU has SIMD registers (16 f32
/// = one AVX-512 register, two AVX2 or NEON ones; 16 f64 = two AVX-512 registers), 2 on
/// 32-bit Arm, whose Cortex-M FPU is scalar: short chunks keep each lane's state in
/// registers instead of spilling 16-lane arrays to the stack, and keep the unrolled
/// code small for flash. Measured on the emulated Cortex-M4F (`bash scripts/embedded.sh
/// numbers`, f32, d = 2): 16 lanes 57 instructions per entry and 34 KB of flash for a
/// Sinkhorn-only firmware; 4 lanes 47.5 and 27 KB; 2 lanes 48 and 23 KB; 1 lane 51 and
/// 24 KB.
#[cfg(not(target_arch = "arm"))]
pub const LANES: usize = 16;
/// Chunk width of the kernel (see the 16-lane definition for other targets).
#[cfg(target_arch = "arm")]
pub const LANES: usize = 2;

/// Rounds a point count up to a whole number of kernel chunks.
#[inline]
#[must_use]
pub const fn padded(len: usize) -> usize {
    len.div_ceil(LANES) * LANES
}

/// Raw costs between one target point and a chunk of [`LANES`] sources.
pub(crate) trait CostSource<T: Real> {
    /// The costs c(p, q) from target `p` to every source, one chunk of [`LANES`]
    /// sources per item, in order. Sources past the real count must still get a finite
    /// value (they are masked by `v = −∞`). The target's data is looked up once here,
    /// so the per-chunk work has no index arithmetic or bounds checks.
    fn costs(&self, p: usize) -> impl Iterator<Item = [T; LANES]> + '_;
}

/// What a kernel pass accumulates from each chunk.
pub(crate) trait Reduce<T: Real> {
    /// Takes the chunk of terms `e` (already exponentiated) for sources `q0..q0+LANES`
    /// and their raw costs `c`.
    fn add(&mut self, q0: usize, e: &[T; LANES], c: &[T; LANES]);
    /// Forgets everything accumulated (before a re-shifted second pass).
    fn reset(&mut self);
}

/// Squared Euclidean costs between the rows of a row-major target array and sources
/// stored chunk-major ("array of structures of arrays"): chunk `c` holds the
/// coordinates of sources `16c … 16c + 15` as `dim` consecutive blocks of [`LANES`]
/// values, coordinate after coordinate, so one chunk is one contiguous slice and the
/// inner loop needs no index arithmetic or bounds checks (see [`chunk_major`]).
pub(crate) struct Clouds<'a, T, K = usize> {
    /// Target points, row-major (`dim` coordinates per point): the caller's array.
    pub tgt: &'a [T],
    /// Source points, chunk-major, padded to whole chunks.
    pub src: &'a [T],
    /// Dimension: a `usize`, or [`Fixed`] when it is known at compile time.
    pub dim: K,
}

/// A point dimension, known at run time (`usize`) or at compile time ([`Fixed`]).
pub(crate) trait Dim: Copy {
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
/// instantiate it for d = 2 and 3 on targets with SIMD (measured on x86-64 with
/// AVX-512 at n = 1024, d = 2: 0.29 instead of 0.40 ns per entry per half-iteration
/// in f32); Cortex-M builds keep the one generic instance, for flash.
#[derive(Clone, Copy)]
pub(crate) struct Fixed<const D: usize>;

impl<const D: usize> Dim for Fixed<D> {
    #[inline(always)]
    fn get(self) -> usize {
        D
    }
}

impl<T: Real, K: Dim> CostSource<T> for Clouds<'_, T, K> {
    #[inline(always)]
    fn costs(&self, p: usize) -> impl Iterator<Item = [T; LANES]> + '_ {
        let d = self.dim.get();
        let x = self.tgt.get(p * d..(p + 1) * d).unwrap_or(&[]);
        // Read once per target, not per chunk, so that the two coordinates stay in
        // registers across the chunk loop (zeros for a target index out of range,
        // which no caller passes; its costs only need to be finite).
        let (x0, x1) = match *x {
            [x0, x1] => (x0, x1),
            _ => (T::ZERO, T::ZERO),
        };
        // Never 0 (chunks_exact would panic): `max` keeps the panic path out.
        self.src
            .chunks_exact(LANES.saturating_mul(d).max(LANES))
            .map(move |chunk| {
                let mut out = [T::ZERO; LANES];
                // d = 2 written out: a runtime dimension otherwise keeps a coordinate
                // loop per chunk (Cortex-M, where d is not a compile-time constant).
                // With `Fixed<2>` the test is a constant.
                if d == 2 {
                    if let Some((y0, y1)) = chunk.split_at_checked(LANES) {
                        for ((o, &a), &b) in out.iter_mut().zip(y0).zip(y1) {
                            let (t0, t1) = (x0 - a, x1 - b);
                            *o = t1.mul_add(t1, t0 * t0);
                        }
                    }
                    return out;
                }
                for (ys, &xk) in chunk.chunks_exact(LANES).zip(x) {
                    for (o, &y) in out.iter_mut().zip(ys) {
                        let t = xk - y;
                        *o = t.mul_add(t, *o);
                    }
                }
                out
            })
    }
}

/// Index of coordinate `k` of point `i` in chunk-major storage of `dim`-dimensional
/// points (the layout [`Clouds`] reads and [`Weighted`] uses for its channels).
#[inline]
#[must_use]
pub(crate) const fn chunk_major(i: usize, k: usize, dim: usize) -> usize {
    (i / LANES) * LANES * dim + k * LANES + i % LANES
}

/// A dense row-major `rows × cols` cost matrix seen from its rows (target = row).
pub(crate) struct DenseRows<'a, T> {
    /// Entries, row-major.
    pub c: &'a [T],
    /// Number of columns (sources).
    pub cols: usize,
}

impl<T: Real> CostSource<T> for DenseRows<'_, T> {
    #[inline(always)]
    fn costs(&self, p: usize) -> impl Iterator<Item = [T; LANES]> + '_ {
        let row = self
            .c
            .get(p * self.cols..(p + 1) * self.cols)
            .unwrap_or(&[]);
        (0..padded(self.cols) / LANES).map(move |chunk| {
            core::array::from_fn(|l| row.get(chunk * LANES + l).copied().unwrap_or(T::ZERO))
        })
    }
}

/// The same matrix seen from its columns (target = column, sources = rows).
pub(crate) struct DenseCols<'a, T> {
    /// Entries, row-major.
    pub c: &'a [T],
    /// Number of columns (targets).
    pub cols: usize,
}

impl<T: Real> CostSource<T> for DenseCols<'_, T> {
    #[inline(always)]
    fn costs(&self, p: usize) -> impl Iterator<Item = [T; LANES]> + '_ {
        let rows = self.c.len() / self.cols.max(1);
        (0..padded(rows) / LANES).map(move |chunk| {
            core::array::from_fn(|l| {
                self.c
                    .get((chunk * LANES + l) * self.cols + p)
                    .copied()
                    .unwrap_or(T::ZERO)
            })
        })
    }
}

/// One pass over all sources for target `p`: feeds `2^(u_p + v_q − κ·c_pq − shift)`
/// (kernel units) to `red` chunk by chunk and returns their sum (0 if every source is
/// masked; non-finite if a term overflowed).
///
/// `v.len()` must be a multiple of [`LANES`] (padded); a ragged tail is ignored.
#[inline(always)]
pub(crate) fn stream<T: Real, S: CostSource<T>, R: Reduce<T>>(
    src: &S,
    p: usize,
    u_p: T,
    v: &[T],
    kappa: T,
    shift: T,
    red: &mut R,
) -> T {
    let mut sum = [T::ZERO; LANES];
    let mut e = [T::ZERO; LANES];
    let base = u_p - shift;
    for (chunk, (c, vq)) in src.costs(p).zip(v.chunks_exact(LANES)).enumerate() {
        // As an array, so that `vq[l]` needs no bounds check at any opt-level (at
        // "s" LLVM does not prove the chunk's length, and the check pulls in the
        // panic formatting machinery: 5.7 KB of flash).
        let Ok(vq) = <&[T; LANES]>::try_from(vq) else {
            continue;
        };
        let q0 = chunk * LANES;
        for l in 0..LANES {
            e[l] = exponent(kappa, c[l], base, vq[l]).exp2_kernel();
            sum[l] += e[l];
        }
        red.add(q0, &e, &c);
    }
    tree(sum, |a, b| a + b)
}

/// The exponent `base + v_q − κ·c_pq` of one term (kernel units; `base` = u_p − shift):
/// the one formula [`stream`] and [`peak`] share.
#[inline(always)]
fn exponent<T: Real>(kappa: T, c: T, base: T, v: T) -> T {
    (-kappa).mul_add(c, base + v)
}

/// The largest exponent `max_q (u_p + v_q − κ·c_pq)` over all sources of target `p`
/// (−∞ if every source is masked): the shift of [`shifted`]'s second pass.
#[inline(never)]
fn peak<T: Real, S: CostSource<T>>(src: &S, p: usize, u_p: T, v: &[T], kappa: T) -> T {
    let mut mx = [T::NEG_INFINITY; LANES];
    for (c, vq) in src.costs(p).zip(v.chunks_exact(LANES)) {
        let Ok(vq) = <&[T; LANES]>::try_from(vq) else {
            continue;
        };
        for l in 0..LANES {
            mx[l] = exponent(kappa, c[l], u_p, vq[l]).max_fast(mx[l]);
        }
    }
    tree(mx, T::max_fast)
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
/// exponent. Returns `(σ, Σ_q e_pq)` with the shift converted to natural-log units,
/// `σ = ln 2 · shift`, so that the true reduction is `e^σ ·` (what `red` holds, and
/// the returned sum); σ is exactly 0 in the one-pass case.
///
/// If every source is masked the result is (−∞, 0) with `red` holding zeros.
///
/// The first pass may feed `exp2_kernel` exponents above its range (a cold start, a
/// far-off warm start): their terms are non-finite, so the sum leaves the window and
/// the pass is redone shifted, with every exponent ≤ 0.
#[inline(always)]
pub(crate) fn shifted<T: Real, S: CostSource<T>, R: Reduce<T>>(
    src: &S,
    p: usize,
    u_p: T,
    v: &[T],
    kappa: T,
    red: &mut R,
) -> (T, T) {
    red.reset();
    let sum = stream(src, p, u_p, v, kappa, T::ZERO, red);
    if sum >= T::LSE_SUM_MIN && sum <= T::LSE_SUM_MAX {
        return (T::ZERO, sum);
    }
    let mx = peak(src, p, u_p, v, kappa);
    if !mx.is_finite() {
        // All sources masked (−∞), or a non-finite argument: nothing to rescale.
        return (mx, sum);
    }
    red.reset();
    let sum = stream(src, p, u_p, v, kappa, mx, red);
    (mx * T::LN_2, sum)
}

/// e^σ for a shift σ returned by [`shifted`]: exactly 1, without calling `exp`, in
/// the one-pass case.
#[inline]
pub(crate) fn unshift<T: Real>(sigma: T) -> T {
    if sigma == T::ZERO {
        T::ONE
    } else {
        sigma.exp()
    }
}

/// Nothing beyond the sum [`stream`] returns (log-sum-exp passes).
impl<T: Real> Reduce<T> for () {
    #[inline(always)]
    fn add(&mut self, _q0: usize, _e: &[T; LANES], _c: &[T; LANES]) {}
    fn reset(&mut self) {}
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
    fn add(&mut self, _q0: usize, e: &[T; LANES], c: &[T; LANES]) {
        for l in 0..LANES {
            self.cost[l] += e[l] * c[l];
        }
    }
    fn reset(&mut self) {
        self.cost = [T::ZERO; LANES];
    }
}

/// Σ_q e_pq·w_q[k] for `out.len()` weight channels stored chunk-major
/// like [`Clouds`] sources (P·v has one channel, i.e. a plain padded vector; the
/// barycentric projection uses the source coordinates, one channel per coordinate).
/// Per-channel totals go to `out`.
pub(crate) struct Weighted<'a, T> {
    /// Source weights, chunk-major, padded with finite values.
    pub w: &'a [T],
    /// Per-channel running totals (one per channel).
    pub out: &'a mut [T],
}

impl<T: Real> Reduce<T> for Weighted<'_, T> {
    #[inline(always)]
    fn add(&mut self, q0: usize, e: &[T; LANES], _c: &[T; LANES]) {
        let channels = self.out.len();
        if let Some(chunk) = self.w.get(q0 * channels..(q0 + LANES) * channels) {
            for (acc, w) in self.out.iter_mut().zip(chunk.chunks_exact(LANES)) {
                let mut s = T::ZERO;
                for (&ei, &wi) in e.iter().zip(w) {
                    s = ei.mul_add(wi, s);
                }
                *acc += s;
            }
        }
    }
    fn reset(&mut self) {
        for o in self.out.iter_mut() {
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
    fn add(&mut self, q0: usize, e: &[T; LANES], _c: &[T; LANES]) {
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
    fn add(&mut self, q0: usize, e: &[T; LANES], _c: &[T; LANES]) {
        let dim = self.t.len();
        let chunk = q0 * dim..(q0 + LANES) * dim;
        let (Some(a), Some(b)) = (self.a.get(chunk.clone()), self.b.get(chunk)) else {
            return;
        };
        let mut s = [T::ZERO; LANES];
        for (&tk, ak) in self.t.iter().zip(a.chunks_exact(LANES)) {
            for (sl, &al) in s.iter_mut().zip(ak) {
                *sl = tk.mul_add(al, *sl);
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
                v = sl.mul_add(bl, v);
            }
            *acc += v;
        }
    }
    fn reset(&mut self) {
        self.out.fill(T::ZERO);
    }
}
