//! A caller's thread pool for the kernel passes.
//!
//! The library starts no threads. A caller with a pool (OpenMP, pthreads, TBB, a ROS
//! executor) implements [`ParallelFor`] and hands it to [`ot::solve_on`],
//! [`pf::ot_resample_on`] or [`ot::Plan::on`]; their kernel passes then cut their
//! target rows into tasks. The cut depends only on the
//! row count ([`task_rows`]), never on the pool; each task reduces its own rows, and the
//! partial results are combined in task order. So the bits are the same with no pool,
//! with one worker or many, whatever order the tasks run in.
//!
//! [`ot::solve_on`]: crate::ot::solve_on
//! [`pf::ot_resample_on`]: crate::pf::ot_resample_on
//! [`ot::Plan::on`]: crate::ot::Plan::on

#[cfg(not(target_arch = "arm"))]
use core::cell::UnsafeCell;
#[cfg(not(target_arch = "arm"))]
use core::sync::atomic::{AtomicU8, Ordering};

use crate::error::Error;

/// A parallel-for: runs the tasks of one pass.
pub trait ParallelFor: Sync {
    /// Calls `task(i)` for every `i` in `0..tasks`, each once, in any order and on any
    /// threads, and returns after every call has returned.
    ///
    /// # Errors
    /// Whatever the pool reports; the solve then returns [`Error::CallbackFailed`]. A
    /// pool that returns `Ok` with a task not run is caught and reported the same way.
    fn run<F: Fn(usize) + Sync>(&self, tasks: usize, task: &F) -> Result<(), Error>;
}

/// No pool: the tasks run in order on the calling thread (what [`ot::solve`] uses).
///
/// [`ot::solve`]: crate::ot::solve
#[derive(Clone, Copy, Debug, Default)]
pub struct Serial;

impl ParallelFor for Serial {
    #[inline(always)]
    fn run<F: Fn(usize) + Sync>(&self, tasks: usize, task: &F) -> Result<(), Error> {
        (0..tasks).for_each(task);
        Ok(())
    }
}

/// Most tasks a pass is cut into.
pub const MAX_TASKS: usize = 64;

/// Fewest rows a task gets: below this, a task's work (rows × the other side's points)
/// no longer pays for a hand-over to another thread.
pub const MIN_TASK_ROWS: usize = 256;

/// Rows per task for a pass over `n` target rows: max([`MIN_TASK_ROWS`],
/// ⌈n / [`MAX_TASKS`]⌉). A pass over at most [`MIN_TASK_ROWS`] rows is one task and runs
/// on the calling thread without calling the pool.
#[must_use]
pub const fn task_rows(n: usize) -> usize {
    let per = n.div_ceil(MAX_TASKS);
    if per > MIN_TASK_ROWS {
        per
    } else {
        MIN_TASK_ROWS
    }
}

/// Whether a pass over `n` rows is cut into more than one task, hence calls the pool
/// (never on Cortex-M).
#[must_use]
pub const fn splits(n: usize) -> bool {
    !cfg!(target_arch = "arm") && n > MIN_TASK_ROWS
}

/// Per-row outputs of a pass that [`rows`] cuts into tasks: a slice (one element per
/// row), [`Wide`] rows of several elements, or a pair of them cut at the same rows.
pub(crate) trait RowsOut: Send + Sized {
    /// Number of rows.
    #[cfg_attr(target_arch = "arm", allow(dead_code))]
    fn rows(&self) -> usize;
    /// Rows `..k` and `k..` (`k` is clamped to the rows).
    #[cfg_attr(target_arch = "arm", allow(dead_code))]
    fn split_rows(self, k: usize) -> (Self, Self);
}

impl<T: Send> RowsOut for &mut [T] {
    #[inline(always)]
    fn rows(&self) -> usize {
        self.len()
    }
    fn split_rows(self, k: usize) -> (Self, Self) {
        let k = k.min(self.len());
        self.split_at_mut_checked(k).unwrap_or_default()
    }
}

/// Row-major rows of `width` elements (`width` ≥ 1; a width of 0 has no rows).
pub(crate) struct Wide<'a, T> {
    /// The rows, `width` elements each.
    pub data: &'a mut [T],
    /// Elements per row.
    pub width: usize,
}

impl<T: Send> RowsOut for Wide<'_, T> {
    #[inline(always)]
    fn rows(&self) -> usize {
        self.data.len().checked_div(self.width).unwrap_or(0)
    }
    fn split_rows(self, k: usize) -> (Self, Self) {
        let width = self.width;
        let (head, tail) = self.data.split_rows(k.saturating_mul(width));
        (Self { data: head, width }, Self { data: tail, width })
    }
}

