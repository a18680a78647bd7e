//! The fixed-step updates (formulas in the parent module's table), working on the
//! workspace copy `bufs.cur` of the state.

use super::{Bufs, Keys, Method};
use crate::buf::{copy, rows, rows_mut};
use crate::sde::model::{Evaluator, Model, Output};
use crate::sde::noise;
use crate::{Error, Real};

/// Noise key of step `j`, sub-step `sub` (0 = predictor, 1…15 = corrector iterations).
fn key(step: u64, sub: u64) -> u64 {
    step.wrapping_mul(16).wrapping_add(sub)
}

/// `cur[row] = p·cur[row] + q·m[row] + r·z[row]` for every sample, with `z` drawn from
/// the row's stream at `key` when `r ≠ 0`.
fn combine<T: Real>(
    cur: &mut [T],
    m: &[T],
    z: &mut [T],
    d: usize,
    (p, q, r): (f64, f64, f64),
    keys: Keys,
    key: u64,
) {
    let (p, q, r) = (T::from_f64(p), T::from_f64(q), T::from_f64(r));
    let noisy = r != T::ZERO;
    for (i, (xr, mr)) in (0_u64..).zip(rows_mut(cur, d).zip(rows(m, d))) {
        if noisy {
            noise::normals(keys.seed, keys.first_sample.wrapping_add(i), key, z);
        }
        for ((xv, mv), zv) in xr.iter_mut().zip(mr).zip(z.iter()) {
            *xv = p * *xv + q * *mv + if noisy { r * *zv } else { T::ZERO };
        }
    }
}

/// The corrector at time `t`: `config.corrector_steps` iterations of
/// `x += ε·score + √(2ε)·z`, `ε = 2(snr·‖z‖/‖score‖)²` per sample (ε = 0 where the
/// score is exactly 0) or `ε = 2(snr·s_t)²` ([`super::Corrector`]).
pub(super) fn correct<T: Real, M: Model<T>>(
    ev: &mut Evaluator<'_, M>,
    config: &super::Config,
    bufs: &mut Bufs<'_, T>,
    t: f64,
    step: u64,
    keys: Keys,
) -> Result<(), Error> {
    let d = ev.d;
    let snr = config.snr;
    let s_t = ev.process.coefs(t).s;
    let annealed = 2.0 * snr * snr * s_t * s_t;
    for it in 0..u64::from(config.corrector_steps) {
        ev.eval_at(bufs.cur, t, bufs.t, Output::Score, bufs.out)?;
        let z = bufs.row.get_mut(..d).ok_or(Error::WorkspaceTooSmall)?;
        for (i, (xr, sr)) in (0_u64..).zip(rows_mut(bufs.cur, d).zip(rows(bufs.out, d))) {
            noise::normals(
                keys.seed,
                keys.first_sample.wrapping_add(i),
                key(step, 1 + it),
                z,
            );
            let zn: f64 = z.iter().map(|v| v.to_f64() * v.to_f64()).sum();
            let sn: f64 = sr.iter().map(|v| v.to_f64() * v.to_f64()).sum();
            let eps = match config.corrector {
                super::Corrector::Annealed => annealed,
                super::Corrector::Langevin if sn > 0.0 => 2.0 * snr * snr * zn / sn,
                super::Corrector::Langevin => 0.0,
            };
            let (e, r) = (T::from_f64(eps), T::from_f64(libm::sqrt(2.0 * eps)));
            for ((xv, sv), zv) in xr.iter_mut().zip(sr).zip(z.iter()) {
                *xv += e * *sv + r * *zv;
            }
        }
    }
    Ok(())
}

