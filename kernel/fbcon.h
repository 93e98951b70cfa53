/*
 * The framebuffer console of the kernel stage (kernel/fbcon.c) and the end
 * of a run on real hardware (kernel/reset.c). See docs/real-hardware.md.
 */
#ifndef MMBOOT_KERNEL_FBCON_H
#define MMBOOT_KERNEL_FBCON_H

#include <stdint.h>

/* Map the loader's GOP framebuffer, draw the console ring on it and mirror
 * every later console write. Says on serial what it did; never fails the
 * boot (no screen is a message, not an error). */
void fbcon_setup(void);

/* 1 when text is being drawn on a screen. */
int fbcon_active(void);

/* The console's state while active (for the in-kernel test), else NULL. */
struct fbcon;
const struct fbcon *fbcon_state(void);

/* Find how to reset the machine (ACPI FADT reset register, from the RSDP in
 * the boot-info block) while mapping is still safe; reset.c uses it when the
 * kernel ends on hardware without QEMU's isa-debug-exit. */
void reset_setup(void);

#endif
