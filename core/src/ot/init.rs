//! Data-dependent starting potentials (Thornton & Cuturi, "Rethinking Initialization
//! of the Sinkhorn Algorithm", AISTATS 2023), for point clouds with the cost
//! `c(x, y) = s·‖x − y‖²`:
//!
//! - [`gaussian_potential`]: the Brenier potential of the Monge map between Gaussians
//!   fitted to both clouds (weighted means and covariances);
//! - [`sorted_dual`]: for d = 1, the exact dual pair of the monotone (sorted) coupling,
//!   for any weights, in O(n log n + m log m); [`Init::Sorted`] corrects its f to first
//!   order in ε by half the cloud's soft c-transform onto itself;
//! - [`Init::Subsample`]: a solve on a deterministic subsample weighted by the masses
//!   of its Voronoi cells and moved to their centroids, extended to every point by the
//!   soft c-transform ([`DualPotential`]).
//!
//! [`solve`](super::solve) runs them when `init` asks (see [`Init`]) and starts from
//! the result, which changes the iteration count, not the solution. Each needs the
//! workspace of [`init_workspace_len`](super::init_workspace_len) beyond
//! [`workspace_len`].

use crate::error::Error;
use crate::points::Points;
use crate::real::Real;
use crate::sum::Compensated;

use super::config::{Config, Epsilon, Init};
use super::ctransform::DualPotential;
use super::problem::{Checked, Cost, Problem};
use super::sinkhorn::run;
use super::workspace::{gaussian_workspace_len, init_workspace_len};
use crate::buf::take;
use crate::parallel::Serial;

/// Eigenvalues of a covariance at or below this fraction of the largest are taken as
/// 0: the moment sums and the Jacobi rotations round at about this level in f32
/// (2⁻⁸ of it in f64 would do, but the cut only decides which directions of a nearly
/// flat cloud the map ignores, and the points have no extent there).
const CUT_ULPS: f64 = 256.0;

/// Jacobi sweeps: each one squares the off-diagonal mass once the rotations are
/// small, so d ≤ 8 converges in well under 10; 32 bounds the work if rounding stalls.
const MAX_SWEEPS: usize = 32;

