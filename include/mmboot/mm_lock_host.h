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

/* mm_lock_broken (the cold report) comes from mm_env.h. */

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
