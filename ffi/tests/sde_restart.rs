//! `otc_sde_restart_f32/f64` give the bits of `otcore::sde::restart` (the C call only
//! checks arguments and maps the result), on VP with a Gaussian-mixture score model
//! called through a C callback; and `otc_sde_restart_config_from_sigma` gives the times
//! of `Process::time_of_sigma`.

use core::ffi::c_void;

use otcore::sde::{self, grid, Covariance, Mixture, Process, Restart, Spacing};
use otcore::Real;
use otcore_ffi::*;

const W: [f64; 2] = [0.3, 0.7];
const MU: [f64; 4] = [1.0, -0.5, -1.0, 0.8];
const VAR: [f64; 2] = [0.05, 0.2];
const D: usize = 2;

/// The score of the mixture `(W, MU, VAR)` under VP, as the C callback of precision T.
unsafe extern "C" fn score<T: Real>(
    _user: *mut c_void,
    n: usize,
    d: usize,
    x: *const T,
    t: *const T,
    out: *mut T,
) -> i32 {
    let (w, mu, var) = (
        W.map(T::from_f64),
        MU.map(T::from_f64),
        VAR.map(T::from_f64),
    );
    let Ok(m) = Mixture::new(Process::VP, &w, &mu, Covariance::Isotropic(&var), d) else {
        return 1;
    };
    // SAFETY: the callback contract: x and out hold n·d values, t holds n.
    let (x, t, out) = unsafe {
        (
            core::slice::from_raw_parts(x, n * d),
            core::slice::from_raw_parts(t, n),
            core::slice::from_raw_parts_mut(out, n * d),
        )
    };
    i32::from(m.score(x, t, out).is_err())
}

/// A model callback of precision T.
type ModelFn<T> =
    Option<unsafe extern "C" fn(*mut c_void, usize, usize, *const T, *const T, *mut T) -> i32>;

/// `otc_sde_restart_f32` or `otc_sde_restart_f64`.
type RestartFn<T> = unsafe extern "C" fn(
    *const otc_sde_process,
    *const otc_sde_restart_config,
    ModelFn<T>,
    *mut c_void,
    i32,
    *const T,
    usize,
    *mut T,
    usize,
    usize,
    u64,
    u64,
    *mut c_void,
    usize,
    *mut u64,
) -> i32;

/// Restart through the C ABI and through the core on the same inputs.
fn both<T: Real>(c_call: RestartFn<T>) -> (Vec<T>, Vec<T>, u64, u64) {
    let n = 50;
    let p = Process::VP;
    let mut g = vec![T::ZERO; 15];
    grid::fill(&p, Spacing::Karras { rho: 7.0 }, 1.0, 0.0, &mut g).unwrap();
    let x0: Vec<T> = (0..n * D)
        .map(|k| T::from_f64(((k * 37) % 23) as f64 / 23.0 * 4.0 - 2.0))
        .collect();
    // SAFETY: valid pointers; the default initialisers write every field.
    let (process, config) = unsafe {
        let mut process = core::mem::zeroed::<otc_sde_process>();
        assert_eq!(otc_sde_process_default(OTC_SDE_VP, &mut process), 0);
        let mut config = core::mem::zeroed::<otc_sde_restart_config>();
        assert_eq!(
            otc_sde_restart_config_from_sigma(&process, 0.4, 3.0, 3, 4, &mut config),
            0
        );
        (process, config)
    };
    let r = Restart {
        t_min: p.time_of_sigma(0.4),
        t_max: p.time_of_sigma(3.0),
        repeats: 3,
        steps: 4,
    };
    assert_eq!(
        (config.t_min, config.t_max, config.repeats, config.steps),
        (r.t_min, r.t_max, 3, 4)
    );
    let len = sde::workspace_len(n, D);
    let mut ws = vec![T::ZERO; len];
    let (mut xc, mut evals_c) = (x0.clone(), 0u64);
    // SAFETY: every pointer is valid for the lengths passed.
    let s = unsafe {
        c_call(
            &process,
            &config,
            Some(score::<T>),
            core::ptr::null_mut(),
            OTC_SDE_OUTPUT_SCORE,
            g.as_ptr(),
            g.len(),
            xc.as_mut_ptr(),
            n,
            D,
            9,
            4,
            ws.as_mut_ptr().cast(),
            len * size_of::<T>(),
            &mut evals_c,
        )
    };
    assert_eq!(s, 0);
    let (w, mu, var) = (
        W.map(T::from_f64),
        MU.map(T::from_f64),
        VAR.map(T::from_f64),
    );
    let mut m = Mixture::new(p, &w, &mu, Covariance::Isotropic(&var), D).unwrap();
    let mut xr = x0;
    let st = sde::restart(&p, &r, &mut m, &g, &mut xr, D, 9, 4, &mut ws).unwrap();
    (xc, xr, evals_c, st.evaluations)
}

#[test]
fn c_restart_is_the_core_bit_for_bit() {
    let (c, r, ec, er) = both::<f64>(otc_sde_restart_f64);
    assert_eq!(ec, er);
    assert_eq!(ec, 2 * 14 - 1 + 2 * 3 * 4);
    assert!(c.iter().zip(&r).all(|(a, b)| a.to_bits() == b.to_bits()));
    let (c, r, ec, er) = both::<f32>(otc_sde_restart_f32);
    assert_eq!(ec, er);
    assert!(c.iter().zip(&r).all(|(a, b)| a.to_bits() == b.to_bits()));
}