/// The Gaussian initializer: `f_i = φ(x_i)`, the Brenier potential of the Monge map
/// T(x) = m_b + A(x − m_a) between the Gaussians N(m_a, Σ_a), N(m_b, Σ_b) fitted to the
/// two clouds (weighted means and covariances, normalised by the mass),
///
/// ```text
/// A = Σ_a^{-1/2} (Σ_a^{1/2} Σ_b Σ_a^{1/2})^{1/2} Σ_a^{-1/2},
/// φ(x) = s·(‖x − m_a‖² − (x − m_a)ᵀA(x − m_a) + 2⟨x − m_a, m_a − m_b⟩) + const,
/// ```
///
/// so that x − ∇φ(x)/(2s) = T(x) for the cost s·‖x − y‖² (the scale s included, which
/// OTT-JAX's version omits). The constant makes Σ a_i f_i = 0. Square roots come from a
/// cyclic Jacobi eigen-decomposition (d×d, in the workspace).
///
/// A singular Σ_a (points on a line or plane, n ≤ d, one point) has a defined answer:
/// the inverse square root is taken on the range of Σ_a only (pseudo-inverse,
/// eigenvalues below 256 ε_mach·λ_max treated as 0), which is exact at the points
/// because x − m_a has no component outside that range. A singular Σ_b needs nothing
/// special (its square root is taken with eigenvalues clamped at 0).
///
/// `f` (length n) receives φ at every point (zero-weight points included); `workspace`
/// needs [`gaussian_workspace_len`]`(d)` elements.
///
/// # Errors
/// Nothing is written to `f` on error: the problem checks of [`solve`](super::solve)
/// (without ε), [`Error::NeedsPointClouds`] for a dense cost,
/// [`Error::LengthMismatch`] (`f`), [`Error::WorkspaceTooSmall`], [`Error::NonFinite`]
/// if the potential overflows.
pub fn gaussian_potential<T: Real>(
    problem: &Problem<'_, T>,
    f: &mut [T],
    workspace: &mut [T],
) -> Result<(), Error> {
    let chk = problem.check()?;
    let Cost::SqEuclidean { x, y, dim, scale } = problem.cost else {
        return Err(Error::NeedsPointClouds);
    };
    if f.len() != chk.n {
        return Err(Error::LengthMismatch);
    }
    if workspace.len() < gaussian_workspace_len(dim) {
        return Err(Error::WorkspaceTooSmall);
    }
    let mut rest = workspace;
    let (d, dd) = (dim, dim * dim);
    let ma = take(&mut rest, d)?;
    let mb = take(&mut rest, d)?;
    let ca = take(&mut rest, dd)?;
    let cb = take(&mut rest, dd)?;
    let v = take(&mut rest, dd)?;
    let s = take(&mut rest, dd)?;
    let si = take(&mut rest, dd)?;
    let tmp = take(&mut rest, dd)?;
    let lam = take(&mut rest, d)?;
    // Both clouds relative to the first point of x, so far-off clouds keep precision.
    let origin = x;
    moments(&x, problem.a, chk.mass_a, &origin, d, ma, ca);
    moments(&y, problem.b, chk.mass_b, &origin, d, mb, cb);

    // Σ_a = V Λ Vᵀ → S = Σ_a^{1/2}, Si = its pseudo-inverse.
    eigen(ca, v, lam, d);
    let top = lam.iter().fold(T::ZERO, |acc, &l| acc.max_fast(l));
    let cut = top * T::EPSILON * T::from_f64(CUT_ULPS);
    compose(s, v, lam, d, |l| if l > cut { l.sqrt() } else { T::ZERO });
    compose(si, v, lam, d, |l| {
        if l > cut {
            T::ONE / l.sqrt()
        } else {
            T::ZERO
        }
    });
    // M = S Σ_b S (into ca), then its square root (into tmp).
    matmul(tmp, cb, s, d);
    matmul(ca, s, tmp, d);
    eigen(ca, v, lam, d);
    compose(tmp, v, lam, d, |l| l.max_fast(T::ZERO).sqrt());
    // A = Si M^{1/2} Si (into s).
    matmul(cb, tmp, si, d);
    matmul(s, si, cb, d);
    let a_map = &*s;

    // φ is evaluated twice (O(n·d²) each) so that `f` is written only once every
    // value is known to be finite.
    let mut mean = Compensated::new();
    for i in 0..chk.n {
        let p = brenier(&x, &origin, i, ma, mb, a_map, d, scale);
        if !p.is_finite() {
            return Err(Error::NonFinite);
        }
        mean.add(problem.a.get(i).copied().unwrap_or(T::ZERO) * p);
    }
    let shift = mean.value() / chk.mass_a;
    for (i, fi) in f.iter_mut().enumerate() {
        *fi = brenier(&x, &origin, i, ma, mb, a_map, d, scale) - shift;
    }
    Ok(())
}

/// φ(x_i) of [`gaussian_potential`] before centring; `ma`, `mb` relative to `origin`.
#[allow(clippy::too_many_arguments)]
fn brenier<T: Real>(
    x: &Points<'_, T>,
    origin: &Points<'_, T>,
    i: usize,
    ma: &[T],
    mb: &[T],
    a_map: &[T],
    d: usize,
    scale: T,
) -> T {
    let z = |k: usize| x.get(i, k) - origin.get(0, k) - ma.get(k).copied().unwrap_or(T::ZERO);
    let mut acc = T::ZERO;
    for k in 0..d {
        let zk = z(k);
        let mut az = T::ZERO;
        for l in 0..d {
            az = at(a_map, d, k, l).mul_add(z(l), az);
        }
        let dm = ma.get(k).copied().unwrap_or(T::ZERO) - mb.get(k).copied().unwrap_or(T::ZERO);
        acc += zk * (zk - az + dm + dm);
    }
    scale * acc
}

