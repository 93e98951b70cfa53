/*
 * The memory-map inspector in the loader (efi/inspect.h): firmware facts,
 * the map with its key, the report on the console, then saving.
 *
 *   1. facts: firmware vendor/revision and UEFI revision (system table),
 *      SMBIOS 3/2 identity, serial number, UUID and OEM strings
 *      (inspect_smbios.c), ACPI RSDP address and revision (2.0 table
 *      preferred), the firmware clock; then the options (inspect_opts.c:
 *      they decide where the report goes): "serial" sends the loader's
 *      output to the Serial I/O protocol, otherwise ConOut is switched to
 *      its largest text mode (inspect_console.c);
 *   2. the map: GetMemoryMap into a pool buffer sized from a probe plus
 *      slack (the allocation itself may add entries), with MapKey;
 *   3. the report: the descriptors converted (memmap_from_efi), sanitized
 *      (memmap_sanitize) and printed with memfmt_report (mm/memmap_report.c),
 *      line by line to the console and into a text buffer;
 *   4. inspect_save (save.c) writes the dump and the text to the medium
 *      unless "nosave";
 *   5. the pager (inspect_pager.c) waits timeout seconds for a key, then
 *      lets the user scroll the report until Enter; "stop" returns to the
 *      firmware instead of booting on.
 * All buffers are pool allocations freed before returning; a failure at
 * any step is printed and the loader goes on.
 */
#include "loader.h"
#include "inspect.h"
#include <mmboot/memmap_fmt.h>

static EFI_GUID inspect_guid_acpi20 = ACPI_20_TABLE_GUID;
static EFI_GUID inspect_guid_acpi10 = ACPI_TABLE_GUID;
static EFI_GUID inspect_guid_smbios = SMBIOS_TABLE_GUID;
static EFI_GUID inspect_guid_smbios3 = SMBIOS3_TABLE_GUID;

struct inspect_text {
	char *p;                      /* report text (pool) */
	uint64_t len;                 /* bytes used */
	uint64_t cap;                 /* bytes allocated */
};

static void *inspect_config_table(EFI_GUID *g)
{
	for (UINTN i = 0; i < efi_st->NumberOfTableEntries; i++)
		if (mm_memcmp(&efi_st->ConfigurationTable[i].VendorGuid, g, sizeof(*g)) == 0)
			return efi_st->ConfigurationTable[i].VendorTable;
	return 0;
}

struct inspect_opts inspect_opts_used;

static void inspect_facts(struct memdump_header *h, struct smbios_ids *ids)
{
	const CHAR16 *v = efi_st->FirmwareVendor;
	for (uint32_t i = 0; v && v[i] && i + 1 < sizeof(h->fw_vendor); i++)
		h->fw_vendor[i] = (v[i] >= 0x20 && v[i] < 0x7f) ? (char)v[i] : '?';
	h->fw_revision = efi_st->FirmwareRevision;
	h->uefi_revision = efi_st->Hdr.Revision;
	const uint8_t *ep = inspect_config_table(&inspect_guid_smbios3);
	if (!ep || inspect_smbios(ep, h) < 0) {
		ep = inspect_config_table(&inspect_guid_smbios);
		if (ep)
			inspect_smbios(ep, h);
	}
	if (ep)
		inspect_smbios_ids(ep, ids);
	const uint8_t *rsdp = inspect_config_table(&inspect_guid_acpi20);
	if (!rsdp)
		rsdp = inspect_config_table(&inspect_guid_acpi10);
	if (rsdp && mm_memcmp(rsdp, "RSD PTR ", 8) == 0) {
		h->rsdp_address = (uint64_t)(uintptr_t)rsdp;
		h->rsdp_revision = rsdp[15];
		h->flags |= MEMDUMP_F_RSDP;
	}
	EFI_TIME t;
	if (!EFI_ERROR(efi_st->RuntimeServices->GetTime(&t, 0))) {
		h->time_year = t.Year, h->time_month = t.Month, h->time_day = t.Day;
		h->time_hour = t.Hour, h->time_minute = t.Minute, h->time_second = t.Second;
		h->flags |= MEMDUMP_F_TIME;
	}
}

