//! The plan operations `otc_plan_{apply,apply_transpose,barycentric,transport_cost,
//! dense,barycentric_vjp,potentials_vjp}_f32/_f64` on fuzzed problems and potentials.
//! Promises: documented statuses; the outputs untouched on error, finite on OK; the
//! implicit VJPs' iteration count within the cap.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otcore_ffi::*;
use otcore_fuzz::{
    bytes_of, documented, finite, zeroed, Float, Input, Snapshot, Workspace, INPUT_ERRORS,
};

macro_rules! run {
    ($t:ty, $size:ident, $apply:ident, $applyt:ident, $bary:ident, $cost:ident, $dense:ident,
     $isize:ident, $bvjp:ident, $pvjp:ident, $report:ty, $inp:expr) => {{
        let inp: &mut Input = $inp;
        let (n, m) = (inp.size(1, 6), inp.size(1, 6));
        let dense = inp.flag();
        let d = if dense { 0 } else { inp.size(1, 3) };
        let x: Vec<$t> = inp.numbers(n * d.max(1));
        let y: Vec<$t> = inp.numbers(m * d.max(1));
        let c: Vec<$t> = inp.numbers(n * m);
        let a: Vec<$t> = (0..n).map(|_| inp.weight()).collect();
        let b: Vec<$t> = (0..m).map(|_| inp.weight()).collect();
        let mut problem: otc_ot_problem<$t> = zeroed();
        problem.struct_size = core::mem::size_of::<otc_ot_problem<$t>>();
        problem.x = if dense { core::ptr::null() } else { x.as_ptr() };
        problem.y = if dense { core::ptr::null() } else { y.as_ptr() };
        problem.c = if dense { c.as_ptr() } else { core::ptr::null() };
        problem.a = a.as_ptr();
        problem.b = b.as_ptr();
        problem.n = n;
        problem.m = m;
        problem.d = d;
        problem.scale = if inp.flag() {
            <$t>::of(inp.number())
        } else {
            1.0
        };
        let eps = <$t>::of(inp.number());
        let f: Vec<$t> = inp.numbers(n);
        let g: Vec<$t> = inp.numbers(m);
        let op = inp.byte() % 7;
        let vin: Vec<$t> = inp.numbers(n.max(m) * 3);
        let mut bytes = 0usize;
        // SAFETY: a valid pointer.
        assert_eq!(unsafe { $size(n, m, d, &mut bytes) }, 0);
        if op >= 5 {
            // SAFETY: a valid pointer.
            assert_eq!(unsafe { $isize(n, m, d, &mut bytes) }, 0);
        }
        let mut ws = Workspace::new(bytes, inp.byte());
        let len = match op {
            0 => n,
            1 => m,
            2 => n * d,
            3 => 1,
            4 => n * m,
            _ => n * d,
        };
        let mut out: Vec<$t> = inp.numbers(len);
        let mut gy: Vec<$t> = inp.numbers(m * d);
        let mut ga: Vec<$t> = inp.numbers(n);
        let mut gb: Vec<$t> = inp.numbers(m);
        let cg_tol = <$t>::of(inp.number());
        let cg_max = u32::from(inp.byte());
        let mut report: $report = zeroed();
        report.struct_size = core::mem::size_of::<$report>();
        let before = Snapshot::of(&[
            &bytes_of(&out),
            &bytes_of(&gy),
            &bytes_of(&ga),
            &bytes_of(&gb),
            &bytes_of(core::slice::from_ref(&report)),
        ]);
        // SAFETY: every pointer is valid for its stated length.
        let s = unsafe {
            let (fp, gp, w, wb, o) = (f.as_ptr(), g.as_ptr(), ws.ptr(), ws.bytes, out.as_mut_ptr());
            match op {
                0 => $apply(&problem, eps, fp, n, gp, m, vin.as_ptr(), m, w, wb, o, n),
                1 => $applyt(&problem, eps, fp, n, gp, m, vin.as_ptr(), n, w, wb, o, m),
                2 => $bary(&problem, eps, fp, n, gp, m, w, wb, o, n * d),
                3 => $cost(&problem, eps, fp, n, gp, m, w, wb, o),
                4 => $dense(&problem, eps, fp, n, gp, m, w, wb, o, n * m),
                5 => $bvjp(
                    &problem, eps, fp, n, gp, m, vin.as_ptr(), n * d, cg_tol, cg_max, w, wb, o,
                    n * d, gy.as_mut_ptr(), m * d, ga.as_mut_ptr(), n, gb.as_mut_ptr(), m,
                    &mut report,
                ),
                _ => $pvjp(
                    &problem, eps, fp, n, gp, m, vin.as_ptr(), n, vin.as_ptr(), m, cg_tol,
                    cg_max, w, wb, o, n * d, gy.as_mut_ptr(), m * d, ga.as_mut_ptr(), n,
                    gb.as_mut_ptr(), m, &mut report,
                ),
            }
        };
        let mut allowed = vec![
            otc_status::Ok,
            otc_status::NeedsPointClouds,
            otc_status::WorkspaceTooSmall,
        ];
        allowed.extend(INPUT_ERRORS);
        documented(s, &allowed);
        if s < 0 {
            before.unchanged(
                s,
                &[
                    &bytes_of(&out),
                    &bytes_of(&gy),
                    &bytes_of(&ga),
                    &bytes_of(&gb),
                    &bytes_of(core::slice::from_ref(&report)),
                ],
            );
            return;
        }
        finite("out", &out);
        if op >= 5 {
            finite("grad_y", &gy);
            finite("grad_a", &ga);
            finite("grad_b", &gb);
            assert!(report.cg_iterations <= cg_max, "CG ran past its cap");
        }
    }};
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    if inp.flag() {
        run!(
            f64,
            otc_sinkhorn_workspace_size_f64,
            otc_plan_apply_f64,
            otc_plan_apply_transpose_f64,
            otc_plan_barycentric_f64,
            otc_plan_transport_cost_f64,
            otc_plan_dense_f64,
            otc_implicit_workspace_size_f64,
            otc_plan_barycentric_vjp_f64,
            otc_plan_potentials_vjp_f64,
            otc_implicit_report<f64>,
            &mut inp
        );
    } else {
        run!(
            f32,
            otc_sinkhorn_workspace_size_f32,
            otc_plan_apply_f32,
            otc_plan_apply_transpose_f32,
            otc_plan_barycentric_f32,
            otc_plan_transport_cost_f32,
            otc_plan_dense_f32,
            otc_implicit_workspace_size_f32,
            otc_plan_barycentric_vjp_f32,
            otc_plan_potentials_vjp_f32,
            otc_implicit_report<f32>,
            &mut inp
        );
    }
});
