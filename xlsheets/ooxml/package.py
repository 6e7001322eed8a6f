"""Reading a package: ``BookFile`` proves its structure, then gives cells, names, formulas.

Reading is a regex scan over the decoded sheet XML (one Python step per cell, identical
cells share one ``Cell``), after a handler-less expat pass that proves the part is
well-formed and has no DTD. Unusual but legal markup (cells without ``r``) falls back to a
streaming ElementTree parse.
"""

from __future__ import annotations

import gc
import os
import posixpath
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from urllib.parse import unquote

import defusedxml.ElementTree as DET
from defusedxml.common import DefusedXmlException

from xlsheets.ooxml.guards import (
    CFB_MAGIC,
    MAX_BOOK_CELLS,
    MAX_PART_SIZE,
    MAX_SHEET_CELLS,
    MAX_SHEET_ROWS,
    MAX_SMALL_PART,
    BadAddress,
    BookError,
    _check_xml,
    _decode,
    check_zip_directory,
    _parse_small,
    _plain_markup,
    _sheet_extent,
    guard_members,
    has_markup,
    part_key,
    read_error,
)
from xlsheets.ooxml.markup import (
    _REL_NS,
    _attr,
    _find_tag,
    _local,
    _number,
    _pats,
    _printable,
    _rich_text,
    _root,
    _root_prefix,
    _rst_text,
    unescape,
    _unxstring,
)
from xlsheets.workbook.address import _A1, col_name, col_number


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


_FORMULA_OPEN = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?f[\s/>]')
_PLAIN_FORMULA_OPEN = re.compile(rb"<f[\s/>]")  # _FORMULA_OPEN where no ":f" can be
_CELL_OPEN = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?c\s')
_CELL_REF = re.compile(rb"[A-Z]{1,3}[0-9]+")
_ERROR_TAG = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?c\s[^<>]*?\st="e"[^<>]*>')
_ERROR_VALUE = re.compile(rb'\s*<(?:[A-Za-z_][\w.-]*:)?v>([^<]{1,40})</')


