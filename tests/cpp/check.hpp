// What the C++ header tests share: CHECK, value() and EXPECT_STATUS for both error
// modes (exceptions / -fno-exceptions), bitwise comparison, seeded clouds, the report
// line. Each test program is one translation unit that includes this once.
#ifndef OTCORE_TESTS_CPP_CHECK_HPP
#define OTCORE_TESTS_CPP_CHECK_HPP

#include <cstdio>
#include <cstring>
#include <vector>

#include "otcore.hpp"

static int failures = 0;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            std::printf("%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            ++failures;                                                      \
        }                                                                    \
    } while (0)

// The value of a call that must succeed, in both error modes.
#if defined(OTC_HPP_NO_EXCEPTIONS)
template <class T>
static T value(const otc::Result<T> &r) {
    CHECK(r.ok());
    return r.value;
}
// The status of a call that must fail.
#define EXPECT_STATUS(expr, st) CHECK((expr).status == (st))
#else
template <class T>
static T value(const T &v) {
    return v;
}
#define EXPECT_STATUS(expr, st)                  \
    do {                                         \
        try {                                    \
            (void)(expr);                        \
            CHECK(!"no exception");              \
        } catch (const otc::Error &e) {          \
            CHECK(e.status() == (st));           \
        }                                        \
    } while (0)
#endif

template <class T>
static bool same_bits(const std::vector<T> &a, const std::vector<T> &b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

template <class T>
static std::vector<T> cloud(std::size_t n, std::size_t d, uint64_t seed, T shift) {
    std::vector<T> x(n * d);
    otc::Rng rng(seed);
    rng.normal<T>(x);
    for (auto &v : x) v += shift;
    return x;
}

// Prints the program's verdict with the standard and error mode; the exit status.
static int report(const char *name) {
#if defined(OTC_HPP_NO_EXCEPTIONS)
    const char *mode = "no exceptions";
#else
    const char *mode = "exceptions";
#endif
    std::printf("%s (C++%ld, %s): %s\n", name, long(__cplusplus / 100 % 100), mode,
                failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}

#endif
