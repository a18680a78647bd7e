/* Minimal Arm semihosting for the firmware examples (no newlib stdio): write a string,
 * write numbers, exit with a status. Under QEMU (-semihosting-config enable=on) the
 * exit status becomes QEMU's. On hardware without a debugger, a semihosting call
 * faults: these examples are for QEMU (and debug probes). */
#ifndef OTCORE_FIRMWARE_SEMIHOST_H
#define OTCORE_FIRMWARE_SEMIHOST_H

#include <stdint.h>

void sh_puts(const char *s);                 /* SYS_WRITE0 */
void sh_put_u32(uint32_t v);                 /* decimal */
void sh_put_i32(int32_t v);                  /* decimal */
void sh_put_fixed(float v, unsigned digits); /* fixed point, |v| < 4e9 */
void sh_exit(int ok) __attribute__((noreturn)); /* SYS_EXIT: status 0 if ok, else 1 */

#endif
