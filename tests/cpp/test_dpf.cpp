// Tests of the differentiable particle filter's C++ wrappers (otc::dpf_model,
// otc::dpf_init, otc::dpf_step, otc::dpf_step_ot, otc::dpf_tangent_len,
// otc::dpf_workspace_size, otc::dpf_ot_workspace_size, and reverse mode's otc::dpf_tape_*):
// the wrapper run gives the same
// bits as the C calls on the same model and seed (ℓ̂, ∇ℓ̂, particles, weights, tangents,
// means, reports) in double and float, in the three gradient modes and with OT
// resampling, with lambdas capturing the observation sequence; bad input through the
// wrapper reports the documented status and changes nothing.
// Built by tests/cpp/Makefile with g++ and clang++, C++17 and C++20, with and without
// exceptions, under ASan/UBSan. The model is tests/c/test_dpf.c's: x' = a·x + 0.5·ξ,
// y = x + c + N(0, 0.4²), θ = (a, c), d = 1, k = 1.
#include <cmath>
#include <limits>
#if !defined(OTC_HPP_NO_EXCEPTIONS)
#include <stdexcept>
#endif

#include "check.hpp"

constexpr std::size_t N = 32, P = 2, STEPS = 15;

static std::vector<double> observations() {
    std::vector<double> ys(STEPS);
    uint64_t s = 0;
    double x = 0;
    for (std::size_t t = 0; t < STEPS; ++t) {
        s += 0x9E3779B97F4A7C15u;
        x = 0.8 * x + 0.5 * double((s >> 11) % 1000) / 1000.0 - 0.25;
        ys[t] = x + 0.3 + 0.1 * double(t % 3);
    }
    return ys;
}

// ------------------------------------------------------------------ the C model
struct CModel {
    const std::vector<double> *ys;
    std::size_t t;
};

template <class T>
static int32_t c_transition(void *, std::size_t n, std::size_t, std::size_t, const T *th,
                            const T *x, const T *xi, T *out) {
    for (std::size_t i = 0; i < n; ++i) out[i] = th[0] * x[i] + T(0.5) * xi[i];
    return 0;
}
template <class T>
static int32_t c_jvp(void *, std::size_t n, std::size_t, std::size_t p, const T *th, const T *x,
                     const T *, const T *, const T *dx, T *dout) {
    for (std::size_t i = 0; i < n; ++i) {
        dout[i * p] = th[0] * dx[i * p] + x[i];
        dout[i * p + 1] = th[0] * dx[i * p + 1];
    }
    return 0;
}
template <class T>
static int32_t c_score(void *, std::size_t n, std::size_t, std::size_t p, const T *th,
                       const T *x, const T *next, T *score) {
    for (std::size_t i = 0; i < n; ++i) {
        score[i * p] = (next[i] - th[0] * x[i]) * x[i] / T(0.25);
        score[i * p + 1] = 0;
    }
    return 0;
}
template <class T>
static int32_t c_loglik(void *u, std::size_t n, std::size_t, std::size_t, const T *th,
                        const T *x, T *out) {
    const auto *m = static_cast<const CModel *>(u);
    const T y = T((*m->ys)[m->t]);
    for (std::size_t i = 0; i < n; ++i) {
        const T e = (y - x[i] - th[1]) / T(0.4);
        out[i] = T(-0.5) * e * e;
    }
    return 0;
}
template <class T>
static int32_t c_grad(void *u, std::size_t n, std::size_t, std::size_t p, const T *th,
                      const T *x, T *gx, T *gth) {
    const auto *m = static_cast<const CModel *>(u);
    const T y = T((*m->ys)[m->t]);
    for (std::size_t i = 0; i < n; ++i) {
        const T e = (y - x[i] - th[1]) / T(0.16);
        gx[i] = e;
        gth[i * p] = 0;
        gth[i * p + 1] = e;
    }
    return 0;
}

