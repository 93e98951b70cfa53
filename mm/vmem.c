/*
 * Virtual range arena and range tree: the O(1) / O(log n) allocator under
 * the region layer. Theory in include/mmboot/vmem.h; summary:
 *
 *   address list  [alloc A][free F1][alloc B][alloc C][free F2 ..........]
 *   free lists    class = pages - 1 for 1..64 pages (exact), else
 *                 64 + floor(log2 pages): F1 on its class, F2 on its
 *   mask          bit k set iff list k non-empty (96 bits)
 *
 * Invariants (vmem_check):
 *   - segments tile [lo, hi) in address order without gaps;
 *   - no two free segments are adjacent (freeing coalesces);
 *   - a free segment is on freelist[class_of(pages)], allocated ones on none;
 *   - free_pages / nfree / nalloc match the list.
 *
 * Fit: a request of n pages takes the first non-empty class whose every
 * segment is long enough -- exact class n-1 for n <= 64, else
 * 64 + ceil(log2 n) -- found with at most three find-first-set steps, and
 * splits from the segment's low end; the remainder stays free (re-filed if
 * its class changed). So a request of up to 64 pages (256 KiB) succeeds in
 * O(1) whenever any free segment fits. Only a request of more than 64
 * pages, not a power of two, with no larger class non-empty, looks at its
 * own class (segments there may be too short), and at most VMEM_SCAN_MAX
 * segments of it: past that it fails although a fitting segment may exist
 * further down the list (the arena is then nearly full of holes smaller
 * than the next power of two). Aligned requests (physical mappings, rare)
 * scan the lists from the smallest class that could hold the aligned run.
 *
 * Range tree: red-black tree (CLRS, parent pointers, iterative). Nodes are
 * disjoint ranges; find(va) descends comparing va with [lo, lo + pages).
 */
#include <mmboot/vmem.h>
#include <mmboot/errno.h>
#include <mmboot/mm_env.h>

static inline vaddr_t seg_end(const struct vmem_seg *s)
{
	return s->base + s->pages * PAGE_SIZE;
}

static inline uint32_t floor_log2(uint32_t x)
{
	return 31u - (uint32_t)__builtin_clz(x);
}

static inline uint32_t ceil_log2(uint32_t x)
{
	return x <= 1 ? 0 : floor_log2(x - 1) + 1;
}

/* Free-list class of a free segment of `pages` pages: exact for small
 * segments, power of two above (see vmem.h). */
static inline uint32_t class_of(uint32_t pages)
{
	return pages <= VMEM_EXACT ? pages - 1u : VMEM_EXACT + floor_log2(pages);
}

static inline void mask_set(struct vmem *vm, uint32_t k)
{
	vm->nonempty[k >> 5] |= 1u << (k & 31u);
}

static inline void mask_clear(struct vmem *vm, uint32_t k)
{
	vm->nonempty[k >> 5] &= ~(1u << (k & 31u));
}

static inline bool mask_has(const struct vmem *vm, uint32_t k)
{
	return vm->nonempty[k >> 5] & (1u << (k & 31u));
}

/* First non-empty class >= k, or VMEM_CLASSES: at most VMEM_MASK_WORDS
 * find-first-set steps. */
static inline uint32_t first_nonempty(const struct vmem *vm, uint32_t k)
{
	for (uint32_t w = k >> 5; w < VMEM_MASK_WORDS; w++) {
		uint32_t m = vm->nonempty[w];
		if (w == k >> 5)
			m &= ~0u << (k & 31u);
		if (m)
			return w * 32u + (uint32_t)__builtin_ctz(m);
	}
	return VMEM_CLASSES;
}

/* ---- free lists ---- */

static void fl_insert(struct vmem *vm, struct vmem_seg *s)
{
	uint32_t k = class_of(s->pages);
	s->cls = k;
	s->fprev = NULL;
	s->fnext = vm->freelist[k];
	if (s->fnext)
		s->fnext->fprev = s;
	vm->freelist[k] = s;
	mask_set(vm, k);
}

