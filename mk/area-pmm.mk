# Memory-map sanitizer and buddy PMM (issue 3): host unit tests, the
# differential test, the real-map replay, fuzzers with smoke runs, and the
# benchmark (64-bit and -m32).

PMM_TESTS := test_memmap test_pmm test_pmm_diff test_realmaps
PMM_TEST_BINS := $(PMM_TESTS:%=$(BUILD)/host/tests/unit/%)

$(BUILD)/host/tests/unit/test_memmap: $(BUILD)/host/tests/unit/test_memmap.o $(LIBMM_HOST) $(HOST_ENV_OBJS)
	$(CLANG) $(HOST_LDFLAGS) -o $@ $^ -lcmocka
$(BUILD)/host/tests/unit/test_pmm: $(BUILD)/host/tests/unit/test_pmm.o $(LIBMM_HOST) $(HOST_ENV_OBJS)
	$(CLANG) $(HOST_LDFLAGS) -o $@ $^ -lcmocka
$(BUILD)/host/tests/unit/test_pmm_diff: $(BUILD)/host/tests/unit/test_pmm_diff.o $(LIBMM_HOST) $(HOST_ENV_OBJS)
	$(CLANG) $(HOST_LDFLAGS) -o $@ $^ -lcmocka
# the replay test reads map files with the inspector's parser (tools/memmap/)
$(BUILD)/host/tests/unit/test_realmaps: $(BUILD)/host/tests/unit/test_realmaps.o $(MAPFILE_HOST_OBJS) $(LIBMM_HOST) $(HOST_ENV_OBJS)
	$(CLANG) $(HOST_LDFLAGS) -o $@ $(BUILD)/host/tests/unit/test_realmaps.o $(MAPFILE_HOST_OBJS) $(LIBMM_HOST) $(HOST_ENV_OBJS) -lcmocka

HOST_TESTS += $(PMM_TEST_BINS)

# fuzzers: libFuzzer; `make test` runs each briefly through tests/fuzz/pmm-smoke.sh
PMM_FUZZ := fuzz_memmap fuzz_pmm
PMM_FUZZ_BINS := $(PMM_FUZZ:%=$(BUILD)/fuzz/tests/fuzz/%)
$(BUILD)/fuzz/tests/fuzz/fuzz_memmap: $(BUILD)/fuzz/tests/fuzz/fuzz_memmap.o $(LIBMM_FUZZ) $(FUZZ_ENV_OBJS)
	$(CLANG) $(FUZZ_LDFLAGS) -o $@ $^
$(BUILD)/fuzz/tests/fuzz/fuzz_pmm: $(BUILD)/fuzz/tests/fuzz/fuzz_pmm.o $(LIBMM_FUZZ) $(FUZZ_ENV_OBJS)
	$(CLANG) $(FUZZ_LDFLAGS) -o $@ $^
FUZZ_PROGS += $(PMM_FUZZ_BINS)
TEST_SCRIPTS += tests/fuzz/pmm-smoke.sh

# benchmark: -O2 host build, and the same built with -m32. The -m32 build
# stands for the kernel stage's i386 code, which is not position independent
# (KERNEL_CFLAGS: -fno-pic -fno-pie), so it is built without PIE too (only
# this benchmark uses build/bench32).
$(BUILD)/bench32/%.o: BENCH_CFLAGS += -fno-pie
$(BUILD)/bench/bench_pmm: $(BUILD)/bench/tests/bench/bench_pmm.o $(LIBMM_BENCH) $(BENCH_ENV_OBJS)
	$(CLANG) -o $@ $^
$(BUILD)/bench32/bench_pmm: $(BUILD)/bench32/tests/bench/bench_pmm.o $(LIBMM_BENCH32) $(BENCH32_ENV_OBJS)
	$(CLANG) -m32 -no-pie -o $@ $^
BENCH_PROGS += $(BUILD)/bench/bench_pmm $(BUILD)/bench32/bench_pmm
