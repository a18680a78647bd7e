//! Point clouds as callers hold them: a read-only strided view.
//!
//! Coordinate k of point i is `data[i·point_stride + k·coord_stride]` (strides in
//! elements). Row-major n×d (`point_stride = d`, `coord_stride = 1`) is the default;
//! a column-major n×d array (Eigen's default `Matrix<T, Dynamic, d>`) has
//! `point_stride = 1`, `coord_stride = n`; padded records such as PCL's `PointXYZ`
//! (x, y, z and one float of padding) have `point_stride = 4`, `coord_stride = 1`.
//!
//! Every algorithm copies the points it streams into its own chunk-major workspace
//! once per call and reads a target point once per row and pass, so the layout costs
//! nothing in the O(n·m) loop.

use crate::real::Real;

/// A read-only view of points with strides (see the [module documentation](self)).
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[derive(Clone, Copy, Debug)]
pub struct Points<'a, T> {
    data: &'a [T],
    point_stride: usize,
    coord_stride: usize,
}

impl<'a, T> Points<'a, T> {
    /// No points: every coordinate reads as 0 (the origin).
    #[must_use]
    pub const fn empty() -> Self {
        Self {
            data: &[],
            point_stride: 0,
            coord_stride: 0,
        }
    }

    /// Row-major points of `dim` coordinates (point i at `data[i·dim .. (i+1)·dim]`).
    #[must_use]
    pub const fn row_major(data: &'a [T], dim: usize) -> Self {
        Self {
            data,
            point_stride: dim,
            coord_stride: 1,
        }
    }

    /// Points with the given strides, in elements (see the module documentation).
    #[must_use]
    pub const fn strided(data: &'a [T], point_stride: usize, coord_stride: usize) -> Self {
        Self {
            data,
            point_stride,
            coord_stride,
        }
    }

    /// The underlying slice.
    #[must_use]
    pub const fn data(&self) -> &'a [T] {
        self.data
    }

    /// Elements that `n` points of `dim` coordinates span,
    /// `(n − 1)·point_stride + (dim − 1)·coord_stride + 1` (0 if n or dim is 0);
    /// `None` on overflow.
    #[must_use]
    pub const fn extent(
        point_stride: usize,
        coord_stride: usize,
        n: usize,
        dim: usize,
    ) -> Option<usize> {
        if n == 0 || dim == 0 {
            return Some(0);
        }
        let (Some(p), Some(c)) = (
            (n - 1).checked_mul(point_stride),
            (dim - 1).checked_mul(coord_stride),
        ) else {
            return None;
        };
        match p.checked_add(c) {
            Some(s) => s.checked_add(1),
            None => None,
        }
    }
}

impl<'a, T: Real> Points<'a, T> {
    /// Whether the view holds exactly `n` points of `dim` coordinates: the slice is as
    /// long as their [`extent`](Self::extent), or `n` whole records of `point_stride`
    /// elements (padded records up to the end of the last one), and two coordinates
    /// of a point never share an element (`coord_stride ≥ 1` when `dim ≥ 2`).
    #[must_use]
    pub fn holds(&self, n: usize, dim: usize) -> bool {
        if dim >= 2 && self.coord_stride == 0 {
            return false;
        }
        let len = self.data.len();
        Self::extent(self.point_stride, self.coord_stride, n, dim) == Some(len)
            || (self.point_stride >= dim && n.checked_mul(self.point_stride) == Some(len))
    }

    /// Coordinate k of point i (0 outside the slice).
    #[inline(always)]
    #[must_use]
    pub fn get(&self, i: usize, k: usize) -> T {
        let at = i
            .wrapping_mul(self.point_stride)
            .wrapping_add(k.wrapping_mul(self.coord_stride));
        self.data.get(at).copied().unwrap_or(T::ZERO)
    }

    /// Coordinates 0 and 1 of point i, read with one bounds check (`None` outside the
    /// slice or if `coord_stride` is 0).
    #[inline(always)]
    pub(crate) fn pair(&self, i: usize) -> Option<[T; 2]> {
        let at = i.wrapping_mul(self.point_stride);
        match self.data.get(at..=at.wrapping_add(self.coord_stride)) {
            Some(&[x0, .., x1]) => Some([x0, x1]),
            _ => None,
        }
    }

    /// The elements from point i on (empty outside the slice): coordinate k of point i
    /// is element `k·coord_stride` of it.
    #[inline(always)]
    pub(crate) fn point_onwards(&self, i: usize) -> &'a [T] {
        self.data
            .get(i.wrapping_mul(self.point_stride)..)
            .unwrap_or(&[])
    }

    /// The coordinate stride.
    #[inline(always)]
    pub(crate) const fn coord_stride(&self) -> usize {
        self.coord_stride
    }

    /// Coordinate k of points 0..n.
    pub(crate) fn coord(&self, k: usize, n: usize) -> impl Iterator<Item = T> + Clone + '_ {
        (0..n).map(move |i| self.get(i, k))
    }
}
