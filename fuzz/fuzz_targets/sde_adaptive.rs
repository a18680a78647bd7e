//! `otc_sde_adaptive_f32/_f64`. Promises: documented statuses; x and the statistics
//! untouched on error; finite x on OK / MAX_ITERATIONS, evaluations = the model's
//! calls ≤ the budget (0 = none; + 1 for the final denoise), `unfinished` > 0 exactly with MAX_ITERATIONS.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otcore_ffi::*;
use otcore_fuzz::{
    bytes_of, documented, finite, model, process, zeroed, Input, Script, Snapshot, Workspace,
    INPUT_ERRORS,
};

macro_rules! run {
    ($t:ty, $size:ident, $adaptive:ident, $inp:expr) => {{
        let inp: &mut Input = $inp;
        let p = process(inp);
        let mut cfg: otc_sde_adaptive_config = zeroed();
        // SAFETY: valid pointers; a bad process is refused without writing.
        if unsafe { otc_sde_adaptive_config_default(&p, &mut cfg) } != 0 {
            cfg.struct_size = core::mem::size_of_val(&cfg);
        }
        if inp.flag() {
            cfg.eps_abs = inp.number();
            cfg.eps_rel = inp.number();
        }
        if inp.flag() {
            cfg.h_init = inp.number();
            cfg.t_end = inp.number().abs();
        }
        // Always a budget (1..=255): without one (0) and with tolerances near zero the
        // solver legitimately runs for hours, which a fuzz run reports as a timeout.
        cfg.max_evaluations = u64::from(inp.byte()).max(1);
        cfg.depth = u32::from(inp.byte() % 28);
        cfg.memory = inp.flag();
        cfg.denoise = inp.flag();
        let (n, d) = (inp.size(1, 4), inp.size(1, 3));
        let script = Script::read(inp);
        let output = i32::from(inp.byte() % 4);
        let mut x: Vec<$t> = inp.numbers(n * d);
        let mut bytes = 0usize;
        // SAFETY: a valid pointer.
        assert_eq!(unsafe { $size(n, d, &mut bytes) }, 0);
        let mut ws = Workspace::new(bytes, inp.byte());
        let mut st: otc_sde_adaptive_stats = zeroed();
        st.struct_size = core::mem::size_of_val(&st);
        let before = Snapshot::of(&[&bytes_of(&x), &bytes_of(&[st])]);
        // SAFETY: every pointer is valid for its stated length.
        let s = unsafe {
            $adaptive(
                &p,
                &cfg,
                Some(model::<$t>),
                (&script as *const Script).cast_mut().cast(),
                output,
                x.as_mut_ptr(),
                n,
                d,
                9,
                0,
                ws.ptr(),
                ws.bytes,
                &mut st,
            )
        };
        let mut allowed = vec![
            otc_status::Ok,
            otc_status::MaxIterations,
            otc_status::CallbackFailed,
            otc_status::WorkspaceTooSmall,
            otc_status::StructSize,
        ];
        allowed.extend(INPUT_ERRORS);
        documented(s, &allowed);
        if s < 0 {
            before.unchanged(s, &[&bytes_of(&x), &bytes_of(&[st])]);
            return;
        }
        finite("x", &x);
        assert_eq!(st.evaluations, script.calls.get());
        if cfg.max_evaluations > 0 {
            // The budget bounds the steps; the final denoise (when every sample
            // finished) is the documented "one more evaluation".
            let denoised = u64::from(cfg.denoise && st.unfinished == 0);
            assert!(
                st.evaluations <= cfg.max_evaluations + denoised,
                "{} evaluations, budget {}, denoise {}, unfinished {}",
                st.evaluations,
                cfg.max_evaluations,
                cfg.denoise,
                st.unfinished
            );
        }
        assert_eq!(st.unfinished > 0, s == otc_status::MaxIterations as i32);
    }};
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    if inp.flag() {
        run!(
            f64,
            otc_sde_workspace_size_f64,
            otc_sde_adaptive_f64,
            &mut inp
        );
    } else {
        run!(
            f32,
            otc_sde_workspace_size_f32,
            otc_sde_adaptive_f32,
            &mut inp
        );
    }
});
