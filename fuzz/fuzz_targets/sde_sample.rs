//! `otc_sde_sample_f32/_f64` along a fuzzed grid. Promises: documented statuses; x and
//! the count untouched on error; finite x on OK, evaluations = the model's calls ≤
//! (grid length − 1)·(2 + corrector steps).
#![no_main]

use libfuzzer_sys::fuzz_target;
use otcore_ffi::*;
use otcore_fuzz::{
    bytes_of, documented, finite, model, process, time, zeroed, Input, Script, Snapshot, Workspace,
    INPUT_ERRORS,
};

macro_rules! run {
    ($t:ty, $size:ident, $sample:ident, $inp:expr) => {{
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
        let (n, d) = (inp.size(1, 4), inp.size(1, 3));
        let script = Script::read(inp);
        let output = i32::from(inp.byte() % 4);
        let t_max = if p.kind == OTC_SDE_EDM { 80.0 } else { 1.0 };
        let len = inp.size(0, 8);
        let mut grid: Vec<$t> = (0..len).map(|_| time(inp, t_max) as $t).collect();
        if inp.byte() % 4 != 0 {
            grid.sort_by(|a, b| b.partial_cmp(a).unwrap_or(core::cmp::Ordering::Equal));
        }
        let mut x: Vec<$t> = inp.numbers(n * d);
        let mut bytes = 0usize;
        // SAFETY: a valid pointer.
        assert_eq!(unsafe { $size(n, d, &mut bytes) }, 0);
        let mut ws = Workspace::new(bytes, inp.byte());
        let mut evals = [7u64];
        let before = Snapshot::of(&[&bytes_of(&x), &bytes_of(&evals)]);
        // SAFETY: every pointer is valid for its stated length.
        let s = unsafe {
            $sample(
                &p,
                &cfg,
                Some(model::<$t>),
                (&script as *const Script).cast_mut().cast(),
                output,
                grid.as_ptr(),
                grid.len(),
                x.as_mut_ptr(),
                n,
                d,
                5,
                0,
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
            otc_status::NullPointer,
        ];
        allowed.extend(INPUT_ERRORS);
        documented(s, &allowed);
        if s < 0 {
            before.unchanged(s, &[&bytes_of(&x), &bytes_of(&evals)]);
            return;
        }
        finite("x", &x);
        assert_eq!(evals[0], script.calls.get());
        let budget = (grid.len() as u64 - 1) * (2 + u64::from(cfg.corrector_steps));
        assert!(
            evals[0] <= budget,
            "{} evaluations, budget {budget}",
            evals[0]
        );
    }};
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    if inp.flag() {
        run!(
            f64,
            otc_sde_workspace_size_f64,
            otc_sde_sample_f64,
            &mut inp
        );
    } else {
        run!(
            f32,
            otc_sde_workspace_size_f32,
            otc_sde_sample_f32,
            &mut inp
        );
    }
});
