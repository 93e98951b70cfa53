/*
 * console.c: the loader's mm_env (mm_printf, mm_vprintf, mm_panic, locks)
 * and two small firmware helpers.
 *
 * Before ExitBootServices text goes to ST->ConOut (OVMF mirrors it to the
 * serial port and the screen); '\n' becomes "\r\n" and ASCII is widened to
 * UCS-2 in chunks of 126 characters. After ExitBootServices no boot service
 * may be called, so the same calls write straight to COM1 (0x3F8), which is
 * only used to report a failure between ExitBootServices and the kernel.
 */
#include "loader.h"
#include "../kernel/fmt.h"

EFI_SYSTEM_TABLE *efi_st;
EFI_HANDLE efi_image;
static int bs_gone;   /* 1 after ExitBootServices */
void (*efi_con_hook)(const CHAR16 *w);   /* set: text goes there, not to ConOut */

struct con_buf {
	CHAR16 w[128];   /* pending UCS-2 text, NUL terminated on flush */
	unsigned n;      /* characters pending */
};

static void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void com1_putc(char c)
{
	for (int i = 0; i < 100000 && !(inb(0x3F8 + 5) & 0x20); i++)
		;
	outb(0x3F8, (uint8_t)c);
}

static void con_flush(struct con_buf *b)
{
	if (b->n == 0)
		return;
	b->w[b->n] = 0;
	if (efi_con_hook)   /* serial-only option (efi/inspect_console.c) */
		efi_con_hook(b->w);
	else if (efi_st && efi_st->ConOut)
		efi_st->ConOut->OutputString(efi_st->ConOut, b->w);
	b->n = 0;
}

static void con_out(void *ctx, char c)
{
	struct con_buf *b = ctx;
	if (bs_gone) {
		if (c == '\n')
			com1_putc('\r');
		com1_putc(c);
		return;
	}
	if (c == '\n')
		b->w[b->n++] = L'\r';
	b->w[b->n++] = (CHAR16)(uint8_t)c;
	if (b->n >= 126)
		con_flush(b);
}

int mm_vprintf(const char *fmt, va_list ap)
{
	struct con_buf b;
	b.n = 0;
	int n = fmt_vformat(con_out, &b, fmt, ap);
	con_flush(&b);
	return n;
}

void mm_panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	mm_printf("loader panic: ");
	mm_vprintf(fmt, ap);
	mm_printf("\n");
	va_end(ap);
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* The loader is single-threaded and runs at TPL_APPLICATION: nothing to mask. */
void mm_lock_acquire(struct mm_lock *lk)
{
	if (lk->held)
		mm_panic("mm_lock_acquire: lock %p re-entered", (void *)lk);
	lk->held = 1;
}

void mm_lock_release(struct mm_lock *lk)
{
	lk->held = 0;
}

void efi_console_init(EFI_SYSTEM_TABLE *st)
{
	efi_st = st;
	bs_gone = 0;
}

void efi_console_boot_services_gone(void)
{
	bs_gone = 1;
}

/* Every page allocation of the loader, so a failure can give them back in
 * one place (efi_free_all) before returning to the firmware. */
#define EFI_MAX_ALLOCS 16
static struct {
	EFI_PHYSICAL_ADDRESS pa;   /* base */
	UINTN pages;               /* size, pages */
} allocs[EFI_MAX_ALLOCS];
static unsigned nallocs;

static EFI_STATUS alloc_below(paddr_t max, UINTN pages, EFI_MEMORY_TYPE type,
                              EFI_PHYSICAL_ADDRESS *a)
{
	*a = max;   /* AllocateMaxAddress: the last byte may be at most max */
	return efi_st->BootServices->AllocatePages(AllocateMaxAddress, type, pages, a);
}

/* Pages whose last byte is at most max (identity-mapped pages pass a limit
 * below the kernel's higher half, everything else 4 GiB - 1). */
paddr_t efi_alloc_below(paddr_t max, UINTN pages, EFI_MEMORY_TYPE type, EFI_STATUS *st)
{
	EFI_PHYSICAL_ADDRESS a;
	if (nallocs >= EFI_MAX_ALLOCS) {
		*st = EFI_OUT_OF_RESOURCES;
		return 0;
	}
	*st = alloc_below(max, pages, type, &a);
	if (!EFI_ERROR(*st) && a == 0) {   /* page 0 is never used: hold it, try again */
		*st = alloc_below(max, pages, type, &a);
		efi_st->BootServices->FreePages(0, pages);
	}
	if (EFI_ERROR(*st))
		return 0;
	allocs[nallocs].pa = a;
	allocs[nallocs].pages = pages;
	nallocs++;
	return a;
}

