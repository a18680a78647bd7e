/* The header on its own: it must compile cleanly as C99, C11, C++11 and C++17 with
 * -Wall -Wextra -Werror -pedantic and pull in nothing but <stdint.h>, <stddef.h> and
 * <stdbool.h>. */
#include "otcore.h"

int otc_header_only_check(void);

int otc_header_only_check(void) { return OTC_STATUS_OK + OTC_WORKSPACE_ALIGN; }
