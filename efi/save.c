/*
 * Saving the memory map to the boot medium (inspect_save, efi/inspect.h).
 *
 * The volume is the one the loader image came from (Loaded Image ->
 * DeviceHandle -> Simple File System). Files go into \mmboot\ (created if
 * missing):
 *
 *   \mmboot\<machine>-<k>.map   binary dump (docs/memmap.md)
 *   \mmboot\<machine>-<k>.txt   the text table (report)
 *
 * <machine> (inspect_machine_name, efi/inspect_name.c) is the SMBIOS
 * manufacturer and product, then the serial number ("_SN...") or, when
 * that is empty or a placeholder, the system UUID ("_UUID..."); k is the
 * first number from 1 for which neither file exists, so an earlier dump is
 * never overwritten. A missing file system, a read-only or full medium, or
 * any other file error is reported on the console (with the UEFI status)
 * and the boot goes on; a partly written file is deleted (a .map that
 * could not be written whole is never left behind). The dump is written
 * first: if it is complete but the text table does not fit, the dump is
 * kept (the table can be made from it: mmboot-memmap show) and the console
 * says that only the .map was saved.
 */
#include "loader.h"
#include "inspect.h"

static EFI_GUID save_guid_image = EFI_LOADED_IMAGE_PROTOCOL_GUID;
static EFI_GUID save_guid_fs = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;
static EFI_GUID save_guid_info = EFI_FILE_INFO_ID;

#define SAVE_NAME_MAX 96u          /* machine part (inspect_machine_name) */
#define SAVE_MAX_K    9999u

static const char *save_why(EFI_STATUS st)
{
	switch (st) {
	case EFI_WRITE_PROTECTED: return "the medium is read-only";
	case EFI_VOLUME_FULL:     return "the medium is full";
	case EFI_ACCESS_DENIED:   return "access denied (or \\mmboot is not a directory)";
	case EFI_NO_MEDIA:        return "no medium";
	case EFI_MEDIA_CHANGED:   return "the medium changed";
	case EFI_DEVICE_ERROR:    return "device error";
	case EFI_VOLUME_CORRUPTED: return "the file system is corrupted";
	case EFI_UNSUPPORTED:     return "the boot device has no file system";
	case EFI_NOT_FOUND:       return "not found";
	default:                  return "error";
	}
}

static void save_fail(const char *what, EFI_STATUS st)
{
	mm_printf("save: %s: %s (status 0x%llx); the boot goes on without saving\n", what,
	          save_why(st), (unsigned long long)st);
}

/* L"<machine>-<k><ext>" */
static void save_name(CHAR16 *w, const char *machine, uint32_t k, const char *ext)
{
	char digits[8];
	uint32_t n = 0, d = 0;
	for (const char *c = machine; *c; c++)
		w[n++] = (CHAR16)*c;
	w[n++] = '-';
	do {
		digits[d++] = (char)('0' + k % 10);
		k /= 10;
	} while (k);
	while (d)
		w[n++] = (CHAR16)digits[--d];
	for (const char *c = ext; *c; c++)
		w[n++] = (CHAR16)*c;
	w[n] = 0;
}

static int save_exists(EFI_FILE_HANDLE dir, CHAR16 *name)
{
	EFI_FILE_HANDLE f;
	EFI_STATUS st = dir->Open(dir, &f, name, EFI_FILE_MODE_READ, 0);
	if (EFI_ERROR(st))
		return st != EFI_NOT_FOUND;      /* other errors: do not risk this name */
	f->Close(f);
	return 1;
}

/* Create name and write the two pieces; deletes the file on failure. */
static EFI_STATUS save_file(EFI_FILE_HANDLE dir, CHAR16 *name, const void *a, UINTN alen,
                            const void *b, UINTN blen)
{
	EFI_FILE_HANDLE f;
	EFI_STATUS st = dir->Open(dir, &f, name,
	                          EFI_FILE_MODE_CREATE | EFI_FILE_MODE_READ | EFI_FILE_MODE_WRITE, 0);
	if (EFI_ERROR(st))
		return st;
	UINTN n = alen;
	st = f->Write(f, &n, (void *)a);
	if (!EFI_ERROR(st) && n != alen)
		st = EFI_VOLUME_FULL;
	if (!EFI_ERROR(st) && blen) {
		n = blen;
		st = f->Write(f, &n, (void *)b);
		if (!EFI_ERROR(st) && n != blen)
			st = EFI_VOLUME_FULL;
	}
	if (!EFI_ERROR(st))
		st = f->Flush(f);
	if (EFI_ERROR(st)) {
		if (f->Delete(f) != EFI_SUCCESS) /* closes the handle too */
			mm_printf("save: the partly written file could not be deleted\n");
		return st;
	}
	return f->Close(f);
}

