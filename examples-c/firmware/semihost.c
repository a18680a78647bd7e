/* Arm semihosting calls: `bkpt 0xAB` with the operation in r0 and its argument in r1
 * (Arm "Semihosting for AArch32 and AArch64", SYS_WRITE0 = 0x04, SYS_EXIT = 0x18 with
 * ADP_Stopped_ApplicationExit = 0x20026 for success; QEMU exits 1 on other reasons). */
#include "semihost.h"

#if defined(__arm__)
static uint32_t call(uint32_t op, const void *arg) {
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}
#else
/* A host build of a firmware example (dpf_learning's host check): the same two calls
 * on stdio. */
#include <stdio.h>
#include <stdlib.h>

static uint32_t call(uint32_t op, const void *arg) {
    if (op == 0x04) fputs((const char *)arg, stdout);
    if (op == 0x18) exit((uintptr_t)arg == 0x20026u ? 0 : 1);
    return 0;
}
#endif

void sh_puts(const char *s) { (void)call(0x04, s); }

void sh_put_u32(uint32_t v) {
    char buf[11];
    int i = 10;
    buf[i] = '\0';
    do {
        buf[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    sh_puts(&buf[i]);
}

void sh_put_i32(int32_t v) {
    if (v < 0) {
        sh_puts("-");
        sh_put_u32((uint32_t)(-(v + 1)) + 1u);
    } else {
        sh_put_u32((uint32_t)v);
    }
}

void sh_put_fixed(float v, unsigned digits) {
    uint32_t scale = 1u, whole, frac;
    unsigned k;
    char buf[12];
    if (v < 0.0f) {
        sh_puts("-");
        v = -v;
    }
    for (k = 0; k < digits; ++k) scale *= 10u;
    whole = (uint32_t)v;
    frac = (uint32_t)((v - (float)whole) * (float)scale + 0.5f);
    if (frac >= scale) {
        whole += 1u;
        frac -= scale;
    }
    sh_put_u32(whole);
    if (digits == 0u) return;
    buf[digits + 1u] = '\0';
    buf[0] = '.';
    for (k = digits; k > 0u; --k) {
        buf[k] = (char)('0' + frac % 10u);
        frac /= 10u;
    }
    sh_puts(buf);
}

void sh_exit(int ok) {
    static const uint32_t reason_ok = 0x20026u;   /* ADP_Stopped_ApplicationExit */
    static const uint32_t reason_fail = 0x20023u; /* ADP_Stopped_RunTimeErrorUnknown */
    (void)call(0x18, (const void *)(uintptr_t)(ok ? reason_ok : reason_fail));
    for (;;) {
    }
}
