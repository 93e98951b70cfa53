/*
 * ktest.c: the in-kernel test runner (interface and format: ktest.h).
 *
 * Tests are the struct ktest records the KTEST() macro places in .ktests;
 * kernel.ld brackets them with __ktests_start/__ktests_end, so link order
 * is run order. Each test gets a fresh ktest_ctx; it passes when no
 * expectation failed. Output is KTAP version 1:
 *
 *   KTAP version 1
 *   1..N
 *   # name: diagnostic lines, prefixed "# "
 *   ok 1 name
 *   not ok 2 name
 *
 * Fault/panic expectation: ktest_arm(kind) records the expected kind;
 * ktest_setjmp (in the test's own frame, via the ktest_expect_fault macro)
 * saves the place to come back to. The #PF handler and mm_panic call
 * ktest_fault_hook/ktest_panic_hook: if the armed kind matches, the catch
 * is recorded, the expectation disarmed, and ktest_longjmp returns 1 from
 * the setjmp. Otherwise the hooks return and the fault is fatal as usual.
 */
#include "kernel.h"
#include "ktest.h"
#include "fmt.h"

extern const struct ktest __ktests_start[], __ktests_end[];

ktest_jmp_buf ktest_fault_jb;
static uint32_t armed;            /* enum ktest_fault_kind expected, or NONE */
static uint32_t caught;           /* kind caught since arming */
static vaddr_t caught_addr;       /* CR2 of a caught page fault */
static char caught_msg[160];      /* text of a caught panic */
static struct ktest_ctx *current; /* running test (for messages) */

void ktest_fail(struct ktest_ctx *t, const char *file, int line, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	t->failures++;
	mm_printf("# %s: %s (%s:%d)\n", t->name, msg, file, line);
}

void ktest_arm(uint32_t kind)
{
	armed = kind;
	caught = KTEST_FAULT_NONE;
	caught_addr = 0;
	caught_msg[0] = 0;
}

void ktest_expect_done(void)
{
	armed = KTEST_FAULT_NONE;
}

uint32_t ktest_fault_caught(void) { return caught; }
vaddr_t ktest_fault_addr(void) { return caught_addr; }
const char *ktest_fault_message(void) { return caught_msg; }

void ktest_fault_hook(uint32_t cr2)
{
	if (armed != KTEST_FAULT_PAGE)
		return;
	armed = KTEST_FAULT_NONE;
	caught = KTEST_FAULT_PAGE;
	caught_addr = cr2;
	mm_printf("# %s: expected page fault at %08x caught\n", current ? current->name : "?", cr2);
	ktest_longjmp(ktest_fault_jb, 1);
}

void ktest_panic_hook(const char *msg)
{
	if (armed != KTEST_FAULT_PANIC)
		return;
	armed = KTEST_FAULT_NONE;
	caught = KTEST_FAULT_PANIC;
	fmt_snprintf(caught_msg, sizeof(caught_msg), "%s", msg);
	mm_printf("# %s: expected panic caught\n", current ? current->name : "?");
	ktest_longjmp(ktest_fault_jb, 1);
}

uint32_t ktest_run_all(void)
{
	uint32_t n = (uint32_t)(__ktests_end - __ktests_start), failed = 0;
	mm_printf("KTAP version 1\n1..%u\n", n);
	for (uint32_t i = 0; i < n; i++) {
		const struct ktest *k = &__ktests_start[i];
		struct ktest_ctx ctx = { k->name, 0 };
		current = &ctx;
		armed = KTEST_FAULT_NONE;
		k->fn(&ctx);
		if (armed != KTEST_FAULT_NONE) {
			ktest_fail(&ctx, __FILE__, __LINE__, "fault expectation left armed");
			armed = KTEST_FAULT_NONE;
		}
		current = 0;
		if (ctx.failures)
			failed++;
		mm_printf("%sok %u %s\n", ctx.failures ? "not " : "", i + 1, k->name);
	}
	mm_printf("# ktest: %u passed, %u failed\n", n - failed, failed);
	return failed;
}
