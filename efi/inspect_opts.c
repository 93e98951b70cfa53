/*
 * Inspector options (efi/inspect.h): defaults, the load options, then
 * \mmboot\config.txt, later words overriding earlier ones. Words are
 * separated by blanks, commas or line breaks; '#' starts a comment to the
 * end of the line; unknown words are reported and ignored.
 */
#include "loader.h"
#include "inspect.h"

static EFI_GUID opts_guid_image = EFI_LOADED_IMAGE_PROTOCOL_GUID;

static int opts_is_sep(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' || c == 0;
}

static int opts_word_is(const char *w, uint64_t n, const char *lit)
{
	uint64_t i = 0;
	for (; i < n && lit[i] && w[i] == lit[i]; i++)
		;
	return i == n && lit[i] == 0;
}

static void opts_word(const char *w, uint64_t n, struct inspect_opts *o)
{
	if (opts_word_is(w, n, "nosave"))
		o->nosave = 1;
	else if (opts_word_is(w, n, "serial"))
		o->serial = 1;
	else if (opts_word_is(w, n, "stop"))
		o->stop = 1;
	else if (n > 8 && opts_word_is(w, 8, "timeout=")) {
		uint32_t v = 0;
		for (uint64_t i = 8; i < n && w[i] >= '0' && w[i] <= '9' && v < 100000; i++)
			v = v * 10 + (uint32_t)(w[i] - '0');
		o->timeout_s = v;
	} else if (!(n >= 4 && (opts_word_is(w + n - 4, 4, ".EFI") || opts_word_is(w + n - 4, 4, ".efi")))) {
		char word[41];
		uint64_t k = n < 40 ? n : 40;
		mm_memcpy(word, w, k);
		word[k] = 0;
		mm_printf("inspect: unknown option '%s' ignored\n", word);
	}
}

void inspect_parse_opts(const char *text, uint64_t len, struct inspect_opts *o)
{
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
		opts_word(text + s, i - s, o);
	}
}

/* The load options as ASCII (UCS-2 narrowed). */
static uint64_t opts_load_options(char *buf, uint64_t cap)
{
	EFI_LOADED_IMAGE *li = 0;
	if (EFI_ERROR(efi_st->BootServices->HandleProtocol(efi_image, &opts_guid_image, (void **)&li)) ||
	    !li || !li->LoadOptions)
		return 0;
	const CHAR16 *w = li->LoadOptions;
	uint64_t n = li->LoadOptionsSize / sizeof(CHAR16), k = 0;
	for (uint64_t i = 0; i < n && k < cap; i++)
		buf[k++] = (w[i] > 0 && w[i] < 0x7f) ? (char)w[i] : ' ';
	return k;
}

void inspect_get_opts(const struct memdump_header *h, struct inspect_opts *o)
{
	static char buf[4096];
	uint64_t n;
	const char *m = h->smbios_manufacturer;
	o->nosave = o->serial = o->stop = 0;
	o->timeout_s = (m[0] == 'Q' && m[1] == 'E' && m[2] == 'M' && m[3] == 'U' && !m[4]) ? 0 : 10;
	n = opts_load_options(buf, sizeof(buf));
	inspect_parse_opts(buf, n, o);
	n = inspect_read_config(buf, sizeof(buf));
	inspect_parse_opts(buf, n, o);
	if (o->serial)
		o->timeout_s = 0;
}
