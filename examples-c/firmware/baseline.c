/* The same start-up and semihosting code as the other firmware examples, without
 * otcore: the footprint baseline that scripts/embedded.sh subtracts. */
#include "semihost.h"

int main(void) {
    sh_puts("baseline\n");
    return 0;
}