/// Weighted mean (relative to point 0 of `origin`) and covariance of `pts`, normalised
/// by `mass` = Σw.
fn moments<T: Real>(
    pts: &Points<'_, T>,
    w: &[T],
    mass: T,
    origin: &Points<'_, T>,
    d: usize,
    mean: &mut [T],
    cov: &mut [T],
) {
    let rel = |i: usize, k: usize| pts.get(i, k) - origin.get(0, k);
    for (k, mk) in mean.iter_mut().enumerate() {
        let mut s = Compensated::new();
        for (i, &wi) in w.iter().enumerate() {
            s.add(wi * rel(i, k));
        }
        *mk = s.value() / mass;
    }
    let mean = &*mean;
    let c = |i: usize, k: usize| rel(i, k) - mean.get(k).copied().unwrap_or(T::ZERO);
    for k in 0..d {
        for l in k..d {
            let mut s = Compensated::new();
            for (i, &wi) in w.iter().enumerate() {
                s.add(wi * c(i, k) * c(i, l));
            }
            let v = s.value() / mass;
            set(cov, d, k, l, v);
            set(cov, d, l, k, v);
        }
    }
}

/// Element (i, j) of a d×d row-major matrix (0 outside).
#[inline]
fn at<T: Real>(a: &[T], d: usize, i: usize, j: usize) -> T {
    a.get(i * d + j).copied().unwrap_or(T::ZERO)
}

/// Sets element (i, j) of a d×d row-major matrix (ignored outside).
#[inline]
fn set<T: Real>(a: &mut [T], d: usize, i: usize, j: usize, v: T) {
    if let Some(e) = a.get_mut(i * d + j) {
        *e = v;
    }
}

/// `out = p·q` for d×d row-major matrices.
fn matmul<T: Real>(out: &mut [T], p: &[T], q: &[T], d: usize) {
    for i in 0..d {
        for j in 0..d {
            let mut s = T::ZERO;
            for k in 0..d {
                s = at(p, d, i, k).mul_add(at(q, d, k, j), s);
            }
            set(out, d, i, j, s);
        }
    }
}

/// `out = V·h(Λ)·Vᵀ` for the eigenvectors V (columns) and eigenvalues Λ.
fn compose<T: Real>(out: &mut [T], v: &[T], lam: &[T], d: usize, h: impl Fn(T) -> T) {
    for i in 0..d {
        for j in 0..d {
            let mut s = T::ZERO;
            for (k, &l) in lam.iter().enumerate() {
                s = (at(v, d, i, k) * h(l)).mul_add(at(v, d, j, k), s);
            }
            set(out, d, i, j, s);
        }
    }
}

/// Cyclic Jacobi eigen-decomposition of the symmetric d×d matrix `a` (destroyed):
/// eigenvalues into `lam`, eigenvectors into the columns of `v`.
fn eigen<T: Real>(a: &mut [T], v: &mut [T], lam: &mut [T], d: usize) {
    for i in 0..d {
        for j in 0..d {
            set(v, d, i, j, if i == j { T::ONE } else { T::ZERO });
        }
    }
    for _ in 0..MAX_SWEEPS {
        let (mut off, mut all) = (T::ZERO, T::ZERO);
        for i in 0..d {
            for j in 0..d {
                let e = at(a, d, i, j);
                all = e.mul_add(e, all);
                if i != j {
                    off = e.mul_add(e, off);
                }
            }
        }
        // Off-diagonal mass at the rounding level of the matrix: diagonal.
        if off <= all * T::EPSILON * T::EPSILON {
            break;
        }
        for p in 0..d {
            for q in p + 1..d {
                rotate(a, v, d, p, q);
            }
        }
    }
    for (k, l) in lam.iter_mut().enumerate() {
        *l = at(a, d, k, k);
    }
}

/// One Jacobi rotation zeroing a_pq: A ← JᵀAJ, V ← VJ with J the rotation by
/// (c, s) in the (p, q) plane.
fn rotate<T: Real>(a: &mut [T], v: &mut [T], d: usize, p: usize, q: usize) {
    let apq = at(a, d, p, q);
    if apq == T::ZERO {
        return;
    }
    let theta = (at(a, d, q, q) - at(a, d, p, p)) / (apq + apq);
    // The smaller root of t² + 2θt − 1 = 0, without overflow for large |θ|.
    let r = theta.abs();
    let root = if r > T::ONE {
        r * (T::ONE + T::ONE / (r * r)).sqrt()
    } else {
        (r * r + T::ONE).sqrt()
    };
    let t = if theta < T::ZERO { -T::ONE } else { T::ONE } / (r + root);
    let c = T::ONE / (t * t + T::ONE).sqrt();
    let s = t * c;
    for k in 0..d {
        let (akp, akq) = (at(a, d, k, p), at(a, d, k, q));
        set(a, d, k, p, c * akp - s * akq);
        set(a, d, k, q, s * akp + c * akq);
    }
    for k in 0..d {
        let (apk, aqk) = (at(a, d, p, k), at(a, d, q, k));
        set(a, d, p, k, c * apk - s * aqk);
        set(a, d, q, k, s * apk + c * aqk);
    }
    for k in 0..d {
        let (vkp, vkq) = (at(v, d, k, p), at(v, d, k, q));
        set(v, d, k, p, c * vkp - s * vkq);
        set(v, d, k, q, s * vkp + c * vkq);
    }
}

