/*
 * Unit tests of the map-file parsers (tools/memmap/mapfile.h) and the
 * shared formatting and dump code (mm/memmap_fmt.c, mm/memdump.c).
 *
 *   - each format from a small inline sample: entries, ends (inclusive vs
 *     exclusive), types, attributes;
 *   - round trips: a map -> mmboot text table -> parsed back; a map -> mmboot
 *     binary dump -> parsed back; both give the same entries;
 *   - bad input: garbled lines name their line, broken dumps their offset,
 *     foreign files are refused, nothing crashes;
 *   - the real corpus (../shared/memmaps, or $MMBOOT_MEMMAPS): every raw map
 *     and its normalised form agree entry by entry, entry counts and free
 *     memory match the corpus README's table. Without the corpus the test
 *     says so and passes, unless $CI is set.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <mmboot/memdump.h>
#include <mmboot/memmap_fmt.h>
#include "../../tools/memmap/mapfile.h"

static char err[512];

static int parse_str(const char *text, struct mapfile *mf)
{
	return mapfile_parse("t.txt", text, strlen(text), mf, err, sizeof(err));
}

static void expect_entry(const struct mapfile *mf, uint32_t i, uint64_t s, uint64_t e,
                         uint32_t type, uint64_t attr)
{
	assert_true(i < mf->n);
	assert_int_equal(mf->in[i].start, s);
	assert_int_equal(mf->in[i].end, e);
	assert_int_equal(mf->in[i].type, type);
	assert_int_equal(mf->in[i].attr, attr);
}

static void test_e820_new(void **state)
{
	struct mapfile mf;
	(void)state;
	assert_int_equal(parse_str(
		"[    0.000000] BIOS-provided physical RAM map:\n"
		"[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
		"BIOS-e820: [mem 0x000000000009fc00-0x000000000009ffff] reserved\r\n"
		"[    0.000000] BIOS-e820: [mem 0x0000000100000000-0x00000001ffffffff] persistent (type 12)\n"
		"[    0.000000] BIOS-e820: [mem 0x0000000200000000-0x0000000200000fff] type 20\n", &mf), 0);
	assert_int_equal(mf.format, MAPFILE_LINUX_E820);
	assert_int_equal(mf.kind, MEMMAP_SRC_E820);
	assert_int_equal(mf.n, 4);
	expect_entry(&mf, 0, 0, 0x9fc00, 1, 0);
	expect_entry(&mf, 1, 0x9fc00, 0xa0000, 2, 0);
	expect_entry(&mf, 2, 0x100000000, 0x200000000, 12, 0);
	expect_entry(&mf, 3, 0x200000000, 0x200001000, 20, 0);
	assert_int_equal(mf.line[1], 3);
	mapfile_free(&mf);
}

static void test_e820_old(void **state)
{
	struct mapfile mf;
	(void)state;
	assert_int_equal(parse_str(
		"(XEN)  0000000000000000 - 000000000009f000 (usable)\n"
		"(XEN)  00000000cff00000 - 00000000d0000000 (ACPI NVS)\n"
		" BIOS-e820: 0000000100000000 - 0000000120000000 (unusable)\n", &mf), 0);
	assert_int_equal(mf.format, MAPFILE_LINUX_E820_OLD);
	assert_int_equal(mf.n, 3);
	expect_entry(&mf, 0, 0, 0x9f000, 1, 0);
	expect_entry(&mf, 1, 0xcff00000, 0xd0000000, 4, 0);
	expect_entry(&mf, 2, 0x100000000, 0x120000000, 5, 0);
	mapfile_free(&mf);
}

static void test_efi_new(void **state)
{
	struct mapfile mf;
	(void)state;
	assert_int_equal(parse_str(
		"efi: mem00: [Conventional Memory|   |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x0000000000000000-0x0000000000000fff] (0MB)\n"
		"efi: mem01: [Runtime Data       |RUN|  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x0000000000001000-0x0000000000100fff] (1MB)\n"
		"efi: mem02: [MMIO               |RUN|  |  |  |  |WP|  |   |WB|WT|  |UC] range=[0x00000000f0000000-0x00000000f8000000) (128MB)\n"
		"efi: mem03: [Reserved           |attr=0x070000000000000f] range=[0x000000007a700000-0x000000007a7fffff] (1MB)\n"
		"efi: mem04: [ACPI Mem NVS|   |  |CC|SP|NV|XP|RP|  |RO|UCE|  |  |  |  ] range=[0x1000000-0x1ffffff] (16MB)\n"
		"efi: mem05: [type=123|  |  |  |  |  |  |  |   |  |  |  |  ] range=[0x2000000-0x2000fff]\n", &mf), 0);
	assert_int_equal(mf.format, MAPFILE_LINUX_EFI);
	assert_int_equal(mf.kind, MEMMAP_SRC_EFI);
	assert_int_equal(mf.n, 6);
	expect_entry(&mf, 0, 0, 0x1000, 7, 0xf);
	expect_entry(&mf, 1, 0x1000, 0x101000, 6, 0x800000000000000full);
	expect_entry(&mf, 2, 0xf0000000, 0xf8000000, 11, 0x800000000000100dull);
	expect_entry(&mf, 3, 0x7a700000, 0x7a800000, 0, 0x070000000000000full);
	expect_entry(&mf, 4, 0x1000000, 0x2000000, 10,
	             EFI_MA_CPU_CRYPTO | EFI_MA_SP | EFI_MA_NV | EFI_MA_XP | EFI_MA_RP |
	             EFI_MA_RO | EFI_MA_UCE);
	expect_entry(&mf, 5, 0x2000000, 0x2001000, 123, 0);
	mapfile_free(&mf);
}

static void test_efi_old(void **state)
{
	struct mapfile mf;
	(void)state;
	assert_int_equal(parse_str(
		"[    0.000000] efi: mem00: type=7, attr=0xf, range=[0x0000000000000000-0x000000000008f000) (0MB)\n"
		"[    0.000000] efi: mem01: type=11, attr=0x8000000000000000, range=[0x00000000fec00000-0x00000000fec01000) (0MB)\n",
		&mf), 0);
	assert_int_equal(mf.format, MAPFILE_LINUX_EFI_OLD);
	expect_entry(&mf, 0, 0, 0x8f000, 7, 0xf);
	expect_entry(&mf, 1, 0xfec00000, 0xfec01000, 11, 0x8000000000000000ull);
	mapfile_free(&mf);
}

static void test_normalised(void **state)
{
	struct mapfile mf;
	(void)state;
	assert_int_equal(parse_str(
		"# source: x; machine: Some PC (notes; more); kind: efi\n"
		"0x0 0x1000 EfiBootServicesCode attr=0xf\n"
		"0x1000 0x2000 EfiType_99\n", &mf), 0);
	assert_int_equal(mf.format, MAPFILE_NORMALISED);
	assert_string_equal(mf.machine, "Some PC");
	expect_entry(&mf, 0, 0, 0x1000, 3, 0xf);
	expect_entry(&mf, 1, 0x1000, 0x2000, 99, 0);
	mapfile_free(&mf);
	/* the header's kind must agree with the types */
	assert_int_equal(parse_str("# machine: x; kind: efi\n0x0 0x1000 e820:usable\n", &mf), -1);
	assert_non_null(strstr(err, "kind"));
}

