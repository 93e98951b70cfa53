/*
 * The host environment for mm/: mm_printf goes to stderr (or a capture
 * buffer), mm_panic longjmps to a test's catcher when one is armed and
 * aborts otherwise; locks (inline, mm_lock_host.h) check that they are
 * never re-entered.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmboot/mm_env.h>
#include "host_env.h"

jmp_buf *host_panic_jmp;
jmp_buf host_panic_jb_;
char host_panic_msg[512];
unsigned host_panic_count;
char host_log_buf[65536];
size_t host_log_len;
static enum host_log_mode host_log_mode = HOST_LOG_STDERR;

void host_panic_disarm(void) { host_panic_jmp = NULL; }
void host_log_set(enum host_log_mode mode) { host_log_mode = mode; }
void host_log_clear(void) { host_log_len = 0; host_log_buf[0] = '\0'; }

int mm_vprintf(const char *fmt, va_list ap)
{
	switch (host_log_mode) {
	case HOST_LOG_QUIET:
		return 0;
	case HOST_LOG_CAPTURE: {
		size_t room = sizeof(host_log_buf) - host_log_len;
		int n = vsnprintf(host_log_buf + host_log_len, room, fmt, ap);
		if (n > 0)
			host_log_len += (size_t)n < room ? (size_t)n : room - 1;
		return n;
	}
	default:
		return vfprintf(stderr, fmt, ap);
	}
}

void mm_panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(host_panic_msg, sizeof(host_panic_msg), fmt, ap);
	va_end(ap);
	host_panic_count++;
	if (host_panic_jmp) {
		jmp_buf *jb = host_panic_jmp;
		host_panic_jmp = NULL;
		longjmp(*jb, 1);
	}
	fprintf(stderr, "panic: %s\n", host_panic_msg);
	abort();
}

/* mm_lock_acquire/mm_lock_release: inline, include/mmboot/mm_lock_host.h. */
