//! A caller's parallel-for (`otcore::parallel`): `ot::solve_on` gives `ot::solve`'s
//! bits whatever runs the tasks — several threads, any order, a pool that calls a task
//! twice — and a pool that fails or skips a task gets `Error::CallbackFailed` with the
//! potentials untouched.

use std::sync::atomic::{AtomicUsize, Ordering};

use otcore::ot::{self, Config, Epsilon, Init, Problem};
use otcore::parallel::{task_rows, ParallelFor, MIN_TASK_ROWS};
use otcore::{Error, Real};
use otcore_tests::{cast, Rng};

/// The pools the tests hand to the library, as one type: each `ParallelFor` type is
/// another copy of the whole solver to compile (f32 and f64, every SIMD path).
enum Pool {
    /// `workers` threads (the caller's among them) taking task indices from a shared
    /// counter, so the order and the thread of each task vary from run to run.
    Threads(usize),
    /// Last task first, on the calling thread.
    Reversed,
    /// Breaks the contract: every task twice, at once on two threads, and indices past
    /// the end.
    Twice,
    /// Fails on its `on`-th call, after running the tasks.
    Failing { calls: AtomicUsize, on: usize },
    /// Returns `Ok` without running the last task on its `on`-th call.
    Early { calls: AtomicUsize, on: usize },
}

impl Pool {
    fn failing(on: usize) -> Self {
        Self::Failing {
            calls: AtomicUsize::new(0),
            on,
        }
    }

    fn early(on: usize) -> Self {
        Self::Early {
            calls: AtomicUsize::new(0),
            on,
        }
    }

    /// Calls so far (`Failing` and `Early`; 0 for the others).
    fn calls(&self) -> usize {
        match self {
            Self::Failing { calls, .. } | Self::Early { calls, .. } => {
                calls.load(Ordering::Relaxed)
            }
            _ => 0,
        }
    }
}

impl ParallelFor for Pool {
    fn run<F: Fn(usize) + Sync>(&self, tasks: usize, task: &F) -> Result<(), Error> {
        match self {
            Self::Threads(workers) => {
                let next = AtomicUsize::new(0);
                let work = || loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= tasks {
                        break;
                    }
                    task(i);
                };
                std::thread::scope(|s| {
                    for _ in 1..*workers {
                        s.spawn(work);
                    }
                    work();
                });
            }
            Self::Reversed => (0..tasks).rev().for_each(task),
            Self::Twice => std::thread::scope(|s| {
                s.spawn(|| (0..tasks + 3).for_each(task));
                (0..tasks + 3).rev().for_each(task);
            }),
            Self::Failing { calls, on } => {
                (0..tasks).for_each(task);
                if calls.fetch_add(1, Ordering::Relaxed) == *on {
                    return Err(Error::InvalidParameter);
                }
            }
            Self::Early { calls, on } => {
                let skip = calls.fetch_add(1, Ordering::Relaxed) == *on;
                (0..if skip { tasks - 1 } else { tasks }).for_each(task);
            }
        }
        Ok(())
    }
}

struct Case {
    x: Vec<f64>,
    y: Vec<f64>,
    a: Vec<f64>,
    b: Vec<f64>,
    d: usize,
}

/// n = 1100 rows (5 tasks, the last of 76 rows) against m = 700 (3 tasks), in 2-D, with
/// a zero weight on each side (a −∞ potential inside a task).
fn case(d: usize) -> Case {
    let (n, m) = (1100, 700);
    let mut rng = Rng::new(11);
    let mut a = rng.weights(n);
    let mut b = rng.weights(m);
    a[300] = 0.0;
    b[650] = 0.0;
    let (sa, sb) = (a.iter().sum::<f64>(), b.iter().sum::<f64>());
    b.iter_mut().for_each(|w| *w *= sa / sb);
    Case {
        x: rng.normals(n * d, 0.0, 1.0),
        y: rng.normals(m * d, 0.5, 0.8),
        a,
        b,
        d,
    }
}

type Run<T> = (Result<ot::Solution<T>, Error>, Vec<T>, Vec<T>);

