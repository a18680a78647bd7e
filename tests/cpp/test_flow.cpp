// Tests of the flow-matching wrappers of include/otcore.hpp (issue 23's C functions):
// the shifted grid, the flow samplers (whole grid and step by step) with a velocity
// model (OTC_SDE_OUTPUT_VELOCITY), and classifier-free guidance with a conditional
// model, for the flow samplers and the score/noise/denoiser samplers. Each wrapper gives
// the same bits as the C call (same inputs, same seeds) and reports a bad input by its
// status with the samples untouched. Also restart sampling (otc::sde_restart).
// Built by tests/cpp/Makefile with g++ and clang++, C++17 and C++20, under ASan/UBSan.
#include <cmath>
#include <limits>

#include "check.hpp"

// Data N(m, v I), m = 0.7 in every coordinate: on x_t = (1 − t)x₀ + t·ε the velocity
// is (x·(t − (1 − t)v) − t·m) / ((1 − t)²v + t²). The conditional model adds `shift`
// to the velocity when called with its condition.
template <class T>
struct GaussFlow {
    double v, m, shift;
    void velocity(std::size_t n, std::size_t d, const T *x, const T *t, bool conditional,
                  T *out) const {
        for (std::size_t i = 0; i < n; ++i) {
            const double ti = double(t[i]), a = 1.0 - ti, vt = a * a * v + ti * ti;
            for (std::size_t k = 0; k < d; ++k)
                out[i * d + k] = T((double(x[i * d + k]) * (ti - a * v) - ti * m) / vt +
                                   (conditional ? shift : 0.0));
        }
    }
    // The C callbacks (what a C user writes), for the comparison.
    static int32_t model(void *user, std::size_t n, std::size_t d, const T *x, const T *t,
                         T *out) {
        static_cast<const GaussFlow *>(user)->velocity(n, d, x, t, false, out);
        return 0;
    }
    static int32_t cond_model(void *user, std::size_t n, std::size_t d, const T *x, const T *t,
                              int32_t conditional, T *out) {
        static_cast<const GaussFlow *>(user)->velocity(n, d, x, t, conditional != 0, out);
        return 0;
    }
};

