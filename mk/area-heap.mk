# Slab heap (issue 5): object caches and kmalloc (mm/kmem*.c), its host unit
# tests, differential fuzzer (+ smoke-run wrapper) and benchmarks.

KMEM_TEST := $(BUILD)/host/tests/unit/test_kmem
$(KMEM_TEST): $(BUILD)/host/tests/unit/test_kmem.o $(LIBMM_HOST) $(HOST_ENV_OBJS)
	$(CLANG) $(HOST_LDFLAGS) -o $@ $< $(HOST_ENV_OBJS) $(LIBMM_HOST) -lcmocka
HOST_TESTS += $(KMEM_TEST)

# the same heap on the real region layer (host MMU simulator of mk/area-vmm.mk)
KMEM_REGION_TEST := $(BUILD)/host/tests/unit/test_kmem_region
$(KMEM_REGION_TEST): $(BUILD)/host/tests/unit/test_kmem_region.o $(BUILD)/host/tests/host/mmu_sim.o \
                     $(LIBMM_HOST) $(HOST_ENV_OBJS)
	$(CLANG) $(HOST_LDFLAGS) -o $@ $^ -lcmocka
HOST_TESTS += $(KMEM_REGION_TEST)

# Benchmark: one trace driver built once per allocator (no symbol clashes),
# a runner that runs them in turn and prints one table.
KMEM_BENCH_DIR := $(BUILD)/bench
KMEM_BENCH := $(KMEM_BENCH_DIR)/bench_kmem
KMEM_BENCH_DEFS := kmem:-DALLOC_KMEM glibc:-DALLOC_GLIBC jemalloc:-DALLOC_JEMALLOC mimalloc:-DALLOC_MIMALLOC
KMEM_BENCH_LIBS_kmem := $(BUILD)/bench/tests/host/mmu_sim.o $(LIBMM_BENCH) $(BENCH_ENV_OBJS)
KMEM_BENCH_LIBS_glibc :=
KMEM_BENCH_LIBS_jemalloc := -ljemalloc
KMEM_BENCH_LIBS_mimalloc := -lmimalloc
KMEM_BENCH_DRIVERS := $(foreach d,$(KMEM_BENCH_DEFS),$(KMEM_BENCH_DIR)/bench_kmem_trace-$(word 1,$(subst :, ,$(d))))

# static pattern rules: only these exact targets (never the .d files make re-reads)
$(KMEM_BENCH_DRIVERS:%=%.o): $(KMEM_BENCH_DIR)/bench_kmem_trace-%.o: tests/bench/bench_kmem_trace.c
	@mkdir -p $(@D)
	$(CLANG) $(BENCH_CFLAGS) $(DEPFLAGS) \
	  $(word 2,$(subst :, ,$(filter $*:%,$(KMEM_BENCH_DEFS)))) -c $< -o $@
$(KMEM_BENCH_DRIVERS): $(KMEM_BENCH_DIR)/bench_kmem_trace-%: $(KMEM_BENCH_DIR)/bench_kmem_trace-%.o \
                       $(BUILD)/bench/tests/host/mmu_sim.o $(LIBMM_BENCH) $(BENCH_ENV_OBJS)
	$(CLANG) -o $@ $< $(KMEM_BENCH_LIBS_$*)
$(KMEM_BENCH): $(BUILD)/bench/tests/bench/bench_kmem.o $(KMEM_BENCH_DRIVERS)
	$(CLANG) -o $@ $<
BENCH_PROGS += $(KMEM_BENCH)

# Differential fuzzer (libFuzzer + ASan + UBSan) and its smoke run for `make test`
KMEM_FUZZ := $(BUILD)/fuzz/tests/fuzz/fuzz_kmem
$(KMEM_FUZZ): $(BUILD)/fuzz/tests/fuzz/fuzz_kmem.o $(LIBMM_FUZZ) $(FUZZ_ENV_OBJS)
	$(CLANG) $(FUZZ_LDFLAGS) -o $@ $^
FUZZ_PROGS += $(KMEM_FUZZ)
TEST_SCRIPTS += tests/fuzz/fuzz_kmem.sh

# `make KMEM_DEBUG=1`: debug checks on for every cache in the kernel stage
ifneq ($(KMEM_DEBUG),)
KERNEL_CFLAGS += -DMMBOOT_KMEM_DEBUG=$(KMEM_DEBUG)
endif
# `make KMEM_STRESS_OPS=n`: operations of the in-kernel stress test (default 2^20)
ifneq ($(KMEM_STRESS_OPS),)
KERNEL_CFLAGS += -DKMEM_STRESS_OPS=$(KMEM_STRESS_OPS)u
endif
