"""What a package must prove before anything reads it: zip bombs, DTDs, encodings, extents.

Every limit is checked from what the bytes are, never from what a file claims about
itself: the real central directory, the decoded size, the grid a reader would build.
"""

from __future__ import annotations

import codecs
import re
import struct
import xml.parsers.expat as expat
import zipfile
from urllib.parse import unquote

import defusedxml.ElementTree as DET
from defusedxml.common import DefusedXmlException

from xlsheets.errors import XlsheetsError
from xlsheets.ooxml.markup import _printable
from xlsheets.workbook.address import MAX_COL, MAX_ROW, col_number, parse_a1

# Zip-bomb guards, all checked from the central directory before inflating anything.
MAX_ENTRIES = 10_000
MAX_TOTAL_SIZE = 1 << 30  # declared uncompressed bytes, all entries
MAX_RATIO = 200
RATIO_MIN_SIZE = 10 << 20  # the ratio guard applies to entries above this size
MAX_CENTRAL_DIR = 64 << 20
# One XML part we (or python-calamine) parse, declared uncompressed bytes. A branch's
# largest sheet is a few MB; 200,000 full ballot rows would be about 100 MB.
MAX_PART_SIZE = 128 << 20
MAX_SMALL_PART = 16 << 20  # parts parsed into a whole tree: workbook, relationships, properties
# Per sheet, checked from its XML before python-calamine or the formula scan reads it.
# calamine builds a dense grid from A1 to the last cell, so a single cell far away
# (XFD150000) would cost gigabytes. No branch has anywhere near this many ballot rows.
MAX_SHEET_ROWS = 200_000
MAX_SHEET_CELLS = 6_000_000  # rows x columns of that grid (200,000 rows x A:Z fit)
MAX_BOOK_CELLS = 3_000_000  # all the grids read from one workbook (a 200-member branch: ~0.7 M)


CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def read_error(path, error):
    """The BookError for an OSError met while opening ``path``, in the clerk's words."""
    if isinstance(error, FileNotFoundError):
        return BookError(path, "找不到该文件。", code="file-missing")
    if isinstance(error, IsADirectoryError):
        return BookError(path, "这是一个文件夹,不是工作簿文件。", code="file-is-folder")
    if isinstance(error, PermissionError):
        return BookError(path, "没有读取该文件的权限。", code="file-no-permission")
    return BookError(path, "无法读取该文件(可能正被其他程序占用)。", code="file-unreadable")


class BookError(XlsheetsError):
    """A workbook file cannot be read or patched; the message names the file."""

    def __init__(self, path, problem, code=None):
        self.path, self.problem = str(path), problem
        super().__init__(f"工作簿 {self.path}:{problem}", code=code)


class Forbidden(Exception):
    pass


def _forbid(*_args):
    raise Forbidden


def safe_parser():
    """An expat parser that raises on any DTD or entity declaration."""
    p = expat.ParserCreate()
    p.StartDoctypeDeclHandler = _forbid
    p.EntityDeclHandler = _forbid
    p.UnparsedEntityDeclHandler = _forbid
    p.ExternalEntityRefHandler = _forbid
    p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    return p


def _check_xml(book, part, data):
    """Prove ``data`` is well-formed XML without DTD or entity declarations."""
    _parse(book, part, safe_parser(), data)


def _parse(book, part, p, data):
    """Feed ``data`` to parser ``p``; refusals and XML errors become BookError."""
    try:
        p.Parse(data, True)
    except Forbidden:
        raise BookError(book, f"其中的 {part} 含有 DTD 或实体声明,出于安全原因拒绝读取。") from None
    except expat.ExpatError as e:
        raise BookError(book, f"其中的 {part} 不是有效的 XML(第 {e.lineno} 行第 {e.offset + 1} 列出错),"
                              "文件可能已损坏,请用 Excel 或 WPS 打开后另存一次再试。") from None
    except (LookupError, ValueError, UnicodeError):
        raise BookError(book, f"其中的 {part} 编码无法识别,文件可能已损坏。") from None


_XML_DECL_ENC = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)""")


def _codec(data):
    """(BOM bytes, codec name) of an XML part."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                      (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return bom, name
    m = _XML_DECL_ENC.match(data)
    return b"", (m[1].decode("ascii") if m else "utf-8")


