/*
 * libFuzzer target over every map-file parser (tools/memmap/mapfile.h):
 * arbitrary bytes go through format detection and whichever parser it
 * picks (Linux e820/EFI new and old, normalised, mmboot dump and table,
 * UEFI Shell). The first input byte picks a forced prefix so that every
 * parser is reached quickly even from random data: 0 none, 1 the dump
 * magic, 2 the table title, 3 the shell header, 4 "efi: mem00: ", ...
 *
 * The last selector value (FUZZ_SYSFS) reaches the /sys/firmware/memmap
 * parser (tools/memmap/parse_sysfs.c) instead: the rest of the input is cut
 * at NUL bytes into fields, taken three at a time as the start, end and type
 * files of entry directories 0, 1, 2, ... (at most FUZZ_SYSFS_MAX) of a
 * private temporary tree; a field that is exactly "\x01" leaves that file
 * out. The tree is read through mapfile_load (as `show DIR` does) and
 * removed again. Invariants as above, plus: success means one entry per
 * directory, format "sysfs".
 *
 * Invariants: parsing never crashes or leaks (ASan/UBSan); failure leaves
 * an error naming the input and no entries; success gives at most
 * MF_MAX_ENTRIES entries of one kind. Parsed maps then go through the
 * sanitizer and the whole text report (mm/memmap_report.c), whose output
 * must parse back to the same entries (the table round trip).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <mmboot/memmap_fmt.h>
#include "../../tools/memmap/mapfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_prefix[] = {
	"", MEMDUMP_MAGIC, MEMFMT_TITLE "\nentries: 1\n" MEMFMT_COLUMNS "\n",
	"Type       Start            End              # Pages          Attributes\n",
	"efi: mem00: ", "BIOS-e820: [mem ", "0x0 0x1000 ", "(XEN) 0 - 1000 (",
};
#define FUZZ_NPREFIX  (sizeof(fuzz_prefix) / sizeof(fuzz_prefix[0]))
#define FUZZ_SYSFS    FUZZ_NPREFIX      /* selector value: the sysfs tree */
#define FUZZ_SYSFS_MAX 64u              /* entry directories per input */

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

static char fuzz_root[64];             /* private temporary directory, made once */
static unsigned long fuzz_sysfs_ok, fuzz_sysfs_refused;   /* trees parsed / refused */

/* At exit: remove the temporary directory, say how often the sysfs parser
 * accepted and refused a tree (tests/memmap/fuzz-smoke.sh checks both). */
static void fuzz_sysfs_atexit(void)
{
	char top[96];
	snprintf(top, sizeof(top), "%s/t", fuzz_root);
	rmdir(top);
	rmdir(fuzz_root);
	fprintf(stderr, "fuzz_mapfile: sysfs trees parsed %lu, refused %lu\n", fuzz_sysfs_ok,
	        fuzz_sysfs_refused);
}

static void fuzz_path(char *buf, size_t len, unsigned dir, const char *file)
{
	if (file)
		snprintf(buf, len, "%s/t/%u/%s", fuzz_root, dir, file);
	else
		snprintf(buf, len, "%s/t/%u", fuzz_root, dir);
}

/* Write the entry directories; returns how many were made. */
static unsigned fuzz_sysfs_write(const uint8_t *p, size_t len)
{
	static const char *const files[] = { "start", "end", "type" };
	char path[128];
	unsigned nfield = 0;
	size_t at = 0;
	while (at <= len && nfield < 3 * FUZZ_SYSFS_MAX) {
		const uint8_t *nul = at < len ? memchr(p + at, 0, len - at) : NULL;
		size_t flen = nul ? (size_t)(nul - (p + at)) : len - at;
		unsigned dir = nfield / 3;
		if (nfield % 3 == 0) {
			fuzz_path(path, sizeof(path), dir, NULL);
			if (mkdir(path, 0700) != 0)
				abort();
		}
		if (!(flen == 1 && p[at] == 1)) {
			fuzz_path(path, sizeof(path), dir, files[nfield % 3]);
			FILE *f = fopen(path, "wb");
			if (!f || fwrite(p + at, 1, flen, f) != flen || fclose(f) != 0)
				abort();
		}
		nfield++;
		at += flen + 1;
	}
	return (nfield + 2) / 3;
}

static void fuzz_sysfs_remove(unsigned ndirs)
{
	static const char *const files[] = { "start", "end", "type" };
	char path[128];
	for (unsigned d = 0; d < ndirs; d++) {
		for (unsigned i = 0; i < 3; i++) {
			fuzz_path(path, sizeof(path), d, files[i]);
			unlink(path);
		}
		fuzz_path(path, sizeof(path), d, NULL);
		if (rmdir(path) != 0)
			abort();
	}
}

static void fuzz_sysfs(const uint8_t *p, size_t len)
{
	struct mapfile mf;
	char err[256], top[96];
	if (!fuzz_root[0]) {
		snprintf(fuzz_root, sizeof(fuzz_root), "%s/fuzz_mapfile.XXXXXX",
		         getenv("TMPDIR") && strlen(getenv("TMPDIR")) < 24 ? getenv("TMPDIR") : "/tmp");
		if (!mkdtemp(fuzz_root))
			abort();
		snprintf(top, sizeof(top), "%s/t", fuzz_root);
		if (mkdir(top, 0700) != 0)
			abort();
		atexit(fuzz_sysfs_atexit);
	}
	snprintf(top, sizeof(top), "%s/t", fuzz_root);
	unsigned ndirs = fuzz_sysfs_write(p, len);
	int rc = mapfile_load(top, &mf, err, sizeof(err));
	if (rc != 0) {
		if (mf.in || mf.n || strncmp(err, top, strlen(top)) != 0)
			abort();
		fuzz_sysfs_refused++;
	} else {
		fuzz_sysfs_ok++;
		if (mf.format != MAPFILE_SYSFS || mf.n != ndirs)
			abort();
		for (uint32_t i = 0; i < mf.n; i++)
			if (mf.in[i].kind != mf.kind)
				abort();
		fuzz_roundtrip(&mf);
		mapfile_free(&mf);
	}
	fuzz_sysfs_remove(ndirs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mapfile mf;
	char err[256];
	if (size == 0)
		return 0;
	if (data[0] % (FUZZ_NPREFIX + 1) == FUZZ_SYSFS) {
		fuzz_sysfs(data + 1, size - 1);
		return 0;
	}
	const char *pre = fuzz_prefix[data[0] % (FUZZ_NPREFIX + 1)];
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