template <class T>
static void flow_matches_c() {
    const std::size_t n = 16, d = 2, steps = 12;
    using C = otc::Api<T>;
    GaussFlow<T> g{0.25, 0.7, 0.5};

    // The grid.
    std::vector<T> grid(steps + 1), cgrid(steps + 1);
    value(otc::sde_flow_grid<T>(3.0, 1.0, 0.0, grid));
    CHECK(C::sde_flow_grid(3.0, 1.0, 0.0, cgrid.data(), cgrid.size()) == OTC_STATUS_OK);
    CHECK(same_bits(grid, cgrid) && grid.front() == T(1) && grid.back() == T(0));
    std::vector<T> one(1, T(7));
    EXPECT_STATUS(otc::sde_flow_grid<T>(3.0, 1.0, 0.0, one), otc::Status::empty_input);
    EXPECT_STATUS(otc::sde_flow_grid<T>(0.0, 1.0, 0.0, grid), otc::Status::invalid_parameter);
    CHECK(one[0] == T(7) && same_bits(grid, cgrid));

    // Every method on the whole grid, a capturing lambda against the C callback.
    const auto x0 = cloud<T>(n, d, 31, T(0));
    std::size_t evaluated = 0;
    auto model = [&](otc::Points<const T> xs, otc::View<const T> t, otc::Points<T> out) {
        evaluated += xs.n();
        g.velocity(xs.n(), xs.d(), xs.data(), t.data(), false, out.data());
    };
    otc::Workspace ws;
    std::size_t bytes = 0;
    CHECK(C::sde_workspace_size(n, d, &bytes) == OTC_STATUS_OK);
    std::vector<T> cws(bytes / sizeof(T));
    for (int32_t method : {OTC_SDE_FLOW_EULER, OTC_SDE_FLOW_MIDPOINT, OTC_SDE_FLOW_HEUN,
                           OTC_SDE_FLOW_SDE}) {
        auto x = x0, cx = x0;
        evaluated = 0;
        const uint64_t evals = value(otc::sde_flow_sample<T>(
            method, 0.5, model, OTC_SDE_OUTPUT_VELOCITY, grid, {x, d}, 5, 0, ws));
        uint64_t cevals = 0;
        CHECK(C::sde_flow_sample(method, 0.5, &GaussFlow<T>::model, &g,
                                 OTC_SDE_OUTPUT_VELOCITY, grid.data(), grid.size(), cx.data(), n,
                                 d, 5, 0, cws.data(), bytes, &cevals) == OTC_STATUS_OK);
        CHECK(same_bits(x, cx) && evals == cevals && evaluated == evals * n);
    }

    // The SDE step by step: C++ against C, and both against the whole grid.
    auto whole = x0, xs = x0, cxs = x0;
    value(otc::sde_flow_sample<T>(OTC_SDE_FLOW_SDE, 0.5, model, OTC_SDE_OUTPUT_VELOCITY, grid,
                                  {whole, d}, 5, 0, ws));
    for (std::size_t j = 0; j < steps; ++j) {
        const uint64_t e = value(otc::sde_flow_step<T>(OTC_SDE_FLOW_SDE, 0.5, model,
                                                       OTC_SDE_OUTPUT_VELOCITY, {xs, d}, grid[j],
                                                       grid[j + 1], j, 5, 0, ws));
        uint64_t ce = 0;
        CHECK(C::sde_flow_step(OTC_SDE_FLOW_SDE, 0.5, &GaussFlow<T>::model,
                               &g, OTC_SDE_OUTPUT_VELOCITY,
                               cxs.data(), n, d, grid[j], grid[j + 1], j, 5, 0, cws.data(), bytes,
                               &ce) == OTC_STATUS_OK);
        CHECK(e == ce);
    }
    CHECK(same_bits(xs, cxs) && same_bits(xs, whole));

    // Bad input: a grid that does not end at 0, the velocity output on a diffusion
    // sampler, a failing model; samples untouched.
    auto x = x0;
    const std::vector<T> open(grid.begin(), grid.end() - 1);
    EXPECT_STATUS(otc::sde_flow_sample<T>(OTC_SDE_FLOW_HEUN, 0.0, model, OTC_SDE_OUTPUT_VELOCITY,
                                          open, {x, d}, 5, 0, ws),
                  otc::Status::invalid_parameter);
    const otc::SdeProcess vp(OTC_SDE_VP);
    const otc::SdeSamplerConfig em(OTC_SDE_EULER_MARUYAMA);
    EXPECT_STATUS(otc::sde_step<T>(vp, em, model, OTC_SDE_OUTPUT_VELOCITY, {x, d}, T(0.5),
                                   T(0.25), 0, 5, 0, ws),
                  otc::Status::invalid_parameter);
    auto refuse = [](otc::Points<const T>, otc::View<const T>, otc::Points<T>) { return 2; };
    EXPECT_STATUS(otc::sde_flow_step<T>(OTC_SDE_FLOW_EULER, 0.0, refuse, OTC_SDE_OUTPUT_VELOCITY,
                                        {x, d}, grid[0], grid[1], 0, 5, 0, ws),
                  otc::Status::callback_failed);
    CHECK(same_bits(x, x0));
#if !defined(OTC_HPP_NO_EXCEPTIONS)
    // An exception thrown by the model comes back out, samples untouched.
    struct NetDown {};
    auto throwing = [](otc::Points<const T>, otc::View<const T>, otc::Points<T>) {
        throw NetDown{};
    };
    bool caught = false;
    try {
        otc::sde_flow_sample<T>(OTC_SDE_FLOW_EULER, 0.0, throwing, OTC_SDE_OUTPUT_VELOCITY, grid,
                                {x, d}, 5, 0, ws);
    } catch (const NetDown &) {
        caught = true;
    }
    CHECK(caught && same_bits(x, x0));
#endif
}

