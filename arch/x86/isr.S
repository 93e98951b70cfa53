/*
 * isr.S: entry stubs for the 32 exception vectors (vector 8, #DF, is a task
 * gate and has no stub here). Each stub makes the stack uniform:
 *
 *   [esp] gs fs es ds | edi esi ebp esp' ebx edx ecx eax | vector error | eip cs eflags
 *         <- pushed by isr_common ----------------------->  <- stub ->    <- CPU -------
 *
 * (the CPU pushes an error code for 8, 10-14, 17, 21, 29, 30; the others get
 * a 0), then call isr_dispatch(struct isr_frame *). If it returns, the state
 * is restored and iret resumes (a page fault the region layer resolved, a
 * breakpoint).
 */
	.text
	.code32

.macro ISR_NOERR n
	.globl isr\n
isr\n:
	pushl	$0
	pushl	$\n
	jmp	isr_common
.endm
.macro ISR_ERR n
	.globl isr\n
isr\n:
	pushl	$\n
	jmp	isr_common
.endm

ISR_NOERR 0
ISR_NOERR 1
ISR_NOERR 2
ISR_NOERR 3
ISR_NOERR 4
ISR_NOERR 5
ISR_NOERR 6
ISR_NOERR 7
ISR_ERR   8
ISR_NOERR 9
ISR_ERR   10
ISR_ERR   11
ISR_ERR   12
ISR_ERR   13
ISR_ERR   14
ISR_NOERR 15
ISR_NOERR 16
ISR_ERR   17
ISR_NOERR 18
ISR_NOERR 19
ISR_NOERR 20
ISR_ERR   21
ISR_NOERR 22
ISR_NOERR 23
ISR_NOERR 24
ISR_NOERR 25
ISR_NOERR 26
ISR_NOERR 27
ISR_NOERR 28
ISR_ERR   29
ISR_ERR   30
ISR_NOERR 31

isr_common:
	pushal
	pushl	%ds
	pushl	%es
	pushl	%fs
	pushl	%gs
	movl	$0x10, %eax
	movw	%ax, %ds
	movw	%ax, %es
	cld
	pushl	%esp
	call	isr_dispatch
	addl	$4, %esp
	popl	%gs
	popl	%fs
	popl	%es
	popl	%ds
	popal
	addl	$8, %esp
	iret

	.section .rodata
	.globl isr_stubs
	.p2align 2
isr_stubs:
	.long isr0, isr1, isr2, isr3, isr4, isr5, isr6, isr7
	.long isr8, isr9, isr10, isr11, isr12, isr13, isr14, isr15
	.long isr16, isr17, isr18, isr19, isr20, isr21, isr22, isr23
	.long isr24, isr25, isr26, isr27, isr28, isr29, isr30, isr31

	.section .note.GNU-stack,"",@progbits
