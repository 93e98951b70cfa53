/*
 * fbrender: the framebuffer console's renderer on the host, for the
 * screenshot test (tests/usb/screenshot.sh).
 *
 *   fbrender render WIDTH HEIGHT TEXT OUT.ppm   draw TEXT as the kernel would on
 *                                               a WIDTHxHEIGHT screen
 *   fbrender compare SHOT.ppm TEXT [DIFF.ppm]   draw TEXT at SHOT's size and
 *                                               compare every pixel
 *
 * TEXT is a file holding the bytes the kernel wrote to its console, in
 * order, since the framebuffer console started (it replays the console ring
 * first; see kernel/fbcon.c). The renderer is kernel/fbcon_draw.c itself,
 * with the same font (build/gen/fbcon_font.c) and the same scale rule, on a
 * buffer in the format of QEMU's std VGA (32 bpp, red 0xFF0000, green
 * 0xFF00, blue 0xFF); PPM is 8-bit RGB.
 *
 * compare prints one line: "match WxH, C cols x R rows" (exit 0), or the
 * number of differing pixels and cells with the first differing cell, its
 * expected character and the rows that differ (exit 1). DIFF.ppm, when
 * given, is the rendered image with differing pixels in magenta. Exit 2 on
 * bad input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fbcon_draw.h"

#define MASK_R 0x00FF0000u
#define MASK_G 0x0000FF00u
#define MASK_B 0x000000FFu

struct image {
	uint32_t w, h;     /* pixels */
	uint8_t *rgb;      /* w * h * 3 bytes */
};

static int read_file(const char *path, char **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	size_t cap = 1 << 16, n = 0, r;
	char *buf = malloc(cap);
	while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb)
				free(buf);
			buf = nb;
		}
	}
	fclose(f);
	if (!buf)
		return -1;
	*data = buf, *len = n;
	return 0;
}

static int ppm_read(const char *path, struct image *img)
{
	FILE *f = fopen(path, "rb");
	unsigned w, h, max;
	if (!f)
		return -1;
	int ok = fscanf(f, "P6 %u %u %u", &w, &h, &max) == 3 && max == 255 && fgetc(f) != EOF &&
	         w > 0 && h > 0 && w <= 16384 && h <= 16384;
	img->w = w, img->h = h;
	img->rgb = ok ? malloc((size_t)w * h * 3) : NULL;
	ok = ok && img->rgb && fread(img->rgb, 3, (size_t)w * h, f) == (size_t)w * h;
	fclose(f);
	return ok ? 0 : -1;
}

static int ppm_write(const char *path, const struct image *img)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	fprintf(f, "P6\n%u %u\n255\n", img->w, img->h);
	size_t n = fwrite(img->rgb, 3, (size_t)img->w * img->h, f);
	return (fclose(f) == 0 && n == (size_t)img->w * img->h) ? 0 : -1;
}

/* Render text on a w x h screen; the result as RGB in *out and the console. */
static int render(uint32_t w, uint32_t h, const char *text, size_t len, struct image *out,
                  struct fbcon *fb)
{
	uint32_t *px = calloc((size_t)w * h, 4);
	struct fbcon_geom g = { px, w * 4, w, h, MASK_R, MASK_G, MASK_B };
	uint32_t scale = fbcon_auto_scale(w, h, &fbcon_font_default);
	uint32_t ncells = fbcon_cells_needed(&g, &fbcon_font_default, scale);
	uint8_t *cells = malloc(ncells ? ncells : 1);
	out->w = w, out->h = h;
	out->rgb = malloc((size_t)w * h * 3);
	if (!px || !cells || !out->rgb || fbcon_init(fb, &g, &fbcon_font_default, scale, cells, ncells)) {
		free(px), free(cells), free(out->rgb);
		out->rgb = NULL, fb->cells = NULL;
		return -1;
	}
	fbcon_write(fb, text, len);
	for (size_t i = 0; i < (size_t)w * h; i++) {
		out->rgb[3 * i + 0] = (uint8_t)(px[i] >> 16);
		out->rgb[3 * i + 1] = (uint8_t)(px[i] >> 8);
		out->rgb[3 * i + 2] = (uint8_t)px[i];
	}
	free(px);
	fb->base = NULL;   /* the pixels are gone; cells stay for reporting */
	return 0;
}

