/*
 * gdt.c: the kernel stage's own GDT and its two TSSs.
 *
 *   0x00 null
 *   0x08 code  base 0, limit 4 GiB, ring 0, 32-bit
 *   0x10 data  base 0, limit 4 GiB, ring 0, 32-bit
 *   0x18 TSS   main task (TR): the CPU saves the interrupted state here on a
 *              task switch, which is how the double-fault handler sees it
 *   0x20 TSS   double-fault task: own stack (df_stack), own EIP; IDT vector
 *              8 is a task gate to it, so a #DF caused by a broken stack
 *              (overflow into the guard page) still runs on a good stack
 *
 * The trampoline's GDT lives in a loader page; after gdt_init nothing
 * refers to it any more.
 */
#include "gdt.h"
#include "cpu.h"

static uint64_t gdt[5];
static struct tss32 tss_main;
struct tss32 tss_df;
static uint8_t df_stack[16384] __attribute__((aligned(16)));

static uint64_t seg_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	uint64_t d = limit & 0xFFFFu;
	d |= (uint64_t)(base & 0xFFFFFFu) << 16;
	d |= (uint64_t)access << 40;
	d |= (uint64_t)((limit >> 16) & 0xFu) << 48;
	d |= (uint64_t)(flags & 0xFu) << 52;
	d |= (uint64_t)(base >> 24) << 56;
	return d;
}

static void df_tss_init(void (*entry)(void))
{
	tss_df.cr3 = read_cr3();
	tss_df.eip = (uint32_t)(uintptr_t)entry;
	tss_df.eflags = 0x2;
	tss_df.esp = (uint32_t)(uintptr_t)(df_stack + sizeof(df_stack));
	tss_df.esp0 = tss_df.esp;
	tss_df.ss0 = GDT_KDATA;
	tss_df.cs = GDT_KCODE;
	tss_df.ds = tss_df.es = tss_df.fs = tss_df.gs = tss_df.ss = GDT_KDATA;
	tss_df.iomap = sizeof(struct tss32);
}

void gdt_init(void (*df_entry)(void))
{
	struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) gdtr = { sizeof(gdt) - 1, (uint32_t)(uintptr_t)gdt };
	df_tss_init(df_entry);
	tss_main.ss0 = GDT_KDATA;
	tss_main.iomap = sizeof(struct tss32);
	gdt[0] = 0;
	gdt[1] = seg_desc(0, 0xFFFFF, 0x9A, 0xC);
	gdt[2] = seg_desc(0, 0xFFFFF, 0x92, 0xC);
	gdt[3] = seg_desc((uint32_t)(uintptr_t)&tss_main, sizeof(struct tss32) - 1, 0x89, 0);
	gdt[4] = seg_desc((uint32_t)(uintptr_t)&tss_df, sizeof(struct tss32) - 1, 0x89, 0);
	__asm__ volatile(
		"lgdt %0\n\t"
		"ljmp %1, $1f\n"
		"1:\n\t"
		"movw %w2, %%ds\n\tmovw %w2, %%es\n\tmovw %w2, %%fs\n\t"
		"movw %w2, %%gs\n\tmovw %w2, %%ss\n\t"
		"ltr %w3"
		: : "m"(gdtr), "i"(GDT_KCODE), "r"(GDT_KDATA), "r"(GDT_TSS_MAIN) : "memory");
}

const struct tss32 *gdt_main_tss(void)
{
	return &tss_main;
}
