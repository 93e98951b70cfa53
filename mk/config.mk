# Toolchains and flags for the three targets mmboot builds for.
#
#   efi     x86_64 UEFI loader (gnu-efi, Clang, linked with GNU ld)
#   kernel  i386 freestanding higher-half kernel stage (Clang, ld.lld)
#   host    the build machine: tests (ASan+UBSan), fuzzers, benchmarks, tools

BUILD := build

CLANG    ?= clang
LD_GNU   ?= ld
LD_LLD   ?= ld.lld
OBJCOPY  ?= objcopy
QEMU     ?= qemu-system-x86_64
PYTHON   ?= python3

WARN := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes \
        -Wshadow -Wpointer-arith -Wvla

# --- efi (x86_64 UEFI application) ----------------------------------------
EFI_INC     := /usr/include/efi
EFI_LIBDIR  := /usr/lib
EFI_CRT0    := $(EFI_LIBDIR)/crt0-efi-x86_64.o
EFI_LDS     := $(EFI_LIBDIR)/elf_x86_64_efi.lds
EFI_CFLAGS  := --target=x86_64-pc-linux-gnu -std=gnu11 -O2 -g $(WARN) \
               -ffreestanding -fpic -fshort-wchar -mno-red-zone -fno-stack-protector \
               -fno-strict-aliasing -mno-sse -mno-mmx -mno-avx \
               -DGNU_EFI_USE_MS_ABI -DMM_ENV_EFI=1 \
               -Iinclude -isystem $(EFI_INC) -isystem $(EFI_INC)/x86_64 -isystem $(EFI_INC)/protocol
EFI_ASFLAGS := --target=x86_64-pc-linux-gnu -fpic -g -Iinclude

# --- kernel (i386, freestanding, higher half) ------------------------------
KERNEL_CFLAGS  := --target=i386-unknown-none-elf -march=i686 -std=gnu11 -O2 -g $(WARN) \
                  -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
                  -fno-strict-aliasing -fno-omit-frame-pointer \
                  -mno-sse -mno-sse2 -mno-mmx -mno-80387 -mno-avx \
                  -DMM_ENV_KERNEL=1 -Iinclude
KERNEL_ASFLAGS := --target=i386-unknown-none-elf -march=i686 -g -Iinclude

# --- host --------------------------------------------------------------------
HOST_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=undefined
HOST_CFLAGS   := -std=gnu11 -O1 -g $(WARN) -fno-omit-frame-pointer $(HOST_SAN) \
                 -DMM_ENV_HOST=1 -Iinclude -Itests/host
HOST_LDFLAGS  := $(HOST_SAN)
# benchmarks: optimised, no sanitizers
BENCH_CFLAGS  := -std=gnu11 -O2 -g $(WARN) -DNDEBUG -DMM_ENV_HOST=1 -DMM_BENCH=1 \
                 -Iinclude -Itests/host
# fuzzers: libFuzzer + ASan + UBSan
FUZZ_CFLAGS   := -std=gnu11 -O1 -g $(WARN) -fno-omit-frame-pointer \
                 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
                 -DMM_ENV_HOST=1 -DMM_FUZZ=1 -Iinclude -Itests/host
FUZZ_LDFLAGS  := -fsanitize=fuzzer,address,undefined
