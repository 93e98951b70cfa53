/*
 * The report on a real screen (inspect_pager, efi/inspect.h). The report
 * has already scrolled past once (and went to serial whole). Then:
 *
 *   1. countdown: "Enter: continue, any other key: scroll the report (N s)";
 *      one timer event per second, WaitForEvent on the timer and the
 *      keyboard; nothing pressed for timeout_s seconds, or Enter: go on;
 *   2. any other key: a full-screen view of the report (that key already
 *      applied, so End opens it at the end), one screen of lines
 *      (cut to the screen width) plus a status line; Up/Down one line,
 *      PgUp/PgDn/Space one screen, Home/End, Left/Right half a screen
 *      sideways (rows are up to ~106 columns; an 80-column console shows
 *      them in two steps; the loader has already switched ConOut to its
 *      largest text mode, efi/inspect_console.c); Enter, Esc or q: go on.
 *      No timeout here: someone is reading.
 * Without a console input the countdown simply runs out.
 */
#include "loader.h"
#include "inspect.h"

struct pager {
	const char *text;             /* the report */
	uint64_t *line;               /* offset of each line (pool) */
	uint64_t nlines;              /* lines */
	UINTN cols, rows;             /* screen size, characters */
	uint64_t left;                /* first column shown (horizontal scroll) */
	uint64_t width;               /* longest line, characters */
};

static uint64_t pager_index(struct pager *p, uint64_t len)
{
	uint64_t n = 0, start = 0;
	for (uint64_t i = 0; i < len; i++)
		if (p->text[i] == '\n') {
			if (p->line)
				p->line[n] = i + 1;
			if (i - start > p->width)
				p->width = i - start;
			start = i + 1;
			n++;
		}
	return n;
}

/* Print line i from column left, cut to the screen width. */
static void pager_line(const struct pager *p, uint64_t i)
{
	char buf[256];
	uint64_t s = (i ? p->line[i - 1] : 0) + p->left, e = p->line[i] - 1, k = 0;
	uint64_t w = p->cols > 1 && p->cols - 1 < sizeof(buf) ? p->cols - 1 : sizeof(buf) - 1;
	for (; s + k < e && k < w; k++)
		buf[k] = p->text[s + k];
	buf[k] = 0;
	mm_printf("%s\n", buf);
}

static void pager_draw(const struct pager *p, uint64_t top)
{
	SIMPLE_TEXT_OUTPUT_INTERFACE *out = efi_st->ConOut;
	uint64_t h = p->rows > 2 ? p->rows - 1 : 1;
	out->ClearScreen(out);
	for (uint64_t i = top; i < top + h && i < p->nlines; i++)
		pager_line(p, i);
	mm_printf("-- lines %llu-%llu of %llu, column %llu of %llu: Up/Down PgUp/PgDn Home/End "
	          "Left/Right, Enter continues --",
	          (unsigned long long)top + 1,
	          (unsigned long long)(top + h < p->nlines ? top + h : p->nlines),
	          (unsigned long long)p->nlines, (unsigned long long)p->left + 1,
	          (unsigned long long)p->width);
}

/* Wait up to one second for a key; 1 and *key if one came. */
static int pager_key_1s(EFI_EVENT timer, EFI_INPUT_KEY *key)
{
	EFI_BOOT_SERVICES *bs = efi_st->BootServices;
	EFI_EVENT ev[2] = { efi_st->ConIn ? efi_st->ConIn->WaitForKey : 0, timer };
	UINTN idx = 1;
	bs->SetTimer(timer, TimerRelative, 10000000);   /* 100 ns units */
	if (ev[0])
		bs->WaitForEvent(2, ev, &idx);
	else
		bs->WaitForEvent(1, &ev[1], &idx), idx = 1;
	return idx == 0 && !EFI_ERROR(efi_st->ConIn->ReadKeyStroke(efi_st->ConIn, key));
}

