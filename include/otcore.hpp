/**
 * @file otcore.hpp
 * @brief Header-only C++17 interface to otcore, over the C ABI of otcore.h.
 *
 * Every function here checks the sizes of its views, calls the matching `otc_*_f32` or
 * `otc_*_f64` function and maps the status; there is no second implementation. What
 * C++ adds:
 * - templates over `float` and `double` (`otc::Api<T>` maps a precision to the C
 *   names);
 * - `otc::View` / `otc::Points`: pointer + size, built from C arrays, `std::array`,
 *   `std::vector`, `std::span` (C++20) or anything with `data()` and `size()`; Eigen
 *   matrices through `otcore_eigen.hpp`;
 * - `otc::Workspace`: owns memory that grows on demand, or borrows the caller's
 *   (a `static` buffer on firmware: no heap); `otc::StaticWorkspace<Bytes>` holds it
 *   inline;
 * - callbacks as any callable (lambdas with captures), passed through the C `void *`
 *   context by a template trampoline: no `std::function`, no allocation;
 * - errors as `otc::Error` exceptions carrying the status, or, when exceptions are off
 *   (`-fno-exceptions`, or `OTC_HPP_NO_EXCEPTIONS` defined), as `otc::Result<T>`
 *   return values. `otc::Returns<T>` names whichever of the two a build uses.
 *
 * Define `OTC_HPP_NO_HEAP` to remove the owning mode of `otc::Workspace` (no reference
 * to `operator new` at all).
 */
#ifndef OTCORE_HPP
#define OTCORE_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <tuple>
#include <type_traits>
#include <utility>

#include "otcore.h"

#if !defined(OTC_HPP_NO_HEAP)
#include <new>
#endif

#if !defined(OTC_HPP_NO_EXCEPTIONS) && \
    !(defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND))
/** Defined when C++ exceptions are off: calls return `otc::Result<T>`. */
#define OTC_HPP_NO_EXCEPTIONS 1
#endif

#if !defined(OTC_HPP_NO_EXCEPTIONS)
#include <exception>
#include <stdexcept>
#endif

#if defined(__cpp_lib_span) || (__cplusplus >= 202002L && defined(__has_include))
#if __has_include(<span>)
#include <span>
/** Defined when `std::span` is available: views convert from and to it. */
#define OTC_HPP_HAS_SPAN 1
#endif
#endif

/** The otcore C++ interface. */
namespace otc {

/** A status of the C API (`OTC_STATUS_*`): 0 = OK, > 0 = a caveat, < 0 = an error. */
enum class Status : int32_t {
    ok = OTC_STATUS_OK,                                 /**< Success. */
    max_iterations = OTC_STATUS_MAX_ITERATIONS,         /**< Budget hit; outputs written. */
    null_pointer = OTC_STATUS_NULL_POINTER,             /**< A NULL pointer. */
    length_mismatch = OTC_STATUS_LENGTH_MISMATCH,       /**< A view has the wrong size. */
    empty_input = OTC_STATUS_EMPTY_INPUT,               /**< n, m or d is zero. */
    non_finite_input = OTC_STATUS_NON_FINITE_INPUT,     /**< NaN or ±∞ in an input. */
    negative_weight = OTC_STATUS_NEGATIVE_WEIGHT,       /**< A weight is negative. */
    zero_mass = OTC_STATUS_ZERO_MASS,                   /**< The weights sum to zero. */
    mass_mismatch = OTC_STATUS_MASS_MISMATCH,           /**< Balanced masses differ. */
    invalid_epsilon = OTC_STATUS_INVALID_EPSILON,       /**< ε not finite and > 0. */
    invalid_parameter = OTC_STATUS_INVALID_PARAMETER,   /**< Another parameter. */
    workspace_too_small = OTC_STATUS_WORKSPACE_TOO_SMALL, /**< Workspace too small. */
    misaligned = OTC_STATUS_MISALIGNED,                 /**< A misaligned pointer. */
    needs_point_clouds = OTC_STATUS_NEEDS_POINT_CLOUDS, /**< Needs point clouds. */
    non_finite = OTC_STATUS_NON_FINITE,                 /**< Numerical overflow. */
    struct_size = OTC_STATUS_STRUCT_SIZE,               /**< A wrong `struct_size`. */
    panic = OTC_STATUS_PANIC,                           /**< A library bug, caught. */
    callback_failed = OTC_STATUS_CALLBACK_FAILED,       /**< A callback failed. */
    feature_disabled = OTC_STATUS_FEATURE_DISABLED,     /**< Built without the feature. */
};

/** The static English description of a status (`otc_status_str`). */
inline const char *status_str(Status s) noexcept {
    return otc_status_str(static_cast<int32_t>(s));
}

/** The version of the linked library (`otc_version`); equals `OTC_VERSION_NUMBER`. */
inline uint32_t version() noexcept { return otc_version(); }

#if !defined(OTC_HPP_NO_EXCEPTIONS)
/** The exception every call throws for a negative status. */
class Error : public std::runtime_error {
public:
    /** An error for status `s`; `what()` is `otc_status_str(s)`. */
    explicit Error(Status s) : std::runtime_error(status_str(s)), status_(s) {}
    /** The status the call returned. */
    Status status() const noexcept { return status_; }

private:
    Status status_;
};
#endif

/**
 * A value or a status, as returned by every call when exceptions are off. `ok()` is
 * true for a status ≥ 0 (the value is then valid; `Status::max_iterations` says that
 * a budget ran out first).
 */
template <class T>
struct Result {
    Status status; /**< What the call returned. */
    T value;       /**< Valid when `ok()`. */
    /** True when the status is ≥ 0. */
    bool ok() const noexcept { return static_cast<int32_t>(status) >= 0; }
    /** Same as `ok()`. */
    explicit operator bool() const noexcept { return ok(); }
    /** The value (check `ok()` first). */
    const T &operator*() const noexcept { return value; }
    /** Member access to the value (check `ok()` first). */
    const T *operator->() const noexcept { return &value; }
};

#if defined(OTC_HPP_NO_EXCEPTIONS)
/** What a call returns: `Result<T>` without exceptions. */
template <class T>
using Returns = Result<T>;
#else
/** What a call returns: `T` itself with exceptions (a negative status throws `Error`). */
template <class T>
using Returns = T;
#endif

namespace detail {
/** Maps a C status and a value to `Returns<T>`. */
template <class T>
Returns<T> finish(int32_t status, T value) {
#if defined(OTC_HPP_NO_EXCEPTIONS)
    return Result<T>{static_cast<Status>(status), value};
#else
    if (status < 0) throw Error(static_cast<Status>(status));
    return value;
#endif
}

/** `T` in a non-deduced context: a view parameter takes any container. */
template <class T>
struct id {
    using type = T; /**< T */
};

/** `T` in a non-deduced context (a view parameter then takes any container). */
template <class T>
using nd = typename id<T>::type;

/** True for containers with `data()` and `size()` (vector, array, span, string…). */
template <class C, class T, class = void>
struct is_contiguous : std::false_type {};
template <class C, class T>
struct is_contiguous<C, T,
                     std::enable_if_t<std::is_convertible_v<
                         decltype(std::declval<C &>().data()), T *>>>
    : std::bool_constant<std::is_convertible_v<decltype(std::declval<C &>().size()),
                                               std::size_t>> {};
}  // namespace detail

/**
 * A contiguous run of `size()` values of `T` in caller memory (`T` may be const).
 * Never owns; build it from a pointer and a size, a C array, or any container with
 * `data()` and `size()` (`std::vector`, `std::array`, `std::span`).
 */
template <class T>
class View {
public:
    /** An empty view. */
    constexpr View() noexcept = default;
    /** `size` values at `data`. */
    constexpr View(T *data, std::size_t size) noexcept : data_(data), size_(size) {}
    /** A C array. */
    template <std::size_t N>
    constexpr View(T (&a)[N]) noexcept : data_(a), size_(N) {}
    /** A container with `data()` and `size()` (also a `View<U>` as a `View<const U>`). */
    template <class C, class = std::enable_if_t<detail::is_contiguous<C, T>::value &&
                                                !std::is_same_v<std::decay_t<C>, View>>>
    constexpr View(C &&c) noexcept : data_(c.data()), size_(c.size()) {}

    /** First value. */
    constexpr T *data() const noexcept { return data_; }
    /** Number of values. */
    constexpr std::size_t size() const noexcept { return size_; }
    /** Value `i` (unchecked). */
    constexpr T &operator[](std::size_t i) const noexcept { return data_[i]; }
    /** Iteration. */
    constexpr T *begin() const noexcept { return data_; }
    /** Iteration. */
    constexpr T *end() const noexcept { return data_ + size_; }
#if defined(OTC_HPP_HAS_SPAN)
    /** As a `std::span`. */
    constexpr operator std::span<T>() const noexcept { return {data_, size_}; }
#endif

private:
    T *data_ = nullptr;
    std::size_t size_ = 0;
};

/**
 * n points of dimension d, row-major (point i at `data()[i·d .. i·d + d]`): the only
 * point layout the C API takes. Build it from a `View` and d, or from an Eigen
 * row-major matrix with `otc::eigen::points` (`otcore_eigen.hpp`).
 */
template <class T>
class Points {
public:
    /** No points. */
    constexpr Points() noexcept = default;
    /** `values.size() / d` points of dimension `d` (`values.size()` must be a multiple). */
    constexpr Points(View<T> values, std::size_t d) noexcept
        : values_(values), d_(d), n_(d == 0 ? 0 : values.size() / d) {}
    /** `n` points of dimension `d` at `data`. */
    constexpr Points(T *data, std::size_t n, std::size_t d) noexcept
        : values_(data, n * d), d_(d), n_(n) {}
    /** Non-const points as const points. */
    template <class U, class = std::enable_if_t<std::is_same_v<const U, T>>>
    constexpr Points(Points<U> p) noexcept : values_(p.values()), d_(p.d()), n_(p.n()) {}

    /** Number of points. */
    constexpr std::size_t n() const noexcept { return n_; }
    /** Dimension. */
    constexpr std::size_t d() const noexcept { return d_; }
    /** All n·d values. */
    constexpr View<T> values() const noexcept { return values_; }
    /** First value. */
    constexpr T *data() const noexcept { return values_.data(); }
    /** Point `i` as a view of d values (unchecked). */
    constexpr View<T> operator[](std::size_t i) const noexcept {
        return View<T>(values_.data() + i * d_, d_);
    }
    /** True when the values are exactly n·d (the view was a whole number of points). */
    constexpr bool whole() const noexcept { return n_ * d_ == values_.size() && d_ > 0; }

private:
    View<T> values_;
    std::size_t d_ = 0;
    std::size_t n_ = 0;
};

/**
 * n points of dimension d in any layout: coordinate k of point i at
 * `data()[i·point_stride + k·coord_stride]` (strides in elements). Sinkhorn problems
 * take clouds (`otc_points_layout` in the C API): row-major `Points` convert to one,
 * and so do column-major arrays (`Cloud(data, n, d, 1, n)`) or padded records; the
 * other calls take row-major `Points` only.
 */
template <class T>
class Cloud {
public:
    /** No points. */
    constexpr Cloud() noexcept = default;
    /** Row-major points (strides d and 1). */
    constexpr Cloud(Points<T> p) noexcept
        : data_(p.data()), n_(p.n()), d_(p.d()), point_stride_(p.d()), coord_stride_(1),
          ok_(p.whole()) {}
    /** Row-major: `values.size() / d` points of dimension `d`. */
    constexpr Cloud(View<T> values, std::size_t d) noexcept : Cloud(Points<T>(values, d)) {}
    /** Row-major: `n` points of dimension `d` at `data`. */
    constexpr Cloud(T *data, std::size_t n, std::size_t d) noexcept
        : Cloud(Points<T>(data, n, d)) {}
    /** `n` points of dimension `d` at `data` with the given strides (elements, ≥ 1). */
    constexpr Cloud(T *data, std::size_t n, std::size_t d, std::size_t point_stride,
                    std::size_t coord_stride) noexcept
        : data_(data), n_(n), d_(d), point_stride_(point_stride), coord_stride_(coord_stride),
          ok_(point_stride > 0 && coord_stride > 0) {}
    /** Non-const as const. */
    template <class U, class = std::enable_if_t<std::is_same_v<const U, T>>>
    constexpr Cloud(Cloud<U> c) noexcept
        : data_(c.data()), n_(c.n()), d_(c.d()), point_stride_(c.point_stride()),
          coord_stride_(c.coord_stride()), ok_(c.valid()) {}
    /** Row-major points of non-const values, read-only. */
    template <class U, class = std::enable_if_t<std::is_same_v<const U, T>>>
    constexpr Cloud(Points<U> p) noexcept : Cloud(Points<T>(p)) {}

    /** First value. */
    constexpr T *data() const noexcept { return data_; }
    /** Number of points. */
    constexpr std::size_t n() const noexcept { return n_; }
    /** Dimension. */
    constexpr std::size_t d() const noexcept { return d_; }
    /** Elements from one point to the next. */
    constexpr std::size_t point_stride() const noexcept { return point_stride_; }
    /** Elements from one coordinate to the next. */
    constexpr std::size_t coord_stride() const noexcept { return coord_stride_; }
    /** False for a view that was not a whole number of points, or a zero stride. */
    constexpr bool valid() const noexcept { return ok_; }
    /** The layout as the C API takes it. */
    constexpr otc_points_layout layout() const noexcept {
        return otc_points_layout{point_stride_, coord_stride_};
    }

private:
    T *data_ = nullptr;
    std::size_t n_ = 0, d_ = 0, point_stride_ = 0, coord_stride_ = 0;
    bool ok_ = false;
};

/**
 * Workspace memory handed to the solvers: either borrowed (a caller buffer, e.g. a
 * `static` array on firmware; never reallocated) or owned (grows on demand with
 * `operator new`, freed by the destructor). Borrowed memory must be aligned to
 * `OTC_WORKSPACE_ALIGN`; a too-small borrowed buffer gives
 * `Status::workspace_too_small`. Move-only.
 */
class Workspace {
public:
#if !defined(OTC_HPP_NO_HEAP)
    /** An empty owning workspace: grows to what each call needs. */
    Workspace() noexcept = default;
#endif
    /** Borrows `bytes` bytes at `data` (never reallocated, never freed). */
    Workspace(void *data, std::size_t bytes) noexcept : data_(data), bytes_(bytes) {}
    /** Borrows a byte array (a `static` buffer on firmware). */
    template <std::size_t N>
    explicit Workspace(unsigned char (&buf)[N]) noexcept : data_(buf), bytes_(N) {}
    Workspace(const Workspace &) = delete;
    Workspace &operator=(const Workspace &) = delete;
    /** Takes over `o`'s memory. */
    Workspace(Workspace &&o) noexcept
        : data_(std::exchange(o.data_, nullptr)), bytes_(std::exchange(o.bytes_, 0)),
          owned_(std::exchange(o.owned_, false)) {}
    /** Takes over `o`'s memory. */
    Workspace &operator=(Workspace &&o) noexcept {
        if (this != &o) {
            release();
            data_ = std::exchange(o.data_, nullptr);
            bytes_ = std::exchange(o.bytes_, 0);
            owned_ = std::exchange(o.owned_, false);
        }
        return *this;
    }
    ~Workspace() { release(); }

