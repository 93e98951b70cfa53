/*
 * The inspector's option words (efi/inspect.h), portable so that the host
 * tests (tests/unit/test_inspect_opts.c) run the same parser the loader
 * does.
 *
 * Words are separated by blanks, commas or line breaks (and NUL: load
 * options are UCS-2 narrowed to ASCII); '#' starts a comment to the end of
 * the line. A word ending in ".efi" (any case: the image path a UEFI shell
 * passes first) is skipped. A bad word is reported with mm_printf (on
 * the loader's console) and changes nothing: "timeout=abc", "timeout=",
 * "timeout=99999999" keep the timeout set so far. Unknown words too.
 */
#include <mmboot/mm_env.h>
#include "inspect.h"

static int opts_is_sep(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' || c == 0;
}

static char opts_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int opts_word_is(const char *w, uint64_t n, const char *lit)
{
	uint64_t i = 0;
	for (; i < n && lit[i] && w[i] == lit[i]; i++)
		;
	return i == n && lit[i] == 0;
}

static int opts_is_image(const char *w, uint64_t n)
{
	return n >= 4 && w[n - 4] == '.' && opts_lower(w[n - 3]) == 'e' &&
	       opts_lower(w[n - 2]) == 'f' && opts_lower(w[n - 1]) == 'i';
}

/* Decimal seconds 0..INSPECT_TIMEOUT_MAX; -1 if not that. */
static int64_t opts_seconds(const char *s, uint64_t n)
{
	int64_t v = 0;
	if (n == 0)
		return -1;
	for (uint64_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
		if (v > INSPECT_TIMEOUT_MAX)
			return -1;
	}
	return v;
}

/* Report a bad word; keep >= 0: the timeout it leaves in place. */
static void opts_bad(const char *w, uint64_t n, const char *from, const char *why, int64_t keep)
{
	char word[41];
	uint64_t k = n < 40 ? n : 40;
	mm_memcpy(word, w, k);
	word[k] = 0;
	if (keep >= 0)
		mm_printf("inspect: option '%s' (%s): %s; the timeout stays %u s\n", word, from, why,
		          (unsigned)keep);
	else
		mm_printf("inspect: option '%s' (%s): %s\n", word, from, why);
}

/* One word; 1 if it was bad. */
static uint32_t opts_word(const char *w, uint64_t n, const char *from, struct inspect_opts *o)
{
	if (opts_word_is(w, n, "nosave"))
		o->nosave = 1;
	else if (opts_word_is(w, n, "serial"))
		o->serial = 1;
	else if (opts_word_is(w, n, "stop"))
		o->stop = 1;
	else if (n >= 8 && opts_word_is(w, 8, "timeout=")) {
		int64_t v = opts_seconds(w + 8, n - 8);
		if (v < 0) {
			opts_bad(w, n, from, "not a number of seconds (0..86400)", o->timeout_s);
			return 1;
		}
		o->timeout_s = (uint32_t)v;
	} else if (!opts_is_image(w, n)) {
		opts_bad(w, n, from, "unknown, ignored", -1);
		return 1;
	}
	return 0;
}

void inspect_default_opts(struct inspect_opts *o)
{
	mm_memset(o, 0, sizeof(*o));
	o->timeout_s = INSPECT_TIMEOUT_DEFAULT;
}

uint32_t inspect_parse_opts(const char *text, uint64_t len, const char *from,
                            struct inspect_opts *o)
{
	uint32_t bad = 0;
	uint64_t i = 0;
	while (i < len) {
		if (text[i] == '#') {
			while (i < len && text[i] != '\n')
				i++;
			continue;
		}
		if (opts_is_sep(text[i])) {
			i++;
			continue;
		}
		uint64_t s = i;
		while (i < len && !opts_is_sep(text[i]) && text[i] != '#')
			i++;
		bad += opts_word(text + s, i - s, from, o);
	}
	o->errors += bad;
	return bad;
}
