/*
 * pmm_glue.c: the kernel stage takes over physical memory.
 *
 * One way to a PMM: adopt the loader's. The loader built the PMM from the
 * final map after ExitBootServices and put a struct pmm_handoff at
 * PMM_HANDOFF_EXT_OFFSET of the boot-info ext[] area; the metadata is mapped
 * at handoff.va. It is validated before it is used: the handoff's magic,
 * its size (at most PMM_METADATA_MAX), pmm_adopt() (the header's magic,
 * version, size and layout), the handoff's pa/bytes against the header, and
 * pmm_check() over the whole state. Then it is taken over unchanged (the
 * bytes are position independent). There is no fallback: a kernel that
 * quietly rebuilt its own PMM would hide a loader bug, so a missing or
 * invalid handoff is reported (what was found, what was expected) and the
 * kernel ends with the fail status.
 * The loader's memory (class "loader": kernel image, stack, boot info, page
 * tables, trampoline, the loader itself) starts reserved; once the PMM is
 * up the loader's own image is released to it (the kernel never uses it).
 * Errors are reported with frame and caller (PMM_F_REPORT).
 *
 * The sanitized final map is kept in pmm_boot_map[] so the tests can
 * recompute what the PMM must hold.
 */
#include "kernel.h"
#include "pmm_glue.h"
#include <mmboot/errno.h>

#define GLUE_MAX_DESCS 1024u

static int glue_sanitize(const struct bootinfo *bi);

struct pmm *kernel_pmm;
vaddr_t kernel_pmm_va;
uint32_t kernel_pmm_bytes;
struct pmm_boot pmm_boot;
struct memmap_range pmm_boot_map[2 * GLUE_MAX_DESCS + 1];

static struct memmap_in glue_in[GLUE_MAX_DESCS];
static uint64_t glue_scratch[(GLUE_MAX_DESCS * 112u) / 8u];
static struct memmap_stats glue_stats;

/* Sanitize the final map into pmm_boot_map (once; later calls return the
 * first result). */
int pmm_glue_map(const struct bootinfo *bi)
{
	static int done, rc;
	if (!done) {
		rc = glue_sanitize(bi);
		done = 1;
	}
	return rc;
}

static int glue_sanitize(const struct bootinfo *bi)
{
	const uint8_t *descs = (const uint8_t *)bi + bi->mmap_offset;
	uint32_t n = bi->mmap_count;
	if (n > GLUE_MAX_DESCS) {
		mm_printf("pmm: final map has %u entries, more than %u\n", n, GLUE_MAX_DESCS);
		return -MM_ENOMEM;
	}
	if (memmap_scratch_size(n) > sizeof(glue_scratch) ||
	    memmap_from_efi(descs, n, bi->mmap_desc_size, glue_in) != n)
		return -MM_EINVAL;
	pmm_boot.map_n = memmap_sanitize(glue_in, n, pmm_boot_map, ARRAY_SIZE(pmm_boot_map),
	                                 glue_scratch, &glue_stats);
	return 0;
}

/* The handoff record itself: present, of a size a PMM can have, mapped
 * somewhere. Reports what is wrong. */
static int glue_handoff_ok(const struct pmm_handoff *h)
{
	if (h->magic != PMM_HANDOFF_MAGIC) {
		mm_printf("pmm: REFUSED: the loader handed over no PMM (handoff magic %08x at "
		          "bootinfo.ext+%u, expected %08x); the kernel does not build its own\n",
		          h->magic, PMM_HANDOFF_EXT_OFFSET, PMM_HANDOFF_MAGIC);
		return -MM_ENOENT;
	}
	if (h->va == 0 || h->bytes == 0 || h->bytes > PMM_METADATA_MAX ||
	    (uint64_t)h->va + h->bytes > 0x100000000ull) {
		mm_printf("pmm: REFUSED: handoff va %08x pa %llx bytes %llu: size not in (0, %u] "
		          "or not mapped below 4 GiB\n", h->va, (unsigned long long)h->pa,
		          (unsigned long long)h->bytes, PMM_METADATA_MAX);
		return -MM_EINVAL;
	}
	return 0;
}