// ------------------------------------------------------------------ the C++ model
// What the bad-input test switches on in the callables.
struct Faults {
    bool fail = false;      // transition returns false
    bool nan_grad = false;  // loglik_grad writes NaN
    bool throws = false;    // transition throws (exceptions builds)
};

template <bool Keep, class F>
static auto keep_if(F f) {
    if constexpr (Keep)
        return f;
    else
        return nullptr;
}

// The model as lambdas capturing the observations `ys`, the time index `t` and the
// faults by reference; the JVP and the score are present when Jvp / Score, reverse
// mode's VJP and seek (which sets `t`) when Reverse.
template <class T, bool Jvp, bool Score, bool Reverse = false>
static auto cpp_model(const std::vector<double> &ys, std::size_t &t, const Faults &fl) {
    auto transition = [&fl](otc::View<const T> th, otc::Points<const T> x,
                            otc::Points<const T> xi, otc::Points<T> out) -> bool {
        if (fl.fail) return false;
#if !defined(OTC_HPP_NO_EXCEPTIONS)
        if (fl.throws) throw std::runtime_error("transition");
#endif
        for (std::size_t i = 0; i < x.n(); ++i) out[i][0] = th[0] * x[i][0] + T(0.5) * xi[i][0];
        return true;
    };
    auto jvp = [](otc::View<const T> th, otc::Points<const T> x, otc::Points<const T>,
                  otc::Points<const T>, otc::Points<const T> dx, otc::Points<T> dout) {
        for (std::size_t i = 0; i < x.n(); ++i) {  // d = 1: a 1×P block per particle
            dout[i][0] = th[0] * dx[i][0] + x[i][0];
            dout[i][1] = th[0] * dx[i][1];
        }
    };
    auto score = [](otc::View<const T> th, otc::Points<const T> x, otc::Points<const T> next,
                    otc::Points<T> out) {
        for (std::size_t i = 0; i < x.n(); ++i) {
            out[i][0] = (next[i][0] - th[0] * x[i][0]) * x[i][0] / T(0.25);
            out[i][1] = 0;
        }
        return 0;
    };
    auto loglik = [&ys, &t](otc::View<const T> th, otc::Points<const T> x, otc::View<T> out) {
        const T y = T(ys[t]);
        for (std::size_t i = 0; i < x.n(); ++i) {
            const T e = (y - x[i][0] - th[1]) / T(0.4);
            out[i] = T(-0.5) * e * e;
        }
    };
    auto grad = [&ys, &t, &fl](otc::View<const T> th, otc::Points<const T> x,
                               otc::Points<T> gx, otc::Points<T> gth) {
        const T y = T(ys[t]);
        for (std::size_t i = 0; i < x.n(); ++i) {
            const T e = (y - x[i][0] - th[1]) / T(0.16);
            gx[i][0] = e;
            gth[i][0] = 0;
            gth[i][1] = fl.nan_grad ? std::numeric_limits<T>::quiet_NaN() : e;
        }
    };
    if constexpr (Reverse) {
        auto vjp = [](otc::View<const T> th, otc::Points<const T> x, otc::Points<const T>,
                      otc::Points<const T>, otc::Points<const T> nb, otc::Points<T> xb,
                      otc::Points<T> tb) {
            for (std::size_t i = 0; i < x.n(); ++i) {
                xb[i][0] = th[0] * nb[i][0];
                tb[i][0] = x[i][0] * nb[i][0];
                tb[i][1] = 0;
            }
        };
        auto seek = [&t](std::size_t tick) { t = tick; };
        return otc::dpf_model<T>(1, transition, keep_if<Jvp>(jvp), keep_if<Score>(score), loglik,
                                 grad, vjp, seek);
    } else {
        return otc::dpf_model<T>(1, transition, keep_if<Jvp>(jvp), keep_if<Score>(score),
                                 loglik, grad);
    }
}

