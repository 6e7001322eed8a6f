"""Nothing lost: ``compute`` changes only the cells it computes, whatever else the file holds.

A branch workbook comes back from a clerk with things of its own: a picture, a chart,
a comment, a text box, a sparkline (an ``extLst`` feature) and an extra sheet. We make
such a file without openpyxl (whose load/save would drop most of them): XlsxWriter adds
the extras to the same workbook ``book.build`` writes, just before it closes. Ballots are
then typed by patching the entry cells at the zip/XML level (``write_patched``), the way
a file is edited without losing anything, and ``compute_file`` runs on it.

Proved here:
- every zip part compute did not have to touch is byte-identical (uncompressed) to before;
- workbook.xml, its relationships and [Content_Types].xml differ only by the 校验结果 entry;
- in each sheet part compute touched, the XML outside the ``<c>`` elements it set is
  identical (and, cell by cell, every other cell reads the same), including conditional
  formats, data validations, the sparklines' extLst and the drawing/legacyDrawing links;
- the extras are all still there and still linked;
- LibreOffice opens the result, recalculates it, and 汇总 shows the worked example.
"""
from __future__ import annotations

import io
import posixpath
import re
import shutil
import struct
import zipfile
import zlib

import pytest
import xlsxwriter

from books import beyond_steps
import filling as F
import libreoffice as lo
from xlsheets import writer as book, definitions
from xlsheets.core import cells as C
from xlsheets.files import compute, report
from xlsheets.workbook import layout as L
from xlsheets.ooxml import BookFile, write_patched
from xlsheets.files.roster import read_roster

DEFS = definitions.load()
UNIT = DEFS.unit("机关")
GROUP = {g.key: g for g in DEFS.groups}
PAIRS, COMP, RANK, REMARK = L.summary_columns(DEFS.groups)

# The worked example, with 赵六 also rated by the committee so every member has a
# composite (compute refuses nothing, reports nothing).
ZHAO = {**F.ZHAO_TOTALS, "committee": [80]}
TOTALS = {**F.WORKED, F.ZHAO: ZHAO}
EXPECTED = {  # name: (peer, mass, committee means, composite, rank)
    "张三": (87.67, 85.00, 92.00, 88.17, 1),
    "李四": (80.00, 72.50, 85.00, 79.25, 3),
    "王五": (89.00, 84.00, 84.00, 86.00, 2),
    F.ZHAO: (80.00, 71.00, 80.00, 77.30, 4),  # 0.4*80 + 0.3*71 + 0.3*80
}

# What the clerk added.
MEMO = "我的备忘"
MEMO_TEXT = "下次支委会:周五下午,带齐测评表"
SENTINEL = "B5"  # =6*7 cached as 0 on the memo sheet: proves LibreOffice recalculated
COMMENT = "支部书记已核对汇总名单"
ENTRY_COMMENT = "第1张票字迹不清,已电话核实"
TEXTBOX = "支部说明:赵六同志出差,支委会补评"
CHART_TITLE = "综合得分"
SPARK_CELL = f"{L.col(REMARK + 2)}3"  # right of 汇总's table, first member's row


