/*
 * SMBIOS identity strings for the memory-map dump header: type 0 (BIOS
 * vendor, version, release date) and type 1 (system manufacturer, product,
 * version), from the 64-bit ("_SM3_", preferred) or 32-bit ("_SM_") entry
 * point; and (inspect_smbios_ids) what tells one machine from another of
 * the same model, type 1's serial number [7] and UUID [8..23], plus the
 * type 11 OEM strings ([4] = count) that start with "mmboot:" (options a
 * VM's harness passes, e.g. QEMU -smbios type=11,value=mmboot:timeout=0).
 *
 *   _SM_   [5] length  [6] major [7] minor  [22..23] table length (16 bit)
 *          [24..27] table address (32 bit); "_DMI_" at [16]
 *   _SM3_  [6] length  [7] major [8] minor  [12..15] table maximum size
 *          [16..23] table address (64 bit)
 *   structure: [0] type [1] formatted length [2..3] handle, then strings
 *          (NUL-terminated, the set ended by an extra NUL); string fields
 *          are 1-based indexes into that set, 0 = none
 *
 * Firmware tables are not trusted: checksums are verified and every read is
 * bounded by the table length; strings are narrowed to printable ASCII.
 * Portable (no <efi.h>): the loader reads identity-mapped memory.
 */
#include <mmboot/memdump.h>
#include <mmboot/mm_env.h>
#include "inspect.h"

#define SMBIOS_MAX_TABLE (1u << 20)   /* refuse tables above 1 MiB */

struct smbios_table {
	const uint8_t *p;             /* structure table */
	uint32_t len;                 /* its length, bytes */
};

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static int smbios_sum_ok(const uint8_t *p, uint32_t len)
{
	uint8_t s = 0;
	for (uint32_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s == 0;
}

/* Validate the entry point; fill the table and h's version fields. */
static int smbios_entry(const uint8_t *ep, struct smbios_table *t, struct memdump_header *h)
{
	if (mm_memcmp(ep, "_SM3_", 5) == 0 && ep[6] >= 0x18 && smbios_sum_ok(ep, ep[6])) {
		uint64_t addr = rd64(ep + 16);
		t->len = rd32(ep + 12);
		t->p = (const uint8_t *)(uintptr_t)addr;
		h->smbios_rev = (uint32_t)ep[7] << 8 | ep[8];
		h->smbios_entry = 3;
		return addr && addr < ((uint64_t)1 << 47) ? 0 : -1;   /* canonical, identity-mapped */
	}
	if (mm_memcmp(ep, "_SM_", 4) == 0 && ep[5] >= 0x1f && smbios_sum_ok(ep, ep[5]) &&
	    mm_memcmp(ep + 16, "_DMI_", 5) == 0) {
		t->len = rd16(ep + 22);
		t->p = (const uint8_t *)(uintptr_t)rd32(ep + 24);
		h->smbios_rev = (uint32_t)ep[6] << 8 | ep[7];
		h->smbios_entry = 2;
		return t->p ? 0 : -1;
	}
	return -1;
}

/* Copy string number idx (1-based) of the set at s..end into dst. */
static void smbios_string(const uint8_t *s, const uint8_t *end, uint8_t idx, char *dst,
                          uint32_t cap)
{
	uint32_t n = 0;
	for (uint8_t k = 1; idx && s < end && *s; k++) {
		if (k == idx) {
			for (; s < end && *s && n + 1 < cap; s++)
				dst[n++] = (*s >= 0x20 && *s < 0x7f) ? (char)*s : '?';
			break;
		}
		while (s < end && *s)
			s++;
		s++;
	}
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

/* Type 11: the "mmboot:" strings, appended to ids->oem_opts. */
static void smbios_oem(const uint8_t *p, const uint8_t *strs, const uint8_t *end,
                       struct smbios_ids *ids)
{
	char one[128];
	uint32_t n = 0;
	while (n < sizeof(ids->oem_opts) && ids->oem_opts[n])
		n++;
	for (uint32_t k = 1; k <= p[4]; k++) {
		smbios_string(strs, end, (uint8_t)k, one, sizeof(one));
		if (mm_memcmp(one, "mmboot:", 7) != 0)
			continue;
		for (const char *c = one + 7; *c && n + 2 < sizeof(ids->oem_opts); c++)
			ids->oem_opts[n++] = *c;
		ids->oem_opts[n++] = ' ';
		ids->oem_opts[n] = '\0';
	}
}

static void smbios_id_fields(const uint8_t *p, const uint8_t *strs, const uint8_t *end,
                             struct smbios_ids *ids)
{
	if (p[0] == 1 && p[1] >= 8)
		smbios_string(strs, end, p[7], ids->serial, sizeof(ids->serial));
	if (p[0] == 1 && p[1] >= 0x19) {
		mm_memcpy(ids->uuid, p + 8, 16);
		ids->has_uuid = 1;
	}
	if (p[0] == 11 && p[1] >= 5)
		smbios_oem(p, strs, end, ids);
}

/* Fields of one structure of the types we want. */
static void smbios_fields(const uint8_t *p, const uint8_t *strs, const uint8_t *end,
                          struct memdump_header *h, struct smbios_ids *ids)
{
	if (ids) {
		smbios_id_fields(p, strs, end, ids);
		return;
	}
	uint8_t type = p[0], len = p[1];
	if (type == 0 && len >= 9) {
		smbios_string(strs, end, p[4], h->bios_vendor, sizeof(h->bios_vendor));
		smbios_string(strs, end, p[5], h->bios_version, sizeof(h->bios_version));
		smbios_string(strs, end, p[8], h->bios_date, sizeof(h->bios_date));
	} else if (type == 1 && len >= 7) {
		smbios_string(strs, end, p[4], h->smbios_manufacturer, sizeof(h->smbios_manufacturer));
		smbios_string(strs, end, p[5], h->smbios_product, sizeof(h->smbios_product));
		smbios_string(strs, end, p[6], h->smbios_version, sizeof(h->smbios_version));
	}
}

/* Walk the table: h's fields, or ids' when ids is given. */
static int smbios_scan(const uint8_t *ep, struct memdump_header *h, struct smbios_ids *ids)
{
	struct smbios_table t;
	if (!ep || smbios_entry(ep, &t, h) < 0 || t.len == 0 || t.len > SMBIOS_MAX_TABLE) {
		h->smbios_rev = h->smbios_entry = 0;
		return -1;
	}
	const uint8_t *p = t.p, *end = t.p + t.len;
	while (p + 4 <= end && p[1] >= 4 && p + p[1] <= end) {
		const uint8_t *strs = p + p[1], *q = strs;
		smbios_fields(p, strs, end, h, ids);
		if (p[0] == 127)
			break;
		while (q + 1 < end && (q[0] || q[1]))   /* find the double NUL */
			q++;
		p = q + 2;
	}
	if (!ids)
		h->flags |= MEMDUMP_F_SMBIOS;
	return 0;
}

int inspect_smbios(const uint8_t *ep, struct memdump_header *h)
{
	return smbios_scan(ep, h, 0);
}

int inspect_smbios_ids(const uint8_t *ep, struct smbios_ids *ids)
{
	struct memdump_header h;
	mm_memset(&h, 0, sizeof(h));
	mm_memset(ids, 0, sizeof(*ids));
	if (smbios_scan(ep, &h, ids) < 0) {
		mm_memset(ids, 0, sizeof(*ids));
		return -1;
	}
	ids->smbios_rev = h.smbios_rev;
	return 0;
}
