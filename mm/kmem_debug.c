/*
 * Slab heap debugging: red zones, poison, owner tracking, misuse reports.
 *
 * A debug cache (KMEM_DEBUG, or every cache when kmem_init got
 * KMEM_INIT_DEBUG) lays each slot out as
 *
 *   | left RZ | object (size bytes) | right RZ | freeptr | caller | state |
 *   0         obj_off               obj_off+size         track_off      slot
 *
 * Red zones hold KMEM_RZ_BYTE for the object's whole life and are checked
 * on every alloc and free (an overflow by one byte is caught at free). For
 * kmalloc the red zone starts at the requested size, not the class size:
 * the request is kept in the state block and the slack up to the class
 * size is filled with KMEM_RZ_BYTE too (ksize returns the request).
 * A free object of a cache without constructor is filled with
 * KMEM_POISON_BYTE; the fill is checked when the object is handed out again
 * (a write after free is caught at the next allocation). Caches with a
 * constructor are not poisoned: their free objects must keep the
 * constructed state. The state word (FREE/ALLC) catches double frees that
 * are not at the head of the free list; caller records who last allocated
 * or freed the object (shown by kmem_check verbose).
 *
 * Reports (kmem_report) name the error, the cache, the object and the
 * caller; they go to the error hook when one is set (host tests, fuzzers)
 * and to mm_panic otherwise, which stops the kernel with the report. They
 * are made with no heap lock held.
 */
#include "kmem_int.h"

static kmem_error_hook_t kmem_hook;

static const char *const kmem_err_names[KMEM_ERR_COUNT] = {
	[KMEM_ERR_NONE] = "no error",
	[KMEM_ERR_DOUBLE_FREE] = "double free",
	[KMEM_ERR_NOT_OBJECT] = "free of a pointer that is not an object start",
	[KMEM_ERR_WRONG_CACHE] = "free into the wrong cache",
	[KMEM_ERR_REDZONE] = "red zone overwritten",
	[KMEM_ERR_POISON] = "freed object written after free (poison damaged)",
	[KMEM_ERR_FREELIST] = "free-list pointer corrupted",
	[KMEM_ERR_NOT_HEAP] = "free of a pointer not allocated from the heap (wild, or its block freed already)",
};

const char *kmem_err_name(enum kmem_err_kind kind)
{
	return (unsigned)kind < KMEM_ERR_COUNT ? kmem_err_names[kind] : "?";
}

kmem_error_hook_t kmem_set_error_hook(kmem_error_hook_t hook)
{
	kmem_error_hook_t old = kmem_hook;
	kmem_hook = hook;
	return old;
}

void kmem_report(enum kmem_err_kind kind, const struct kmem_cache *c, const void *obj,
                 uintptr_t caller)
{
	kmem_errors++;
	struct kmem_error e = { kind, c ? c->name : "-", obj, caller };
	if (kmem_hook) {
		kmem_hook(&e);
		return;
	}
	const struct kmem_page *pg = kmem_page_of(obj);
	const char *owner = pg && pg->kind == KP_SLAB ? pg->cache->name : "-";
	mm_panic("kmem: %s: cache %s, object %p (owner %s), caller %p", kmem_err_name(kind), e.cache,
	         obj, owner, (void *)caller);
}

/* ---- layout ------------------------------------------------------------------ */

static uint32_t kmem_track_off(const struct kmem_cache *c)
{
	return ALIGN_UP(c->obj_off + c->size + KMEM_RZ_BYTES, 8u);
}

void kmem_debug_layout(struct kmem_cache *c)
{
	c->obj_off = ALIGN_UP(KMEM_RZ_BYTES, c->align);
	c->fp_off = kmem_track_off(c);
	c->slot = ALIGN_UP(c->fp_off + (uint32_t)sizeof(struct kmem_track), c->align);
}

struct kmem_track *kmem_track_of(const struct kmem_cache *c, void *obj)
{
	return (struct kmem_track *)((char *)obj - c->obj_off + kmem_track_off(c));
}

/* ---- fills ------------------------------------------------------------------- */

