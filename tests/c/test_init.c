/* The Sinkhorn initializers (Gaussian, sorted 1-D, subsample), the adaptive
 * acceleration and the soft c-transform through the C ABI, both precisions: each start
 * reaches the zero start's potentials, the c-transform reproduces the solver's f, the
 * workspace queries match the header's formulas, and bad input (singular covariance,
 * d mismatch, buffers too small, NULL, overlap, bad sizes) gets its status with the
 * outputs untouched. */
#include <math.h>
#include <string.h>

#include "otcore.h"
#include "check.h"

#define BODY "init_body.h"
#include "each_precision.h"

int main(void) {
    run_init_f32();
    run_init_f64();
    return check_report("test_init");
}
