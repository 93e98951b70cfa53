/*
 * fbcon_draw.c: the framebuffer console's renderer (theory in fbcon_draw.h).
 *
 * Cost: a glyph is cell_w * cell_h 32-bit stores; a scroll redraws only the
 * cells whose character changes (a typical log line is much shorter than the
 * screen is wide, so most of a row is blank above blank) and never reads
 * the framebuffer.
 */
#include "fbcon_draw.h"

#define FBCON_TAB 8u

static uint32_t mask_shift(uint32_t m)
{
	uint32_t s = 0;
	while (m && !(m & 1u))
		m >>= 1, s++;
	return s;
}

static uint32_t mask_bits(uint32_t m)
{
	uint32_t n = 0;
	m >>= mask_shift(m);
	while (m & 1u)
		m >>= 1, n++;
	return n;
}

static uint32_t channel(uint32_t mask, uint8_t v)
{
	uint32_t bits = mask_bits(mask);
	if (bits == 0)
		return 0;
	uint32_t max = bits >= 32 ? 0xFFFFFFFFu : (1u << bits) - 1u;
	uint32_t scaled = (uint32_t)(((uint64_t)v * max + 127u) / 255u);
	return (scaled << mask_shift(mask)) & mask;
}

uint32_t fbcon_pixel(uint32_t mask_r, uint32_t mask_g, uint32_t mask_b,
                     uint8_t r, uint8_t g, uint8_t b)
{
	return channel(mask_r, r) | channel(mask_g, g) | channel(mask_b, b);
}

uint32_t fbcon_auto_scale(uint32_t width, uint32_t height, const struct fbcon_font *font)
{
	if (!font || width < 2560u || height < 2u * 24u * font->height)
		return 1;
	return 2;
}

uint32_t fbcon_cells_needed(const struct fbcon_geom *g, const struct fbcon_font *font,
                            uint32_t scale)
{
	if (!g || !font || scale == 0 || font->width == 0 || font->height == 0)
		return 0;
	return (g->width / (font->width * scale)) * (g->height / (font->height * scale)) *
	       FBCON_CELL_BYTES;
}

static uint32_t *pixel_row(const struct fbcon *fb, uint32_t y)
{
	return (uint32_t *)(void *)(fb->base + (size_t)y * fb->pitch);
}

static const uint8_t *glyph_bits(const struct fbcon_font *f, uint8_t ch)
{
	uint32_t idx = (ch >= f->first && ch < f->first + f->count) ? ch - f->first : f->count;
	return f->bits + (size_t)idx * f->height * f->stride;
}

static int font_bit(const struct fbcon_font *f, const uint8_t *g, uint32_t gx, uint32_t gy)
{
	return (g[gy * f->stride + gx / 8u] >> (7u - gx % 8u)) & 1u;
}

/* Draw cell (character cell[0], colour cell[1]) at (col, row) of the screen. */
static void draw_cell(struct fbcon *fb, uint32_t col, uint32_t row, const uint8_t *cell)
{
	const struct fbcon_font *f = fb->font;
	const uint8_t *g = glyph_bits(f, cell[0]);
	uint32_t fg = fb->palette[cell[1] % FBCON_COLORS];
	uint32_t x0 = col * fb->cell_w, y0 = row * fb->cell_h;
	for (uint32_t y = 0; y < fb->cell_h; y++) {
		uint32_t *px = pixel_row(fb, y0 + y) + x0;
		uint32_t gy = y / fb->scale;
		for (uint32_t x = 0; x < fb->cell_w; x++)
			px[x] = font_bit(f, g, x / fb->scale, gy) ? fg : fb->bg;
	}
	fb->glyphs_drawn++;
}

static uint8_t *cell_at(const struct fbcon *fb, uint32_t col, uint32_t row)
{
	return &fb->cells[(((fb->top + row) % fb->rows) * fb->cols + col) * FBCON_CELL_BYTES];
}

