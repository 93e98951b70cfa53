/*
 * Host tests of the framebuffer console renderer (kernel/fbcon_draw.c) with
 * the font the kernel uses (build/gen/fbcon_font.c): pixel formats, glyph
 * pixels, wrapping, "\r\n" == "\n", scrolling (checked against a fresh
 * rendering of what should remain), escape sequences, scaling, padding
 * beyond the visible width, and a random-text run checked after every write
 * against a small independent terminal model and the pixel checker.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "fbcon_draw.h"

#define BGRX_R 0x00FF0000u
#define BGRX_G 0x0000FF00u
#define BGRX_B 0x000000FFu

struct screen {
	uint8_t *buf;            /* pitch * height bytes */
	uint32_t pitch, w, h;
	uint8_t *cells;
	uint32_t ncells;
	struct fbcon fb;
};

static void screen_open(struct screen *s, uint32_t w, uint32_t h, uint32_t pad, uint32_t scale)
{
	s->w = w, s->h = h, s->pitch = w * 4 + pad;
	s->buf = malloc((size_t)s->pitch * h);
	assert_non_null(s->buf);
	memset(s->buf, 0xAB, (size_t)s->pitch * h);
	struct fbcon_geom g = { s->buf, s->pitch, w, h, BGRX_R, BGRX_G, BGRX_B };
	s->ncells = fbcon_cells_needed(&g, &fbcon_font_default, scale);
	s->cells = malloc(s->ncells);
	assert_non_null(s->cells);
	assert_int_equal(fbcon_init(&s->fb, &g, &fbcon_font_default, scale, s->cells, s->ncells), 0);
}

static void screen_close(struct screen *s)
{
	free(s->buf), free(s->cells);
}

static void put(struct screen *s, const char *text)
{
	fbcon_write(&s->fb, text, strlen(text));
}

static uint32_t px(const struct screen *s, uint32_t x, uint32_t y)
{
	uint32_t v;
	memcpy(&v, s->buf + (size_t)y * s->pitch + 4u * x, 4);
	return v;
}

static void test_pixel_formats(void **state)
{
	(void)state;
	assert_int_equal(fbcon_pixel(BGRX_R, BGRX_G, BGRX_B, 0x12, 0x34, 0x56), 0x123456);
	assert_int_equal(fbcon_pixel(0xFF, 0xFF00, 0xFF0000, 0x12, 0x34, 0x56), 0x563412);
	/* 10 bits per channel (x2r10g10b10): full scale and zero */
	assert_int_equal(fbcon_pixel(0x3FF00000, 0xFFC00, 0x3FF, 255, 0, 255), 0x3FF003FF);
	/* 5:6:5 in the low half */
	assert_int_equal(fbcon_pixel(0xF800, 0x07E0, 0x001F, 255, 255, 255), 0xFFFF);
	assert_int_equal(fbcon_pixel(0xF800, 0x07E0, 0x001F, 0, 0, 0), 0);
	assert_int_equal(fbcon_pixel(0xF800, 0, 0, 128, 0, 0), 16u << 11);   /* 128*31/255 = 15.56 -> 16 */
	assert_int_equal(fbcon_pixel(0, 0, 0, 255, 255, 255), 0);
}

