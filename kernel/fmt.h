/*
 * fmt: the one printf-style formatter of mmboot's two freestanding programs
 * (the x86_64 loader and the i386 kernel stage). It turns a format and its
 * arguments into characters handed one at a time to an output callback, so
 * each program chooses where text goes (firmware console, serial, ring
 * buffer, a string buffer).
 *
 * Conversions: %d %i %u %x %X %p %s %c %%, length modifiers hh h l ll z j t,
 * field width (also '*'), '0' padding, '-' left alignment, precision for %s.
 * 64-bit values are converted without calling __udivdi3 (the i386 kernel
 * has no compiler runtime), by a shift-and-subtract division.
 */
#ifndef MMBOOT_KERNEL_FMT_H
#define MMBOOT_KERNEL_FMT_H

#include <stdarg.h>
#include <stdint.h>
#include <stddef.h>

typedef void (*fmt_out_fn)(void *ctx, char c);

/* Format to out; returns the number of characters produced. */
int fmt_vformat(fmt_out_fn out, void *ctx, const char *fmt, va_list ap);

/* snprintf-like: always NUL-terminates when cap > 0; returns the full length. */
int fmt_vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
