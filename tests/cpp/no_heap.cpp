// The firmware pattern in C++: -fno-exceptions, OTC_HPP_NO_HEAP, every buffer static.
// tests/cpp/Makefile checks that the linked program references no operator new.
#include <cmath>
#include <cstdio>

#define OTC_HPP_NO_HEAP 1
#include "otcore.hpp"

constexpr std::size_t N = 64, D = 2;
static float particles[N * D], logw[N], mean[D], cov[D * D];
static otc::StaticWorkspace<N * (2 * D + 7) * sizeof(float) + N * (D + 1) * sizeof(float)> ws;
// MCL with KLD-sampling into at most N particles, systematic; a flow sampler on N samples.
static otc::StaticWorkspace<OTC_MCL_WORKSPACE_SIZE_F32(N, D, D, N, OTC_RESAMPLE_SYSTEMATIC, 1)>
    mcl_ws;
static otc::StaticWorkspace<OTC_SDE_WORKSPACE_SIZE_F32(N, D)> flow_ws;
static float resampled[N * D], samples[N * D], grid[9];
// A differentiable filter in 1-D with P = 2 parameters and k = 1 normal per particle.
constexpr std::size_t DP = 2;
static float dx[N], dlogw[N], dtangent[OTC_DPF_TANGENT_ELEMS(N, 1, DP)], dll[DP], dmean[DP],
    dmu[1];
static otc::StaticWorkspace<OTC_DPF_WORKSPACE_SIZE_F32(N, 1, DP, 1)> dpf_ws;

int main() {
    otc::Rng rng(1);
    rng.normal<float>(particles);
    otc::ParticleFilter<float> pf(otc::PfConfig<float>::optimal(0.5f), {particles, D}, logw);
    if (pf.init_status() != otc::Status::ok) return 1;
    const float beacon[2] = {3.0f, 4.0f};
    for (int k = 0; k < 20; ++k) {
        const float range = 5.0f;
        auto predict = [](otc::Points<const float> prev, otc::Points<float> next, otc::RngRef r) {
            r.normal(next.values());
            for (std::size_t i = 0; i < prev.values().size(); ++i)
                next.values()[i] = prev.values()[i] + 0.05f * next.values()[i];
        };
        auto loglik = [&](otc::Points<const float> x, otc::View<float> out) {
            for (std::size_t i = 0; i < x.n(); ++i) {
                const float r = std::hypot(x[i][0] - beacon[0], x[i][1] - beacon[1]) - range;
                out[i] = -0.5f * r * r / 0.01f;
            }
        };
        const auto rep = pf.step(predict, loglik, rng, ws.view(), mean, cov);
        if (!rep.ok()) {
            std::printf("no_heap: step %d: %s\n", k, otc::status_str(rep.status));
            return 1;
        }
    }
    const float r = std::hypot(mean[0] - beacon[0], mean[1] - beacon[1]);
    std::printf("no_heap: 20 steps, %llu resamplings, estimate %.2f from the beacon (5 expected)\n",
                static_cast<unsigned long long>(pf.resamples()), static_cast<double>(r));
    if (std::fabs(r - 5.0f) >= 1.0f) return 1;

    // MCL resampling with KLD-sampling and injection at a fixed spot, static workspace.
    const otc::Coord<float> coords[D] = {otc::linear_coord(0.1f), otc::linear_coord(0.1f)};
    otc::MclConfig<float> mcl;
    mcl.adaptive = 1;
    mcl.kld.min_particles = 8;
    auto inject = [](otc::Points<float> out, otc::RngRef) {
        for (auto &v : out.values()) v = 0.0f;
    };
    const auto rep = otc::mcl_resample(mcl, coords, {particles, D}, logw, 0.1f, inject, rng,
                                       mcl_ws.view(), {resampled, D});
    if (!rep.ok()) {
        std::printf("no_heap: mcl_resample: %s\n", otc::status_str(rep.status));
        return 1;
    }

    // A flow sampler with a velocity model (data at 0: v = x/t), static workspace.
    auto velocity = [](otc::Points<const float> x, otc::View<const float> t,
                       otc::Points<float> out) {
        for (std::size_t i = 0; i < x.n(); ++i)
            for (std::size_t k = 0; k < x.d(); ++k) out[i][k] = x[i][k] / t[i];
    };
    rng.normal<float>(samples);
    const auto flow = otc::sde_flow_grid<float>(1.0, 1.0, 0.0, grid);
    const auto evals = otc::sde_flow_sample<float>(OTC_SDE_FLOW_EULER, 0.0, velocity,
                                                   OTC_SDE_OUTPUT_VELOCITY, grid, {samples, D},
                                                   1, 0, flow_ws.view());
    if (!flow.ok() || !evals.ok()) return 1;
    std::printf("no_heap: MCL kept %zu particles (%zu injected); flow sampler, %llu calls\n",
                rep->count, rep->injected, static_cast<unsigned long long>(*evals));

    // The differentiable filter: x' = a·x + 0.5·ξ, y = x + c + noise, θ = (a, c).
    const float theta[DP] = {0.8f, 0.3f}, y = 0.5f;
    auto model = otc::dpf_model<float>(
        1,
        [](otc::View<const float> th, otc::Points<const float> x, otc::Points<const float> xi,
           otc::Points<float> out) {
            for (std::size_t i = 0; i < x.n(); ++i) out[i][0] = th[0] * x[i][0] + 0.5f * xi[i][0];
        },
        [](otc::View<const float> th, otc::Points<const float> x, otc::Points<const float>,
           otc::Points<const float>, otc::Points<const float> d, otc::Points<float> out) {
            for (std::size_t i = 0; i < x.n(); ++i) {
                out[i][0] = th[0] * d[i][0] + x[i][0];
                out[i][1] = th[0] * d[i][1];
            }
        },
        nullptr,
        [&](otc::View<const float> th, otc::Points<const float> x, otc::View<float> out) {
            for (std::size_t i = 0; i < x.n(); ++i) {
                const float e = (y - x[i][0] - th[1]) / 0.4f;
                out[i] = -0.5f * e * e;
            }
        },
        [&](otc::View<const float> th, otc::Points<const float> x, otc::Points<float> gx,
            otc::Points<float> gth) {
            for (std::size_t i = 0; i < x.n(); ++i) {
                gx[i][0] = (y - x[i][0] - th[1]) / 0.16f;
                gth[i][0] = 0.0f;
                gth[i][1] = gx[i][0];
            }
        });
    rng.normal<float>(dx);
    otc::PfState<float> dst;
    const otc::DpfConfig<float> dcfg;
    if (!otc::dpf_init<float>({dx, 1}, dlogw, dtangent, dst, dll).ok()) return 1;
    for (int k = 0; k < 10; ++k) {
        const auto r = otc::dpf_step(dcfg, model, theta, rng, {dx, 1}, dlogw, dtangent, dst, dll,
                                     dpf_ws.view(), dmu, dmean);
        if (!r.ok()) {
            std::printf("no_heap: dpf step %d: %s\n", k, otc::status_str(r.status));
            return 1;
        }
    }
    if (!std::isfinite(dst.log_likelihood) || !std::isfinite(dll[1])) return 1;
    std::printf("no_heap: differentiable filter, 10 steps, log-likelihood %.2f, d/dc %.2f\n",
                static_cast<double>(dst.log_likelihood), static_cast<double>(dll[1]));
    return 0;
}
