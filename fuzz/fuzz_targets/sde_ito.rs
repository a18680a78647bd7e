//! `otc_sde_ito_step_f32/_f64` (Euler–Maruyama, Milstein, stochastic Heun) with a
//! fuzzed drift and diffusion. Promises: documented statuses; x untouched on error,
//! finite on OK; at most 2 SDE evaluations (Heun's two stages).
#![no_main]

use core::ffi::c_void;

use libfuzzer_sys::fuzz_target;
use otcore_ffi::*;
use otcore_fuzz::{
    bytes_of, documented, finite, Float, Input, Script, Snapshot, Workspace, INPUT_ERRORS,
};

unsafe extern "C" fn sde<T: Float>(
    user: *mut c_void,
    n: usize,
    d: usize,
    x: *const T,
    _t: T,
    drift: *mut T,
    diffusion: *mut T,
) -> i32 {
    // SAFETY: `user` is a `Script`; the arrays hold n·d values.
    let (s, x, dr, df) = unsafe {
        (
            &*user.cast::<Script>(),
            core::slice::from_raw_parts(x, n * d),
            core::slice::from_raw_parts_mut(drift, n * d),
            core::slice::from_raw_parts_mut(diffusion, n * d),
        )
    };
    let r = s.answer(x, dr);
    df.fill(T::of(s.offset));
    r
}

macro_rules! run {
    ($t:ty, $size:ident, $ito:ident, $inp:expr) => {{
        let inp: &mut Input = $inp;
        let method = i32::from(inp.byte() % 4);
        let (n, d) = (inp.size(1, 4), inp.size(1, 3));
        let script = Script::read(inp);
        let mut x: Vec<$t> = inp.numbers(n * d);
        let (t, h) = (<$t>::of(inp.number()), <$t>::of(inp.number()));
        let mut bytes = 0usize;
        // SAFETY: a valid pointer.
        assert_eq!(unsafe { $size(n, d, &mut bytes) }, 0);
        let mut ws = Workspace::new(bytes, inp.byte());
        let before = Snapshot::of(&[&bytes_of(&x)]);
        // SAFETY: every pointer is valid for its stated length.
        let s = unsafe {
            $ito(
                method,
                Some(sde::<$t>),
                (&script as *const Script).cast_mut().cast(),
                x.as_mut_ptr(),
                n,
                d,
                t,
                h,
                1,
                0,
                2,
                ws.ptr(),
                ws.bytes,
            )
        };
        let mut allowed = vec![
            otc_status::Ok,
            otc_status::CallbackFailed,
            otc_status::WorkspaceTooSmall,
        ];
        allowed.extend(INPUT_ERRORS);
        documented(s, &allowed);
        if s < 0 {
            before.unchanged(s, &[&bytes_of(&x)]);
            return;
        }
        finite("x", &x);
        assert!(
            script.calls.get() <= 2,
            "{} evaluations",
            script.calls.get()
        );
    }};
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    if inp.flag() {
        run!(
            f64,
            otc_sde_ito_workspace_size_f64,
            otc_sde_ito_step_f64,
            &mut inp
        );
    } else {
        run!(
            f32,
            otc_sde_ito_workspace_size_f32,
            otc_sde_ito_step_f32,
            &mut inp
        );
    }
});