static void test_init_refuses_bad_geometry(void **state)
{
	(void)state;
	static uint32_t buf[64 * 64];
	uint8_t cells[256];
	struct fbcon fb;
	struct fbcon_geom ok = { buf, 256, 64, 64, BGRX_R, BGRX_G, BGRX_B };
	struct fbcon_geom g;
	assert_int_equal(fbcon_init(&fb, &ok, &fbcon_font_default, 1, cells, sizeof(cells)), 0);
	g = ok, g.pitch = 252;
	assert_int_equal(fbcon_init(&fb, &g, &fbcon_font_default, 1, cells, sizeof(cells)), -1);
	g = ok, g.base = NULL;
	assert_int_equal(fbcon_init(&fb, &g, &fbcon_font_default, 1, cells, sizeof(cells)), -1);
	g = ok, g.width = 7, g.pitch = 28;
	assert_int_equal(fbcon_init(&fb, &g, &fbcon_font_default, 1, cells, sizeof(cells)), -1);
	g = ok, g.mask_red = g.mask_green = g.mask_blue = 0;
	assert_int_equal(fbcon_init(&fb, &g, &fbcon_font_default, 1, cells, sizeof(cells)), -1);
	assert_int_equal(fbcon_init(&fb, &ok, &fbcon_font_default, 0, cells, sizeof(cells)), -1);
	assert_int_equal(fbcon_init(&fb, &ok, &fbcon_font_default, 1, NULL, 0), -1);
	assert_int_equal(fbcon_init(&fb, &ok, NULL, 1, cells, sizeof(cells)), -1);
	assert_int_equal(fbcon_init(&fb, &ok, &fbcon_font_default, 1, cells, 7), -1);   /* < 1 row */
}

static void test_clear_and_padding(void **state)
{
	(void)state;
	struct screen s;
	screen_open(&s, 100, 50, 24, 1);
	for (uint32_t y = 0; y < s.h; y++)
		for (uint32_t x = 0; x < s.w; x++)
			assert_int_equal(px(&s, x, y), s.fb.bg);
	for (int i = 0; i < 40; i++)
		put(&s, "padding must survive scrolling and wrapping of long lines\n");
	for (uint32_t y = 0; y < s.h; y++)
		for (uint32_t b = s.w * 4; b < s.pitch; b++)
			assert_int_equal(s.buf[(size_t)y * s.pitch + b], 0xAB);
	assert_int_equal(fbcon_verify(&s.fb), 0);
	screen_close(&s);
}

static void test_glyph_pixels(void **state)
{
	(void)state;
	struct screen s;
	const struct fbcon_font *f = &fbcon_font_default;
	screen_open(&s, 160, 64, 0, 1);
	put(&s, "A");
	const uint8_t *g = f->bits + (size_t)('A' - f->first) * f->height * f->stride;
	uint32_t lit = 0;
	for (uint32_t y = 0; y < f->height; y++)
		for (uint32_t x = 0; x < f->width; x++) {
			int on = (g[y * f->stride + x / 8] >> (7 - x % 8)) & 1;
			assert_int_equal(px(&s, x, y), on ? s.fb.palette[0] : s.fb.bg);
			lit += on;
		}
	assert_true(lit > 10);                          /* 'A' is not blank */
	assert_int_equal(px(&s, f->width, 0), s.fb.bg); /* next cell untouched */
	assert_int_equal(fbcon_cell(&s.fb, 0, 0), 'A');
	assert_int_equal(s.fb.cx, 1);
	screen_close(&s);
}

static void test_deferred_wrap_and_crlf(void **state)
{
	(void)state;
	struct screen a, b, c;
	screen_open(&a, 80, 64, 0, 1);   /* 10 cols at 8 px */
	screen_open(&b, 80, 64, 0, 1);
	screen_open(&c, 80, 64, 0, 1);
	assert_int_equal(a.fb.cols, 10);
	put(&a, "0123456789\r\nnext\r\n");
	put(&b, "0123456789\nnext\n");
	assert_memory_equal(a.buf, b.buf, (size_t)a.pitch * a.h);
	assert_int_equal(a.fb.cy, b.fb.cy);
	assert_int_equal(a.fb.cy, 2);                   /* no empty line after the full one */
	put(&c, "0123456789x");
	assert_int_equal(fbcon_cell(&c.fb, 0, 1), 'x');
	assert_int_equal(c.fb.cy, 1);
	screen_close(&a), screen_close(&b), screen_close(&c);
}