/// One predictor step of `method` from `t` to `t_next` on `bufs.cur`. `h_prev` is the
/// multistep history: the last two steps' Δλ (DPM-Solver++(2M) uses the first, with
/// the previous x̂₀ in `bufs.e`; 3M and UniPC both, with the one before in `bufs.c`;
/// UniPC also keeps the last step's DDIM part in `bufs.b`); `None` = no history.
#[allow(clippy::too_many_arguments)]
pub(super) fn advance<T: Real, M: Model<T>>(
    ev: &mut Evaluator<'_, M>,
    method: Method,
    bufs: &mut Bufs<'_, T>,
    t: f64,
    t_next: f64,
    step: u64,
    keys: Keys,
    noise_on: bool,
    h_prev: Option<&mut [Option<f64>; 2]>,
) -> Result<(), Error> {
    let d = ev.d;
    let process = ev.process;
    let c = process.coefs(t);
    let cn = process.coefs(t_next);
    let h = t - t_next;
    let on = if noise_on { 1.0 } else { 0.0 };
    let z = bufs.row.get_mut(..d).ok_or(Error::WorkspaceTooSmall)?;
    let k = key(step, 0);
    match method {
        Method::EulerMaruyama => {
            ev.eval_at(bufs.cur, t, bufs.t, Output::Score, bufs.out)?;
            let coef = (1.0 - h * c.f, h * c.g2, on * libm::sqrt(c.g2 * h));
            combine(bufs.cur, bufs.out, z, d, coef, keys, k);
        }
        Method::ProbabilityFlowEuler => {
            ev.eval_at(bufs.cur, t, bufs.t, Output::Score, bufs.out)?;
            combine(
                bufs.cur,
                bufs.out,
                z,
                d,
                (1.0 - h * c.f, 0.5 * h * c.g2, 0.0),
                keys,
                k,
            );
        }
        Method::ReverseDiffusion => {
            ev.eval_at(bufs.cur, t, bufs.t, Output::Score, bufs.out)?;
            let alpha = c.a / cn.a;
            let g2 = (c.s * c.s - alpha * alpha * cn.s * cn.s).max(0.0);
            let coef = (2.0 - alpha, g2, on * libm::sqrt(g2));
            combine(bufs.cur, bufs.out, z, d, coef, keys, k);
        }
        Method::Ancestral => {
            ev.eval_at(bufs.cur, t, bufs.t, Output::Denoised, bufs.out)?;
            let alpha = c.a / cn.a;
            let g2 = (c.s * c.s - alpha * alpha * cn.s * cn.s).max(0.0);
            let s2 = c.s * c.s;
            let coef = (
                alpha * cn.s * cn.s / s2,
                cn.a * g2 / s2,
                on * libm::sqrt(g2 * cn.s * cn.s / s2),
            );
            combine(bufs.cur, bufs.out, z, d, coef, keys, k);
        }
        Method::Ddim | Method::DpmSolverPp2M => {
            ev.eval_at(bufs.cur, t, bufs.t, Output::Denoised, bufs.out)?;
            // Δλ; +∞ on a step to s = 0, where the update is x' = a'·x̂₀.
            let dl = process.lambda(t_next) - process.lambda(t);
            let ratio = cn.s / c.s;
            let w = cn.a * -libm::expm1(-dl);
            if let (Method::DpmSolverPp2M, Some([hp, _])) = (method, h_prev) {
                match *hp {
                    // D = (1 + 1/2r)·x̂₀ − (1/2r)·x̂₀_prev with r = h_prev/h; first order
                    // on the first step and on a step to s = 0 (Δλ = ∞).
                    Some(prev_h) if cn.s > 0.0 => {
                        let inv2r = T::from_f64(0.5 * dl / prev_h);
                        for (m, p) in bufs.out.iter_mut().zip(bufs.e.iter_mut()) {
                            let x0 = *m;
                            *m = x0 + inv2r * (x0 - *p);
                            *p = x0;
                        }
                    }
                    _ => copy(bufs.e, bufs.out),
                }
                // No usable history after a step to s = 0 (Δλ = ∞) or with Δλ = 0.
                *hp = (dl.is_finite() && dl > 0.0).then_some(dl);
            }
            combine(bufs.cur, bufs.out, z, d, (ratio, w, 0.0), keys, k);
        }
        Method::DpmSolverPp3M => {
            ev.eval_at(bufs.cur, t, bufs.t, Output::Denoised, bufs.out)?;
            let dl = process.lambda(t_next) - process.lambda(t);
            let hist = h_prev.ok_or(Error::InvalidParameter)?;
            // DDIM part: x' = (s'/s)·x + a'(1 − e^{−h})·x̂₀.
            combine(
                bufs.cur,
                bufs.out,
                z,
                d,
                (cn.s / c.s, cn.a * -libm::expm1(-dl), 0.0),
                keys,
                k,
            );
            if cn.s > 0.0 {
                // + a'(φ₂·d₁ − 2φ₃·d₂), φ₂ = 1 − (1 − e^{−h})/h, φ₃ = φ₂/h − ½: d₁ ≈ h·x̂₀'
                // and d₂ ≈ h²·x̂₀''/2, whose exact weight in ∫e^{−(h−u)}x̂₀ is −2φ₃ (the
                // published −φ₃ leaves the method second order; see `Method::DpmSolverPp3M`).
                let phi2 = libm::expm1(-dl) / dl + 1.0;
                let phi3 = phi2 / dl - 0.5;
                match *hist {
                    [Some(h1), Some(h2)] => {
                        let (r0, r1) = (h1 / dl, h2 / dl);
                        let (c1, c2) = (r0 / (r0 + r1), 1.0 / (r0 + r1));
                        let (a1, a2) = (T::from_f64(cn.a * phi2), T::from_f64(2.0 * cn.a * phi3));
                        let (ir0, ir1) = (T::from_f64(1.0 / r0), T::from_f64(1.0 / r1));
                        let (c1, c2) = (T::from_f64(c1), T::from_f64(c2));
                        for (((xv, m), p1), p2) in bufs
                            .cur
                            .iter_mut()
                            .zip(bufs.out.iter())
                            .zip(bufs.e.iter())
                            .zip(bufs.c.iter())
                        {
                            let d0 = (*m - *p1) * ir0;
                            let d1p = (*p1 - *p2) * ir1;
                            let d1 = d0 + (d0 - d1p) * c1;
                            let d2 = (d0 - d1p) * c2;
                            *xv += a1 * d1 - a2 * d2;
                        }
                    }
                    [Some(h1), None] => {
                        let a1 = T::from_f64(cn.a * phi2 * dl / h1);
                        for ((xv, m), p1) in
                            bufs.cur.iter_mut().zip(bufs.out.iter()).zip(bufs.e.iter())
                        {
                            *xv += a1 * (*m - *p1);
                        }
                    }
                    _ => {}
                }
            }
            // Shift the history: x̂₀ → e → c, Δλ likewise; none after a step to s = 0.
            copy(bufs.c, bufs.e);
            copy(bufs.e, bufs.out);
            let next = (dl.is_finite() && dl > 0.0).then_some(dl);
            *hist = [next, next.and(hist[0])];
        }
        Method::UniPc => unipc(ev, bufs, t, t_next, h_prev)?,
        Method::ErSde1 => {
            ev.eval_at(bufs.cur, t, bufs.t, Output::Denoised, bufs.out)?;
            // x' = a'·(r·x/a + (1 − r)·x̂₀ + √(σ̃'² − σ̃²r²)·z); φ(0) = 0 lands on a'·x̂₀.
            let phi = |s: f64| s * (libm::exp(libm::pow(s, 0.3)) + 10.0);
            let (sg, sn) = (c.sigma(), cn.sigma());
            let r = phi(sn) / phi(sg);
            let var = (sn * sn - sg * sg * r * r).max(0.0);
            let coef = (
                cn.a * r / c.a,
                cn.a * (1.0 - r),
                on * cn.a * libm::sqrt(var),
            );
            combine(bufs.cur, bufs.out, z, d, coef, keys, k);
        }
        Method::Heun(churn) => heun(ev, churn, bufs, t, t_next, keys, k)?,
    }
    Ok(())
}

