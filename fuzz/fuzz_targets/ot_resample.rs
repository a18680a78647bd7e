//! `otc_ot_resample_f32/_f64`. Promises: documented statuses; particles and report
//! untouched on error; on OK / MAX_ITERATIONS finite particles and report, iterations
//! within the cap, the weighted mean preserved and every particle within
//! `report.error`·max|x_j − m| of the inputs' range (checked in f64 with a rounding
//! allowance), MAX_ITERATIONS only when the cap was used up.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otcore_ffi::*;
use otcore_fuzz::{
    bytes_of, documented, finite, ot_config, zeroed, Float, Input, Snapshot, Workspace,
    INPUT_ERRORS,
};

macro_rules! run {
    ($t:ty, $size:ident, $default:ident, $resample:ident, $inp:expr) => {{
        let inp: &mut Input = $inp;
        let (n, d) = (inp.size(1, 12), inp.size(1, 3));
        let x: Vec<$t> = inp.numbers(n * d);
        let logw: Vec<$t> = inp.numbers(n);
        let mut cfg: otc_ot_resample_config<$t> = zeroed();
        // SAFETY: a valid pointer.
        assert_eq!(unsafe { $default(&mut cfg) }, 0);
        ot_config(inp, &mut cfg);
        let mut bytes = 0usize;
        // SAFETY: a valid pointer.
        assert_eq!(unsafe { $size(n, d, &mut bytes) }, 0);
        let mut ws = Workspace::new(bytes, inp.byte());
        let mut out: Vec<$t> = inp.numbers(n * d);
        let mut rep: otc_ot_resample_report<$t> = zeroed();
        rep.struct_size = core::mem::size_of_val(&rep);
        let before = Snapshot::of(&[&bytes_of(&out), &bytes_of(&[rep])]);
        // SAFETY: every pointer is valid for its stated length.
        let s = unsafe {
            $resample(
                &cfg,
                x.as_ptr(),
                logw.as_ptr(),
                n,
                d,
                ws.ptr(),
                ws.bytes,
                out.as_mut_ptr(),
                &mut rep,
            )
        };
        let mut allowed = vec![otc_status::Ok, otc_status::MaxIterations];
        allowed.extend(INPUT_ERRORS);
        documented(s, &allowed);
        if s < 0 {
            before.unchanged(s, &[&bytes_of(&out), &bytes_of(&[rep])]);
            return;
        }
        finite("x_out", &out);
        finite(
            "report",
            &[rep.epsilon_start, rep.scale, rep.change, rep.error],
        );
        assert!(
            rep.iterations <= cfg.max_iterations.max(1),
            "{} iterations",
            rep.iterations
        );
        if s == otc_status::MaxIterations as i32 {
            assert!(rep.iterations + 1 >= cfg.max_iterations.max(1));
        }
        check_properties(
            &x,
            &logw,
            &out,
            d,
            rep.error.to(),
            <$t>::of(1.0).bits() == 1f64.to_bits(),
        );
    }};
}

/// The weighted mean and the range of the output (in f64). Tolerances: the exponents
/// of the transport are at most 2^−10/EPSILON in size (otherwise the call fails), so
/// the column sums are exact to a relative 2^−7 at worst; sums of N ≤ 12 terms add
/// N·EPSILON; both relative to the largest magnitude in the cloud (all coordinates).
fn check_properties<T: Float>(x: &[T], logw: &[T], out: &[T], d: usize, error: f64, is_f64: bool) {
    let n = logw.len();
    let (eps, tiny) = if is_f64 {
        (f64::EPSILON, f64::MIN_POSITIVE)
    } else {
        (f32::EPSILON as f64, f32::MIN_POSITIVE as f64)
    };
    let top = logw
        .iter()
        .map(|l| l.to())
        .fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = logw.iter().map(|l| (l.to() - top).exp()).collect();
    let total: f64 = w.iter().sum();
    // The normalisation is common to all coordinates: rounding is relative to the
    // largest magnitude in the whole cloud. Everything is compared in units of it
    // (no overflow near DBL_MAX).
    let big = x.iter().fold(0.0f64, |a, v| a.max(v.to().abs()));
    let unit = if big > 0.0 { big } else { 1.0 };
    // Subnormal clouds round in absolute terms: a few of the smallest normal.
    let slack = 1.0 / 128.0 + 64.0 * n as f64 * eps + 4.0 * tiny / unit;
    for k in 0..d {
        let col: Vec<f64> = x.iter().skip(k).step_by(d).map(|v| v.to() / unit).collect();
        let (lo, hi) = col
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
                (l.min(v), h.max(v))
            });
        let m = col.iter().map(|v| v / n as f64).sum::<f64>();
        let r = col.iter().fold(0.0f64, |a, v| a.max((v - m).abs()));
        let want: f64 = col.iter().zip(&w).map(|(v, w)| v * w / total).sum();
        let got: f64 = out
            .iter()
            .skip(k)
            .step_by(d)
            .map(|v| v.to() / unit / n as f64)
            .sum();
        assert!(
            (got - want).abs() <= slack,
            "mean {got} vs {want} (×{unit:e}, coordinate {k}); x {x:?} logw {logw:?} out {out:?} error {error}"
        );
        for v in out.iter().skip(k).step_by(d) {
            let v = v.to() / unit;
            let outside = (lo - v).max(v - hi).max(0.0);
            assert!(
                outside <= error * r * (1.0 + 1e-3) + slack,
                "{v} outside [{lo}, {hi}] by {outside} (×{unit:e}), error {error}"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    if inp.flag() {
        run!(
            f64,
            otc_ot_resample_workspace_size_f64,
            otc_ot_resample_config_default_f64,
            otc_ot_resample_f64,
            &mut inp
        );
    } else {
        run!(
            f32,
            otc_ot_resample_workspace_size_f32,
            otc_ot_resample_config_default_f32,
            otc_ot_resample_f32,
            &mut inp
        );
    }
});