/// The 1-D initializer: for point clouds in d = 1 and any weights, the exact dual pair
/// (f, g) of the monotone coupling (the optimal one for the convex cost s·(x − y)²).
/// Both clouds are sorted (heap sort of index permutations in the workspace), the
/// coupling is walked by the north-west corner rule on the normalised weights, and the
/// potentials are set tight along the walk: f_i + g_j = C_ij on every step, starting
/// from f = 0 at the leftmost x. The walk is a monotone staircase, so the pair is
/// feasible (f_i + g_j ≤ C_ij everywhere, by the Monge property of the cost) and tight
/// on the coupling: ⟨a, f⟩/Σa + ⟨b, g⟩/Σb is the optimal transport cost of the
/// normalised weights. Where the walk may turn either way (equal cumulative masses) it
/// is run both ways and the two pairs averaged. O(n log n + m log m) time; zero-weight
/// points are included.
///
/// `f` (length n), `g` (length m) receive the pair; `workspace` needs
/// [`sorted_workspace_len`](super::sorted_workspace_len)`(n, m)` elements.
///
/// # Errors
/// Nothing is written to `f`, `g` on error: the problem checks of
/// [`solve`](super::solve) (without ε), [`Error::NeedsPointClouds`] for a dense cost,
/// [`Error::InvalidParameter`] if d ≠ 1, if n or m is beyond the integers `T` holds
/// exactly (2²⁴ for f32) or if (n + m)·max C overflows, [`Error::LengthMismatch`]
/// (`f`, `g`), [`Error::WorkspaceTooSmall`].
pub fn sorted_dual<T: Real>(
    problem: &Problem<'_, T>,
    f: &mut [T],
    g: &mut [T],
    workspace: &mut [T],
) -> Result<(), Error> {
    let chk = problem.check()?;
    let Cost::SqEuclidean { x, y, dim, scale } = problem.cost else {
        return Err(Error::NeedsPointClouds);
    };
    if dim != 1 {
        return Err(Error::InvalidParameter);
    }
    if f.len() != chk.n || g.len() != chk.m {
        return Err(Error::LengthMismatch);
    }
    let exact = T::from_f64(2.0) / T::EPSILON;
    if T::from_usize(chk.n.max(chk.m)) > exact {
        return Err(Error::InvalidParameter);
    }
    // Every potential is a sum of at most n + m differences of costs.
    if !(T::from_usize(chk.n + chk.m) * chk.max_cost).is_finite() {
        return Err(Error::InvalidParameter);
    }
    let mut rest = workspace;
    let ix = take(&mut rest, chk.n)?;
    let iy = take(&mut rest, chk.m)?;
    sort_indices(ix, |i| x.get(i, 0));
    sort_indices(iy, |j| y.get(j, 0));
    let idx = |p: &[T], t: usize| p.get(t).map_or(0, |v| v.to_f64() as usize);
    let cost = |i: usize, j: usize| {
        let t = x.get(i, 0) - y.get(j, 0);
        scale * t * t
    };
    let weight = |w: &[T], i: usize| w.get(i).copied().unwrap_or(T::ZERO);
    // Two walks, breaking ties of the cumulative masses (equal weights, n = m: every
    // step) towards x, then towards y: each gives an extreme point of the set of
    // optimal duals; their mean is optimal too (the set is convex), and, in the middle
    // of the set, a better start for the entropic problem.
    for (walk, x_first) in [(0, true), (1, false)] {
        let (mut s, mut t) = (0usize, 0usize);
        let (mut i, mut j) = (idx(ix, 0), idx(iy, 0));
        let (mut cum_a, mut cum_b) = (Compensated::new(), Compensated::new());
        cum_a.add(weight(problem.a, i) / chk.mass_a);
        cum_b.add(weight(problem.b, j) / chk.mass_b);
        let (mut fi, mut gj) = (T::ZERO, cost(i, j));
        let write = |out: &mut [T], k: usize, v: T| {
            let prev = out.get(k).copied().unwrap_or(T::ZERO);
            put(out, k, if walk == 0 { v } else { (prev + v) * T::HALF });
        };
        write(f, i, fi);
        write(g, j, gj);
        while s + 1 < chk.n || t + 1 < chk.m {
            let advance_x = if s + 1 == chk.n {
                false
            } else if t + 1 == chk.m {
                true
            } else {
                let (ca, cb) = (cum_a.value(), cum_b.value());
                ca < cb || (ca == cb && x_first)
            };
            if advance_x {
                s += 1;
                i = idx(ix, s);
                cum_a.add(weight(problem.a, i) / chk.mass_a);
                fi = cost(i, j) - gj;
                write(f, i, fi);
            } else {
                t += 1;
                j = idx(iy, t);
                cum_b.add(weight(problem.b, j) / chk.mass_b);
                gj = cost(i, j) - fi;
                write(g, j, gj);
            }
        }
    }
    Ok(())
}

