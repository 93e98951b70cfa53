/*
 * main.c: efi_main, the loader's sequence of steps.
 *
 *   1. watchdog off; banner, loader image base (for gdb)
 *   2. the memory-map report, once: firmware identity, the raw map with
 *      attributes, totals per type, what the sanitizer changed, usable
 *      memory below/above 4 GiB (the inspector, efi/inspect.c; saved to the
 *      boot medium)
 *   3. handoff_prepare: kernel image, stacks, trampoline, PMM metadata,
 *      boot-info block (handoff.c)
 *   4. sysinfo_collect: GOP framebuffer, ACPI/SMBIOS tables, loader image
 *   5. handoff_exit_and_jump on the loader's own stack: final map +
 *      ExitBootServices, PMM, transient frames, page directory from the
 *      PMM, mode switch
 *
 * Every failure before step 5 completes prints what failed and returns an
 * EFI error to the firmware (the boot manager then shows or tries the next
 * boot option). gnu-efi's crt0 calls efi_main with the SysV ABI, so it is
 * not EFIAPI; calls into the firmware go through the ms_abi function
 * pointers of the tables (GNU_EFI_USE_MS_ABI).
 */
#include "loader.h"
#include "inspect.h"

/* The one place a failure goes back to the firmware: pages returned, status
 * passed on (the boot manager reports it and tries the next option). */
static EFI_STATUS unwind(EFI_STATUS st)
{
	efi_free_all();
	mm_printf("loader: giving up (EFI status 0x%llx); back to the firmware\n",
	          (unsigned long long)st);
	return st;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	uint64_t t0 = rdtsc64();
	efi_image = image;
	efi_console_init(st);
	st->BootServices->SetWatchdogTimer(0, 0, 0, 0);
	mm_printf("\nmmboot loader (x86_64 UEFI)\n");
	sysinfo_print_image();
	inspect_memory_map();   /* the one map report, saved to \mmboot\ (efi/inspect.c) */
	uint64_t t1 = rdtsc64();
	static struct boot_layout L;   /* static: the exit path reads it on another stack */
	struct bootinfo *bi;
	mm_memset(&L, 0, sizeof(L));
	EFI_STATUS s = handoff_prepare(&L, &bi);
	if (EFI_ERROR(s))
		return unwind(s);
	bi->tsc[BI_TSC_LOADER_ENTRY] = t0;
	bi->tsc[BI_TSC_MAP_READ] = t1;
	sysinfo_firmware(bi);
	sysinfo_collect(bi);
	void *top = (void *)(uintptr_t)(L.lstack_pa + LSTACK_PAGES * PAGE_SIZE);
	return unwind(efi_call_on_stack(top, handoff_exit_and_jump, &L, bi));
}
