/* Minimal test harness for the otcore C tests: counts checks, reports failures with
 * file and line, and a deterministic generator for test data. */
#ifndef OTC_TEST_CHECK_H
#define OTC_TEST_CHECK_H

#include <stdint.h>
#include <stdio.h>

static int check_failures = 0;
static int check_count = 0;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        ++check_count;                                                               \
        if (!(cond)) {                                                               \
            ++check_failures;                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

#define CHECK_STATUS(got, want)                                                     \
    do {                                                                            \
        int32_t got_ = (got), want_ = (want);                                       \
        ++check_count;                                                              \
        if (got_ != want_) {                                                        \
            ++check_failures;                                                       \
            fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d (%s)\n",       \
                    __FILE__, __LINE__, #got, (int)got_, otc_status_str(got_),      \
                    (int)want_, otc_status_str(want_));                             \
        }                                                                           \
    } while (0)

/* Exit status of a test program: 0 if every check passed. */
static inline int check_report(const char *name) {
    fprintf(stderr, "%s: %d checks, %d failures\n", name, check_count, check_failures);
    return check_failures == 0 ? 0 : 1;
}

/* xorshift64*: reproducible uniform numbers in [0, 1). */
static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static inline double uniform(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 0x2545F4914F6CDD1Du) >> 11) * (1.0 / 9007199254740992.0);
}

#endif
