/*
 * handoff.c: everything between "the map has been shown" and the jump into
 * the kernel stage.
 *
 * handoff_prepare (boot services still up, every step may fail and return):
 *   1. validate the embedded ELF32 kernel, AllocatePages below 4 GiB
 *      (EfiLoaderCode), copy its segments, zero .bss
 *   2. allocate the kernel stack, the loader's own stack for the exit path,
 *      the trampoline page (EfiLoaderCode, below PDB_IDMAP_LIMIT = 1 GiB if
 *      possible, else below the kernel's va: it is identity mapped), the
 *      PMM metadata and build
 *      scratch (pmm_handoff.c) and the boot-info block (header page + map
 *      area sized from a probe of the current map plus slack)
 *   3. lay out the kernel's virtual space (below) in the boot-info block
 *      and check the whole plan (pdb_plan_check): no overlap, no page 0,
 *      nothing in the recursive slot, while a failure can still go back
 *      to the firmware
 *
 * handoff_exit_and_jump, called on the loader's own stack (efi/main.c,
 * efi_call_on_stack): exitbs_run (final GetMemoryMap straight into the
 * boot-info map area, ExitBootServices, bounded retry); then, with boot
 * services gone:
 *   4. the buddy PMM from the final map (pmmh_build)
 *   5. every frame still live until the mode switch reserved in the PMM and
 *      listed in bi->transient[] (transient.c: the firmware's page tables,
 *      GDT and IDT; our stack, the build scratch, the trampoline)
 *   6. the page directory and its tables built with pdbuild from PMM frames
 *      (pmm_alloc order 0: allocated, so the kernel finds them accounted)
 *   7. the mode-switch trampoline copied and filled, and the jump.
 * A failure after ExitBootServices cannot go back to the firmware: it is
 * printed on COM1 and the CPU halts.
 *
 * Kernel virtual layout built here (4 KiB pages):
 *
 *   0x00000000  page 0: never mapped
 *   tramp_pa    trampoline page, identity mapped (code: RO); the kernel
 *               unmaps and releases it (kernel/boot_reclaim.c)
 *   kernel_va   kernel image (va_lo..va_hi from the ELF; .text RO, data RW)
 *               guard page (unmapped)
 *   stack_va    kernel stack, KSTACK_PAGES pages RW
 *               guard page
 *   bi_va       boot-info block RW (header page + map area)
 *               guard page
 *   pmm_va      PMM metadata RW (pmm_handoff.c), guard page
 *   boot_va_end first free kernel virtual address (the VMM starts here)
 *   0xFFC00000  page tables (PDE 1023 -> directory), 0xFFFFF000 directory
 */
#include "loader.h"
#include "exitbs.h"
#include "../arch/x86/pdbuild.h"
#include "../arch/x86/modeswitch.h"

extern const uint8_t kernel_blob_start[], kernel_blob_end[];

#define MAP_SLACK_DESCS 64u   /* room for the map to grow before the final read */

static struct pdbuild pdb;   /* static: 8 KiB of table pointers */

static EFI_STATUS fail(EFI_STATUS st, const char *what)
{
	mm_printf("loader: %s failed (EFI status 0x%llx)\n", what, (unsigned long long)st);
	return st;
}

static EFI_STATUS load_kernel(struct boot_layout *L)
{
	uint64_t len = (uint64_t)(kernel_blob_end - kernel_blob_start);
#if defined(MMBOOT_CRASH) && MMBOOT_CRASH == 5
	len = 40;   /* crash test 5: a truncated kernel image */
#endif
	const char *why = elf32_plan(kernel_blob_start, len, &L->plan);
	if (why) {
		mm_printf("loader: embedded kernel image is corrupt: %s\n", why);
		return EFI_LOAD_ERROR;
	}
	EFI_STATUS st;
	uint32_t pages = (L->plan.va_hi - L->plan.va_lo) / PAGE_SIZE;
	L->kernel_pa = efi_alloc_low(pages, EfiLoaderCode, &st);
	if (!L->kernel_pa)
		return fail(st, "AllocatePages below 4 GiB for the kernel image");
	efi_make_rwx(L->kernel_pa, pages);   /* we write it; strict firmware may map it RO */
	elf32_copy(&L->plan, kernel_blob_start, (void *)(uintptr_t)L->kernel_pa);
	L->tsc_loaded = rdtsc64();
	mm_printf("kernel: %llu bytes ELF32, %u segments, va 0x%08x-0x%08x at pa 0x%llx, entry 0x%08x\n",
	          (unsigned long long)len, L->plan.nseg, L->plan.va_lo, L->plan.va_hi,
	          (unsigned long long)L->kernel_pa, L->plan.entry);
	return EFI_SUCCESS;
}

