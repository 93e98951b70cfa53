/*
 * Type and attribute names as the various sources spell them, mapped to the
 * numbers in the firmware's namespace (EFI_MEMORY_TYPE or e820 type).
 *
 *   Linux e820 print       usable, reserved, ACPI data, ACPI NVS, unusable,
 *                          persistent (type N), soft reserved, type N
 *   normalised corpus      usable, reserved, ACPI_data, ACPI_NVS, unusable,
 *                          persistent, type_N   (after "e820:")
 *   /sys/firmware/memmap   System RAM, Reserved, ACPI Tables, ...
 *   Linux efi=debug        long names (<= 4.x: "Conventional Memory") and
 *                          short names (later: "Conventional"), "type=N"
 *   UEFI spec              EfiConventionalMemory, ...
 *   UEFI Shell memmap      Available, LoaderCode, BS_Data, RT_Code, ...
 */
#include <string.h>

#include "mapfile_int.h"

struct name_num {
	const char *name;             /* spelling */
	uint32_t num;                 /* type number */
};

#define E820_PMEM   7u
#define E820_PRAM   12u
#define E820_SOFT   0xefffffffu

static bool lookup(const struct name_num *t, size_t n, struct mf_scan s, uint32_t *v)
{
	for (size_t i = 0; i < n; i++)
		if (sc_equals(s, t[i].name)) {
			*v = t[i].num;
			return true;
		}
	return false;
}

/* "type N" / "type_N" / "type=N" style: prefix then a decimal number */
static bool numbered(struct mf_scan s, const char *prefix, uint32_t *v)
{
	uint64_t x;
	if (!sc_lit(&s, prefix) || !sc_dec(&s, &x) || s.p != s.end || x > UINT32_MAX)
		return false;
	*v = (uint32_t)x;
	return true;
}

static const struct name_num e820_linux[] = {
	{ "usable", 1 }, { "reserved", 2 }, { "ACPI data", 3 }, { "ACPI NVS", 4 },
	{ "unusable", 5 }, { "persistent", E820_PMEM }, { "soft reserved", E820_SOFT },
};

bool mf_e820_type_from_linux(struct mf_scan s, uint32_t *type)
{
	s = sc_trim(s);
	if (lookup(e820_linux, ARRAY_SIZE(e820_linux), s, type) || numbered(s, "type ", type))
		return true;
	/* "persistent (type 12)" */
	struct mf_scan t = s;
	uint64_t x;
	if (sc_lit(&t, "persistent (type ") && sc_dec(&t, &x) && sc_lit(&t, ")") &&
	    t.p == t.end && x <= UINT32_MAX) {
		*type = (uint32_t)x;
		return true;
	}
	return false;
}

static const struct name_num e820_norm[] = {
	{ "usable", 1 }, { "reserved", 2 }, { "ACPI_data", 3 }, { "ACPI_NVS", 4 },
	{ "unusable", 5 }, { "persistent", E820_PMEM }, { "soft_reserved", E820_SOFT },
};

bool mf_e820_type_from_norm(struct mf_scan s, uint32_t *type)
{
	return lookup(e820_norm, ARRAY_SIZE(e820_norm), s, type) || numbered(s, "type_", type);
}

static const struct name_num e820_sysfs[] = {
	{ "System RAM", 1 }, { "Reserved", 2 }, { "reserved", 2 }, { "ACPI Tables", 3 },
	{ "ACPI Non-volatile Storage", 4 }, { "Unusable memory", 5 },
	{ "Persistent Memory", E820_PMEM }, { "Persistent Memory (legacy)", E820_PRAM },
	{ "Soft Reserved", E820_SOFT },
};

bool mf_e820_type_from_sysfs(struct mf_scan s, uint32_t *type)
{
	return lookup(e820_sysfs, ARRAY_SIZE(e820_sysfs), sc_trim(s), type);
}

static const struct name_num efi_linux[] = {
	{ "Reserved", 0 }, { "Loader Code", 1 }, { "Loader Data", 2 }, { "Boot Code", 3 },
	{ "Boot Data", 4 }, { "Runtime Code", 5 }, { "Runtime Data", 6 },
	{ "Conventional Memory", 7 }, { "Conventional", 7 },
	{ "Unusable Memory", 8 }, { "Unusable", 8 },
	{ "ACPI Reclaim Memory", 9 }, { "ACPI Reclaim", 9 },
	{ "ACPI Memory NVS", 10 }, { "ACPI Mem NVS", 10 },
	{ "Memory Mapped I/O", 11 }, { "MMIO", 11 },
	{ "MMIO Port Space", 12 }, { "MMIO Port", 12 },
	{ "PAL Code", 13 }, { "Persistent Memory", 14 }, { "Persistent", 14 },
	{ "Unaccepted Memory", 15 }, { "Unaccepted", 15 },
};

