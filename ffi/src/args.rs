//! Turning C arguments into Rust values: NULL, alignment, length and overlap checks
//! on raw pointers first, slices only once everything is known to be valid.

use core::ffi::c_void;
use core::ptr;

use otcore::ot::{solve_workspace_len, workspace_len, Init, Problem};
use otcore::{Points, Real};

use crate::status::otc_status;
use crate::types::{otc_ot_problem, otc_points_layout, OTC_WORKSPACE_ALIGN};

/// Result of an argument check: a C status on failure.
pub(crate) type Checked<V> = Result<V, otc_status>;

/// A byte range `[start, end)` and whether the call writes it.
#[derive(Clone, Copy)]
pub(crate) struct Span {
    start: usize,
    end: usize,
    written: bool,
}

impl Span {
    /// No bytes: overlaps nothing (an optional array that was not given).
    pub(crate) const NONE: Self = Self {
        start: 0,
        end: 0,
        written: false,
    };
}

/// A checked C array: non-NULL, aligned for `T`, at most `isize::MAX` bytes.
#[derive(Clone, Copy)]
pub(crate) struct Array<T> {
    ptr: *mut T,
    len: usize,
    written: bool,
}

impl<T> Array<T> {
    fn new(ptr: *mut T, len: usize, written: bool) -> Checked<Self> {
        if ptr.is_null() {
            return Err(otc_status::NullPointer);
        }
        if !ptr.is_aligned() {
            return Err(otc_status::Misaligned);
        }
        match len.checked_mul(size_of::<T>()) {
            Some(bytes) if bytes <= isize::MAX as usize => Ok(Self { ptr, len, written }),
            _ => Err(otc_status::LengthMismatch),
        }
    }

    /// An array the call only reads.
    pub(crate) fn input(ptr: *const T, len: usize) -> Checked<Self> {
        Self::new(ptr.cast_mut(), len, false)
    }

    /// An array the call may write.
    pub(crate) fn output(ptr: *mut T, len: usize) -> Checked<Self> {
        Self::new(ptr, len, true)
    }

    /// The bytes it covers.
    pub(crate) fn span(&self) -> Span {
        let start = self.ptr as usize;
        Span {
            start,
            end: start + self.len * size_of::<T>(),
            written: self.written,
        }
    }

