# mmboot: a UEFI application that takes over a PC's memory management.
#
#   make run     build, then boot under QEMU+OVMF (MEM=256M SMP=1 MACHINE=q35)
#   make test    host unit tests, fuzz smoke runs, real-map replay, QEMU boot matrix
#   make bench   benchmarks (host, -O2), one table per layer
#   make fuzz    longer libFuzzer runs (FUZZ_TIME=seconds per target)
#   make debug   QEMU halted with a gdb stub; see tools/gdbinit
#
# Both `run` and `test` install missing Debian packages first (tools/deps.sh).
# Build output goes to build/ only.

.DEFAULT_GOAL := all
SHELL := /bin/bash

include mk/config.mk
include mm/sources.mk
include mk/rules.mk

# Each area of the project adds its programs and tests in mk/area-*.mk:
#   ALL_TARGETS   what `make all` builds
#   HOST_TESTS    host test programs; each prints TAP (cmocka: CMOCKA_MESSAGE_OUTPUT=TAP)
#   TEST_SCRIPTS  test scripts run after the host tests; each prints TAP
#   BOOT_TESTS    QEMU boot test scripts, run last; each prints TAP
#   BENCH_PROGS   benchmark programs run by `make bench`
#   FUZZ_PROGS    libFuzzer programs (FUZZ_SMOKE_<name>: args of the smoke run)
ALL_TARGETS  :=
HOST_TESTS   :=
TEST_SCRIPTS :=
BOOT_TESTS   :=
BENCH_PROGS  :=
FUZZ_PROGS   :=
include $(sort $(wildcard mk/area-*.mk))

.PHONY: all deps deps-run deps-test deps-bench test test-host test-boot bench fuzz clean
all: mm-all $(ALL_TARGETS)

deps:
	@tools/deps.sh all
deps-run:
	@tools/deps.sh run
deps-test:
	@tools/deps.sh test
deps-bench:
	@tools/deps.sh bench

# `make test`: one summary line "N passed, N failed" at the end.
test: deps-test
	@$(MAKE) --no-print-directory all $(HOST_TESTS) $(FUZZ_PROGS)
	@tests/run-tests.sh $(HOST_TESTS) $(TEST_SCRIPTS) $(BOOT_TESTS)

test-host: deps-test
	@$(MAKE) --no-print-directory all $(HOST_TESTS) $(FUZZ_PROGS)
	@tests/run-tests.sh $(HOST_TESTS) $(TEST_SCRIPTS)

test-boot: deps-test
	@$(MAKE) --no-print-directory all
	@tests/run-tests.sh $(BOOT_TESTS)

bench: deps-bench
	@$(MAKE) --no-print-directory $(BENCH_PROGS)
	@set -e; for b in $(BENCH_PROGS); do echo; echo "== $$b"; $$b; done

FUZZ_TIME ?= 60
fuzz: deps-test
	@$(MAKE) --no-print-directory $(FUZZ_PROGS)
	@set -e; for f in $(FUZZ_PROGS); do echo "== $$f ($(FUZZ_TIME) s)"; \
	  mkdir -p $(BUILD)/fuzz-corpus/$$(basename $$f); \
	  $$f -max_total_time=$(FUZZ_TIME) -print_final_stats=1 $(BUILD)/fuzz-corpus/$$(basename $$f); done

clean:
	rm -rf $(BUILD)