/// `out[i] = v` if in range.
#[inline]
fn put<T: Copy>(out: &mut [T], i: usize, v: T) {
    if let Some(o) = out.get_mut(i) {
        *o = v;
    }
}

/// Fills `idx` with 0..len (as `T`, exact by the caller's check) sorted by `key`
/// ascending: heap sort, O(len log len), in place, no recursion.
fn sort_indices<T: Real>(idx: &mut [T], key: impl Fn(usize) -> T) {
    for (i, v) in idx.iter_mut().enumerate() {
        *v = T::from_usize(i);
    }
    let k = |idx: &[T], p: usize| key(idx.get(p).map_or(0, |v| v.to_f64() as usize));
    let len = idx.len();
    for root in (0..len / 2).rev() {
        sift_down(idx, root, len, &k);
    }
    for end in (1..len).rev() {
        swap(idx, 0, end);
        sift_down(idx, 0, end, &k);
    }
}

fn sift_down<T: Real>(idx: &mut [T], mut root: usize, end: usize, key: &impl Fn(&[T], usize) -> T) {
    loop {
        let mut child = 2 * root + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && key(idx, child) < key(idx, child + 1) {
            child += 1;
        }
        if key(idx, root) < key(idx, child) {
            swap(idx, root, child);
            root = child;
        } else {
            return;
        }
    }
}

/// Swaps two entries (nothing if either is out of range).
#[inline]
fn swap<T: Copy>(s: &mut [T], i: usize, j: usize) {
    if let (Some(&a), Some(&b)) = (s.get(i), s.get(j)) {
        put(s, i, b);
        put(s, j, a);
    }
}

/// Starting potentials for [`solve`](super::solve) with an initializer `init`, in the
/// first n + m elements of `tail` (f₀ then g₀, cost units, as the solver reads a warm
/// start); the rest of `tail` is scratch. The unregularised duals get the entropic
/// correction ε·ln w at positive-weight points (P_ij = exp((f_i + g_j − C_ij)/ε) has
/// the marginals' weights inside the potentials).
///
/// Out of line, so that its locals (and the subsample's nested solve) do not enlarge
/// the stack frame of every plain [`solve`](super::solve).
///
/// # Errors
/// Those of the initializer and of the solver's checks.
#[inline(never)]
pub(super) fn start<'t, T: Real>(
    problem: &Problem<'_, T>,
    config: &Config<T>,
    init: Init,
    tail: &'t mut [T],
) -> Result<(&'t [T], &'t [T]), Error> {
    config.check()?;
    let chk = problem.check()?;
    let eps = config.epsilon.resolve(chk.mean_cost)?;
    if tail.len() < init_workspace_len(chk.n, chk.m, chk.dim, init) {
        return Err(Error::WorkspaceTooSmall);
    }
    let mut rest = tail;
    let f0 = take(&mut rest, chk.n)?;
    let g0 = take(&mut rest, chk.m)?;
    match init {
        Init::Gaussian => {
            gaussian_potential(problem, f0, rest)?;
            g0.iter_mut().for_each(|v| *v = T::ZERO);
            add_entropic(f0, problem.a, eps);
        }
        Init::Sorted => {
            sorted_dual(problem, f0, g0, rest)?;
            add_entropic(f0, problem.a, eps);
            add_entropic(g0, problem.b, eps);
            add_half_self_potential(problem, eps, f0, rest)?;
        }
        Init::Subsample { size } => subsample(problem, config, &chk, eps, size, f0, g0, rest)?,
        Init::Zero | Init::Potentials | Init::Resume => return Err(Error::InvalidParameter),
    }
    Ok((f0, g0))
}