uint8_t fbcon_cell(const struct fbcon *fb, uint32_t col, uint32_t row)
{
	return (col < fb->cols && row < fb->rows) ? cell_at(fb, col, row)[0] : 0;
}

uint8_t fbcon_cell_color(const struct fbcon *fb, uint32_t col, uint32_t row)
{
	return (col < fb->cols && row < fb->rows) ? cell_at(fb, col, row)[1] : 0;
}

static int cell_same(const uint8_t *a, const uint8_t *b)
{
	return a[0] == b[0] && a[1] == b[1];
}

static void fill_rect(struct fbcon *fb, uint32_t x0, uint32_t y0, uint32_t w, uint32_t h)
{
	for (uint32_t y = y0; y < y0 + h; y++) {
		uint32_t *px = pixel_row(fb, y);
		for (uint32_t x = x0; x < x0 + w; x++)
			px[x] = fb->bg;
	}
}

static int geom_ok(const struct fbcon_geom *g, const struct fbcon_font *font, uint32_t scale)
{
	return g && font && font->bits && g->base && scale && font->width && font->height &&
	       font->stride * 8u >= font->width && g->pitch / 4u >= g->width &&
	       (g->mask_red | g->mask_green | g->mask_blue) &&
	       g->width >= font->width * scale && g->height >= font->height * scale;
}

/* Default text light grey; ANSI colours bright enough for the dark blue
 * background (black is drawn dark grey so that it stays visible). */
static void init_palette(struct fbcon *fb, const struct fbcon_geom *g)
{
	static const uint8_t rgb[FBCON_COLORS][3] = {
		{ 0xE0, 0xE0, 0xE0 }, { 0x60, 0x60, 0x60 }, { 0xFF, 0x50, 0x50 },
		{ 0x50, 0xFF, 0x50 }, { 0xFF, 0xFF, 0x50 }, { 0x70, 0x90, 0xFF },
		{ 0xFF, 0x60, 0xFF }, { 0x50, 0xFF, 0xFF }, { 0xFF, 0xFF, 0xFF },
	};
	for (uint32_t i = 0; i < FBCON_COLORS; i++)
		fb->palette[i] = fbcon_pixel(g->mask_red, g->mask_green, g->mask_blue, rgb[i][0],
		                             rgb[i][1], rgb[i][2]);
	fb->bg = fbcon_pixel(g->mask_red, g->mask_green, g->mask_blue, 0x00, 0x00, 0x30);
}

int fbcon_init(struct fbcon *fb, const struct fbcon_geom *g, const struct fbcon_font *font,
               uint32_t scale, uint8_t *cells, uint32_t cells_bytes)
{
	if (!fb || !cells || !geom_ok(g, font, scale))
		return -1;
	*fb = (struct fbcon){ .base = g->base, .pitch = g->pitch, .width = g->width,
	                      .height = g->height, .font = font, .scale = scale, .cells = cells };
	fb->cell_w = font->width * scale;
	fb->cell_h = font->height * scale;
	fb->cols = g->width / fb->cell_w;
	fb->rows = g->height / fb->cell_h;
	if (fb->cols * fb->rows * FBCON_CELL_BYTES > cells_bytes)
		fb->rows = cells_bytes / FBCON_CELL_BYTES / fb->cols;
	if (fb->rows == 0)
		return -1;
	init_palette(fb, g);
	for (uint32_t i = 0; i < fb->cols * fb->rows; i++)
		cells[i * FBCON_CELL_BYTES] = ' ', cells[i * FBCON_CELL_BYTES + 1] = 0;
	fill_rect(fb, 0, 0, fb->width, fb->height);
	return 0;
}