static void report_mismatch(const struct image *want, const struct image *got,
                            const struct fbcon *fb, const char *diff_path)
{
	uint64_t pixels = 0, cells = 0;
	int64_t first = -1;
	uint32_t row_lo = UINT32_MAX, row_hi = 0;
	for (uint32_t cy = 0; cy * fb->cell_h < want->h; cy++)
		for (uint32_t cx = 0; cx * fb->cell_w < want->w; cx++) {
			uint64_t bad = 0;
			for (uint32_t y = cy * fb->cell_h; y < (cy + 1) * fb->cell_h && y < want->h; y++)
				for (uint32_t x = cx * fb->cell_w; x < (cx + 1) * fb->cell_w && x < want->w; x++) {
					size_t i = ((size_t)y * want->w + x) * 3;
					if (memcmp(want->rgb + i, got->rgb + i, 3) == 0)
						continue;
					bad++;
					want->rgb[i] = 0xFF, want->rgb[i + 1] = 0, want->rgb[i + 2] = 0xFF;
				}
			if (!bad)
				continue;
			pixels += bad, cells++;
			row_lo = cy < row_lo ? cy : row_lo, row_hi = cy > row_hi ? cy : row_hi;
			if (first < 0)
				first = (int64_t)cy << 32 | cx;
		}
	uint32_t fy = (uint32_t)(first >> 32), fx = (uint32_t)first;
	uint8_t ch = fbcon_cell(fb, fx, fy);
	printf("MISMATCH: %llu pixels in %llu cells differ, rows %u..%u; first at cell (%u,%u)"
	       " where '%c' was expected\n", (unsigned long long)pixels, (unsigned long long)cells,
	       row_lo, row_hi, fx, fy, ch >= 0x20 && ch < 0x7F ? ch : '?');
	if (diff_path && ppm_write(diff_path, want))
		fprintf(stderr, "fbrender: cannot write %s\n", diff_path);
}

static int cmd_compare(const char *shot_path, const char *text_path, const char *diff_path)
{
	struct image shot, want;
	struct fbcon fb;
	char *text;
	size_t len;
	if (ppm_read(shot_path, &shot) || read_file(text_path, &text, &len)) {
		fprintf(stderr, "fbrender: cannot read %s or %s\n", shot_path, text_path);
		return 2;
	}
	if (render(shot.w, shot.h, text, len, &want, &fb)) {
		fprintf(stderr, "fbrender: cannot render on %ux%u\n", shot.w, shot.h);
		return 2;
	}
	int rc = 0;
	if (memcmp(want.rgb, shot.rgb, (size_t)shot.w * shot.h * 3) == 0) {
		printf("match %ux%u, %u cols x %u rows, scale %u, font %s, %u scrolls\n", shot.w,
		       shot.h, fb.cols, fb.rows, fb.scale, fb.font->name, fb.scrolls);
	} else {
		report_mismatch(&want, &shot, &fb, diff_path);
		rc = 1;
	}
	free(fb.cells), free(want.rgb), free(shot.rgb), free(text);
	return rc;
}

static int cmd_render(const char *ws, const char *hs, const char *text_path, const char *out)
{
	struct image img;
	struct fbcon fb;
	char *text;
	size_t len;
	uint32_t w = (uint32_t)strtoul(ws, NULL, 0), h = (uint32_t)strtoul(hs, NULL, 0);
	if (read_file(text_path, &text, &len) || render(w, h, text, len, &img, &fb) ||
	    ppm_write(out, &img)) {
		fprintf(stderr, "fbrender: cannot render %s at %sx%s into %s\n", text_path, ws, hs, out);
		return 2;
	}
	printf("rendered %ux%u, %u cols x %u rows, %u scrolls\n", w, h, fb.cols, fb.rows, fb.scrolls);
	free(fb.cells), free(img.rgb), free(text);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "render") == 0)
		return cmd_render(argv[2], argv[3], argv[4], argv[5]);
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "compare") == 0)
		return cmd_compare(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	fprintf(stderr, "usage: %s render W H TEXT OUT.ppm | compare SHOT.ppm TEXT [DIFF.ppm]\n",
	        argv[0]);
	return 2;
}
