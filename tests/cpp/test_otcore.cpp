// Tests of include/otcore.hpp: every wrapper gives the same bits as the C call it
// wraps (same inputs, same seeds), callables with captures reach the library through
// the void* context, errors come back as otc::Error (exceptions) or otc::Result
// (-fno-exceptions), and the workspace works owned, borrowed and static.
// Built by tests/cpp/Makefile with g++ and clang++, C++17 and C++20, under ASan/UBSan.
#include <cmath>

#include "check.hpp"

// ---------------------------------------------------------------- Sinkhorn and plan
template <class T>
static void sinkhorn_matches_c() {
    const std::size_t n = 37, m = 21, d = 2;
    const auto x = cloud<T>(n, d, 1, T(0)), y = cloud<T>(m, d, 2, T(1));
    const std::vector<T> a(n, T(1) / T(n)), b(m, T(1) / T(m));

    // C++
    const auto problem =
        otc::Problem<T>::point_clouds({x, d}, {y, d}, a, b, T(0.5));
    otc::SinkhornConfig<T> config;
    config.epsilon = T(0.1);
    otc::Workspace ws;  // owning, grows on demand
    std::vector<T> f(n), g(m);
    const auto res = value(otc::sinkhorn(problem, config, ws, f, g));
    CHECK(res.status == OTC_STATUS_OK);
    CHECK(res.iterations > 0);

    // C
    using C = otc::Api<T>;
    typename C::problem cp{};
    cp.struct_size = sizeof cp;
    cp.x = x.data();
    cp.y = y.data();
    cp.a = a.data();
    cp.b = b.data();
    cp.n = n;
    cp.m = m;
    cp.d = d;
    cp.scale = T(0.5);
    typename C::sinkhorn_config cc;
    C::sinkhorn_config_default(&cc);
    cc.epsilon = T(0.1);
    std::size_t bytes = 0;
    CHECK(C::sinkhorn_workspace_size(n, m, d, &bytes) == OTC_STATUS_OK);
    std::vector<T> cws(bytes / sizeof(T)), cf(n), cg(m);
    typename C::sinkhorn_result cr{};
    cr.struct_size = sizeof cr;
    CHECK(C::sinkhorn_solve(&cp, &cc, cws.data(), bytes, cf.data(), n, cg.data(), m, &cr) ==
          OTC_STATUS_OK);
    CHECK(same_bits(f, cf) && same_bits(g, cg));
    CHECK(res.iterations == cr.iterations && res.transport_cost == cr.transport_cost &&
          res.reg_ot_cost == cr.reg_ot_cost && res.epsilon == cr.epsilon);
    CHECK(value(otc::sinkhorn_workspace_size<T>(n, m, d)) == bytes);

    // Plan operations against C.
    const otc::Plan<T> plan(problem, res.epsilon, f, g);
    std::vector<T> bary(n * d), cbary(n * d);
    value(plan.barycentric(ws, {bary, d}));
    CHECK(C::plan_barycentric(&cp, cr.epsilon, cf.data(), n, cg.data(), m, cws.data(), bytes,
                              cbary.data(), n * d) == OTC_STATUS_OK);
    CHECK(same_bits(bary, cbary));
    std::vector<T> ones(m, T(1)), row(n), crow(n);
    value(plan.apply(ones, ws, row));
    CHECK(C::plan_apply(&cp, cr.epsilon, cf.data(), n, cg.data(), m, ones.data(), m, cws.data(),
                        bytes, crow.data(), n) == OTC_STATUS_OK);
    CHECK(same_bits(row, crow));
    std::vector<T> onesn(n, T(1)), col(m), ccol(m);
    value(plan.apply_transpose(onesn, ws, col));
    CHECK(C::plan_apply_transpose(&cp, cr.epsilon, cf.data(), n, cg.data(), m, onesn.data(), n,
                                  cws.data(), bytes, ccol.data(), m) == OTC_STATUS_OK);
    CHECK(same_bits(col, ccol));
    const T cost = value(plan.transport_cost(ws));
    T ccost{};
    CHECK(C::plan_transport_cost(&cp, cr.epsilon, cf.data(), n, cg.data(), m, cws.data(), bytes,
                                 &ccost) == OTC_STATUS_OK);
    CHECK(cost == ccost);
    std::vector<T> dense(n * m), cdense(n * m);
    value(plan.dense(ws, dense));
    CHECK(C::plan_dense(&cp, cr.epsilon, cf.data(), n, cg.data(), m, cws.data(), bytes,
                        cdense.data(), n * m) == OTC_STATUS_OK);
    CHECK(same_bits(dense, cdense));

    // On a caller's pool (tasks last-first): the same bits; a malformed pool reaches the
    // library (refused by its struct_size).
    otc_parallel_for pool{};
    pool.struct_size = sizeof pool;
    pool.run = [](void *, std::size_t tasks, otc_parallel_task task, void *ctx) -> int32_t {
        for (std::size_t i = tasks; i-- > 0;) task(ctx, i);
        return 0;
    };
    const otc::Plan<T> pooled = plan.on(&pool);
    std::vector<T> prow(n), pcol(m), pbary(n * d);
    value(pooled.apply(ones, ws, prow));
    value(pooled.apply_transpose(onesn, ws, pcol));
    value(pooled.barycentric(ws, {pbary, d}));
    CHECK(same_bits(prow, row) && same_bits(pcol, col) && same_bits(pbary, bary));
    CHECK(value(pooled.transport_cost(ws)) == cost);
    otc_parallel_for malformed = pool;
    malformed.struct_size = 0;
    EXPECT_STATUS(plan.on(&malformed).apply(ones, ws, prow), otc::Status::struct_size);
    EXPECT_STATUS(plan.on(&malformed).transport_cost(ws), otc::Status::struct_size);

    // A borrowed buffer of the right size gives the same bits; one byte less is refused.
    std::vector<T> buf(bytes / sizeof(T)), f2(n), g2(m);
    otc::Workspace borrowed(buf.data(), bytes);
    value(otc::sinkhorn(problem, config, borrowed, f2, g2));
    CHECK(same_bits(f2, cf));
    otc::Workspace small(buf.data(), bytes - sizeof(T));
    EXPECT_STATUS(otc::sinkhorn(problem, config, small, f2, g2),
                  otc::Status::workspace_too_small);

    // Sizes that disagree are refused before the call, outputs untouched.
    std::vector<T> short_f(n - 1, T(7));
    EXPECT_STATUS(otc::sinkhorn(problem, config, ws, short_f, g2), otc::Status::length_mismatch);
    CHECK(short_f[0] == T(7));
    const std::vector<T> short_b(m - 1, T(1) / T(m - 1));
    const auto bad = otc::Problem<T>::point_clouds({x, d}, {y, d}, a, short_b);
    EXPECT_STATUS(otc::sinkhorn(bad, config, ws, f2, g2), otc::Status::length_mismatch);
    otc::SinkhornConfig<T> bad_eps;
    bad_eps.epsilon = T(-1);
    EXPECT_STATUS(otc::sinkhorn(problem, bad_eps, ws, f2, g2), otc::Status::invalid_epsilon);
}

