/* A tiny program built against an installed otcore (through pkg-config and through
 * find_package): solves a 2×2 problem whose transport cost is 1. */
#include <stdio.h>

#include <otcore.h>

int main(void) {
    const float x[] = {0.0f, 0.0f, 1.0f, 0.0f}, y[] = {0.0f, 1.0f, 1.0f, 1.0f};
    const float w[] = {0.5f, 0.5f};
    double ws[128]; /* 1 KiB: more than the 640 bytes a 2×2 problem in 2-D needs */
    float f[2], g[2];
    otc_ot_problem_f32 problem = {.struct_size = sizeof problem};
    otc_sinkhorn_config_f32 config;
    otc_sinkhorn_result_f32 result = {0};
    size_t bytes = 0;
    int32_t status;

    problem.x = x;
    problem.y = y;
    problem.a = w;
    problem.b = w;
    problem.n = 2;
    problem.m = 2;
    problem.d = 2;
    problem.scale = 1.0f;
    otc_sinkhorn_config_default_f32(&config);
    otc_sinkhorn_workspace_size_f32(2, 2, 2, &bytes);
    result.struct_size = sizeof result;
    status = otc_sinkhorn_solve_f32(&problem, &config, ws, sizeof ws, f, 2, g, 2, &result);
    printf("consumer: otcore %u.%u.%u, %s, transport cost %.4f (workspace %zu bytes)\n",
           (unsigned)(otc_version() >> 16), (unsigned)(otc_version() >> 8 & 0xFF),
           (unsigned)(otc_version() & 0xFF), otc_status_str(status),
           (double)result.transport_cost, bytes);
    return status == OTC_STATUS_OK && bytes <= sizeof ws && result.transport_cost > 0.99f &&
                   result.transport_cost < 1.01f && otc_version() == OTC_VERSION_NUMBER
               ? 0
               : 1;
}
