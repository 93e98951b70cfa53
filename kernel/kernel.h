/*
 * kernel.h: what the kernel stage's layers use from its core.
 *
 *   kernel_bi           the validated boot-info block (mapped, read-write)
 *   console_*           kernel/console.h (serial + ring + sinks)
 *   kernel_fail()       report a fatal error and end with the fail status
 *   kernel_exit()       end: isa-debug-exit status under QEMU, halt otherwise
 *
 * Exit status convention (isa-debug-exit at I/O port 0xf4, QEMU exits with
 * (value << 1) | 1):
 *   KERNEL_STATUS_PASS 0x10 -> QEMU exit code 33
 *   KERNEL_STATUS_FAIL 0x11 -> QEMU exit code 35
 * On hardware without the device the write does nothing: the result stays on
 * the screen/serial and the CPU halts (cli; hlt).
 */
#ifndef MMBOOT_KERNEL_KERNEL_H
#define MMBOOT_KERNEL_KERNEL_H

#include <stdint.h>
#include <mmboot/bootinfo.h>
#include <mmboot/mm_env.h>
#include "console.h"

#define KERNEL_STATUS_PASS 0x10u
#define KERNEL_STATUS_FAIL 0x11u
#define DEBUG_EXIT_PORT    0xF4u

extern struct bootinfo *kernel_bi;

/* Symbols from kernel.ld */
extern char __kernel_start[], __kernel_end[], __bss_start[], __bss_end[];

void kernel_exit(uint32_t status) __attribute__((noreturn));
void kernel_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Optional hook run by kernel_exit before the CPU halts (e.g. a real-hardware
 * "press a key to reboot"); weak, may stay undefined. */
void kernel_halt_hook(uint32_t status) __attribute__((weak));

/* arch/x86 */
void arch_cpu_init(void);                 /* GDT, TSS, double-fault task, IDT */
void arch_backtrace(uint32_t ebp);        /* print the frame-pointer chain */
uint32_t arch_breakpoints(void);          /* #BP traps seen (resumed) */
/* Walk the live tables through the recursive mapping (arch/x86/recursive.c). */
int arch_va_mapped(uint32_t va);          /* 1 if va is mapped (4 KiB or 4 MiB page) */
uint32_t arch_pde(uint32_t va);           /* raw PDE covering va (0xFFFFF000 + 4*index) */
uint32_t arch_pte(uint32_t va);           /* raw PTE of va (0 if its PDE is absent/large) */

/* kernel/ktest.c: run every registered test; returns the number failed */
uint32_t ktest_run_all(void);
/* hooks for the fault/panic paths: return only if no test expected it */
void ktest_fault_hook(uint32_t cr2);
void ktest_panic_hook(const char *msg);

#endif