def png(rgb, size=2):
    """A tiny valid RGB PNG, every pixel ``rgb``."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    raw = b"".join(b"\0" + bytes(rgb) * size for _ in range(size))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


RED, BLUE = png((200, 30, 30)), png((30, 60, 200))


def add_extras(wb):
    """What a clerk adds in Excel, made with XlsxWriter before the workbook closes."""
    summary = wb.get_worksheet_by_name(L.SUMMARY)
    first, last = L.SUMMARY_FIRST_ROW + 1, L.SUMMARY_FIRST_ROW + len(TOTALS)
    names = f"'{L.SUMMARY}'!$B${first}:$B${last}"
    composites = f"'{L.SUMMARY}'!${L.col(COMP)}${first}:${L.col(COMP)}${last}"
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"name": CHART_TITLE, "categories": names, "values": composites})
    chart.set_title({"name": CHART_TITLE})
    anchor = L.col(REMARK + 2)
    summary.insert_chart(f"{anchor}6", chart)
    summary.insert_image(f"{anchor}22", "stamp.png", {"image_data": io.BytesIO(RED)})
    summary.insert_textbox(f"{anchor}26", TEXTBOX, {"width": 260, "height": 60})
    summary.write_comment(f"B{L.SUMMARY_HEADER_ROW + 1}", COMMENT)
    means = f"{L.col(PAIRS[0][0])}{first}:{L.col(PAIRS[-1][1])}{first}"
    summary.add_sparkline(SPARK_CELL, {"range": f"'{L.SUMMARY}'!{means}", "markers": True})

    intro = wb.get_worksheet_by_name(L.INTRO)
    intro.insert_image("D3", "logo.png", {"image_data": io.BytesIO(BLUE)})
    peers = wb.get_worksheet_by_name(L.entry_sheet(GROUP["peer"]))
    peers.write_comment("A1", ENTRY_COMMENT)

    memo = wb.add_worksheet(MEMO)
    memo.write_string("A1", MEMO_TEXT)
    memo.write_number("A2", 3)
    memo.write_formula(SENTINEL, "=6*7", None, 0)


def build_with_extras(path, monkeypatch):
    close = xlsxwriter.Workbook.close

    def close_with_extras(wb):
        add_extras(wb)
        return close(wb)

    monkeypatch.setattr(xlsxwriter.Workbook, "close", close_with_extras)
    roster = read_roster(F.write_roster(path.with_name("名册.csv"), list(TOTALS)))
    book.build(DEFS, UNIT, roster, path, plan=F.PLAN)
    monkeypatch.setattr(xlsxwriter.Workbook, "close", close)


# --- typing ballots at the XML level -----------------------------------------------------

def entry_updates(path):
    """{sheet: {A1: value}}: the worked example's ballots, look-back and 附件6 counts."""
    updates = {}
    ballots = F.ballots_of(TOTALS, DEFS.items, DEFS.groups)
    with BookFile.open(path) as bf:
        for g in DEFS.groups:
            sheet = L.entry_sheet(g)
            cells = bf.cells(sheet)
            header = {cells[L.a1(0, c)].value: c for c in range(L.entry_total_col(DEFS.items))}
            rows = {}  # (票号, 党员姓名) -> 0-based row, from the pre-filled cells
            for r in range(L.ENTRY_FIRST_ROW, L.ENTRY_FIRST_ROW + 100):
                no, name = cells.get(L.a1(r, 0)), cells.get(L.a1(r, 1))
                if no is not None and no.value is not None and name is not None:
                    rows[(no.value, name.value)] = r
            sheet_updates = updates.setdefault(sheet, {})
            for b, ballot in enumerate(ballots[g.key], start=1):
                for name, scores in ballot.items():
                    for item, score in zip(DEFS.items, scores):
                        sheet_updates[L.a1(rows[(b, name)], header[item.name])] = score
        lb = bf.cells(L.LOOKBACK_ENTRY)
        for i, scores in enumerate(F.LOOKBACK):
            r = L.LOOKBACK_FIRST_ROW + i
            assert lb[L.a1(r, 0)].value == i + 1, "票号 pre-filled in column A"
            for k, s in enumerate(scores, start=1):
                updates.setdefault(L.LOOKBACK_ENTRY, {})[L.a1(r, k)] = s
    sat = dict(zip(C.category_cells(DEFS), F.CATEGORIES))
    sat.update(zip(C.level_cells(DEFS), F.LEVELS))
    updates[L.SATISFACTION] = sat
    return updates


def fill(path):
    tmp = path.with_suffix(".filling")
    write_patched(path, tmp, entry_updates(path))
    tmp.replace(path)


# --- reading parts -----------------------------------------------------------------------

def parts(path):
    """{zip member: uncompressed bytes}."""
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def sheet_parts(path):
    with BookFile.open(path) as bf:
        return {name: bf.sheet_part(name) for name in bf.sheet_names}


_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"(?:[^>]*?/>|[^>]*>.*?</c>)', re.S)


