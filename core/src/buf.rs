//! Buffer helpers shared by every pillar (`ot`, `pf`, `sde`): cutting the caller's
//! workspace into parts and viewing row-major buffers as rows.
//!
//! They exist so that no pillar borrows plumbing from another: `pf` and `sde` both use
//! these, and neither imports the other. Each is written without a panic path (no
//! `copy_from_slice` length check, no `chunks_exact(0)`), because the firmware build is
//! proven panic-free at link time (`tests/embedded/probe`).

use crate::error::Error;

/// Splits the first `len` values off `rest` (a workspace being cut into parts).
///
/// # Errors
/// `WorkspaceTooSmall` if `rest` is shorter than `len` (`rest` is then left empty).
pub(crate) fn take<'w, T>(rest: &mut &'w mut [T], len: usize) -> Result<&'w mut [T], Error> {
    let all = core::mem::take(rest);
    let (head, tail) = all
        .split_at_mut_checked(len)
        .ok_or(Error::WorkspaceTooSmall)?;
    *rest = tail;
    Ok(head)
}

/// `v` as rows of `d` values. Callers have checked d ≥ 1; `max(1)` only lets the
/// compiler drop `chunks_exact`'s d = 0 panic branch.
pub(crate) fn rows<T>(v: &[T], d: usize) -> core::slice::ChunksExact<'_, T> {
    v.chunks_exact(d.max(1))
}

/// Mutable [`rows`].
pub(crate) fn rows_mut<T>(v: &mut [T], d: usize) -> core::slice::ChunksExactMut<'_, T> {
    v.chunks_exact_mut(d.max(1))
}

/// The first `n` elements of `v` (all of a shorter one).
pub(crate) fn head_mut<T>(v: &mut [T], n: usize) -> &mut [T] {
    let n = n.min(v.len());
    v.get_mut(..n).unwrap_or_default()
}

/// Copies `src` into `dst`, of equal lengths by construction. Unlike
/// `copy_from_slice` this has no length-mismatch panic branch.
pub(crate) fn copy<T: Copy>(dst: &mut [T], src: &[T]) {
    dst.iter_mut().zip(src).for_each(|(o, s)| *o = *s);
}
