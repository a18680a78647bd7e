//! Localisation: the state description (periodic coordinates), circular moments, OT
//! resampling per the description, resampling to another count, KLD-sampling,
//! augmented-MCL recovery, the MCL resampling step and the largest cluster; each a
//! generic implementation with one exported wrapper per precision.

use core::ffi::c_void;
use core::ptr;

use otcore::pf::{
    cluster_table_len, cluster_workspace_len, embedded_dim, kld_count, kld_table_len,
    largest_cluster, mcl_resample, mcl_workspace_len, ot_resample_state, ot_state_workspace_len,
    resample_to, state_moments, Angles, Coord, Kind, Recovery, Resampler,
};
use otcore::{Error, Real};

use crate::args::{check_sized, disjoint, read_sized, workspace, zeroed, Array, Checked};
use crate::boundary::run;
use crate::mcl_types::{
    otc_coord, otc_kld_config, otc_mcl_config, otc_mcl_report, otc_recovery, OTC_STATE_MAX_DIM,
};
use crate::pf::config_default;
use crate::pf_types::{otc_ot_resample_config, otc_ot_resample_report, otc_rng, scheme_of};
use crate::sizes::{cells, write_workspace_size};
use crate::status::otc_status;
use crate::types::OTC_WORKSPACE_ALIGN;

/// Injection sampler, `float` version: writes `count` states (count×d row-major) to
/// `out`, e.g. uniform over the free space of a map, drawing from `rng`. Returns 0
/// on success; anything else aborts the call with `OTC_STATUS_CALLBACK_FAILED` and
/// nothing changed (the RNG included).
pub type otc_mcl_sampler_f32 = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        count: usize,
        d: usize,
        out: *mut f32,
        rng: *mut otc_rng,
    ) -> i32,
>;

/// Injection sampler, `double` version (see `otc_mcl_sampler_f32`).
pub type otc_mcl_sampler_f64 = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        count: usize,
        d: usize,
        out: *mut f64,
        rng: *mut otc_rng,
    ) -> i32,
>;

type Sampler<T> =
    Option<unsafe extern "C" fn(*mut c_void, usize, usize, *mut T, *mut otc_rng) -> i32>;

/// The state description copied to the stack (d ≤ `OTC_STATE_MAX_DIM`).
struct Coords<T> {
    items: [Coord<T>; OTC_STATE_MAX_DIM],
    d: usize,
}

impl<T: Real> Coords<T> {
    /// Reads d coordinates.
    ///
    /// # Safety
    /// `coords` must be NULL or valid for reads of d elements.
    unsafe fn read(coords: *const otc_coord<T>, d: usize) -> Checked<(Self, Array<otc_coord<T>>)> {
        if d == 0 {
            return Err(otc_status::EmptyInput);
        }
        if d > OTC_STATE_MAX_DIM {
            return Err(otc_status::InvalidParameter);
        }
        let a = Array::input(coords, d)?;
        let mut items = [Coord {
            kind: Kind::Linear,
            cost_scale: T::ONE,
            bin: T::ONE,
        }; OTC_STATE_MAX_DIM];
        // SAFETY: checked non-NULL and aligned; readable by the caller's contract.
        for (o, c) in items.iter_mut().zip(unsafe { a.slice() }) {
            *o = c.to_core()?;
        }
        Ok((Self { items, d }, a))
    }

    fn get(&self) -> &[Coord<T>] {
        self.items.get(..self.d).unwrap_or(&[])
    }
}

unsafe fn moments_impl<T: Real + Angles>(
    coords: *const otc_coord<T>,
    d: usize,
    x: *const T,
    logw: *const T,
    n: usize,
    mean: *mut T,
    cov: *mut T,
) -> i32 {
    run(|| {
        // SAFETY: the caller's contract.
        let (cs, ca) = unsafe { Coords::read(coords, d)? };
        let (xa, la) = (Array::input(x, cells(n, d)?)?, Array::input(logw, n)?);
        let (ma, va) = (Array::output(mean, d)?, Array::output(cov, cells(d, d)?)?);
        disjoint(&[ca.span(), xa.span(), la.span(), ma.span(), va.span()])?;
        // SAFETY: non-NULL, aligned, disjoint; valid by the caller's contract.
        let (xs, ls, ms, vs) = unsafe { (xa.slice(), la.slice(), ma.slice_mut(), va.slice_mut()) };
        state_moments(xs, ls, cs.get(), ms, vs)?;
        Ok(otc_status::Ok)
    })
}

#[allow(clippy::too_many_arguments)]
unsafe fn resample_to_impl<T: Real>(
    resampler: i32,
    logw: *const T,
    n: usize,
    rng: *mut otc_rng,
    x: *const T,
    d: usize,
    x_out: *mut T,
    m: usize,
) -> i32 {
    run(|| {
        let s = scheme_of(resampler)?;
        let (la, ra) = (Array::input(logw, n)?, Array::output(rng, 1)?);
        let (xa, oa) = (
            Array::input(x, cells(n, d)?)?,
            Array::output(x_out, cells(m, d)?)?,
        );
        disjoint(&[la.span(), ra.span(), xa.span(), oa.span()])?;
        // SAFETY: non-NULL, aligned, disjoint; valid by the caller's contract.
        let (ls, r, xs, os) = unsafe {
            (
                la.slice(),
                &mut ra.slice_mut()[0],
                xa.slice(),
                oa.slice_mut(),
            )
        };
        resample_to(s, ls, r, xs, d, os)?;
        Ok(otc_status::Ok)
    })
}