    /** The memory. */
    void *data() const noexcept { return data_; }
    /** Its size in bytes. */
    std::size_t bytes() const noexcept { return bytes_; }
    /** True when the memory is borrowed from the caller. */
    bool borrowed() const noexcept { return !owned_ && data_ != nullptr; }

    /**
     * Makes at least `bytes` available: an owning workspace reallocates (contents are
     * not kept); a borrowed one is left as it is (the call then reports
     * `workspace_too_small`). Returns false when an allocation failed.
     */
    bool reserve(std::size_t bytes) noexcept {
        if (bytes <= bytes_ || borrowed()) return true;
#if defined(OTC_HPP_NO_HEAP)
        return true;
#else
        release();
        data_ = ::operator new(bytes, std::align_val_t{kAlign}, std::nothrow);
        if (data_ == nullptr) return false;
        bytes_ = bytes;
        owned_ = true;
        return true;
#endif
    }

private:
    static constexpr std::size_t kAlign =
        OTC_WORKSPACE_ALIGN > alignof(std::max_align_t) ? OTC_WORKSPACE_ALIGN
                                                        : alignof(std::max_align_t);
    void release() noexcept {
#if !defined(OTC_HPP_NO_HEAP)
        if (owned_) ::operator delete(data_, std::align_val_t{kAlign});
#endif
        data_ = nullptr;
        bytes_ = 0;
        owned_ = false;
    }
    void *data_ = nullptr;
    std::size_t bytes_ = 0;
    bool owned_ = false;
};

/**
 * `Bytes` bytes of workspace held inside the object (aligned to `OTC_WORKSPACE_ALIGN`):
 * declare it `static` on firmware, then pass `ws.view()` where a `Workspace &` is
 * taken. Size it from the formulas in otcore.h (e.g. `otc_pf_workspace_size_f32`).
 */
template <std::size_t Bytes>
class StaticWorkspace {
public:
    StaticWorkspace() noexcept = default;
    StaticWorkspace(const StaticWorkspace &) = delete;
    StaticWorkspace &operator=(const StaticWorkspace &) = delete;
    /** A borrowing `Workspace` over this storage. */
    Workspace &view() noexcept { return ws_; }

private:
    alignas(OTC_WORKSPACE_ALIGN) unsigned char buf_[Bytes] = {};
    Workspace ws_{buf_};
};

/**
 * The C names for one precision: the struct types and functions with the `_f32`
 * (`Api<float>`) or `_f64` (`Api<double>`) suffix.
 */
template <class T>
struct Api;

/** The `float` functions and types of otcore.h. */
template <>
struct Api<float> {
    using problem = otc_ot_problem_f32;                    /**< otc_ot_problem_f32 */
    using sinkhorn_config = otc_sinkhorn_config_f32;       /**< otc_sinkhorn_config_f32 */
    using sinkhorn_result = otc_sinkhorn_result_f32;       /**< otc_sinkhorn_result_f32 */
    using ot_resample_config = otc_ot_resample_config_f32; /**< otc_ot_resample_config_f32 */
    using ot_resample_report = otc_ot_resample_report_f32; /**< otc_ot_resample_report_f32 */
    using vjp_config = otc_vjp_config_f32;                 /**< otc_vjp_config_f32 */
    using pf_config = otc_pf_config_f32;                   /**< otc_pf_config_f32 */
    using pf_state = otc_pf_state_f32;                     /**< otc_pf_state_f32 */
    using pf_report = otc_pf_report_f32;                   /**< otc_pf_report_f32 */
    using dpf_config = otc_dpf_config_f32;                 /**< otc_dpf_config_f32 */
    using dpf_model = otc_dpf_model_f32;                   /**< otc_dpf_model_f32 */
    using dpf_ot_config = otc_dpf_ot_config_f32;           /**< otc_dpf_ot_config_f32 */
    using dpf_tape = otc_dpf_tape_f32;                     /**< otc_dpf_tape_f32 */
    using coord = otc_coord_f32;                           /**< otc_coord_f32 */
    using kld_config = otc_kld_config_f32;                 /**< otc_kld_config_f32 */
    using recovery = otc_recovery_f32;                     /**< otc_recovery_f32 */
    using mcl_config = otc_mcl_config_f32;                 /**< otc_mcl_config_f32 */
    using mcl_report = otc_mcl_report_f32;                 /**< otc_mcl_report_f32 */
    using mcl_sampler = otc_mcl_sampler_f32;               /**< otc_mcl_sampler_f32 */
    static constexpr auto sinkhorn_workspace_size = &otc_sinkhorn_workspace_size_f32; /**< C */
    static constexpr auto sinkhorn_config_default = &otc_sinkhorn_config_default_f32; /**< C */
    static constexpr auto sinkhorn_solve = &otc_sinkhorn_solve_f32;                   /**< C */
    static constexpr auto plan_apply = &otc_plan_apply_f32;                           /**< C */
    static constexpr auto plan_apply_parallel = &otc_plan_apply_parallel_f32;         /**< C */
    static constexpr auto plan_apply_transpose = &otc_plan_apply_transpose_f32;       /**< C */
    static constexpr auto plan_apply_transpose_parallel = &otc_plan_apply_transpose_parallel_f32; /**< C */
    static constexpr auto plan_barycentric = &otc_plan_barycentric_f32;               /**< C */
    static constexpr auto plan_barycentric_parallel = &otc_plan_barycentric_parallel_f32; /**< C */
    static constexpr auto plan_transport_cost = &otc_plan_transport_cost_f32;         /**< C */
    static constexpr auto plan_transport_cost_parallel = &otc_plan_transport_cost_parallel_f32; /**< C */
    static constexpr auto plan_dense = &otc_plan_dense_f32;                           /**< C */
    static constexpr auto rng_uniform = &otc_rng_uniform_f32;                         /**< C */
    static constexpr auto rng_normal = &otc_rng_normal_f32;                           /**< C */
    static constexpr auto log_weights_normalise = &otc_log_weights_normalise_f32;     /**< C */
    static constexpr auto resample_ancestors = &otc_resample_ancestors_f32;           /**< C */
    static constexpr auto ot_resample_config_default = &otc_ot_resample_config_default_f32; /**< C */
    static constexpr auto ot_resample_workspace_size = &otc_ot_resample_workspace_size_f32; /**< C */
    static constexpr auto ot_resample = &otc_ot_resample_f32;                         /**< C */
    static constexpr auto vjp_config_default = &otc_vjp_config_default_f32;           /**< C */
    static constexpr auto vjp_workspace_size = &otc_ot_resample_vjp_workspace_size_f32; /**< C */
    static constexpr auto ot_resample_vjp = &otc_ot_resample_vjp_f32;                 /**< C */
    static constexpr auto pf_config_default = &otc_pf_config_default_f32;             /**< C */
    static constexpr auto pf_workspace_size = &otc_pf_workspace_size_f32;             /**< C */
    static constexpr auto pf_init = &otc_pf_init_f32;                                 /**< C */
    static constexpr auto pf_step = &otc_pf_step_f32;                                 /**< C */
    static constexpr auto dpf_config_default = &otc_dpf_config_default_f32;           /**< C */
    static constexpr auto dpf_workspace_size = &otc_dpf_workspace_size_f32;           /**< C */
    static constexpr auto dpf_init = &otc_dpf_init_f32;                               /**< C */
    static constexpr auto dpf_step = &otc_dpf_step_f32;                               /**< C */
    static constexpr auto dpf_ot_config_default = &otc_dpf_ot_config_default_f32;     /**< C */
    static constexpr auto dpf_ot_workspace_size = &otc_dpf_ot_workspace_size_f32;     /**< C */
    static constexpr auto dpf_step_ot = &otc_dpf_step_ot_f32;                         /**< C */
    static constexpr auto dpf_tape_workspace_size = &otc_dpf_tape_workspace_size_f32; /**< C */
    static constexpr auto dpf_tape_init = &otc_dpf_tape_init_f32;                     /**< C */
    static constexpr auto dpf_tape_step = &otc_dpf_tape_step_f32;                     /**< C */
    static constexpr auto dpf_tape_gradient = &otc_dpf_tape_gradient_f32;             /**< C */
    static constexpr auto sde_workspace_size = &otc_sde_workspace_size_f32;           /**< C */
    static constexpr auto sde_prior_sample = &otc_sde_prior_sample_f32;               /**< C */
    static constexpr auto sde_grid = &otc_sde_grid_f32;                               /**< C */
    static constexpr auto sde_sample = &otc_sde_sample_f32;                           /**< C */
    static constexpr auto sde_step = &otc_sde_step_f32;                               /**< C */
    static constexpr auto sde_adaptive = &otc_sde_adaptive_f32;                       /**< C */
    static constexpr auto sde_flow_grid = &otc_sde_flow_grid_f32;                     /**< C */
    static constexpr auto sde_flow_sample = &otc_sde_flow_sample_f32;                 /**< C */
    static constexpr auto sde_flow_step = &otc_sde_flow_step_f32;                     /**< C */
    static constexpr auto sde_flow_guided_workspace_size = &otc_sde_flow_guided_workspace_size_f32; /**< C */
    static constexpr auto sde_flow_sample_guided = &otc_sde_flow_sample_guided_f32;   /**< C */
    static constexpr auto sde_guided_workspace_size = &otc_sde_guided_workspace_size_f32; /**< C */
    static constexpr auto sde_sample_guided = &otc_sde_sample_guided_f32;             /**< C */
    static constexpr auto sde_step_guided = &otc_sde_step_guided_f32;                 /**< C */
    static constexpr auto sde_restart = &otc_sde_restart_f32;                         /**< C */
    static constexpr auto state_moments = &otc_state_moments_f32;                     /**< C */
    static constexpr auto resample_to = &otc_resample_to_f32;                         /**< C */
    static constexpr auto ot_resample_state_workspace_size = &otc_ot_resample_state_workspace_size_f32; /**< C */
    static constexpr auto ot_resample_state = &otc_ot_resample_state_f32;             /**< C */
    static constexpr auto kld_config_default = &otc_kld_config_default_f32;           /**< C */
    static constexpr auto kld_count = &otc_kld_count_f32;                             /**< C */
    static constexpr auto recovery_init = &otc_recovery_init_f32;                     /**< C */
    static constexpr auto recovery_update = &otc_recovery_update_f32;                 /**< C */
    static constexpr auto mcl_config_default = &otc_mcl_config_default_f32;           /**< C */
    static constexpr auto mcl_workspace_size = &otc_mcl_workspace_size_f32;           /**< C */
    static constexpr auto mcl_resample = &otc_mcl_resample_f32;                       /**< C */
    static constexpr auto cluster_workspace_size = &otc_cluster_workspace_size_f32;   /**< C */
    static constexpr auto largest_cluster = &otc_largest_cluster_f32;                 /**< C */
};

/** The `double` functions and types of otcore.h. */
template <>
struct Api<double> {
    using problem = otc_ot_problem_f64;                    /**< otc_ot_problem_f64 */
    using sinkhorn_config = otc_sinkhorn_config_f64;       /**< otc_sinkhorn_config_f64 */
    using sinkhorn_result = otc_sinkhorn_result_f64;       /**< otc_sinkhorn_result_f64 */
    using ot_resample_config = otc_ot_resample_config_f64; /**< otc_ot_resample_config_f64 */
    using ot_resample_report = otc_ot_resample_report_f64; /**< otc_ot_resample_report_f64 */
    using vjp_config = otc_vjp_config_f64;                 /**< otc_vjp_config_f64 */
    using pf_config = otc_pf_config_f64;                   /**< otc_pf_config_f64 */
    using pf_state = otc_pf_state_f64;                     /**< otc_pf_state_f64 */
    using pf_report = otc_pf_report_f64;                   /**< otc_pf_report_f64 */
    using dpf_config = otc_dpf_config_f64;                 /**< otc_dpf_config_f64 */
    using dpf_model = otc_dpf_model_f64;                   /**< otc_dpf_model_f64 */
    using dpf_ot_config = otc_dpf_ot_config_f64;           /**< otc_dpf_ot_config_f64 */
    using dpf_tape = otc_dpf_tape_f64;                     /**< otc_dpf_tape_f64 */
    using coord = otc_coord_f64;                           /**< otc_coord_f64 */
    using kld_config = otc_kld_config_f64;                 /**< otc_kld_config_f64 */
    using recovery = otc_recovery_f64;                     /**< otc_recovery_f64 */
    using mcl_config = otc_mcl_config_f64;                 /**< otc_mcl_config_f64 */
    using mcl_report = otc_mcl_report_f64;                 /**< otc_mcl_report_f64 */
    using mcl_sampler = otc_mcl_sampler_f64;               /**< otc_mcl_sampler_f64 */
    static constexpr auto sinkhorn_workspace_size = &otc_sinkhorn_workspace_size_f64; /**< C */
    static constexpr auto sinkhorn_config_default = &otc_sinkhorn_config_default_f64; /**< C */
    static constexpr auto sinkhorn_solve = &otc_sinkhorn_solve_f64;                   /**< C */
    static constexpr auto plan_apply = &otc_plan_apply_f64;                           /**< C */
    static constexpr auto plan_apply_parallel = &otc_plan_apply_parallel_f64;         /**< C */
    static constexpr auto plan_apply_transpose = &otc_plan_apply_transpose_f64;       /**< C */
    static constexpr auto plan_apply_transpose_parallel = &otc_plan_apply_transpose_parallel_f64; /**< C */
    static constexpr auto plan_barycentric = &otc_plan_barycentric_f64;               /**< C */
    static constexpr auto plan_barycentric_parallel = &otc_plan_barycentric_parallel_f64; /**< C */
    static constexpr auto plan_transport_cost = &otc_plan_transport_cost_f64;         /**< C */
    static constexpr auto plan_transport_cost_parallel = &otc_plan_transport_cost_parallel_f64; /**< C */
    static constexpr auto plan_dense = &otc_plan_dense_f64;                           /**< C */
    static constexpr auto rng_uniform = &otc_rng_uniform_f64;                         /**< C */
    static constexpr auto rng_normal = &otc_rng_normal_f64;                           /**< C */
    static constexpr auto log_weights_normalise = &otc_log_weights_normalise_f64;     /**< C */
    static constexpr auto resample_ancestors = &otc_resample_ancestors_f64;           /**< C */
    static constexpr auto ot_resample_config_default = &otc_ot_resample_config_default_f64; /**< C */
    static constexpr auto ot_resample_workspace_size = &otc_ot_resample_workspace_size_f64; /**< C */
    static constexpr auto ot_resample = &otc_ot_resample_f64;                         /**< C */
    static constexpr auto vjp_config_default = &otc_vjp_config_default_f64;           /**< C */
    static constexpr auto vjp_workspace_size = &otc_ot_resample_vjp_workspace_size_f64; /**< C */
    static constexpr auto ot_resample_vjp = &otc_ot_resample_vjp_f64;                 /**< C */
    static constexpr auto pf_config_default = &otc_pf_config_default_f64;             /**< C */
    static constexpr auto pf_workspace_size = &otc_pf_workspace_size_f64;             /**< C */
    static constexpr auto pf_init = &otc_pf_init_f64;                                 /**< C */
    static constexpr auto pf_step = &otc_pf_step_f64;                                 /**< C */
    static constexpr auto dpf_config_default = &otc_dpf_config_default_f64;           /**< C */
    static constexpr auto dpf_workspace_size = &otc_dpf_workspace_size_f64;           /**< C */
    static constexpr auto dpf_init = &otc_dpf_init_f64;                               /**< C */
    static constexpr auto dpf_step = &otc_dpf_step_f64;                               /**< C */
    static constexpr auto dpf_ot_config_default = &otc_dpf_ot_config_default_f64;     /**< C */
    static constexpr auto dpf_ot_workspace_size = &otc_dpf_ot_workspace_size_f64;     /**< C */
    static constexpr auto dpf_step_ot = &otc_dpf_step_ot_f64;                         /**< C */
    static constexpr auto dpf_tape_workspace_size = &otc_dpf_tape_workspace_size_f64; /**< C */
    static constexpr auto dpf_tape_init = &otc_dpf_tape_init_f64;                     /**< C */
    static constexpr auto dpf_tape_step = &otc_dpf_tape_step_f64;                     /**< C */
    static constexpr auto dpf_tape_gradient = &otc_dpf_tape_gradient_f64;             /**< C */
    static constexpr auto sde_workspace_size = &otc_sde_workspace_size_f64;           /**< C */
    static constexpr auto sde_prior_sample = &otc_sde_prior_sample_f64;               /**< C */
    static constexpr auto sde_grid = &otc_sde_grid_f64;                               /**< C */
    static constexpr auto sde_sample = &otc_sde_sample_f64;                           /**< C */
    static constexpr auto sde_step = &otc_sde_step_f64;                               /**< C */
    static constexpr auto sde_adaptive = &otc_sde_adaptive_f64;                       /**< C */
    static constexpr auto sde_flow_grid = &otc_sde_flow_grid_f64;                     /**< C */
    static constexpr auto sde_flow_sample = &otc_sde_flow_sample_f64;                 /**< C */
    static constexpr auto sde_flow_step = &otc_sde_flow_step_f64;                     /**< C */
    static constexpr auto sde_flow_guided_workspace_size = &otc_sde_flow_guided_workspace_size_f64; /**< C */
    static constexpr auto sde_flow_sample_guided = &otc_sde_flow_sample_guided_f64;   /**< C */
    static constexpr auto sde_guided_workspace_size = &otc_sde_guided_workspace_size_f64; /**< C */
    static constexpr auto sde_sample_guided = &otc_sde_sample_guided_f64;             /**< C */
    static constexpr auto sde_step_guided = &otc_sde_step_guided_f64;                 /**< C */
    static constexpr auto sde_restart = &otc_sde_restart_f64;                         /**< C */
    static constexpr auto state_moments = &otc_state_moments_f64;                     /**< C */
    static constexpr auto resample_to = &otc_resample_to_f64;                         /**< C */
    static constexpr auto ot_resample_state_workspace_size = &otc_ot_resample_state_workspace_size_f64; /**< C */
    static constexpr auto ot_resample_state = &otc_ot_resample_state_f64;             /**< C */
    static constexpr auto kld_config_default = &otc_kld_config_default_f64;           /**< C */
    static constexpr auto kld_count = &otc_kld_count_f64;                             /**< C */
    static constexpr auto recovery_init = &otc_recovery_init_f64;                     /**< C */
    static constexpr auto recovery_update = &otc_recovery_update_f64;                 /**< C */
    static constexpr auto mcl_config_default = &otc_mcl_config_default_f64;           /**< C */
    static constexpr auto mcl_workspace_size = &otc_mcl_workspace_size_f64;           /**< C */
    static constexpr auto mcl_resample = &otc_mcl_resample_f64;                       /**< C */
    static constexpr auto cluster_workspace_size = &otc_cluster_workspace_size_f64;   /**< C */
    static constexpr auto largest_cluster = &otc_largest_cluster_f64;                 /**< C */
};

namespace detail {
/** `struct_size` set, every other field zero: the C structs the library writes. */
template <class S>
S sized() noexcept {
    S s{};
    s.struct_size = sizeof(S);
    return s;
}

/** Sizes the workspace with a C size query, then runs `call(ws, bytes)`. */
template <class Query, class Call>
int32_t with_workspace(Workspace &ws, Query query, Call call) {
    std::size_t bytes = 0;
    int32_t s = query(&bytes);
    if (s < 0) return s;
    if (!ws.reserve(bytes)) return OTC_STATUS_WORKSPACE_TOO_SMALL;
    return call(ws.data(), ws.bytes());
}

/** The value a user callback returned, as a C status: void and true are success. */
template <class F, class... A>
int32_t invoke_callback(F &f, A &&...a) {
    using R = decltype(f(std::forward<A>(a)...));
    if constexpr (std::is_void_v<R>) {
        f(std::forward<A>(a)...);
        return 0;
    } else if constexpr (std::is_same_v<R, bool>) {
        return f(std::forward<A>(a)...) ? 0 : 1;
    } else {
        return static_cast<int32_t>(f(std::forward<A>(a)...));
    }
}

/**
 * The context a trampoline receives through `void *user`: the callables, and the
 * exception one of them threw (kept here, rethrown after the C call returns: an
 * exception must not unwind through the library's frames).
 */
template <class... F>
struct Context {
    /** Refers to the callables `f`. */
    explicit Context(F &...f) noexcept : fns(f...) {}
    std::tuple<F &...> fns; /**< The user's callables. */
#if !defined(OTC_HPP_NO_EXCEPTIONS)
    std::exception_ptr error; /**< The exception a callable threw, if any. */
#endif
    /** Runs callable `I` with `a`, catching what it throws. */
    template <std::size_t I, class... A>
    int32_t call(A &&...a) noexcept {
#if !defined(OTC_HPP_NO_EXCEPTIONS)
        try {
            return invoke_callback(std::get<I>(fns), std::forward<A>(a)...);
        } catch (...) {
            error = std::current_exception();
            return 1;
        }
#else
        return invoke_callback(std::get<I>(fns), std::forward<A>(a)...);
#endif
    }
    /** Rethrows a callable's exception, if one was caught. */
    void rethrow() const {
#if !defined(OTC_HPP_NO_EXCEPTIONS)
        if (error) std::rethrow_exception(error);
#endif
    }
};

/** Checks that every view has its expected size. */
inline bool sizes_match(std::initializer_list<std::pair<std::size_t, std::size_t>> l) {
    for (const auto &p : l)
        if (p.first != p.second) return false;
    return true;
}
}  // namespace detail

// ------------------------------------------------------------------------------------
// Sinkhorn and plan operations
// ------------------------------------------------------------------------------------

/** Sinkhorn settings: the C struct filled by `otc_sinkhorn_config_default_*`. */
template <class T>
struct SinkhornConfig : Api<T>::sinkhorn_config {
    /** The defaults: ε = 0.05 × mean cost, hard marginals, tolerance 1e-4 (f32). */
    SinkhornConfig() noexcept { Api<T>::sinkhorn_config_default(this); }
};

/** What a solve reports (`otc_sinkhorn_result_*`): iterations, error, ε, costs. */
template <class T>
using SinkhornResult = typename Api<T>::sinkhorn_result;

/**
 * An entropic OT problem: two weighted point clouds with cost scale·‖x − y‖², or a
 * dense n×m cost matrix (row-major). Borrows every array.
 */
template <class T>
class Problem {
public:
    /**
     * Point clouds `x` (n points) and `y` (m points, same d) in any layout, with weights
     * `a` (n) and `b` (m); cost scale·‖x − y‖².
     */
    static Problem point_clouds(Cloud<const T> x, Cloud<const T> y, View<const T> a,
                                View<const T> b, T scale = T(1)) noexcept {
        Problem p;
        p.c_.x = x.data();
        p.c_.y = y.data();
        p.c_.x_layout = x.layout();
        p.c_.y_layout = y.layout();
        p.c_.a = a.data();
        p.c_.b = b.data();
        p.c_.n = x.n();
        p.c_.m = y.n();
        p.c_.d = x.d();
        p.c_.scale = scale;
        p.ok_ = x.valid() && y.valid() && x.d() == y.d() && a.size() == x.n() &&
                b.size() == y.n();
        return p;
    }
    /** A dense cost `c` (n×m row-major, n = a.size(), m = b.size()). */
    static Problem dense(View<const T> c, View<const T> a, View<const T> b) noexcept {
        Problem p;
        p.c_.c = c.data();
        p.c_.a = a.data();
        p.c_.b = b.data();
        p.c_.n = a.size();
        p.c_.m = b.size();
        p.c_.scale = T(1);
        p.ok_ = c.size() == a.size() * b.size();
        return p;
    }
    /** Number of source points. */
    std::size_t n() const noexcept { return c_.n; }
    /** Number of target points. */
    std::size_t m() const noexcept { return c_.m; }
    /** Point dimension (0 for a dense cost). */
    std::size_t d() const noexcept { return c_.d; }
    /** The C struct. */
    const typename Api<T>::problem *c() const noexcept { return &c_; }
    /** False when the views' sizes disagree (calls then give `length_mismatch`). */
    bool consistent() const noexcept { return ok_; }

private:
    typename Api<T>::problem c_ = detail::sized<typename Api<T>::problem>();
    bool ok_ = false;
};

/** Workspace bytes of a solve or plan operation (`otc_sinkhorn_workspace_size_*`). */
template <class T>
Returns<std::size_t> sinkhorn_workspace_size(std::size_t n, std::size_t m, std::size_t d) {
    std::size_t bytes = 0;
    int32_t s = Api<T>::sinkhorn_workspace_size(n, m, d, &bytes);
    return detail::finish(s, bytes);
}

/**
 * Solves `problem` by log-domain Sinkhorn into the potentials `f` (n) and `g` (m), in
 * cost units (`otc_sinkhorn_solve_*`). The result's `status` is `OTC_STATUS_OK` or
 * `OTC_STATUS_MAX_ITERATIONS` (outputs usable; resume with `OTC_INIT_RESUME`).
 */
template <class T>
Returns<SinkhornResult<T>> sinkhorn(const Problem<T> &problem, const SinkhornConfig<T> &config,
                                    Workspace &ws, detail::nd<View<T>> f,
                                    detail::nd<View<T>> g) {
    auto out = detail::sized<SinkhornResult<T>>();
    if (!problem.consistent()) return detail::finish(OTC_STATUS_LENGTH_MISMATCH, out);
    int32_t s = detail::with_workspace(
        ws,
        [&](std::size_t *b) {
            return Api<T>::sinkhorn_workspace_size(problem.n(), problem.m(), problem.d(), b);
        },
        [&](void *w, std::size_t bytes) {
            return Api<T>::sinkhorn_solve(problem.c(), &config, w, bytes, f.data(), f.size(),
                                          g.data(), g.size(), &out);
        });
    return detail::finish(s, out);
}

/**
 * The entropic plan P_ij = exp((f_i + g_j − C_ij)/ε) of a solved problem, never
 * stored: each operation streams over the n·m pairs. Borrows the problem and the
 * potentials.
 */
template <class T>
class Plan {
public:
    /** The plan of `problem` at absolute ε (`SinkhornResult::epsilon`) and f, g. */
    Plan(const Problem<T> &problem, T epsilon, View<const T> f, View<const T> g) noexcept
        : p_(problem), eps_(epsilon), f_(f), g_(g) {}

