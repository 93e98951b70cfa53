/*
 * Linux e820 boot-log lines of older kernels, and Xen's print of its map:
 *
 *    BIOS-e820: 0000000000000000 - 000000000009f000 (usable)
 *   (XEN)  0000000000100000 - 00000000bffdf000 (usable)
 *
 * Hex without 0x, exclusive end, the type in parentheses. Up to two prefix
 * words (such as "(XEN)", "BIOS-e820:") may precede the range.
 */
#include "mapfile_int.h"

/* Skip up to two prefix words that end with ':' or ')' */
static void skip_prefix(struct mf_scan *s)
{
	for (int i = 0; i < 2; i++) {
		const char *p = s->p;
		while (p < s->end && *p != ' ' && *p != '\t')
			p++;
		if (p == s->p || (p[-1] != ':' && p[-1] != ')'))
			return;
		s->p = p;
		sc_ws(s);
	}
}

/* "HEX - HEX (" */
static bool old_head(struct mf_scan *s, uint64_t *start, uint64_t *end)
{
	struct mf_scan t = *s;
	skip_prefix(&t);
	if (!sc_hex(&t, false, start))
		return false;
	sc_ws(&t);
	if (!sc_lit(&t, "-"))
		return false;
	sc_ws(&t);
	if (!sc_hex(&t, false, end))
		return false;
	sc_ws(&t);
	if (!sc_lit(&t, "("))
		return false;
	*s = t;
	return true;
}

bool mf_is_e820_old_line(struct mf_scan s)
{
	uint64_t a, b;
	return old_head(&s, &a, &b);
}

static int e820_old_line(struct mf_ctx *c, struct mf_scan s, uint32_t line)
{
	uint64_t start, end;
	uint32_t type;
	struct mf_scan name;
	char buf[40];
	old_head(&s, &start, &end);
	if (!sc_until(&s, ')', &name) || !sc_lit(&s, ")") || !sc_eol(&s))
		return mf_fail(c, line, "bad type: expected \"(type)\" at the end of the line");
	/* "(persistent (type 12))" would nest; Linux prints "(type 12)" here */
	if (!mf_e820_type_from_linux(name, &type))
		return mf_fail(c, line, "unknown e820 type \"%s\"", sc_str(name, buf, sizeof(buf)));
	/* end < start passed through: the sanitizer drops it with a warning */
	return mf_add(c, line, start, end, type, MEMMAP_SRC_E820, 0);
}

int mf_parse_e820_old(struct mf_ctx *c)
{
	return mf_parse_lines(c, mf_is_e820_old_line, e820_old_line,
	                      "an old-style e820 (START - END (type))");
}
