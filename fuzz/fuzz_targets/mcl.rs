//! The localisation functions (f32/f64), one per input, on a fuzzed state description
//! (linear and periodic coordinates, bad kinds, periods, scales and bins):
//! `otc_state_moments`, `otc_resample_to`, `otc_ot_resample_state`, `otc_kld_count`,
//! `otc_recovery_init` + `otc_recovery_update`, `otc_mcl_resample` (every resampler,
//! fixed or KLD count, an injection sampler that advances the RNG and writes NaN/∞
//! or fails at a chosen call) and `otc_largest_cluster`. Promises: documented
//! statuses; every output and the RNG byte-identical on error; on OK /
//! MAX_ITERATIONS finite outputs, periodic means and OT-resampled angles in
//! [−P/2, P/2] (but those of cost scale 0, carried unchanged); classically resampled rows copies of input rows; the RNG untouched by
//! OT resampling to M = N; KLD counts in [minimum, capacity] with at most N bins;
//! injection probabilities in [0, 1] and recovery averages usable by the next update;
//! the MCL count as configured (or KLD-sampling's, the same as `otc_kld_count`'s),
//! the injected rows exactly the sampler's, OT run iff it had rows to fill;
//! cluster weights in (0, 1] and 1..=N clusters; OT iterations within the cap.
#![no_main]

use core::cell::{Cell, RefCell};
use core::ffi::c_void;

use libfuzzer_sys::fuzz_target;
use otcore_ffi::*;
use otcore_fuzz::{
    bytes_of, documented, finite, ot_config, zeroed, Float, Input, Script, Snapshot, Workspace,
    INPUT_ERRORS,
};

/// A state description: mostly valid linear and periodic (2π or fuzzed period)
/// coordinates, sometimes a bad kind, reserved field, scale or bin.
fn coords<T: Float>(inp: &mut Input, d: usize) -> Vec<otc_coord<T>> {
    (0..d)
        .map(|_| {
            let mut c: otc_coord<T> = zeroed();
            let tag = inp.byte();
            c.kind = match tag % 8 {
                0..=3 => OTC_COORD_LINEAR,
                4..=6 => OTC_COORD_PERIODIC,
                _ => i32::from(inp.byte()),
            };
            c.reserved = u32::from(tag == 255);
            c.period = T::of(if tag % 8 == 6 {
                inp.number()
            } else {
                core::f64::consts::TAU
            });
            c.cost_scale = T::of(if inp.flag() { inp.number() } else { 1.0 });
            c.bin = T::of(if inp.flag() { inp.number() } else { 0.5 });
            c
        })
        .collect()
}

/// Panics unless every periodic coordinate of the rows of `x` is in [−P/2, P/2]
/// (with a rounding allowance of a few ulps of P/2); `carried`: except those of cost
/// scale 0, which OT resampling carries unchanged from the input.
fn angles_in_range<T: Float>(what: &str, cs: &[otc_coord<T>], x: &[T], eps: f64, carried: bool) {
    for row in x.chunks_exact(cs.len()) {
        for (c, v) in cs.iter().zip(row) {
            if c.kind == OTC_COORD_PERIODIC && !(carried && c.cost_scale.to() == 0.0) {
                let half = c.period.to() / 2.0;
                assert!(
                    v.to().abs() <= half * (1.0 + 4.0 * eps),
                    "{what}: angle {v:?} outside ±{half} (period {:?}) in {x:?}",
                    c.period
                );
            }
        }
    }
}

/// Panics unless every row of `out` is bit for bit a row of `x` (an ancestor).
fn rows_of<T: Float>(out: &[T], x: &[T], d: usize) {
    for r in out.chunks_exact(d) {
        assert!(
            x.chunks_exact(d)
                .any(|a| a.iter().zip(r).all(|(p, q)| p.bits() == q.bits())),
            "output row {r:?} is not an input row of {x:?}"
        );
    }
}

/// Panics unless the diagonal of the d×d covariance is ≥ 0.
fn variances<T: Float>(cov: &[T], d: usize) {
    for k in 0..d {
        assert!(
            cov[k * d + k].to() >= 0.0,
            "variance {k} = {:?}",
            cov[k * d + k]
        );
    }
}

