/*
 * idt.c: the IDT and the exception reports.
 *
 *   vectors 0-31  interrupt gates (ring 0) to the isr.S stubs, except
 *   vector 8      a task gate to the double-fault TSS (gdt.c)
 *   32-255        not present (interrupts stay disabled in the kernel stage;
 *                 an unexpected one becomes #NP -> #GP... -> a report)
 *
 * isr_dispatch:
 *   #PF (14)  region_fault(cr2, access) first (weak: absent until the VMM
 *             links); 0 means the page was committed: return and retry.
 *             Otherwise a test that armed ktest_expect_fault gets control
 *             back (ktest_fault_hook longjmps); otherwise report and fail.
 *   #BP (3)   counted, reported in one line, resumed (a trap: EIP is past
 *             the int3) - the tests use it to check the IDT/iret path.
 *   others    report (name, error code, CR0/2/3/4, EIP, registers,
 *             backtrace) then kernel_fail.
 * The double-fault task reads the interrupted state from the main TSS,
 * where the CPU saved it during the task switch.
 */
#include "../../kernel/kernel.h"
#include <mmboot/region.h>
#include "cpu.h"
#include "gdt.h"

extern int region_fault(vaddr_t va, uint32_t access) __attribute__((weak));
extern void region_fault_report(vaddr_t va, uint32_t access, int err) __attribute__((weak));
extern const char *region_fault_cause(int err) __attribute__((weak));
extern const uint32_t isr_stubs[32];

struct isr_frame {
	uint32_t gs, fs, es, ds;
	uint32_t edi, esi, ebp, esp_pushal, ebx, edx, ecx, eax;
	uint32_t vector, error;
	uint32_t eip, cs, eflags;
};

static uint64_t idt[256];
static uint32_t breakpoints;

static const char *const exc_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM device not available",
	"#DF double fault", "coprocessor segment overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault", "#GP general protection",
	"#PF page fault", "reserved 15", "#MF x87 error", "#AC alignment check",
	"#MC machine check", "#XM SIMD error", "#VE virtualization", "#CP control protection",
	"reserved 22", "reserved 23", "reserved 24", "reserved 25", "reserved 26",
	"reserved 27", "#HV hypervisor injection", "#VC VMM communication",
	"#SX security", "reserved 31",
};

static uint64_t gate(uint32_t off, uint16_t sel, uint8_t type)
{
	return (uint64_t)(off & 0xFFFFu) | ((uint64_t)sel << 16) | ((uint64_t)type << 40) |
	       ((uint64_t)(off >> 16) << 48);
}

uint32_t arch_breakpoints(void)
{
	return breakpoints;
}

void arch_backtrace(uint32_t ebp)
{
	vaddr_t lo = (vaddr_t)(uintptr_t)__kernel_start;
	for (int depth = 0; depth < 16 && ebp >= lo && (ebp & 3) == 0; depth++) {
		if (ebp < 0xC0000000u || ebp > 0xFFBFFFF8u)
			break;
		const uint32_t *fp = (const uint32_t *)(uintptr_t)ebp;
		if (!arch_va_mapped(ebp) || !arch_va_mapped(ebp + 4))
			break;
		mm_printf("  #%d ret %08x (frame %08x)\n", depth, fp[1], ebp);
		if (fp[0] <= ebp)
			break;
		ebp = fp[0];
	}
}

static void report_pf_error(uint32_t err)
{
	mm_printf("  page fault: %s, %s, %s%s%s\n",
	          (err & 1) ? "protection violation (page present)" : "page not present",
	          (err & 2) ? "write" : "read", (err & 4) ? "user mode" : "supervisor mode",
	          (err & 8) ? ", reserved bit set in a paging entry" : "",
	          (err & 16) ? ", instruction fetch" : "");
}

