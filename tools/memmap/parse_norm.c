/*
 * The normalised map form of the corpus (../shared/memmaps/NAME.txt):
 *
 *   # source: ...; machine: ASUS ZenBook UX391FA (BIOS ...); kind: efi
 *   0x0 0x1000 EfiConventionalMemory attr=0xf
 *   0x9f000 0x100000 e820:reserved
 *
 * One region a line in source order, end exclusive; TYPE is a UEFI type name
 * (or "EfiType_N" / a 0x number for OEM and OS types) or "e820:NAME"
 * (usable reserved ACPI_data ACPI_NVS unusable persistent type_N). Lines
 * starting with '#' are comments; the header's "machine:" (up to its first
 * " (") names the machine and its "kind:" must agree with the types.
 */
#define _GNU_SOURCE /* memmem */
#include <string.h>

#include "mapfile_int.h"

static bool norm_head(struct mf_scan *s, uint64_t *start, uint64_t *end)
{
	struct mf_scan t = *s;
	if (!sc_hex(&t, true, start) || (t.p < t.end && *t.p != ' ' && *t.p != '\t'))
		return false;
	sc_ws(&t);
	if (!sc_hex(&t, true, end) || t.p == t.end || (*t.p != ' ' && *t.p != '\t'))
		return false;
	sc_ws(&t);
	*s = t;
	return true;
}

bool mf_is_norm_line(struct mf_scan s)
{
	uint64_t a, b;
	return norm_head(&s, &a, &b) && !sc_eol(&s);
}

/* "# source: ...; machine: NAME (notes); kind: efi" */
static int norm_header(struct mf_ctx *c, const struct mf_line *l, uint32_t *kind)
{
	const char *m = memmem(l->p, l->len, "machine: ", 9);
	const char *k = NULL, *p;
	for (p = l->p; (p = memmem(p, l->len - (size_t)(p - l->p), "; kind: ", 8)); p++)
		k = p;
	if (m) {
		struct mf_scan f = { m + 9, k && k > m ? k : l->p + l->len };
		const char *paren = memmem(f.p, (size_t)(f.end - f.p), " (", 2);
		if (paren)
			f.end = paren;
		sc_str(sc_trim(f), c->mf->machine, sizeof(c->mf->machine));
	}
	if (k) {
		struct mf_scan f = { k + 8, l->p + l->len };
		f = sc_trim(f);
		if (sc_equals(f, "efi"))
			*kind = MEMMAP_SRC_EFI;
		else if (sc_equals(f, "e820"))
			*kind = MEMMAP_SRC_E820;
		else
			return mf_fail(c, l->no, "header: kind must be efi or e820");
	}
	return 0;
}

static int norm_row(struct mf_ctx *c, struct mf_scan s, uint32_t line)
{
	uint64_t start, end, attr = 0;
	uint32_t type, kind = MEMMAP_SRC_EFI;
	struct mf_scan name = s;
	char buf[40];
	if (!norm_head(&s, &start, &end))
		return mf_fail(c, line, "expected \"0xSTART 0xEND TYPE [attr=0xBITS]\"");
	name = s;
	while (s.p < s.end && *s.p != ' ' && *s.p != '\t')
		s.p++;
	name.end = s.p;
	struct mf_scan e = name;
	if (sc_lit(&e, "e820:")) {
		kind = MEMMAP_SRC_E820;
		if (!mf_e820_type_from_norm(e, &type))
			return mf_fail(c, line, "unknown e820 type \"%s\"", sc_str(name, buf, sizeof(buf)));
	} else if (!mf_efi_type_from_spec(name, &type)) {
		return mf_fail(c, line, "unknown type \"%s\"", sc_str(name, buf, sizeof(buf)));
	}
	sc_ws(&s);
	if (sc_lit(&s, "attr=") && !sc_hex(&s, true, &attr))
		return mf_fail(c, line, "bad attribute: expected attr=0xBITS");
	if (!sc_eol(&s))
		return mf_fail(c, line, "unexpected text after the type");
	/* end <= start passed through: the sanitizer drops it with a warning */
	return mf_add(c, line, start, end, type, kind, attr);
}

int mf_parse_norm(struct mf_ctx *c)
{
	struct mf_cursor cur = { 0, 0 };
	struct mf_line l;
	uint32_t kind = UINT32_MAX;
	while (mf_next_line(c, &cur, &l)) {
		struct mf_scan s = { l.p, l.p + l.len };
		if (mf_line_blank(&l))
			continue;
		if (l.p[0] == '#') {
			if (norm_header(c, &l, &kind) < 0)
				return -1;
			continue;
		}
		if (norm_row(c, s, l.no) < 0)
			return -1;
	}
	if (c->mf->n == 0)
		return mf_fail(c, cur.no, "no map lines found");
	if (kind != UINT32_MAX && kind != c->mf->kind)
		return mf_fail(c, 1, "header says kind %s but the entries are %s",
		               kind == MEMMAP_SRC_EFI ? "efi" : "e820",
		               c->mf->kind == MEMMAP_SRC_EFI ? "EFI" : "e820");
	return 0;
}
