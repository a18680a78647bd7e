/* Every bad-input path of every exported function, both precisions: the documented
 * status, and every output byte unchanged. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "otcore.h"
#include "check.h"

#define BODY "bad_body.h"
#include "each_precision.h"

int main(void) {
    run_bad_input_f32();
    run_bad_input_f64();
    return check_report("test_bad_input");
}
