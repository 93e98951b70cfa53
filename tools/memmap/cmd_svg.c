/*
 * `mmboot-memmap svg FILE [--png OUT.png]`: a picture of the physical
 * address space as the firmware describes it.
 *
 *   title (machine, file, format)
 *   linear scale      0 .............................. highest end
 *                     one band per entry at its true position and width;
 *                     a dashed line marks 4 GiB
 *   compressed scale  the entries in address order, each band as wide as
 *                     1 + log2(pages) units, holes between entries as
 *                     narrow grey gaps: a 4 KiB reserved page stays visible
 *                     next to 500 GiB of RAM
 *   legend            one colour per class (how the sanitizer reads the
 *                     type), with the bytes of each
 *
 * Every band is a <rect class="band"> with a <title> (index, type, range,
 * size) that viewers show on hover; the linear and the compressed bands are
 * in <g id="linear"> and <g id="compressed">, one band per non-empty entry
 * in each (tests count them). SVG goes to stdout; with --png the picture is
 * also converted with rsvg-convert (librsvg2-bin) when it is installed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mmboot/memmap_fmt.h>
#include "analyze.h"

#define SVG_W      1200.0         /* picture width, px */
#define SVG_X0     20.0           /* left margin */
#define SVG_BW     (SVG_W - 2 * SVG_X0) /* bar width */
#define SVG_BAR_H  44.0           /* bar height */
#define SVG_LIN_Y  70.0           /* linear bar top */
#define SVG_CMP_Y  170.0          /* compressed bar top */
#define SVG_LEG_Y  260.0          /* legend top */

static const char *const svg_colour[MEMMAP_CLASS_COUNT] = {
	[MEMMAP_USABLE] = "#3cb44b",        [MEMMAP_BOOT_SERVICES] = "#aee59b",
	[MEMMAP_LOADER] = "#1b7f5b",        [MEMMAP_ACPI_RECLAIM] = "#4363d8",
	[MEMMAP_PERSISTENT] = "#911eb4",    [MEMMAP_ACPI_NVS] = "#42d4f4",
	[MEMMAP_RUNTIME] = "#f58231",       [MEMMAP_MMIO] = "#e6194b",
	[MEMMAP_UNUSABLE] = "#000000",      [MEMMAP_RESERVED] = "#a9a9a9",
};

struct svg_item {
	uint32_t idx;                 /* entry index in the file */
	const struct memmap_in *e;    /* the entry */
};

static void svg_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			fputc((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f ? *s : '?', f);
		}
	}
}

static int svg_item_cmp(const void *x, const void *y)
{
	const struct svg_item *a = x, *b = y;
	if (a->e->start != b->e->start)
		return a->e->start < b->e->start ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Non-empty entries sorted by start. */
static uint32_t svg_items(const struct mapfile *mf, struct svg_item *it)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < mf->n; i++)
		if (mf->in[i].end > mf->in[i].start)
			it[n++] = (struct svg_item){ i, &mf->in[i] };
	qsort(it, n, sizeof(*it), svg_item_cmp);
	return n;
}

static void svg_band(FILE *f, const struct svg_item *it, double x, double y, double w,
                     const char *stroke)
{
	char type[48], size[32];
	struct memfmt_buf tb, sb;
	memfmt_init(&tb, type, sizeof(type));
	memfmt_type(&tb, it->e->kind, it->e->type);
	memfmt_init(&sb, size, sizeof(size));
	memfmt_size(&sb, it->e->end - it->e->start);
	enum memmap_class c = analysis_entry_class(it->e);
	fprintf(f, "<rect class=\"band\" x=\"%.3f\" y=\"%.1f\" width=\"%.3f\" height=\"%.1f\" "
	        "fill=\"%s\"%s><title>#%u %s 0x%llx-0x%llx %s</title></rect>\n", x, y, w, SVG_BAR_H,
	        svg_colour[c < MEMMAP_CLASS_COUNT ? c : MEMMAP_RESERVED], stroke, it->idx, type,
	        (unsigned long long)it->e->start, (unsigned long long)it->e->end, size);
}

static void svg_tick(FILE *f, double x, double y, const char *label)
{
	const char *anchor = x < SVG_X0 + 20 ? "start" : x > SVG_W - SVG_X0 - 20 ? "end" : "middle";
	fprintf(f, "<line x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\" stroke=\"#333\"/>"
	        "<text x=\"%.2f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"%s\">%s</text>\n",
	        x, y, x, y + 5, x, y + 16, anchor, label);
}