/* Root directory of the volume the loader was loaded from. */
static EFI_STATUS save_open_root(EFI_FILE_HANDLE *root)
{
	EFI_BOOT_SERVICES *bs = efi_st->BootServices;
	EFI_LOADED_IMAGE *li = 0;
	EFI_SIMPLE_FILE_SYSTEM_PROTOCOL *fs = 0;
	EFI_STATUS st = bs->HandleProtocol(efi_image, &save_guid_image, (void **)&li);
	if (EFI_ERROR(st) || !li)
		return EFI_ERROR(st) ? st : EFI_NOT_FOUND;
	st = bs->HandleProtocol(li->DeviceHandle, &save_guid_fs, (void **)&fs);
	if (EFI_ERROR(st) || !fs)
		return EFI_UNSUPPORTED;
	return fs->OpenVolume(fs, root);
}

uint64_t inspect_read_config(char *buf, uint64_t cap)
{
	EFI_FILE_HANDLE root, f;
	UINTN n = cap;
	if (EFI_ERROR(save_open_root(&root)))
		return 0;
	EFI_STATUS st = root->Open(root, &f, L"mmboot\\config.txt", EFI_FILE_MODE_READ, 0);
	root->Close(root);
	if (EFI_ERROR(st))
		return 0;
	st = f->Read(f, &n, buf);
	f->Close(f);
	return EFI_ERROR(st) ? 0 : n;
}

static EFI_STATUS save_open_dir(EFI_FILE_HANDLE *dir)
{
	EFI_FILE_HANDLE root;
	EFI_STATUS st = save_open_root(&root);
	if (EFI_ERROR(st))
		return st;
	st = root->Open(root, dir, L"mmboot",
	                EFI_FILE_MODE_CREATE | EFI_FILE_MODE_READ | EFI_FILE_MODE_WRITE,
	                EFI_FILE_DIRECTORY);
	root->Close(root);
	if (EFI_ERROR(st))
		return st;
	/* an existing \mmboot that is a file opens too: refuse it */
	union { EFI_FILE_INFO fi; uint8_t raw[sizeof(EFI_FILE_INFO) + 512]; } info;
	UINTN isz = sizeof(info);
	st = (*dir)->GetInfo(*dir, &save_guid_info, &isz, &info);
	if (!EFI_ERROR(st) && !(info.fi.Attribute & EFI_FILE_DIRECTORY))
		st = EFI_ACCESS_DENIED;
	if (EFI_ERROR(st))
		(*dir)->Close(*dir);
	return st;
}

/* Write <machine>-<k>.map, then .txt; say what was saved. */
static void save_pair(EFI_FILE_HANDLE dir, const char *machine, uint32_t k,
                      const struct memdump_header *h, const void *descs,
                      const char *text, uint64_t text_len)
{
	CHAR16 wmap[SAVE_NAME_MAX + 16], wtxt[SAVE_NAME_MAX + 16];
	uint64_t dlen = (uint64_t)h->desc_size * h->entry_count;
	save_name(wmap, machine, k, ".map");
	save_name(wtxt, machine, k, ".txt");
	EFI_STATUS st = save_file(dir, wmap, h, sizeof(*h), descs, (UINTN)dlen);
	if (EFI_ERROR(st)) {
		save_fail("writing the dump", st);
		return;
	}
	st = save_file(dir, wtxt, text, text_len, 0, 0);
	if (EFI_ERROR(st)) {
		mm_printf("saved: \\mmboot\\%s-%u.map (%llu bytes) only\n", machine, k,
		          (unsigned long long)(sizeof(*h) + dlen));
		mm_printf("save: writing the text table: %s (status 0x%llx); the dump is kept "
		          "without it\n", save_why(st), (unsigned long long)st);
		return;
	}
	mm_printf("saved: \\mmboot\\%s-%u.map (%llu bytes) and .txt (%llu bytes)\n",
	          machine, k, (unsigned long long)(sizeof(*h) + dlen),
	          (unsigned long long)text_len);
}

void inspect_save(const struct memdump_header *h, const struct smbios_ids *ids,
                  const void *descs, const char *text, uint64_t text_len)
{
	EFI_FILE_HANDLE dir;
	CHAR16 wmap[SAVE_NAME_MAX + 16], wtxt[SAVE_NAME_MAX + 16];
	char machine[SAVE_NAME_MAX];
	uint32_t k;
	EFI_STATUS st = save_open_dir(&dir);
	if (EFI_ERROR(st)) {
		save_fail("cannot open \\mmboot on the boot volume", st);
		return;
	}
	inspect_machine_name(h, ids, machine, sizeof(machine));
	for (k = 1; k <= SAVE_MAX_K; k++) {
		save_name(wmap, machine, k, ".map");
		save_name(wtxt, machine, k, ".txt");
		if (!save_exists(dir, wmap) && !save_exists(dir, wtxt))
			break;
	}
	if (k > SAVE_MAX_K) {
		save_fail("no free file name", EFI_VOLUME_FULL);
		dir->Close(dir);
		return;
	}
	save_pair(dir, machine, k, h, descs, text, text_len);
	dir->Close(dir);
}
