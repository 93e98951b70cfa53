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
 * is used only if the firmware's tables map it present and writable (firmware
 * with use-after-free guards may unmap free pages); a refused frame is held
 * until the directory is built and then freed again.
 */
#include "loader.h"
#include "../arch/x86/pdbuild.h"
#include <mmboot/pmm.h>

#define TR_ADDR_MASK   0x000FFFFFFFFFF000ull   /* bits 51:12 of a paging entry */
#define TR_P           0x1ull
#define TR_RW          0x2ull
#define TR_PS          0x80ull
#define TR_CR4_LA57    (1ull << 12)
#define TR_CR0_WP      (1ull << 16)
#define TR_ENTRY_BUDGET (1u << 22)             /* entries examined at most (a cycle guard) */
#define TR_REJECT_MAX  16u

struct tr_walk {
	struct pmm *pmm;               /* where frames are reserved */
	struct bootinfo *bi;           /* where they are listed */
	uint64_t path[6];              /* tables on the current path (cycle guard) */
	uint32_t entries;              /* entries examined so far */
	uint32_t tables;               /* table pages found */
};

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

static uint64_t tr_end(const struct bootinfo_range *r)
{
	return r->pa + (uint64_t)r->pages * PAGE_SIZE;
}

static void tr_remove_at(struct bootinfo *bi, uint32_t i)
{
	for (uint32_t k = i; k + 1 < bi->transient_count; k++)
		bi->transient[k] = bi->transient[k + 1];
	bi->transient_count--;
}

/* List [pa, pa + pages) of one kind, keeping the list sorted and merged.
 * 0, or -1 when the list is full (the caller counts the frames unlisted). */
static int tr_list(struct bootinfo *bi, uint64_t pa, uint32_t pages, uint32_t kind)
{
	struct bootinfo_range *t = bi->transient;
	uint32_t i = 0, n = bi->transient_count;
	uint64_t end = pa + (uint64_t)pages * PAGE_SIZE;
	while (i < n && t[i].pa < pa)
		i++;
	if (i > 0 && t[i - 1].kind == kind && tr_end(&t[i - 1]) == pa) {
		t[i - 1].pages += pages;
		if (i < n && t[i].kind == kind && t[i].pa == end) {
			t[i - 1].pages += t[i].pages;
			tr_remove_at(bi, i);
		}
	} else if (i < n && t[i].kind == kind && t[i].pa == end) {
		t[i].pa = pa;
		t[i].pages += pages;
	} else {
		if (n == BOOTINFO_TRANSIENT_MAX)
			return -1;
		for (uint32_t k = n; k > i; k--)
			t[k] = t[k - 1];
		t[i] = (struct bootinfo_range){ pa, pages, kind };
		bi->transient_count++;
	}
	bi->transient_pages += pages;
	return 0;
}

/* Take one frame out of the PMM's free pool and list it. Frames that are not
 * free (reserved, holes, above the span) need nothing: the PMM never hands
 * them out. */
static void tr_take(struct pmm *p, struct bootinfo *bi, uint64_t pa, uint32_t kind)
{
	if (pa >= PADDR_4G)
		return;
	if (pmm_reserve(p, pa, pa + PAGE_SIZE) != 1)
		return;
	bi->transient_taken++;
	if (tr_list(bi, pa, 1, kind))
		bi->transient_unlisted++;
}

/* A loader-owned range (reserved by the PMM's policy): list it only. */
static void tr_list_loader(struct bootinfo *bi, uint64_t pa, uint32_t pages, uint32_t kind)
{
	if (pa && pages && tr_list(bi, pa, pages, kind))
		bi->transient_unlisted += pages;
}

static int tr_on_path(const struct tr_walk *w, uint64_t table, uint32_t depth)
{
	for (uint32_t k = 0; k < depth; k++)
		if (w->path[k] == table)
			return 1;
	return 0;
}

/* Reserve table (a level-`level` table, 1 = page table) and everything below. */
static void tr_walk_table(struct tr_walk *w, uint64_t table, uint32_t level, uint32_t depth)
{
	tr_take(w->pmm, w->bi, table, BI_TR_FW_PAGE_TABLE);
	w->tables++;
	if (level == 1)
		return;
	w->path[depth] = table;
	const volatile uint64_t *e = (const volatile uint64_t *)(uintptr_t)table;
	for (uint32_t i = 0; i < 512 && w->entries < TR_ENTRY_BUDGET; i++, w->entries++) {
		uint64_t v = e[i];
		if (!(v & TR_P) || (level <= 3 && (v & TR_PS)))
			continue;   /* absent, or a 1 GiB / 2 MiB page */
		uint64_t next = v & TR_ADDR_MASK;
		if (!tr_on_path(w, next, depth + 1))
			tr_walk_table(w, next, level - 1, depth + 1);
	}
}

static void tr_desc_table(struct pmm *p, struct bootinfo *bi, int idt)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } r;
	if (idt)
		__asm__ volatile("sidt %0" : "=m"(r));
	else
		__asm__ volatile("sgdt %0" : "=m"(r));
	uint64_t lo = ALIGN_DOWN(r.base, (uint64_t)PAGE_SIZE);
	uint64_t hi = ALIGN_UP(r.base + r.limit + 1, (uint64_t)PAGE_SIZE);
	for (uint64_t pa = lo; pa < hi; pa += PAGE_SIZE)
		tr_take(p, bi, pa, BI_TR_FW_DESC_TABLE);
}

void transient_reserve(const struct boot_layout *L, struct pmm *p, struct bootinfo *bi)
{
	struct tr_walk w = { .pmm = p, .bi = bi };
	tr_walk_table(&w, tr_cr(3) & TR_ADDR_MASK, tr_levels(), 0);
	tr_desc_table(p, bi, 0);
	tr_desc_table(p, bi, 1);
	tr_list_loader(bi, L->lstack_pa, LSTACK_PAGES, BI_TR_LOADER_STACK);
	tr_list_loader(bi, L->pmm_scratch_pa, L->pmm_scratch_pages, BI_TR_PMM_SCRATCH);
	tr_list_loader(bi, L->tramp_pa, 1, BI_TR_TRAMPOLINE);
	mm_printf("transient: firmware tables %u pages (%u-level, %u entries read), %u frames taken "
	          "from the PMM; %u ranges, %u pages listed, %u unlisted\n",
	          w.tables, tr_levels(), w.entries, bi->transient_taken, bi->transient_count,
	          bi->transient_pages, bi->transient_unlisted);
}

/* Is va mapped present and writable by the firmware's (live) tables? */
static int tr_fw_writable(uint64_t va)
{
	uint64_t table = tr_cr(3) & TR_ADDR_MASK, rw = TR_RW;
	for (uint32_t level = tr_levels(); level >= 1; level--) {
		uint64_t v = ((const volatile uint64_t *)(uintptr_t)table)[(va >> (12 + 9 * (level - 1))) & 511];
		if (!(v & TR_P))
			return 0;
		rw &= v;
		if (level == 1 || (level <= 3 && (v & TR_PS)))
			break;
		table = v & TR_ADDR_MASK;
	}
	return (rw & TR_RW) || !(tr_cr(0) & TR_CR0_WP);
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
		mm_printf("transient: %u PMM frames not mapped writable by the firmware, skipped\n",
		          tr_src.nrej);
	return tr_src.given;
}
