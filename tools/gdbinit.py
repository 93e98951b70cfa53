# gdbinit.py: gdb commands for debugging mmboot under QEMU (sourced by tools/gdbinit).
#
# Theory
# ------
# Three pieces of code run in one boot, each with its own symbols:
#
#   loader     build/efi/bootx64.so, the ELF that objcopy turns into
#              BOOTX64.EFI. gnu-efi links it at 0, PE sections keep their
#              offsets, so its symbols are at (image base + link address).
#              OVMF picks the image base at load time; the loader prints it
#              ("loader image: 0x..., N KiB") on serial. With the same
#              machine, memory, firmware and EFI file, OVMF loads it at the
#              same address every boot, so `make debug` makes a probe boot
#              first and stores the base in build/debug/loader-base; the live
#              serial log (build/debug/serial.log) wins once it has the line.
#   trampoline the mode switch (arch/x86/modeswitch.S) runs from a copy at
#              the start of a page the loader allocated (boot_layout.tramp_pa);
#              its symbols come from build/efi/arch/x86/modeswitch.o placed
#              at that page.
#   kernel     build/kernel/kernel.elf, ELF32 linked at its higher-half
#              address: symbols load as they are.
#
# Code that is not mapped yet (everything at reset) can only be stopped with
# hardware breakpoints (hbreak): a software breakpoint is written into memory
# that the firmware later overwrites, or that is not mapped at all.
#
# Commands:
#   mmboot-symbols            load kernel + loader symbols (loader if the base is known)
#   mmboot-loader [BASE]      load the loader symbols at BASE (default: from the logs)
#   mmboot-break-kernel       hbreak on the kernel entry (ELF e_entry of kernel.elf)
#   mmboot-modeswitch         run to the mode switch: stop at handoff_exit_and_jump,
#                             read tramp_pa, load the trampoline symbols there and
#                             stop on its first instruction; then `si` through it
#   mmboot-x32 [ADDR [N]]     disassemble as 32-bit code (gdb's x/i decodes as x86-64:
#                             QEMU's x86_64 stub always reports a 64-bit CPU, and
#                             gdb refuses `set architecture i386` for it)
#
# Limitation: in the 32-bit kernel gdb still uses the x86-64 ABI for frames,
# so argument values and backtraces past the first frame are wrong; registers,
# memory, breakpoints, stepping and source lines are right.
import os
import re
import struct
import subprocess
import tempfile

import gdb

ROOT = os.environ.get("MMBOOT_ROOT", os.getcwd())
BUILD = os.path.join(ROOT, os.environ.get("MMBOOT_BUILD", "build"))
LOADER_ELF = os.path.join(BUILD, "efi", "bootx64.so")
KERNEL_ELF = os.path.join(BUILD, "kernel", "kernel.elf")
TRAMP_OBJ = os.path.join(BUILD, "efi", "arch", "x86", "modeswitch.o")
SERIAL_LOG = os.environ.get("MMBOOT_SERIAL_LOG", os.path.join(BUILD, "debug", "serial.log"))
BASE_FILE = os.environ.get("MMBOOT_LOADER_BASE_FILE", os.path.join(BUILD, "debug", "loader-base"))
BASE_RE = re.compile(rb"loader image: (0x[0-9a-fA-F]+)")


def _say(msg):
    gdb.write("mmboot: %s\n" % msg)


def loader_base_from_logs():
    """(base, where) from the live serial log, else the probe boot, else (None, None)."""
    try:
        with open(SERIAL_LOG, "rb") as f:
            hits = BASE_RE.findall(f.read())
        if hits:
            return int(hits[-1], 16), SERIAL_LOG
    except OSError:
        pass
    try:
        with open(BASE_FILE) as f:
            return int(f.read().split()[0], 16), BASE_FILE + " (probe boot)"
    except (OSError, ValueError, IndexError):
        return None, None


def kernel_entry():
    """e_entry of the ELF32 kernel image."""
    with open(KERNEL_ELF, "rb") as f:
        hdr = f.read(28)
    if hdr[:4] != b"\x7fELF" or hdr[4] != 1:
        raise gdb.GdbError("%s is not an ELF32 file" % KERNEL_ELF)
    return struct.unpack_from("<I", hdr, 24)[0]


