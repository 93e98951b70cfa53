/*
 * Error codes of mmboot's memory-management layers. Operations return 0 or a
 * negative MM_E* value; allocators return a sentinel (NULL, PADDR_NONE,
 * VADDR_NONE) and, where the caller needs to know why, an error out-parameter.
 * Running out of memory is an error value, never a panic.
 */
#ifndef MMBOOT_ERRNO_H
#define MMBOOT_ERRNO_H

enum mm_err {
	MM_OK = 0,
	MM_ENOMEM = 1,      /* out of memory (physical frames, virtual space, metadata) */
	MM_EINVAL = 2,      /* bad argument (size 0, order too large, unknown flag) */
	MM_EALIGN = 3,      /* address not aligned to what the operation needs */
	MM_EDOUBLEFREE = 4, /* object or block already free */
	MM_ENOTALLOC = 5,   /* address was never handed out by this allocator */
	MM_ERESERVED = 6,   /* address belongs to a reserved (never allocatable) range */
	MM_ERANGE = 7,      /* address outside the managed range */
	MM_EBUSY = 8,       /* still in use (live objects, committed pages) */
	MM_EEXIST = 9,      /* already mapped / already present */
	MM_ENOENT = 10,     /* no such mapping / region / entry */
	MM_EORDER = 11,     /* block freed with a different order than allocated */
	MM_ECORRUPT = 12,   /* metadata failed a consistency check */
	MM_ERR_COUNT
};

/* Short constant name of an error ("ENOMEM"); accepts the value negated or not. */
const char *mm_strerror(int err);

#endif /* MMBOOT_ERRNO_H */
