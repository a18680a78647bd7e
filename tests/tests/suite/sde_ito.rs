//! Generic Itô steps on geometric Brownian motion `dX = μX dt + σX dW`, whose exact
//! solution on the same Brownian path is known: Itô `X_T = X₀e^{(μ−σ²/2)T + σW_T}`,
//! Stratonovich `X_T = X₀e^{μT + σW_T}`. Strong error `E|X_N − X_T|` over 4000 paths and
//! its observed order under step halving.

use otcore::sde::ito::{ito_step, ito_workspace_len, ItoMethod, Sde};
use otcore::sde::noise;
use otcore::Error;

const MU: f64 = 0.5;
const SIGMA: f64 = 0.8;

struct Gbm;
impl Sde<f64> for Gbm {
    fn eval(
        &mut self,
        x: &[f64],
        _t: f64,
        drift: &mut [f64],
        diffusion: &mut [f64],
    ) -> Result<(), Error> {
        for ((d, g), v) in drift.iter_mut().zip(diffusion.iter_mut()).zip(x) {
            *d = MU * v;
            *g = SIGMA * v;
        }
        Ok(())
    }
}

fn strong_error(method: ItoMethod, steps: usize, stratonovich: bool) -> f64 {
    let n = 4000;
    let t_end = 1.0;
    let h = t_end / steps as f64;
    let mut x = vec![1.0f64; n];
    let mut w = vec![0.0f64; n];
    let mut ws = vec![0.0; ito_workspace_len(n, 1)];
    let mut z = [0.0f64];
    for k in 0..steps {
        ito_step(
            method,
            &mut Gbm,
            &mut x,
            1,
            k as f64 * h,
            h,
            77,
            0,
            k as u64,
            &mut ws,
        )
        .unwrap();
        // The same increments, from the same keyed streams.
        for (i, wi) in w.iter_mut().enumerate() {
            noise::normals(77, i as u64, k as u64, &mut z);
            *wi += h.sqrt() * z[0];
        }
    }
    let drift = if stratonovich {
        MU
    } else {
        MU - 0.5 * SIGMA * SIGMA
    };
    x.iter()
        .zip(&w)
        .map(|(xv, wv)| (xv - (drift * t_end + SIGMA * wv).exp()).abs())
        .sum::<f64>()
        / n as f64
}

fn order(method: ItoMethod, strat: bool) -> (Vec<f64>, f64) {
    let e: Vec<f64> = [32, 64, 128, 256]
        .iter()
        .map(|&s| strong_error(method, s, strat))
        .collect();
    // Least-squares slope of log2 e against log2 h over the 4 resolutions.
    let xs: [f64; 4] = [0.0, -1.0, -2.0, -3.0];
    let ys: Vec<f64> = e.iter().map(|v| v.log2()).collect();
    let (mx, my) = (xs.iter().sum::<f64>() / 4.0, ys.iter().sum::<f64>() / 4.0);
    let slope = xs
        .iter()
        .zip(&ys)
        .map(|(a, b)| (a - mx) * (b - my))
        .sum::<f64>()
        / xs.iter().map(|a| (a - mx) * (a - mx)).sum::<f64>();
    (e, slope)
}

#[test]
fn strong_orders_on_geometric_brownian_motion() {
    // Known strong orders for multiplicative scalar noise: EM ½, Milstein 1, Heun 1
    // (Stratonovich). Observed slopes from 4000 paths carry ~±0.1 of Monte Carlo and
    // pre-asymptotic wobble; the windows (±0.2) still separate ½ from 1.
    for (method, strat, want) in [
        (ItoMethod::EulerMaruyama, false, 0.5),
        (ItoMethod::Milstein, false, 1.0),
        (ItoMethod::StochasticHeun, true, 1.0),
    ] {
        let (e, slope) = order(method, strat);
        println!("{method:?}: strong errors {e:?}, slope {slope:.3}");
        assert!((slope - want).abs() < 0.2, "{method:?}: {slope}");
    }
}

#[test]
fn ito_bad_inputs_change_nothing() {
    let mut ws = vec![0.0; ito_workspace_len(2, 1)];
    let x0 = [1.0, 2.0];
    let cases: [(f64, f64, usize, Error); 4] = [
        (0.0, 0.0, 12, Error::InvalidParameter),
        (0.0, -0.1, 12, Error::InvalidParameter),
        (f64::NAN, 0.1, 12, Error::NonFiniteInput),
        (0.0, 0.1, 11, Error::WorkspaceTooSmall),
    ];
    for (t, h, wl, err) in cases {
        let mut x = x0;
        assert_eq!(
            ito_step(
                ItoMethod::Milstein,
                &mut Gbm,
                &mut x,
                1,
                t,
                h,
                1,
                0,
                0,
                &mut ws[..wl]
            ),
            Err(err)
        );
        assert_eq!(x, x0);
    }
    // A NaN state, and d = 0.
    let em = |x: &mut [f64], d: usize, ws: &mut [f64]| {
        ito_step(
            ItoMethod::EulerMaruyama,
            &mut Gbm,
            x,
            d,
            0.0,
            0.1,
            1,
            0,
            0,
            ws,
        )
    };
    let mut x = [1.0, f64::NAN];
    assert_eq!(em(&mut x, 1, &mut ws), Err(Error::NonFiniteInput));
    let mut x = x0;
    assert_eq!(em(&mut x, 0, &mut ws), Err(Error::EmptyInput));
    assert_eq!(x, x0);
}
