// Tests of the localisation wrappers of include/otcore.hpp (issue 22's C functions):
// state moments, resampling to a count, OT per the state description, KLD-sampling,
// recovery, the MCL step with an injection sampler, the largest cluster. Each wrapper
// gives the same bits as the C call (same inputs, same seeds) and reports a bad input
// by its status, with nothing written and the random stream untouched.
// Built by tests/cpp/Makefile with g++ and clang++, C++17 and C++20, under ASan/UBSan.
#include <cmath>
#include <limits>

#include "check.hpp"

template <class T>
static const T kPi = T(3.14159265358979323846);

// (x, y, θ): 0.5 m bins in x and y, 0.2 rad in θ, unit cost weights.
template <class T>
static std::vector<otc::Coord<T>> pose_coords() {
    return {otc::linear_coord<T>(T(0.5)), otc::linear_coord<T>(T(0.5)),
            otc::periodic_coord<T>(2 * kPi<T>, T(0.2))};
}

// N poses around (1.25, 2.25, π), headings straddling ±π.
template <class T>
static std::vector<T> poses(std::size_t n, uint64_t seed) {
    auto x = cloud<T>(n, 3, seed, T(0));
    for (std::size_t i = 0; i < n; ++i) {
        x[3 * i] = T(1.25) + T(0.1) * x[3 * i];
        x[3 * i + 1] = T(2.25) + T(0.1) * x[3 * i + 1];
        const T th = kPi<T> + T(0.1) * x[3 * i + 2];
        x[3 * i + 2] = th > kPi<T> ? th - 2 * kPi<T> : th;
    }
    return x;
}

// N poses (seed `seed`) with normalised log-weights drawn from N(0, 1) (seed + 1).
template <class T>
struct Belief {
    std::vector<T> x, logw;
    Belief(std::size_t n, uint64_t seed)
        : x(poses<T>(n, seed)), logw(cloud<T>(n, 1, seed + 1, T(0))) {
        value(otc::normalise_log_weights<T>(logw));
    }
};

// The C injection sampler the comparison uses: uniform over [0, 10)³ (a map's free
// space), drawn from the stream it is given.
template <class T>
static int32_t uniform_sampler(void *, std::size_t count, std::size_t d, T *out, otc_rng *rng) {
    otc::Api<T>::rng_uniform(rng, out, count * d);
    for (std::size_t i = 0; i < count * d; ++i) out[i] *= T(10);
    return 0;
}