static void fl_remove(struct vmem *vm, struct vmem_seg *s)
{
	if (s->fprev)
		s->fprev->fnext = s->fnext;
	else
		vm->freelist[s->cls] = s->fnext;
	if (s->fnext)
		s->fnext->fprev = s->fprev;
	if (!vm->freelist[s->cls])
		mask_clear(vm, s->cls);
	s->fprev = s->fnext = NULL;
}

/* Re-file a free segment whose length changed. */
static void fl_refile(struct vmem *vm, struct vmem_seg *s)
{
	if (class_of(s->pages) != s->cls) {
		fl_remove(vm, s);
		fl_insert(vm, s);
	}
}

/* ---- address list ---- */

static void al_insert_before(struct vmem *vm, struct vmem_seg *s, struct vmem_seg *at)
{
	s->anext = at;
	s->aprev = at->aprev;
	if (at->aprev)
		at->aprev->anext = s;
	else
		vm->first = s;
	at->aprev = s;
}

static void al_insert_after(struct vmem_seg *s, struct vmem_seg *at)
{
	s->aprev = at;
	s->anext = at->anext;
	if (at->anext)
		at->anext->aprev = s;
	at->anext = s;
}

static void al_remove(struct vmem *vm, struct vmem_seg *s)
{
	if (s->aprev)
		s->aprev->anext = s->anext;
	else
		vm->first = s->anext;
	if (s->anext)
		s->anext->aprev = s->aprev;
}

int vmem_init(struct vmem *vm, vaddr_t lo, vaddr_t hi,
              struct vmem_seg *(*seg_get)(void *ctx),
              void (*seg_put)(void *ctx, struct vmem_seg *s), void *ctx)
{
	if (!IS_ALIGNED(lo, PAGE_SIZE) || !IS_ALIGNED(hi, PAGE_SIZE) || hi <= lo)
		return -MM_EINVAL;
	mm_memset(vm, 0, sizeof(*vm));
	vm->lo = lo;
	vm->hi = hi;
	vm->seg_get = seg_get;
	vm->seg_put = seg_put;
	vm->ctx = ctx;
	struct vmem_seg *s = seg_get(ctx);
	if (!s)
		return -MM_ENOMEM;
	mm_memset(s, 0, sizeof(*s));
	s->base = lo;
	s->pages = (hi - lo) >> PAGE_SHIFT;
	s->free = 1;
	vm->first = s;
	fl_insert(vm, s);
	vm->free_pages = s->pages;
	vm->nfree = 1;
	return 0;
}

/* Descriptors a cut needs: one unless the fit is exact, two for a middle cut. */
static bool cut_descs(struct vmem *vm, uint32_t need, struct vmem_seg **a, struct vmem_seg **h)
{
	*a = *h = NULL;
	if (need >= 1 && !(*a = vm->seg_get(vm->ctx)))
		return false;
	if (need == 2 && !(*h = vm->seg_get(vm->ctx))) {
		vm->seg_put(vm->ctx, *a);
		*a = NULL;
		return false;
	}
	return true;
}

/* Middle cut: f keeps the low remainder, a is [va, end), h the high remainder. */
static void cut_middle(struct vmem *vm, struct vmem_seg *f, struct vmem_seg *a,
                       struct vmem_seg *h, vaddr_t va, vaddr_t end)
{
	mm_memset(h, 0, sizeof(*h));
	h->base = end;
	h->pages = (seg_end(f) - end) >> PAGE_SHIFT;
	h->free = 1;
	f->pages = (va - f->base) >> PAGE_SHIFT;
	fl_refile(vm, f);
	al_insert_after(a, f);
	al_insert_after(h, a);
	fl_insert(vm, h);
	vm->nfree++;
}

/* Take [va, va + pages) out of free segment f (va inside f); returns the new
 * allocated segment or NULL when descriptors ran out (f unchanged). */