fn solve<T: Real, P: ParallelFor>(c: &Case, cfg: &Config<T>, pool: Option<&P>) -> Run<T> {
    let (x, y, a, b) = (
        cast::<T>(&c.x),
        cast::<T>(&c.y),
        cast::<T>(&c.a),
        cast(&c.b),
    );
    let problem = Problem::point_clouds(&x, &y, c.d, T::ONE, &a, &b);
    let (n, m) = (a.len(), b.len());
    let mut ws = vec![T::ZERO; ot::workspace_len(n, m, c.d)];
    let (mut f, mut g) = (vec![T::from_f64(7.0); n], vec![T::from_f64(7.0); m]);
    let res = match pool {
        Some(p) => ot::solve_on(p, &problem, cfg, Init::Zero, &mut f, &mut g, &mut ws),
        None => ot::solve(&problem, cfg, Init::Zero, &mut f, &mut g, &mut ws),
    };
    (res, f, g)
}

fn configs<T: Real>() -> [Config<T>; 3] {
    let base = Config {
        epsilon: Epsilon::RelativeToMeanCost(T::from_f64(0.05)),
        max_iterations: 300,
        ..Config::default()
    };
    [
        base,
        // Relaxed marginals and ε-scaling go through the same passes.
        Config {
            rho_a: T::from_f64(0.5),
            rho_b: T::from_f64(2.0),
            ..base
        },
        Config {
            epsilon: Epsilon::RelativeToMeanCost(T::from_f64(0.005)),
            epsilon_scaling: T::from_f64(0.5),
            ..base
        },
    ]
}

fn bits<T: Real>(v: &[T]) -> Vec<f64> {
    v.iter().map(|x| x.to_f64()).collect()
}

fn same_bits_whatever_the_pool<T: Real>() {
    for d in [1, 2, 3] {
        let c = case(d);
        for cfg in configs::<T>() {
            let (serial, f0, g0) = solve(&c, &cfg, None::<&Pool>);
            let serial = serial.expect("the serial solve succeeds");
            assert!(serial.iterations > 1);
            for workers in [1, 2, 3, 5] {
                let (res, f, g) = solve(&c, &cfg, Some(&Pool::Threads(workers)));
                assert_eq!(res, Ok(serial), "d = {d}, {workers} workers");
                assert_eq!((bits(&f), bits(&g)), (bits(&f0), bits(&g0)));
            }
            for res in [
                solve(&c, &cfg, Some(&Pool::Reversed)),
                solve(&c, &cfg, Some(&Pool::Twice)),
            ] {
                assert_eq!(res.0, Ok(serial));
                assert_eq!((bits(&res.1), bits(&res.2)), (bits(&f0), bits(&g0)));
            }
        }
    }
}

#[test]
fn same_bits_whatever_the_pool_f64() {
    same_bits_whatever_the_pool::<f64>();
}

#[test]
fn same_bits_whatever_the_pool_f32() {
    same_bits_whatever_the_pool::<f32>();
}

/// The cut depends on the row count alone: one task up to MIN_TASK_ROWS rows (the pool
/// is not called), never more than MAX_TASKS.
#[test]
fn task_cut() {
    assert_eq!(task_rows(1), MIN_TASK_ROWS);
    assert_eq!(task_rows(1100), 256);
    assert_eq!(1100usize.div_ceil(task_rows(1100)), 5);
    assert_eq!(task_rows(64 * 1000 + 1), 1001);
    let small = case(2);
    let small = Case {
        x: small.x[..2 * 200].to_vec(),
        y: small.y[..2 * 100].to_vec(),
        a: vec![1.0 / 200.0; 200],
        b: vec![1.0 / 100.0; 100],
        d: 2,
    };
    let cfg = Config::<f64>::default();
    let never = Pool::failing(0);
    let (res, ..) = solve(&small, &cfg, Some(&never));
    assert!(res.is_ok());
    assert_eq!(never.calls(), 0);
}

/// A failing pool or one that returns with a task not run: `CallbackFailed`, at the
/// first pass and in the middle of a solve, with f and g as they were.
#[test]
fn failing_or_early_pool_is_refused() {
    let c = case(2);
    let cfg = Config::<f64>::default();
    for call in [0, 1, 7] {
        let failing = Pool::failing(call);
        let early = Pool::early(call);
        for (res, f, g) in [
            solve(&c, &cfg, Some(&failing)),
            solve(&c, &cfg, Some(&early)),
        ] {
            assert_eq!(res, Err(Error::CallbackFailed), "call {call}");
            assert!(f.iter().chain(&g).all(|&v| v == 7.0));
        }
    }
}

