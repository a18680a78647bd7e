//! A caller's thread pool for the kernel passes.
//!
//! The library starts no threads. A caller with a pool (OpenMP, pthreads, TBB, a ROS
//! executor) implements [`ParallelFor`] and hands it to [`ot::solve_on`]; the
//! Sinkhorn passes then cut their target rows into tasks. The cut depends only on the
//! row count ([`task_rows`]), never on the pool; each task reduces its own rows, and the
//! partial results are combined in task order. So the bits are the same with no pool,
//! with one worker or many, whatever order the tasks run in.
//!
//! [`ot::solve_on`]: crate::ot::solve_on

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

/// Runs `body(first_row, rows_out)` over the rows of `out` cut by [`task_rows`], on
/// `pool`, and folds the tasks' results in task order with `merge`. The first error in
/// task order wins. On Cortex-M (no threads) one task on the calling thread.
///
/// # Errors
/// What `body` returns; [`Error::CallbackFailed`] if the pool fails or returns with a
/// task not run.
#[inline(always)]
pub(crate) fn rows<P, T, R, B, M>(pool: &P, out: &mut [T], body: B, merge: M) -> Result<R, Error>
where
    P: ParallelFor,
    T: Send,
    R: Send,
    B: Fn(usize, &mut [T]) -> Result<R, Error> + Sync,
    M: FnMut(&mut R, R),
{
    #[cfg(target_arch = "arm")]
    {
        let _ = (pool, merge);
        body(0, out)
    }
    #[cfg(not(target_arch = "arm"))]
    {
        let n = out.len();
        if n <= MIN_TASK_ROWS {
            return body(0, out);
        }
        split(pool, out, &body, merge)
    }
}

/// [`rows`] with more than one task: claims, slots and the order-fixed fold.
#[cfg(not(target_arch = "arm"))]
#[inline(never)]
fn split<P, T, R, B, M>(pool: &P, out: &mut [T], body: &B, mut merge: M) -> Result<R, Error>
where
    P: ParallelFor,
    T: Send,
    R: Send,
    B: Fn(usize, &mut [T]) -> Result<R, Error> + Sync,
    M: FnMut(&mut R, R),
{
    const PENDING: u8 = 0;
    const RUNNING: u8 = 1;
    const DONE: u8 = 2;
    let n = out.len();
    let per = task_rows(n);
    let tasks = n.div_ceil(per);
    let state: [AtomicU8; MAX_TASKS] = core::array::from_fn(|_| AtomicU8::new(PENDING));
    let slots = Slots(core::array::from_fn(|_| UnsafeCell::new(None)));
    let rows = Rows(out.as_mut_ptr());
    let task = |i: usize| {
        // An index out of range, or a second call for a claimed task, does nothing: a
        // pool that breaks its contract cannot make two calls write the same rows.
        let Some(claim) = state.get(i).filter(|_| i < tasks) else {
            return;
        };
        if claim
            .compare_exchange(PENDING, RUNNING, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        let lo = i * per;
        let len = per.min(n - lo);
        // SAFETY: rows lo..lo + len of `out` (in bounds: i < tasks = ⌈n/per⌉) belong to
        // task i alone, and the claim above lets one call of task i through; `out` is
        // borrowed mutably for the whole of `split`, which returns only after the pool
        // has (by its contract) returned from every call.
        #[allow(unsafe_code)]
        let chunk = unsafe { core::slice::from_raw_parts_mut(rows.at(lo), len) };
        let r = body(lo, chunk);
        // SAFETY: slot i is written by the one claimed call of task i, and read only
        // after its DONE is seen with Acquire ordering.
        #[allow(unsafe_code)]
        unsafe {
            *slots.slot(i) = Some(r);
        }
        claim.store(DONE, Ordering::Release);
    };
    pool.run(tasks, &task).map_err(|_| Error::CallbackFailed)?;
    let mut acc: Option<R> = None;
    for (claim, slot) in state.iter().zip(slots.0).take(tasks) {
        if claim.load(Ordering::Acquire) != DONE {
            return Err(Error::CallbackFailed);
        }
        let r = slot.into_inner().ok_or(Error::CallbackFailed)??;
        match acc.as_mut() {
            None => acc = Some(r),
            Some(a) => merge(a, r),
        }
    }
    acc.ok_or(Error::CallbackFailed)
}

/// The row array the tasks write, each its own range.
#[cfg(not(target_arch = "arm"))]
struct Rows<T>(*mut T);

#[cfg(not(target_arch = "arm"))]
impl<T> Rows<T> {
    /// Row `i` (a method, so that closures capture the whole `Sync` wrapper).
    fn at(&self, i: usize) -> *mut T {
        self.0.wrapping_add(i)
    }
}

// SAFETY: tasks write disjoint ranges only (see `split`); T: Send lets another thread
// own those elements while it writes them.
#[cfg(not(target_arch = "arm"))]
#[allow(unsafe_code)]
unsafe impl<T: Send> Sync for Rows<T> {}

/// One result slot per task.
#[cfg(not(target_arch = "arm"))]
struct Slots<R>([UnsafeCell<Option<Result<R, Error>>>; MAX_TASKS]);

// SAFETY: slot i is written only by the one claimed call of task i (see `split`).
#[cfg(not(target_arch = "arm"))]
#[allow(unsafe_code)]
unsafe impl<R: Send> Sync for Slots<R> {}

#[cfg(not(target_arch = "arm"))]
impl<R> Slots<R> {
    /// Slot `i` (a method, so that closures capture the whole `Sync` wrapper).
    fn slot(&self, i: usize) -> *mut Option<Result<R, Error>> {
        self.0[i].get()
    }
}
