"""Writing: chosen cells patched in place, new sheets and defined names added.

Only the ``<c>`` elements that change are edited inside a sheet part; every other
zip entry is copied byte for byte, so what openpyxl would drop (images, charts,
comments, sparklines, a VBA project) survives.
"""

from __future__ import annotations

import bisect
import functools
import numbers
import os
import posixpath
import re
import zipfile
from dataclasses import dataclass

from xlsheets.ooxml.guards import BookError, _check_xml, _codec, _decode, _parse_small, part_key
from xlsheets.ooxml.markup import (
    _ATTR,
    _BAD_XML_CHARS,
    _MAIN_NS,
    _R_ATTR,
    _REL_NS,
    _WORKSHEET_CT,
    _WORKSHEET_TYPE,
    _attr,
    _esc_attr,
    _esc_text,
    _find_tag,
    _local,
    _num_text,
    _pats,
    _root,
    _root_prefix,
    unescape,
    _xstring,
)
from xlsheets.ooxml.package import BookFile
from xlsheets.ooxml.zipcopy import ZipWriter, pack
from xlsheets.workbook.address import _A1, col_name, col_number, parse_a1, rc


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

# r as a start tag's first attribute, the way every writer puts it: read without the
# attribute-by-attribute walk (a quoted value cannot come first, so it cannot pose as r)
_FIRST_R = re.compile(r'\s+r="([^"]*)"')


@functools.lru_cache(maxsize=8)
def _plain_formula(p):
    """A formula cell in its plainest spelling: single-spaced attributes, no t, nothing
    but ``<f>`` and an optional ``<v>``; the only edit is the new cached value."""
    P = re.escape(p)
    return re.compile(rf'<{P}c((?: (?!t=)[\w:.-]+="[^"]*")*)>(<{P}f>[^<]*</{P}f>)'
                      rf'(?:<{P}v>[^<]*</{P}v>|<{P}v\s*/>)?</{P}c>')


def _patch_cell(cell, value, p):
    """The ``<c>`` element ``cell`` holding ``value``; a formula stays, its cache changes.

    A formula cell in its plainest spelling getting a new cached number or text is by far
    the commonest edit (every formula of a workbook saved by openpyxl): it is spliced
    directly, with the bytes ``_patch_cell_general`` gives (the tests hold them equal)."""
    if type(value) in (int, float, str):
        m = _plain_formula(p).fullmatch(cell)
        if m and type(value) is str:
            return f'<{p}c{m[1]} t="str">{m[2]}<{p}v>{_esc_text(_xstring(value))}</{p}v></{p}c>'
        if m:
            return f"<{p}c{m[1]}>{m[2]}<{p}v>{_num_text(value)}</{p}v></{p}c>"
    return _patch_cell_general(cell, value, p)


def _patch_cell_general(cell, value, p):
    """``_patch_cell`` for any spelling of a cell and any value."""
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


def _find_cells(text, start, end, rnum, cols, p):
    """{col: (col, start, end)} of the cells ``cols`` of row ``rnum`` found by plain text
    search, or None when the row is not in the plain spelling that makes the search
    exact (every cell's start tag begins ``<c r="A1"``) or a cell is missing: then the
    caller scans the row cell by cell, with the same result."""
    if _odd_cell(p).search(text, start, end):
        return None
    found = {}
    for c in cols:
        at = text.find(f'<{p}c r="{col_name(c)}{rnum}"', start, end)
        if at < 0:
            return None
        gt = text.index(">", at)
        stop = gt + 1 if text[gt - 1] == "/" else text.index(f"</{p}c>", gt) + len(p) + 4
        found[c] = (c, at, stop)
    return found


@functools.lru_cache(maxsize=8)
def _odd_cell(p):
    """A cell start tag that does not begin ``<c r="A1"``."""
    P = re.escape(p)
    return re.compile(rf'<{P}c(?=[\s/>])(?! r="[A-Z]{{1,3}}[1-9][0-9]{{0,6}}"[\s/>])')


def _col_styles(text, p):
    """[(min, max, style)] of ``<col>`` elements that carry a style."""
    out = []
    for m in re.finditer(rf"<{re.escape(p)}col(?=\s)([^>]*)>", text):
        a = dict((k, v[1:-1]) for k, v in _ATTR.findall(m[1]))
        if a.get("style") not in (None, "0") and a.get("min", "").isdigit():
            out.append((int(a["min"]), int(a.get("max", a["min"])), a["style"]))
    return out


