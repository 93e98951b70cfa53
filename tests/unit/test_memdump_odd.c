/*
 * The dump format with descriptor sizes UEFI allows but that are not a
 * multiple of 8 (mm/memdump.c, tools/memmap/parse_dump.c). The loader
 * accepts any DescriptorSize from 40 to 4096; a dump written from such a
 * firmware must read back. For desc_size 40, 44, 47, 48 and 4095:
 *   - descriptors laid out at that stride (the bytes after the 40-byte
 *     struct filled with junk a reader must skip), sealed with
 *     memdump_seal and written as the loader writes them (header, then
 *     the descriptors: efi/save.c);
 *   - memdump_check says OK;
 *   - mapfile_parse reads the same entries (start, end, type, attributes)
 *     in the same order, under ASan+UBSan (descriptors are unaligned in
 *     the file at odd sizes);
 * and sizes 39 and 4097 are refused with MEMDUMP_E_DESC_SIZE at offset 16.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <mmboot/memdump.h>
#include <mmboot/efi_memdesc.h>
#include "../../tools/memmap/mapfile.h"

#define N 6u

static const struct efi_memdesc descs[N] = {
	{ 7, 0, 0x0, 0, 0xA0, 0xF },
	{ 0, 0, 0xA0000, 0, 0x60, 0x1 },
	{ 7, 0, 0x100000, 0, 0x7EF00, 0xF },
	{ 4, 0, 0x7F000000, 0, 0x800, 0xF },
	{ 5, 0, 0x7F800000, 0, 0x10, 0x800000000000000Full },
	{ 11, 0, 0xFFC00000, 0, 0x400, 0x8000000000000001ull },
};

/* header + N descriptors of size ds, as efi/save.c writes them */
static uint8_t *write_dump(uint32_t ds, size_t *len)
{
	struct memdump_header h;
	uint8_t *d = malloc((size_t)ds * N), *f;
	for (uint32_t i = 0; i < N; i++) {
		memset(d + (size_t)i * ds, 0xA5, ds);         /* firmware's extra bytes */
		memcpy(d + (size_t)i * ds, &descs[i], sizeof(descs[i]));
	}
	memset(&h, 0, sizeof(h));
	strcpy(h.smbios_manufacturer, "Odd");
	strcpy(h.smbios_product, "Firmware");
	h.flags = MEMDUMP_F_SMBIOS;
	memdump_seal(&h, ds, 1, N, d);
	*len = sizeof(h) + (size_t)ds * N;
	f = malloc(*len);
	memcpy(f, &h, sizeof(h));
	memcpy(f + sizeof(h), d, (size_t)ds * N);
	free(d);
	return f;
}

static void round_trip(uint32_t ds)
{
	size_t len;
	uint64_t off = 0;
	uint8_t *f = write_dump(ds, &len);
	struct mapfile mf;
	char err[256];
	assert_int_equal(memdump_check(f, len, &off), MEMDUMP_OK);
	memset(&mf, 0, sizeof(mf));
	assert_int_equal(mapfile_parse("odd.map", f, len, &mf, err, sizeof(err)), 0);
	assert_int_equal(mf.format, MAPFILE_MMBOOT_DUMP);
	assert_int_equal(mf.hdr.desc_size, ds);
	assert_int_equal(mf.n, N);
	for (uint32_t i = 0; i < N; i++) {
		assert_int_equal(mf.in[i].start, descs[i].phys_start);
		assert_int_equal(mf.in[i].end, descs[i].phys_start + (descs[i].num_pages << 12));
		assert_int_equal(mf.in[i].type, descs[i].type);
		assert_int_equal(mf.in[i].attr, descs[i].attribute);
	}
	assert_string_equal(mf.machine, "Odd Firmware");
	mapfile_free(&mf);
	free(f);
}

static void test_sizes(void **state)
{
	static const uint32_t ok[] = { 40, 44, 47, 48, 4095 };
	(void)state;
	for (unsigned i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		round_trip(ok[i]);
}

static void test_refused(void **state)
{
	static const uint32_t bad[] = { 39, 4097 };
	(void)state;
	for (unsigned i = 0; i < 2; i++) {
		size_t len;
		uint64_t off = 0;
		uint8_t *f = write_dump(bad[i] < 40 ? 40 : bad[i], &len);
		struct memdump_header h;
		memcpy(&h, f, sizeof(h));
		h.desc_size = bad[i];                         /* re-seal the header only */
		h.header_crc = 0;
		h.header_crc = memdump_crc32(0, &h, sizeof(h));
		memcpy(f, &h, sizeof(h));
		assert_int_equal(memdump_check(f, len, &off), MEMDUMP_E_DESC_SIZE);
		assert_int_equal(off, 16);
		free(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