// ------------------------------------------------------------------ (a) same bits as C
template <class T>
struct Run {
    std::vector<T> x, logw, tangent, dll, mean, dmean;
    std::vector<T> reports;  // Δℓ, ℓ̂, ESS and resampled of every step
    T ll{};
    uint64_t steps = 0, resamples = 0, rng_state = 0;
    bool ok = true;
};

template <class T>
static bool same(const Run<T> &a, const Run<T> &b) {
    return same_bits(a.x, b.x) && same_bits(a.logw, b.logw) && same_bits(a.tangent, b.tangent) &&
           same_bits(a.dll, b.dll) && same_bits(a.mean, b.mean) && same_bits(a.dmean, b.dmean) &&
           same_bits(a.reports, b.reports) && std::memcmp(&a.ll, &b.ll, sizeof(T)) == 0 &&
           a.steps == b.steps && a.resamples == b.resamples && a.rng_state == b.rng_state;
}

template <class T>
static Run<T> run_c(const otc::DpfConfig<T> &config, const std::vector<double> &ys,
                    const otc::DpfOtConfig<T> *ot = nullptr) {
    using C = otc::Api<T>;
    const bool score = config.gradient == OTC_DPF_SCORE;
    CModel cm{&ys, 0};
    typename C::dpf_model model{};
    model.struct_size = sizeof model;
    model.user = &cm;
    model.noise_dim = 1;
    model.transition = &c_transition<T>;
    model.transition_jvp = score ? nullptr : &c_jvp<T>;
    model.transition_score = score ? &c_score<T> : nullptr;
    model.loglik = &c_loglik<T>;
    model.loglik_grad = &c_grad<T>;
    typename C::dpf_config cfg = config;
    const T theta[P] = {T(0.8), T(0.3)};
    Run<T> r;
    r.x.resize(N);
    r.logw.resize(N);
    r.tangent.resize(OTC_DPF_TANGENT_ELEMS(N, 1, P));
    r.dll.resize(P);
    r.mean.resize(1);
    r.dmean.resize(P);
    otc_rng rng;
    otc_rng_seed(&rng, 11);
    C::rng_normal(&rng, r.x.data(), N);
    typename C::pf_state st{};
    st.struct_size = sizeof st;
    r.ok &= C::dpf_init(N, 1, P, r.logw.data(), r.tangent.data(), &st, r.dll.data()) ==
            OTC_STATUS_OK;
    std::size_t bytes = 0;
    r.ok &= (ot ? C::dpf_ot_workspace_size(N, 1, P, 1, &bytes)
               : C::dpf_workspace_size(N, 1, P, 1, &bytes)) == OTC_STATUS_OK;
    std::vector<T> ws(bytes / sizeof(T));
    for (cm.t = 0; cm.t < STEPS; ++cm.t) {
        typename C::pf_report rep{};
        rep.struct_size = sizeof rep;
        r.ok &= (ot ? C::dpf_step_ot(&cfg, ot, &model, theta, P, N, 1, &rng, r.x.data(),
                                     r.logw.data(), r.tangent.data(), &st, r.dll.data(),
                                     ws.data(), bytes, r.mean.data(), r.dmean.data(), &rep)
                    : C::dpf_step(&cfg, &model, theta, P, N, 1, &rng, r.x.data(), r.logw.data(),
                                  r.tangent.data(), &st, r.dll.data(), ws.data(), bytes,
                                  r.mean.data(), r.dmean.data(), &rep)) == OTC_STATUS_OK;
        r.reports.insert(r.reports.end(), {T(rep.log_likelihood_increment), T(rep.log_likelihood),
                                           T(rep.ess), T(rep.resampled)});
    }
    r.ll = st.log_likelihood;
    r.steps = st.steps;
    r.resamples = st.resamples;
    r.rng_state = rng.state;
    return r;
}

