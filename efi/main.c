/*
 * main.c: efi_main, the loader's sequence of steps.
 *
 *   1. watchdog off; banner: firmware vendor/revision, UEFI revision
 *   2. memory map: read (size probe + slack), print table and summary
 *   3. handoff_prepare: kernel image, stack, trampoline, boot-info block,
 *      page directory (handoff.c)
 *   4. sysinfo_collect: GOP framebuffer, ACPI/SMBIOS tables, loader image
 *   5. handoff_exit_and_jump: final map + ExitBootServices, mode switch
 *
 * Every failure before step 5 completes prints what failed and returns an
 * EFI error to the firmware (the boot manager then shows or tries the next
 * boot option). gnu-efi's crt0 calls efi_main with the SysV ABI, so it is
 * not EFIAPI; calls into the firmware go through the ms_abi function
 * pointers of the tables (GNU_EFI_USE_MS_ABI).
 */
#include "loader.h"
#include "memmap_report.h"
#include "inspect.h"

static EFI_STATUS show_memory_map(void)
{
	void *map;
	UINTN size, dsize;
	UINT32 dver;
	EFI_STATUS st = efi_get_map(&map, &size, &dsize, &dver);
	if (EFI_ERROR(st)) {
		mm_printf("loader: GetMemoryMap failed (EFI status 0x%llx)\n", (unsigned long long)st);
		return st;
	}
	memmap_report_print(map, size, dsize, dver);
	efi_st->BootServices->FreePool(map);
	return EFI_SUCCESS;
}

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
	sysinfo_print_firmware();
	sysinfo_print_image();
	EFI_STATUS s = show_memory_map();
	if (EFI_ERROR(s))
		return s;
	inspect_memory_map();   /* issue 6: full report, saved to \mmboot\ (efi/inspect.c) */
	uint64_t t1 = rdtsc64();
	struct boot_layout L;
	struct bootinfo *bi;
	mm_memset(&L, 0, sizeof(L));
	s = handoff_prepare(&L, &bi);
	if (EFI_ERROR(s))
		return unwind(s);
	bi->tsc[BI_TSC_LOADER_ENTRY] = t0;
	bi->tsc[BI_TSC_MAP_READ] = t1;
	sysinfo_firmware(bi);
	sysinfo_collect(bi);
	return unwind(handoff_exit_and_jump(&L, bi));
}