template <class T>
static void guided_matches_c() {
    const std::size_t n = 16, d = 2, steps = 10;
    using C = otc::Api<T>;
    GaussFlow<T> g{0.25, 0.7, 0.5};
    std::vector<T> grid(steps + 1);
    value(otc::sde_flow_grid<T>(1.0, 1.0, 0.0, grid));
    const auto x0 = cloud<T>(n, d, 32, T(0));

    // Guidance on t ∈ [0.2, 0.8], weight 3: a capturing lambda against the C callback.
    std::size_t conditional_calls = 0, unconditional_calls = 0;
    auto model = [&](otc::Points<const T> xs, otc::View<const T> t, bool conditional,
                     otc::Points<T> out) {
        ++(conditional ? conditional_calls : unconditional_calls);
        g.velocity(xs.n(), xs.d(), xs.data(), t.data(), conditional, out.data());
        return 0;
    };
    otc::Workspace ws;
    auto x = x0, cx = x0;
    const uint64_t calls = value(otc::sde_flow_sample_guided<T>(
        OTC_SDE_FLOW_HEUN, 0.0, model, OTC_SDE_OUTPUT_VELOCITY, 3.0, 0.2, 0.8, grid, {x, d}, 5,
        0, ws));
    std::size_t bytes = 0;
    CHECK(C::sde_flow_guided_workspace_size(n, d, &bytes) == OTC_STATUS_OK);
    std::vector<T> cws(bytes / sizeof(T));
    uint64_t ccalls = 0;
    CHECK(C::sde_flow_sample_guided(OTC_SDE_FLOW_HEUN, 0.0, &GaussFlow<T>::cond_model,
                                    &g, OTC_SDE_OUTPUT_VELOCITY, 3.0,
                                    0.2, 0.8, grid.data(), grid.size(), cx.data(), n, d, 5, 0,
                                    cws.data(), bytes, &ccalls) == OTC_STATUS_OK);
    CHECK(same_bits(x, cx) && calls == ccalls);
    CHECK(calls == conditional_calls + unconditional_calls && unconditional_calls > 0 &&
          unconditional_calls < conditional_calls);

    // Bad input: a weight that is not finite, t_lo > t_hi; samples untouched.
    auto y = x0;
    EXPECT_STATUS(otc::sde_flow_sample_guided<T>(OTC_SDE_FLOW_HEUN, 0.0, model,
                                                 OTC_SDE_OUTPUT_VELOCITY,
                                                 std::numeric_limits<double>::quiet_NaN(), 0.2,
                                                 0.8, grid, {y, d}, 5, 0, ws),
                  otc::Status::invalid_parameter);
    EXPECT_STATUS(otc::sde_flow_sample_guided<T>(OTC_SDE_FLOW_HEUN, 0.0, model,
                                                 OTC_SDE_OUTPUT_VELOCITY, 3.0, 0.8, 0.2, grid,
                                                 {y, d}, 5, 0, ws),
                  otc::Status::invalid_parameter);
    CHECK(same_bits(y, x0));
}

// EDM denoiser of N(m, v I) at σ, m = 0.7 (conditional) or −0.2 (unconditional).
template <class T>
static int32_t pair_denoiser(void *user, std::size_t n, std::size_t d, const T *x, const T *t,
                             int32_t conditional, T *out) {
    const double v = *static_cast<const double *>(user), m = conditional ? 0.7 : -0.2;
    for (std::size_t i = 0; i < n; ++i) {
        const double r = v / (v + double(t[i]) * double(t[i]));
        for (std::size_t k = 0; k < d; ++k)
            out[i * d + k] = T(m + r * (double(x[i * d + k]) - m));
    }
    return 0;
}

