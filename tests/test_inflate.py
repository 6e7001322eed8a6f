"""libdeflate's inflate (``ooxml.inflate``) against zipfile's, on the same hostile zips.

The contract: ``inflate.read`` gives exactly the bytes ``ZipFile.read`` gives, or None
(and then zipfile reads, or refuses, as it always did). Every variant below is a zip
edited byte by byte the way a damaged or crafted file is: flipped bits in the deflate
stream, a truncated stream, sizes, CRC, flags and names that disagree between the
directory and the local header. Both paths run on each, and the test fails if the fast
path gives anything zipfile would not, or is never taken where it should be.
"""
from __future__ import annotations

import random
import struct
import zipfile

import pytest

from books import worked_book
from xlsheets.ooxml import BookError, BookFile, inflate

pytestmark = pytest.mark.skipif(not inflate.available(), reason="the deflate package is not installed")

NAME = "xl/worksheets/sheet1.xml"


def sheet_bytes(rows=4000):
    """A sheet-like part well past ``inflate.MIN_SIZE``, varied enough to compress unevenly."""
    rnd = random.Random(2005)
    cells = "".join(f'<row r="{r}">' + "".join(f'<c r="{c}{r}"><v>{rnd.randint(0, 99)}</v></c>'
                                              for c in "ABCDEFGH") + "</row>"
                    for r in range(1, rows + 1))
    return f'<?xml version="1.0" encoding="UTF-8"?><worksheet><sheetData>{cells}</sheetData></worksheet>'.encode()


