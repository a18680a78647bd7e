//! `otc_pf_step_f32/_f64` with fuzzed callbacks (values from the fuzzer, NaN/∞
//! included, or a failure return) and every resampler and trigger. Promises:
//! documented statuses; particles, weights, state, mean, covariance, report and the
//! RNG untouched on error; on OK / MAX_ITERATIONS finite particles, moments, totals and
//! report, log-weights finite or −∞, one more step counted.
#![no_main]

use core::ffi::c_void;

use libfuzzer_sys::fuzz_target;
use otcore_ffi::*;
use otcore_fuzz::{
    bytes_of, documented, finite, zeroed, Float, Input, Snapshot, Workspace, INPUT_ERRORS,
};

/// What the callbacks answer: their return codes and the values they write.
struct Script<T> {
    predict_status: i32,
    loglik_status: i32,
    next: Vec<T>,
    lambda: Vec<T>,
}

unsafe extern "C" fn predict<T: Float>(
    user: *mut c_void,
    n: usize,
    d: usize,
    _x_prev: *const T,
    x_next: *mut T,
    _rng: *mut otc_rng,
) -> i32 {
    // SAFETY: `user` is the `Script` the target passed; `x_next` holds n·d values.
    let s = unsafe { &*user.cast::<Script<T>>() };
    let out = unsafe { core::slice::from_raw_parts_mut(x_next, n * d) };
    out.copy_from_slice(&s.next);
    s.predict_status
}

unsafe extern "C" fn loglik<T: Float>(
    user: *mut c_void,
    n: usize,
    _d: usize,
    _x: *const T,
    out: *mut T,
) -> i32 {
    // SAFETY: as above; `out` holds n values.
    let s = unsafe { &*user.cast::<Script<T>>() };
    let out = unsafe { core::slice::from_raw_parts_mut(out, n) };
    out.copy_from_slice(&s.lambda);
    s.loglik_status
}

macro_rules! run {
    ($t:ty, $size:ident, $default:ident, $init:ident, $step:ident, $inp:expr) => {{
        let inp: &mut Input = $inp;
        let (n, d) = (inp.size(1, 10), inp.size(1, 3));
        let mut cfg: otc_pf_config<$t> = zeroed();
        // SAFETY: a valid pointer.
        assert_eq!(unsafe { $default(&mut cfg) }, 0);
        cfg.resampler = i32::from(inp.byte() % 6);
        cfg.trigger = i32::from(inp.byte() % 4);
        if inp.flag() {
            cfg.threshold = <$t>::of(inp.number());
        }
        cfg.ot.epsilon = <$t>::of(inp.number());
        cfg.ot.max_iterations = u32::from(inp.byte());
        let script = Script::<$t> {
            predict_status: i32::from(inp.byte() % 16 == 0),
            loglik_status: i32::from(inp.byte() % 16 == 0),
            next: inp.numbers(n * d),
            lambda: inp.numbers(n),
        };
        let mut x: Vec<$t> = inp.numbers(n * d);
        let mut logw: Vec<$t> = vec![0.0; n];
        let mut state: otc_pf_state<$t> = zeroed();
        state.struct_size = core::mem::size_of_val(&state);
        // SAFETY: valid pointers.
        assert_eq!(unsafe { $init(logw.as_mut_ptr(), n, &mut state) }, 0);
        if inp.flag() {
            logw = inp.numbers(n);
            state.log_likelihood = <$t>::of(inp.number());
        }
        let mut rng = otc_rng { state: inp.u64() };
        let mut bytes = 0usize;
        // SAFETY: a valid pointer (an unknown resampler is refused before the write).
        let sz = unsafe { $size(n, d, cfg.resampler, &mut bytes) };
        let mut ws = Workspace::new(if sz == 0 { bytes } else { 64 }, inp.byte());
        let mut mean: Vec<$t> = inp.numbers(d);
        let mut cov: Vec<$t> = inp.numbers(d * d);
        let mut rep: otc_pf_report<$t> = zeroed();
        rep.struct_size = core::mem::size_of_val(&rep);
        let snap = |x: &[$t],
                    l: &[$t],
                    st: &otc_pf_state<$t>,
                    m: &[$t],
                    c: &[$t],
                    r: &otc_pf_report<$t>,
                    g: &otc_rng| {
            vec![
                bytes_of(x),
                bytes_of(l),
                bytes_of(&[*st]),
                bytes_of(m),
                bytes_of(c),
                bytes_of(&[*r]),
                bytes_of(&[g.state]),
            ]
        };
        let before = snap(&x, &logw, &state, &mean, &cov, &rep, &rng);
        let steps = state.steps;
        // SAFETY: every pointer is valid for its stated length; the callbacks honour
        // their contracts.
        let s = unsafe {
            $step(
                &cfg,
                Some(predict::<$t>),
                Some(loglik::<$t>),
                (&script as *const Script<$t>).cast_mut().cast(),
                n,
                d,
                &mut rng,
                x.as_mut_ptr(),
                logw.as_mut_ptr(),
                &mut state,
                ws.ptr(),
                ws.bytes,
                mean.as_mut_ptr(),
                cov.as_mut_ptr(),
                &mut rep,
            )
        };
        let mut allowed = vec![
            otc_status::Ok,
            otc_status::MaxIterations,
            otc_status::CallbackFailed,
            otc_status::WorkspaceTooSmall,
        ];
        allowed.extend(INPUT_ERRORS);
        documented(s, &allowed);
        let after = snap(&x, &logw, &state, &mean, &cov, &rep, &rng);
        if s < 0 {
            let b: Vec<&[u8]> = before.iter().map(|v| v.as_slice()).collect();
            Snapshot::of(&b).unchanged(s, &after.iter().map(|v| v.as_slice()).collect::<Vec<_>>());
            return;
        }
        finite("x", &x);
        finite("mean", &mean);
        finite("cov", &cov);
        finite("totals", &[state.log_likelihood]);
        finite(
            "report",
            &[rep.log_likelihood_increment, rep.log_likelihood, rep.ess],
        );
        for l in &logw {
            assert!(
                l.to().is_finite() || l.to() == f64::NEG_INFINITY,
                "log-weight {l:?}"
            );
        }
        assert_eq!(state.steps, steps + 1);
        assert!(rep.ot_iterations <= cfg.ot.max_iterations.max(1));
    }};
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    if inp.flag() {
        run!(
            f64,
            otc_pf_workspace_size_f64,
            otc_pf_config_default_f64,
            otc_pf_init_f64,
            otc_pf_step_f64,
            &mut inp
        );
    } else {
        run!(
            f32,
            otc_pf_workspace_size_f32,
            otc_pf_config_default_f32,
            otc_pf_init_f32,
            otc_pf_step_f32,
            &mut inp
        );
    }
});
