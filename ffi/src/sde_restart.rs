//! Restart sampling (Xu et al. 2023) through the C ABI: EDM Heun along a grid with, at
//! one grid point, a few round trips "exact forward jump to `t_max`, Heun back down"
//! (`otcore::sde::restart`). The settings are an `otc_sde_restart_config`; the model is
//! the callback of the fixed-step samplers (`otc_sde_model_fn_*`) and the workspace
//! theirs (`otc_sde_workspace_size_*`).

use core::ffi::c_void;

use otcore::sde::{self, Restart};
use otcore::Real;

use crate::args::{disjoint, read_sized, workspace, zeroed, Array};
use crate::boundary::run;
use crate::sde::{c_model, otc_sde_model_fn_f32, otc_sde_model_fn_f64, read_process, ModelFn};
use crate::sde_types::otc_sde_process;
use crate::sizes::cells;
use crate::status::otc_status;

/// Settings of restart sampling (`otc_sde_restart_f32`). Times are in the process's
/// units (t for VP/VE, σ for EDM); `otc_sde_restart_config_from_sigma` fills them from
/// the noise levels σ̃ = s/a in which Xu et al. state their intervals.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct otc_sde_restart_config {
    /// `sizeof(otc_sde_restart_config)`.
    pub struct_size: usize,
    /// Lower end of the restart interval, ≥ 0: the round trips happen at the grid point
    /// (after the first) nearest to it, which must be a time where s > 0.
    pub t_min: f64,
    /// Upper end, ≤ T and above the grid point `t_min` snaps to: each round trip jumps
    /// there from that point.
    pub t_max: f64,
    /// Round trips K, 1…16.
    pub repeats: u32,
    /// Heun steps N from `t_max` back down (Karras grid, ρ = 7), 1…64: 2N evaluations
    /// per round trip.
    pub steps: u32,
}

impl otc_sde_restart_config {
    /// The core settings (checked by the core when used).
    fn to_core(self) -> Restart {
        Restart {
            t_min: self.t_min,
            t_max: self.t_max,
            repeats: self.repeats,
            steps: self.steps,
        }
    }
}

/// Round trips and steps the core accepts (`otcore::sde::Restart`).
const REPEATS: core::ops::RangeInclusive<u32> = 1..=16;
/// See [`REPEATS`].
const STEPS: core::ops::RangeInclusive<u32> = 1..=64;

/// # Safety
/// As `otc_sde_restart_f32`.
#[allow(clippy::too_many_arguments)]
unsafe fn run_restart<T: Real>(
    process: *const otc_sde_process,
    config: *const otc_sde_restart_config,
    model: ModelFn<T>,
    user: *mut c_void,
    output: i32,
    grid: *const T,
    grid_len: usize,
    x: *mut T,
    n: usize,
    d: usize,
    seed: u64,
    first_sample: u64,
    ws: *mut c_void,
    ws_bytes: usize,
    out_evaluations: *mut u64,
) -> i32 {
    run(|| {
        // SAFETY: the caller's contract.
        let (p, r) = unsafe { (read_process(process)?, read_sized(config)?.to_core()) };
        let mut m = c_model(model, user, d, output)?;
        let g = Array::input(grid, grid_len)?;
        let xa = Array::output(x, cells(n, d)?)?;
        let wa = workspace::<T>(ws, ws_bytes, sde::workspace_len(n, d))?;
        let ev = Array::output(out_evaluations, 1)?;
        disjoint(&[g.span(), xa.span(), wa.span(), ev.span()])?;
        // SAFETY: checked arrays, pairwise disjoint where written, valid by contract.
        let (g, xs, w) = unsafe { (g.slice(), xa.slice_mut(), zeroed(wa)) };
        let st = sde::restart(&p, &r, &mut m, g, xs, d, seed, first_sample, w)?;
        // SAFETY: as above.
        unsafe { ev.fill(st.evaluations) };
        Ok(otc_status::Ok)
    })
}