static EFI_STATUS alloc_boot_pages(struct boot_layout *L)
{
	EFI_STATUS st;
	UINTN size = 0, key, dsize = 0;
	UINT32 dver;
	L->stack_pa = efi_alloc_low(KSTACK_PAGES, EfiLoaderData, &st);
	if (!L->stack_pa)
		return fail(st, "AllocatePages for the kernel stack");
	L->lstack_pa = efi_alloc_low(LSTACK_PAGES, EfiLoaderData, &st);
	if (!L->lstack_pa)
		return fail(st, "AllocatePages for the loader's exit-path stack");
	/* identity mapped: below the first GiB (physwin.c keeps out of it),
	 * else anywhere below the kernel's lowest va; pdb_plan_check decides */
	L->tramp_pa = efi_alloc_below(PDB_IDMAP_LIMIT - 1, 1, EfiLoaderCode, &st);
	if (!L->tramp_pa)
		L->tramp_pa = efi_alloc_below((paddr_t)L->plan.va_lo - 1, 1, EfiLoaderCode, &st);
	if (!L->tramp_pa)
		return fail(st, "AllocatePages below the kernel's virtual base for the trampoline");
	efi_make_rwx(L->tramp_pa, 1);        /* written, then executed from here */
	st = efi_st->BootServices->GetMemoryMap(&size, 0, &key, &dsize, &dver);
	if (st != EFI_BUFFER_TOO_SMALL || dsize < 40)
		return fail(st, "GetMemoryMap size probe");
	uint64_t capacity = size + (MAP_SLACK_DESCS + 8) * dsize;
	st = pmmh_prepare(L, (uint32_t)(capacity / dsize));
	if (EFI_ERROR(st))
		return st;
	L->bi_pages = 1 + (uint32_t)((capacity + PAGE_SIZE - 1) / PAGE_SIZE);
	L->bi_pa = efi_alloc_low(L->bi_pages, EfiLoaderData, &st);
	if (!L->bi_pa)
		return fail(st, "AllocatePages for the boot-info block");
	return EFI_SUCCESS;
}

static void init_bootinfo(struct boot_layout *L, struct bootinfo *bi)
{
	mm_memset(bi, 0, PAGE_SIZE);
	bi->magic = BOOTINFO_MAGIC;
	bi->version = BOOTINFO_VERSION;
	bi->size = sizeof(*bi);
	bi->total_size = L->bi_pages * PAGE_SIZE;
	bi->bi_pa = L->bi_pa;
	bi->mmap_offset = PAGE_SIZE;
	bi->mmap_capacity = bi->total_size - PAGE_SIZE;
	bi->kernel_pa = L->kernel_pa;
	bi->kernel_va = L->plan.va_lo;
	bi->kernel_size = L->plan.va_hi - L->plan.va_lo;
	bi->kernel_entry = L->plan.entry;
	bi->stack_pa = L->stack_pa;
	bi->stack_va = L->plan.va_hi + PAGE_SIZE;
	bi->stack_size = KSTACK_PAGES * PAGE_SIZE;
	bi->bi_va = bi->stack_va + bi->stack_size + PAGE_SIZE;
	bi->boot_va_end = bi->bi_va + bi->total_size + PAGE_SIZE;
	if (L->pmm_meta_pa) {   /* PMM metadata after the block, guard page above */
		L->pmm_va = bi->boot_va_end;
		bi->boot_va_end = L->pmm_va + L->pmm_meta_pages * PAGE_SIZE + PAGE_SIZE;
	}
	bi->trampoline_pa = L->tramp_pa;
}

/* Every range build_pd will map, checked while boot services are still up:
 * a conflict (e.g. an identity-mapped trampoline inside the higher half)
 * is an EFI error returned to the firmware, not a halt after exit. */
static EFI_STATUS check_plan(const struct boot_layout *L, const struct bootinfo *bi)
{
	static const char *const name[] = { "kernel image", "kernel stack", "boot info",
	                                    "trampoline (identity)", "PMM metadata" };
	struct pdb_range r[5] = {
		{ L->plan.va_lo, (L->plan.va_hi - L->plan.va_lo) / PAGE_SIZE },
		{ bi->stack_va, KSTACK_PAGES }, { bi->bi_va, L->bi_pages },
		{ (vaddr_t)L->tramp_pa, 1 }, { L->pmm_va, L->pmm_meta_pages },
	};
	uint32_t n = L->pmm_meta_pa ? 5 : 4, a = 0, b = 0;
	int err = pdb_plan_check(r, n, &a, &b);
	if (!err)
		return EFI_SUCCESS;
	if (err == -MM_EEXIST)
		mm_printf("loader: kernel virtual layout: %s [0x%08x +%u pages] overlaps %s"
		          " [0x%08x +%u pages]\n", name[a], r[a].va, r[a].npages, name[b],
		          r[b].va, r[b].npages);
	else
		mm_printf("loader: kernel virtual layout: %s [0x%08x +%u pages]: %s\n", name[a],
		          r[a].va, r[a].npages, mm_strerror(err));
	return EFI_LOAD_ERROR;
}