template <class T>
static void moments_and_resampling_match_c() {
    const std::size_t n = 32, d = 3, m = 50;
    using C = otc::Api<T>;
    const auto coords = pose_coords<T>();
    const Belief<T> b(n, 21);
    const auto &x = b.x, &logw = b.logw;

    // Circular moments.
    std::vector<T> mean(d), cov(d * d), cmean(d), ccov(d * d);
    value(otc::state_moments<T>(coords, {x, d}, logw, mean, cov));
    CHECK(C::state_moments(coords.data(), d, x.data(), logw.data(), n, cmean.data(),
                           ccov.data()) == OTC_STATUS_OK);
    CHECK(same_bits(mean, cmean) && same_bits(cov, ccov));
    CHECK(std::fabs(std::fabs(mean[2]) - kPi<T>) < T(0.1));  // not 0: the circular mean
    auto bad = coords;
    bad[2].period = T(0);
    std::vector<T> kept(d, T(7));
    EXPECT_STATUS(otc::state_moments<T>(bad, {x, d}, logw, kept, cov),
                  otc::Status::invalid_parameter);
    std::vector<T> long_mean(d + 1, T(7));
    EXPECT_STATUS(otc::state_moments<T>(coords, {x, d}, logw, long_mean, cov),
                  otc::Status::length_mismatch);
    CHECK(kept == std::vector<T>(d, T(7)) && long_mean == std::vector<T>(d + 1, T(7)));

    // Classical resampling to another count.
    std::vector<T> out(m * d), cout(m * d);
    otc::Rng rng(5);
    otc_rng crng{5};
    value(otc::resample_to<T>(OTC_RESAMPLE_SYSTEMATIC, {x, d}, logw, rng, {out, d}));
    CHECK(C::resample_to(OTC_RESAMPLE_SYSTEMATIC, logw.data(), n, &crng, x.data(), d,
                         cout.data(), m) == OTC_STATUS_OK);
    CHECK(same_bits(out, cout) && rng.state == crng.state);
    const auto before = rng.state;
    EXPECT_STATUS(otc::resample_to<T>(OTC_RESAMPLE_OPTIMAL, {x, d}, logw, rng, {out, d}),
                  otc::Status::invalid_parameter);
    CHECK(rng.state == before && same_bits(out, cout));

    // OT per the state description, to another count (one uniform drawn).
    otc::OtResampleConfig<T> cfg(T(0.05));
    otc::Workspace ws;
    const auto rep = value(otc::ot_resample_state(cfg, coords, {x, d}, logw, rng, ws, {out, d}));
    typename C::ot_resample_config cc;
    C::ot_resample_config_default(&cc);
    cc.epsilon = T(0.05);
    std::size_t bytes = 0;
    CHECK(C::ot_resample_state_workspace_size(coords.data(), d, n, &bytes) == OTC_STATUS_OK);
    std::vector<T> cws(bytes / sizeof(T));
    typename C::ot_resample_report cr{};
    cr.struct_size = sizeof cr;
    CHECK(C::ot_resample_state(&cc, coords.data(), d, x.data(), logw.data(), n, &crng,
                               cws.data(), bytes, cout.data(), m, &cr) == OTC_STATUS_OK);
    CHECK(same_bits(out, cout) && rng.state == crng.state);
    CHECK(rep.iterations == cr.iterations && rep.scale == cr.scale && rep.iterations > 0);
    const auto after_ot = rng.state;
    otc::OtResampleConfig<T> unset;  // ε not set: refused
    EXPECT_STATUS(otc::ot_resample_state(unset, coords, {x, d}, logw, rng, ws, {out, d}),
                  otc::Status::invalid_epsilon);
    CHECK(rng.state == after_ot && same_bits(out, cout));
}

template <class T>
static void kld_and_recovery_match_c() {
    const std::size_t n = 32, d = 3;
    using C = otc::Api<T>;
    const auto coords = pose_coords<T>();
    const Belief<T> b(n, 23);
    const auto &x = b.x, &logw = b.logw;

    // KLD-sampling.
    otc::KldConfig<T> cfg;
    CHECK(cfg.min_particles == 500);
    cfg.min_particles = 10;
    const std::size_t len = value(otc::kld_table_len(n));
    std::size_t clen = 0;
    CHECK(otc_kld_table_len(n, &clen) == OTC_STATUS_OK && len == clen);
    std::vector<uint64_t> table(len), ctable(len);
    const auto k = value(otc::kld_count(cfg, coords, {x, d}, logw, 1000, table));
    std::size_t cbins = 0, ccount = 0;
    CHECK(C::kld_count(&cfg, coords.data(), d, x.data(), logw.data(), n, 1000, ctable.data(), len,
                       &cbins, &ccount) == OTC_STATUS_OK);
    CHECK(k.bins == cbins && k.count == ccount && k.bins > 0 && k.count >= 10);
    std::vector<uint64_t> short_table(len - 1);
    EXPECT_STATUS(otc::kld_count(cfg, coords, {x, d}, logw, 1000, short_table),
                  otc::Status::workspace_too_small);
    EXPECT_STATUS(otc::kld_count(cfg, coords, {x, d}, logw, 9, table),  // minimum > capacity
                  otc::Status::invalid_parameter);

    // Recovery: a steady likelihood, then a drop (injection probability > 0).
    otc::Recovery<T> rec(T(0.001), T(0.1));
    CHECK(rec.init_status() == otc::Status::ok);
    typename C::recovery crec{};
    CHECK(C::recovery_init(T(0.001), T(0.1), &crec) == OTC_STATUS_OK);
    T p{}, cp{};
    for (int t = 0; t < 300; ++t) {
        const T dl = t < 250 ? T(-20) : T(-25);
        p = value(rec.update(dl));
        CHECK(C::recovery_update(&crec, dl, &cp) == OTC_STATUS_OK);
        CHECK(p == cp);
    }
    CHECK(p > T(0) && rec.c().log_slow == crec.log_slow && rec.c().log_fast == crec.log_fast);
    EXPECT_STATUS(rec.update(std::numeric_limits<T>::quiet_NaN()),
                  otc::Status::non_finite_input);
    CHECK(rec.c().log_fast == crec.log_fast);
#if defined(OTC_HPP_NO_EXCEPTIONS)
    otc::Recovery<T> swapped(T(0.1), T(0.001));  // α_slow > α_fast
    CHECK(swapped.init_status() == otc::Status::invalid_parameter);
    EXPECT_STATUS(swapped.update(T(-1)), otc::Status::invalid_parameter);
#else
    bool thrown = false;
    try {
        otc::Recovery<T> swapped(T(0.1), T(0.001));
    } catch (const otc::Error &e) {
        thrown = e.status() == otc::Status::invalid_parameter;
    }
    CHECK(thrown);
#endif
}

