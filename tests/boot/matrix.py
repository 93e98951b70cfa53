#!/usr/bin/env python3
"""matrix.py: the QEMU boot matrix of mmboot (issue 2), printed as TAP.

Theory
------
Boots build/BOOTX64.EFI (tools/run-qemu.sh) in a set of configurations that
together cover every value the issue asks for, without the full cross
product:

    memory   64M 256M 1G 3G 6G   (q35 puts RAM above 2 GiB past 4 GiB once
                                  -m >= 2816M; pc past 3 GiB once -m >= 3584M)
    machine  q35 pc
    firmware code (OVMF_CODE.fd, 2 MiB)  code4m (OVMF_CODE_4M.fd)
    cpus     -smp 1, -smp 2

MATRIX_JOBS (default 2) boots run at a time, the slowest first. Each boot
is checked for:

  exit    run-qemu.sh exit status 0 (the kernel wrote 0x10 to isa-debug-exit),
          or 1 (0x11) when some kernel test failed (those fail on their own
          lines); 0 with a failed kernel test is an error too
  loader  banner, firmware line, the memory-map report (efi/inspect.c: its
          "entries: N" line followed by exactly N table rows numbered 0..N-1,
          each with end > start and pages == (end - start) / 4 KiB; the MMIO row ending
          at 4 GiB, the firmware flash, is 2 MiB for FW=code and 4 MiB for
          FW=code4m, so the right OVMF build ran), the "usable below/above
          4 GiB" lines: usable RAM <= -m and >= 80% of -m minus 8 MiB, and RAM above
          4 GiB present exactly when QEMU's layout puts some there (within
          16 MiB of the expected amount)
  kernel  the kernel-stage banner, paging on (PG 1, PAE 0), its memory line
          agreeing with the loader's, and a KTAP block: "KTAP version 1", a
          plan "1..N", then exactly N results numbered 1..N in order

TAP output (what tests/run-tests.sh counts), per configuration:

    ok 1 - q35-256M-code: boot (exit status, loader report, map table, kernel report, KTAP plan)
    ok 2 - q35-256M-code: boot_info_valid
    ...                      one line per kernel KTAP result
    not ok 9 - q35-256M-code: region_lazy_commit_64m

A kernel test that fails carries its "# name: ..." diagnostics below its
line; a boot check that fails, its reasons. Any failure in a configuration
prints run-qemu.sh's messages and the whole serial log ("# | " lines).
Every echoed line starts with "# ". Artifacts: build/test-artifacts/boot/
<config>/serial.log, run.txt (run-qemu.sh's messages), dumps/ (what the
loader saved in the image's mmboot/ folder).

Environment: MATRIX_JOBS, MATRIX_ONLY=cfg,cfg (subset), MATRIX_TIMEOUT
(seconds per boot, default 150), EFI (default build/BOOTX64.EFI).
"""
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ART = os.path.join(ROOT, "build", "test-artifacts", "boot")
MIB = 1024 * 1024

# (name, machine, memory MiB, firmware, cpus); slowest (most RAM) first.
CONFIGS = [
    ("q35-6G-code", "q35", 6144, "code", 1),
    ("pc-6G-code4m-smp2", "pc", 6144, "code4m", 2),
    ("q35-3G-code4m", "q35", 3072, "code4m", 1),
    ("pc-3G-code", "pc", 3072, "code", 1),
    ("pc-3100M-code", "pc", 3100, "code", 1),   # RAM to 0xC1C00000: a trampoline at va == pa would hit the kernel
    ("pc-1G-code", "pc", 1024, "code", 1),
    ("q35-1G-code-smp2", "q35", 1024, "code", 2),
    ("q35-256M-code", "q35", 256, "code", 1),
    ("pc-256M-code4m-smp2", "pc", 256, "code4m", 2),
    ("q35-64M-code4m", "q35", 64, "code4m", 1),
]

ANSI = re.compile(r"\x1b\[[0-9;=?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\r")
# The loader's one memory-map report (efi/inspect.c, mm/memmap_report.c).
RE_MAP_HEAD = re.compile(r"^entries: (\d+)$")
RE_MAP_ROW = re.compile(r"^\s*(\d+)\s+(\S+)\s+0x([0-9a-fA-F]{16})\s+0x([0-9a-fA-F]{16})\s+(\d+)\s+[0-9.]+ (?:B|[KMGTPE]iB)\b")
RE_USABLE = re.compile(r"^usable (below|above) 4 GiB: .*\((\d+) pages;")
RE_KMEM = re.compile(r"^memory: .*usable RAM (\d+) KiB below 4 GiB, (\d+) KiB above 4 GiB")
RE_PAGING = re.compile(r"^paging: cr0 .*\(PG (\d) WP (\d) PSE (\d) PAE (\d)\)")
RE_PLAN = re.compile(r"^1\.\.(\d+)\s*$")
RE_RESULT = re.compile(r"^(ok|not ok) (\d+)(?: -)? (\S+)(.*)$")


