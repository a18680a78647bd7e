// The header from C++: compiles under -std=c++11/17 -Wall -Wextra -Werror -pedantic,
// links against the static library, and solves a small problem.
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
    const bool ok = status == OTC_STATUS_OK && result.transport_cost > 0.99 &&
                    result.transport_cost < 1.01 && otc_version() == OTC_VERSION_NUMBER;
    return ok ? 0 : 1;
}
