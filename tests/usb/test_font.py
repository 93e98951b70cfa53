#!/usr/bin/env python3
"""test_font.py: the framebuffer console's font table (build/gen/fbcon_font.c,
made by tools/font/psf2c.py) against the console font it came from, decoded
here independently of psf2c.py (no code shared with it).

The screenshot test renders both sides with build/gen/fbcon_font.c, so a
conversion bug (wrong glyph picked, rows shifted, bits reversed, wrong
Unicode-table walk) would pass there; this check catches it:
  1. decode the font file: gzip, then the PSF1 header (magic 36 04, mode,
     charsize) or the PSF2 header (magic 72 b5 4a 86, header size, flags,
     length, charsize, height, width), the glyph bitmaps, and the Unicode
     table (PSF1: 16-bit little-endian code points, FFFE starts a sequence,
     FFFF ends a glyph's list; PSF2: UTF-8, FE starts a sequence, FF ends a
     list); a code point maps to the first glyph that lists it on its own
     (not inside a sequence); no table: glyph index = code point;
  2. read the generated C file: the struct's width, height, stride, first,
     count, and every 0x.. byte of the bits array, in order;
  3. compare: geometry equal to the file's, first = 0x20, count = 95, and for
     every printable ASCII character U+0020..U+007E its glyph bit for bit
     (one TAP line per character that differs, one line overall); the
     replacement glyph after them must be the font's U+FFFD if it has one,
     else its '?';
  4. negative controls: the comparison must see one flipped bit, and glyphs
     shifted by one row. Also printed (not asserted): how many glyphs would
     differ if the Unicode table were ignored (glyph index = code point).
Prints TAP. Usage: tests/usb/test_font.py [FONT [GENERATED.c]]
"""
import gzip
import os
import re
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
FONT = "/usr/share/consolefonts/Uni2-Terminus16.psf.gz"
GEN = os.path.join(ROOT, "build", "gen", "fbcon_font.c")

n_tests = 0
n_failed = 0


def tap(ok, name):
    global n_tests, n_failed
    n_tests += 1
    if not ok:
        n_failed += 1
    print("%s %d - %s" % ("ok" if ok else "not ok", n_tests, name))


def u16(b, o):
    return b[o] | b[o + 1] << 8


def u32(b, o):
    return b[o] | b[o + 1] << 8 | b[o + 2] << 16 | b[o + 3] << 24


def decode_font(raw):
    """-> dict(width, height, stride, glyphs=[bytes], cmap={codepoint: index})"""
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if raw[:2] == b"\x36\x04":
        mode, size = raw[2], raw[3]
        n = 512 if mode & 0x01 else 256
        off, width, height, stride = 4, 8, size, 1
        has_table = bool(mode & 0x06)
        utf8 = False
    elif raw[:4] == b"\x72\xb5\x4a\x86":
        hsize, flags, n, size = u32(raw, 8), u32(raw, 12), u32(raw, 16), u32(raw, 20)
        height, width = u32(raw, 24), u32(raw, 28)
        stride = (width + 7) // 8
        if size != stride * height:
            raise ValueError("PSF2 charsize %d != %d x %d" % (size, stride, height))
        off, has_table, utf8 = hsize, bool(flags & 1), True
    else:
        raise ValueError("not a PSF1/PSF2 font")
    glyphs = [raw[off + i * size: off + (i + 1) * size] for i in range(n)]
    if any(len(g) != size for g in glyphs):
        raise ValueError("font truncated in the glyphs")
    cmap = {}
    if has_table:
        pos = off + n * size
        for idx in range(n):
            in_seq = False
            while True:
                if pos >= len(raw):
                    raise ValueError("Unicode table truncated at glyph %d" % idx)
                if utf8:
                    b = raw[pos]
                    if b == 0xFF:
                        pos += 1
                        break
                    if b == 0xFE:
                        in_seq = True
                        pos += 1
                        continue
                    ln = 1 if b < 0x80 else 2 if b < 0xE0 else 3 if b < 0xF0 else 4
                    cp = ord(raw[pos:pos + ln].decode("utf-8"))
                    pos += ln
                else:
                    cp = u16(raw, pos)
                    pos += 2
                    if cp == 0xFFFF:
                        break
                    if cp == 0xFFFE:
                        in_seq = True
                        continue
                if not in_seq:
                    cmap.setdefault(cp, idx)
    else:
        cmap = {i: i for i in range(n)}
    return dict(width=width, height=height, stride=stride, glyphs=glyphs, cmap=cmap)


