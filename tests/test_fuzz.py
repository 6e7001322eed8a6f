"""Fuzzing validate and compute with hypothesis: whatever a workbook has been through,
the commands answer with findings (exit 1) or one Chinese message (exit 2), or succeed
(exit 0), and a command that does not succeed leaves the file byte for byte as it was.

Each case starts from a filled branch workbook (the worked example) and applies a few
mutations, in any mix: cells typed with values of every type (numbers, text that looks
like numbers or formulas, control characters, booleans, blanks) including headers,
cells rewritten in raw XML (errors, dates, shared-string indexes out of range, cells
without an address, unknown types), rows deleted or duplicated, sheets deleted,
duplicated, renamed or reordered, parts dropped, and XML parts corrupted (truncated,
garbage, flipped bytes, a closing tag gone, emptied, a DTD, a wrong encoding).

The number of cases and the time taken are printed; ``XLSHEETS_FUZZ_EXAMPLES`` sets
how many (default 1000, about 30 s on the development VM). Under ``CI`` the examples
are derandomized, so a CI run is repeatable.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402
from hypothesis.configuration import set_hypothesis_home_dir  # noqa: E402

# Hypothesis keeps caches in ./.hypothesis; keep them out of the project folder.
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "xlsheets-hypothesis"))

from books import worked_book  # noqa: E402
from xlsheets.cli import main
from xlsheets.ooxml import BookFile, write_patched
from xlsheets.workbook.address import col_name

EXAMPLES = int(os.environ.get("XLSHEETS_FUZZ_EXAMPLES", "1000"))
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    path = worked_book(tmp_path_factory.mktemp("fuzz-base"))
    with BookFile.open(path) as b:
        sheets = {name: b.sheet_part(name) for name in b.sheet_names}
    with zipfile.ZipFile(path) as z:
        parts = [i.filename for i in z.infolist()]
    return {"path": path, "sheets": sheets, "parts": parts}


# --- mutations ---------------------------------------------------------------------------

TEXTS = ["８", "8分", " 8 ", "８．５", "八", "优", "-", "", "   ", "\u3000", "=1+1", "+8", "@x",
         "=HYPERLINK(\"http://x\")", "#DIV/0!", "TRUE", "1e5", "10人", "_x0000_", "_x", "a\x01b",
         "\u202e反向", "𠀀𠀁", "张三", "李四", " 王五 ", "赵六", "理想信念", "票号", "合计", "<c>&amp;"]
VALUES = st.one_of(
    st.none(), st.booleans(),
    st.integers(-10**15, 10**15), st.integers(-2, 40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(TEXTS),
    st.text(max_size=12),
)
RAW_CELLS = [
    '<c r="{a}" t="e"><v>#DIV/0!</v></c>', '<c r="{a}" t="d"><v>2005-08-20T00:00:00</v></c>',
    '<c r="{a}" t="s"><v>99999</v></c>', '<c r="{a}" t="s"><v>-1</v></c>',
    '<c r="{a}" t="s"><v>x</v></c>', '<c r="{a}"><v>abc</v></c>', '<c r="{a}"><v>1e999</v></c>',
    '<c r="{a}"><v>NaN</v></c>', '<c r="{a}" t="b"><v>2</v></c>',
    '<c r="{a}" t="str"><f>1+1</f><v>2</v></c>', '<c r="{a}"><f>SUM(</f></c>',
    '<c r="{a}" t="inlineStr"><is><r><t>富</t></r><r><t>文本</t></r></is></c>',
    '<c t="n"><v>5</v></c>', '<c r="{a}" t="zzz"><v>1</v></c>', '<c r="{a}"/>',
    '<c r="XFD{row}"><v>1</v></c>', '<c r="A0"><v>1</v></c>', '<c r="{a}"><v></v></c>',
]
CORRUPTIONS = ["truncate", "garbage", "flip", "close", "empty", "dtd", "encoding", "bom"]


def mutation(sheets, parts):
    sheet = st.sampled_from(sheets)
    return st.one_of(
        st.tuples(st.just("cell"), sheet, st.integers(1, 30), st.integers(1, 14), VALUES),
        st.tuples(st.just("header"), sheet, st.integers(1, 14), VALUES),
        st.tuples(st.just("raw"), sheet, st.integers(1, 30), st.integers(1, 14),
                  st.sampled_from(RAW_CELLS)),
        st.tuples(st.just("row"), sheet, st.sampled_from(["delete", "duplicate"]),
                  st.integers(0, 40)),
        st.tuples(st.just("sheet"), sheet, st.sampled_from(["delete", "duplicate", "same name",
                                                            "rename", "reverse"])),
        st.tuples(st.just("corrupt"), st.sampled_from(parts), st.sampled_from(CORRUPTIONS),
                  st.floats(0, 1), st.binary(min_size=1, max_size=8)),
        st.tuples(st.just("drop"), st.sampled_from(parts)),
    )


def apply(base, mutations, folder):
    """The base workbook with ``mutations`` applied, written into ``folder``."""
    path = folder / "机关.xlsx"
    typed = {}
    for m in mutations:
        if m[0] == "cell":
            _, sheet, row, col, value = m
            typed.setdefault(sheet, {})[f"{col_name(col)}{row}"] = value
        elif m[0] == "header":
            _, sheet, col, value = m
            typed.setdefault(sheet, {})[f"{col_name(col)}1"] = value
    if typed:
        write_patched(base["path"], path, typed)
    else:
        shutil.copy(base["path"], path)
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        parts = {i.filename: z.read(i) for i in infos}
    for m in mutations:
        if m[0] in ("raw", "row"):
            part = base["sheets"][m[1]]
            if part in parts:
                parts[part] = (_raw if m[0] == "raw" else _row)(parts[part], *m[2:])
        elif m[0] == "sheet" and "xl/workbook.xml" in parts:
            parts["xl/workbook.xml"] = _sheet(parts["xl/workbook.xml"], *m[1:])
        elif m[0] == "corrupt" and m[1] in parts:
            parts[m[1]] = _corrupt(parts[m[1]], *m[2:])
        elif m[0] == "drop":
            parts.pop(m[1], None)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info in infos:
            if info.filename in parts:
                z.writestr(info, parts[info.filename])
    return path


def _raw(data, row, col, xml):
    a = f"{col_name(col)}{row}"
    cell = re.compile(rf'<c r="{a}"(?:[^>]*?/>|[^>]*>.*?</c>)'.encode(), re.S)
    new = xml.format(a=a, row=row).encode()
    return cell.sub(lambda _: new, data, count=1) if cell.search(data) else \
        data.replace(b"</row>", new + b"</row>", 1)


def _row(data, how, k):
    rows = list(re.finditer(rb"<row [^>]*?(?:/>|>.*?</row>)", data, re.S))
    if not rows:
        return data
    m = rows[k % len(rows)]
    keep = m[0] if how == "duplicate" else b""
    return data[:m.start()] + keep + data[m.start():]


def _sheet(data, name, how):
    enc = re.escape(name.encode("utf-8"))
    m = re.search(rb'<sheet name="' + enc + rb'"[^>]*/>', data)
    if not m:
        return data
    el = m[0]
    if how == "delete":
        return data.replace(el, b"", 1)
    if how == "rename":
        return data.replace(el, el.replace(name.encode(), name.encode() + b" (2)", 1), 1)
    if how == "reverse":
        els = re.findall(rb"<sheet [^>]*/>", data)
        start, end = data.index(els[0]), data.index(els[-1]) + len(els[-1])
        return data[:start] + b"".join(reversed(els)) + data[end:]
    copy = el if how == "same name" else el.replace(name.encode(), name.encode() + b"2", 1)
    copy = re.sub(rb'sheetId="\d+"', b'sheetId="99"', copy)
    return data.replace(el, el + copy, 1)


def _corrupt(data, how, where, junk):
    at = int(len(data) * where)
    if how == "truncate":
        return data[:at]
    if how == "garbage":
        return data[:at] + junk + data[at:]
    if how == "flip":
        return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:] if at < len(data) else data
    if how == "close":
        closes = list(re.finditer(rb"</[^>]+>", data))
        if not closes:
            return data
        m = closes[int(where * (len(closes) - 1))]
        return data[:m.start()] + data[m.end():]
    if how == "empty":
        return b""
    if how == "dtd":
        return re.sub(rb"(\?>)", rb'\1<!DOCTYPE x [<!ENTITY a "b">]>', data, count=1)
    if how == "encoding":
        return data.replace(b'encoding="UTF-8"', b'encoding="' + (b"UTF-16" if junk[0] % 2 else
                                                                   b"bogus-8") + b'"', 1)
    return b"\xef\xbb\xbf" + data  # bom


# --- the property --------------------------------------------------------------------------

def command(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def check_answer(name, path, code, out, err):
    assert code in (0, 1, 2), f"{name}: exit {code}\n{err}"
    assert "Traceback" not in out + err and "程序内部错误" not in err, f"{name}:\n{err}"
    if code == 2:
        assert CJK.search(err) and str(path) in err, f"{name}: {err}"


def test_validate_and_compute_survive_mutated_workbooks(base, capsys):
    counts = Counter()
    start = time.perf_counter()

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              derandomize=bool(os.environ.get("CI")),
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.filter_too_much])
    @given(st.lists(mutation(list(base["sheets"]), base["parts"]), min_size=1, max_size=4))
    def case(mutations):
        folder = Path(tempfile.mkdtemp(prefix="xlsheets-fuzz-"))
        try:
            path = apply(base, mutations, folder)
            before = path.read_bytes()
            code, out, err = command(["validate", path, "--json"])
            check_answer("validate", path, code, out, err)
            if code in (0, 1):
                json.loads(out)
            assert path.read_bytes() == before, "validate never writes"
            code2, out, err2 = command(["compute", path])
            check_answer("compute", path, code2, out, err2)
            # validate and compute agree: what one refuses, the other refuses, in the same words
            assert code2 == code or (code, code2) == (0, 0), (mutations, code, code2, err, err2)
            if code == 2:
                assert err2 == err, (mutations, err, err2)
            if code2 != 0:
                assert path.read_bytes() == before, "a compute that fails leaves the file as it was"
            assert sorted(p.name for p in folder.iterdir()) == ["机关.xlsx"], "no temporary files"
            counts[(code, code2)] += 1
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    case()
    seconds = time.perf_counter() - start
    total = sum(counts.values())
    summary = ", ".join(f"validate {v}/compute {c}: {n}" for (v, c), n in sorted(counts.items()))
    with capsys.disabled():
        print(f"\nfuzz: {total} mutated workbooks through validate and compute in {seconds:.1f} s "
              f"({summary})")
    assert total >= min(EXAMPLES, 50)


# --- the extent guard against python-calamine's grid ---------------------------------------

def _minimal_book(path, sheet_xml):
    """A one-sheet .xlsx around ``sheet_xml`` (bytes)."""
    main_ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel_ns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package'
                   '.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
                   '</Types>')
        z.writestr("_rels/.rels", f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" '
                   f'Type="{rel_ns}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<workbook xmlns="{main_ns}" xmlns:r="{rel_ns}"><sheets>'
                   '<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{pkg}"><Relationship '
                   f'Id="rId1" Type="{rel_ns}/worksheet" Target="worksheets/sheet1.xml"/>'
                   "</Relationships>")
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)


ROWS = st.lists(st.tuples(
    st.one_of(st.none(), st.integers(1, 400)),  # the row's r, or none
    st.lists(st.tuples(st.one_of(st.none(), st.integers(1, 60)),  # the cell's column, or no r
                       st.one_of(st.none(), st.integers(1, 400)),  # its row if not the row's
                       st.booleans()),  # a value, or a cell with a style only
             max_size=6)), min_size=1, max_size=8)


def test_the_extent_guard_never_underestimates_calamines_grid(tmp_path, capsys):
    """Rows and cells with and without ``r``, any order, with or without a prefix: the
    extent ``sheet_data`` checks is never less than the grid python-calamine builds
    where it matters for the bounds."""
    from python_calamine import CalamineWorkbook

    from xlsheets.ooxml.guards import _ODD_TAG, _PREFIXED_TAG, _extent_by_parse, _sheet_extent

    count = Counter()

    @settings(max_examples=min(EXAMPLES, 300), deadline=None, database=None,
              derandomize=bool(os.environ.get("CI")),
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(ROWS, st.booleans(), st.booleans())
    def case(rows, prefixed, regular):
        p = "x:" if prefixed else ""
        if regular:  # as Excel writes it: every row and cell with its r
            rows = [(r or 1, [(col or 1, row, value) for col, row, value in cells])
                    for r, cells in rows]
        out = [f'<{p}worksheet xmlns{":x" if prefixed else ""}="http://schemas.openxmlformats.org/'
               f'spreadsheetml/2006/main"><{p}sheetData>']
        for r, cells in rows:
            out.append(f'<{p}row r="{r}">' if r else f"<{p}row>")
            for col, row, value in cells:
                ref = f' r="{col_name(col)}{row or r or 1}"' if col else ""
                out.append(f"<{p}c{ref}><{p}v>7</{p}v></{p}c>" if value else f'<{p}c{ref} s="1"/>')
            out.append(f"</{p}row>")
        out.append(f"</{p}sheetData></{p}worksheet>")
        xml = "".join(out).encode()
        path = tmp_path / "s.xlsx"
        _minimal_book(path, xml)
        try:
            grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("S").to_python(
                skip_empty_area=False)
        except Exception:
            count["calamine refuses"] += 1
            return
        height, width = len(grid), max((len(r) for r in grid), default=0)
        exact = _extent_by_parse("s.xlsx", "xl/worksheets/sheet1.xml", xml)
        assert exact[0] >= height and exact[1] >= width, (xml, exact, height, width)
        # The quick path is exact in columns beyond Z (and then in rows) and in rows
        # from 100,000; below that A:Z x any rows fits MAX_SHEET_CELLS anyway.
        rows, cols = _sheet_extent("s.xlsx", "xl/worksheets/sheet1.xml", xml)
        assert cols >= width and (rows >= height or cols == 26), (xml, rows, cols, height, width)
        count["streamed" if _ODD_TAG.search(xml) or _PREFIXED_TAG.search(xml) else "quick"] += 1

    case()
    with capsys.disabled():
        print(f"\nextent guard: {dict(count)}")
