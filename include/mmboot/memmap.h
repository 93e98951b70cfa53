/*
 * Memory-map sanitizer (mm/memmap.c): turns what firmware reports into a
 * clean, sorted, disjoint list of physical ranges, each with one class.
 *
 * Input comes either as raw UEFI descriptors (any count, any descriptor
 * size >= sizeof(struct efi_memdesc)) or as generic ranges (e820 maps and
 * maps parsed by host tools). Nothing in the input is trusted; one bad entry
 * never rejects the whole map. What the sanitizer changed is counted in
 * struct memmap_stats, and the first few dropped or odd entries are logged
 * there too (memmap_print_stats prints them).
 *
 * Rules (docs/pmm.md has the reasoning):
 *   1. zero-length entries (end == start) are dropped (warning EMPTY);
 *      entries whose end wraps past 2^64 (end < start) are dropped (WRAP);
 *   2. unknown types (EFI >= 16, OEM >= 0x70000000, OS >= 0x80000000, e820
 *      types we do not know) become MEMMAP_RESERVED (warning UNKNOWN_TYPE);
 *   3. overlaps: at every byte the strictest class (highest enum value) of
 *      the entries covering it wins, so a reserved range nested inside a
 *      usable one splits it in three;
 *   4. touching or overlapping ranges of the same class are merged;
 *   5. after merging, "free" classes (MEMMAP_FREE_MASK: usable, boot
 *      services, loader) are rounded inward to 4 KiB, every other class
 *      outward; a page claimed by two classes after rounding goes to the
 *      stricter one; ranges emptied by rounding are dropped;
 *   6. output is sorted by start, disjoint, 4 KiB aligned, non-empty.
 *
 * No allocation inside: the caller passes scratch (memmap_scratch_size(n)
 * bytes, 8-byte aligned); the loader and the kernel call this before any
 * heap exists. O(n log n) time (heap sort), no recursion.
 *
 * OWNER: PMM work (issue 3).
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

#define MEMMAP_CLASS_BIT(c) (1u << (c))
/* Classes that are (or become) free RAM: rounded inward, managed by the PMM. */
#define MEMMAP_FREE_MASK                                                       \
	(MEMMAP_CLASS_BIT(MEMMAP_USABLE) | MEMMAP_CLASS_BIT(MEMMAP_BOOT_SERVICES) |  \
	 MEMMAP_CLASS_BIT(MEMMAP_LOADER))

/* Source type namespaces for generic input ranges. */
enum memmap_src_kind {
	MEMMAP_SRC_EFI = 0,       /* type is an EFI_MEMORY_TYPE */
	MEMMAP_SRC_E820 = 1,      /* type is an e820 type (1 usable, 2 reserved, 3 ACPI, 4 NVS, 5 unusable, 7 pmem, 12 pram...) */
};

struct memmap_in {            /* one input range, untrusted */
	uint64_t start;           /* physical start, bytes, any alignment */
	uint64_t end;             /* physical end, exclusive, bytes; end == start: empty, end < start: wrapped past 2^64 */
	uint32_t type;            /* source type (see kind) */
	uint32_t kind;            /* enum memmap_src_kind (other values: type unknown -> reserved) */
	uint64_t attr;            /* attribute bits, kept but not interpreted */
};

struct memmap_range {         /* one output range, clean */
	uint64_t start;           /* physical start, bytes, 4 KiB aligned */
	uint64_t end;             /* physical end, exclusive, bytes, 4 KiB aligned, > start */
	uint32_t cls;             /* enum memmap_class */
	uint32_t pad;             /* zero */
};
_Static_assert(sizeof(struct memmap_range) == 24, "memmap_range crosses loader -> kernel");

enum memmap_warn_what {
	MEMMAP_W_EMPTY = 1,       /* zero-length entry dropped */
	MEMMAP_W_WRAP,            /* end wraps past 2^64: dropped */
	MEMMAP_W_UNKNOWN_TYPE,    /* unknown/OEM/OS type: treated as reserved */
	MEMMAP_W_TRUNCATED,       /* output full: range lost */
};

