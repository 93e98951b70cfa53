# Region VMM (issue 4): the host MMU simulator (tests/host/mmu_sim.c, which
# compiles arch/x86/paging32.c with host hooks), unit tests, the differential
# fuzzer with its smoke run, and the benchmark.
# Kernel side: arch/x86/paging32.c, kernel/vm_init.c and
# kernel/tests/test_region.c are picked up by mk/area-boot.mk's wildcards.

MMU_SIM_HOST  := $(BUILD)/host/tests/host/mmu_sim.o
MMU_SIM_FUZZ  := $(BUILD)/fuzz/tests/host/mmu_sim.o
MMU_SIM_BENCH := $(BUILD)/bench/tests/host/mmu_sim.o

VMM_TEST := $(BUILD)/host/tests/unit/test_region
$(VMM_TEST): $(BUILD)/host/tests/unit/test_region.o $(MMU_SIM_HOST) $(LIBMM_HOST) $(HOST_ENV_OBJS)
	$(CLANG) $(HOST_LDFLAGS) -o $@ $^ -lcmocka
HOST_TESTS += $(VMM_TEST)

VMM_FUZZ := $(BUILD)/fuzz/tests/fuzz/fuzz_region
$(VMM_FUZZ): $(BUILD)/fuzz/tests/fuzz/fuzz_region.o $(MMU_SIM_FUZZ) $(LIBMM_FUZZ) $(FUZZ_ENV_OBJS)
	$(CLANG) $(FUZZ_LDFLAGS) -o $@ $^
FUZZ_PROGS += $(VMM_FUZZ)
TEST_SCRIPTS += tests/fuzz/fuzz_region.sh

VMM_BENCH := $(BUILD)/bench/bench_region
$(VMM_BENCH): $(BUILD)/bench/tests/bench/bench_region.o $(MMU_SIM_BENCH) $(LIBMM_BENCH) $(BENCH_ENV_OBJS)
	$(CLANG) -o $@ $^
BENCH_PROGS += $(VMM_BENCH)