unsafe fn ot_state_size<T: Real>(
    coords: *const otc_coord<T>,
    d: usize,
    n: usize,
) -> Checked<usize> {
    // SAFETY: the caller's contract.
    let (cs, _) = unsafe { Coords::read(coords, d)? };
    Ok(ot_state_workspace_len(n, embedded_dim(cs.get())))
}

#[allow(clippy::too_many_arguments)]
unsafe fn ot_state_impl<T: Real + Angles>(
    config: *const otc_ot_resample_config<T>,
    coords: *const otc_coord<T>,
    d: usize,
    x: *const T,
    logw: *const T,
    n: usize,
    rng: *mut otc_rng,
    ws: *mut c_void,
    ws_bytes: usize,
    x_out: *mut T,
    m: usize,
    report: *mut otc_ot_resample_report<T>,
) -> i32 {
    run(|| {
        // SAFETY: the caller's contract (NULL checked).
        let cfg = unsafe { read_sized(config)? }.to_core()?;
        // SAFETY: as above.
        unsafe { check_sized(report)? };
        // SAFETY: as above.
        let (cs, ca) = unsafe { Coords::read(coords, d)? };
        let (xa, la) = (Array::input(x, cells(n, d)?)?, Array::input(logw, n)?);
        let ra = Array::output(rng, 1)?;
        let need = ot_state_workspace_len(n, embedded_dim(cs.get()));
        let wa = workspace::<T>(ws, ws_bytes, need)?;
        let (oa, pa) = (
            Array::output(x_out, cells(m, d)?)?,
            Array::output(report, 1)?,
        );
        disjoint(&[
            ca.span(),
            xa.span(),
            la.span(),
            ra.span(),
            wa.span(),
            oa.span(),
            pa.span(),
        ])?;
        // SAFETY: non-NULL, aligned, disjoint; valid by the caller's contract.
        let (xs, ls, r, wss, os) = unsafe {
            (
                xa.slice(),
                la.slice(),
                &mut ra.slice_mut()[0],
                zeroed(wa),
                oa.slice_mut(),
            )
        };
        // The core draws from the RNG only once nothing can fail any more.
        let rep = ot_resample_state(xs, ls, cs.get(), &cfg, r, os, wss)?;
        // SAFETY: as above.
        unsafe { pa.fill(otc_ot_resample_report::from_core(&rep)) };
        Ok(rep.status.into())
    })
}

/// Bytes of the u64 table at the head of a workspace, rounded up to
/// `OTC_WORKSPACE_ALIGN` so that the float part after it is aligned too.
fn table_bytes(slots: usize) -> Checked<usize> {
    slots
        .checked_mul(8)
        .and_then(|b| b.checked_next_multiple_of(OTC_WORKSPACE_ALIGN))
        .ok_or(otc_status::LengthMismatch)
}

/// Total bytes of a table of `slots` u64 followed by `len` values of `T`.
fn split_bytes<T>(slots: usize, len: usize) -> Checked<usize> {
    len.checked_mul(size_of::<T>())
        .and_then(|b| b.checked_add(table_bytes(slots).ok()?))
        .filter(|&b| b != usize::MAX)
        .ok_or(otc_status::LengthMismatch)
}

/// The caller's workspace as a zeroed u64 table of `slots` and, after it, a float
/// workspace of at most `len` values (shorter if `ws_bytes` is: the core then
/// reports `WorkspaceTooSmall`).
///
/// # Safety
/// `ws` must be NULL or writable for `ws_bytes`, and overlap no other argument.
unsafe fn split_workspace<'a, T: Real>(
    ws: *mut c_void,
    ws_bytes: usize,
    slots: usize,
    len: usize,
) -> Checked<(&'a mut [u64], &'a mut [T])> {
    let head = table_bytes(slots)?;
    if ws_bytes < head {
        return Err(otc_status::WorkspaceTooSmall);
    }
    let t = Array::output(ws.cast::<u64>(), slots)?;
    // SAFETY: head ≤ ws_bytes, so the pointer stays inside the caller's buffer.
    let rest = unsafe { ws.cast::<u8>().add(head) }.cast::<c_void>();
    let f = workspace::<T>(rest, ws_bytes - head, len)?;
    // SAFETY: `t` lies in the caller's writable workspace; zero bits are a valid u64.
    let table = unsafe {
        ptr::write_bytes(ws.cast::<u64>(), 0, slots);
        t.slice_mut()
    };
    // SAFETY: `f` lies after the table in the same workspace.
    let floats = unsafe { zeroed(f) };
    Ok((table, floats))
}