static struct vmem_seg *carve(struct vmem *vm, struct vmem_seg *f, vaddr_t va, uint32_t pages)
{
	vaddr_t end = va + pages * PAGE_SIZE;
	bool need_lo = va > f->base, need_hi = end < seg_end(f);
	struct vmem_seg *a, *h;
	if (!cut_descs(vm, (uint32_t)need_lo + (uint32_t)need_hi, &a, &h))
		return NULL;
	if (!a) {                          /* exact fit: f becomes allocated */
		fl_remove(vm, f);
		f->free = 0;
		vm->nfree--;
		a = f;
	} else {
		mm_memset(a, 0, sizeof(*a));
		a->base = va;
		a->pages = pages;
		if (!need_lo) {               /* low end: f keeps the high remainder */
			al_insert_before(vm, a, f);
			f->base = end;
			f->pages -= pages;
			fl_refile(vm, f);
		} else if (!need_hi) {        /* high end: f keeps the low remainder */
			al_insert_after(a, f);
			f->pages -= pages;
			fl_refile(vm, f);
		} else {
			cut_middle(vm, f, a, h, va, end);
		}
	}
	vm->nalloc++;
	vm->free_pages -= pages;
	return a;
}

/* First va inside free segment s with va = phase (mod align) and room for
 * pages, or 0. */
static vaddr_t aligned_fit(const struct vmem_seg *s, uint32_t pages, uint32_t align_pages,
                           uint32_t phase_pages)
{
	uint64_t a = (uint64_t)align_pages * PAGE_SIZE, ph = (uint64_t)phase_pages * PAGE_SIZE;
	uint64_t va = (((uint64_t)s->base + a - ph + a - 1) & ~(a - 1)) - a + ph;
	if (va < s->base)
		va += a;
	if (va + (uint64_t)pages * PAGE_SIZE <= seg_end(s))
		return (vaddr_t)va;
	return 0;
}

static struct vmem_seg *alloc_aligned(struct vmem *vm, uint32_t pages, uint32_t align_pages,
                                      uint32_t phase_pages)
{
	for (uint32_t k = class_of(pages); k < VMEM_CLASSES; k++) {
		if (!mask_has(vm, k))
			continue;
		for (struct vmem_seg *s = vm->freelist[k]; s; s = s->fnext) {
			vaddr_t va = aligned_fit(s, pages, align_pages, phase_pages);
			if (va)
				return carve(vm, s, va, pages);
		}
	}
	return NULL;
}

struct vmem_seg *vmem_alloc_phase(struct vmem *vm, uint32_t pages, uint32_t align_pages,
                                  uint32_t phase_pages)
{
	if (pages == 0 || pages > (vm->hi - vm->lo) >> PAGE_SHIFT || align_pages == 0 ||
	    (align_pages & (align_pages - 1)) || phase_pages >= align_pages)
		return NULL;
	return alloc_aligned(vm, pages, align_pages, phase_pages);
}

struct vmem_seg *vmem_alloc(struct vmem *vm, uint32_t pages, uint32_t align_pages)
{
	if (pages == 0 || pages > (vm->hi - vm->lo) >> PAGE_SHIFT)
		return NULL;
	if (align_pages > 1)
		return alloc_aligned(vm, pages, align_pages, 0);
	/* every segment of class >= want has >= pages pages */
	uint32_t want = pages <= VMEM_EXACT ? pages - 1u : VMEM_EXACT + ceil_log2(pages);
	uint32_t k = want < VMEM_CLASSES ? first_nonempty(vm, want) : VMEM_CLASSES;
	if (k < VMEM_CLASSES) {
		struct vmem_seg *s = vm->freelist[k];
		return carve(vm, s, s->base, pages);
	}
	if (pages <= VMEM_EXACT || class_of(pages) == want)
		return NULL;                    /* no free segment is long enough */
	/* large, not a power of two, no larger class: a capped look at its own class */
	uint32_t n = 0;
	for (struct vmem_seg *s = vm->freelist[class_of(pages)]; s && n < VMEM_SCAN_MAX; s = s->fnext, n++)
		if (s->pages >= pages) {
			vm->scan_steps += n + 1;
			return carve(vm, s, s->base, pages);
		}
	vm->scan_steps += n;
	return NULL;
}