def _decode(book, part, data):
    """The text of an XML part and a function that encodes text back the same way."""
    bom, name = _codec(data)
    try:
        text = data[len(bom):].decode(name)
    except (LookupError, UnicodeDecodeError):
        raise BookError(book, f"其中的 {part} 编码无法识别,文件可能已损坏。") from None
    return text, lambda s: bom + s.encode(name)


def has_markup(data, mark, start=0, tries=64):
    """Whether ``data`` holds ``<`` and the byte ``mark`` (``b"!"``, ``b"?"``) from ``start``:
    the rare byte found by memchr and its neighbour looked at, ten times faster than the
    search for two bytes that begin with the common ``<``; past ``tries`` hits that
    search after all, so a sheet full of ``!`` costs no more than before."""
    pos = start
    for _ in range(tries):
        i = data.find(mark, pos)
        if i < 0:
            return False
        if i > start and data[i - 1] == 0x3C:  # "<"
            return True
        pos = i + 1
    return data.find(b"<" + mark, pos - 1) >= 0


def _plain_markup(book, part, data, bang=True):
    """Refuse what one reader takes and another skips: an encoding other than UTF-8 or
    UTF-16 declared (python-calamine reads UTF-8 whatever is declared), and comments,
    CDATA or processing instructions after the prolog (no spreadsheet program writes
    them; regex patching would miss what they hide). ``bang=False``: the caller found
    no ``<!`` in ``data``."""
    bom, name = _codec(data)
    if name.lower().replace("_", "-") not in ("utf-8", "utf8", "utf-16", "utf-16-le", "utf-16-be"):
        raise BookError(book, f"其中的 {part} 声明了 {_printable(name, 20)} 编码,Excel 工作簿应为 UTF-8,"
                              "不同程序会读出不同的文字,已拒绝读取。请用 Excel 或 WPS 另存一次再试。")
    if bom or name.lower().startswith("utf-16"):
        return  # decoded and proved by expat before use
    start = data.find(b"?>") + 2 if data.lstrip().startswith(b"<?xml") else 0
    if bang and has_markup(data, b"!", start) or has_markup(data, b"?", start):
        raise BookError(book, f"其中的 {part} 含有注释、CDATA 或处理指令,格式特殊,无法可靠地读取和写入;"
                              "请用 Excel 或 WPS 打开后另存一次再试。")


def _parse_small(book, part, data):
    """ElementTree of a small part (workbook, relationships, properties), defused."""
    try:
        return DET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise BookError(book, f"其中的 {part} 含有 DTD 或实体声明,出于安全原因拒绝读取。") from None
    except DET.ParseError as e:
        line, col = getattr(e, "position", (0, 0))
        raise BookError(book, f"其中的 {part} 不是有效的 XML(第 {line} 行第 {col + 1} 列出错),"
                              "文件可能已损坏,请用 Excel 或 WPS 打开后另存一次再试。") from None
    except (LookupError, ValueError, UnicodeError):  # an encoding Python does not know, say
        raise BookError(book, f"其中的 {part} 编码无法识别,文件可能已损坏。") from None


# A sheet part written the way Excel, WPS, LibreOffice, openpyxl and XlsxWriter write
# it: every cell ``<c r="...`` and every row ``<row r="...``, no prefix. Then the
# extent follows from searches that start at literal text (milliseconds for megabytes).
_ODD_TAG = re.compile(rb'<(?:c|row)(?:[>/\t\n\r]| (?!r="))')
_PREFIXED_TAG = re.compile(rb":(?:c|row)[\s/>]")
_ANY_CELL_ROW = re.compile(rb'<c r="\$?[A-Za-z]{1,3}\$?([0-9]+)"')
# In one pass: the address of each cell whose address is other than one letter and at
# most five digits (A1..Z99999), to be looked at, and b"" for each start tag _ODD_TAG
# finds (b"" is also the address of a cell r=""; _ODD_TAG tells them apart).
_UNUSUAL_OR_ODD = re.compile(rb'<(?:c(?: r="(?!\$?[A-Za-z]\$?[1-9][0-9]{0,4}")([^"<>]*)"'
                             rb'|[>/\t\n\r]| (?!r="))|row(?:[>/\t\n\r]| (?!r=")))')


class BadAddress(Exception):
    """A cell or row address in a sheet part that Excel's sheet cannot hold."""

    def __init__(self, text):
        super().__init__(text)
        self.text = text


def _address(raw):
    """(row, col) of a cell address read from a sheet part (bytes or text); BadAddress
    when it is not one inside Excel's sheet (XFD, 1,048,576) - one rule for every scan."""
    text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else raw
    try:
        return parse_a1(text)
    except ValueError:
        raise BadAddress(_printable(text, 40)) from None