#[allow(clippy::too_many_arguments)]
unsafe fn kld_impl<T: Real + Angles>(
    config: *const otc_kld_config<T>,
    coords: *const otc_coord<T>,
    d: usize,
    x: *const T,
    logw: *const T,
    n: usize,
    capacity: usize,
    table: *mut u64,
    table_len: usize,
    out_bins: *mut usize,
    out_count: *mut usize,
) -> i32 {
    run(|| {
        // SAFETY: the caller's contract (NULL checked).
        let cfg = unsafe { read_sized(config)? }.to_core()?;
        // SAFETY: as above.
        let (cs, ca) = unsafe { Coords::read(coords, d)? };
        let (xa, la) = (Array::input(x, cells(n, d)?)?, Array::input(logw, n)?);
        let ta = Array::output(table, table_len)?;
        let (ba, na) = (Array::output(out_bins, 1)?, Array::output(out_count, 1)?);
        disjoint(&[
            ca.span(),
            xa.span(),
            la.span(),
            ta.span(),
            ba.span(),
            na.span(),
        ])?;
        // SAFETY: non-NULL, aligned, disjoint; the table is written before it is
        // read (zero bits are a valid u64 either way).
        let (xs, ls, ts) = unsafe {
            ptr::write_bytes(table, 0, table_len);
            (xa.slice(), la.slice(), ta.slice_mut())
        };
        let (k, m) = kld_count(xs, ls, cs.get(), &cfg, capacity, ts)?;
        // SAFETY: as above.
        unsafe {
            ba.fill(k);
            na.fill(m);
        }
        Ok(otc_status::Ok)
    })
}

unsafe fn recovery_update_impl<T: Real>(rec: *mut otc_recovery<T>, dl: T, out_p: *mut T) -> i32 {
    run(|| {
        // SAFETY: the caller's contract (NULL checked).
        let mut core = unsafe { read_sized(rec)? }.to_core()?;
        let (ra, pa) = (Array::output(rec, 1)?, Array::output(out_p, 1)?);
        disjoint(&[ra.span(), pa.span()])?;
        let p = core.update(dl)?;
        // SAFETY: non-NULL, aligned, disjoint; writable by the caller's contract.
        unsafe {
            ra.fill(otc_recovery::from_core(&core));
            pa.fill(p);
        }
        Ok(otc_status::Ok)
    })
}

unsafe fn recovery_init_impl<T: Real>(
    alpha_slow: T,
    alpha_fast: T,
    out: *mut otc_recovery<T>,
) -> i32 {
    run(|| {
        let core = Recovery::new(alpha_slow, alpha_fast);
        core.check()?;
        let o = Array::output(out, 1)?;
        // SAFETY: checked non-NULL and aligned; writable by the caller's contract.
        unsafe { o.fill(otc_recovery::from_core(&core)) };
        Ok(otc_status::Ok)
    })
}

unsafe fn mcl_size<T: Real>(
    config: *const otc_mcl_config<T>,
    coords: *const otc_coord<T>,
    d: usize,
    n: usize,
    capacity: usize,
) -> Checked<(usize, usize, usize)> {
    // SAFETY: the caller's contract (NULL checked).
    let cfg = unsafe { read_sized(config)? }.to_core()?;
    // SAFETY: as above.
    let (cs, _) = unsafe { Coords::read(coords, d)? };
    let optimal = matches!(cfg.resampler, Resampler::Optimal(_));
    let len = mcl_workspace_len(n, d, embedded_dim(cs.get()), capacity, optimal);
    let slots = if cfg.kld.is_some() {
        kld_table_len(n)
    } else {
        0
    };
    Ok((slots, len, split_bytes::<T>(slots, len)?))
}

#[allow(clippy::too_many_arguments)]
unsafe fn mcl_impl<T: Real + Angles>(
    config: *const otc_mcl_config<T>,
    coords: *const otc_coord<T>,
    d: usize,
    x: *const T,
    logw: *const T,
    n: usize,
    inject_probability: T,
    sampler: Sampler<T>,
    user: *mut c_void,
    rng: *mut otc_rng,
    ws: *mut c_void,
    ws_bytes: usize,
    x_out: *mut T,
    capacity: usize,
    report: *mut otc_mcl_report<T>,
) -> i32 {
    run(|| {
        // SAFETY: the caller's contract (NULL checked).
        let cfg = unsafe { read_sized(config)? }.to_core()?;
        // SAFETY: as above.
        unsafe { check_sized(report)? };
        // SAFETY: as above.
        let (slots, len, _) = unsafe { mcl_size(config, coords, d, n, capacity)? };
        // SAFETY: as above.
        let (cs, ca) = unsafe { Coords::read(coords, d)? };
        let (xa, la) = (Array::input(x, cells(n, d)?)?, Array::input(logw, n)?);
        let ra = Array::output(rng, 1)?;
        let oa = Array::output(x_out, cells(capacity, d)?)?;
        let pa = Array::output(report, 1)?;
        let wa = workspace::<u8>(ws, ws_bytes, ws_bytes)?;
        disjoint(&[
            ca.span(),
            xa.span(),
            la.span(),
            ra.span(),
            wa.span(),
            oa.span(),
            pa.span(),
        ])?;
        // SAFETY: checked above: disjoint from every other argument.
        let (table, wss) = unsafe { split_workspace::<T>(ws, ws_bytes, slots, len)? };
        // SAFETY: non-NULL, aligned, disjoint; valid by the caller's contract.
        let (xs, ls, r, os) = unsafe {
            (
                xa.slice(),
                la.slice(),
                &mut ra.slice_mut()[0],
                oa.slice_mut(),
            )
        };
        let sample = |out: &mut [T], count: usize, g: &mut otc_rng| match sampler {
            // SAFETY: `out` holds count·d values owned by this call; the callback's
            // contract (stated in the header) is to write exactly those.
            Some(f) if unsafe { f(user, count, d, out.as_mut_ptr(), g) } == 0 => Ok(()),
            _ => Err(Error::CallbackFailed),
        };
        let rep = mcl_resample(
            xs,
            ls,
            cs.get(),
            &cfg,
            inject_probability,
            r,
            sample,
            os,
            wss,
            table,
        )?;
        // SAFETY: as above.
        unsafe { pa.fill(otc_mcl_report::from_core(&rep)) };
        Ok(rep.ot.map_or(otc_status::Ok, |o| o.status.into()))
    })
}

