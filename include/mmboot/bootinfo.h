/*
 * The boot-info block: what the x86_64 UEFI loader hands to the i386 kernel
 * stage. A wire format, not a C object shared by one compiler: the loader is
 * 64-bit, the kernel 32-bit, so every field is a fixed-width integer (no
 * pointers, no size_t, no long, no enums), 64-bit fields sit on 8-byte
 * offsets, and _Static_asserts pin the size and the key offsets. The loader,
 * the kernel and the host test (tests/unit/test_bootinfo.c) all include this
 * header, so a layout drift fails to compile on every side.
 *
 * The block is one physically contiguous, page-aligned allocation that the
 * loader maps read-write into the kernel's higher half (bi_va):
 *
 *   bi_pa / bi_va  +--------------------------------------+
 *                  | struct bootinfo (header, this file)  |  size bytes
 *                  +--------------------------------------+  mmap_offset
 *                  | raw UEFI memory descriptors, exactly |  mmap_size bytes used,
 *                  | as the final GetMemoryMap wrote them |  mmap_capacity reserved,
 *                  | (step by mmap_desc_size, never by    |  mmap_count entries
 *                  |  sizeof(struct efi_memdesc))         |
 *                  +--------------------------------------+  total_size
 *
 * Compatibility rules: magic, version and size come first and never move. A
 * reader refuses a block whose magic or version it does not know, or whose
 * size is smaller than the header it was compiled with. New fields go into
 * ext[] (e.g. the PMM's metadata location, issue 3) or are appended after
 * it; changing the meaning of a field bumps BOOTINFO_VERSION.
 *
 * Version 2 (issue 3): the page directory and its tables are frames the
 * loader allocated from the buddy PMM after ExitBootServices (pt_count,
 * BI_F_PT_FROM_PMM; the v1 firmware pool fields are gone), and transient[]
 * lists the frames that were live only until the mode switch (the
 * firmware's page tables, GDT and IDT, the loader's stack, the PMM build
 * scratch, the trampoline). The loader reserved them in the PMM; the kernel
 * releases exactly these ranges once it runs on its own directory
 * (kernel/boot_reclaim.c).
 *
 * Kernel entry contract (arch/x86/modeswitch.S -> arch/x86/entry.S):
 *   EAX = BOOTINFO_ENTRY_MAGIC
 *   EBX = bi_va   (virtual address of this block, mapped RW)
 *   ECX = low 32 bits of bi_pa (the block lies below 4 GiB)
 *   ESP = stack_va + stack_size (mapped RW, a guard page below it)
 *   CR0 = PE|PG|WP (+ET/NE), CR3 = page_dir_pa, CR4 = PSE only,
 *   EFER.LME = 0, EFLAGS.IF = 0, CS = 0x08 flat 32-bit code,
 *   DS/ES/FS/GS/SS = 0x10 flat data (the loader's trampoline GDT: the kernel
 *   loads its own GDT before touching segments).
 */
#ifndef MMBOOT_BOOTINFO_H
#define MMBOOT_BOOTINFO_H

#define BOOTINFO_MAGIC        0x49424D4Du   /* "MMBI" little-endian */
#define BOOTINFO_VERSION      2u    /* 2: page tables from the PMM, transient[] */
#define BOOTINFO_ENTRY_MAGIC  0x4D4D424F    /* EAX at kernel entry (no suffix: used in asm) */

#define BOOTINFO_VENDOR_LEN   64u   /* firmware vendor, ASCII, NUL terminated */
#define BOOTINFO_TSC_MAX      12u
#define BOOTINFO_EXT_BYTES    256u
#define BOOTINFO_TRANSIENT_MAX 64u  /* transient[] entries (version 2) */

#ifndef __ASSEMBLER__
#include <stdint.h>

/* tsc[] slots: rdtsc taken at each step (0 = step not reached). */
enum bootinfo_tsc {
	BI_TSC_LOADER_ENTRY = 0,   /* efi_main entered */
	BI_TSC_MAP_READ = 1,       /* first memory map read and printed */
	BI_TSC_KERNEL_LOADED = 2,  /* ELF segments copied */
	BI_TSC_PAGING_BUILT = 3,   /* page directory built (v2: after ExitBootServices) */
	BI_TSC_FINAL_MAP = 4,      /* final GetMemoryMap returned */
	BI_TSC_EXIT_BS = 5,        /* ExitBootServices succeeded */
	BI_TSC_KERNEL_ENTRY = 6,   /* kernel C code entered (set by the kernel) */
	BI_TSC_KERNEL_DONE = 7,    /* kernel tests finished (set by the kernel) */
	BI_TSC_COUNT
};

