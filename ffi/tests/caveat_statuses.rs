//! Issue 24 through the C ABI: OT resampling that runs out of iterations returns
//! `OTC_STATUS_MAX_ITERATIONS` (1) with its outputs, and an unbalanced Sinkhorn whose
//! `reg_ot_cost` leaves the float range returns `OTC_STATUS_REG_COST_OVERFLOW` (2)
//! with finite potentials. Both returned another status before (0 and −13).

use otcore_ffi::*;

/// A 64-byte aligned workspace of `bytes` bytes.
fn workspace(bytes: usize) -> Vec<u64> {
    vec![0u64; bytes / 8 + 16]
}

fn aligned(ws: &mut [u64]) -> *mut core::ffi::c_void {
    let off = ws.as_ptr().align_offset(64);
    ws[off..].as_mut_ptr().cast()
}

#[test]
fn ot_resample_out_of_iterations_returns_max_iterations() {
    let (n, d) = (8usize, 2usize);
    let x: Vec<f64> = (0..n * d)
        .map(|k| ((k * 7) % 11) as f64 * 0.3 - 1.0)
        .collect();
    let logw: Vec<f64> = (0..n).map(|k| -(k as f64) * 0.4).collect();
    let mut cfg = core::mem::MaybeUninit::<otc_ot_resample_config<f64>>::zeroed();
    // SAFETY: a valid pointer; the default initialiser writes every field.
    let mut cfg = unsafe {
        assert_eq!(otc_ot_resample_config_default_f64(cfg.as_mut_ptr()), 0);
        cfg.assume_init()
    };
    cfg.epsilon = 0.01;
    let mut bytes = 0usize;
    // SAFETY: a valid pointer.
    let s = unsafe { otc_ot_resample_workspace_size_f64(n, d, &mut bytes) };
    assert_eq!(s, 0);
    let mut ws = workspace(bytes);
    let mut out = vec![0.0f64; n * d];
    for (iterations, want) in [(3u32, 1i32), (1000, 0)] {
        cfg.max_iterations = iterations;
        // SAFETY: all-zero bytes are a valid report; struct_size set below.
        let mut rep: otc_ot_resample_report<f64> = unsafe { core::mem::zeroed() };
        rep.struct_size = core::mem::size_of_val(&rep);
        // SAFETY: every pointer is valid for its stated length.
        let s = unsafe {
            otc_ot_resample_f64(
                &cfg,
                x.as_ptr(),
                logw.as_ptr(),
                n,
                d,
                aligned(&mut ws),
                bytes,
                out.as_mut_ptr(),
                &mut rep,
            )
        };
        assert_eq!(s, want, "max_iterations {iterations}");
        assert!(out.iter().all(|v| v.is_finite()));
    }
}

#[test]
fn unbalanced_sinkhorn_reg_cost_overflow_returns_its_potentials() {
    // One source point of weight 1, one target point of weight 10: ε = 0.1, ρ = 1e-3,
    // so the relaxed term of reg_ot_cost holds 10^(ε/ρ) = 1e100, beyond float.
    let (x, y) = ([0.0f32, 0.0], [0.5f32, 0.25]);
    let (a, b) = ([1.0f32], [10.0f32]);
    // SAFETY: all-zero bytes are a valid problem (NULL pointers, zero sizes).
    let mut p: otc_ot_problem<f32> = unsafe { core::mem::zeroed() };
    p.struct_size = core::mem::size_of_val(&p);
    p.x = x.as_ptr();
    p.y = y.as_ptr();
    p.a = a.as_ptr();
    p.b = b.as_ptr();
    (p.n, p.m, p.d, p.scale) = (1, 1, 2, 1.0);
    let mut cfg = core::mem::MaybeUninit::<otc_sinkhorn_config<f32>>::zeroed();
    // SAFETY: a valid pointer; the default initialiser writes every field.
    let mut cfg = unsafe {
        assert_eq!(otc_sinkhorn_config_default_f32(cfg.as_mut_ptr()), 0);
        cfg.assume_init()
    };
    cfg.epsilon_mode = OTC_EPSILON_ABSOLUTE;
    cfg.epsilon = 0.1;
    (cfg.rho_a, cfg.rho_b) = (1e-3, 1e-3);
    let mut bytes = 0usize;
    // SAFETY: a valid pointer.
    let s = unsafe { otc_sinkhorn_workspace_size_f32(1, 1, 2, &mut bytes) };
    assert_eq!(s, 0);
    let mut ws = workspace(bytes);
    let (mut f, mut g) = ([0.0f32], [0.0f32]);
    // SAFETY: all-zero bytes are a valid result; struct_size set below.
    let mut out: otc_sinkhorn_result<f32> = unsafe { core::mem::zeroed() };
    out.struct_size = core::mem::size_of_val(&out);
    // SAFETY: every pointer is valid for its stated length.
    let s = unsafe {
        otc_sinkhorn_solve_f32(
            &p,
            &cfg,
            aligned(&mut ws),
            bytes,
            f.as_mut_ptr(),
            1,
            g.as_mut_ptr(),
            1,
            &mut out,
        )
    };
    assert_eq!(s, 2);
    assert_eq!(out.status, 2);
    assert!(f[0].is_finite() && g[0].is_finite());
    assert!(out.error.is_finite() && out.transport_cost.is_finite() && out.plan_mass.is_finite());
    assert_eq!(out.reg_ot_cost, f32::NEG_INFINITY);
}
