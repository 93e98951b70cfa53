/*
 * Linux e820 boot-log lines, kernel 3.x and later:
 *
 *   [    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable
 *   [    0.000000] user: [mem 0x0000000100000000-0x00000001ffffffff] persistent (type 12)
 *
 * The end is inclusive. The tag before ':' names the map (BIOS-e820 is the
 * firmware's, user: the one after memmap= options); a file holds one map, so
 * lines with another tag are other dmesg output when timestamped and an
 * error otherwise.
 */
#include <string.h>

#include "mapfile_int.h"

/* "TAG: [mem " with TAG one word; *tag receives TAG. */
static bool e820_head(struct mf_scan *s, struct mf_scan *tag)
{
	struct mf_scan t = *s, w;
	if (!sc_until(&t, ':', &w) || w.p == w.end)
		return false;
	for (const char *p = w.p; p < w.end; p++)
		if (*p == ' ' || *p == '\t' || *p == '[')
			return false;
	if (!sc_lit(&t, ": [mem "))
		return false;
	*tag = w;
	*s = t;
	return true;
}

bool mf_is_e820_line(struct mf_scan s)
{
	struct mf_scan tag;
	return e820_head(&s, &tag);
}

static int e820_line(struct mf_ctx *c, struct mf_scan s, uint32_t line)
{
	struct mf_scan tag;
	uint64_t start, last;
	uint32_t type;
	char buf[40];
	e820_head(&s, &tag);
	if (c->tag[0] == '\0')
		sc_str(tag, c->tag, sizeof(c->tag));
	else if (!sc_equals(tag, c->tag))
		return mf_fail(c, line, "a second map (\"%s:\" after \"%s:\"); keep one map per file",
		               sc_str(tag, buf, sizeof(buf)), c->tag);
	if (!sc_hex(&s, true, &start) || !sc_lit(&s, "-") || !sc_hex(&s, true, &last) ||
	    !sc_lit(&s, "]"))
		return mf_fail(c, line, "bad range: expected [mem 0xSTART-0xEND]");
	/* last < start is passed through (last == start - 1: zero length, else
	 * end < start, garbage); the sanitizer drops it with a warning */
	sc_ws(&s);
	if (!mf_e820_type_from_linux(s, &type))
		return mf_fail(c, line, "unknown e820 type \"%s\"", sc_str(s, buf, sizeof(buf)));
	/* inclusive end; the last byte of the address space makes end 0 (wraps) */
	return mf_add(c, line, start, last + 1, type, MEMMAP_SRC_E820, 0);
}

int mf_parse_e820(struct mf_ctx *c)
{
	return mf_parse_lines(c, mf_is_e820_line, e820_line, "a Linux e820 ([mem ...])");
}