def _row_number(raw):
    text = (raw or "").strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text[:8]) <= MAX_ROW:
        raise BadAddress(_printable(text, 40))
    return int(text)


def _sheet_extent(book, part, data):
    """(last row, last column), 1-based, of the grid a reader builds from a sheet part.

    Cells without a value count too (a conservative bound); a row element
    without cells does not (LibreOffice writes an empty ``<row r="1048576"/>``
    after a row deletion, and python-calamine builds no grid for it). An address
    Excel's sheet cannot hold (``ZZZZ3000``, ``A0``) raises BadAddress. Linear
    time: only cells beyond column Z or row 99,999 are parsed one by one; every
    row is looked at only when a cell lies beyond column Z. Unusual markup
    (prefixes, cells without ``r``) takes a streaming pass that places cells as
    python-calamine does.
    """
    if _PREFIXED_TAG.search(data):
        return _extent_by_parse(book, part, data)
    rows, cols = 0, 1
    for pos, end in _cell_chunks(data):
        unusual = _UNUSUAL_OR_ODD.findall(data, pos, end)  # the two scans in one pass
        if b"" in unusual and _ODD_TAG.search(data, pos, end):
            return _extent_by_parse(book, part, data)
        try:
            got = _plain_extent(unusual) or _extent_one_by_one(unusual)
        except BadAddress:  # an odd tag further on decides first, as when one scan ran
            if _ODD_TAG.search(data, end):  # over the whole part before the other
                return _extent_by_parse(book, part, data)
            raise
        rows, cols = max(rows, got[0]), max(cols, got[1])
        if rows > MAX_SHEET_ROWS:
            return _extent_by_parse(book, part, data) if _ODD_TAG.search(data, end) else (rows, cols)
    if cols <= 26:
        return max(rows, 1), 26  # A:Z: within MAX_SHEET_CELLS whatever the rows
    for pos, end in _cell_chunks(data):  # far columns: the true last row matters
        rows = max(rows, max(map(int, _ANY_CELL_ROW.findall(data, pos, end)), default=0))
    return max(rows, 1), cols


CHUNK = 1 << 20


def _cell_chunks(data):
    """(start, end) of about a megabyte each, cut where a ``<c r="`` begins: a match of
    ``_UNUSUAL_OR_ODD`` or ``_ANY_CELL_ROW`` (no ``<`` after their first) never spans a cut,
    and what is found at once stays bounded whatever the sheet holds."""
    pos = 0
    while pos < len(data):
        end = data.find(b'<c r="', pos + CHUNK)
        end = len(data) if end < 0 else end
        yield pos, end
        pos = end


_PLAIN_ADDRESSES = re.compile(rb"(?:[A-Z]{1,3}[1-9][0-9]{0,6} )*")
_LETTERS, _DIGITS = re.compile(rb"[A-Z]+"), re.compile(rb"[0-9]+")


def _plain_extent(addresses):
    """(last row, last column) of cell addresses all spelled plainly (``GR201``, no
    ``$`` or spaces) and inside the sheet, the row limit not passed; else None. What
    ``_extent_one_by_one`` gives, in a few passes of C over the lot: a branch's talk
    matrix has 40,000 cells beyond column Z."""
    joined = b" ".join(addresses) + b" " if addresses else b""
    digits = _DIGITS.findall(joined)
    if not _PLAIN_ADDRESSES.fullmatch(joined) or len(digits) != len(addresses):
        return None  # the count: one address holding a space ("AB5 AB5") is not two
    rows = max(map(int, digits), default=0)
    cols = max((col_number(c.decode("ascii")) for c in set(_LETTERS.findall(joined))), default=1)
    if rows > MAX_SHEET_ROWS or cols > MAX_COL:  # MAX_SHEET_ROWS < MAX_ROW
        return None  # the first address past a limit names it: one by one
    return rows, max(cols, 1)


def _extent_one_by_one(addresses):
    """(last row, last column) of the cell addresses in document order, stopping at the
    first row past MAX_SHEET_ROWS; BadAddress for one Excel's sheet cannot hold."""
    rows, cols = 0, 1
    for raw in addresses:
        row, col = _address(raw)
        rows, cols = max(rows, row), max(cols, col)
        if rows > MAX_SHEET_ROWS:
            break
    return rows, cols


