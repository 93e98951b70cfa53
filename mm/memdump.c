/*
 * The memory-map dump format (include/mmboot/memdump.h): sealing a header
 * (loader) and checking a dump (host tool, tests, anything reading one).
 *
 * Portable mm/ code: no libc, no tables in writable memory, no 64-bit
 * division (the i386 kernel build has no libgcc). The CRC-32 is the bitwise
 * reflected IEEE form (polynomial 0xEDB88320): slow per byte but maps are a
 * few KiB, and it needs no table.
 *
 * memdump_check() never reads past len and reports the offset of the first
 * problem; every check happens before the field it guards is trusted.
 */
#include <mmboot/memdump.h>
#include <mmboot/efi_memdesc.h>
#include <mmboot/mm_env.h>

uint32_t memdump_crc32(uint32_t crc, const void *data, uint64_t len)
{
	const uint8_t *p = data;
	crc = ~crc;
	for (uint64_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

void memdump_seal(struct memdump_header *h, uint32_t desc_size, uint32_t desc_version,
                  uint32_t entry_count, const void *descs)
{
	mm_memcpy(h->magic, MEMDUMP_MAGIC, 8);
	h->version = MEMDUMP_VERSION;
	h->header_size = MEMDUMP_HEADER_SIZE;
	h->desc_size = desc_size;
	h->desc_version = desc_version;
	h->entry_count = entry_count;
	h->data_crc = memdump_crc32(0, descs, (uint64_t)desc_size * entry_count);
	h->header_crc = 0;
	h->header_crc = memdump_crc32(0, h, sizeof(*h));
}

static bool memdump_strings_ok(const struct memdump_header *h, uint64_t *offset)
{
	static const struct { uint32_t off, len; } f[] = {
		{ __builtin_offsetof(struct memdump_header, fw_vendor), 64 },
		{ __builtin_offsetof(struct memdump_header, smbios_manufacturer), 64 },
		{ __builtin_offsetof(struct memdump_header, smbios_product), 64 },
		{ __builtin_offsetof(struct memdump_header, smbios_version), 64 },
		{ __builtin_offsetof(struct memdump_header, bios_vendor), 64 },
		{ __builtin_offsetof(struct memdump_header, bios_version), 64 },
		{ __builtin_offsetof(struct memdump_header, bios_date), 32 },
	};
	const char *base = (const char *)h;
	for (uint32_t i = 0; i < ARRAY_SIZE(f); i++)
		if (base[f[i].off + f[i].len - 1] != '\0') {
			*offset = f[i].off;
			return false;
		}
	return true;
}

/* Header fields, in the order memdump.h lists the checks. */
static enum memdump_err memdump_check_header(const struct memdump_header *h, uint64_t len,
                                             uint64_t *offset)
{
	*offset = 0;
	if (mm_memcmp(h->magic, MEMDUMP_MAGIC, 8) != 0)
		return MEMDUMP_E_MAGIC;
	*offset = __builtin_offsetof(struct memdump_header, version);
	if (h->version == 0 || h->version > MEMDUMP_VERSION)
		return MEMDUMP_E_VERSION;
	*offset = __builtin_offsetof(struct memdump_header, header_size);
	if (h->header_size < MEMDUMP_HEADER_SIZE || h->header_size > 65536 || h->header_size > len)
		return MEMDUMP_E_HEADER_SIZE;
	struct memdump_header z = *h;
	z.header_crc = 0;
	*offset = __builtin_offsetof(struct memdump_header, header_crc);
	if (memdump_crc32(0, &z, sizeof(z)) != h->header_crc)
		return MEMDUMP_E_HEADER_CRC;
	*offset = __builtin_offsetof(struct memdump_header, desc_size);
	/* any size from the 40-byte UEFI descriptor up: the spec asks the
	 * firmware for no alignment of DescriptorSize, and the loader accepts
	 * whatever it reports */
	if (h->desc_size < sizeof(struct efi_memdesc) || h->desc_size > MEMDUMP_MAX_DESC)
		return MEMDUMP_E_DESC_SIZE;
	*offset = __builtin_offsetof(struct memdump_header, entry_count);
	if (h->entry_count > MEMDUMP_MAX_ENTRIES)
		return MEMDUMP_E_COUNT;
	if (!memdump_strings_ok(h, offset))
		return MEMDUMP_E_STRING;
	return MEMDUMP_OK;
}

enum memdump_err memdump_check(const void *data, uint64_t len, uint64_t *offset)
{
	struct memdump_header h;
	*offset = len;
	if (len < sizeof(h))
		return len >= 8 && mm_memcmp(data, MEMDUMP_MAGIC, 8) != 0 ? MEMDUMP_E_MAGIC
		                                                          : MEMDUMP_E_SHORT;
	mm_memcpy(&h, data, sizeof(h));
	enum memdump_err e = memdump_check_header(&h, len, offset);
	if (e != MEMDUMP_OK)
		return e;
	uint64_t need = (uint64_t)h.header_size + (uint64_t)h.desc_size * h.entry_count;
	*offset = len;
	if (len < need)
		return MEMDUMP_E_TRUNCATED;
	*offset = need;
	if (len > need)
		return MEMDUMP_E_TRAILING;
	*offset = h.header_size;
	if (memdump_crc32(0, (const uint8_t *)data + h.header_size, need - h.header_size) !=
	    h.data_crc)
		return MEMDUMP_E_DATA_CRC;
	return MEMDUMP_OK;
}

const char *memdump_strerror(enum memdump_err e)
{
	switch (e) {
	case MEMDUMP_OK:            return "ok";
	case MEMDUMP_E_SHORT:       return "truncated: shorter than the 512-byte header";
	case MEMDUMP_E_MAGIC:       return "not an mmboot dump (bad magic)";
	case MEMDUMP_E_VERSION:     return "unsupported dump version";
	case MEMDUMP_E_HEADER_SIZE: return "bad header size";
	case MEMDUMP_E_HEADER_CRC:  return "header checksum mismatch (garbled header)";
	case MEMDUMP_E_DESC_SIZE:   return "bad descriptor size (must be 40..4096)";
	case MEMDUMP_E_COUNT:       return "too many entries";
	case MEMDUMP_E_TRUNCATED:   return "truncated: file ends inside the descriptors";
	case MEMDUMP_E_TRAILING:    return "unexpected bytes after the last descriptor";
	case MEMDUMP_E_DATA_CRC:    return "descriptor checksum mismatch (garbled descriptors)";
	case MEMDUMP_E_STRING:      return "header string not NUL-terminated";
	}
	return "unknown dump error";
}