def make_zip(path, data=None, method=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", method) as z:
        z.writestr("[Content_Types].xml", b"<Types/>")
        z.writestr(NAME, sheet_bytes() if data is None else data)
    return path


def offsets(raw):
    """(local header offset, central header offset) of NAME in the zip bytes ``raw``."""
    central = raw.index(b"PK\x01\x02")  # the first entry of the directory
    while True:
        n = struct.unpack_from("<H", raw, central + 28)[0]
        if raw[central + 46:central + 46 + n] == NAME.encode():
            return struct.unpack_from("<L", raw, central + 42)[0], central
        central = raw.index(b"PK\x01\x02", central + 4)


def outcome_by_zipfile(path):
    try:
        with zipfile.ZipFile(path) as z:
            return "ok", z.read(z.getinfo(NAME))
    except Exception as e:  # any refusal: its kind is the decision
        return "error", type(e).__name__


def fast(path):
    with zipfile.ZipFile(path) as z:
        return inflate.read(path, z.getinfo(NAME))


def check(path):
    """The contract on one file; returns whether the fast path gave the bytes."""
    try:
        got = fast(path)
    except zipfile.BadZipFile:  # zipfile cannot even list it: nothing to compare
        return False
    expected = outcome_by_zipfile(path)
    if got is not None:
        assert expected == ("ok", got), path.name
    return got is not None


def edited(tmp_path, label, edit):
    raw = bytearray(make_zip(tmp_path / "good.zip").read_bytes())
    local, central = offsets(raw)
    edit(raw, local, central)
    out = tmp_path / f"{label}.zip"
    out.write_bytes(bytes(raw))
    return out


def put(raw, at, fmt, value):
    struct.pack_into(fmt, raw, at, value)


def test_a_good_member_is_inflated_by_libdeflate_to_zipfiles_bytes(tmp_path):
    path = make_zip(tmp_path / "good.zip")
    assert check(path)
    assert fast(path) == sheet_bytes()


def test_small_and_stored_members_are_left_to_zipfile(tmp_path):
    assert fast(make_zip(tmp_path / "small.zip", b"<worksheet/>")) is None
    assert fast(make_zip(tmp_path / "stored.zip", method=zipfile.ZIP_STORED)) is None


VARIANTS = {
    # the directory's CRC-32, sizes and flags disagreeing with the data
    "crc": lambda raw, lo, ce: put(raw, ce + 16, "<L", struct.unpack_from("<L", raw, ce + 16)[0] ^ 1),
    "size-larger": lambda raw, lo, ce: put(raw, ce + 24, "<L", struct.unpack_from("<L", raw, ce + 24)[0] + 1),
    "size-smaller": lambda raw, lo, ce: put(raw, ce + 24, "<L", struct.unpack_from("<L", raw, ce + 24)[0] - 1),
    "compressed-shorter": lambda raw, lo, ce: put(raw, ce + 20, "<L", struct.unpack_from("<L", raw, ce + 20)[0] // 2),
    "encrypted-flag": lambda raw, lo, ce: put(raw, ce + 8, "<H", struct.unpack_from("<H", raw, ce + 8)[0] | 1),
    "patch-flag": lambda raw, lo, ce: put(raw, ce + 8, "<H", struct.unpack_from("<H", raw, ce + 8)[0] | 0x20),
    # the local header not what zipfile accepts
    "local-signature": lambda raw, lo, ce: raw.__setitem__(slice(lo, lo + 4), b"PK\x09\x09"),
    "local-name": lambda raw, lo, ce: raw.__setitem__(lo + 30, ord("X")),
    "local-utf8-flag": lambda raw, lo, ce: (raw.__setitem__(lo + 30, 0xFF),
                                            put(raw, lo + 6, "<H", struct.unpack_from("<H", raw, lo + 6)[0] | 0x800)),
    "local-extra-past-end": lambda raw, lo, ce: put(raw, lo + 28, "<H", 0xFFFF),
    "header-offset-past-end": lambda raw, lo, ce: put(raw, ce + 42, "<L", len(raw) + 10),
}


@pytest.mark.parametrize("label", sorted(VARIANTS))
def test_a_member_the_directory_misdescribes_gets_zipfiles_decision(tmp_path, label):
    path = edited(tmp_path, label, VARIANTS[label])
    taken = check(path)
    if label in ("crc", "size-larger", "size-smaller", "compressed-shorter", "encrypted-flag",
                 "patch-flag", "local-signature", "local-name", "local-utf8-flag"):
        assert not taken  # libdeflate's bytes would not be zipfile's: it decides


def test_flipped_bits_in_the_stream_never_give_other_bytes_than_zipfile(tmp_path):
    raw = make_zip(tmp_path / "good.zip").read_bytes()
    local, _ = offsets(bytearray(raw))
    n, m = struct.unpack_from("<HH", raw, local + 26)
    start = local + 30 + n + m
    with zipfile.ZipFile(tmp_path / "good.zip") as z:
        end = start + z.getinfo(NAME).compress_size
    rnd = random.Random(14)
    taken = 0
    for k in range(150):
        bad = bytearray(raw)
        at = rnd.randrange(start, end)
        bad[at] ^= 1 << rnd.randrange(8)
        path = tmp_path / f"flip{k}.zip"
        path.write_bytes(bytes(bad))
        taken += check(path)
    assert taken < 150  # most flips break the stream or the CRC: zipfile decides those


def test_trailing_bytes_after_the_stream_are_ignored_by_both(tmp_path):
    """A stream followed by junk inside the member (compressed size larger than the stream):
    zipfile stops at the end of the stream, and so does libdeflate."""
    data = sheet_bytes()
    path = make_zip(tmp_path / "good.zip", data)
    raw = bytearray(path.read_bytes())
    local, central = offsets(raw)
    n, m = struct.unpack_from("<HH", raw, local + 26)
    csize = struct.unpack_from("<L", raw, central + 20)[0]
    at = local + 30 + n + m + csize
    raw[at:at] = b"JUNKJUNK"  # shifts the directory: its offset moves with it
    put(raw, central + 8 + 20, "<L", csize + 8)
    put(raw, local + 18, "<L", csize + 8)
    end = raw.rindex(b"PK\x05\x06")
    put(raw, end + 16, "<L", struct.unpack_from("<L", raw, end + 16)[0] + 8)
    path.write_bytes(bytes(raw))
    assert check(path)


def test_book_file_parts_are_the_same_with_and_without_libdeflate(tmp_path, monkeypatch):
    """Every part of a real branch workbook: equal bytes by both paths, the sheets by
    libdeflate; a damaged sheet refused with the same message by both."""
    path = worked_book(tmp_path)
    libdeflate = inflate._libdeflate
    calls = []
    real = inflate.read

    def counted(p, info):
        got = real(p, info)
        calls.append(got is not None)
        return got

    monkeypatch.setattr(inflate, "read", counted)
    with BookFile.open(path) as book:
        fast_parts = {n: book.part(n) for n in book._members}
    monkeypatch.setattr(inflate, "_libdeflate", None)
    with BookFile.open(path) as book:
        plain_parts = {n: book.part(n) for n in book._members}
    assert fast_parts == plain_parts
    assert any(calls)

    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        big = max(z.infolist(), key=lambda i: i.file_size)
    n, m = struct.unpack_from("<HH", raw, big.header_offset + 26)
    raw[big.header_offset + 30 + n + m + big.compress_size // 2] ^= 0x55
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(bytes(raw))
    messages = []
    for lib in (libdeflate, None):
        monkeypatch.setattr(inflate, "_libdeflate", lib)
        with BookFile.open(damaged) as book:
            try:
                book.part(big.filename)
                messages.append("read")
            except BookError as e:
                messages.append(str(e))
    monkeypatch.undo()
    assert inflate.available()
    assert messages[0] == messages[1]
