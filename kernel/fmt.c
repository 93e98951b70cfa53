/*
 * fmt.c: printf-style formatting for the loader and the kernel (see fmt.h).
 *
 * A conversion is parsed into a struct fmt_spec (flags, width, precision,
 * length), its argument fetched at the right width, turned into digits in a
 * small local buffer (most significant last), then emitted with padding.
 * Nothing here allocates or keeps state between calls, so it is safe from
 * an exception handler.
 */
#include "fmt.h"

struct fmt_spec {
	int left;          /* '-' : pad on the right */
	int zero;          /* '0' : pad with zeros */
	int width;         /* minimum field width, characters */
	int prec;          /* precision (%s: max chars), -1 if none */
	int len;           /* 0 int, 1 long, 2 long long, -1 short, -2 char, 3 size_t */
};

struct fmt_state {
	fmt_out_fn out;    /* output callback */
	void *ctx;         /* its context */
	int count;         /* characters produced */
};

static void put(struct fmt_state *st, char c)
{
	st->out(st->ctx, c);
	st->count++;
}

static void pad(struct fmt_state *st, int n, char c)
{
	while (n-- > 0)
		put(st, c);
}

/* v / base by shift and subtract (no __udivdi3 on i386); returns remainder. */
static unsigned divmod(uint64_t *v, unsigned base)
{
	uint64_t q = 0, r = 0;
	for (int i = 63; i >= 0; i--) {
		r = (r << 1) | ((*v >> i) & 1u);
		if (r >= base) {
			r -= base;
			q |= (uint64_t)1 << i;
		}
	}
	*v = q;
	return (unsigned)r;
}

static void emit_num(struct fmt_state *st, const struct fmt_spec *sp, uint64_t v,
                     unsigned base, int upper, int neg)
{
	const char *dig = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	int n = 0;
	do {
		unsigned d = (base == 16) ? (unsigned)(v & 15u) : divmod(&v, base);
		if (base == 16)
			v >>= 4;
		buf[n++] = dig[d];
	} while (v != 0);
	int total = n + (neg ? 1 : 0);
	if (!sp->left && !sp->zero)
		pad(st, sp->width - total, ' ');
	if (neg)
		put(st, '-');
	if (!sp->left && sp->zero)
		pad(st, sp->width - total, '0');
	while (n > 0)
		put(st, buf[--n]);
	if (sp->left)
		pad(st, sp->width - total, ' ');
}

static void emit_str(struct fmt_state *st, const struct fmt_spec *sp, const char *s)
{
	int n = 0;
	if (!s)
		s = "(null)";
	while (s[n] && (sp->prec < 0 || n < sp->prec))
		n++;
	if (!sp->left)
		pad(st, sp->width - n, ' ');
	for (int i = 0; i < n; i++)
		put(st, s[i]);
	if (sp->left)
		pad(st, sp->width - n, ' ');
}

static const char *parse_spec(const char *f, struct fmt_spec *sp, va_list *ap)
{
	sp->left = sp->zero = sp->width = sp->len = 0;
	sp->prec = -1;
	for (;; f++) {
		if (*f == '-')
			sp->left = 1;
		else if (*f == '0')
			sp->zero = 1;
		else if (*f != '+' && *f != ' ' && *f != '#')
			break;
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, int);
		f++;
	}
	while (*f >= '0' && *f <= '9')
		sp->width = sp->width * 10 + (*f++ - '0');
	if (*f == '.') {
		sp->prec = 0;
		for (f++; *f >= '0' && *f <= '9'; f++)
			sp->prec = sp->prec * 10 + (*f - '0');
	}
	for (;; f++) {
		if (*f == 'l')
			sp->len++;
		else if (*f == 'h')
			sp->len--;
		else if (*f == 'z' || *f == 't')
			sp->len = 3;
		else if (*f == 'j')
			sp->len = 2;
		else
			break;
	}
	return f;
}

static uint64_t get_unsigned(const struct fmt_spec *sp, va_list *ap)
{
	switch (sp->len) {
	case 1: return va_arg(*ap, unsigned long);
	case 2: return va_arg(*ap, unsigned long long);
	case 3: return va_arg(*ap, size_t);
	case -1: return (unsigned short)va_arg(*ap, unsigned);
	case -2: return (unsigned char)va_arg(*ap, unsigned);
	default: return va_arg(*ap, unsigned);
	}
}

static int64_t get_signed(const struct fmt_spec *sp, va_list *ap)
{
	switch (sp->len) {
	case 1: return va_arg(*ap, long);
	case 2: return va_arg(*ap, long long);
	case 3: return (int64_t)va_arg(*ap, size_t);
	case -1: return (short)va_arg(*ap, int);
	case -2: return (signed char)va_arg(*ap, int);
	default: return va_arg(*ap, int);
	}
}

static void convert(struct fmt_state *st, struct fmt_spec *sp, char c, va_list *ap)
{
	switch (c) {
	case 'd':
	case 'i': {
		int64_t v = get_signed(sp, ap);
		emit_num(st, sp, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, 10, 0, v < 0);
		break;
	}
	case 'u': emit_num(st, sp, get_unsigned(sp, ap), 10, 0, 0); break;
	case 'x': emit_num(st, sp, get_unsigned(sp, ap), 16, 0, 0); break;
	case 'X': emit_num(st, sp, get_unsigned(sp, ap), 16, 1, 0); break;
	case 'p':
		put(st, '0');
		put(st, 'x');
		sp->zero = 1;
		sp->width = (int)sizeof(void *) * 2;
		emit_num(st, sp, (uintptr_t)va_arg(*ap, void *), 16, 0, 0);
		break;
	case 's': emit_str(st, sp, va_arg(*ap, const char *)); break;
	case 'c': put(st, (char)va_arg(*ap, int)); break;
	case '%': put(st, '%'); break;
	default:
		put(st, '%');
		if (c)
			put(st, c);
		break;
	}
}

int fmt_vformat(fmt_out_fn out, void *ctx, const char *fmt, va_list ap)
{
	struct fmt_state st = { out, ctx, 0 };
	struct fmt_spec sp;
	va_list aq;
	va_copy(aq, ap);
	while (*fmt) {
		if (*fmt != '%') {
			put(&st, *fmt++);
			continue;
		}
		fmt = parse_spec(fmt + 1, &sp, &aq);
		convert(&st, &sp, *fmt, &aq);
		if (*fmt)
			fmt++;
	}
	va_end(aq);
	return st.count;
}

struct fmt_buf {
	char *buf;         /* destination */
	size_t cap;        /* its size, bytes */
	size_t pos;        /* characters produced so far */
};

static void buf_out(void *ctx, char c)
{
	struct fmt_buf *b = ctx;
	if (b->pos + 1 < b->cap)
		b->buf[b->pos] = c;
	b->pos++;
}

int fmt_vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap)
{
	struct fmt_buf b = { buf, cap, 0 };
	int n = fmt_vformat(buf_out, &b, fmt, ap);
	if (cap > 0)
		buf[b.pos < cap ? b.pos : cap - 1] = '\0';
	return n;
}

int fmt_snprintf(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = fmt_vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	return n;
}