// A dense cost from a static workspace: the firmware pattern, no heap.
static void dense_static_workspace() {
    static otc::StaticWorkspace<4096> ws;
    const float c[] = {0.f, 1.f, 1.f, 0.f};
    const float a[] = {0.5f, 0.5f}, b[] = {0.5f, 0.5f};
    float f[2], g[2];
    otc::SinkhornConfig<float> config;
    const auto problem = otc::Problem<float>::dense(c, a, b);
    const auto res = value(otc::sinkhorn(problem, config, ws.view(), f, g));
    CHECK(std::fabs(res.transport_cost) < 0.1f);
    CHECK(ws.view().borrowed());
}

// ---------------------------------------------------------------- OT resampling
template <class T>
static void ot_resample_matches_c() {
    const std::size_t n = 50, d = 3;
    const auto x = cloud<T>(n, d, 3, T(0));
    auto logw = cloud<T>(n, 1, 4, T(0));
    otc::OtResampleConfig<T> cfg(T(0.5));
    otc::Workspace ws;
    std::vector<T> out(n * d), cout(n * d);
    const auto rep = value(otc::ot_resample(cfg, {x, d}, logw, ws, {out, d}));
    CHECK(rep.iterations > 0);

    using C = otc::Api<T>;
    typename C::ot_resample_config cc;
    C::ot_resample_config_default(&cc);
    cc.epsilon = T(0.5);
    std::size_t bytes = 0;
    CHECK(C::ot_resample_workspace_size(n, d, &bytes) == OTC_STATUS_OK);
    std::vector<T> cws(bytes / sizeof(T));
    typename C::ot_resample_report cr{};
    cr.struct_size = sizeof cr;
    CHECK(C::ot_resample(&cc, x.data(), logw.data(), n, d, cws.data(), bytes, cout.data(), &cr) ==
          OTC_STATUS_OK);
    CHECK(same_bits(out, cout));
    CHECK(rep.iterations == cr.iterations && rep.scale == cr.scale);

    // The VJP against C.
    const auto ybar = cloud<T>(n, d, 5, T(0));
    std::vector<T> dx(n * d), dlogw(n), cdx(n * d), cdlogw(n);
    otc::VjpConfig<T> vjp;
    value(otc::ot_resample_vjp(cfg, vjp, {x, d}, logw, ybar, ws, dx, dlogw));
    CHECK(C::vjp_workspace_size(n, d, &bytes) == OTC_STATUS_OK);
    cws.assign(bytes / sizeof(T), T(0));
    CHECK(C::ot_resample_vjp(&cc, &vjp, x.data(), logw.data(), n, d, ybar.data(), cws.data(),
                             bytes, cdx.data(), cdlogw.data()) == OTC_STATUS_OK);
    CHECK(same_bits(dx, cdx) && same_bits(dlogw, cdlogw));

    // Classical resampling and weight normalisation against C.
    std::vector<std::size_t> anc(n), canc(n);
    otc::Rng r1(9), r2(9);
    value(otc::resample_ancestors<T>(OTC_RESAMPLE_SYSTEMATIC, logw, r1, anc));
    CHECK(C::resample_ancestors(OTC_RESAMPLE_SYSTEMATIC, logw.data(), n, &r2, canc.data()) ==
          OTC_STATUS_OK);
    CHECK(anc == canc && r1.state == r2.state);
    auto lw2 = logw;
    const auto lse_ess = value(otc::normalise_log_weights<T>(logw));
    T lse{}, ess{};
    CHECK(C::log_weights_normalise(lw2.data(), n, &lse, &ess) == OTC_STATUS_OK);
    CHECK(same_bits(logw, lw2) && lse_ess.first == lse && lse_ess.second == ess);

    otc::OtResampleConfig<T> unset;  // ε not set: refused
    EXPECT_STATUS(otc::ot_resample(unset, {x, d}, logw, ws, {out, d}),
                  otc::Status::invalid_epsilon);
}