static int map_kernel(const struct boot_layout *L)
{
	for (uint32_t va = L->plan.va_lo; va < L->plan.va_hi; va += PAGE_SIZE) {
		uint32_t fl = elf32_page_writable(&L->plan, va) ? PG_WRITE : 0;
		int err = pdb_map(&pdb, va, L->kernel_pa + (va - L->plan.va_lo), 1, fl);
		if (err)
			return err;
	}
	return 0;
}

/* After ExitBootServices: the directory and its tables from the PMM. */
static int build_pd(struct boot_layout *L, struct bootinfo *bi, struct pmm *p)
{
	const struct pdb_frame_src *src = transient_frame_src(p);
	void *pd;
	int err = src->alloc(src->ctx, &L->pd_pa, &pd);
	if (!err)
		err = pdb_init(&pdb, pd, L->pd_pa, src);
	if (!err)
		err = map_kernel(L);
	if (!err)
		err = pdb_map(&pdb, bi->stack_va, L->stack_pa, KSTACK_PAGES, PG_WRITE);
	if (!err)
		err = pdb_map(&pdb, bi->bi_va, L->bi_pa, L->bi_pages, PG_WRITE);
	if (!err)
		err = pdb_map(&pdb, (vaddr_t)L->tramp_pa, L->tramp_pa, 1, 0);
	if (!err && L->pmm_meta_pa)
		err = pdb_map(&pdb, L->pmm_va, L->pmm_meta_pa, L->pmm_meta_pages, PG_WRITE);
	uint32_t given = transient_frame_src_done();
	if (err) {
		mm_printf("loader: building the page directory from the PMM failed: %s\n",
		          mm_strerror(err));
		return err;
	}
	bi->page_dir_pa = L->pd_pa;
	bi->pt_count = pdb.tables;
	bi->flags |= BI_F_PT_FROM_PMM;
	mm_printf("paging: directory at 0x%llx, %u page tables, %u pages mapped, PDE 1023 recursive;"
	          " %u frames from the PMM\n",
	          (unsigned long long)L->pd_pa, pdb.tables, pdb.pages, given);
	return 0;
}

static void put_gdt(uint8_t *page)
{
	static const uint64_t gdt[4] = {
		0,
		0x00CF9A000000FFFFull,   /* 0x08 code32: base 0, 4 GiB, DPL0, execute/read */
		0x00CF92000000FFFFull,   /* 0x10 data32: base 0, 4 GiB, DPL0, read/write */
		0x00AF9A000000FFFFull,   /* 0x18 code64 (L=1), unused after the switch */
	};
	mm_memcpy(page + MS_GDT, gdt, sizeof(gdt));
	uint16_t limit = sizeof(gdt) - 1;
	uint64_t base = (uint64_t)(uintptr_t)(page + MS_GDT);
	mm_memcpy(page + MS_GDTR_LIMIT, &limit, 2);
	mm_memcpy(page + MS_GDTR_BASE, &base, 8);
}

static void put_trampoline(const struct boot_layout *L, const struct bootinfo *bi)
{
	uint8_t *page = (uint8_t *)(uintptr_t)L->tramp_pa;
	uint32_t len = (uint32_t)(modeswitch_end - modeswitch_start);
	mm_memset(page, 0xCC, PAGE_SIZE);   /* int3 outside the code */
	mm_memcpy(page, modeswitch_start, len);
	put_gdt(page);
	uint32_t v[5] = { (uint32_t)L->pd_pa, bi->stack_va + bi->stack_size, L->plan.entry,
	                  bi->bi_va, (uint32_t)L->bi_pa };
	mm_memcpy(page + MS_CR3, v, sizeof(v));
}

