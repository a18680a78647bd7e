/* Every exported function on real data, both precisions. Writes the raw bits of every
 * input and output to the file named by argv[1]; ffi/tests/c_bit_exact.rs recomputes
 * each record with the Rust API and requires identical bits. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otcore.h"
#include "check.h"

#define BODY "values_body.h"
#include "each_precision.h"

int main(int argc, char **argv) {
    FILE *out;
    if (argc != 2) {
        fprintf(stderr, "usage: %s DUMP_FILE\n", argv[0]);
        return 2;
    }
    out = fopen(argv[1], "w");
    if (out == NULL) {
        perror(argv[1]);
        return 2;
    }
    run_values_f32(out);
    run_values_f64(out);
    fclose(out);
    return check_report("test_values");
}