static void test_uefi_shell(void **state)
{
	struct mapfile mf;
	(void)state;
	assert_int_equal(parse_str(
		"Shell> memmap\n"
		"Type       Start            End              # Pages          Attributes\n"
		"Available  0000000000000000-000000000009FFFF 00000000000000A0 000000000000000F\n"
		"BS_Code    0000000000100000-00000000001FFFFF 0000000000000100 000000000000000F\n"
		"RT_Data    0000000000200000-0000000000200FFF 0000000000000001 800000000000000F\n"
		"reserved   0000000000201000-0000000000201FFF 0000000000000001 0000000000000000\n"
		"70000001   0000000000202000-0000000000202FFF 0000000000000001 0000000000000000\n"
		" \n"
		"  Reserved  :              1 Pages (4,096 Bytes)\n", &mf), 0);
	assert_int_equal(mf.format, MAPFILE_UEFI_SHELL);
	assert_int_equal(mf.n, 5);
	expect_entry(&mf, 0, 0, 0xa0000, 7, 0xf);
	expect_entry(&mf, 1, 0x100000, 0x200000, 3, 0xf);
	expect_entry(&mf, 2, 0x200000, 0x201000, 6, 0x800000000000000full);
	expect_entry(&mf, 3, 0x201000, 0x202000, 0, 0);
	expect_entry(&mf, 4, 0x202000, 0x203000, 0x70000001, 0);
	mapfile_free(&mf);
	assert_int_equal(parse_str("MemoryMap,\"LoaderCode\",\"1000\",\"1FFF\",\"1\",\"F\"\n", &mf), 0);
	expect_entry(&mf, 0, 0x1000, 0x2000, 1, 0xf);
	mapfile_free(&mf);
	/* as the shell writes it to a file: UTF-16LE with a byte-order mark */
	static const char text[] =
		"Type       Start            End              # Pages          Attributes\r\n"
		"BS_Data    0000000000001000-0000000000002FFF 0000000000000002 000000000000000F\r\n";
	unsigned char u16[2 + 2 * sizeof(text)];
	u16[0] = 0xff, u16[1] = 0xfe;
	for (size_t i = 0; i < sizeof(text) - 1; i++)
		u16[2 + 2 * i] = (unsigned char)text[i], u16[3 + 2 * i] = 0;
	assert_int_equal(mapfile_parse("u16.txt", u16, 2 * sizeof(text), &mf, err, sizeof(err)), 0);
	assert_int_equal(mf.format, MAPFILE_UEFI_SHELL);
	expect_entry(&mf, 0, 0x1000, 0x3000, 4, 0xf);
	mapfile_free(&mf);
}