/// The injection sampler's script and what it did.
struct Injection<T> {
    script: Script,
    /// Calls received, and the count of the last one.
    count: Cell<usize>,
    /// The values the last call wrote.
    wrote: RefCell<Vec<T>>,
}

/// The injection sampler (`otc_mcl_sampler_*`): draws from the RNG (advances it), then
/// writes the script's values.
unsafe extern "C" fn inject<T: Float>(
    user: *mut c_void,
    count: usize,
    d: usize,
    out: *mut T,
    rng: *mut otc_rng,
) -> i32 {
    // SAFETY: `user` is the target's `Injection`; out holds count·d values, rng is valid.
    let (s, out, rng) = unsafe {
        (
            &*user.cast::<Injection<T>>(),
            core::slice::from_raw_parts_mut(out, count * d),
            &mut *rng,
        )
    };
    rng.state = rng
        .state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let r = s.script.draw(out);
    s.count.set(count);
    *s.wrote.borrow_mut() = out.to_vec();
    r
}

/// The statuses of `otc_state_moments_*`.
const MOMENTS: [otc_status; 9] = [
    otc_status::Ok,
    otc_status::NullPointer,
    otc_status::Misaligned,
    otc_status::EmptyInput,
    otc_status::LengthMismatch,
    otc_status::NonFiniteInput,
    otc_status::ZeroMass,
    otc_status::InvalidParameter,
    otc_status::NonFinite,
];

/// The statuses of `otc_kld_count_*`.
const KLD: [otc_status; 10] = [
    otc_status::Ok,
    otc_status::NullPointer,
    otc_status::Misaligned,
    otc_status::StructSize,
    otc_status::EmptyInput,
    otc_status::LengthMismatch,
    otc_status::NonFiniteInput,
    otc_status::ZeroMass,
    otc_status::InvalidParameter,
    otc_status::WorkspaceTooSmall,
];

/// The statuses of `otc_ot_resample_state_*`: those of `otc_ot_resample_*` and
/// `otc_state_moments_*`.
fn ot_state_statuses() -> Vec<otc_status> {
    let mut v = vec![
        otc_status::MaxIterations,
        otc_status::StructSize,
        otc_status::WorkspaceTooSmall,
    ];
    v.extend(INPUT_ERRORS);
    v.extend(MOMENTS);
    v
}