template <class T, bool Jvp, bool Score>
static Run<T> run_cpp(const otc::DpfConfig<T> &config, const std::vector<double> &ys,
                      const otc::DpfOtConfig<T> *ot = nullptr) {
    std::size_t t = 0;
    Faults faults;
    auto model = cpp_model<T, Jvp, Score>(ys, t, faults);  // captures ys and t
    const std::vector<T> theta = {T(0.8), T(0.3)};
    Run<T> r;
    r.x.resize(N);
    r.logw.resize(N);
    r.tangent.resize(value(otc::dpf_tangent_len(N, 1, P)));
    r.dll.resize(P);
    r.mean.resize(1);
    r.dmean.resize(P);
    otc::Rng rng(11);
    rng.normal<T>(r.x);
    otc::PfState<T> st;
    r.ok &= value(otc::dpf_init<T>({r.x, 1}, r.logw, r.tangent, st, r.dll)) == otc::Status::ok;
    otc::Workspace ws;  // owning: sized by the first step
    for (t = 0; t < STEPS; ++t) {
        const auto rep =
            ot ? value(otc::dpf_step_ot(config, *ot, model, theta, rng, {r.x, 1}, r.logw,
                                        r.tangent, st, r.dll, ws, r.mean, r.dmean))
               : value(otc::dpf_step(config, model, theta, rng, {r.x, 1}, r.logw, r.tangent, st,
                                     r.dll, ws, r.mean, r.dmean));
        r.reports.insert(r.reports.end(), {T(rep.log_likelihood_increment), T(rep.log_likelihood),
                                           T(rep.ess), T(rep.resampled)});
    }
    r.ok &= ws.bytes() == (ot ? value(otc::dpf_ot_workspace_size<T>(N, 1, P, 1))
                              : value(otc::dpf_workspace_size<T>(N, 1, P, 1)));
    r.ll = st.log_likelihood;
    r.steps = st.steps;
    r.resamples = st.resamples;
    r.rng_state = rng.state;
    return r;
}

template <class T>
static void wrapper_matches_c() {
    const auto ys = observations();
    // Stop-gradient (default) and detach with the JVP; score without it (nullptr).
    for (int32_t mode : {OTC_DPF_STOP_GRADIENT, OTC_DPF_DETACH}) {
        const auto config = otc::DpfConfig<T>::with_gradient(mode);
        const auto c = run_c(config, ys);
        const auto cpp = run_cpp<T, true, false>(config, ys);
        CHECK(c.ok && cpp.ok && c.steps == STEPS && c.resamples > 0);
        CHECK(same(c, cpp));
        CHECK(std::isfinite(cpp.ll) && std::isfinite(cpp.dll[0]) && std::isfinite(cpp.dll[1]));
    }
    const auto config = otc::DpfConfig<T>::with_gradient(OTC_DPF_SCORE);
    const auto c = run_c(config, ys);
    const auto cpp = run_cpp<T, false, true>(config, ys);
    CHECK(c.ok && cpp.ok && same(c, cpp));
    // OT resampling (dpf_step_ot), sized by dpf_ot_workspace_size.
    auto ot_config = otc::DpfConfig<T>::with_gradient(OTC_DPF_DETACH);
    ot_config.resampler = OTC_RESAMPLE_OPTIMAL;
    const auto ot = otc::DpfOtConfig<T>::with_epsilon(T(0.5));
    const auto c_ot = run_c(ot_config, ys, &ot);
    const auto cpp_ot = run_cpp<T, true, false>(ot_config, ys, &ot);
    CHECK(c_ot.ok && cpp_ot.ok && c_ot.resamples > 0 && same(c_ot, cpp_ot));
    CHECK(c_ot.ll != c.ll);
}

