/*
 * fwpt.c: firmware page-table walk and the boot-info transient list (see
 * fwpt.h). The walk is a depth-first recursion of at most FWPT_MAX_LEVELS
 * frames; `path` holds the tables above the current one.
 */
#include "fwpt.h"

struct fwpt_walker {
	const struct fwpt_ops *ops;         /* table access and the take() callback */
	struct fwpt_stats *st;              /* counters */
	uint32_t budget;                    /* entries that may still be read */
	uint64_t path[FWPT_MAX_LEVELS];     /* tables on the current path */
};

static bool fwpt_on_path(const struct fwpt_walker *w, uint64_t pa, uint32_t depth)
{
	for (uint32_t k = 0; k < depth; k++)
		if (w->path[k] == pa)
			return true;
	return false;
}

static void fwpt_visit(struct fwpt_walker *w, uint64_t table, uint32_t level, uint32_t depth)
{
	w->ops->take(w->ops->ctx, table, level);
	w->st->tables++;
	const uint64_t *e = level > 1 ? w->ops->table(w->ops->ctx, table) : 0;
	if (!e)
		return;
	w->path[depth] = table;
	for (uint32_t i = 0; i < 512; i++) {
		if (w->budget == 0) {
			w->st->budget_hit = 1;
			return;
		}
		w->budget--;
		w->st->entries++;
		uint64_t v = e[i];
		if (!(v & FWPT_P))
			continue;
		if (level <= 3 && (v & FWPT_PS)) {
			w->st->large++;
			continue;
		}
		uint64_t next = v & FWPT_ADDR_MASK;
		if (fwpt_on_path(w, next, depth + 1))
			w->st->cycles++;
		else
			fwpt_visit(w, next, level - 1, depth + 1);
	}
}

void fwpt_walk(const struct fwpt_ops *ops, uint64_t root, uint32_t levels, uint32_t budget,
               struct fwpt_stats *st)
{
	struct fwpt_walker w = { ops, st, budget, { 0 } };
	*st = (struct fwpt_stats){ 0 };
	if (levels < 2 || levels > FWPT_MAX_LEVELS)
		return;
	fwpt_visit(&w, root & FWPT_ADDR_MASK, levels, 0);
}

bool fwpt_writable(const struct fwpt_ops *ops, uint64_t root, uint32_t levels, uint64_t va,
                   bool wp)
{
	uint64_t table = root & FWPT_ADDR_MASK, rw = FWPT_RW;
	for (uint32_t level = levels; level >= 1 && level <= FWPT_MAX_LEVELS; level--) {
		const uint64_t *e = ops->table(ops->ctx, table);
		if (!e)
			return false;
		uint64_t v = e[(va >> (12 + 9 * (level - 1))) & 511u];
		if (!(v & FWPT_P))
			return false;
		rw &= v;
		if (level == 1 || (level <= 3 && (v & FWPT_PS)))
			return (rw & FWPT_RW) || !wp;
		table = v & FWPT_ADDR_MASK;
	}
	return false;
}

static uint64_t fwpt_range_end(const struct bootinfo_range *r)
{
	return r->pa + (uint64_t)r->pages * PAGE_SIZE;
}

static void fwpt_remove_at(struct bootinfo *bi, uint32_t i)
{
	for (uint32_t k = i; k + 1 < bi->transient_count; k++)
		bi->transient[k] = bi->transient[k + 1];
	bi->transient_count--;
}

int bi_transient_add(struct bootinfo *bi, uint64_t pa, uint32_t pages, uint32_t kind)
{
	struct bootinfo_range *t = bi->transient;
	uint32_t i = 0, n = bi->transient_count;
	uint64_t end = pa + (uint64_t)pages * PAGE_SIZE;
	while (i < n && t[i].pa < pa)
		i++;
	if (i > 0 && t[i - 1].kind == kind && fwpt_range_end(&t[i - 1]) == pa) {
		t[i - 1].pages += pages;
		if (i < n && t[i].kind == kind && t[i].pa == end) {
			t[i - 1].pages += t[i].pages;
			fwpt_remove_at(bi, i);
		}
	} else if (i < n && t[i].kind == kind && t[i].pa == end) {
		t[i].pa = pa;
		t[i].pages += pages;
	} else {
		if (n >= BOOTINFO_TRANSIENT_MAX)
			return -1;
		for (uint32_t k = n; k > i; k--)
			t[k] = t[k - 1];
		t[i] = (struct bootinfo_range){ pa, pages, kind };
		bi->transient_count++;
	}
	bi->transient_pages += pages;
	return 0;
}