/// UniPC's step (UniC corrector of the last step, then UniP-2 from the corrected
/// state; see [`Method::UniPc`]). Out of line: inlined into [`advance`], its locals
/// cost every other method's step 16 B more stack on Cortex-M.
#[inline(never)]
fn unipc<T: Real, M: Model<T>>(
    ev: &mut Evaluator<'_, M>,
    bufs: &mut Bufs<'_, T>,
    t: f64,
    t_next: f64,
    h_prev: Option<&mut [Option<f64>; 2]>,
) -> Result<(), Error> {
    let process = ev.process;
    let c = process.coefs(t);
    let cn = process.coefs(t_next);
    ev.eval_at(bufs.cur, t, bufs.t, Output::Denoised, bufs.out)?;
    let hist = h_prev.ok_or(Error::InvalidParameter)?;
    // UniC: the previous step's DDIM part (kept in `b`) plus the corrector's
    // combination of x̂₀ here (at the predicted state), x̂₀ there and before.
    if let [Some(h1), h2] = *hist {
        let (wm, wp) = unic_weights(c.a, h1, h2);
        let (wm, wp) = (T::from_f64(wm), T::from_f64(wp));
        let parts = bufs.cur.iter_mut().zip(bufs.b.iter());
        if h2.is_some() {
            let both = bufs.e.iter().zip(bufs.c.iter());
            for ((xv, bv), (m, (p1, p2))) in parts.zip(bufs.out.iter().zip(both)) {
                *xv = *bv + wm * (*m - *p1) + wp * (*p2 - *p1);
            }
        } else {
            for ((xv, bv), (m, p1)) in parts.zip(bufs.out.iter().zip(bufs.e.iter())) {
                *xv = *bv + wm * (*m - *p1);
            }
        }
    }
    // UniP-2 = DPM-Solver++(2M) from the corrected state; `b` keeps its DDIM part.
    let dl = process.lambda(t_next) - process.lambda(t);
    let (ratio, w) = (T::from_f64(cn.s / c.s), cn.a * -libm::expm1(-dl));
    let wt = T::from_f64(w);
    for ((xv, bv), m) in bufs
        .cur
        .iter_mut()
        .zip(bufs.b.iter_mut())
        .zip(bufs.out.iter())
    {
        *bv = ratio * *xv + wt * *m;
        *xv = *bv;
    }
    if let (Some(h1), true) = (hist[0], cn.s > 0.0) {
        let k = T::from_f64(w * 0.5 * dl / h1);
        for ((xv, m), p1) in bufs.cur.iter_mut().zip(bufs.out.iter()).zip(bufs.e.iter()) {
            *xv += k * (*m - *p1);
        }
    }
    copy(bufs.c, bufs.e);
    copy(bufs.e, bufs.out);
    let next = (dl.is_finite() && dl > 0.0).then_some(dl);
    *hist = [next, next.and(hist[0])];
    Ok(())
}

