/*
 * Memory-map text formatting (include/mmboot/memmap_fmt.h): type names,
 * attribute decoding, human sizes, table rows and the whole report, for the
 * loader (on screen, saved as the text table) and the host tool alike.
 *
 * Portable mm/ code: no libc and no 64-bit division (the i386 kernel build
 * has no libgcc): decimal digits come from subtracting powers of ten, sizes
 * from shifts. Buffers never overflow: memfmt_buf drops what does not fit.
 *
 * Report layout (one line per emit call; docs/memmap.md):
 *
 *   mmboot memory map v1
 *   key: value                     header lines (machine, firmware, ...)
 *   entries: N
 *   <blank>
 *   MEMFMT_COLUMNS
 *   rows, one per entry in firmware order
 *   <blank>
 *   totals per type:  /  sanitizer: ...  /  usable below|above 4 GiB: ...
 */
#include <mmboot/memmap_fmt.h>
#include <mmboot/mm_env.h>

void memfmt_init(struct memfmt_buf *b, char *mem, uint32_t cap)
{
	b->p = mem;
	b->len = 0;
	b->cap = cap;
	if (cap)
		mem[0] = '\0';
}

void memfmt_char(struct memfmt_buf *b, char c)
{
	if (b->len + 1 >= b->cap)
		return;
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

void memfmt_str(struct memfmt_buf *b, const char *s)
{
	while (*s)
		memfmt_char(b, *s++);
}

void memfmt_pad(struct memfmt_buf *b, uint32_t col)
{
	while (b->len < col && b->len + 1 < b->cap)
		memfmt_char(b, ' ');
}

static const uint64_t memfmt_pow10[20] = {
	10000000000000000000ull, 1000000000000000000ull, 100000000000000000ull,
	10000000000000000ull, 1000000000000000ull, 100000000000000ull, 10000000000000ull,
	1000000000000ull, 100000000000ull, 10000000000ull, 1000000000ull, 100000000ull,
	10000000ull, 1000000ull, 100000ull, 10000ull, 1000ull, 100ull, 10ull, 1ull,
};

/* Decimal digits of v into d (no NUL); returns how many. */
static uint32_t memfmt_digits(uint64_t v, char d[20])
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < 20; i++) {
		char digit = '0';
		while (v >= memfmt_pow10[i]) {
			v -= memfmt_pow10[i];
			digit++;
		}
		if (digit != '0' || n > 0 || i == 19)
			d[n++] = digit;
	}
	return n;
}

void memfmt_dec_w(struct memfmt_buf *b, uint64_t v, uint32_t width)
{
	char d[20];
	uint32_t n = memfmt_digits(v, d);
	for (uint32_t i = n; i < width; i++)
		memfmt_char(b, ' ');
	for (uint32_t i = 0; i < n; i++)
		memfmt_char(b, d[i]);
}

void memfmt_dec(struct memfmt_buf *b, uint64_t v)
{
	memfmt_dec_w(b, v, 0);
}

void memfmt_hex(struct memfmt_buf *b, uint64_t v, uint32_t digits)
{
	static const char hx[] = "0123456789abcdef";
	uint32_t n = 1;
	while (n < 16 && (v >> (4 * n)) != 0)
		n++;
	if (n < digits)
		n = digits > 16 ? 16 : digits;
	memfmt_str(b, "0x");
	while (n--)
		memfmt_char(b, hx[(v >> (4 * n)) & 0xf]);
}

void memfmt_size(struct memfmt_buf *b, uint64_t bytes)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	uint32_t u = 0;
	while (u < 6 && (bytes >> (10 * (u + 1))) != 0)
		u++;
	if (u == 0) {
		memfmt_dec(b, bytes);
	} else {
		uint32_t shift = 10 * u;
		uint64_t rem = bytes & (((uint64_t)1 << shift) - 1);
		memfmt_dec(b, bytes >> shift);
		memfmt_char(b, '.');
		memfmt_dec(b, (rem * 10) >> shift);   /* rem < 2^60: no overflow */
	}
	memfmt_char(b, ' ');
	memfmt_str(b, unit[u]);
}