def _formula_refs(data):
    """The A1 addresses of the cells of sheet XML ``data`` whose ``<c ...>`` tag is followed
    by an ``<f>``: linear, each byte looked at a few times. Two shortcuts that decide
    as the general way does: the unprefixed search where ``data`` holds no ``:f``, and
    ``r`` read in place when it is the tag's first attribute (``<c r="K3" ...``)."""
    opening = _FORMULA_OPEN if b":f" in data else _PLAIN_FORMULA_OPEN
    out = set()
    for m in opening.finditer(data):
        at = m.start()
        start = data.rfind(b"<", 0, at)  # the tag just before <f>: its <c ...>
        gt = data.find(b">", start, at)
        if start < 0 or gt < 0 or data[gt - 1] == 0x2F or gt + 1 < at and data[gt + 1:at].strip():
            continue
        if data.startswith(b'<c r="', start) and (q := data.find(b'"', start + 6, gt)) >= 0:
            r = data[start + 6:q]  # what _attr finds: the first attribute
        elif _CELL_OPEN.match(data, start, gt + 1):
            r = _attr(data[start:gt], "r")
        else:
            continue
        if r and _CELL_REF.fullmatch(r):
            out.add(r.decode("ascii"))
    return out


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
        self._proofs = set()  # what each proof was of (``_entry``), kept for ``proofs``
        self._trusted = frozenset()  # entries another BookFile of this file proved
        self._extents = {}  # part -> cells of the grid a reader builds from it
        self._bounded = {}  # sheet part -> its bytes, once sheet_bounds has checked them
        self._load_workbook()

    # opening and guards

    @classmethod
    def open(cls, path, proved=frozenset()):
        """Open ``path``; BookError (in Chinese, naming the file) when it cannot be used.

        ``proved``: what ``proofs()`` of an earlier BookFile of the same file, read by
        this process, returned: those entries are not proved twice (compute reads its
        private copy, then writes from it)."""
        path = os.fspath(path)
        try:
            with open(path, "rb") as f:
                if f.read(4) == CFB_MAGIC[:4]:
                    raise BookError(path, "文件已加密(设置了打开密码),或是旧版 .xls 格式。"
                                          "请在 Excel 或 WPS 中取消密码,并另存为 .xlsx 后再试。")
                if check_zip_directory(path, f) is None:  # no end record: not a zip
                    raise zipfile.BadZipFile
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, struct.error):
            raise BookError(path, "不是有效的 .xlsx 工作簿(文件已损坏,或并非 Excel 文件)。") from None
        except OSError as e:
            raise read_error(path, e) from None
        try:
            members = guard_members(path, zf.infolist())
            book = cls(path, zf, members)
            book._trusted = frozenset(proved)
            return book
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

        A member declared larger than ``limit`` is refused before inflating it. zipfile
        returns no more than the declared size, though a stream that runs on is inflated
        up to 1 GiB before it is cut (a known cost of a crafted file, not a wrong read).
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
            entry = self._entry(name)
            if entry not in self._trusted:
                _check_xml(self.path, label or name, data)
            self._proofs.add(entry)
            self._proved.add(name)

    def _entry(self, name):
        """A part's zip entry as the directory tells it: name, CRC, sizes, offset. zipfile
        checks every read against the CRC, so equal entries of one file give equal bytes."""
        info = self._members[self._member(name)]
        return info.filename, info.CRC, info.compress_size, info.file_size, info.header_offset

    def proofs(self):
        """The entries proved so far (read sheets let go of included), for ``open``."""
        return frozenset(self._proofs)

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
        bang = has_markup(data, b"!")  # none: no DTD, entity, comment or CDATA
        if bang and (b"<!DOCTYPE" in data or b"<!ENTITY" in data) \
                or not data[:4096].lstrip().startswith(b"<"):
            _check_xml(self.path, name, data)  # raises with the precise reason
        _plain_markup(self.path, name, data, bang)
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

    def sheet_bounds(self, name):
        """(part, bytes) of the sheet called ``name``, bounded before python-calamine parses it.

        Besides the checks of every parsed part (size, no DTD or entities, plain
        markup), the sheet's extent is bounded (``MAX_SHEET_ROWS``,
        ``MAX_SHEET_CELLS``, ``MAX_BOOK_CELLS``): a BookError names the sheet.
        Whatever calamine builds from such bytes is bounded; ``sheet_data`` adds
        expat's proof, which must pass before anything read from them is used.
        """
        part = self.sheet_part(name)
        if part in self._bounded:  # the reader, the formula and error scans each ask: once
            return part, self._bounded[part]
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
        self._bounded[part] = data
        return part, data

    def release(self, name):
        """Let go of the sheet's bytes once read: a workbook's sheets are tens of MB, and
        holding them all would double what a read costs in memory. Asked again, they are
        read from the package and checked anew, proof included."""
        part = self.sheet_part(name)
        if self._bounded.pop(part, None) is not None:
            self._proved.discard(part)

    def sheet_data(self, name):
        """(part, bytes) of the sheet called ``name``, checked (``sheet_bounds``) and
        proved well-formed XML without DTD: what one reader tolerates another refuses,
        so nothing read from a sheet that fails the proof is used."""
        part, data = self.sheet_bounds(name)
        self._prove(part, data, f"工作表“{_printable(name)}”({part})")  # once per part
        return part, data

    def formula_addresses(self, name):
        """The A1 addresses of the sheet's cells that hold a formula.

        A quick scan for ``<c ...><f`` rather than a full parse: values come
        from python-calamine, which does not report formulas. The part is
        checked first (``sheet_data``): no DTD or entities, bounded extent.
        """
        return _formula_refs(self.sheet_data(name)[1])

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
                out[r.decode("ascii")] = _printable(unescape(v[1].decode("utf-8", "replace")), 40)
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
            out.append(_unxstring(unescape(m[1])) if m else _rich_text(inner, pats))
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
                formula = unescape(f[lf:-lf - 1])
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
                    formula = unescape(m[1] or "")
            m = v_search(inner)
            v = m[1] if m else None
            if v and t not in (None, "n", "s", "b"):
                v = unescape(v)
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
