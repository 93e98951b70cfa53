/*
 * The loader's console for the report (efi/inspect.h).
 *
 * inspect_console_largest: the firmware starts ConOut in mode 0 (80x25)
 * whatever the screen; the report's rows are up to ~106 columns. Every
 * mode 0..MaxMode-1 is queried (QueryMode fails for modes the device does
 * not support, e.g. mode 1 = 80x50 on many consoles) and the one with the
 * most cells (then most columns) is set. Done before the report; the GOP
 * mode choice comes later (sysinfo.c), after the pager.
 *
 * inspect_console_serial_only ("serial" option): from here on every
 * mm_printf of the loader goes to the first Serial I/O protocol instance
 * (EFI_SERIAL_IO_PROTOCOL.Write, UCS-2 narrowed to ASCII, "\r\n" kept),
 * never to ConOut, so nothing is drawn on the screen by the loader. Under
 * OVMF ConOut is also mirrored to the serial port; with this option the
 * serial port carries the same text, only written directly. Without a
 * Serial I/O protocol the option cannot be honoured: that is said on
 * ConOut and the loader keeps using it.
 */
#include "loader.h"
#include "inspect.h"

static EFI_GUID con_guid_serial = SERIAL_IO_PROTOCOL;
static SERIAL_IO_INTERFACE *con_serial;

static void con_serial_write(const CHAR16 *w)
{
	char buf[128];
	UINTN n = 0;
	for (; w[n] && n < sizeof(buf); n++)
		buf[n] = (w[n] < 0x80) ? (char)w[n] : '?';
	if (n)
		con_serial->Write(con_serial, &n, buf);
}

int inspect_console_serial_only(void)
{
	SERIAL_IO_INTERFACE *s = 0;
	EFI_STATUS st = efi_st->BootServices->LocateProtocol(&con_guid_serial, 0, (void **)&s);
	if (EFI_ERROR(st) || !s) {
		mm_printf("console: option serial: no Serial I/O protocol (status 0x%llx); "
		          "the firmware console stays in use\n", (unsigned long long)st);
		return 0;
	}
	con_serial = s;
	efi_con_hook = con_serial_write;
	mm_printf("console: serial only (Serial I/O protocol; nothing on the screen, "
	          "the kernel stage will not draw)\n");
	return 1;
}

void inspect_console_largest(void)
{
	SIMPLE_TEXT_OUTPUT_INTERFACE *out = efi_st->ConOut;
	UINTN cols, rows, best_cells = 0, best_cols = 0, best_rows = 0;
	INT32 best = -1;
	if (!out || !out->Mode)
		return;
	for (INT32 m = 0; m < out->Mode->MaxMode; m++) {
		if (EFI_ERROR(out->QueryMode(out, (UINTN)m, &cols, &rows)))
			continue;
		if (cols * rows > best_cells || (cols * rows == best_cells && cols > best_cols)) {
			best = m;
			best_cells = cols * rows;
			best_cols = cols;
			best_rows = rows;
		}
	}
	if (best < 0)
		return;
	if (best == out->Mode->Mode) {
		mm_printf("console: text mode %d, %llux%llu, already the largest of %d\n", best,
		          (unsigned long long)best_cols, (unsigned long long)best_rows,
		          out->Mode->MaxMode);
		return;
	}
	EFI_STATUS st = out->SetMode(out, (UINTN)best);
	if (EFI_ERROR(st))
		mm_printf("console: text mode %d (%llux%llu) refused (status 0x%llx)\n", best,
		          (unsigned long long)best_cols, (unsigned long long)best_rows,
		          (unsigned long long)st);
	else
		mm_printf("console: text mode %d, %llux%llu (largest of %d)\n", best,
		          (unsigned long long)best_cols, (unsigned long long)best_rows,
		          out->Mode->MaxMode);
}