// ---------------------------------------------------------------- particle filter
// A 2-D random walk observed through its range to a beacon at (3, 4), noise 0.2.
template <class T>
struct Walk {
    T obs;
    // The C callbacks (what a C user writes), for the comparison.
    static int32_t predict(void *, std::size_t n, std::size_t d, const T *prev, T *next,
                           otc_rng *rng) {
        otc::Api<T>::rng_normal(rng, next, n * d);
        for (std::size_t i = 0; i < n * d; ++i) next[i] = prev[i] + T(0.1) * next[i];
        return 0;
    }
    static int32_t loglik(void *user, std::size_t n, std::size_t d, const T *x, T *out) {
        const T obs = static_cast<Walk *>(user)->obs;
        for (std::size_t i = 0; i < n; ++i) {
            const T dx = x[i * d] - T(3), dy = x[i * d + 1] - T(4);
            const T r = std::sqrt(dx * dx + dy * dy) - obs;
            out[i] = T(-0.5) * r * r / T(0.04);
        }
        return 0;
    }
};

template <class T>
static void particle_filter_matches_c(const otc::PfConfig<T> &config) {
    const std::size_t n = 40, d = 2, steps = 12;
    auto x = cloud<T>(n, d, 6, T(0));
    std::vector<T> logw(n);
    auto cx = x;
    std::vector<T> clogw(n);

    // C++: lambdas with captures (the observation, a call counter).
    otc::ParticleFilter<T> pf(config, {x, d}, logw);
    otc::Rng rng(42);
    otc::Workspace ws;
    std::vector<T> mean(d), cov(d * d);
    T obs = T(0);
    int predict_calls = 0, loglik_calls = 0;
    auto predict = [&](otc::Points<const T> prev, otc::Points<T> next, otc::RngRef r) {
        ++predict_calls;
        r.normal(next.values());
        for (std::size_t i = 0; i < prev.values().size(); ++i)
            next.values()[i] = prev.values()[i] + T(0.1) * next.values()[i];
    };
    auto loglik = [&](otc::Points<const T> p, otc::View<T> out) {
        ++loglik_calls;
        for (std::size_t i = 0; i < p.n(); ++i) {
            const T dx = p[i][0] - T(3), dy = p[i][1] - T(4);
            const T r = std::sqrt(dx * dx + dy * dy) - obs;
            out[i] = T(-0.5) * r * r / T(0.04);
        }
        return true;
    };

    // C
    using C = otc::Api<T>;
    typename C::pf_state cs{};
    cs.struct_size = sizeof cs;
    CHECK(C::pf_init(clogw.data(), n, &cs) == OTC_STATUS_OK);
    otc_rng crng;
    otc_rng_seed(&crng, 42);
    std::size_t bytes = 0;
    CHECK(C::pf_workspace_size(n, d, config.resampler, &bytes) == OTC_STATUS_OK);
    CHECK(value(pf.workspace_size()) == bytes);
    std::vector<T> cws(bytes / sizeof(T)), cmean(d), ccov(d * d);
    Walk<T> walk{T(0)};

    for (std::size_t k = 0; k < steps; ++k) {
        obs = T(5) + T(0.05) * T(k);
        walk.obs = obs;
        const auto rep = value(pf.step(predict, loglik, rng, ws, mean, cov));
        typename C::pf_report cr{};
        cr.struct_size = sizeof cr;
        CHECK(C::pf_step(&config, &Walk<T>::predict, &Walk<T>::loglik, &walk, n, d, &crng,
                         cx.data(), clogw.data(), &cs, cws.data(), bytes, cmean.data(),
                         ccov.data(), &cr) == OTC_STATUS_OK);
        CHECK(rep.resampled == cr.resampled && rep.ess == cr.ess &&
              rep.log_likelihood == cr.log_likelihood);
    }
    CHECK(same_bits(x, cx) && same_bits(logw, clogw) && same_bits(mean, cmean) &&
          same_bits(cov, ccov));
    CHECK(pf.log_likelihood() == cs.log_likelihood && pf.steps() == steps &&
          pf.resamples() == cs.resamples && rng.state == crng.state);
    CHECK(predict_calls == int(steps) && loglik_calls == int(steps));
    CHECK(cs.resamples > 0);

    // A failing callable: the step fails and nothing changes.
    const auto x_before = x;
    const auto rng_before = rng.state;
    auto refuse = [](otc::Points<const T>, otc::View<T>) { return false; };
    EXPECT_STATUS(pf.step(predict, refuse, rng, ws, mean, cov), otc::Status::callback_failed);
    CHECK(same_bits(x, x_before) && rng.state == rng_before && pf.steps() == steps);
#if !defined(OTC_HPP_NO_EXCEPTIONS)
    // An exception thrown by a callable comes back out of step, unchanged.
    struct Sensor {
        int code;
    };
    auto throwing = [](otc::Points<const T>, otc::View<T>) { throw Sensor{7}; };
    bool caught = false;
    try {
        pf.step(predict, throwing, rng, ws, mean, cov);
    } catch (const Sensor &s) {
        caught = s.code == 7;
    }
    CHECK(caught);
    CHECK(same_bits(x, x_before) && pf.steps() == steps);
#endif
    std::vector<T> short_mean(d + 1);
    EXPECT_STATUS(pf.step(predict, loglik, rng, ws, short_mean, cov),
                  otc::Status::length_mismatch);
}

