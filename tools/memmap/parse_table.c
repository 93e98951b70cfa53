/*
 * mmboot's own text table (the report of include/mmboot/memmap_fmt.h, as
 * the loader prints and saves it and `mmboot-memmap show` prints it):
 *
 *   mmboot memory map v1
 *   machine: QEMU Standard PC (Q35 + ICH9, 2009)      header "key: value" lines
 *   entries: 107
 *   <blank>
 *     idx type                 start  ...              column header
 *       0 BootServicesCode     0x0000000000000000 0x0000000000001000          1    4.0 KiB UC|WC|WT|WB
 *   <blank>                                           the rest (totals...) is ignored
 *
 * Anything before the title (e.g. other serial output) is ignored. Rows
 * must be numbered 0, 1, ... and their page count must match the range;
 * the number of rows must equal the header's "entries:". Type and
 * attribute names are the inverse of memfmt_type() / memfmt_attr().
 */
#include <string.h>

#include <mmboot/memmap_fmt.h>
#include "mapfile_int.h"

static bool table_title(const struct mf_line *l)
{
	struct mf_scan s = { l->p, l->p + l->len };
	return sc_equals(sc_trim(s), MEMFMT_TITLE);
}

bool mf_is_table_text(const char *data, size_t len)
{
	struct mf_ctx c = { .data = data, .len = len };
	struct mf_cursor cur = { 0, 0 };
	struct mf_line l;
	while (mf_next_line(&c, &cur, &l))
		if (table_title(&l))
			return true;
	return false;
}

static bool table_type_prefixed(struct mf_scan s, uint32_t *kind, uint32_t *type)
{
	uint64_t v;
	struct mf_scan t = s;
	if (sc_lit(&t, "e820:type_") && sc_dec(&t, &v) && t.p == t.end && v <= UINT32_MAX) {
		*kind = MEMMAP_SRC_E820;
		*type = (uint32_t)v;
		return true;
	}
	t = s;
	if ((sc_lit(&t, "OS_") || sc_lit(&t, "OEM_") || sc_lit(&t, "Type_")) &&
	    sc_hex(&t, true, &v) && t.p == t.end && v <= UINT32_MAX) {
		*kind = MEMMAP_SRC_EFI;
		*type = (uint32_t)v;
		return true;
	}
	return false;
}

static bool table_type(struct mf_scan s, uint32_t *kind, uint32_t *type)
{
	static const uint32_t e820_known[] = { 1, 2, 3, 4, 5, 7, 0xefffffffu };
	for (uint32_t t = 0; memfmt_efi_type_name(t); t++)
		if (sc_equals(s, memfmt_efi_type_name(t))) {
			*kind = MEMMAP_SRC_EFI;
			*type = t;
			return true;
		}
	for (size_t i = 0; i < ARRAY_SIZE(e820_known); i++)
		if (sc_equals(s, memfmt_e820_type_name(e820_known[i]))) {
			*kind = MEMMAP_SRC_E820;
			*type = e820_known[i];
			return true;
		}
	return table_type_prefixed(s, kind, type);
}

/* "-" or NAME|NAME|0xBITS */
static bool table_attr(struct mf_scan s, uint64_t *attr)
{
	*attr = 0;
	if (sc_equals(s, "-"))
		return true;
	while (s.p < s.end) {
		struct mf_scan tok = s;
		uint64_t v;
		if (!sc_until(&s, '|', &tok)) {
			tok = s;
			s.p = s.end;
		} else {
			s.p++;
		}
		struct mf_scan h = tok;
		if (sc_hex(&h, true, &v) && h.p == h.end) {
			*attr |= v;
			continue;
		}
		uint32_t bit;
		for (bit = 0; bit < 64; bit++)
			if (memfmt_attr_name(bit) && sc_equals(tok, memfmt_attr_name(bit)))
				break;
		if (bit == 64)
			return false;
		*attr |= (uint64_t)1 << bit;
	}
	return true;
}