template <class T>
static void guided_score_matches_c() {
    const std::size_t n = 8, d = 2;
    using C = otc::Api<T>;
    double v = 0.25;
    const otc::SdeProcess edm(OTC_SDE_EDM);
    const otc::SdeSamplerConfig cfg(OTC_SDE_DPM_SOLVER_PP_2M);
    std::vector<T> grid(9);
    CHECK(C::sde_grid(&edm, OTC_SDE_GRID_KARRAS, 7.0, 80.0, 0.002, grid.data(), grid.size()) ==
          OTC_STATUS_OK);
    const auto x0 = cloud<T>(n, d, 33, T(0));
    std::size_t unconditional_calls = 0;
    auto model = [&](otc::Points<const T> xs, otc::View<const T> t, bool conditional,
                     otc::Points<T> out) {
        unconditional_calls += conditional ? 0 : 1;
        return pair_denoiser<T>(&v, xs.n(), xs.d(), xs.data(), t.data(), conditional,
                                out.data());
    };
    otc::Workspace ws;
    auto x = x0, cx = x0;
    // Guided for σ ∈ [0.5, 10] only.
    const uint64_t calls = value(otc::sde_sample_guided<T>(
        edm, cfg, model, OTC_SDE_OUTPUT_DENOISED, 2.0, 0.5, 10.0, grid, {x, d}, 5, 0, ws));
    std::size_t bytes = 0;
    CHECK(C::sde_guided_workspace_size(n, d, &bytes) == OTC_STATUS_OK);
    std::vector<T> cws(bytes / sizeof(T));
    uint64_t ccalls = 0;
    CHECK(C::sde_sample_guided(&edm, &cfg, &pair_denoiser<T>, &v, OTC_SDE_OUTPUT_DENOISED, 2.0,
                               0.5, 10.0, grid.data(), grid.size(), cx.data(), n, d, 5, 0,
                               cws.data(), bytes, &ccalls) == OTC_STATUS_OK);
    CHECK(same_bits(x, cx) && calls == ccalls);
    CHECK(calls == 8 + unconditional_calls && unconditional_calls > 0 && unconditional_calls < 8);

    // Step by step with the history: the bits of the whole run.
    auto sx = x0;
    std::vector<T> history(n * d);
    otc::Multistep<T> ms{history};
    uint64_t step_calls = 0;
    for (std::size_t i = 0; i + 1 < grid.size(); ++i)
        step_calls += value(otc::sde_step_guided<T>(edm, cfg, model, OTC_SDE_OUTPUT_DENOISED, 2.0,
                                                    0.5, 10.0, {sx, d}, grid[i], grid[i + 1], i,
                                                    5, 0, ws, &ms));
    CHECK(same_bits(sx, x) && step_calls == calls);

    // Bad input: an infinite weight, a velocity model; samples untouched.
    auto y = x0;
    EXPECT_STATUS(otc::sde_sample_guided<T>(edm, cfg, model, OTC_SDE_OUTPUT_DENOISED,
                                            std::numeric_limits<double>::infinity(), 0.5, 10.0,
                                            grid, {y, d}, 5, 0, ws),
                  otc::Status::invalid_parameter);
    EXPECT_STATUS(otc::sde_sample_guided<T>(edm, cfg, model, OTC_SDE_OUTPUT_VELOCITY, 2.0, 0.5,
                                            10.0, grid, {y, d}, 5, 0, ws),
                  otc::Status::invalid_parameter);
    CHECK(same_bits(y, x0));
}

// Restart sampling (otc::sde_restart, otc::SdeRestartConfig) against the C call: data
// N(0.3, 0.25 I) under EDM, whose denoiser is 0.3 + 0.25/(0.25 + σ²)(x − 0.3).
template <class T>
static int32_t gauss_denoiser(void *, std::size_t n, std::size_t d, const T *x, const T *t,
                              T *out) {
    for (std::size_t i = 0; i < n; ++i) {
        const double s = double(t[i]), r = 0.25 / (0.25 + s * s);
        for (std::size_t k = 0; k < d; ++k)
            out[i * d + k] = T(0.3 + r * (double(x[i * d + k]) - 0.3));
    }
    return 0;
}

