/*
 * acpi_reset.c: RSDP -> XSDT/RSDT -> FADT, reading the fields reset.c needs
 * (theory and offsets in acpi_reset.h). Portable: compiled into the kernel
 * and into the host test. Tables are read into small local buffers; the
 * root table is walked entry by entry, so its size does not matter.
 */
#include "acpi_reset.h"

#define ACPI_HDR_LEN       36u
#define FADT_MIN_RESET     129u    /* RESET_VALUE at 128 */
#define FADT_BUF           132u
#define ACPI_MAX_TABLE     (1u << 20)
#define ACPI_MAX_ENTRIES   256u

#define FADT_F_TMR_VAL_EXT  (1u << 8)
#define FADT_F_RESET_REG    (1u << 10)
#define FADT_F_HW_REDUCED   (1u << 20)
#define BOOT_ARCH_8042      (1u << 1)

struct acpi_walk {
	acpi_read_fn read;        /* physical memory reader */
	void *ctx;                /* its context */
	struct acpi_reset_info *info;
};

uint8_t acpi_checksum(const void *p, uint32_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;
	for (uint32_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
	return sum;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static int sig_is(const uint8_t *p, const char *sig, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (p[i] != (uint8_t)sig[i])
			return 0;
	return 1;
}

/* Checksum a table of len bytes at pa, reading it in pieces. */
static int table_sum_ok(struct acpi_walk *w, paddr_t pa, uint32_t len)
{
	uint8_t buf[64], sum = 0;
	for (uint32_t off = 0; off < len;) {
		uint32_t n = len - off < sizeof(buf) ? len - off : (uint32_t)sizeof(buf);
		if (w->read(w->ctx, pa + off, buf, n))
			return 0;
		sum = (uint8_t)(sum + acpi_checksum(buf, n));
		off += n;
	}
	return sum == 0;
}

static void fadt_fields(struct acpi_reset_info *info, const uint8_t *f, uint32_t len)
{
	info->found_fadt = 1;
	info->fadt_revision = f[8];
	uint32_t flags = len >= 116 ? le32(f + 112) : 0;
	if (len >= 92 && f[91] == 4 && le32(f + 76) && le32(f + 76) < 0x10000u &&
	    !(flags & FADT_F_HW_REDUCED)) {
		info->pm_timer_port = (uint16_t)le32(f + 76);
		info->pm_timer_bits = (flags & FADT_F_TMR_VAL_EXT) ? 32 : 24;
	}
	if (info->fadt_revision >= 3 && len >= 111)
		info->kbc = (f[109] & BOOT_ARCH_8042) ? ACPI_KBC_PRESENT : ACPI_KBC_ABSENT;
	if (info->fadt_revision < 2 || len < FADT_MIN_RESET || !(flags & FADT_F_RESET_REG))
		return;
	uint32_t space = f[116];
	uint64_t addr = le64(f + 120);
	if (addr == 0 || space > ACPI_SPACE_PCI)
		return;
	info->has_reset_reg = 1;
	info->reset_space = space;
	info->reset_width = f[117];
	info->reset_addr = addr;
	info->reset_value = f[128];
}

/* Look at one root-table entry; 1 when it was a valid FADT. */
static int try_table(struct acpi_walk *w, paddr_t pa)
{
	uint8_t f[FADT_BUF];
	w->info->tables_seen++;
	if (pa == 0 || w->read(w->ctx, pa, f, ACPI_HDR_LEN) || !sig_is(f, "FACP", 4))
		return 0;
	uint32_t len = le32(f + 4);
	if (len < ACPI_HDR_LEN || len > ACPI_MAX_TABLE || !table_sum_ok(w, pa, len)) {
		w->info->bad_checksums++;
		return 0;
	}
	uint32_t want = len < FADT_BUF ? len : FADT_BUF;
	if (w->read(w->ctx, pa, f, want))
		return 0;
	fadt_fields(w->info, f, want);
	return 1;
}

/* Walk the XSDT (entry 8 bytes) or RSDT (4 bytes) at pa. */
static void walk_root(struct acpi_walk *w, paddr_t pa, uint32_t entry_size, const char *sig)
{
	uint8_t h[ACPI_HDR_LEN], e[8];
	if (w->read(w->ctx, pa, h, ACPI_HDR_LEN) || !sig_is(h, sig, 4))
		return;
	uint32_t len = le32(h + 4);
	if (len < ACPI_HDR_LEN || len > ACPI_MAX_TABLE || !table_sum_ok(w, pa, len)) {
		w->info->bad_checksums++;
		return;
	}
	uint32_t n = (len - ACPI_HDR_LEN) / entry_size;
	for (uint32_t i = 0; i < n && i < ACPI_MAX_ENTRIES; i++) {
		if (w->read(w->ctx, pa + ACPI_HDR_LEN + i * entry_size, e, entry_size))
			return;
		paddr_t t = entry_size == 8 ? le64(e) : le32(e);
		if (try_table(w, t))
			return;
	}
}

int acpi_reset_find(acpi_read_fn read, void *ctx, paddr_t rsdp_pa, struct acpi_reset_info *info)
{
	uint8_t r[36];
	struct acpi_walk w = { read, ctx, info };
	*info = (struct acpi_reset_info){ 0 };
	if (rsdp_pa == 0 || read(ctx, rsdp_pa, r, 20) || !sig_is(r, "RSD PTR ", 8) ||
	    acpi_checksum(r, 20) != 0)
		return -1;
	if (r[15] >= 2 && read(ctx, rsdp_pa, r, 36) == 0 && acpi_checksum(r, 36) == 0 &&
	    le64(r + 24) != 0) {
		walk_root(&w, le64(r + 24), 8, "XSDT");
		if (info->found_fadt)
			return 0;
	}
	if (le32(r + 16) != 0)
		walk_root(&w, le32(r + 16), 4, "RSDT");
	return 0;
}