paddr_t efi_alloc_low(UINTN pages, EFI_MEMORY_TYPE type, EFI_STATUS *st)
{
	return efi_alloc_below(0xFFFFFFFFull, pages, type, st);
}

int efi_exit_attempted;

/* EFI_MEMORY_ATTRIBUTE_PROTOCOL (UEFI 2.10): firmware with strict memory
 * protection may hand out new pages read-only and/or no-execute; the
 * trampoline is written and then executed under the firmware's tables. */
struct efi_mem_attr {
	EFI_STATUS (EFIAPI *get)(struct efi_mem_attr *self, EFI_PHYSICAL_ADDRESS base,
	                         UINT64 len, UINT64 *attrs);
	EFI_STATUS (EFIAPI *set)(struct efi_mem_attr *self, EFI_PHYSICAL_ADDRESS base,
	                         UINT64 len, UINT64 attrs);
	EFI_STATUS (EFIAPI *clear)(struct efi_mem_attr *self, EFI_PHYSICAL_ADDRESS base,
	                           UINT64 len, UINT64 attrs);
};
#define EFI_MEMATTR_XP 0x0000000000004000ull
#define EFI_MEMATTR_RO 0x0000000000020000ull

void efi_make_rwx(paddr_t pa, UINTN pages)
{
	static EFI_GUID guid = { 0xf4560cf6, 0x40ec, 0x4b4a,
	                         { 0xa1, 0x92, 0xbf, 0x1d, 0x57, 0xd0, 0xb1, 0x89 } };
	struct efi_mem_attr *ma = 0;
	if (EFI_ERROR(efi_st->BootServices->LocateProtocol(&guid, 0, (void **)&ma)) || !ma)
		return;   /* no protocol: the firmware does not restrict new pages this way */
	static int said;
	if (!said++)
		mm_printf("loader: firmware has EFI_MEMORY_ATTRIBUTE_PROTOCOL: clearing RO/XP on our code pages\n");
	EFI_STATUS st = ma->clear(ma, pa, (UINT64)pages * PAGE_SIZE, EFI_MEMATTR_XP | EFI_MEMATTR_RO);
	if (EFI_ERROR(st))
		mm_printf("loader: clearing RO/XP on 0x%llx (%llu pages) failed (0x%llx)\n",
		          (unsigned long long)pa, (unsigned long long)pages, (unsigned long long)st);
}

void efi_free_all(void)
{
	if (efi_exit_attempted)   /* after a failed ExitBootServices: touch nothing */
		return;
	while (nallocs > 0) {
		nallocs--;
		efi_st->BootServices->FreePages(allocs[nallocs].pa, allocs[nallocs].pages);
	}
}

EFI_STATUS efi_get_map_key(void **buf, UINTN *size, UINTN *key, UINTN *desc_size,
                           UINT32 *desc_ver)
{
	EFI_BOOT_SERVICES *bs = efi_st->BootServices;
	*size = 0;
	*buf = 0;
	EFI_STATUS st = bs->GetMemoryMap(size, 0, key, desc_size, desc_ver);
	for (int tries = 0; st == EFI_BUFFER_TOO_SMALL && tries < 4; tries++) {
		if (*buf)
			bs->FreePool(*buf);
		*size += 8 * *desc_size + 4096;   /* slack: the pool allocation adds entries */
		st = bs->AllocatePool(EfiLoaderData, *size, buf);
		if (EFI_ERROR(st)) {
			*buf = 0;
			return st;
		}
		st = bs->GetMemoryMap(size, *buf, key, desc_size, desc_ver);
	}
	if (EFI_ERROR(st) && *buf) {
		bs->FreePool(*buf);
		*buf = 0;
	}
	return st;
}

EFI_STATUS efi_get_map(void **buf, UINTN *size, UINTN *desc_size, UINT32 *desc_ver)
{
	UINTN key = 0;
	return efi_get_map_key(buf, size, &key, desc_size, desc_ver);
}