/* Move every row up by one: redraw the cells that change, rotate the ring. */
static void scroll(struct fbcon *fb)
{
	static const uint8_t blank[FBCON_CELL_BYTES] = { ' ', 0 };
	for (uint32_t r = 0; r + 1 < fb->rows; r++)
		for (uint32_t c = 0; c < fb->cols; c++) {
			const uint8_t *below = cell_at(fb, c, r + 1);
			if (!cell_same(cell_at(fb, c, r), below))
				draw_cell(fb, c, r, below);
		}
	uint32_t last = fb->rows - 1;
	for (uint32_t c = 0; c < fb->cols; c++)
		if (!cell_same(cell_at(fb, c, last), blank))
			draw_cell(fb, c, last, blank);
	fb->top = (fb->top + 1) % fb->rows;
	for (uint32_t c = 0; c < fb->cols; c++)
		cell_at(fb, c, last)[0] = ' ', cell_at(fb, c, last)[1] = 0;
	fb->scrolls++;
}

static void newline(struct fbcon *fb)
{
	fb->cx = 0;
	if (fb->cy + 1 < fb->rows)
		fb->cy++;
	else
		scroll(fb);
}

static void put_glyph(struct fbcon *fb, uint8_t ch)
{
	if (fb->cx >= fb->cols)
		newline(fb);
	uint8_t *cell = cell_at(fb, fb->cx, fb->cy);
	if (cell[0] != ch || cell[1] != fb->color) {
		cell[0] = ch, cell[1] = fb->color;
		draw_cell(fb, fb->cx, fb->cy, cell);
	}
	fb->cx++;
}

/* SGR (ESC [ ... m): colours 30..37, default 39 and 0; the rest ignored. */
static void apply_sgr(struct fbcon *fb)
{
	uint32_t n = fb->sgr_n < FBCON_SGR_MAX ? fb->sgr_n : FBCON_SGR_MAX;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t p = fb->sgr[i];
		if (p == 0 || p == 39)
			fb->color = 0;
		else if (p >= 30 && p <= 37)
			fb->color = (uint8_t)(p - 30 + 1);
	}
}

#define SGR_INVALID 0xFFu     /* sgr_n: the sequence holds other bytes, not SGR */

/* Inside ESC [ (sgr_n parameters started, the first at the '['): digits
 * build the current parameter (saturating at 255), ';' starts the next
 * (those beyond FBCON_SGR_MAX are dropped), a final byte ends it; any other
 * byte (intermediates, controls, 8-bit) makes it a sequence that is only
 * swallowed. */
static void csi_byte(struct fbcon *fb, uint8_t ch)
{
	if (ch >= '0' && ch <= '9') {
		if (fb->sgr_n <= FBCON_SGR_MAX) {
			uint32_t v = fb->sgr[fb->sgr_n - 1u] * 10u + (ch - '0');
			fb->sgr[fb->sgr_n - 1u] = (uint8_t)(v > 255 ? 255 : v);
		}
	} else if (ch == ';') {
		if (fb->sgr_n < FBCON_SGR_MAX)
			fb->sgr[fb->sgr_n] = 0;
		if (fb->sgr_n <= FBCON_SGR_MAX)
			fb->sgr_n++;   /* stops at FBCON_SGR_MAX + 1: later ones dropped */
	} else if (ch >= 0x40 && ch <= 0x7E) {
		if (ch == 'm' && fb->sgr_n != SGR_INVALID)
			apply_sgr(fb);
		fb->esc = 0;
	} else {
		fb->sgr_n = SGR_INVALID;
	}
}

/* Swallowed: ESC [ params... final byte (0x40..0x7E, 'm' applied); ESC ( x,
 * ESC ) x, ESC * x, ESC + x, ESC # x (charset and line-size selections);
 * ESC x. */
