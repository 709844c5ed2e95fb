#!/usr/bin/env python3
"""Vendors' firmware wrappers around the weak device's images, written as each vendor's
tool lays them out (OpenWrt's mktplinkfw, mktplinkfw2, mkdlinkfw and mkchkimg, D-Link's
SEAMA and TLV tools, Arcadyan's obfuscation, Dahua's ZIP, a CSman configuration store),
since Debian packages none of those tools.

Usage: build-vendor-images.py WEAK_DIR OUT_DIR   (called by scripts/build-format-images)
"""
import hashlib
import lzma
import os
import struct
import sys
import zipfile
import zlib

weak, out = sys.argv[1], sys.argv[2]
squashfs = open(os.path.join(weak, "weak.xz.squashfs"), "rb").read()
kernel = lzma.compress(b"Linux kernel stand-in\n" * 4096, format=lzma.FORMAT_ALONE)


def write(name, data):
    with open(os.path.join(out, name), "wb") as file:
        file.write(data)


# TP-Link v1: 512 big-endian bytes; the MD5 over the image with a salt in its place.
salt = bytes.fromhex("dcd73aa5c39598fbddf9e7f40eae4738")
kernel_at = 0x200
rootfs_at = kernel_at + ((len(kernel) + 0xFFFF) & ~0xFFFF)
length = rootfs_at + len(squashfs)
header = bytearray(512)
struct.pack_into(">I", header, 0, 0x01000000)
header[4:24] = b"TP-LINK Technologies"
header[28:36] = b"ver. 1.0"
struct.pack_into(">III", header, 64, 0x08410001, 1, 0)
struct.pack_into(">IIIIIIIII", header, 116, 0x80002000, 0x80002000, length,
                 kernel_at, len(kernel), rootfs_at, len(squashfs), 0, 0)
struct.pack_into(">HHH", header, 152, 1, 0, 4)
image = bytearray(length)
image[:512] = header
image[kernel_at:kernel_at + len(kernel)] = kernel
image[rootfs_at:] = squashfs
image[76:92] = salt
image[76:92] = hashlib.md5(image).digest()
write("weak.tplink.bin", image)

# SEAMA: magic, metadata size, data size, the data's MD5; metadata; data.
metadata = b"dev=/dev/mtdblock/2\x00type=firmware\x00signature=wrgg_weak\x00\x00"
write("weak.seama", struct.pack(">IHHI", 0x5EA3A417, 0, len(metadata), len(squashfs))
      + hashlib.md5(squashfs).digest() + metadata + squashfs)


# Netgear CHK: checksums of the kernel, the root filesystem, both, and the header.
def netgear(*pieces):
    c0 = c1 = 0
    for piece in pieces:
        for byte in piece:
            c0 = (c0 + byte) & 0xFFFFFFFF
            c1 = (c1 + c0) & 0xFFFFFFFF
    fold = lambda value: ((((value & 0xFFFF) + (value >> 16)) >> 16) + (value & 0xFFFF) + (value >> 16)) & 0xFFFF
    return fold(c1) << 16 | fold(c0)


board = b"U12H139T00_NETGEAR"
header = bytearray(40 + len(board))
struct.pack_into(">II", header, 0, 0x2A23245E, len(header))
struct.pack_into(">IIIII", header, 16, netgear(kernel), netgear(squashfs), len(kernel), len(squashfs),
                 netgear(kernel, squashfs))
header[40:] = board
struct.pack_into(">I", header, 36, netgear(header))
write("weak.chk", bytes(header) + kernel + squashfs)

# D-Link TLV: model, board, the MD5 (hex) of the type-length pair and the data.
header = bytearray(0x74)
header[0:4] = bytes([0x64, 0x80, 0x19, 0x40])
header[4:4 + 9] = b"DIR-WEAK1"
header[0x24:0x24 + 10] = b"WEAK_BOARD"
struct.pack_into("<II", header, 0x6C, 1, len(squashfs))
header[0x4C:0x6C] = hashlib.md5(bytes(header[0x6C:0x74]) + squashfs).hexdigest().encode()
write("weak.dlink-tlv.bin", bytes(header) + squashfs)

# Arcadyan: the kernel's LZMA header hidden by swapping and scrambling 32-byte blocks.
cpio = lzma.compress(open(os.path.join(weak, "weak.cpio.gz"), "rb").read(), format=lzma.FORMAT_ALONE)
clear = bytearray(b"\x00\x00\x00\x00" + cpio)
block = bytearray(clear[4:36])
for index in range(0, 32, 2):
    block[index], block[index + 1] = block[index + 1], block[index]
block = bytes(((byte & 0x0F) << 4) | (byte >> 4) for byte in block)
obfuscated = bytearray(clear)
obfuscated[4:36] = clear[0x68:0x88]
obfuscated[0x68:0x88] = block
write("weak.arcadyan.bin", obfuscated)

# Dahua: a ZIP whose first local header says "DH".
path = os.path.join(out, "weak.dahua.bin")
with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
    archive.writestr("Install", "romfs-x.squashfs.img\n")
    archive.writestr("romfs-x.squashfs.img", squashfs)
data = bytearray(open(path, "rb").read())
data[0:2] = b"DH"
write("weak.dahua.bin", data)

