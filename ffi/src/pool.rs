//! The C parallel-for (`otc_parallel_for`) as a core [`ParallelFor`].

use core::ffi::c_void;

use otcore::parallel::ParallelFor;
use otcore::Error;

use crate::args::{read_sized, Checked};
use crate::status::otc_status;
use crate::types::otc_parallel_for;

/// A caller's pool, or none (the tasks run in order on the calling thread).
pub(crate) struct Pool(Option<otc_parallel_for>);

// SAFETY: the header makes the pool's `run` callable from the thread of the call for
// its duration (the library never keeps it, nor calls it from another thread).
#[allow(unsafe_code)]
unsafe impl Sync for Pool {}

impl Pool {
    /// Reads the config's `parallel` field: NULL is no pool.
    ///
    /// # Safety
    /// `p` must be NULL or point to a readable `otc_parallel_for` whose `run` is callable
    /// as the header describes.
    ///
    /// # Errors
    /// `StructSize`, `Misaligned`, `NullPointer` (`run` NULL).
    pub(crate) unsafe fn read(p: *const otc_parallel_for) -> Checked<Self> {
        if p.is_null() {
            return Ok(Self(None));
        }
        // SAFETY: the caller's contract.
        let pool = unsafe { read_sized(p)? };
        if pool.run.is_none() {
            return Err(otc_status::NullPointer);
        }
        Ok(Self(Some(pool)))
    }
}

impl ParallelFor for Pool {
    fn run<F: Fn(usize) + Sync>(&self, tasks: usize, task: &F) -> Result<(), Error> {
        let Some(pool) = self.0 else {
            (0..tasks).for_each(task);
            return Ok(());
        };
        let Some(run) = pool.run else {
            return Err(Error::CallbackFailed);
        };
        // SAFETY: `run` is callable by `read`'s contract; the trampoline's context is
        // `task`, which outlives the call (the pool returns after every task has).
        let status = unsafe {
            run(
                pool.pool,
                tasks,
                Some(trampoline::<F>),
                core::ptr::from_ref(task).cast_mut().cast::<c_void>(),
            )
        };
        if status == 0 {
            Ok(())
        } else {
            Err(Error::CallbackFailed)
        }
    }
}

/// Calls the task behind `ctx` (an `&F` made by [`Pool::run`]) on one index.
///
/// # Safety
/// `ctx` must be the context [`Pool::run`] passed with this function, during that call.
unsafe extern "C" fn trampoline<F: Fn(usize) + Sync>(ctx: *mut c_void, index: usize) {
    // SAFETY: the caller's contract: `ctx` is a live `&F`, and `F: Sync` lets any
    // thread call it.
    let task = unsafe { &*ctx.cast_const().cast::<F>() };
    task(index);
}