def load_kernel():
    if not os.path.exists(KERNEL_ELF):
        _say("no %s (make %s)" % (KERNEL_ELF, KERNEL_ELF))
        return
    gdb.execute("add-symbol-file %s" % KERNEL_ELF, to_string=True)
    _say("kernel symbols from %s (entry 0x%08x)" % (KERNEL_ELF, kernel_entry()))


def load_loader(base=None):
    where = "argument"
    if base is None:
        base, where = loader_base_from_logs()
    if base is None:
        _say("loader base unknown (no 'loader image:' line yet); "
             "later: mmboot-loader, or mmboot-loader 0xBASE")
        return None
    if not os.path.exists(LOADER_ELF):
        _say("no %s (make build/BOOTX64.EFI)" % LOADER_ELF)
        return None
    gdb.execute("add-symbol-file %s -o 0x%x" % (LOADER_ELF, base), to_string=True)
    _say("loader symbols from %s at image base 0x%x (from %s)" % (LOADER_ELF, base, where))
    return base


class Symbols(gdb.Command):
    """Load the kernel symbols and, when its image base is known, the loader's."""

    def __init__(self):
        super().__init__("mmboot-symbols", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        load_kernel()
        load_loader()


class Loader(gdb.Command):
    """mmboot-loader [BASE]: load the loader symbols at BASE (default: from the logs)."""

    def __init__(self):
        super().__init__("mmboot-loader", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        load_loader(int(arg, 0) if arg.strip() else None)


class BreakKernel(gdb.Command):
    """Hardware breakpoint on the kernel entry point (e_entry of kernel.elf)."""

    def __init__(self):
        super().__init__("mmboot-break-kernel", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        gdb.execute("hbreak *0x%x" % kernel_entry())


class ModeSwitch(gdb.Command):
    """Run to the first instruction of the mode-switch trampoline.

Stops at handoff_exit_and_jump (the loader symbols must be loaded), reads
the trampoline page from its boot_layout argument, loads the symbols of
modeswitch.o there and runs to it. Then step with `si`; after the far jump
to 32-bit code use mmboot-x32 to see the instructions."""

    def __init__(self):
        super().__init__("mmboot-modeswitch", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        bp = gdb.Breakpoint("handoff_exit_and_jump", type=gdb.BP_HARDWARE_BREAKPOINT,
                            internal=True, temporary=True)
        gdb.execute("continue")
        if bp.is_valid():
            bp.delete()
            raise gdb.GdbError("stopped before handoff_exit_and_jump")
        tramp = int(gdb.parse_and_eval("((struct boot_layout *)$rdi)->tramp_pa"))
        gdb.execute("add-symbol-file %s 0x%x" % (TRAMP_OBJ, tramp), to_string=True)
        _say("trampoline page at 0x%x; modeswitch.o symbols loaded there" % tramp)
        gdb.execute("thbreak *0x%x" % tramp)
        gdb.execute("continue")


class X32(gdb.Command):
    """mmboot-x32 [ADDR [N]]: disassemble N (10) instructions at ADDR ($pc) as 32-bit code.

QEMU's x86_64 gdb stub always describes the CPU as x86-64, and gdb refuses
`set architecture i386` for it, so gdb's own x/i decodes 32-bit code with
64-bit rules (0x40-0x4f become REX prefixes). This reads the bytes and
decodes them with objdump -m i386 instead."""

    def __init__(self):
        super().__init__("mmboot-x32", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        argv = gdb.string_to_argv(arg)
        addr = int(gdb.parse_and_eval(argv[0] if argv else "$pc")) & 0xFFFFFFFF
        count = int(argv[1], 0) if len(argv) > 1 else 10
        data = bytes(gdb.selected_inferior().read_memory(addr, count * 15))
        with tempfile.NamedTemporaryFile(suffix=".bin") as f:
            f.write(data)
            f.flush()
            out = subprocess.run(["objdump", "-D", "-b", "binary", "-m", "i386",
                                  "--adjust-vma=0x%x" % addr, f.name],
                                 capture_output=True, text=True, check=False).stdout
        lines = [l for l in out.splitlines() if re.match(r"^\s*[0-9a-f]+:\t", l)]
        for line in lines[:count]:
            gdb.write(line + "\n")


for _c in (Symbols, Loader, BreakKernel, ModeSwitch, X32):
    _c()
