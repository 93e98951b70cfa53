/*
 * mm_env.c: the environment mm/ code runs in inside the kernel stage
 * (include/mmboot/mm_env.h): mm_printf/mm_vprintf to the console, mm_panic
 * (a test expecting a panic gets control back; otherwise a full report and
 * the fail status), and
 * the C library functions the compiler may call (memset, memcpy, memmove,
 * memcmp, strlen) plus the 64-bit division helpers i386 code needs (__udivdi3,
 * __umoddi3, __divdi3, __moddi3): there is no libc or compiler runtime.
 */
#include "kernel.h"
#include "fmt.h"
#include "../arch/x86/cpu.h"

struct line_buf {
	char b[160];     /* pending text */
	uint32_t n;      /* bytes pending */
};

static void line_out(void *ctx, char c)
{
	struct line_buf *lb = ctx;
	lb->b[lb->n++] = c;
	if (c == '\n' || lb->n == sizeof(lb->b)) {
		console_write(lb->b, lb->n);
		lb->n = 0;
	}
}

int mm_vprintf(const char *fmt, va_list ap)
{
	struct line_buf lb;
	lb.n = 0;
	int n = fmt_vformat(line_out, &lb, fmt, ap);
	if (lb.n)
		console_write(lb.b, lb.n);
	return n;
}

static char panic_msg[256];   /* last panic text (ktest reads it) */

void mm_panic(const char *fmt, ...)
{
	static int in_panic;   /* a panic while reporting a panic: stop at once */
	va_list ap;
	if (in_panic) {
		mm_printf("panic: nested panic (%s)\n", fmt);
		kernel_exit(KERNEL_STATUS_FAIL);
	}
	va_start(ap, fmt);
	fmt_vsnprintf(panic_msg, sizeof(panic_msg), fmt, ap);
	va_end(ap);
	mm_printf("panic: %s\n", panic_msg);
	ktest_panic_hook(panic_msg);   /* returns only if no test expected this */
	in_panic = 1;
	mm_printf("panic: called from %p\n", (void *)MM_CALLER());
	arch_backtrace((uint32_t)(uintptr_t)__builtin_frame_address(0));
	kernel_fail("panic");
}

/* mm_lock_acquire/mm_lock_release (save EFLAGS, cli, restore): inline in
 * include/mmboot/mm_lock_kernel.h, so that allocators pay no call for them. */

/* --- C library subset (the compiler emits calls to these) --- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

void *memset(void *d, int c, size_t n)
{
	void *ret = d;
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return ret;
}

void *memcpy(void *d, const void *s, size_t n)
{
	void *ret = d;
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	return ret;
}

void *memmove(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;
	if (dp <= sp || dp >= sp + n)
		return memcpy(d, s, n);
	/* overlapping, destination above: copy backwards (asm: no memmove idiom) */
	const unsigned char *sl = sp + n - 1;
	unsigned char *dl = dp + n - 1;
	__asm__ volatile("std; rep movsb; cld" : "+D"(dl), "+S"(sl), "+c"(n) : : "memory");
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

/* --- 64-bit division for i386 (shift and subtract) --- */
uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem);
uint64_t __udivdi3(uint64_t n, uint64_t d);
uint64_t __umoddi3(uint64_t n, uint64_t d);
int64_t __divdi3(int64_t n, int64_t d);
int64_t __moddi3(int64_t n, int64_t d);

uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem)
{
	uint64_t q = 0, r = 0;
	if (d == 0)
		mm_panic("64-bit division by zero");
	for (int i = 63; i >= 0; i--) {
		r = (r << 1) | ((n >> i) & 1u);
		if (r >= d) {
			r -= d;
			q |= (uint64_t)1 << i;
		}
	}
	if (rem)
		*rem = r;
	return q;
}

uint64_t __udivdi3(uint64_t n, uint64_t d) { return __udivmoddi4(n, d, 0); }

uint64_t __umoddi3(uint64_t n, uint64_t d)
{
	uint64_t r;
	__udivmoddi4(n, d, &r);
	return r;
}

int64_t __divdi3(int64_t n, int64_t d)
{
	int neg = (n < 0) != (d < 0);
	uint64_t q = __udivmoddi4(n < 0 ? -(uint64_t)n : (uint64_t)n,
	                          d < 0 ? -(uint64_t)d : (uint64_t)d, 0);
	return neg ? -(int64_t)q : (int64_t)q;
}

int64_t __moddi3(int64_t n, int64_t d)
{
	uint64_t r;
	__udivmoddi4(n < 0 ? -(uint64_t)n : (uint64_t)n, d < 0 ? -(uint64_t)d : (uint64_t)d, &r);
	return n < 0 ? -(int64_t)r : (int64_t)r;
}
