/* The application's own cosf and memcpy must be the ones its calls reach, even with
 * otcore linked before libm (the order `target_link_libraries(app otcore::otcore m)`
 * gives): the shipped archive defines no C library names (ffi/cmake/ship-archive.sh).
 * Also checks the header's compile-time workspace sizes against the queries. */
#include <stddef.h>
#include <stdint.h>

#include "otcore.h"
#include "semihost.h"

enum { N = 64, D = 2 };
/* Sizes for static buffers, known at compile time (values on Cortex-M, kernel width 4). */
_Static_assert(OTC_KERNEL_WIDTH == 4, "32-bit Arm: kernel width 4");
_Static_assert(OTC_OT_RESAMPLE_WORKSPACE_SIZE_F32(N, D) == 2816, "OT resampling, N = 64, d = 2");
_Static_assert(OTC_OT_RESAMPLE_VJP_WORKSPACE_SIZE_F32(N, D) == 14088, "its VJP: (13d + 29)N^ + d floats");
_Static_assert(OTC_PF_WORKSPACE_SIZE_F32(N, D, OTC_RESAMPLE_OPTIMAL) == 3584, "filter step with OT");
_Static_assert(OTC_PF_WORKSPACE_SIZE_F32(N, D, OTC_RESAMPLE_SYSTEMATIC) == 768, "filter step, systematic");
_Static_assert(OTC_SINKHORN_WORKSPACE_SIZE_F32(30, 61, 2) == 4 * (4 * (32 + 64) + 2 * 64), "Sinkhorn, padded to 4");
_Static_assert(OTC_SDE_WORKSPACE_SIZE_F32(N, D) == 3864, "SDE sampler, n = 64, d = 2");

static volatile uint32_t own_cosf_calls, own_memcpy_calls;

float cosf(float v) {
    ++own_cosf_calls;
    return 1.0f - 0.5f * v * v; /* enough for the check below */
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    ++own_memcpy_calls;
    while (n--) *d++ = *s++;
    return dst;
}

static float sink[4];

int main(void) {
    static const float src[4] = {1.0f, 2.0f, 3.0f, 4.0f};
    volatile float arg = 0.0f;
    float logw[4] = {0.0f, -1.0f, -2.0f, -3.0f}, log_sum, ess;
    size_t need = 0;
    int ok = 1;

    ok &= otc_log_weights_normalise_f32(logw, 4, &log_sum, &ess) == OTC_STATUS_OK;
    ok &= cosf(arg) == 1.0f && own_cosf_calls == 1;
    memcpy(sink, src, sizeof sink);
    ok &= sink[3] == 4.0f && own_memcpy_calls >= 1;
    ok &= otc_pf_workspace_size_f32(N, D, OTC_RESAMPLE_OPTIMAL, &need) == OTC_STATUS_OK &&
          need == OTC_PF_WORKSPACE_SIZE_F32(N, D, OTC_RESAMPLE_OPTIMAL);
    ok &= otc_sinkhorn_workspace_size_f32(30, 61, 2, &need) == OTC_STATUS_OK &&
          need == OTC_SINKHORN_WORKSPACE_SIZE_F32(30, 61, 2);
    sh_puts(ok ? "user_libc: the application's cosf and memcpy won, workspace macros == queries\n"
               : "user_libc: FAILED\n");
    sh_exit(ok);
}