/* fb_format values (GOP EFI_GRAPHICS_PIXEL_FORMAT). */
#define BI_FB_RGBX8     0u   /* PixelRedGreenBlueReserved8BitPerColor */
#define BI_FB_BGRX8     1u   /* PixelBlueGreenRedReserved8BitPerColor */
#define BI_FB_BITMASK   2u   /* PixelBitMask: see fb_mask_* */
#define BI_FB_BLT_ONLY  3u   /* no linear framebuffer */

/* flags */
#define BI_F_FB         0x1u   /* fb_* valid */
#define BI_F_ACPI2      0x2u   /* acpi_rsdp is the ACPI 2.0+ (XSDT) RSDP */
#define BI_F_ACPI1      0x4u   /* acpi_rsdp is the ACPI 1.0 RSDP */
#define BI_F_SMBIOS     0x8u   /* smbios valid */
#define BI_F_SMBIOS3    0x10u  /* smbios3 valid */
#define BI_F_PT_FROM_PMM 0x20u /* page directory + tables are PMM-allocated order-0 frames */
#define BI_F_SERIAL_ONLY 0x40u /* "serial" option: the kernel must not draw on the framebuffer */

/* transient[].kind: what a transient range was (version 2). */
#define BI_TR_FW_PAGE_TABLE  1u   /* a page of the firmware's 4/5-level tables (CR3 tree) */
#define BI_TR_FW_DESC_TABLE  2u   /* the firmware's GDT or IDT (GDTR/IDTR at exit) */
#define BI_TR_LOADER_STACK   3u   /* the stack the loader ran on from before exit to the switch */
#define BI_TR_PMM_SCRATCH    4u   /* scratch of pmm_build_from_efi */
#define BI_TR_TRAMPOLINE     5u   /* the mode-switch page (identity mapped: unmap first) */
#define BI_TR_KINDS          6u

/* One physically contiguous run of transient frames. */
struct bootinfo_range {
	uint64_t pa;                 /* first frame (page aligned, < 4 GiB) */
	uint32_t pages;              /* frames */
	uint32_t kind;               /* BI_TR_* */
};
_Static_assert(sizeof(struct bootinfo_range) == 16, "bootinfo_range crosses loader -> kernel");

struct bootinfo {
	/* --- identification: never moves --- */
	uint32_t magic;              /* BOOTINFO_MAGIC */
	uint32_t version;            /* BOOTINFO_VERSION */
	uint32_t size;               /* sizeof(struct bootinfo) as the loader built it */
	uint32_t total_size;         /* bytes of the whole block (header + map area) */

	/* --- the block itself --- */
	uint64_t bi_pa;              /* physical address of this block (page aligned, < 4 GiB) */
	uint32_t bi_va;              /* kernel virtual address of this block */
	uint32_t flags;              /* BI_F_* */

	/* --- final memory map (raw UEFI descriptors) --- */
	uint32_t mmap_offset;        /* byte offset of the first descriptor from the block start */
	uint32_t mmap_size;          /* bytes of descriptors */
	uint32_t mmap_capacity;      /* bytes reserved for descriptors */
	uint32_t mmap_desc_size;     /* firmware DescriptorSize (>= 40; 48 on OVMF) */
	uint32_t mmap_desc_version;  /* firmware DescriptorVersion (1) */
	uint32_t mmap_count;         /* mmap_size / mmap_desc_size */
	uint32_t exitbs_tries;       /* ExitBootServices attempts (1 = first try worked) */
	uint32_t reserved0;          /* zero */

	/* --- kernel placement --- */
	uint64_t kernel_pa;          /* physical base of the loaded image (page aligned) */
	uint32_t kernel_size;        /* bytes from kernel_va to the end of .bss, page rounded */
	uint32_t kernel_va;          /* virtual base (lowest PT_LOAD vaddr, page aligned) */
	uint32_t kernel_entry;       /* ELF entry point (virtual) */
	uint32_t boot_va_end;        /* first virtual address above everything the loader mapped */

	/* --- paging --- */
	uint64_t page_dir_pa;        /* the page directory (CR3); PDE 1023 maps it */
	uint64_t reserved1;          /* zero (v1: pt_pool_pa) */
	uint32_t pt_count;           /* page tables the loader built (PMM frames when BI_F_PT_FROM_PMM) */
	uint32_t reserved2;          /* zero */

	/* --- kernel stack --- */
	uint64_t stack_pa;           /* physical base of the stack */
	uint32_t stack_va;           /* virtual base (lowest address); guard page below */
	uint32_t stack_size;         /* bytes */

	/* --- mode-switch trampoline (identity mapped) --- */
	uint64_t trampoline_pa;      /* == its virtual address; one page (0 once the kernel
	                                released it: kernel/boot_reclaim.c) */

	/* --- the loader's own image (reclaimable once the kernel runs) --- */
	uint64_t loader_image_pa;    /* LoadedImage->ImageBase */
	uint64_t loader_image_size;  /* LoadedImage->ImageSize, bytes */

