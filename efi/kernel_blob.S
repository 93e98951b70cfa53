/*
 * kernel_blob.S: the i386 kernel stage (build/kernel/kernel.elf) embedded
 * in the loader's data, so a user copies one file (BOOTX64.EFI).
 * The build passes the path (relative to the top of the tree, where make
 * runs) as KERNEL_EMBED_PATH: a debug-stripped copy of kernel.elf.
 */
#ifndef KERNEL_EMBED_PATH
#error "KERNEL_EMBED_PATH must name the kernel ELF to embed"
#endif
	.section .rodata
	.p2align 12
	.globl kernel_blob_start
	.globl kernel_blob_end
kernel_blob_start:
	.incbin KERNEL_EMBED_PATH
kernel_blob_end:
	.section .note.GNU-stack,"",@progbits
