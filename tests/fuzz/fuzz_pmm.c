/*
 * libFuzzer target: operation sequences into the buddy PMM, against a model
 * with one state per frame (hole, free, allocated, reserved).
 *
 * Input: byte 0 shapes the map (where holes and a loader range fall), then
 * 4 bytes per operation: [op, order/flags, index lo, index hi]. Operations:
 * alloc (any order, zone flags), free of a live block, free of an arbitrary
 * (pa, order) whose expected error the model computes, reserve and release
 * of a range. After each operation the free-page count must match the
 * model; every 16 operations and at the end pmm_check must find nothing.
 * A "no memory" answer is checked against the model: there must be no
 * aligned free run of that order below the zone limit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mmboot/pmm.h>
#include <mmboot/errno.h>
#include "host_env.h"
#define PMM_MODEL_MAX_LIVE 512u
#include "pmm_model.h"

#define SPAN PMM_MODEL_SPAN           /* 32 MiB of frames: half below 16 MiB (zone, never
                                         cached), half above (the free-block caches) */

static struct pmm_model model;
static struct pmm *pmm;
static uint64_t meta[(1u << 20) / 8];

#define USABLE_MASK (MEMMAP_CLASS_BIT(MEMMAP_USABLE) | MEMMAP_CLASS_BIT(MEMMAP_BOOT_SERVICES))

static uint32_t build_map(uint8_t shape, struct memmap_range *map)
{
	uint64_t hole = MiB(2) + (uint64_t)(shape & 0x0f) * KiB(256) + (shape & 0x10 ? 0x3000 : 0);
	uint64_t ldr = MiB(9) + (uint64_t)((shape >> 5) % 6) * MiB(1);
	uint32_t n = 0;
	map[n++] = (struct memmap_range){ 0, 0xa0000, MEMMAP_USABLE, 0 };
	map[n++] = (struct memmap_range){ MiB(1), hole, MEMMAP_USABLE, 0 };
	map[n++] = (struct memmap_range){ hole, hole + KiB(64), MEMMAP_MMIO, 0 };
	map[n++] = (struct memmap_range){ hole + KiB(64), ldr, MEMMAP_BOOT_SERVICES, 0 };
	map[n++] = (struct memmap_range){ ldr, ldr + MiB(1), MEMMAP_LOADER, 0 };
	map[n++] = (struct memmap_range){ ldr + MiB(1), MiB(32), MEMMAP_USABLE, 0 };
	return n;
}

static void do_alloc(unsigned order, unsigned flags)
{
	paddr_t pa = pmm_alloc(pmm, order, flags);
	if (pa == PADDR_NONE) {
		if (pmm_model_has_run(&model, order, pmm_model_zone_limit(flags)))
			abort();
		return;
	}
	uint32_t pfn = (uint32_t)(pa >> 12), len = 1u << order;
	if ((pfn & (len - 1)) || pfn + len > pmm_model_zone_limit(flags))
		abort();
	if (pmm_model_take(&model, pfn, order) != UINT32_MAX)
		abort();
	if (!pmm_model_push_live(&model, pfn, order)) {
		if (pmm_free(pmm, pa, order) != 0)
			abort();
		pmm_model_give(&model, pfn, order);
	}
}

static void do_free_live(uint32_t idx)
{
	if (!model.n_live)
		return;
	idx %= model.n_live;
	if (pmm_free(pmm, (paddr_t)model.live[idx].pfn << 12, model.live[idx].order) != 0)
		abort();
	pmm_model_drop_live(&model, idx);
}

static void do_free_any(uint32_t pfn, unsigned order)
{
	int want = pmm_model_free_error(&model, pfn, order);
	if (want == 0)
		return;
	if (pmm_free(pmm, (paddr_t)pfn << 12, order) != want)
		abort();
}

static void do_range(uint32_t s, uint32_t len, bool release)
{
	uint32_t e = s + len > SPAN ? SPAN : s + len;
	uint32_t count;
	int want = pmm_model_range_want(&model, s, e, release, &count);
	int got = release ? pmm_release_range(pmm, (paddr_t)s << 12, (paddr_t)e << 12)
	                  : pmm_reserve(pmm, (paddr_t)s << 12, (paddr_t)e << 12);
	if (got != (want ? want : (int)count))
		abort();
	if (!want)
		pmm_model_range_apply(&model, s, e, release);
}

static void do_op(const uint8_t *b)
{
	uint32_t idx = b[2] | (uint32_t)b[3] << 8;
	unsigned order = b[1] % 11, flags = (b[1] >> 4) % 4 == 3 ? PMM_ZONE_1M
	                                    : ((b[1] >> 4) % 4 == 2 ? PMM_ZONE_16M : 0);
	switch (b[0] % 8) {
	case 0: case 1: case 2: do_alloc(order, flags); break;
	case 3: case 4: do_free_live(idx); break;
	case 5: do_free_any(idx % (SPAN + 16), b[1] % 12); break;
	case 6: do_range(idx % SPAN, b[1] % 80, false); break;
	case 7: do_range(idx % SPAN, b[1] % 80, true); break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	host_log_set(HOST_LOG_QUIET);
	struct memmap_range map[8];
	uint32_t n = build_map(data[0], map);
	uint64_t need = pmm_metadata_size(map, n);
	if (need > sizeof(meta))
		abort();
	pmm = pmm_init(meta, need, PADDR_NONE, map, n, USABLE_MASK);
	if (!pmm)
		abort();
	pmm_model_init(&model, map, n, USABLE_MASK);
	if (pmm_free_pages(pmm) != model.free)
		abort();
	uint32_t ops = 0;
	for (size_t off = 1; off + 4 <= size && ops < 2000; off += 4, ops++) {
		do_op(data + off);
		if (pmm_free_pages(pmm) != model.free)
			abort();
		if (ops % 16 == 0 && pmm_check(pmm, false) != 0)
			abort();
	}
	while (model.n_live)
		do_free_live(0);
	if (pmm_check(pmm, true) != 0 || pmm_free_pages(pmm) != model.free)
		abort();
	return 0;
}
