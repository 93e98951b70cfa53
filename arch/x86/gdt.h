/* gdt.h: selectors and the 32-bit TSS (see gdt.c). */
#ifndef MMBOOT_ARCH_X86_GDT_H
#define MMBOOT_ARCH_X86_GDT_H

#include <stdint.h>

#define GDT_KCODE    0x08
#define GDT_KDATA    0x10
#define GDT_TSS_MAIN 0x18
#define GDT_TSS_DF   0x20

struct tss32 {
	uint32_t link;                         /* previous task (set on a nested switch) */
	uint32_t esp0, ss0, esp1, ss1, esp2, ss2;
	uint32_t cr3, eip, eflags;
	uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t es, cs, ss, ds, fs, gs, ldt;
	uint16_t trap;                         /* debug trap on switch */
	uint16_t iomap;                        /* I/O map offset (= size: none) */
};
_Static_assert(sizeof(struct tss32) == 104, "tss32 layout");

void gdt_init(void (*df_entry)(void));
const struct tss32 *gdt_main_tss(void);

#endif
