"""The register sheets of steps 2-5 and 9 as a clerk gets them in the branch workbook.

Built from the demo's 机关 (roles, a town leadership, every register filled) and
from a bare three-member roster without role columns; read back with openpyxl
(formulas, validations, protection) and python-calamine (cached values). A
LibreOffice recalculation proves 征求意见汇总's COUNTIFS agree with the core.
"""
from __future__ import annotations

import datetime as dt
import random

import openpyxl
import pytest

import books
import libreoffice as lo
from xlsheets import writer as book, definitions, demo
from xlsheets.workbook import layout as L
from xlsheets.core import opinions, talks
from xlsheets.writer.formats import log_lines
from xlsheets.files.roster import read_roster

DEFS = definitions.load()
P = DEFS.process
OP, TK, MT, MA, CK = P.opinions, P.talks, P.meetings, P.materials, P.checklist


def demo_book(tmp, unit_name="机关"):
    """The demo's filled workbook of ``unit_name``: (path, roster, entries)."""
    unit = DEFS.unit(unit_name)
    csv = tmp / f"{unit_name}.csv"
    demo.write_roster(unit_name, csv)
    roster = read_roster(csv)
    entries = demo.sample_entries(DEFS, unit, roster.names(), random.Random(2005))
    path = tmp / f"{unit_name}.xlsx"
    book.build(DEFS, unit, roster, path, entries=entries)
    return path, roster, entries


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("registers")
    path, roster, entries = demo_book(tmp)
    return path, roster, entries, openpyxl.load_workbook(path)


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    """Three members, no role columns, nothing typed."""
    path = books.make_book(tmp_path_factory.mktemp("bare"))
    return openpyxl.load_workbook(path)


def validation(ws, cell):
    """The data validation covering ``cell``, or None."""
    found = [dv for dv in ws.data_validations.dataValidation if cell in dv.sqref]
    assert len(found) <= 1, f"{ws.title}!{cell} has {len(found)} validations"
    return found[0] if found else None


def listed(ws, cell):
    """The drop-down of ``cell``: its items (a literal list) or its range text."""
    dv = validation(ws, cell)
    assert dv is not None and dv.type == "list", f"{ws.title}!{cell} has no drop-down"
    f = dv.formula1
    return f.strip('"').split(",") if f.startswith('"') else f


def header(ws, row0):
    return [c.value for c in ws[row0 + 1] if c.value is not None]


def locked(ws, cell):
    return ws[cell].protection.locked


# --- order and headers ------------------------------------------------------------------

def test_sheet_order(filled):
    *_, wb = filled
    groups = [L.entry_sheet(g) for g in DEFS.groups]
    assert wb.sheetnames == [
        L.INTRO, L.ROSTER, "附件1 工作日程表", L.OPINIONS, L.OPINION_COUNTS, L.TALKS,
        L.TALK_MATRIX, L.MATERIALS, L.MEETINGS, L.BALLOT_FORM, *groups, L.SUMMARY, L.GRADES,
        L.OPINION_FORM, L.LOOKBACK_ENTRY, L.LOOKBACK_FORM, L.SATISFACTION, L.CHECKLIST]


@pytest.mark.parametrize("sheet, headers, title", [
    (L.OPINIONS, L.OPINION_HEADERS, OP["title"]),
    (L.TALKS, L.TALK_HEADERS, TK["title"]),
    (L.MATERIALS, L.MATERIAL_HEADERS, MA["title"]),
    (L.MEETINGS, L.MEETING_HEADERS, MT["title"]),
    (L.CHECKLIST, L.CHECKLIST_HEADERS, CK["title"]),
])
def test_title_and_header(filled, sheet, headers, title):
    *_, wb = filled
    ws = wb[sheet]
    assert ws["A1"].value == title
    assert any(str(m).startswith("A1:") for m in ws.merged_cells.ranges), "title merged"
    assert header(ws, L.REGISTER_HEADER_ROW) == list(headers)
    assert ws.freeze_panes in ("A3", "B3")
    assert ws.protection.sheet
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "landscape"


def test_summary_and_matrix_headers(filled):
    _, roster, _, wb = filled
    assert header(wb[L.OPINION_COUNTS], L.REGISTER_HEADER_ROW) == [
        "意见对象", *OP["channels"], "合计", OP["feedback_done"], OP["feedback_withheld"]]
    assert header(wb[L.TALK_MATRIX], L.REGISTER_HEADER_ROW) == [
        "姓名", *roster.names(), TK["masses_label"], "合计"]
    assert wb[L.OPINION_COUNTS]["A1"].value == OP["summary_title"]
    assert wb[L.TALK_MATRIX]["A1"].value == TK["matrix_title"]


def test_attendance_header(filled):
    *_, wb = filled
    assert header(wb[L.MEETINGS], L.ATTENDANCE_HEADER_ROW) == list(L.ATTENDANCE_HEADERS)


