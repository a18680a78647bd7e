/* What the firmware examples share: the failure report, and stack measurement by
 * painting (before a call, fill the region below the stack pointer with a pattern;
 * after it, find the deepest word the call overwrote; both always inlined, so the
 * stack pointer they read is the measuring function's). */
#ifndef OTCORE_FIRMWARE_EXAMPLE_H
#define OTCORE_FIRMWARE_EXAMPLE_H

#include <stdint.h>

#include "otcore.h"
#include "semihost.h"

/* Prints "what: <status string>" and returns 1 (main's failure value). */
static inline int fail(const char *what, int32_t status) {
    sh_puts(what);
    sh_puts(": ");
    sh_puts(otc_status_str(status));
    sh_puts("\n");
    return 1;
}

#define STACK_PAINT 0xC0DE57ACu

#if defined(__arm__)

/* Paints the `bytes` below the stack pointer except the 64 nearest it (room for the
 * painting itself); returns the stack pointer. */
static inline __attribute__((always_inline)) uint32_t stack_paint(uint32_t bytes) {
    uint32_t sp, *p;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (p = (uint32_t *)(sp - bytes); p < (uint32_t *)(sp - 64u); ++p)
        *(volatile uint32_t *)p = STACK_PAINT;
    return sp;
}

/* Bytes below `sp` written since `stack_paint(bytes)` returned `sp`. */
static inline __attribute__((always_inline)) uint32_t stack_used(uint32_t sp, uint32_t bytes) {
    uint32_t *p = (uint32_t *)(sp - bytes);
    while (p < (uint32_t *)sp && *(volatile uint32_t *)p == STACK_PAINT) ++p;
    return sp - (uint32_t)(uintptr_t)p;
}
#else
/* A host build of a firmware example measures no stack: nothing painted, 0 bytes. */
static inline uint32_t stack_paint(uint32_t bytes) {
    (void)bytes;
    return 0u;
}
static inline uint32_t stack_used(uint32_t sp, uint32_t bytes) {
    (void)sp;
    (void)bytes;
    return 0u;
}
#endif

#endif
