/*
 * test_loader_fw.c: the loader's exit path against an untidy simulated
 * firmware, end to end on the host.
 *
 * efi/exitbs.c (the GetMemoryMap/ExitBootServices handshake) runs against a
 * firmware simulator whose map is realistic and awkward: hundreds of
 * descriptors in no particular order, a DescriptorSize larger than the
 * structure (48 or 64 bytes, padding filled with junk), and a map that grows
 * between calls (a driver's allocation splits a conventional range) so that
 * ExitBootServices is refused and retried. The final map is then fed to the
 * same PMM build the loader runs after the exit (pmm_build_from_efi, as
 * efi/pmm_handoff.c calls it), and the test checks what the kernel will
 * rely on: the PMM is consistent and its free pages are exactly the usable
 * and boot-services pages of the final map below 4 GiB, minus the documented
 * policy (frame 0 and the low 1 MiB) and the metadata's own pages.
 *
 * A firmware that refuses every try must leave the loader with a clear
 * outcome (EXITBS_GAVE_UP) after the bounded number of tries.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <mmboot/efi_memdesc.h>
#include <mmboot/memmap.h>
#include <mmboot/pmm.h>
#include "host_env.h"
#include "../../efi/exitbs.h"

#define MAX_DESCS 1024u

struct fw {
	uint32_t dsize;                     /* DescriptorSize the firmware reports */
	uint32_t n;                         /* descriptors in the current map */
	struct efi_memdesc d[MAX_DESCS];    /* the current map, in firmware order */
	uint64_t key;                       /* current MapKey */
	uint32_t allocs_left;               /* ExitBootServices calls that see an allocation first */
	int refuse_all;                     /* every ExitBootServices fails */
	uint32_t exits;                     /* ExitBootServices calls */
	uint64_t rng;                       /* xorshift state */
};

static uint64_t fw_rand(struct fw *f)
{
	f->rng ^= f->rng << 13;
	f->rng ^= f->rng >> 7;
	f->rng ^= f->rng << 17;
	return f->rng;
}

/* A map of `pairs` conventional/boot-services ranges below 4 GiB with
 * reserved and runtime holes between them, some RAM above 4 GiB, then
 * shuffled (firmware order is not address order). */
static void fw_build(struct fw *f, uint32_t pairs, uint32_t dsize)
{
	static const uint32_t kinds[] = { EFI_MT_CONVENTIONAL, EFI_MT_BOOT_SERVICES_DATA,
	                                  EFI_MT_BOOT_SERVICES_CODE, EFI_MT_RUNTIME_SERVICES_DATA,
	                                  EFI_MT_ACPI_NVS, EFI_MT_RESERVED };
	memset(f, 0, sizeof(*f));
	f->dsize = dsize;
	f->key = 100;
	f->rng = 0x9E3779B97F4A7C15ull;
	uint64_t pa = 0;
	for (uint32_t i = 0; i < pairs * 2 && pa < 0xC0000000ull; i++) {
		uint64_t pages = 1 + fw_rand(f) % 512;
		uint32_t t = (i % 2) ? kinds[3 + fw_rand(f) % 3] : kinds[fw_rand(f) % 3];
		f->d[f->n++] = (struct efi_memdesc){ t, 0, pa, 0, pages, EFI_MA_WB };
		pa += pages << 12;
	}
	f->d[f->n++] = (struct efi_memdesc){ EFI_MT_CONVENTIONAL, 0, 0x100000000ull, 0, 262144,
	                                     EFI_MA_WB };
	for (uint32_t i = f->n - 1; i > 0; i--) {   /* Fisher-Yates */
		uint32_t j = (uint32_t)(fw_rand(f) % (i + 1));
		struct efi_memdesc t = f->d[i];
		f->d[i] = f->d[j];
		f->d[j] = t;
	}
}

/* A driver allocates one page from the first conventional range: the range
 * shrinks and a BootServicesData descriptor appears at the end. */
static void fw_allocate(struct fw *f)
{
	for (uint32_t i = 0; i < f->n && f->n < MAX_DESCS; i++) {
		struct efi_memdesc *c = &f->d[i];
		if (c->type != EFI_MT_CONVENTIONAL || c->num_pages < 2 || c->phys_start >= PADDR_4G)
			continue;
		c->num_pages--;
		f->d[f->n++] = (struct efi_memdesc){ EFI_MT_BOOT_SERVICES_DATA, 0,
		                                     c->phys_start + (c->num_pages << 12), 0, 1,
		                                     EFI_MA_WB };
		f->key++;
		return;
	}
}

static uint64_t fw_get_map(void *ctx, uint64_t *size, void *buf, uint64_t *key,
                           uint64_t *desc_size, uint32_t *desc_version)
{
	struct fw *f = ctx;
	uint64_t need = (uint64_t)f->n * f->dsize;
	*desc_size = f->dsize;
	*desc_version = 1;
	if (*size < need) {
		*size = need;
		return EXITBS_BUFFER_TOO_SMALL;
	}
	memset(buf, 0xEE, need);   /* junk in the padding past the structure */
	for (uint32_t i = 0; i < f->n; i++)
		memcpy((uint8_t *)buf + (size_t)i * f->dsize, &f->d[i], sizeof(f->d[i]));
	*size = need;
	*key = f->key;
	return EXITBS_SUCCESS;
}

