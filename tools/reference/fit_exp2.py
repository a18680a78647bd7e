"""Coefficients of the kernel's 2^r polynomial on [-1/2, 1/2] (core/src/real.rs).

A Chebyshev fit (mpmath.chebyfit, near-minimax) in 40-digit arithmetic, rounded to
the target type, with the constant term exactly 1 so that 2^0 and the underflow clamp
are exact: it fits (2^r - 1)/r with degree 4 (f32), or (2^(r/2) - 1)/r with degree 7
(f64, whose polynomial is then squared), and appends 1; prints the coefficients (highest degree first) and the worst relative
error of the rounded polynomial evaluated in that type against the exact 2^r, with
Horner steps rounded once (as a fused multiply-add does) and twice (without FMA); then
the Cortex-M table form (see the end). Run: python3 tools/reference/fit_exp2.py  (needs numpy, mpmath).
"""

import mpmath as mp
import numpy as np

mp.mp.dps = 40



def quotient(scale):
    """x -> (2^(scale·x) - 1)/x, continuous at 0."""
    def f(x):
        x = mp.mpf(x)
        return mp.log(2) * scale if x == 0 else (mp.power(2, scale * x) - 1) / x
    return f


# (degree, type, half): f32 fits 2^r itself; f64 fits 2^(r/2) and squares the result
# (one multiply), which for the same number of operations as a degree-9 fit of 2^r
# is five times more accurate (6.9e-15 against 3.7e-14).
for degree, dtype, half in [(5, np.float32, False), (8, np.float64, True)]:
    coeffs, bound = mp.chebyfit(quotient(0.5 if half else 1), [-0.5, 0.5], degree,
                                error=True)
    coeffs = list(coeffs) + [1]
    rounded = [dtype(float(c)) for c in coeffs]
    assert rounded[-1] == 1
    xs = np.linspace(-0.5, 0.5, 20001, dtype=dtype)
    wide = xs.astype(np.longdouble)
    fused = np.full(xs.shape, rounded[0], dtype=np.longdouble)
    split = np.full_like(xs, rounded[0])
    for c in rounded[1:]:
        fused = (fused * wide + np.longdouble(c)).astype(dtype).astype(np.longdouble)
        split = ((split * xs).astype(dtype) + c).astype(dtype)
    if half:
        fused = (fused * fused).astype(dtype).astype(np.longdouble)
        split = (split * split).astype(dtype)
    exact = np.array([float(mp.power(2, mp.mpf(float(x)))) for x in xs])
    worst = [float(np.max(np.abs(np.asarray(p, dtype=np.float64) - exact) / exact))
             for p in (fused, split)]
    form = "2^(r/2), squared" if half else "2^r"
    print(f"{dtype.__name__} degree {degree} ({form}): worst relative error of 2^r with FMA "
          f"{worst[0]:.3g}, without {worst[1]:.3g}")
    print("  " + ", ".join(repr(float(c)) for c in rounded))


# Cortex-M f32 form (core/src/real.rs, cfg target_arch = "arm"): 2^x = T_j·2^e·(1 + q(r))
# with x rounded to the nearest 1/64 (c = 64·(e + 127) + j, by adding 2^17 + 127),
# T_j = 2^(j/64) from a table and r ∈ [−1/128, 1/128] the exact remainder;
# q(r) = Q1·r + Q2·r² fits 2^r − 1 (near-minimax: Chebyshev fit of (2^r − 1)/r).
coeffs, bound = mp.chebyfit(quotient(1), [-mp.mpf(1) / 128, mp.mpf(1) / 128], 2, error=True)
q2, q1 = np.float32(float(coeffs[0])), np.float32(float(coeffs[1]))
r = np.linspace(-1 / 128, 1 / 128, 200001).astype(np.float32)
q = ((q2 * r + q1).astype(np.float32) * r).astype(np.float32)
exact = np.power(2.0, r.astype(np.float64)) - 1
print(f"cortex-m q(r): worst absolute error {np.max(np.abs(q - exact)):.3g}; "
      f"Q1 = {float(q1)!r}, Q2 = {float(q2)!r}")
table = [(int(np.float32(float(mp.power(2, mp.mpf(j) / 64))).view(np.uint32))
          - (127 << 23) - (j << 17)) & 0xFFFFFFFF for j in range(64)]
print("  EXP2_64: " + ", ".join(f"0x{t:08X}" for t in table))


# AVX-512 f32 form (core/src/avx512.rs): 2^x = T_j·2^k·(1 + q(r)) with x rounded to the
# nearest 1/32 (k + j/32, by adding 1.5·2^18), T_j = 2^(j/32) from a 32-entry table
# (two registers, one permute), r ∈ [−1/64, 1/64] the exact remainder; q as above on
# that interval. Evaluated as T + (T·r)·(Q1 + Q2·r) with fused multiply-adds.
coeffs, bound = mp.chebyfit(quotient(1), [-mp.mpf(1) / 64, mp.mpf(1) / 64], 2, error=True)
q2, q1 = np.float32(float(coeffs[0])), np.float32(float(coeffs[1]))
tab = [np.float32(float(mp.power(2, mp.mpf(j) / 32))) for j in range(32)]
worst = 0.0
for j in (0, 7, 13, 31):
    r = np.linspace(-1 / 64, 1 / 64, 100001).astype(np.float32)
    t = np.longdouble(tab[j])
    tr = (t * r.astype(np.longdouble)).astype(np.float32).astype(np.longdouble)
    q = (np.longdouble(q2) * r.astype(np.longdouble) + np.longdouble(q1)).astype(np.float32)
    p = (tr * q.astype(np.longdouble) + t).astype(np.float32).astype(np.float64)
    exact = np.power(2.0, j / 32 + r.astype(np.float64))
    worst = max(worst, float(np.max(np.abs(p - exact) / exact)))
print(f"avx-512 f32 T_j·(1 + q(r)): worst relative error {worst:.3g}; "
      f"Q1 = {float(q1)!r}, Q2 = {float(q2)!r}")
print("  EXP2_32: " + ", ".join(repr(float(t)) for t in tab))