macro_rules! run {
    ($t:ty, $inp:expr,
     $moments:ident, $resample_to:ident, $ot_size:ident, $ot_default:ident, $ot_state:ident,
     $kld_default:ident, $kld_count:ident, $rec_init:ident, $rec_update:ident,
     $mcl_default:ident, $mcl_size:ident, $mcl:ident, $cl_size:ident, $cluster:ident) => {{
        let inp: &mut Input = $inp;
        let eps = <$t>::EPSILON as f64;
        let which = inp.byte() % 7;
        let d = if inp.byte() % 16 == 0 {
            inp.size(0, 18)
        } else {
            inp.size(1, 3)
        };
        let cs = coords::<$t>(inp, d);
        let n = inp.size(0, 10);
        let x: Vec<$t> = inp.numbers(n * d);
        let logw: Vec<$t> = inp.numbers(n);
        let mut rng = otc_rng { state: inp.u64() };
        let rng0 = rng.state;
        match which {
            0 => {
                let mut mean: Vec<$t> = inp.numbers(d);
                let mut cov: Vec<$t> = inp.numbers(d * d);
                let before = Snapshot::of(&[&bytes_of(&mean), &bytes_of(&cov)]);
                // SAFETY: every pointer is valid for its stated length.
                let s = unsafe {
                    $moments(
                        cs.as_ptr(),
                        d,
                        x.as_ptr(),
                        logw.as_ptr(),
                        n,
                        mean.as_mut_ptr(),
                        cov.as_mut_ptr(),
                    )
                };
                documented(s, &MOMENTS);
                if s < 0 {
                    before.unchanged(s, &[&bytes_of(&mean), &bytes_of(&cov)]);
                    return;
                }
                finite("mean", &mean);
                finite("cov", &cov);
                angles_in_range("mean", &cs, &mean, eps, false);
                variances(&cov, d);
            }
            1 => {
                let resampler = i32::from(inp.byte() % 6);
                let m = inp.size(0, 12);
                let mut out: Vec<$t> = inp.numbers(m * d);
                let before = Snapshot::of(&[&bytes_of(&out), &bytes_of(&[rng.state])]);
                // SAFETY: every pointer is valid for its stated length.
                let s = unsafe {
                    $resample_to(
                        resampler,
                        logw.as_ptr(),
                        n,
                        &mut rng,
                        x.as_ptr(),
                        d,
                        out.as_mut_ptr(),
                        m,
                    )
                };
                documented(
                    s,
                    &[
                        otc_status::Ok,
                        otc_status::NullPointer,
                        otc_status::Misaligned,
                        otc_status::EmptyInput,
                        otc_status::LengthMismatch,
                        otc_status::NonFiniteInput,
                        otc_status::ZeroMass,
                        otc_status::InvalidParameter,
                    ],
                );
                if s < 0 {
                    before.unchanged(s, &[&bytes_of(&out), &bytes_of(&[rng.state])]);
                    return;
                }
                finite("x_out", &out);
                rows_of(&out, &x, d);
            }
            2 => {
                let mut cfg: otc_ot_resample_config<$t> = zeroed();
                // SAFETY: a valid pointer.
                assert_eq!(unsafe { $ot_default(&mut cfg) }, 0);
                ot_config(inp, &mut cfg);
                let m = inp.size(0, 12);
                let mut bytes = 0usize;
                // SAFETY: valid pointers; a bad description is refused before the write.
                let sz = unsafe { $ot_size(cs.as_ptr(), d, n, &mut bytes) };
                let mut ws = Workspace::new(if sz == 0 { bytes } else { 64 }, inp.byte());
                let mut out: Vec<$t> = inp.numbers(m * d);
                let mut rep: otc_ot_resample_report<$t> = zeroed();
                rep.struct_size = core::mem::size_of_val(&rep);
                let snap = |o: &[$t], r: &otc_ot_resample_report<$t>, g: &otc_rng| {
                    vec![bytes_of(o), bytes_of(&[*r]), bytes_of(&[g.state])]
                };
                let before = snap(&out, &rep, &rng);
                // SAFETY: every pointer is valid for its stated length.
                let s = unsafe {
                    $ot_state(
                        &cfg,
                        cs.as_ptr(),
                        d,
                        x.as_ptr(),
                        logw.as_ptr(),
                        n,
                        &mut rng,
                        ws.ptr(),
                        ws.bytes,
                        out.as_mut_ptr(),
                        m,
                        &mut rep,
                    )
                };
                let mut allowed = vec![otc_status::Ok];
                allowed.extend(ot_state_statuses());
                documented(s, &allowed);
                let after = snap(&out, &rep, &rng);
                if s < 0 {
                    let b: Vec<&[u8]> = before.iter().map(|v| v.as_slice()).collect();
                    Snapshot::of(&b)
                        .unchanged(s, &after.iter().map(|v| v.as_slice()).collect::<Vec<_>>());
                    return;
                }
                finite("x_out", &out);
                finite(
                    "report",
                    &[rep.epsilon_start, rep.scale, rep.change, rep.error],
                );
                angles_in_range("ot_resample_state x_out", &cs, &out, eps, true);
                assert!(
                    rep.iterations <= cfg.max_iterations.max(1),
                    "{} iterations",
                    rep.iterations
                );
                if m == n {
                    assert_eq!(rng.state, rng0, "RNG drawn from for M = N");
                }
            }
            3 => {
                let mut cfg: otc_kld_config<$t> = zeroed();
                // SAFETY: a valid pointer.
                assert_eq!(unsafe { $kld_default(&mut cfg) }, 0);
                cfg.min_particles = inp.size(0, 12);
                if inp.flag() {
                    cfg.kl_bound = <$t>::of(inp.number());
                    cfg.confidence = <$t>::of(inp.number());
                }
                let capacity = inp.size(0, 40);
                let mut table_len = 0usize;
                // SAFETY: a valid pointer.
                assert_eq!(unsafe { otc_kld_table_len(n, &mut table_len) }, 0);
                table_len = table_len.saturating_sub(usize::from(inp.byte() % 8 == 0));
                let mut table = vec![u64::from(inp.byte()); table_len];
                let mut out = [inp.u64() as usize, inp.u64() as usize];
                let before = Snapshot::of(&[&bytes_of(&out)]);
                let (mut bins, mut count) = (out[0], out[1]);
                // SAFETY: every pointer is valid for its stated length.
                let s = unsafe {
                    $kld_count(
                        &cfg,
                        cs.as_ptr(),
                        d,
                        x.as_ptr(),
                        logw.as_ptr(),
                        n,
                        capacity,
                        table.as_mut_ptr(),
                        table_len,
                        &mut bins,
                        &mut count,
                    )
                };
                out = [bins, count];
                documented(s, &KLD);
                if s < 0 {
                    before.unchanged(s, &[&bytes_of(&out)]);
                    return;
                }
                assert!(bins <= n, "{bins} bins for {n} particles");
                assert!(
                    (cfg.min_particles..=capacity).contains(&count),
                    "count {count} outside [{}, {capacity}]",
                    cfg.min_particles
                );
                if bins <= 1 {
                    assert_eq!(count, cfg.min_particles, "{bins} bins");
                }
            }
            4 => {
                let (slow, fast) = if inp.flag() {
                    (<$t>::of(inp.number()), <$t>::of(inp.number()))
                } else {
                    (0.001, 0.1)
                };
                let mut rec: otc_recovery<$t> = zeroed();
                let before = Snapshot::of(&[&bytes_of(&[rec])]);
                // SAFETY: a valid pointer.
                let s = unsafe { $rec_init(slow, fast, &mut rec) };
                documented(
                    s,
                    &[
                        otc_status::Ok,
                        otc_status::NullPointer,
                        otc_status::Misaligned,
                        otc_status::InvalidParameter,
                    ],
                );
                if s < 0 {
                    before.unchanged(s, &[&bytes_of(&[rec])]);
                    return;
                }
                if inp.flag() {
                    rec.log_slow = <$t>::of(inp.number());
                    rec.log_fast = <$t>::of(inp.number());
                }
                for _ in 0..inp.size(1, 4) {
                    let dl = <$t>::of(inp.number());
                    let mut p = [<$t>::of(inp.number())];
                    let before = Snapshot::of(&[&bytes_of(&[rec]), &bytes_of(&p)]);
                    // SAFETY: valid pointers.
                    let s = unsafe { $rec_update(&mut rec, dl, p.as_mut_ptr()) };
                    documented(
                        s,
                        &[
                            otc_status::Ok,
                            otc_status::NullPointer,
                            otc_status::Misaligned,
                            otc_status::StructSize,
                            otc_status::InvalidParameter,
                            otc_status::NonFiniteInput,
                        ],
                    );
                    if s < 0 {
                        before.unchanged(s, &[&bytes_of(&[rec]), &bytes_of(&p)]);
                        return;
                    }
                    assert!(
                        (0.0..=1.0).contains(&p[0].to()),
                        "probability {:?} after Δℓ {dl:?}",
                        p[0]
                    );
                    for l in [rec.log_slow, rec.log_fast] {
                        assert!(
                            !l.is_nan() && l != <$t>::INFINITY,
                            "log average {l:?} after Δℓ {dl:?}"
                        );
                    }
                    assert_eq!((rec.alpha_slow, rec.alpha_fast), (slow, fast));
                }
            }
            5 => {
                let mut cfg: otc_mcl_config<$t> = zeroed();
                // SAFETY: a valid pointer.
                assert_eq!(unsafe { $mcl_default(&mut cfg) }, 0);
                cfg.resampler = i32::from(inp.byte() % 6);
                cfg.adaptive = [0, 1, 0, 1, 2][usize::from(inp.byte() % 5)];
                cfg.count = inp.size(0, 13);
                cfg.kld.min_particles = inp.size(0, 13);
                if inp.flag() {
                    cfg.kld.kl_bound = <$t>::of(inp.number());
                    cfg.kld.confidence = <$t>::of(inp.number());
                }
                if cfg.resampler == OTC_RESAMPLE_OPTIMAL {
                    ot_config(inp, &mut cfg.ot);
                }
                let p = match inp.byte() % 4 {
                    0 => <$t>::of(inp.number()),
                    1 => <$t>::of(f64::from(inp.byte()) / 255.0),
                    _ => 0.0,
                };
                let injection = Injection::<$t> {
                    script: Script::read(inp),
                    count: Cell::new(0),
                    wrote: RefCell::new(Vec::new()),
                };
                let capacity = inp.size(0, 12);
                let mut bytes = 0usize;
                // SAFETY: valid pointers; bad settings are refused before the write.
                let sz = unsafe { $mcl_size(&cfg, cs.as_ptr(), d, n, capacity, &mut bytes) };
                if sz == 0 && inp.byte() % 16 == 0 {
                    bytes = bytes.saturating_sub(usize::from(inp.byte()));
                }
                let mut ws = Workspace::new(if sz == 0 { bytes } else { 64 }, inp.byte());
                let mut out: Vec<$t> = inp.numbers(capacity * d);
                let mut rep: otc_mcl_report<$t> = zeroed();
                rep.struct_size = core::mem::size_of_val(&rep);
                let snap = |o: &[$t], r: &otc_mcl_report<$t>, g: &otc_rng| {
                    vec![bytes_of(o), bytes_of(&[*r]), bytes_of(&[g.state])]
                };
                let before = snap(&out, &rep, &rng);
                // SAFETY: every pointer is valid for its stated length; the sampler
                // writes count·d values.
                let s = unsafe {
                    $mcl(
                        &cfg,
                        cs.as_ptr(),
                        d,
                        x.as_ptr(),
                        logw.as_ptr(),
                        n,
                        p,
                        Some(inject::<$t>),
                        (&injection as *const Injection<$t>).cast_mut().cast(),
                        &mut rng,
                        ws.ptr(),
                        ws.bytes,
                        out.as_mut_ptr(),
                        capacity,
                        &mut rep,
                    )
                };
                let mut allowed = vec![otc_status::CallbackFailed];
                allowed.extend(KLD);
                allowed.extend(ot_state_statuses());
                documented(s, &allowed);
                let after = snap(&out, &rep, &rng);
                if s < 0 {
                    let b: Vec<&[u8]> = before.iter().map(|v| v.as_slice()).collect();
                    Snapshot::of(&b)
                        .unchanged(s, &after.iter().map(|v| v.as_slice()).collect::<Vec<_>>());
                    return;
                }
                let (m, r) = (rep.count, rep.injected);
                if cfg.adaptive == 1 {
                    let mut table_len = 0usize;
                    // SAFETY: a valid pointer.
                    assert_eq!(unsafe { otc_kld_table_len(n, &mut table_len) }, 0);
                    let mut table = vec![0u64; table_len];
                    let (mut bins, mut count) = (0usize, 0usize);
                    // SAFETY: every pointer is valid for its stated length.
                    let k = unsafe {
                        $kld_count(
                            &cfg.kld,
                            cs.as_ptr(),
                            d,
                            x.as_ptr(),
                            logw.as_ptr(),
                            n,
                            capacity,
                            table.as_mut_ptr(),
                            table_len,
                            &mut bins,
                            &mut count,
                        )
                    };
                    assert_eq!(k, 0, "KLD count refused what the MCL step accepted");
                    assert_eq!(
                        (rep.bins, m),
                        (bins, count),
                        "bins and count vs otc_kld_count"
                    );
                } else {
                    assert_eq!(m, if cfg.count == 0 { n } else { cfg.count }, "fixed count");
                    assert_eq!(rep.bins, 0);
                }
                assert!(
                    m <= capacity && r <= m,
                    "count {m}, injected {r}, capacity {capacity}"
                );
                if p == 0.0 {
                    assert_eq!(r, 0, "injected with probability 0");
                }
                let calls = injection.script.calls.get();
                assert_eq!(calls, u64::from(r > 0), "sampler calls for {r} injected");
                let rows = &out[..m * d];
                finite("x_out", rows);
                if r > 0 {
                    assert_eq!(injection.count.get(), r);
                    assert_eq!(
                        bytes_of(&rows[(m - r) * d..]),
                        bytes_of(&injection.wrote.borrow()),
                        "injected rows are not the sampler's"
                    );
                }
                let optimal = cfg.resampler == OTC_RESAMPLE_OPTIMAL;
                assert_eq!(rep.ot_ran, i32::from(optimal && m > r), "ot_ran");
                if s == otc_status::MaxIterations as i32 {
                    assert_eq!(rep.ot_ran, 1, "MAX_ITERATIONS without OT");
                }
                if rep.ot_ran == 1 {
                    finite(
                        "report",
                        &[
                            rep.ot.epsilon_start,
                            rep.ot.scale,
                            rep.ot.change,
                            rep.ot.error,
                        ],
                    );
                    assert!(
                        rep.ot.iterations <= cfg.ot.max_iterations.max(1),
                        "{} iterations",
                        rep.ot.iterations
                    );
                    angles_in_range("mcl x_out", &cs, &rows[..(m - r) * d], eps, true);
                } else {
                    rows_of(&rows[..(m - r) * d], &x, d);
                }
            }
            _ => {
                let mut bytes = 0usize;
                // SAFETY: a valid pointer.
                assert_eq!(unsafe { $cl_size(n, &mut bytes) }, 0);
                if inp.byte() % 16 == 0 {
                    bytes = bytes.saturating_sub(usize::from(inp.byte()));
                }
                let mut ws = Workspace::new(bytes, inp.byte());
                let mut mean: Vec<$t> = inp.numbers(d);
                let mut cov: Vec<$t> = inp.numbers(d * d);
                let mut weight = [<$t>::of(inp.number())];
                let mut clusters = [inp.u64() as usize];
                let snap = |m: &[$t], c: &[$t], w: &[$t], k: &[usize]| {
                    vec![bytes_of(m), bytes_of(c), bytes_of(w), bytes_of(k)]
                };
                let before = snap(&mean, &cov, &weight, &clusters);
                // SAFETY: every pointer is valid for its stated length.
                let s = unsafe {
                    $cluster(
                        cs.as_ptr(),
                        d,
                        x.as_ptr(),
                        logw.as_ptr(),
                        n,
                        ws.ptr(),
                        ws.bytes,
                        mean.as_mut_ptr(),
                        cov.as_mut_ptr(),
                        weight.as_mut_ptr(),
                        clusters.as_mut_ptr(),
                    )
                };
                let mut allowed = MOMENTS.to_vec();
                allowed.extend(KLD);
                documented(s, &allowed);
                let after = snap(&mean, &cov, &weight, &clusters);
                if s < 0 {
                    let b: Vec<&[u8]> = before.iter().map(|v| v.as_slice()).collect();
                    Snapshot::of(&b)
                        .unchanged(s, &after.iter().map(|v| v.as_slice()).collect::<Vec<_>>());
                    return;
                }
                finite("mean", &mean);
                finite("cov", &cov);
                angles_in_range("mean", &cs, &mean, eps, false);
                variances(&cov, d);
                assert!(
                    weight[0] > 0.0 && weight[0] <= 1.0,
                    "weight {:?}",
                    weight[0]
                );
                assert!(
                    (1..=n).contains(&clusters[0]),
                    "{} clusters of {n}",
                    clusters[0]
                );
            }
        }
    }};
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    if inp.flag() {
        run!(
            f64,
            &mut inp,
            otc_state_moments_f64,
            otc_resample_to_f64,
            otc_ot_resample_state_workspace_size_f64,
            otc_ot_resample_config_default_f64,
            otc_ot_resample_state_f64,
            otc_kld_config_default_f64,
            otc_kld_count_f64,
            otc_recovery_init_f64,
            otc_recovery_update_f64,
            otc_mcl_config_default_f64,
            otc_mcl_workspace_size_f64,
            otc_mcl_resample_f64,
            otc_cluster_workspace_size_f64,
            otc_largest_cluster_f64
        );
    } else {
        run!(
            f32,
            &mut inp,
            otc_state_moments_f32,
            otc_resample_to_f32,
            otc_ot_resample_state_workspace_size_f32,
            otc_ot_resample_config_default_f32,
            otc_ot_resample_state_f32,
            otc_kld_config_default_f32,
            otc_kld_count_f32,
            otc_recovery_init_f32,
            otc_recovery_update_f32,
            otc_mcl_config_default_f32,
            otc_mcl_workspace_size_f32,
            otc_mcl_resample_f32,
            otc_cluster_workspace_size_f32,
            otc_largest_cluster_f32
        );
    }
});