/* Free segment containing va, found from the address list (rare path). */
static struct vmem_seg *find_free_containing(struct vmem *vm, vaddr_t va)
{
	for (struct vmem_seg *s = vm->first; s; s = s->anext)
		if (va >= s->base && va < seg_end(s))
			return s->free ? s : NULL;
	return NULL;
}

struct vmem_seg *vmem_alloc_at(struct vmem *vm, vaddr_t va, uint32_t pages)
{
	if (pages == 0 || !IS_ALIGNED(va, PAGE_SIZE) || va < vm->lo ||
	    (uint64_t)va + (uint64_t)pages * PAGE_SIZE > vm->hi)
		return NULL;
	struct vmem_seg *f = find_free_containing(vm, va);
	if (!f || va + pages * PAGE_SIZE > seg_end(f))
		return NULL;
	return carve(vm, f, va, pages);
}

int vmem_extend(struct vmem *vm, struct vmem_seg *s, uint32_t extra)
{
	struct vmem_seg *n = s->anext;
	if (extra == 0)
		return 0;
	if (!n || !n->free || n->pages < extra)
		return -MM_ENOMEM;
	s->pages += extra;
	vm->free_pages -= extra;
	if (n->pages == extra) {
		fl_remove(vm, n);
		al_remove(vm, n);
		vm->nfree--;
		vm->seg_put(vm->ctx, n);
	} else {
		n->base += extra * PAGE_SIZE;
		n->pages -= extra;
		fl_refile(vm, n);
	}
	return 0;
}

/* Merge free segment b into its free lower neighbour a (b is released). */
static void merge_into(struct vmem *vm, struct vmem_seg *a, struct vmem_seg *b)
{
	fl_remove(vm, b);
	al_remove(vm, b);
	a->pages += b->pages;
	vm->nfree--;
	vm->seg_put(vm->ctx, b);
	fl_refile(vm, a);
}

void vmem_free(struct vmem *vm, struct vmem_seg *s)
{
	MM_ASSERT(!s->free);
	s->free = 1;
	vm->nalloc--;
	vm->nfree++;
	vm->free_pages += s->pages;
	fl_insert(vm, s);
	if (s->anext && s->anext->free)
		merge_into(vm, s, s->anext);
	if (s->aprev && s->aprev->free)
		merge_into(vm, s->aprev, s);
}

static uint32_t check_fl(const struct vmem *vm, bool verbose)
{
	uint32_t bad = 0, n = 0;
	for (uint32_t k = 0; k < VMEM_CLASSES; k++) {
		bool has = vm->freelist[k] != NULL;
		if (has != mask_has(vm, k))
			bad++;
		for (const struct vmem_seg *s = vm->freelist[k]; s; s = s->fnext, n++) {
			if (!s->free || s->cls != k || class_of(s->pages) != k) {
				if (verbose)
					mm_printf("vmem: seg 0x%x+%u on wrong list %u\n", s->base, s->pages, k);
				bad++;
			}
			if (n > vm->nfree)
				return bad + 1;       /* cycle */
		}
	}
	return bad + (n != vm->nfree);
}

uint32_t vmem_check(const struct vmem *vm, bool verbose)
{
	uint32_t bad = 0, nf = 0, na = 0, fp = 0;
	vaddr_t at = vm->lo;
	const struct vmem_seg *prev = NULL;
	for (const struct vmem_seg *s = vm->first; s; prev = s, s = s->anext) {
		if (s->base != at || s->pages == 0 || s->aprev != prev) {
			if (verbose)
				mm_printf("vmem: seg 0x%x+%u breaks the tiling at 0x%x\n", s->base, s->pages, at);
			return bad + 1;
		}
		if (s->free && prev && prev->free) {
			if (verbose)
				mm_printf("vmem: adjacent free segs at 0x%x\n", s->base);
			bad++;
		}
		if (s->free) {
			nf++;
			fp += s->pages;
		} else {
			na++;
		}
		at = seg_end(s);
		if (at == vm->hi && s->anext)
			return bad + 1;
	}
	if (at != vm->hi || nf != vm->nfree || na != vm->nalloc || fp != vm->free_pages) {
		if (verbose)
			mm_printf("vmem: end 0x%x free %u/%u alloc %u/%u pages %u/%u\n",
			          at, nf, vm->nfree, na, vm->nalloc, fp, vm->free_pages);
		bad++;
	}
	return bad + check_fl(vm, verbose);
}