/// The entropic correction of an exact dual f₀: `f_i += p_i / 2` at positive-weight
/// points, with `p_i = −ε ln Σ_j a_j exp(−s‖x_i − x_j‖²/ε)` the soft c-transform of the
/// cloud onto itself (`−ε ln` of its density smoothed by the problem's own kernel).
///
/// Why: the Laplace expansion of the entropic potentials around the exact ones gives
/// f_ε(x) + g_ε(T(x)) ≈ f₀(x) + g₀(T(x)) − (ε/2)·ln(ρ_a(x)·ρ_b(T(x))), split evenly
/// between the sides. The exact dual lacks this term; it is largest where the density
/// falls off (the edges of every cluster, the tails), a smooth offset of the kind
/// Sinkhorn corrects slowest. g needs nothing: the first half-iteration computes it
/// from f. Costs one pass over the n² pairs of the first cloud through the shared
/// kernel; needs [`c_transform_workspace_len`](super::c_transform_workspace_len)`(n, n,
/// d)` + n elements of `ws`.
fn add_half_self_potential<T: Real>(
    problem: &Problem<'_, T>,
    eps: T,
    f: &mut [T],
    ws: &mut [T],
) -> Result<(), Error> {
    let Cost::SqEuclidean { x, dim, scale, .. } = problem.cost else {
        return Err(Error::NeedsPointClouds);
    };
    let n = f.len();
    let (values, rest) = ws.split_at_mut_checked(n).ok_or(Error::WorkspaceTooSmall)?;
    let (out, rest) = rest
        .split_at_mut_checked(n)
        .ok_or(Error::WorkspaceTooSmall)?;
    for (v, &w) in values.iter_mut().zip(problem.a) {
        *v = if w > T::ZERO {
            eps * w.ln()
        } else {
            T::NEG_INFINITY
        };
    }
    let own = DualPotential {
        points: x,
        values,
        dim,
        scale,
        epsilon: eps,
    };
    // With the weights a as the evaluated side's, out_i = ε ln a_i + p_i.
    own.evaluate(x, problem.a, T::INFINITY, out, rest)?;
    let half = T::from_f64(0.5);
    for ((fi, &oi), &vi) in f.iter_mut().zip(&*out).zip(&*values) {
        if vi > T::NEG_INFINITY {
            *fi += half * (oi - vi);
        }
    }
    Ok(())
}

/// `p_i += ε ln w_i` where w_i > 0.
fn add_entropic<T: Real>(p: &mut [T], w: &[T], eps: T) {
    for (pi, &wi) in p.iter_mut().zip(w) {
        if wi > T::ZERO {
            *pi += eps * wi.ln();
        }
    }
}

