/* The smallest otcore program: one call. Linked against the installed static library
 * through find_package or pkg-config --static, whose link flags drop what it does not
 * use (section garbage collection); scripts/c.sh checks the size of the result. */
#include <otcore.h>
#include <stdio.h>

int main(void) {
    printf("version_only: otcore %u\n", (unsigned)otc_version());
    return otc_version() == OTC_VERSION_NUMBER ? 0 : 1;
}