    /// The shared slice.
    ///
    /// # Safety
    /// `ptr` must be valid for reads of `len` elements for `'a`, and nothing may write
    /// them during `'a`.
    pub(crate) unsafe fn slice<'a>(self) -> &'a [T] {
        // SAFETY: non-NULL, aligned and at most isize::MAX bytes (checked in `new`);
        // validity and the absence of writers are the caller's contract.
        unsafe { core::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// Writes `value` to every element (used for one-element outputs).
    ///
    /// # Safety
    /// As [`Array::slice_mut`].
    pub(crate) unsafe fn fill(self, value: T)
    where
        T: Copy,
    {
        // SAFETY: the caller's contract.
        unsafe { self.slice_mut() }.fill(value);
    }

    /// The mutable slice.
    ///
    /// # Safety
    /// `ptr` must be valid for reads and writes of `len` elements for `'a`, and no
    /// other reference may access them during `'a` (see [`disjoint`]).
    pub(crate) unsafe fn slice_mut<'a>(self) -> &'a mut [T] {
        // SAFETY: as in `slice`; exclusivity is the caller's contract.
        unsafe { core::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

/// Checks that no written array overlaps any other array of the call.
///
/// # Errors
/// `InvalidParameter` if two spans overlap and at least one is written.
pub(crate) fn disjoint(spans: &[Span]) -> Checked<()> {
    for (i, s) in spans.iter().enumerate() {
        for t in spans.iter().skip(i + 1) {
            let overlap = s.start < t.end && t.start < s.end;
            if overlap && (s.written || t.written) {
                return Err(otc_status::InvalidParameter);
            }
        }
    }
    Ok(())
}

/// Reads a `#[repr(C)]` struct whose first field is `struct_size`, reading that field
/// first so that a smaller (older) struct is never over-read.
///
/// # Safety
/// `p` must be NULL or point to a readable struct of at least its stated size.
///
/// # Errors
/// `NullPointer`, `Misaligned`, or `StructSize` when the stated size is not
/// `size_of::<S>()`.
pub(crate) unsafe fn read_sized<S: Copy>(p: *const S) -> Checked<S> {
    // SAFETY: the caller's contract.
    unsafe { check_sized(p)? };
    // SAFETY: `p` is non-NULL, aligned and states our size, so a whole `S` is readable.
    Ok(unsafe { p.read() })
}

/// Checks a pointer to a struct whose first field is `struct_size` (a `usize`).
///
/// # Safety
/// As [`read_sized`].
///
/// # Errors
/// As [`read_sized`].
pub(crate) unsafe fn check_sized<S>(p: *const S) -> Checked<()> {
    if p.is_null() {
        return Err(otc_status::NullPointer);
    }
    if !p.is_aligned() {
        return Err(otc_status::Misaligned);
    }
    // SAFETY: non-NULL and aligned; every sized struct starts with a `size_t`, which
    // the caller's contract makes readable.
    let size = unsafe { p.cast::<usize>().read() };
    if size == size_of::<S>() {
        Ok(())
    } else {
        Err(otc_status::StructSize)
    }
}

/// A problem descriptor whose arrays have been checked.
pub(crate) struct ProblemArrays<T> {
    /// Point clouds (x, y, d, scale) or the dense cost matrix.
    cost: Cost<T>,
    a: Array<T>,
    b: Array<T>,
}

enum Cost<T> {
    Clouds {
        x: Array<T>,
        y: Array<T>,
        d: usize,
        scale: T,
        /// (point, coordinate) strides of x and y.
        strides: [(usize, usize); 2],
    },
    Matrix(Array<T>),
}

impl<T: Real> ProblemArrays<T> {
    /// Reads and checks a problem descriptor.
    ///
    /// # Safety
    /// `p` must be NULL or point to a readable `otc_ot_problem`.
    ///
    /// # Errors
    /// `NullPointer` (descriptor, a, b, or no cost given), `StructSize`,
    /// `InvalidParameter` (both clouds and a matrix given), `Misaligned`,
    /// `LengthMismatch` (a size product overflows).
    pub(crate) unsafe fn read(p: *const otc_ot_problem<T>) -> Checked<Self> {
        // SAFETY: the caller's contract.
        let p = unsafe { read_sized(p)? };
        let (n, m, d) = (p.n, p.m, p.d);
        let cloud = |ptr: *const T, count: usize, layout: otc_points_layout| {
            let (point, coord) = layout.strides(d);
            let extent = Points::<T>::extent(point, coord, count, d);
            Ok::<_, otc_status>((
                Array::input(ptr, extent.ok_or(otc_status::LengthMismatch)?)?,
                (point, coord),
            ))
        };
        let cost = match (p.x.is_null(), p.y.is_null(), p.c.is_null()) {
            (false, false, true) => {
                let (x, sx) = cloud(p.x, n, p.x_layout)?;
                let (y, sy) = cloud(p.y, m, p.y_layout)?;
                Cost::Clouds {
                    x,
                    y,
                    d,
                    scale: p.scale,
                    strides: [sx, sy],
                }
            }
            (true, true, false) => Cost::Matrix(Array::input(
                p.c,
                n.checked_mul(m).ok_or(otc_status::LengthMismatch)?,
            )?),
            (true, true, true) | (true, false, true) | (false, true, true) => {
                return Err(otc_status::NullPointer)
            }
            (_, _, false) => return Err(otc_status::InvalidParameter),
        };
        Ok(Self {
            cost,
            a: Array::input(p.a, n)?,
            b: Array::input(p.b, m)?,
        })
    }

    /// Number of source points.
    pub(crate) fn n(&self) -> usize {
        self.a.len
    }

    /// Number of target points.
    pub(crate) fn m(&self) -> usize {
        self.b.len
    }

    /// The spans of its arrays, for [`disjoint`].
    pub(crate) fn spans(&self) -> [Span; 4] {
        let (first, second) = match &self.cost {
            Cost::Clouds { x, y, .. } => (x.span(), y.span()),
            Cost::Matrix(c) => (c.span(), c.span()),
        };
        [first, second, self.a.span(), self.b.span()]
    }

    /// Workspace elements the core needs for this problem.
    pub(crate) fn workspace_len(&self) -> usize {
        workspace_len(self.n(), self.m(), self.dim())
    }

    /// Workspace elements a solve with `init` needs for this problem.
    pub(crate) fn solve_workspace_len(&self, init: Init) -> usize {
        solve_workspace_len(self.n(), self.m(), self.dim(), init)
    }

    /// Point dimension (0 for a dense cost).
    pub(crate) fn dim(&self) -> usize {
        match self.cost {
            Cost::Clouds { d, .. } => d,
            Cost::Matrix(_) => 0,
        }
    }

    /// The core problem.
    ///
    /// # Safety
    /// The arrays must stay valid and unwritten for `'a`.
    pub(crate) unsafe fn problem<'a>(&self) -> Problem<'a, T> {
        // SAFETY: the caller's contract; `disjoint` has ensured that nothing this call
        // writes overlaps them.
        let (a, b) = unsafe { (self.a.slice(), self.b.slice()) };
        match self.cost {
            Cost::Clouds {
                x,
                y,
                d,
                scale,
                strides: [(px, cx), (py, cy)],
            } => {
                // SAFETY: as above.
                let (x, y) = unsafe { (x.slice(), y.slice()) };
                let x = Points::strided(x, px, cx);
                let y = Points::strided(y, py, cy);
                Problem::strided_clouds(x, y, d, scale, a, b)
            }
            // SAFETY: as above.
            Cost::Matrix(c) => Problem::matrix(unsafe { c.slice() }, a, b),
        }
    }
}

/// The caller's workspace, checked and cut to the length the problem needs.
///
/// # Errors
/// `NullPointer`, `Misaligned` (not a multiple of `OTC_WORKSPACE_ALIGN`).
pub(crate) fn workspace<T>(ws: *mut c_void, ws_bytes: usize, needed: usize) -> Checked<Array<T>> {
    if ws.is_null() {
        return Err(otc_status::NullPointer);
    }
    if !(ws as usize).is_multiple_of(OTC_WORKSPACE_ALIGN) {
        return Err(otc_status::Misaligned);
    }
    // A shorter slice than needed makes the core return `WorkspaceTooSmall` after its
    // input checks, so the status order matches the Rust API.
    Array::output(ws.cast::<T>(), (ws_bytes / size_of::<T>()).min(needed))
}

/// Zeroes the workspace and returns it as a slice (the core ignores its contents on
/// entry; zeroing makes caller memory that was never written, e.g. from `malloc`, a
/// valid Rust float array).
///
/// # Safety
/// The workspace must be writable for `'a` and not overlap any other argument.
pub(crate) unsafe fn zeroed<'a, T: Real>(ws: Array<T>) -> &'a mut [T] {
    // SAFETY: `ws` is non-NULL, aligned and writable for `len` elements (caller's
    // contract); all-zero bits are a valid f32/f64.
    unsafe { ptr::write_bytes(ws.ptr, 0, ws.len) };
    // SAFETY: just initialised; exclusive by `disjoint`.
    unsafe { ws.slice_mut() }
}