#[allow(clippy::too_many_arguments)]
unsafe fn cluster_impl<T: Real + Angles>(
    coords: *const otc_coord<T>,
    d: usize,
    x: *const T,
    logw: *const T,
    n: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    mean: *mut T,
    cov: *mut T,
    out_weight: *mut T,
    out_clusters: *mut usize,
) -> i32 {
    run(|| {
        // SAFETY: the caller's contract.
        let (cs, ca) = unsafe { Coords::read(coords, d)? };
        let (xa, la) = (Array::input(x, cells(n, d)?)?, Array::input(logw, n)?);
        let (ma, va) = (Array::output(mean, d)?, Array::output(cov, cells(d, d)?)?);
        let (wa, ka) = (
            Array::output(out_weight, 1)?,
            Array::output(out_clusters, 1)?,
        );
        let sa = workspace::<u8>(ws, ws_bytes, ws_bytes)?;
        disjoint(&[
            ca.span(),
            xa.span(),
            la.span(),
            ma.span(),
            va.span(),
            wa.span(),
            ka.span(),
            sa.span(),
        ])?;
        // SAFETY: disjoint from every other argument (checked above).
        let (table, wss) = unsafe {
            split_workspace::<T>(ws, ws_bytes, cluster_table_len(n), cluster_workspace_len(n))?
        };
        // SAFETY: non-NULL, aligned, disjoint; valid by the caller's contract.
        let (xs, ls, ms, vs) = unsafe { (xa.slice(), la.slice(), ma.slice_mut(), va.slice_mut()) };
        let (w, k) = largest_cluster(xs, ls, cs.get(), table, wss, ms, vs)?;
        // SAFETY: as above.
        unsafe {
            wa.fill(w);
            ka.fill(k);
        }
        Ok(otc_status::Ok)
    })
}

/// Weighted mean (d) and covariance (d×d row-major) of N particles per the state
/// description `coords` (d entries): linear coordinates as usual; a periodic one
/// gets the circular mean (P/2π)·atan2(Σ W sin φ, Σ W cos φ) in [−P/2, P/2] and its
/// covariance entries are taken on residuals wrapped into [−P/2, P/2) (the tangent
/// space at the mean). `logw`: N log-weights, any offset, −∞ allowed.
///
/// Returns `OTC_STATUS_OK`; nothing written: `OTC_STATUS_NULL_POINTER`,
/// `OTC_STATUS_MISALIGNED`, `OTC_STATUS_EMPTY_INPUT`, `OTC_STATUS_LENGTH_MISMATCH`,
/// `OTC_STATUS_NON_FINITE_INPUT`, `OTC_STATUS_ZERO_MASS`,
/// `OTC_STATUS_INVALID_PARAMETER` (a kind, a period ≤ 0 or not finite, a cost scale
/// < 0, d > `OTC_STATE_MAX_DIM`, overlapping buffers), `OTC_STATUS_NON_FINITE`.
///
/// # Safety
/// Every pointer must be NULL or valid for its stated length for the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_state_moments_f32(
    coords: *const otc_coord<f32>,
    d: usize,
    x: *const f32,
    logw: *const f32,
    n: usize,
    mean: *mut f32,
    cov: *mut f32,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { moments_impl(coords, d, x, logw, n, mean, cov) }
}

/// The `double` version of `otc_state_moments_f32`.
///
/// # Safety
/// As `otc_state_moments_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_state_moments_f64(
    coords: *const otc_coord<f64>,
    d: usize,
    x: *const f64,
    logw: *const f64,
    n: usize,
    mean: *mut f64,
    cov: *mut f64,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { moments_impl(coords, d, x, logw, n, mean, cov) }
}

