//! `otc_sinkhorn_solve_f32/_f64` on point clouds and dense costs, balanced or relaxed,
//! every init. Promises: documented statuses; f, g and the result untouched on error;
//! on a status ≥ 0 finite potentials (−∞ exactly on zero weights), finite result
//! fields (reg_ot_cost −∞ only with REG_COST_OVERFLOW), iterations within the budget.
//! Also a caller's pool in the config: none, a serial one, one with a wrong
//! `struct_size` or a NULL `run` (the problems are too small to be cut into tasks, so
//! the pool itself is never called: `tests/c/test_parallel.c` covers that).
#![no_main]

use core::ffi::c_void;

use libfuzzer_sys::fuzz_target;
use otcore_ffi::*;
use otcore_fuzz::{
    bytes_of, documented, finite, zeroed, Float, Input, Snapshot, Workspace, INPUT_ERRORS,
};

/// A parallel-for that runs the tasks in order on the calling thread.
unsafe extern "C" fn serial(
    _pool: *mut c_void,
    tasks: usize,
    task: otc_parallel_task,
    task_ctx: *mut c_void,
) -> i32 {
    let Some(task) = task else { return 1 };
    for i in 0..tasks {
        // SAFETY: the library's task with its context, during the call.
        unsafe { task(task_ctx, i) };
    }
    0
}

macro_rules! run {
    ($t:ty, $size:ident, $default:ident, $solve:ident, $inp:expr) => {{
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
        // Column-major clouds (the same n·d values, read with strides) now and then.
        if !dense && inp.flag() {
            problem.x_layout.point_stride = 1;
            problem.x_layout.coord_stride = n;
            problem.y_layout.point_stride = 1;
            problem.y_layout.coord_stride = m;
        }
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
        let mut cfg: otc_sinkhorn_config<$t> = zeroed();
        // SAFETY: a valid pointer to a config.
        assert_eq!(unsafe { $default(&mut cfg) }, 0);
        cfg.epsilon_mode = i32::from(inp.byte() % 3);
        cfg.epsilon = <$t>::of(inp.number());
        for rho in [&mut cfg.rho_a, &mut cfg.rho_b] {
            if inp.flag() {
                *rho = <$t>::of(inp.number());
            }
        }
        if inp.flag() {
            cfg.tolerance = <$t>::of(inp.number());
        }
        if inp.flag() {
            cfg.epsilon_scaling = <$t>::of(inp.number());
        }
        cfg.max_iterations = u32::from(inp.byte() % 64);
        cfg.init = i32::from(inp.byte() % 4);
        let mut f: Vec<$t> = inp.numbers(n);
        let mut g: Vec<$t> = inp.numbers(m);
        let mut bytes = 0usize;
        // SAFETY: a valid pointer.
        assert_eq!(unsafe { $size(n, m, d, &mut bytes) }, 0);
        let mut ws = Workspace::new(bytes, inp.byte());
        // Read last, so that the committed corpus decodes as before.
        let mut pool = otc_parallel_for {
            struct_size: core::mem::size_of::<otc_parallel_for>(),
            run: Some(serial),
            pool: core::ptr::null_mut(),
        };
        let pool_mode = inp.byte() % 4;
        match pool_mode {
            2 => pool.struct_size += 8,
            3 => pool.run = None,
            _ => {}
        }
        if pool_mode > 0 {
            cfg.parallel = &pool;
        }
        let mut out: otc_sinkhorn_result<$t> = zeroed();
        out.struct_size = core::mem::size_of_val(&out);
        let before = Snapshot::of(&[&bytes_of(&f), &bytes_of(&g), &bytes_of(&[out])]);
        // SAFETY: every pointer is valid for its stated length.
        let s = unsafe {
            $solve(
                &problem,
                &cfg,
                ws.ptr(),
                ws.bytes,
                f.as_mut_ptr(),
                n,
                g.as_mut_ptr(),
                m,
                &mut out,
            )
        };
        let mut allowed = vec![
            otc_status::Ok,
            otc_status::MaxIterations,
            otc_status::RegCostOverflow,
        ];
        allowed.extend(INPUT_ERRORS);
        allowed.push(otc_status::WorkspaceTooSmall);
        match pool_mode {
            2 => allowed.push(otc_status::StructSize),
            3 => allowed.push(otc_status::NullPointer),
            _ => {}
        }
        documented(s, &allowed);
        if s < 0 {
            before.unchanged(s, &[&bytes_of(&f), &bytes_of(&g), &bytes_of(&[out])]);
            return;
        }
        for (p, w) in f.iter().zip(&a).chain(g.iter().zip(&b)) {
            assert!(
                p.to().is_finite() || (*p == <$t>::NEG_INFINITY && *w == 0.0),
                "potential {p:?} weight {w:?}"
            );
        }
        assert_eq!(out.status, s);
        finite(
            "result",
            &[out.error, out.epsilon, out.transport_cost, out.plan_mass],
        );
        if s == otc_status::RegCostOverflow as i32 {
            assert_eq!(out.reg_ot_cost, <$t>::NEG_INFINITY);
        } else {
            finite("reg_ot_cost", &[out.reg_ot_cost]);
        }
        // The budget is a hard bound in every mode, ε-scaling included (issue 16).
        assert!(
            out.iterations <= cfg.max_iterations,
            "{} iterations, cap {}",
            out.iterations,
            cfg.max_iterations
        );
    }};
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    if inp.flag() {
        run!(
            f64,
            otc_sinkhorn_workspace_size_f64,
            otc_sinkhorn_config_default_f64,
            otc_sinkhorn_solve_f64,
            &mut inp
        );
    } else {
        run!(
            f32,
            otc_sinkhorn_workspace_size_f32,
            otc_sinkhorn_config_default_f32,
            otc_sinkhorn_solve_f32,
            &mut inp
        );
    }
});
