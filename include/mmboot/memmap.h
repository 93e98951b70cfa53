/*
 * Memory-map sanitizer (mm/memmap.c): turns what firmware reports into a
 * clean, sorted, disjoint list of physical ranges, each with one class.
 *
 * Input comes either as raw UEFI descriptors (any count, any descriptor
 * size >= sizeof(struct efi_memdesc)) or as generic ranges (e820 maps and
 * maps parsed by host tools). Nothing in the input is trusted; one bad entry
 * never rejects the whole map. What the sanitizer changed is counted in
 * struct memmap_stats.
 *
 * OWNER: PMM work (issue 3). The declarations below are the agreed contract;
 * refine them, but keep the names other layers use.
 */
#ifndef MMBOOT_MEMMAP_H
#define MMBOOT_MEMMAP_H

#include "types.h"
#include "efi_memdesc.h"

/* What a range may be used for, from most usable to most strict. When two
 * input ranges overlap, the stricter class (higher value) wins. */
enum memmap_class {
	MEMMAP_USABLE = 0,        /* conventional RAM, free now */
	MEMMAP_BOOT_SERVICES,     /* usable after ExitBootServices */
	MEMMAP_LOADER,            /* ours (loader code/data); reclaimable later */
	MEMMAP_ACPI_RECLAIM,      /* ACPI tables; reclaimable after parsing */
	MEMMAP_PERSISTENT,        /* NVDIMM / persistent memory */
	MEMMAP_ACPI_NVS,          /* firmware keeps it across sleep */
	MEMMAP_RUNTIME,           /* UEFI runtime services code/data */
	MEMMAP_MMIO,              /* memory-mapped I/O (incl. port space) */
	MEMMAP_UNUSABLE,          /* RAM with errors */
	MEMMAP_RESERVED,          /* reserved, unknown, OEM and OS-defined types */
	MEMMAP_CLASS_COUNT
};

/* Source type namespaces for generic input ranges. */
enum memmap_src_kind {
	MEMMAP_SRC_EFI = 0,       /* type is an EFI_MEMORY_TYPE */
	MEMMAP_SRC_E820 = 1,      /* type is an e820 type (1 usable, 2 reserved, 3 ACPI, 4 NVS, 5 unusable, 7 pmem, 12 pram...) */
};

struct memmap_in {            /* one input range, untrusted */
	uint64_t start;           /* physical start, bytes, any alignment */
	uint64_t end;             /* physical end, exclusive, bytes; end <= start means empty/wrapped */
	uint32_t type;            /* source type (see kind) */
	uint32_t kind;            /* enum memmap_src_kind */
	uint64_t attr;            /* attribute bits, kept but not interpreted */
};

struct memmap_range {         /* one output range, clean */
	uint64_t start;           /* physical start, bytes, 4 KiB aligned */
	uint64_t end;             /* physical end, exclusive, bytes, 4 KiB aligned, > start */
	uint32_t cls;             /* enum memmap_class */
	uint32_t pad;             /* zero */
};

struct memmap_stats {         /* what sanitizing changed */
	uint32_t entries_in;      /* input entries seen */
	uint32_t entries_out;     /* output ranges written */
	uint32_t merged;          /* adjacent same-class ranges merged */
	uint32_t clipped;         /* ranges shortened by rounding to 4 KiB */
	uint32_t overlaps;        /* overlapping pairs resolved */
	uint32_t dropped_empty;   /* zero-length (or emptied by rounding) entries dropped */
	uint32_t dropped_wrap;    /* entries whose end wraps past 2^64 dropped */
	uint32_t unknown_types;   /* unknown/OEM/OS types treated as reserved */
	uint32_t unsorted;        /* 1 if the input was not sorted by start */
	uint32_t truncated;       /* output ranges that did not fit and were lost */
};

enum memmap_class memmap_class_of_efi(uint32_t efi_type);
enum memmap_class memmap_class_of_e820(uint32_t e820_type);
const char *memmap_class_name(enum memmap_class cls);

/*
 * Sanitize n generic ranges into out[0..cap). Returns the number of output
 * ranges (<= cap; if more were needed, stats->truncated counts the loss).
 * scratch must hold memmap_scratch_size(n) bytes (no allocation inside: the
 * loader and the kernel call this before any heap exists).
 */
uint32_t memmap_sanitize(const struct memmap_in *in, uint32_t n,
                         struct memmap_range *out, uint32_t cap,
                         void *scratch, struct memmap_stats *stats);
uint64_t memmap_scratch_size(uint32_t n);

/* Convert raw UEFI descriptors (stride desc_size) to generic input ranges.
 * Returns how many were written to out (<= n). Entries whose end wraps are
 * passed through with end <= start so the sanitizer counts them. */
uint32_t memmap_from_efi(const void *descs, uint32_t n, uint32_t desc_size,
                         struct memmap_in *out);

/* Total bytes of the given class in [lo, hi). */
uint64_t memmap_class_bytes(const struct memmap_range *r, uint32_t n,
                            enum memmap_class cls, uint64_t lo, uint64_t hi);

#endif /* MMBOOT_MEMMAP_H */