# --- 名册 -------------------------------------------------------------------------------

def test_roster_role_columns(filled):
    *_, wb = filled
    ws = wb[L.ROSTER]
    assert header(ws, 0) == ["姓名", "职务", *L.ROSTER_ROLE_HEADERS, "所在党支部"]
    rows = {ws.cell(r, 1).value: [ws.cell(r, c).value for c in (3, 4, 5)]
            for r in range(2, ws.max_row + 1)}
    assert rows["赵建国"][0] == P.secretary
    assert rows["周国平"][0] == f"{P.leader}、{P.branch_secretary}"
    assert rows["郑海涛"] == [P.head, "钱立新", None]
    assert rows["陈丽娟"][2] == P.flag_value
    for c in ("C2", "D2", "E2"):
        assert not locked(ws, c), c
    for c in ("A2", "B2", "F2"):
        assert locked(ws, c), c
    assert ws.protection.sheet
    last = ws.max_row
    assert listed(ws, "D2") == L.ref(L.ROSTER, (1, 0), (last - 1, 0))
    assert validation(ws, "D2").errorStyle == "information"
    assert listed(ws, "E2") == [P.flag_value, "否"]
    role = validation(ws, "C2")
    assert role.type is None and "、" in role.prompt and all(r in role.prompt for r in P.roles)


def test_roster_without_role_columns(bare):
    ws = bare[L.ROSTER]
    assert header(ws, 0) == ["姓名", "职务", *L.ROSTER_ROLE_HEADERS]
    assert [ws.cell(2, c).value for c in (3, 4, 5)] == [None, None, None]
    assert not locked(ws, "C2")


# --- 征求意见登记 / 征求意见汇总 ------------------------------------------------------------

def test_opinion_register_cells(filled):
    _, roster, entries, wb = filled
    ws = wb[L.OPINIONS]
    first = L.REGISTER_FIRST_ROW + 1
    day = ws.cell(first, 1)
    assert day.is_date and day.value.date() == entries.opinions[0][0]
    assert day.number_format == 'yyyy"年"m"月"d"日"'
    assert [ws.cell(first, c).value for c in range(2, 6)] == list(entries.opinions[0][1:5])
    last = L.REGISTER_LAST_ROW + 1
    for c in range(1, len(L.OPINION_HEADERS) + 1):
        assert not locked(ws, f"{L.col(c - 1)}{last}"), "every register row is an entry row"
    assert listed(ws, f"B{last}") == list(OP["channels"])
    assert listed(ws, "C3") == list(DEFS.satisfaction["categories"])
    n = len(opinions.targets(DEFS, roster.names()))
    assert listed(ws, "D3") == L.ref(L.OPINION_COUNTS, (2, 0), (1 + n, 0))
    assert listed(ws, "F3") == [OP["attack_value"], "否"]
    assert listed(ws, "G3") == list(OP["feedback"])
    for c in ("A3", f"H{last}"):
        dv = validation(ws, c)
        assert dv.type == "date" and dv.operator in (None, "between") and dv.promptTitle
        assert (dv.formula1, dv.formula2) == ("36526", "73415")  # 2000-01-01, 2100-12-31
    assert validation(ws, f"A{last + 1}") is None


def test_opinion_summary_formulas_and_cached_values(filled):
    path, roster, entries, wb = filled
    ws = wb[L.OPINION_COUNTS]
    names = roster.names()
    targets = opinions.targets(DEFS, names)
    expected = opinions.summary(DEFS, names, log_lines(entries.opinions))
    first = L.OPINION_COUNTS_FIRST_ROW + 1
    assert [ws.cell(first + k, 1).value for k in range(len(targets) + 1)] == [*targets, "合计"]
    D = L.ref(L.OPINIONS, (2, 3), (L.REGISTER_LAST_ROW, 3))
    B = L.ref(L.OPINIONS, (2, 1), (L.REGISTER_LAST_ROW, 1))
    assert D.endswith("!$D$3:$D$502")
    assert ws["B3"].value == f"=COUNTIFS({D},$A3,{B},B$2)"
    k = len(OP["channels"]) + 2
    assert ws.cell(3, k).value == f"=COUNTIF({D},$A3)"
    assert ws.cell(3, k + 1).value.endswith(f',"{OP["feedback_done"]}")')
    assert ws.cell(3, k + 2).value.endswith(f',"{OP["attack_value"]}")')
    total = first + len(targets)
    assert ws.cell(total, 2).value == f"=SUM(B3:B{total - 1})"
    cached = lo.read_values(path)[L.OPINION_COUNTS]
    got = [[int(v) for v in cached[first - 1 + r][1:k + 2]] for r in range(len(targets) + 1)]
    assert got == expected
    assert expected[-1][k - 2] == len(entries.opinions) and expected[-1][-1] == 1
    assert all(locked(ws, ws.cell(r, c).coordinate) for r in (first, total) for c in (1, 2))


