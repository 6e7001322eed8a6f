"""Reading and patching .xlsx packages at the zip/XML level.

Branch workbooks come back from clerks with things openpyxl would drop on save
(images, charts, comments, text boxes, sparklines, a VBA project...). So we read
cells straight from the sheet XML, and write by editing only the ``<c>``
elements we change inside the sheet part; every other zip entry is copied with
its raw compressed bytes untouched.

Reading is a regex scan over the decoded sheet XML (fast; one Python step per
cell, identical cells share one ``Cell``), after a handler-less expat pass that
proves the part is well-formed and has no DTD. Unusual but legal markup
(comments or CDATA in ``<sheetData>``, cells without ``r``) falls back to a
streaming ElementTree parse.
"""
from __future__ import annotations

import bisect
import codecs
import functools
import gc
import math
import numbers
import os
import posixpath
import re
import struct
import xml.parsers.expat as expat
import zipfile
import zlib
from dataclasses import dataclass
from urllib.parse import unquote

import defusedxml.ElementTree as DET
from defusedxml.common import DefusedXmlException

from xlsheets.errors import XlsheetsError

__all__ = ["BookError", "Cell", "BookFile", "write_patched", "sheet_xml", "check_zip_directory"]

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

_MAIN_NS = ("http://schemas.openxmlformats.org/spreadsheetml/2006/main",
            "http://purl.oclc.org/ooxml/spreadsheetml/main")
_REL_NS = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships",
           "http://purl.oclc.org/ooxml/officeDocument/relationships")
_WORKSHEET_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
_WORKSHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def read_error(path, error):
    """The BookError for an OSError met while opening ``path``, in the clerk's words."""
    if isinstance(error, FileNotFoundError):
        return BookError(path, "找不到该文件。")
    if isinstance(error, IsADirectoryError):
        return BookError(path, "这是一个文件夹,不是工作簿文件。")
    if isinstance(error, PermissionError):
        return BookError(path, "没有读取该文件的权限。")
    return BookError(path, "无法读取该文件(可能正被其他程序占用)。")


class BookError(XlsheetsError):
    """A workbook file cannot be read or patched; the message names the file."""

    def __init__(self, path, problem, code=None):
        self.path, self.problem = str(path), problem
        super().__init__(f"工作簿 {self.path}:{problem}", code=code)


@dataclass(frozen=True, slots=True)
class Cell:
    """One ``<c>`` element: its value, its formula text (if any) and value kind.

    kind: 'n' number, 's' string (shared or inline), 'str' formula string,
    'b' boolean, 'e' error (value like '#DIV/0!'), 'd' ISO date text,
    'blank' no value (also a formula without a cached value).
    """

    value: object
    formula: str | None
    kind: str


_BLANK = Cell(None, None, "blank")


# --- small helpers ---------------------------------------------------------------------

_XESC = re.compile(r"_x([0-9A-Fa-f]{4})_")
_A1 = re.compile(r"\$?([A-Za-z]{1,3})\$?([1-9][0-9]{0,6})")
_MAX_ROW, _MAX_COL = 1_048_576, 16_384