static void svg_linear_ticks(FILE *f, uint64_t top)
{
	uint64_t step = 1;
	while (step < top / 8)
		step <<= 1;
	for (uint64_t a = 0; a <= top && step; a += step) {
		char lab[32];
		struct memfmt_buf b;
		memfmt_init(&b, lab, sizeof(lab));
		memfmt_size(&b, a);
		svg_tick(f, SVG_X0 + SVG_BW * ((double)a / (double)top), SVG_LIN_Y + SVG_BAR_H, lab);
		if (a > UINT64_MAX - step)
			break;
	}
	if (top > PADDR_4G)
		fprintf(f, "<line x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\" stroke=\"#c00\" "
		        "stroke-dasharray=\"4,3\"/><text x=\"%.2f\" y=\"%.1f\" font-size=\"10\" "
		        "fill=\"#c00\">4 GiB</text>\n",
		        SVG_X0 + SVG_BW * ((double)PADDR_4G / (double)top), SVG_LIN_Y,
		        SVG_X0 + SVG_BW * ((double)PADDR_4G / (double)top), SVG_LIN_Y + SVG_BAR_H,
		        SVG_X0 + SVG_BW * ((double)PADDR_4G / (double)top) + 3, SVG_LIN_Y + 11);
}

static void svg_linear(FILE *f, const struct svg_item *it, uint32_t n)
{
	uint64_t top = 1;
	for (uint32_t i = 0; i < n; i++)
		if (it[i].e->end > top)
			top = it[i].e->end;
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\">linear scale</text>\n",
	        SVG_X0, SVG_LIN_Y - 8);
	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#f4f4f4\" "
	        "stroke=\"#ccc\"/>\n<g id=\"linear\">\n", SVG_X0, SVG_LIN_Y, SVG_BW, SVG_BAR_H);
	for (uint32_t i = 0; i < n; i++) {
		double x = SVG_X0 + SVG_BW * ((double)it[i].e->start / (double)top);
		double w = SVG_BW * ((double)(it[i].e->end - it[i].e->start) / (double)top);
		svg_band(f, &it[i], x, SVG_LIN_Y, w < 0.25 ? 0.25 : w, "");
	}
	fputs("</g>\n", f);
	svg_linear_ticks(f, top);
}

static double svg_band_units(const struct memmap_in *e)
{
	double pages = (double)(e->end - e->start) / 4096.0;
	return 1.0 + log2(pages < 1.0 ? 1.0 : pages);
}

static double svg_gap_units(uint64_t gap)
{
	return gap ? 0.4 + 0.1 * log2((double)gap / 4096.0 + 1.0) : 0.0;
}

static double svg_total_units(const struct svg_item *it, uint32_t n)
{
	double u = 0;
	uint64_t end = 0;
	for (uint32_t i = 0; i < n; i++) {
		u += svg_gap_units(it[i].e->start > end ? it[i].e->start - end : 0);
		u += svg_band_units(it[i].e);
		if (it[i].e->end > end)
			end = it[i].e->end;
	}
	return u > 0 ? u : 1;
}

/* size inside a wide band; start address below, if the last label is far enough */
static void svg_cmp_label(FILE *f, const struct memmap_in *e, double x, double w, double *last)
{
	char lab[32];
	struct memfmt_buf b;
	if (w >= 56) {
		memfmt_init(&b, lab, sizeof(lab));
		memfmt_size(&b, e->end - e->start);
		fprintf(f, "<text x=\"%.2f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\" "
		        "fill=\"#fff\">%s</text>\n", x + w / 2, SVG_CMP_Y + SVG_BAR_H / 2 + 4, lab);
	}
	if (x - *last < 90)
		return;
	memfmt_init(&b, lab, sizeof(lab));
	memfmt_hex(&b, e->start, 1);
	svg_tick(f, x, SVG_CMP_Y + SVG_BAR_H, lab);
	*last = x;
}

static void svg_compressed(FILE *f, const struct svg_item *it, uint32_t n)
{
	double scale = SVG_BW / svg_total_units(it, n), x = SVG_X0, last = -1000;
	uint64_t end = 0;
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\">compressed scale (band width ~ "
	        "1 + log2 pages; grey: holes)</text>\n<g id=\"compressed\">\n", SVG_X0, SVG_CMP_Y - 8);
	for (uint32_t i = 0; i < n; i++) {
		double gw = scale * svg_gap_units(it[i].e->start > end ? it[i].e->start - end : 0);
		if (gw > 0)
			fprintf(f, "<rect class=\"gap\" x=\"%.3f\" y=\"%.1f\" width=\"%.3f\" height=\"%.1f\" "
			        "fill=\"#e8e8e8\"/>\n", x, SVG_CMP_Y, gw, SVG_BAR_H);
		x += gw;
		double w = scale * svg_band_units(it[i].e);
		svg_band(f, &it[i], x, SVG_CMP_Y, w, " stroke=\"#fff\" stroke-width=\"0.6\"");
		svg_cmp_label(f, it[i].e, x, w, &last);
		x += w;
		if (it[i].e->end > end)
			end = it[i].e->end;
	}
	fputs("</g>\n", f);
}

