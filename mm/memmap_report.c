/*
 * The memory-map report (memfmt_report, include/mmboot/memmap_fmt.h): the
 * "mmboot text table" the loader shows and saves and the host tool prints.
 *
 * Every line is built in a MEMFMT_LINE_MAX stack buffer and handed to the
 * caller's emit function; nothing is allocated. Totals per type use a small
 * fixed table (MEMFMT_MAX_TYPES distinct types; any further types are
 * summed as "other types"), kept in order of type number.
 */
#include <mmboot/memmap_fmt.h>
#include <mmboot/mm_env.h>

#define MEMFMT_MAX_TYPES 32u

struct memfmt_total {
	uint32_t kind;                /* enum memmap_src_kind */
	uint32_t type;                /* source type */
	uint32_t count;               /* entries */
	uint64_t pages;               /* pages (each entry rounded up) */
	uint64_t bytes;               /* bytes */
};

#define LINE_BEGIN(b, mem) char mem[MEMFMT_LINE_MAX]; struct memfmt_buf b; memfmt_init(&b, mem, sizeof(mem))

static void memfmt_kv(memfmt_emit_fn emit, void *ctx, const char *key, const char *val)
{
	LINE_BEGIN(b, mem);
	if (!val || !val[0])
		return;
	memfmt_str(&b, key);
	memfmt_str(&b, ": ");
	memfmt_str(&b, val);
	emit(ctx, mem);
}

/* "x.yy" from a BCD-ish revision: UEFI major << 16 | minor (minor 70 -> .70) */
static void memfmt_uefi_rev(struct memfmt_buf *b, uint32_t rev)
{
	memfmt_dec(b, rev >> 16);
	memfmt_char(b, '.');
	if ((rev & 0xffff) < 10)
		memfmt_char(b, '0');
	memfmt_dec(b, rev & 0xffff);
}

static void memfmt_hdr_firmware(const struct memdump_header *h, memfmt_emit_fn emit, void *ctx)
{
	LINE_BEGIN(b, mem);
	memfmt_str(&b, "firmware: ");
	memfmt_str(&b, h->fw_vendor[0] ? h->fw_vendor : "?");
	memfmt_str(&b, " revision ");
	memfmt_hex(&b, h->fw_revision, 8);
	memfmt_str(&b, ", UEFI ");
	memfmt_uefi_rev(&b, h->uefi_revision);
	emit(ctx, mem);
	if (h->flags & MEMDUMP_F_SMBIOS) {
		memfmt_init(&b, mem, sizeof(mem));
		memfmt_str(&b, "smbios: ");
		memfmt_dec(&b, h->smbios_rev >> 8);
		memfmt_char(&b, '.');
		memfmt_dec(&b, h->smbios_rev & 0xff);
		memfmt_str(&b, h->smbios_entry == 3 ? " (64-bit entry point)" : " (32-bit entry point)");
		emit(ctx, mem);
		memfmt_kv(emit, ctx, "manufacturer", h->smbios_manufacturer);
		memfmt_kv(emit, ctx, "product", h->smbios_product);
		memfmt_kv(emit, ctx, "version", h->smbios_version);
		memfmt_kv(emit, ctx, "bios vendor", h->bios_vendor);
		memfmt_kv(emit, ctx, "bios version", h->bios_version);
		memfmt_kv(emit, ctx, "bios date", h->bios_date);
	}
}

static void memfmt_hdr_tables(const struct memdump_header *h, memfmt_emit_fn emit, void *ctx)
{
	LINE_BEGIN(b, mem);
	if (h->flags & MEMDUMP_F_RSDP) {
		memfmt_str(&b, "acpi rsdp: ");
		memfmt_hex(&b, h->rsdp_address, 16);
		memfmt_str(&b, " revision ");
		memfmt_dec(&b, h->rsdp_revision);
		emit(ctx, mem);
		memfmt_init(&b, mem, sizeof(mem));
	}
	memfmt_str(&b, "descriptors: size ");
	memfmt_dec(&b, h->desc_size);
	memfmt_str(&b, ", version ");
	memfmt_dec(&b, h->desc_version);
	memfmt_str(&b, ", map key ");
	memfmt_hex(&b, h->map_key, 1);
	emit(ctx, mem);
}

void memfmt_report_header(const struct memfmt_report *r, memfmt_emit_fn emit, void *ctx)
{
	LINE_BEGIN(b, mem);
	emit(ctx, MEMFMT_TITLE);
	memfmt_kv(emit, ctx, "machine", r->machine);
	memfmt_kv(emit, ctx, "source", r->source);
	if (r->hdr) {
		memfmt_hdr_firmware(r->hdr, emit, ctx);
		memfmt_hdr_tables(r->hdr, emit, ctx);
	}
	memfmt_str(&b, "entries: ");
	memfmt_dec(&b, r->n);
	emit(ctx, mem);
}

static void memfmt_table(const struct memfmt_report *r, memfmt_emit_fn emit, void *ctx)
{
	emit(ctx, "");
	emit(ctx, MEMFMT_COLUMNS);
	for (uint32_t i = 0; i < r->n; i++) {
		LINE_BEGIN(b, mem);
		memfmt_row(&b, i, &r->in[i]);
		emit(ctx, mem);
	}
	emit(ctx, "");
}

/* Add an entry to the totals, kept sorted by (kind, type); the last slot
 * collects whatever does not fit. Returns the number of slots used. */