_ENTITY = re.compile(r"&(?:#x([0-9A-Fa-f]+)|#([0-9]+)|(lt|gt|amp|quot|apos));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def _entity(m):
    if m[3]:
        return _NAMED[m[3]]
    return chr(int(m[1], 16) if m[1] else int(m[2]))


def _unescape(s):
    """XML text as a parser would give it: newlines normalised, references resolved."""
    if "\r" in s:
        s = s.replace("\r\n", "\n").replace("\r", "\n")
    if "&" in s:
        s = _ENTITY.sub(_entity, s)  # expat already proved no other entity occurs
    return s


def _unxstring(s):
    """Undo OOXML's ``_xHHHH_`` escapes (control characters, literal ``_x``)."""
    return _XESC.sub(lambda m: chr(int(m[1], 16)), s) if "_x" in s else s


def _number(v):
    """A cached number; whole numbers (exactly representable) as int."""
    if len(v) < 16 and "." not in v and "E" not in v and "e" not in v:
        return int(v)
    f = float(v)
    return int(f) if f.is_integer() and abs(f) < 2**53 else f


def col_name(col):
    """Column letters of a 1-based column number."""
    name = ""
    while col:
        col, rem = divmod(col - 1, 26)
        name = chr(65 + rem) + name
    return name


def col_number(letters):
    """1-based column number of column letters."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def parse_a1(address):
    """(row, col), both 1-based, of an A1 address; ValueError when it is not one."""
    m = _A1.fullmatch(address.strip())
    if not m:
        raise ValueError(f"not an A1 cell address: {address!r}")
    row, col = int(m[2]), col_number(m[1])
    if row > _MAX_ROW or col > _MAX_COL:
        raise ValueError(f"cell address outside the sheet: {address!r}")
    return row, col


_BAD_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xstring(s):
    """Text for an OOXML string: ``_x`` runs and invalid/CR characters as ``_xHHHH_``."""
    if "_x" in s:
        s = _XESC.sub(lambda m: "_x005F" + m[0], s)
    if "\r" in s:
        s = s.replace("\r", "_x000D_")
    return _BAD_XML_CHARS.sub(lambda m: f"_x{ord(m[0]):04X}_", s)


def _esc_text(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _esc_attr(s):
    s = _BAD_XML_CHARS.sub("", s)
    return (_esc_text(s).replace('"', "&quot;")
            .replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;"))


def _num_text(value):
    """XML text of a number cell value; ValueError for NaN and infinities."""
    if isinstance(value, int):
        return str(value)
    f = float(value)
    if not math.isfinite(f):
        raise ValueError(f"cannot store {value!r} in a cell")
    return str(int(f)) if f.is_integer() and abs(f) < 2**53 else repr(f)


@dataclass(frozen=True)
class Formula:
    """A formula to write into a cell (``text`` without the '='), with its cached value.

    ``array``: the range of an array formula (``"M3"``), None for an ordinary one.
    """

    text: str
    value: object = None
    array: str | None = None

    def xml(self, p=""):
        t = f' t="array" ref="{_esc_attr(self.array)}"' if self.array else ""
        return f"<{p}f{t}>{_esc_text(_BAD_XML_CHARS.sub('', self.text))}</{p}f>"


def _value_kind(value):
    """'b', 'n', 's' or None for a value we can write; TypeError otherwise."""
    if isinstance(value, Formula):
        return _value_kind(value.value)
    if value is None:
        return None
    if isinstance(value, bool):
        return "b"
    if isinstance(value, numbers.Real):
        return "n"
    if isinstance(value, str):
        return "s"
    raise TypeError(f"cannot store a {type(value).__name__} in a cell: {value!r}")


# --- XML safety and decoding -------------------------------------------------------------

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


_FORMULA_OPEN = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?f[\s/>]')
_CELL_OPEN = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?c\s')
_CELL_REF = re.compile(rb"[A-Z]{1,3}[0-9]+")
_ERROR_TAG = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?c\s[^<>]*?\st="e"[^<>]*>')
_ERROR_VALUE = re.compile(rb'\s*<(?:[A-Za-z_][\w.-]*:)?v>([^<]{1,40})</')
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


def _plain_markup(book, part, data):
    """Refuse what one reader takes and another skips: an encoding other than UTF-8 or
    UTF-16 declared (python-calamine reads UTF-8 whatever is declared), and comments,
    CDATA or processing instructions after the prolog (no spreadsheet program writes
    them; regex patching would miss what they hide)."""
    bom, name = _codec(data)
    if name.lower().replace("_", "-") not in ("utf-8", "utf8", "utf-16", "utf-16-le", "utf-16-be"):
        raise BookError(book, f"其中的 {part} 声明了 {_printable(name, 20)} 编码,Excel 工作簿应为 UTF-8,"
                              "不同程序会读出不同的文字,已拒绝读取。请用 Excel 或 WPS 另存一次再试。")
    if bom or name.lower().startswith("utf-16"):
        return  # decoded and proved by expat before use
    start = data.find(b"?>") + 2 if data.lstrip().startswith(b"<?xml") else 0
    if data.find(b"<!", start) >= 0 or data.find(b"<?", start) >= 0:
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


def _printable(text, limit=120):
    """A text from the file made safe to show in one line of a message."""
    text = re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]", "", text).strip()
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _local(tag):
    return tag.rpartition("}")[2]


def _root(text):
    """(namespace prefix with colon or '', index) of the root element's start tag."""
    m = re.search(r"<(?![?!])([^\s/>]+)", text)
    if not m:
        return "", len(text)
    name = m[1]
    return (name.partition(":")[0] + ":" if ":" in name else ""), m.start()


def _root_prefix(text):
    return _root(text)[0]


def _find_tag(text, tag, start=0, end=None):
    """Index of the start tag ``<tag`` (a whole name) in text, or -1."""
    end = len(text) if end is None else end
    i = text.find("<" + tag, start, end)
    while i >= 0 and text[i + len(tag) + 1] not in " \t\r\n/>":
        i = text.find("<" + tag, i + 1, end)
    return i


@functools.lru_cache(maxsize=8)
def _pats(p):
    """Compiled regexes for SpreadsheetML elements written with prefix ``p`` ('' or 'x:')."""
    P = re.escape(p)
    body = rf"[^<]*+(?:<(?!/{P}c>)[^<]*+)*+</{P}c>"
    return {
        # r when it is the first attribute, then either a plain number cell (optional s,
        # optional <f>, <v>) as (f element, v text), or everything else up to </c> as rest
        "cell": re.compile(rf'<{P}c(?: r="([^"]*)")?(?=[\s/>])(?:(?: s="[0-9]+")?>'
                           rf'(<{P}f>[^<]*</{P}f>)?<{P}v>([^<&]*)</{P}v></{P}c>'
                           rf'|([^>]*+>(?:(?<=/>)|{body})))'),
        "cellspan": re.compile(rf"<{P}c(?=[\s/>])([^>]*+)>(?:(?<=/>)|{body})"),
        "row": re.compile(rf"<{P}row(?=[\s/>])([^>]*+)>"),
        "v": re.compile(rf"<{P}v(?:\s[^>]*)?(?:/>|>([^<]*)</{P}v>)"),
        "f": re.compile(rf"<{P}f(?:\s[^>]*)?(?:/>|>([^<]*)</{P}f>)"),
        "t": re.compile(rf"<{P}t(?:\s[^>]*?)?(?:/>|>([^<]*)</{P}t>)"),
        "rph_open": f"<{p}rPh", "rph_close": f"</{p}rPh>",
        "si": re.compile(rf"<{P}si(?:\s[^>]*)?(?:/>|>(.*?)</{P}si>)", re.S),
        "felem": re.compile(rf"<{P}f(?=[\s/>])[^>]*?(?:/>|>[^<]*</{P}f>)"),
        "ext": re.compile(rf"<{P}extLst\b.*</{P}extLst>", re.S),
        "is": re.compile(rf"<{P}is\b"),
    }


_ATTR = re.compile(r"""([\w:.-]+)\s*=\s*("[^"]*"|'[^']*')""")
_ATTR_B = re.compile(rb"""([\w:.-]+)\s*=\s*("[^"]*"|'[^']*')""")


def _attr(attrs, name):
    """The value of attribute ``name`` in a start tag's attribute text, read attribute by
    attribute (so that ``q:x=' r="99"'`` is one attribute, not an r); None if absent."""
    pattern = _ATTR_B if isinstance(attrs, bytes) else _ATTR
    key = name.encode() if isinstance(attrs, bytes) else name
    for m in pattern.finditer(attrs):
        if m[1] == key:
            return m[2][1:-1]
    return None
_R_ATTR = re.compile(r"""\$?([A-Za-z]+)\$?([0-9]+)""")


def _strip_rph(inner, pats):
    """``inner`` without its phonetic runs (``<rPh>…</rPh>``, ``<rPh/>``): linear finds,
    where a lazy regex over a part of unclosed ones would take quadratic time."""
    opening, closing = pats["rph_open"], pats["rph_close"]
    out, pos = [], 0
    while (i := inner.find(opening, pos)) >= 0:
        after = inner[i + len(opening):i + len(opening) + 1]
        if after not in (" ", "/", ">", "\t", "\r", "\n"):
            out.append(inner[pos:i + len(opening)])
            pos = i + len(opening)
            continue
        gt = inner.find(">", i)
        if gt < 0:
            break
        out.append(inner[pos:i])
        if inner[gt - 1] == "/":
            pos = gt + 1
            continue
        j = inner.find(closing, gt)
        pos = len(inner) if j < 0 else j + len(closing)
    out.append(inner[pos:])
    return "".join(out)


def _rich_text(inner, pats):
    """Text of a CT_Rst (``<si>`` or ``<is>`` content): plain or rich runs, no phonetics."""
    if "<" not in inner:
        return ""
    if "rPh" in inner:
        inner = _strip_rph(inner, pats)
    return _unxstring(_unescape("".join(pats["t"].findall(inner))))


# --- the package -------------------------------------------------------------------------

class BookFile:
    """An .xlsx package opened for reading; parts are inflated on demand."""

    def __init__(self, path, zf, members):
        self.path = str(path)
        self._zip = zf
        self._members = members  # name -> ZipInfo, in zip order
        self._lower = {part_key(n): n for n in members}
        self._sst = None
        self._screened_parts = False
        self._proved = set()  # parts proved well-formed, without DTD (expat), once each
        self._extents = {}  # part -> cells of the grid a reader builds from it
        self._checked = {}  # sheet part -> its bytes, once sheet_data has checked them
        self._load_workbook()

    # opening and guards

    @classmethod
    def open(cls, path):
        """Open ``path``; BookError (in Chinese, naming the file) when it cannot be used."""
        path = os.fspath(path)
        try:
            with open(path, "rb") as f:
                if f.read(4) == CFB_MAGIC[:4]:
                    raise BookError(path, "文件已加密(设置了打开密码),或是旧版 .xls 格式。"
                                          "请在 Excel 或 WPS 中取消密码,并另存为 .xlsx 后再试。")
                _guard_central_directory(path, f)
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, struct.error):
            raise BookError(path, "不是有效的 .xlsx 工作簿(文件已损坏,或并非 Excel 文件)。") from None
        except OSError as e:
            raise read_error(path, e) from None
        try:
            members = guard_members(path, zf.infolist())
            return cls(path, zf, members)
        except BaseException:
            zf.close()
            raise

    def close(self):
        self._zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # raw parts

    def _member(self, name):
        """Zip member name of part ``name`` (exact, then as OPC compares names: ``part_key``)."""
        name = name.lstrip("/")
        if name in self._members:
            return name
        return self._lower.get(part_key(name))

    def has_part(self, name):
        return self._member(name) is not None

    def part(self, name, limit=MAX_PART_SIZE):
        """Uncompressed bytes of a zip member; KeyError when absent.

        A member declared larger than ``limit`` is refused before inflating it
        (zipfile never inflates more than the declared size).
        """
        member = self._member(name)
        if member is None:
            raise KeyError(name)
        if self._members[member].file_size > limit:
            raise BookError(self.path, f"其中的 {member} 解压后超过 {limit >> 20} MB,"
                                       "疑似损坏或恶意构造的文件,已拒绝读取。")
        try:
            return self._zip.read(self._members[member])
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, zlib.error, EOFError,
                OSError):
            raise BookError(self.path, f"其中的 {member} 无法解压(文件已损坏或使用了不支持的压缩方式)。") from None

    def _xml(self, name):
        data = self.part(name)
        self._prove(name, data)
        return data

    def _prove(self, name, data, label=None):
        """Prove a part well-formed XML without DTD (once per part and open book);
        ``label`` names it in a message (a sheet's name and part)."""
        if name not in self._proved:
            _check_xml(self.path, label or name, data)
            self._proved.add(name)

    def _tree(self, name):
        return _parse_small(self.path, name, self.part(name, MAX_SMALL_PART))

    def _rel_elements(self, part):
        """The ``<Relationship>`` elements of a part's .rels (none if it has none)."""
        folder, base = posixpath.split(part)
        rels_name = posixpath.join(folder, "_rels", base + ".rels")
        if not self.has_part(rels_name):
            return []
        return [rel for rel in self._tree(rels_name) if _local(rel.tag) == "Relationship"]

    def _rels(self, part):
        """{Id: (Type, target part name)} of a part's relationships (none if no .rels)."""
        folder = posixpath.dirname(part)
        out = {}
        for rel in self._rel_elements(part):
            if rel.get("TargetMode") == "External":
                continue
            target = unquote(rel.get("Target", "")).replace("\\", "/")
            if target.startswith("/"):
                name = target.lstrip("/")
            else:
                name = posixpath.normpath(posixpath.join(folder, target))
            out[rel.get("Id")] = (rel.get("Type", ""), name)
        return out

    # workbook structure

    def _load_workbook(self):
        wb = None
        for typ, name in self._rels("").values():
            if typ.endswith("/officeDocument") and self.has_part(name):
                wb = self._member(name)
        if wb is None:
            wb = self._member("xl/workbook.xml")
        if wb is None:
            raise BookError(self.path, "不是 Excel 工作簿:缺少 xl/workbook.xml"
                                       "(可能是其他格式的压缩包,或文件已损坏)。")
        if part_key(wb) != "xl/workbook.xml":  # every reader must find the same workbook
            raise BookError(self.path, f"工作簿主体不在标准位置 xl/workbook.xml(而在 {_printable(wb)}),"
                                       "不同程序会读到不同内容,已拒绝打开。请用 Excel 或 WPS 另存一次再试。")
        self._wb_part = wb
        self._wb_rels = self._rels(wb)
        data = self.part(wb, MAX_SMALL_PART)
        _plain_markup(self.path, wb, data)
        root = _parse_small(self.path, wb, data)
        groups = [g for g in root if _local(g.tag) == "sheets"]
        if len(groups) > 1:
            raise BookError(self.path, "工作簿中有两组工作表清单(<sheets>),不同程序会读到不同的工作表,"
                                       "文件已损坏或被篡改,已拒绝打开。")
        self._sheets = []  # (name, sheetId, rId, part or None, rel type)
        for el in (e for group in groups for e in group):
            if _local(el.tag) != "sheet":
                continue
            rid = next((v for k, v in el.attrib.items()
                        if k in (f"{{{_REL_NS[0]}}}id", f"{{{_REL_NS[1]}}}id")), None)
            typ, part = self._wb_rels.get(rid, ("", None))
            self._sheets.append((el.get("name", ""), el.get("sheetId"), rid,
                                 self._member(part) if part else None, typ))
        self._defined = []
        for el in (e for group in root if _local(group.tag) == "definedNames" for e in group):
            if _local(el.tag) == "definedName":
                self._defined.append((el.get("name", ""), el.get("localSheetId"), el.text or ""))
        self.sheet_names = [s[0] for s in self._sheets]
        seen = set()
        for name in self.sheet_names:
            if name.casefold() in seen:  # Excel refuses such a file; readers pick differently
                raise BookError(self.path, f"有两张工作表同名“{_printable(name)}”(不区分大小写),"
                                           "文件已损坏或被篡改,已拒绝打开。")
            seen.add(name.casefold())
        self._prove_structure()

    def _content_types(self):
        """({part key: content type} of the overrides, {extension: type} of the defaults)."""
        ct = self._member("[Content_Types].xml")
        if ct is None:
            raise BookError(self.path, "缺少内容类型清单 [Content_Types].xml,不是完整的 Excel 工作簿"
                                       "(文件可能已损坏)。请用 Excel 或 WPS 打开后另存一次再试。")
        overrides, defaults = {}, {}
        for el in self._tree(ct):
            if _local(el.tag) == "Override":
                overrides[part_key(el.get("PartName", ""))] = el.get("ContentType", "")
            elif _local(el.tag) == "Default":
                defaults[el.get("Extension", "").lower()] = el.get("ContentType", "")
        return overrides, defaults

    def _prove_structure(self):
        """Refuse a package whose sheets are not what its relationships say they are.

        Every sheet's part is its own: no two sheets, and no sheet and another part
        of the workbook (shared strings, styles, the workbook itself, relationships,
        the content types), share one part, and the content type of a sheet's part
        is a sheet's. A report sheet written over such a part would destroy it.
        """
        overrides, defaults = self._content_types()
        folder, base = posixpath.split(self._wb_part)
        if self._sheets and not self.has_part(posixpath.join(folder, "_rels", base + ".rels")):
            raise BookError(self.path, "缺少工作簿关系清单(workbook.xml.rels),文件已损坏。"
                                       "请用 Excel 或 WPS 打开后另存一次再试。")
        owners = {part_key(self._wb_part): "工作簿", "[content_types].xml": "内容类型清单"}
        wb_rels = posixpath.join(folder, "_rels", base + ".rels")
        for rels in [n for n in self._members if n.lower().endswith(".rels")]:
            if part_key(rels) == part_key(wb_rels):
                continue
            source = rels.replace("_rels/", "", 1)[:-len(".rels")] if "_rels/" in rels else ""
            for typ, part in self._rels(source).values():  # what any other part points at
                owners.setdefault(part_key(part), typ.rpartition("/")[2])
        for typ, part in self._wb_rels.values():
            if not typ.endswith(("/worksheet", "/chartsheet", "/dialogsheet", "/macrosheet")):
                owners.setdefault(part_key(part), typ.rpartition("/")[2])
        for name, _, _, part, typ in self._sheets:
            if part is None:
                continue
            key = part_key(part)
            ct = overrides.get(key) or defaults.get(posixpath.splitext(key)[1][1:], "")
            if key in owners or key.endswith(".rels") or not (
                    ct.endswith("sheet+xml") or ct in ("application/xml", "text/xml")):
                raise BookError(self.path, f"工作表“{_printable(name)}”的内容指向部件 {_printable(part)},"
                                           "而该部件不是(或不只是)这张工作表,文件已损坏或被篡改,已拒绝打开。")
            owners[key] = f"工作表“{name}”"

    def _sheet(self, name):
        for s in self._sheets:
            if s[0] == name:
                return s
        for s in self._sheets:  # Excel compares sheet names case-insensitively
            if s[0].casefold() == name.casefold():
                return s
        raise BookError(self.path, f"没有名为“{name}”的工作表(可能已被改名或删除)。")

    def is_worksheet(self, name):
        """True for a plain worksheet (not a chart, dialog or macro sheet)."""
        return self._sheet(name)[4].endswith("/worksheet")

    def sheet_part(self, name):
        """Zip member name of the sheet called ``name``."""
        part = self._sheet(name)[3]
        if part is None:
            raise BookError(self.path, f"工作表“{name}”的内容缺失,文件可能已损坏。")
        return part

    def defined_names(self):
        """{name: formula text}; names local to a sheet are keyed ``sheet!name``."""
        out = {}
        for name, local, text in self._defined:
            if local is not None and local.isdigit() and int(local) < len(self._sheets):
                name = f"{self._sheets[int(local)][0]}!{name}"
            out[name] = text
        return out

    def _screened(self, name):
        """Bytes of an XML part about to be parsed, by us or by python-calamine.

        Its size is bounded (``part``) and it is refused if it declares a DTD or
        entities: a quick byte search, with expat's full check only when the
        search finds something or the part is not plain UTF-8 (UTF-16, a BOM).
        """
        data = self.part(name)
        if b"<!DOCTYPE" in data or b"<!ENTITY" in data \
                or not data[:4096].lstrip().startswith(b"<"):
            _check_xml(self.path, name, data)  # raises with the precise reason
        _plain_markup(self.path, name, data)
        return data

    def screen_for_reading(self):
        """Check what python-calamine parses when it opens the file, before it does.

        Shared strings and styles: size bounded, no DTD or entities (calamine would
        not expand entities, but it would stop with an English parser error).
        The workbook part and its relationships were parsed, defused, on opening.
        """
        if self._screened_parts:
            return
        for typ in ("/sharedStrings", "/styles"):
            for t, part in self._wb_rels.values():
                if t.endswith(typ) and self.has_part(part):
                    self._screened(part)
        for name in ("xl/sharedStrings.xml", "xl/styles.xml"):
            if self.has_part(name):
                self._screened(name)
        self._screened_parts = True

    def sheet_data(self, name):
        """(part, bytes) of the sheet called ``name``, checked before anything reads it.

        Besides the checks of every parsed part, the sheet's extent is bounded
        (``MAX_SHEET_ROWS``, ``MAX_SHEET_CELLS``): a BookError names the sheet.
        """
        part = self.sheet_part(name)
        if part in self._checked:  # the formula and error scans each ask: check once
            return part, self._checked[part]
        data = self._screened(part)
        try:
            rows, cols = _sheet_extent(self.path, part, data)
        except BadAddress as e:
            raise BookError(self.path, f"工作表“{_printable(name)}”中有单元格地址“{e.text}”,超出了 Excel "
                                       "工作表的范围(最大为 XFD1048576)或无法识别,疑似损坏或恶意构造的文件,"
                                       "已拒绝读取。") from None
        if rows > MAX_SHEET_ROWS:
            raise BookError(self.path, f"工作表“{name}”有 {rows:,} 行,超过 {MAX_SHEET_ROWS:,} 行的上限"
                                       "(任何支部的测评票都不会有这么多行),疑似损坏或恶意构造的文件,"
                                       "已拒绝读取。如是误操作,请删除多余的行后另存再交。")
        if rows * cols > MAX_SHEET_CELLS:
            raise BookError(self.path, f"工作表“{name}”的数据范围达 {rows:,} 行 × {cols:,} 列,"
                                       f"超过 {MAX_SHEET_CELLS:,} 个单元格的上限,疑似损坏或恶意构造的文件,"
                                       f"已拒绝读取。如是误操作(如在很远的单元格中输入过内容),"
                                       "请删除多余的行和列后另存再交。")
        self._extents[part] = rows * cols
        if sum(self._extents.values()) > MAX_BOOK_CELLS:
            raise BookError(self.path, f"各工作表的数据范围合计超过 {MAX_BOOK_CELLS:,} 个单元格的上限"
                                       f"(读到“{_printable(name)}”时),疑似损坏或恶意构造的文件,已拒绝读取。"
                                       "如是误操作,请删除多余的行和列后另存再交。")
        # what one reader tolerates another refuses: none reads it
        self._prove(part, data, f"工作表“{_printable(name)}”({part})")
        self._checked[part] = data
        return part, data

    def formula_addresses(self, name):
        """The A1 addresses of the sheet's cells that hold a formula.

        A quick scan for ``<c ...><f`` rather than a full parse: values come
        from python-calamine, which does not report formulas. The part is
        checked first (``sheet_data``): no DTD or entities, bounded extent.
        """
        part, data = self.sheet_data(name)
        out = set()
        for m in _FORMULA_OPEN.finditer(data):  # linear: each byte is looked at a few times
            at = m.start()
            start = data.rfind(b"<", 0, at)  # the tag just before <f>: its <c ...>
            gt = data.find(b">", start, at)
            if start < 0 or gt < 0 or data[gt - 1] == 0x2F or data[gt + 1:at].strip():
                continue
            if _CELL_OPEN.match(data, start, gt + 1):
                r = _attr(data[start:gt], "r")
                if r and _CELL_REF.fullmatch(r):
                    out.add(r.decode("ascii"))
        return out

    def error_cells(self, name):
        """{A1: shown text} of the cells holding an error value (``t="e"``, ``#DIV/0!``)
        without a formula: python-calamine reads them as blanks, which they are not.
        A linear scan, after ``sheet_data``'s checks."""
        part, data = self.sheet_data(name)
        out = {}
        if b't="e"' not in data:
            return out
        for m in _ERROR_TAG.finditer(data):
            r = _attr(m[0], "r")
            v = _ERROR_VALUE.match(data, m.end())
            if r and _CELL_REF.fullmatch(r) and v and m[0][-2:] != b"/>" \
                    and _attr(m[0], "t") == b"e":
                out[r.decode("ascii")] = _printable(_unescape(v[1].decode("utf-8", "replace")), 40)
        return out

    def custom_properties(self):
        """{name: text} from docProps/custom.xml ({} when there is none)."""
        part = next((n for t, n in self._rels("").values()
                     if t.endswith("/custom-properties") and self.has_part(n)), None)
        part = part or self._member("docProps/custom.xml")
        if part is None:
            return {}
        out = {}
        for prop in self._tree(part):
            if _local(prop.tag) == "property" and prop.get("name") is not None:
                value = next(iter(prop), None)
                out[prop.get("name")] = (value.text or "") if value is not None else ""
        return out

    # what the package carries besides cells

    def macro_parts(self):
        """Parts showing that the workbook carries macros, sorted; [] for a plain .xlsx.

        A VBA project (``vbaProject.bin`` anywhere), Excel 4.0 macro sheets, or a
        macro-enabled content type for the workbook. Nothing here is ever run.
        """
        found = set()
        for name in self._members:
            low = name.lower()
            if posixpath.basename(low) == "vbaproject.bin" or low.startswith("xl/macrosheets/"):
                found.add(name)
        ct = self._member("[Content_Types].xml")
        if not found and ct is not None:  # macro-enabled by its content type alone
            for el in self._tree(ct):
                kind = (el.get("ContentType") or "").lower()
                if "macroenabled" in kind or "vbaproject" in kind:
                    found.add(ct)
        return sorted(found)

    def external_links(self):
        """What the workbook links to outside itself, in order; [] when nothing.

        Targets of links to other workbooks (``xl/externalLinks/*`` and their
        relationships), external relationships of the workbook part, and data
        connections (``xl/connections.xml``). Nothing is ever opened or fetched.
        """
        out = []

        def add(text):
            if text not in out:
                out.append(text)

        links = [n for n in self._members
                 if posixpath.dirname(n).lower().endswith("externallinks") and n.lower().endswith(".xml")]
        for part in links:
            targets = [rel.get("Target") or "" for rel in self._rel_elements(part)
                       if rel.get("TargetMode") == "External"]
            for target in targets or [part]:
                add(_printable(unquote(target)))
        for rel in self._rel_elements(self._wb_part):
            if rel.get("TargetMode") == "External":
                add(_printable(unquote(rel.get("Target") or "")))
        connections = [n for n in self._members if posixpath.basename(n).lower() == "connections.xml"]
        for part in connections:
            add(f"数据连接 {part}")
        return out

    # cells

    def _shared_strings(self):
        if self._sst is None:
            part = next((n for t, n in self._wb_rels.values()
                         if t.endswith("/sharedStrings") and self.has_part(n)), None)
            part = part or self._member("xl/sharedStrings.xml")
            self._sst = [] if part is None else self._read_sst(part)
        return self._sst

    def _read_sst(self, part):
        data = self._xml(part)
        text, _ = _decode(self.path, part, data)
        p, start = _root(text)
        if text.find("<!", start) >= 0 or text.find("<?", start) >= 0:
            return self._read_sst_slow(data)
        pats = _pats(p)
        simple = re.compile(rf"<{re.escape(p)}t>([^<]*)</{re.escape(p)}t>")
        out = []
        for inner in pats["si"].findall(text, start):
            m = simple.fullmatch(inner)
            out.append(_unxstring(_unescape(m[1])) if m else _rich_text(inner, pats))
        return out

    def _read_sst_slow(self, data):
        out = []
        try:
            for _, el in DET.iterparse(_Bytes(data), forbid_dtd=True):
                if _local(el.tag) == "si":
                    out.append(_rst_text(el))
                    el.clear()
        except (DET.ParseError, DefusedXmlException, LookupError, ValueError):
            raise BookError(self.path, "其中的共享字符串表无法解析,文件可能已损坏。") from None
        return out

    def cells(self, name):
        """{A1 address: Cell} for every ``<c>`` of the sheet, in document order."""
        part, data = self.sheet_data(name)
        text, _ = _decode(self.path, part, data)
        p = _root_prefix(text)
        region = _sheet_data(text, p)
        if region is None:
            return {} if "sheetData" not in text else self._cells_slow(part, data)
        start, end = region
        if text.find("<!", start, end) >= 0 or text.find("<?", start, end) >= 0:
            return self._cells_slow(part, data)
        enabled = gc.isenabled()
        gc.disable()  # ~10% faster: the scan allocates many tuples, none of them cyclic
        try:
            out = self._cells_fast(part, text, start, end, p)
        finally:
            if enabled:
                gc.enable()
        if "" in out:  # a cell whose r is missing or not first: let a real parser place it
            return self._cells_slow(part, data)
        return out

    def _cells_fast(self, part, text, start, end, p):
        pats = _pats(p)
        v_search, f_search, is_search = pats["v"].search, pats["f"].search, pats["is"].search
        f_open = f"<{p}f"
        lf, close = len(f_open) + 1, len(f"</{p}c>")
        sst = self._shared_strings()
        book = self.path
        cache, numbers = {}, {}  # identical cells share one Cell

        def bad(xml):
            return BookError(book, f"其中的 {part} 有无法识别的单元格值:{xml[:60]}")

        def number(f, v):
            """A plain number cell: ``f`` the whole <f> element or '', ``v`` the <v> text."""
            try:
                value = _number(v) if v else None
            except ValueError:
                raise bad(v) from None
            if f:
                formula = _unescape(f[lf:-lf - 1])
                return Cell(value, formula, "n" if v else "blank")
            cell = numbers[v] = Cell(value, None, "n") if v else _BLANK
            return cell

        def make(rest):
            gt = rest.index(">")
            if rest[gt - 1] == "/":
                cache[rest] = _BLANK
                return _BLANK
            attrs, inner = rest[:gt], rest[gt + 1:-close]
            t = None
            if "t=" in attrs:
                t = _attr(attrs, "t")
            formula = is_text = None
            if f_open in inner:
                m = f_search(inner)
                if m:
                    formula = _unescape(m[1] or "")
            m = v_search(inner)
            v = m[1] if m else None
            if v and t not in (None, "n", "s", "b"):
                v = _unescape(v)
            if is_search(inner):
                is_text = _rich_text(inner, pats)
            try:
                cell = _typed(t, v, formula, sst, is_text)
            except (ValueError, IndexError, TypeError):
                raise bad(rest) from None
            cache[rest] = cell
            return cell

        get, nget = cache.get, numbers.get
        return {r: (get(rest) or make(rest)) if rest else
                (number(f, v) if f else nget(v) or number(f, v))
                for r, f, v, rest in pats["cell"].findall(text, start, end)}

    def _cells_slow(self, part, data):
        """The same result by a streaming parser; positions of cells without ``r`` inferred."""
        sst = None
        out = {}
        row = col = 0
        try:
            for event, el in DET.iterparse(_Bytes(data), events=("start", "end"),
                                           forbid_dtd=True):
                tag = _local(el.tag)
                if event == "start":
                    if tag == "row":
                        r = el.get("r")
                        row, col = (int(r) if r else row + 1), 0
                    continue
                if tag == "c":
                    ref = el.get("r")
                    if ref:
                        m = _A1.fullmatch(ref)
                        col = col_number(m[1])
                        row = int(m[2])
                    else:
                        col += 1
                        ref = f"{col_name(col)}{row}"
                    t = el.get("t")
                    formula = value = None
                    is_text = None
                    for child in el:
                        ct = _local(child.tag)
                        if ct == "f":
                            formula = child.text or ""
                        elif ct == "v":
                            value = child.text or ""
                        elif ct == "is":
                            is_text = _rst_text(child)
                    if t == "s" and sst is None:
                        sst = self._shared_strings()
                    out[ref] = _typed(t, value, formula, sst, is_text)
                    el.clear()
                elif tag == "row":
                    el.clear()
        except (DET.ParseError, DefusedXmlException, LookupError, ValueError, IndexError, TypeError,
                AttributeError):
            raise BookError(self.path, f"其中的 {part} 无法解析,文件可能已损坏。") from None
        return out