/* ---- red-black range tree ---- */

static inline vaddr_t rb_end(const struct vmem_rb *n)
{
	return n->lo + n->pages * PAGE_SIZE;
}

static void rb_rotate_left(struct vmem_tree *t, struct vmem_rb *x)
{
	struct vmem_rb *y = x->right;
	x->right = y->left;
	if (y->left)
		y->left->parent = x;
	y->parent = x->parent;
	if (!x->parent)
		t->root = y;
	else if (x == x->parent->left)
		x->parent->left = y;
	else
		x->parent->right = y;
	y->left = x;
	x->parent = y;
}

static void rb_rotate_right(struct vmem_tree *t, struct vmem_rb *x)
{
	struct vmem_rb *y = x->left;
	x->left = y->right;
	if (y->right)
		y->right->parent = x;
	y->parent = x->parent;
	if (!x->parent)
		t->root = y;
	else if (x == x->parent->right)
		x->parent->right = y;
	else
		x->parent->left = y;
	y->right = x;
	x->parent = y;
}

static void rb_insert_fixup(struct vmem_tree *t, struct vmem_rb *z)
{
	while (z->parent && z->parent->red) {
		struct vmem_rb *p = z->parent, *g = p->parent;
		bool left = (p == g->left);
		struct vmem_rb *u = left ? g->right : g->left;
		if (u && u->red) {
			p->red = 0;
			u->red = 0;
			g->red = 1;
			z = g;
			continue;
		}
		if (z == (left ? p->right : p->left)) {
			z = p;
			if (left)
				rb_rotate_left(t, z);
			else
				rb_rotate_right(t, z);
			p = z->parent;
		}
		p->red = 0;
		g->red = 1;
		if (left)
			rb_rotate_right(t, g);
		else
			rb_rotate_left(t, g);
	}
	t->root->red = 0;
}

int vmem_tree_insert(struct vmem_tree *t, struct vmem_rb *n)
{
	struct vmem_rb *p = NULL, **link = &t->root;
	while (*link) {
		p = *link;
		if (rb_end(n) <= p->lo)
			link = &p->left;
		else if (n->lo >= rb_end(p))
			link = &p->right;
		else
			return -MM_EEXIST;
	}
	n->parent = p;
	n->left = n->right = NULL;
	n->red = 1;
	*link = n;
	t->count++;
	rb_insert_fixup(t, n);
	return 0;
}

static void rb_transplant(struct vmem_tree *t, struct vmem_rb *u, struct vmem_rb *v)
{
	if (!u->parent)
		t->root = v;
	else if (u == u->parent->left)
		u->parent->left = v;
	else
		u->parent->right = v;
	if (v)
		v->parent = u->parent;
}

static inline bool is_red(const struct vmem_rb *n) { return n && n->red; }

/* Delete fixup, final case: sibling w black with a red child. Returns the
 * new x (the root: the loop ends). */
static struct vmem_rb *rb_fix_red_nephew(struct vmem_tree *t, struct vmem_rb *xp,
                                         struct vmem_rb *w, bool left)
{
	if (left && !is_red(w->right)) {
		w->left->red = 0;
		w->red = 1;
		rb_rotate_right(t, w);
		w = xp->right;
	} else if (!left && !is_red(w->left)) {
		w->right->red = 0;
		w->red = 1;
		rb_rotate_left(t, w);
		w = xp->left;
	}
	w->red = xp->red;
	xp->red = 0;
	if (left) {
		if (w->right)
			w->right->red = 0;
		rb_rotate_left(t, xp);
	} else {
		if (w->left)
			w->left->red = 0;
		rb_rotate_right(t, xp);
	}
	return t->root;
}