/// Resamples N weighted particles `x` (N×d) to M equally weighted ones in `x_out`
/// (M×d; M may differ from N), ancestors drawn by `resampler` (a classical
/// `OTC_RESAMPLE_*`; OT: `otc_ot_resample_state_f32`) for a sample of size M.
///
/// Returns `OTC_STATUS_OK`; nothing written, RNG unchanged:
/// `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`, `OTC_STATUS_EMPTY_INPUT`,
/// `OTC_STATUS_LENGTH_MISMATCH` (also M = 0), `OTC_STATUS_NON_FINITE_INPUT`,
/// `OTC_STATUS_ZERO_MASS`, `OTC_STATUS_INVALID_PARAMETER` (resampler, overlap).
///
/// # Safety
/// Every pointer must be NULL or valid for its stated length for the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_resample_to_f32(
    resampler: i32,
    logw: *const f32,
    n: usize,
    rng: *mut otc_rng,
    x: *const f32,
    d: usize,
    x_out: *mut f32,
    m: usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { resample_to_impl(resampler, logw, n, rng, x, d, x_out, m) }
}

/// The `double` version of `otc_resample_to_f32`.
///
/// # Safety
/// As `otc_resample_to_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_resample_to_f64(
    resampler: i32,
    logw: *const f64,
    n: usize,
    rng: *mut otc_rng,
    x: *const f64,
    d: usize,
    x_out: *mut f64,
    m: usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { resample_to_impl(resampler, logw, n, rng, x, d, x_out, m) }
}

/// Workspace bytes of `otc_ot_resample_state_f32`: `sizeof(float)·(2·N·d' +
/// (2·d' + 7)·N̂)`, d' = d + the number of periodic coordinates, N̂ = N rounded up to
/// the kernel width. Statuses as `otc_ot_resample_workspace_size_f32`, plus those of
/// reading `coords` (`OTC_STATUS_INVALID_PARAMETER`, `OTC_STATUS_EMPTY_INPUT`).
///
/// # Safety
/// `coords` must be NULL or readable for d elements; `out_bytes` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_ot_resample_state_workspace_size_f32(
    coords: *const otc_coord<f32>,
    d: usize,
    n: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f32>(ot_state_size(coords, d, n), out_bytes) }
}

/// The `double` version of `otc_ot_resample_state_workspace_size_f32`.
///
/// # Safety
/// As `otc_ot_resample_state_workspace_size_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_ot_resample_state_workspace_size_f64(
    coords: *const otc_coord<f64>,
    d: usize,
    n: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<f64>(ot_state_size(coords, d, n), out_bytes) }
}

/// OT resampling per the state description, from N weighted particles to M (M×d in
/// `x_out`; M may differ from N). Each state is embedded — √s·x for a linear
/// coordinate, √s·(P/2π)·(cos φ, sin φ) for a periodic one — so that the squared
/// distance is the cost Σ s_k·δ_k² (the chord for periodic coordinates), the
/// embedded cloud of d' = d + p coordinates goes through `otc_ot_resample_f32`'s
/// map, and the results are mapped back (angles by atan2, in [−P/2, P/2]; a
/// coordinate of cost scale 0 takes no part in the cost and is passed through as
/// given). For
/// M ≠ N, M of the N transported states are picked by systematic selection (one
/// uniform from `rng`; none drawn for M = N). Cost per kernel entry: d' coordinates
/// instead of d (one more per periodic coordinate).
///
/// Returns `OTC_STATUS_OK` or `OTC_STATUS_MAX_ITERATIONS` (as
/// `otc_ot_resample_f32`); nothing written and the RNG unchanged on the errors of
/// `otc_ot_resample_f32` and `otc_state_moments_f32`.
///
/// # Safety
/// Every pointer must be NULL or valid for its stated length for the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_ot_resample_state_f32(
    config: *const otc_ot_resample_config<f32>,
    coords: *const otc_coord<f32>,
    d: usize,
    x: *const f32,
    logw: *const f32,
    n: usize,
    rng: *mut otc_rng,
    ws: *mut c_void,
    ws_bytes: usize,
    x_out: *mut f32,
    m: usize,
    report: *mut otc_ot_resample_report<f32>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        ot_state_impl(
            config, coords, d, x, logw, n, rng, ws, ws_bytes, x_out, m, report,
        )
    }
}

/// The `double` version of `otc_ot_resample_state_f32`.
///
/// # Safety
/// As `otc_ot_resample_state_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_ot_resample_state_f64(
    config: *const otc_ot_resample_config<f64>,
    coords: *const otc_coord<f64>,
    d: usize,
    x: *const f64,
    logw: *const f64,
    n: usize,
    rng: *mut otc_rng,
    ws: *mut c_void,
    ws_bytes: usize,
    x_out: *mut f64,
    m: usize,
    report: *mut otc_ot_resample_report<f64>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        ot_state_impl(
            config, coords, d, x, logw, n, rng, ws, ws_bytes, x_out, m, report,
        )
    }
}

