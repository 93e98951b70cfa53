/*
 * elf32: validation and loading of the embedded ELF32 kernel stage
 * (efi/elf32.c). Plain C without <efi.h>, so the host test
 * tests/unit/test_elf32.c drives it with hand-made images.
 */
#ifndef MMBOOT_EFI_ELF32_H
#define MMBOOT_EFI_ELF32_H

#include <stdint.h>

#define ELF32_MAX_SEGS 8u
#define ELF32_KERNEL_VA_MIN 0xC0000000u   /* segments must lie in the higher half */
#define ELF32_KERNEL_VA_MAX 0xFFC00000u   /* ... below the recursive slot */

struct elf32_seg {
	uint32_t va;        /* p_vaddr */
	uint32_t memsz;     /* p_memsz */
	uint32_t filesz;    /* p_filesz */
	uint32_t offset;    /* p_offset */
	uint32_t writable;  /* PF_W */
};
struct elf32_plan {
	uint32_t va_lo;     /* lowest vaddr, page aligned down */
	uint32_t va_hi;     /* end of the highest segment, page aligned up */
	uint32_t entry;     /* e_entry */
	uint32_t nseg;      /* PT_LOAD segments */
	struct elf32_seg seg[ELF32_MAX_SEGS];
};
/* Validate img and describe its PT_LOAD segments; NULL or a reason. */
const char *elf32_plan(const void *img, uint64_t len, struct elf32_plan *p);
/* Copy the segments into dest (va_hi - va_lo bytes at va_lo), zeroing the rest. */
void elf32_copy(const struct elf32_plan *p, const void *img, void *dest);
/* Is the page at va writable according to the segments? */
int elf32_page_writable(const struct elf32_plan *p, uint32_t va);

#endif