/// The subsample initializer: `size` points of each cloud at evenly spaced indices
/// (⌊t·n/k⌋, deterministic; shuffle ordered clouds first), each weighted by the mass
/// of its Voronoi cell in the whole cloud and moved to the cell's centroid, solved at
/// the same ε with the caller's settings, and extended to every point by the soft
/// c-transform (f from the subsample's g and conversely).
#[allow(clippy::too_many_arguments)]
fn subsample<T: Real>(
    problem: &Problem<'_, T>,
    config: &Config<T>,
    chk: &Checked<T>,
    eps: T,
    size: u32,
    f0: &mut [T],
    g0: &mut [T],
    mut rest: &mut [T],
) -> Result<(), Error> {
    let Cost::SqEuclidean { x, y, dim, scale } = problem.cost else {
        return Err(Error::NeedsPointClouds);
    };
    let k = size as usize;
    if k == 0 {
        return Err(Error::InvalidParameter);
    }
    let (k1, k2) = (k.min(chk.n), k.min(chk.m));
    let xs = take(&mut rest, k1 * dim)?;
    let ys = take(&mut rest, k2 * dim)?;
    let wa = take(&mut rest, k1)?;
    let wb = take(&mut rest, k2)?;
    let fs = take(&mut rest, k1)?;
    let gs = take(&mut rest, k2)?;
    // The sub-solve's workspace is free until it runs: the centroid sums go there.
    gather(&x, problem.a, chk.n, chk.mass_a, dim, xs, wa, rest);
    gather(&y, problem.b, chk.m, chk.mass_b, dim, ys, wb, rest);
    let sub = Problem::point_clouds(xs, ys, dim, scale, wa, wb);
    let sub_config = Config {
        epsilon: Epsilon::Absolute(eps),
        ..*config
    };
    run(&Serial, &sub, &sub_config, Init::Zero, None, fs, gs, rest)?;
    let from_y = DualPotential {
        points: Points::row_major(ys, dim),
        values: gs,
        dim,
        scale,
        epsilon: eps,
    };
    from_y.evaluate(x, problem.a, config.rho_a, f0, rest)?;
    let from_x = DualPotential {
        points: Points::row_major(xs, dim),
        values: fs,
        ..from_y
    };
    from_x.evaluate(y, problem.b, config.rho_b, g0, rest)
}

/// Quantizes a cloud to k = `w_out.len()` points: the points ⌊t·n/k⌋, t = 0..k, each
/// given the weight of its Voronoi cell in the whole cloud (the weights of the points
/// nearest to it, ties to the first), rescaled to sum to `mass` (uniform if they are
/// all 0), into `w_out`, and moved to the weighted centroid of that cell (one Lloyd
/// step), row-major into `pts_out`. The subsample then keeps the mass and the mean of
/// every region: with the picked points' own weights, a subset that over-represents
/// one cluster moves the start's offsets between clusters, the mode Sinkhorn is
/// slowest to correct, and the centroids quantize each cell with less distortion than
/// the picked points. `acc` (at least k·d elements) holds the centroid sums. Cost:
/// one n·k·d pass, a fraction of one Sinkhorn pass over n·m.
#[allow(clippy::too_many_arguments)]
fn gather<T: Real>(
    pts: &Points<'_, T>,
    w: &[T],
    n: usize,
    mass: T,
    dim: usize,
    pts_out: &mut [T],
    w_out: &mut [T],
    acc: &mut [T],
) {
    let k = w_out.len().max(1);
    let (q, r) = (n / k, (n % k) as u64);
    let pick = |t: usize| t * q + ((t as u64 * r) / k as u64) as usize;
    for t in 0..w_out.len() {
        let i = pick(t);
        for c in 0..dim {
            put(pts_out, t * dim + c, pts.get(i, c));
        }
    }
    w_out.iter_mut().for_each(|v| *v = T::ZERO);
    acc.iter_mut()
        .take(w_out.len() * dim)
        .for_each(|v| *v = T::ZERO);
    let mut total = Compensated::new();
    for (i, &wi) in w.iter().enumerate().take(n) {
        let mut best = (T::INFINITY, 0);
        for (t, p) in pts_out.chunks_exact(dim.max(1)).enumerate() {
            let mut d2 = T::ZERO;
            for (c, &pc) in p.iter().enumerate() {
                let e = pts.get(i, c) - pc;
                d2 += e * e;
            }
            if d2 < best.0 {
                best = (d2, t);
            }
        }
        if let Some(v) = w_out.get_mut(best.1) {
            *v += wi;
        }
        for c in 0..dim {
            let i_out = best.1 * dim + c;
            if let (Some(s), Some(&p)) = (acc.get_mut(i_out), pts_out.get(i_out)) {
                // Relative to the picked point: no cancellation for far clouds.
                *s += wi * (pts.get(i, c) - p);
            }
        }
        total.add(wi);
    }
    for (t, &wt) in w_out.iter().enumerate() {
        if wt > T::ZERO {
            for c in 0..dim {
                let i_out = t * dim + c;
                if let (Some(p), Some(&s)) = (pts_out.get_mut(i_out), acc.get(i_out)) {
                    *p += s / wt;
                }
            }
        }
    }
    let total = total.value();
    let kk = T::from_usize(k);
    for wt in w_out.iter_mut() {
        *wt = if total > T::ZERO {
            *wt * (mass / total)
        } else {
            mass / kk
        };
    }
}