def without_cells(xml, addresses):
    """Sheet XML with the ``<c>`` elements of ``addresses`` cut out."""
    found = set()

    def cut(m):
        if m[1] in addresses:
            found.add(m[1])
            return ""
        return m[0]

    out = _CELL.sub(cut, xml)
    return out, found


def outside_sheet_data(xml):
    """(before <sheetData>, after </sheetData>) of a sheet part's text."""
    start, end = xml.index("<sheetData"), xml.index("</sheetData>")
    return xml[:start], xml[end:]


def rels_of(files, part):
    """{Id: (Type, target part)} of ``part``'s relationships."""
    folder, base = posixpath.split(part)
    rels = files.get(posixpath.join(folder, "_rels", base + ".rels"))
    if rels is None:
        return {}
    out = {}
    for m in re.finditer(r"<Relationship ([^>]*)/>", rels.decode("utf-8")):
        a = dict(re.findall(r'(\w+)="([^"]*)"', m[1]))
        out[a["Id"]] = (a["Type"].rpartition("/")[2],
                        posixpath.normpath(posixpath.join(folder, a["Target"])))
    return out


# --- the scenario ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def computed(tmp_path_factory):
    """(before path, after path, outcome, updates compute wrote, sheets it added)."""
    tmp = tmp_path_factory.mktemp("fidelity")
    before = tmp / "机关.xlsx"
    with pytest.MonkeyPatch.context() as mp:
        build_with_extras(before, mp)
    fill(before)
    after = tmp / "computed" / before.name
    after.parent.mkdir()
    shutil.copy2(before, after)

    written = []

    def spy(src, dst, updates, add_sheets=None, names=None, **options):
        assert not names, "a clean workbook's names stay as they are"
        written.append((updates, add_sheets))
        return write_patched(src, dst, updates, add_sheets, names, **options)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(compute, "write_patched", spy)
        outcome = compute.compute_file(after, DEFS)
    assert outcome.written, [f.text() for f in outcome.findings]
    (updates, add_sheets), = written
    return before, after, outcome, updates, add_sheets


def touched_sheets():
    return {*(L.entry_sheet(g) for g in DEFS.groups), L.SUMMARY, L.GRADES, L.OPINION_FORM,
            L.LOOKBACK_FORM, L.SATISFACTION}


def test_the_file_is_clean_and_compute_touches_only_formula_cells(computed):
    before, after, outcome, updates, add_sheets = computed
    assert beyond_steps(outcome.findings) == [], [f.text() for f in outcome.findings]
    assert set(add_sheets) == {report.SHEET}
    assert {s for s, cells in updates.items() if cells} == touched_sheets()
    expected = C.formula_cells(DEFS, len(TOTALS), outcome.checked.entry_rows, graded=True)
    with BookFile.open(before) as b, BookFile.open(after) as a:
        for sheet, cells in updates.items():
            assert set(cells) <= set(expected[sheet]), sheet
            old, new = b.cells(sheet), a.cells(sheet)
            for addr in cells:
                assert old[addr].formula is not None, (sheet, addr)  # a formula's cache only
                assert new[addr].formula == old[addr].formula, (sheet, addr)


