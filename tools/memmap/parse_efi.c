/*
 * Linux's print of the UEFI memory map with efi=debug, kernel 4.x and later:
 *
 *   efi: mem00: [Conventional Memory|   |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x0-0xfff] (0MB)
 *   efi: mem41: [Reserved           |attr=0x070000000000000f] range=[0x7a700000-0x7a7fffff] (1MB)
 *
 * The type has a long (<= 4.x) or a short spelling, or is "type=N"; the
 * columns after it name attribute bits (RUN MR CC SP NV XP RP WP RO UCE WB WT
 * WC UC) in whatever order and number the kernel version prints; when the
 * kernel sees bits it has no column for it prints "attr=0x..." instead.
 * "range=[S-E]" has an inclusive end, "range=[S-E)" an exclusive one. The
 * entries must be numbered mem00, mem01, ... without gaps (a missing or
 * repeated line is an error), and a "(NMB)" size must match the range.
 */
#include "mapfile_int.h"

/* "efi: memNN: " ; *idx receives NN */
bool mf_efi_head(struct mf_scan *s, uint64_t *idx)
{
	struct mf_scan t = *s;
	if (!sc_lit(&t, "efi:"))
		return false;
	sc_ws(&t);
	if (!sc_lit(&t, "mem") || !sc_dec(&t, idx) || !sc_lit(&t, ":"))
		return false;
	sc_ws(&t);
	*s = t;
	return true;
}

bool mf_is_efi_line(struct mf_scan s)
{
	uint64_t idx;
	return mf_efi_head(&s, &idx) && sc_lit(&s, "[");
}

/* The field up to the nearest '|' or ']' (false if neither follows). */
static bool efi_col(struct mf_scan *s, struct mf_scan *col)
{
	const char *p = s->p;
	while (p < s->end && *p != '|' && *p != ']')
		p++;
	if (p == s->end)
		return false;
	col->p = s->p;
	col->end = p;
	s->p = p;
	return true;
}

/* "|col|col|...]" after the type; sets *attr */
static int efi_attr_cols(struct mf_ctx *c, struct mf_scan *s, uint32_t line, uint64_t *attr)
{
	struct mf_scan col, h;
	uint64_t bit, v;
	char buf[40];
	*attr = 0;
	while (sc_lit(s, "|")) {
		if (!efi_col(s, &col))
			return mf_fail(c, line, "attribute columns not closed by ']'");
		col = sc_trim(col);
		h = col;
		if (col.p == col.end)
			continue;
		if (sc_lit(&h, "attr=") && sc_hex(&h, true, &v) && h.p == h.end)
			*attr = v;
		else if (mf_efi_attr_from_linux(col, &bit))
			*attr |= bit;
		else
			return mf_fail(c, line, "unknown attribute column \"%s\"",
			               sc_str(col, buf, sizeof(buf)));
	}
	if (!sc_lit(s, "]"))
		return mf_fail(c, line, "attribute columns not closed by ']'");
	return 0;
}

/* "range=[0xS-0xE]" or "...)" then an optional "(NMB)"; *end exclusive */
int mf_efi_range(struct mf_ctx *c, struct mf_scan *s, uint32_t line,
                 uint64_t *start, uint64_t *end)
{
	uint64_t last, mb;
	sc_ws(s);
	if (!sc_lit(s, "range=[") || !sc_hex(s, true, start) || !sc_lit(s, "-") ||
	    !sc_hex(s, true, &last))
		return mf_fail(c, line, "bad range: expected range=[0xSTART-0xEND]");
	if (sc_lit(s, "]"))
		*end = last + 1;              /* inclusive; wraps to 0 at 2^64 */
	else if (sc_lit(s, ")"))
		*end = last;
	else
		return mf_fail(c, line, "bad range: expected ']' or ')' after the end address");
	/* an end before the start is passed through, never an error: Linux
	 * prints a num_pages=0 descriptor as [X-(X-1)] (end == start, zero
	 * length); an end further back stays end < start (garbage, treated as
	 * wrapped). The sanitizer drops both with a warning (EMPTY, WRAP). */
	sc_ws(s);
	if (sc_eol(s))
		return 0;
	if (!sc_lit(s, "(") || !sc_dec(s, &mb) || !sc_lit(s, "MB)") || !sc_eol(s))
		return mf_fail(c, line, "unexpected text after the range (expected \"(NMB)\")");
	if (last < *start)
		return 0;   /* no size to compare */
	if (mb != (*end - *start) >> 20)
		return mf_fail(c, line, "size (%lluMB) does not match the range (%lluMB)",
		               (unsigned long long)mb, (unsigned long long)((*end - *start) >> 20));
	return 0;
}

static int efi_line(struct mf_ctx *c, struct mf_scan s, uint32_t line)
{
	uint64_t idx, attr, start, end;
	uint32_t type;
	struct mf_scan name;
	char buf[40];
	mf_efi_head(&s, &idx);
	if (idx != c->seq)
		return mf_fail(c, line, "entry mem%02llu out of sequence (expected mem%02u): "
		               "a line is missing or repeated", (unsigned long long)idx, c->seq);
	sc_lit(&s, "[");
	if (!efi_col(&s, &name))
		return mf_fail(c, line, "type not closed by '|' or ']'");
	if (!mf_efi_type_from_linux(name, &type))
		return mf_fail(c, line, "unknown EFI type \"%s\"", sc_str(sc_trim(name), buf, sizeof(buf)));
	if (efi_attr_cols(c, &s, line, &attr) < 0 || mf_efi_range(c, &s, line, &start, &end) < 0)
		return -1;
	c->seq++;
	return mf_add(c, line, start, end, type, MEMMAP_SRC_EFI, attr);
}

int mf_parse_efi(struct mf_ctx *c)
{
	return mf_parse_lines(c, mf_is_efi_line, efi_line, "a Linux EFI (efi: memNN: [...])");
}