// ------------------------------------------------------------------ reverse mode
// The tape records the C forward-mode run bit for bit and its one backward pass gives
// the forward mode's ∂ℓ̂/∂θ (transposed products summed in another order: 1e-10
// relative in double, 1e-4 in float); a model without the reverse callables is refused.
template <class T>
static void tape_matches_forward_mode() {
    const auto ys = observations();
    const T tol = sizeof(T) == 8 ? T(1e-10) : T(1e-4);
    otc::DpfOtConfig<T> ot = otc::DpfOtConfig<T>::with_epsilon(T(0.5));
    for (int pass = 0; pass < 3; ++pass) {
        auto config = otc::DpfConfig<T>::with_gradient(pass == 0 ? OTC_DPF_DETACH
                                                                 : OTC_DPF_STOP_GRADIENT);
        const otc::DpfOtConfig<T> *otp = nullptr;
        if (pass == 2) {
            config.resampler = OTC_RESAMPLE_OPTIMAL;
            otp = &ot;
        }
        const auto c = run_c(config, ys, otp);
        std::size_t t = 0;
        Faults faults;
        auto model = cpp_model<T, false, false, true>(ys, t, faults);
        const std::vector<T> theta = {T(0.8), T(0.3)};
        std::vector<T> x(N), logw(N), mean(1), values(value(otc::dpf_tape_len(N, 1, 1, STEPS)));
        std::vector<T> tangent(OTC_DPF_TANGENT_ELEMS(N, 1, P)), dll(P);
        otc::Rng rng(11);
        rng.normal<T>(x);
        otc::PfState<T> st;
        CHECK(value(otc::dpf_init<T>({x, 1}, logw, tangent, st, dll)) == otc::Status::ok);
        otc::DpfTape<T> tape;
        CHECK(value(otc::dpf_tape_init<T>(values, N, 1, 1, STEPS, tape)) == otc::Status::ok);
        otc::Workspace ws;
        for (t = 0; t < STEPS; ++t)
            value(otc::dpf_tape_step(config, otp, model, theta, rng, {x, 1}, logw, st, tape, ws,
                                     mean));
        CHECK(tape.ticks == STEPS && same_bits(x, c.x) && same_bits(logw, c.logw) &&
              std::memcmp(&st.log_likelihood, &c.ll, sizeof(T)) == 0);
        std::vector<T> g(P, T(-7)), xb(N);
        CHECK(value(otc::dpf_tape_gradient(config, otp, model, theta, tape, T(1), {}, ws, g, xb,
                                           {})) == otc::Status::ok);
        // OT: CG solves to the default tolerance (1e-10 / 1e-5) on both sides.
        const T tol_ot = pass == 2 ? (sizeof(T) == 8 ? T(1e-6) : T(1e-2)) : tol;
        for (std::size_t j = 0; j < P; ++j)
            CHECK(std::fabs(g[j] - c.dll[j]) <= tol_ot * (std::fabs(c.dll[j]) + 1));
        // The forward-only model has no seek or VJP: refused, nothing written.
        std::vector<T> g2(P, T(-7));
        auto fwd_only = cpp_model<T, true, false>(ys, t, faults);
        EXPECT_STATUS(otc::dpf_tape_gradient(config, otp, fwd_only, theta, tape, T(1), {}, ws,
                                             g2, {}, {}),
                      otc::Status::null_pointer);
        CHECK(g2[0] == T(-7) && g2[1] == T(-7));
        std::vector<T> short_mb(1);
        EXPECT_STATUS(otc::dpf_tape_gradient(config, otp, model, theta, tape, T(1), short_mb, ws,
                                             g2, {}, {}),
                      otc::Status::length_mismatch);
    }
    CHECK(value(otc::dpf_tape_workspace_size<T>(N, 1, P, 1, false)) ==
          (sizeof(T) == 8 ? OTC_DPF_TAPE_WORKSPACE_SIZE_F64(N, 1, P, 1, 0)
                          : OTC_DPF_TAPE_WORKSPACE_SIZE_F32(N, 1, P, 1, 0)));
}

