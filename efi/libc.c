/*
 * libc.c: C library functions the loader needs that gnu-efi's libefi does
 * not provide (it has memset and memcpy). The link uses --no-undefined so a
 * missing one fails the build instead of jumping through a null PLT slot.
 */
#include <stddef.h>

int memcmp(const void *a, const void *b, size_t n);
void *memmove(void *d, const void *s, size_t n);

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

void *memmove(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;
	if (dp < sp) {
		for (size_t i = 0; i < n; i++) {
			dp[i] = sp[i];
			__asm__ volatile("" : : : "memory");   /* no memmove idiom */
		}
	} else {
		while (n--) {
			dp[n] = sp[n];
			__asm__ volatile("" : : : "memory");
		}
	}
	return d;
}