/* Print a report line and keep it for the text file. */
static void inspect_emit(void *ctx, const char *line)
{
	struct inspect_text *t = ctx;
	uint64_t n = 0;
	while (line[n])
		n++;
	mm_printf("%s\n", line);
	if (t->len + n + 1 > t->cap) {
		uint64_t cap = (t->cap ? t->cap * 2 : 65536) + n;
		char *p = 0;
		if (EFI_ERROR(efi_st->BootServices->AllocatePool(EfiLoaderData, cap, (void **)&p)))
			return;                      /* the file then lacks this line; noted by size */
		if (t->p) {
			mm_memcpy(p, t->p, t->len);
			efi_st->BootServices->FreePool(t->p);
		}
		t->p = p;
		t->cap = cap;
	}
	mm_memcpy(t->p + t->len, line, n);
	t->len += n;
	t->p[t->len++] = '\n';
}

/* Sanitize and print; keep the text. */
static void inspect_report(const struct memdump_header *h, const void *map,
                           struct inspect_text *text)
{
	EFI_BOOT_SERVICES *bs = efi_st->BootServices;
	uint32_t n = h->entry_count, cap = 2 * n + 8;
	struct memmap_in *in = 0;
	struct memmap_range *out = 0;
	void *scratch = 0;
	struct memmap_stats st;
	char machine[130];
	if (EFI_ERROR(bs->AllocatePool(EfiLoaderData, (n + 1) * sizeof(*in), (void **)&in)) ||
	    EFI_ERROR(bs->AllocatePool(EfiLoaderData, cap * sizeof(*out), (void **)&out)) ||
	    EFI_ERROR(bs->AllocatePool(EfiLoaderData, memmap_scratch_size(n) + 8, &scratch))) {
		mm_printf("inspect: out of memory for the report\n");
	} else {
		memmap_from_efi(map, n, h->desc_size, in);
		uint32_t nout = memmap_sanitize(in, n, out, cap, scratch, &st);
		struct memfmt_buf mb;
		memfmt_init(&mb, machine, sizeof(machine));
		memfmt_str(&mb, h->smbios_manufacturer);
		memfmt_char(&mb, ' ');
		memfmt_str(&mb, h->smbios_product);
		struct memfmt_report r = { .hdr = h, .machine = machine, .source = "firmware (GetMemoryMap)",
		                           .in = in, .n = n, .out = out, .nout = nout, .st = &st };
		memfmt_report(&r, inspect_emit, text);
	}
	if (in)
		bs->FreePool(in);
	if (out)
		bs->FreePool(out);
	if (scratch)
		bs->FreePool(scratch);
}

void inspect_memory_map(void)
{
	static struct memdump_header h;     /* 512 bytes: not on the loader's stack */
	static struct smbios_ids ids;
	struct inspect_text text = { 0 };
	struct inspect_opts opts;
	void *map;
	UINTN size, key, dsize;
	UINT32 dver;
	mm_memset(&h, 0, sizeof(h));
	inspect_facts(&h, &ids);
	inspect_get_opts(&ids, &opts);
	inspect_opts_used = opts;
	if (opts.serial)
		inspect_console_serial_only();
	else
		inspect_console_largest();
	EFI_STATUS st = efi_get_map_key(&map, &size, &key, &dsize, &dver);
	if (EFI_ERROR(st) || dsize < sizeof(struct efi_memdesc) || dsize > MEMDUMP_MAX_DESC) {
		mm_printf("inspect: GetMemoryMap failed (status 0x%llx, descriptor size %llu)\n",
		          (unsigned long long)st, (unsigned long long)dsize);
		if (!EFI_ERROR(st))
			efi_st->BootServices->FreePool(map);
		return;
	}
	h.map_key = key;
	memdump_seal(&h, (uint32_t)dsize, dver, (uint32_t)(size / dsize), map);
	inspect_report(&h, map, &text);
	if (opts.nosave)
		mm_printf("inspect: not saved (option nosave)\n");
	else if (text.p)
		inspect_save(&h, &ids, map, text.p, text.len);
	efi_st->BootServices->FreePool(map);
	if (text.p && opts.timeout_s)
		inspect_pager(text.p, text.len, opts.timeout_s);
	if (text.p)
		efi_st->BootServices->FreePool(text.p);
	if (opts.stop) {
		mm_printf("inspect: stopping after the report (option stop)\n");
		efi_st->BootServices->Exit(efi_image, EFI_SUCCESS, 0, 0);
	}
}
