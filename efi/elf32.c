/*
 * elf32.c: validate and load the embedded ELF32 kernel stage.
 *
 * The image is untrusted bytes: every header field is checked before use
 * (class, byte order, machine i386, type EXEC, program header table inside
 * the image, each PT_LOAD inside the image, filesz <= memsz, addresses in
 * the higher half without wrapping, segments in order without overlap,
 * entry inside a loaded segment). The
 * segments are laid out physically exactly as virtually: one contiguous
 * allocation of va_hi - va_lo bytes, segment at dest + (p_vaddr - va_lo).
 */
#include "elf32.h"
#include <mmboot/types.h>
#include <mmboot/mm_env.h>

static const char *check_ehdr(const struct elf32_ehdr *eh, uint64_t len)
{
	if (len < sizeof(*eh))
		return "image shorter than an ELF header";
	if (eh->ident[0] != 0x7F || eh->ident[1] != 'E' || eh->ident[2] != 'L' || eh->ident[3] != 'F')
		return "no ELF magic";
	if (eh->ident[4] != 1 || eh->ident[5] != 1)
		return "not ELF32 little-endian";
	if (eh->type != 2 || eh->machine != 3)
		return "not an i386 executable";
	if (eh->phentsize != sizeof(struct elf32_phdr) || eh->phnum == 0)
		return "bad program header size/count";
	if ((uint64_t)eh->phoff + (uint64_t)eh->phnum * sizeof(struct elf32_phdr) > len)
		return "program headers outside the image";
	return 0;
}

static const char *add_seg(struct elf32_plan *p, const struct elf32_phdr *ph, uint64_t len)
{
	if (p->nseg >= ELF32_MAX_SEGS)
		return "too many PT_LOAD segments";
	if (ph->filesz > ph->memsz || (uint64_t)ph->offset + ph->filesz > len)
		return "segment outside the image";
	if (ph->vaddr < ELF32_KERNEL_VA_MIN || (uint64_t)ph->vaddr + ph->memsz > ELF32_KERNEL_VA_MAX)
		return "segment outside the kernel's higher half";
	if (p->nseg > 0 && ph->vaddr < p->seg[p->nseg - 1].va + p->seg[p->nseg - 1].memsz)
		return "segments overlap or are not in address order";
	struct elf32_seg *s = &p->seg[p->nseg++];
	s->va = ph->vaddr;
	s->memsz = ph->memsz;
	s->filesz = ph->filesz;
	s->offset = ph->offset;
	s->writable = (ph->flags & PF_W) != 0;
	return 0;
}

const char *elf32_plan(const void *img, uint64_t len, struct elf32_plan *p)
{
	const struct elf32_ehdr *eh = img;
	const char *why = check_ehdr(eh, len);
	if (why)
		return why;
	p->nseg = 0;
	p->va_lo = 0xFFFFFFFFu;
	p->va_hi = 0;
	p->entry = eh->entry;
	const struct elf32_phdr *ph = (const void *)((const uint8_t *)img + eh->phoff);
	for (uint32_t i = 0; i < eh->phnum; i++) {
		if (ph[i].type != PT_LOAD || ph[i].memsz == 0)
			continue;
		if ((why = add_seg(p, &ph[i], len)) != 0)
			return why;
		uint32_t lo = ALIGN_DOWN(ph[i].vaddr, PAGE_SIZE);
		uint32_t hi = ALIGN_UP(ph[i].vaddr + ph[i].memsz, PAGE_SIZE);
		p->va_lo = lo < p->va_lo ? lo : p->va_lo;
		p->va_hi = hi > p->va_hi ? hi : p->va_hi;
	}
	if (p->nseg == 0)
		return "no PT_LOAD segment";
	for (uint32_t i = 0; i < p->nseg; i++)
		if (p->entry >= p->seg[i].va && p->entry < p->seg[i].va + p->seg[i].memsz)
			return 0;
	return "entry point outside the loaded segments";
}

void elf32_copy(const struct elf32_plan *p, const void *img, void *dest)
{
	uint8_t *d = dest;
	mm_memset(d, 0, p->va_hi - p->va_lo);
	for (uint32_t i = 0; i < p->nseg; i++)
		mm_memcpy(d + (p->seg[i].va - p->va_lo),
		          (const uint8_t *)img + p->seg[i].offset, p->seg[i].filesz);
}

int elf32_page_writable(const struct elf32_plan *p, uint32_t va)
{
	for (uint32_t i = 0; i < p->nseg; i++) {
		uint32_t lo = ALIGN_DOWN(p->seg[i].va, PAGE_SIZE);
		uint32_t hi = ALIGN_UP(p->seg[i].va + p->seg[i].memsz, PAGE_SIZE);
		if (p->seg[i].writable && va >= lo && va < hi)
			return 1;
	}
	return 0;
}
