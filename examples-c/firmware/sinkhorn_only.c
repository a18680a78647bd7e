/* The smallest program that uses otcore: one Sinkhorn solve of a static 32×32 problem
 * (d = 2) through the C ABI. Its footprint minus baseline.c's is what linking Sinkhorn
 * costs (scripts/embedded.sh numbers). */
#include <stdint.h>

#include "otcore.h"
#include "semihost.h"

enum { N = 32, D = 2 };
/* otc_sinkhorn_workspace_size_f32's formula, (d + 2)·(n̂ + m̂) + 2·max(n̂, m̂) floats,
 * from the header's macro: 1 280 B at 32 x 32, d = 2 (N is a multiple of every kernel
 * width). */
#define WS_FLOATS (OTC_SINKHORN_WORKSPACE_SIZE_F32(N, N, D) / sizeof(float))
_Static_assert(OTC_SINKHORN_WORKSPACE_SIZE_F32(N, N, D) == 1280, "Sinkhorn workspace, 32 x 32, d = 2, f32");

static float x[N * D], y[N * D], a[N], b[N], f[N], g[N];
static float ws[WS_FLOATS] __attribute__((aligned(OTC_WORKSPACE_ALIGN)));

int main(void) {
    otc_ot_problem_f32 problem = {.struct_size = sizeof problem, .x = x, .y = y, .a = a,
                                  .b = b, .n = N, .m = N, .d = D, .scale = 1.0f};
    otc_sinkhorn_config_f32 config;
    otc_sinkhorn_result_f32 result = {0};
    uint32_t i;
    for (i = 0; i < N; ++i) {
        x[i * D] = (float)i / N;
        x[i * D + 1] = 0.0f;
        y[i * D] = 0.0f;
        y[i * D + 1] = (float)i / N;
        a[i] = b[i] = 1.0f / N;
    }
    if (otc_sinkhorn_config_default_f32(&config) != OTC_STATUS_OK) return 1;
    result.struct_size = sizeof result;
    if (otc_sinkhorn_solve_f32(&problem, &config, ws, sizeof ws, f, N, g, N, &result) != OTC_STATUS_OK)
        return 1;
    sh_puts("sinkhorn_only: converged\n");
    return 0;
}
