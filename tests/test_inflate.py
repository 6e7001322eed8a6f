"""One-call inflate (``ooxml.inflate``) against zipfile's read, on the same hostile zips.

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
    with zipfile.ZipFile(path) as z, open(path, "rb") as f:
        return inflate.read(f, z.getinfo(NAME))


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


def test_a_good_member_is_inflated_in_one_call_to_zipfiles_bytes(tmp_path):
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
        assert not taken  # the one call's bytes would not be zipfile's: it decides


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
    zipfile stops at the end of the stream, and so does zlib's one call."""
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


def test_book_file_parts_are_the_same_by_both_paths(tmp_path, monkeypatch):
    """Every part of a real branch workbook: equal bytes by both paths, the sheets by the
    one call; a damaged sheet refused with the same message by both."""
    path = worked_book(tmp_path)
    calls = []
    real = inflate.read

    def counted(f, info):
        got = real(f, info)
        calls.append(got is not None)
        return got

    monkeypatch.setattr(inflate, "read", counted)
    with BookFile.open(path) as book:
        fast_parts = {n: book.part(n) for n in book._members}
    monkeypatch.setattr(inflate, "read", lambda f, info: None)
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
    for reader in (real, lambda f, info: None):
        monkeypatch.setattr(inflate, "read", reader)
        with BookFile.open(damaged) as book:
            try:
                book.part(big.filename)
                messages.append("read")
            except BookError as e:
                messages.append(str(e))
    assert messages[0] == messages[1] != "read"


def _fixed_block_then(symbol_bits, nbits):
    """A raw DEFLATE stream: a fixed-Huffman block holding literal 'a' 70,000 times
    (a literal, then matches of 258) and then one code ``symbol_bits`` of ``nbits`` bits
    written MSB first, then end of block. Length codes 286-287 and distance codes 30-31
    are forbidden in DEFLATE: zlib refuses them, some other inflaters do not."""
    out, acc, count = bytearray(), 0, 0

    def put(value, bits, reverse=True):
        nonlocal acc, count
        if reverse:  # Huffman codes go most significant bit first
            value = int(f"{value:0{bits}b}"[::-1], 2)
        acc |= value << count
        count += bits
        while count >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            count -= 8

    put(1, 1, False)  # BFINAL
    put(1, 2, False)  # BTYPE = fixed Huffman
    put(0x30 + ord("a"), 8)  # literal 'a' (codes 0-143: 00110000 + value)
    for _ in range(272):  # matches of 258 at distance 1: code 285, distance code 0
        put(0b11000101, 8)
        put(0, 5)
    put(symbol_bits, nbits)
    put(0, 7)  # end of block (256)
    if count:
        out.append(acc & 0xFF)
    return bytes(out)


@pytest.mark.parametrize("label,bits,nbits", [("length-286", 0b11000110, 8),
                                              ("length-287", 0b11000111, 8)])
def test_a_stream_with_a_forbidden_symbol_is_zipfiles_to_refuse(tmp_path, label, bits, nbits):
    """The directory's size and CRC made to match what a lenient inflater would give:
    zlib refuses the stream in both paths, so the one call gives None."""
    import zlib

    assert zlib.decompress(_fixed_block_then(0x30 + ord("b"), 8), -15).endswith(b"ab")  # well built
    stream = _fixed_block_then(bits, nbits)
    with pytest.raises(zlib.error, match="invalid literal/length code"):
        zlib.decompress(stream, -15)
    path = make_zip(tmp_path / f"{label}.zip")
    raw = bytearray(path.read_bytes())
    local, central = offsets(raw)
    n, m = struct.unpack_from("<HH", raw, local + 26)
    old = struct.unpack_from("<L", raw, central + 20)[0]
    start = local + 30 + n + m
    raw[start:start + old] = stream
    shift = len(stream) - old
    for at in (central + shift + 20, local + 18):  # compressed sizes
        struct.pack_into("<L", raw, at, len(stream))
    end = raw.rindex(b"PK\x05\x06")
    struct.pack_into("<L", raw, end + 16, struct.unpack_from("<L", raw, end + 16)[0] + shift)
    path.write_bytes(bytes(raw))
    assert fast(path) is None
    assert outcome_by_zipfile(path)[0] == "error"


def test_a_huge_declared_compressed_size_asks_for_nothing_larger_than_the_file(tmp_path, monkeypatch):
    """A member whose directory claims far more compressed bytes than the file holds:
    nothing that large is read (zipfile then reads what is there, as before)."""
    path = edited(tmp_path, "huge", lambda raw, lo, ce: put(raw, ce + 20, "<L", 0xFFFFFFF0))
    asked = []
    real_open = open

    class Watch:
        def __init__(self, f):
            self.f = f

        def read(self, n=-1):
            asked.append(n)
            return self.f.read(n)

        def __getattr__(self, name):
            return getattr(self.f, name)

    with zipfile.ZipFile(path) as z, real_open(path, "rb") as f:
        assert inflate.read(Watch(f), z.getinfo(NAME)) is None
    assert max(asked) < path.stat().st_size


def test_a_stream_running_far_past_its_declared_size_is_inflated_no_further(tmp_path):
    """A few hundred KB that inflate to 200 MB, declared as 70,000 bytes: the one call
    stops a byte past the declared size and leaves the member to zipfile."""
    import tracemalloc
    import zlib

    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = b"".join(c.compress(b"\0" * (1 << 20)) for _ in range(200)) + c.flush()
    path = tmp_path / "runs-on.zip"
    make_zip(path, b"x" * 70_000)
    raw = bytearray(path.read_bytes())
    local, central = offsets(raw)
    n, m = struct.unpack_from("<HH", raw, local + 26)
    old = struct.unpack_from("<L", raw, central + 20)[0]
    start = local + 30 + n + m
    raw[start:start + old] = stream
    shift = len(stream) - old
    for at in (central + shift + 20, local + 18):
        struct.pack_into("<L", raw, at, len(stream))
    end = raw.rindex(b"PK\x05\x06")
    struct.pack_into("<L", raw, end + 16, struct.unpack_from("<L", raw, end + 16)[0] + shift)
    path.write_bytes(bytes(raw))
    tracemalloc.start()
    try:
        assert fast(path) is None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, peak  # the compressed bytes and 70 KB, not 200 MB


def test_the_books_own_handle_is_none_where_it_is_not_zipfiles_file(tmp_path, monkeypatch):
    """The BookFile's second handle: absent (zipfile reads every part, the same bytes)
    when it cannot be opened or the path now names another file; a refusal while opening
    without it still says the clerk's message."""
    import os

    from xlsheets.ooxml import package

    path = worked_book(tmp_path)
    other = tmp_path / "other.xlsx"
    other.write_bytes(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        own = package._same_file(path, z)
        assert own is not None
        own.close()
        os.replace(other, path)  # another file under the same name, zipfile's still open
        assert package._same_file(path, z) is None
    with BookFile.open(path) as book:
        expected = {n: book.part(n) for n in book._members}

    with zipfile.ZipFile(path) as z:
        assert package._same_file(tmp_path / "gone.xlsx", z) is None  # cannot be opened
    monkeypatch.setattr(package, "_same_file", lambda p, zf: None)
    with BookFile.open(path) as book:
        assert book._raw is None
        assert {n: book.part(n) for n in book._members} == expected
    bad = tmp_path / "not-ours.xlsx"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
    with pytest.raises(BookError):
        BookFile.open(bad)
