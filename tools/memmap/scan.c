/*
 * Line splitting and a small field scanner for the text parsers.
 *
 * Input is never NUL-terminated and may contain anything: every function
 * checks against the end pointer before reading, and numbers that do not
 * fit 64 bits are rejected rather than wrapped. A scanner function that does
 * not match leaves the scanner where it was.
 */
#define _GNU_SOURCE /* memmem */
#include <string.h>

#include "mapfile_int.h"

bool mf_next_line(const struct mf_ctx *c, struct mf_cursor *cur, struct mf_line *l)
{
	if (cur->pos >= c->len)
		return false;
	const char *p = c->data + cur->pos;
	const char *nl = memchr(p, '\n', c->len - cur->pos);
	size_t n = nl ? (size_t)(nl - p) : c->len - cur->pos;
	cur->pos += n + (nl ? 1 : 0);
	cur->no++;
	l->p = p;
	l->len = (n > 0 && p[n - 1] == '\r') ? n - 1 : n;
	l->no = cur->no;
	return true;
}

bool mf_line_blank(const struct mf_line *l)
{
	for (size_t i = 0; i < l->len; i++)
		if (l->p[i] != ' ' && l->p[i] != '\t')
			return false;
	return true;
}

static bool is_hex_digit(char ch, unsigned *v)
{
	if (ch >= '0' && ch <= '9')
		*v = (unsigned)(ch - '0');
	else if (ch >= 'a' && ch <= 'f')
		*v = (unsigned)(ch - 'a' + 10);
	else if (ch >= 'A' && ch <= 'F')
		*v = (unsigned)(ch - 'A' + 10);
	else
		return false;
	return true;
}

void sc_ws(struct mf_scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t'))
		s->p++;
}

bool sc_lit(struct mf_scan *s, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
		return false;
	s->p += n;
	return true;
}

bool sc_hex(struct mf_scan *s, bool need_0x, uint64_t *v)
{
	struct mf_scan t = *s;
	if (!sc_lit(&t, "0x") && !sc_lit(&t, "0X") && need_0x)
		return false;
	uint64_t x = 0;
	unsigned d, digits = 0;
	while (t.p < t.end && is_hex_digit(*t.p, &d)) {
		if (x >> 60)
			return false;           /* would overflow 64 bits */
		x = (x << 4) | d;
		t.p++;
		digits++;
	}
	if (digits == 0)
		return false;
	*v = x;
	*s = t;
	return true;
}

bool sc_dec(struct mf_scan *s, uint64_t *v)
{
	const char *p = s->p;
	uint64_t x = 0;
	while (p < s->end && *p >= '0' && *p <= '9') {
		unsigned d = (unsigned)(*p - '0');
		if (x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
		p++;
	}
	if (p == s->p)
		return false;
	*v = x;
	s->p = p;
	return true;
}

bool sc_eol(struct mf_scan *s)
{
	struct mf_scan t = *s;
	sc_ws(&t);
	return t.p == t.end;
}

bool sc_until(struct mf_scan *s, char c, struct mf_scan *field)
{
	const char *q = memchr(s->p, c, (size_t)(s->end - s->p));
	if (!q)
		return false;
	field->p = s->p;
	field->end = q;
	s->p = q;
	return true;
}

struct mf_scan sc_trim(struct mf_scan f)
{
	sc_ws(&f);
	while (f.end > f.p && (f.end[-1] == ' ' || f.end[-1] == '\t'))
		f.end--;
	return f;
}

bool sc_equals(struct mf_scan f, const char *lit)
{
	size_t n = strlen(lit);
	return (size_t)(f.end - f.p) == n && memcmp(f.p, lit, n) == 0;
}

const char *sc_str(struct mf_scan f, char *buf, size_t len)
{
	size_t n = (size_t)(f.end - f.p), i;
	if (len == 0)
		return buf;
	if (n > len - 1)
		n = len - 1;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)f.p[i];
		buf[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	buf[n] = '\0';
	return buf;
}

/* "[  123.456789] " */
static bool strip_timestamp(struct mf_scan *s)
{
	struct mf_scan t = *s;
	uint64_t v;
	if (!sc_lit(&t, "["))
		return false;
	sc_ws(&t);
	if (!sc_dec(&t, &v) || !sc_lit(&t, ".") || !sc_dec(&t, &v) || !sc_lit(&t, "]"))
		return false;
	sc_ws(&t);
	*s = t;
	return true;
}

struct mf_scan mf_strip_log_prefix(const struct mf_line *l, bool *stamped)
{
	struct mf_scan s = { l->p, l->p + l->len };
	uint64_t v;
	*stamped = false;
	/* journalctl / syslog: "Nov 22 10:00:00 host kernel: ..." */
	const char *k = l->len >= 8 ? memmem(l->p, l->len, "kernel: ", 8) : NULL;
	if (k) {
		s.p = k + 8;
		*stamped = true;
	}
	struct mf_scan t = s;
	if (sc_lit(&t, "<") && sc_dec(&t, &v) && sc_lit(&t, ">")) {
		s = t;
		*stamped = true;
	}
	if (strip_timestamp(&s))
		*stamped = true;
	sc_ws(&s);
	return s;
}

int mf_parse_lines(struct mf_ctx *c, bool (*is_line)(struct mf_scan), mf_line_fn fn,
                   const char *what)
{
	struct mf_cursor cur = { 0, 0 };
	struct mf_line l;
	while (mf_next_line(c, &cur, &l)) {
		bool stamped;
		if (mf_line_blank(&l))
			continue;
		struct mf_scan s = mf_strip_log_prefix(&l, &stamped);
		if (!is_line(s)) {
			if (stamped || sc_eol(&s))
				continue;   /* other boot-log output */
			char buf[48];
			return mf_fail(c, l.no, "not %s line: \"%s\"", what, sc_str(s, buf, sizeof(buf)));
		}
		if (fn(c, s, l.no) < 0)
			return -1;
	}
	if (c->mf->n == 0)
		return mf_fail(c, cur.no, "no %s lines found", what);
	return 0;
}
