/*
 * Host side of the mm/ environment (tests/host/mm_env.c): lets tests catch a
 * panic instead of dying, capture what mm/ printed, and silence it.
 *
 *   if (HOST_EXPECT_PANIC()) { ...code that must panic...; fail("no panic"); }
 *   else { assert host_panic_msg contains "..." }
 */
#ifndef MMBOOT_HOST_ENV_H
#define MMBOOT_HOST_ENV_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>

extern jmp_buf *host_panic_jmp;     /* when set, mm_panic longjmps here with 1 */
extern char host_panic_msg[512];    /* message of the last panic */
extern unsigned host_panic_count;   /* panics so far */

/* Arm a panic catcher in the current frame; evaluates to 0 first, then to 1
 * after a panic. Disarm with host_panic_disarm() on the normal path. */
#define HOST_EXPECT_PANIC()                                                    \
	(host_panic_jmp = &host_panic_jb_, setjmp(host_panic_jb_))
extern jmp_buf host_panic_jb_;
void host_panic_disarm(void);

/* Output of mm_printf: to stderr (default), discarded, or appended to a
 * buffer the test can inspect (host_log_buf, host_log_len). */
enum host_log_mode { HOST_LOG_STDERR, HOST_LOG_QUIET, HOST_LOG_CAPTURE };
void host_log_set(enum host_log_mode mode);
extern char host_log_buf[65536];
extern size_t host_log_len;
void host_log_clear(void);

#endif
