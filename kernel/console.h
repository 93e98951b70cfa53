/*
 * The kernel console: COM1 (16550) plus a ring buffer of everything written,
 * plus up to CONSOLE_MAX_SINKS extra outputs (the framebuffer console of the
 * real-hardware work registers one and replays the ring into it).
 */
#ifndef MMBOOT_KERNEL_CONSOLE_H
#define MMBOOT_KERNEL_CONSOLE_H

#include <stdint.h>

#define CONSOLE_RING_BYTES 16384u
#define CONSOLE_MAX_SINKS  4u

typedef void (*console_sink_fn)(const char *s, uint32_t len);

void console_init(void);                        /* COM1 115200 8N1, ring empty */
void console_write(const char *s, uint32_t len); /* serial + ring + sinks */
int console_add_sink(console_sink_fn fn);       /* 0, or -1 if the table is full */
int console_remove_sink(console_sink_fn fn);    /* 0, or -1 if not registered */
/* Hand the ring's contents (oldest first) to fn, e.g. to fill a new sink. */
void console_replay(console_sink_fn fn);
uint32_t console_ring_used(void);               /* bytes held in the ring */
int console_serial_present(void);               /* 1 if a UART answered */

/* The serial driver (kernel/serial.c) */
int serial_init(void);                          /* 1 if a 16550 is present */
void serial_write(const char *s, uint32_t len); /* '\n' sent as "\r\n" */

#endif