static void sizes() {
    CHECK(value(otc::dpf_tangent_len(100, 3, 4)) == 1600);
    CHECK(value(otc::dpf_tangent_len(100, 3, 4)) == OTC_DPF_TANGENT_ELEMS(100, 3, 4));
    CHECK(value(otc::dpf_workspace_size<double>(N, 1, P, 1)) ==
          OTC_DPF_WORKSPACE_SIZE_F64(N, 1, P, 1));
    CHECK(value(otc::dpf_workspace_size<float>(100, 3, 4, 2)) ==
          OTC_DPF_WORKSPACE_SIZE_F32(100, 3, 4, 2));
    CHECK(value(otc::dpf_ot_workspace_size<double>(N, 1, P, 1)) ==
          OTC_DPF_OT_WORKSPACE_SIZE_F64(N, 1, P, 1));
    CHECK(otc::DpfOtConfig<float>().struct_size == sizeof(otc_dpf_ot_config_f32) &&
          otc::DpfOtConfig<double>::with_epsilon(0.5).resample.epsilon == 0.5);
    EXPECT_STATUS(otc::dpf_tangent_len(SIZE_MAX, 2, 2), otc::Status::length_mismatch);
    EXPECT_STATUS(otc::dpf_workspace_size<float>(SIZE_MAX, 2, 2, 1), otc::Status::length_mismatch);
    const otc::DpfConfig<double> c;
    CHECK(c.resampler == OTC_RESAMPLE_SYSTEMATIC && c.gradient == OTC_DPF_STOP_GRADIENT &&
          c.struct_size == sizeof(otc_dpf_config_f64));
    const otc::PfState<float> st;
    CHECK(st.struct_size == sizeof(otc_pf_state_f32) && st.steps == 0);
}

