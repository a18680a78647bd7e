//! Point clouds in any layout (`Points`): column-major and padded-record views give
//! the same solve and plan operations as the row-major copy, bit for bit (the points
//! are copied into the same workspace values and each target is read in the same
//! order), and views that do not hold their points are refused.

use otcore::ot::{self, Config, Init, Plan, Problem, Solution};
use otcore::{Error, Points, Real};
use otcore_tests::{cast, Rng};

type Outputs<T> = (Solution<T>, Vec<T>, Vec<T>, Vec<T>, T);

fn run<T: Real>(problem: &Problem<'_, T>) -> Result<Outputs<T>, Error> {
    let (n, m, d) = (problem.n(), problem.m(), problem.dim());
    let mut ws = vec![T::ZERO; ot::workspace_len(n, m, d)];
    let (mut f, mut g) = (vec![T::ZERO; n], vec![T::ZERO; m]);
    let sol = ot::solve(
        problem,
        &Config::default(),
        Init::Zero,
        &mut f,
        &mut g,
        &mut ws,
    )?;
    let plan = Plan::new(*problem, sol.epsilon, &f, &g);
    let mut bary = vec![T::ZERO; n * d];
    plan.barycentric(&mut bary, &mut ws)?;
    let cost = plan.transport_cost(&mut ws)?;
    Ok((sol, f, g, bary, cost))
}

/// Column-major copy of row-major n×d points.
fn column_major<T: Copy>(x: &[T], d: usize) -> Vec<T> {
    let n = x.len() / d;
    (0..n * d).map(|e| x[(e % n) * d + e / n]).collect()
}

/// Row-major points padded to records of `stride` values with a huge filler.
fn padded<T: Real>(x: &[T], d: usize, stride: usize) -> Vec<T> {
    x.chunks(d)
        .flat_map(|p| {
            let mut r = p.to_vec();
            r.resize(stride, T::from_f64(1e30));
            r
        })
        .collect()
}

fn layouts<T: Real>() {
    let mut rng = Rng::new(16);
    for d in [1, 2, 3, 5] {
        let (n, m) = (41, 19);
        let x: Vec<T> = cast(&rng.normals(n * d, 0.0, 1.0));
        let y: Vec<T> = cast(&rng.normals(m * d, 0.5, 0.7));
        let (a, b): (Vec<T>, Vec<T>) = (cast(&rng.weights(n)), cast(&rng.weights(m)));
        let b_sum = b.iter().fold(T::ZERO, |s, &v| s + v);
        let a_sum = a.iter().fold(T::ZERO, |s, &v| s + v);
        let b: Vec<T> = b.iter().map(|&v| v * a_sum / b_sum).collect();
        let reference = run(&Problem::point_clouds(&x, &y, d, T::ONE, &a, &b)).expect("row-major");

        let (xc, yc) = (column_major(&x, d), column_major(&y, d));
        let cm = Problem::strided_clouds(
            Points::strided(&xc, 1, n),
            Points::strided(&yc, 1, m),
            d,
            T::ONE,
            &a,
            &b,
        );
        assert_eq!(run(&cm), Ok(reference.clone()), "column-major, d = {d}");

        let (xp, yp) = (padded(&x, d, d + 1), padded(&y, d, d + 3));
        let pad = Problem::strided_clouds(
            Points::strided(&xp, d + 1, 1),
            Points::strided(&yp, d + 3, 1),
            d,
            T::ONE,
            &a,
            &b,
        );
        assert_eq!(run(&pad), Ok(reference), "padded records, d = {d}");
    }
}

#[test]
fn layouts_match_row_major_f64() {
    layouts::<f64>();
}

#[test]
fn layouts_match_row_major_f32() {
    layouts::<f32>();
}

#[test]
fn views_that_do_not_hold_their_points_are_refused() {
    let x = [0.0f64; 12];
    let w = [0.25f64; 4];
    let solve = |xv: Points<'_, f64>| {
        let p = Problem::strided_clouds(xv, Points::row_major(&x[..8], 2), 2, 1.0, &w, &w);
        let (mut f, mut g) = ([7.0; 4], [7.0; 4]);
        let mut ws = vec![0.0; ot::workspace_len(4, 4, 2)];
        let r = ot::solve(&p, &Config::default(), Init::Zero, &mut f, &mut g, &mut ws);
        if r.is_err() {
            assert!(f.iter().chain(&g).all(|&v| v == 7.0), "outputs written");
        }
        r.map(|s| s.iterations)
    };
    // Four 2-D points: row-major 8 values, records of 3 (11 or 12 values), column-major.
    assert!(solve(Points::row_major(&x[..8], 2)).is_ok());
    assert!(solve(Points::strided(&x[..11], 3, 1)).is_ok());
    assert!(solve(Points::strided(&x, 3, 1)).is_ok());
    assert!(solve(Points::strided(&x[..8], 1, 4)).is_ok());
    // Too short, one value too many, coordinates sharing an element.
    for bad in [
        Points::row_major(&x[..7], 2),
        Points::row_major(&x[..9], 2),
        Points::strided(&x[..10], 3, 1),
        Points::strided(&x[..4], 1, 0),
        Points::strided(&x, usize::MAX, 1),
    ] {
        assert_eq!(solve(bad), Err(Error::LengthMismatch), "{bad:?}");
    }
}
