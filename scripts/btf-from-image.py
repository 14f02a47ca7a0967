#!/usr/bin/python3
"""btf-from-image.py IMAGE OUT: cut the kernel's own BTF (.BTF, what the
running kernel exposes as /sys/kernel/btf/vmlinux) out of an uncompressed
kernel image, without booting it and without System.map.

Debian's arm64 vmlinuz is an uncompressed Image (EFI PE header, "MZ"); its
System.map is a stub, so __start_BTF cannot be looked up. The image is
scanned for BTF headers (magic 0xeB9F, version 1, flags 0, hdr_len 24) and
the largest self-consistent candidate is kept: the vmlinux BTF is by far the
largest blob. Checked against the guests' /sys/kernel/btf/vmlinux on Debian
6.1 and 6.12 arm64: byte-identical (README.md, arm64). gzip/xz-compressed
images (x86 bzImage) are not handled: use a vmlinux ELF there.
"""
import struct
import sys


def cut(data: bytes):
    pat = b"\x9f\xeb\x01\x00\x18\x00\x00\x00"   # magic, version 1, flags 0, hdr_len 24 (LE)
    best = None
    i = data.find(pat)
    while i >= 0:
        hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from("<IIIII", data, i + 4)
        total = hdr_len + max(type_off + type_len, str_off + str_len)
        # types first, strings after, inside the image
        if (type_off == 0 and str_off >= type_len and str_len > 0 and i + total <= len(data)
                and data[i + hdr_len + str_off] == 0 and (best is None or total > best[1])):
            best = (i, total)
        i = data.find(pat, i + 1)
    return best


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    data = open(argv[1], "rb").read()
    best = cut(data)
    if not best:
        print(f"btf-from-image: no BTF found in {argv[1]} (compressed image? CONFIG_DEBUG_INFO_BTF unset?)",
              file=sys.stderr)
        return 1
    off, size = best
    with open(argv[2], "wb") as f:
        f.write(data[off:off + size])
    print(f"btf-from-image: {size} bytes of BTF at offset {off:#x} of {argv[1]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