/* Adopt the loader's PMM after validating the handoff, the header (magic,
 * version, size, layout: pmm_adopt), the handoff against the header, and
 * the whole state (pmm_check). */
static int glue_adopt(const struct bootinfo *bi)
{
	const struct pmm_handoff *h = (const void *)(bi->ext + PMM_HANDOFF_EXT_OFFSET);
	int rc = glue_handoff_ok(h);
	if (rc)
		return rc;
	struct pmm *p = pmm_adopt((void *)(uintptr_t)h->va, h->bytes);
	if (!p) {
		mm_printf("pmm: REFUSED: the metadata at va %08x (%llu bytes) fails the header "
		          "check (magic, version, size, layout)\n", h->va, (unsigned long long)h->bytes);
		return -MM_ECORRUPT;
	}
	if (pmm_metadata_pa(p) != h->pa || pmm_metadata_bytes(p) > h->bytes) {
		mm_printf("pmm: REFUSED: handoff says pa %llx, %llu bytes; the header says pa %llx, "
		          "%llu bytes\n", (unsigned long long)h->pa, (unsigned long long)h->bytes,
		          (unsigned long long)pmm_metadata_pa(p),
		          (unsigned long long)pmm_metadata_bytes(p));
		return -MM_ECORRUPT;
	}
	uint32_t bad = pmm_check(p, true);
	if (bad) {
		mm_printf("pmm: REFUSED: the loader's PMM has %u inconsistencies\n", bad);
		return -MM_ECORRUPT;
	}
	kernel_pmm = p;
	kernel_pmm_va = h->va;
	kernel_pmm_bytes = (uint32_t)h->bytes;
	return 0;
}

/* The loader's own image: the kernel never uses it again. */
static void glue_release_loader(const struct bootinfo *bi)
{
	pmm_boot.loader_lo = ALIGN_DOWN(bi->loader_image_pa, (uint64_t)PAGE_SIZE);
	pmm_boot.loader_hi = ALIGN_UP(bi->loader_image_pa + bi->loader_image_size, (uint64_t)PAGE_SIZE);
	int n = bi->loader_image_size ? pmm_release_range(kernel_pmm, pmm_boot.loader_lo,
	                                                  pmm_boot.loader_hi) : 0;
	if (n < 0) {
		mm_printf("pmm: releasing the loader image failed: %s\n", mm_strerror(n));
		n = 0;
	}
	pmm_boot.released = (uint32_t)n;
	pmm_boot.free_after_release = pmm_free_pages(kernel_pmm);
}

int pmm_glue_init(const struct bootinfo *bi)
{
	int rc = glue_adopt(bi);
	if (rc) {
		kernel_pmm = NULL;
		kernel_fail("pmm: no valid PMM from the loader (%s): refusing to run without the "
		            "loader's PMM", mm_strerror(rc));
	}
	pmm_boot.from_loader = 1;
	rc = pmm_glue_map(bi);   /* the final map, for the report and the tests' accounting */
	if (rc)
		mm_printf("pmm: the final map could not be sanitized here (%s); the boot "
		          "accounting test will report it\n", mm_strerror(rc));
	pmm_set_flags(kernel_pmm, PMM_F_REPORT);
	struct pmm_stats st;
	pmm_get_stats(kernel_pmm, &st);
	pmm_boot.at_init = st;
	pmm_boot.free_at_init = st.free_pages;
	pmm_boot.alloc_at_init = st.allocated_pages;
	glue_release_loader(bi);
	mm_printf("pmm: adopted the loader's PMM; metadata at va %08x; loader image %llx-%llx: "
	          "%u pages released\n", kernel_pmm_va, (unsigned long long)pmm_boot.loader_lo,
	          (unsigned long long)pmm_boot.loader_hi, pmm_boot.released);
	pmm_print_summary(kernel_pmm, "pmm: ");
	uint32_t bad = pmm_check(kernel_pmm, true);
	mm_printf("pmm: pmm_check: %u inconsistencies\n", bad);
	return bad ? -MM_ECORRUPT : 0;
}
