/*
 * In-kernel tests of the physical windows (kernel/physwin.c), the way the
 * framebuffer console reaches a framebuffer above 4 GiB:
 *
 *   physwin_pse36_reaches_high_ram  with RAM above 4 GiB in the memory map
 *     (QEMU -m 6G; the kernel never uses that RAM), map one 4 MiB chunk of
 *     it twice through PSE-36 windows and the same offset below 4 GiB once;
 *     a cookie written through the first window must be seen through the
 *     second and NOT through the low one (if the PDE's high address bits were
 *     dropped, both windows would alias low memory and the low window would
 *     see the cookie). Without PSE-36 the window must be refused with
 *     -MM_ERANGE (the console then goes on without a screen). Without such
 *     RAM there is nothing to check (said on the console).
 *   physwin_region_window  below 4 GiB the window comes from the region
 *     layer once it is up, and reads the same bytes as the kernel's own
 *     mapping of the boot-info block.
 */
#include <mmboot/efi_memdesc.h>
#include <mmboot/errno.h>
#include "../kernel.h"
#include "../ktest.h"
#include "../physwin.h"

/* A 4 MiB-aligned chunk of conventional RAM at or above 4 GiB, or 0. */
static paddr_t high_ram_chunk(void)
{
	const struct bootinfo *bi = kernel_bi;
	const uint8_t *map = (const uint8_t *)bi + bi->mmap_offset;
	for (uint32_t i = 0; i < bi->mmap_count; i++) {
		const struct efi_memdesc *d = (const void *)(map + i * bi->mmap_desc_size);
		if (d->type != EFI_MT_CONVENTIONAL)
			continue;
		paddr_t s = ALIGN_UP(d->phys_start, (paddr_t)LARGE_PAGE_SIZE);
		paddr_t e = d->phys_start + (d->num_pages << PAGE_SHIFT);
		if (s < PADDR_4G)
			s = PADDR_4G;
		if (s + LARGE_PAGE_SIZE <= e && s < ((paddr_t)1 << 36))
			return s;
	}
	return 0;
}

static void test_pse36_high_ram(struct ktest_ctx *t)
{
	paddr_t pa = high_ram_chunk();
	struct physwin a, b, low;
	if (pa && !physwin_cpu_pse36()) {
		/* the framebuffer console's "no screen" case: refused, not mis-mapped */
		KT_EXPECT_EQ(t, physwin_map(&a, pa, 8, PHYSWIN_WRITE, "hi-a"), -MM_ERANGE);
		mm_printf("# physwin_pse36_reaches_high_ram: no PSE-36 on this CPU: 0x%llx refused\n",
		          (unsigned long long)pa);
		return;
	}
	if (!pa) {
		mm_printf("# physwin_pse36_reaches_high_ram: no RAM above 4 GiB in this run,"
		          " nothing to check\n");
		return;
	}
	const uint32_t off = 0x1238;   /* inside the chunk, same offset below 4 GiB */
	KT_EXPECT_EQ(t, physwin_map(&a, pa + off, 8, PHYSWIN_WRITE, "hi-a"), 0);
	KT_EXPECT_EQ(t, physwin_map(&b, pa + off, 8, 0, "hi-b"), 0);
	KT_EXPECT_EQ(t, physwin_map(&low, (uint32_t)pa + off, 8, 0, "low"), 0);
	KT_EXPECT_EQ(t, a.how, PHYSWIN_PSE36);
	KT_EXPECT(t, a.va != b.va, "two windows at different va");
	volatile uint32_t *wa = (volatile uint32_t *)(uintptr_t)a.va;
	volatile uint32_t *wb = (volatile uint32_t *)(uintptr_t)b.va;
	volatile uint32_t *wl = (volatile uint32_t *)(uintptr_t)low.va;
	uint32_t cookie = 0x6D6D6200u ^ (uint32_t)(pa >> 22) ^ *wl;   /* differs from low memory */
	wa[0] = cookie;
	wa[1] = ~cookie;
	KT_EXPECT_EQ(t, wb[0], cookie);
	KT_EXPECT_EQ(t, wb[1], ~cookie);
	KT_EXPECT(t, wl[0] != cookie, "low window sees the cookie: high bits of the PDE lost");
	mm_printf("# physwin_pse36_reaches_high_ram: pa 0x%llx via va 0x%08x and 0x%08x (%s)\n",
	          (unsigned long long)(pa + off), a.va, b.va, physwin_how(&a));
	physwin_unmap(&low);
	physwin_unmap(&b);
	physwin_unmap(&a);
}
KTEST(physwin_pse36_reaches_high_ram, test_pse36_high_ram);

static void test_region_window(struct ktest_ctx *t)
{
	const struct bootinfo *bi = kernel_bi;
	struct physwin w;
	KT_EXPECT_EQ(t, physwin_map(&w, bi->bi_pa, sizeof(*bi), 0, "bi-window"), 0);
	const volatile struct bootinfo *copy = (const volatile struct bootinfo *)(uintptr_t)w.va;
	KT_EXPECT_EQ(t, copy->magic, BOOTINFO_MAGIC);
	KT_EXPECT_EQ(t, copy->bi_va, bi->bi_va);
	KT_EXPECT(t, w.va != bi->bi_va, "a second mapping, not the kernel's own");
	mm_printf("# physwin_region_window: boot info at pa 0x%llx seen at 0x%08x (%s)\n",
	          (unsigned long long)bi->bi_pa, w.va, physwin_how(&w));
	physwin_unmap(&w);
}
KTEST(physwin_region_window, test_region_window);
