/*
 * Linux's print of the UEFI memory map, kernel 3.17 and older (efi=debug or
 * always on some versions):
 *
 *   efi: mem00: type=7, attr=0xf, range=[0x0000000000000000-0x000000000008f000) (0MB)
 *
 * Type and attribute as numbers; the range is normally exclusive (')'), an
 * inclusive ']' is accepted too. Numbering and size are checked as in the
 * newer format (parse_efi.c).
 */
#include "mapfile_int.h"

bool mf_is_efi_old_line(struct mf_scan s)
{
	uint64_t idx;
	return mf_efi_head(&s, &idx) && sc_lit(&s, "type=");
}

static int efi_old_line(struct mf_ctx *c, struct mf_scan s, uint32_t line)
{
	uint64_t idx, type, attr, start, end;
	mf_efi_head(&s, &idx);
	if (idx != c->seq)
		return mf_fail(c, line, "entry mem%02llu out of sequence (expected mem%02u): "
		               "a line is missing or repeated", (unsigned long long)idx, c->seq);
	sc_lit(&s, "type=");
	if (!sc_dec(&s, &type) || type > UINT32_MAX || !sc_lit(&s, ","))
		return mf_fail(c, line, "bad type: expected type=N,");
	sc_ws(&s);
	if (!sc_lit(&s, "attr=") || !sc_hex(&s, true, &attr) || !sc_lit(&s, ","))
		return mf_fail(c, line, "bad attribute: expected attr=0xN,");
	if (mf_efi_range(c, &s, line, &start, &end) < 0)
		return -1;
	c->seq++;
	return mf_add(c, line, start, end, (uint32_t)type, MEMMAP_SRC_EFI, attr);
}

int mf_parse_efi_old(struct mf_ctx *c)
{
	return mf_parse_lines(c, mf_is_efi_old_line, efi_old_line,
	                      "an old-style Linux EFI (efi: memNN: type=N, ...)");
}
