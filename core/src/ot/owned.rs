//! A const-generic owner for callers who know their sizes at compile time
//! (heapless-style): potentials and workspace live inside the value, which can be a
//! `static` on a microcontroller. It runs the same slice-taking implementation.

use crate::error::Error;
use crate::real::Real;

use super::config::{Config, Init};
use super::plan::Plan;
use super::problem::Problem;
use super::sinkhorn::{solve, Solution};
use super::workspace::workspace_len;

/// Sinkhorn between N points and M points in dimension D, with `W` elements of
/// workspace; `W` must be at least [`workspace_len`]`(N, M, D)`, which is checked at
/// compile time:
///
/// ```
/// use otcore::ot::{workspace_len, Sinkhorn};
/// const W: usize = workspace_len(64, 64, 2);
/// let solver = Sinkhorn::<f32, 64, 64, 2, W>::new();
/// # let _ = solver;
/// ```
///
/// The potentials persist between calls, so `solve(.., Init::Resume)` continues a
/// previous solve and `Init::Potentials` warm-starts a new problem (next frame) from
/// the last answer.
#[derive(Clone, Debug)]
pub struct Sinkhorn<T, const N: usize, const M: usize, const D: usize, const W: usize> {
    f: [T; N],
    g: [T; M],
    ws: [T; W],
}

impl<T: Real, const N: usize, const M: usize, const D: usize, const W: usize> Default
    for Sinkhorn<T, N, M, D, W>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Real, const N: usize, const M: usize, const D: usize, const W: usize>
    Sinkhorn<T, N, M, D, W>
{
    const WORKSPACE_IS_LARGE_ENOUGH: () = assert!(
        W >= workspace_len(N, M, D),
        "W must be at least otcore::ot::workspace_len(N, M, D)"
    );

    /// Zero potentials and workspace.
    #[must_use]
    pub const fn new() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::WORKSPACE_IS_LARGE_ENOUGH;
        Self {
            f: [T::ZERO; N],
            g: [T::ZERO; M],
            ws: [T::ZERO; W],
        }
    }

    /// The problem over these arrays (cost `scale·‖x − y‖²`).
    #[must_use]
    pub fn problem<'a>(
        x: &'a [[T; D]; N],
        y: &'a [[T; D]; M],
        a: &'a [T; N],
        b: &'a [T; M],
        scale: T,
    ) -> Problem<'a, T> {
        Problem::point_clouds(x.as_flattened(), y.as_flattened(), D, scale, a, b)
    }

    /// Runs [`solve`] on the stored potentials.
    ///
    /// # Errors
    /// Those of [`solve`]; on error the stored potentials are unchanged.
    pub fn solve(
        &mut self,
        problem: &Problem<'_, T>,
        config: &Config<T>,
        init: Init,
    ) -> Result<Solution<T>, Error> {
        solve(
            problem,
            config,
            init,
            &mut self.f,
            &mut self.g,
            &mut self.ws,
        )
    }

    /// The potentials (f, g) in cost units.
    #[must_use]
    pub fn potentials(&self) -> (&[T; N], &[T; M]) {
        (&self.f, &self.g)
    }

    /// The plan of the stored potentials at ε (e.g. [`Solution::epsilon`]), with the
    /// workspace its operations need.
    pub fn plan<'a>(
        &'a mut self,
        problem: Problem<'a, T>,
        epsilon: T,
    ) -> (Plan<'a, T>, &'a mut [T]) {
        (Plan::new(problem, epsilon, &self.f, &self.g), &mut self.ws)
    }
}
