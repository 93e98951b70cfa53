/*
 * Host tests of the loader's SMBIOS reader (efi/inspect_smbios.c, portable):
 * hand-built 32-bit ("_SM_") and 64-bit ("_SM3_") entry points with their
 * structure tables in host memory.
 *
 *   - both entry points: version, entry kind and the type 0 / type 1
 *     strings land in the dump header; trailing blanks trimmed, non-ASCII
 *     bytes shown as '?';
 *   - a bad checksum, a wrong anchor: refused, header SMBIOS fields zero;
 *   - a string index past the strings, a structure running past the table
 *     length, a missing end-of-table: no read past the table (ASan) and no
 *     garbage in the header.
 */
#define _GNU_SOURCE /* MAP_32BIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>
#include "smbios_build.h"

#include <mmboot/memdump.h>
#include "../../efi/inspect.h"

#define TABLE_CAP 512u
static uint8_t *table;            /* structure table, below 4 GiB (MAP_32BIT) */
static uint32_t table_len;        /* bytes used */

static void add_struct(uint8_t type, const uint8_t *fmt, uint8_t fmt_len, const char *const *strs,
                       int nstr)
{
	smbios_add_struct(table, &table_len, type, fmt, fmt_len, strs, nstr);
}

static void build_table(void)
{
	static const char *const bios[] = { "ACME BIOS Inc.", "R1.23  ", "11/22/2026" };
	static const char *const sys[] = { "ACME", "Board \xe9 9", "1.0" };
	uint8_t f0[14] = { 1, 2, 0, 0, 3 };    /* vendor 1, version 2, ..., date 3 (offset 8) */
	uint8_t f1[23] = { 1, 2, 3 };          /* manufacturer 1, product 2, version 3 */
	table_len = 0;
	memset(table, 0, TABLE_CAP);
	add_struct(0, f0, sizeof(f0), bios, 3);
	add_struct(1, f1, sizeof(f1), sys, 3);
	add_struct(127, NULL, 0, NULL, 0);
}

static void fix_sum(uint8_t *ep, uint32_t len, uint32_t at)
{
	uint8_t s = 0;
	ep[at] = 0;
	for (uint32_t i = 0; i < len; i++)
		s = (uint8_t)(s + ep[i]);
	ep[at] = (uint8_t)(0x100 - s);
}

static void make_ep3(uint8_t *ep, uint32_t len_field)
{
	uint64_t addr = (uint64_t)(uintptr_t)table;
	memset(ep, 0, 32);
	memcpy(ep, "_SM3_", 5);
	ep[6] = 0x18;
	ep[7] = 3;
	ep[8] = 4;
	memcpy(ep + 12, &len_field, 4);
	memcpy(ep + 16, &addr, 8);
	fix_sum(ep, 0x18, 5);
}

static void test_smbios3(void **state)
{
	uint8_t ep[32];
	struct memdump_header h;
	(void)state;
	build_table();
	make_ep3(ep, table_len);
	memset(&h, 0, sizeof(h));
	assert_int_equal(inspect_smbios(ep, &h), 0);
	assert_int_equal(h.smbios_entry, 3);
	assert_int_equal(h.smbios_rev, 0x0304);
	assert_true(h.flags & MEMDUMP_F_SMBIOS);
	assert_string_equal(h.bios_vendor, "ACME BIOS Inc.");
	assert_string_equal(h.bios_version, "R1.23");
	assert_string_equal(h.bios_date, "11/22/2026");
	assert_string_equal(h.smbios_manufacturer, "ACME");
	assert_string_equal(h.smbios_product, "Board ? 9");
	assert_string_equal(h.smbios_version, "1.0");
}

static void test_smbios2(void **state)
{
	uint8_t ep[32] = { 0 };
	struct memdump_header h;
	uint32_t addr32;
	(void)state;
	build_table();
	assert_true((uintptr_t)table < UINT32_MAX);   /* _SM_ holds a 32-bit address */
	addr32 = (uint32_t)(uintptr_t)table;
	memcpy(ep, "_SM_", 4);
	ep[5] = 0x1f;
	ep[6] = 2;
	ep[7] = 8;
	memcpy(ep + 16, "_DMI_", 5);
	ep[22] = (uint8_t)table_len;
	ep[23] = (uint8_t)(table_len >> 8);
	memcpy(ep + 24, &addr32, 4);
	fix_sum(ep, 0x1f, 4);
	memset(&h, 0, sizeof(h));
	assert_int_equal(inspect_smbios(ep, &h), 0);
	assert_int_equal(h.smbios_entry, 2);
	assert_int_equal(h.smbios_rev, 0x0208);
	assert_string_equal(h.smbios_manufacturer, "ACME");
}

static void test_bad_entry(void **state)
{
	uint8_t ep[32];
	struct memdump_header h;
	(void)state;
	build_table();
	make_ep3(ep, table_len);
	ep[10] ^= 1;                          /* checksum no longer 0 */
	memset(&h, 0, sizeof(h));
	assert_int_equal(inspect_smbios(ep, &h), -1);
	assert_int_equal(h.smbios_entry, 0);
	assert_int_equal(h.flags, 0);
	make_ep3(ep, table_len);
	ep[0] = 'X';
	assert_int_equal(inspect_smbios(ep, &h), -1);
	assert_int_equal(inspect_smbios(NULL, &h), -1);
}

static void test_hostile_table(void **state)
{
	uint8_t ep[32];
	struct memdump_header h;
	(void)state;
	build_table();
	table[4 + 0] = 9;                     /* type 0 vendor: string 9 does not exist */
	make_ep3(ep, table_len - 2);          /* table length cuts the end marker */
	memset(&h, 0, sizeof(h));
	assert_int_equal(inspect_smbios(ep, &h), 0);
	assert_string_equal(h.bios_vendor, "");
	assert_string_equal(h.bios_version, "R1.23");
	/* a table length ending inside the first structure's strings */
	make_ep3(ep, 22);
	memset(&h, 0, sizeof(h));
	assert_int_equal(inspect_smbios(ep, &h), 0);
	assert_string_equal(h.smbios_manufacturer, "");
	assert_true(strlen(h.bios_date) < sizeof(h.bios_date));
	/* a structure claiming a length past the table */
	build_table();
	table[1] = 200;
	make_ep3(ep, 60);
	memset(&h, 0, sizeof(h));
	assert_int_equal(inspect_smbios(ep, &h), 0);
	assert_string_equal(h.bios_vendor, "");
}

int main(void)
{
	table = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (table == MAP_FAILED)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smbios3),
		cmocka_unit_test(test_smbios2),
		cmocka_unit_test(test_bad_entry),
		cmocka_unit_test(test_hostile_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
