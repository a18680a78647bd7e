//! The flow-matching samplers: `otc_sde_flow_grid_f32/_f64` (fuzzed shift and end
//! times), then on that grid or a fuzzed one `otc_sde_flow_step_f32/_f64`,
//! `otc_sde_flow_sample_f32/_f64` or `otc_sde_flow_sample_guided_f32/_f64` (every
//! method and output kind, fuzzed η, guidance weight and interval; a model that writes
//! NaN/∞ or fails at a chosen call). Promises: documented statuses; the grid, x and the
//! count untouched on error; a finite, strictly decreasing grid in [0, 1] from t_start
//! to t_end on OK; finite x on OK, the model never called at a time outside (0, 1],
//! evaluations = the model's calls = the method's count (Euler and SDE 1 per step,
//! midpoint 2, Heun 2 and 1 on the step to 0); with guidance, model calls between the
//! evaluations and twice as many, the unconditional call only with a weight ≠ 1 and
//! some time in [t_lo, t_hi].
#![no_main]

use core::cell::Cell;
use core::ffi::c_void;

use libfuzzer_sys::fuzz_target;
use otcore_ffi::*;
use otcore_fuzz::{
    bytes_of, documented, finite, time, Float, Input, Script, Snapshot, Workspace, INPUT_ERRORS,
};

/// The model behind the callbacks: the shared script, the guidance settings it checks
/// the unconditional calls against, and what broke a promise during the call.
struct Flow {
    script: Script,
    weight: f64,
    t_lo: f64,
    t_hi: f64,
    /// A time outside (0, 1] the model was called at.
    bad_time: Cell<Option<f64>>,
    /// An unconditional call that guidance does not need, or a `conditional` ∉ {0, 1}.
    bad_uncond: Cell<bool>,
}

impl Flow {
    fn check_times<T: Float>(&self, t: &[T]) {
        if let Some(v) = t.iter().find(|v| !(v.to() > 0.0 && v.to() <= 1.0)) {
            self.bad_time.set(Some(v.to()));
        }
    }
}

/// The unconditional model (`otc_sde_model_fn_*`) over a [`Flow`].
unsafe extern "C" fn velocity<T: Float>(
    user: *mut c_void,
    n: usize,
    d: usize,
    x: *const T,
    t: *const T,
    out: *mut T,
) -> i32 {
    // SAFETY: `user` is the target's `Flow`; x and out hold n·d values, t n.
    let (f, x, t, out) = unsafe {
        (
            &*user.cast::<Flow>(),
            core::slice::from_raw_parts(x, n * d),
            core::slice::from_raw_parts(t, n),
            core::slice::from_raw_parts_mut(out, n * d),
        )
    };
    f.check_times(t);
    f.script.answer(x, out)
}

/// The conditional model (`otc_sde_cond_model_fn_*`) over a [`Flow`].
unsafe extern "C" fn conditional<T: Float>(
    user: *mut c_void,
    n: usize,
    d: usize,
    x: *const T,
    t: *const T,
    cond: i32,
    out: *mut T,
) -> i32 {
    // SAFETY: as `velocity`.
    let (f, x, t, out) = unsafe {
        (
            &*user.cast::<Flow>(),
            core::slice::from_raw_parts(x, n * d),
            core::slice::from_raw_parts(t, n),
            core::slice::from_raw_parts_mut(out, n * d),
        )
    };
    f.check_times(t);
    let inside = t.iter().any(|v| (f.t_lo..=f.t_hi).contains(&v.to()));
    if cond != 1 && (cond != 0 || T::of(f.weight).to() == 1.0 || !inside) {
        f.bad_uncond.set(true);
    }
    f.script.answer(x, out)
}

