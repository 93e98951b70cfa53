/*
 * serial.c: COM1 (I/O 0x3F8), 16550-compatible UART, polled, 115200 8N1.
 *
 * Presence is probed with the loopback test (MCR bit 4): a machine without
 * a UART at 0x3F8 reads 0xFF and output is skipped, never waited for. The
 * transmit wait is bounded so a stuck UART cannot hang the kernel.
 */
#include "console.h"
#include "../arch/x86/cpu.h"

#define COM1 0x3F8
#define UART_THR 0   /* transmit holding (DLAB=0) */
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20

static int uart_ok;   /* 1 when the loopback probe succeeded */

int serial_init(void)
{
	outb(COM1 + UART_IER, 0x00);
	outb(COM1 + UART_LCR, 0x80);   /* DLAB */
	outb(COM1 + 0, 1);             /* divisor 1: 115200 baud */
	outb(COM1 + 1, 0);
	outb(COM1 + UART_LCR, 0x03);   /* 8N1 */
	outb(COM1 + UART_FCR, 0xC7);   /* FIFO on, cleared, 14-byte threshold */
	outb(COM1 + UART_MCR, 0x1E);   /* loopback */
	outb(COM1 + UART_THR, 0xAE);
	uart_ok = inb(COM1 + UART_THR) == 0xAE;
	outb(COM1 + UART_MCR, 0x0F);   /* normal: DTR RTS OUT1 OUT2 */
	return uart_ok;
}

static void putc_raw(char c)
{
	for (uint32_t i = 0; i < 1000000u; i++)
		if (inb(COM1 + UART_LSR) & LSR_THRE)
			break;
	outb(COM1 + UART_THR, (uint8_t)c);
}

void serial_write(const char *s, uint32_t len)
{
	if (!uart_ok)
		return;
	for (uint32_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			putc_raw('\r');
		putc_raw(s[i]);
	}
}

int console_serial_present(void)
{
	return uart_ok;
}