    /**
     * This plan with `apply`, `apply_transpose`, `barycentric` and `transport_cost`
     * splitting their rows over the caller's pool (`otc_plan_*_parallel_*`; nullptr:
     * none): the same bits whatever the pool. The pool is borrowed.
     */
    Plan on(const otc_parallel_for *pool) const noexcept {
        Plan p = *this;
        p.pool_ = pool;
        return p;
    }

    /** out = P·v (v: m values, out: n). */
    Returns<Status> apply(View<const T> v, Workspace &ws, View<T> out) const {
        return run(ws, [&](void *w, std::size_t b) {
            return Api<T>::plan_apply_parallel(p_.c(), eps_, f_.data(), f_.size(), g_.data(), g_.size(),
                                      v.data(), v.size(), w, b, out.data(), out.size(), pool_);
        });
    }
    /** out = Pᵀ·u (u: n values, out: m). */
    Returns<Status> apply_transpose(View<const T> u, Workspace &ws, View<T> out) const {
        return run(ws, [&](void *w, std::size_t b) {
            return Api<T>::plan_apply_transpose_parallel(p_.c(), eps_, f_.data(), f_.size(), g_.data(),
                                                g_.size(), u.data(), u.size(), w, b, out.data(),
                                                out.size(), pool_);
        });
    }
    /** The barycentric projection of every source point onto y (out: n×d). */
    Returns<Status> barycentric(Workspace &ws, Points<T> out) const {
        if (!out.whole())  // e.g. rows that are not contiguous (otc::eigen::points)
            return detail::finish(OTC_STATUS_LENGTH_MISMATCH, Status::length_mismatch);
        return run(ws, [&](void *w, std::size_t b) {
            return Api<T>::plan_barycentric_parallel(p_.c(), eps_, f_.data(), f_.size(), g_.data(),
                                            g_.size(), w, b, out.data(), out.values().size(),
                                            pool_);
        });
    }
    /** The dense plan P (n×m row-major, mass units): O(n·m) memory, for small problems. */
    Returns<Status> dense(Workspace &ws, View<T> out) const {
        return run(ws, [&](void *w, std::size_t b) {
            return Api<T>::plan_dense(p_.c(), eps_, f_.data(), f_.size(), g_.data(), g_.size(),
                                      w, b, out.data(), out.size());
        });
    }
    /** ⟨C, P⟩ = Σ_ij C_ij P_ij (cost × mass units). */
    Returns<T> transport_cost(Workspace &ws) const {
        T cost{};
        int32_t s = raw(ws, [&](void *w, std::size_t b) {
            return Api<T>::plan_transport_cost_parallel(p_.c(), eps_, f_.data(), f_.size(), g_.data(),
                                               g_.size(), w, b, &cost, pool_);
        });
        return detail::finish(s, cost);
    }

private:
    template <class Call>
    int32_t raw(Workspace &ws, Call call) const {
        if (!p_.consistent()) return OTC_STATUS_LENGTH_MISMATCH;
        return detail::with_workspace(
            ws,
            [&](std::size_t *b) {
                return Api<T>::sinkhorn_workspace_size(p_.n(), p_.m(), p_.d(), b);
            },
            call);
    }
    template <class Call>
    Returns<Status> run(Workspace &ws, Call call) const {
        int32_t s = raw(ws, call);
        return detail::finish(s, static_cast<Status>(s));
    }
    const Problem<T> &p_;
    T eps_;
    View<const T> f_, g_;
    const otc_parallel_for *pool_ = nullptr;
};

// ------------------------------------------------------------------------------------
// Randomness, weights, resampling
// ------------------------------------------------------------------------------------

/**
 * A handle on a random stream owned elsewhere: what a filter's `predict` callable
 * receives (draw its noise from it, so that a run replays bit for bit).
 */
class RngRef {
public:
    /** The stream at `rng`. */
    explicit RngRef(otc_rng *rng) noexcept : p_(rng) {}
    /** Fills `out` with uniform draws in [0, 1) (`otc_rng_uniform_*`). */
    template <class T>
    void uniform(View<T> out) const noexcept {
        Api<T>::rng_uniform(p_, out.data(), out.size());
    }
    /** Fills `out` with standard normal draws (`otc_rng_normal_*`). */
    template <class T>
    void normal(View<T> out) const noexcept {
        Api<T>::rng_normal(p_, out.data(), out.size());
    }
    /** The C stream. */
    otc_rng *c() const noexcept { return p_; }

private:
    otc_rng *p_;
};

/** A seeded random stream (SplitMix64; the whole state is `state`: copy it to fork). */
struct Rng : otc_rng {
    /** The stream seeded with `seed`. */
    explicit Rng(uint64_t seed = 0) noexcept : otc_rng{seed} {}
    /** A handle on this stream. */
    RngRef ref() noexcept { return RngRef(this); }
    /** Fills `out` with uniform draws in [0, 1). */
    template <class T>
    void uniform(View<T> out) noexcept {
        ref().uniform(out);
    }
    /** Fills `out` with standard normal draws. */
    template <class T>
    void normal(View<T> out) noexcept {
        ref().normal(out);
    }
};

/** Normalises log-weights in place; returns (log Σ e^logw, ESS). */
template <class T>
Returns<std::pair<T, T>> normalise_log_weights(View<T> logw) {
    T lse{}, ess{};
    int32_t s = Api<T>::log_weights_normalise(logw.data(), logw.size(), &lse, &ess);
    return detail::finish(s, std::pair<T, T>(lse, ess));
}

/** Draws `ancestors.size()` (= N) ancestor indices with an `OTC_RESAMPLE_*` scheme. */
template <class T>
Returns<Status> resample_ancestors(int32_t scheme, View<const T> logw, Rng &rng,
                                   View<std::size_t> ancestors) {
    int32_t s = ancestors.size() == logw.size()
                    ? Api<T>::resample_ancestors(scheme, logw.data(), logw.size(), &rng,
                                                 ancestors.data())
                    : OTC_STATUS_LENGTH_MISMATCH;
    return detail::finish(s, static_cast<Status>(s));
}

/** OT-resampling settings (the C struct, defaults filled); set `epsilon` (required). */
template <class T>
struct OtResampleConfig : Api<T>::ot_resample_config {
    /** The defaults, with `epsilon` set to `eps` (0 = unset: refused by the call). */
    explicit OtResampleConfig(T eps = T(0)) noexcept {
        Api<T>::ot_resample_config_default(this);
        this->epsilon = eps;
    }
};

/** What one OT resampling did (`otc_ot_resample_report_*`). */
template <class T>
using OtResampleReport = typename Api<T>::ot_resample_report;

/**
 * OT resampling (filterflow's regularised transform, `otc_ot_resample_*`): the N
 * weighted particles `x` become N equally weighted ones in `x_out` (same shape).
 */
template <class T>
Returns<OtResampleReport<T>> ot_resample(const OtResampleConfig<T> &config,
                                         detail::nd<Points<const T>> x,
                                         detail::nd<View<const T>> logw, Workspace &ws,
                                         detail::nd<Points<T>> x_out) {
    auto rep = detail::sized<OtResampleReport<T>>();
    if (!x.whole() || logw.size() != x.n() || x_out.values().size() != x.values().size())
        return detail::finish(OTC_STATUS_LENGTH_MISMATCH, rep);
    int32_t s = detail::with_workspace(
        ws, [&](std::size_t *b) { return Api<T>::ot_resample_workspace_size(x.n(), x.d(), b); },
        [&](void *w, std::size_t bytes) {
            return Api<T>::ot_resample(&config, x.data(), logw.data(), x.n(), x.d(), w, bytes,
                                       x_out.data(), &rep);
        });
    return detail::finish(s, rep);
}

/** Settings of the OT-resampling VJP (the C struct, defaults filled). */
template <class T>
struct VjpConfig : Api<T>::vjp_config {
    /** The defaults: filterflow's clipped one-step form. */
    VjpConfig() noexcept { Api<T>::vjp_config_default(this); }
};

/**
 * Vector–Jacobian product of `ot_resample` (`otc_ot_resample_vjp_*`): from `ybar` =
 * ∂L/∂x_out (N×d) into `dx` (N×d) and `dlogw` (N).
 */
template <class T>
Returns<Status> ot_resample_vjp(const OtResampleConfig<T> &config, const VjpConfig<T> &vjp,
                                detail::nd<Points<const T>> x, detail::nd<View<const T>> logw,
                                detail::nd<View<const T>> ybar, Workspace &ws,
                                detail::nd<View<T>> dx, detail::nd<View<T>> dlogw) {
    int32_t s = OTC_STATUS_LENGTH_MISMATCH;
    if (x.whole() && detail::sizes_match({{logw.size(), x.n()},
                                           {ybar.size(), x.values().size()},
                                           {dx.size(), x.values().size()},
                                           {dlogw.size(), x.n()}}))
        s = detail::with_workspace(
            ws, [&](std::size_t *b) { return Api<T>::vjp_workspace_size(x.n(), x.d(), b); },
            [&](void *w, std::size_t bytes) {
                return Api<T>::ot_resample_vjp(&config, &vjp, x.data(), logw.data(), x.n(),
                                               x.d(), ybar.data(), w, bytes, dx.data(),
                                               dlogw.data());
            });
    return detail::finish(s, static_cast<Status>(s));
}

// ------------------------------------------------------------------------------------
// Particle filter
// ------------------------------------------------------------------------------------

/** Particle-filter settings (the C struct, defaults: systematic when ESS < N/2). */
template <class T>
struct PfConfig : Api<T>::pf_config {
    /** The defaults. */
    PfConfig() noexcept { Api<T>::pf_config_default(this); }
    /** OT resampling with ε = `epsilon` (normalised cloud; 0.5 for N ≤ 100). */
    static PfConfig optimal(T epsilon) noexcept {
        PfConfig c;
        c.resampler = OTC_RESAMPLE_OPTIMAL;
        c.ot.epsilon = epsilon;
        return c;
    }
    /** A classical resampler (`OTC_RESAMPLE_SYSTEMATIC`, …). */
    static PfConfig classical(int32_t resampler) noexcept {
        PfConfig c;
        c.resampler = resampler;
        return c;
    }
};

/** What one filter step did (`otc_pf_report_*`). */
template <class T>
using PfReport = typename Api<T>::pf_report;

/**
 * A particle filter of N particles in dimension d: holds the settings, the particles,
 * their log-weights and the running totals in caller memory (views), and steps them
 * with two callables:
 * - `predict(otc::Points<const T> prev, otc::Points<T> next, otc::RngRef rng)`: writes
 *   the proposed particles, drawing noise from `rng`;
 * - `loglik(otc::Points<const T> x, otc::View<T> out)`: writes log g(y | x_i) (nats).
 *
 * Each may return `void`, `bool` (false = failure) or an integer (non-zero =
 * failure); a failure or an exception leaves the filter unchanged (an exception is
 * rethrown from `step`). Lambdas with captures work: they are passed through the C
 * `void *` context, with no allocation.
 */
template <class T>
class ParticleFilter {
public:
    /**
     * A filter over `particles` (N×d) and `logw` (N). Sets uniform weights and zero
     * totals (`otc_pf_init_*`); draw the initial particles yourself.
     */
    ParticleFilter(const PfConfig<T> &config, Points<T> particles, View<T> logw)
        : config_(config), x_(particles), logw_(logw), state_(detail::sized<State>()) {
        int32_t s = particles.whole() && logw.size() == particles.n()
                        ? Api<T>::pf_init(logw.data(), logw.size(), &state_)
                        : OTC_STATUS_LENGTH_MISMATCH;
        status_ = static_cast<Status>(s);
#if !defined(OTC_HPP_NO_EXCEPTIONS)
        if (s < 0) throw Error(status_);
#endif
    }

