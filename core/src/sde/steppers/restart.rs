//! Restart sampling (Xu et al. 2023): deterministic EDM Heun steps along a grid, and at
//! one grid point a few round trips "add noise forward to `t_max`, Heun back down".
//! The forward jump is exact (`y += √(σ̃_max² − σ̃_min²)·z` in `y = x/a`), so each round
//! trip contracts the errors accumulated so far while its own ODE steps add little.

use super::fixed::advance;
use super::{check_common, Bufs, Churn, Keys, Method, Stats};
use crate::buf::{copy, rows_mut};
use crate::sde::model::{Evaluator, Model};
use crate::sde::process::Process;
use crate::sde::{check_finite, check_param, grid, noise};
use crate::{Error, Real};

/// Where and how often to restart.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Restart {
    /// Lower end of the restart interval; snapped to the nearest point of the grid
    /// (after the first), where the round trips happen.
    pub t_min: f64,
    /// Upper end: each round trip jumps from `t_min` to `t_max > t_min` (≤ T).
    pub t_max: f64,
    /// Round trips (1 ≤ K ≤ 16).
    pub repeats: u32,
    /// Heun steps from `t_max` back to `t_min` on a Karras grid, ρ = 7 (1 ≤ N ≤ 64):
    /// `2N` evaluations per round trip.
    pub steps: u32,
}

/// Runs EDM Heun (no churn) along `grid` with the round trips of `restart` at the grid
/// point nearest `restart.t_min`. Round trip `r` draws its jump from key
/// [`noise::RESTART_KEY`]` + r`. Evaluations: `2·(grid steps) − 1` (the last step to
/// `s = 0` costs 1; 2 otherwise) `+ 2·repeats·steps`.
///
/// # Errors
/// As [`super::sample`]; `InvalidParameter` also for `t_max ≤` the snapped `t_min`,
/// `t_max > T`, repeats or steps out of range, a snapped `t_min` where `s = 0`.
/// On error `x` is unchanged.
#[allow(clippy::too_many_arguments)]
pub fn restart<T: Real, M: Model<T>>(
    process: &Process,
    restart: &Restart,
    model: &mut M,
    grid: &[T],
    x: &mut [T],
    d: usize,
    seed: u64,
    first_sample: u64,
    ws: &mut [T],
) -> Result<Stats, Error> {
    let n = check_common(process, model.output(), x, d)?;
    grid::validate(process, grid)?;
    check_param(restart.t_min, 0.0, false)?;
    check_param(restart.t_max, 0.0, true)?;
    if !(1..=16).contains(&restart.repeats) || !(1..=64).contains(&restart.steps) {
        return Err(Error::InvalidParameter);
    }
    // The grid point (after the first) nearest t_min.
    let dist = |k: usize| {
        grid.get(k)
            .map_or(f64::INFINITY, |v| (v.to_f64() - restart.t_min).abs())
    };
    let at = (1..grid.len())
        .min_by(|&i, &j| dist(i).total_cmp(&dist(j)))
        .unwrap_or(1);
    let t_lo = grid.get(at).map_or(0.0, |v| v.to_f64());
    process.check_eval_time(t_lo)?;
    process.check_eval_time(restart.t_max)?;
    if restart.t_max <= t_lo {
        return Err(Error::InvalidParameter);
    }
    let mut bufs = Bufs::split(ws, n, d)?;
    let mut ev = Evaluator::new(model, process, d);
    let keys = Keys { seed, first_sample };
    let heun = Method::Heun(Churn::NONE);
    copy(bufs.cur, x);
    let (c_lo, c_hi) = (process.coefs(t_lo), process.coefs(restart.t_max));
    let (s_lo, s_hi) = (c_lo.sigma(), c_hi.sigma());
    let jump = T::from_f64(libm::sqrt(s_hi * s_hi - s_lo * s_lo));
    let (inv_a_lo, a_hi) = (T::from_f64(1.0 / c_lo.a), T::from_f64(c_hi.a));
    // Inner Karras grid point k of `steps` from t_max (k = 0) to t_lo (k = steps).
    let inner = |k: u32| -> f64 {
        match k {
            0 => restart.t_max,
            _ if k == restart.steps => t_lo,
            _ => {
                let (r0, r1) = (libm::pow(s_hi, 1.0 / 7.0), libm::pow(s_lo, 1.0 / 7.0));
                let u = f64::from(k) / f64::from(restart.steps);
                process.time_of_sigma(libm::pow(r0 + u * (r1 - r0), 7.0))
            }
        }
    };
    for (j, pair) in grid.windows(2).enumerate() {
        if let [a, b] = pair {
            advance(
                &mut ev,
                heun,
                &mut bufs,
                a.to_f64(),
                b.to_f64(),
                0,
                keys,
                false,
                None,
            )?;
        }
        if j + 1 != at {
            continue;
        }
        for r in 0..restart.repeats {
            let z = bufs.row.get_mut(..d).ok_or(Error::WorkspaceTooSmall)?;
            let key = noise::RESTART_KEY.wrapping_add(u64::from(r));
            for (i, row) in (0_u64..).zip(rows_mut(bufs.cur, d)) {
                noise::normals(seed, first_sample.wrapping_add(i), key, z);
                for (xv, zv) in row.iter_mut().zip(z.iter()) {
                    *xv = a_hi * (*xv * inv_a_lo + jump * *zv);
                }
            }
            for k in 0..restart.steps {
                advance(
                    &mut ev,
                    heun,
                    &mut bufs,
                    inner(k),
                    inner(k + 1),
                    0,
                    keys,
                    false,
                    None,
                )?;
            }
        }
        check_finite(bufs.cur).map_err(|_| Error::NonFinite)?;
    }
    check_finite(bufs.cur).map_err(|_| Error::NonFinite)?;
    copy(x, bufs.cur);
    Ok(Stats {
        evaluations: ev.count,
        steps: (grid.len() - 1) as u64 + u64::from(restart.repeats * restart.steps),
    })
}
