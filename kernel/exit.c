/*
 * exit.c: how the kernel stage ends (status convention in kernel.h).
 *
 * Under QEMU with -device isa-debug-exit,iobase=0xf4,iosize=0x04 the write
 * to port 0xf4 ends the VM at once with exit code (status << 1) | 1. On a
 * real PC nothing listens there; the kernel then says so, runs the optional
 * halt hook, and halts with interrupts off.
 */
#include "kernel.h"
#include "fmt.h"
#include "../arch/x86/cpu.h"

void kernel_exit(uint32_t status)
{
	if (kernel_bi)
		kernel_bi->tsc[BI_TSC_KERNEL_DONE] = rdtsc();
	mm_printf("mmboot: %s (status 0x%02x; QEMU isa-debug-exit code %u)\n",
	          status == KERNEL_STATUS_PASS ? "PASS" : "FAIL", status, (status << 1) | 1);
	outb(DEBUG_EXIT_PORT, (uint8_t)status);
	mm_printf("mmboot: no isa-debug-exit device; halted. Result: %s\n",
	          status == KERNEL_STATUS_PASS ? "PASS" : "FAIL");
	if (kernel_halt_hook)
		kernel_halt_hook(status);
	cpu_halt_forever();
}

void kernel_fail(const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mm_printf("FATAL: %s\n", msg);
	kernel_exit(KERNEL_STATUS_FAIL);
}
