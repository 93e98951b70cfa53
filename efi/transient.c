/*
 * transient.c: after ExitBootServices, the frames that stay live until the
 * mode switch, and page-table frames from the PMM (issue 3).
 *
 * Right after ExitBootServices the PMM (built from the final map) sees all
 * boot-services memory as free, yet the CPU still depends on some of it
 * until the trampoline loads our CR3 and GDT:
 *
 *   what                          class in the map   how it is kept alive
 *   firmware page tables (CR3     boot services      walked from CR3 (4 or 5
 *   tree, every table page)                          levels), each table frame
 *                                                    pmm_reserve'd ("taken")
 *   firmware GDT and IDT          boot services      GDTR/IDTR pages reserved
 *                                                    (the IDT only matters if an
 *                                                    NMI or fault hits)
 *   the loader's stack            loader data        allocated before exit; the
 *                                                    loader switched onto it
 *                                                    (efi/stackswitch.S), so the
 *                                                    firmware's stack is dead
 *   PMM build scratch             loader data        used by pmmh_build only
 *   trampoline page               loader code        identity mapped; the kernel
 *                                                    unmaps it before release
 *
 * Loader-class frames are reserved by the PMM's policy anyway; they are only
 * listed. Each frame is recorded in bi->transient[] (sorted, adjacent frames
 * of one kind merged); the kernel releases exactly those ranges once it runs
 * on its own directory (kernel/boot_reclaim.c). Frames taken but not listed
 * (table full) stay reserved and are counted in transient_unlisted.
 *
 * Page-table frames for pdbuild then come from pmm_alloc(order 0). A frame
 * is used only if the firmware's tables map it present and writable: OVMF
 * maps DXE driver code (boot-services code, free after the exit) read-only,
 * firmware with use-after-free guards unmaps free pages, and CR0.WP is on.
 * A refused frame is held until the directory is built and then freed.
 */
#include "loader.h"
#include "../arch/x86/pdbuild.h"
#include "../arch/x86/fwpt.h"
#include <mmboot/pmm.h>

#define TR_CR4_LA57     (1ull << 12)
#define TR_CR0_WP       (1ull << 16)
#define TR_ENTRY_BUDGET (1u << 22)   /* entries read at most (OVMF: ~526 K) */
#define TR_REJECT_MAX   16u

static uint64_t tr_cr(int n)
{
	uint64_t v = 0;
	if (n == 0)
		__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	else if (n == 3)
		__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	else
		__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static uint32_t tr_levels(void)
{
	return (tr_cr(4) & TR_CR4_LA57) ? 5u : 4u;
}

/* The firmware identity-maps physical memory: a table is at its address. */
static const uint64_t *tr_table(void *ctx, uint64_t pa)
{
	(void)ctx;
	return (const uint64_t *)(uintptr_t)pa;
}

struct tr_take_ctx {
	struct pmm *pmm;          /* frames are reserved here */
	struct bootinfo *bi;      /* and listed here */
	uint32_t kind;            /* BI_TR_* of what is being taken */
};

/* Take one frame out of the PMM's free pool and list it. Frames that are not
 * free (reserved, holes, above the span, already taken) need nothing: the
 * PMM never hands them out. */
static void tr_take(void *ctx, uint64_t pa, uint32_t level)
{
	(void)level;
	struct tr_take_ctx *c = ctx;
	if (pa >= PADDR_4G || pmm_reserve(c->pmm, pa, pa + PAGE_SIZE) != 1)
		return;
	c->bi->transient_taken++;
	if (bi_transient_add(c->bi, pa, 1, c->kind))
		c->bi->transient_unlisted++;
}

/* A loader-owned range (reserved by the PMM's policy): list it only. */
static void tr_list_loader(struct bootinfo *bi, uint64_t pa, uint32_t pages, uint32_t kind)
{
	if (pa && pages && bi_transient_add(bi, pa, pages, kind))
		bi->transient_unlisted += pages;
}

static void tr_desc_table(struct tr_take_ctx *c, int idt)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } r;
	if (idt)
		__asm__ volatile("sidt %0" : "=m"(r));
	else
		__asm__ volatile("sgdt %0" : "=m"(r));
	uint64_t lo = ALIGN_DOWN(r.base, (uint64_t)PAGE_SIZE);
	uint64_t hi = ALIGN_UP(r.base + r.limit + 1, (uint64_t)PAGE_SIZE);
	c->kind = BI_TR_FW_DESC_TABLE;
	for (uint64_t pa = lo; pa < hi; pa += PAGE_SIZE)
		tr_take(c, pa, 0);
}