/// Model evaluations of `method` over the steps from `grid[j]` to `grid[j + 1]`.
fn evaluations<T: Float>(method: i32, grid: &[T]) -> u64 {
    grid.windows(2)
        .map(|w| match method {
            OTC_SDE_FLOW_MIDPOINT => 2,
            OTC_SDE_FLOW_HEUN if w[1].to() == 0.0 => 1,
            OTC_SDE_FLOW_HEUN => 2,
            _ => 1,
        })
        .sum()
}

macro_rules! run {
    ($t:ty, $grid:ident, $size:ident, $gsize:ident, $step:ident, $sample:ident, $guided:ident, $inp:expr) => {{
        let inp: &mut Input = $inp;
        // The grid: mostly the usual [1, 0] with shift 1 or 3, sometimes anything.
        let shift = [1.0, 3.0, inp.number(), 0.5][usize::from(inp.byte() % 4)];
        let t_start = if inp.byte() % 4 == 0 {
            time(inp, 1.0)
        } else {
            1.0
        };
        let t_end = if inp.byte() % 4 == 0 {
            time(inp, 1.0)
        } else {
            0.0
        };
        let len = inp.size(0, 8);
        let mut grid: Vec<$t> = inp.numbers(len);
        let before = bytes_of(&grid);
        // SAFETY: `grid` holds `len` values.
        let s = unsafe { $grid(shift, t_start, t_end, grid.as_mut_ptr(), len) };
        documented(
            s,
            &[
                otc_status::Ok,
                otc_status::NullPointer,
                otc_status::Misaligned,
                otc_status::EmptyInput,
                otc_status::NonFiniteInput,
                otc_status::InvalidParameter,
            ],
        );
        if s < 0 {
            Snapshot::of(&[&before]).unchanged(s, &[&bytes_of(&grid)]);
            // A hand-made grid instead: mostly decreasing and ending at 0.
            grid = (0..len).map(|_| time(inp, 1.0) as $t).collect();
            if inp.byte() % 4 != 0 {
                grid.sort_by(|a, b| b.partial_cmp(a).unwrap_or(core::cmp::Ordering::Equal));
            }
            if inp.byte() % 4 != 0 {
                if let Some(l) = grid.last_mut() {
                    *l = 0.0;
                }
            }
        } else {
            finite("grid", &grid);
            for w in grid.windows(2) {
                assert!(w[0] > w[1], "grid not decreasing: {grid:?}");
            }
            let (first, last) = (grid[0].to(), grid[len - 1].to());
            assert!(
                (first - t_start).abs() <= 4.0 * <$t>::EPSILON as f64,
                "grid starts at {first}, not t_start = {t_start} (shift {shift}): {grid:?}"
            );
            assert_eq!(last, t_end as $t as f64, "grid ends at {last}, not {t_end}");
            assert!(last >= 0.0 && first <= 1.0, "grid outside [0, 1]: {grid:?}");
        }

        let method = i32::from(inp.byte() % 5);
        let eta = if inp.flag() { inp.number() } else { 0.5 };
        let output = if inp.flag() {
            OTC_SDE_OUTPUT_VELOCITY
        } else {
            i32::from(inp.byte() % 5)
        };
        let (n, d) = (inp.size(1, 4), inp.size(1, 3));
        let script = Script::read(inp);
        let which = inp.byte() % 3;
        let (weight, t_lo, t_hi) = if inp.flag() {
            (inp.number(), inp.number(), inp.number())
        } else {
            (2.0, time(inp, 1.0), f64::INFINITY)
        };
        let flow = Flow {
            script,
            weight,
            t_lo,
            t_hi,
            bad_time: Cell::new(None),
            bad_uncond: Cell::new(false),
        };
        let user = (&flow as *const Flow).cast_mut().cast();
        let mut x: Vec<$t> = inp.numbers(n * d);
        let mut bytes = 0usize;
        // SAFETY: a valid pointer.
        assert_eq!(
            unsafe {
                if which == 2 {
                    $gsize(n, d, &mut bytes)
                } else {
                    $size(n, d, &mut bytes)
                }
            },
            0
        );
        if inp.byte() % 16 == 0 {
            bytes = bytes.saturating_sub(usize::from(inp.byte()));
        }
        let mut ws = Workspace::new(bytes, inp.byte());
        let seed = u64::from(inp.byte());
        let mut evals = [7u64];
        let before = Snapshot::of(&[&bytes_of(&x), &bytes_of(&evals)]);
        // The step: the grid's first two times, or two fuzzed ones.
        let (t, t_next) = match grid.as_slice() {
            [a, b, ..] if inp.byte() % 4 != 0 => (*a, *b),
            _ => (time(inp, 1.0) as $t, time(inp, 1.0) as $t),
        };
        // SAFETY: every pointer is valid for its stated length; the callbacks honour
        // their contracts.
        let s = unsafe {
            match which {
                0 => $step(
                    method,
                    eta,
                    Some(velocity::<$t>),
                    user,
                    output,
                    x.as_mut_ptr(),
                    n,
                    d,
                    t,
                    t_next,
                    3,
                    seed,
                    0,
                    ws.ptr(),
                    ws.bytes,
                    evals.as_mut_ptr(),
                ),
                1 => $sample(
                    method,
                    eta,
                    Some(velocity::<$t>),
                    user,
                    output,
                    grid.as_ptr(),
                    grid.len(),
                    x.as_mut_ptr(),
                    n,
                    d,
                    seed,
                    0,
                    ws.ptr(),
                    ws.bytes,
                    evals.as_mut_ptr(),
                ),
                _ => $guided(
                    method,
                    eta,
                    Some(conditional::<$t>),
                    user,
                    output,
                    weight,
                    t_lo,
                    t_hi,
                    grid.as_ptr(),
                    grid.len(),
                    x.as_mut_ptr(),
                    n,
                    d,
                    seed,
                    0,
                    ws.ptr(),
                    ws.bytes,
                    evals.as_mut_ptr(),
                ),
            }
        };
        let mut allowed = vec![
            otc_status::Ok,
            otc_status::NullPointer,
            otc_status::Misaligned,
            otc_status::WorkspaceTooSmall,
            otc_status::CallbackFailed,
        ];
        allowed.extend(INPUT_ERRORS);
        documented(s, &allowed);
        if let Some(bad) = flow.bad_time.get() {
            panic!(
                "model called at t = {bad:e} (call {which}, method {method}, output {output}, \
                 step {t:?} → {t_next:?}, grid {grid:?})"
            );
        }
        assert!(!flow.bad_uncond.get(), "unconditional call not needed");
        if s < 0 {
            before.unchanged(s, &[&bytes_of(&x), &bytes_of(&evals)]);
            return;
        }
        finite("x", &x);
        let calls = flow.script.calls.get();
        assert_eq!(evals[0], calls, "reported evaluations vs calls");
        let want = match which {
            0 => evaluations(method, &[t, t_next]),
            _ => evaluations(method, &grid),
        };
        if which == 2 {
            assert!(
                (want..=2 * want).contains(&calls),
                "{calls} model calls for {want} evaluations"
            );
        } else {
            assert_eq!(calls, want, "evaluations of method {method}");
        }
    }};
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    if inp.flag() {
        run!(
            f64,
            otc_sde_flow_grid_f64,
            otc_sde_workspace_size_f64,
            otc_sde_flow_guided_workspace_size_f64,
            otc_sde_flow_step_f64,
            otc_sde_flow_sample_f64,
            otc_sde_flow_sample_guided_f64,
            &mut inp
        );
    } else {
        run!(
            f32,
            otc_sde_flow_grid_f32,
            otc_sde_workspace_size_f32,
            otc_sde_flow_guided_workspace_size_f32,
            otc_sde_flow_step_f32,
            otc_sde_flow_sample_f32,
            otc_sde_flow_sample_guided_f32,
            &mut inp
        );
    }
});