static uint64_t fw_exit_bs(void *ctx, uint64_t key)
{
	struct fw *f = ctx;
	f->exits++;
	if (f->refuse_all)
		return EXITBS_INVALID_PARAMETER;
	if (f->allocs_left) {   /* a timer event allocated since the last GetMemoryMap */
		f->allocs_left--;
		fw_allocate(f);
	}
	return key == f->key ? EXITBS_SUCCESS : EXITBS_INVALID_PARAMETER;
}

/* Usable-after-exit pages of a raw map below 4 GiB, at or above 1 MiB. */
static uint64_t usable_pages_expected(const uint8_t *map, uint32_t n, uint32_t dsize)
{
	uint64_t pages = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct efi_memdesc *d = (const void *)(map + (size_t)i * dsize);
		enum memmap_class c = memmap_class_of_efi(d->type);
		if (c != MEMMAP_USABLE && c != MEMMAP_BOOT_SERVICES)
			continue;
		uint64_t s = d->phys_start, e = s + (d->num_pages << 12);
		s = s < PMM_LOW_RESERVE ? PMM_LOW_RESERVE : s;
		e = e > PADDR_4G ? PADDR_4G : e;
		if (e > s)
			pages += (e - s) >> 12;
	}
	return pages;
}

static void run_exit_and_build(uint32_t pairs, uint32_t dsize, uint32_t allocs)
{
	static struct fw f;
	fw_build(&f, pairs, dsize);
	f.allocs_left = allocs;
	/* the loader sizes its buffer from a probe plus slack (efi/handoff.c) */
	uint64_t cap = (uint64_t)(f.n + 64) * dsize;
	uint8_t *buf = malloc(cap);
	const struct exitbs_ops ops = { &f, fw_get_map, fw_exit_bs };
	struct exitbs_result r;
	assert_int_equal(exitbs_run(&ops, buf, cap, EXITBS_MAX_TRIES_DEFAULT, &r), 0);
	assert_int_equal(r.outcome, EXITBS_DONE);
	assert_int_equal(r.tries, allocs + 1);
	assert_int_equal(r.desc_size, dsize);
	uint32_t n = (uint32_t)(r.map_size / dsize);
	assert_int_equal(n, f.n);   /* the final map, with every allocation in it */

	/* what the loader does next: build the PMM from the final map */
	uint64_t meta = pmm_metadata_size_efi(buf, n, dsize);
	uint64_t scratch = pmm_build_scratch_size(n);
	assert_true(meta > 0 && scratch > 0);
	void *mem = aligned_alloc(4096, (size_t)ALIGN_UP(meta, 4096));
	void *scr = aligned_alloc(4096, (size_t)ALIGN_UP(scratch, 4096));
	/* the metadata lives outside the simulated map (a host address) */
	struct pmm *p = pmm_build_from_efi(mem, meta, 0xFFFFF000000ull, buf, n, dsize, scr, scratch,
	                                   PMM_USABLE_AFTER_EXIT);
	assert_non_null(p);
	assert_int_equal(pmm_check(p, true), 0);
	assert_int_equal(pmm_free_pages(p), usable_pages_expected(buf, n, dsize));
	struct pmm_stats st;
	pmm_get_stats(p, &st);
	assert_int_equal(st.above_4g_bytes, 262144ull << 12);   /* counted, never handed out */
	free(scr);
	free(mem);
	free(buf);
}

static void test_unsorted_hundreds_grows(void **state)
{
	(void)state;
	run_exit_and_build(300, 48, 3);   /* ~600 descriptors, OVMF's size */
}

static void test_wide_descriptors(void **state)
{
	(void)state;
	run_exit_and_build(200, 64, 1);   /* a larger DescriptorSize than the spec's 40 */
}

static void test_refuses_every_try(void **state)
{
	(void)state;
	static struct fw f;
	fw_build(&f, 50, 48);
	f.refuse_all = 1;
	uint64_t cap = (uint64_t)(f.n + 64) * 48;
	uint8_t *buf = malloc(cap);
	const struct exitbs_ops ops = { &f, fw_get_map, fw_exit_bs };
	struct exitbs_result r;
	assert_int_equal(exitbs_run(&ops, buf, cap, EXITBS_MAX_TRIES_DEFAULT, &r), -1);
	assert_int_equal(r.outcome, EXITBS_GAVE_UP);
	assert_int_equal(f.exits, EXITBS_MAX_TRIES_DEFAULT);   /* bounded, no endless loop */
	assert_string_equal(exitbs_outcome_name(r.outcome), exitbs_outcome_name(EXITBS_GAVE_UP));
	free(buf);
}

int main(void)
{
	host_log_set(HOST_LOG_QUIET);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unsorted_hundreds_grows),
		cmocka_unit_test(test_wide_descriptors),
		cmocka_unit_test(test_refuses_every_try),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