static int swallow_escape(struct fbcon *fb, uint8_t ch)
{
	switch (fb->esc) {
	case 1:
		fb->esc = (ch == '[') ? 2 : (ch == '(' || ch == ')' || ch == '*' || ch == '+' ||
		                             ch == '#') ? 3 : 0;
		fb->sgr_n = 1, fb->sgr[0] = 0;
		return 1;
	case 3:
		fb->esc = 0;
		return 1;
	case 2:
		csi_byte(fb, ch);
		return 1;
	default:
		if (ch == 0x1B) {
			fb->esc = 1;
			return 1;
		}
		return 0;
	}
}

static void put_byte(struct fbcon *fb, uint8_t ch)
{
	if (swallow_escape(fb, ch))
		return;
	if (ch >= 0x20 && ch < 0x7F) {
		put_glyph(fb, ch);
	} else if (ch >= 0x7F) {
		put_glyph(fb, FBCON_REPLACEMENT);
	} else if (ch == '\n') {
		newline(fb);
	} else if (ch == '\r') {
		fb->cx = 0;
	} else if (ch == '\b') {
		if (fb->cx > 0)
			fb->cx--;
	} else if (ch == '\t') {
		do
			put_glyph(fb, ' ');
		while (fb->cx % FBCON_TAB && fb->cx < fb->cols);
	}
}

void fbcon_write(struct fbcon *fb, const char *s, size_t len)
{
	if (!fb || !fb->cells)
		return;
	for (size_t i = 0; i < len; i++)
		put_byte(fb, (uint8_t)s[i]);
}

uint32_t fbcon_check(const struct fbcon *fb)
{
	uint32_t bad = 0;
	if (!fb || !fb->cells || fb->rows == 0 || fb->cols == 0)
		return 1;
	bad += fb->cx > fb->cols;
	bad += fb->cy >= fb->rows;
	bad += fb->top >= fb->rows;
	bad += fb->esc > 3;
	bad += fb->cols * fb->cell_w > fb->width || fb->rows * fb->cell_h > fb->height;
	bad += fb->color >= FBCON_COLORS;
	for (uint32_t i = 0; i < fb->cols * fb->rows; i++) {
		const uint8_t *c = &fb->cells[i * FBCON_CELL_BYTES];
		bad += c[0] < 0x20 || c[0] > FBCON_REPLACEMENT || c[1] >= FBCON_COLORS;
	}
	return bad;
}

static int cell_matches(const struct fbcon *fb, uint32_t col, uint32_t row)
{
	const struct fbcon_font *f = fb->font;
	const uint8_t *cell = cell_at(fb, col, row);
	const uint8_t *g = glyph_bits(f, cell[0]);
	uint32_t fg = fb->palette[cell[1] % FBCON_COLORS];
	for (uint32_t y = 0; y < fb->cell_h; y++) {
		const uint32_t *px = pixel_row(fb, row * fb->cell_h + y) + col * fb->cell_w;
		for (uint32_t x = 0; x < fb->cell_w; x++)
			if (px[x] != (font_bit(f, g, x / fb->scale, y / fb->scale) ? fg : fb->bg))
				return 0;
	}
	return 1;
}

static int rect_is_bg(const struct fbcon *fb, uint32_t x0, uint32_t y0, uint32_t w, uint32_t h)
{
	for (uint32_t y = y0; y < y0 + h; y++)
		for (uint32_t x = x0; x < x0 + w; x++)
			if (pixel_row(fb, y)[x] != fb->bg)
				return 0;
	return 1;
}

uint32_t fbcon_verify(const struct fbcon *fb)
{
	uint32_t bad = fbcon_check(fb);
	if (bad)
		return bad;
	for (uint32_t r = 0; r < fb->rows; r++)
		for (uint32_t c = 0; c < fb->cols; c++)
			bad += !cell_matches(fb, c, r);
	uint32_t tw = fb->cols * fb->cell_w, th = fb->rows * fb->cell_h;
	bad += !rect_is_bg(fb, tw, 0, fb->width - tw, fb->height);
	bad += !rect_is_bg(fb, 0, th, tw, fb->height - th);
	return bad;
}