    /** The status of the construction (always `ok` with exceptions on). */
    Status init_status() const noexcept { return status_; }
    /** Workspace bytes of one step (`otc_pf_workspace_size_*`). */
    Returns<std::size_t> workspace_size() const {
        std::size_t b = 0;
        int32_t s = Api<T>::pf_workspace_size(x_.n(), x_.d(), config_.resampler, &b);
        return detail::finish(s, b);
    }

    /**
     * One step (`otc_pf_step_*`): predict → weight → weighted mean (d) and covariance
     * (d×d row-major) → resample if the trigger fires.
     */
    template <class Predict, class Loglik>
    Returns<PfReport<T>> step(Predict &&predict, Loglik &&loglik, Rng &rng, Workspace &ws,
                              View<T> mean, View<T> cov) {
        auto rep = detail::sized<PfReport<T>>();
        const std::size_t n = x_.n(), d = x_.d();
        if (status_ != Status::ok || mean.size() != d || cov.size() != d * d)
            return detail::finish(OTC_STATUS_LENGTH_MISMATCH, rep);
        using Ctx = detail::Context<Predict, Loglik>;
        Ctx ctx(predict, loglik);
        int32_t s = detail::with_workspace(
            ws,
            [&](std::size_t *b) {
                return Api<T>::pf_workspace_size(n, d, config_.resampler, b);
            },
            [&](void *w, std::size_t bytes) {
                return Api<T>::pf_step(&config_, &predict_tramp<Ctx>, &loglik_tramp<Ctx>, &ctx, n,
                                       d, &rng, x_.data(), logw_.data(), &state_, w, bytes,
                                       mean.data(), cov.data(), &rep);
            });
        ctx.rethrow();
        return detail::finish(s, rep);
    }