static void test_scroll_equals_fresh_render(void **state)
{
	(void)state;
	struct screen a, b;
	char line[64];
	screen_open(&a, 320, 160, 8, 1);   /* 40 x 10 */
	screen_open(&b, 320, 160, 8, 1);
	uint32_t rows = a.fb.rows, total = 137;
	for (uint32_t i = 0; i < total; i++) {
		snprintf(line, sizeof(line), "line %u %.*s\n", i, (int)(i % 30), "abcdefghijklmnopqrstuvwxyz0123");
		put(&a, line);
		if (i >= total - (rows - 1))
			put(&b, line);
	}
	assert_true(a.fb.scrolls > 100);
	assert_int_equal(b.fb.scrolls, 0);
	assert_memory_equal(a.buf, b.buf, (size_t)a.pitch * a.h);
	assert_int_equal(fbcon_verify(&a.fb), 0);
	screen_close(&a), screen_close(&b);
}

static void test_controls_and_escapes(void **state)
{
	(void)state;
	struct screen a, b;
	screen_open(&a, 160, 64, 0, 1);
	screen_open(&b, 160, 64, 0, 1);
	put(&a, "a\033[1mb\033[2Jc\033(Bd\033[3 1m");   /* bold (ignored), clear, charset, not SGR */
	put(&b, "abcd");
	assert_memory_equal(a.buf, b.buf, (size_t)a.pitch * a.h);
	put(&a, "\nxy\bz\t|\x01\x80");
	assert_int_equal(fbcon_cell(&a.fb, 1, 1), 'z');
	assert_int_equal(fbcon_cell(&a.fb, 8, 1), '|');
	assert_int_equal(fbcon_cell(&a.fb, 9, 1), FBCON_REPLACEMENT);
	assert_int_equal(fbcon_verify(&a.fb), 0);
	screen_close(&a), screen_close(&b);
}

static void test_colours(void **state)
{
	(void)state;
	struct screen s;
	screen_open(&s, 320, 64, 0, 1);
	put(&s, "\033[32mG\033[0mx\033[1;31mR\033[31;39mD\033[99;34mB\033[;32mg\033[m.");
	const uint8_t want[] = { 3, 0, 2, 0, 5, 3, 0 };
	for (uint32_t i = 0; i < sizeof(want); i++)
		assert_int_equal(fbcon_cell_color(&s.fb, i, 0), want[i]);
	put(&s, "\033[33;1;1;1;31m4\033[999999999m5\033[36H6");   /* 5th param dropped, overflow, not SGR */
	assert_int_equal(fbcon_cell_color(&s.fb, 7, 0), 4);
	assert_int_equal(fbcon_cell_color(&s.fb, 8, 0), 4);
	assert_int_equal(fbcon_cell_color(&s.fb, 9, 0), 4);
	uint32_t lit_green = 0;   /* 'G' drawn in green and nothing else */
	for (uint32_t y = 0; y < s.fb.cell_h; y++)
		for (uint32_t x = 0; x < s.fb.cell_w; x++) {
			uint32_t v = px(&s, x, y);
			assert_true(v == s.fb.bg || v == s.fb.palette[3]);
			lit_green += v == s.fb.palette[3];
		}
	assert_true(lit_green > 10);
	assert_int_equal(s.fb.palette[3], 0x50FF50);
	for (int i = 0; i < 10; i++)
		put(&s, "\033[35mscroll\033[0m keeps colours\n");
	assert_int_equal(fbcon_verify(&s.fb), 0);
	assert_int_equal(fbcon_cell_color(&s.fb, 0, 2), 6);
	screen_close(&s);
}