struct memmap_warning {       /* one logged change (the first MEMMAP_WARN_LOG only) */
	uint64_t start;           /* entry start as given */
	uint64_t end;             /* entry end as given */
	uint32_t index;           /* input index (output index for TRUNCATED) */
	uint32_t what;            /* enum memmap_warn_what */
	uint32_t type;            /* source type as given */
	uint32_t pad;             /* zero */
};
#define MEMMAP_WARN_LOG 8u

struct memmap_stats {         /* what sanitizing changed; fixed width (handed to the kernel) */
	uint32_t entries_in;      /* input entries seen */
	uint32_t entries_out;     /* output ranges written */
	uint32_t merged;          /* touching same-class ranges joined (boundaries removed) */
	uint32_t clipped;         /* ranges whose ends moved when rounding to 4 KiB */
	uint32_t overlaps;        /* entries that began inside another (or together with one) */
	uint32_t dropped_empty;   /* zero-length (or emptied by rounding) entries dropped */
	uint32_t dropped_wrap;    /* entries whose end wraps past 2^64 dropped */
	uint32_t unknown_types;   /* unknown/OEM/OS types treated as reserved */
	uint32_t unsorted;        /* 1 if the input was not sorted by start */
	uint32_t truncated;       /* output ranges that did not fit and were lost */
	uint32_t warnings;        /* warnings raised in total (log holds the first few) */
	uint32_t pad;             /* zero */
	struct memmap_warning log[MEMMAP_WARN_LOG]; /* first warnings, in input order */
};
_Static_assert(sizeof(struct memmap_stats) == 48 + 32 * MEMMAP_WARN_LOG, "memmap_stats layout");

enum memmap_class memmap_class_of_efi(uint32_t efi_type);
enum memmap_class memmap_class_of_e820(uint32_t e820_type);
const char *memmap_class_name(enum memmap_class cls);
const char *memmap_warning_name(uint32_t what);
/* true if the type is one the sanitizer knows (not folded into RESERVED as unknown) */
bool memmap_type_known(uint32_t kind, uint32_t type);

/*
 * Sanitize n generic ranges into out[0..cap). Returns the number of output
 * ranges (<= cap; if more were needed, stats->truncated counts the loss).
 * scratch must hold memmap_scratch_size(n) bytes, 8-byte aligned (no
 * allocation inside: the loader and the kernel call this before any heap
 * exists). stats may be NULL.
 */
#define MEMMAP_MAX_ENTRIES (1u << 24)    /* more input entries: nothing out, truncated = n */
uint32_t memmap_sanitize(const struct memmap_in *in, uint32_t n,
                         struct memmap_range *out, uint32_t cap,
                         void *scratch, struct memmap_stats *stats);
uint64_t memmap_scratch_size(uint32_t n);

/* Convert raw UEFI descriptors (stride desc_size, no alignment needed) to
 * generic input ranges. Returns how many were written to out (n, or 0 when
 * desc_size < sizeof(struct efi_memdesc)). Entries whose end wraps are passed
 * through with end < start so the sanitizer counts them. */
uint32_t memmap_from_efi(const void *descs, uint32_t n, uint32_t desc_size,
                         struct memmap_in *out);

/* Total bytes of the given class in [lo, hi). */
uint64_t memmap_class_bytes(const struct memmap_range *r, uint32_t n,
                            enum memmap_class cls, uint64_t lo, uint64_t hi);
/* Total bytes of the classes in mask (MEMMAP_CLASS_BIT) in [lo, hi). */
uint64_t memmap_mask_bytes(const struct memmap_range *r, uint32_t n,
                           uint32_t mask, uint64_t lo, uint64_t hi);

/* Print the stats and the warning log through mm_printf, each line
 * starting with prefix. */
void memmap_print_stats(const struct memmap_stats *st, const char *prefix);

#endif /* MMBOOT_MEMMAP_H */
