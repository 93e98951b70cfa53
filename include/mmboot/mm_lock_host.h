/*
 * mm_lock for the host environment (tests, fuzzers, benchmarks, tools),
 * inline: included by mm_env.h when MM_ENV_HOST is defined.
 *
 * The host runs mm/ code on one thread; the lock only checks that it is
 * never re-entered (a re-entry is a broken invariant: mm_panic, which a
 * test may catch). Inline so that an allocator's lock costs a load and two
 * stores, not two calls (the benchmarks measure the allocator, not the
 * call overhead of a check).
 */
#ifndef MMBOOT_MM_LOCK_HOST_H
#define MMBOOT_MM_LOCK_HOST_H

/* The report, out of line and cold: the inline fast path then needs no
 * call set-up (on i386 PIC code, no GOT register). */
static inline __attribute__((noinline, cold, noreturn)) void
mm_lock_broken(struct mm_lock *lk, int acquiring)
{
	if (acquiring)
		mm_panic("mm_lock_acquire: lock %p already held", (void *)lk);
	mm_panic("mm_lock_release: lock %p not held", (void *)lk);
}

static inline void mm_lock_acquire(struct mm_lock *lk)
{
	if (__builtin_expect(lk->held != 0, 0))
		mm_lock_broken(lk, 1);
	lk->held = 1;
}

static inline void mm_lock_release(struct mm_lock *lk)
{
	if (__builtin_expect(lk->held == 0, 0))
		mm_lock_broken(lk, 0);
	lk->held = 0;
}

#endif /* MMBOOT_MM_LOCK_HOST_H */
