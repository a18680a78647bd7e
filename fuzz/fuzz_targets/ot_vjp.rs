//! `otc_ot_resample_vjp_f32/_f64`, both modes. Promises: documented statuses; dx and
//! dlogw untouched on error; finite on OK / MAX_ITERATIONS.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otcore_ffi::*;
use otcore_fuzz::{
    bytes_of, documented, finite, zeroed, Float, Input, Snapshot, Workspace, INPUT_ERRORS,
};

macro_rules! run {
    ($t:ty, $size:ident, $default:ident, $vdefault:ident, $vjp:ident, $inp:expr) => {{
        let inp: &mut Input = $inp;
        let (n, d) = (inp.size(1, 8), inp.size(1, 3));
        let x: Vec<$t> = inp.numbers(n * d);
        let logw: Vec<$t> = inp.numbers(n);
        let ybar: Vec<$t> = inp.numbers(n * d);
        let mut cfg: otc_ot_resample_config<$t> = zeroed();
        // SAFETY: a valid pointer.
        assert_eq!(unsafe { $default(&mut cfg) }, 0);
        cfg.epsilon = <$t>::of(inp.number());
        if inp.flag() {
            cfg.tolerance = <$t>::of(inp.number());
        }
        if inp.flag() {
            cfg.scale = <$t>::of(inp.number());
        }
        cfg.max_iterations = u32::from(inp.byte());
        let mut v: otc_vjp_config<$t> = zeroed();
        // SAFETY: a valid pointer.
        assert_eq!(unsafe { $vdefault(&mut v) }, 0);
        v.mode = i32::from(inp.byte() % 3);
        if inp.flag() {
            v.clip = <$t>::of(inp.number());
        }
        if inp.flag() {
            v.cg_tolerance = <$t>::of(inp.number());
        }
        v.cg_max_iterations = u32::from(inp.byte());
        let mut bytes = 0usize;
        // SAFETY: a valid pointer.
        assert_eq!(unsafe { $size(n, d, &mut bytes) }, 0);
        let mut ws = Workspace::new(bytes, inp.byte());
        let mut dx: Vec<$t> = inp.numbers(n * d);
        let mut dl: Vec<$t> = inp.numbers(n);
        let before = Snapshot::of(&[&bytes_of(&dx), &bytes_of(&dl)]);
        // SAFETY: every pointer is valid for its stated length.
        let s = unsafe {
            $vjp(
                &cfg,
                &v,
                x.as_ptr(),
                logw.as_ptr(),
                n,
                d,
                ybar.as_ptr(),
                ws.ptr(),
                ws.bytes,
                dx.as_mut_ptr(),
                dl.as_mut_ptr(),
            )
        };
        let mut allowed = vec![otc_status::Ok, otc_status::MaxIterations];
        allowed.extend(INPUT_ERRORS);
        documented(s, &allowed);
        if s < 0 {
            before.unchanged(s, &[&bytes_of(&dx), &bytes_of(&dl)]);
            return;
        }
        finite("dx", &dx);
        finite("dlogw", &dl);
    }};
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    if inp.flag() {
        run!(
            f64,
            otc_ot_resample_vjp_workspace_size_f64,
            otc_ot_resample_config_default_f64,
            otc_vjp_config_default_f64,
            otc_ot_resample_vjp_f64,
            &mut inp
        );
    } else {
        run!(
            f32,
            otc_ot_resample_vjp_workspace_size_f32,
            otc_ot_resample_config_default_f32,
            otc_vjp_config_default_f32,
            otc_ot_resample_vjp_f32,
            &mut inp
        );
    }
});
