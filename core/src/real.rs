//! The scalar type: a sealed [`Real`] trait implemented for `f32` and `f64`.
//!
//! Everything numeric in otcore is generic over `T: Real`. The trait carries the
//! handful of constants and math functions the algorithms need, routed to `libm`
//! (correctly rounded to within 1 ulp for `exp`/`ln`, exact `sqrt`), plus the
//! branch-free [`Real::exp2_kernel`] used inside the streaming kernel.

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point scalar: `f32` (first-class, what a Cortex-M4F computes in) or `f64`.
///
/// Sealed: it cannot be implemented outside this crate.
pub trait Real:
    sealed::Sealed
    + Copy
    + Send
    + Sync
    + Default
    + PartialOrd
    + core::fmt::Debug
    + core::ops::Add<Output = Self>
    + core::ops::Sub<Output = Self>
    + core::ops::Mul<Output = Self>
    + core::ops::Div<Output = Self>
    + core::ops::Neg<Output = Self>
    + core::ops::AddAssign
    + core::ops::SubAssign
    + core::ops::MulAssign
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// 1/2.
    const HALF: Self;
    /// +∞.
    const INFINITY: Self;
    /// −∞.
    const NEG_INFINITY: Self;
    /// The largest finite value.
    const MAX: Self;
    /// Machine epsilon (distance from 1 to the next larger number).
    const EPSILON: Self;
    /// log₂ e.
    const LOG2_E: Self;
    /// ln 2.
    const LN_2: Self;
    /// Lower end of the window in which a plain (unshifted) sum of
    /// [`Real::exp2_kernel`] values keeps full relative precision: the largest term is
    /// then far above the underflow threshold (f32: 2^−72, −72 ≈ −50/ln 2; f64:
    /// 2^−865). The kernel's one-pass test compares sums with it.
    const LSE_SUM_MIN: Self;
    /// Upper end of that window: a sum of n terms up to it stays finite for any n below
    /// 10⁹ (f32: 2^72; f64: 2^865).
    const LSE_SUM_MAX: Self;
    /// The kernel's exponent of a masked source (padding, zero weight), in absorbed
    /// form: finite, because the Cortex-M [`Real::exp2_kernel`] needs finite
    /// arguments, and so far below every real exponent that its terms are exactly 0
    /// (f32: −2^124; f64: −2^1020). Exponents at or below half of it count as masked.
    const MASKED: Self;
    /// Default Sinkhorn tolerance on the L1 marginal error, in weight units.
    const DEFAULT_TOLERANCE: Self;
    /// Relative tolerance on |Σa − Σb| / max(Σa, Σb) for a balanced problem.
    ///
    /// f32: 1e-4 (naive f32 normalisation of 1000 weights is off by up to ~6e-5);
    /// f64: 1e-10.
    const MASS_TOLERANCE: Self;

    /// Converts from `f64` (rounding to nearest for `f32`).
    fn from_f64(v: f64) -> Self;
    /// Converts to `f64` (exact).
    fn to_f64(self) -> f64;
    /// Converts a count (rounding to nearest).
    fn from_usize(v: usize) -> Self;
    /// Converts a 64-bit word (rounding to nearest; in f32 without soft-float f64 on a
    /// Cortex-M4F).
    fn from_u64(v: u64) -> Self;
    /// Converts to a count as `as u32` does (towards zero, saturating, NaN → 0); in f32
    /// one FPU conversion, not soft-float f64 on a Cortex-M4F.
    fn to_u32(self) -> u32;
    /// `true` unless NaN or ±∞.
    fn is_finite(self) -> bool;
    /// `true` if NaN.
    fn is_nan(self) -> bool;
    /// Absolute value.
    fn abs(self) -> Self;
    /// The larger of two values; branch-free (`a > b ? a : b`), so NaN handling is
    /// "return `b`". Used where inputs are known not to be NaN.
    #[inline(always)]
    fn max_fast(self, other: Self) -> Self {
        if self > other {
            self
        } else {
            other
        }
    }
    /// The smaller of two values; same conventions as [`Real::max_fast`].
    #[inline(always)]
    fn min_fast(self, other: Self) -> Self {
        if self < other {
            self
        } else {
            other
        }
    }
    /// `self·a + b`: fused (one rounding, vectorised as FMA instructions) when the build
    /// targets x86-64 with the `fma` feature (e.g. `-C target-cpu=native` on any CPU of
    /// the last decade), two roundings otherwise. The kernel's results therefore differ
    /// in the last bits between such builds; every bound in the docs covers both.
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// `self·a + b` rounded once, by the FMA instruction, for the kernel's FMA paths
    /// (`dispatch`); [`Real::mul_add`] off x86-64.
    ///
    /// # Safety
    /// On x86-64 the CPU must have FMA (the dispatch's CPUID check proves it).
    #[doc(hidden)]
    #[allow(unsafe_code)]
    unsafe fn mul_add_fused(self, a: Self, b: Self) -> Self;
    /// [`Real::exp2_kernel`] with its polynomial's multiply-adds done by `mul_add`
    /// (`(p, r, c) ↦ p·r + c`), so that each dispatch path evaluates the one source
    /// with its own instruction (`dispatch`). The Cortex-M table form has no
    /// polynomial to hand over: there it is `exp2_kernel`.
    #[doc(hidden)]
    #[inline(always)]
    fn exp2_kernel_with(self, mul_add: impl Fn(Self, Self, Self) -> Self) -> Self {
        let _ = mul_add;
        self.exp2_kernel()
    }
    /// e^x through libm (within 1 ulp); for f32 with feature `fast-math`, through
    /// micromath (relative error ~1e-3).
    fn exp(self) -> Self;
    /// Natural logarithm through libm (within 1 ulp); ln 0 = −∞. For f32 with feature
    /// `fast-math`, through micromath (relative error ~1e-3).
    fn ln(self) -> Self;
    /// Square root through libm (correctly rounded).
    fn sqrt(self) -> Self;
    /// Branch-free 2^x for the streaming kernel, written so LLVM vectorises it: the
    /// kernel works in base-2 exponents (potentials and costs pre-scaled by log₂ e / ε),
    /// which makes the range reduction exact and needs no ln 2 multiplication.
    ///
    /// Method: k = round(x) (by adding and subtracting 1.5·2^p), r = x − k exactly with
    /// |r| ≤ 1/2, 2^r by a near-minimax (Chebyshev) polynomial in Horner form with
    /// constant term exactly 1 (f32: degree 5 for 2^r; f64: degree 8 for 2^(r/2), then
    /// squared; through [`Real::mul_add`]), and k added into its exponent bits from the
    /// rounding sum.
    /// Both ends are clamped, so that the kernel can tell from a sum alone whether a
    /// term left the range (see `kernel::shifted`).
    /// Contract (checked by `tests/tests/references/exp2_kernel.rs` on millions of points per type):
    /// - f32: relative error ≤ 3e-7 (≈ 2.5 ulp) for x ∈ [−125, 127]; for x < −125 a
    ///   value in [0, 2^−124] (below 5e-38 absolute); exactly 0 for x ≤ −127,
    ///   including −∞.
    /// - f64: relative error ≤ 1e-14 (≈ 45 ulp) for x ∈ [−1021, 1023]
    ///   (see below); for x < −1021 a value in [0, 2^−1020]; exactly 0 for x ≤ −1023,
    ///   including −∞.
    /// - x ≥ 128 (f32) or ≥ 1024 (f64), +∞ included: a non-finite value (+∞ or NaN),
    ///   the kernel's overflow signal; x ∈ (127, 128) or (1023, 1024) may overflow too.
    /// - NaN: unspecified.
    ///
    /// The f64 bound is traded for speed: 8 multiply-adds and a multiply where a 3-ulp
    /// exponential needs 10 multiply-adds (`docs/performance.md`). It is seven orders
    /// of magnitude below the f64
    /// default tolerance and leaves the f64 reference comparisons unchanged
    /// (`tests/tests/references/sinkhorn_reference.rs`).
    fn exp2_kernel(self) -> Self;
    /// The kernel's split of a target's exponent offset `base` (kernel units, see
    /// `kernel::stream`): returns (b, φ) with 2^(w + base) = 2^φ ·
    /// `w.exp2_biased::<FULL>(b)` for every source exponent w, so that the per-entry
    /// work does not add `base` (φ is applied once per target). In f64, b = base and
    /// φ = 0. `None` where the split cannot represent `base` (f32 off Cortex-M beyond
    /// ±2^22): the pass then adds `base` to each exponent and takes the b of
    /// `exp2_bias(0)`.
    #[inline(always)]
    fn exp2_bias(base: Self) -> Option<(Self, Self)> {
        Some((base, Self::ZERO))
    }
    /// 2^(self + b) for a bias b from [`Real::exp2_bias`] (up to its 2^φ):
    /// [`Real::exp2_kernel`] of the sum, with its contract, if `FULL`. Without, for
    /// the kernel's first, unshifted pass, a cheaper form may fail loudly far below the
    /// range: the same value for self + base ≥ −2^17, and below 0 or NaN, never another
    /// finite value. A NaN makes that pass's sum leave the precision window, and the
    /// pass is redone shifted with `FULL` (see `kernel::shifted`). The two differ on
    /// Cortex-M only, where the full form's saturating subtraction needs its constant
    /// in a register the kernel loop does not have.
    #[inline(always)]
    fn exp2_biased<const FULL: bool>(self, b: Self) -> Self {
        (self + b).exp2_kernel()
    }
    /// [`Real::exp2_biased`] (the full form) with the polynomial's multiply-adds done
    /// by `mul_add`, as [`Real::exp2_kernel_with`].
    #[doc(hidden)]
    #[inline(always)]
    fn exp2_biased_with(self, b: Self, mul_add: impl Fn(Self, Self, Self) -> Self) -> Self {
        (self + b).exp2_kernel_with(mul_add)
    }
    /// Uniform random 64-bit words that one [`Real::normal_pair`] consumes: 1 for
    /// `f32`, 2 for `f64`.
    const NORMAL_WORDS: usize;
    /// Two independent standard normals from uniform random words (branch-free
    /// Box–Muller with polynomial ln, sin and cos; bits and accuracy in
    /// [`crate::rng`]). `f32` reads `w0` only, `f64` both.
    fn normal_pair(w0: u64, w1: u64) -> (Self, Self);
    /// [`Real::normal_pair`] of each consecutive `NORMAL_WORDS` words of a block
    /// (the same bits), pair i into `out[2i]` and `out[2i + 1]`: all of `out` for
    /// `f32`, `out[..32]` for `f64`. Written to vectorise.
    fn normal_block(
        words: &[u64; crate::rng::BLOCK_WORDS],
        out: &mut [Self; 2 * crate::rng::BLOCK_WORDS],
    );

    /// Natural log of a kernel sum, for the per-row and per-column potential updates
    /// (one call per target and pass). [`Real::ln`] for f64; in f32 a 64-interval
    /// table and a short series replace libm's `logf` for positive normal numbers, with
    /// no division on the row's chain (which small problems feel). Other values go to
    /// [`Real::ln`]. Accuracy: on Cortex-M (f32 arithmetic, about 25 instead of 55
    /// instructions) absolute error ≤ 4e-7·max(1, |ln x|), checked on target by the
    /// `tests/embedded` suite `ln_kernel`; elsewhere (f64 arithmetic, one rounding at
    /// the end) ≤ 0.5 ulp of the result + 1e-11, checked by the reference test
    /// `ln_kernel`.
    #[inline(always)]
    fn ln_kernel(self) -> Self {
        self.ln()
    }
    /// [`Real::exp2_bias`] of the AVX-512 path, whose f32 exponential is its own
    /// (`exp2_avx512`); the same elsewhere.
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    #[doc(hidden)]
    #[inline(always)]
    fn exp2_bias_avx512(base: Self) -> Option<(Self, Self)> {
        Self::exp2_bias(base)
    }
    /// The AVX-512 path's own exponential of a kernel chunk, if the type has one:
    /// e_l = 2^(w_l + b) (up to the 2^φ of [`Real::exp2_bias_avx512`]), added to
    /// `sum` lane by lane, and `true`; f32's is `exp2_avx512`. Without (f64), `false`
    /// and nothing written: the kernel then runs its FMA form lane by lane.
    ///
    /// # Safety
    /// The CPU must have AVX-512F and FMA.
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    #[doc(hidden)]
    #[inline(always)]
    #[allow(unsafe_code)]
    unsafe fn exp2_chunk_avx512(
        w: &[Self; 16],
        b: Self,
        e: &mut [Self; 16],
        sum: &mut [Self; 16],
    ) -> bool {
        let _ = (w, b, e, sum);
        false
    }
}