class _Bytes:
    """Minimal file object over bytes (iterparse reads in chunks)."""

    def __init__(self, data):
        self._data, self._pos = data, 0

    def read(self, n=-1):
        end = len(self._data) if n < 0 else self._pos + n
        chunk = self._data[self._pos:end]
        self._pos += len(chunk)
        return chunk


def _rst_text(el):
    """Text of a CT_Rst element (``<si>``/``<is>``): ``t`` or runs' ``t``, phonetics skipped."""
    parts = []
    for child in el:
        tag = _local(child.tag)
        if tag == "t":
            parts.append(child.text or "")
        elif tag == "r":
            parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
    return _unxstring("".join(parts))


def _typed(t, v, formula, sst, is_text):
    """Cell from the t attribute, the plain ``<v>`` text and ``<is>`` text (None if absent)."""
    if is_text is not None:
        return Cell(is_text, formula, "s")
    if v is None or (v == "" and t in (None, "n", "s", "b")):
        return Cell(None, formula, "blank") if formula is not None else _BLANK
    if t is None or t == "n":
        return Cell(_number(v), formula, "n")
    if t == "s":
        return Cell(sst[int(v)], formula, "s")
    if t == "b":
        return Cell(v.strip() not in ("0", "false"), formula, "b")
    if t == "str" or t == "inlineStr":
        return Cell(_unxstring(v), formula, "str" if t == "str" else "s")
    return Cell(v, formula, t)  # 'e' errors, 'd' ISO dates


