/*
 * /sys/firmware/memmap: the firmware map as Linux received it (before any
 * memmap= changes), one directory per entry, numbered from 0, each with
 * "start" and "end" (hex, inclusive end) and "type" (System RAM, Reserved,
 * ACPI Tables, ...). Read as an e820 map; each entry's "line" is its
 * directory number. Any directory laid out the same way works (a copy made
 * with `cp -r /sys/firmware/memmap`).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapfile_int.h"

/* Read a small file into buf (NUL-terminated, trailing newline removed). */
static int sysfs_read(const char *dir, unsigned idx, const char *field, char *buf,
                      size_t len, char *err, size_t errlen)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%u/%s", dir, idx, field);
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	size_t n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return 0;
}

/* Number of entries: directories 0..N-1 (all must exist). */
static int sysfs_count(const char *dir, unsigned *count, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	unsigned n = 0;
	if (!d) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		char *end;
		unsigned long v = strtoul(de->d_name, &end, 10);
		if (de->d_name[0] >= '0' && de->d_name[0] <= '9' && *end == '\0' && v < MF_MAX_ENTRIES)
			n++;
	}
	closedir(d);
	if (n == 0) {
		snprintf(err, errlen, "%s: no numbered entries (not a /sys/firmware/memmap directory)", dir);
		return -1;
	}
	*count = n;
	return 0;
}

static int sysfs_entry(struct mf_ctx *c, const char *dir, unsigned i)
{
	char sb[64], eb[64], tb[64];
	if (sysfs_read(dir, i, "start", sb, sizeof(sb), c->err, c->errlen) < 0 ||
	    sysfs_read(dir, i, "end", eb, sizeof(eb), c->err, c->errlen) < 0 ||
	    sysfs_read(dir, i, "type", tb, sizeof(tb), c->err, c->errlen) < 0)
		return -1;
	struct mf_scan s = { sb, sb + strlen(sb) }, e = { eb, eb + strlen(eb) };
	struct mf_scan t = { tb, tb + strlen(tb) };
	uint64_t start, last;
	uint32_t type;
	if (!sc_hex(&s, false, &start) || !sc_eol(&s) || !sc_hex(&e, false, &last) || !sc_eol(&e))
		return mf_fail(c, i, "entry %u: start/end are not hex numbers", i);
	/* last < start passed through (zero length or garbage): the sanitizer
	 * drops it with a warning */
	if (!mf_e820_type_from_sysfs(t, &type))
		return mf_fail(c, i, "entry %u: unknown type \"%s\"", i, tb);
	return mf_add(c, i, start, last + 1, type, MEMMAP_SRC_E820, 0);
}

int mf_load_sysfs(const char *dir, struct mapfile *mf, char *err, size_t errlen)
{
	struct mf_ctx c = { .name = dir, .mf = mf, .err = err, .errlen = errlen };
	unsigned n;
	memset(mf, 0, sizeof(*mf));
	mf->format = MAPFILE_SYSFS;
	mf->kind = MEMMAP_SRC_E820;
	if (sysfs_count(dir, &n, err, errlen) < 0)
		return -1;
	for (unsigned i = 0; i < n; i++)
		if (sysfs_entry(&c, dir, i) < 0) {
			mapfile_free(mf);
			return -1;
		}
	return 0;
}
