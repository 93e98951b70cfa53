/*
 * The machine part of a dump's file name (inspect_machine_name,
 * efi/inspect.h). Portable, host-tested (tests/unit/test_inspect_name.c).
 *
 *   <Manufacturer>_<Product>              the model (SMBIOS type 1)
 *   ..._SN<serial>                        the machine: type 1 serial number
 *   ..._UUID<32 hex digits>               or, when the serial is empty or a
 *                                         placeholder, the type 1 UUID
 *
 * Letters and digits are kept, every run of anything else becomes one '_'
 * (FAT long names, shell-friendly); the model part is cut at 48
 * characters, the serial at 32. A placeholder serial is one of the strings
 * firmware vendors leave in unconfigured boards ("To be filled by O.E.M.",
 * "Default string", "System Serial Number", "Not Specified", ...; compared
 * on letters and digits only, any case) or a serial made of one repeated
 * character ("0000000", "........"). A UUID of all 00 or all FF bytes, or
 * the well-known 03000200-0400-0500-0006-000700080009 of unconfigured AMI
 * boards, is not used either. With neither, the name is the model only, as
 * before (QEMU without -smbios type=1,serial=... or -uuid).
 *
 * The UUID is written in the usual text order: from SMBIOS 2.6 on the
 * first three fields are stored little-endian (swapped back here).
 */
#include <mmboot/mm_env.h>
#include "inspect.h"

#define NAME_MODEL_MAX  48u
#define NAME_SERIAL_MAX 32u

static int name_alnum(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static char name_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Append src sanitized to dst[*n], at most lim characters in total. */
static void name_put(char *dst, uint32_t *n, uint32_t lim, const char *src)
{
	for (const char *c = src; *c && *n < lim; c++) {
		char ch = name_alnum(*c) ? *c : '_';
		if (ch == '_' && (*n == 0 || dst[*n - 1] == '_'))
			continue;
		dst[(*n)++] = ch;
	}
	while (*n > 0 && dst[*n - 1] == '_')
		(*n)--;
}

/* s's letters and digits, lower case, equal to lit's? */
static int name_same_alnum(const char *s, const char *lit)
{
	for (;;) {
		while (*s && !name_alnum(*s))
			s++;
		while (*lit && !name_alnum(*lit))
			lit++;
		if (!*s || !*lit)
			return !*s && !*lit;
		if (name_lower(*s++) != name_lower(*lit++))
			return 0;
	}
}

int inspect_serial_placeholder(const char *s)
{
	static const char *const junk[] = {
		"To be filled by O.E.M.", "Default string", "System Serial Number",
		"Not Specified", "Not Applicable", "None", "N/A", "OEM", "O.E.M.",
		"Chassis Serial Number", "Serial Number", "SerNum", "0123456789",
		"123456789", "1234567890", "Unknown", "Invalid", "Empty",
	};
	uint32_t k = 0, same = 1;
	for (; s[k]; k++)
		if (s[k] != s[0])
			same = 0;
	if (k == 0 || same)
		return 1;
	for (uint32_t i = 0; i < ARRAY_SIZE(junk); i++)
		if (name_same_alnum(s, junk[i]))
			return 1;
	return 0;
}

static int name_uuid_ok(const struct smbios_ids *ids)
{
	static const uint8_t ami[16] = { 0x00, 0x02, 0x00, 0x03, 0x00, 0x04, 0x00, 0x05,
	                                 0x00, 0x06, 0x00, 0x07, 0x00, 0x08, 0x00, 0x09 };
	uint32_t zero = 1, ones = 1;
	if (!ids->has_uuid)
		return 0;
	for (uint32_t i = 0; i < 16; i++) {
		zero &= ids->uuid[i] == 0x00;
		ones &= ids->uuid[i] == 0xFF;
	}
	return !zero && !ones && mm_memcmp(ids->uuid, ami, 16) != 0;
}

/* 32 hex digits, text order (fields 1-3 swapped from SMBIOS 2.6 on). */
static void name_uuid_hex(const struct smbios_ids *ids, char *hex)
{
	static const uint8_t le[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
	static const char digit[] = "0123456789abcdef";
	for (uint32_t i = 0; i < 16; i++) {
		uint8_t b = ids->uuid[ids->smbios_rev >= 0x0206 ? le[i] : i];
		hex[2 * i] = digit[b >> 4];
		hex[2 * i + 1] = digit[b & 15];
	}
	hex[32] = '\0';
}

void inspect_machine_name(const struct memdump_header *h, const struct smbios_ids *ids,
                          char *dst, uint32_t cap)
{
	uint32_t n = 0, lim = cap - 1;
	char hex[33];
	name_put(dst, &n, lim < NAME_MODEL_MAX ? lim : NAME_MODEL_MAX, h->smbios_manufacturer);
	if (n > 0 && n < lim)
		dst[n++] = '_';
	name_put(dst, &n, lim < NAME_MODEL_MAX ? lim : NAME_MODEL_MAX, h->smbios_product);
	if (n == 0)
		for (const char *c = "unknown"; *c && n < lim; c++)
			dst[n++] = *c;
	const char *tag = 0, *id = 0;
	if (ids && ids->serial[0] && !inspect_serial_placeholder(ids->serial))
		tag = "_SN", id = ids->serial;
	else if (ids && name_uuid_ok(ids)) {
		name_uuid_hex(ids, hex);
		tag = "_UUID", id = hex;
	}
	if (tag && n + 6 < lim) {
		uint32_t at = n;
		for (const char *c = tag; *c; c++)
			dst[n++] = *c;
		uint32_t before = n, end = n + NAME_SERIAL_MAX < lim ? n + NAME_SERIAL_MAX : lim;
		while (*id && !name_alnum(*id))
			id++;
		name_put(dst, &n, end, id);
		if (n == before)
			n = at;                   /* nothing usable in it */
	}
	dst[n] = '\0';
}