static uint32_t memfmt_tally(struct memfmt_total *t, uint32_t used, const struct memmap_in *e)
{
	uint32_t i = 0;
	while (i < used && (t[i].kind < e->kind || (t[i].kind == e->kind && t[i].type < e->type)))
		i++;
	if (i == used || t[i].kind != e->kind || t[i].type != e->type) {
		if (used == MEMFMT_MAX_TYPES) {
			i = used - 1;                    /* "other types" */
		} else {
			for (uint32_t j = used; j > i; j--)
				t[j] = t[j - 1];
			t[i] = (struct memfmt_total){ .kind = e->kind, .type = e->type };
			used++;
		}
	}
	t[i].count++;
	t[i].pages += memfmt_pages(e);
	t[i].bytes += e->end > e->start ? e->end - e->start : 0;
	return used;
}

void memfmt_report_totals(const struct memfmt_report *r, memfmt_emit_fn emit, void *ctx)
{
	struct memfmt_total t[MEMFMT_MAX_TYPES];
	uint32_t used = 0;
	for (uint32_t i = 0; i < r->n; i++)
		used = memfmt_tally(t, used, &r->in[i]);
	emit(ctx, "totals per type:");
	for (uint32_t i = 0; i < used; i++) {
		LINE_BEGIN(b, mem);
		memfmt_str(&b, "  ");
		memfmt_type(&b, t[i].kind, t[i].type);
		memfmt_pad(&b, 24);
		memfmt_dec_w(&b, t[i].count, 6);
		memfmt_str(&b, t[i].count == 1 ? " entry  " : " entries");
		memfmt_dec_w(&b, t[i].pages, 12);
		memfmt_str(&b, " pages  ");
		memfmt_size(&b, t[i].bytes);
		emit(ctx, mem);
	}
}

static void memfmt_stat(struct memfmt_buf *b, const char *name, uint32_t v)
{
	memfmt_str(b, ", ");
	memfmt_str(b, name);
	memfmt_char(b, ' ');
	memfmt_dec(b, v);
}

static void memfmt_warnings(const struct memmap_stats *st, memfmt_emit_fn emit, void *ctx)
{
	uint32_t logged = st->warnings < MEMMAP_WARN_LOG ? st->warnings : MEMMAP_WARN_LOG;
	for (uint32_t i = 0; i < logged; i++) {
		const struct memmap_warning *w = &st->log[i];
		LINE_BEGIN(b, mem);
		memfmt_str(&b, "  warning: ");
		memfmt_str(&b, memmap_warning_name(w->what));
		memfmt_str(&b, " entry ");
		memfmt_dec(&b, w->index);
		memfmt_str(&b, " [");
		memfmt_hex(&b, w->start, 1);
		memfmt_char(&b, '-');
		memfmt_hex(&b, w->end, 1);
		memfmt_str(&b, ") type ");
		memfmt_hex(&b, w->type, 1);
		emit(ctx, mem);
	}
	if (st->warnings > logged) {
		LINE_BEGIN(b, mem);
		memfmt_str(&b, "  ... and ");
		memfmt_dec(&b, st->warnings - logged);
		memfmt_str(&b, " more warnings");
		emit(ctx, mem);
	}
}

static void memfmt_usable(const struct memfmt_report *r, memfmt_emit_fn emit, void *ctx)
{
	static const char *const label[2] = { "usable below 4 GiB: ", "usable above 4 GiB: " };
	for (int hi = 0; hi < 2; hi++) {
		uint64_t bytes = memmap_mask_bytes(r->out, r->nout, MEMMAP_FREE_MASK,
		                                   hi ? PADDR_4G : 0, hi ? ~(uint64_t)0 : PADDR_4G);
		LINE_BEGIN(b, mem);
		memfmt_str(&b, label[hi]);
		memfmt_size(&b, bytes);
		memfmt_str(&b, " (");
		memfmt_dec(&b, bytes >> PAGE_SHIFT);
		memfmt_str(&b, " pages; usable, boot services and loader memory)");
		emit(ctx, mem);
	}
}

void memfmt_report_sanitizer(const struct memfmt_report *r, memfmt_emit_fn emit, void *ctx)
{
	const struct memmap_stats *st = r->st;
	if (!st || !r->out)
		return;
	LINE_BEGIN(b, mem);
	memfmt_str(&b, "sanitizer: ");
	memfmt_dec(&b, st->entries_in);
	memfmt_str(&b, " entries in, ");
	memfmt_dec(&b, st->entries_out);
	memfmt_str(&b, " ranges out");
	memfmt_stat(&b, "merged", st->merged);
	memfmt_stat(&b, "clipped", st->clipped);
	memfmt_stat(&b, "overlaps", st->overlaps);
	memfmt_stat(&b, "dropped empty", st->dropped_empty);
	memfmt_stat(&b, "dropped wrapped", st->dropped_wrap);
	memfmt_stat(&b, "unknown types", st->unknown_types);
	memfmt_str(&b, st->unsorted ? ", unsorted" : ", sorted");
	if (st->truncated)
		memfmt_stat(&b, "TRUNCATED", st->truncated);
	emit(ctx, mem);
	memfmt_warnings(st, emit, ctx);
	memfmt_usable(r, emit, ctx);
}

void memfmt_report(const struct memfmt_report *r, memfmt_emit_fn emit, void *ctx)
{
	memfmt_report_header(r, emit, ctx);
	memfmt_table(r, emit, ctx);
	memfmt_report_totals(r, emit, ctx);
	memfmt_report_sanitizer(r, emit, ctx);
}
