# The one list of portable memory-management sources. Each is compiled three
# ways (mk/rules.mk): for the x86_64 loader (build/efi/mm/), the i386 kernel
# stage (build/kernel/mm/) and the host (build/host/mm/), and archived into a
# libmm.a per target so each program links only what it uses.
MM_SRCS := \
	mm/errno.c \
	mm/mm_printf.c \
	mm/memmap.c \
	mm/pmm.c
MM_SRCS += mm/region.c mm/vmem.c
MM_SRCS += mm/memdump.c mm/memmap_fmt.c mm/memmap_report.c
MM_SRCS += mm/kmem.c mm/kmem_arena.c mm/kmem_debug.c mm/kmem_check.c mm/kmem_region.c
