/*
 * pmm_model.h: the trivial model the buddy PMM is checked against, shared
 * by the differential test (tests/unit/test_pmm_diff.c) and the fuzzer
 * (tests/fuzz/fuzz_pmm.c). Header only; the includer owns one struct
 * pmm_model and reports disagreements its own way (fail_msg or abort).
 *
 * One state per 4 KiB frame of the first PMM_MODEL_SPAN frames: hole, free,
 * allocated, reserved, derived from the map and the policy independently of
 * mm/pmm.c (frame 0 is never handed out, frames below 1 MiB are held back,
 * the usable mask decides free vs reserved). The live list holds the blocks
 * the caller allocated and has not freed yet. From these the model answers
 * what the PMM must answer:
 *   pmm_model_has_run     is there an aligned free run (alloc may not fail)
 *   pmm_model_free_error  the error code of freeing any (pfn, order)
 *   pmm_model_range_want  the result of reserve / release of a range
 * and follows the PMM's successful operations (take, give, range_apply).
 *
 * Invariant: free == the number of M_FREE frames; live blocks are M_ALLOC.
 */
#ifndef MMBOOT_TESTS_PMM_MODEL_H
#define MMBOOT_TESTS_PMM_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <mmboot/pmm.h>
#include <mmboot/errno.h>

#define PMM_MODEL_SPAN 8192u          /* frames modelled (32 MiB) */
#ifndef PMM_MODEL_MAX_LIVE
#define PMM_MODEL_MAX_LIVE 4096u      /* live blocks tracked; the includer may lower it */
#endif

enum { M_HOLE = 0, M_FREE, M_ALLOC, M_RESERVED };

struct pmm_model {
	uint8_t frame[PMM_MODEL_SPAN];    /* M_* state of each frame */
	uint32_t free;                    /* frames in M_FREE */
	struct {
		uint32_t pfn;             /* first frame of the block */
		uint32_t order;           /* its order */
	} live[PMM_MODEL_MAX_LIVE];       /* allocated blocks not freed yet */
	uint32_t n_live;                  /* entries of live[] in use */
};

/* The model's view of map under the policy; usable: classes handed out. */
static inline void pmm_model_init(struct pmm_model *m, const struct memmap_range *map,
                                  uint32_t n, uint32_t usable)
{
	memset(m->frame, M_HOLE, sizeof(m->frame));
	for (uint32_t i = 0; i < n; i++) {
		if (!(MEMMAP_CLASS_BIT(map[i].cls) & MEMMAP_FREE_MASK))
			continue;
		uint8_t v = (MEMMAP_CLASS_BIT(map[i].cls) & usable) ? M_FREE : M_RESERVED;
		for (uint64_t f = map[i].start >> 12; f < map[i].end >> 12; f++)
			m->frame[f] = f == 0 ? M_HOLE : (f < 256 ? M_RESERVED : v);
	}
	m->free = 0;
	for (uint32_t f = 0; f < PMM_MODEL_SPAN; f++)
		m->free += m->frame[f] == M_FREE;
	m->n_live = 0;
}

/* First frame past the zone the PMM_ZONE_* flags allow. */
static inline uint32_t pmm_model_zone_limit(unsigned flags)
{
	if (flags & PMM_ZONE_1M)
		return 256;
	if (flags & PMM_ZONE_16M)
		return 4096;
	return PMM_MODEL_SPAN;
}

/* Is there an aligned run of 2^order free frames below limit? */
static inline bool pmm_model_has_run(const struct pmm_model *m, unsigned order, uint32_t limit)
{
	uint32_t len = 1u << order;
	for (uint32_t f = 0; f + len <= limit && f + len <= PMM_MODEL_SPAN; f += len) {
		uint32_t i = 0;
		while (i < len && m->frame[f + i] == M_FREE)
			i++;
		if (i == len)
			return true;
	}
	return false;
}

/* Mark the block at pfn allocated; the first frame of it that was not free
 * (nothing changed then), or UINT32_MAX. */
static inline uint32_t pmm_model_take(struct pmm_model *m, uint32_t pfn, unsigned order)
{
	uint32_t len = 1u << order;
	for (uint32_t i = 0; i < len; i++)
		if (m->frame[pfn + i] != M_FREE)
			return pfn + i;
	memset(m->frame + pfn, M_ALLOC, len);
	m->free -= len;
	return UINT32_MAX;
}

/* The block at pfn is free again. */
static inline void pmm_model_give(struct pmm_model *m, uint32_t pfn, unsigned order)
{
	uint32_t len = 1u << order;
	memset(m->frame + pfn, M_FREE, len);
	m->free += len;
}

/* Track a taken block; false when the live list is full. */
static inline bool pmm_model_push_live(struct pmm_model *m, uint32_t pfn, unsigned order)
{
	if (m->n_live == PMM_MODEL_MAX_LIVE)
		return false;
	m->live[m->n_live].pfn = pfn;
	m->live[m->n_live++].order = order;
	return true;
}

/* Live block idx was freed: give its frames back and forget it. */
static inline void pmm_model_drop_live(struct pmm_model *m, uint32_t idx)
{
	pmm_model_give(m, m->live[idx].pfn, m->live[idx].order);
	m->live[idx] = m->live[--m->n_live];
}

/* What pmm_free(pfn, order) must return per the model and the live list. */
static inline int pmm_model_free_error(const struct pmm_model *m, uint32_t pfn, unsigned order)
{
	if (order > PMM_MAX_ORDER)
		return -MM_EINVAL;
	if (pfn >= PMM_MODEL_SPAN)
		return -MM_ERANGE;
	if (pfn & ((1u << order) - 1))
		return -MM_EALIGN;
	for (uint32_t i = 0; i < m->n_live; i++) {
		uint32_t s = m->live[i].pfn, e = s + (1u << m->live[i].order);
		if (pfn == s)
			return m->live[i].order == order ? 0 : -MM_EORDER;
		if (pfn > s && pfn < e)
			return -MM_ENOTALLOC;
	}
	return m->frame[pfn] == M_FREE ? -MM_EDOUBLEFREE : -MM_ERESERVED;
}

/* What pmm_reserve / pmm_release_range of frames [s, e) must return: an
 * error, or 0 with *count the frames it changes. */
static inline int pmm_model_range_want(const struct pmm_model *m, uint32_t s, uint32_t e,
                                       bool release, uint32_t *count)
{
	int want = 0;
	*count = 0;
	for (uint32_t f = s; f < e; f++) {
		if (m->frame[f] == M_ALLOC)
			want = -MM_EBUSY;
		else if (!want && release && m->frame[f] == M_FREE)
			want = -MM_EDOUBLEFREE;
		*count += m->frame[f] == (release ? M_RESERVED : M_FREE);
	}
	return want;
}

/* Follow a successful reserve (free -> reserved) or release (reserved -> free). */
static inline void pmm_model_range_apply(struct pmm_model *m, uint32_t s, uint32_t e, bool release)
{
	for (uint32_t f = s; f < e; f++) {
		if (release && m->frame[f] == M_RESERVED && f != 0) {
			m->frame[f] = M_FREE;
			m->free++;
		} else if (!release && m->frame[f] == M_FREE) {
			m->frame[f] = M_RESERVED;
			m->free--;
		}
	}
}

#endif