template <class T>
static void mcl_matches_c(int32_t resampler) {
    const std::size_t n = 32, d = 3, cap = 64;
    using C = otc::Api<T>;
    const auto coords = pose_coords<T>();
    const Belief<T> b(n, 25);
    const auto &x = b.x, &logw = b.logw;
    otc::MclConfig<T> cfg;
    cfg.resampler = resampler;
    cfg.ot.epsilon = T(0.05);
    cfg.adaptive = 1;
    cfg.kld.min_particles = 8;

    std::size_t bytes = 0;
    CHECK(C::mcl_workspace_size(&cfg, coords.data(), d, n, cap, &bytes) == OTC_STATUS_OK);
    CHECK(value(otc::mcl_workspace_size(cfg, coords, n, cap)) == bytes);
    std::vector<T> cws((bytes + sizeof(T) - 1) / sizeof(T));

    // With injection: a capturing lambda against the C sampler.
    std::size_t injected = 0;
    auto sampler = [&](otc::Points<T> out, otc::RngRef r) {
        injected += out.n();
        r.uniform(out.values());
        for (auto &v : out.values()) v *= T(10);
    };
    std::vector<T> out(cap * d), cout(cap * d);
    otc::Rng rng(9);
    otc_rng crng{9};
    otc::Workspace ws;
    const auto rep = value(otc::mcl_resample(cfg, coords, {x, d}, logw, T(0.5), sampler, rng, ws,
                                             {out, d}));
    typename C::mcl_report cr{};
    cr.struct_size = sizeof cr;
    CHECK(C::mcl_resample(&cfg, coords.data(), d, x.data(), logw.data(), n, T(0.5),
                          &uniform_sampler<T>, nullptr, &crng, cws.data(), bytes, cout.data(),
                          cap, &cr) == OTC_STATUS_OK);
    CHECK(same_bits(out, cout) && rng.state == crng.state);
    CHECK(rep.count == cr.count && rep.bins == cr.bins && rep.injected == cr.injected &&
          rep.ot_ran == cr.ot_ran && rep.ot.iterations == cr.ot.iterations);
    CHECK(rep.injected > 0 && injected == rep.injected);
    CHECK(rep.ot_ran == (resampler == OTC_RESAMPLE_OPTIMAL ? 1 : 0));

    // Without injection: no sampler, probability 0.
    const auto plain = value(otc::mcl_resample(cfg, coords, {x, d}, logw, rng, ws, {out, d}));
    CHECK(C::mcl_resample(&cfg, coords.data(), d, x.data(), logw.data(), n, T(0), nullptr,
                          nullptr, &crng, cws.data(), bytes, cout.data(), cap, &cr) ==
          OTC_STATUS_OK);
    CHECK(same_bits(out, cout) && rng.state == crng.state);
    CHECK(plain.count == cr.count && plain.injected == 0 && cr.injected == 0);

    // A failing sampler, a probability above 1: refused, output and stream untouched.
    const auto out_before = out;
    const auto rng_before = rng.state;
    auto refuse = [](otc::Points<T>, otc::RngRef) { return false; };
    EXPECT_STATUS(otc::mcl_resample(cfg, coords, {x, d}, logw, T(0.5), refuse, rng, ws, {out, d}),
                  otc::Status::callback_failed);
    EXPECT_STATUS(otc::mcl_resample(cfg, coords, {x, d}, logw, T(1.5), sampler, rng, ws, {out, d}),
                  otc::Status::invalid_parameter);
    const std::vector<otc::Coord<T>> two(coords.begin(), coords.begin() + 2);
    EXPECT_STATUS(otc::mcl_resample(cfg, two, {x, d}, logw, rng, ws, {out, d}),
                  otc::Status::length_mismatch);
    CHECK(same_bits(out, out_before) && rng.state == rng_before);
#if !defined(OTC_HPP_NO_EXCEPTIONS)
    // An exception thrown by the sampler comes back out, nothing changed.
    struct MapMissing {};
    auto throwing = [](otc::Points<T>, otc::RngRef) { throw MapMissing{}; };
    bool caught = false;
    try {
        otc::mcl_resample(cfg, coords, {x, d}, logw, T(0.5), throwing, rng, ws, {out, d});
    } catch (const MapMissing &) {
        caught = true;
    }
    CHECK(caught && same_bits(out, out_before) && rng.state == rng_before);
#endif
}

