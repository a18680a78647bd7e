// The header from C++: compiles under -std=c++11/17 -Wall -Wextra -Werror -pedantic,
// links against the static library, solves a small problem and runs restart sampling
// (a callback from a captureless lambda).
#include <cmath>
#include <cstdio>
#include <vector>

#include "otcore.h"

int main() {
    const double x[] = {0.0, 0.0, 1.0, 0.0};
    const double y[] = {0.0, 1.0, 1.0, 1.0};
    const double a[] = {0.5, 0.5};
    const double b[] = {0.5, 0.5};
    otc_ot_problem_f64 problem = {sizeof(otc_ot_problem_f64), x, y, nullptr, a, b, 2, 2, 2, 1.0,
                                  {0, 0}, {0, 0}};
    otc_sinkhorn_config_f64 config;
    if (otc_sinkhorn_config_default_f64(&config) != OTC_STATUS_OK) return 1;
    std::size_t bytes = 0;
    if (otc_sinkhorn_workspace_size_f64(2, 2, 2, &bytes) != OTC_STATUS_OK) return 1;
    std::vector<double> ws(bytes / sizeof(double)), f(2), g(2);
    otc_sinkhorn_result_f64 result = otc_sinkhorn_result_f64();
    result.struct_size = sizeof result;
    const int32_t status = otc_sinkhorn_solve_f64(&problem, &config, ws.data(), bytes, f.data(),
                                                  f.size(), g.data(), g.size(), &result);
    std::printf("test_cxx: status %d (%s), transport cost %.6f\n", static_cast<int>(status),
                otc_status_str(status), result.transport_cost);
    // Restart sampling from C++: one sample of N(0, 1) data under EDM (denoiser
    // x/(1 + σ²)), two round trips; the call's status and evaluation count.
    otc_sde_process edm;
    otc_sde_restart_config restart;
    double grid[6], xs[2] = {3.0, -3.0};
    uint64_t evals = 0;
    bool sde_ok = otc_sde_process_default(OTC_SDE_EDM, &edm) == OTC_STATUS_OK &&
                  otc_sde_restart_config_from_sigma(&edm, 1.0, 2.0, 2, 2, &restart) ==
                      OTC_STATUS_OK &&
                  otc_sde_grid_f64(&edm, OTC_SDE_GRID_KARRAS, 7.0, 5.0, 0.0, grid, 6) ==
                      OTC_STATUS_OK &&
                  otc_sde_workspace_size_f64(1, 2, &bytes) == OTC_STATUS_OK;
    std::vector<double> sde_ws(bytes / sizeof(double));
    const otc_sde_model_fn_f64 denoiser = [](void *, size_t n, size_t d, const double *x,
                                             const double *t, double *out) -> int32_t {
        for (size_t i = 0; i < n * d; ++i) out[i] = x[i] / (1.0 + t[i / d] * t[i / d]);
        return 0;
    };
    sde_ok = sde_ok && otc_sde_restart_f64(&edm, &restart, denoiser, nullptr,
                                           OTC_SDE_OUTPUT_DENOISED, grid, 6, xs, 1, 2, 1, 0,
                                           sde_ws.data(), bytes, &evals) == OTC_STATUS_OK;
    // 5 grid steps (the last to σ = 0 costs 1) + 2 round trips of 2 Heun steps; the
    // ODE contracts |x| from 3 towards the data's scale.
    sde_ok = sde_ok && evals == 2 * 5 - 1 + 2 * 2 * 2 && std::fabs(xs[0]) < 3.0;
    std::printf("test_cxx: restart sampling %s, %llu evaluations\n", sde_ok ? "ok" : "FAILED",
                static_cast<unsigned long long>(evals));
    const bool ok = status == OTC_STATUS_OK && result.transport_cost > 0.99 &&
                    result.transport_cost < 1.01 && otc_version() == OTC_VERSION_NUMBER && sde_ok;
    return ok ? 0 : 1;
}