/* bytes per class over the entries */
static void svg_class_bytes(const struct svg_item *it, uint32_t n, uint64_t *bytes)
{
	for (uint32_t i = 0; i < n; i++) {
		enum memmap_class c = analysis_entry_class(it[i].e);
		bytes[c < MEMMAP_CLASS_COUNT ? c : MEMMAP_RESERVED] += it[i].e->end - it[i].e->start;
	}
}

/* legend, SVG_LEG_PER_ROW classes per row; returns the rows used */
#define SVG_LEG_PER_ROW 5
static int svg_legend(FILE *f, const struct svg_item *it, uint32_t n, int draw)
{
	uint64_t bytes[MEMMAP_CLASS_COUNT] = { 0 };
	int k = 0;
	svg_class_bytes(it, n, bytes);
	if (draw)
		fputs("<g id=\"legend\" font-size=\"11\">\n", f);
	for (int c = 0; c < MEMMAP_CLASS_COUNT; c++) {
		char lab[32];
		struct memfmt_buf b;
		if (!bytes[c])
			continue;
		double x = SVG_X0 + 230.0 * (k % SVG_LEG_PER_ROW), y = SVG_LEG_Y + 20.0 * (k / SVG_LEG_PER_ROW);
		k++;
		if (!draw)
			continue;
		memfmt_init(&b, lab, sizeof(lab));
		memfmt_size(&b, bytes[c]);
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\" "
		        "stroke=\"#666\"/><text x=\"%.1f\" y=\"%.1f\">%s: %s</text>\n", x, y,
		        svg_colour[c], x + 16, y + 10, memmap_class_name((enum memmap_class)c), lab);
	}
	if (draw)
		fputs("</g>\n", f);
	return (k + SVG_LEG_PER_ROW - 1) / SVG_LEG_PER_ROW;
}

static void svg_write(FILE *f, const struct analysis *a, const struct svg_item *it, uint32_t n)
{
	double h = SVG_LEG_Y + 20.0 * svg_legend(f, it, n, 0) + 8;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
	        "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\">\n"
	        "<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n"
	        "<text x=\"%.1f\" y=\"28\" font-size=\"16\" font-weight=\"bold\">",
	        SVG_W, h, SVG_W, h, SVG_X0);
	svg_text(f, a->mf.machine[0] ? a->mf.machine : "memory map");
	fputs("</text>\n<text x=\"20\" y=\"46\" font-size=\"11\" fill=\"#555\">", f);
	svg_text(f, a->path);
	fprintf(f, " (%s, %u entries; usable %llu MiB below 4 GiB, %llu MiB above)</text>\n",
	        mapfile_format_name(a->mf.format), a->mf.n,
	        (unsigned long long)(analysis_usable(a, 0) >> 20),
	        (unsigned long long)(analysis_usable(a, 1) >> 20));
	svg_linear(f, it, n);
	svg_compressed(f, it, n);
	svg_legend(f, it, n, 1);
	fputs("</svg>\n", f);
}

static int svg_png(const struct analysis *a, const struct svg_item *it, uint32_t n,
                   const char *png)
{
	char tmp[] = "/tmp/mmboot-memmap-XXXXXX", cmd[8192];
	int fd = mkstemp(tmp);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (system("command -v rsvg-convert >/dev/null 2>&1") != 0) {
		fprintf(stderr, "mmboot-memmap: --png needs rsvg-convert (Debian: librsvg2-bin)\n");
		if (f)
			fclose(f);
		unlink(tmp);
		return EXIT_BAD_INPUT;
	}
	if (!f || strchr(png, '\'')) {
		fprintf(stderr, "mmboot-memmap: cannot write a temporary file for %s\n", png);
		return EXIT_BAD_INPUT;
	}
	svg_write(f, a, it, n);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "rsvg-convert -f png -o '%s' '%s'", png, tmp);
	int rc = system(cmd);
	unlink(tmp);
	if (rc != 0)
		fprintf(stderr, "mmboot-memmap: rsvg-convert failed writing %s\n", png);
	return rc ? EXIT_BAD_INPUT : 0;
}

int cmd_svg(int argc, char **argv)
{
	struct analysis a;
	const char *path = NULL, *png = NULL;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--png") && i + 1 < argc)
			png = argv[++i];
		else if (!path)
			path = argv[i];
		else
			path = "";
	}
	if (!path || !path[0]) {
		fprintf(stderr, "usage: mmboot-memmap svg FILE [--png OUT.png]\n");
		return EXIT_BAD_INPUT;
	}
	if (analysis_load(path, &a) < 0)
		return EXIT_BAD_INPUT;
	struct svg_item *it = malloc((a.mf.n + 1) * sizeof(*it));
	int rc = 0;
	if (!it) {
		analysis_free(&a);
		return EXIT_BAD_INPUT;
	}
	uint32_t n = svg_items(&a.mf, it);
	svg_write(stdout, &a, it, n);
	if (png)
		rc = svg_png(&a, it, n, png);
	free(it);
	analysis_free(&a);
	return rc;
}
