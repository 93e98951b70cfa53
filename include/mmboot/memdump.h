/*
 * The mmboot memory-map dump: what the loader saves on the boot medium
 * (mmboot/<machine>-<n>.map) and build/host/mmboot-memmap reads back.
 *
 * Layout (all integers little-endian, strings NUL-padded ASCII/UTF-8):
 *
 *   offset 0            struct memdump_header (MEMDUMP_HEADER_SIZE = 512 bytes)
 *   offset header_size  entry_count descriptors, each desc_size bytes, exactly
 *                       as GetMemoryMap() returned them (struct efi_memdesc
 *                       first, then whatever the firmware appends)
 *   end                 header_size + entry_count * desc_size (nothing after)
 *
 * A reader checks, in order: magic, version (a newer major version is
 * refused), header_size (>= 512, a newer minor version may make it bigger),
 * header_crc (CRC-32 of the header with header_crc = 0), desc_size
 * (40..4096, any value: UEFI does not require a multiple of 8, so
 * descriptors may be unaligned in the file; read them with memcpy),
 * entry_count (<= MEMDUMP_MAX_ENTRIES), the file
 * length, and data_crc (CRC-32 of the descriptors). memdump_check() does
 * all of that for the loader, the kernel and the host alike.
 *
 * Fixed-width, pointer-free: the same bytes on every target (asserted below).
 * OWNER: memory-map inspector (issue 6).
 */
#ifndef MMBOOT_MEMDUMP_H
#define MMBOOT_MEMDUMP_H

#include "types.h"

#define MEMDUMP_MAGIC        "MMBDUMP\n"   /* 8 bytes, no NUL */
#define MEMDUMP_VERSION      1u            /* major format version */
#define MEMDUMP_HEADER_SIZE  512u
#define MEMDUMP_MAX_ENTRIES  65536u
#define MEMDUMP_MAX_DESC     4096u

/* flags: which optional header fields hold data */
#define MEMDUMP_F_SMBIOS     0x1u          /* smbios_* strings and smbios_rev valid */
#define MEMDUMP_F_RSDP       0x2u          /* rsdp_address / rsdp_revision valid */
#define MEMDUMP_F_TIME       0x4u          /* time_* valid (firmware clock) */

struct memdump_header {
	char magic[8];                /* MEMDUMP_MAGIC */
	uint32_t version;             /* MEMDUMP_VERSION */
	uint32_t header_size;         /* bytes from file start to the first descriptor */
	uint32_t desc_size;           /* firmware DescriptorSize, bytes */
	uint32_t desc_version;        /* firmware DescriptorVersion */
	uint32_t entry_count;         /* descriptors that follow */
	uint32_t flags;               /* MEMDUMP_F_* */
	uint64_t map_key;             /* firmware MapKey of this map */
	uint32_t fw_revision;         /* SystemTable->FirmwareRevision */
	uint32_t uefi_revision;       /* SystemTable->Hdr.Revision (major << 16 | minor) */
	uint64_t rsdp_address;        /* ACPI RSDP physical address */
	uint32_t rsdp_revision;       /* RSDP Revision byte (0: ACPI 1.0, 2: 2.0+) */
	uint32_t smbios_rev;          /* SMBIOS major << 8 | minor */
	uint32_t smbios_entry;        /* entry point used: 2 (_SM_) or 3 (_SM3_), 0 none */
	uint32_t data_crc;            /* CRC-32 (IEEE 802.3) of the descriptors */
	uint16_t time_year;           /* firmware time when saved: year */
	uint8_t time_month;           /* 1..12 */
	uint8_t time_day;             /* 1..31 */
	uint8_t time_hour;            /* 0..23 */
	uint8_t time_minute;          /* 0..59 */
	uint8_t time_second;          /* 0..59 */
	uint8_t time_pad;             /* zero */
	char fw_vendor[64];           /* SystemTable->FirmwareVendor, as ASCII */
	char smbios_manufacturer[64]; /* SMBIOS type 1 Manufacturer */
	char smbios_product[64];      /* SMBIOS type 1 Product Name */
	char smbios_version[64];      /* SMBIOS type 1 Version */
	char bios_vendor[64];         /* SMBIOS type 0 Vendor */
	char bios_version[64];        /* SMBIOS type 0 BIOS Version */
	char bios_date[32];           /* SMBIOS type 0 BIOS Release Date */
	uint8_t reserved[12];         /* zero */
	uint32_t header_crc;          /* CRC-32 of these 512 bytes with header_crc = 0 */
};
_Static_assert(sizeof(struct memdump_header) == MEMDUMP_HEADER_SIZE, "memdump header size");
_Static_assert(__builtin_offsetof(struct memdump_header, map_key) == 32, "memdump layout");
_Static_assert(__builtin_offsetof(struct memdump_header, rsdp_address) == 48, "memdump layout");
_Static_assert(__builtin_offsetof(struct memdump_header, data_crc) == 68, "memdump layout");
_Static_assert(__builtin_offsetof(struct memdump_header, fw_vendor) == 80, "memdump layout");
_Static_assert(__builtin_offsetof(struct memdump_header, bios_date) == 464, "memdump layout");
_Static_assert(__builtin_offsetof(struct memdump_header, header_crc) == 508, "memdump layout");

/* What memdump_check found wrong (0: nothing). */
enum memdump_err {
	MEMDUMP_OK = 0,
	MEMDUMP_E_SHORT,              /* fewer bytes than a header */
	MEMDUMP_E_MAGIC,              /* not a dump */
	MEMDUMP_E_VERSION,            /* newer major version */
	MEMDUMP_E_HEADER_SIZE,        /* header_size out of range */
	MEMDUMP_E_HEADER_CRC,         /* header garbled */
	MEMDUMP_E_DESC_SIZE,          /* descriptor size out of range */
	MEMDUMP_E_COUNT,              /* too many entries */
	MEMDUMP_E_TRUNCATED,          /* file shorter than the descriptors */
	MEMDUMP_E_TRAILING,           /* bytes after the descriptors */
	MEMDUMP_E_DATA_CRC,           /* descriptors garbled */
	MEMDUMP_E_STRING,             /* a string field is not NUL-terminated */
};

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32()); start with crc = 0. */
uint32_t memdump_crc32(uint32_t crc, const void *data, uint64_t len);

/* Fill magic, version, sizes, count and both CRCs of h for descs (the
 * other fields are the caller's, set before). */
void memdump_seal(struct memdump_header *h, uint32_t desc_size, uint32_t desc_version,
                  uint32_t entry_count, const void *descs);

/* Validate a dump of len bytes (h may be unaligned: it is copied). On
 * error *offset is where the problem is. */
enum memdump_err memdump_check(const void *data, uint64_t len, uint64_t *offset);
const char *memdump_strerror(enum memdump_err e);

#endif /* MMBOOT_MEMDUMP_H */