impl Real for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const HALF: Self = 0.5;
    const INFINITY: Self = f32::INFINITY;
    const NEG_INFINITY: Self = f32::NEG_INFINITY;
    const MAX: Self = f32::MAX;
    const EPSILON: Self = f32::EPSILON;
    const LOG2_E: Self = core::f32::consts::LOG2_E;
    const LN_2: Self = core::f32::consts::LN_2;
    const LSE_SUM_MIN: Self = f32::from_bits((127 - 72) << 23);
    const LSE_SUM_MAX: Self = f32::from_bits((127 + 72) << 23);
    const MASKED: Self = -f32::from_bits((127 + 124) << 23);
    const DEFAULT_TOLERANCE: Self = 1e-4;
    const MASS_TOLERANCE: Self = 1e-4;
    const NORMAL_WORDS: usize = 1;

    #[inline(always)]
    fn normal_pair(w0: u64, _w1: u64) -> (Self, Self) {
        crate::rng::pair_f32(w0)
    }
    #[inline(always)]
    fn normal_block(
        words: &[u64; crate::rng::BLOCK_WORDS],
        out: &mut [Self; 2 * crate::rng::BLOCK_WORDS],
    ) {
        crate::rng::block_f32(words, out);
    }

    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    #[inline(always)]
    fn from_usize(v: usize) -> Self {
        v as f32
    }
    #[inline(always)]
    fn to_u32(self) -> u32 {
        self as u32
    }
    #[cfg(not(target_arch = "arm"))]
    #[inline(always)]
    fn from_u64(v: u64) -> Self {
        v as f32
    }
    /// 32-bit Arm: `v as f32` (round to nearest, ties to even) from 32-bit pieces, the
    /// same bits as the cast, which would call the soft-float `__aeabi_ul2f`.
    #[cfg(target_arch = "arm")]
    #[inline(always)]
    fn from_u64(v: u64) -> Self {
        u64_to_f32(v)
    }
    #[inline(always)]
    fn is_finite(self) -> bool {
        f32::is_finite(self)
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
    #[inline(always)]
    fn abs(self) -> Self {
        libm::fabsf(self)
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        #[cfg(all(target_arch = "x86_64", target_feature = "fma"))]
        {
            use core::arch::x86_64::{_mm_cvtss_f32, _mm_fmadd_ss, _mm_set_ss};
            // SAFETY: these intrinsics only need the `sse2` and `fma` target features,
            // which this cfg proves are enabled for the whole build, so the
            // instructions exist on every CPU the binary may run on. They take and
            // return values: no memory is touched.
            #[allow(unsafe_code)]
            unsafe {
                _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(self), _mm_set_ss(a), _mm_set_ss(b)))
            }
        }
        #[cfg(not(all(target_arch = "x86_64", target_feature = "fma")))]
        {
            self * a + b
        }
    }
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    #[allow(unsafe_code)]
    unsafe fn mul_add_fused(self, a: Self, b: Self) -> Self {
        use core::arch::x86_64::{_mm_cvtss_f32, _mm_fmadd_ss, _mm_set_ss};
        // SAFETY: the caller guarantees FMA (this function's contract); SSE2 is part
        // of x86-64. The intrinsics take and return values: no memory is touched.
        unsafe { _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(self), _mm_set_ss(a), _mm_set_ss(b))) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    #[inline(always)]
    #[allow(unsafe_code)]
    unsafe fn mul_add_fused(self, a: Self, b: Self) -> Self {
        self.mul_add(a, b)
    }
    #[cfg(not(feature = "fast-math"))]
    #[inline(always)]
    fn exp(self) -> Self {
        libm::expf(self)
    }
    #[cfg(not(feature = "fast-math"))]
    #[inline(always)]
    fn ln(self) -> Self {
        libm::logf(self)
    }
    /// Feature `fast-math`: micromath (relative error ≤ ~1e-3), not libm.
    #[cfg(feature = "fast-math")]
    #[inline(always)]
    fn exp(self) -> Self {
        micromath::F32Ext::exp(self)
    }
    /// Feature `fast-math`: micromath (relative error ≤ ~1e-3), not libm.
    #[cfg(feature = "fast-math")]
    #[inline(always)]
    fn ln(self) -> Self {
        micromath::F32Ext::ln(self)
    }
    #[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
    #[inline(always)]
    fn sqrt(self) -> Self {
        libm::sqrtf(self)
    }
    /// Cortex-M with an FPU (`eabihf`): the FPU's `vsqrt.f32`, correctly rounded like
    /// libm's software `sqrtf`, so the results are the same bits.
    #[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
    #[inline(always)]
    fn sqrt(self) -> Self {
        vsqrt(self)
    }
    /// Cortex-M: ln x = e·ln 2 + ln c + ln(1 + d) (`ln_split`) in f32, with
    /// ln(1 + d) ≈ d − d²/2 + d³/3 (truncation ≤ d⁴/4 < 4e-9) and 1/c, ln c from
    /// `LN_TABLE` (rounded to f32).
    #[cfg(target_arch = "arm")]
    #[inline(always)]
    fn ln_kernel(self) -> Self {
        let Some((e, mc, j)) = ln_split(self) else {
            return self.ln();
        };
        let (inv, ln_c) = LN_TABLE.get(j).copied().unwrap_or((1.0, 0.0));
        let d = mc * inv;
        let p = d.mul_add(1.0 / 3.0, -0.5);
        let q = (d * d).mul_add(p, d);
        (e as f32).mul_add(core::f32::consts::LN_2, ln_c + q)
    }
    /// Off Cortex-M: the same split (`ln_split`) evaluated in f64 with the f64 table and
    /// ln(1 + d) to d⁴ (truncation ≤ d⁵/5 < 6e-12), rounded to f32 once: a scalar f64
    /// multiply-add costs what an f32 one does here, and the single rounding keeps the
    /// per-row log as accurate as libm's `logf`.
    #[cfg(not(target_arch = "arm"))]
    #[inline(always)]
    fn ln_kernel(self) -> Self {
        let Some((e, mc, j)) = ln_split(self) else {
            return self.ln();
        };
        let (inv, ln_c) = LN_TABLE_F64.get(j).copied().unwrap_or((1.0, 0.0));
        let d = f64::from(mc) * inv;
        let q = d + d * d * (d * (1.0 / 3.0 - 0.25 * d) - 0.5);
        (f64::from(e) * core::f64::consts::LN_2 + (ln_c + q)) as f32
    }
    #[cfg(not(target_arch = "arm"))]
    #[inline(always)]
    fn exp2_kernel(self) -> Self {
        self.exp2_kernel_with(|p, r, c| p.mul_add(r, c))
    }
    #[cfg(not(target_arch = "arm"))]
    #[inline(always)]
    fn exp2_kernel_with(self, mul_add: impl Fn(Self, Self, Self) -> Self) -> Self {
        self.exp2_biased_with(EXP2_ROUND, mul_add)
    }
    /// Off Cortex-M: b = base' + 1.5·2^23 with base' = base rounded to an integer (the
    /// addition rounds it), and φ = base − base'. The exponent w + base' of an entry is then exact and its
    /// rounding to an integer is `exp2_biased`'s one addition t = w + b: one addition
    /// fewer per matrix entry than adding the offset first. `None` beyond ±2^22, where
    /// b would leave the grid of integers (potentials of millions of ε, which plan
    /// operations may be given).
    #[cfg(not(target_arch = "arm"))]
    #[inline(always)]
    fn exp2_bias(base: Self) -> Option<(Self, Self)> {
        const LIMIT: f32 = 4_194_304.0; // 2^22
        (base.abs() <= LIMIT).then(|| {
            let b = base + EXP2_ROUND;
            (b, base - (b - EXP2_ROUND))
        })
    }
    #[cfg(not(target_arch = "arm"))]
    #[inline(always)]
    fn exp2_biased<const FULL: bool>(self, b: Self) -> Self {
        self.exp2_biased_with(b, |p, r, c| p.mul_add(r, c))
    }
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    #[inline(always)]
    fn exp2_bias_avx512(base: Self) -> Option<(Self, Self)> {
        crate::exp2_avx512::bias(base)
    }
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    #[inline(always)]
    #[allow(unsafe_code)]
    unsafe fn exp2_chunk_avx512(
        w: &[Self; 16],
        b: Self,
        e: &mut [Self; 16],
        sum: &mut [Self; 16],
    ) -> bool {
        // SAFETY: the caller guarantees AVX-512F and FMA.
        unsafe { crate::exp2_avx512::chunk(w, b, e, sum) };
        true
    }
    /// Off Cortex-M: x = self + base' (base' = b − 1.5·2^23, an integer) clamped to
    /// [−127, 128] by clamping self to [−127 − base', 128 − base'] (exact bounds, loop
    /// invariants), t = self + b rounds x to the integer k in its low bits, and
    /// r = self − (t − b) = x − k is exact; then 2^r by a degree-5 polynomial, times 2^k
    /// through the exponent bits. With b = 1.5·2^23 (base' = 0) this is
    /// [`Real::exp2_kernel`].
    #[cfg(not(target_arch = "arm"))]
    #[inline(always)]
    fn exp2_biased_with(self, b: Self, mul_add: impl Fn(Self, Self, Self) -> Self) -> Self {
        let base = b - EXP2_ROUND;
        let x = self.max_fast(-127.0 - base).min_fast(128.0 - base);
        let t = x + b;
        let r = x - (t - b);
        // Chebyshev fit of 2^r on [−1/2, 1/2] (tools/reference/fit_exp2.py).
        let mut p = 1.338_130_2e-3_f32;
        p = mul_add(p, r, 9.666_368e-3);
        p = mul_add(p, r, 5.550_381e-2);
        p = mul_add(p, r, 2.402_235e-1);
        p = mul_add(p, r, 6.931_472e-1);
        p = mul_add(p, r, 1.0);
        // The low mantissa bits of `t` hold k in two's complement; shifted into the
        // exponent field and added to p's bits they multiply p by 2^k exactly (p is
        // positive and, for k ≥ −125, the sum stays a normal number). At the clamps
        // r = 0 and p = 1 exactly: k = −127 cancels the bits to +0.0, k = 128 gives +∞.
        f32::from_bits(p.to_bits().wrapping_add(t.to_bits() << 23))
    }
    /// Cortex-M (scalar FPU, no fused multiply-add in Rust, a float compare costs 4
    /// instructions): a table of 2^(j/64) and a quadratic, with both clamps on the
    /// integer side (14 instructions per call).
    ///
    /// Method: t = x + (2^17 + 127) rounds x + 127 to the nearest 1/64 (t's ulp), so
    /// t's bits minus those of 2^17 are c = 64·(exponent field) + j (a saturating
    /// subtraction, see `exp2_table`); c is clamped to [0, 2^14 − 1] by one
    /// saturating instruction; 2^(j/64) and the exponent field
    /// are assembled from `EXP2_64` and c by one integer add; the remainder
    /// r = x − (t − 2^17 − 127) ∈ [−1/128, 1/128] is exact, and 2^r = 1 + q(r) with q
    /// near-minimax (tools/reference/fit_exp2.py). Error: table rounding, the fit and
    /// the last roundings, measured on target (`tests/embedded`, suite `exp2_kernel`),
    /// within the same 3e-7 contract; x ≥ 128 gives a non-finite value, x ≤ −127
    /// exactly 0.
    ///
    /// Unlike the SIMD form, x must not be −∞ (r would be NaN): the kernel masks
    /// sources with the finite [`Real::MASKED`] instead.
    #[cfg(target_arch = "arm")]
    #[inline(always)]
    fn exp2_kernel(self) -> Self {
        exp2_table::<true>(self, EXP2_SHIFT)
    }
    /// Cortex-M: b = base + 2^17 + 127 (rounded), so that the table form's first
    /// addition t = w + b does the offset's work; φ = base − (b − 2^17 − 127) is the
    /// rounding (|φ| ≤ 1/128 for |base| < 2^17). Saves one addition per matrix entry.
    #[cfg(target_arch = "arm")]
    #[inline(always)]
    fn exp2_bias(base: Self) -> Option<(Self, Self)> {
        let b = base + EXP2_SHIFT;
        Some((b, base - (b - EXP2_SHIFT)))
    }
    /// Cortex-M: the table form with t = self + b; without `FULL`, a wrapping
    /// subtraction (an add of an immediate) instead of the saturating one.
    #[cfg(target_arch = "arm")]
    #[inline(always)]
    fn exp2_biased<const FULL: bool>(self, b: Self) -> Self {
        exp2_table::<FULL>(self, b)
    }
}

