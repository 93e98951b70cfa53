/*
 * fbcon.c: the kernel stage's framebuffer console.
 *
 * At fbcon_setup (after the region layer is up, marked INIT spot in
 * kernel/main.c):
 *   1. take the GOP framebuffer the loader described in the boot-info block
 *      (32 bits per pixel; pitch and the red/green/blue masks as given);
 *   2. map it: the region layer's region_create_phys (4 MiB PSE pages where
 *      aligned, write-through), or, above 4 GiB, PSE-36 4 MiB pages when the
 *      CPU has them (physwin.c); without PSE-36 a framebuffer above 4 GiB is
 *      out of reach: say so on serial and go on without the screen;
 *   3. set up the renderer (fbcon_draw.c) over it with the font converted at
 *      build time (build/gen/fbcon_font.c), scale 2 on very large screens;
 *   4. replay the console ring (everything the kernel wrote so far), then
 *      register as a console sink: from here every byte written to serial is
 *      drawn too;
 *   5. print one line saying what it did, e.g.
 *        fbcon: 1280x800 pitch 5120 at 0x80000000 -> 0xd0000000 (region layer),
 *        160x50 cells, font Uni2-Terminus16 x1, replayed 1234 bytes
 *      The screenshot test (tests/usb/screenshot.sh) reads "replayed N bytes"
 *      to know where the screen's text starts in the serial log.
 *
 * cells[] is static (FBCON_MAX_CELLS, 2 bytes each); a screen needing more
 * cells uses fewer rows. The console ring is 16 KiB: if the kernel wrote more before
 * this point only the last 16 KiB appear on screen.
 */
#include <mmboot/errno.h>
#include "kernel.h"
#include "fbcon.h"
#include "fbcon_draw.h"
#include "physwin.h"

#define FBCON_MAX_CELLS 40960u          /* 320 x 128 cells */

static struct fbcon fbcon;
static uint8_t fbcon_cells[FBCON_MAX_CELLS * FBCON_CELL_BYTES];
static struct physwin fbcon_win;
static int fbcon_on;

static void fbcon_sink(const char *s, uint32_t len)
{
	fbcon_write(&fbcon, s, len);
}

int fbcon_active(void)
{
	return fbcon_on;
}

/* The framebuffer as described, or a reason why it cannot be used. */
static const char *fb_unusable(const struct bootinfo *bi)
{
	if (bi->flags & BI_F_SERIAL_ONLY)
		return "the boot option 'serial' asks for no screen";
	if (!(bi->flags & BI_F_FB))
		return "the loader found no framebuffer (no GOP)";
	if (bi->fb_format == BI_FB_BLT_ONLY)
		return "the firmware's graphics mode has no linear framebuffer (BLT only)";
	if (bi->fb_width == 0 || bi->fb_height == 0 || bi->fb_pitch / 4 < bi->fb_width)
		return "the framebuffer geometry is inconsistent";
	if ((uint64_t)bi->fb_pitch * bi->fb_height > bi->fb_size && bi->fb_size != 0)
		return "the framebuffer is smaller than pitch x height";
	if ((uint64_t)bi->fb_pitch * bi->fb_height > 0x40000000u)
		return "the framebuffer is larger than 1 GiB";
	return 0;
}

static int fb_map(const struct bootinfo *bi)
{
	uint32_t bytes = bi->fb_pitch * bi->fb_height;
	int rc = physwin_map(&fbcon_win, bi->fb_pa, bytes, PHYSWIN_WRITE | PHYSWIN_WTHRU,
	                     "framebuffer");
	if (rc == -MM_ERANGE)
		mm_printf("fbcon: framebuffer at 0x%llx lies above 4 GiB and this CPU has no PSE-36"
		          " (or too few address bits): no screen, serial only\n",
		          (unsigned long long)bi->fb_pa);
	else if (rc)
		mm_printf("fbcon: cannot map the framebuffer at 0x%llx (%s): no screen, serial only\n",
		          (unsigned long long)bi->fb_pa, mm_strerror(rc));
	return rc;
}

void fbcon_setup(void)
{
	const struct bootinfo *bi = kernel_bi;
	const char *why = bi ? fb_unusable(bi) : "no boot-info block";
	if (why) {
		mm_printf("fbcon: %s; serial only\n", why);
		return;
	}
	if (fb_map(bi))
		return;
	struct fbcon_geom g = { (void *)(uintptr_t)fbcon_win.va, bi->fb_pitch, bi->fb_width,
	                        bi->fb_height, bi->fb_mask_red, bi->fb_mask_green,
	                        bi->fb_mask_blue };
	uint32_t scale = fbcon_auto_scale(g.width, g.height, &fbcon_font_default);
	if (fbcon_init(&fbcon, &g, &fbcon_font_default, scale, fbcon_cells, sizeof(fbcon_cells))) {
		mm_printf("fbcon: %ux%u is too small for the font; serial only\n", g.width, g.height);
		physwin_unmap(&fbcon_win);
		return;
	}
	uint32_t replayed = console_ring_used();
	console_replay(fbcon_sink);
	if (console_add_sink(fbcon_sink)) {
		mm_printf("fbcon: no free console sink; serial only\n");
		return;
	}
	fbcon_on = 1;
	mm_printf("fbcon: %ux%u pitch %u at 0x%llx -> 0x%08x (%s), %ux%u cells, font %s x%u,"
	          " replayed %u bytes\n", g.width, g.height, g.pitch, (unsigned long long)bi->fb_pa,
	          fbcon_win.va, physwin_how(&fbcon_win), fbcon.cols, fbcon.rows,
	          fbcon.font->name, fbcon.scale, replayed);
}

const struct fbcon *fbcon_state(void)
{
	return fbcon_on ? &fbcon : 0;
}