bool mf_efi_type_from_linux(struct mf_scan s, uint32_t *type)
{
	s = sc_trim(s);
	return lookup(efi_linux, ARRAY_SIZE(efi_linux), s, type) || numbered(s, "type=", type);
}

static const struct name_num efi_spec[] = {
	{ "EfiReservedMemoryType", 0 }, { "EfiLoaderCode", 1 }, { "EfiLoaderData", 2 },
	{ "EfiBootServicesCode", 3 }, { "EfiBootServicesData", 4 },
	{ "EfiRuntimeServicesCode", 5 }, { "EfiRuntimeServicesData", 6 },
	{ "EfiConventionalMemory", 7 }, { "EfiUnusableMemory", 8 },
	{ "EfiACPIReclaimMemory", 9 }, { "EfiACPIMemoryNVS", 10 },
	{ "EfiMemoryMappedIO", 11 }, { "EfiMemoryMappedIOPortSpace", 12 },
	{ "EfiPalCode", 13 }, { "EfiPersistentMemory", 14 }, { "EfiUnacceptedMemoryType", 15 },
};

bool mf_efi_type_from_spec(struct mf_scan s, uint32_t *type)
{
	uint64_t x;
	struct mf_scan t = s;
	if (lookup(efi_spec, ARRAY_SIZE(efi_spec), s, type) || numbered(s, "EfiType_", type))
		return true;
	/* OEM / OS types written as hex: "0x70000001" */
	if (sc_hex(&t, true, &x) && t.p == t.end && x <= UINT32_MAX) {
		*type = (uint32_t)x;
		return true;
	}
	return false;
}

/* EDK II ShellPkg memmap names (UEFI Shell 2.x: full names, and the short
 * names it prints for some types; older shells print some in lower case) */
static const struct name_num efi_shell[] = {
	{ "Reserved", 0 }, { "LoaderCode", 1 }, { "LoaderData", 2 },
	{ "BootServiceCode", 3 }, { "BS_Code", 3 }, { "BootServiceData", 4 }, { "BS_Data", 4 },
	{ "RuntimeCode", 5 }, { "RT_Code", 5 }, { "RuntimeData", 6 }, { "RT_Data", 6 },
	{ "Available", 7 }, { "UnusableMemory", 8 }, { "Unusable", 8 },
	{ "ACPIReclaimMemory", 9 }, { "ACPI_Recl", 9 }, { "ACPIMemoryNVS", 10 }, { "ACPI_NVS", 10 },
	{ "MemoryMappedIO", 11 }, { "MMIO", 11 }, { "MemoryMappedIOPortSpace", 12 },
	{ "MMIO_Port", 12 }, { "PalCode", 13 }, { "Persistent", 14 }, { "Unaccepted", 15 },
};

static bool same_nocase(struct mf_scan s, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(s.end - s.p) != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char a = s.p[i], b = lit[i];
		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (char)(b - 'A' + 'a');
		if (a != b)
			return false;
	}
	return true;
}

bool mf_efi_type_from_shell(struct mf_scan s, uint32_t *type)
{
	uint64_t x;
	struct mf_scan t = s;
	for (size_t i = 0; i < ARRAY_SIZE(efi_shell); i++)
		if (same_nocase(s, efi_shell[i].name)) {
			*type = efi_shell[i].num;
			return true;
		}
	/* OEM/OS types are printed as their hex value */
	if (sc_hex(&t, false, &x) && t.p == t.end && x <= UINT32_MAX) {
		*type = (uint32_t)x;
		return true;
	}
	return false;
}

struct name_bit {
	const char *name;             /* column text in Linux's efi=debug print */
	uint64_t bit;                 /* EFI_MEMORY_* bit */
};

static const struct name_bit efi_attr_linux[] = {
	{ "UC", EFI_MA_UC }, { "WC", EFI_MA_WC }, { "WT", EFI_MA_WT }, { "WB", EFI_MA_WB },
	{ "UCE", EFI_MA_UCE }, { "WP", EFI_MA_WP }, { "RP", EFI_MA_RP }, { "XP", EFI_MA_XP },
	{ "NV", EFI_MA_NV }, { "MR", EFI_MA_MORE_RELIABLE }, { "RO", EFI_MA_RO },
	{ "SP", EFI_MA_SP }, { "CC", EFI_MA_CPU_CRYPTO }, { "RUN", EFI_MA_RUNTIME },
};

bool mf_efi_attr_from_linux(struct mf_scan s, uint64_t *bit)
{
	for (size_t i = 0; i < ARRAY_SIZE(efi_attr_linux); i++)
		if (sc_equals(s, efi_attr_linux[i].name)) {
			*bit = efi_attr_linux[i].bit;
			return true;
		}
	return false;
}
