/*
 * Where the inspector's options come from (efi/inspect.h): the defaults,
 * the SMBIOS OEM strings "mmboot:..." (a VM harness's defaults), then
 * \mmboot\config.txt (the stick), then the load options (this boot): each
 * source overrides the one before, the more specific wins. The words are
 * parsed by efi/inspect_optparse.c (portable, host-tested).
 */
#include "loader.h"
#include "inspect.h"

static EFI_GUID opts_guid_image = EFI_LOADED_IMAGE_PROTOCOL_GUID;

/* The load options as ASCII (UCS-2 narrowed). */
static uint64_t opts_load_options(char *buf, uint64_t cap)
{
	EFI_LOADED_IMAGE *li = 0;
	if (EFI_ERROR(efi_st->BootServices->HandleProtocol(efi_image, &opts_guid_image, (void **)&li)) ||
	    !li || !li->LoadOptions)
		return 0;
	const CHAR16 *w = li->LoadOptions;
	uint64_t n = li->LoadOptionsSize / sizeof(CHAR16), k = 0;
	for (uint64_t i = 0; i < n && k < cap; i++)
		buf[k++] = (w[i] > 0 && w[i] < 0x7f) ? (char)w[i] : ' ';
	return k;
}

void inspect_get_opts(const struct smbios_ids *ids, struct inspect_opts *o)
{
	static char buf[4096];
	uint64_t n = 0;
	inspect_default_opts(o);
	while (n < sizeof(ids->oem_opts) && ids->oem_opts[n])
		n++;
	inspect_parse_opts(ids->oem_opts, n, "SMBIOS OEM string", o);
	n = inspect_read_config(buf, sizeof(buf));
	inspect_parse_opts(buf, n, "\\mmboot\\config.txt", o);
	n = opts_load_options(buf, sizeof(buf));
	inspect_parse_opts(buf, n, "load options", o);
	if (o->serial)
		o->timeout_s = 0;
}