static bool kmem_bytes_are(const uint8_t *p, uint32_t n, uint8_t v)
{
	for (uint32_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

static bool kmem_redzones_ok(const struct kmem_cache *c, void *obj)
{
	const uint8_t *slot = (const uint8_t *)obj - c->obj_off;
	uint32_t right = c->obj_off + c->size;
	const struct kmem_track *t = kmem_track_of(c, obj);
	uint32_t req = t->state == KMEM_STATE_ALLOC && t->req && t->req < c->size ? t->req : c->size;
	return kmem_bytes_are(slot, c->obj_off, KMEM_RZ_BYTE) &&
	       kmem_bytes_are((const uint8_t *)obj + req, c->size - req, KMEM_RZ_BYTE) &&
	       kmem_bytes_are(slot + right, kmem_track_off(c) - right, KMEM_RZ_BYTE);
}

/* kmalloc of req bytes from a debug cache: the slack [req, size) of the
 * class becomes red zone too (checked on free and by kmem_check), so an
 * overflow of the request is caught even inside the class size; ksize
 * then returns req (as with KASAN/SLUB debugging). */
void kmem_debug_set_request(struct kmem_cache *c, void *obj, uint32_t req)
{
	struct kmem_track *t = kmem_track_of(c, obj);
	if (req == 0 || req >= c->size) {
		t->req = 0;
		return;
	}
	t->req = req;
	mm_memset((uint8_t *)obj + req, KMEM_RZ_BYTE, c->size - req);
}

uint32_t kmem_debug_request(const struct kmem_cache *c, const void *obj)
{
	const struct kmem_track *t = kmem_track_of(c, (void *)(uintptr_t)obj);
	return t->state == KMEM_STATE_ALLOC && t->req && t->req < c->size ? t->req : c->size;
}

static bool kmem_poison_ok(const struct kmem_cache *c, void *obj)
{
	return c->ctor || kmem_bytes_are(obj, c->size, KMEM_POISON_BYTE);
}

void kmem_debug_init_obj(struct kmem_cache *c, void *obj)
{
	uint8_t *slot = (uint8_t *)obj - c->obj_off;
	uint32_t right = c->obj_off + c->size;
	mm_memset(slot, KMEM_RZ_BYTE, c->obj_off);
	mm_memset(slot + right, KMEM_RZ_BYTE, kmem_track_off(c) - right);
	if (!c->ctor)
		mm_memset(obj, KMEM_POISON_BYTE, c->size);
	struct kmem_track *t = kmem_track_of(c, obj);
	t->caller = 0;
	t->state = KMEM_STATE_FREE;
	t->req = 0;
}

/* ---- checks on the hot path (debug caches only) -------------------------------- */

enum kmem_err_kind kmem_debug_on_alloc(struct kmem_cache *c, void *obj, uintptr_t caller)
{
	struct kmem_track *t = kmem_track_of(c, obj);
	enum kmem_err_kind e = KMEM_ERR_NONE;
	if (t->state != KMEM_STATE_FREE || !kmem_redzones_ok(c, obj))
		e = KMEM_ERR_REDZONE;
	else if (!kmem_poison_ok(c, obj))
		e = KMEM_ERR_POISON;
	t->state = KMEM_STATE_ALLOC;
	t->req = 0;
	t->caller = caller;
	return e;
}

enum kmem_err_kind kmem_debug_check_free(struct kmem_cache *c, void *obj)
{
	struct kmem_track *t = kmem_track_of(c, obj);
	if (t->state == KMEM_STATE_FREE)
		return KMEM_ERR_DOUBLE_FREE;
	if (t->state != KMEM_STATE_ALLOC || !kmem_redzones_ok(c, obj))
		return KMEM_ERR_REDZONE;
	return KMEM_ERR_NONE;
}

void kmem_debug_on_free(struct kmem_cache *c, void *obj, uintptr_t caller)
{
	struct kmem_track *t = kmem_track_of(c, obj);
	t->state = KMEM_STATE_FREE;
	t->req = 0;
	t->caller = caller;
	if (!c->ctor)
		mm_memset(obj, KMEM_POISON_BYTE, c->size);
}

/* Inconsistencies of one object's debug data (kmem_check). */
uint32_t kmem_debug_check_obj(struct kmem_cache *c, void *obj, bool is_free, bool verbose)
{
	struct kmem_track *t = kmem_track_of(c, obj);
	uint32_t bad = 0;
	const char *what = NULL;
	if (t->state != (is_free ? KMEM_STATE_FREE : KMEM_STATE_ALLOC)) {
		bad++;
		what = "state word does not match the free list";
	}
	if (!kmem_redzones_ok(c, obj)) {
		bad++;
		what = "red zone overwritten";
	}
	if (is_free && !kmem_poison_ok(c, obj)) {
		bad++;
		what = "poison of a free object damaged";
	}
	if (bad && verbose)
		mm_printf("kmem_check: cache %s object %p: %s (last caller %p)\n", c->name, obj, what,
		          (void *)t->caller);
	return bad;
}
