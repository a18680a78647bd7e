//! KLD-sampling (Fox 2003): how many particles the next set needs, from how many bins
//! of a grid over the state the current particles occupy.
//!
//! With k occupied bins, M = (k − 1)/(2ε)·(1 − 2/(9(k − 1)) + √(2/(9(k − 1)))·z)³
//! particles bound the KL divergence between the sample-based and the true binned
//! belief by ε with probability q, z being the standard normal quantile of q
//! (Wilson–Hilferty). M is clamped to [minimum, capacity]; k ≤ 1 gives the minimum
//! (AMCL returned the maximum there, `ros-planning/navigation` #1159).
//!
//! Which particles: those of the set passed in (the predicted particles, before
//! resampling), all of them with a live weight. When a filter resamples every tick,
//! that set is the one table 8.4 of *Probabilistic Robotics* bins: draws from the
//! previous belief moved by the motion model.
//!
//! Bins: ⌊x_k / b_k⌋ per coordinate; a periodic coordinate is first wrapped into
//! [0, P) and has ⌈P/b⌉ bins (the last one narrower). Occupied bins are counted in a
//! caller's open-addressing table of 64-bit bin keys ([`kld_table_len`]: 2N slots,
//! load ≤ ½): O(N) expected time. Keys are a 63-bit hash of the bin indices; two
//! occupied bins collide with probability below k²/2⁶⁴.

use crate::buf::take;
use crate::error::Error;
use crate::real::Real;

use super::ot_resample::check_cloud;
use super::state::{check_coords, Angles, Coord, Kind};

/// KLD-sampling settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KldConfig<T> {
    /// ε: the bound on the KL divergence (nats) between the sample and the binned
    /// belief (AMCL's `pf_err`/`kld_err`: 0.05 in nav2, 0.01 in ROS 1). > 0.
    pub kl_bound: T,
    /// q: the probability with which the bound holds (AMCL's `pf_z`/`kld_z`, 0.99,
    /// which AMCL passes on as if it were the normal quantile z). In (0, 1).
    pub confidence: T,
    /// The fewest particles to keep (≥ 1).
    pub min_particles: usize,
}

impl<T: Real> KldConfig<T> {
    /// nav2's defaults: ε = 0.05, q = 0.99, at least 500 particles.
    #[must_use]
    pub fn nav2() -> Self {
        Self {
            kl_bound: T::from_f64(0.05),
            confidence: T::from_f64(0.99),
            min_particles: 500,
        }
    }

    pub(crate) fn check(&self, capacity: usize) -> Result<(), Error> {
        let ok = self.kl_bound.is_finite()
            && self.kl_bound > T::ZERO
            && self.confidence > T::ZERO
            && self.confidence < T::ONE
            && self.min_particles >= 1
            && self.min_particles <= capacity;
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidParameter)
        }
    }
}

/// Slots of the bin table for N particles: 2N.
#[must_use]
pub const fn kld_table_len(n: usize) -> usize {
    n.saturating_mul(2)
}

/// The particle count M for k occupied bins (module docs), in [min, capacity].
#[must_use]
pub fn kld_bound<T: Real>(k: usize, cfg: &KldConfig<T>, capacity: usize) -> usize {
    let lo = cfg.min_particles.min(capacity);
    if k <= 1 {
        return lo;
    }
    let z = normal_quantile(cfg.confidence);
    let km = T::from_usize(k - 1);
    let a = T::from_f64(2.0) / (T::from_f64(9.0) * km);
    let c = T::ONE - a + a.sqrt() * z;
    let m = km / (T::from_f64(2.0) * cfg.kl_bound) * c * c * c;
    // m is not NaN (ε > 0 and finite, k ≥ 2) but may be +∞ for a tiny ε. Count up
    // to ⌈m⌉ without a float-to-int cast; the capacity bounds the loop.
    if m <= T::from_usize(lo) {
        return lo;
    }
    if m >= T::from_usize(capacity) {
        return capacity;
    }
    let mut out = lo;
    while T::from_usize(out) < m {
        out += 1;
    }
    out
}