// ---------------------------------------------------------------- SDE sampler
// Data N(0, σ0² I) under VP: x_t ~ N(0, (a_t² σ0² + s_t²) I), score −x / that.
template <class T>
struct Gauss {
    otc_sde_process process;
    double var0;
    static int32_t score(void *user, std::size_t n, std::size_t d, const T *x, const T *t, T *out) {
        const auto *g = static_cast<const Gauss *>(user);
        for (std::size_t i = 0; i < n; ++i) {
            otc_sde_coefs c{};
            c.struct_size = sizeof c;
            if (otc_sde_process_coefs(&g->process, double(t[i]), &c) != OTC_STATUS_OK) return 1;
            const T var = T(c.a * c.a * g->var0 + c.s * c.s);
            for (std::size_t k = 0; k < d; ++k) out[i * d + k] = -x[i * d + k] / var;
        }
        return 0;
    }
};

template <class T>
static void sde_matches_c() {
    const std::size_t n = 16, d = 2, steps = 30;
    const otc::SdeProcess process(OTC_SDE_VP);
    const otc::SdeSamplerConfig config(OTC_SDE_EULER_MARUYAMA);
    const double var0 = 0.25;
    std::vector<T> grid(steps + 1), x(n * d);
    value(otc::sde_grid<T>(process, OTC_SDE_GRID_UNIFORM_TIME, 0.0, 1.0, 1e-3, grid));
    value(otc::sde_prior_sample<T>(process, 11, 0, {x, d}));
    auto cx = x;

    // C++: a capturing lambda over the same closed-form score.
    Gauss<T> g{process, var0};
    std::size_t evaluated = 0;
    auto score = [&](otc::Points<const T> xs, otc::View<const T> t, otc::Points<T> out) {
        evaluated += xs.n();
        return Gauss<T>::score(&g, xs.n(), xs.d(), xs.data(), t.data(), out.data());
    };
    otc::Workspace ws;
    const uint64_t evals = value(otc::sde_sample<T>(process, config, score, OTC_SDE_OUTPUT_SCORE,
                                                    grid, {x, d}, 5, 0, ws));
    CHECK(evals == steps && evaluated == steps * n);

    // C
    std::size_t bytes = 0;
    CHECK(otc::Api<T>::sde_workspace_size(n, d, &bytes) == OTC_STATUS_OK);
    std::vector<T> cws(bytes / sizeof(T));
    uint64_t cevals = 0;
    CHECK(otc::Api<T>::sde_sample(&process, &config, &Gauss<T>::score, &g, OTC_SDE_OUTPUT_SCORE,
                                  grid.data(), grid.size(), cx.data(), n, d, 5, 0, cws.data(),
                                  bytes, &cevals) == OTC_STATUS_OK);
    CHECK(same_bits(x, cx) && evals == cevals);

    // One step at a time gives the same samples as the whole grid.
    std::vector<T> xs(n * d);
    value(otc::sde_prior_sample<T>(process, 11, 0, {xs, d}));
    for (std::size_t j = 0; j < steps; ++j)
        value(otc::sde_step<T>(process, config, score, OTC_SDE_OUTPUT_SCORE, {xs, d}, grid[j],
                               grid[j + 1], j, 5, 0, ws));
    CHECK(same_bits(xs, x));

    // DPM-Solver++(2M) step by step with its history = the whole grid in one call.
    const otc::SdeSamplerConfig dpm(OTC_SDE_DPM_SOLVER_PP_2M);
    std::vector<T> whole(n * d), stepwise(n * d), history(n * d);
    value(otc::sde_prior_sample<T>(process, 12, 0, {whole, d}));
    stepwise = whole;
    value(otc::sde_sample<T>(process, dpm, score, OTC_SDE_OUTPUT_SCORE, grid, {whole, d}, 5, 0,
                             ws));
    otc::Multistep<T> ms{history};
    for (std::size_t j = 0; j < steps; ++j)
        value(otc::sde_step<T>(process, dpm, score, OTC_SDE_OUTPUT_SCORE, {stepwise, d}, grid[j],
                               grid[j + 1], j, 5, 0, ws, &ms));
    CHECK(same_bits(stepwise, whole) && ms.h_prev > 0.0);

    // The adaptive solver against C.
    const otc::SdeAdaptiveConfig adaptive(process);
    std::vector<T> xa(n * d);
    value(otc::sde_prior_sample<T>(process, 13, 0, {xa, d}));
    auto cxa = xa;
    const auto stats = value(otc::sde_adaptive<T>(process, adaptive, score, OTC_SDE_OUTPUT_SCORE,
                                                  {xa, d}, 7, 0, ws));
    otc_sde_adaptive_stats cstats{};
    cstats.struct_size = sizeof cstats;
    CHECK(otc::Api<T>::sde_adaptive(&process, &adaptive, &Gauss<T>::score, &g,
                                    OTC_SDE_OUTPUT_SCORE, cxa.data(), n, d, 7, 0, cws.data(),
                                    bytes, &cstats) == OTC_STATUS_OK);
    CHECK(same_bits(xa, cxa) && stats.evaluations == cstats.evaluations &&
          stats.accepted == cstats.accepted && stats.unfinished == 0);
}