def _sheet_data(text, p):
    """(start, end) of the ``<sheetData>`` content, or None when absent or empty."""
    i = _find_tag(text, f"{p}sheetData")
    if i < 0:
        return None
    gt = text.index(">", i)
    if text[gt - 1] == "/":
        return None
    end = text.find(f"</{p}sheetData>", gt)
    return None if end < 0 else (gt + 1, end)


# A sheet part written the way Excel, WPS, LibreOffice, openpyxl and XlsxWriter write
# it: every cell ``<c r="...`` and every row ``<row r="...``, no prefix. Then the
# extent follows from searches that start at literal text (milliseconds for megabytes).
_ODD_TAG = re.compile(rb'<(?:c|row)(?:[>/\t\n\r]| (?!r="))')
_PREFIXED_TAG = re.compile(rb":(?:c|row)[\s/>]")
# a cell address other than one letter and at most five digits (A1..Z99999): looked at
_UNUSUAL_CELL = re.compile(rb'<c r="(?!\$?[A-Za-z]\$?[1-9][0-9]{0,4}")([^"<>]*)"')
_ANY_CELL_ROW = re.compile(rb'<c r="\$?[A-Za-z]{1,3}\$?([0-9]+)"')


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
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text[:8]) <= _MAX_ROW:
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
    if _ODD_TAG.search(data) or _PREFIXED_TAG.search(data):
        return _extent_by_parse(book, part, data)
    rows, cols = 0, 1
    for m in _UNUSUAL_CELL.finditer(data):
        row, col = _address(m[1])
        rows, cols = max(rows, row), max(cols, col)
        if rows > MAX_SHEET_ROWS:
            return rows, cols
    if cols <= 26:
        return max(rows, 1), 26  # A:Z: within MAX_SHEET_CELLS whatever the rows
    for m in _ANY_CELL_ROW.finditer(data):  # far columns: the true last row matters
        rows = max(rows, int(m[1]))
    return max(rows, 1), cols


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
    BookError when refused; nothing when the record cannot be found (zipfile
    then says what is wrong).
    """
    try:
        end = zipfile._EndRecData(f)
    except (AttributeError, OSError, struct.error):  # private helper gone or unreadable
        return
    if end is None:
        return
    if end[zipfile._ECD_ENTRIES_TOTAL] > max_entries:
        raise BookError(path, f"内含条目超过 {max_entries:,} 个,疑似损坏或恶意构造的文件,已拒绝打开。")
    if end[zipfile._ECD_SIZE] > MAX_CENTRAL_DIR:
        raise BookError(path, "目录异常庞大,疑似损坏或恶意构造的文件,已拒绝打开。")


def _guard_central_directory(path, f):
    """Entry count and directory size from the end record, before zipfile reads them all."""
    try:
        end = zipfile._EndRecData(f)
    except (AttributeError, OSError):  # private helper gone or unreadable: zipfile decides
        return
    if end is None:
        raise zipfile.BadZipFile
    if end[zipfile._ECD_ENTRIES_TOTAL] > MAX_ENTRIES:
        raise BookError(path, f"内含条目超过 {MAX_ENTRIES} 个,疑似损坏或恶意构造的文件,已拒绝打开。")
    if end[zipfile._ECD_SIZE] > MAX_CENTRAL_DIR:
        raise BookError(path, "压缩包目录异常庞大,疑似损坏或恶意构造的文件,已拒绝打开。")


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
        raise BookError(path, f"内含条目超过 {MAX_ENTRIES} 个,疑似损坏或恶意构造的文件,已拒绝打开。")
    total = 0
    members = {}
    keys = {}
    for info in infos:
        total += info.file_size
        if info.file_size > RATIO_MIN_SIZE and info.file_size > MAX_RATIO * info.compress_size:
            raise BookError(path, f"其中的 {info.filename} 压缩比异常(超过 {MAX_RATIO} 倍),"
                                  "疑似恶意构造的文件,已拒绝打开。")
        if info.flag_bits & 0x1:
            raise BookError(path, f"其中的 {info.filename} 被加密,无法读取。")
        if info.filename in members:
            raise BookError(path, f"其中的 {_printable(info.filename)} 重复出现,文件已损坏。")
        key = part_key(info.filename)
        if key in keys and not key.endswith("/"):
            raise BookError(path, f"其中的 {_printable(keys[key])} 与 {_printable(info.filename)} "
                                  "是同一部件(名称只差大小写或编码),各程序读到的内容会不同,"
                                  "疑似损坏或恶意构造的文件,已拒绝打开。")
        keys[key] = info.filename
        members[info.filename] = info
    if total > MAX_TOTAL_SIZE:
        raise BookError(path, "解压后总大小超过 1 GiB,疑似恶意构造的文件,已拒绝打开。")
    offsets = [i.header_offset for i in infos]
    if len(set(offsets)) < len(offsets):  # two entries sharing one data: an overlap bomb
        raise BookError(path, "其中有互相重叠的条目(多个条目指向同一份数据),疑似恶意构造的文件,已拒绝打开。")
    return members


# --- writing a new worksheet -------------------------------------------------------------

def _cell_xml(ref, value, p="", style=None):
    """A complete ``<c>`` element holding a plain value or a ``Formula``."""
    s = f' s="{style}"' if style is not None else ""
    if isinstance(value, Formula):
        kind = _value_kind(value)
        t = ' t="str"' if kind == "s" else ' t="b"' if kind == "b" else ""
        v = value.value
        cached = "" if kind is None else f"<{p}v>{_esc_text(_xstring(v)) if kind == 's' else _num_text(int(v) if kind == 'b' else v)}</{p}v>"
        return f'<{p}c r="{ref}"{s}{t}>{value.xml(p)}{cached}</{p}c>'
    kind = _value_kind(value)
    if kind is None:
        return f'<{p}c r="{ref}"{s}/>'
    if kind == "b":
        return f'<{p}c r="{ref}"{s} t="b"><{p}v>{int(value)}</{p}v></{p}c>'
    if kind == "n":
        return f'<{p}c r="{ref}"{s}><{p}v>{_num_text(value)}</{p}v></{p}c>'
    return f'<{p}c r="{ref}"{s} t="inlineStr"><{p}is>{_t_xml(value, p)}</{p}is></{p}c>'


def _t_xml(text, p=""):
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f"<{p}t{space}>{_esc_text(_xstring(text))}</{p}t>"


def sheet_xml(rows, *, col_widths=None, hyperlinks=(), freeze_header=False):
    """A minimal valid worksheet part.

    rows: list of lists of values (str as inline strings, numbers, bools, None = no cell).
    col_widths: widths by 0-based column, as a list (None skips) or a dict.
    hyperlinks: (A1 cell, location such as "'党员互评'!C5", tooltip or None) internal links.
    freeze_header: keep the first row in view while scrolling.
    """
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           f'<worksheet xmlns="{_MAIN_NS[0]}" xmlns:r="{_REL_NS[0]}">']
    width = max((len(r) for r in rows), default=0)
    if rows and width:
        out.append(f'<dimension ref="A1:{col_name(width)}{len(rows)}"/>')
    if freeze_header:
        out.append('<sheetViews><sheetView workbookViewId="0">'
                   '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                   '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
                   "</sheetView></sheetViews>")
    else:
        out.append('<sheetViews><sheetView workbookViewId="0"/></sheetViews>')
    out.append('<sheetFormatPr defaultRowHeight="15"/>')
    widths = dict(enumerate(col_widths)) if isinstance(col_widths, (list, tuple)) \
        else dict(col_widths or {})
    cols = [(c, w) for c, w in sorted(widths.items()) if w is not None]
    if cols:
        out.append("<cols>")
        out.extend(f'<col min="{c + 1}" max="{c + 1}" width="{float(w):g}" customWidth="1"/>'
                   for c, w in cols)
        out.append("</cols>")
    out.append("<sheetData>")
    texts = {}
    for r, values in enumerate(rows, 1):
        out.append(f'<row r="{r}">')
        for c, value in enumerate(values, 1):
            if value is not None:
                ref = f"{col_name(c)}{r}"
                out.append(_cell_xml(ref, value))
                texts[ref] = value if isinstance(value, str) else None
        out.append("</row>")
    out.append("</sheetData>")
    if hyperlinks:
        out.append("<hyperlinks>")
        for ref, location, tooltip in hyperlinks:
            row, col = parse_a1(ref)
            ref = f"{col_name(col)}{row}"
            display = texts.get(ref) or location
            tip = f' tooltip="{_esc_attr(tooltip)}"' if tooltip else ""
            out.append(f'<hyperlink ref="{ref}" location="{_esc_attr(location)}" '
                       f'display="{_esc_attr(display)}"{tip}/>')
        out.append("</hyperlinks>")
    out.append('<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" '
               'header="0.3" footer="0.3"/></worksheet>')
    return "".join(out).encode("utf-8")


# --- patching a sheet part ---------------------------------------------------------------

def _patch_cell(cell, value, p):
    """The ``<c>`` element ``cell`` holding ``value``; a formula stays, its cache changes."""
    pats = _pats(p)
    gt = cell.index(">")
    closing = cell[gt - 1] == "/"
    attrs = _ATTR.findall(cell[len(p) + 2:gt - 1 if closing else gt])
    inner = "" if closing else cell[gt + 1:cell.rindex("<")]
    f = pats["felem"].search(inner)
    ext = pats["ext"].search(inner)
    kind = _value_kind(value)
    if isinstance(value, Formula):  # a new formula replaces the old one, if any
        if f and re.search(r"""\sref\s*=""", f[0].split(">", 1)[0]) and "shared" in f[0]:
            raise ValueError("cannot replace the master of a shared formula")
        attrs = [(k, v) for k, v in attrs if k != "vm"]
        f, value = [value.xml(p)], value.value
    if f:
        t = {"n": None, "s": "str", "b": "b", None: None}[kind]
    else:
        t = {"n": None, "s": "inlineStr", "b": "b", None: None}[kind]
        attrs = [(k, v) for k, v in attrs if k != "vm"]  # metadata of the old value
    kept = [(k, v) for k, v in attrs if k != "t"]
    if t is not None:
        old = next((i for i, (k, _) in enumerate(attrs) if k == "t"), None)
        new = ("t", f'"{t}"')
        if old is None:
            kept.append(new)
        else:
            kept.insert(sum(1 for k, _ in attrs[:old] if k != "t"), new)
    head = f"<{p}c" + "".join(f" {k}={v}" for k, v in kept)
    body = f[0] if f else ""
    if kind == "n":
        body += f"<{p}v>{_num_text(value)}</{p}v>"
    elif kind == "b":
        body += f"<{p}v>{int(value)}</{p}v>"
    elif kind == "s" and f:
        body += f"<{p}v>{_esc_text(_xstring(value))}</{p}v>"
    elif kind == "s":
        body += f"<{p}is>{_t_xml(value, p)}</{p}is>"
    if ext:
        body += ext[0]
    return f"{head}/>" if not body else f"{head}>{body}</{p}c>"


def _col_styles(text, p):
    """[(min, max, style)] of ``<col>`` elements that carry a style."""
    out = []
    for m in re.finditer(rf"<{re.escape(p)}col(?=\s)([^>]*)>", text):
        a = dict((k, v[1:-1]) for k, v in _ATTR.findall(m[1]))
        if a.get("style") not in (None, "0") and a.get("min", "").isdigit():
            out.append((int(a["min"]), int(a.get("max", a["min"])), a["style"]))
    return out


def _patch_sheet(book, name, text, updates):
    """Sheet part text with ``updates`` {A1: value} applied by local string edits."""
    p = _root_prefix(text)
    pats = _pats(p)
    unusual = BookError(book, f"工作表“{name}”的内部格式特殊(缺少单元格位置等),无法原位写入;"
                              "请用 Excel 或 WPS 打开后另存一次再试。")
    targets = {}
    for address, value in updates.items():
        _value_kind(value)
        row, col = parse_a1(address)
        targets.setdefault(row, {})[col] = value
    if not targets:
        return text
    i = _find_tag(text, f"{p}sheetData")
    if i < 0:
        raise BookError(book, f"工作表“{name}”不是普通工作表,无法写入单元格。")
    gt = text.index(">", i)
    if text[gt - 1] == "/":
        sd_start = sd_end = None
    else:
        sd_start, sd_end = gt + 1, text.find(f"</{p}sheetData>", gt)
        if sd_end < 0:
            raise unusual
        if text.find("<!", sd_start, sd_end) >= 0:
            raise unusual
    edits = []  # (start, end, replacement)
    row_style = {}
    col_styles = None

    def style_for(row, col):
        nonlocal col_styles
        if row in row_style:
            return row_style[row]
        if col_styles is None:
            col_styles = _col_styles(text[:i], p)
        return next((s for lo, hi, s in col_styles if lo <= col <= hi), None)

    # index the rows once: number -> (start, tag end, content end, end, attrs)
    rows = []
    if sd_start is not None:
        pos = sd_start
        for m in pats["row"].finditer(text, sd_start, sd_end):
            if m.start() < pos:
                continue
            r = _attr(m[1], "r")
            if r is not None and not (r.isascii() and r.isdigit()):
                raise unusual
            rnum = int(r) if r is not None else (rows[-1][0] + 1 if rows else 1)  # r is optional
            selfclosing = m[1].endswith("/")
            cend = m.end() if selfclosing else text.find(f"</{p}row>", m.end(), sd_end)
            if cend < 0:
                raise unusual
            end = cend if selfclosing else cend + len(f"</{p}row>")
            rows.append((rnum, m.start(), m.end(), cend, end, m[1]))
            pos = end
    by_number = {r[0]: r for r in rows}
    numbers_sorted = [r[0] for r in rows]  # rows are in ascending order in a valid part
    new_rows = {}  # insertion position -> [row xml]
    grown = []  # (row, col) of inserted cells; clearing a missing cell inserts nothing
    for rnum in sorted(targets):
        cols = targets[rnum]
        info = by_number.get(rnum)
        if info is None:
            fresh = sorted(c for c, v in cols.items() if v is not None)
            if not fresh:
                continue
            grown.extend((rnum, c) for c in fresh)
            cells = "".join(_cell_xml(f"{col_name(c)}{rnum}", cols[c], p, style_for(rnum, c))
                            for c in fresh)
            k = bisect.bisect_right(numbers_sorted, rnum)
            pos = rows[k][1] if k < len(rows) else sd_end
            new_rows.setdefault(pos, []).append(f'<{p}row r="{rnum}">{cells}</{p}row>')
            continue
        _, rstart, tag_end, cend, rend, rattrs = info
        a = dict((k, v[1:-1]) for k, v in _ATTR.findall(rattrs))
        if a.get("customFormat") in ("1", "true") and a.get("s"):
            row_style[rnum] = a["s"]
        existing = []  # (col, start, end)
        for m in pats["cellspan"].finditer(text, tag_end, cend):
            r = _attr(m[1], "r")
            cm = _R_ATTR.fullmatch(r) if r is not None else None
            if r is not None and not cm:
                raise unusual
            # a cell without r is the one after the previous (as every reader places it)
            col = col_number(cm[1]) if cm else (existing[-1][0] + 1 if existing else 1)
            existing.append((col, m.start(), m.end()))
        inserts = {}
        for c in sorted(cols):
            hit = next((e for e in existing if e[0] == c), None)
            if hit:
                edits.append((hit[1], hit[2], _patch_cell(text[hit[1]:hit[2]], cols[c], p)))
            elif cols[c] is not None:
                grown.append((rnum, c))
                pos = next((e[1] for e in existing if e[0] > c), cend)
                inserts.setdefault(pos, []).append(
                    _cell_xml(f"{col_name(c)}{rnum}", cols[c], p, style_for(rnum, c)))
        # widen spans (an optional hint) when a new cell falls outside it
        new_tag = None
        if inserts and "spans" in a:
            try:
                bounds = [int(x) for x in re.split(r"[\s:]+", a["spans"].strip())]
                new = [c for r, c in grown if r == rnum]
                lo, hi = min(bounds + new), max(bounds + new)
                if (lo, hi) != (min(bounds), max(bounds)):
                    new_tag = re.sub(r"""(\sspans\s*=\s*["'])[^"']*""",
                                     lambda m: f"{m[1]}{lo}:{hi}", text[rstart:tag_end], count=1)
            except ValueError:
                pass
        if rattrs.endswith("/"):  # <row .../> becomes <row ...>cells</row>
            start_tag = (new_tag or text[rstart:tag_end])[:-2].rstrip() + ">"
            edits.append((rstart, rend, start_tag + "".join(inserts.get(cend, [])) + f"</{p}row>"))
            continue
        if new_tag:
            edits.append((rstart, tag_end, new_tag))
        edits.extend((pos, pos, "".join(xmls)) for pos, xmls in inserts.items())
    if new_rows:
        if sd_start is None:
            edits.append((i, gt + 1, text[i:gt - 1].rstrip() + ">" + "".join(new_rows[None])
                          + f"</{p}sheetData>"))
        else:
            edits.extend((pos, pos, "".join(xmls)) for pos, xmls in new_rows.items())
    # widen the dimension when a cell lies outside it
    dm = re.search(rf"""<{re.escape(p)}dimension\s+ref\s*=\s*["']([^"']*)["']""", text[:i])
    if dm and grown:
        refs = [parse_a1(x) for x in dm[1].split(":") if _A1.fullmatch(x.strip())]
        if refs:
            old = (min(r for r, _ in refs), min(c for _, c in refs),
                   max(r for r, _ in refs), max(c for _, c in refs))
            lo_r, lo_c = min(old[0], *(r for r, _ in grown)), min(old[1], *(c for _, c in grown))
            hi_r, hi_c = max(old[2], *(r for r, _ in grown)), max(old[3], *(c for _, c in grown))
            if (lo_r, lo_c, hi_r, hi_c) != old:
                edits.append((dm.start(1), dm.end(1),
                              f"{col_name(lo_c)}{lo_r}:{col_name(hi_c)}{hi_r}"))
    edits.sort(key=lambda e: (e[0], e[1]))
    out, pos = [], 0
    for start, end, repl in edits:
        out.append(text[pos:start])
        out.append(repl)
        pos = end
    out.append(text[pos:])
    return "".join(out)


# --- adding sheets: workbook.xml, its relationships, content types ------------------------

def _valid_sheet_name(name):
    if not name or len(name) > 31 or re.search(r"[\[\]:*?/\\]", name) \
            or name.startswith("'") or name.endswith("'"):
        raise ValueError(f"not a valid Excel sheet name: {name!r}")


def _insert_before_close(book, part, text, tag, make):
    """Insert ``make(prefix)`` before the last ``</tag>`` (or ``</prefix:tag>``) of text."""
    m = None
    for m in re.finditer(rf"</((?:[\w.-]+:)?){tag}\s*>", text):
        pass
    if m is None:
        raise BookError(book, f"其中的 {part} 缺少 <{tag}>,文件可能已损坏。")
    return text[:m.start()] + make(m[1]) + text[m.start():]


def _add_sheet_entries(book, new_sheets):
    """Edited workbook, rels and content-types texts for new sheets; part names chosen."""
    wb_part = book._wb_part
    folder, base = posixpath.split(wb_part)
    rels_part = book._member(posixpath.join(folder, "_rels", base + ".rels"))
    ct_part = book._member("[Content_Types].xml")
    if rels_part is None or ct_part is None:
        raise BookError(book.path, "缺少工作簿关系或内容类型清单,文件可能已损坏。")
    texts, encoders = {}, {}
    for part in (wb_part, rels_part, ct_part):
        data = book._xml(part)
        texts[part], encoders[part] = _decode(book.path, part, data)
    taken = {n.lower() for n in book._members}
    taken.update(m.lower() for m in re.findall(r"""PartName\s*=\s*["']/?([^"']+)""",
                                               texts[ct_part]))
    rids = set(re.findall(r"""\sId\s*=\s*["']([^"']+)""", texts[rels_part]))
    ids = [int(s[1]) for s in book._sheets if (s[1] or "").isdigit()]
    next_id = max(ids, default=0) + 1
    n = 1 + max((int(m[1]) for m in (re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", x)
                                     for x in taken) if m), default=0)
    rel_prefix = _root_binding(texts[wb_part], _REL_NS)
    added = []
    for name, xml in new_sheets:
        while f"xl/worksheets/sheet{n}.xml" in taken:
            n += 1
        part = f"xl/worksheets/sheet{n}.xml"
        taken.add(part)
        rid, k = f"rId{n}", n
        while rid in rids:
            k += 1
            rid = f"rId{k}"
        rids.add(rid)
        target = posixpath.relpath(part, folder or ".")
        texts[rels_part] = _insert_before_close(
            book.path, rels_part, texts[rels_part], "Relationships",
            lambda p: f'<{p}Relationship Id="{rid}" Type="{_WORKSHEET_TYPE}" Target="{target}"/>')
        texts[ct_part] = _insert_before_close(
            book.path, ct_part, texts[ct_part], "Types",
            lambda p: f'<{p}Override PartName="/{part}" ContentType="{_WORKSHEET_CT}"/>')
        rid_attr = f'{rel_prefix}:id="{rid}"' if rel_prefix else \
            f'xmlns:r="{_REL_NS[0]}" r:id="{rid}"'
        texts[wb_part] = _insert_before_close(
            book.path, wb_part, texts[wb_part], "sheets",
            lambda p: f'<{p}sheet name="{_esc_attr(name)}" sheetId="{next_id}" {rid_attr}/>')
        next_id += 1
        added.append((part, xml))
    out = {part: encoders[part](texts[part]) for part in texts}
    _prove_entries(book, out[wb_part], out[rels_part], out[ct_part], added, new_sheets, folder)
    return out, added


def _root_binding(text, namespaces):
    """The prefix the root start tag binds to one of ``namespaces``, else None.

    Only the root's declarations are in scope everywhere: a prefix declared on a
    sibling element (openpyxl declares ``r`` on each ``<sheet>``) is not.
    """
    _, i = _root(text)
    start = text[i:text.find(">", i) + 1]
    for ns in namespaces:
        m = re.search(rf"""\sxmlns:([\w.-]+)\s*=\s*["']{re.escape(ns)}["']""", start)
        if m:
            return m[1]
    return None


def _prove_entries(book, wb, rels, ct, added, new_sheets, folder):
    """Parse the edited parts as XML with their own declarations: each new sheet must be
    a ``sheet`` of the workbook whose relationship id resolves to its part."""
    def names(root, local):
        return [e for e in root.iter() if _local(e.tag) == local]
    wb_root = _parse_small(book.path, "xl/workbook.xml", wb)
    rel_root = _parse_small(book.path, "workbook.xml.rels", rels)
    ct_root = _parse_small(book.path, "[Content_Types].xml", ct)
    targets = {e.get("Id"): e.get("Target") for e in names(rel_root, "Relationship")}
    overrides = {e.get("PartName") for e in names(ct_root, "Override")}
    sheets = {e.get("name"): e for e in names(wb_root, "sheet")
              if e.tag.startswith("{") and e.tag[1:].partition("}")[0] in _MAIN_NS}
    for (name, _), (part, _) in zip(new_sheets, added):
        el = sheets.get(name)
        rid = None if el is None else next(
            (v for k, v in el.attrib.items() if k[1:].partition("}")[0] in _REL_NS
             and _local(k) == "id"), None)
        if rid is None or targets.get(rid) != posixpath.relpath(part, folder or ".") \
                or f"/{part}" not in overrides:
            raise BookError(book.path, f"无法在工作簿中登记新工作表“{name}”(工作簿结构特殊),"
                                       "请用 Excel 或 WPS 打开后另存一次再试。")


# --- copying the zip ---------------------------------------------------------------------

_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")
_LIMIT = 0xFFFFFFFF


def _dos_time(date_time):
    y, mo, d, h, mi, s = date_time
    return (h << 11) | (mi << 5) | (s // 2), ((y - 1980) << 9) | (mo << 5) | d


def _strip_zip64(extra):
    """Extra field without ZIP64 records (we write 32-bit sizes)."""
    out, i = [], 0
    while i + 4 <= len(extra):
        hid, size = struct.unpack_from("<HH", extra, i)
        if hid != 0x0001:
            out.append(extra[i:i + 4 + size])
        i += 4 + size
    return b"".join(out)


class _ZipWriter:
    """A plain zip writer that can copy an entry's compressed bytes verbatim."""

    def __init__(self, f, book):
        self._f, self._book, self._central = f, book, []

    def _header(self, info, name, flags, method, crc, csize, usize, version):
        offset = self._f.tell()
        if max(offset, csize, usize) >= _LIMIT:
            raise BookError(self._book, "文件过大,无法写入。")
        extra = _strip_zip64(info.extra)
        time, date = _dos_time(info.date_time)
        self._f.write(_LOCAL.pack(b"PK\x03\x04", version, flags, method, time, date,
                                  crc, csize, usize, len(name), len(extra)) + name + extra)
        self._central.append(_CENTRAL.pack(
            b"PK\x01\x02", info.create_version | (info.create_system << 8), version, flags,
            method, time, date, crc, csize, usize, len(name), len(extra), len(info.comment),
            0, info.internal_attr, info.external_attr, offset) + name + extra + info.comment)

    @staticmethod
    def _name(info):
        name = info.orig_filename
        try:
            return name.encode("ascii"), info.flag_bits & ~0x08
        except UnicodeEncodeError:
            return name.encode("utf-8"), (info.flag_bits & ~0x08) | 0x800

    def copy(self, info, src):
        """Entry ``info`` of open file ``src``, compressed bytes untouched."""
        src.seek(info.header_offset)
        head = src.read(_LOCAL.size)
        if len(head) < _LOCAL.size or head[:4] != b"PK\x03\x04":
            raise BookError(self._book, f"其中的 {info.filename} 已损坏,无法复制。")
        fields = _LOCAL.unpack(head)
        src.seek(info.header_offset + _LOCAL.size + fields[9] + fields[10])
        name, flags = self._name(info)
        self._header(info, name, flags, info.compress_type, info.CRC, info.compress_size,
                     info.file_size, info.extract_version)
        left = info.compress_size
        while left:
            chunk = src.read(min(left, 1 << 20))
            if not chunk:
                raise BookError(self._book, f"其中的 {info.filename} 已损坏,无法复制。")
            self._f.write(chunk)
            left -= len(chunk)

    def add(self, info, data):
        """Entry ``info`` with new content ``data``, compressed like the original."""
        name, flags = self._name(info)
        if info.compress_type == zipfile.ZIP_STORED:
            method, payload, version = zipfile.ZIP_STORED, data, max(info.extract_version, 10)
        else:
            co = zlib.compressobj(6, zlib.DEFLATED, -15)
            payload = co.compress(data) + co.flush()
            method = zipfile.ZIP_DEFLATED
            version = info.extract_version if info.compress_type == method else 20
        self._header(info, name, flags, method, zlib.crc32(data), len(payload), len(data),
                     version)
        self._f.write(payload)

    def close(self, comment=b""):
        offset = self._f.tell()
        size = 0
        for entry in self._central:
            self._f.write(entry)
            size += len(entry)
        if offset >= _LIMIT:
            raise BookError(self._book, "文件过大,无法写入。")
        n = len(self._central)
        self._f.write(_END.pack(b"PK\x05\x06", 0, 0, n, n, size, offset, len(comment)) + comment)


def _set_names(book, text, names):
    """workbook.xml text with the workbook-scoped defined ``names`` {name: formula text}
    set: an existing name's text replaced, a new one added to ``<definedNames>``."""
    p = _root_prefix(text)
    P = re.escape(p)
    for name, value in names.items():
        if not re.fullmatch(r"[A-Za-z_\\][\w.]*", name):
            raise ValueError(f"not a defined name we write: {name!r}")
        body = _esc_text(_BAD_XML_CHARS.sub("", value))
        found = None
        for m in re.finditer(rf"<{P}definedName(\s[^>]*)>([^<]*)</{P}definedName\s*>", text):
            attrs = dict((k, v[1:-1]) for k, v in _ATTR.findall(m[1]))
            if "localSheetId" not in attrs and _unescape(attrs.get("name", "")).casefold() \
                    == name.casefold():
                found = m
                break
        if found is not None:
            text = text[:found.start(2)] + body + text[found.end(2):]
            continue
        element = f'<{p}definedName name="{name}">{body}</{p}definedName>'
        close = list(re.finditer(rf"</{P}definedNames\s*>", text))
        if close:
            text = text[:close[-1].start()] + element + text[close[-1].start():]
            continue
        empty = re.search(rf"<{P}definedNames\s*/>", text)
        if empty:
            text = text[:empty.start()] + f"<{p}definedNames>{element}</{p}definedNames>" \
                + text[empty.end():]
            continue
        after = None
        for tag in ("externalReferences", "functionGroups", "sheets"):
            after = re.search(rf"</{P}{tag}\s*>", text) or re.search(
                rf"<{P}{tag}(?=[\s/>])[^>]*/>", text)
            if after:
                break
        if after is None:
            raise BookError(book, "其中的 xl/workbook.xml 缺少 <sheets>,文件可能已损坏。")
        text = text[:after.end()] + f"<{p}definedNames>{element}</{p}definedNames>" \
            + text[after.end():]
    root = _parse_small(book, "xl/workbook.xml", text.encode("utf-8"))
    have, count = {}, {}
    for e in root.iter():
        if _local(e.tag) == "definedName" and e.get("localSheetId") is None:
            key = (e.get("name") or "").casefold()
            have[key], count[key] = e.text, count.get(key, 0) + 1
    for name, value in names.items():
        if have.get(name.casefold()) != value or count.get(name.casefold()) != 1:
            raise BookError(book, "无法在工作簿中写入计算范围的名称(工作簿结构特殊),"
                                  "请用 Excel 或 WPS 打开后另存一次再试。")
    return text


def _drop_links(book, changed):
    """Remove the links to other workbooks (``xl/externalLinks``) from the package:
    {part: new bytes} for workbook.xml, its rels and the content types, and the parts
    dropped. Only when no formula reads them any more (compute restored them)."""
    wb = book._wb_part
    folder, base = posixpath.split(wb)
    rels_part = posixpath.join(folder, "_rels", base + ".rels")
    gone = {n for t, n in book._wb_rels.values() if t.endswith("/externalLink")}
    if not gone:
        return set()
    gone |= {posixpath.join(posixpath.dirname(n), "_rels", posixpath.basename(n) + ".rels")
             for n in gone}
    gone = {n for n in gone if n in book._members}
    ids = [i for i, (t, _) in book._wb_rels.items() if t.endswith("/externalLink")]
    text, enc = _decode(book.path, wb, changed.get(wb) or book._xml(wb))
    p = re.escape(_root_prefix(text))
    text = re.sub(rf"<{p}externalReferences\b.*?</{p}externalReferences\s*>", "", text,
                  flags=re.S)
    changed[wb] = enc(text)
    rels, enc = _decode(book.path, rels_part, changed.get(rels_part) or book._xml(rels_part))
    for rid in ids:
        rels = re.sub(rf"""<(?:[\w.-]+:)?Relationship\b[^<>]*\sId\s*=\s*["']{re.escape(rid)}["']"""
                      rf"""[^<>]*(?:/>|>[^<]*</(?:[\w.-]+:)?Relationship\s*>)""", "", rels)
    changed[rels_part] = enc(rels)
    ct = "[Content_Types].xml"
    types, enc = _decode(book.path, ct, changed.get(ct) or book._xml(ct))
    for part in gone:
        types = re.sub(rf"""<(?:[\w.-]+:)?Override\b[^<>]*PartName\s*=\s*["']/?{re.escape(part)}["']"""
                       rf"""[^<>]*(?:/>|>[^<]*</(?:[\w.-]+:)?Override\s*>)""", "", types, flags=re.I)
    changed[ct] = enc(types)
    trees = {part: _parse_small(book.path, part, changed[part]) for part in (wb, rels_part, ct)}
    left = [e for e in trees[rels_part] if e.get("Id") in ids] + [
        e for e in trees[ct] if part_key(e.get("PartName", "")) in {part_key(g) for g in gone}] + [
        e for e in trees[wb].iter() if _local(e.tag) == "externalReferences"]
    if left:  # a reference to a dropped part would make Excel repair the file
        raise BookError(book.path, "无法删除指向其他工作簿的链接(工作簿结构特殊),"
                                   "请用 Excel 或 WPS 打开后另存一次再试。")
    return gone


def write_patched(src, dst, updates, add_sheets=None, names=None, drop_links=False):
    """Copy workbook ``src`` to ``dst`` changing only what is asked.

    updates: {sheet name: {A1 address: value}}; values are numbers, str, bool or None.
    A formula cell keeps its ``<f>`` and gets a new cached value; other cells get the
    value itself (strings inline); missing cells and rows are inserted in order.
    add_sheets: {sheet name: worksheet XML bytes}, appended as last sheets, or replacing
    the part of an existing sheet of that name.
    names: {defined name: formula text}: workbook-scoped names set (``_set_names``).
    drop_links: remove the links to other workbooks (``_drop_links``).
    Every other zip entry is copied verbatim (same name, order, compression, date).
    """
    src, dst = os.fspath(src), os.fspath(dst)
    updates = updates or {}
    if os.path.exists(dst) and os.path.samefile(src, dst):
        raise ValueError("write_patched needs a destination other than the source")
    add_sheets = dict(add_sheets or {})
    with BookFile.open(src) as book:
        changed = {}  # member name -> new bytes
        new_sheets = []
        part_of = {}
        for name, xml in add_sheets.items():
            if not isinstance(xml, (bytes, bytearray)):
                raise TypeError("worksheet XML must be bytes")
            _check_xml(book.path, name, bytes(xml))
            sheet = next((s for s in book._sheets if s[0].casefold() == name.casefold()), None)
            if sheet is None:
                _valid_sheet_name(name)
                new_sheets.append((name, bytes(xml)))
            else:
                if sheet[3] is None or not sheet[4].endswith("/worksheet"):
                    raise BookError(book.path, f"工作表“{sheet[0]}”不是普通工作表,无法替换。")
                changed[sheet[3]] = bytes(xml)
                part_of[name.casefold()] = sheet[3]
        if len({n.casefold() for n, _ in new_sheets}) < len(new_sheets):
            raise ValueError("add_sheets names repeat (sheet names ignore case)")
        added = []
        if new_sheets:
            edited, added = _add_sheet_entries(book, new_sheets)
            changed.update(edited)
            for (name, _), (part, _) in zip(new_sheets, added):
                part_of[name.casefold()] = part
        if names:
            wb = book._wb_part
            text, encode = _decode(book.path, wb, changed.get(wb) or book._xml(wb))
            changed[wb] = encode(_set_names(book.path, text, names))
        dropped = _drop_links(book, changed) if drop_links else set()
        added_data = dict(added)
        for name, cells in updates.items():
            if not cells:
                continue
            part = part_of.get(name.casefold()) or book.sheet_part(name)
            data = changed.get(part) or added_data.get(part)
            if data is None:
                data = book._xml(part)
            text, encode = _decode(book.path, part, data)
            patched = encode(_patch_sheet(book.path, name, text, cells))
            if part in added_data:
                added_data[part] = patched
            else:
                changed[part] = patched
        template = book._members[book._wb_part]
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            out = _ZipWriter(fout, book.path)
            for name, info in book._members.items():
                if name in dropped:
                    continue
                if name in changed:
                    out.add(info, changed[name])
                else:
                    out.copy(info, fin)
            for part, _ in added:
                info = zipfile.ZipInfo(part, date_time=template.date_time)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = template.create_system
                info.create_version = template.create_version
                info.extract_version = 20
                info.external_attr = template.external_attr
                info.flag_bits = template.flag_bits & 0x06
                out.add(info, added_data[part])
            out.close(book._zip.comment)
