//! The standard normal sampler (`otcore::rng`, Box–Muller with polynomial ln, sin and
//! cos) against N(0, 1), on 10⁶ draws per type and source: the filter's
//! `SplitMix64::fill_normal` and `normal`, and the SDE noise `sde::noise::normals`.
//!
//! Tolerances: each moment within 5 standard errors of its N(0, 1) value (for n draws:
//! mean 1/√n, variance √(2/n), skewness √(6/n), excess kurtosis √(24/n)), which a
//! correct sampler fails with probability below 10⁻⁵ per check; the correlation within
//! a pair and between consecutive pairs within 5/√(n/2). Distribution: the
//! Kolmogorov–Smirnov statistic √n·Dₙ below 1.95 (its 0.1 % critical value) and the
//! Anderson–Darling A² below 5.97 (0.1 %, fully specified null; Marsaglia & Marsaglia
//! 2004). The streams are fixed, so these are deterministic tests; the statistics are
//! printed (`--nocapture`).
//!
//! Also the transform's accuracy: every pair against f64 libm's Box–Muller of the same
//! bits.

use otcore::pf::rng::{RandomSource, SplitMix64};
use otcore::sde::noise;
use otcore::Real;

const N: usize = 1_000_000;

/// Φ(x) for the standard normal, from libm's erfc (f64).
fn phi(x: f64) -> f64 {
    0.5 * libm::erfc(-x / core::f64::consts::SQRT_2)
}

struct Stats {
    mean: f64,
    var: f64,
    skew: f64,
    kurt: f64,
    pair_corr: f64,
    lag_corr: f64,
    ks: f64,
    ad: f64,
}

fn stats(z: &[f64]) -> Stats {
    let n = z.len() as f64;
    let mean = z.iter().sum::<f64>() / n;
    let m = |p: i32| z.iter().map(|v| (v - mean).powi(p)).sum::<f64>() / n;
    let (m2, m3, m4) = (m(2), m(3), m(4));
    let corr = |a: &mut dyn Iterator<Item = (f64, f64)>| {
        let (mut s, mut c) = (0.0, 0.0);
        for (x, y) in a {
            s += (x - mean) * (y - mean);
            c += 1.0;
        }
        s / c / m2
    };
    let pair_corr = corr(&mut z.chunks_exact(2).map(|p| (p[0], p[1])));
    let lag_corr = corr(&mut z[1..].chunks_exact(2).map(|p| (p[0], p[1])));
    let mut s = z.to_vec();
    s.sort_by(f64::total_cmp);
    let (mut d, mut a2) = (0.0f64, 0.0);
    for (i, &x) in s.iter().enumerate() {
        let f = phi(x);
        let i1 = i as f64 + 1.0;
        d = d.max(i1 / n - f).max(f - i as f64 / n);
        // A² = −n − (1/n) Σ (2i − 1)(ln F(x_i) + ln(1 − F(x_{n+1−i}))), i = 1..n.
        let g = 1.0 - phi(s[s.len() - 1 - i]);
        a2 += (2.0 * i1 - 1.0) * (f.ln() + g.ln());
    }
    Stats {
        mean,
        var: m2,
        skew: m3 / m2.powf(1.5),
        kurt: m4 / (m2 * m2) - 3.0,
        pair_corr,
        lag_corr,
        ks: d * n.sqrt(),
        ad: -n - a2 / n,
    }
}

fn check(name: &str, z: &[f64]) {
    assert_eq!(z.len(), N);
    assert!(z.iter().all(|v| v.is_finite()), "{name}: non-finite draw");
    let n = N as f64;
    let s = stats(z);
    println!(
        "{name}: mean {:+.2e} var {:.5} skew {:+.2e} exkurt {:+.2e} corr(pair) {:+.2e} \
         corr(lag) {:+.2e} KS √n·D {:.3} AD A² {:.3}",
        s.mean, s.var, s.skew, s.kurt, s.pair_corr, s.lag_corr, s.ks, s.ad
    );
    let within = |what: &str, v: f64, target: f64, se: f64| {
        assert!(
            (v - target).abs() < 5.0 * se,
            "{name}: {what} {v} not within 5·{se} of {target}"
        );
    };
    within("mean", s.mean, 0.0, 1.0 / n.sqrt());
    within("variance", s.var, 1.0, (2.0 / n).sqrt());
    within("skewness", s.skew, 0.0, (6.0 / n).sqrt());
    within("excess kurtosis", s.kurt, 0.0, (24.0 / n).sqrt());
    within("pair correlation", s.pair_corr, 0.0, (2.0 / n).sqrt());
    within("lag correlation", s.lag_corr, 0.0, (2.0 / n).sqrt());
    assert!(s.ks < 1.95, "{name}: KS √n·D = {} ≥ 1.95", s.ks);
    assert!(s.ad < 5.97, "{name}: AD A² = {} ≥ 5.97", s.ad);
}