#if defined(OTC_HPP_HAS_SPAN)
// C++20: std::span in and out.
static void spans() {
    std::vector<double> a = {0.5, 0.5}, b = {0.25, 0.75}, c = {0.0, 2.0, 2.0, 0.0};
    std::vector<double> f(2), g(2);
    const auto problem = otc::Problem<double>::dense(std::span<const double>(c), std::span(a),
                                                     std::span(b));
    otc::SinkhornConfig<double> config;
    otc::Workspace ws;
    value(otc::sinkhorn(problem, config, ws, std::span(f), std::span(g)));
    const std::span<double> back = otc::View<double>(f);
    CHECK(back.data() == f.data() && back.size() == 2);
}
#endif

int main() {
    CHECK(otc::version() == OTC_VERSION_NUMBER);
    CHECK(std::strcmp(otc::status_str(otc::Status::ok), otc_status_str(0)) == 0);
    sinkhorn_matches_c<float>();
    sinkhorn_matches_c<double>();
    dense_static_workspace();
    ot_resample_matches_c<float>();
    ot_resample_matches_c<double>();
    particle_filter_matches_c<float>(otc::PfConfig<float>::optimal(0.5f));
    particle_filter_matches_c<float>(otc::PfConfig<float>::classical(OTC_RESAMPLE_SYSTEMATIC));
    particle_filter_matches_c<double>(otc::PfConfig<double>::optimal(0.5));
    sde_matches_c<float>();
    sde_matches_c<double>();
#if defined(OTC_HPP_HAS_SPAN)
    spans();
#endif
    return report("test_otcore");
}
