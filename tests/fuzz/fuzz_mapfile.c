/*
 * libFuzzer target over every map-file parser (tools/memmap/mapfile.h):
 * arbitrary bytes go through format detection and whichever parser it
 * picks (Linux e820/EFI new and old, normalised, mmboot dump and table,
 * UEFI Shell). The first input byte picks a forced prefix so that every
 * parser is reached quickly even from random data: 0 none, 1 the dump
 * magic, 2 the table title, 3 the shell header, 4 "efi: mem00: ", ...
 *
 * Invariants: parsing never crashes or leaks (ASan/UBSan); failure leaves
 * an error naming the input and no entries; success gives at most
 * MF_MAX_ENTRIES entries of one kind. Parsed maps then go through the
 * sanitizer and the whole text report (mm/memmap_report.c), whose output
 * must parse back to the same entries (the table round trip).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mmboot/memmap_fmt.h>
#include "../../tools/memmap/mapfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_prefix[] = {
	"", MEMDUMP_MAGIC, MEMFMT_TITLE "\nentries: 1\n" MEMFMT_COLUMNS "\n",
	"Type       Start            End              # Pages          Attributes\n",
	"efi: mem00: ", "BIOS-e820: [mem ", "0x0 0x1000 ", "(XEN) 0 - 1000 (",
};

struct fuzz_text {
	char *p;                      /* report text */
	size_t len, cap;              /* used, allocated */
};

static void fuzz_emit(void *ctx, const char *line)
{
	struct fuzz_text *t = ctx;
	size_t n = strlen(line);
	if (t->len + n + 2 > t->cap) {
		t->cap = (t->len + n + 2) * 2;
		t->p = realloc(t->p, t->cap);
		if (!t->p)
			abort();
	}
	memcpy(t->p + t->len, line, n);
	t->len += n;
	t->p[t->len++] = '\n';
}

static void fuzz_roundtrip(const struct mapfile *mf)
{
	uint32_t cap = 2 * mf->n + 8;
	struct memmap_range *out = malloc(cap * sizeof(*out));
	void *scratch = malloc(memmap_scratch_size(mf->n) + 8);
	struct memmap_stats st;
	struct fuzz_text t = { 0 };
	struct mapfile back;
	char err[256];
	uint32_t nout = memmap_sanitize(mf->in, mf->n, out, cap, scratch, &st);
	struct memfmt_report r = { .machine = mf->machine, .in = mf->in, .n = mf->n,
	                           .out = out, .nout = nout, .st = &st };
	memfmt_report(&r, fuzz_emit, &t);
	if (mapfile_parse("report", t.p, t.len, &back, err, sizeof(err)) != 0 || back.n != mf->n)
		abort();
	for (uint32_t i = 0; i < mf->n; i++)
		if (back.in[i].start != mf->in[i].start || back.in[i].end != mf->in[i].end ||
		    back.in[i].type != mf->in[i].type || back.in[i].attr != mf->in[i].attr)
			abort();
	mapfile_free(&back);
	free(t.p);
	free(out);
	free(scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mapfile mf;
	char err[256];
	if (size == 0)
		return 0;
	const char *pre = fuzz_prefix[data[0] % (sizeof(fuzz_prefix) / sizeof(fuzz_prefix[0]))];
	size_t plen = strlen(pre), len = plen + size - 1;
	char *buf = malloc(len ? len : 1);
	if (!buf)
		return 0;
	memcpy(buf, pre, plen);
	memcpy(buf + plen, data + 1, size - 1);
	int rc = mapfile_parse("fuzz", buf, len, &mf, err, sizeof(err));
	if (rc != 0) {
		if (mf.in || mf.n || strncmp(err, "fuzz", 4) != 0)
			abort();
	} else {
		if (mf.n > 65536)
			abort();
		for (uint32_t i = 0; i < mf.n; i++)
			if (mf.in[i].kind != mf.kind)
				abort();
		if (mf.n <= 4096)
			fuzz_roundtrip(&mf);
		mapfile_free(&mf);
	}
	free(buf);
	return 0;
}