/// Small enough for Miri (scripts/test.sh runs it there, which checks the pool's
/// shared row and slot arrays for data races and aliasing): 257 points against 3, then
/// 3 against 257, so that each pass in turn is cut into two tasks, on two threads,
/// against the serial bits.
#[test]
fn miri_two_threads_two_tasks() {
    let mut rng = Rng::new(5);
    for (n, m) in [(257, 3), (3, 257)] {
        let c = Case {
            x: rng.normals(n, 0.0, 1.0),
            y: rng.normals(m, 0.3, 1.0),
            a: vec![1.0 / n as f64; n],
            b: vec![1.0 / m as f64; m],
            d: 1,
        };
        let cfg = Config {
            max_iterations: 1,
            ..Config::<f64>::default()
        };
        let serial = solve(&c, &cfg, None::<&Pool>);
        let pooled = solve(&c, &cfg, Some(&Pool::Threads(2)));
        assert_eq!(pooled.0, serial.0);
        assert!(pooled.0.is_ok());
        assert_eq!(
            (bits(&pooled.1), bits(&pooled.2)),
            (bits(&serial.1), bits(&serial.2))
        );
    }
}

/// OT resampling (`pf::ot_resample_on`, `pf::ot_resample_warm_on`) on a pool.
mod ot_resampling {
    use super::*;
    use otcore::pf::{self, OtConfig, OtSchedule};

    /// N = 1100 particles (5 tasks) in dimension `d`, weights spread over a few nats
    /// with one −∞.
    fn cloud(d: usize) -> (Vec<f64>, Vec<f64>) {
        let n = 1100;
        let mut rng = Rng::new(23);
        let x = rng.normals(n * d, 1.0, 2.0);
        let mut logw = rng.normals(n, 0.0, 1.5);
        logw[400] = f64::NEG_INFINITY;
        (x, logw)
    }

    type Out<T> = (Result<pf::OtReport<T>, Error>, Vec<T>, Vec<T>);

    /// Cold, then warm from the cold call's state (x_out, then the state), with `pool`
    /// or without; outputs start at 7 so that a write is seen.
    fn resample<T: Real, P: ParallelFor>(
        x: &[f64],
        logw: &[f64],
        d: usize,
        cfg: &OtConfig<T>,
        pool: Option<&P>,
        warm_from: Option<&[T]>,
    ) -> Out<T> {
        let (x, logw) = (cast::<T>(x), cast::<T>(logw));
        let n = logw.len();
        let mut ws = vec![T::ZERO; pf::ot_workspace_len(n, d)];
        let mut out = vec![T::from_f64(7.0); n * d];
        let mut state = match warm_from {
            Some(s) => s.to_vec(),
            None => vec![T::ZERO; pf::ot_warm_len(n, d)],
        };
        let res = match pool {
            Some(p) => pf::ot_resample_warm_on(p, &x, &logw, d, cfg, &mut out, &mut ws, &mut state),
            None => pf::ot_resample_warm(&x, &logw, d, cfg, &mut out, &mut ws, &mut state),
        };
        (res, out, state)
    }

