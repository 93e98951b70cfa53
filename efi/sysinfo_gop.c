/*
 * Graphics mode choice (efi/sysinfo_gop.h: the rules). Portable: no
 * <efi.h>, host-tested by tests/unit/test_gop_pick.c.
 */
#include "sysinfo_gop.h"

static uint32_t gop_top_bit(uint32_t v)
{
	uint32_t b = 0;
	while (v >>= 1)
		b++;
	return b;
}

uint32_t gop_bytes_per_pixel(const struct gop_mode *m)
{
	switch (m->format) {
	case GOP_PIXEL_RGBX8:
	case GOP_PIXEL_BGRX8:
		return 4;
	case GOP_PIXEL_BITMASK: {
		uint32_t r = m->mask_r, g = m->mask_g, b = m->mask_b, x = m->mask_x;
		if (!r || !g || !b || (r & g) || (r & b) || (g & b) || ((r | g | b) & x))
			return 0;
		return (gop_top_bit(r | g | b | x) + 8) / 8;
	}
	default:
		return 0;
	}
}

const char *gop_unusable(const struct gop_mode *m)
{
	if (!m->valid)
		return "QueryMode failed";
	if (m->format == GOP_PIXEL_BLT)
		return "no linear framebuffer (BLT only)";
	uint32_t bpp = gop_bytes_per_pixel(m);
	if (bpp == 0)
		return "unknown pixel format or bad masks";
	if (bpp != 4)
		return "not 32 bits per pixel";
	if (m->width < GOP_MIN_W || m->height < GOP_MIN_H)
		return "smaller than 640x480";
	if (m->scanline < m->width)
		return "scan line shorter than the width";
	return 0;
}

/* a better than b for a switch (b may be GOP_NONE) */
static int gop_better(const struct gop_mode *modes, uint32_t a, uint32_t b)
{
	const struct gop_mode *x = &modes[a], *y;
	int xin = x->width <= GOP_PREF_W && x->height <= GOP_PREF_H, yin;
	uint64_t xp = (uint64_t)x->width * x->height, yp;
	if (b == GOP_NONE)
		return 1;
	y = &modes[b];
	yin = y->width <= GOP_PREF_W && y->height <= GOP_PREF_H;
	yp = (uint64_t)y->width * y->height;
	if (xin != yin)
		return xin;
	if (xp != yp)
		return xin ? xp > yp : xp < yp;   /* inside: largest; above: smallest */
	return x->width > y->width;
}

uint32_t gop_pick(const struct gop_mode *modes, uint32_t n, uint32_t current, const char **why)
{
	uint32_t best = GOP_NONE;
	if (current < n && !gop_unusable(&modes[current])) {
		*why = "the firmware's mode is usable: kept";
		return current;
	}
	for (uint32_t i = 0; i < n; i++)
		if (!gop_unusable(&modes[i]) && gop_better(modes, i, best))
			best = i;
	if (best == GOP_NONE)
		*why = "no mode with a linear 32-bit framebuffer of at least 640x480";
	else if (modes[best].width <= GOP_PREF_W && modes[best].height <= GOP_PREF_H)
		*why = "the firmware's mode is not usable: largest usable mode up to 1920x1200";
	else
		*why = "the firmware's mode is not usable: smallest usable mode (all above 1920x1200)";
	return best;
}