/// UniC's weights (Zhao et al. 2023, `B(h) = e^h − 1`, data prediction) for the step
/// of Δλ = `h1` that ended at a time with `a = a_end`, given the step before it (`h2`):
/// the corrected state is the step's DDIM part `+ wm·(x̂₀ − x̂₀₁) + wp·(x̂₀₂ − x̂₀₁)`
/// (x̂₀ at the predicted end, x̂₀₁ at the step's start, x̂₀₂ one step earlier). With one
/// past point `ρ = ½`; with two, `ρ` solves `[1 1; r₁ 1]ρ = (b₁, b₂)`, `r₁ = −h2/h1`,
/// `b_k = k!·hφ_{k+1}(−h)/B(h)`.
fn unic_weights(a_end: f64, h1: f64, h2: Option<f64>) -> (f64, f64) {
    let bh = libm::expm1(-h1);
    let w = -a_end * bh;
    match h2 {
        None => (0.5 * w, 0.0),
        Some(h2) => {
            let p1 = bh / -h1 - 1.0;
            let p2 = p1 / -h1 - 0.5;
            let (b1, b2) = (p1 / bh, 2.0 * p2 / bh);
            let r1 = -h2 / h1;
            let rho1 = (b1 - b2) / (1.0 - r1);
            (w * (b1 - rho1), w * rho1 / r1)
        }
    }
}