class _TooBig(Exception):
    pass


def _extent_by_parse(book, part, data):
    """The extent by expat, cells without ``r`` placed after the previous one."""
    p = safe_parser()
    at = [0, 0, 0, 0]  # row, column, last row, last column

    def start(tag, attrs):
        tag = tag.rpartition(":")[2]
        if tag == "row":
            r = attrs.get("r")
            at[0], at[1] = (_row_number(r) if r is not None else at[0] + 1), 0
        elif tag == "c":
            r = attrs.get("r")
            row, at[1] = _address(r) if r is not None else (at[0], at[1] + 1)
            at[2], at[3] = max(at[2], row), max(at[3], at[1])
        else:
            return
        if at[2] > MAX_SHEET_ROWS or at[2] * at[3] > MAX_SHEET_CELLS:
            raise _TooBig

    p.StartElementHandler = start
    try:
        _parse(book, part, p, data)
    except _TooBig:
        pass
    return max(at[2], 1), max(at[3], 1)


def check_zip_directory(path, f, max_entries=MAX_ENTRIES):
    """Refuse a zip whose end record lists too many entries or a huge directory.

    Read from the end record alone, before zipfile builds a ZipInfo per entry.
    BookError when refused; returns the end record, or None when it cannot be
    found or read (zipfile then says what is wrong).
    """
    try:
        end = zipfile._EndRecData(f)
    except (AttributeError, OSError, struct.error):  # private helper gone or unreadable
        return None
    if end is None:
        return None
    if end[zipfile._ECD_ENTRIES_TOTAL] > max_entries:
        raise BookError(path, f"内含条目超过 {max_entries} 个,疑似损坏或恶意构造的文件,已拒绝打开。",
                        code="package-too-many-entries")
    if end[zipfile._ECD_SIZE] > MAX_CENTRAL_DIR:
        raise BookError(path, "压缩包目录异常庞大,疑似损坏或恶意构造的文件,已拒绝打开。",
                        code="package-directory-too-large")
    return end


def part_key(name):
    """A part name as Office compares them: percent-decoded, ``\\`` as ``/``, no leading
    ``/``, ASCII case folded. Two zip entries with one key are one part told twice."""
    return unquote(name.replace("\\", "/").lstrip("/")).lower()


def guard_members(path, infos):
    """Refuse zip bombs and packages we cannot copy faithfully, from declared sizes only.

    Two entries that Office takes for one part (``part_key``: ``xl/a.xml`` and
    ``XL/A.XML``) are refused: a reader would take one, another program the other.
    """
    if len(infos) > MAX_ENTRIES:
        raise BookError(path, f"内含条目超过 {MAX_ENTRIES} 个,疑似损坏或恶意构造的文件,已拒绝打开。",
                        code="package-too-many-entries")
    total = 0
    members = {}
    keys = {}
    for info in infos:
        total += info.file_size
        if info.file_size > RATIO_MIN_SIZE and info.file_size > MAX_RATIO * info.compress_size:
            raise BookError(path, f"其中的 {info.filename} 压缩比异常(超过 {MAX_RATIO} 倍),"
                                  "疑似恶意构造的文件,已拒绝打开。", code="package-ratio")
        if info.flag_bits & 0x1:
            raise BookError(path, f"其中的 {info.filename} 被加密,无法读取。",
                            code="package-entry-encrypted")
        if info.filename in members:
            raise BookError(path, f"其中的 {_printable(info.filename)} 重复出现,文件已损坏。",
                            code="package-entry-twice")
        key = part_key(info.filename)
        if key in keys and not key.endswith("/"):
            raise BookError(path, f"其中的 {_printable(keys[key])} 与 {_printable(info.filename)} "
                                  "是同一部件(名称只差大小写或编码),各程序读到的内容会不同,"
                                  "疑似损坏或恶意构造的文件,已拒绝打开。", code="package-entry-twice")
        keys[key] = info.filename
        members[info.filename] = info
    if total > MAX_TOTAL_SIZE:
        raise BookError(path, "解压后总大小超过 1 GiB,疑似恶意构造的文件,已拒绝打开。",
                        code="package-too-large")
    offsets = [i.header_offset for i in infos]
    if len(set(offsets)) < len(offsets):  # two entries sharing one data: an overlap bomb
        raise BookError(path, "其中有互相重叠的条目(多个条目指向同一份数据),疑似恶意构造的文件,已拒绝打开。",
                        code="package-entries-overlap")
    return members