def above_4g_mib(machine, mem_mib):
    """RAM QEMU places above 4 GiB for -m mem_mib (hw/i386/pc_q35.c, pc_piix.c)."""
    if machine == "q35":
        return mem_mib - 2048 if mem_mib >= 2816 else 0
    return mem_mib - 3072 if mem_mib >= 3584 else 0


def boot(cfg, efi, timeout):
    name, machine, mem, fw, smp = cfg
    out = os.path.join(ART, name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    log = os.path.join(out, "serial.log")
    env = dict(os.environ, EFI=efi, MACHINE=machine, MEM="%dM" % mem, FW=fw, SMP=str(smp),
               SERIAL_LOG=log, SERIAL_STDIO="0", TIMEOUT=str(timeout),
               DUMPS=os.path.join(out, "dumps"))
    for k in ("IMG", "EXTRA", "DEBUG", "KEEP", "ACCEL"):
        env.pop(k, None)
    t0 = time.monotonic()
    p = subprocess.run([os.path.join(ROOT, "tools", "run-qemu.sh")], cwd=ROOT, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       errors="replace", check=False)
    secs = time.monotonic() - t0
    with open(os.path.join(out, "run.txt"), "w") as f:
        f.write(p.stdout)
    try:
        with open(log, "rb") as f:
            serial = f.read().decode("utf-8", "replace")
    except OSError:
        serial = ""
    return p.returncode, p.stdout, ANSI.sub("", serial).split("\n"), secs


FLASH_BYTES = {"code": 2 * MIB, "code4m": 4 * MIB}   # OVMF_CODE + OVMF_VARS


def check_map(cfg, lines, problems):
    """The memory-map table: header, N rows numbered 0..N-1, consistent rows;
    the firmware flash (the MMIO range that ends at 4 GiB) has the size of
    the OVMF build asked for, which shows the right firmware ran."""
    head = next((i for i, l in enumerate(lines) if RE_MAP_HEAD.match(l)), None)
    if head is None:
        problems.append("loader: no 'entries: N' line in the memory-map report")
        return
    n = int(RE_MAP_HEAD.match(lines[head]).group(1))
    rows = [RE_MAP_ROW.match(l) for l in lines[head + 1:head + 3 + n]]
    rows = [r for r in rows if r]
    if len(rows) != n:
        problems.append("loader: map table has %d rows, header says %d" % (len(rows), n))
    for i, r in enumerate(rows):
        idx, start, end, pages = int(r.group(1)), int(r.group(3), 16), int(r.group(4), 16), int(r.group(5))
        if idx != i or end <= start or (end - start) != pages * 4096:
            problems.append("loader: bad map row %d: %s" % (i, r.group(0).strip()))
            break
    flash = [int(r.group(4), 16) - int(r.group(3), 16) for r in rows
             if r.group(2) == "MMIO" and int(r.group(4), 16) == 1 << 32]
    if flash != [FLASH_BYTES[cfg[3]]]:
        problems.append("loader: firmware flash below 4 GiB is %s bytes, FW=%s has %d"
                        % (flash, cfg[3], FLASH_BYTES[cfg[3]]))


def check_memory(cfg, lines, problems):
    name, machine, mem, fw, smp = cfg
    usable = {}
    for l in lines:
        u = RE_USABLE.match(l)
        if u and u.group(1) not in usable:
            usable[u.group(1)] = int(u.group(2)) * 4   # KiB
    kmem = [RE_KMEM.match(l) for l in lines]
    kmem = [k for k in kmem if k]
    if len(usable) != 2:
        problems.append("loader: no 'usable below/above 4 GiB: ... (N pages; ...)' lines")
        return
    below, above = usable["below"], usable["above"]
    total_mib = (below + above) / 1024
    if total_mib > mem or total_mib < 0.8 * mem - 8:
        problems.append("loader: %.1f MiB usable with -m %dM (expected between 80%% - 8 MiB and 100%%)"
                        % (total_mib, mem))
    want = above_4g_mib(machine, mem)
    if not (want - 16 <= above / 1024 <= want):
        problems.append("loader: %.1f MiB usable above 4 GiB, QEMU's layout has %d MiB there"
                        % (above / 1024, want))
    if not kmem:
        problems.append("kernel: no 'memory: ... usable RAM' line")
    elif (int(kmem[0].group(1)), int(kmem[0].group(2))) != (below, above):
        problems.append("kernel: usable RAM %s/%s KiB below/above 4 GiB, the loader said %d/%d"
                        % (kmem[0].group(1), kmem[0].group(2), below, above))


def parse_ktap(lines, problems):
    """[(ok, num, name, [diagnostics])] from the kernel's KTAP block."""
    try:
        start = lines.index("KTAP version 1")
    except ValueError:
        problems.append("kernel: no 'KTAP version 1' line")
        return []
    plan = None
    results, diag = [], []
    for l in lines[start + 1:]:
        if plan is None:
            m = RE_PLAN.match(l)
            if m:
                plan = int(m.group(1))
            elif l.strip() and not l.startswith("#"):
                problems.append("kernel: KTAP header not followed by a plan: %r" % l)
                return []
            continue
        m = RE_RESULT.match(l)
        if m:
            results.append((m.group(1) == "ok", int(m.group(2)), m.group(3), diag))
            diag = []
        elif l.startswith("#"):
            diag.append(l)
    if plan is None:
        problems.append("kernel: KTAP block without a plan")
        return results
    nums = [r[1] for r in results]
    if nums != list(range(1, plan + 1)):
        problems.append("kernel: KTAP plan 1..%d but results numbered %s" % (plan, nums[:40]))
    return results


def check(cfg, rc, lines):
    """(problems, ktap results, summary) of one boot."""
    problems = []
    if rc == 1:
        problems.append("exit: the kernel reported failure (status 0x11)")
    elif rc != 0:
        problems.append("exit: run-qemu.sh exit status %d (no pass/fail status from the kernel)" % rc)
    text = "\n".join(lines)
    for what, pat in (("loader banner", r"^mmboot loader"),
                      ("loader firmware line", r"^firmware: .*UEFI \d"),
                      ("kernel banner", r"^mmboot kernel stage"),
                      ("kernel status line", r"^mmboot: (PASS|FAIL) \(status")):
        if not re.search(pat, text, re.M):
            problems.append("missing %s (/%s/)" % (what, pat))
    check_map(cfg, lines, problems)
    check_memory(cfg, lines, problems)
    pg = next((RE_PAGING.match(l) for l in lines if RE_PAGING.match(l)), None)
    if not pg:
        problems.append("kernel: no 'paging: cr0 ...' line")
    elif (pg.group(1), pg.group(4)) != ("1", "0"):
        problems.append("kernel: paging state %s (want PG 1, PAE 0)" % pg.group(0))
    results = parse_ktap(lines, problems)
    failed_tests = [r for r in results if not r[0]]
    if rc == 1 and failed_tests:
        # The fail status is the failed kernel tests' doing: they have their
        # own "not ok" lines; the boot itself counts as fine.
        problems = [p for p in problems if not p.startswith("exit: the kernel reported failure")]
    if rc == 0 and failed_tests:
        problems.append("exit: pass status although %d kernel tests failed" % len(failed_tests))
    return problems, results


def report(n, cfg, boot_result):
    """Print one configuration's TAP lines numbered from n + 1; (n, failures)."""
    rc, runmsg, lines, secs = boot_result
    problems, results = check(cfg, rc, lines)
    name, failed = cfg[0], 0
    n += 1
    failed += bool(problems)
    print("%s %d - %s: boot (exit status, loader report, map table, kernel report, KTAP plan)"
          % ("not ok" if problems else "ok", n, name))
    print("# %s: %.1f s, %d kernel tests" % (name, secs, len(results)))
    for p in problems:
        print("#   reason: %s" % p)
    for good, _, tname, diag in results:
        n += 1
        failed += not good
        print("%s %d - %s: %s" % ("ok" if good else "not ok", n, name, tname))
        for d in ([] if good else diag):
            print("#   %s" % d.lstrip("# "))
    if failed:
        for l in runmsg.splitlines():
            print("#   %s" % l)
        print("# ---- serial log of %s (build/test-artifacts/boot/%s/serial.log)" % (name, name))
        for l in lines:
            print("# | %s" % l)
    sys.stdout.flush()
    return n, failed


def main():
    efi = os.environ.get("EFI", os.path.join(ROOT, "build", "BOOTX64.EFI"))
    jobs = int(os.environ.get("MATRIX_JOBS", "2"))
    timeout = int(os.environ.get("MATRIX_TIMEOUT", "150"))
    only = [s for s in os.environ.get("MATRIX_ONLY", "").split(",") if s]
    configs = [c for c in CONFIGS if not only or c[0] in only]
    if not os.path.exists(efi):
        print("not ok 1 - boot matrix: %s does not exist (make build/BOOTX64.EFI)" % efi)
        return 1
    os.makedirs(ART, exist_ok=True)
    # Boot a snapshot: a rebuild during the run must not mix two loaders.
    snap = os.path.join(ART, "BOOTX64.EFI")
    shutil.copyfile(efi, snap)
    print("# boot matrix: %d configurations, %d at a time, %s" % (len(configs), jobs, efi))
    t0 = time.monotonic()
    n, failed = 0, 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futs = [(c, pool.submit(boot, c, snap, timeout)) for c in configs]
        for cfg, fut in futs:
            n, f = report(n, cfg, fut.result())
            failed += f
    print("1..%d" % n)
    print("# boot matrix: %d configurations in %.1f s wall time, %d of %d checks failed"
          % (len(configs), time.monotonic() - t0, failed, n))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
