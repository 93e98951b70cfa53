/*
 * The loader's choice of a graphics mode (issue 7: "picks a graphics mode,
 * keeps the firmware's if sensible"), portable so that a host test
 * (tests/unit/test_gop_pick.c) can run it over simulated mode lists.
 * efi/sysinfo.c fills one struct gop_mode per GOP QueryMode and sets the
 * mode gop_pick returns.
 *
 * A mode is usable by the kernel's framebuffer console when
 *   - it has a linear framebuffer (not PixelBltOnly),
 *   - its pixels are 32 bits: RGBX/BGRX 8-bit-per-colour formats, or a
 *     PixelBitMask mode whose masks (red, green, blue non-zero, no two
 *     overlapping) reach into the top byte of a 32-bit word,
 *   - it is at least 640x480.
 * Bytes per pixel come from the format and masks (gop_bytes_per_pixel):
 * 4 for the fixed formats, for PixelBitMask the highest mask bit rounded
 * up to whole bytes; the pitch is PixelsPerScanLine times that.
 *
 * The choice: the current mode if usable (the firmware set it up for this
 * screen, often its native resolution, whatever the size); else the usable
 * mode with the most pixels not larger than 1920x1200 in either direction
 * (ties: wider), a proxy for the panel's native mode, which GOP does not
 * name; else the smallest usable mode above that; else none.
 */
#ifndef MMBOOT_EFI_SYSINFO_GOP_H
#define MMBOOT_EFI_SYSINFO_GOP_H

#include <stdint.h>

/* EFI_GRAPHICS_PIXEL_FORMAT values */
#define GOP_PIXEL_RGBX8   0u
#define GOP_PIXEL_BGRX8   1u
#define GOP_PIXEL_BITMASK 2u
#define GOP_PIXEL_BLT     3u

#define GOP_MIN_W  640u
#define GOP_MIN_H  480u
#define GOP_PREF_W 1920u
#define GOP_PREF_H 1200u
#define GOP_NONE   0xFFFFFFFFu

struct gop_mode {
	uint32_t width;               /* HorizontalResolution, pixels */
	uint32_t height;              /* VerticalResolution, pixels */
	uint32_t scanline;            /* PixelsPerScanLine */
	uint32_t format;              /* GOP_PIXEL_* */
	uint32_t mask_r;              /* PixelBitMask masks (format BITMASK only) */
	uint32_t mask_g;
	uint32_t mask_b;
	uint32_t mask_x;
	uint32_t valid;               /* 1: QueryMode succeeded for this number */
};

/* 4 for RGBX8/BGRX8; for BITMASK (highest mask bit + 8) / 8 if the masks
 * are sane, else 0; 0 for BLT-only and unknown formats. */
uint32_t gop_bytes_per_pixel(const struct gop_mode *m);
/* 0 if usable, else why not (static string). */
const char *gop_unusable(const struct gop_mode *m);
/* Mode number to use (index into modes[n]) or GOP_NONE; *why says why. */
uint32_t gop_pick(const struct gop_mode *modes, uint32_t n, uint32_t current, const char **why);

#endif