    fn same_bits<T: Real>() {
        for (d, schedule) in [
            (2, OtSchedule::Marginal),
            (3, OtSchedule::Filterflow),
            (7, OtSchedule::Marginal),
        ] {
            let (x, logw) = cloud(d);
            let cfg = OtConfig {
                schedule,
                ..OtConfig::new(T::from_f64(0.2))
            };
            let (r0, out0, state0) = resample(&x, &logw, d, &cfg, None::<&Pool>, None);
            let r0 = r0.expect("the serial resampling succeeds");
            assert!(r0.passes > 2);
            // The plain call gives the bits of the warm one from an empty state.
            let plain = {
                let (xt, lt) = (cast::<T>(&x), cast::<T>(&logw));
                let mut ws = vec![T::ZERO; pf::ot_workspace_len(lt.len(), d)];
                let mut out = vec![T::ZERO; xt.len()];
                let r = pf::ot_resample_on(&Pool::Threads(3), &xt, &lt, d, &cfg, &mut out, &mut ws);
                assert_eq!(
                    r,
                    pf::ot_resample(&xt, &lt, d, &cfg, &mut vec![T::ZERO; xt.len()], &mut ws)
                );
                (r, out)
            };
            assert_eq!((plain.0, bits(&plain.1)), (Ok(r0), bits(&out0)));
            let (w0, wout0, wstate0) = resample(&x, &logw, d, &cfg, None::<&Pool>, Some(&state0));
            for workers in [1, 2, 4] {
                let pool = Pool::Threads(workers);
                let (r, out, state) = resample(&x, &logw, d, &cfg, Some(&pool), None);
                assert_eq!(r, Ok(r0), "d = {d}, {workers} workers");
                assert_eq!((bits(&out), bits(&state)), (bits(&out0), bits(&state0)));
                let (w, wout, wstate) = resample(&x, &logw, d, &cfg, Some(&pool), Some(&state0));
                assert_eq!(w, w0);
                assert_eq!((bits(&wout), bits(&wstate)), (bits(&wout0), bits(&wstate0)));
            }
            for (r, out, state) in [
                resample(&x, &logw, d, &cfg, Some(&Pool::Reversed), None),
                resample(&x, &logw, d, &cfg, Some(&Pool::Twice), None),
            ] {
                assert_eq!(r, Ok(r0));
                assert_eq!((bits(&out), bits(&state)), (bits(&out0), bits(&state0)));
            }
        }
    }

    #[test]
    fn same_bits_whatever_the_pool_f64() {
        same_bits::<f64>();
    }

    #[test]
    fn same_bits_whatever_the_pool_f32() {
        same_bits::<f32>();
    }

    /// A failing or early pool, at the first pass, in the loop and at the transport
    /// (the last call): `CallbackFailed`, x_out and the state as they were.
    #[test]
    fn failing_or_early_pool_is_refused() {
        let d = 2;
        let (x, logw) = cloud(d);
        let cfg = OtConfig::new(0.2);
        let (.., state0) = resample(&x, &logw, d, &cfg, None::<&Pool>, None);
        for warm in [None, Some(&state0[..])] {
            let counter = Pool::failing(usize::MAX);
            let (ok, ..) = resample(&x, &logw, d, &cfg, Some(&counter), warm);
            assert!(ok.is_ok());
            let calls = counter.calls();
            assert!(calls >= 3);
            for call in [0, 1, calls - 1] {
                let failing = Pool::failing(call);
                let early = Pool::early(call);
                for (r, out, state) in [
                    resample(&x, &logw, d, &cfg, Some(&failing), warm),
                    resample(&x, &logw, d, &cfg, Some(&early), warm),
                ] {
                    assert_eq!(r, Err(Error::CallbackFailed), "call {call}");
                    assert!(out.iter().all(|&v| v == 7.0));
                    assert_eq!(bits(&state), bits(warm.unwrap_or(&vec![0.0; state.len()])));
                }
            }
        }
    }
}

/// Plan operations (`ot::Plan::on`) on a pool: the bits of the plain calls, and a
/// failing or early pool refused with the outputs untouched.
mod plan_operations {
    use super::*;
    use otcore::ot::{Plan, PlanOn};

