/*
 * mm_lock for the i386 kernel stage, inline: included by mm_env.h when
 * MM_ENV_KERNEL is defined.
 *
 * The kernel stage runs on one CPU; a lock saves EFLAGS and disables
 * interrupts (so an interrupt handler can never see an allocator half way
 * through an update), and panics if it is re-entered. Release restores the
 * saved EFLAGS (interrupts back on only if they were on). Inline: an
 * allocator call pays pushf/cli/popf, not two more calls.
 */
#ifndef MMBOOT_MM_LOCK_KERNEL_H
#define MMBOOT_MM_LOCK_KERNEL_H

/* mm_lock_broken (the cold report) comes from mm_env.h. */

static inline void mm_lock_acquire(struct mm_lock *lk)
{
	uint32_t fl;
	__asm__ volatile("pushfl; popl %0; cli" : "=r"(fl) : : "memory");
	if (__builtin_expect(lk->held != 0, 0))
		mm_lock_broken(lk, 1);
	lk->held = 1;
	lk->saved = fl;
}

static inline void mm_lock_release(struct mm_lock *lk)
{
	if (__builtin_expect(lk->held == 0, 0))
		mm_lock_broken(lk, 0);
	uint32_t fl = lk->saved;
	lk->held = 0;
	__asm__ volatile("pushl %0; popfl" : : "r"(fl) : "memory", "cc");
}

#endif /* MMBOOT_MM_LOCK_KERNEL_H */
