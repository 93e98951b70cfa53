/*
 * physwin_pde.c: encoding of the 4 MiB page-directory entries of the direct
 * physical windows (theory in physwin.h). Pure arithmetic, compiled into the
 * kernel and into the host test.
 *
 * 32-bit paging, PDE with PS = 1 (Intel SDM vol. 3A, 4.3, table 4-4):
 *   bits 31..22  physical address bits 31..22
 *   bits 20..13  physical address bits 39..32 (PSE-36; as many as
 *                MAXPHYADDR - 32, the rest must be zero)
 *   bit 21       reserved, zero
 *   bit 12       PAT (zero: PWT/PCD choose the memory type)
 *   bit 7 PS, bit 4 PCD, bit 3 PWT, bit 1 R/W, bit 0 P
 */
#include <mmboot/errno.h>
#include "physwin.h"

int physwin_pde(paddr_t pa, uint32_t flags, int pse36, uint32_t maxphyaddr, uint32_t *pde)
{
	if (!IS_ALIGNED(pa, (paddr_t)LARGE_PAGE_SIZE))
		return -MM_EALIGN;
	uint32_t limit_bits = pse36 ? (maxphyaddr > 40 ? 40 : maxphyaddr) : 32;
	if (limit_bits < 32)
		limit_bits = 32;
	if (pa >> limit_bits)
		return -MM_ERANGE;
	uint32_t e = (uint32_t)pa & 0xFFC00000u;
	e |= (uint32_t)(pa >> 32) << 13;
	e |= PDE_P | PDE_PS;
	if (flags & PHYSWIN_WRITE)
		e |= PDE_RW;
	if (flags & PHYSWIN_WTHRU)
		e |= PDE_PWT;
	if (flags & PHYSWIN_NOCACHE)
		e |= PDE_PCD;
	*pde = e;
	return 0;
}

paddr_t physwin_pde_addr(uint32_t pde)
{
	return (paddr_t)(pde & 0xFFC00000u) | ((paddr_t)((pde >> 13) & 0xFFu) << 32);
}