/// Fills `*out` with nav2's KLD-sampling defaults: ε = 0.05, q = 0.99, at least 500
/// particles.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`.
///
/// # Safety
/// `out` must be NULL or point to a writable `otc_kld_config_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_kld_config_default_f32(out: *mut otc_kld_config<f32>) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { config_default(out, otc_kld_config::default_values()) }
}

/// The `double` version of `otc_kld_config_default_f32`.
///
/// # Safety
/// `out` must be NULL or point to a writable `otc_kld_config_f64`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_kld_config_default_f64(out: *mut otc_kld_config<f64>) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { config_default(out, otc_kld_config::default_values()) }
}

/// Slots of the `uint64_t` table `otc_kld_count_f32` needs for N particles: 2N.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_LENGTH_MISMATCH` (overflow).
///
/// # Safety
/// `out_len` must be NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_kld_table_len(n: usize, out_len: *mut usize) -> i32 {
    run(|| {
        let o = Array::output(out_len, 1)?;
        // `kld_table_len` saturates: usize::MAX is an overflow.
        let len = Some(kld_table_len(n))
            .filter(|&l| l != usize::MAX)
            .ok_or(otc_status::LengthMismatch)?;
        // SAFETY: checked non-NULL and aligned; writable by the caller's contract.
        unsafe { o.fill(len) };
        Ok(otc_status::Ok)
    })
}

/// KLD-sampling (Fox 2003): counts the bins (widths `coords[k].bin`; periodic
/// coordinates wrapped into [0, P), ⌈P/b⌉ bins) occupied by the live particles of
/// `x`, writes that count k to `*out_bins` and the particle count M =
/// (k − 1)/(2ε)·(1 − 2/(9(k − 1)) + √(2/(9(k − 1)))·z_q)³, clamped to
/// [`min_particles`, `capacity`] (k ≤ 1: the minimum), to `*out_count`. O(N):
/// `table` is `otc_kld_table_len(n)` slots of caller memory (contents ignored).
///
/// Returns `OTC_STATUS_OK`; nothing written: `OTC_STATUS_NULL_POINTER`,
/// `OTC_STATUS_MISALIGNED`, `OTC_STATUS_STRUCT_SIZE`, `OTC_STATUS_EMPTY_INPUT`,
/// `OTC_STATUS_LENGTH_MISMATCH`, `OTC_STATUS_NON_FINITE_INPUT`,
/// `OTC_STATUS_ZERO_MASS`, `OTC_STATUS_INVALID_PARAMETER` (a bin width ≤ 0 or not
/// finite, a period, ε ≤ 0, q ∉ (0, 1), minimum 0 or > capacity, overlap),
/// `OTC_STATUS_WORKSPACE_TOO_SMALL` (`table_len`).
///
/// # Safety
/// Every pointer must be NULL or valid for its stated length for the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_kld_count_f32(
    config: *const otc_kld_config<f32>,
    coords: *const otc_coord<f32>,
    d: usize,
    x: *const f32,
    logw: *const f32,
    n: usize,
    capacity: usize,
    table: *mut u64,
    table_len: usize,
    out_bins: *mut usize,
    out_count: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        kld_impl(
            config, coords, d, x, logw, n, capacity, table, table_len, out_bins, out_count,
        )
    }
}

/// The `double` version of `otc_kld_count_f32`.
///
/// # Safety
/// As `otc_kld_count_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_kld_count_f64(
    config: *const otc_kld_config<f64>,
    coords: *const otc_coord<f64>,
    d: usize,
    x: *const f64,
    logw: *const f64,
    n: usize,
    capacity: usize,
    table: *mut u64,
    table_len: usize,
    out_bins: *mut usize,
    out_count: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        kld_impl(
            config, coords, d, x, logw, n, capacity, table, table_len, out_bins, out_count,
        )
    }
}

/// Initialises augmented-MCL recovery with rates α_slow < α_fast in [0, 1] (ROS 1
/// AMCL: 0.001, 0.1), or both 0 (off: never injects), averages empty.
///
/// Returns `OTC_STATUS_OK`; nothing written: `OTC_STATUS_NULL_POINTER`,
/// `OTC_STATUS_MISALIGNED`, `OTC_STATUS_INVALID_PARAMETER` (rates).
///
/// # Safety
/// `out` must be NULL or point to a writable `otc_recovery_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_recovery_init_f32(
    alpha_slow: f32,
    alpha_fast: f32,
    out: *mut otc_recovery<f32>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { recovery_init_impl(alpha_slow, alpha_fast, out) }
}

/// The `double` version of `otc_recovery_init_f32`.
///
/// # Safety
/// `out` must be NULL or point to a writable `otc_recovery_f64`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_recovery_init_f64(
    alpha_slow: f64,
    alpha_fast: f64,
    out: *mut otc_recovery<f64>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { recovery_init_impl(alpha_slow, alpha_fast, out) }
}

