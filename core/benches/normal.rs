//! Standard normal draws, ns per draw: the shipped sampler (`otcore::rng`, branch-free
//! Box–Muller, what `otc_rng_normal_f32/_f64` and `fill_normal` run) against the
//! Marsaglia polar method it replaced (kept here as the baseline: a rejection loop on
//! two 53-bit uniforms, libm `ln` and `sqrt`, one normal per accepted pair), and the
//! SDE samplers' counter-based noise.
//!
//! Plain timer, alternating rounds in one process (the machine's noise hits every
//! variant alike); each line is the median over rounds of the best of `REPS` fills of
//! `LEN` draws:
//!
//! ```text
//! taskset -c 1 cargo bench -p otcore --bench normal
//! ```

use std::hint::black_box;
use std::time::Instant;

use otcore::pf::rng::{RandomSource, SplitMix64};
use otcore::sde::noise;
use otcore::Real;

const LEN: usize = 4096;
const REPS: usize = 20;
const ROUNDS: usize = 15;

/// The polar method as shipped before (the baseline).
fn polar<T: Real>(r: &mut SplitMix64, out: &mut [T]) {
    let two = T::ONE + T::ONE;
    for v in out {
        *v = loop {
            let a = two * r.uniform::<T>() - T::ONE;
            let b = two * r.uniform::<T>() - T::ONE;
            let s = a * a + b * b;
            if s > T::ZERO && s < T::ONE {
                break a * (-two * s.ln() / s).sqrt();
            }
        };
    }
}

type Variant = (&'static str, Box<dyn FnMut()>);

fn variants() -> Vec<Variant> {
    fn buf<T: Real>() -> Vec<T> {
        vec![T::ZERO; LEN]
    }
    let (mut r1, mut r2, mut r3, mut r4) = (
        SplitMix64::new(1),
        SplitMix64::new(2),
        SplitMix64::new(3),
        SplitMix64::new(4),
    );
    let (mut o1, mut o2, mut o3, mut o4) = (buf::<f32>(), buf::<f32>(), buf::<f64>(), buf::<f64>());
    let (mut o5, mut o6, mut sample) = (buf::<f32>(), buf::<f64>(), 0u64);
    vec![
        (
            "polar (old) f32",
            Box::new(move || polar(&mut r1, black_box(&mut o1))),
        ),
        (
            "box-muller  f32",
            Box::new(move || r2.fill_normal(black_box(&mut o2))),
        ),
        (
            "polar (old) f64",
            Box::new(move || polar(&mut r3, black_box(&mut o3))),
        ),
        (
            "box-muller  f64",
            Box::new(move || r4.fill_normal(black_box(&mut o4))),
        ),
        (
            "sde noise   f32",
            Box::new(move || {
                sample += 1;
                noise::normals(7, sample, 0, black_box(&mut o5));
            }),
        ),
        (
            "sde noise   f64",
            Box::new(move || {
                sample += 1;
                noise::normals(7, sample, 0, black_box(&mut o6));
            }),
        ),
    ]
}

fn main() {
    let mut vs = variants();
    let mut times = vec![Vec::new(); vs.len()];
    for _ in 0..ROUNDS {
        for (t, (_, f)) in times.iter_mut().zip(vs.iter_mut()) {
            let mut best = f64::INFINITY;
            for _ in 0..REPS {
                let start = Instant::now();
                f();
                best = best.min(start.elapsed().as_secs_f64());
            }
            t.push(best * 1e9 / LEN as f64);
        }
    }
    println!("normal draws, {LEN} per fill, median over {ROUNDS} alternating rounds of the best of {REPS}");
    for (t, (name, _)) in times.iter_mut().zip(&vs) {
        t.sort_by(f64::total_cmp);
        println!(
            "{name}: {:6.2} ns/draw (range {:.2}–{:.2})",
            t[t.len() / 2],
            t[0],
            t[t.len() - 1]
        );
    }
}
