/*
 * In-kernel tests, reported in KTAP (the format of Linux KUnit):
 *
 *   KTAP version 1
 *   1..N
 *   ok 1 pmm_boot_accounting
 *   not ok 2 region_lazy_commit
 *   # region_lazy_commit: expected committed == 17, got 16 (kernel/tests/...:42)
 *
 * A test is a function registered with KTEST(suite_name, fn); the runner
 * (kernel/ktest.c) runs every registered test in link order, prints one
 * result line each, and the kernel ends with a status saying pass or fail
 * (under QEMU through isa-debug-exit). Registration uses the .ktests section
 * so that each layer keeps its tests in its own file (kernel/tests/NAME.c).
 *
 * A test that expects a fault (a write to a guard page, a deliberate double
 * free) arms ktest_expect_fault(); the fault/panic path then reports the
 * fault, longjmps back into the test instead of stopping, and
 * ktest_fault_caught() says what was caught.
 */
#ifndef MMBOOT_KERNEL_KTEST_H
#define MMBOOT_KERNEL_KTEST_H

#include <mmboot/types.h>

struct ktest_ctx {
	const char *name;     /* test name */
	uint32_t failures;    /* failed expectations so far */
};

struct ktest {
	const char *name;                   /* unique, snake_case */
	void (*fn)(struct ktest_ctx *t);    /* the test */
};

#define KTEST(tname, tfn)                                                     \
	static const struct ktest ktest_##tfn                                     \
		__attribute__((used, section(".ktests"), aligned(4))) = { #tname, tfn }

/* Record a failed expectation with a message; the test goes on. */
void ktest_fail(struct ktest_ctx *t, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define KT_EXPECT(t, cond, ...)                                               \
	do {                                                                      \
		if (!(cond))                                                          \
			ktest_fail((t), __FILE__, __LINE__, __VA_ARGS__);                 \
	} while (0)
#define KT_EXPECT_EQ(t, a, b)                                                 \
	KT_EXPECT((t), (uint64_t)(a) == (uint64_t)(b), "%s == %s: %llu != %llu",  \
	          #a, #b, (unsigned long long)(a), (unsigned long long)(b))

/* Fault/panic expectation. Use as:
 *   if (ktest_expect_fault(KTEST_FAULT_PAGE) == 0) { *guard = 1; KT_EXPECT(t, 0, "no fault"); }
 *   ktest_expect_done();  then check ktest_fault_caught()/ktest_fault_addr()
 * ktest_expect_fault returns 0 when armed and 1 when control comes back
 * after the expected fault or panic. */
enum ktest_fault_kind {
	KTEST_FAULT_NONE = 0,
	KTEST_FAULT_PAGE = 1,    /* page fault the region layer refused */
	KTEST_FAULT_PANIC = 2,   /* mm_panic / a detected allocator error report */
};
typedef uint32_t ktest_jmp_buf[8];       /* ebx esi edi ebp esp eip + spare */
int ktest_setjmp(ktest_jmp_buf jb) __attribute__((returns_twice));   /* arch/x86 asm */
void ktest_longjmp(ktest_jmp_buf jb, int val) __attribute__((noreturn));
extern ktest_jmp_buf ktest_fault_jb;
void ktest_arm(uint32_t kind);            /* the next fault/panic of this kind comes back here */
#define ktest_expect_fault(kind) (ktest_arm(kind), ktest_setjmp(ktest_fault_jb))
void ktest_expect_done(void);
uint32_t ktest_fault_caught(void);        /* enum ktest_fault_kind caught, or NONE */
vaddr_t ktest_fault_addr(void);           /* CR2 of a caught page fault */
const char *ktest_fault_message(void);    /* text of a caught panic */

#endif
