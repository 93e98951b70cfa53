/*
 * Host tests of the real-hardware helpers of the kernel stage:
 *   - physwin_pde (kernel/physwin_pde.c): 4 MiB PDEs, with PSE-36 physical
 *     address bits 32..39 in bits 13..20 up to MAXPHYADDR (capped at 40),
 *     refusals for unaligned or unreachable addresses;
 *   - acpi_reset_find (kernel/acpi_reset.c): RSDP -> XSDT/RSDT -> FADT over a
 *     fake physical memory, reading the reset register, the PM timer and the
 *     8042 flag, and ignoring tables whose checksum or signature is wrong.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <mmboot/errno.h>
#include "physwin.h"
#include "acpi_reset.h"

/* ---- PSE / PSE-36 PDEs ---- */

static void test_pde_below_4g(void **state)
{
	(void)state;
	uint32_t pde = 0;
	assert_int_equal(physwin_pde(0xC0000000u, PHYSWIN_WRITE | PHYSWIN_WTHRU, 0, 36, &pde), 0);
	assert_int_equal(pde, 0xC0000000u | PDE_P | PDE_RW | PDE_PWT | PDE_PS);
	assert_int_equal(physwin_pde(0x00400000u, PHYSWIN_NOCACHE, 1, 36, &pde), 0);
	assert_int_equal(pde, 0x00400000u | PDE_P | PDE_PCD | PDE_PS);
	assert_int_equal(physwin_pde_addr(pde), 0x00400000u);
	assert_int_equal(physwin_pde(0xC0001000u, 0, 1, 36, &pde), -MM_EALIGN);
}

static void test_pde_pse36(void **state)
{
	(void)state;
	uint32_t pde = 0;
	const uint64_t cases[] = { 0x140000000ull, 0x3C0000000ull, 0xFFFC00000ull, 0x800000000ull };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(physwin_pde(cases[i], PHYSWIN_WRITE, 1, 36, &pde), 0);
		assert_int_equal(physwin_pde_addr(pde), cases[i]);
		assert_int_equal(pde & ((1u << 21) | (1u << 12)), 0);   /* reserved, PAT */
		assert_int_equal(pde & 0x1FFFu, PDE_P | PDE_RW | PDE_PS);
	}
	assert_int_equal(physwin_pde(0x140000000ull, 0, 1, 36, &pde), 0);
	assert_int_equal((pde >> 13) & 0xFF, 1);
	assert_int_equal(pde >> 22, 0x100);
}

static void test_pde_limits(void **state)
{
	(void)state;
	uint32_t pde = 0;
	assert_int_equal(physwin_pde(0x100000000ull, 0, 0, 36, &pde), -MM_ERANGE);    /* no PSE-36 */
	assert_int_equal(physwin_pde(0x1000000000ull, 0, 1, 36, &pde), -MM_ERANGE);   /* 64 GiB, 36 bits */
	assert_int_equal(physwin_pde(0x1000000000ull, 0, 1, 40, &pde), 0);            /* 40 bits */
	assert_int_equal(physwin_pde_addr(pde), 0x1000000000ull);
	assert_int_equal(physwin_pde(0xFFFFC00000ull, 0, 1, 46, &pde), 0);            /* top of 40 bits */
	assert_int_equal(physwin_pde_addr(pde), 0xFFFFC00000ull);
	assert_int_equal(physwin_pde(0x10000000000ull, 0, 1, 46, &pde), -MM_ERANGE);  /* capped at 40 */
	assert_int_equal(physwin_pde(0xFFC00000ull, 0, 0, 32, &pde), 0);
}

/* ---- ACPI ---- */

#define MEM_BASE 0x000E0000ull
#define MEM_SIZE 0x20000u

static uint8_t mem[MEM_SIZE];
static uint32_t reads;

static int fake_read(void *ctx, uint64_t pa, void *buf, uint32_t len)
{
	(void)ctx;
	reads++;
	if (pa < MEM_BASE || pa + len > MEM_BASE + MEM_SIZE)
		return -1;
	memcpy(buf, mem + (pa - MEM_BASE), len);
	return 0;
}

