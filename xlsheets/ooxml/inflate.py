"""A large zip member's bytes inflated in one call of zlib, the decoder zipfile uses.

A branch's sheets are tens of megabytes of XML. ``ZipFile.read`` inflates a member
through a file object, then joins, copies and checks its CRC-32 as it goes. One
``decompress`` call of a zlib decompressor, bounded by the declared size, does the same
work with less copying: a few MB less peak memory on a large branch.

The decoder is zlib in both cases, so a stream one refuses the other refuses too.
``read`` gives what ``ZipFile.read`` gives, or None; on None the caller reads through
zipfile as before, so every refusal, and every message, stays zipfile's own. Another
inflater was tried and dropped: libdeflate decodes symbols that DEFLATE forbids (length
codes 286-287, distance codes 30-31), which zlib refuses.
"""

import os
import struct
import zlib

MIN_SIZE = 1 << 16  # smaller parts: zipfile, which costs no more for them
_LOCAL = struct.Struct("<4s2B4HL2L2H")  # a local file header, as zipfile reads it
_SIGNATURE = b"PK\x03\x04"
_DEFLATED = 8
_UNSUPPORTED = 0x1 | 0x20 | 0x40  # encrypted, compressed patch, strong encryption
_UTF8_NAME = 0x800


def read(f, info):
    """The bytes of member ``info`` (a ``zipfile.ZipInfo``) of the zip open as ``f`` (a
    binary file of its own, positioned anywhere), or None where zipfile should read it:
    a small or stored member, flags zipfile refuses, a local header it would not accept,
    compressed data shorter than the directory says, or a stream that does not end with
    exactly the declared size and CRC-32 (zipfile then raises, or reads what it reads:
    the decision stays its own). Nothing larger than the file is ever asked for."""
    if info.file_size < MIN_SIZE or info.compress_type != _DEFLATED \
            or info.flag_bits & _UNSUPPORTED:
        return None
    try:
        left = os.fstat(f.fileno()).st_size - info.header_offset
        f.seek(info.header_offset)
        head = f.read(_LOCAL.size)
        if len(head) != _LOCAL.size:
            return None
        fields = _LOCAL.unpack(head)
        if fields[0] != _SIGNATURE or not _same_name(f.read(fields[10]), fields[3], info):
            return None
        f.seek(fields[11], 1)  # the local extra field
        if info.compress_size > left - _LOCAL.size - fields[10] - fields[11]:
            return None  # the file ends first: zipfile says what it says
        raw = f.read(info.compress_size)
        if len(raw) != info.compress_size:
            return None
        inflater = zlib.decompressobj(-15)  # never more than the declared size and a byte
        out = inflater.decompress(raw, info.file_size + 1)
        del raw
    except (OSError, ValueError, OverflowError, MemoryError, zlib.error):
        return None
    if not inflater.eof or len(out) != info.file_size or zlib.crc32(out) != info.CRC:
        return None  # a stream cut short, running on, or other bytes: zipfile decides
    return out


def _same_name(raw, flags, info):
    """Whether the local header names the member as zipfile requires (it refuses otherwise)."""
    try:
        return raw.decode("utf-8" if flags & _UTF8_NAME else "cp437") == info.orig_filename
    except UnicodeDecodeError:
        return False
