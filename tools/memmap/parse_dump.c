/*
 * mmboot's binary dump (include/mmboot/memdump.h), as the loader saves it on
 * the boot medium. memdump_check() (mm/memdump.c, shared with the loader)
 * validates magic, version, sizes, length and both CRCs and names the offset
 * of the first problem; the descriptors are then converted exactly as the
 * loader converts them (memmap_from_efi), so both see the same entries.
 * Each entry's "line" is its descriptor index.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapfile_int.h"

bool mf_is_dump(const void *data, size_t len)
{
	return len >= 8 && memcmp(data, MEMDUMP_MAGIC, 8) == 0;
}

/* machine name from SMBIOS: "Manufacturer Product" */
static void dump_machine(struct mapfile *mf)
{
	const struct memdump_header *h = &mf->hdr;
	if (!(h->flags & MEMDUMP_F_SMBIOS))
		return;
	snprintf(mf->machine, sizeof(mf->machine), "%s%s%s", h->smbios_manufacturer,
	         h->smbios_manufacturer[0] && h->smbios_product[0] ? " " : "", h->smbios_product);
}

int mf_parse_dump(struct mf_ctx *c)
{
	uint64_t off;
	enum memdump_err e = memdump_check(c->data, c->len, &off);
	if (e != MEMDUMP_OK)
		return mf_fail_at(c, off, "%s", memdump_strerror(e));
	struct mapfile *mf = c->mf;
	memcpy(&mf->hdr, c->data, sizeof(mf->hdr));
	mf->has_hdr = 1;
	const struct memdump_header *h = &mf->hdr;
	uint32_t n = h->entry_count;
	struct memmap_in *in = malloc((n ? n : 1) * sizeof(*in));
	if (!in)
		return mf_fail_at(c, 0, "out of memory");
	memmap_from_efi(c->data + h->header_size, n, h->desc_size, in);
	for (uint32_t i = 0; i < n; i++)
		if (mf_add(c, i, in[i].start, in[i].end, in[i].type, MEMMAP_SRC_EFI, in[i].attr) < 0) {
			free(in);
			return -1;
		}
	free(in);
	mf->kind = MEMMAP_SRC_EFI;
	dump_machine(mf);
	return 0;
}
