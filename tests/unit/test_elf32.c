/*
 * test_elf32.c: the loader's ELF32 validator and loader (efi/elf32.c) on
 * hand-made images. The embedded kernel is our own build output, but the
 * loader still treats it as untrusted bytes: every corruption below must be
 * refused with its reason, and a valid image must be laid out exactly as
 * its program headers say (.bss zeroed, gaps zeroed, page permissions).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "../../efi/elf32.h"

static uint8_t img[0x3000];

/* text: 0x100 bytes at 0xC0100000 (R X); data: 0x20 bytes + 0x1000 bss at 0xC0101000 (RW) */
static struct elf32_ehdr *make_image(void)
{
	memset(img, 0, sizeof(img));
	struct elf32_ehdr *eh = (struct elf32_ehdr *)img;
	memcpy(eh->ident, "\x7f" "ELF\x01\x01\x01", 7);
	eh->type = 2;
	eh->machine = 3;
	eh->version = 1;
	eh->entry = 0xC0100010u;
	eh->phoff = sizeof(*eh);
	eh->ehsize = sizeof(*eh);
	eh->phentsize = sizeof(struct elf32_phdr);
	eh->phnum = 3;
	struct elf32_phdr *ph = (struct elf32_phdr *)(img + eh->phoff);
	ph[0] = (struct elf32_phdr){ 1, 0x1000, 0xC0100000u, 0, 0x100, 0x100, 5, 0x1000 };
	ph[1] = (struct elf32_phdr){ 4, 0, 0, 0, 0, 0, 4, 4 };   /* PT_NOTE: ignored */
	ph[2] = (struct elf32_phdr){ 1, 0x2000, 0xC0101000u, 0, 0x20, 0x1020, 6, 0x1000 };
	memset(img + 0x1000, 0x90, 0x100);
	memset(img + 0x2000, 0x11, 0x20);
	return eh;
}

static struct elf32_phdr *phdrs(void)
{
	return (struct elf32_phdr *)(img + sizeof(struct elf32_ehdr));
}

static void test_valid_image(void **state)
{
	(void)state;
	make_image();
	struct elf32_plan p;
	assert_null(elf32_plan(img, sizeof(img), &p));
	assert_int_equal(p.nseg, 2);
	assert_int_equal(p.va_lo, 0xC0100000u);
	assert_int_equal(p.va_hi, 0xC0103000u);          /* 0xC0102020 rounded up */
	assert_int_equal(p.entry, 0xC0100010u);
	static uint8_t dest[0x3000];
	memset(dest, 0xEE, sizeof(dest));                /* garbage must be zeroed */
	elf32_copy(&p, img, dest);
	assert_int_equal(dest[0], 0x90);
	assert_int_equal(dest[0xFF], 0x90);
	assert_int_equal(dest[0x100], 0);                /* gap after text */
	assert_int_equal(dest[0x1000], 0x11);
	assert_int_equal(dest[0x101F], 0x11);
	assert_int_equal(dest[0x1020], 0);               /* .bss */
	assert_int_equal(dest[0x2FFF], 0);
	assert_false(elf32_page_writable(&p, 0xC0100000u));
	assert_true(elf32_page_writable(&p, 0xC0101000u));
	assert_true(elf32_page_writable(&p, 0xC0102000u)); /* bss page */
	assert_false(elf32_page_writable(&p, 0xC0103000u));
}

static void expect_refused(const char *want)
{
	struct elf32_plan p;
	const char *why = elf32_plan(img, sizeof(img), &p);
	if (!why || strcmp(why, want) != 0)
		fail_msg("got '%s', want '%s'", why ? why : "(accepted)", want);
}

static void test_header_corruptions(void **state)
{
	(void)state;
	struct elf32_plan p;
	make_image();
	assert_string_equal(elf32_plan(img, 20, &p), "image shorter than an ELF header");
	make_image()->ident[1] = 'X';
	expect_refused("no ELF magic");
	make_image()->ident[4] = 2;
	expect_refused("not ELF32 little-endian");
	make_image()->machine = 62;
	expect_refused("not an i386 executable");
	make_image()->type = 3;
	expect_refused("not an i386 executable");
	make_image()->phentsize = 40;
	expect_refused("bad program header size/count");
	make_image()->phnum = 0;
	expect_refused("bad program header size/count");
	make_image()->phoff = sizeof(img) - 40;
	expect_refused("program headers outside the image");
	make_image()->phoff = 0xFFFFFFF0u;                /* no 32-bit wrap */
	expect_refused("program headers outside the image");
}

static void test_segment_corruptions(void **state)
{
	(void)state;
	make_image();
	phdrs()[2].filesz = 0x2000;                       /* > memsz */
	expect_refused("segment outside the image");
	make_image();
	phdrs()[0].offset = sizeof(img) - 0x10;           /* past the end */
	expect_refused("segment outside the image");
	make_image();
	phdrs()[0].vaddr = 0x00100000u;                   /* low half */
	expect_refused("segment outside the kernel's higher half");
	make_image();
	phdrs()[2].vaddr = 0xFFBFF000u;                   /* into the recursive slot */
	expect_refused("segment outside the kernel's higher half");
	make_image();
	phdrs()[2].vaddr = 0xC0100080u;                   /* overlaps text */
	expect_refused("segments overlap or are not in address order");
	make_image()->entry = 0xC0100200u;                /* in the gap */
	expect_refused("entry point outside the loaded segments");
	make_image();
	phdrs()[0].type = 0;
	phdrs()[2].type = 0;
	expect_refused("no PT_LOAD segment");
}

static void test_too_many_segments(void **state)
{
	(void)state;
	struct elf32_ehdr *eh = make_image();
	eh->phnum = ELF32_MAX_SEGS + 1;
	struct elf32_phdr *ph = phdrs();
	for (uint32_t i = 0; i < eh->phnum; i++)
		ph[i] = (struct elf32_phdr){ 1, 0x1000, 0xC0100000u + i * 0x1000, 0, 0x10, 0x10, 5, 0x1000 };
	expect_refused("too many PT_LOAD segments");
	eh->phnum = ELF32_MAX_SEGS;
	struct elf32_plan p;
	eh->entry = 0xC0100000u;
	assert_null(elf32_plan(img, sizeof(img), &p));
	assert_int_equal(p.nseg, ELF32_MAX_SEGS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_image),
		cmocka_unit_test(test_header_corruptions),
		cmocka_unit_test(test_segment_corruptions),
		cmocka_unit_test(test_too_many_segments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