static uint8_t *at(uint64_t pa) { return mem + (pa - MEM_BASE); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static void fix_sum(uint8_t *t, uint32_t len, uint32_t sum_off)
{
	t[sum_off] = 0;
	t[sum_off] = (uint8_t)(0x100 - acpi_checksum(t, len));
}

static void header(uint64_t pa, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(at(pa), sig, 4);
	put32(at(pa) + 4, len);
	at(pa)[8] = rev;
	memcpy(at(pa) + 10, "MMBOOT", 6);
}

#define RSDP_PA 0xE0010ull
#define XSDT_PA 0xE1000ull
#define RSDT_PA 0xE2000ull
#define FADT_PA 0xE3000ull
#define APIC_PA 0xE4000ull

/* FADT of revision rev and length len with the given flags and reset register. */
static void make_fadt(uint8_t rev, uint32_t len, uint32_t flags, uint8_t space, uint64_t addr,
                      uint8_t boot_arch)
{
	memset(at(FADT_PA), 0, 276);
	header(FADT_PA, "FACP", len, rev);
	put32(at(FADT_PA) + 76, 0x608);     /* PM_TMR_BLK */
	at(FADT_PA)[91] = 4;                /* PM_TMR_LEN */
	at(FADT_PA)[109] = boot_arch;
	put32(at(FADT_PA) + 112, flags);
	at(FADT_PA)[116] = space;
	at(FADT_PA)[117] = 8;
	put64(at(FADT_PA) + 120, addr);
	at(FADT_PA)[128] = 0x06;
	fix_sum(at(FADT_PA), len, 9);
}

/* RSDP (rev 2 or 0), XSDT [APIC, FADT], RSDT [FADT], APIC decoy, FADT. */
static void make_tables(uint8_t rsdp_rev)
{
	memset(mem, 0, sizeof(mem));
	memcpy(at(RSDP_PA), "RSD PTR ", 8);
	at(RSDP_PA)[15] = rsdp_rev;
	put32(at(RSDP_PA) + 16, (uint32_t)RSDT_PA);
	put32(at(RSDP_PA) + 20, 36);
	put64(at(RSDP_PA) + 24, XSDT_PA);
	fix_sum(at(RSDP_PA), 20, 8);
	fix_sum(at(RSDP_PA), 36, 32);
	header(XSDT_PA, "XSDT", 36 + 16, 1);
	put64(at(XSDT_PA) + 36, APIC_PA);
	put64(at(XSDT_PA) + 44, FADT_PA);
	fix_sum(at(XSDT_PA), 36 + 16, 9);
	header(RSDT_PA, "RSDT", 36 + 4, 1);
	put32(at(RSDT_PA) + 36, (uint32_t)FADT_PA);
	fix_sum(at(RSDT_PA), 36 + 4, 9);
	header(APIC_PA, "APIC", 44, 4);
	fix_sum(at(APIC_PA), 44, 9);
	make_fadt(6, 276, (1u << 10) | (1u << 8), 1, 0xCF9, 0x2);
}

static void test_acpi_xsdt_fadt(void **state)
{
	(void)state;
	struct acpi_reset_info a;
	make_tables(2);
	assert_int_equal(acpi_reset_find(fake_read, NULL, RSDP_PA, &a), 0);
	assert_int_equal(a.found_fadt, 1);
	assert_int_equal(a.fadt_revision, 6);
	assert_int_equal(a.has_reset_reg, 1);
	assert_int_equal(a.reset_space, ACPI_SPACE_IO);
	assert_int_equal(a.reset_addr, 0xCF9);
	assert_int_equal(a.reset_value, 0x06);
	assert_int_equal(a.pm_timer_port, 0x608);
	assert_int_equal(a.pm_timer_bits, 32);
	assert_int_equal(a.kbc, ACPI_KBC_PRESENT);
	assert_int_equal(a.tables_seen, 2);     /* APIC looked at, then FACP */
	assert_int_equal(a.bad_checksums, 0);
}

static void test_acpi_bad_xsdt_falls_back_to_rsdt(void **state)
{
	(void)state;
	struct acpi_reset_info a;
	make_tables(2);
	at(XSDT_PA)[40] ^= 0xFF;    /* checksum now wrong */
	assert_int_equal(acpi_reset_find(fake_read, NULL, RSDP_PA, &a), 0);
	assert_int_equal(a.found_fadt, 1);
	assert_int_equal(a.bad_checksums, 1);
	assert_int_equal(a.tables_seen, 1);     /* the RSDT's only entry */
}

static void test_acpi_rsdp_v1_uses_rsdt(void **state)
{
	(void)state;
	struct acpi_reset_info a;
	make_tables(0);
	memcpy(at(XSDT_PA), "JUNK", 4);         /* must not be looked at */
	assert_int_equal(acpi_reset_find(fake_read, NULL, RSDP_PA, &a), 0);
	assert_int_equal(a.found_fadt, 1);
	assert_int_equal(a.has_reset_reg, 1);
}

static void test_acpi_fadt_variants(void **state)
{
	(void)state;
	struct acpi_reset_info a;
	make_tables(2);
	make_fadt(6, 276, 1u << 8, 1, 0xCF9, 0x2);                 /* no RESET_REG_SUP */
	assert_int_equal(acpi_reset_find(fake_read, NULL, RSDP_PA, &a), 0);
	assert_int_equal(a.found_fadt, 1);
	assert_int_equal(a.has_reset_reg, 0);
	assert_int_equal(a.pm_timer_port, 0x608);
	make_fadt(1, 116, 0, 0, 0, 0);                              /* ACPI 1.0 FADT */
	assert_int_equal(acpi_reset_find(fake_read, NULL, RSDP_PA, &a), 0);
	assert_int_equal(a.has_reset_reg, 0);
	assert_int_equal(a.kbc, ACPI_KBC_UNKNOWN);
	assert_int_equal(a.pm_timer_bits, 24);
	make_fadt(5, 268, (1u << 10) | (1u << 20), 0, 0xFED00000ull, 0);   /* HW-reduced, MMIO reset */
	assert_int_equal(acpi_reset_find(fake_read, NULL, RSDP_PA, &a), 0);
	assert_int_equal(a.has_reset_reg, 1);
	assert_int_equal(a.reset_space, ACPI_SPACE_MEMORY);
	assert_int_equal(a.reset_addr, 0xFED00000ull);
	assert_int_equal(a.pm_timer_port, 0);
	assert_int_equal(a.kbc, ACPI_KBC_ABSENT);
	make_fadt(6, 276, 1u << 10, 7, 0xCF9, 0x2);                 /* unknown address space */
	assert_int_equal(acpi_reset_find(fake_read, NULL, RSDP_PA, &a), 0);
	assert_int_equal(a.has_reset_reg, 0);
}

static void test_acpi_refusals(void **state)
{
	(void)state;
	struct acpi_reset_info a;
	make_tables(2);
	at(FADT_PA)[50] ^= 1;                                       /* FADT checksum */
	assert_int_equal(acpi_reset_find(fake_read, NULL, RSDP_PA, &a), 0);
	assert_int_equal(a.found_fadt, 0);
	assert_true(a.bad_checksums >= 1);
	make_tables(2);
	at(RSDP_PA)[3] = 'X';                                       /* RSDP signature */
	assert_int_equal(acpi_reset_find(fake_read, NULL, RSDP_PA, &a), -1);
	make_tables(2);
	at(RSDP_PA)[12] ^= 1;                                       /* RSDP checksum */
	assert_int_equal(acpi_reset_find(fake_read, NULL, RSDP_PA, &a), -1);
	assert_int_equal(acpi_reset_find(fake_read, NULL, 0, &a), -1);
	assert_int_equal(acpi_reset_find(fake_read, NULL, 0x100000000ull, &a), -1);   /* unreadable */
	make_tables(2);
	put64(at(XSDT_PA) + 44, 0x7FFFFFFF000ull);                 /* entry points nowhere */
	fix_sum(at(XSDT_PA), 36 + 16, 9);
	put32(at(RSDT_PA) + 36, 0xFFFFF000u);
	fix_sum(at(RSDT_PA), 40, 9);
	assert_int_equal(acpi_reset_find(fake_read, NULL, RSDP_PA, &a), 0);
	assert_int_equal(a.found_fadt, 0);
}

static void test_acpi_huge_root_is_bounded(void **state)
{
	(void)state;
	struct acpi_reset_info a;
	make_tables(2);
	uint32_t n = 400, len = 36 + 8 * n;   /* fits below the RSDT at +0x1000 */
	header(XSDT_PA, "XSDT", len, 1);
	for (uint32_t i = 0; i < n; i++)
		put64(at(XSDT_PA) + 36 + 8 * i, APIC_PA);
	fix_sum(at(XSDT_PA), len, 9);
	reads = 0;
	assert_int_equal(acpi_reset_find(fake_read, NULL, RSDP_PA, &a), 0);
	assert_int_equal(a.tables_seen, 256 + 1);   /* 256 XSDT entries, then the RSDT's FADT */
	assert_int_equal(a.found_fadt, 1);
	assert_true(reads < 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pde_below_4g),
		cmocka_unit_test(test_pde_pse36),
		cmocka_unit_test(test_pde_limits),
		cmocka_unit_test(test_acpi_xsdt_fadt),
		cmocka_unit_test(test_acpi_bad_xsdt_falls_back_to_rsdt),
		cmocka_unit_test(test_acpi_rsdp_v1_uses_rsdt),
		cmocka_unit_test(test_acpi_fadt_variants),
		cmocka_unit_test(test_acpi_refusals),
		cmocka_unit_test(test_acpi_huge_root_is_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