# --- 谈心记录 / 谈心情况表 ------------------------------------------------------------------

def test_talk_register_cells(filled):
    _, roster, entries, wb = filled
    ws = wb[L.TALKS]
    assert ws["A3"].value.date() == entries.talks[0][0]
    assert [ws.cell(3, c).value for c in range(2, 7)] == list(entries.talks[0][1:])
    names_ref = L.ref(L.ROSTER, (1, 0), (len(roster.names()), 0))
    for c in ("B3", "C3"):
        assert listed(ws, c) == names_ref
        dv = validation(ws, c)
        assert dv.errorStyle == "information" and "、" in dv.prompt
    assert validation(ws, "D3").type is None, "the masses are free text"
    assert listed(ws, "E3") == list(TK["forms"])
    assert validation(ws, "A3").type == "date"
    assert not locked(ws, f"F{L.REGISTER_LAST_ROW + 1}")


def test_talk_matrix_is_plain_counts(filled):
    _, roster, entries, wb = filled
    ws = wb[L.TALK_MATRIX]
    names = roster.names()
    expected = talks.matrix(DEFS, names, log_lines(entries.talks))
    first = L.MATRIX_FIRST_ROW + 1
    for k, (name, row) in enumerate(zip(names, expected)):
        cells = [ws.cell(first + k, c).value for c in range(1, len(names) + 4)]
        assert cells[0] == name
        assert cells[1:] == ["—" if v is None else v for v in row]
        assert all(not isinstance(v, str) or not v.startswith("=") for v in cells)
        assert locked(ws, ws.cell(first + k, 2).coordinate)
    note = ws.cell(first + len(names) + 1, 1).value
    assert "计算得分" in note and "请勿手工填写" in note
    rules = [r for rng in ws.conditional_formatting for r in rng.rules]
    assert any(r.type == "cellIs" and r.operator == "equal" and r.formula == ["0"] for r in rules)


# --- 党性分析材料 ---------------------------------------------------------------------------

def test_materials_with_leadership(filled):
    _, roster, entries, wb = filled
    ws = wb[L.MATERIALS]
    rows = [[ws.cell(r, c).value for c in range(1, 5)]
            for r in range(3, 3 + len(roster.names()) + 1)]
    assert rows[0][:2] == [MA["leadership"], L.MATERIAL_KINDS[0]]
    assert rows[0][3] == MA["leadership_minimum"]
    assert [r[0] for r in rows[1:]] == roster.names()
    assert {r[1] for r in rows[1:]} == {L.MATERIAL_KINDS[1]}
    assert {r[3] for r in rows[1:]} == {MA["member_minimum"]}
    assert rows[0][2] == entries.materials[MA["leadership"]][0]
    for c in ("A3", "B3", "D3"):
        assert locked(ws, c), c
    for c in "CEFGHI":
        assert not locked(ws, f"{c}3"), c
    dv = validation(ws, "C3")
    assert dv.type == "whole" and dv.operator == "greaterThanOrEqual" and dv.formula1 == "0"
    assert listed(ws, "E3") == [MA["exempt_value"], "否"]
    assert listed(ws, "G3") == L.ref(L.ROSTER, (1, 0), (len(roster.names()), 0))
    assert validation(ws, "G3").errorStyle == "information"
    assert listed(ws, "H3") == list(MA["reviewed"])
    rules = [r for rng in ws.conditional_formatting for r in rng.rules]
    assert any(r.type == "expression" and "$C3<$D3" in r.formula[0] for r in rules)


def test_materials_without_leadership(bare):
    ws = bare[L.MATERIALS]
    assert [ws.cell(r, 1).value for r in range(3, 6)] == list(books.NAMES)
    assert ws.cell(6, 1).value is None


def test_community_has_no_leadership_row(tmp_path):
    path, roster, _ = demo_book(tmp_path, "兴隆街社区")
    wb = openpyxl.load_workbook(path)
    assert wb[L.MATERIALS]["A3"].value == roster.names()[0]
    exempt = next(r for r in range(3, 20) if wb[L.MATERIALS].cell(r, 1).value == "何永福")
    assert wb[L.MATERIALS].cell(exempt, 5).value == MA["exempt_value"]


# --- 会议情况 -------------------------------------------------------------------------------

