/*
 * smbios_build.h: appending SMBIOS structures to a hand-built table, shared
 * by the host tests of the loader's SMBIOS reader (test_mapfile_smbios.c,
 * test_inspect_name.c). The caller owns the table memory (below 4 GiB when
 * an entry point must hold its address) and resets *len to start over.
 */
#ifndef MMBOOT_TESTS_SMBIOS_BUILD_H
#define MMBOOT_TESTS_SMBIOS_BUILD_H

#include <stdint.h>
#include <string.h>

/* Append one structure at table + *len: type, formatted bytes after the
 * 4-byte header, then its strings (or the empty string set), then the
 * terminating NUL. */
static inline void smbios_add_struct(uint8_t *table, uint32_t *len, uint8_t type,
                                     const uint8_t *fmt, uint8_t fmt_len,
                                     const char *const *strs, int nstr)
{
	uint8_t *p = table + *len;
	uint32_t n = 4u + fmt_len;
	p[0] = type;
	p[1] = (uint8_t)(4 + fmt_len);
	p[2] = p[3] = 0;
	if (fmt_len)
		memcpy(p + 4, fmt, fmt_len);
	for (int i = 0; i < nstr; i++) {
		memcpy(p + n, strs[i], strlen(strs[i]) + 1);
		n += (uint32_t)strlen(strs[i]) + 1;
	}
	if (nstr == 0)
		p[n++] = 0;
	p[n++] = 0;
	*len += n;
}

#endif