/// Counts the bins of the grid (bin widths in `coords`) that the live particles of
/// `x` (N×d row-major; log-weight > −∞) occupy, using `table` (≥ [`kld_table_len`]
/// slots, contents ignored and overwritten), and returns (k, M) with M =
/// [`kld_bound`]`(k)`.
///
/// # Errors
/// `EmptyInput`, `LengthMismatch` (`x`, `coords`), `NonFiniteInput`, `ZeroMass`,
/// `InvalidParameter` (a bin width not finite and > 0, a period or cost scale, a
/// setting of `cfg`, minimum > capacity), `WorkspaceTooSmall` (`table`). Nothing is
/// written on error.
pub fn kld_count<T: Real + Angles>(
    x: &[T],
    logw: &[T],
    coords: &[Coord<T>],
    cfg: &KldConfig<T>,
    capacity: usize,
    table: &mut [u64],
) -> Result<(usize, usize), Error> {
    let d = coords.len();
    check_coords(coords, d)?;
    check_bins(coords)?;
    check_cloud(x, logw, d)?;
    cfg.check(capacity)?;
    if table.len() < kld_table_len(logw.len()) {
        return Err(Error::WorkspaceTooSmall);
    }
    let k = count_bins(x, logw, coords, table);
    Ok((k, kld_bound(k, cfg, capacity)))
}

/// Bin widths finite and > 0.
pub(crate) fn check_bins<T: Real>(coords: &[Coord<T>]) -> Result<(), Error> {
    if coords.iter().all(|c| c.bin.is_finite() && c.bin > T::ZERO) {
        Ok(())
    } else {
        Err(Error::InvalidParameter)
    }
}

/// The occupied-bin count (inputs checked, `table` long enough).
pub(crate) fn count_bins<T: Real + Angles>(
    x: &[T],
    logw: &[T],
    coords: &[Coord<T>],
    table: &mut [u64],
) -> usize {
    let d = coords.len().max(1);
    table.fill(0);
    let mut k = 0;
    for (xi, &l) in x.chunks_exact(d).zip(logw) {
        if l != T::NEG_INFINITY {
            k += usize::from(insert(table, bin_key(xi, coords)).1);
        }
    }
    k
}

/// A 63-bit hash of the bin indices of one state, never 0 (the empty slot).
pub(crate) fn bin_key<T: Real + Angles>(xi: &[T], coords: &[Coord<T>]) -> u64 {
    let mut h = KEY_SEED;
    for (c, &v) in coords.iter().zip(xi) {
        h = mix(h ^ (bin_index(v, c) as u64));
    }
    (h >> 1) | 1
}

const KEY_SEED: u64 = 0x243F_6A88_85A3_08D3;

/// The bin index of value `v` of coordinate `c`; periodic: in [0, ⌈P/b⌉) (the last,
/// narrower bin ends at P). Indices beyond ±2⁶² (a particle 2⁶² bins away) share
/// the edge bin.
fn bin_index<T: Real + Angles>(v: T, c: &Coord<T>) -> i64 {
    let idx = match c.kind {
        Kind::Linear => (v / c.bin).floor(),
        Kind::Periodic(p) => {
            let u = v - p * (v / p).floor();
            (u / c.bin)
                .floor()
                .min_fast(periodic_bins(p, c.bin) - T::ONE)
        }
    };
    idx.to_f64().clamp(-4.6e18, 4.6e18) as i64
}

/// ⌈P/b⌉, the number of bins around a periodic coordinate.
fn periodic_bins<T: Real + Angles>(p: T, b: T) -> T {
    -(-p / b).floor()
}

/// Most coordinates [`largest_cluster`] accepts (it visits 3^d − 1 neighbours of
/// every occupied bin).
pub const CLUSTER_MAX_DIM: usize = 6;

/// u64 slots of the table [`largest_cluster`] needs for N particles: 5N (bin keys
/// and their union–find links, 2N each; each particle's slot, N).
#[must_use]
pub const fn cluster_table_len(n: usize) -> usize {
    n.saturating_mul(5)
}

