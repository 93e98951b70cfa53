/*
 * modeswitch.S: leave long mode for 32-bit protected mode with paging
 * (see modeswitch.h for the page layout and the calling convention).
 *
 * Intel SDM vol. 3, 10.8.5.4 "Switching Out of IA-32e Mode Operation":
 * from compatibility mode, clear CR0.PG (the processor leaves IA-32e mode),
 * clear EFER.LME, then set up legacy paging. So:
 *
 *   64-bit   cli; lgdt ours; data segments = 0x10; lretq to 0x08:compat32
 *   compat   CR0.PG = 0         -> legacy protected mode, paging off
 *            EFER.LME = 0
 *            CR4 = PSE          (PAE, PGE, PCIDE, LA57, OSFXSR... all off)
 *            CR3 = our directory
 *            CR0 |= PG|WP|PE, CR0 &= ~(CD|NW)
 *   paged    ESP = kernel stack; EAX/EBX/ECX per the boot-info contract;
 *            jmp to the kernel entry in the higher half
 *
 * Between the lretq and loading ESP nothing touches the stack (the
 * firmware's stack may not be mapped once our CR3 is live). The code runs
 * only from the identity-mapped trampoline page; RDI/EDI holds its address
 * throughout.
 */
#include "modeswitch.h"
#include <mmboot/bootinfo.h>

	.text
	.code64
	.globl modeswitch_start
	.globl modeswitch_end
	.p2align 4
modeswitch_start:
	cli
	lgdt	MS_GDTR_LIMIT(%rdi)
	movl	$MS_SEL_DATA32, %eax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %fs
	movw	%ax, %gs
	movw	%ax, %ss
	leaq	(compat32 - modeswitch_start)(%rdi), %rax
	pushq	$MS_SEL_CODE32
	pushq	%rax
	lretq

	.code32
compat32:
	movl	%cr0, %eax
	andl	$0x7FFFFFFF, %eax		/* PG off: IA-32e mode ends */
	movl	%eax, %cr0
	movl	$0xC0000080, %ecx		/* IA32_EFER */
	rdmsr
	andl	$~0x00000900, %eax		/* LME (bit 8) and NXE (bit 11) off */
	wrmsr
	movl	$0x00000010, %eax		/* CR4 = PSE */
	movl	%eax, %cr4
	movl	MS_CR3(%edi), %eax
	movl	%eax, %cr3
	movl	%cr0, %eax
	orl	$0x80010001, %eax		/* PG | WP | PE */
	andl	$~0x60000000, %eax		/* caches on: CD, NW off */
	movl	%eax, %cr0
	jmp	1f				/* next fetch goes through our tables */
1:
	movl	MS_ESP(%edi), %esp
	movl	MS_ENTRY(%edi), %edx
	movl	MS_BI_VA(%edi), %ebx
	movl	MS_BI_PA(%edi), %ecx
	movl	$BOOTINFO_ENTRY_MAGIC, %eax
	xorl	%ebp, %ebp
	jmp	*%edx
modeswitch_end:

	.section .note.GNU-stack,"",@progbits
