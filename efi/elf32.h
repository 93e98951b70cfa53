/*
 * elf32: validation and loading of the embedded ELF32 kernel stage
 * (efi/elf32.c). Plain C without <efi.h>, so the host test
 * tests/unit/test_elf32.c drives it with hand-made images.
 */
#ifndef MMBOOT_EFI_ELF32_H
#define MMBOOT_EFI_ELF32_H

#include <stddef.h>
#include <stdint.h>

/* The ELF32 headers the loader reads (System V gABI; the test builds its
 * images with them too, so the offsets are pinned to the spec here). */
struct elf32_ehdr {
	uint8_t ident[16];                      /* magic, class, data, version */
	uint16_t type, machine;                 /* 2 = EXEC, 3 = i386 */
	uint32_t version, entry, phoff, shoff, flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct elf32_phdr {
	uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align;
};
_Static_assert(sizeof(struct elf32_ehdr) == 52, "elf32 header");
_Static_assert(offsetof(struct elf32_ehdr, entry) == 24 && offsetof(struct elf32_ehdr, phoff) == 28 &&
               offsetof(struct elf32_ehdr, phentsize) == 42 && offsetof(struct elf32_ehdr, phnum) == 44,
               "elf32 header layout");
_Static_assert(sizeof(struct elf32_phdr) == 32, "elf32 program header");
_Static_assert(offsetof(struct elf32_phdr, vaddr) == 8 && offsetof(struct elf32_phdr, filesz) == 16 &&
               offsetof(struct elf32_phdr, memsz) == 20 && offsetof(struct elf32_phdr, flags) == 24,
               "elf32 program header layout");

#define PT_LOAD 1u   /* loadable segment */
#define PF_W    2u   /* segment writable */

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