static void test_sysfs(void **state)
{
	char dir[] = "/tmp/test_mapfile_sysfsXXXXXX", path[256];
	static const char *const v[2][3] = { { "0x0", "0x9fbff", "System RAM" },
	                                     { "0x9fc00", "0x9ffff", "Reserved" } };
	struct mapfile mf;
	(void)state;
	assert_non_null(mkdtemp(dir));
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%d", dir, i);
		assert_int_equal(mkdir(path, 0700), 0);
		for (int k = 0; k < 3; k++) {
			static const char *const name[3] = { "start", "end", "type" };
			snprintf(path, sizeof(path), "%s/%d/%s", dir, i, name[k]);
			FILE *f = fopen(path, "w");
			assert_non_null(f);
			fprintf(f, "%s\n", v[i][k]);
			fclose(f);
		}
	}
	assert_int_equal(mapfile_load(dir, &mf, err, sizeof(err)), 0);
	assert_int_equal(mf.format, MAPFILE_SYSFS);
	expect_entry(&mf, 0, 0, 0x9fc00, 1, 0);
	expect_entry(&mf, 1, 0x9fc00, 0xa0000, 2, 0);
	mapfile_free(&mf);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

/* --- round trips through mmboot's own formats ------------------------- */

static const char sample_efi[] =
	"efi: mem00: [Boot Code          |   |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x0-0xfff] (0MB)\n"
	"efi: mem01: [Conventional Memory|   |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x1000-0x9ffff] (0MB)\n"
	"efi: mem02: [Reserved           |attr=0x070000000000000f] range=[0x7a700000-0x7a7fffff] (1MB)\n"
	"efi: mem03: [type=1879048193|RUN|  |  |  |  |  |  |   |  |  |  |UC] range=[0x100000000-0x100000fff] (0MB)\n";

