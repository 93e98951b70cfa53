/*
 * Host tests of the loader's graphics-mode choice (efi/sysinfo_gop.c) over
 * simulated GOP mode lists:
 *   - bytes per pixel from the format and masks: 4 for RGBX/BGRX, 4 for a
 *     PixelBitMask mode with 8-bit masks reaching bit 31 (and with only
 *     RGB masks reaching bit 31), 3 for 24-bit masks, 2 for RGB565, 0 for
 *     overlapping or missing masks and BLT-only;
 *   - the firmware's mode is kept when usable, even above 1920x1200;
 *   - a BLT-only, a 24-bit, a 16-bit or a too small current mode is left
 *     for the largest usable mode up to 1920x1200 (not the 2560x1600 one),
 *     a bitmask mode with 32-bit masks counts as usable;
 *   - all usable modes above 1920x1200: the smallest of them;
 *   - nothing usable (or no modes, or QueryMode failing): GOP_NONE.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../efi/sysinfo_gop.h"

static struct gop_mode mode(uint32_t w, uint32_t h, uint32_t fmt)
{
	struct gop_mode m = { .width = w, .height = h, .scanline = w, .format = fmt, .valid = 1 };
	return m;
}

static struct gop_mode bitmask(uint32_t w, uint32_t h, uint32_t r, uint32_t g, uint32_t b,
                               uint32_t x)
{
	struct gop_mode m = mode(w, h, GOP_PIXEL_BITMASK);
	m.mask_r = r, m.mask_g = g, m.mask_b = b, m.mask_x = x;
	return m;
}

static void test_bpp(void **state)
{
	(void)state;
	struct gop_mode m = mode(800, 600, GOP_PIXEL_BGRX8);
	assert_int_equal(gop_bytes_per_pixel(&m), 4);
	m = mode(800, 600, GOP_PIXEL_RGBX8);
	assert_int_equal(gop_bytes_per_pixel(&m), 4);
	m = mode(800, 600, GOP_PIXEL_BLT);
	assert_int_equal(gop_bytes_per_pixel(&m), 0);
	m = bitmask(800, 600, 0xFF0000, 0xFF00, 0xFF, 0xFF000000u);
	assert_int_equal(gop_bytes_per_pixel(&m), 4);
	m = bitmask(800, 600, 0xFFC00000u, 0x3FF000, 0xFFC, 0);  /* 10:10:10 high */
	assert_int_equal(gop_bytes_per_pixel(&m), 4);
	m = bitmask(800, 600, 0xFF0000, 0xFF00, 0xFF, 0);         /* 24-bit */
	assert_int_equal(gop_bytes_per_pixel(&m), 3);
	m = bitmask(800, 600, 0xF800, 0x7E0, 0x1F, 0);            /* RGB565 */
	assert_int_equal(gop_bytes_per_pixel(&m), 2);
	m = bitmask(800, 600, 0xFF00, 0xFF00, 0xFF, 0);           /* overlap */
	assert_int_equal(gop_bytes_per_pixel(&m), 0);
	m = bitmask(800, 600, 0, 0xFF00, 0xFF, 0);                /* no red */
	assert_int_equal(gop_bytes_per_pixel(&m), 0);
	m = mode(800, 600, 7);
	assert_int_equal(gop_bytes_per_pixel(&m), 0);
	assert_non_null(gop_unusable(&m));
}

static void test_keep_current(void **state)
{
	(void)state;
	struct gop_mode m[] = { mode(640, 480, GOP_PIXEL_BGRX8), mode(800, 600, GOP_PIXEL_BGRX8),
	                        mode(3840, 2160, GOP_PIXEL_BGRX8), mode(1280, 1024, GOP_PIXEL_BGRX8) };
	const char *why = 0;
	assert_int_equal(gop_pick(m, 4, 1, &why), 1);
	assert_non_null(why);
	assert_int_equal(gop_pick(m, 4, 2, &why), 2);      /* native 4K: kept */
	assert_int_equal(gop_pick(m, 4, 0, &why), 0);      /* 640x480 is enough */
}

static void test_switch(void **state)
{
	(void)state;
	struct gop_mode m[] = {
		mode(1024, 768, GOP_PIXEL_BLT),                     /* 0 current: BLT only */
		mode(800, 600, GOP_PIXEL_BGRX8),                     /* 1 */
		mode(2560, 1600, GOP_PIXEL_BGRX8),                   /* 2 above the limit */
		bitmask(1920, 1080, 0xFF0000, 0xFF00, 0xFF, 0),      /* 3 24-bit: no */
		bitmask(1680, 1050, 0xFF, 0xFF00, 0xFF0000, 0xFF000000u), /* 4 32-bit masks */
		mode(320, 200, GOP_PIXEL_BGRX8),                     /* 5 too small */
		bitmask(1920, 1200, 0xF800, 0x7E0, 0x1F, 0),         /* 6 16-bit: no */
	};
	const char *why = 0;
	assert_int_equal(gop_pick(m, 7, 0, &why), 4);
	assert_non_null(gop_unusable(&m[0]));
	assert_non_null(gop_unusable(&m[3]));
	assert_non_null(gop_unusable(&m[5]));
	assert_non_null(gop_unusable(&m[6]));
	assert_int_equal(gop_pick(m, 7, 3, &why), 4);    /* 24-bit current */
	assert_int_equal(gop_pick(m, 7, 5, &why), 4);    /* too small current */
	assert_int_equal(gop_pick(m, 7, 99, &why), 4);   /* current out of range */
	m[4].valid = 0;                                  /* QueryMode failed for it */
	assert_int_equal(gop_pick(m, 7, 0, &why), 1);
	struct gop_mode w[] = { mode(1600, 1200, GOP_PIXEL_RGBX8), mode(1920, 1080, GOP_PIXEL_RGBX8) };
	assert_int_equal(gop_pick(w, 2, 5, &why), 1);    /* more pixels wins */
	struct gop_mode t[] = { mode(1280, 1024, GOP_PIXEL_RGBX8), mode(1024, 1280, GOP_PIXEL_RGBX8) };
	assert_int_equal(gop_pick(t, 2, 5, &why), 0);    /* same pixels: wider */
}

static void test_only_large(void **state)
{
	(void)state;
	struct gop_mode m[] = { mode(640, 480, GOP_PIXEL_BLT), mode(3840, 2160, GOP_PIXEL_BGRX8),
	                        mode(2560, 1440, GOP_PIXEL_BGRX8), mode(5120, 2880, GOP_PIXEL_BGRX8) };
	const char *why = 0;
	assert_int_equal(gop_pick(m, 4, 0, &why), 2);
}

static void test_none(void **state)
{
	(void)state;
	struct gop_mode m[] = { mode(1024, 768, GOP_PIXEL_BLT),
	                        bitmask(1024, 768, 0xFF0000, 0xFF00, 0xFF, 0) };
	const char *why = 0;
	assert_int_equal(gop_pick(m, 2, 0, &why), GOP_NONE);
	assert_non_null(why);
	assert_int_equal(gop_pick(m, 0, 0, &why), GOP_NONE);
	struct gop_mode s = mode(1024, 768, GOP_PIXEL_BGRX8);
	s.scanline = 1000;                               /* inconsistent geometry */
	assert_int_equal(gop_pick(&s, 1, 0, &why), GOP_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bpp),
		cmocka_unit_test(test_keep_current),
		cmocka_unit_test(test_switch),
		cmocka_unit_test(test_only_large),
		cmocka_unit_test(test_none),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
