# The one list of portable memory-management sources. Each is compiled three
# ways (mk/rules.mk): for the x86_64 loader (build/efi/mm/), the i386 kernel
# stage (build/kernel/mm/) and the host (build/host/mm/), and archived into a
# libmm.a per target so each program links only what it uses.
MM_SRCS := \
	mm/errno.c
