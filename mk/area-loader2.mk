# Loader-side inspector and screen work (issues 6/7 follow-up): host tests of
# the loader's portable pieces.
#
#   test_gop_pick      graphics-mode choice over simulated GOP mode lists
#                      (efi/sysinfo_gop.c)
#   test_inspect_opts  the option parser (efi/inspect_optparse.c)
#   test_inspect_name  dump file names with serial/UUID, SMBIOS serial, UUID
#                      and OEM strings (efi/inspect_name.c, inspect_smbios.c)
#   test_memdump_odd   dumps with descriptor sizes not a multiple of 8 through
#                      memdump_seal/memdump_check and the map-file parser

L2 := $(BUILD)/host/tests/unit
# the map-file parsers (as MAPFILE_HOST_OBJS in area-memmap.mk, which is
# read after this fragment)
L2_MAPFILE_OBJS := $(patsubst %.c,$(BUILD)/host/%.o,$(filter-out tools/memmap/main.c \
                     tools/memmap/cmd_%.c tools/memmap/report.c tools/memmap/analyze.c, \
                     $(wildcard tools/memmap/*.c)))

$(L2)/test_gop_pick: $(L2)/test_gop_pick.o $(BUILD)/host/efi/sysinfo_gop.o
	$(CLANG) $(HOST_LDFLAGS) -o $@ $^ -lcmocka
$(L2)/test_inspect_opts: $(L2)/test_inspect_opts.o $(BUILD)/host/efi/inspect_optparse.o \
		$(LIBMM_HOST) $(HOST_ENV_OBJS)
	$(CLANG) $(HOST_LDFLAGS) -o $@ $^ -lcmocka
$(L2)/test_inspect_name: $(L2)/test_inspect_name.o $(BUILD)/host/efi/inspect_name.o \
		$(BUILD)/host/efi/inspect_smbios.o $(LIBMM_HOST) $(HOST_ENV_OBJS)
	$(CLANG) $(HOST_LDFLAGS) -o $@ $^ -lcmocka
$(L2)/test_memdump_odd: $(L2)/test_memdump_odd.o $(L2_MAPFILE_OBJS) $(LIBMM_HOST) \
		$(HOST_ENV_OBJS)
	$(CLANG) $(HOST_LDFLAGS) -o $@ $^ -lcmocka

HOST_TESTS += $(L2)/test_gop_pick $(L2)/test_inspect_opts $(L2)/test_inspect_name \
              $(L2)/test_memdump_odd