	/* --- framebuffer (GOP), valid when flags & BI_F_FB --- */
	uint64_t fb_pa;              /* FrameBufferBase */
	uint64_t fb_size;            /* FrameBufferSize, bytes */
	uint32_t fb_width;           /* pixels */
	uint32_t fb_height;          /* pixels */
	uint32_t fb_pitch;           /* bytes per scan line */
	uint32_t fb_format;          /* BI_FB_* */
	uint32_t fb_mask_red;        /* bit masks (BI_FB_BITMASK; filled for RGBX/BGRX too) */
	uint32_t fb_mask_green;
	uint32_t fb_mask_blue;
	uint32_t fb_mask_reserved;

	/* --- configuration tables --- */
	uint64_t acpi_rsdp;          /* physical address of the RSDP (prefer 2.0), 0 if none */
	uint64_t smbios;             /* SMBIOS 2.x entry point, 0 if none */
	uint64_t smbios3;            /* SMBIOS 3.x entry point, 0 if none */

	/* --- firmware identity --- */
	uint32_t fw_revision;        /* ST->FirmwareRevision */
	uint32_t uefi_revision;      /* ST->Hdr.Revision (major << 16 | minor) */
	char fw_vendor[BOOTINFO_VENDOR_LEN]; /* ST->FirmwareVendor, UCS-2 folded to ASCII */

	/* --- timing --- */
	uint64_t tsc[BOOTINFO_TSC_MAX]; /* rdtsc per enum bootinfo_tsc slot */

	/* --- extension area for later layers (zeroed by the loader) --- */
	uint8_t ext[BOOTINFO_EXT_BYTES];

	/* --- version 2: frames live only until the mode switch --- */
	uint32_t transient_count;    /* entries used in transient[] */
	uint32_t transient_pages;    /* frames in those entries, total */
	uint32_t transient_taken;    /* of them, frames the loader took out of the PMM's free
	                                pool (firmware memory); the rest were loader memory */
	uint32_t transient_unlisted; /* frames reserved but not listed (table full): they stay
	                                reserved for good */
	struct bootinfo_range transient[BOOTINFO_TRANSIENT_MAX]; /* sorted by pa, disjoint */
};

#define BI_OFF(f) __builtin_offsetof(struct bootinfo, f)
_Static_assert(BI_OFF(magic) == 0 && BI_OFF(version) == 4 && BI_OFF(size) == 8,
               "bootinfo: identification must stay first");
_Static_assert(BI_OFF(bi_pa) == 16, "bootinfo layout");
_Static_assert(BI_OFF(mmap_offset) == 32, "bootinfo layout");
_Static_assert(BI_OFF(kernel_pa) == 64, "bootinfo layout");
_Static_assert(BI_OFF(page_dir_pa) == 88, "bootinfo layout");
_Static_assert(BI_OFF(stack_pa) == 112, "bootinfo layout");
_Static_assert(BI_OFF(fb_pa) == 152, "bootinfo layout");
_Static_assert(BI_OFF(acpi_rsdp) == 200, "bootinfo layout");
_Static_assert(BI_OFF(fw_vendor) == 232, "bootinfo layout");
_Static_assert(BI_OFF(tsc) == 296, "bootinfo layout");
_Static_assert(BI_OFF(ext) == 392, "bootinfo layout");
_Static_assert(BI_OFF(transient_count) == 648, "bootinfo layout (v2)");
_Static_assert(BI_OFF(transient) == 664, "bootinfo layout (v2)");
_Static_assert(sizeof(struct bootinfo) == 1688, "bootinfo size");
_Static_assert(sizeof(struct bootinfo) <= 4096, "the header must fit the block's first page");
_Static_assert(BOOTINFO_TSC_MAX >= BI_TSC_COUNT, "bootinfo tsc slots");

/* Validation shared by the kernel and the host test: 0 if the block can be
 * used, otherwise a short reason. */
static inline const char *bootinfo_check(const struct bootinfo *bi, uint32_t bi_va)
{
	if (bi->magic != BOOTINFO_MAGIC)
		return "bad magic";
	if (bi->version != BOOTINFO_VERSION)
		return "unknown version";
	if (bi->size < sizeof(struct bootinfo))
		return "header smaller than this kernel expects";
	if (bi->total_size < bi->size || bi->bi_va != bi_va)
		return "inconsistent block size or address";
	if (bi->mmap_desc_size < 40 || bi->mmap_offset < bi->size ||
	    (uint64_t)bi->mmap_offset + bi->mmap_capacity > bi->total_size ||
	    bi->mmap_size > bi->mmap_capacity ||
	    (uint64_t)bi->mmap_count * bi->mmap_desc_size != bi->mmap_size)
		return "inconsistent memory map fields";
	if (bi->transient_count > BOOTINFO_TRANSIENT_MAX)
		return "too many transient ranges";
	return 0;
}

#endif /* !__ASSEMBLER__ */
#endif /* MMBOOT_BOOTINFO_H */
