/*
 * The long-mode -> 32-bit protected-mode switch (arch/x86/modeswitch.S).
 *
 * modeswitch_start..modeswitch_end is position-independent code that the
 * loader copies to offset 0 of one page below 4 GiB (the trampoline page),
 * which is identity mapped both by the firmware's page tables and by the
 * page directory the kernel starts with. The loader fills the parameter
 * area at MS_PARAMS of that page, then calls the page's start with the
 * page's address as the only argument (SysV: RDI). It never returns.
 *
 *   trampoline page
 *   +0x000  code (copied from modeswitch_start, < MS_PARAMS bytes)
 *   +0xF00  GDT: 0x00 null, 0x08 code32, 0x10 data32, 0x18 code64
 *   +0xF26  GDTR limit (16 bit), +0xF28 GDTR base (64 bit)
 *   +0xF30  CR3 (page directory)   +0xF34 ESP (kernel stack top)
 *   +0xF38  kernel entry (virtual) +0xF3C boot info va  +0xF40 boot info pa
 *
 * Offsets are shared by C and assembly through the macros below.
 */
#ifndef MMBOOT_ARCH_X86_MODESWITCH_H
#define MMBOOT_ARCH_X86_MODESWITCH_H

#define MS_PARAMS     0xF00
#define MS_GDT        0xF00
#define MS_GDTR_LIMIT 0xF26
#define MS_GDTR_BASE  0xF28
#define MS_CR3        0xF30
#define MS_ESP        0xF34
#define MS_ENTRY      0xF38
#define MS_BI_VA      0xF3C
#define MS_BI_PA      0xF40

#define MS_SEL_CODE32 0x08
#define MS_SEL_DATA32 0x10
#define MS_SEL_CODE64 0x18

#ifndef __ASSEMBLER__
#include <stdint.h>
extern const uint8_t modeswitch_start[];
extern const uint8_t modeswitch_end[];
#endif

#endif