def read_generated(path):
    text = open(path).read()
    text_nc = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    m = re.search(r"_bits\s*\[\s*\d*\s*\]\s*=\s*\{(.*?)\}\s*;", text_nc, re.S)
    if not m:
        raise ValueError("no bits array in %s" % path)
    bits = bytes(int(x, 16) for x in re.findall(r"0x([0-9a-fA-F]{1,2})\b", m.group(1)))
    fields = {}
    for k in ("width", "height", "stride", "first", "count"):
        f = re.search(r"\.%s\s*=\s*(0x[0-9a-fA-F]+|\d+)" % k, text_nc)
        if not f:
            raise ValueError("no .%s in %s" % (k, path))
        fields[k] = int(f.group(1), 0)
    fields["bits"] = bits
    return fields


def compare(font, gen, report):
    """Number of mismatches; report(ok, name) for each character if given."""
    bad = 0
    gsize = gen["height"] * gen["stride"]
    for cp in range(0x20, 0x7F):
        want = font["glyphs"][font["cmap"][cp]] if cp in font["cmap"] else None
        i = cp - gen["first"]
        got = gen["bits"][i * gsize:(i + 1) * gsize] if 0 <= i < gen["count"] else None
        ok = want is not None and got == want
        if not ok:
            bad += 1
            if report:
                rows = lambda g: " ".join("%02x" % x for x in g) if g else "none"
                report(False, "glyph U+%04X %r: font %s / generated %s" % (cp, chr(cp), rows(want), rows(got)))
    return bad


def main(argv):
    font_path = argv[1] if len(argv) > 1 else FONT
    gen_path = argv[2] if len(argv) > 2 else GEN
    if len(argv) <= 2:
        r = subprocess.run(["make", "-s", "--no-print-directory", "-C", ROOT, "build/gen/fbcon_font.c"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            for line in r.stdout.splitlines():
                print("# make: " + line)
            tap(False, "make build/gen/fbcon_font.c")
            print("1..%d" % n_tests)
            return 1
    try:
        font = decode_font(open(font_path, "rb").read())
        tap(True, "decode %s: %dx%d, %d glyphs, %d code points in the Unicode table"
            % (os.path.basename(font_path), font["width"], font["height"], len(font["glyphs"]),
               len(font["cmap"])))
    except (OSError, ValueError) as e:
        tap(False, "decode %s: %s" % (font_path, e))
        print("1..%d" % n_tests)
        return 1
    try:
        gen = read_generated(gen_path)
    except (OSError, ValueError) as e:
        tap(False, "read %s: %s" % (gen_path, e))
        print("1..%d" % n_tests)
        return 1
    geom = (gen["width"], gen["height"], gen["stride"], gen["first"], gen["count"])
    tap(geom == (font["width"], font["height"], font["stride"], 0x20, 95) and
        len(gen["bits"]) == 96 * gen["height"] * gen["stride"],
        "generated geometry %dx%d stride %d, first 0x%x, count %d, %d bytes" % (geom + (len(gen["bits"]),)))
    missing = [cp for cp in range(0x20, 0x7F) if cp not in font["cmap"]]
    tap(not missing, "the font maps every printable ASCII code point (missing: %s)" %
        (" ".join("U+%04X" % c for c in missing) or "none"))
    bad = compare(font, gen, tap)
    tap(bad == 0, "all 95 printable ASCII glyphs equal bit for bit (%d differ)" % bad)
    gsize = gen["height"] * gen["stride"]
    rep_cp = 0xFFFD if 0xFFFD in font["cmap"] else ord("?")
    tap(gen["bits"][95 * gsize:96 * gsize] == font["glyphs"][font["cmap"][rep_cp]],
        "replacement glyph is the font's U+%04X" % rep_cp)
    # negative controls: the comparison must see a flipped bit and a wrong mapping
    flipped = dict(gen, bits=bytearray(gen["bits"]))
    flipped["bits"][(ord("e") - 0x20) * gsize + gsize // 2] ^= 0x10
    flipped["bits"] = bytes(flipped["bits"])
    tap(compare(font, flipped, None) == 1, "negative control: one flipped bit in 'e' is detected")
    shifted = dict(gen, bits=gen["bits"][gen["stride"]:] + bytes(gen["stride"]))
    tap(compare(font, shifted, None) > 50, "negative control: glyphs shifted by one row are detected")
    raw_index = dict(font, cmap={i: i for i in range(len(font["glyphs"]))})
    diff = compare(raw_index, gen, None)
    print("# glyph index = code point (Unicode table ignored) would differ in %d of 95 glyphs" % diff)
    print("1..%d" % n_tests)
    return 1 if n_failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