/// Elements of the workspace [`largest_cluster`] needs for N particles: 3N (the
/// weight of each bin slot, 2N; the masked log-weights, N).
#[must_use]
pub const fn cluster_workspace_len(n: usize) -> usize {
    n.saturating_mul(3)
}

/// The best hypothesis, as AMCL publishes it: the particles are binned on the grid
/// of `coords` (bin widths), bins that touch (differ by at most one in every index,
/// diagonals included, across the period for periodic coordinates) form clusters,
/// and the cluster of largest total weight gets its mean and covariance per the
/// state description ([`state_moments`](super::state::state_moments) of its
/// particles). Returns that cluster's weight (0..1] and the number of clusters.
///
/// `table`: [`cluster_table_len`]`(N)` u64, `ws`: [`cluster_workspace_len`]`(N)`
/// elements; contents ignored. O(N·3^d) expected time.
///
/// # Errors
/// As [`kld_count`] (without its settings), plus `InvalidParameter` (d >
/// [`CLUSTER_MAX_DIM`]), `LengthMismatch` (`mean`, `cov`), `WorkspaceTooSmall`.
/// Nothing is written on error.
#[allow(clippy::too_many_arguments)]
pub fn largest_cluster<T: Real + Angles>(
    x: &[T],
    logw: &[T],
    coords: &[Coord<T>],
    table: &mut [u64],
    ws: &mut [T],
    mean: &mut [T],
    cov: &mut [T],
) -> Result<(T, usize), Error> {
    let d = coords.len();
    check_coords(coords, d)?;
    check_bins(coords)?;
    if d > CLUSTER_MAX_DIM {
        return Err(Error::InvalidParameter);
    }
    let lse = super::ot_resample::check_inputs(x, logw, d)?;
    if mean.len() != d || cov.len() != d * d {
        return Err(Error::LengthMismatch);
    }
    let n = logw.len();
    if table.len() < cluster_table_len(n) || ws.len() < cluster_workspace_len(n) {
        return Err(Error::WorkspaceTooSmall);
    }
    let mut rest = table;
    let keys = take(&mut rest, 2 * n)?;
    let link = take(&mut rest, 2 * n)?;
    let slot_of = take(&mut rest, n)?;
    let mut rest = ws;
    let mass = take(&mut rest, 2 * n)?;
    let masked = take(&mut rest, n)?;
    keys.fill(0);
    mass.fill(T::ZERO);
    // Bins, and each particle's slot (u64::MAX: dead particle).
    for (i, (xi, &l)) in x.chunks_exact(d).zip(logw).enumerate() {
        let s = if l == T::NEG_INFINITY {
            u64::MAX
        } else {
            insert(keys, bin_key(xi, coords)).0 as u64
        };
        if let Some(o) = slot_of.get_mut(i) {
            *o = s;
        }
    }
    for (s, l) in link.iter_mut().enumerate() {
        *l = s as u64;
    }
    // Join each occupied bin to its occupied neighbours, once per bin (`mass` marks
    // the bins done, and is cleared afterwards).
    let mut idx = [0i64; CLUSTER_MAX_DIM];
    for i in 0..n {
        let slot = slot_of.get(i).copied().unwrap_or(u64::MAX);
        match mass.get_mut(slot as usize) {
            Some(done) if *done == T::ZERO => *done = T::ONE,
            _ => continue,
        }
        let xi = x.get(i * d..(i + 1) * d).unwrap_or(&[]);
        for (o, (&v, c)) in idx.iter_mut().zip(xi.iter().zip(coords)) {
            *o = bin_index(v, c);
        }
        let total = 3usize.pow(d as u32);
        for code in 0..total {
            let mut h = KEY_SEED;
            let mut t = code;
            for (k, c) in coords.iter().enumerate() {
                let off = (t % 3) as i64 - 1;
                t /= 3;
                let mut j = idx.get(k).copied().unwrap_or(0).saturating_add(off);
                if let Kind::Periodic(p) = c.kind {
                    let nb = periodic_bins(p, c.bin).to_f64() as i64;
                    j = j.rem_euclid(nb.max(1));
                }
                h = mix(h ^ (j as u64));
            }
            if let Some(other) = find_slot(keys, (h >> 1) | 1) {
                union(link, slot as usize, other);
            }
        }
    }
    // Mass per root, and the heaviest root.
    mass.fill(T::ZERO);
    for (&s, &l) in slot_of.iter().zip(logw) {
        if s != u64::MAX {
            let r = root(link, s as usize);
            if let Some(m) = mass.get_mut(r) {
                *m += lse.centre(l).exp();
            }
        }
    }
    let mut best = (0usize, T::ZERO);
    let mut clusters = 0;
    for (s, &m) in mass.iter().enumerate() {
        if m > T::ZERO {
            clusters += 1;
            if m > best.1 {
                best = (s, m);
            }
        }
    }
    for ((o, &s), &l) in masked.iter_mut().zip(slot_of.iter()).zip(logw) {
        let inside = s != u64::MAX && root(link, s as usize) == best.0;
        *o = if inside { l } else { T::NEG_INFINITY };
    }
    super::state::state_moments(x, masked, coords, mean, cov)?;
    // A share of a normalised total: at most 1, although the rounded sum of the
    // shares of one cluster holding every particle can exceed it by an ulp.
    Ok((best.1.min_fast(T::ONE), clusters))
}