static const char *const memfmt_efi_names[] = {
	"Reserved", "LoaderCode", "LoaderData", "BootServicesCode", "BootServicesData",
	"RuntimeServicesCode", "RuntimeServicesData", "Conventional", "Unusable",
	"ACPIReclaim", "ACPINVS", "MMIO", "MMIOPortSpace", "PalCode", "Persistent",
	"Unaccepted",
};

const char *memfmt_efi_type_name(uint32_t type)
{
	return type < ARRAY_SIZE(memfmt_efi_names) ? memfmt_efi_names[type] : NULL;
}

const char *memfmt_e820_type_name(uint32_t type)
{
	switch (type) {
	case 1:  return "e820:usable";
	case 2:  return "e820:reserved";
	case 3:  return "e820:ACPI_data";
	case 4:  return "e820:ACPI_NVS";
	case 5:  return "e820:unusable";
	case 7:  return "e820:persistent";
	case 0xefffffffu: return "e820:soft_reserved";
	default: return NULL;
	}
}

void memfmt_type(struct memfmt_buf *b, uint32_t kind, uint32_t type)
{
	const char *name = kind == MEMMAP_SRC_E820 ? memfmt_e820_type_name(type)
	                                           : memfmt_efi_type_name(type);
	if (name) {
		memfmt_str(b, name);
	} else if (kind == MEMMAP_SRC_E820) {
		memfmt_str(b, "e820:type_");
		memfmt_dec(b, type);
	} else {
		memfmt_str(b, type >= EFI_MT_OS_FIRST ? "OS_" :
		              type >= EFI_MT_OEM_FIRST ? "OEM_" : "Type_");
		memfmt_hex(b, type, 1);
	}
}

const char *memfmt_attr_name(uint32_t bit)
{
	switch (bit) {
	case 0:  return "UC";
	case 1:  return "WC";
	case 2:  return "WT";
	case 3:  return "WB";
	case 4:  return "UCE";
	case 12: return "WP";
	case 13: return "RP";
	case 14: return "XP";
	case 15: return "NV";
	case 16: return "MR";
	case 17: return "RO";
	case 18: return "SP";
	case 19: return "CPU_CRYPTO";
	case 63: return "RUNTIME";
	default: return NULL;
	}
}

void memfmt_attr(struct memfmt_buf *b, uint64_t attr)
{
	uint64_t unknown = 0;
	bool first = true;
	if (attr == 0) {
		memfmt_char(b, '-');
		return;
	}
	for (uint32_t bit = 0; bit < 64; bit++) {
		const char *name;
		if (!(attr >> bit & 1))
			continue;
		name = memfmt_attr_name(bit);
		if (!name) {
			unknown |= (uint64_t)1 << bit;
			continue;
		}
		if (!first)
			memfmt_char(b, '|');
		memfmt_str(b, name);
		first = false;
	}
	if (unknown) {
		if (!first)
			memfmt_char(b, '|');
		memfmt_hex(b, unknown, 1);
	}
}

uint64_t memfmt_pages(const struct memmap_in *e)
{
	if (e->end <= e->start)
		return 0;
	uint64_t len = e->end - e->start;
	return (len >> PAGE_SHIFT) + ((len & PAGE_MASK) ? 1 : 0);
}

void memfmt_row(struct memfmt_buf *b, uint32_t idx, const struct memmap_in *e)
{
	memfmt_dec_w(b, idx, 5);
	memfmt_char(b, ' ');
	memfmt_type(b, e->kind, e->type);
	memfmt_pad(b, 26);
	memfmt_char(b, ' ');
	memfmt_hex(b, e->start, 16);
	memfmt_char(b, ' ');
	memfmt_hex(b, e->end, 16);
	memfmt_char(b, ' ');
	if (e->end < e->start)
		memfmt_str(b, "      wrap");
	else
		memfmt_dec_w(b, memfmt_pages(e), 10);
	memfmt_char(b, ' ');
	char sz[24];
	struct memfmt_buf s;
	memfmt_init(&s, sz, sizeof(sz));
	memfmt_size(&s, e->end > e->start ? e->end - e->start : 0);
	memfmt_pad(b, b->len + (s.len < 10 ? 10 - s.len : 0));
	memfmt_str(b, sz);
	memfmt_char(b, ' ');
	memfmt_attr(b, e->attr);
}