static void test_scale_two(void **state)
{
	(void)state;
	struct screen s;
	const struct fbcon_font *f = &fbcon_font_default;
	assert_int_equal(fbcon_auto_scale(3840, 2160, f), 2);
	assert_int_equal(fbcon_auto_scale(1920, 1080, f), 1);
	screen_open(&s, 160, 96, 0, 2);
	assert_int_equal(s.fb.cell_w, 2 * f->width);
	put(&s, "#");
	const uint8_t *g = f->bits + (size_t)('#' - f->first) * f->height * f->stride;
	for (uint32_t y = 0; y < 2 * f->height; y++)
		for (uint32_t x = 0; x < 2 * f->width; x++) {
			int on = (g[(y / 2) * f->stride + (x / 2) / 8] >> (7 - (x / 2) % 8)) & 1;
			assert_int_equal(px(&s, x, y), on ? s.fb.palette[0] : s.fb.bg);
		}
	screen_close(&s);
}

static void test_verify_detects_corruption(void **state)
{
	(void)state;
	struct screen s;
	screen_open(&s, 164, 70, 4, 1);   /* 20 x 4 cells, margins right and below */
	put(&s, "verify me\nplease");
	assert_int_equal(fbcon_verify(&s.fb), 0);
	s.buf[(size_t)3 * s.pitch + 4 * 3] ^= 0x40;                  /* inside cell (0,0) */
	assert_int_equal(fbcon_verify(&s.fb), 1);
	s.buf[(size_t)3 * s.pitch + 4 * 3] ^= 0x40;
	s.buf[(size_t)69 * s.pitch + 4 * 2] ^= 0x01;                 /* bottom margin */
	assert_int_equal(fbcon_verify(&s.fb), 1);
	s.buf[(size_t)69 * s.pitch + 4 * 2] ^= 0x01;
	s.fb.cells[2 * FBCON_CELL_BYTES] = 0x05;                    /* bad character code */
	assert_true(fbcon_check(&s.fb) >= 1);
	screen_close(&s);
}

static void test_fewer_cells_fewer_rows(void **state)
{
	(void)state;
	static uint32_t buf[160 * 160];
	uint8_t *cells = malloc(20 * 3 * FBCON_CELL_BYTES);
	struct fbcon fb;
	struct fbcon_geom g = { buf, 640, 160, 160, BGRX_R, BGRX_G, BGRX_B };
	assert_int_equal(fbcon_init(&fb, &g, &fbcon_font_default, 1, cells, 20 * 3 * FBCON_CELL_BYTES), 0);
	assert_int_equal(fb.cols, 20);
	assert_int_equal(fb.rows, 3);
	for (int i = 0; i < 20; i++)
		fbcon_write(&fb, "scrolling in three rows only\n", 29);   /* ASan: no overflow */
	assert_int_equal(fbcon_verify(&fb), 0);
	free(cells);
}

/* Independent model: a plain array terminal with the same text rules. */
struct model {
	uint32_t cols, rows, cx, cy, esc;
	uint8_t c[64][64];          /* characters */
	uint8_t a[64][64];          /* colours */
	uint8_t color;              /* current colour */
	char csi[512];              /* bytes of the current ESC [ sequence */
	size_t ncsi;
	int csi_bad;                /* it holds a byte other than digits and ';' */
};

static void model_newline(struct model *m)
{
	m->cx = 0;
	if (m->cy + 1 < m->rows) {
		m->cy++;
		return;
	}
	memmove(m->c[0], m->c[1], sizeof(m->c[0]) * (m->rows - 1));
	memmove(m->a[0], m->a[1], sizeof(m->a[0]) * (m->rows - 1));
	memset(m->c[m->rows - 1], ' ', sizeof(m->c[0]));
	memset(m->a[m->rows - 1], 0, sizeof(m->a[0]));
}

/* The end of an SGR sequence: its first four ';'-separated numbers. */
static void model_sgr(struct model *m)
{
	int i = 0;
	m->csi[m->ncsi] = 0;
	char *p = m->csi;
	for (;;) {
		char *semi = strchr(p, ';');
		if (semi)
			*semi = 0;
		unsigned long v = strtoul(p, NULL, 10);
		if (i++ < 4) {
			if (v == 0 || v == 39)
				m->color = 0;
			else if (v >= 30 && v <= 37)
				m->color = (uint8_t)(v - 29);
		}
		if (!semi)
			break;
		p = semi + 1;
	}
}