/// `v as f32` without 64-bit floating-point conversion: a value of 32 + s bits
/// (1 ≤ s ≤ 32) keeps its top 32 bits, with a sticky bit in bit 0 if any lower bit is
/// set (below the rounding position, bit 7), converted by the FPU's `u32 → f32`
/// (one rounding, the cast's) and scaled by 2^s (exact).
#[cfg(target_arch = "arm")]
#[inline(always)]
fn u64_to_f32(v: u64) -> f32 {
    let hi = (v >> 32) as u32;
    if hi == 0 {
        return v as u32 as f32;
    }
    let s = 32 - hi.leading_zeros();
    let top = (v >> s) as u32 | u32::from(v & ((1u64 << s) - 1) != 0);
    top as f32 * f32::from_bits((127 + s) << 23)
}

/// The FPU's square root (`vsqrt.f32`). The value crosses through a core register and
/// s0 is saved around the instruction: stable `asm!` offers single-precision register
/// operands only with the `vfp2` target feature, which implies double-precision
/// registers that a Cortex-M4F/M33 lacks.
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
#[inline(always)]
fn vsqrt(x: f32) -> f32 {
    let bits: u32;
    // SAFETY: every `eabihf` Arm target has a VFP unit with `vsqrt.f32` (the hard-float
    // ABI passes floats in its registers). The block reads and writes only its operand
    // register and s0, which it pushes and pops (8 bytes of stack below sp, hence no
    // `nostack`); it touches no other memory and leaves the flags alone.
    #[allow(unsafe_code)]
    unsafe {
        core::arch::asm!(
            "vpush {{s0}}",
            "vmov s0, {0}",
            "vsqrt.f32 s0, s0",
            "vmov {0}, s0",
            "vpop {{s0}}",
            inout(reg) x.to_bits() => bits,
            options(pure, nomem, preserves_flags),
        );
    }
    f32::from_bits(bits)
}

