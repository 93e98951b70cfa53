/*
 * The environment that portable mm/ code runs in.
 *
 * mm/ is compiled three ways from one source list: for the x86_64 UEFI
 * loader, for the i386 kernel stage, and for the host (tests, fuzzers,
 * benchmarks, tools). It never includes <efi.h>, the boot-info header or
 * anything under arch/; what it needs from its surroundings is declared here
 * and each environment supplies it:
 *
 *   loader  efi/mm_env.c        printing through the firmware console
 *   kernel  kernel/mm_env.c     printing to serial + ring buffer, panic report
 *   host    tests/host/mm_env.c printing to stderr; panic is catchable by tests
 *
 * Hardware (page tables) is reached only through include/mmboot/paging.h.
 */
#ifndef MMBOOT_MM_ENV_H
#define MMBOOT_MM_ENV_H

#include <stdarg.h>
#include "types.h"

/* Formatted print to the environment's log (serial / console / stderr).
 * Supports %d %i %u %x %X %p %s %c %%, the l/ll/z length modifiers, width,
 * zero padding and '-'. */
int mm_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int mm_vprintf(const char *fmt, va_list ap);

/* A broken invariant: print "panic: <message>" and stop. Never returns.
 * Use for corrupted state only, never for out-of-memory or bad arguments. */
void mm_panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Checked precondition. The condition must have no side effect. */
#define MM_ASSERT(cond, ...)                                                   \
	do {                                                                       \
		if (__builtin_expect(!(cond), 0))                                      \
			mm_panic("%s:%d: %s: assertion '%s' failed", __FILE__, __LINE__,   \
			         __func__, #cond);                                         \
	} while (0)

/* Lock around an allocator's state. The kernel stage is single-CPU and saves
 * and disables interrupts; the host checks that the lock is not re-entered.
 * mm_lock_acquire/mm_lock_release are inline where the environment has an
 * inline header (kernel: mm_lock_kernel.h, host: mm_lock_host.h; those
 * environments must not define them out of line), and functions the
 * environment links otherwise (loader: efi/console.c). */
struct mm_lock {
	uint32_t held;   /* 1 while held */
	uint32_t saved;  /* environment-private: saved interrupt flag */
};
#if defined(MM_ENV_KERNEL) || defined(MM_ENV_HOST)
/* The inline locks' report of a broken invariant, out of line and cold: the
 * inline fast path then needs no call set-up (on i386 PIC code, no GOT
 * register). */
static inline __attribute__((noinline, cold, noreturn)) void
mm_lock_broken(struct mm_lock *lk, int acquiring)
{
	if (acquiring)
		mm_panic("mm_lock_acquire: lock %p already held", (void *)lk);
	mm_panic("mm_lock_release: lock %p not held", (void *)lk);
}
#endif
#if defined(MM_ENV_KERNEL)
#include "mm_lock_kernel.h"
#elif defined(MM_ENV_HOST)
#include "mm_lock_host.h"
#else
void mm_lock_acquire(struct mm_lock *lk);
void mm_lock_release(struct mm_lock *lk);
#endif

/* Caller's return address, for reports naming who did something wrong. */
#define MM_CALLER() ((uintptr_t)__builtin_return_address(0))

/* Compilers may emit calls to these; each environment links an implementation. */
#define mm_memset  __builtin_memset
#define mm_memcpy  __builtin_memcpy
#define mm_memmove __builtin_memmove
#define mm_memcmp  __builtin_memcmp

#endif /* MMBOOT_MM_ENV_H */