# the plain spelling, as bytes. Not plain: a comment, CDATA or DTD, a row or cell start
# tag that does not begin <row r="3" / <c r="K3" (one pass finds any of them). A row's
# start tag; a formula cell in _plain_formula's spelling.
_NOT_PLAIN = re.compile(rb'<(?:!|row(?=[\s/>])(?! r="[1-9][0-9]{0,6}"[\s/>])'
                        rb'|c(?=[\s/>])(?! r="[A-Z]{1,3}[1-9][0-9]{0,6}"[\s/>]))')
_ROW_R = re.compile(rb'<row r="([0-9]+)"')
_PLAIN_FORMULA = re.compile(_plain_formula("").pattern.encode())
_cell_start = functools.lru_cache(maxsize=1 << 12)(lambda c: b'<c r="' + col_name(c).encode())


def _splice_plain(data, targets):
    """``_patch_text``'s result, as UTF-8 bytes, when the part (UTF-8 bytes) is in the
    plain spelling Excel, WPS, LibreOffice, openpyxl and XlsxWriter write (no prefix,
    every row and cell start tag beginning ``<row r="3"`` / ``<c r="K3"``, rows in
    ascending order) and every target cell is there, in column order. The cells are
    edited in the bytes, no decoding, and the output is built in one bytearray (a list
    of slices would cost more than the text). None in any other case, which the general
    scan handles (and may refuse)."""
    sd = re.search(rb"<sheetData[ \t\r\n/>]", data)
    root = re.search(rb"<(?![?!])([^\s/>]+)", data)
    if sd is None or root is None or b":" in root[1]:
        return None
    gt = data.index(b">", sd.start())
    end = data.find(b"</sheetData>", gt)
    if data[gt - 1] == 0x2F or end < 0 or _NOT_PLAIN.search(data, gt, end):
        return None
    starts, numbers = [], []
    for m in _ROW_R.finditer(data, gt, end):
        starts.append(m.start())
        numbers.append(int(m[1]))
    if any(a >= b for a, b in zip(numbers, numbers[1:])):
        return None
    starts.append(end)
    where = dict(zip(numbers, range(len(numbers))))
    view, find, index, fullmatch = memoryview(data), data.find, data.index, _PLAIN_FORMULA.fullmatch
    out, pos = bytearray(), 0
    for rnum in sorted(targets):
        cols, k = targets[rnum], where.get(rnum)
        if k is None or None in cols.values():  # None == v only for None: no cell holds it
            return None
        limit = starts[k + 1]
        tag_end = find(b">", starts[k], limit) + 1
        if tag_end == 0 or data[tag_end - 2] == 0x2F:
            return None
        stop = find(b"</row>", tag_end, limit)
        if stop < 0 or find(b"</row>", stop + 6, limit) >= 0:
            return None
        for c in (cols if len(cols) == 1 else sorted(cols)):
            at = find(_cell_start(c) + b'%d"' % rnum, tag_end, stop)
            if at < pos:  # missing (-1), or before the previous target: not column order
                return None
            close = index(b">", at) + 1
            if data[close - 2] != 0x2F:
                close = index(b"</c>", close) + 4
            value = cols[c]
            m = type(value) in (int, float, str) and fullmatch(data, at, close)
            if not m:
                cell = _patch_cell(data[at:close].decode("utf-8"), value, "").encode("utf-8")
                out += view[pos:at]
                out += cell
            elif type(value) is str:
                v = _esc_text(_xstring(value)).encode("utf-8")
                out += view[pos:m.end(1)]
                out += b' t="str">'
                out += view[m.start(2):m.end(2)]
                out += b"<v>%s</v></c>" % v
            else:
                out += view[pos:m.end(2)]
                out += b"<v>%s</v></c>" % _num_text(value).encode()
            pos = close
    out += view[pos:]
    return out


def _patch_sheet(book, name, part, data, updates):
    """Sheet part bytes (or bytearray) with ``updates`` {A1: value} applied by local
    edits: spliced in the bytes when the part is UTF-8 in the plain spelling, else
    edited as text."""
    targets = {}
    for address, value in updates.items():
        if type(value) not in (int, float, str):  # these kinds need no check
            _value_kind(value)
        row, col = rc(address)
        targets.setdefault(row + 1, {})[col + 1] = value
    if not targets:
        return data
    if _codec(data)[1].lower() in ("utf-8", "utf8"):
        spliced = _splice_plain(data, targets)
        if spliced is not None:
            return spliced
    text, encode = _decode(book, part, data)
    return encode(_patch_text(book, name, text, targets))