/* the next blank-separated word */
static struct mf_scan table_word(struct mf_scan *s)
{
	struct mf_scan w;
	sc_ws(s);
	w.p = s->p;
	while (s->p < s->end && *s->p != ' ' && *s->p != '\t')
		s->p++;
	w.end = s->p;
	return w;
}

static int table_row(struct mf_ctx *c, struct mf_scan s, uint32_t line)
{
	uint64_t idx, start, end, pages = 0, size;
	uint32_t kind, type;
	uint64_t attr;
	char buf[40];
	sc_ws(&s);
	if (!sc_dec(&s, &idx) || idx != c->mf->n)
		return mf_fail(c, line, "row %u: expected index %u", c->mf->n, c->mf->n);
	struct mf_scan name = table_word(&s);
	if (!table_type(name, &kind, &type))
		return mf_fail(c, line, "unknown type \"%s\"", sc_str(name, buf, sizeof(buf)));
	sc_ws(&s);
	if (!sc_hex(&s, true, &start))
		return mf_fail(c, line, "bad start address");
	sc_ws(&s);
	if (!sc_hex(&s, true, &end))
		return mf_fail(c, line, "bad end address");
	struct mf_scan pw = table_word(&s), pt = pw;
	struct memmap_in e = { .start = start, .end = end };
	if (!(sc_equals(pw, "wrap") && end < start) &&
	    !(sc_dec(&pt, &pages) && pt.p == pt.end && pages == memfmt_pages(&e)))
		return mf_fail(c, line, "page count \"%s\" does not match the range",
		               sc_str(pw, buf, sizeof(buf)));
	struct mf_scan sz = table_word(&s), sn = sz;
	struct mf_scan unit = table_word(&s);
	if (!sc_dec(&sn, &size) || unit.p == unit.end)
		return mf_fail(c, line, "bad size column");
	struct mf_scan aw = table_word(&s);
	if (!table_attr(aw, &attr) || !sc_eol(&s))
		return mf_fail(c, line, "bad attributes \"%s\"", sc_str(aw, buf, sizeof(buf)));
	return mf_add(c, line, start, end, type, kind, attr);
}

/* "key: value" header line; returns the entries count when key is "entries" */
static void table_header_line(struct mf_ctx *c, struct mf_scan s, uint64_t *entries)
{
	struct mf_scan t = s;
	if (sc_lit(&t, "machine: "))
		sc_str(sc_trim(t), c->mf->machine, sizeof(c->mf->machine));
	t = s;
	if (sc_lit(&t, "entries: "))
		sc_dec(&t, entries);
}

enum table_state { T_BEFORE, T_HEADER, T_ROWS, T_AFTER };

int mf_parse_table(struct mf_ctx *c)
{
	struct mf_cursor cur = { 0, 0 };
	struct mf_line l;
	enum table_state st = T_BEFORE;
	uint64_t entries = UINT64_MAX;
	uint32_t header_line = 0;
	while (mf_next_line(c, &cur, &l) && st != T_AFTER) {
		struct mf_scan s = { l.p, l.p + l.len };
		if (st == T_BEFORE) {
			if (table_title(&l))
				st = T_HEADER;
			header_line = l.no;
		} else if (st == T_HEADER) {
			struct mf_scan t = s;
			sc_ws(&t);
			if (sc_lit(&t, "idx type"))
				st = T_ROWS;
			else
				table_header_line(c, s, &entries);
		} else if (mf_line_blank(&l)) {
			st = T_AFTER;
		} else if (table_row(c, s, l.no) < 0) {
			return -1;
		}
	}
	if (st == T_HEADER || st == T_BEFORE)
		return mf_fail(c, cur.no, "table has no column header (truncated?)");
	if (entries == UINT64_MAX)
		return mf_fail(c, header_line, "header has no \"entries:\" line");
	if (entries != c->mf->n)
		return mf_fail(c, cur.no, "table has %u rows but the header says %llu entries "
		               "(truncated?)", c->mf->n, (unsigned long long)entries);
	if (c->mf->n == 0)
		c->mf->kind = MEMMAP_SRC_EFI;
	return 0;
}
