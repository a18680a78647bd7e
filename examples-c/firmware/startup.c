/* Start-up code for a Cortex-M4F (QEMU mps2-an386): the vector table, a reset handler
 * that copies .data, zeroes .bss, turns the FPU on and calls main, and fault handlers
 * that end the QEMU run with a failure status. */
#include <stdint.h>

#include "semihost.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);

void Reset_Handler(void);
void Fault_Handler(void);

void Fault_Handler(void) {
    sh_puts("fault\n");
    sh_exit(0);
}

__attribute__((section(".isr_vector"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(&_estack), /* initial stack pointer */
    Reset_Handler,
    Fault_Handler, /* NMI */
    Fault_Handler, /* HardFault */
    Fault_Handler, /* MemManage */
    Fault_Handler, /* BusFault */
    Fault_Handler, /* UsageFault */
};

void Reset_Handler(void) {
    uint32_t *src = &_sidata, *dst;
    for (dst = &_sdata; dst < &_edata;) *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss;) *dst++ = 0u;
    /* CPACR: full access to CP10/CP11 (the FPU), then let the write take effect. */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    sh_exit(main() == 0);
}