def _patch_text(book, name, text, targets):
    """Sheet part text with ``targets`` {row: {col: value}} applied by local string
    edits: the general scan, for any spelling."""
    p = _root_prefix(text)
    pats = _pats(p)
    unusual = BookError(book, f"工作表“{name}”的内部格式特殊(缺少单元格位置等),无法原位写入;"
                              "请用 Excel 或 WPS 打开后另存一次再试。")
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
            fast = _FIRST_R.match(m[1])
            r = fast[1] if fast else _attr(m[1], "r")
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
        at = _find_cells(text, tag_end, cend, rnum, cols, p)
        existing = []  # (col, start, end), when the row is scanned cell by cell
        for m in pats["cellspan"].finditer(text, tag_end, cend) if at is None else ():
            fast = _FIRST_R.match(m[1])
            r = fast[1] if fast else _attr(m[1], "r")
            cm = _R_ATTR.fullmatch(r) if r is not None else None
            if r is not None and not cm:
                raise unusual
            # a cell without r is the one after the previous (as every reader places it)
            col = col_number(cm[1]) if cm else (existing[-1][0] + 1 if existing else 1)
            existing.append((col, m.start(), m.end()))
        if at is None:
            at = {}
            for e in existing:
                at.setdefault(e[0], e)  # the first cell of a column, as the scan used to find
        inserts = {}
        for c in sorted(cols):
            hit = at.get(c)
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
            if "localSheetId" not in attrs and unescape(attrs.get("name", "")).casefold() \
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


def write_patched(src, dst, updates, add_sheets=None, names=None, drop_links=False, proved=()):
    """Copy workbook ``src`` to ``dst`` changing only what is asked.

    updates: {sheet name: {A1 address: value}}; values are numbers, str, bool or None.
    A formula cell keeps its ``<f>`` and gets a new cached value; other cells get the
    value itself (strings inline); missing cells and rows are inserted in order.
    add_sheets: {sheet name: worksheet XML bytes}, appended as last sheets, or replacing
    the part of an existing sheet of that name.
    names: {defined name: formula text}: workbook-scoped names set (``_set_names``).
    drop_links: remove the links to other workbooks (``_drop_links``).
    proved: ``BookFile.proofs()`` of a reading of ``src`` by this process: not proved twice.
    Every other zip entry is copied verbatim (same name, order, compression, date).
    """
    src, dst = os.fspath(src), os.fspath(dst)
    updates = updates or {}
    if os.path.exists(dst) and os.path.samefile(src, dst):
        raise ValueError("write_patched needs a destination other than the source")
    add_sheets = dict(add_sheets or {})
    with BookFile.open(src, proved) as book:
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
        from concurrent.futures import ThreadPoolExecutor  # 3 ms to import: only to write
        with ThreadPoolExecutor(1) as pool:
            _patch_parts(book, updates, part_of, changed, added_data, pool)
            _write(book, src, dst, changed, added, added_data, dropped)


def _patch_parts(book, updates, part_of, changed, added_data, pool):
    """Apply ``updates`` to the sheets' parts in ``changed``, or in ``added_data`` for the
    new ones. A part is packed (compressed) in ``pool`` once its last update is made:
    zlib, which runs without the GIL, works while the next part is read, proved by expat
    and patched, and only a part or two are held as bytes at a time."""
    jobs = [(name, part_of.get(name.casefold()) or book.sheet_part(name), cells)
            for name, cells in updates.items() if cells]
    last = {part: i for i, (_, part, _) in enumerate(jobs)}
    for i, (name, part, cells) in enumerate(jobs):
        data = changed.get(part) or added_data.get(part)
        if data is None:
            data = book._xml(part)
        data = _patch_sheet(book.path, name, part, data, cells)  # the input freed
        if part in added_data:
            added_data[part] = data
        elif last[part] == i:
            changed[part] = pool.submit(pack, book._members[part], data)
        else:
            changed[part] = data


def _write(book, src, dst, changed, added, added_data, dropped):
    """Write ``dst``: the entries of ``src`` in order, ``changed`` ones (bytes or packing
    futures) replaced, ``dropped`` ones left out, the ``added`` parts last."""
    template = book._members[book._wb_part]
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        out = ZipWriter(fout, book.path)
        for name, info in book._members.items():
            if name in dropped:
                continue
            if name in changed:
                entry = changed[name]
                out.add(info, entry.result() if hasattr(entry, "result") else entry)
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