template <class T>
static void restart_matches_c() {
    const std::size_t n = 8, d = 2;
    using C = otc::Api<T>;
    const otc::SdeProcess edm(OTC_SDE_EDM);
    const otc::SdeRestartConfig cfg(edm, 1.0, 2.0, 2, 3);
    CHECK(cfg.init_status() == otc::Status::ok && cfg.t_min == 1.0 && cfg.t_max == 2.0);
    std::vector<T> grid(12);
    CHECK(C::sde_grid(&edm, OTC_SDE_GRID_KARRAS, 7.0, 5.0, 0.0, grid.data(), grid.size()) ==
          OTC_STATUS_OK);
    const auto x0 = cloud<T>(n, d, 35, T(0));
    std::size_t evaluated = 0;
    auto model = [&](otc::Points<const T> xs, otc::View<const T> t, otc::Points<T> out) {
        evaluated += xs.n();
        return gauss_denoiser<T>(nullptr, xs.n(), xs.d(), xs.data(), t.data(), out.data());
    };
    otc::Workspace ws;
    auto x = x0, cx = x0;
    const uint64_t evals = value(otc::sde_restart<T>(edm, cfg, model, OTC_SDE_OUTPUT_DENOISED,
                                                     grid, {x, d}, 5, 0, ws));
    std::size_t bytes = 0;
    CHECK(C::sde_workspace_size(n, d, &bytes) == OTC_STATUS_OK);
    std::vector<T> cws(bytes / sizeof(T));
    uint64_t cevals = 0;
    CHECK(C::sde_restart(&edm, &cfg, &gauss_denoiser<T>, nullptr, OTC_SDE_OUTPUT_DENOISED,
                         grid.data(), grid.size(), cx.data(), n, d, 5, 0, cws.data(), bytes,
                         &cevals) == OTC_STATUS_OK);
    // 11 grid steps (the last to σ = 0 costs 1) and 2 round trips of 3 Heun steps.
    CHECK(same_bits(x, cx) && evals == cevals && evals == 2 * 11 - 1 + 2 * 2 * 3 &&
          evaluated == evals * n);

    // Bad input: a velocity model, too many round trips; samples untouched.
    auto y = x0;
    EXPECT_STATUS(otc::sde_restart<T>(edm, cfg, model, OTC_SDE_OUTPUT_VELOCITY, grid, {y, d}, 5,
                                      0, ws),
                  otc::Status::invalid_parameter);
    otc_sde_restart_config many = cfg;
    many.repeats = 17;
    EXPECT_STATUS(otc::sde_restart<T>(edm, many, model, OTC_SDE_OUTPUT_DENOISED, grid, {y, d}, 5,
                                      0, ws),
                  otc::Status::invalid_parameter);
    CHECK(same_bits(y, x0));
#if defined(OTC_HPP_NO_EXCEPTIONS)
    const otc::SdeRestartConfig bad(edm, 2.0, 1.0, 2, 3);
    CHECK(bad.init_status() == otc::Status::invalid_parameter && bad.struct_size == 0);
    EXPECT_STATUS(otc::sde_restart<T>(edm, bad, model, OTC_SDE_OUTPUT_DENOISED, grid, {y, d}, 5,
                                      0, ws),
                  otc::Status::struct_size);
    CHECK(same_bits(y, x0));
#else
    EXPECT_STATUS(otc::SdeRestartConfig(edm, 2.0, 1.0, 2, 3), otc::Status::invalid_parameter);
#endif
}

int main() {
    flow_matches_c<float>();
    flow_matches_c<double>();
    guided_matches_c<float>();
    guided_matches_c<double>();
    guided_score_matches_c<float>();
    guided_score_matches_c<double>();
    restart_matches_c<float>();
    restart_matches_c<double>();
    return report("test_flow");
}
