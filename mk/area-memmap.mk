# Memory-map inspector (issue 6): the mmboot-memmap host tool, its parsers,
# tests and fuzzer.
#
#   MAPFILE_HOST_OBJS  the map-file parsers alone (tools/memmap/mapfile.h),
#                      for other host programs that read map files
#                      (e.g. the PMM's real-map replay test)
#   MEMMAP_TOOL        build/host/mmboot-memmap

MAPFILE_SRCS := $(filter-out tools/memmap/main.c tools/memmap/cmd_%.c tools/memmap/report.c \
                  tools/memmap/analyze.c,$(wildcard tools/memmap/*.c))
MAPFILE_HOST_OBJS := $(MAPFILE_SRCS:%.c=$(BUILD)/host/%.o)
MAPFILE_FUZZ_OBJS := $(MAPFILE_SRCS:%.c=$(BUILD)/fuzz/%.o)
MEMMAP_TOOL_SRCS := $(wildcard tools/memmap/*.c)
MEMMAP_TOOL_OBJS := $(MEMMAP_TOOL_SRCS:%.c=$(BUILD)/host/%.o)
MEMMAP_TOOL := $(BUILD)/host/mmboot-memmap

$(MEMMAP_TOOL): $(MEMMAP_TOOL_OBJS) $(LIBMM_HOST) $(HOST_ENV_OBJS)
	$(CLANG) $(HOST_LDFLAGS) -o $@ $(MEMMAP_TOOL_OBJS) $(HOST_ENV_OBJS) $(LIBMM_HOST) -lm

ALL_TARGETS += $(MEMMAP_TOOL)

# --- tests -------------------------------------------------------------------
# unit tests of the parsers, the formatter and the dump format (cmocka)
$(BUILD)/host/tests/unit/test_mapfile: $(BUILD)/host/tests/unit/test_mapfile.o $(MAPFILE_HOST_OBJS) $(LIBMM_HOST) $(HOST_ENV_OBJS)
	$(CLANG) $(HOST_LDFLAGS) -o $@ $^ -lcmocka
HOST_TESTS += $(BUILD)/host/tests/unit/test_mapfile

# the tool on the corpus: show, diff, replay --json, svg, bad input (TAP)
TEST_SCRIPTS += tests/memmap/tool.sh

# libFuzzer over every parser; tests/memmap/fuzz-smoke.sh runs it ~10 s
$(BUILD)/fuzz/tests/fuzz/fuzz_mapfile: $(BUILD)/fuzz/tests/fuzz/fuzz_mapfile.o $(MAPFILE_FUZZ_OBJS) $(LIBMM_FUZZ) $(FUZZ_ENV_OBJS)
	$(CLANG) $(FUZZ_LDFLAGS) -o $@ $^
FUZZ_PROGS += $(BUILD)/fuzz/tests/fuzz/fuzz_mapfile
TEST_SCRIPTS += tests/memmap/fuzz-smoke.sh

# QEMU: the loader saves its dump next to an earlier one; the host tool
# decodes it to the table the loader printed; an unsavable medium is reported
BOOT_TESTS += tests/memmap/boot-roundtrip.sh
# QEMU: a read-only, a full (before the dump; before the text table) and a
# missing file system (PXE boot) are reported, leave no partial file, and the
# kernel stage still passes
BOOT_TESTS += tests/memmap/boot-media.sh
# QEMU: options stop (config.txt and load options), timeout=2, Enter
BOOT_TESTS += tests/memmap/boot-options.sh

# the loader's SMBIOS reader (portable) on hand-built tables
$(BUILD)/host/tests/unit/test_mapfile_smbios: $(BUILD)/host/tests/unit/test_mapfile_smbios.o $(BUILD)/host/efi/inspect_smbios.o $(LIBMM_HOST) $(HOST_ENV_OBJS)
	$(CLANG) $(HOST_LDFLAGS) -o $@ $^ -lcmocka
HOST_TESTS += $(BUILD)/host/tests/unit/test_mapfile_smbios