struct textbuf {
	char *p;                      /* text */
	size_t len, cap;              /* used, allocated */
};

static void text_emit(void *ctx, const char *line)
{
	struct textbuf *t = ctx;
	size_t n = strlen(line);
	if (t->len + n + 2 > t->cap) {
		t->cap = (t->len + n + 2) * 2;
		t->p = realloc(t->p, t->cap);
		assert_non_null(t->p);
	}
	memcpy(t->p + t->len, line, n);
	t->len += n;
	t->p[t->len++] = '\n';
	t->p[t->len] = '\0';
}

static void assert_same_entries(const struct mapfile *a, const struct mapfile *b)
{
	assert_int_equal(a->n, b->n);
	for (uint32_t i = 0; i < a->n; i++) {
		assert_int_equal(a->in[i].start, b->in[i].start);
		assert_int_equal(a->in[i].end, b->in[i].end);
		assert_int_equal(a->in[i].type, b->in[i].type);
		assert_int_equal(a->in[i].kind, b->in[i].kind);
		assert_int_equal(a->in[i].attr, b->in[i].attr);
	}
}

static void test_table_roundtrip(void **state)
{
	struct mapfile a, b;
	struct textbuf t = { 0 };
	(void)state;
	assert_int_equal(parse_str(sample_efi, &a), 0);
	struct memfmt_report r = { .machine = "Test PC", .in = a.in, .n = a.n };
	text_emit(&t, "serial noise before the report");
	memfmt_report(&r, text_emit, &t);
	assert_non_null(strstr(t.p, "OEM_0x70000001"));
	assert_non_null(strstr(t.p, "UC|WC|WT|WB|0x700000000000000"));
	assert_int_equal(mapfile_parse("table.txt", t.p, t.len, &b, err, sizeof(err)), 0);
	assert_int_equal(b.format, MAPFILE_MMBOOT_TEXT);
	assert_string_equal(b.machine, "Test PC");
	assert_same_entries(&a, &b);
	mapfile_free(&b);
	/* cut the table after two rows: the entries: line no longer matches */
	char *row2 = strstr(t.p, "\n    2 ");
	assert_non_null(row2);
	assert_int_equal(mapfile_parse("cut.txt", t.p, (size_t)(row2 - t.p) + 1, &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cut.txt:"));
	assert_non_null(strstr(err, "truncated"));
	mapfile_free(&a);
	free(t.p);
}

/* Build a dump of a's entries with descriptors of desc_size bytes. */
static uint8_t *make_dump(const struct mapfile *a, uint32_t desc_size, size_t *len)
{
	*len = MEMDUMP_HEADER_SIZE + (size_t)a->n * desc_size;
	uint8_t *buf = calloc(1, *len);
	struct memdump_header h = { 0 };
	assert_non_null(buf);
	for (uint32_t i = 0; i < a->n; i++) {
		struct efi_memdesc d = { .type = a->in[i].type, .phys_start = a->in[i].start,
		                         .num_pages = (a->in[i].end - a->in[i].start) >> 12,
		                         .attribute = a->in[i].attr };
		memcpy(buf + MEMDUMP_HEADER_SIZE + (size_t)i * desc_size, &d, sizeof(d));
	}
	h.flags = MEMDUMP_F_SMBIOS;
	strcpy(h.smbios_manufacturer, "ACME");
	strcpy(h.smbios_product, "Board 1");
	memdump_seal(&h, desc_size, 1, a->n, buf + MEMDUMP_HEADER_SIZE);
	memcpy(buf, &h, sizeof(h));
	return buf;
}

static void test_dump_roundtrip(void **state)
{
	struct mapfile a, b;
	size_t len;
	(void)state;
	assert_int_equal(parse_str(sample_efi, &a), 0);
	uint8_t *d = make_dump(&a, 48, &len);
	assert_int_equal(mapfile_parse("m.map", d, len, &b, err, sizeof(err)), 0);
	assert_int_equal(b.format, MAPFILE_MMBOOT_DUMP);
	assert_true(b.has_hdr);
	assert_int_equal(b.hdr.desc_size, 48);
	assert_string_equal(b.machine, "ACME Board 1");
	assert_same_entries(&a, &b);
	mapfile_free(&b);
	/* truncated inside the descriptors: error names the offset */
	assert_int_equal(mapfile_parse("m.map", d, len - 5, &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "m.map: offset 0x"));
	assert_non_null(strstr(err, "truncated"));
	/* one flipped bit in a descriptor: checksum error at the descriptors */
	d[MEMDUMP_HEADER_SIZE + 50] ^= 0x10;
	assert_int_equal(mapfile_parse("m.map", d, len, &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "offset 0x200"));
	d[MEMDUMP_HEADER_SIZE + 50] ^= 0x10;
	/* a flipped bit in the header */
	d[20] ^= 1;
	assert_int_equal(mapfile_parse("m.map", d, len, &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "header"));
	free(d);
	mapfile_free(&a);
}

/* Zero-length entries (Linux prints num_pages=0 as [X-(X-1)]) and ends
 * further before the start never reject the map: each parser passes them
 * through (end == start, or end < start), the sanitizer drops them with a
 * warning and the usable total is what the other entries give. */
static void expect_dropped(const char *text, uint32_t n, uint32_t iz, uint32_t ig)
{
	struct mapfile mf;
	struct memmap_range out[8];
	struct memmap_stats st;
	static uint64_t scratch[1024];
	if (parse_str(text, &mf) != 0)
		fail_msg("rejected: %s", err);
	assert_int_equal(mf.n, n);
	assert_int_equal(mf.in[iz].end, mf.in[iz].start);    /* zero length */
	assert_true(mf.in[ig].end < mf.in[ig].start);        /* garbage: wrapped */
	assert_true(memmap_scratch_size(n) <= sizeof(scratch));
	uint32_t k = memmap_sanitize(mf.in, n, out, 8, scratch, &st);
	assert_int_equal(st.dropped_empty, 1);
	assert_int_equal(st.dropped_wrap, 1);
	assert_int_equal(memmap_class_bytes(out, k, MEMMAP_USABLE, 0, UINT64_MAX), 0x9f000);
	mapfile_free(&mf);
}

static void test_empty_entries(void **state)
{
	(void)state;
	expect_dropped("BIOS-e820: [mem 0x0000000000000000-0x000000000009efff] usable\n"
	               "BIOS-e820: [mem 0x00000000000a0000-0x000000000009ffff] reserved\n"
	               "BIOS-e820: [mem 0x00000000000f0000-0x00000000000e0000] usable\n", 3, 1, 2);
	expect_dropped(" BIOS-e820: 0000000000000000 - 000000000009f000 (usable)\n"
	               " BIOS-e820: 00000000000a0000 - 00000000000a0000 (reserved)\n"
	               " BIOS-e820: 00000000000f0000 - 00000000000e0000 (usable)\n", 3, 1, 2);
	expect_dropped("efi: mem00: [Conventional Memory|   |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x0000000000000000-0x000000000009efff] (0MB)\n"
	               "efi: mem01: [Boot Data          |   |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x00000000000f0000-0x00000000000e0000] (0MB)\n"
	               "efi: mem02: [Conventional Memory|   |  |  |  |  |  |  |   |WB|WT|WC|UC] range=[0x0000000000100000-0x00000000000fffff] (0MB)\n", 3, 2, 1);
	expect_dropped("[    0.000000] efi: mem00: type=7, attr=0xf, range=[0x0000000000000000-0x000000000009f000) (0MB)\n"
	               "[    0.000000] efi: mem01: type=7, attr=0xf, range=[0x0000000000100000-0x0000000000100000) (0MB)\n"
	               "[    0.000000] efi: mem02: type=7, attr=0xf, range=[0x0000000000200000-0x0000000000100000) (0MB)\n", 3, 1, 2);
	expect_dropped("0x0 0x9f000 EfiConventionalMemory\n0x100000 0x100000 EfiConventionalMemory\n"
	               "0x200000 0x100000 EfiConventionalMemory\n", 3, 1, 2);
	expect_dropped("Type       Start            End              # Pages          Attributes\n"
	               "Available  0000000000000000-000000000009EFFF 000000000000009F 000000000000000F\n"
	               "Available  0000000000100000-00000000000FFFFF 0000000000000000 000000000000000F\n"
	               "Available  0000000000200000-00000000000FFFFF 0000000000000000 000000000000000F\n", 3, 1, 2);
}

/* --- bad input ----------------------------------------------------------- */

static void expect_error(const char *text, size_t len, const char *where)
{
	struct mapfile mf;
	assert_int_equal(mapfile_parse("bad.txt", text, len, &mf, err, sizeof(err)), -1);
	if (!strstr(err, where))
		fail_msg("error \"%s\" does not name \"%s\"", err, where);
	assert_null(mf.in);
}

static void expect_text_error(const char *text, const char *where)
{
	expect_error(text, strlen(text), where);
}

static void test_bad_input(void **state)
{
	static const char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
	(void)state;
	expect_error("", 0, "empty");
	expect_error(png, sizeof(png) - 1, "bad.txt: offset 0x");
	expect_text_error("hello world\n", "no memory map found");
	expect_text_error("BIOS-e820: [mem 0x0-0x9ffff] usable\nBIOS-e820: [mem 0xa0000-0xzz] usable\n", "bad.txt:2:");
	expect_text_error("BIOS-e820: [mem 0x0-0x9ffff] usable\ngarbage\n", "bad.txt:2:");
	expect_text_error("BIOS-e820: [mem 0x0-0x9ffff] usable\nBIOS-e820: [mem 0xa0000-0xfffff] weird\n", "unknown e820 type");
	expect_text_error("efi: mem00: type=7, attr=0xf, range=[0x0-0x1000) (0MB)\n"
	             "efi: mem02: type=7, attr=0xf, range=[0x1000-0x2000) (0MB)\n", "bad.txt:2: entry mem02 out of sequence");
	expect_text_error("efi: mem00: type=7, attr=0xf, range=[0x0-0x100000) (7MB)\n", "does not match");
	expect_text_error("BIOS-e820: [mem 0x0-0x1ffffffffffffffffff] usable\n", "bad.txt:1:");
	expect_text_error("0x0 0x1000 EfiConventionalMemory\n0x1000 0x2000 EfiNoSuchType\n", "bad.txt:2: unknown type");
}

/* --- the real corpus ------------------------------------------------------- */

static const char *corpus_dir(void)
{
	const char *d = getenv("MMBOOT_MEMMAPS");
	return d ? d : "../shared/memmaps";
}

/* Does README name column col (e.g. "a_e820 / _efi") list name? Which one? */
static int readme_name_index(const char *col, const char *name)
{
	char first[128], alt[256];
	const char *slash = strstr(col, " / ");
	size_t n = slash ? (size_t)(slash - col) : strlen(col);
	if (n >= sizeof(first))
		return -1;
	memcpy(first, col, n);
	first[n] = '\0';
	if (!strcmp(first, name))
		return 0;
	char *us = strrchr(first, '_');
	if (!slash || !us)
		return -1;
	snprintf(alt, sizeof(alt), "%.*s%s", (int)(us - first), first, slash + 3);
	return strcmp(alt, name) == 0 ? 1 : -1;
}

/* README table row "| name | entries | sorted | freeM | freeM | why |" for
 * name; a row may list two maps ("a / _b", "16 / 49"). */
static int readme_row(const char *name, unsigned *entries, unsigned long *lo, unsigned long *hi)
{
	char path[512], line[1024];
	int found = -1;
	snprintf(path, sizeof(path), "%s/README.md", corpus_dir());
	FILE *f = fopen(path, "r");
	while (f && found < 0 && fgets(line, sizeof(line), f)) {
		char *col[6], *save = NULL, *c;
		int k = 0;
		for (c = strtok_r(line, "|", &save); c && k < 6; c = strtok_r(NULL, "|", &save)) {
			while (*c == ' ')
				c++;
			c[strcspn(c, "\n")] = '\0';
			for (size_t e = strlen(c); e && c[e - 1] == ' '; e--)
				c[e - 1] = '\0';
			col[k++] = c;
		}
		int which = k == 6 ? readme_name_index(col[0], name) : -1;
		if (which < 0)
			continue;
		unsigned e0, e1 = 0;
		if (sscanf(col[1], "%u / %u", &e0, &e1) < 1 || sscanf(col[3], "%luM", lo) != 1 ||
		    sscanf(col[4], "%luM", hi) != 1)
			continue;
		if (!strcmp(col[4], "0"))
			*hi = 0;
		*entries = which ? e1 : e0;
		found = 0;
	}
	if (f)
		fclose(f);
	return found;
}

static uint64_t free_bytes(const struct mapfile *mf, int above)
{
	uint32_t cap = 2 * mf->n + 8;
	struct memmap_range *out = calloc(cap, sizeof(*out));
	void *scratch = malloc(memmap_scratch_size(mf->n) + 8);
	assert_non_null(out);
	assert_non_null(scratch);
	uint32_t n = memmap_sanitize(mf->in, mf->n, out, cap, scratch, NULL);
	uint64_t b = memmap_mask_bytes(out, n, MEMMAP_FREE_MASK, above ? PADDR_4G : 0,
	                               above ? ~(uint64_t)0 : PADDR_4G);
	free(out);
	free(scratch);
	return b;
}

static enum memmap_class class_of(const struct memmap_in *e)
{
	return e->kind == MEMMAP_SRC_E820 ? memmap_class_of_e820(e->type) : memmap_class_of_efi(e->type);
}

/* raw vs normalised: same ranges, attributes and classes, in the same order;
 * then count and free memory against the README. Returns 1 if README has it. */
static int corpus_pair(const char *name)
{
	char raw[512], norm[512];
	struct mapfile r, n;
	snprintf(raw, sizeof(raw), "%s/%s.raw.txt", corpus_dir(), name);
	snprintf(norm, sizeof(norm), "%s/%s.txt", corpus_dir(), name);
	if (mapfile_load(raw, &r, err, sizeof(err)) < 0 || mapfile_load(norm, &n, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(r.n, n.n);
	assert_int_equal(r.kind, n.kind);
	for (uint32_t i = 0; i < r.n; i++) {
		if (r.in[i].start != n.in[i].start || r.in[i].end != n.in[i].end ||
		    r.in[i].attr != n.in[i].attr || class_of(&r.in[i]) != class_of(&n.in[i]))
			fail_msg("%s entry %u differs (line %u vs %u)", name, i, r.line[i], n.line[i]);
	}
	unsigned entries;
	unsigned long lo, hi;
	int listed = readme_row(name, &entries, &lo, &hi) == 0;
	if (listed) {
		assert_int_equal(r.n, entries);
		/* README counts whole MiB; the sanitizer rounds partial pages away */
		assert_true(labs((long)(free_bytes(&r, 0) >> 20) - (long)lo) <= 1);
		assert_true(labs((long)(free_bytes(&r, 1) >> 20) - (long)hi) <= 1);
		print_message("# %-44s %4u entries, %6lu MiB + %7lu MiB free (README agrees)\n",
		              name, r.n, (unsigned long)(free_bytes(&r, 0) >> 20),
		              (unsigned long)(free_bytes(&r, 1) >> 20));
	}
	mapfile_free(&r);
	mapfile_free(&n);
	return listed;
}

static void test_corpus(void **state)
{
	char cmd[600], name[256];
	(void)state;
	snprintf(cmd, sizeof(cmd), "ls '%s' 2>/dev/null | sed -n 's/\\.raw\\.txt$//p'", corpus_dir());
	FILE *p = popen(cmd, "r");
	unsigned maps = 0, listed = 0;
	while (p && fgets(name, sizeof(name), p)) {
		name[strcspn(name, "\n")] = '\0';
		listed += (unsigned)corpus_pair(name);
		maps++;
	}
	if (p)
		pclose(p);
	if (maps == 0) {
		print_message("# corpus %s not found: corpus checks not run\n", corpus_dir());
		if (getenv("CI"))
			fail_msg("corpus missing and CI is set");
		return;                           /* passes: the corpus is optional outside CI */
	}
	print_message("# %u corpus maps: raw and normalised forms agree; %u checked against "
	              "the README table\n", maps, listed);
	assert_true(maps >= 16);
	assert_int_equal(listed, maps);
}

/* the ZenBook's e820 and EFI forms: same free memory */
static void test_zenbook_forms(void **state)
{
	char a[512], b[512];
	struct mapfile e, f;
	(void)state;
	snprintf(a, sizeof(a), "%s/asus_zenbook_ux391fa_e820.raw.txt", corpus_dir());
	snprintf(b, sizeof(b), "%s/asus_zenbook_ux391fa_efi_unsorted.raw.txt", corpus_dir());
	if (access(a, R_OK) != 0) {
		print_message("# corpus not found: ZenBook check not run\n");
		if (getenv("CI"))
			fail_msg("corpus missing and CI is set");
		return;
	}
	assert_int_equal(mapfile_load(a, &e, err, sizeof(err)), 0);
	assert_int_equal(mapfile_load(b, &f, err, sizeof(err)), 0);
	assert_int_equal(free_bytes(&e, 0), free_bytes(&f, 0));
	assert_int_equal(free_bytes(&e, 1), free_bytes(&f, 1));
	mapfile_free(&e);
	mapfile_free(&f);
}

/* --- formatting -------------------------------------------------------------- */

static void test_fmt(void **state)
{
	char mem[64];
	struct memfmt_buf b;
	(void)state;
	memfmt_init(&b, mem, sizeof(mem));
	memfmt_size(&b, 1536 * 1024);
	assert_string_equal(mem, "1.5 MiB");
	memfmt_init(&b, mem, sizeof(mem));
	memfmt_size(&b, ~(uint64_t)0);
	assert_string_equal(mem, "15.9 EiB");
	memfmt_init(&b, mem, sizeof(mem));
	memfmt_dec(&b, 18446744073709551615ull);
	assert_string_equal(mem, "18446744073709551615");
	memfmt_init(&b, mem, sizeof(mem));
	memfmt_attr(&b, EFI_MA_UC | EFI_MA_CPU_CRYPTO | EFI_MA_RUNTIME | 0x100);
	assert_string_equal(mem, "UC|CPU_CRYPTO|RUNTIME|0x100");
	memfmt_init(&b, mem, 8);            /* truncates, stays terminated */
	memfmt_str(&b, "0123456789");
	assert_string_equal(mem, "0123456");
	assert_int_equal(memdump_crc32(0, "123456789", 9), 0xCBF43926u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_e820_new),
		cmocka_unit_test(test_e820_old),
		cmocka_unit_test(test_efi_new),
		cmocka_unit_test(test_efi_old),
		cmocka_unit_test(test_normalised),
		cmocka_unit_test(test_uefi_shell),
		cmocka_unit_test(test_sysfs),
		cmocka_unit_test(test_table_roundtrip),
		cmocka_unit_test(test_dump_roundtrip),
		cmocka_unit_test(test_empty_entries),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_zenbook_forms),
		cmocka_unit_test(test_fmt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