/// Fills `out` (`struct_size` included) with restart settings given as noise levels
/// σ̃ = s/a (EDM's σ, the units of Xu et al. 2023): the round trips jump from σ̃ =
/// `sigma_min` to `sigma_max` and come back in `steps` Heun steps, `repeats` times.
/// The times are `process`'s times of those levels (σ itself for EDM).
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_STRUCT_SIZE` (process), `OTC_STATUS_INVALID_PARAMETER` (bad process;
/// not `0 ≤ sigma_min < sigma_max ≤ σ̃(T)` with finite values; repeats outside 1…16,
/// steps outside 1…64). On error out is unchanged.
///
/// # Safety
/// The pointers must be NULL or valid as documented above.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_sde_restart_config_from_sigma(
    process: *const otc_sde_process,
    sigma_min: f64,
    sigma_max: f64,
    repeats: u32,
    steps: u32,
    out: *mut otc_sde_restart_config,
) -> i32 {
    run(|| {
        // SAFETY: the caller's contract.
        let p = unsafe { read_process(process)? };
        let out = Array::output(out, 1)?;
        let top = p.coefs(p.t_max()).sigma();
        let ok = sigma_min.is_finite()
            && sigma_min >= 0.0
            && sigma_max.is_finite()
            && sigma_max > sigma_min
            && sigma_max <= top
            && REPEATS.contains(&repeats)
            && STEPS.contains(&steps);
        if !ok {
            return Err(otc_status::InvalidParameter);
        }
        let value = otc_sde_restart_config {
            struct_size: size_of::<otc_sde_restart_config>(),
            t_min: p.time_of_sigma(sigma_min),
            t_max: p.time_of_sigma(sigma_max),
            repeats,
            steps,
        };
        // SAFETY: checked non-NULL and aligned; writable by the caller's contract.
        unsafe { out.fill(value) };
        Ok(otc_status::Ok)
    })
}

/// Restart sampling (Xu et al. 2023) on the n samples of dimension d in `x` (n·d, in
/// place; usually from `otc_sde_prior_sample_f32`): EDM Heun without churn along
/// `grid` (`grid_len` ≥ 2 strictly decreasing times in [0, T], the model evaluable at
/// all but the last; e.g. `otc_sde_grid_f32` with `OTC_SDE_GRID_KARRAS`), and at the
/// grid point (after the first) nearest `config->t_min`, `config->repeats` round trips:
/// in `y = x/a`, the exact forward jump `y += √(σ̃(t_max)² − σ̃(t_min)²)·z`, then
/// `config->steps` Heun steps on a Karras grid (ρ = 7) back to that point. Round trip r
/// draws sample i's jump from the stream of `first_sample + i` with key 2⁶⁰ + r, so the
/// result is a deterministic function of the inputs and `seed`. The model returns
/// `output` (`OTC_SDE_OUTPUT_SCORE`, `_NOISE` or `_DENOISED`); `user` is passed to it
/// unchanged. Batched model calls go to `out_evaluations`:
/// `2·(grid_len − 1) − 1 + 2·repeats·steps` when the grid ends at 0 (the last step
/// costs 1), `2·(grid_len − 1) + 2·repeats·steps` otherwise. Workspace:
/// `otc_sde_workspace_size_f32`.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_STRUCT_SIZE` (process, config), `OTC_STATUS_EMPTY_INPUT` (n, d zero;
/// fewer than 2 grid points), `OTC_STATUS_LENGTH_MISMATCH`,
/// `OTC_STATUS_NON_FINITE_INPUT` (x, grid), `OTC_STATUS_INVALID_PARAMETER` (process,
/// output kind, grid order/range, `t_min` negative or not finite, `t_max` not finite,
/// above T or not above the grid point `t_min` snaps to, that point where s = 0,
/// repeats or steps out of range, overlapping buffers),
/// `OTC_STATUS_WORKSPACE_TOO_SMALL`, `OTC_STATUS_CALLBACK_FAILED`,
/// `OTC_STATUS_NON_FINITE` (the model returned NaN/∞, or the state overflowed). On
/// error x and `*out_evaluations` are unchanged.
///
/// # Safety
/// The pointers must be NULL or valid as documented above.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_restart_f32(
    process: *const otc_sde_process,
    config: *const otc_sde_restart_config,
    model: otc_sde_model_fn_f32,
    user: *mut c_void,
    output: i32,
    grid: *const f32,
    grid_len: usize,
    x: *mut f32,
    n: usize,
    d: usize,
    seed: u64,
    first_sample: u64,
    ws: *mut c_void,
    ws_bytes: usize,
    out_evaluations: *mut u64,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        run_restart::<f32>(
            process,
            config,
            model,
            user,
            output,
            grid,
            grid_len,
            x,
            n,
            d,
            seed,
            first_sample,
            ws,
            ws_bytes,
            out_evaluations,
        )
    }
}

/// The `double` version of `otc_sde_restart_f32`.
///
/// # Safety
/// As `otc_sde_restart_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_sde_restart_f64(
    process: *const otc_sde_process,
    config: *const otc_sde_restart_config,
    model: otc_sde_model_fn_f64,
    user: *mut c_void,
    output: i32,
    grid: *const f64,
    grid_len: usize,
    x: *mut f64,
    n: usize,
    d: usize,
    seed: u64,
    first_sample: u64,
    ws: *mut c_void,
    ws_bytes: usize,
    out_evaluations: *mut u64,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        run_restart::<f64>(
            process,
            config,
            model,
            user,
            output,
            grid,
            grid_len,
            x,
            n,
            d,
            seed,
            first_sample,
            ws,
            ws_bytes,
            out_evaluations,
        )
    }
}