fn fill<T: Real>(seed: u64) -> Vec<f64> {
    let mut z = vec![T::ZERO; N];
    SplitMix64::new(seed).fill_normal(&mut z);
    z.iter().map(|v| v.to_f64()).collect()
}

fn single<T: Real>(seed: u64) -> Vec<f64> {
    let mut r = SplitMix64::new(seed);
    (0..N).map(|_| r.normal::<T>().to_f64()).collect()
}

/// The SDE noise as the samplers use it: many samples (streams), a few coordinates each.
fn sde<T: Real>(seed: u64) -> Vec<f64> {
    let d = 10;
    // On the heap (a million values would not fit a test thread's stack).
    let mut z: Vec<T> = core::iter::repeat_n(T::ZERO, N).collect();
    for (i, row) in z.chunks_exact_mut(d).enumerate() {
        noise::normals(seed, i as u64, 3, row);
    }
    z.iter().map(|v| v.to_f64()).collect()
}

#[test]
fn fill_normal_f32() {
    check("fill_normal f32", &fill::<f32>(1));
}

#[test]
fn fill_normal_f64() {
    check("fill_normal f64", &fill::<f64>(2));
}

#[test]
fn normal_f32() {
    check("normal f32", &single::<f32>(3));
}

#[test]
fn normal_f64() {
    check("normal f64", &single::<f64>(4));
}

#[test]
fn sde_noise_f32() {
    check("sde noise f32", &sde::<f32>(5));
}

#[test]
fn sde_noise_f64() {
    check("sde noise f64", &sde::<f64>(6));
}

/// The exact Box–Muller of the bits the sampler reads (module docs of `otcore::rng`),
/// in f64 with libm: (u, θ in turns).
fn exact(u: f64, turns: f64) -> (f64, f64) {
    let r = (-2.0 * u.ln()).sqrt();
    let t = core::f64::consts::TAU * turns;
    (r * t.cos(), r * t.sin())
}

/// Largest |z − exact| / max(1, |exact|) over 10⁶ random word pairs.
fn transform_error<T: Real>(bits: impl Fn(u64, u64) -> (f64, f64)) -> f64 {
    let mut r = SplitMix64::new(7);
    let mut worst = 0.0f64;
    for _ in 0..N {
        let (w0, w1) = (r.next_u64(), r.next_u64());
        let (a, b) = T::normal_pair(w0, w1);
        let (u, turns) = bits(w0, w1);
        let (ea, eb) = exact(u, turns);
        worst = worst.max((a.to_f64() - ea).abs() / ea.abs().max(1.0));
        worst = worst.max((b.to_f64() - eb).abs() / eb.abs().max(1.0));
    }
    worst
}

#[test]
fn transform_accuracy() {
    // f32: u from 31 bits (rounded to f32 as the sampler does), θ from 24.
    let e32 = transform_error::<f32>(|w, _| {
        let u = f64::from(((w >> 33) as f32 + 0.5) * (1.0 / 2_147_483_648.0));
        (u, (((w as u32) >> 8) as f64 + 0.5) / 16_777_216.0)
    });
    // f64: u from 52 bits of w₀, θ from the top 52 of w₁.
    let e64 = transform_error::<f64>(|w0, w1| {
        let u = ((w0 >> 12) as f64 + 0.5) / 4_503_599_627_370_496.0;
        (u, ((w1 >> 12) as f64 + 0.5) / 4_503_599_627_370_496.0)
    });
    println!("largest error / max(1, |z|): f32 {e32:.2e}, f64 {e64:.2e}");
    assert!(e32 < 1e-6, "f32 transform error {e32}");
    assert!(e64 < 1e-14, "f64 transform error {e64}");
}

/// Replays: the same seed gives the same bits; the SDE noise of a coordinate pair does
/// not depend on the length asked for.
#[test]
fn reproducible() {
    let (a, b) = (fill::<f32>(9), fill::<f32>(9));
    assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
    let mut long = [0.0f64; 101];
    noise::normals(1, 2, 3, &mut long);
    for len in [1, 2, 3, 63, 64, 65] {
        let mut short = vec![0.0f64; len];
        noise::normals(1, 2, 3, &mut short);
        assert_eq!(short[..], long[..len]);
    }
    let mut long = [0.0f32; 101];
    noise::normals(1, 2, 3, &mut long);
    for len in [1, 2, 3, 63, 64, 65] {
        let mut short = vec![0.0f32; len];
        noise::normals(1, 2, 3, &mut short);
        assert_eq!(short[..], long[..len]);
    }
}
