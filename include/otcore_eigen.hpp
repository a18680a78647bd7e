/**
 * @file otcore_eigen.hpp
 * @brief Optional Eigen adapter for otcore.hpp: `Matrix`, `Map`, `Ref` and blocks as
 *        otcore views, without copies.
 *
 * Include it only where Eigen is available (it includes `<Eigen/Core>`). One point per
 * row, scalar `float` or `double`:
 * - `otc::eigen::cloud(m)` — any matrix stored in memory, row- or column-major, a block,
 *   a `Map` with strides: Sinkhorn problems (`otc::Problem::point_clouds`) read it in
 *   place through its strides;
 * - `otc::eigen::points(m)` — the row-major layout the other calls take (OT resampling,
 *   the filter, the SDE samplers, outputs): a column-major matrix or a run-time inner
 *   stride is rejected **at compile time**, with a message; rows that are not contiguous
 *   (e.g. a column block of a wider matrix) at run time (`Status::length_mismatch`);
 * - `otc::eigen::view(v)` — a vector (weights, potentials, log-weights).
 *
 * A column-major `Eigen::Matrix<float, 2, Eigen::Dynamic>` (points as columns) has the
 * same memory as the row-major n×2 array: `otc::Points<float>(m.data(), m.cols(), m.rows())`.
 */
#ifndef OTCORE_EIGEN_HPP
#define OTCORE_EIGEN_HPP

#include <Eigen/Core>

#include "otcore.hpp"

namespace otc {
/** The Eigen adapter. */
namespace eigen {

namespace detail {
/** The element type an expression's `data()` points to (const for read-only ones). */
template <class Derived>
using element_t = std::remove_pointer_t<decltype(std::declval<Derived &>().data())>;

/** The compile-time checks every adapter makes. */
template <class Derived>
constexpr void check_common() {
    using Scalar = typename Derived::Scalar;
    static_assert(std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>,
                  "otcore takes float or double values");
    static_assert((int(Derived::Flags) & int(Eigen::DirectAccessBit)) != 0,
                  "otcore needs an expression stored in memory (a Matrix, Map, Ref or block)");
    static_assert(int(Derived::InnerStrideAtCompileTime) == 1,
                  "otcore needs an inner stride of 1 known at compile time");
}
}  // namespace detail

/**
 * The rows of a row-major matrix expression as points (n = rows, d = cols).
 * Compile-time error for a column-major layout (the C API takes row-major points);
 * rows that are not contiguous give empty points, which every call reports as
 * `Status::length_mismatch`.
 */
template <class Derived>
Points<detail::element_t<Derived>> points(Eigen::DenseBase<Derived> &m) {
    detail::check_common<Derived>();
    static_assert(Derived::IsRowMajor || int(Derived::ColsAtCompileTime) == 1,
                  "this call takes points as rows of a ROW-MAJOR matrix: use "
                  "Eigen::Matrix<T, Eigen::Dynamic, D, Eigen::RowMajor> (only Sinkhorn "
                  "problems take any layout, through otc::eigen::cloud)");
    Derived &d = m.derived();
    const auto rows = static_cast<std::size_t>(d.rows());
    const auto cols = static_cast<std::size_t>(d.cols());
    // Row-major rows must follow each other; a column-major single column is contiguous.
    if (Derived::IsRowMajor && rows > 1 && static_cast<std::size_t>(d.outerStride()) != cols)
        return {};
    return Points<detail::element_t<Derived>>(d.data(), rows, cols);
}

/** Read-only `points` of a const expression. */
template <class Derived>
Points<const typename Derived::Scalar> points(const Eigen::DenseBase<Derived> &m) {
    detail::check_common<Derived>();
    static_assert(Derived::IsRowMajor || int(Derived::ColsAtCompileTime) == 1,
                  "this call takes points as rows of a ROW-MAJOR matrix: use "
                  "Eigen::Matrix<T, Eigen::Dynamic, D, Eigen::RowMajor> (only Sinkhorn "
                  "problems take any layout, through otc::eigen::cloud)");
    const Derived &d = m.derived();
    const auto rows = static_cast<std::size_t>(d.rows());
    const auto cols = static_cast<std::size_t>(d.cols());
    // Row-major rows must follow each other; a column-major single column is contiguous.
    if (Derived::IsRowMajor && rows > 1 && static_cast<std::size_t>(d.outerStride()) != cols)
        return {};
    return Points<const typename Derived::Scalar>(d.data(), rows, cols);
}

/**
 * The rows of any matrix expression stored in memory as a cloud (n = rows, d = cols),
 * read in place through its strides: row-major, column-major, blocks, strided maps.
 */
template <class Derived>
Cloud<const typename Derived::Scalar> cloud(const Eigen::DenseBase<Derived> &m) {
    using Scalar = typename Derived::Scalar;
    static_assert(std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>,
                  "otcore takes float or double values");
    static_assert((int(Derived::Flags) & int(Eigen::DirectAccessBit)) != 0,
                  "otcore needs an expression stored in memory (a Matrix, Map, Ref or block)");
    const Derived &d = m.derived();
    return Cloud<const Scalar>(d.data(), static_cast<std::size_t>(d.rows()),
                               static_cast<std::size_t>(d.cols()),
                               static_cast<std::size_t>(d.rowStride()),
                               static_cast<std::size_t>(d.colStride()));
}

/** A vector expression (row or column) as a view of its values. */
template <class Derived>
View<detail::element_t<Derived>> view(Eigen::DenseBase<Derived> &v) {
    detail::check_common<Derived>();
    static_assert(Derived::IsVectorAtCompileTime, "otc::eigen::view takes a vector");
    Derived &d = v.derived();
    return View<detail::element_t<Derived>>(d.data(), static_cast<std::size_t>(d.size()));
}

/** Read-only `view` of a const vector expression. */
template <class Derived>
View<const typename Derived::Scalar> view(const Eigen::DenseBase<Derived> &v) {
    detail::check_common<Derived>();
    static_assert(Derived::IsVectorAtCompileTime, "otc::eigen::view takes a vector");
    const Derived &d = v.derived();
    return View<const typename Derived::Scalar>(d.data(), static_cast<std::size_t>(d.size()));
}

}  // namespace eigen
}  // namespace otc

#endif /* OTCORE_EIGEN_HPP */
