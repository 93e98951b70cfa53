/*
 * mmboot basic types, shared by the x86_64 loader, the i386 kernel stage and
 * the host build (tests, fuzzers, benchmarks, tools).
 *
 * Physical addresses are 64-bit everywhere: firmware maps describe memory far
 * above 4 GiB even though the kernel stage can only reach the low 4 GiB.
 * Kernel virtual addresses are 32-bit everywhere: the kernel stage runs with
 * 32-bit (non-PAE) paging, and the host simulates that same address space.
 * Keep the two apart: never store one in the other's type.
 */
#ifndef MMBOOT_TYPES_H
#define MMBOOT_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t paddr_t;   /* physical address, bytes */
typedef uint32_t vaddr_t;   /* kernel virtual address (32-bit paging), bytes */
typedef uint32_t pfn_t;     /* physical frame number (paddr >> PAGE_SHIFT), below 4 GiB */

#define PAGE_SHIFT      12u
#define PAGE_SIZE       (1u << PAGE_SHIFT)
#define PAGE_MASK       (PAGE_SIZE - 1u)
#define LARGE_PAGE_SHIFT 22u                    /* PSE 4 MiB page */
#define LARGE_PAGE_SIZE (1u << LARGE_PAGE_SHIFT)

#define PADDR_NONE      ((paddr_t)~(paddr_t)0)  /* "no physical address" sentinel */
#define VADDR_NONE      ((vaddr_t)0)            /* page 0 is never mapped */
#define PFN_NONE        ((pfn_t)~(pfn_t)0)

#define PADDR_4G        ((paddr_t)1 << 32)

#define KiB(x) ((uint64_t)(x) << 10)
#define MiB(x) ((uint64_t)(x) << 20)
#define GiB(x) ((uint64_t)(x) << 30)

#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define ALIGN_UP(x, a)   ALIGN_DOWN((x) + ((__typeof__(x))(a) - 1), (a))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)
#define ARRAY_SIZE(a)    (sizeof(a) / sizeof((a)[0]))

static inline pfn_t pa_to_pfn(paddr_t pa) { return (pfn_t)(pa >> PAGE_SHIFT); }
static inline paddr_t pfn_to_pa(pfn_t pfn) { return (paddr_t)pfn << PAGE_SHIFT; }

#endif /* MMBOOT_TYPES_H */