def test_untouched_parts_are_byte_identical(computed):
    before, after, _, updates, _ = computed
    old, new = parts(before), parts(after)
    by_sheet = sheet_parts(after)
    changed = {by_sheet[s] for s, cells in updates.items() if cells}
    changed |= {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml"}
    added = set(new) - set(old)
    assert added == {by_sheet[report.SHEET]}
    assert set(old) <= set(new)
    same = [n for n in old if n not in changed]
    assert len(same) >= 20  # the other sheets, styles, strings, drawings, media, charts...
    differ = [n for n in same if old[n] != new[n]]
    assert not differ, f"compute changed parts it had no business with: {differ}"
    assert all(old[n] != new[n] for n in changed), "every touched part really changed"
    # The raw entries were copied, not recompressed: same order, CRC and compressed size.
    with zipfile.ZipFile(before) as zb, zipfile.ZipFile(after) as za:
        infos = {i.filename: i for i in za.infolist()}
        assert [i.filename for i in za.infolist()][:len(old)] == [i.filename for i in zb.infolist()]
        for i in zb.infolist():
            if i.filename in same:
                j = infos[i.filename]
                assert (j.CRC, j.compress_size, j.compress_type, j.date_time) == \
                    (i.CRC, i.compress_size, i.compress_type, i.date_time), i.filename


def test_package_parts_only_gain_the_results_sheet(computed):
    before, after, _, _, _ = computed
    old, new = parts(before), parts(after)
    part = sheet_parts(after)[report.SHEET]
    wb = new["xl/workbook.xml"].decode("utf-8")
    wb, n = re.subn(rf'<sheet name="{report.SHEET}" sheetId="\d+" r:id="rId\d+"/>', "", wb)
    assert n == 1 and wb == old["xl/workbook.xml"].decode("utf-8")
    rels = new["xl/_rels/workbook.xml.rels"].decode("utf-8")
    target = posixpath.relpath(part, "xl")
    rels, n = re.subn(rf'<Relationship Id="rId\d+" Type="[^"]+/worksheet" '
                      rf'Target="{re.escape(target)}"/>', "", rels)
    assert n == 1 and rels == old["xl/_rels/workbook.xml.rels"].decode("utf-8")
    types = new["[Content_Types].xml"].decode("utf-8")
    types, n = re.subn(rf'<Override PartName="/{re.escape(part)}" ContentType="[^"]+"/>', "",
                       types)
    assert n == 1 and types == old["[Content_Types].xml"].decode("utf-8")


@pytest.mark.parametrize("sheet", sorted(touched_sheets()))
def test_touched_sheets_differ_only_in_the_cells_set(computed, sheet):
    before, after, _, updates, _ = computed
    cells = set(updates[sheet])
    part = sheet_parts(before)[sheet]
    assert sheet_parts(after)[sheet] == part
    old = parts(before)[part].decode("utf-8")
    new = parts(after)[part].decode("utf-8")

    # 1. The whole part, with the set cells' <c> elements cut out of both, is identical.
    old_rest, old_found = without_cells(old, cells)
    new_rest, new_found = without_cells(new, cells)
    assert old_found == new_found == cells  # every set cell existed and still does
    assert new_rest == old_rest

    # 2. Outside <sheetData>, byte for byte: views, columns, protection, conditional
    #    formats, data validations, page setup, drawing links, the extLst.
    assert outside_sheet_data(new) == outside_sheet_data(old)
    head, tail = outside_sheet_data(new)
    assert "<sheetProtection" in tail and "<pageSetup" in tail
    if sheet in {L.entry_sheet(g) for g in DEFS.groups}:
        assert "<conditionalFormatting" in tail and "<dataValidations" in tail
    if sheet == L.entry_sheet(GROUP["peer"]):
        assert "<legacyDrawing " in tail  # the comment on A1
    if sheet == L.SUMMARY:
        assert "<drawing " in tail and "<legacyDrawing " in tail
        assert "<x14:sparklineGroups" in tail and f"<xm:sqref>{SPARK_CELL}</xm:sqref>" in tail

    # 3. Cell by cell: every cell compute did not set reads the same.
    with BookFile.open(before) as b, BookFile.open(after) as a:
        old_cells, new_cells = b.cells(sheet), a.cells(sheet)
    assert set(new_cells) == set(old_cells)
    assert {k: v for k, v in new_cells.items() if k not in cells} == \
        {k: v for k, v in old_cells.items() if k not in cells}


def test_the_clerks_extras_are_still_there(computed):
    before, after, _, _, _ = computed
    old, files = parts(before), parts(after)
    by_sheet = sheet_parts(after)

    # 汇总: drawing (chart, picture, text box) and comments, linked from the sheet.
    rels = rels_of(files, by_sheet[L.SUMMARY])
    kinds = {kind: part for kind, part in rels.values()}
    assert {"drawing", "vmlDrawing", "comments"} <= set(kinds)
    for part in kinds.values():
        assert files[part] == old[part]
    drawing = files[kinds["drawing"]].decode("utf-8")
    assert TEXTBOX in drawing and "<xdr:pic>" in drawing and "<c:chart " in drawing
    linked = {kind: part for kind, part in rels_of(files, kinds["drawing"]).values()}
    assert files[linked["image"]] == RED
    chart = files[linked["chart"]].decode("utf-8")
    assert CHART_TITLE in chart and f"${L.col(COMP)}$3" in chart
    assert COMMENT in files[kinds["comments"]].decode("utf-8")

    # 说明's picture and 党员互评's comment.
    intro = {kind: part for kind, part in rels_of(files, by_sheet[L.INTRO]).values()}
    assert files[{k: p for k, p in rels_of(files, intro["drawing"]).values()}["image"]] == BLUE
    peers = {kind: part for kind, part in
             rels_of(files, by_sheet[L.entry_sheet(GROUP["peer"])]).values()}
    assert ENTRY_COMMENT in files[peers["comments"]].decode("utf-8")

    # The sparkline in 汇总's extLst.
    summary = files[by_sheet[L.SUMMARY]].decode("utf-8")
    assert re.search(r"<x14:sparkline><xm:f>'汇总'!D3:I3</xm:f>"
                     rf"<xm:sqref>{SPARK_CELL}</xm:sqref></x14:sparkline>", summary)

    # The clerk's own sheet, where it was (before 校验结果, which compute appends).
    with BookFile.open(after) as bf:
        assert bf.sheet_names[-2:] == [MEMO, report.SHEET]
        memo = bf.cells(MEMO)
    assert memo["A1"].value == MEMO_TEXT and memo["A2"].value == 3
    assert memo[SENTINEL].formula == "6*7" and memo[SENTINEL].value == 0
    assert files[by_sheet[MEMO]] == old[by_sheet[MEMO]]


def test_computed_figures_are_cached(computed):
    _, after, _, _, _ = computed
    with BookFile.open(after) as bf:
        cells = bf.cells(L.SUMMARY)
    for i, (name, (peer, mass, committee, composite, rank)) in enumerate(EXPECTED.items()):
        r = L.SUMMARY_FIRST_ROW + i
        assert cells[L.a1(r, 1)].value == name
        got = [cells[L.a1(r, mc)].value for _, mc in PAIRS]
        assert [round(v, 2) for v in got] == [peer, mass, committee], name
        assert round(cells[L.a1(r, COMP)].value, 2) == composite, name
        assert cells[L.a1(r, RANK)].value == rank, name
        assert [cells[L.a1(r, cc)].value for cc, _ in PAIRS] == \
            [len(TOTALS[name][k]) for k in ("peer", "mass", "committee")]


@pytest.mark.libreoffice
def test_libreoffice_opens_the_result(computed, soffice, tmp_path):
    _, after, _, _, _ = computed
    src = tmp_path / "in" / after.name
    src.parent.mkdir()
    shutil.copy2(after, src)
    out = lo.recalc(src, tmp_path / "out")
    values = lo.read_values(out)
    assert lo.cell(values, MEMO, SENTINEL) == lo.SENTINEL_VALUE  # really recalculated
    assert lo.cell(values, MEMO, "A1") == MEMO_TEXT
    assert report.SHEET in values
    grid = values[L.SUMMARY]
    for i, (name, (peer, mass, committee, composite, rank)) in enumerate(EXPECTED.items()):
        row = grid[L.SUMMARY_FIRST_ROW + i]
        assert row[1] == name
        assert [round(row[mc], 2) for _, mc in PAIRS] == [peer, mass, committee], name
        assert round(row[COMP], 2) == composite and row[RANK] == rank, name
        assert row[REMARK] == ""
    # LibreOffice read the clerk's objects too: it writes them back out.
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        media = [zf.read(n) for n in names if n.startswith("xl/media/")]
    assert any(n.startswith("xl/charts/chart") for n in names)
    assert any(re.fullmatch(r"xl/comments\d*\.xml", n) for n in names)
    assert len(media) >= 2
