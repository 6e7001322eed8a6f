"""A zip member's bytes inflated by libdeflate (the ``deflate`` package), when installed.

A branch's sheets are tens of megabytes of XML; zipfile inflates them with zlib in
chunks and checks the CRC-32 as it goes: about 40 ms of every read, before
python-calamine may start. libdeflate inflates a whole member at once, about twice as
fast, and lets go of the GIL meanwhile. ``read`` gives what ``ZipFile.read`` gives or
None; on None, and whenever the package is missing, the caller reads through zipfile
as before, so every refusal is zipfile's own: the same message for the same file.
"""

import struct

try:  # optional: wheels for Windows, macOS and Linux; without it, zipfile as before
    import deflate as _libdeflate
except ImportError:  # pragma: no cover - the test suite runs both paths
    _libdeflate = None

MIN_SIZE = 1 << 16  # smaller parts: zipfile, which costs no more for them
_LOCAL = struct.Struct("<4s2B4HL2L2H")  # a local file header, as zipfile reads it
_SIGNATURE = b"PK\x03\x04"
_DEFLATED = 8
_UNSUPPORTED = 0x1 | 0x20 | 0x40  # encrypted, compressed patch, strong encryption
_UTF8_NAME = 0x800


def available():
    """Whether libdeflate is installed and used."""
    return _libdeflate is not None


def read(path, info):
    """The bytes of member ``info`` (a ``zipfile.ZipInfo`` of the zip at ``path``), or None
    where zipfile should read it: libdeflate missing, a small or stored member, flags
    zipfile refuses, a local header that is not what zipfile accepts, or an inflated
    result whose length or CRC-32 is not the directory's (zipfile then raises, or reads
    what it reads: the decision stays its own)."""
    if _libdeflate is None or info.file_size < MIN_SIZE or info.compress_type != _DEFLATED \
            or info.flag_bits & _UNSUPPORTED:
        return None
    try:
        with open(path, "rb") as f:
            f.seek(info.header_offset)
            head = f.read(_LOCAL.size)
            if len(head) != _LOCAL.size:
                return None
            fields = _LOCAL.unpack(head)
            if fields[0] != _SIGNATURE or not _same_name(f.read(fields[10]), fields[3], info):
                return None
            f.seek(fields[11], 1)  # the local extra field
            raw = f.read(info.compress_size)
    except (OSError, ValueError, OverflowError):
        return None
    if len(raw) != info.compress_size:
        return None
    try:
        out = _libdeflate.deflate_decompress(raw, info.file_size)
    except (_libdeflate.DeflateError, ValueError, OverflowError, MemoryError):
        return None
    del raw
    if len(out) != info.file_size or _libdeflate.crc32(out) != info.CRC:
        return None
    return bytes(out)


def _same_name(raw, flags, info):
    """Whether the local header names the member as zipfile requires (it refuses otherwise)."""
    try:
        return raw.decode("utf-8" if flags & _UTF8_NAME else "cp437") == info.orig_filename
    except UnicodeDecodeError:
        return False