/// Inserts `key` by linear probing (or finds it) and returns its slot and whether
/// it was new. The callers' tables are at most half full, so a free slot exists.
fn insert(keys: &mut [u64], key: u64) -> (usize, bool) {
    let len = keys.len().max(1);
    let mut slot = (key % len as u64) as usize;
    for _ in 0..len {
        match keys.get_mut(slot) {
            Some(s) if *s == key => return (slot, false),
            Some(s) if *s == 0 => {
                *s = key;
                return (slot, true);
            }
            _ => slot = (slot + 1) % len,
        }
    }
    (slot, false)
}

/// The slot holding `key`, if any.
fn find_slot(keys: &[u64], key: u64) -> Option<usize> {
    let len = keys.len().max(1);
    let mut slot = (key % len as u64) as usize;
    for _ in 0..len {
        match keys.get(slot) {
            Some(&s) if s == key => return Some(slot),
            Some(&0) | None => return None,
            _ => slot = (slot + 1) % len,
        }
    }
    None
}

/// Union–find root with path halving.
fn root(link: &mut [u64], mut s: usize) -> usize {
    while let Some(&p) = link.get(s) {
        let p = p as usize;
        if p == s {
            break;
        }
        let gp = link.get(p).copied().unwrap_or(p as u64);
        if let Some(l) = link.get_mut(s) {
            *l = gp;
        }
        s = gp as usize;
    }
    s
}

fn union(link: &mut [u64], a: usize, b: usize) {
    let (ra, rb) = (root(link, a), root(link, b));
    if let Some(l) = link.get_mut(ra.max(rb)) {
        *l = ra.min(rb) as u64;
    }
}

/// SplitMix64's finaliser (a bijection with full avalanche).
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The standard normal quantile Φ⁻¹(q) for q in (0, 1), by Acklam's rational
/// approximation (relative error below 1.2e-9, far below the f32 resolution of the
/// particle count it feeds).
pub(crate) fn normal_quantile<T: Real>(q: T) -> T {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let f = |v: f64| T::from_f64(v);
    let poly = |cs: &[f64], t: T| cs.iter().fold(T::ZERO, |a, &c| a * t + f(c));
    let lo = f(0.024_25);
    if q < lo || q > T::ONE - lo {
        // Tails: q' = min(q, 1 − q), t = √(−2 ln q').
        let tail = if q < lo { q } else { T::ONE - q };
        let t = (-(f(2.0)) * tail.ln()).sqrt();
        let v = poly(&C, t) / (poly(&D, t) * t + T::ONE);
        if q < lo {
            v
        } else {
            -v
        }
    } else {
        let r = q - T::HALF;
        let t = r * r;
        poly(&A, t) * r / (poly(&B, t) * t + T::ONE)
    }
}