EFI_STATUS handoff_prepare(struct boot_layout *L, struct bootinfo **bi_out)
{
	_Static_assert(MS_BI_PA == MS_CR3 + 16, "trampoline parameter layout");
	if ((uintptr_t)(modeswitch_end - modeswitch_start) > MS_PARAMS)
		return fail(EFI_LOAD_ERROR, "trampoline size check");
	EFI_STATUS st = load_kernel(L);
	if (EFI_ERROR(st))
		return st;
	st = alloc_boot_pages(L);
	if (EFI_ERROR(st))
		return st;
	struct bootinfo *bi = (struct bootinfo *)(uintptr_t)L->bi_pa;
	init_bootinfo(L, bi);
	st = check_plan(L, bi);
	if (EFI_ERROR(st))
		return st;
	bi->tsc[BI_TSC_KERNEL_LOADED] = L->tsc_loaded;
	*bi_out = bi;
	return EFI_SUCCESS;
}

static uint64_t fw_get_map(void *ctx, uint64_t *size, void *buf, uint64_t *key,
                           uint64_t *desc_size, uint32_t *desc_version)
{
	(void)ctx;
	return efi_st->BootServices->GetMemoryMap((UINTN *)size, buf, (UINTN *)key,
	                                          (UINTN *)desc_size, desc_version);
}

static uint64_t fw_exit_bs(void *ctx, uint64_t key)
{
	(void)ctx;
	return efi_st->BootServices->ExitBootServices(efi_image, key);
}

/* After ExitBootServices nothing can return to the firmware: report on
 * COM1, end QEMU with the fail status through isa-debug-exit (port 0xf4,
 * the kernel's convention; nothing listens there on a real PC), halt. */
static void __attribute__((noreturn)) fatal_after_exit(const char *what)
{
	mm_printf("loader: FATAL after ExitBootServices: %s; halted\n", what);
	__asm__ volatile("outb %0, %1" : : "a"((uint8_t)0x11), "Nd"((uint16_t)0xF4));
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* Boot services gone: final map fields, PMM, transient frames, page
 * directory from the PMM, trampoline, jump. Never returns. */
static void __attribute__((noreturn)) after_exit(struct boot_layout *L, struct bootinfo *bi,
                                                 const struct exitbs_result *res)
{
	bi->tsc[BI_TSC_EXIT_BS] = rdtsc64();
	bi->exitbs_tries = res->tries;
	bi->mmap_size = (uint32_t)res->map_size;
	bi->mmap_desc_size = (uint32_t)res->desc_size;
	bi->mmap_desc_version = res->desc_version;
	bi->mmap_count = (uint32_t)(res->map_size / res->desc_size);
	struct pmm *p = pmmh_build(L, bi);
#if defined(MMBOOT_CRASH) && MMBOOT_CRASH == 6
	p = 0;   /* crash test 6: a failure after ExitBootServices (no PMM) */
#endif
	if (!p)
		fatal_after_exit("no PMM to take the page tables from");
	transient_reserve(L, p, bi);
	if (build_pd(L, bi, p))
		fatal_after_exit("no page directory");
	put_trampoline(L, bi);
	bi->tsc[BI_TSC_PAGING_BUILT] = rdtsc64();
#if defined(MMBOOT_CRASH) && MMBOOT_CRASH == 4
	bi->magic ^= 0x20;   /* crash test 4: the kernel must refuse this block */
#endif
	void (*tramp)(uint64_t) = (void (*)(uint64_t))(uintptr_t)L->tramp_pa;
	tramp(L->tramp_pa);
	fatal_after_exit("the mode switch returned (impossible)");
}

uint64_t handoff_exit_and_jump(void *layout, void *bootinfo)
{
	struct boot_layout *L = layout;
	struct bootinfo *bi = bootinfo;
	const struct exitbs_ops ops = { 0, fw_get_map, fw_exit_bs };
	struct exitbs_result res;
	uint8_t *map = (uint8_t *)bi + bi->mmap_offset;
	mm_printf("loader: exiting boot services, entering the kernel at 0x%08x\n", L->plan.entry);
	bi->tsc[BI_TSC_FINAL_MAP] = rdtsc64();
	int rc = exitbs_run(&ops, map, bi->mmap_capacity, EXITBS_MAX_TRIES_DEFAULT, &res);
	efi_exit_attempted = res.tries > 0;
	if (rc != 0) {
		mm_printf("loader: %s after %u tries (status 0x%llx, map %llu bytes, room %u)\n",
		          exitbs_outcome_name(res.outcome), res.tries, (unsigned long long)res.status,
		          (unsigned long long)res.map_size, bi->mmap_capacity);
		return EFI_ERROR(res.status) ? res.status : EFI_ABORTED;
	}
	/* Boot services are gone: from here only stores into our own pages and
	 * into frames the PMM hands out. */
	__asm__ volatile("cli");
	efi_console_boot_services_gone();
	after_exit(L, bi, &res);
}