static int pager_is_exit(const EFI_INPUT_KEY *k)
{
	return k->UnicodeChar == CHAR_CARRIAGE_RETURN || k->ScanCode == SCAN_ESC ||
	       k->UnicodeChar == 'q';
}

/* New top line after key k (h lines a screen, last the highest top). */
static uint64_t pager_move(const EFI_INPUT_KEY *k, uint64_t top, uint64_t h, uint64_t last)
{
	if (k->ScanCode == SCAN_UP)
		return top > 0 ? top - 1 : 0;
	if (k->ScanCode == SCAN_DOWN)
		return top < last ? top + 1 : last;
	if (k->ScanCode == SCAN_PAGE_UP)
		return top > h ? top - h : 0;
	if (k->ScanCode == SCAN_PAGE_DOWN || k->UnicodeChar == ' ')
		return top + h < last ? top + h : last;
	if (k->ScanCode == SCAN_HOME)
		return 0;
	if (k->ScanCode == SCAN_END)
		return last;
	return top;
}

/* New first column after key k: Left/Right by half a screen, within the
 * longest line (a line longer than the screen can be read in two steps). */
static uint64_t pager_hmove(const struct pager *p, const EFI_INPUT_KEY *k)
{
	uint64_t step = p->cols > 2 ? p->cols / 2 : 1;
	uint64_t last = p->width + 1 > p->cols ? p->width + 1 - p->cols : 0;
	if (k->ScanCode == SCAN_LEFT)
		return p->left > step ? p->left - step : 0;
	if (k->ScanCode == SCAN_RIGHT)
		return p->left + step < last ? p->left + step : last;
	return p->left;
}

/* The view, starting with the key that opened it applied. */
static void pager_browse(struct pager *p, EFI_EVENT timer, EFI_INPUT_KEY k)
{
	uint64_t h = p->rows > 2 ? p->rows - 1 : 1;
	uint64_t last = p->nlines > h ? p->nlines - h : 0;
	uint64_t top = pager_move(&k, 0, h, last);
	p->left = pager_hmove(p, &k);
	pager_draw(p, top);
	for (;;) {
		if (!pager_key_1s(timer, &k))
			continue;
		if (pager_is_exit(&k))
			break;
		uint64_t t = pager_move(&k, top, h, last), l = pager_hmove(p, &k);
		if (t != top || l != p->left) {
			p->left = l;
			pager_draw(p, top = t);
		}
	}
	mm_printf("\n");
}

void inspect_pager(const char *text, uint64_t len, uint32_t timeout_s)
{
	EFI_BOOT_SERVICES *bs = efi_st->BootServices;
	struct pager p = { .text = text };
	EFI_EVENT timer;
	EFI_INPUT_KEY k;
	if (EFI_ERROR(bs->CreateEvent(EVT_TIMER, 0, 0, 0, &timer)))
		return;
	p.nlines = pager_index(&p, len);
	if (EFI_ERROR(efi_st->ConOut->QueryMode(efi_st->ConOut, efi_st->ConOut->Mode->Mode,
	                                         &p.cols, &p.rows)))
		p.cols = 80, p.rows = 25;
	if (efi_st->ConIn)
		efi_st->ConIn->Reset(efi_st->ConIn, 0);
	for (uint32_t s = timeout_s; s > 0; s--) {
		mm_printf("\rEnter: continue, other key: scroll the memory map report (%u s) ", s);
		if (!pager_key_1s(timer, &k))
			continue;
		mm_printf("\n");
		if (!pager_is_exit(&k) && p.nlines &&
		    !EFI_ERROR(bs->AllocatePool(EfiLoaderData, p.nlines * sizeof(uint64_t),
		                                (void **)&p.line))) {
			pager_index(&p, len);
			pager_browse(&p, timer, k);
			bs->FreePool(p.line);
		}
		bs->CloseEvent(timer);
		return;
	}
	mm_printf("\n");
	bs->CloseEvent(timer);
}