template <class T>
static void largest_cluster_matches_c() {
    const std::size_t n = 64, d = 3;
    using C = otc::Api<T>;
    const auto coords = pose_coords<T>();
    // Blob A (24 poses, around (1.25, 2.25, ±π)) and the heavier blob B (40, at (6, 6, 0)).
    auto x = poses<T>(n, 27);
    for (std::size_t i = 24; i < n; ++i) {
        x[3 * i] += T(4.75);
        x[3 * i + 1] += T(3.75);
        x[3 * i + 2] = T(0);
    }
    const std::vector<T> logw(n, T(0));
    std::vector<T> mean(d), cov(d * d), cmean(d), ccov(d * d);
    otc::Workspace ws;
    const auto best = value(otc::largest_cluster<T>(coords, {x, d}, logw, ws, mean, cov));
    std::size_t bytes = 0;
    CHECK(C::cluster_workspace_size(n, &bytes) == OTC_STATUS_OK);
    std::vector<T> cws((bytes + sizeof(T) - 1) / sizeof(T));
    T cweight{};
    std::size_t cclusters = 0;
    CHECK(C::largest_cluster(coords.data(), d, x.data(), logw.data(), n, cws.data(), bytes,
                             cmean.data(), ccov.data(), &cweight, &cclusters) == OTC_STATUS_OK);
    CHECK(same_bits(mean, cmean) && same_bits(cov, ccov));
    CHECK(best.weight == cweight && best.clusters == cclusters && best.clusters == 2);
    CHECK(std::fabs(best.weight - T(40) / T(64)) < T(1e-5));

    // A borrowed workspace one byte short is refused, outputs untouched.
    otc::Workspace small(cws.data(), bytes - 1);
    EXPECT_STATUS(otc::largest_cluster<T>(coords, {x, d}, logw, small, mean, cov),
                  otc::Status::workspace_too_small);
    CHECK(same_bits(mean, cmean));
}

int main() {
    moments_and_resampling_match_c<float>();
    moments_and_resampling_match_c<double>();
    kld_and_recovery_match_c<float>();
    kld_and_recovery_match_c<double>();
    mcl_matches_c<float>(OTC_RESAMPLE_SYSTEMATIC);
    mcl_matches_c<float>(OTC_RESAMPLE_OPTIMAL);
    mcl_matches_c<double>(OTC_RESAMPLE_OPTIMAL);
    largest_cluster_matches_c<float>();
    largest_cluster_matches_c<double>();
    return report("test_localisation");
}
