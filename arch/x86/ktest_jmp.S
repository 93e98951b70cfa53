/*
 * ktest_jmp.S: setjmp/longjmp for in-kernel tests (kernel/ktest.h).
 * ktest_jmp_buf: [0] ebx [1] esi [2] edi [3] ebp [4] esp [5] eip.
 * ktest_longjmp may be called from an exception handler running on the
 * same stack (ring 0, no stack switch): the handler's frames are simply
 * abandoned. A val of 0 is turned into 1, as for longjmp.
 */
	.text
	.code32
	.globl ktest_setjmp
ktest_setjmp:
	movl	4(%esp), %eax
	movl	%ebx, 0(%eax)
	movl	%esi, 4(%eax)
	movl	%edi, 8(%eax)
	movl	%ebp, 12(%eax)
	leal	4(%esp), %ecx		/* esp after our return */
	movl	%ecx, 16(%eax)
	movl	(%esp), %ecx		/* return address */
	movl	%ecx, 20(%eax)
	xorl	%eax, %eax
	ret

	.globl ktest_longjmp
ktest_longjmp:
	movl	4(%esp), %edx
	movl	8(%esp), %eax
	testl	%eax, %eax
	jnz	1f
	incl	%eax
1:	movl	0(%edx), %ebx
	movl	4(%edx), %esi
	movl	8(%edx), %edi
	movl	12(%edx), %ebp
	movl	16(%edx), %esp
	jmp	*20(%edx)

	.section .note.GNU-stack,"",@progbits