static void report(const struct isr_frame *f)
{
	uint32_t v = f->vector;
	mm_printf("\nEXCEPTION %u: %s, error code 0x%08x\n", v, exc_names[v & 31], f->error);
	if (v == 14)
		report_pf_error(f->error);
	mm_printf("  eip %08x  cs %04x  eflags %08x  esp %08x\n", f->eip, f->cs & 0xFFFF,
	          f->eflags, (uint32_t)(uintptr_t)&f->eflags + 4);
	mm_printf("  eax %08x  ebx %08x  ecx %08x  edx %08x\n", f->eax, f->ebx, f->ecx, f->edx);
	mm_printf("  esi %08x  edi %08x  ebp %08x\n", f->esi, f->edi, f->ebp);
	mm_printf("  cr0 %08x  cr2 %08x  cr3 %08x  cr4 %08x\n", read_cr0(), read_cr2(),
	          read_cr3(), read_cr4());
	mm_printf("  ds %04x es %04x fs %04x gs %04x\n", f->ds & 0xFFFF, f->es & 0xFFFF,
	          f->fs & 0xFFFF, f->gs & 0xFFFF);
	mm_printf("  backtrace:\n");
	arch_backtrace(f->ebp);
}

void isr_dispatch(struct isr_frame *f);
void isr_dispatch(struct isr_frame *f)
{
	int pf_rc = 0;
	uint32_t cr2 = 0;
	if (f->vector == 14) {
		cr2 = read_cr2();
		uint32_t access = ((f->error & 2) ? REGION_FAULT_WRITE : 0u) |
		                  ((f->error & 1) ? REGION_FAULT_PRESENT : 0u);
		int rc = region_fault ? region_fault(cr2, access) : -1;
		if (rc == 0)
			return;
		pf_rc = rc;
		if (region_fault_report)   /* address, access, region, cause (VMM) */
			region_fault_report(cr2, access, rc);
		ktest_fault_hook(cr2);   /* returns only if no test expected a fault */
	}
	if (f->vector == 3) {
		breakpoints++;
		mm_printf("breakpoint #%u at eip %08x (resumed)\n", breakpoints, f->eip - 1);
		return;
	}
	static int reporting;   /* an exception while reporting one: no second report */
	if (reporting++) {
		mm_printf("\nEXCEPTION %u (%s) at eip %08x while reporting an exception\n",
		          f->vector, exc_names[f->vector & 31], f->eip);
		kernel_exit(KERNEL_STATUS_FAIL);
	}
	report(f);
	if (pf_rc && region_fault_cause) {   /* e.g. "out of physical memory in region 'heap'" */
		const struct region *rg = region_lookup(cr2);
		kernel_fail("page fault at %08x (eip %08x): %s in region '%s'", cr2, f->eip,
		            region_fault_cause(pf_rc), rg ? region_name(rg) : "(none)");
	}
	kernel_fail("unhandled exception %u (%s) at eip %08x", f->vector,
	            exc_names[f->vector & 31], f->eip);
}

static void df_task(void)
{
	const struct tss32 *t = gdt_main_tss();
	mm_printf("\nEXCEPTION 8: #DF double fault (handled by its own task and stack)\n");
	mm_printf("  interrupted state: eip %08x  esp %08x  ebp %08x  eflags %08x\n",
	          t->eip, t->esp, t->ebp, t->eflags);
	mm_printf("  eax %08x  ebx %08x  ecx %08x  edx %08x  esi %08x  edi %08x\n",
	          t->eax, t->ebx, t->ecx, t->edx, t->esi, t->edi);
	mm_printf("  cr2 %08x  cr3 %08x%s\n", read_cr2(), read_cr3(),
	          (kernel_bi && read_cr2() >= kernel_bi->stack_va - PAGE_SIZE &&
	           read_cr2() < kernel_bi->stack_va) ? "  (kernel stack overflow: guard page)" : "");
	kernel_fail("double fault");
}

void arch_cpu_init(void)
{
	struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint32_t)(uintptr_t)idt };
	gdt_init(df_task);
	for (uint32_t v = 0; v < 32; v++)
		idt[v] = gate(isr_stubs[v], GDT_KCODE, 0x8E);
	idt[8] = gate(0, GDT_TSS_DF, 0x85);
	__asm__ volatile("lidt %0" : : "m"(idtr));
}