    /// Every split operation of `p` (apply, its transpose, the barycentric map, the
    /// row gradient and c-transform, both argmaxes, the transport cost), outputs
    /// starting at 7 (indices at 7).
    fn all_ops<P: ParallelFor>(
        p: &PlanOn<'_, '_, f64, P>,
        n: usize,
        m: usize,
        d: usize,
    ) -> Vec<(Result<f64, Error>, Vec<f64>)> {
        let mut ws = vec![0.0; ot::workspace_len(n, m, d) + n.max(m)];
        let v: Vec<f64> = (0..m).map(|j| (j as f64 * 0.37).sin()).collect();
        let u: Vec<f64> = (0..n).map(|i| (i as f64 * 0.11).cos()).collect();
        let unit = |r: Result<(), Error>| r.map(|()| 0.0);
        let mut out = Vec::new();
        let mut o = vec![7.0; n];
        out.push((unit(p.apply(&v, &mut o, &mut ws)), o));
        let mut o = vec![7.0; m];
        out.push((unit(p.apply_transpose(&u, &mut o, &mut ws)), o));
        let mut o = vec![7.0; n * d];
        out.push((unit(p.barycentric(&mut o, &mut ws)), o));
        let (mut gx, mut ct) = (vec![7.0; n * d], vec![7.0; n]);
        let r = unit(p.row_gradient(&mut gx, &mut ct, &mut ws));
        gx.extend(ct);
        out.push((r, gx));
        for (rows, len) in [(true, n), (false, m)] {
            let (mut at, mut conf) = (vec![7usize; len], vec![7.0; len]);
            let r = if rows {
                p.row_argmax(&mut at, &mut conf, &mut ws)
            } else {
                p.col_argmax(&mut at, &mut conf, &mut ws)
            };
            conf.extend(at.iter().map(|&a| a as f64));
            out.push((unit(r), conf));
        }
        out.push((p.transport_cost(&mut ws), Vec::new()));
        out
    }

    fn solved(c: &Case) -> (Vec<f64>, Vec<f64>, f64) {
        let cfg = Config::<f64>::default();
        let (res, f, g) = solve(c, &cfg, None::<&Pool>);
        (f, g, res.expect("the solve succeeds").epsilon)
    }

    #[test]
    fn same_bits_whatever_the_pool() {
        let c = case(2);
        let (f, g, eps) = solved(&c);
        let problem = Problem::point_clouds(&c.x, &c.y, c.d, 1.0, &c.a, &c.b);
        let plan = Plan::new(problem, eps, &f, &g);
        let (n, m) = (c.a.len(), c.b.len());
        let serial = all_ops(&plan.on(&otcore::parallel::Serial), n, m, c.d);
        assert!(serial.iter().all(|(r, _)| r.is_ok()));
        // The plain calls are the pool-less ones.
        let mut ws = vec![0.0; ot::workspace_len(n, m, c.d)];
        assert_eq!(serial[6].0, plan.transport_cost(&mut ws));
        let mut o = vec![0.0; n];
        plan.apply(&vec![1.0; m], &mut o, &mut ws).unwrap();
        let mut o2 = vec![0.0; n];
        plan.on(&Pool::Threads(3))
            .apply(&vec![1.0; m], &mut o2, &mut ws)
            .unwrap();
        assert_eq!(bits(&o), bits(&o2));
        let same = |got: Vec<(Result<f64, Error>, Vec<f64>)>| {
            for (k, ((r, v), (r0, v0))) in got.iter().zip(&serial).enumerate() {
                assert_eq!(r.map(f64::to_bits), r0.map(f64::to_bits), "op {k}");
                assert_eq!(bits(v), bits(v0), "op {k}");
            }
        };
        for workers in [1, 2, 4] {
            same(all_ops(&plan.on(&Pool::Threads(workers)), n, m, c.d));
        }
        same(all_ops(&plan.on(&Pool::Reversed), n, m, c.d));
        same(all_ops(&plan.on(&Pool::Twice), n, m, c.d));
    }

    /// Each operation calls the pool once: failing (or returning early) on call k
    /// fails operation k alone, with its outputs untouched.
    #[test]
    fn failing_or_early_pool_is_refused() {
        let c = case(2);
        let (f, g, eps) = solved(&c);
        let problem = Problem::point_clouds(&c.x, &c.y, c.d, 1.0, &c.a, &c.b);
        let plan = Plan::new(problem, eps, &f, &g);
        let (n, m) = (c.a.len(), c.b.len());
        for k in 0..7 {
            for got in [
                all_ops(&plan.on(&Pool::failing(k)), n, m, c.d),
                all_ops(&plan.on(&Pool::early(k)), n, m, c.d),
            ] {
                assert_eq!(got.len(), 7);
                for (j, (r, v)) in got.iter().enumerate() {
                    if j == k {
                        assert_eq!(*r, Err(Error::CallbackFailed), "op {k}");
                        assert!(v.iter().all(|&x| x == 7.0), "op {k}");
                    } else {
                        assert!(r.is_ok(), "op {j} with op {k} failing");
                    }
                }
            }
        }
    }
}