void transient_reserve(const struct boot_layout *L, struct pmm *p, struct bootinfo *bi)
{
	struct tr_take_ctx c = { p, bi, BI_TR_FW_PAGE_TABLE };
	const struct fwpt_ops ops = { &c, tr_table, tr_take };
	struct fwpt_stats st;
	fwpt_walk(&ops, tr_cr(3), tr_levels(), TR_ENTRY_BUDGET, &st);
	tr_desc_table(&c, 0);
	tr_desc_table(&c, 1);
	tr_list_loader(bi, L->lstack_pa, LSTACK_PAGES, BI_TR_LOADER_STACK);
	tr_list_loader(bi, L->pmm_scratch_pa, L->pmm_scratch_pages, BI_TR_PMM_SCRATCH);
	tr_list_loader(bi, L->tramp_pa, 1, BI_TR_TRAMPOLINE);
	mm_printf("transient: firmware tables %u pages (%u-level, %u entries read%s), %u frames "
	          "taken from the PMM; %u ranges, %u pages listed, %u unlisted\n", st.tables,
	          tr_levels(), st.entries, st.budget_hit ? ", BUDGET HIT" : "", bi->transient_taken,
	          bi->transient_count, bi->transient_pages, bi->transient_unlisted);
}

/* Is va mapped present and writable by the firmware's (live) tables? */
static int tr_fw_writable(uint64_t va)
{
	const struct fwpt_ops ops = { 0, tr_table, 0 };
	return fwpt_writable(&ops, tr_cr(3), tr_levels(), va, (tr_cr(0) & TR_CR0_WP) != 0);
}

struct tr_src {
	struct pmm *pmm;                 /* frames come from here */
	paddr_t rejected[TR_REJECT_MAX]; /* frames the firmware does not map writable */
	uint32_t nrej;                   /* entries used */
	uint32_t given;                  /* frames handed to pdbuild */
};
static struct tr_src tr_src;

static int tr_frame_alloc(void *ctx, paddr_t *pa, void **ptr)
{
	struct tr_src *s = ctx;
	while (s->nrej < TR_REJECT_MAX) {
		paddr_t f = pmm_alloc(s->pmm, 0, 0);
		if (f == PADDR_NONE)
			return -MM_ENOMEM;
		if (tr_fw_writable(f)) {
			*pa = f;
			*ptr = (void *)(uintptr_t)f;
			s->given++;
			return 0;
		}
		s->rejected[s->nrej++] = f;
	}
	return -MM_ENOMEM;
}

static const struct pdb_frame_src tr_frame_src = { &tr_src, tr_frame_alloc };

const struct pdb_frame_src *transient_frame_src(struct pmm *p)
{
	mm_memset(&tr_src, 0, sizeof(tr_src));
	tr_src.pmm = p;
	return &tr_frame_src;
}

uint32_t transient_frame_src_done(void)
{
	for (uint32_t i = 0; i < tr_src.nrej; i++)
		pmm_free(tr_src.pmm, tr_src.rejected[i], 0);
	if (tr_src.nrej)
		mm_printf("transient: %u PMM frames not mapped writable by the firmware, skipped "
		          "(first 0x%llx)\n", tr_src.nrej, (unsigned long long)tr_src.rejected[0]);
	return tr_src.given;
}
