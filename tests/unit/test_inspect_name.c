/*
 * Host tests of the dump file names (efi/inspect_name.c) and of the SMBIOS
 * reader's machine identity (inspect_smbios_ids, efi/inspect_smbios.c):
 *   - the name is <manufacturer>_<product>_SN<serial>; runs of anything
 *     but letters and digits become one '_';
 *   - a placeholder serial ("To be filled by O.E.M.", "Default string",
 *     "0000000", ...) is replaced by the UUID in text order (SMBIOS >= 2.6
 *     swaps the first three fields), an all-zero/all-FF/AMI-placeholder
 *     UUID is not used, and with neither the name is the model alone (what
 *     QEMU gives without -smbios type=1,serial=...);
 *   - no SMBIOS: "unknown"; the name never exceeds cap - 1 characters;
 *   - a hand-built SMBIOS 3 table: serial and UUID of type 1 and the
 *     "mmboot:" type 11 OEM strings (others ignored) are read back.
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

static struct memdump_header hdr(const char *man, const char *prod)
{
	struct memdump_header h;
	memset(&h, 0, sizeof(h));
	strcpy(h.smbios_manufacturer, man);
	strcpy(h.smbios_product, prod);
	return h;
}

static const uint8_t uuid1[16] = { 0x78, 0x56, 0x34, 0x12, 0xbc, 0x9a, 0xf0, 0xde,
                                   0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };

static void test_names(void **state)
{
	struct memdump_header h = hdr("Dell Inc.", "OptiPlex 7010");
	struct smbios_ids ids;
	char name[96];
	(void)state;
	memset(&ids, 0, sizeof(ids));
	strcpy(ids.serial, "4X2-Y3Z1");
	inspect_machine_name(&h, &ids, name, sizeof(name));
	assert_string_equal(name, "Dell_Inc_OptiPlex_7010_SN4X2_Y3Z1");
	strcpy(ids.serial, "To Be Filled By O.E.M.");
	memcpy(ids.uuid, uuid1, 16);
	ids.has_uuid = 1;
	ids.smbios_rev = 0x0208;
	inspect_machine_name(&h, &ids, name, sizeof(name));
	assert_string_equal(name, "Dell_Inc_OptiPlex_7010_UUID12345678"
	                          "9abcdef00123456789abcdef");
	ids.smbios_rev = 0x0205;                 /* before 2.6: bytes as stored */
	inspect_machine_name(&h, &ids, name, sizeof(name));
	assert_string_equal(name, "Dell_Inc_OptiPlex_7010_UUID78563412bc9af0de0123456789abcdef");
}

static void test_placeholders(void **state)
{
	static const char *const junk[] = { "To be filled by O.E.M.", "Default string", "0000000",
	                                    "System Serial Number", "Not Specified", "  ", "........",
	                                    "0123456789", "none" };
	static const char *const real[] = { "PF2ABCDE", "C02XK0ABJG5H", "MMB-TEST 42", "5CG1234XYZ" };
	(void)state;
	for (unsigned i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		assert_true(inspect_serial_placeholder(junk[i]));
	for (unsigned i = 0; i < sizeof(real) / sizeof(real[0]); i++)
		assert_false(inspect_serial_placeholder(real[i]));
}

static void test_fallbacks(void **state)
{
	struct memdump_header h = hdr("QEMU", "Standard PC (Q35 + ICH9, 2009)");
	struct smbios_ids ids;
	char name[96], small[12];
	(void)state;
	memset(&ids, 0, sizeof(ids));
	ids.has_uuid = 1;                         /* all-zero UUID: QEMU without -uuid */
	inspect_machine_name(&h, &ids, name, sizeof(name));
	assert_string_equal(name, "QEMU_Standard_PC_Q35_ICH9_2009");
	memset(ids.uuid, 0xFF, 16);
	inspect_machine_name(&h, &ids, name, sizeof(name));
	assert_string_equal(name, "QEMU_Standard_PC_Q35_ICH9_2009");
	inspect_machine_name(&h, NULL, name, sizeof(name));
	assert_string_equal(name, "QEMU_Standard_PC_Q35_ICH9_2009");
	strcpy(ids.serial, "MMB-TEST 42");
	inspect_machine_name(&h, &ids, name, sizeof(name));
	assert_string_equal(name, "QEMU_Standard_PC_Q35_ICH9_2009_SNMMB_TEST_42");
	inspect_machine_name(&h, &ids, small, sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	struct memdump_header none = hdr("", "");
	memset(&ids, 0, sizeof(ids));
	inspect_machine_name(&none, &ids, name, sizeof(name));
	assert_string_equal(name, "unknown");
	memset(ids.serial, 'A', sizeof(ids.serial) - 1);
	ids.serial[10] = 'B';                     /* 63 characters: cut at 32 */
	inspect_machine_name(&h, &ids, name, sizeof(name));
	assert_int_equal(strlen(name), strlen("QEMU_Standard_PC_Q35_ICH9_2009_SN") + 32);
}

/* --- inspect_smbios_ids on a hand-built SMBIOS 3 table --------------------- */
static uint8_t *table;
static uint32_t table_len;

static void add_struct(uint8_t type, const uint8_t *fmt, uint8_t fmt_len, const char *const *strs,
                       int nstr)
{
	smbios_add_struct(table, &table_len, type, fmt, fmt_len, strs, nstr);
}

static void test_ids(void **state)
{
	static const char *const sys[] = { "ACME", "Box", "1.0", "SN-0042" };
	static const char *const oem[] = { "vendor thing", "mmboot:timeout=0", "mmboot:nosave" };
	uint8_t f1[0x19 - 4] = { 1, 2, 3, 4 };     /* ..., serial 4 at [7], UUID at [8] */
	uint8_t f11[1] = { 3 };
	uint8_t ep[32] = { 0 }, s = 0;
	struct smbios_ids ids;
	(void)state;
	table = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
	             -1, 0);
	assert_true(table != MAP_FAILED);
	memcpy(f1 + 4, uuid1, 16);
	table_len = 0;
	add_struct(1, f1, sizeof(f1), sys, 4);
	add_struct(11, f11, 1, oem, 3);
	add_struct(127, NULL, 0, NULL, 0);
	uint64_t addr = (uint64_t)(uintptr_t)table;
	memcpy(ep, "_SM3_", 5);
	ep[6] = 0x18, ep[7] = 3, ep[8] = 2;
	memcpy(ep + 12, &table_len, 4);
	memcpy(ep + 16, &addr, 8);
	for (int i = 0; i < 0x18; i++)
		s = (uint8_t)(s + ep[i]);
	ep[5] = (uint8_t)(0x100 - s);
	assert_int_equal(inspect_smbios_ids(ep, &ids), 0);
	assert_string_equal(ids.serial, "SN-0042");
	assert_int_equal(ids.has_uuid, 1);
	assert_memory_equal(ids.uuid, uuid1, 16);
	assert_int_equal(ids.smbios_rev, 0x0302);
	assert_string_equal(ids.oem_opts, "timeout=0 nosave ");
	ep[0] = 'X';                              /* bad anchor: refused, all zero */
	assert_int_equal(inspect_smbios_ids(ep, &ids), -1);
	assert_int_equal(ids.serial[0], 0);
	assert_int_equal(ids.has_uuid, 0);
	munmap(table, 4096);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_placeholders),
		cmocka_unit_test(test_fallbacks),
		cmocka_unit_test(test_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