# packimg: magic, padding, the data's size, padding to 32 bytes.
write("weak.packimg", b"--PaCkImGs--" + bytes(4) + struct.pack("<I", len(squashfs)) + bytes(12) + squashfs)

# Realtek RTK: magic, image size, checksum, header size less the magic.
write("weak.rtk", b"RTK0" + struct.pack("<IIIIIII", len(squashfs), 0, 0, 28, 0, 0, 0) + squashfs)

# An encrypted family: D-Link's SHRS magic before ciphertext-like bytes.
write("weak.shrs.bin", b"SHRS" + hashlib.sha256(b"weak").digest() * 2 + os.urandom(256 << 10))

# TP-Link v2 (mktplinkfw2 -a 0x10000 -s): the rootfs aligned to 64 KiB, the padding
# stripped (the image is shorter than the length it declares), the salted MD5 at 0x40.
salt = bytes.fromhex("dcd73aa5c39598fbdcf9e7f40eae4737")
rootfs_at = (0x200 + len(kernel) + 0xFFFF) & ~0xFFFF
header = bytearray(b"\xff" * 512)
struct.pack_into(">I", header, 0, 0x02000000)
header[4:52] = b"ver. 1.0".ljust(48, b"\x00")
struct.pack_into(">III", header, 0x34, 0x89700001, 1, 0)
struct.pack_into(">I", header, 0x50, 0)
struct.pack_into(">I", header, 0x64, 0xFFFFFFFF)
struct.pack_into(">IIIIIIIII", header, 0x68, 0x80002000, 0x80002000, 0x7A0000,
                 0x200, len(kernel), rootfs_at, len(squashfs), 0, 0)
struct.pack_into(">HBBBBBB", header, 0x8C, 0x55AA, 1, 0, 0xA5, 0, 0, 1)
image = bytearray(b"\xff" * (rootfs_at + len(squashfs)))
image[:512] = header
image[0x200:0x200 + len(kernel)] = kernel
image[rootfs_at:] = squashfs
image[0x40:0x50] = salt
image[0x40:0x50] = hashlib.md5(image).digest()
write("weak.tplink-v2.bin", image)

# TP-Link RTOS: magic, "IMG0" at 20, the length less 20, model and revision; 0x94 bytes.
header = bytearray(0x94)
header[0:4] = bytes([0x00, 0x14, 0x2F, 0xC0])
header[20:24] = b"IMG0"
struct.pack_into(">IHB", header, 24, 0x94 + len(squashfs) - 20, 0x0802, 4)
write("weak.tplink-rtos.bin", bytes(header) + squashfs)


# JBOOT (mkdlinkfw): STAG, SCH2, an LZMA kernel and the rootfs; the factory image puts
# the 80-byte update header in front. JBOOT's checksum folds 16-bit words' carries.
def jboot(data):
    counter = 0
    for at in range(0, len(data) - 1, 2):
        counter += data[at] | data[at + 1] << 8
        while counter >> 16:
            counter = (counter & 0xFFFF) + (counter >> 16)
    if len(data) % 2:
        counter = (counter + data[-1] - 0xFF) & 0xFFFFFFFF
    while counter >> 16:
        counter = (counter & 0xFFFF) + (counter >> 16)
    return counter


def jboot_firmware(factory):
    sch2 = bytearray(40)
    struct.pack_into("<HBBIIIIIII", sch2, 0, 0x2124, 3, 2, 0x80000000, len(kernel),
                     zlib.crc32(kernel), 0x80000000, 0x10000 + 16 + 40 + len(kernel),
                     len(squashfs), zlib.crc32(squashfs))
    struct.pack_into("<HH", sch2, 36, 40, 0)
    struct.pack_into("<I", sch2, 32, zlib.crc32(sch2))
    covered = bytes(sch2) + kernel
    stag = bytearray(16)
    struct.pack_into("<BBHIIH", stag, 0, 4, 4, 0x2B24, 0x1234567, len(covered), jboot(covered))
    struct.pack_into("<H", stag, 14, ~jboot(stag[:14]) & 0xFFFF)
    if factory:
        stag[0] = 0xFF
    return bytes(stag) + covered + squashfs


write("weak.jboot-sysupgrade.bin", jboot_firmware(False))
data = jboot_firmware(True)
update = bytearray(80)
update[0:12] = b"DLK6E2414001"
struct.pack_into("<H", update, 14, jboot(data))
struct.pack_into("<BBIIIII", update, 26, 1, 0, 0x1234567, 0x10000, 0xE80000, 0x10000, len(data))
struct.pack_into("<HHHBBIH", update, 64, 0x4842, 2, 0, 4, 4, 0, 0x0100)
struct.pack_into("<H", update, 78, ~jboot(update[:78]) & 0xFFFF)
write("weak.jboot.bin", bytes(update) + data)

# CSman: a little-endian store, zlib-compressed: the admin account and a TLS key.
key = open(os.path.join(weak, "rootfs/etc/ssl/private/device.key"), "rb").read()
entries = b"".join(struct.pack("<IH", entry, len(value)) + value for entry, value in [
    (0x00010001, b"admin"), (0x00010002, b"admin1234"), (0x00020031, key),
    (0x00010001, b"operator")]) + bytes(4)
packed = zlib.compress(entries)
write("weak.csman.bin", struct.pack("<2sHIII", b"CS", 0, len(packed), 0, len(entries)) + packed)