/* CLRS delete fixup with NULL leaves: x may be NULL, xp is its parent. */
static void rb_delete_fixup(struct vmem_tree *t, struct vmem_rb *x, struct vmem_rb *xp)
{
	while (x != t->root && !is_red(x)) {
		bool left = (x == xp->left);
		struct vmem_rb *w = left ? xp->right : xp->left;
		if (is_red(w)) {
			w->red = 0;
			xp->red = 1;
			if (left)
				rb_rotate_left(t, xp);
			else
				rb_rotate_right(t, xp);
			w = left ? xp->right : xp->left;
		}
		if (!is_red(w->left) && !is_red(w->right)) {
			w->red = 1;
			x = xp;
			xp = x->parent;
			continue;
		}
		x = rb_fix_red_nephew(t, xp, w, left);
	}
	if (x)
		x->red = 0;
}

void vmem_tree_remove(struct vmem_tree *t, struct vmem_rb *z)
{
	struct vmem_rb *x, *xp;
	uint32_t removed_red = z->red;
	if (!z->left) {
		x = z->right;
		xp = z->parent;
		rb_transplant(t, z, z->right);
	} else if (!z->right) {
		x = z->left;
		xp = z->parent;
		rb_transplant(t, z, z->left);
	} else {
		struct vmem_rb *y = z->right;
		while (y->left)
			y = y->left;
		removed_red = y->red;
		x = y->right;
		if (y->parent == z) {
			xp = y;
		} else {
			xp = y->parent;
			rb_transplant(t, y, y->right);
			y->right = z->right;
			y->right->parent = y;
		}
		rb_transplant(t, z, y);
		y->left = z->left;
		y->left->parent = y;
		y->red = z->red;
	}
	t->count--;
	if (!removed_red)
		rb_delete_fixup(t, x, xp);
	z->parent = z->left = z->right = NULL;
}

struct vmem_rb *vmem_tree_find(const struct vmem_tree *t, vaddr_t va)
{
	struct vmem_rb *n = t->root;
	while (n) {
		if (va < n->lo)
			n = n->left;
		else if (va - n->lo >= n->pages * PAGE_SIZE)
			n = n->right;
		else
			return n;
	}
	return NULL;
}

struct vmem_rb *vmem_tree_first(const struct vmem_tree *t)
{
	struct vmem_rb *n = t->root;
	while (n && n->left)
		n = n->left;
	return n;
}

struct vmem_rb *vmem_tree_next(const struct vmem_rb *n)
{
	if (n->right) {
		n = n->right;
		while (n->left)
			n = n->left;
		return (struct vmem_rb *)n;
	}
	while (n->parent && n == n->parent->right)
		n = n->parent;
	return n->parent;
}

/* Black height of the subtree, or -1 when a property is broken below. */
static int rb_check_node(const struct vmem_rb *n, uint32_t depth)
{
	if (!n)
		return 1;
	if (depth > 64)
		return -1;
	if (n->red && (is_red(n->left) || is_red(n->right)))
		return -1;
	if ((n->left && n->left->parent != n) || (n->right && n->right->parent != n))
		return -1;
	int hl = rb_check_node(n->left, depth + 1);
	int hr = rb_check_node(n->right, depth + 1);
	if (hl < 0 || hr < 0 || hl != hr)
		return -1;
	return hl + (n->red ? 0 : 1);
}

uint32_t vmem_tree_check(const struct vmem_tree *t, bool verbose)
{
	uint32_t bad = 0, n = 0;
	if (t->root && (t->root->red || t->root->parent))
		bad++;
	if (rb_check_node(t->root, 0) < 0)
		bad++;
	vaddr_t prev_end = 0;
	for (const struct vmem_rb *x = vmem_tree_first(t); x; x = vmem_tree_next(x), n++) {
		if (x->pages == 0 || x->lo < prev_end || n > t->count)
			return bad + 1;
		prev_end = rb_end(x);
	}
	if (n != t->count)
		bad++;
	if (bad && verbose)
		mm_printf("vmem: range tree: %u inconsistencies (%u nodes)\n", bad, n);
	return bad;
}
