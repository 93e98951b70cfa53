/*
 * mm_printf: the variadic front of the environment's mm_vprintf
 * (include/mmboot/mm_env.h). Each environment (loader, kernel, host)
 * supplies only mm_vprintf; this wrapper is the same for all three.
 */
#include <mmboot/mm_env.h>

int mm_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = mm_vprintf(fmt, ap);
	va_end(ap);
	return n;
}