def test_meetings_with_leadership(filled):
    _, roster, entries, wb = filled
    ws = wb[L.MEETINGS]
    first = L.MEETING_FIRST_ROW + 1
    assert [ws.cell(first + k, 1).value for k in range(2)] == [MT["branch"], MT["leadership"]]
    for r in (first, first + 1):
        assert not locked(ws, f"B{r}") and not locked(ws, f"C{r}")
        assert ws[f"C{r}"].is_date
        assert validation(ws, f"B{r}").type == "date"
    roles = demo.ROLES["机关"]
    leaders = [n for n in roster.names()
               if {P.secretary, P.leader} & set(roles.get(n, ("",))[0].split("、"))]
    rows = [(ws.cell(r, 1).value, ws.cell(r, 2).value)
            for r in range(L.ATTENDANCE_FIRST_ROW + 1, ws.max_row + 1)]
    assert rows == [(n, MT["branch"]) for n in roster.names()] + \
        [(n, MT["leadership"]) for n in leaders]
    r = L.ATTENDANCE_FIRST_ROW + 1
    assert locked(ws, f"A{r}") and locked(ws, f"B{r}")
    assert not any(locked(ws, f"{c}{r}") for c in "CDEFGH")
    assert listed(ws, f"C{r}") == list(MT["attendance"])
    assert listed(ws, f"D{r}") == list(MT["reasons"])
    assert listed(ws, f"E{r}") == [MT["yes"], "否"]
    assert listed(ws, f"F{r}") == L.ref(L.ROSTER, (1, 0), (len(roster.names()), 0))
    assert validation(ws, f"G{r}").type == "date"
    away = next(r for r in range(L.ATTENDANCE_FIRST_ROW + 1, ws.max_row + 1)
                if ws.cell(r, 3).value == MT["absent"])
    assert ws.cell(away, 4).value == MT["official"] and ws.cell(away, 7).is_date


def test_meetings_without_leadership(bare):
    ws = bare[L.MEETINGS]
    r = L.MEETING_FIRST_ROW + 2
    assert ws.cell(r, 1).value == MT["leadership"]
    assert locked(ws, f"B{r}") and locked(ws, f"C{r}")
    assert validation(ws, f"B{r}") is None
    assert "不适用" in ws.cell(r, 4).value
    rows = [(ws.cell(r, 1).value, ws.cell(r, 2).value)
            for r in range(L.ATTENDANCE_FIRST_ROW + 1, ws.max_row + 1)]
    assert rows == [(n, MT["branch"]) for n in books.NAMES]


# --- 四查四看 -------------------------------------------------------------------------------

def test_checklist(filled):
    _, _, entries, wb = filled
    ws = wb[L.CHECKLIST]
    rows = [[ws.cell(r, c).value for c in (1, 2, 3)] for r in range(3, 3 + len(CK["checks"]))]
    assert [r[0] for r in rows] == list(CK["checks"])
    assert [r[1:] for r in rows] == [list(v) for v in entries.checklist]
    assert locked(ws, "A3") and not locked(ws, "B3") and not locked(ws, "C3")
    assert listed(ws, "B3") == list(CK["results"])
    assert ws.row_dimensions[3].height >= 45


@pytest.mark.libreoffice
def test_blank_registers_print_one_page_each(soffice, tmp_path):
    """500 blank entry rows do not print as pages of empty boxes."""
    path = books.make_book(tmp_path)
    wb = openpyxl.load_workbook(path)
    keep = {L.OPINIONS, L.OPINION_COUNTS, L.TALKS, L.TALK_MATRIX, L.MATERIALS, L.MEETINGS,
            L.CHECKLIST}
    for ws in [ws for ws in wb if ws.title not in keep]:
        wb.remove(ws)
    wb.save(path)
    assert len(lo.pdf_pages(lo.to_pdf(path, tmp_path / "pdf"))) == len(keep)


# --- LibreOffice ----------------------------------------------------------------------------

@pytest.mark.libreoffice
def test_opinion_summary_recalculates_to_its_cached_values(soffice, filled, tmp_path):
    path, *_ = filled
    copy = tmp_path / "机关.xlsx"
    copy.write_bytes(path.read_bytes())
    before = lo.read_values(copy)[L.OPINION_COUNTS]
    free = f"{L.col(len(OP['channels']) + 6)}1"
    lo.plant_sentinel(copy, L.OPINION_COUNTS, free)
    after = lo.read_values(lo.recalc(copy, tmp_path / "out"))[L.OPINION_COUNTS]
    assert lo.cell({"s": after}, "s", free) == lo.SENTINEL_VALUE, "recalculated"
    n = len(before) - L.OPINION_COUNTS_FIRST_ROW
    width = len(OP["channels"]) + 4
    block = lambda rows: [[rows[L.OPINION_COUNTS_FIRST_ROW + r][c] for c in range(1, width)]
                          for r in range(n)]
    assert block(after) == block(before)
    assert sum(block(after)[-1]) > 0


def test_dates_are_real_dates(filled):
    *_, wb = filled
    v = wb[L.MEETINGS].cell(L.MEETING_FIRST_ROW + 1, 2).value
    assert isinstance(v, dt.datetime) and v.year == 2005