/// 2^17 + 127: added to x, it rounds x + 127 to the nearest 1/64 (the Cortex-M
/// [`Real::exp2_kernel`]).
#[cfg(target_arch = "arm")]
const EXP2_SHIFT: f32 = 131_199.0;

/// The Cortex-M body of [`Real::exp2_kernel`] (b = 2^17 + 127) and
/// [`Real::exp2_biased`]: 2^(x + b − 2^17 − 127). For a result in range, t − b and r
/// are exact while |x| < 2^16 (then b > 2^16, so t − b, about x, fits b's grid of
/// 2^−7 or coarser); beyond, they round at the scale of x's own ulp, as adding the
/// offset to x would.
///
/// With `FULL`, the bits of t minus those of 2^17 are taken with saturation: a negative
/// t (x + b < 0) has the sign bit set, and a wrapping subtraction turns the bits of one
/// above −2^17 positive, which the clamp then reads as overflow (NaN). Without,
/// x + b − 2^17 − 127 in (−2^18 − 127, −2^17 − 127) gives NaN, lower values 0.
#[cfg(target_arch = "arm")]
#[inline(always)]
fn exp2_table<const FULL: bool>(x: f32, b: f32) -> f32 {
    const Q1: f32 = 0.693_148_85; // q(r) = Q1·r + Q2·r², r ∈ [−1/128, 1/128]
    const Q2: f32 = 0.240_226_8;
    let t = x + b;
    let r = x - (t - b);
    let bits = t.to_bits() as i32;
    let c = if FULL {
        bits.saturating_sub(0x4800_0000) // the bits of 2^17
    } else {
        bits.wrapping_sub(0x4800_0000)
    }
    .clamp(0, (1 << 14) - 1);
    let t = f32::from_bits(EXP2_64[(c & 63) as usize].wrapping_add((c as u32) << 17));
    let q = Q2.mul_add(r, Q1) * r;
    t.mul_add(q, t)
}