    /** ℓ̂: the log-likelihood estimate of the observations so far (nats). */
    T log_likelihood() const noexcept { return state_.log_likelihood; }
    /** Steps taken. */
    uint64_t steps() const noexcept { return state_.steps; }
    /** Steps that resampled. */
    uint64_t resamples() const noexcept { return state_.resamples; }
    /** The particles. */
    Points<T> particles() const noexcept { return x_; }
    /** The normalised log-weights. */
    View<T> log_weights() const noexcept { return logw_; }
    /** The settings. */
    const PfConfig<T> &config() const noexcept { return config_; }

private:
    using State = typename Api<T>::pf_state;
    template <class Ctx>
    static int32_t predict_tramp(void *user, std::size_t n, std::size_t d, const T *prev,
                                 T *next, otc_rng *rng) noexcept {
        auto *ctx = static_cast<Ctx *>(user);
        return ctx->template call<0>(Points<const T>(prev, n, d), Points<T>(next, n, d),
                                     RngRef(rng));
    }
    template <class Ctx>
    static int32_t loglik_tramp(void *user, std::size_t n, std::size_t d, const T *x,
                                T *out) noexcept {
        auto *ctx = static_cast<Ctx *>(user);
        return ctx->template call<1>(Points<const T>(x, n, d), View<T>(out, n));
    }
    PfConfig<T> config_;
    Points<T> x_;
    View<T> logw_;
    State state_;
    Status status_ = Status::ok;
};

// ------------------------------------------------------------------------------------
// Differentiable particle filter (forward mode)
// ------------------------------------------------------------------------------------

/**
 * Differentiable-filter settings (`otc_dpf_config_*`); the defaults: systematic
 * resampling when ESS < N/2, `OTC_DPF_STOP_GRADIENT`. `OTC_RESAMPLE_OPTIMAL` is for
 * `dpf_step_ot` (`dpf_step` refuses it with `Status::invalid_parameter`).
 */
template <class T>
struct DpfConfig : Api<T>::dpf_config {
    /** The defaults (`otc_dpf_config_default_*`). */
    DpfConfig() noexcept { Api<T>::dpf_config_default(this); }
    /** The defaults with the gradient mode `gradient` (`OTC_DPF_DETACH`, `_STOP_GRADIENT`, `_SCORE`). */
    static DpfConfig with_gradient(int32_t gradient) noexcept {
        DpfConfig c;
        c.gradient = gradient;
        return c;
    }
};

/**
 * Settings of `dpf_step_ot` (`otc_dpf_ot_config_*`): OT resampling's map (`resample`,
 * as for `otc_ot_resample_*`; ε required) and the CG tolerance and cap of its JVP,
 * defaults set.
 */
template <class T>
struct DpfOtConfig : Api<T>::dpf_ot_config {
    /** The defaults (`otc_dpf_ot_config_default_*`); ε still 0 (refused). */
    DpfOtConfig() noexcept { Api<T>::dpf_ot_config_default(this); }
    /** The defaults with OT resampling's dimensionless ε (e.g. 0.5). */
    static DpfOtConfig with_epsilon(T epsilon) noexcept {
        DpfOtConfig c;
        c.resample.epsilon = epsilon;
        return c;
    }
};

/**
 * The running totals of a filter (`otc_pf_state_*`: ℓ̂ in nats, steps, resamplings),
 * zeroed with `struct_size` set; `dpf_init` starts them, `dpf_step` accumulates.
 */
template <class T>
struct PfState : Api<T>::pf_state {
    /** Zero totals, `struct_size` set. */
    PfState() noexcept : Api<T>::pf_state(detail::sized<typename Api<T>::pf_state>()) {}
};

/**
 * Values of the tangent state for N particles of dimension d and P parameters
 * (`otc_dpf_tangent_len`): N·(d + 1)·P, ∂x/∂θ (per particle a d×P block, row-major)
 * then ∂log w/∂θ (N×P). Error: `Status::length_mismatch` on overflow.
 */
inline Returns<std::size_t> dpf_tangent_len(std::size_t n, std::size_t d, std::size_t p) {
    std::size_t len = 0;
    int32_t s = otc_dpf_tangent_len(n, d, p, &len);
    return detail::finish(s, len);
}

/**
 * Workspace bytes of `dpf_step` for N particles, dimension d, P parameters and k =
 * `noise_dim` normals per particle (`otc_dpf_workspace_size_*`; the same number as
 * `OTC_DPF_WORKSPACE_SIZE_F32/F64`). Error: `Status::length_mismatch` on overflow.
 */
template <class T>
Returns<std::size_t> dpf_workspace_size(std::size_t n, std::size_t d, std::size_t p,
                                        std::size_t noise_dim) {
    std::size_t b = 0;
    int32_t s = Api<T>::dpf_workspace_size(n, d, p, noise_dim, &b);
    return detail::finish(s, b);
}

/**
 * Workspace bytes of `dpf_step_ot` (`otc_dpf_ot_workspace_size_*`; the same number as
 * `OTC_DPF_OT_WORKSPACE_SIZE_F32/F64`). Error: `Status::length_mismatch` on overflow.
 */
template <class T>
Returns<std::size_t> dpf_ot_workspace_size(std::size_t n, std::size_t d, std::size_t p,
                                           std::size_t noise_dim) {
    std::size_t b = 0;
    int32_t s = Api<T>::dpf_ot_workspace_size(n, d, p, noise_dim, &b);
    return detail::finish(s, b);
}

/**
 * A parameterised model for `dpf_step` (`otc_dpf_model_*`): a reparameterised
 * transition x' = f_θ(x, ξ), ξ ~ N(0, I_k) with k = `noise_dim` (the library draws ξ
 * from the step's `Rng`), and an observation log-density log g_θ(y | x) in nats. It
 * holds five callables, in the C struct's order, each batched over the N particles
 * (θ has P values; P = `theta.size()`):
 * - `transition(View<const T> theta, Points<const T> x, Points<const T> xi, Points<T> x_next)`:
 *   x_next[i] = f_θ(x[i], xi[i]) (xi: N×k);
 * - `transition_jvp(theta, x, xi, Points<const T> x_next, Points<const T> dx, Points<T> dx_next)`:
 *   per particle the d×P block (row-major, one point of d·P values)
 *   dx_next[i] = ∂f/∂x · dx[i] + ∂f/∂θ; needed unless the gradient is `OTC_DPF_SCORE`;
 * - `transition_score(theta, x, Points<const T> x_next, Points<T> score)`: score[i]
 *   (P values) = ∇_θ log f_θ(x_next[i] | x[i]); needed by `OTC_DPF_SCORE` only;
 * - `loglik(theta, Points<const T> x, View<T> out)`: out[i] = log g_θ(y | x[i]) (nats;
 *   −∞ = a dead particle); the observation y is the callable's (capture it);
 * - `loglik_grad(theta, x, Points<T> grad_x, Points<T> grad_theta)`: ∇_x (d values)
 *   and ∇_θ (P values) of log g_θ(y | x[i]).
 *
 * Each may return `void`, `bool` (false = failure) or an integer (non-zero =
 * failure), as the particle filter's callables; a failure gives
 * `Status::callback_failed` and an exception is rethrown from `dpf_step`, with nothing
 * changed either way. A callable may be `nullptr` (absent: the C slot is NULL;
 * `dpf_step` reports `Status::null_pointer` when the gradient mode needs it). The
 * callables are stored by value (capture by reference what must outlive a step);
 * nothing is allocated. Build one with `dpf_model<T>(…)`.
 */
template <class T, class Transition, class Jvp, class Score, class Loglik, class LoglikGrad,
          class Vjp = std::nullptr_t, class Seek = std::nullptr_t>
class DpfModel {
public:
    /** k normals per particle per step (0 allowed) and the seven callables. */
    DpfModel(std::size_t noise_dim, Transition transition, Jvp transition_jvp,
             Score transition_score, Loglik loglik, LoglikGrad loglik_grad, Vjp transition_vjp,
             Seek seek)
        : noise_dim_(noise_dim),
          fns_(std::move(transition), std::move(transition_jvp), std::move(transition_score),
               std::move(loglik), std::move(loglik_grad), std::move(transition_vjp),
               std::move(seek)) {}
    /** k: standard normals drawn per particle per step. */
    std::size_t noise_dim() const noexcept { return noise_dim_; }
    /** The callables, in the C struct's order. */
    std::tuple<Transition, Jvp, Score, Loglik, LoglikGrad, Vjp, Seek> &callables() noexcept {
        return fns_;
    }

private:
    std::size_t noise_dim_;
    std::tuple<Transition, Jvp, Score, Loglik, LoglikGrad, Vjp, Seek> fns_;
};

/**
 * A `DpfModel<T, …>` with reverse mode's callables too (`dpf_tape_gradient`):
 * - `transition_vjp(theta, Points<const T> x, Points<const T> xi, Points<const T> x_next,
 *   Points<const T> x_next_bar, Points<T> x_bar, Points<T> theta_bar)`: per particle
 *   x_bar[i] = (∂f/∂x)ᵀ x_next_bar[i] (d values) and theta_bar[i] = (∂f/∂θ)ᵀ
 *   x_next_bar[i] (P values; the library sums them);
 * - `seek(std::size_t tick)`: the calls that follow are for recorded tick `tick` (use its
 *   observation and inputs).
 */
template <class T, class Transition, class Jvp, class Score, class Loglik, class LoglikGrad,
          class Vjp, class Seek>
DpfModel<T, std::decay_t<Transition>, std::decay_t<Jvp>, std::decay_t<Score>,
         std::decay_t<Loglik>, std::decay_t<LoglikGrad>, std::decay_t<Vjp>, std::decay_t<Seek>>
dpf_model(std::size_t noise_dim, Transition &&transition, Jvp &&transition_jvp,
          Score &&transition_score, Loglik &&loglik, LoglikGrad &&loglik_grad,
          Vjp &&transition_vjp, Seek &&seek) {
    return {noise_dim,
            std::forward<Transition>(transition),
            std::forward<Jvp>(transition_jvp),
            std::forward<Score>(transition_score),
            std::forward<Loglik>(loglik),
            std::forward<LoglikGrad>(loglik_grad),
            std::forward<Vjp>(transition_vjp),
            std::forward<Seek>(seek)};
}

/**
 * A `DpfModel<T, …>` over the given callables (copied or moved in; `nullptr` for an
 * absent one): `otc::dpf_model<double>(1, transition, jvp, nullptr, loglik, grad)`.
 */
template <class T, class Transition, class Jvp, class Score, class Loglik, class LoglikGrad>
DpfModel<T, std::decay_t<Transition>, std::decay_t<Jvp>, std::decay_t<Score>,
         std::decay_t<Loglik>, std::decay_t<LoglikGrad>>
dpf_model(std::size_t noise_dim, Transition &&transition, Jvp &&transition_jvp,
          Score &&transition_score, Loglik &&loglik, LoglikGrad &&loglik_grad) {
    return dpf_model<T>(noise_dim, std::forward<Transition>(transition),
                        std::forward<Jvp>(transition_jvp),
                        std::forward<Score>(transition_score), std::forward<Loglik>(loglik),
                        std::forward<LoglikGrad>(loglik_grad), nullptr, nullptr);
}

namespace detail {
/** The context of a `dpf_step` call: the model's callables and k (the width of ξ). */
template <class... F>
struct DpfContext : Context<F...> {
    /** Refers to the callables `f`; `k` normals per particle. */
    explicit DpfContext(std::size_t k, F &...f) noexcept : Context<F...>(f...), noise_dim(k) {}
    std::size_t noise_dim; /**< k */
};
/** The C `transition` over callable 0. */
template <class T, class Ctx>
int32_t dpf_transition_tramp(void *user, std::size_t n, std::size_t d, std::size_t p,
                             const T *th, const T *x, const T *xi, T *x_next) noexcept {
    auto *ctx = static_cast<Ctx *>(user);
    return ctx->template call<0>(View<const T>(th, p), Points<const T>(x, n, d),
                                 Points<const T>(xi, n, ctx->noise_dim), Points<T>(x_next, n, d));
}
/** The C `transition_jvp` over callable 1 (blocks of d·P values per particle). */
template <class T, class Ctx>
int32_t dpf_jvp_tramp(void *user, std::size_t n, std::size_t d, std::size_t p, const T *th,
                      const T *x, const T *xi, const T *x_next, const T *dx,
                      T *dx_next) noexcept {
    auto *ctx = static_cast<Ctx *>(user);
    return ctx->template call<1>(View<const T>(th, p), Points<const T>(x, n, d),
                                 Points<const T>(xi, n, ctx->noise_dim),
                                 Points<const T>(x_next, n, d), Points<const T>(dx, n, d * p),
                                 Points<T>(dx_next, n, d * p));
}
/** The C `transition_score` over callable 2. */
template <class T, class Ctx>
int32_t dpf_score_tramp(void *user, std::size_t n, std::size_t d, std::size_t p, const T *th,
                        const T *x, const T *x_next, T *score) noexcept {
    auto *ctx = static_cast<Ctx *>(user);
    return ctx->template call<2>(View<const T>(th, p), Points<const T>(x, n, d),
                                 Points<const T>(x_next, n, d), Points<T>(score, n, p));
}
/** The C `loglik` over callable 3. */
template <class T, class Ctx>
int32_t dpf_loglik_tramp(void *user, std::size_t n, std::size_t d, std::size_t p, const T *th,
                         const T *x, T *out) noexcept {
    auto *ctx = static_cast<Ctx *>(user);
    return ctx->template call<3>(View<const T>(th, p), Points<const T>(x, n, d), View<T>(out, n));
}
/** The C `loglik_grad` over callable 4. */
template <class T, class Ctx>
int32_t dpf_grad_tramp(void *user, std::size_t n, std::size_t d, std::size_t p, const T *th,
                       const T *x, T *grad_x, T *grad_theta) noexcept {
    auto *ctx = static_cast<Ctx *>(user);
    return ctx->template call<4>(View<const T>(th, p), Points<const T>(x, n, d),
                                 Points<T>(grad_x, n, d), Points<T>(grad_theta, n, p));
}
/** The C `transition_vjp` over callable 5. */
template <class T, class Ctx>
int32_t dpf_vjp_tramp(void *user, std::size_t n, std::size_t d, std::size_t p, const T *th,
                      const T *x, const T *xi, const T *x_next, const T *x_next_bar, T *x_bar,
                      T *theta_bar) noexcept {
    auto *ctx = static_cast<Ctx *>(user);
    return ctx->template call<5>(View<const T>(th, p), Points<const T>(x, n, d),
                                 Points<const T>(xi, n, ctx->noise_dim),
                                 Points<const T>(x_next, n, d), Points<const T>(x_next_bar, n, d),
                                 Points<T>(x_bar, n, d), Points<T>(theta_bar, n, p));
}
/** The C `seek` over callable 6. */
template <class Ctx>
int32_t dpf_seek_tramp(void *user, std::size_t tick) noexcept {
    return static_cast<Ctx *>(user)->template call<6>(tick);
}
/** True for an absent callable (`nullptr`). */
template <class F>
inline constexpr bool absent = std::is_same_v<F, std::nullptr_t>;
}  // namespace detail

/**
 * Starts a differentiable filter over the particles `x` (N×d; read for N and d only:
 * draw them yourself) with P = `dloglik.size()` parameters (`otc_dpf_init_*`):
 * `logw` (N) = −log N, `tangent` (`dpf_tangent_len(N, d, P)` values) = 0 (write ∂x₀/∂θ
 * into its first N·d·P values if the initial particles depend on θ), `state` = zero
 * totals, `dloglik` (P) = 0.
 *
 * Errors (nothing written): `Status::length_mismatch` (a view of the wrong size, `x`
 * not a whole number of points), and the C call's: `empty_input` (N or P = 0),
 * `invalid_parameter` (overlapping views), `misaligned`.
 */
template <class T>
Returns<Status> dpf_init(detail::nd<Points<const T>> x, detail::nd<View<T>> logw,
                         detail::nd<View<T>> tangent, PfState<T> &state,
                         detail::nd<View<T>> dloglik) {
    const std::size_t n = x.n(), d = x.d(), p = dloglik.size();
    std::size_t len = 0;
    int32_t s = otc_dpf_tangent_len(n, d, p, &len);
    if (s >= 0 && !(x.whole() && detail::sizes_match({{logw.size(), n}, {tangent.size(), len}})))
        s = OTC_STATUS_LENGTH_MISMATCH;
    if (s >= 0) s = Api<T>::dpf_init(n, d, p, logw.data(), tangent.data(), &state, dloglik.data());
    return detail::finish(s, static_cast<Status>(s));
}

namespace detail {
/** The C model over the trampolines of the present callables, `ctx` as `user`. */
template <class T, class Ctx, class... F>
typename Api<T>::dpf_model c_model(Ctx &ctx) noexcept {
    using Fs = std::tuple<F...>;
    auto m = detail::sized<typename Api<T>::dpf_model>();
    m.user = &ctx;
    m.noise_dim = ctx.noise_dim;
    if constexpr (!absent<std::tuple_element_t<0, Fs>>) m.transition = &dpf_transition_tramp<T, Ctx>;
    if constexpr (!absent<std::tuple_element_t<1, Fs>>) m.transition_jvp = &dpf_jvp_tramp<T, Ctx>;
    if constexpr (!absent<std::tuple_element_t<2, Fs>>)
        m.transition_score = &dpf_score_tramp<T, Ctx>;
    if constexpr (!absent<std::tuple_element_t<3, Fs>>) m.loglik = &dpf_loglik_tramp<T, Ctx>;
    if constexpr (!absent<std::tuple_element_t<4, Fs>>) m.loglik_grad = &dpf_grad_tramp<T, Ctx>;
    if constexpr (!absent<std::tuple_element_t<5, Fs>>) m.transition_vjp = &dpf_vjp_tramp<T, Ctx>;
    if constexpr (!absent<std::tuple_element_t<6, Fs>>) m.seek = &dpf_seek_tramp<Ctx>;
    return m;
}

/** `dpf_step` (`ot` NULL) or `dpf_step_ot`. */
template <class T, class... F>
Returns<PfReport<T>> dpf_call(const DpfConfig<T> &config, const typename Api<T>::dpf_ot_config *ot,
                              DpfModel<T, F...> &model, nd<View<const T>> theta, Rng &rng,
                              nd<Points<T>> x, nd<View<T>> logw, nd<View<T>> tangent,
                              PfState<T> &state, nd<View<T>> dloglik, Workspace &ws,
                              nd<View<T>> mean, nd<View<T>> dmean) {
    auto rep = detail::sized<PfReport<T>>();
    const std::size_t n = x.n(), d = x.d(), p = theta.size(), k = model.noise_dim();
    std::size_t len = 0;
    int32_t s = otc_dpf_tangent_len(n, d, p, &len);
    if (s < 0) return detail::finish(s, rep);
    if (!x.whole() || !detail::sizes_match({{logw.size(), n},
                                            {tangent.size(), len},
                                            {dloglik.size(), p},
                                            {mean.size(), d},
                                            {dmean.size(), d * p}}))
        return detail::finish(OTC_STATUS_LENGTH_MISMATCH, rep);
    using Ctx = detail::DpfContext<F...>;
    Ctx ctx = std::apply([k](F &...f) { return Ctx(k, f...); }, model.callables());
    const auto m = detail::c_model<T, Ctx, F...>(ctx);
    s = detail::with_workspace(
        ws,
        [&](std::size_t *b) {
            return ot ? Api<T>::dpf_ot_workspace_size(n, d, p, k, b)
                      : Api<T>::dpf_workspace_size(n, d, p, k, b);
        },
        [&](void *w, std::size_t bytes) {
            return ot ? Api<T>::dpf_step_ot(&config, ot, &m, theta.data(), p, n, d, &rng,
                                            x.data(), logw.data(), tangent.data(), &state,
                                            dloglik.data(), w, bytes, mean.data(), dmean.data(),
                                            &rep)
                      : Api<T>::dpf_step(&config, &m, theta.data(), p, n, d, &rng, x.data(),
                                         logw.data(), tangent.data(), &state, dloglik.data(), w,
                                         bytes, mean.data(), dmean.data(), &rep);
        });
    ctx.rethrow();
    return detail::finish(s, rep);
}
}  // namespace detail

/**
 * One forward-mode step of the differentiable particle filter (`otc_dpf_step_*`):
 * transition with ξ ~ N(0, I_k) drawn from `rng`, weighting, Δℓ, weighted mean,
 * resampling if the trigger fires, carrying the tangents so that `dloglik` (P)
 * accumulates ∂ℓ̂/∂θ of the running log-likelihood `state.log_likelihood` (nats), and
 * `dmean` (d×P, row-major) is ∂mean/∂θ. P = `theta.size()`.
 *
 * - `x` (N×d), `logw` (N, normalised), `tangent` (`dpf_tangent_len(N, d, P)`): the
 *   particle set and its tangents, in place (start with `dpf_init`); `state`,
 *   `dloglik`: the totals, accumulated.
 * - `ws`: sized here with `dpf_workspace_size<T>(N, d, P, model.noise_dim())` (an
 *   owning workspace grows; a borrowed one must be large enough).
 * - `mean` (d), `dmean` (d×P): the weighted mean after weighting, before resampling,
 *   and its derivative.
 *
 * Returns the step's report (`otc_pf_report_*`). On any error nothing changes (`x`,
 * `logw`, `tangent`, `state`, `dloglik`, `mean`, `dmean`, and `rng` is restored):
 * `Status::length_mismatch` (a view of the wrong size), `null_pointer` (a callable the
 * gradient mode needs is absent), `struct_size`, `invalid_parameter`
 * (`OTC_RESAMPLE_OPTIMAL`; an unknown resampler, trigger or gradient; a threshold ∉
 * [0, 1]; overlapping views), `empty_input` (P = 0), `non_finite_input` (NaN/∞ in θ,
 * particles, tangents or `dloglik`), `zero_mass`, `workspace_too_small`,
 * `callback_failed` (a callable failed; its exception, if it threw one, is rethrown
 * instead), `non_finite` (a callable wrote NaN/∞), `panic`.
 */
template <class T, class... F>
Returns<PfReport<T>> dpf_step(const DpfConfig<T> &config, DpfModel<T, F...> &model,
                              detail::nd<View<const T>> theta, Rng &rng,
                              detail::nd<Points<T>> x, detail::nd<View<T>> logw,
                              detail::nd<View<T>> tangent, PfState<T> &state,
                              detail::nd<View<T>> dloglik, Workspace &ws,
                              detail::nd<View<T>> mean, detail::nd<View<T>> dmean) {
    return detail::dpf_call<T>(config, nullptr, model, theta, rng, x, logw, tangent, state,
                               dloglik, ws, mean, dmean);
}

/**
 * `dpf_step` resampling by OT (`otc_dpf_step_ot_*`): `config.resampler` must be
 * `OTC_RESAMPLE_OPTIMAL`, `ot` gives the map's settings and its JVP's CG; the particle
 * tangents go through the map's exact JVP, the log-weights become uniform with zero
 * tangents. `ws` is sized with `dpf_ot_workspace_size`. Errors as `dpf_step`, and
 * `invalid_parameter` for a classical resampler, `OTC_DPF_SCORE` or invalid OT or CG
 * settings, `invalid_epsilon`.
 */
template <class T, class... F>
Returns<PfReport<T>> dpf_step_ot(const DpfConfig<T> &config, const DpfOtConfig<T> &ot,
                                 DpfModel<T, F...> &model, detail::nd<View<const T>> theta,
                                 Rng &rng, detail::nd<Points<T>> x, detail::nd<View<T>> logw,
                                 detail::nd<View<T>> tangent, PfState<T> &state,
                                 detail::nd<View<T>> dloglik, Workspace &ws,
                                 detail::nd<View<T>> mean, detail::nd<View<T>> dmean) {
    return detail::dpf_call<T>(config, &ot, model, theta, rng, x, logw, tangent, state,
                               dloglik, ws, mean, dmean);
}

// ------------------------------------------------------------------------------------
// Differentiable particle filter (reverse mode over a window)
// ------------------------------------------------------------------------------------

/**
 * A reverse-mode tape (`otc_dpf_tape_*`): describes caller memory holding up to
 * `window` recorded ticks. Start it with `dpf_tape_init`; `dpf_tape_step` appends a
 * tick, `dpf_tape_gradient` reads them; `clear()` starts a new window.
 */
template <class T>
struct DpfTape : Api<T>::dpf_tape {
    /** An empty descriptor, `struct_size` set (fill it with `dpf_tape_init`). */
    DpfTape() noexcept : Api<T>::dpf_tape(detail::sized<typename Api<T>::dpf_tape>()) {}
    /** Forgets the recorded ticks. */
    void clear() noexcept { this->ticks = 0; }
};

/**
 * Values of a tape for `window` ticks of N particles of dimension d with k =
 * `noise_dim` normals each (`otc_dpf_tape_len`): window·(N·(2d + k + 2) + 1). Error:
 * `Status::length_mismatch` on overflow.
 */
inline Returns<std::size_t> dpf_tape_len(std::size_t n, std::size_t d, std::size_t noise_dim,
                                         std::size_t window) {
    std::size_t len = 0;
    int32_t s = otc_dpf_tape_len(n, d, noise_dim, window, &len);
    return detail::finish(s, len);
}

/**
 * Workspace bytes of `dpf_tape_step` and `dpf_tape_gradient` (one workspace serves
 * both; `otc_dpf_tape_workspace_size_*`, with OT resampling if `ot`). Error:
 * `Status::length_mismatch` on overflow.
 */
template <class T>
Returns<std::size_t> dpf_tape_workspace_size(std::size_t n, std::size_t d, std::size_t p,
                                             std::size_t noise_dim, bool ot) {
    std::size_t b = 0;
    int32_t s = Api<T>::dpf_tape_workspace_size(n, d, p, noise_dim, ot, &b);
    return detail::finish(s, b);
}

/**
 * Starts an empty tape over `values` (at least `dpf_tape_len(n, d, noise_dim, window)`
 * values, which must outlive the tape's use) for `window` ticks of N particles of
 * dimension d (`otc_dpf_tape_init_*`). Errors (nothing written): `Status::empty_input`
 * (n, d or window = 0), `workspace_too_small` (`values` short), `invalid_parameter`
 * (overlap; N > 2²⁴ + 1 in float), `misaligned`.
 */
template <class T>
Returns<Status> dpf_tape_init(detail::nd<View<T>> values, std::size_t n, std::size_t d,
                              std::size_t noise_dim, std::size_t window, DpfTape<T> &tape) {
    int32_t s = Api<T>::dpf_tape_init(values.data(), values.size(), n, d, noise_dim, window,
                                      &tape);
    return detail::finish(s, static_cast<Status>(s));
}

/**
 * One step of the differentiable filter recorded on `tape` (`otc_dpf_tape_step_*`):
 * the values of `dpf_step` (or `dpf_step_ot` with `ot` non-null) bit for bit, without
 * tangents; the tick is appended to the tape. `x`, `logw`, `state`, `mean`: as
 * `dpf_step`; `ws` sized with `dpf_tape_workspace_size`. Errors as `dpf_step`, and
 * `invalid_parameter` (`OTC_DPF_SCORE`), `length_mismatch` (the tape's n, d or
 * noise_dim differ), `workspace_too_small` (also: the tape is full — take the gradient,
 * then `clear()` it); nothing changes, the tape and `rng` included.
 */
template <class T, class... F>
Returns<PfReport<T>> dpf_tape_step(const DpfConfig<T> &config, const DpfOtConfig<T> *ot,
                                   DpfModel<T, F...> &model, detail::nd<View<const T>> theta,
                                   Rng &rng, detail::nd<Points<T>> x, detail::nd<View<T>> logw,
                                   PfState<T> &state, DpfTape<T> &tape, Workspace &ws,
                                   detail::nd<View<T>> mean) {
    auto rep = detail::sized<PfReport<T>>();
    const std::size_t n = x.n(), d = x.d(), p = theta.size(), k = model.noise_dim();
    if (!x.whole() || !detail::sizes_match({{logw.size(), n}, {mean.size(), d}}))
        return detail::finish(OTC_STATUS_LENGTH_MISMATCH, rep);
    using Ctx = detail::DpfContext<F...>;
    Ctx ctx = std::apply([k](F &...f) { return Ctx(k, f...); }, model.callables());
    const auto m = detail::c_model<T, Ctx, F...>(ctx);
    int32_t s = detail::with_workspace(
        ws, [&](std::size_t *b) { return Api<T>::dpf_tape_workspace_size(n, d, p, k, ot, b); },
        [&](void *w, std::size_t bytes) {
            return Api<T>::dpf_tape_step(&config, ot, &m, theta.data(), p, n, d, &rng, x.data(),
                                         logw.data(), &state, &tape, w, bytes, mean.data(),
                                         &rep);
        });
    ctx.rethrow();
    return detail::finish(s, rep);
}

/**
 * Reverse mode (`otc_dpf_tape_gradient_*`): writes to `dtheta` (P) the gradient of
 * J = `loglik_bar`·ℓ̂ + Σ_t ⟨`mean_bar`_t, μ_t⟩ over the window recorded on `tape`, by
 * one backward pass calling the model's `seek`, `loglik_grad` and `transition_vjp`.
 * `config`, `ot`, `model`, `theta`: those the window was recorded with. `mean_bar`:
 * empty, or ticks × d values. `x0_bar` (N×d) and `logw0_bar` (N): ∂J/∂x and ∂J/∂log w
 * at the window's start, or empty views when not wanted. Errors (nothing written) as
 * the C call: `null_pointer` (a reverse-mode callable absent), `empty_input` (no tick
 * recorded), `length_mismatch`, `non_finite_input`, `non_finite`, `callback_failed` (a
 * thrown exception is rethrown instead), ….
 */
template <class T, class... F>
Returns<Status> dpf_tape_gradient(const DpfConfig<T> &config, const DpfOtConfig<T> *ot,
                                  DpfModel<T, F...> &model, detail::nd<View<const T>> theta,
                                  const DpfTape<T> &tape, T loglik_bar,
                                  detail::nd<View<const T>> mean_bar, Workspace &ws,
                                  detail::nd<View<T>> dtheta, detail::nd<View<T>> x0_bar,
                                  detail::nd<View<T>> logw0_bar) {
    const std::size_t n = tape.n, d = tape.d, p = theta.size(), k = model.noise_dim();
    if (!detail::sizes_match({{dtheta.size(), p}}) ||
        !(mean_bar.size() == 0 || mean_bar.size() == tape.ticks * d) ||
        !(x0_bar.size() == 0 || x0_bar.size() == n * d) ||
        !(logw0_bar.size() == 0 || logw0_bar.size() == n))
        return detail::finish(OTC_STATUS_LENGTH_MISMATCH, Status::length_mismatch);
    using Ctx = detail::DpfContext<F...>;
    Ctx ctx = std::apply([k](F &...f) { return Ctx(k, f...); }, model.callables());
    const auto m = detail::c_model<T, Ctx, F...>(ctx);
    const auto opt = [](auto v) { return v.size() == 0 ? nullptr : v.data(); };
    int32_t s = detail::with_workspace(
        ws, [&](std::size_t *b) { return Api<T>::dpf_tape_workspace_size(n, d, p, k, ot, b); },
        [&](void *w, std::size_t bytes) {
            return Api<T>::dpf_tape_gradient(&config, ot, &m, theta.data(), p, &tape,
                                             loglik_bar, opt(mean_bar), w, bytes, dtheta.data(),
                                             opt(x0_bar), opt(logw0_bar));
        });
    ctx.rethrow();
    return detail::finish(s, static_cast<Status>(s));
}


// ------------------------------------------------------------------------------------
// Localisation: state descriptions, circular moments, KLD-sampling, MCL, clusters
// ------------------------------------------------------------------------------------

/**
 * One coordinate of a state description (`otc_coord_*`): its kind, its period, its
 * weight in the OT cost and its bin width. A state of dimension d is described by a
 * view of d of them; build them with `linear_coord` and `periodic_coord`.
 */
template <class T>
using Coord = typename Api<T>::coord;

/**
 * A linear coordinate with bin width `bin` (> 0, the coordinate's units; for
 * KLD-sampling and clusters) and OT cost weight `cost_scale` (≥ 0, per squared unit).
 */
template <class T>
constexpr Coord<T> linear_coord(T bin, T cost_scale = T(1)) noexcept {
    return Coord<T>{OTC_COORD_LINEAR, 0, T(0), cost_scale, bin};
}

/**
 * A periodic coordinate of period `period` (> 0; 2π for an angle in radians), bin width
 * `bin` and OT cost weight `cost_scale` (on the chord (P/π)·sin(πΔ/P)).
 */
template <class T>
constexpr Coord<T> periodic_coord(T period, T bin, T cost_scale = T(1)) noexcept {
    return Coord<T>{OTC_COORD_PERIODIC, 0, period, cost_scale, bin};
}

/**
 * Weighted mean (d) and covariance (d×d row-major) of the particles `x` per the state
 * description `coords` (d entries; `otc_state_moments_*`): a periodic coordinate gets
 * the circular mean in [−P/2, P/2] and covariance on wrapped residuals. `logw`: N
 * log-weights, any offset. Errors as the C call (`invalid_parameter` for a bad
 * description); `length_mismatch` when the views disagree. Nothing written on error.
 */
template <class T>
Returns<Status> state_moments(View<const Coord<T>> coords, Points<const T> x,
                              View<const T> logw, View<T> mean, View<T> cov) {
    int32_t s = OTC_STATUS_LENGTH_MISMATCH;
    if (x.whole() && detail::sizes_match({{coords.size(), x.d()},
                                           {logw.size(), x.n()},
                                           {mean.size(), x.d()},
                                           {cov.size(), x.d() * x.d()}}))
        s = Api<T>::state_moments(coords.data(), x.d(), x.data(), logw.data(), x.n(),
                                  mean.data(), cov.data());
    return detail::finish(s, static_cast<Status>(s));
}

/**
 * Resamples the N weighted particles `x` to M = `x_out.n()` equally weighted ones
 * (M may differ from N) with a classical `OTC_RESAMPLE_*` scheme drawing from `rng`
 * (`otc_resample_to_*`; OT: `ot_resample_state`). Nothing written and `rng`
 * unchanged on error (`length_mismatch` also for M = 0 or another dimension).
 */
template <class T>
Returns<Status> resample_to(int32_t resampler, Points<const T> x, View<const T> logw, Rng &rng,
                            Points<T> x_out) {
    int32_t s = OTC_STATUS_LENGTH_MISMATCH;
    if (x.whole() && x_out.whole() && x_out.d() == x.d() && logw.size() == x.n())
        s = Api<T>::resample_to(resampler, logw.data(), x.n(), &rng, x.data(), x.d(),
                                x_out.data(), x_out.n());
    return detail::finish(s, static_cast<Status>(s));
}

/**
 * OT resampling per the state description (`otc_ot_resample_state_*`): the N weighted
 * particles `x` are embedded so that the squared distance is the cost of `coords`
 * (chords for periodic coordinates), transported, mapped back, and M = `x_out.n()` of
 * them kept (systematic selection with one uniform from `rng` when M ≠ N). Status
 * `max_iterations` (not an error) as `ot_resample`; nothing written and `rng`
 * unchanged on error.
 */
template <class T>
Returns<OtResampleReport<T>> ot_resample_state(const OtResampleConfig<T> &config,
                                               detail::nd<View<const Coord<T>>> coords,
                                               detail::nd<Points<const T>> x,
                                               detail::nd<View<const T>> logw, Rng &rng,
                                               Workspace &ws, detail::nd<Points<T>> x_out) {
    auto rep = detail::sized<OtResampleReport<T>>();
    if (!x.whole() || !x_out.whole() || x_out.d() != x.d() || coords.size() != x.d() ||
        logw.size() != x.n())
        return detail::finish(OTC_STATUS_LENGTH_MISMATCH, rep);
    int32_t s = detail::with_workspace(
        ws,
        [&](std::size_t *b) {
            return Api<T>::ot_resample_state_workspace_size(coords.data(), x.d(), x.n(), b);
        },
        [&](void *w, std::size_t bytes) {
            return Api<T>::ot_resample_state(&config, coords.data(), x.d(), x.data(),
                                             logw.data(), x.n(), &rng, w, bytes, x_out.data(),
                                             x_out.n(), &rep);
        });
    return detail::finish(s, rep);
}

/** KLD-sampling settings (the C struct, nav2's defaults: ε = 0.05, q = 0.99, ≥ 500). */
template <class T>
struct KldConfig : Api<T>::kld_config {
    /** The defaults (`otc_kld_config_default_*`). */
    KldConfig() noexcept { Api<T>::kld_config_default(this); }
};

/** What KLD-sampling chose (`otc_kld_count_*`). */
struct KldCount {
    std::size_t bins;  /**< Bins the live particles occupy. */
    std::size_t count; /**< The particle count M, in [min_particles, capacity]. */
};

/** Slots of the `uint64_t` table `kld_count` needs for N particles: 2N (`otc_kld_table_len`). */
inline Returns<std::size_t> kld_table_len(std::size_t n) {
    std::size_t len = 0;
    int32_t s = otc_kld_table_len(n, &len);
    return detail::finish(s, len);
}

/**
 * KLD-sampling (Fox 2003; `otc_kld_count_*`): counts the bins of `coords` occupied by
 * the live particles of `x` and the particle count that bounds the KL divergence,
 * clamped to [`min_particles`, `capacity`]. `table`: `kld_table_len(N)` slots of
 * caller memory (contents ignored; `workspace_too_small` when shorter).
 */
template <class T>
Returns<KldCount> kld_count(const KldConfig<T> &config, detail::nd<View<const Coord<T>>> coords,
                            detail::nd<Points<const T>> x, detail::nd<View<const T>> logw,
                            std::size_t capacity, View<uint64_t> table) {
    KldCount out{0, 0};
    int32_t s = OTC_STATUS_LENGTH_MISMATCH;
    if (x.whole() && coords.size() == x.d() && logw.size() == x.n())
        s = Api<T>::kld_count(&config, coords.data(), x.d(), x.data(), logw.data(), x.n(),
                              capacity, table.data(), table.size(), &out.bins, &out.count);
    return detail::finish(s, out);
}

/**
 * Augmented MCL's recovery (`otc_recovery_*`): slow and fast averages of the
 * likelihood, kept as logarithms, and from them the probability of injecting random
 * particles. Rates α_slow < α_fast in [0, 1] (ROS 1 AMCL: 0.001, 0.1), or both 0 (off).
 */
template <class T>
class Recovery {
public:
    /**
     * Averages empty (`otc_recovery_init_*`). Bad rates: `Error` with exceptions, else
     * `init_status()` says so and `update` returns that status.
     */
    Recovery(T alpha_slow, T alpha_fast) : state_(detail::sized<State>()) {
        int32_t s = Api<T>::recovery_init(alpha_slow, alpha_fast, &state_);
        status_ = static_cast<Status>(s);
#if !defined(OTC_HPP_NO_EXCEPTIONS)
        if (s < 0) throw Error(status_);
#endif
    }
    /** The status of the construction (always `ok` with exceptions on). */
    Status init_status() const noexcept { return status_; }
    /**
     * Folds one tick's log mean likelihood Δℓ (nats; the log-sum-exp of the tick's
     * log-likelihoods under the normalised weights) into the averages and returns the
     * injection probability max(0, 1 − w_fast/w_slow) for `mcl_resample`
     * (`otc_recovery_update_*`; `non_finite_input` for Δℓ NaN or +∞, nothing changed).
     */
    Returns<T> update(T log_likelihood_increment) {
        T p{};
        int32_t s = status_ == Status::ok
                        ? Api<T>::recovery_update(&state_, log_likelihood_increment, &p)
                        : static_cast<int32_t>(status_);
        return detail::finish(s, p);
    }
    /** The C state (rates and log-averages). */
    const typename Api<T>::recovery &c() const noexcept { return state_; }

private:
    using State = typename Api<T>::recovery;
    State state_;
    Status status_ = Status::ok;
};

/**
 * Settings of the MCL resampling step (the C struct, defaults: systematic, keep N, the
 * KLD and OT defaults). Set `adaptive = 1` for KLD-sampling, `resampler =
 * OTC_RESAMPLE_OPTIMAL` and `ot.epsilon` for OT per the state description.
 */
template <class T>
struct MclConfig : Api<T>::mcl_config {
    /** The defaults (`otc_mcl_config_default_*`). */
    MclConfig() noexcept { Api<T>::mcl_config_default(this); }
};

/** What one MCL resampling did (`otc_mcl_report_*`): count, bins, injected, OT report. */
template <class T>
using MclReport = typename Api<T>::mcl_report;

/**
 * Workspace bytes of `mcl_resample` for N input particles and room for `capacity`
 * (`otc_mcl_workspace_size_*`; `OTC_MCL_WORKSPACE_SIZE_F32` gives the same at compile
 * time), to size a `StaticWorkspace`.
 */
template <class T>
Returns<std::size_t> mcl_workspace_size(const MclConfig<T> &config,
                                        detail::nd<View<const Coord<T>>> coords, std::size_t n,
                                        std::size_t capacity) {
    std::size_t bytes = 0;
    int32_t s = Api<T>::mcl_workspace_size(&config, coords.data(), coords.size(), n, capacity,
                                           &bytes);
    return detail::finish(s, bytes);
}

namespace detail {
/** The C injection sampler over a callable `sampler(Points<T> out, RngRef rng)`. */
template <class T, class Ctx>
int32_t sampler_tramp(void *user, std::size_t count, std::size_t d, T *out,
                      otc_rng *rng) noexcept {
    auto *ctx = static_cast<Ctx *>(user);
    return ctx->template call<0>(Points<T>(out, count, d), RngRef(rng));
}

/**
 * `otc_mcl_resample_*` with a C sampler (or NULL) into `rep`, views checked first; the
 * status (the caller rethrows a callable's exception before mapping it).
 */
template <class T>
int32_t mcl_call(const MclConfig<T> &config, View<const Coord<T>> coords, Points<const T> x,
                 View<const T> logw, T inject_probability, typename Api<T>::mcl_sampler sampler,
                 void *user, Rng &rng, Workspace &ws, Points<T> x_out, MclReport<T> &rep) {
    if (!x.whole() || !x_out.whole() || x_out.d() != x.d() || coords.size() != x.d() ||
        logw.size() != x.n())
        return OTC_STATUS_LENGTH_MISMATCH;
    return with_workspace(
        ws,
        [&](std::size_t *b) {
            return Api<T>::mcl_workspace_size(&config, coords.data(), x.d(), x.n(), x_out.n(),
                                              b);
        },
        [&](void *w, std::size_t bytes) {
            return Api<T>::mcl_resample(&config, coords.data(), x.d(), x.data(), logw.data(),
                                        x.n(), inject_probability, sampler, user, &rng, w,
                                        bytes, x_out.data(), x_out.n(), &rep);
        });
}
}  // namespace detail

/**
 * The resampling step of Monte Carlo localisation (AMCL's; `otc_mcl_resample_*`): picks
 * the count M' (KLD-sampling when `config.adaptive`, else `config.count`), draws
 * r ~ Binomial(M', `inject_probability`) (from `Recovery::update`), resamples M' − r
 * states from the weighted `x` with `config.resampler` into the first rows of `x_out`
 * (room for `x_out.n()` = capacity particles), and has
 * `sampler(otc::Points<T> out, otc::RngRef rng)` write the last r rows (r×d; e.g.
 * uniform over a map's free space, drawing from `rng`). The sampler may return `void`,
 * `bool` or an integer as the filter's callables; a failure gives `callback_failed`, an
 * exception is rethrown; either way nothing is written and `rng` is unchanged. The new
 * log-weights are −ln M' (`report.count` = M').
 */
template <class T, class Sampler>
Returns<MclReport<T>> mcl_resample(const MclConfig<T> &config,
                                   detail::nd<View<const Coord<T>>> coords,
                                   detail::nd<Points<const T>> x, detail::nd<View<const T>> logw,
                                   detail::nd<T> inject_probability, Sampler &&sampler, Rng &rng,
                                   Workspace &ws, detail::nd<Points<T>> x_out) {
    auto rep = detail::sized<MclReport<T>>();
    using Ctx = detail::Context<Sampler>;
    Ctx ctx(sampler);
    int32_t s = detail::mcl_call(config, coords, x, logw, inject_probability,
                                 &detail::sampler_tramp<T, Ctx>, &ctx, rng, ws, x_out, rep);
    ctx.rethrow();
    return detail::finish(s, rep);
}

/** `mcl_resample` without injection (probability 0, no sampler). */
template <class T>
Returns<MclReport<T>> mcl_resample(const MclConfig<T> &config,
                                   detail::nd<View<const Coord<T>>> coords,
                                   detail::nd<Points<const T>> x, detail::nd<View<const T>> logw,
                                   Rng &rng, Workspace &ws, detail::nd<Points<T>> x_out) {
    auto rep = detail::sized<MclReport<T>>();
    int32_t s = detail::mcl_call(config, coords, x, logw, T(0), nullptr, nullptr, rng, ws, x_out,
                                 rep);
    return detail::finish(s, rep);
}

/** The largest cluster (`otc_largest_cluster_*`): its weight and how many clusters. */
template <class T>
struct Cluster {
    T weight;              /**< The cluster's weight, in (0, 1]. */
    std::size_t clusters;  /**< Number of clusters found. */
};

/**
 * The best hypothesis, as AMCL publishes it (`otc_largest_cluster_*`): the particles
 * binned on the grid of `coords[k].bin`, touching bins joined into clusters (across the
 * period for periodic coordinates), and the heaviest cluster's mean (d) and covariance
 * (d×d) per the state description written to `mean` and `cov`. d ≤ 6
 * (`invalid_parameter` beyond). Nothing written on error.
 */
template <class T>
Returns<Cluster<T>> largest_cluster(View<const Coord<T>> coords, Points<const T> x,
                                    View<const T> logw, Workspace &ws, View<T> mean,
                                    View<T> cov) {
    Cluster<T> out{T(0), 0};
    int32_t s = OTC_STATUS_LENGTH_MISMATCH;
    if (x.whole() && detail::sizes_match({{coords.size(), x.d()},
                                           {logw.size(), x.n()},
                                           {mean.size(), x.d()},
                                           {cov.size(), x.d() * x.d()}}))
        s = detail::with_workspace(
            ws, [&](std::size_t *b) { return Api<T>::cluster_workspace_size(x.n(), b); },
            [&](void *w, std::size_t bytes) {
                return Api<T>::largest_cluster(coords.data(), x.d(), x.data(), logw.data(),
                                               x.n(), w, bytes, mean.data(), cov.data(),
                                               &out.weight, &out.clusters);
            });
    return detail::finish(s, out);
}

// ------------------------------------------------------------------------------------
// Score-based SDE sampling
// ------------------------------------------------------------------------------------

/** A forward noising process (`otc_sde_process`), filled with the kind's defaults. */
struct SdeProcess : otc_sde_process {
    /** `OTC_SDE_VP` (default), `OTC_SDE_VP_COSINE`, `OTC_SDE_SUB_VP`, `OTC_SDE_VE`, `OTC_SDE_EDM`. */
    explicit SdeProcess(int32_t kind = OTC_SDE_VP) noexcept : otc_sde_process{} {
        otc_sde_process_default(kind, this);
    }
};

/** Fixed-step sampler settings (`otc_sde_sampler_config`) for one `OTC_SDE_*` method. */
struct SdeSamplerConfig : otc_sde_sampler_config {
    /** The defaults of `method` (no corrector, no churn). */
    explicit SdeSamplerConfig(int32_t method = OTC_SDE_EULER_MARUYAMA) noexcept
        : otc_sde_sampler_config{} {
        otc_sde_sampler_config_default(method, this);
    }
};

/** Draws n = x.n() samples from the prior of `process` into `x` (`otc_sde_prior_sample_*`). */
template <class T>
Returns<Status> sde_prior_sample(const SdeProcess &process, uint64_t seed,
                                 uint64_t first_sample, Points<T> x) {
    int32_t s = x.whole() ? Api<T>::sde_prior_sample(&process, seed, first_sample, x.n(), x.d(),
                                                     x.data())
                          : OTC_STATUS_LENGTH_MISMATCH;
    return detail::finish(s, static_cast<Status>(s));
}

/** Fills `grid` with a time grid from `t_start` down to `t_end` (`otc_sde_grid_*`). */
template <class T>
Returns<Status> sde_grid(const SdeProcess &process, int32_t spacing, double rho, double t_start,
                         double t_end, View<T> grid) {
    int32_t s = Api<T>::sde_grid(&process, spacing, rho, t_start, t_end, grid.data(), grid.size());
    return detail::finish(s, static_cast<Status>(s));
}

namespace detail {
/** The C model callback over a callable `model(Points<const T> x, View<const T> t, Points<T> out)`. */
template <class T, class Ctx>
int32_t model_tramp(void *user, std::size_t n, std::size_t d, const T *x, const T *t,
                    T *out) noexcept {
    auto *ctx = static_cast<Ctx *>(user);
    return ctx->template call<0>(Points<const T>(x, n, d), View<const T>(t, n),
                                 Points<T>(out, n, d));
}
/**
 * The C conditional model over a callable
 * `model(Points<const T> x, View<const T> t, bool conditional, Points<T> out)`.
 */
template <class T, class Ctx>
int32_t cond_model_tramp(void *user, std::size_t n, std::size_t d, const T *x, const T *t,
                         int32_t conditional, T *out) noexcept {
    auto *ctx = static_cast<Ctx *>(user);
    return ctx->template call<0>(Points<const T>(x, n, d), View<const T>(t, n),
                                 conditional != 0, Points<T>(out, n, d));
}
/**
 * A sampler call over a model callable: checks `x`, sizes the workspace
 * (`otc_sde_workspace_size_*`; `otc_sde_guided_workspace_size_*` for a `Conditional`
 * model), runs `call(c_model, user, ws, ws_bytes, &count)` with the C model (or
 * conditional model) over `model`, rethrows what the callable threw; returns what the
 * call counted (evaluations, or model calls of a guided sampler).
 */
template <bool Conditional, class T, class Model, class Call>
Returns<uint64_t> run_callable(Model &model, Points<T> x, Workspace &ws, Call call) {
    uint64_t count = 0;
    if (!x.whole()) return finish(OTC_STATUS_LENGTH_MISMATCH, count);
    using Ctx = Context<Model>;
    Ctx ctx(model);
    int32_t s = with_workspace(
        ws,
        [&](std::size_t *b) {
            return Conditional ? Api<T>::sde_guided_workspace_size(x.n(), x.d(), b)
                               : Api<T>::sde_workspace_size(x.n(), x.d(), b);
        },
        [&](void *w, std::size_t bytes) {
            if constexpr (Conditional)
                return call(&cond_model_tramp<T, Ctx>, static_cast<void *>(&ctx), w, bytes,
                            &count);
            else
                return call(&model_tramp<T, Ctx>, static_cast<void *>(&ctx), w, bytes, &count);
        });
    ctx.rethrow();
    return finish(s, count);
}
/** `run_callable` for a model callable `model(x, t, out)`. */
template <class T, class Model, class Call>
Returns<uint64_t> run_model(Model &model, Points<T> x, Workspace &ws, Call call) {
    return run_callable<false>(model, x, ws, call);
}
/** `run_callable` for a conditional model callable `model(x, t, conditional, out)`. */
template <class T, class Model, class Call>
Returns<uint64_t> run_cond_model(Model &model, Points<T> x, Workspace &ws, Call call) {
    return run_callable<true>(model, x, ws, call);
}
}  // namespace detail

/**
 * Runs a fixed-step sampler along `grid` on the samples `x` (in place;
 * `otc_sde_sample_*`). `model(otc::Points<const T> x, otc::View<const T> t,
 * otc::Points<T> out)` writes the `output` kind (`OTC_SDE_OUTPUT_SCORE`, `_NOISE`,
 * `_DENOISED`) for the batch; it may return `void`, `bool` or an integer, as the
 * filter's callables. Returns the number of batched model calls.
 */
template <class T, class Model>
Returns<uint64_t> sde_sample(const SdeProcess &process, const SdeSamplerConfig &config,
                             Model &&model, int32_t output, View<const T> grid, Points<T> x,
                             uint64_t seed, uint64_t first_sample, Workspace &ws) {
    return detail::run_model(model, x, ws, [&](auto fn, void *user, void *w, std::size_t bytes,
                                               uint64_t *evals) {
        return Api<T>::sde_sample(&process, &config, fn, user, output, grid.data(), grid.size(),
                                  x.data(), x.n(), x.d(), seed, first_sample, w, bytes, evals);
    });
}

/**
 * DPM-Solver++(2M)'s history between single steps: the previous denoised estimate
 * (n·d values, caller memory) and the previous step in λ (0 = none yet).
 */
template <class T>
struct Multistep {
    View<T> history;     /**< n·d values, written by each step. */
    double h_prev = 0.0; /**< The previous Δλ; 0 before the first step. */
};

/**
 * One sampler step from `t` to `t_next` on `x`, in place (`otc_sde_step_*`), for a
 * loop that advances one step per tick; `multistep` carries DPM-Solver++(2M)'s history
 * (NULL: a first-order step). Returns the model calls made.
 */
template <class T, class Model>
Returns<uint64_t> sde_step(const SdeProcess &process, const SdeSamplerConfig &config,
                           Model &&model, int32_t output, Points<T> x, T t, T t_next,
                           uint64_t step_index, uint64_t seed, uint64_t first_sample,
                           Workspace &ws, Multistep<T> *multistep = nullptr) {
    if (multistep && multistep->history.size() != x.values().size())
        return detail::finish(OTC_STATUS_LENGTH_MISMATCH, uint64_t{0});
    T *history = multistep ? multistep->history.data() : nullptr;
    double *h_prev = multistep ? &multistep->h_prev : nullptr;
    return detail::run_model(model, x, ws, [&](auto fn, void *user, void *w, std::size_t bytes,
                                               uint64_t *evals) {
        return Api<T>::sde_step(&process, &config, fn, user, output, x.data(), x.n(), x.d(), t,
                                t_next, step_index, seed, first_sample, history, h_prev, w, bytes,
                                evals);
    });
}

/** Settings of the adaptive solver (`otc_sde_adaptive_config`), defaults for a process. */
struct SdeAdaptiveConfig : otc_sde_adaptive_config {
    /** The defaults for `process`: from T to its t_eps, ε_rel 0.05, Brownian memory on. */
    explicit SdeAdaptiveConfig(const SdeProcess &process) noexcept : otc_sde_adaptive_config{} {
        otc_sde_adaptive_config_default(&process, this);
    }
};

/**
 * The adaptive reverse-SDE solver on `x`, in place (`otc_sde_adaptive_*`). The stats'
 * `unfinished` > 0 (status `max_iterations`, not an error) when the evaluation budget
 * stopped some samples early. `model` as for `sde_sample`.
 */
template <class T, class Model>
Returns<otc_sde_adaptive_stats> sde_adaptive(const SdeProcess &process,
                                             const SdeAdaptiveConfig &config, Model &&model,
                                             int32_t output, Points<T> x, uint64_t seed,
                                             uint64_t first_sample, Workspace &ws) {
    auto stats = detail::sized<otc_sde_adaptive_stats>();
    if (!x.whole()) return detail::finish(OTC_STATUS_LENGTH_MISMATCH, stats);
    using Ctx = detail::Context<Model>;
    Ctx ctx(model);
    int32_t s = detail::with_workspace(
        ws, [&](std::size_t *b) { return Api<T>::sde_workspace_size(x.n(), x.d(), b); },
        [&](void *w, std::size_t bytes) {
            return Api<T>::sde_adaptive(&process, &config, &detail::model_tramp<T, Ctx>, &ctx,
                                        output, x.data(), x.n(), x.d(), seed, first_sample, w,
                                        bytes, &stats);
        });
    ctx.rethrow();
    return detail::finish(s, stats);
}

/**
 * Restart-sampling settings (`otc_sde_restart_config`) from noise levels σ̃ = s/a (the
 * units of Xu et al. 2023; `otc_sde_restart_config_from_sigma`): `repeats` round trips
 * jump from σ̃ = `sigma_min` to `sigma_max` and come back in `steps` Heun steps.
 */
struct SdeRestartConfig : otc_sde_restart_config {
    /**
     * The settings for `process`. Out-of-range values throw `Error`
     * (`invalid_parameter`); without exceptions they leave `struct_size` 0, which the
     * sampler refuses (`struct_size`), and `init_status()` says why.
     */
    SdeRestartConfig(const SdeProcess &process, double sigma_min, double sigma_max,
                     uint32_t repeats, uint32_t steps)
        : otc_sde_restart_config{},
          status_(static_cast<Status>(otc_sde_restart_config_from_sigma(
              &process, sigma_min, sigma_max, repeats, steps, this))) {
#if !defined(OTC_HPP_NO_EXCEPTIONS)
        if (static_cast<int32_t>(status_) < 0) throw Error(status_);
#endif
    }
    /** The status of the construction (always `ok` with exceptions on). */
    Status init_status() const noexcept { return status_; }

private:
    Status status_;
};

/**
 * Restart sampling (Xu et al. 2023; `otc_sde_restart_*`) on the samples `x`, in place:
 * EDM Heun along `grid` and, at the grid point nearest `config.t_min`, `config.repeats`
 * round trips (exact forward jump to `config.t_max`, `config.steps` Heun steps back).
 * `model` as for `sde_sample`, returning the `output` kind (score, noise or denoised).
 * The workspace is `sde_sample`'s. Returns the number of batched model calls; x
 * unchanged on error.
 */
template <class T, class Model>
Returns<uint64_t> sde_restart(const SdeProcess &process, const otc_sde_restart_config &config,
                              Model &&model, int32_t output, View<const T> grid, Points<T> x,
                              uint64_t seed, uint64_t first_sample, Workspace &ws) {
    return detail::run_model(model, x, ws, [&](auto fn, void *user, void *w, std::size_t bytes,
                                               uint64_t *evals) {
        return Api<T>::sde_restart(&process, &config, fn, user, output, grid.data(), grid.size(),
                                   x.data(), x.n(), x.d(), seed, first_sample, w, bytes, evals);
    });
}

// ------------------------------------------------------------------------------------
// Flow matching and classifier-free guidance
// ------------------------------------------------------------------------------------

/**
 * Fills `grid` (≥ 2 points) with decreasing flow times from `t_start` to `t_end`
 * (1 ≥ t_start > t_end ≥ 0) under the timestep shift t = k·u/(1 + (k − 1)u) of uniform
 * u (`shift` k = 1: uniform; k > 1 puts more steps near t = 1) (`otc_sde_flow_grid_*`).
 * Grid unchanged on error.
 */
template <class T>
Returns<Status> sde_flow_grid(double shift, double t_start, double t_end, View<T> grid) {
    int32_t s = Api<T>::sde_flow_grid(shift, t_start, t_end, grid.data(), grid.size());
    return detail::finish(s, static_cast<Status>(s));
}

/**
 * Runs a flow-matching sampler on the linear path x_t = (1 − t)x₀ + t·ε along `grid`
 * (strictly decreasing times in [0, 1] ending at 0) on the samples `x`, in place
 * (`otc_sde_flow_sample_*`). `method` is `OTC_SDE_FLOW_EULER`, `_MIDPOINT`, `_HEUN` or
 * `_SDE` (noise level `eta` ≥ 0, ignored by the others). `model(otc::Points<const T> x,
 * otc::View<const T> t, otc::Points<T> out)` writes the `output` kind
 * (`OTC_SDE_OUTPUT_VELOCITY` = E[ε − x₀ | x_t], or a denoised, noise or score output),
 * never at t = 0; it may return `void`, `bool` or an integer, as the filter's callables.
 * Returns the number of batched model calls; x unchanged on error.
 */
template <class T, class Model>
Returns<uint64_t> sde_flow_sample(int32_t method, double eta, Model &&model, int32_t output,
                                  View<const T> grid, Points<T> x, uint64_t seed,
                                  uint64_t first_sample, Workspace &ws) {
    return detail::run_model(model, x, ws, [&](auto fn, void *user, void *w, std::size_t bytes,
                                               uint64_t *evals) {
        return Api<T>::sde_flow_sample(method, eta, fn, user, output, grid.data(), grid.size(),
                                       x.data(), x.n(), x.d(), seed, first_sample, w, bytes,
                                       evals);
    });
}

/**
 * One flow step from `t` to `t_next` (1 ≥ t > t_next ≥ 0) on `x`, in place
 * (`otc_sde_flow_step_*`), for a loop that advances one step per tick; `step_index`
 * keys the SDE's noise (the step's position in the trajectory), so stepping a grid by
 * hand gives the bits of `sde_flow_sample`. `model` as there; returns the model calls.
 */
template <class T, class Model>
Returns<uint64_t> sde_flow_step(int32_t method, double eta, Model &&model, int32_t output,
                                Points<T> x, T t, T t_next, uint64_t step_index, uint64_t seed,
                                uint64_t first_sample, Workspace &ws) {
    return detail::run_model(model, x, ws, [&](auto fn, void *user, void *w, std::size_t bytes,
                                               uint64_t *evals) {
        return Api<T>::sde_flow_step(method, eta, fn, user, output, x.data(), x.n(), x.d(), t,
                                     t_next, step_index, seed, first_sample, w, bytes, evals);
    });
}



/**
 * `sde_flow_sample` under classifier-free guidance (`otc_sde_flow_sample_guided_*`):
 * `model(otc::Points<const T> x, otc::View<const T> t, bool conditional,
 * otc::Points<T> out)` is called with its condition and, for samples whose time is in
 * [`t_lo`, `t_hi`] (`t_hi` may be +∞), without it; the sampler uses
 * u + `weight`·(c − u) there and c elsewhere (`weight` = 1: no guidance).
 * `invalid_parameter` also for a weight that is not finite or an interval that is not
 * 0 ≤ t_lo ≤ t_hi. Returns the model calls (2 per guided evaluation); x unchanged on
 * error.
 */
template <class T, class Model>
Returns<uint64_t> sde_flow_sample_guided(int32_t method, double eta, Model &&model,
                                         int32_t output, double weight, double t_lo, double t_hi,
                                         View<const T> grid, Points<T> x, uint64_t seed,
                                         uint64_t first_sample, Workspace &ws) {
    return detail::run_cond_model(model, x, ws, [&](auto fn, void *user, void *w,
                                                    std::size_t bytes, uint64_t *calls) {
        return Api<T>::sde_flow_sample_guided(method, eta, fn, user, output, weight, t_lo, t_hi,
                                              grid.data(), grid.size(), x.data(), x.n(), x.d(),
                                              seed, first_sample, w, bytes, calls);
    });
}

/**
 * `sde_sample` under classifier-free guidance (`otc_sde_sample_guided_*`): `model` as
 * for `sde_flow_sample_guided`, returning the `output` kind (score, noise or denoised),
 * guided where the process's time (σ for EDM) is in [`t_lo`, `t_hi`].
 * `invalid_parameter` also for a weight that is not finite or an interval that is not
 * 0 ≤ t_lo ≤ t_hi. Returns the model calls; x unchanged on error.
 */
template <class T, class Model>
Returns<uint64_t> sde_sample_guided(const SdeProcess &process, const SdeSamplerConfig &config,
                                    Model &&model, int32_t output, double weight, double t_lo,
                                    double t_hi, View<const T> grid, Points<T> x, uint64_t seed,
                                    uint64_t first_sample, Workspace &ws) {
    return detail::run_cond_model(model, x, ws, [&](auto fn, void *user, void *w,
                                                    std::size_t bytes, uint64_t *calls) {
        return Api<T>::sde_sample_guided(&process, &config, fn, user, output, weight, t_lo, t_hi,
                                         grid.data(), grid.size(), x.data(), x.n(), x.d(), seed,
                                         first_sample, w, bytes, calls);
    });
}

/**
 * `sde_step` under classifier-free guidance (`otc_sde_step_guided_*`): `model`,
 * `weight` and the interval as for `sde_sample_guided`; `multistep` carries
 * DPM-Solver++(2M)'s history (NULL: a first-order step). Stepping a grid by hand gives
 * the bits of `sde_sample_guided`. Returns the model calls; x and the history
 * unchanged on error.
 */
template <class T, class Model>
Returns<uint64_t> sde_step_guided(const SdeProcess &process, const SdeSamplerConfig &config,
                                  Model &&model, int32_t output, double weight, double t_lo,
                                  double t_hi, Points<T> x, T t, T t_next, uint64_t step_index,
                                  uint64_t seed, uint64_t first_sample, Workspace &ws,
                                  Multistep<T> *multistep = nullptr) {
    if (multistep && multistep->history.size() != x.values().size())
        return detail::finish(OTC_STATUS_LENGTH_MISMATCH, uint64_t{0});
    T *history = multistep ? multistep->history.data() : nullptr;
    double *h_prev = multistep ? &multistep->h_prev : nullptr;
    return detail::run_cond_model(model, x, ws, [&](auto fn, void *user, void *w,
                                                    std::size_t bytes, uint64_t *calls) {
        return Api<T>::sde_step_guided(&process, &config, fn, user, output, weight, t_lo, t_hi,
                                       x.data(), x.n(), x.d(), t, t_next, step_index, seed,
                                       first_sample, history, h_prev, w, bytes, calls);
    });
}

}  // namespace otc

#endif /* OTCORE_HPP */
