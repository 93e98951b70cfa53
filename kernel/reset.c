/*
 * reset.c: how a run ends on a real PC.
 *
 * Under QEMU the kernel ends through isa-debug-exit (kernel/exit.c) and never
 * gets here. On a real PC nothing listens at port 0xf4; kernel_exit then
 * calls kernel_halt_hook, defined here:
 *
 *   1. one line on serial and screen, the last one a screen shows:
 *        mmboot: result PASS stays on screen; press a key to restart, or wait 120 s
 *      with PASS in green or FAIL in red (ANSI SGR, drawn by fbcon_draw.c);
 *      (tests/usb/screenshot.sh waits for it before taking its screenshot);
 *   2. wait for a key press on the PS/2 controller (status port 0x64 bit 0
 *      = output full, data port 0x60; mouse bytes (bit 5) and key releases,
 *      acks and the controller's own codes are ignored, the buffer is
 *      drained first so a key still held from the boot menu does not count)
 *      or for RESET_TIMEOUT_S seconds. Time comes from the ACPI PM timer
 *      (3.579545 MHz, 24 or 32 bits, from the FADT) when there is one, else
 *      from port 0x80 writes (about 1 us each on PC chipsets: approximate).
 *      No controller (status reads 0xFF, or the FADT says there is no 8042):
 *      timeout only.
 *   3. reset, trying in order and saying each on serial:
 *        the ACPI reset register (FADT RESET_REG: I/O, memory (mapped at
 *        setup) or PCI configuration space of bus 0), then port 0xCF9
 *        (0x02, then 0x06: hard reset), then the keyboard controller's pulse
 *        of the reset line (0xFE to port 0x64), then a triple fault.
 *
 * Test builds only: make RESET_SKIP=acpi (or acpi,cf9) defines
 * MMBOOT_RESET_SKIP (bit 0: the ACPI reset register, bit 1: port 0xCF9) so
 * that tests/usb/reset_fallback.sh can see the later methods reset QEMU;
 * each skipped method is named on serial ("reset: ... skipped (test build)").
 *
 * reset_setup (INIT spot in kernel/main.c) reads the ACPI tables while the
 * region layer can still map them; the halt hook itself maps nothing, since
 * it may run from a panic with any lock held.
 */
#include <mmboot/errno.h>
#include "kernel.h"
#include "fbcon.h"
#include "acpi_reset.h"
#include "physwin.h"
#include "../arch/x86/cpu.h"

#ifndef MMBOOT_RESET_TIMEOUT_S      /* make RESET_TIMEOUT=s (tests/usb/reset_timeout.sh) */
#define MMBOOT_RESET_TIMEOUT_S 120u
#endif
#define RESET_TIMEOUT_S   MMBOOT_RESET_TIMEOUT_S
#ifndef MMBOOT_RESET_SKIP           /* make RESET_SKIP=acpi[,cf9] (tests/usb/reset_fallback.sh) */
#define MMBOOT_RESET_SKIP 0u
#endif
#define RESET_SKIP_ACPI   0x1u
#define RESET_SKIP_CF9    0x2u
#define PM_TIMER_HZ       3579545u
#define KBC_DATA          0x60u
#define KBC_STATUS        0x64u
#define KBC_ST_OUT_FULL   0x01u
#define KBC_ST_IN_FULL    0x02u
#define KBC_ST_AUX        0x20u
#define KBC_CMD_RESET     0xFEu
#define PORT_CF9          0xCF9u
#define PCI_CFG_ADDR      0xCF8u
#define PCI_CFG_DATA      0xCFCu

static struct acpi_reset_info reset_acpi;    /* what reset_setup found */
static struct physwin reset_mmio;            /* memory-space reset register window */

