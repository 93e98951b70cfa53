# Generic compile rules: a source file compiles for a target according to the
# build directory its object lands in. mm/ sources are listed once
# (mm/sources.mk) and archived per target.

DEPFLAGS = -MMD -MP

$(BUILD)/efi/%.o: %.c
	@mkdir -p $(@D)
	$(CLANG) $(EFI_CFLAGS) $(DEPFLAGS) -c $< -o $@
$(BUILD)/efi/%.o: %.S
	@mkdir -p $(@D)
	$(CLANG) $(EFI_ASFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/kernel/%.o: %.c
	@mkdir -p $(@D)
	$(CLANG) $(KERNEL_CFLAGS) $(DEPFLAGS) -c $< -o $@
$(BUILD)/kernel/%.o: %.S
	@mkdir -p $(@D)
	$(CLANG) $(KERNEL_ASFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/host/%.o: %.c
	@mkdir -p $(@D)
	$(CLANG) $(HOST_CFLAGS) $(DEPFLAGS) -c $< -o $@
$(BUILD)/bench/%.o: %.c
	@mkdir -p $(@D)
	$(CLANG) $(BENCH_CFLAGS) $(DEPFLAGS) -c $< -o $@
$(BUILD)/bench32/%.o: %.c
	@mkdir -p $(@D)
	$(CLANG) -m32 $(BENCH_CFLAGS) $(DEPFLAGS) -c $< -o $@
$(BUILD)/fuzz/%.o: %.c
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) $(DEPFLAGS) -c $< -o $@

MM_EFI_OBJS     := $(MM_SRCS:%.c=$(BUILD)/efi/%.o)
MM_KERNEL_OBJS  := $(MM_SRCS:%.c=$(BUILD)/kernel/%.o)
MM_HOST_OBJS    := $(MM_SRCS:%.c=$(BUILD)/host/%.o)
MM_BENCH_OBJS   := $(MM_SRCS:%.c=$(BUILD)/bench/%.o)
MM_BENCH32_OBJS := $(MM_SRCS:%.c=$(BUILD)/bench32/%.o)
MM_FUZZ_OBJS    := $(MM_SRCS:%.c=$(BUILD)/fuzz/%.o)

LIBMM_EFI     := $(BUILD)/efi/libmm.a
LIBMM_KERNEL  := $(BUILD)/kernel/libmm.a
LIBMM_HOST    := $(BUILD)/host/libmm.a
LIBMM_BENCH   := $(BUILD)/bench/libmm.a
LIBMM_BENCH32 := $(BUILD)/bench32/libmm.a
LIBMM_FUZZ    := $(BUILD)/fuzz/libmm.a

$(LIBMM_EFI): $(MM_EFI_OBJS)
$(LIBMM_KERNEL): $(MM_KERNEL_OBJS)
$(LIBMM_HOST): $(MM_HOST_OBJS)
$(LIBMM_BENCH): $(MM_BENCH_OBJS)
$(LIBMM_BENCH32): $(MM_BENCH32_OBJS)
$(LIBMM_FUZZ): $(MM_FUZZ_OBJS)
$(BUILD)/%/libmm.a:
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

# The host environment (printf/panic/locks for mm/ on the host), shared by
# every host program that links libmm.
HOST_ENV_SRCS := tests/host/mm_env.c
HOST_ENV_OBJS  := $(HOST_ENV_SRCS:%.c=$(BUILD)/host/%.o)
BENCH_ENV_OBJS := $(HOST_ENV_SRCS:%.c=$(BUILD)/bench/%.o)
BENCH32_ENV_OBJS := $(HOST_ENV_SRCS:%.c=$(BUILD)/bench32/%.o)
FUZZ_ENV_OBJS  := $(HOST_ENV_SRCS:%.c=$(BUILD)/fuzz/%.o)

# mm/ must build for all three targets whatever else is built.
.PHONY: mm-all
mm-all: $(LIBMM_EFI) $(LIBMM_KERNEL) $(LIBMM_HOST)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