impl<A: RowsOut, B: RowsOut> RowsOut for (A, B) {
    #[inline(always)]
    fn rows(&self) -> usize {
        self.0.rows().min(self.1.rows())
    }
    fn split_rows(self, k: usize) -> (Self, Self) {
        let ((a0, a1), (b0, b1)) = (self.0.split_rows(k), self.1.split_rows(k));
        ((a0, b0), (a1, b1))
    }
}

/// Runs `body(first_row, rows_out)` over the rows of `out` cut by [`task_rows`], on
/// `pool`, and folds the tasks' results in task order with `merge`. The first error in
/// task order wins. On Cortex-M (no threads) one task on the calling thread.
///
/// # Errors
/// What `body` returns; [`Error::CallbackFailed`] if the pool fails or returns with a
/// task not run.
#[inline(always)]
pub(crate) fn rows<P, O, R, B, M>(pool: &P, out: O, body: B, merge: M) -> Result<R, Error>
where
    P: ParallelFor,
    O: RowsOut,
    R: Send,
    B: Fn(usize, O) -> Result<R, Error> + Sync,
    M: FnMut(&mut R, R),
{
    #[cfg(target_arch = "arm")]
    {
        let _ = (pool, merge);
        body(0, out)
    }
    #[cfg(not(target_arch = "arm"))]
    {
        if !splits(out.rows()) {
            return body(0, out);
        }
        split(pool, out, &body, merge)
    }
}

/// [`rows`] with more than one task: the rows cut in advance, one slot per task (its
/// rows, then its result), claims, and the order-fixed fold.
#[cfg(not(target_arch = "arm"))]
#[inline(never)]
fn split<P, O, R, B, M>(pool: &P, out: O, body: &B, mut merge: M) -> Result<R, Error>
where
    P: ParallelFor,
    O: RowsOut,
    R: Send,
    B: Fn(usize, O) -> Result<R, Error> + Sync,
    M: FnMut(&mut R, R),
{
    const PENDING: u8 = 0;
    const RUNNING: u8 = 1;
    const DONE: u8 = 2;
    let per = task_rows(out.rows());
    let tasks = out.rows().div_ceil(per);
    let state: [AtomicU8; MAX_TASKS] = core::array::from_fn(|_| AtomicU8::new(PENDING));
    let mut rest = Some(out);
    let slots = Slots(core::array::from_fn(|_| {
        UnsafeCell::new(rest.take().map_or(Slot::Empty, |r| {
            let (head, tail) = r.split_rows(per);
            rest = (tail.rows() > 0).then_some(tail);
            Slot::Rows(head)
        }))
    }));
    let task = |i: usize| {
        // An index out of range, or a second call for a claimed task, does nothing: a
        // pool that breaks its contract cannot make two calls write the same rows.
        let Some((claim, cell)) = state.get(i).zip(slots.slot(i)).filter(|_| i < tasks) else {
            return;
        };
        if claim
            .compare_exchange(PENDING, RUNNING, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        // SAFETY: slot i is touched by the one claimed call of task i alone (the claim
        // above), and read by `split` only after its DONE is seen with Acquire ordering.
        #[allow(unsafe_code)]
        let slot = unsafe { &mut *cell.get() };
        if let Slot::Rows(chunk) = core::mem::replace(slot, Slot::Empty) {
            *slot = Slot::Done(body(i * per, chunk));
        }
        claim.store(DONE, Ordering::Release);
    };
    pool.run(tasks, &task).map_err(|_| Error::CallbackFailed)?;
    let mut acc: Option<R> = None;
    for (claim, slot) in state.iter().zip(slots.0).take(tasks) {
        if claim.load(Ordering::Acquire) != DONE {
            return Err(Error::CallbackFailed);
        }
        let Slot::Done(r) = slot.into_inner() else {
            return Err(Error::CallbackFailed);
        };
        let r = r?;
        match acc.as_mut() {
            None => acc = Some(r),
            Some(a) => merge(a, r),
        }
    }
    acc.ok_or(Error::CallbackFailed)
}

/// A task's slot: its rows until it runs, then its result.
#[cfg(not(target_arch = "arm"))]
enum Slot<O, R> {
    Empty,
    Rows(O),
    Done(Result<R, Error>),
}

/// One slot per task.
#[cfg(not(target_arch = "arm"))]
struct Slots<O, R>([UnsafeCell<Slot<O, R>>; MAX_TASKS]);

// SAFETY: slot i is used only by the one claimed call of task i (see `split`); O and R
// are `Send`, so that call may run on another thread.
#[cfg(not(target_arch = "arm"))]
#[allow(unsafe_code)]
unsafe impl<O: Send, R: Send> Sync for Slots<O, R> {}

#[cfg(not(target_arch = "arm"))]
impl<O, R> Slots<O, R> {
    /// Slot `i` (a method, so that closures capture the whole `Sync` wrapper).
    fn slot(&self, i: usize) -> Option<&UnsafeCell<Slot<O, R>>> {
        self.0.get(i)
    }
}