/* acpi_read_fn for the kernel: a short-lived window per read. */
static int kernel_phys_read(void *ctx, paddr_t pa, void *buf, uint32_t len)
{
	struct physwin w;
	(void)ctx;
	if (physwin_map(&w, pa, len, 0, "acpi") != 0)
		return -1;
	const volatile uint8_t *src = (const volatile uint8_t *)(uintptr_t)w.va;
	for (uint32_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = src[i];
	physwin_unmap(&w);
	return 0;
}

static void report_setup(const struct acpi_reset_info *a)
{
	static const char *const space[] = { "memory", "I/O", "PCI config" };
	if (a->has_reset_reg)
		mm_printf("reset: ACPI reset register: %s 0x%llx <- 0x%02x", space[a->reset_space],
		          (unsigned long long)a->reset_addr, a->reset_value);
	else
		mm_printf("reset: no ACPI reset register (FADT %s)",
		          a->found_fadt ? "without RESET_REG_SUP" : "not found");
	mm_printf("; PM timer %s", a->pm_timer_port ? "yes" : "no");
	if (a->pm_timer_port)
		mm_printf(" (port 0x%x, %u bits)", a->pm_timer_port, a->pm_timer_bits);
	mm_printf("; 8042 %s\n", a->kbc == ACPI_KBC_ABSENT ? "absent (FADT)" :
	                          a->kbc == ACPI_KBC_PRESENT ? "present (FADT)" : "not stated");
}

void reset_setup(void)
{
	paddr_t rsdp = kernel_bi ? kernel_bi->acpi_rsdp : 0;
	if (!rsdp || acpi_reset_find(kernel_phys_read, 0, rsdp, &reset_acpi) != 0) {
		mm_printf("reset: no usable ACPI RSDP; will use port 0xCF9 and the keyboard controller\n");
		return;
	}
	if (reset_acpi.has_reset_reg && reset_acpi.reset_space == ACPI_SPACE_MEMORY &&
	    physwin_map(&reset_mmio, reset_acpi.reset_addr, 1, PHYSWIN_WRITE | PHYSWIN_NOCACHE,
	                "reset-reg") != 0)
		reset_acpi.has_reset_reg = 0;
	report_setup(&reset_acpi);
}

/* ---- time ---- */

static uint32_t pm_timer_read(void)
{
	uint32_t v;
	__asm__ volatile("inl %w1, %0" : "=a"(v) : "Nd"(reset_acpi.pm_timer_port));
	return reset_acpi.pm_timer_bits == 32 ? v : (v & 0xFFFFFFu);
}

/* Ticks of the PM timer since *last (wrap handled); advances *last. */
static uint32_t pm_timer_elapsed(uint32_t *last)
{
	uint32_t now = pm_timer_read();
	uint32_t mask = reset_acpi.pm_timer_bits == 32 ? 0xFFFFFFFFu : 0xFFFFFFu;
	uint32_t d = (now - *last) & mask;
	*last = now;
	return d;
}

/* Wait about us microseconds. */
static void delay_us(uint32_t us)
{
	if (reset_acpi.pm_timer_port) {
		uint32_t last = pm_timer_read();
		uint64_t ticks = 0, want = (uint64_t)us * PM_TIMER_HZ / 1000000u;
		while (ticks < want)
			ticks += pm_timer_elapsed(&last);
	} else {
		for (uint32_t i = 0; i < us; i++)
			outb(0x80, 0);
	}
}

/* ---- keyboard ---- */

static int kbc_present(void)
{
	return reset_acpi.kbc != ACPI_KBC_ABSENT && inb(KBC_STATUS) != 0xFF;
}

/* 1 if a key was pressed (a make code from the keyboard, not the mouse). */
static int kbc_key_pressed(void)
{
	uint8_t st = inb(KBC_STATUS);
	if (st == 0xFF || !(st & KBC_ST_OUT_FULL))
		return 0;
	uint8_t code = inb(KBC_DATA);
	if (st & KBC_ST_AUX)
		return 0;
	return code != 0 && code < 0x80;   /* releases, E0/FA/AA/FE are >= 0x80 */
}

static void kbc_drain(void)
{
	for (uint32_t i = 0; i < 64 && (inb(KBC_STATUS) & KBC_ST_OUT_FULL) &&
	                     inb(KBC_STATUS) != 0xFF; i++)
		(void)inb(KBC_DATA);
}

/* Wait for a key or the timeout; 1 if a key ended it. With the PM timer
 * the ticks elapsed are summed over the whole wait (however long one poll
 * takes: under emulation a port read can cost milliseconds); without it,
 * about one millisecond of port 0x80 writes per poll. */
static int wait_key_or_timeout(uint32_t seconds, int kbc)
{
	if (kbc)
		kbc_drain();
	if (reset_acpi.pm_timer_port) {
		uint32_t last = pm_timer_read();
		uint64_t ticks = 0, want = (uint64_t)seconds * PM_TIMER_HZ;
		while (ticks < want) {
			if (kbc && kbc_key_pressed())
				return 1;
			ticks += pm_timer_elapsed(&last);
		}
		return 0;
	}
	for (uint32_t ms = 0; ms < seconds * 1000u; ms++) {
		if (kbc && kbc_key_pressed())
			return 1;
		delay_us(1000);
	}
	return 0;
}

/* ---- reset ---- */

static void pci_cfg_write8(uint64_t gas_addr, uint8_t v)
{
	uint32_t dev = (uint32_t)(gas_addr >> 32) & 0x1F, fn = (uint32_t)(gas_addr >> 16) & 7;
	uint32_t off = (uint32_t)gas_addr & 0xFF;
	outl(PCI_CFG_ADDR, 0x80000000u | dev << 11 | fn << 8 | (off & 0xFC));
	outb((uint16_t)(PCI_CFG_DATA + (off & 3)), v);
}

static void reset_acpi_reg(void)
{
	const struct acpi_reset_info *a = &reset_acpi;
	static const char *const space[] = { "memory", "I/O", "PCI config" };
	mm_printf("reset: ACPI reset register (%s 0x%llx <- 0x%02x)\n", space[a->reset_space],
	          (unsigned long long)a->reset_addr, a->reset_value);
	if (a->reset_space == ACPI_SPACE_IO)
		outb((uint16_t)a->reset_addr, a->reset_value);
	else if (a->reset_space == ACPI_SPACE_MEMORY)
		*(volatile uint8_t *)(uintptr_t)reset_mmio.va = a->reset_value;
	else
		pci_cfg_write8(a->reset_addr, a->reset_value);
	delay_us(500000);
}

static void reset_cf9(void)
{
	mm_printf("reset: port 0xCF9 (0x02, 0x06)\n");
	outb(PORT_CF9, 0x02);
	delay_us(50);
	outb(PORT_CF9, 0x06);
	delay_us(500000);
}

static void reset_machine(void)
{
	if (MMBOOT_RESET_SKIP & RESET_SKIP_ACPI)
		mm_printf("reset: ACPI reset register skipped (test build)\n");
	else if (reset_acpi.has_reset_reg)
		reset_acpi_reg();
	if (MMBOOT_RESET_SKIP & RESET_SKIP_CF9)
		mm_printf("reset: port 0xCF9 skipped (test build)\n");
	else
		reset_cf9();
	mm_printf("reset: keyboard controller (0xFE to port 0x64)\n");
	for (uint32_t i = 0; i < 100000 && (inb(KBC_STATUS) & KBC_ST_IN_FULL); i++)
		;
	outb(KBC_STATUS, KBC_CMD_RESET);
	delay_us(500000);
	mm_printf("reset: triple fault\n");
	static const struct { uint16_t limit; uint32_t base; } __attribute__((packed)) no_idt = { 0, 0 };
	__asm__ volatile("lidt %0; int3" : : "m"(no_idt));
}

void kernel_halt_hook(uint32_t status)
{
	int kbc = kbc_present();
	mm_printf("mmboot: result %s stays on %s; %s %u s\n",
	          status == KERNEL_STATUS_PASS ? "\033[32mPASS\033[0m" : "\033[31mFAIL\033[0m",
	          fbcon_active() ? "screen" : "serial",
	          kbc ? "press a key to restart, or wait" : "restart in", RESET_TIMEOUT_S);
	int key = wait_key_or_timeout(RESET_TIMEOUT_S, kbc);
	mm_printf("reset: %s\n", key ? "key pressed" : "timeout");
	reset_machine();
}
