//! `otc_sde_step_f32/_f64`: every process, method and corrector, a fuzzed model (NaN,
//! ∞, failure), DPM-Solver++(2M) history given or not. Promises: documented statuses;
//! x, history, h_prev and the count untouched on error; finite x and history on OK, a
//! usable h_prev (0 = none, or finite > 0), evaluations = the model's calls ≤ 2 +
//! corrector steps.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otcore_ffi::*;
use otcore_fuzz::{
    bytes_of, documented, finite, model, process, time, zeroed, Input, Script, Snapshot, Workspace,
    INPUT_ERRORS,
};

macro_rules! run {
    ($t:ty, $size:ident, $step:ident, $inp:expr) => {{
        let inp: &mut Input = $inp;
        let p = process(inp);
        let mut cfg: otc_sde_sampler_config = zeroed();
        // SAFETY: a valid pointer; an unknown method is refused without writing.
        if unsafe { otc_sde_sampler_config_default(i32::from(inp.byte() % 8), &mut cfg) } != 0 {
            cfg.struct_size = core::mem::size_of_val(&cfg);
        }
        cfg.denoise = inp.flag();
        cfg.corrector = i32::from(inp.byte() % 3) - 1;
        cfg.corrector_steps = u32::from(inp.byte() % 3);
        if inp.flag() {
            cfg.snr = inp.number();
            cfg.churn_gamma = inp.number();
        }
        let (n, d) = (inp.size(1, 4), inp.size(1, 3));
        let script = Script::read(inp);
        let output = i32::from(inp.byte() % 4);
        let mut x: Vec<$t> = inp.numbers(n * d);
        let t_max = if p.kind == OTC_SDE_EDM { 80.0 } else { 1.0 };
        let (t, t_next) = (time(inp, t_max), time(inp, t_max));
        let with_history = inp.flag();
        let mut history: Vec<$t> = inp.numbers(n * d);
        let mut h_prev = [inp.number()];
        let mut bytes = 0usize;
        // SAFETY: a valid pointer.
        assert_eq!(unsafe { $size(n, d, &mut bytes) }, 0);
        let mut ws = Workspace::new(bytes, inp.byte());
        let mut evals = [7u64];
        let before = Snapshot::of(&[
            &bytes_of(&x),
            &bytes_of(&history),
            &bytes_of(&h_prev),
            &bytes_of(&evals),
        ]);
        let (hp, hh) = if with_history {
            (history.as_mut_ptr(), h_prev.as_mut_ptr())
        } else {
            (core::ptr::null_mut(), core::ptr::null_mut())
        };
        // SAFETY: every pointer is valid for its stated length.
        let s = unsafe {
            $step(
                &p,
                &cfg,
                Some(model::<$t>),
                (&script as *const Script).cast_mut().cast(),
                output,
                x.as_mut_ptr(),
                n,
                d,
                <$t>::from(t as $t),
                <$t>::from(t_next as $t),
                3,
                11,
                0,
                hp,
                hh,
                ws.ptr(),
                ws.bytes,
                evals.as_mut_ptr(),
            )
        };
        let mut allowed = vec![
            otc_status::Ok,
            otc_status::CallbackFailed,
            otc_status::WorkspaceTooSmall,
            otc_status::StructSize,
        ];
        allowed.extend(INPUT_ERRORS);
        documented(s, &allowed);
        if s < 0 {
            before.unchanged(
                s,
                &[
                    &bytes_of(&x),
                    &bytes_of(&history),
                    &bytes_of(&h_prev),
                    &bytes_of(&evals),
                ],
            );
            return;
        }
        finite("x", &x);
        if with_history {
            finite("history", &history);
            assert!(
                h_prev[0] == 0.0 || (h_prev[0].is_finite() && h_prev[0] > 0.0),
                "h_prev {}",
                h_prev[0]
            );
        }
        assert_eq!(evals[0], script.calls.get());
        assert!(
            evals[0] <= 2 + u64::from(cfg.corrector_steps),
            "{} evaluations",
            evals[0]
        );
    }};
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    if inp.flag() {
        run!(f64, otc_sde_workspace_size_f64, otc_sde_step_f64, &mut inp);
    } else {
        run!(f32, otc_sde_workspace_size_f32, otc_sde_step_f32, &mut inp);
    }
});
