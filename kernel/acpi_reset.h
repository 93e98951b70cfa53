/*
 * acpi_reset: find what kernel/reset.c needs in the ACPI tables, portably.
 *
 *   RSDP --(rev >= 2: XsdtAddress, else RsdtAddress)--> XSDT/RSDT
 *        --(entries, 8 or 4 bytes each)--> the table signed "FACP" (FADT)
 *
 * From the FADT (ACPI 6.5, 5.2.9):
 *   offset  76  PM_TMR_BLK (u32 I/O port of the 3.579545 MHz PM timer)
 *   offset  91  PM_TMR_LEN (4 if there is a timer)
 *   offset 109  IAPC_BOOT_ARCH (bit 1: an 8042 keyboard controller exists;
 *               meaningful from FADT revision 3 on; bit 0 legacy devices)
 *   offset 112  Flags (bit 8 TMR_VAL_EXT: 32-bit timer, else 24-bit;
 *               bit 10 RESET_REG_SUP; bit 20 HW_REDUCED_ACPI)
 *   offset 116  RESET_REG, a Generic Address Structure (12 bytes):
 *               space id (0 memory, 1 I/O, 2 PCI config), bit width, bit
 *               offset, access size, u64 address
 *   offset 128  RESET_VALUE (u8)
 * Every table's bytes must sum to 0 (mod 256) over its length; the RSDP's
 * first 20 bytes too, and for revision >= 2 its whole 36 bytes as well.
 * Tables failing a check are ignored, as an OS does.
 *
 * Memory is read through a callback (the kernel maps physical memory with
 * physwin; the host test reads a fake physical memory image), so the same
 * code runs in the kernel and in tests/usb/test_acpi_reset.c.
 */
#ifndef MMBOOT_KERNEL_ACPI_RESET_H
#define MMBOOT_KERNEL_ACPI_RESET_H

#include <mmboot/types.h>

/* Copy len bytes of physical memory at pa into buf; 0, or -1 if unreadable. */
typedef int (*acpi_read_fn)(void *ctx, paddr_t pa, void *buf, uint32_t len);

#define ACPI_SPACE_MEMORY 0u
#define ACPI_SPACE_IO     1u
#define ACPI_SPACE_PCI    2u

#define ACPI_KBC_UNKNOWN  0u     /* FADT too old to say */
#define ACPI_KBC_PRESENT  1u
#define ACPI_KBC_ABSENT   2u

struct acpi_reset_info {
	uint32_t found_fadt;      /* 1 if a valid FADT was found */
	uint32_t fadt_revision;   /* FADT header revision */
	uint32_t has_reset_reg;   /* RESET_REG_SUP set and the register usable */
	uint32_t reset_space;     /* ACPI_SPACE_* */
	uint32_t reset_width;     /* register bit width (8) */
	uint64_t reset_addr;      /* address in that space */
	uint8_t reset_value;      /* byte to write */
	uint16_t pm_timer_port;   /* PM timer I/O port, 0 if none */
	uint32_t pm_timer_bits;   /* 24 or 32 */
	uint32_t kbc;             /* ACPI_KBC_* */
	uint32_t tables_seen;     /* entries of the XSDT/RSDT looked at */
	uint32_t bad_checksums;   /* tables ignored for a bad checksum */
};

/* Walk from the RSDP at rsdp_pa. 0 (info filled; found_fadt says if the FADT
 * was there), or -1 if the RSDP itself is unreadable or invalid. */
int acpi_reset_find(acpi_read_fn read, void *ctx, paddr_t rsdp_pa, struct acpi_reset_info *info);

/* Sum of len bytes (mod 256): 0 for a valid ACPI table. */
uint8_t acpi_checksum(const void *p, uint32_t len);

#endif