/// EDM's Heun step (Algorithm 2 of Karras et al. 2022) in `y = x/a`, `σ̃ = s/a`:
/// churn `ŷ = y + √(σ̂² − σ̃²)·S_noise·z`, `d = (ŷ − D(ŷ; σ̂))/σ̂`,
/// `y' = ŷ + (σ̃' − σ̂)d`, and if `σ̃' > 0` the trapezoidal correction with
/// `d' = (y' − D(y'; σ̃'))/σ̃'`. `σ̂` is capped at `σ̃(T)`.
fn heun<T: Real, M: Model<T>>(
    ev: &mut Evaluator<'_, M>,
    churn: super::Churn,
    bufs: &mut Bufs<'_, T>,
    t: f64,
    t_next: f64,
    keys: Keys,
    key: u64,
) -> Result<(), Error> {
    let d = ev.d;
    let process = ev.process;
    let c = process.coefs(t);
    let cn = process.coefs(t_next);
    let sigma = c.sigma();
    let sigma_next = cn.sigma();
    let gamma = if (churn.s_min..=churn.s_max).contains(&sigma) {
        churn.gamma
    } else {
        0.0
    };
    let (t_hat, sigma_hat) = if gamma > 0.0 {
        let cap = process.coefs(process.t_max()).sigma();
        let s_hat = (sigma * (1.0 + gamma)).min(cap);
        let t_hat = process.time_of_sigma(s_hat).max(t);
        (t_hat, process.coefs(t_hat).sigma())
    } else {
        (t, sigma)
    };
    let a_hat = process.coefs(t_hat).a;
    // a = ŷ (the rescaled, churned state); cur = x̂ = a(t̂)·ŷ for the evaluation.
    let extra = libm::sqrt((sigma_hat * sigma_hat - sigma * sigma).max(0.0)) * churn.s_noise;
    let inv_a = T::from_f64(1.0 / c.a);
    copy(bufs.a, bufs.cur);
    bufs.a.iter_mut().for_each(|v| *v *= inv_a);
    if extra > 0.0 {
        let z = bufs.row.get_mut(..d).ok_or(Error::WorkspaceTooSmall)?;
        let r = T::from_f64(extra);
        for (i, yr) in (0_u64..).zip(rows_mut(bufs.a, d)) {
            noise::normals(keys.seed, keys.first_sample.wrapping_add(i), key, z);
            yr.iter_mut()
                .zip(z.iter())
                .for_each(|(yv, zv)| *yv += r * *zv);
        }
    }
    let ah = T::from_f64(a_hat);
    for (xv, yv) in bufs.cur.iter_mut().zip(bufs.a.iter()) {
        *xv = ah * *yv;
    }
    ev.eval_at(bufs.cur, t_hat, bufs.t, Output::Denoised, bufs.out)?;
    // out = d = (ŷ − D̂)/σ̂; b = x' = a'·(ŷ + (σ̃' − σ̂)·d).
    let inv_sh = T::from_f64(1.0 / sigma_hat);
    let dsig = T::from_f64(sigma_next - sigma_hat);
    let an = T::from_f64(cn.a);
    for ((o, yv), bv) in bufs
        .out
        .iter_mut()
        .zip(bufs.a.iter())
        .zip(bufs.b.iter_mut())
    {
        *o = (*yv - *o) * inv_sh;
        *bv = an * (*yv + dsig * *o);
    }
    if sigma_next > 0.0 {
        ev.eval_at(bufs.b, t_next, bufs.t, Output::Denoised, bufs.c)?;
        let inv_sn = T::from_f64(1.0 / sigma_next);
        let inv_an = T::from_f64(1.0 / cn.a);
        let half = T::HALF;
        for ((((xv, yv), dv), bv), dn) in bufs
            .cur
            .iter_mut()
            .zip(bufs.a.iter())
            .zip(bufs.out.iter())
            .zip(bufs.b.iter())
            .zip(bufs.c.iter())
        {
            let y1 = *bv * inv_an;
            let d1 = (y1 - *dn) * inv_sn;
            *xv = an * (*yv + dsig * half * (*dv + d1));
        }
    } else {
        copy(bufs.cur, bufs.b);
    }
    Ok(())
}
