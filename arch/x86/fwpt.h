/*
 * fwpt: the firmware's x86_64 page tables as the loader sees them after
 * ExitBootServices, and the boot-info transient list (portable: the loader
 * runs it on the live tables, tests/unit/test_fwpt.c on a simulated tree).
 *
 *   fwpt_walk      visits every table page of the tree under CR3: 4 levels
 *                  (5 with CR4.LA57); a present entry of a level-3 or level-2
 *                  table with PS set is a 1 GiB / 2 MiB leaf, not a table; a
 *                  table already on the current path is not entered again
 *                  (a recursive self-map cannot loop), and at most `budget`
 *                  entries are read. Shared tables are reported once per
 *                  reference (the caller's take() must be idempotent).
 *   fwpt_writable  whether the tree maps va present and writable (RW is the
 *                  AND over all levels; with CR0.WP clear only P counts).
 *   bi_transient_add  inserts [pa, pa + pages) into bi->transient[]: sorted
 *                  by pa, a range touching a neighbour of the same kind merged
 *                  into it; -1 (list unchanged) when the list is full.
 *
 * Entry address bits are 51:12; NX (63) and protection keys (62:59) are
 * ignored. Nothing here touches a CPU register: table contents come from
 * the caller (ops->table), which maps a physical address to its 512 entries.
 */
#ifndef MMBOOT_ARCH_X86_FWPT_H
#define MMBOOT_ARCH_X86_FWPT_H

#include <stdbool.h>
#include <mmboot/types.h>
#include <mmboot/bootinfo.h>

#define FWPT_ADDR_MASK 0x000FFFFFFFFFF000ull   /* bits 51:12 of an entry */
#define FWPT_P         0x1ull
#define FWPT_RW        0x2ull
#define FWPT_PS        0x80ull
#define FWPT_MAX_LEVELS 5u

struct fwpt_ops {
	void *ctx;                                             /* caller state */
	const uint64_t *(*table)(void *ctx, uint64_t pa);      /* the 512 entries at pa, or NULL */
	void (*take)(void *ctx, uint64_t pa, uint32_t level);  /* a table page (level 1..5) */
};

struct fwpt_stats {
	uint32_t tables;      /* table pages reported to take() */
	uint32_t entries;     /* entries read */
	uint32_t large;       /* 1 GiB / 2 MiB leaves seen */
	uint32_t cycles;      /* entries pointing back into the current path (skipped) */
	uint32_t budget_hit;  /* 1 if the entry budget stopped the walk */
};

void fwpt_walk(const struct fwpt_ops *ops, uint64_t root, uint32_t levels, uint32_t budget,
               struct fwpt_stats *st);
bool fwpt_writable(const struct fwpt_ops *ops, uint64_t root, uint32_t levels, uint64_t va,
                   bool wp);
int bi_transient_add(struct bootinfo *bi, uint64_t pa, uint32_t pages, uint32_t kind);

#endif