/// Folds one tick's Δℓ = log of the mean likelihood (the `out_lse` of
/// `otc_log_weights_normalise_f32` applied to ℓ_i + λ_i with normalised ℓ) into
/// w_slow and w_fast (kept as logarithms: no underflow in float), and writes the
/// injection probability max(0, 1 − w_fast/w_slow) for `otc_mcl_resample_f32`.
///
/// Returns `OTC_STATUS_OK`; nothing written: `OTC_STATUS_NULL_POINTER`,
/// `OTC_STATUS_MISALIGNED`, `OTC_STATUS_STRUCT_SIZE`, `OTC_STATUS_INVALID_PARAMETER`
/// (rates, a NaN average, overlap), `OTC_STATUS_NON_FINITE_INPUT` (Δℓ NaN or +∞).
///
/// # Safety
/// `rec` must be NULL or valid for reads and writes; `out_probability` NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_recovery_update_f32(
    rec: *mut otc_recovery<f32>,
    log_likelihood_increment: f32,
    out_probability: *mut f32,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { recovery_update_impl(rec, log_likelihood_increment, out_probability) }
}

/// The `double` version of `otc_recovery_update_f32`.
///
/// # Safety
/// As `otc_recovery_update_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_recovery_update_f64(
    rec: *mut otc_recovery<f64>,
    log_likelihood_increment: f64,
    out_probability: *mut f64,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { recovery_update_impl(rec, log_likelihood_increment, out_probability) }
}

/// Fills `*out` with the MCL defaults: systematic, fixed count (keep N),
/// `otc_kld_config_default_f32`'s KLD settings, `otc_ot_resample_config_default_f32`'s
/// OT settings (ε = 0: set it to use OT).
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`.
///
/// # Safety
/// `out` must be NULL or point to a writable `otc_mcl_config_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_mcl_config_default_f32(out: *mut otc_mcl_config<f32>) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { config_default(out, otc_mcl_config::default_values()) }
}

/// The `double` version of `otc_mcl_config_default_f32`.
///
/// # Safety
/// `out` must be NULL or point to a writable `otc_mcl_config_f64`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_mcl_config_default_f64(out: *mut otc_mcl_config<f64>) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe { config_default(out, otc_mcl_config::default_values()) }
}

/// Workspace bytes of `otc_mcl_resample_f32` for N input particles and room for
/// `capacity`: with KLD-sampling, a table of 2N `uint64_t` rounded up to
/// `OTC_WORKSPACE_ALIGN` bytes; then `sizeof(float)`·(capacity·d, plus with OT
/// `otc_ot_resample_state_workspace_size_f32`'s count).
///
/// Returns `OTC_STATUS_OK`; `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_STRUCT_SIZE`, `OTC_STATUS_INVALID_PARAMETER`, `OTC_STATUS_EMPTY_INPUT`,
/// `OTC_STATUS_LENGTH_MISMATCH` (overflow).
///
/// # Safety
/// `config` and `coords` must be NULL or readable; `out_bytes` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_mcl_workspace_size_f32(
    config: *const otc_mcl_config<f32>,
    coords: *const otc_coord<f32>,
    d: usize,
    n: usize,
    capacity: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    let b = unsafe { mcl_size(config, coords, d, n, capacity) }.map(|(_, _, b)| b);
    // SAFETY: as above.
    unsafe { write_workspace_size::<u8>(b, out_bytes) }
}

/// The `double` version of `otc_mcl_workspace_size_f32`.
///
/// # Safety
/// As `otc_mcl_workspace_size_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_mcl_workspace_size_f64(
    config: *const otc_mcl_config<f64>,
    coords: *const otc_coord<f64>,
    d: usize,
    n: usize,
    capacity: usize,
    out_bytes: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    let b = unsafe { mcl_size(config, coords, d, n, capacity) }.map(|(_, _, b)| b);
    // SAFETY: as above.
    unsafe { write_workspace_size::<u8>(b, out_bytes) }
}

/// The resampling step of Monte Carlo localisation (AMCL's): chooses the new count
/// M' (KLD-sampling over the bins of the input particles when `config->adaptive`,
/// else `config->count`), draws r ~ Binomial(M', `inject_probability`) (from
/// `otc_recovery_update_f32`; 0 draws nothing), resamples M' − r states from the
/// weighted set with `config->resampler` (OT per the state description) into the
/// first rows of `x_out`, and has `sampler` write the last r rows (it is not called
/// when r = 0 and may then be NULL). The new log-weights are −ln M'.
///
/// - `x`: N×d, `logw`: N normalised log-weights (−∞ allowed).
/// - `x_out`: room for `capacity` particles (capacity×d).
/// - `ws`, `ws_bytes`: `otc_mcl_workspace_size_f32` bytes, aligned to
///   `OTC_WORKSPACE_ALIGN`.
///
/// Returns `OTC_STATUS_OK` or `OTC_STATUS_MAX_ITERATIONS` (OT, as
/// `otc_ot_resample_f32`); nothing written and the RNG unchanged on an error:
/// those of `otc_kld_count_f32` and `otc_ot_resample_state_f32`,
/// `OTC_STATUS_INVALID_PARAMETER` (also a minimum or fixed count above `capacity`, a
/// probability outside [0, 1], an unknown `adaptive`), `OTC_STATUS_CALLBACK_FAILED`
/// (the sampler returned non-zero or is NULL when needed), `OTC_STATUS_NON_FINITE`
/// (the sampler wrote NaN or ±∞).
///
/// # Safety
/// Every pointer must be NULL or valid for its stated length for the call; the
/// sampler must write exactly count×d values.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_mcl_resample_f32(
    config: *const otc_mcl_config<f32>,
    coords: *const otc_coord<f32>,
    d: usize,
    x: *const f32,
    logw: *const f32,
    n: usize,
    inject_probability: f32,
    sampler: otc_mcl_sampler_f32,
    user: *mut c_void,
    rng: *mut otc_rng,
    ws: *mut c_void,
    ws_bytes: usize,
    x_out: *mut f32,
    capacity: usize,
    report: *mut otc_mcl_report<f32>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        mcl_impl(
            config,
            coords,
            d,
            x,
            logw,
            n,
            inject_probability,
            sampler,
            user,
            rng,
            ws,
            ws_bytes,
            x_out,
            capacity,
            report,
        )
    }
}