impl Real for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const HALF: Self = 0.5;
    const INFINITY: Self = f64::INFINITY;
    const NEG_INFINITY: Self = f64::NEG_INFINITY;
    const MAX: Self = f64::MAX;
    const EPSILON: Self = f64::EPSILON;
    const LOG2_E: Self = core::f64::consts::LOG2_E;
    const LN_2: Self = core::f64::consts::LN_2;
    const LSE_SUM_MIN: Self = f64::from_bits((1023 - 865) << 52);
    const LSE_SUM_MAX: Self = f64::from_bits((1023 + 865) << 52);
    const MASKED: Self = -f64::from_bits((1023 + 1020) << 52);
    const DEFAULT_TOLERANCE: Self = 1e-7;
    const MASS_TOLERANCE: Self = 1e-10;
    const NORMAL_WORDS: usize = 2;

    #[inline(always)]
    fn normal_pair(w0: u64, w1: u64) -> (Self, Self) {
        crate::rng::pair_f64(w0, w1)
    }
    #[inline(always)]
    fn normal_block(
        words: &[u64; crate::rng::BLOCK_WORDS],
        out: &mut [Self; 2 * crate::rng::BLOCK_WORDS],
    ) {
        crate::rng::block_f64(words, out);
    }

    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn from_usize(v: usize) -> Self {
        v as f64
    }
    #[inline(always)]
    fn to_u32(self) -> u32 {
        self as u32
    }
    #[inline(always)]
    fn from_u64(v: u64) -> Self {
        v as f64
    }
    #[inline(always)]
    fn is_finite(self) -> bool {
        f64::is_finite(self)
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
    #[inline(always)]
    fn abs(self) -> Self {
        libm::fabs(self)
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        #[cfg(all(target_arch = "x86_64", target_feature = "fma"))]
        {
            use core::arch::x86_64::{_mm_cvtsd_f64, _mm_fmadd_sd, _mm_set_sd};
            // SAFETY: these intrinsics only need the `sse2` and `fma` target features,
            // which this cfg proves are enabled for the whole build, so the
            // instructions exist on every CPU the binary may run on. They take and
            // return values: no memory is touched.
            #[allow(unsafe_code)]
            unsafe {
                _mm_cvtsd_f64(_mm_fmadd_sd(_mm_set_sd(self), _mm_set_sd(a), _mm_set_sd(b)))
            }
        }
        #[cfg(not(all(target_arch = "x86_64", target_feature = "fma")))]
        {
            self * a + b
        }
    }
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    #[allow(unsafe_code)]
    unsafe fn mul_add_fused(self, a: Self, b: Self) -> Self {
        use core::arch::x86_64::{_mm_cvtsd_f64, _mm_fmadd_sd, _mm_set_sd};
        // SAFETY: the caller guarantees FMA (this function's contract); SSE2 is part
        // of x86-64. The intrinsics take and return values: no memory is touched.
        unsafe { _mm_cvtsd_f64(_mm_fmadd_sd(_mm_set_sd(self), _mm_set_sd(a), _mm_set_sd(b))) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    #[inline(always)]
    #[allow(unsafe_code)]
    unsafe fn mul_add_fused(self, a: Self, b: Self) -> Self {
        self.mul_add(a, b)
    }
    #[inline(always)]
    fn exp(self) -> Self {
        libm::exp(self)
    }
    #[inline(always)]
    fn ln(self) -> Self {
        libm::log(self)
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        libm::sqrt(self)
    }
    #[inline(always)]
    fn exp2_kernel(self) -> Self {
        self.exp2_kernel_with(|p, r, c| p.mul_add(r, c))
    }
    #[inline(always)]
    fn exp2_kernel_with(self, mul_add: impl Fn(Self, Self, Self) -> Self) -> Self {
        const ROUND: f64 = 6_755_399_441_055_744.0; // 1.5·2^52
        let x = self.max_fast(-1023.0).min_fast(1024.0);
        let t = x + ROUND;
        let k = t - ROUND;
        let r = x - k;
        // Chebyshev fit of 2^(r/2) on r ∈ [−1/2, 1/2], squared (tools/reference/fit_exp2.py).
        let mut p = 5.165_745_386_185_152e-9_f64;
        p = mul_add(p, r, 1.192_614_155_323_319_3e-7);
        p = mul_add(p, r, 2.406_801_085_498_388e-6);
        p = mul_add(p, r, 4.166_735_366_942_894e-5);
        p = mul_add(p, r, 6.011_330_692_537_042e-4);
        p = mul_add(p, r, 6.938_013_583_879_641_5e-3);
        p = mul_add(p, r, 6.005_662_673_977_496_5e-2);
        p = mul_add(p, r, 3.465_735_902_799_666e-1);
        p = mul_add(p, r, 1.0);
        let p = p * p;
        // As for f32: 2^k added into the exponent field; at r = 0, k = −1023 gives +0.0
        // and k = 1024 gives +∞.
        f64::from_bits(p.to_bits().wrapping_add(t.to_bits() << 52))
    }
}

/// Bit patterns 2^(j/64) − (127 << 23) − (j << 17) (wrapping) for j = 0..63: adding
/// c << 17 with c = 64·e + j gives the float 2^(j/64)·2^(e − 127), and +0.0 at c = 0
/// (the Cortex-M f32 [`Real::exp2_kernel`]; tools/reference/fit_exp2.py prints them;
/// the AVX-512 exponential takes every other entry).
#[cfg(any(target_arch = "arm", all(target_arch = "x86_64", not(miri))))]
pub(crate) const EXP2_64: [u32; 64] = [
    0x00000000, 0xFFFF64D2, 0xFFFECD87, 0xFFFE3A29, 0xFFFDAAC3, 0xFFFD1F62, 0xFFFC980F, 0xFFFC14D5,
    0xFFFB95C2, 0xFFFB1ADF, 0xFFFAA43A, 0xFFFA31DC, 0xFFF9C3D3, 0xFFF95A2B, 0xFFF8F4F0, 0xFFF8942D,
    0xFFF837F0, 0xFFF7E046, 0xFFF78D3A, 0xFFF73EDA, 0xFFF6F532, 0xFFF6B051, 0xFFF67043, 0xFFF63516,
    0xFFF5FED7, 0xFFF5CD94, 0xFFF5A15B, 0xFFF57A3A, 0xFFF5583F, 0xFFF53B79, 0xFFF523F6, 0xFFF511C4,
    0xFFF504F3, 0xFFF4FD92, 0xFFF4FBAF, 0xFFF4FF5B, 0xFFF508A4, 0xFFF5179A, 0xFFF52C4D, 0xFFF546CD,
    0xFFF5672A, 0xFFF58D75, 0xFFF5B9BE, 0xFFF5EC15, 0xFFF6248C, 0xFFF66334, 0xFFF6A81E, 0xFFF6F35B,
    0xFFF744FD, 0xFFF79D16, 0xFFF7FBB8, 0xFFF860F5, 0xFFF8CCDF, 0xFFF93F89, 0xFFF9B907, 0xFFFA396A,
    0xFFFAC0C7, 0xFFFB4F30, 0xFFFBE4BA, 0xFFFC8177, 0xFFFD257D, 0xFFFDD0DF, 0xFFFE83B3, 0xFFFF3E0C,
];

/// 1.5·2^23: added to an f32 of magnitude below 2^22, it rounds it to an integer, held
/// in the low mantissa bits of the sum (the f32 exponential off Cortex-M).
#[cfg(not(target_arch = "arm"))]
const EXP2_ROUND: f32 = 12_582_912.0;

/// For a positive normal f32 x = 2^e·m (m ∈ [1, 2)) with c = 1 + (2j + 1)/128 the
/// centre of m's 1/64 interval: (e, m − c, j), m − c exact (|m − c| ≤ 1/128, so
/// d = (m − c)/c has |d| ≤ 1/129). `None` for other values (0, subnormal, negative,
/// ∞, NaN), which [`Real::ln_kernel`] hands to libm.
#[inline(always)]
fn ln_split(x: f32) -> Option<(i32, f32, usize)> {
    let bits = x.to_bits();
    // Positive normal numbers: bits in [2^23, 255·2^23).
    if bits.wrapping_sub(0x0080_0000) >= 0x7F00_0000 {
        return None;
    }
    let j = (bits >> 17) & 63;
    let e = (bits >> 23) as i32 - 127;
    let m = f32::from_bits((bits & 0x007F_FFFF) | 0x3F80_0000);
    let c = f32::from_bits(0x3F81_0000 | (j << 17));
    Some((e, m - c, j as usize))
}

/// (1/c_j, ln c_j) for the centres c_j of `ln_split`, rounded to f32 for the
/// Cortex-M [`Real::ln_kernel`].
#[cfg(target_arch = "arm")]
const LN_TABLE: [(f32, f32); 64] = {
    let mut t = [(0.0f32, 0.0f32); 64];
    let mut j = 0;
    while j < 64 {
        t[j] = (LN_TABLE_F64[j].0 as f32, LN_TABLE_F64[j].1 as f32);
        j += 1;
    }
    t
};

/// (1/c_j, ln c_j) in f64, computed at compile time: ln c = 2·atanh(s),
/// s = (c − 1)/(c + 1) ≤ 1/3, by its series to s^41 (the next term is below 1e-21).
const LN_TABLE_F64: [(f64, f64); 64] = {
    let mut t = [(0.0f64, 0.0f64); 64];
    let mut j = 0;
    while j < 64 {
        let c = 1.0 + (2 * j + 1) as f64 / 128.0;
        let s = (c - 1.0) / (c + 1.0);
        let (mut term, mut sum, mut k) = (s, 0.0f64, 1);
        while k <= 41 {
            sum += term / k as f64;
            term *= s * s;
            k += 2;
        }
        t[j] = (1.0 / c, 2.0 * sum);
        j += 1;
    }
    t
};