// ------------------------------------------------------------------ (b) bad input
static void bad_input_changes_nothing() {
    using T = double;
    const auto ys = observations();
    std::size_t t = 0;
    Faults faults;
    auto model = cpp_model<T, true, false>(ys, t, faults);
    auto no_jvp = cpp_model<T, false, false>(ys, t, faults);
    std::vector<T> theta = {0.8, 0.3}, x(N), logw(N), tangent(OTC_DPF_TANGENT_ELEMS(N, 1, P)),
                   dll(P), mean = {-7.0}, dmean = {-7.0, -7.0};
    otc::Rng rng(3);
    rng.normal<T>(x);
    otc::PfState<T> st;
    const otc::DpfConfig<T> cfg;
    CHECK(value(otc::dpf_init<T>({x, 1}, logw, tangent, st, dll)) == otc::Status::ok);
    for (std::size_t k = 0; k < tangent.size(); ++k) tangent[k] = 0.01 * double(k);
    dll = {0.5, -0.5};
    const auto x0 = x, logw0 = logw, tangent0 = tangent, dll0 = dll;
    const otc::PfState<T> st0 = st;
    const uint64_t rng0 = rng.state;
    otc::Workspace ws;
    auto unchanged = [&] {
        return same_bits(x, x0) && same_bits(logw, logw0) && same_bits(tangent, tangent0) &&
               same_bits(dll, dll0) && st.log_likelihood == st0.log_likelihood &&
               st.steps == st0.steps && st.resamples == st0.resamples && rng.state == rng0 &&
               mean[0] == -7.0 && dmean[0] == -7.0 && dmean[1] == -7.0;
    };
    auto step = [&](const otc::DpfConfig<T> &c, auto &m, otc::Workspace &w) {
        return otc::dpf_step(c, m, theta, rng, {x, 1}, logw, tangent, st, dll, w, mean, dmean);
    };

    // Views of the wrong size (checked by the wrapper).
    std::vector<T> short_tangent(tangent.size() - 1), long_dmean(P + 1);
    EXPECT_STATUS(otc::dpf_step(cfg, model, theta, rng, {x, 1}, logw, short_tangent, st, dll, ws,
                                mean, dmean),
                  otc::Status::length_mismatch);
    CHECK(unchanged());
    EXPECT_STATUS(otc::dpf_step(cfg, model, theta, rng, {x, 1}, logw, tangent, st, dll, ws, mean,
                                long_dmean),
                  otc::Status::length_mismatch);
    CHECK(unchanged());
    EXPECT_STATUS(otc::dpf_step(cfg, model, std::vector<T>{0.8}, rng, {x, 1}, logw, tangent, st,
                                dll, ws, mean, dmean),
                  otc::Status::length_mismatch);
    CHECK(unchanged());
    // A callable the gradient mode needs is absent (nullptr → NULL slot).
    EXPECT_STATUS(step(cfg, no_jvp, ws), otc::Status::null_pointer);
    CHECK(unchanged());
    EXPECT_STATUS(step(otc::DpfConfig<T>::with_gradient(OTC_DPF_SCORE), model, ws),
                  otc::Status::null_pointer);
    CHECK(unchanged());
    // Settings the C call refuses.
    auto optimal = cfg;
    optimal.resampler = OTC_RESAMPLE_OPTIMAL;
    EXPECT_STATUS(step(optimal, model, ws), otc::Status::invalid_parameter);
    CHECK(unchanged());
    EXPECT_STATUS(step(otc::DpfConfig<T>::with_gradient(9), model, ws),
                  otc::Status::invalid_parameter);
    CHECK(unchanged());
    auto reserved = cfg;
    reserved.reserved = 1;
    EXPECT_STATUS(step(reserved, model, ws), otc::Status::struct_size);
    CHECK(unchanged());
    // A borrowed workspace one element short.
    alignas(OTC_WORKSPACE_ALIGN) static unsigned char small[OTC_DPF_WORKSPACE_SIZE_F64(N, 1, P, 1) - 8];
    otc::Workspace borrowed(small);
    EXPECT_STATUS(step(cfg, model, borrowed), otc::Status::workspace_too_small);
    CHECK(unchanged());
    // Failing callables.
    faults.fail = true;
    EXPECT_STATUS(step(cfg, model, ws), otc::Status::callback_failed);
    CHECK(unchanged());
    faults.fail = false;
    faults.nan_grad = true;
    EXPECT_STATUS(step(cfg, model, ws), otc::Status::non_finite);
    CHECK(unchanged());
    faults.nan_grad = false;
#if !defined(OTC_HPP_NO_EXCEPTIONS)
    // A callable's exception comes back out of dpf_step, itself, after the C call.
    faults.throws = true;
    bool caught = false;
    try {
        (void)step(cfg, model, ws);
    } catch (const std::runtime_error &e) {
        caught = std::strcmp(e.what(), "transition") == 0;
    }
    CHECK(caught);
    CHECK(unchanged());
    faults.throws = false;
#endif
    // Non-finite θ.
    theta[0] = std::numeric_limits<T>::quiet_NaN();
    EXPECT_STATUS(step(cfg, model, ws), otc::Status::non_finite_input);
    CHECK(unchanged());
    theta[0] = 0.8;
    // dpf_init: P = 0 and a view of the wrong size write nothing.
    std::vector<T> none;
    EXPECT_STATUS(otc::dpf_init<T>({x, 1}, logw, none, st, none), otc::Status::empty_input);
    CHECK(unchanged());
    EXPECT_STATUS(otc::dpf_init<T>({x, 1}, logw, short_tangent, st, dll),
                  otc::Status::length_mismatch);
    CHECK(unchanged());
    // The same call with good input goes through.
    const auto rep = value(step(cfg, model, ws));
    CHECK(rep.log_likelihood == st.log_likelihood && st.steps == 1 && rng.state != rng0 &&
          std::isfinite(dll[0]) && std::isfinite(dll[1]) && mean[0] != -7.0);
}

int main() {
    sizes();
    wrapper_matches_c<double>();
    wrapper_matches_c<float>();
    bad_input_changes_nothing();
    tape_matches_forward_mode<double>();
    tape_matches_forward_mode<float>();
    return report("test_dpf");
}
