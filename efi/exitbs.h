/*
 * exitbs: the final GetMemoryMap + ExitBootServices handshake, written
 * against a small table of function pointers so that a host test
 * (tests/unit/test_exitbs.c) can drive it with a simulated firmware.
 *
 * The rule (UEFI 2.10, 7.4 ExitBootServices): the MapKey passed must be the
 * one of the latest memory map; if anything changed the map in between, the
 * firmware returns EFI_INVALID_PARAMETER and the caller must get the map
 * again and retry. Between the final GetMemoryMap and ExitBootServices
 * nothing may allocate (no printing: console output can allocate). So the
 * loop below calls nothing but the two operations, always into the same
 * caller-provided buffer, at most max_tries times. Once ExitBootServices has
 * succeeded the caller calls no boot service at all.
 *
 * Status values are the UEFI ones (x86_64: high bit = error) restated here
 * so that the file builds without <efi.h>.
 */
#ifndef MMBOOT_EFI_EXITBS_H
#define MMBOOT_EFI_EXITBS_H

#include <stdint.h>

#define EXITBS_SUCCESS            0ull
#define EXITBS_INVALID_PARAMETER  0x8000000000000002ull
#define EXITBS_BUFFER_TOO_SMALL   0x8000000000000005ull
#define EXITBS_MAX_TRIES_DEFAULT  8u

struct exitbs_ops {
	void *ctx;   /* firmware (or simulator) context */
	/* GetMemoryMap: in *size the buffer capacity, out the bytes written */
	uint64_t (*get_map)(void *ctx, uint64_t *size, void *buf, uint64_t *key,
	                    uint64_t *desc_size, uint32_t *desc_version);
	uint64_t (*exit_bs)(void *ctx, uint64_t key);
};

/* Why exitbs_run stopped. */
enum exitbs_outcome {
	EXITBS_DONE = 0,        /* boot services are gone; the map is final */
	EXITBS_MAP_FAILED,      /* GetMemoryMap returned an error (status in res) */
	EXITBS_MAP_TOO_LARGE,   /* the map outgrew the buffer (needed in res->map_size) */
	EXITBS_REFUSED,         /* ExitBootServices failed with another error */
	EXITBS_GAVE_UP,         /* EFI_INVALID_PARAMETER on every one of max_tries */
};

struct exitbs_result {
	uint32_t outcome;       /* enum exitbs_outcome */
	uint32_t tries;         /* ExitBootServices calls made */
	uint64_t status;        /* last firmware status */
	uint64_t map_size;      /* bytes of the final map (or bytes needed) */
	uint64_t desc_size;     /* DescriptorSize of the final map */
	uint32_t desc_version;  /* DescriptorVersion */
	uint32_t pad;           /* zero */
	uint64_t map_key;       /* key passed to the successful ExitBootServices */
};

/* Run the handshake with buf (capacity bytes). Returns 0 on EXITBS_DONE,
 * -1 otherwise; res says what happened either way. */
int exitbs_run(const struct exitbs_ops *ops, void *buf, uint64_t capacity,
               uint32_t max_tries, struct exitbs_result *res);

const char *exitbs_outcome_name(uint32_t outcome);

#endif