/// The `double` version of `otc_mcl_resample_f32`.
///
/// # Safety
/// As `otc_mcl_resample_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_mcl_resample_f64(
    config: *const otc_mcl_config<f64>,
    coords: *const otc_coord<f64>,
    d: usize,
    x: *const f64,
    logw: *const f64,
    n: usize,
    inject_probability: f64,
    sampler: otc_mcl_sampler_f64,
    user: *mut c_void,
    rng: *mut otc_rng,
    ws: *mut c_void,
    ws_bytes: usize,
    x_out: *mut f64,
    capacity: usize,
    report: *mut otc_mcl_report<f64>,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        mcl_impl(
            config,
            coords,
            d,
            x,
            logw,
            n,
            inject_probability,
            sampler,
            user,
            rng,
            ws,
            ws_bytes,
            x_out,
            capacity,
            report,
        )
    }
}

/// Workspace bytes of `otc_largest_cluster_f32` for N particles: 5N `uint64_t`
/// rounded up to `OTC_WORKSPACE_ALIGN`, then 3N floats.
///
/// Returns `OTC_STATUS_OK`, `OTC_STATUS_NULL_POINTER`, `OTC_STATUS_MISALIGNED`,
/// `OTC_STATUS_LENGTH_MISMATCH` (overflow).
///
/// # Safety
/// `out_bytes` must be NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_cluster_workspace_size_f32(n: usize, out_bytes: *mut usize) -> i32 {
    let b = split_bytes::<f32>(cluster_table_len(n), cluster_workspace_len(n));
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<u8>(b, out_bytes) }
}

/// The `double` version of `otc_cluster_workspace_size_f32` (3N doubles).
///
/// # Safety
/// As `otc_cluster_workspace_size_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_cluster_workspace_size_f64(n: usize, out_bytes: *mut usize) -> i32 {
    let b = split_bytes::<f64>(cluster_table_len(n), cluster_workspace_len(n));
    // SAFETY: the caller's contract, stated above.
    unsafe { write_workspace_size::<u8>(b, out_bytes) }
}

/// The best hypothesis, as AMCL publishes it: particles binned on the grid of
/// `coords[k].bin`, touching bins (every index within one, across the period for
/// periodic coordinates) joined into clusters, and the cluster of largest weight's
/// mean and covariance per the state description written to `mean`, `cov`; its
/// weight (0, 1] to `*out_weight`, the number of clusters to `*out_clusters`.
/// O(N·3^d) for d ≤ 6.
///
/// Returns `OTC_STATUS_OK`; nothing written: the errors of `otc_state_moments_f32`
/// and `otc_kld_count_f32`, `OTC_STATUS_INVALID_PARAMETER` also for d > 6,
/// `OTC_STATUS_WORKSPACE_TOO_SMALL`.
///
/// # Safety
/// Every pointer must be NULL or valid for its stated length for the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_largest_cluster_f32(
    coords: *const otc_coord<f32>,
    d: usize,
    x: *const f32,
    logw: *const f32,
    n: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    mean: *mut f32,
    cov: *mut f32,
    out_weight: *mut f32,
    out_clusters: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        cluster_impl(
            coords,
            d,
            x,
            logw,
            n,
            ws,
            ws_bytes,
            mean,
            cov,
            out_weight,
            out_clusters,
        )
    }
}

/// The `double` version of `otc_largest_cluster_f32`.
///
/// # Safety
/// As `otc_largest_cluster_f32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn otc_largest_cluster_f64(
    coords: *const otc_coord<f64>,
    d: usize,
    x: *const f64,
    logw: *const f64,
    n: usize,
    ws: *mut c_void,
    ws_bytes: usize,
    mean: *mut f64,
    cov: *mut f64,
    out_weight: *mut f64,
    out_clusters: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, stated above.
    unsafe {
        cluster_impl(
            coords,
            d,
            x,
            logw,
            n,
            ws,
            ws_bytes,
            mean,
            cov,
            out_weight,
            out_clusters,
        )
    }
}
