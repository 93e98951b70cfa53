/*
 * test_bootinfo.c: the boot-info wire format (include/mmboot/bootinfo.h).
 *
 * The header's _Static_asserts already fail the loader (x86_64), kernel
 * (i386) and this (host) build on a layout drift; these tests restate the
 * layout at run time field by field (so a failure names the field), check
 * that every 64-bit field is 8-byte aligned (same offsets on i386, where
 * uint64_t is only 4-aligned inside structs), and drive bootinfo_check()
 * through each reason it refuses a block.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <mmboot/bootinfo.h>

struct field {
	const char *name;   /* field name */
	size_t off;         /* expected offset */
	size_t size;        /* its size */
	size_t actual;      /* offsetof */
};

#define F(name, off) { #name, off, sizeof(((struct bootinfo *)0)->name), offsetof(struct bootinfo, name) }
static const struct field fields[] = {
	F(magic, 0), F(version, 4), F(size, 8), F(total_size, 12), F(bi_pa, 16), F(bi_va, 24),
	F(flags, 28), F(mmap_offset, 32), F(mmap_size, 36), F(mmap_capacity, 40),
	F(mmap_desc_size, 44), F(mmap_desc_version, 48), F(mmap_count, 52), F(exitbs_tries, 56),
	F(reserved0, 60), F(kernel_pa, 64), F(kernel_size, 72), F(kernel_va, 76),
	F(kernel_entry, 80), F(boot_va_end, 84), F(page_dir_pa, 88), F(reserved1, 96),
	F(pt_count, 104), F(reserved2, 108), F(stack_pa, 112), F(stack_va, 120),
	F(stack_size, 124), F(trampoline_pa, 128), F(loader_image_pa, 136),
	F(loader_image_size, 144), F(fb_pa, 152), F(fb_size, 160), F(fb_width, 168),
	F(fb_height, 172), F(fb_pitch, 176), F(fb_format, 180), F(fb_mask_red, 184),
	F(fb_mask_green, 188), F(fb_mask_blue, 192), F(fb_mask_reserved, 196), F(acpi_rsdp, 200),
	F(smbios, 208), F(smbios3, 216), F(fw_revision, 224), F(uefi_revision, 228),
	F(fw_vendor, 232), F(tsc, 296), F(ext, 392),
	F(transient_count, 648), F(transient_pages, 652), F(transient_taken, 656),
	F(transient_unlisted, 660), F(transient, 664),
};

static void test_layout(void **state)
{
	(void)state;
	size_t covered = 0;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (fields[i].actual != fields[i].off)
			fail_msg("field %s at %zu, expected %zu", fields[i].name, fields[i].actual,
			         fields[i].off);
		if (fields[i].size == 8 && fields[i].off % 8 != 0)
			fail_msg("64-bit field %s not 8-aligned", fields[i].name);
		/* fields are listed in order and leave no hole */
		assert_int_equal(fields[i].off, covered);
		covered = fields[i].off + fields[i].size;
	}
	assert_int_equal(covered, sizeof(struct bootinfo));
	assert_int_equal(sizeof(struct bootinfo), 1688);
	assert_int_equal(sizeof(((struct bootinfo *)0)->transient), BOOTINFO_TRANSIENT_MAX * 16);
	assert_int_equal(offsetof(struct bootinfo_range, pa), 0);
	assert_int_equal(offsetof(struct bootinfo_range, pages), 8);
	assert_int_equal(offsetof(struct bootinfo_range, kind), 12);
	assert_int_equal(sizeof(struct bootinfo) % 8, 0);
	assert_true(BI_TSC_COUNT <= BOOTINFO_TSC_MAX);
}

/* A consistent block: header + 4 descriptors of 48 bytes at offset 4096. */
static void make_valid(struct bootinfo *bi, uint32_t va)
{
	memset(bi, 0, sizeof(*bi));
	bi->magic = BOOTINFO_MAGIC;
	bi->version = BOOTINFO_VERSION;
	bi->size = sizeof(*bi);
	bi->total_size = 8192;
	bi->bi_va = va;
	bi->mmap_offset = 4096;
	bi->mmap_capacity = 4096;
	bi->mmap_desc_size = 48;
	bi->mmap_count = 4;
	bi->mmap_size = 4 * 48;
}

static void test_check_accepts_valid(void **state)
{
	(void)state;
	struct bootinfo bi;
	make_valid(&bi, 0xC0120000u);
	assert_null(bootinfo_check(&bi, 0xC0120000u));
}

static void test_check_refuses(void **state)
{
	(void)state;
	struct bootinfo bi;
	static const char *const want[] = {
		"bad magic", "unknown version", "header smaller than this kernel expects",
		"inconsistent block size or address", "inconsistent block size or address",
		"inconsistent memory map fields", "inconsistent memory map fields",
		"inconsistent memory map fields", "inconsistent memory map fields",
		"too many transient ranges", "unknown version",
	};
	for (int i = 0; i < 11; i++) {
		make_valid(&bi, 0xC0120000u);
		switch (i) {
		case 0: bi.magic ^= 1; break;
		case 1: bi.version = BOOTINFO_VERSION + 1; break;
		case 2: bi.size = sizeof(bi) - 8; break;
		case 3: bi.total_size = 100; break;
		case 4: bi.bi_va = 0xC0121000u; break;
		case 5: bi.mmap_desc_size = 24; break;
		case 6: bi.mmap_offset = 16; break;
		case 7: bi.mmap_capacity = 8192; break;
		case 8: bi.mmap_count = 5; break;
		case 9: bi.transient_count = BOOTINFO_TRANSIENT_MAX + 1; break;
		case 10: bi.version = 1; break;   /* v1: firmware page-table pool, no transient[] */
		}
		const char *why = bootinfo_check(&bi, 0xC0120000u);
		if (!why || strcmp(why, want[i]) != 0)
			fail_msg("case %d: got '%s', want '%s'", i, why ? why : "(accepted)", want[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_check_accepts_valid),
		cmocka_unit_test(test_check_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
