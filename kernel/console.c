/*
 * console.c: one write path for all kernel text.
 *
 *   console_write(s, len) --> serial_write (COM1)
 *                         --> ring[] (last CONSOLE_RING_BYTES bytes, oldest overwritten)
 *                         --> each registered sink (framebuffer console...)
 *
 * The ring keeps a running total `written`; its live window is
 * [written - min(written, size), written). Interrupts are off for the whole
 * write so lines from an exception handler never interleave mid-character.
 */
#include "console.h"
#include "../arch/x86/cpu.h"

static char ring[CONSOLE_RING_BYTES];          /* text, circular */
static uint32_t written;                       /* bytes ever written (mod 2^32) */
static console_sink_fn sinks[CONSOLE_MAX_SINKS];
static uint32_t nsinks;                        /* sinks registered */

void console_init(void)
{
	written = 0;
	nsinks = 0;
	serial_init();
}

void console_write(const char *s, uint32_t len)
{
	uint32_t fl = irq_save();
	serial_write(s, len);
	for (uint32_t i = 0; i < len; i++)
		ring[(written + i) % CONSOLE_RING_BYTES] = s[i];
	written += len;
	for (uint32_t k = 0; k < nsinks; k++)
		sinks[k](s, len);
	irq_restore(fl);
}

int console_add_sink(console_sink_fn fn)
{
	if (nsinks >= CONSOLE_MAX_SINKS || !fn)
		return -1;
	sinks[nsinks++] = fn;
	return 0;
}

int console_remove_sink(console_sink_fn fn)
{
	for (uint32_t k = 0; k < nsinks; k++) {
		if (sinks[k] != fn)
			continue;
		for (; k + 1 < nsinks; k++)
			sinks[k] = sinks[k + 1];
		nsinks--;
		return 0;
	}
	return -1;
}

uint32_t console_ring_used(void)
{
	return written < CONSOLE_RING_BYTES ? written : CONSOLE_RING_BYTES;
}

void console_replay(console_sink_fn fn)
{
	uint32_t n = console_ring_used();
	uint32_t start = written - n;
	while (n > 0) {
		uint32_t off = start % CONSOLE_RING_BYTES;
		uint32_t chunk = CONSOLE_RING_BYTES - off;
		if (chunk > n)
			chunk = n;
		fn(ring + off, chunk);
		start += chunk;
		n -= chunk;
	}
}