static void model_glyph(struct model *m, uint8_t ch)
{
	if (m->cx >= m->cols)
		model_newline(m);
	m->a[m->cy][m->cx] = m->color;
	m->c[m->cy][m->cx++] = ch;
}

static void model_byte(struct model *m, uint8_t ch)
{
	if (m->esc == 1) { m->esc = ch == '[' ? 2 : strchr("()*+#", ch) && ch ? 3 : 0; m->ncsi = 0; m->csi_bad = 0; return; }
	if (m->esc == 3) { m->esc = 0; return; }
	if (m->esc == 2) {
		if (ch >= 0x40 && ch <= 0x7E) {
			m->esc = 0;
			if (ch == 'm' && !m->csi_bad)
				model_sgr(m);
		} else if (!((ch >= '0' && ch <= '9') || ch == ';')) {
			m->csi_bad = 1;
		} else if (m->ncsi + 1 < sizeof(m->csi)) {
			m->csi[m->ncsi++] = (char)ch;
		}
		return;
	}
	if (ch == 0x1B) m->esc = 1;
	else if (ch >= 0x20 && ch < 0x7F) model_glyph(m, ch);
	else if (ch >= 0x7F) model_glyph(m, FBCON_REPLACEMENT);
	else if (ch == '\n') model_newline(m);
	else if (ch == '\r') m->cx = 0;
	else if (ch == '\b') { if (m->cx) m->cx--; }
	else if (ch == '\t') { do model_glyph(m, ' '); while (m->cx % 8 && m->cx < m->cols); }
}

static void test_random_text_against_model(void **state)
{
	(void)state;
	struct screen s;
	struct model m = { 0 };
	static const char alphabet[] = "abcXYZ01239 .:-#(\n\n\r\t\b\033\033[[mm;;31\x80\xff";
	screen_open(&s, 17 * 8 + 5, 9 * 16 + 3, 12, 1);
	m.cols = s.fb.cols, m.rows = s.fb.rows;
	memset(m.c, ' ', sizeof(m.c));
	memset(m.a, 0, sizeof(m.a));
	srand(12345);
	for (int step = 0; step < 3000; step++) {
		char chunk[24];
		size_t n = 1 + (size_t)rand() % sizeof(chunk);
		for (size_t i = 0; i < n; i++)
			chunk[i] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
		fbcon_write(&s.fb, chunk, n);
		for (size_t i = 0; i < n; i++)
			model_byte(&m, (uint8_t)chunk[i]);
		assert_int_equal(s.fb.cx, m.cx);
		assert_int_equal(s.fb.cy, m.cy);
		for (uint32_t r = 0; r < m.rows; r++)
			for (uint32_t c = 0; c < m.cols; c++) {
				assert_int_equal(fbcon_cell(&s.fb, c, r), m.c[r][c]);
				assert_int_equal(fbcon_cell_color(&s.fb, c, r), m.a[r][c]);
			}
		if (step % 100 == 0)
			assert_int_equal(fbcon_verify(&s.fb), 0);
	}
	assert_int_equal(fbcon_verify(&s.fb), 0);
	assert_true(s.fb.scrolls > 100);
	screen_close(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pixel_formats),
		cmocka_unit_test(test_init_refuses_bad_geometry),
		cmocka_unit_test(test_clear_and_padding),
		cmocka_unit_test(test_glyph_pixels),
		cmocka_unit_test(test_deferred_wrap_and_crlf),
		cmocka_unit_test(test_scroll_equals_fresh_render),
		cmocka_unit_test(test_controls_and_escapes),
		cmocka_unit_test(test_colours),
		cmocka_unit_test(test_scale_two),
		cmocka_unit_test(test_verify_detects_corruption),
		cmocka_unit_test(test_fewer_cells_fewer_rows),
		cmocka_unit_test(test_random_text_against_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
