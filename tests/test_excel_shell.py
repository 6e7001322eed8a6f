"""The Excel add-in's buttons on xlwings' remote engine, against the command line.

Each test makes a real branch workbook, sends it to a remote-engine ``xw.Book``
as an Office.js client would (``remote.payload``), presses a button's core and
plays the recorded actions back onto the file (``remote.apply``). What the
add-in then shows must be what ``xlsheets validate`` / ``compute`` say about
the same file.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

import books
import filling as F
import remote
from xlsheets.workbook import layout as L
from xlsheets.workbook.address import col_name
from xlsheets.core.stamp import stamp
from xlsheets.files import report
from xlsheets.files.compute import compute_file, validate_file
from xlsheets.excel import handlers as h, marks as M
from xlsheets.excel.sheets import ArraySheet, Workbook

DEFS = books.DEFS
NOW = dt.datetime(2005, 9, 1, 10, 0)
PEER, MASS, COMMITTEE = (L.entry_sheet(g) for g in DEFS.groups)
WRITES = {"setValues", "addSheet", "sheetClear", "sheetDelete", "setSheetVisibility",
          "setRangeColors", "setRangeColor", "addNote", "deleteNote", "addHyperlink",
          "setColumnWidth", "setNumberFormat", "activateSheet", "setCalculation",
          "setScreenUpdating", "setFormula"}


@pytest.fixture(autouse=True)
def engine(monkeypatch):
    """xlwings' remote engine, with the noncommercial licence key set for the tests only."""
    monkeypatch.setenv(*remote.LICENCE_ENV)
    reason = remote.remote_engine_missing()
    if reason:
        pytest.skip(reason)


def press(core, path, excel=None, **kw):
    """Open ``path`` on the remote engine and run ``core(book)`` as a button does.

    Returns (result, actions)."""
    book = remote.open_book(remote.payload(path, excel, **kw))
    result = h.run(core, book)
    return result, remote.actions(book)


def funcs(acts):
    return [a["func"] for a in acts]


def finding_cells(findings):
    return {(f.sheet, f.cell) for f in findings if f.cell}


def sheets_of(path):
    from xlsheets.ooxml import BookFile

    with BookFile.open(path) as b:
        return list(b.sheet_names)


def names_during(acts, start):
    """The workbook's sheet names as each action saw them (sheet_position indexes these)."""
    names, out = list(start), []
    for a in acts:
        out.append(list(names))
        if a["func"] == "addSheet":
            names.insert(a["args"][0], a["args"][1])
        elif a["func"] == "sheetDelete":
            del names[a["sheet_position"]]
    return out


def colours_of(acts, sheets):
    """{(sheet, A1): colour} set by the actions' colour matrices (None: fill removed)."""
    out = {}
    for a, names in zip(acts, names_during(acts, sheets)):
        if a["func"] == "setRangeColors":
            for i, row in enumerate(a["args"][0]):
                for j, colour in enumerate(row):
                    if colour != "keep":
                        out[(names[a["sheet_position"]],
                             L.a1(a["start_row"] + i, a["start_column"] + j))] = colour
    return out


def on_cells(acts, sheets, func):
    """{(sheet, A1): args} of the note actions ``func`` (addNote, deleteNote)."""
    return {(names[a["sheet_position"]], a["args"][0].replace("$", "")): a["args"]
            for a, names in zip(acts, names_during(acts, sheets)) if a["func"] == func}


def notes_added(acts, sheets):
    return {k: args[1] for k, args in on_cells(acts, sheets, "addNote").items()}


# --- workbooks ---------------------------------------------------------------------------

def spare_row(path, sheet):
    """The first 0-based row below an entry sheet's pre-filled (票号, 姓名) rows."""
    from xlsheets.ooxml import BookFile

    with BookFile.open(path) as b:
        cells = b.cells(sheet)
    filled = [int(a[1:]) - 1 for a, c in cells.items()
              if a[0] == "A" and a[1:].isdigit() and isinstance(c.value, (int, float))]
    return max(filled) + 1


def messy_book(tmp_path):
    """The worked example with a clerk's slips: '８', '八', 11 in a 10-point item,
    a half-filled row and a name not on the roster."""
    path = books.worked_book(tmp_path)
    zhang = remote.entry_row(path, PEER, 1, "张三")
    li = remote.entry_row(path, PEER, 1, "李四")
    wang = remote.entry_row(path, PEER, 2, "王五")
    mass = remote.entry_row(path, MASS, 1, "张三")
    spare = spare_row(path, COMMITTEE)
    scores = F.split_total(85, [i.max for i in DEFS.items])
    books.patch(path, {
        PEER: {L.a1(zhang, 2): "８", L.a1(li, 3): "八", L.a1(wang, 2): 11},
        MASS: {L.a1(mass, c): None for c in range(5, 10)},
        COMMITTEE: {L.a1(spare, 0): 2, L.a1(spare, 1): "赵九",
                    **{L.a1(spare, 2 + k): s for k, s in enumerate(scores)}},
    })
    return path


def warned_book(tmp_path, members, plan, filename="机关.xlsx"):
    """Every expected ballot filled for every member, plus three text numbers (warnings)."""
    names = tuple(members)
    maxima = [i.max for i in DEFS.items]
    ballots = {key: [{n: F.split_total(70 + (7 * b + 3 * m) % 25, maxima)
                      for m, n in enumerate(names)} for b in range(count)]
               for key, count in plan.expected}
    lookback = [[8 + (b + k) % 3 for k in range(len(DEFS.lookback_items))]
                for b in range(plan.lookback)]
    path = books.make_book(tmp_path, ballots, names=names, plan=plan, lookback=lookback,
                           categories=F.CATEGORIES, levels=F.LEVELS, filename=filename)
    first = remote.entry_row(path, PEER, 1, names[0])
    books.patch(path, {PEER: {L.a1(first, 2): "８"}, L.LOOKBACK_ENTRY: {"B2": "９"},
                       L.SATISFACTION: {"C5": "１０"}})
    return path


def text_number_book(tmp_path):
    path = books.worked_book(tmp_path)
    row = remote.entry_row(path, PEER, 1, "张三")
    books.patch(path, {PEER: {L.a1(row, 2): "８"}, L.LOOKBACK_ENTRY: {"B2": "９"},
                       L.SATISFACTION: {"C5": "１０"}})
    return path


# --- compute -----------------------------------------------------------------------------

def test_compute_writes_what_the_command_line_writes(tmp_path):
    path = text_number_book(tmp_path)
    cli = remote.copy(path, tmp_path / "cli")
    outcome = compute_file(cli, DEFS, now=NOW)
    assert outcome.ok and outcome.written

    result, acts = press(lambda b: h.compute_book(b, DEFS, now=NOW), path)
    assert result.computed, result.message
    assert [f.as_dict() for f in result.findings] == [f.as_dict() for f in outcome.findings]
    excel = remote.Excel()
    remote.apply(acts, path, excel)

    # 校验结果: exactly the command line's rows, links to the same cells
    assert remote.sheet_values(path, report.SHEET) == remote.sheet_values(cli, report.SHEET)
    rows, links = report.results_rows(stamp(DEFS, outcome.checked, list(books.NAMES), NOW),
                                      outcome.findings)
    assert {cell: a[0] for (s, cell), a in excel.links.items() if s == report.SHEET} == {
        cell: "#" + target for cell, target in links}
    # text that is a number became the number, as compute_file made it
    for sheet, fixes in outcome.checked.fixes.items():
        got, want = remote.sheet_values(path, sheet), remote.sheet_values(cli, sheet)
        for addr, number in fixes.items():
            assert got[addr] == want[addr] == number
            assert isinstance(got[addr], (int, float))
    # the stamp's fingerprint is the file shell's: validating the file finds nothing stale
    again, _ = validate_file(path, DEFS)
    assert "stamp-stale" not in {f.code for f in again.findings}
    assert again.findings == [] or all(not f.is_error for f in again.findings)

    # one message box, last, in Chinese, with the ranking and the satisfaction rate
    assert funcs(acts).count("alert") == 1 and acts[-1]["func"] == "alert"
    message = acts[-1]["args"][0]
    assert "第 1 名" in message and "满意率" in message and "张三" in message
    # screen updating and calculation off around the writes, restored afterwards
    writes = [i for i, a in enumerate(acts) if a["func"] in WRITES - {
        "setCalculation", "setScreenUpdating"}]
    assert funcs(acts)[:2] == ["setScreenUpdating", "setCalculation"]
    assert acts[0]["args"] == [False] and acts[1]["args"] == ["Manual"]
    assert funcs(acts)[-3:-1] == ["setCalculation", "setScreenUpdating"]
    assert acts[-3]["args"] == ["Automatic"] and acts[-2]["args"] == [True]
    assert 1 < min(writes) and max(writes) < len(acts) - 3
    # the 校验结果 block is one write, formatted as text first
    sheet_ix = [a for a in acts if a["func"] == "addSheet" and a["args"][1] == report.SHEET]
    assert len(sheet_ix) == 1
    block = [a for a in acts if a["func"] == "setValues"
             and a["sheet_position"] == sheet_ix[0]["args"][0]]
    assert len(block) == 1
    assert [[v for v in row if v != ""] for row in block[0]["values"]] == [
        [v for v in row if v is not None] for row in rows]


def test_compute_makes_a_typed_ballot_count_a_number_and_keeps_the_header_formulas(tmp_path):
    """发出 typed as text in the header row beside a score typed as text: each becomes its
    number, and the header row's formulas (the sentinel, 已录入) are not written over."""
    from xlsheets.ooxml import BookFile

    path = text_number_book(tmp_path)
    books.patch(path, {PEER: {"N1": "３"}})
    with BookFile.open(path) as b:
        position = b.sheet_names.index(PEER)
        formulas = {remote.parse_a1(a) for a, c in b.cells(PEER).items() if c.formula}
    assert {(1, 12), (1, 18), (2, 11)} <= formulas  # L1 sentinel, R1 已录入, K2 合计 (1-based)
    result, acts = press(lambda b: h.compute_book(b, DEFS, now=NOW), path)
    assert result.computed, result.message
    written = {(a["start_row"] + 1 + r, a["start_column"] + 1 + c) for a in acts
               if a["func"] == "setValues" and a["sheet_position"] == position
               for r in range(a["row_count"]) for c in range(a["column_count"])}
    assert written and not written & formulas  # Excel would replace a formula written over
    remote.apply(acts, path, remote.Excel())
    with BookFile.open(path) as b:
        cells = b.cells(PEER)
    assert cells["N1"].value == 3 and cells["C2"].value == 8


def test_compute_replaces_an_earlier_result_sheet(tmp_path):
    path = text_number_book(tmp_path)
    excel = remote.Excel()
    _, acts = press(lambda b: h.compute_book(b, DEFS, now=NOW), path)
    remote.apply(acts, path, excel)
    later = NOW + dt.timedelta(hours=1)
    result, acts = press(lambda b: h.compute_book(b, DEFS, now=later), path, excel)
    assert result.computed
    assert "sheetClear" in funcs(acts) and "addSheet" not in funcs(acts)
    remote.apply(acts, path, excel)
    cli = remote.copy(path, tmp_path / "cli")
    compute_file(cli, DEFS, now=later)
    assert remote.sheet_values(path, report.SHEET) == remote.sheet_values(cli, report.SHEET)


def test_compute_with_errors_marks_them_and_writes_no_figures(tmp_path):
    path = messy_book(tmp_path)
    outcome, _ = validate_file(path, DEFS)
    result, acts = press(lambda b: h.compute_book(b, DEFS, now=NOW), path)
    assert not result.computed
    assert "未计算" in acts[-1]["args"][0]
    sheets = sheets_of(path)
    assert set(colours_of(acts, sheets)) == finding_cells(outcome.findings)
    named = names_during(acts, sheets)
    written = {n[a["sheet_position"]] for a, n in zip(acts, named) if a["func"] == "setValues"}
    assert written == {M.RECORD_SHEET}
    assert [a["args"][1] for a in acts if a["func"] == "addSheet"] == [M.RECORD_SHEET]


# --- validate, clear marks -----------------------------------------------------------------

def test_validate_marks_exactly_the_findings_cells(tmp_path):
    path = messy_book(tmp_path)
    outcome, _ = validate_file(path, DEFS)
    codes = {f.code for f in outcome.findings}
    assert {"score-text-number", "score-not-number", "score-out-of-range",
            "ballot-half-filled", "ballot-unknown-name"} <= codes

    before = {s: remote.sheet_values(path, s) for s in sheets_of(path)}
    result, acts = press(lambda b: h.validate_book(b, DEFS), path)
    assert [f.as_dict() for f in result.findings] == [f.as_dict() for f in outcome.findings]
    sheets = sheets_of(path)
    fills = colours_of(acts, sheets)
    cells = finding_cells(outcome.findings)
    assert set(fills) == cells
    for key in cells:
        here = [f for f in outcome.findings if (f.sheet, f.cell) == key]
        want = M.ERROR_FILL if any(f.is_error for f in here) else M.WARNING_FILL
        assert fills[key].upper() == want.upper(), key
    notes = notes_added(acts, sheets)
    assert set(notes) == cells
    for f in outcome.findings:
        if f.cell:
            assert f.message in notes[(f.sheet, f.cell)]
    # one colour matrix per marked sheet, not one call per cell
    assert funcs(acts).count("setRangeColors") == len({s for s, _ in cells})
    # the record: a hidden sheet, written once, listing exactly the marked cells
    assert [a["args"] for a in acts if a["func"] == "addSheet"] == [[len(sheets),
                                                                    M.RECORD_SHEET]]
    assert "setSheetVisibility" in funcs(acts)
    excel = remote.Excel()
    remote.apply(acts, path, excel)
    record = M.parse_record(_rows(path, M.RECORD_SHEET))
    assert {(r.sheet, r.cell) for r in record} == cells
    assert all(r.previous == M.UNKNOWN_FILL and r.note_added for r in record)
    assert M.RECORD_SHEET in excel.hidden
    # one message box, in Chinese, naming the counts
    assert funcs(acts).count("alert") == 1
    errors = sum(f.is_error for f in outcome.findings)
    assert f"发现 {errors} 个错误" in acts[-1]["args"][0]
    # nothing but marks and the record was written: cell values are as before
    assert {s: remote.sheet_values(path, s) for s in sheets} == before


def _rows(path, sheet):
    from xlsheets.ooxml import BookFile

    with BookFile.open(path) as b:
        cells = b.cells(sheet)
    at = {}
    for a, c in cells.items():
        letters = "".join(ch for ch in a if ch.isalpha())
        r, col = int(a[len(letters):]) - 1, ord(letters) - 65
        at[(r, col)] = c.value
    rows = max((r for r, _ in at), default=-1) + 1
    return [[at.get((r, c)) for c in range(M.RECORD_COLS)] for r in range(rows)]


def test_clear_marks_removes_exactly_the_marks(tmp_path):
    path = messy_book(tmp_path)
    before = {s: remote.sheet_values(path, s) for s in sheets_of(path)}
    outcome, _ = validate_file(path, DEFS)
    cells = finding_cells(outcome.findings)
    clerks = sorted(cells)[0]  # a finding cell that already carries the clerk's own note
    excel = remote.Excel(notes={clerks: "录入员自己的批注"})

    _, acts = press(lambda b: h.validate_book(b, DEFS), path, excel)
    assert clerks not in notes_added(acts, sheets_of(path))
    remote.apply(acts, path, excel)
    assert set(excel.notes) == cells
    assert {k for k, v in excel.fills.items() if v} == cells

    result, acts = press(h.clear_marks_book, path, excel)
    assert f"已清除 {len(cells)} 处标记" in result.message
    sheets = sheets_of(path)
    fills = colours_of(acts, sheets)
    assert set(fills) == cells and set(fills.values()) == {None}  # previous fill unknown
    assert set(on_cells(acts, sheets, "deleteNote")) == cells - {clerks}
    assert "setValues" not in funcs(acts)
    remote.apply(acts, path, excel)
    assert excel.notes == {clerks: "录入员自己的批注"}
    assert M.RECORD_SHEET in excel.deleted
    after = {s: remote.sheet_values(path, s) for s in sheets_of(path) if s != M.RECORD_SHEET}
    assert after == before

    result, acts = press(h.clear_marks_book, path, excel)
    assert funcs(acts) == ["alert"] and "没有需要清除的标记" in result.message


def test_clear_marks_restores_the_fill_a_cell_had(tmp_path):
    """On an engine that reads fills (desktop Excel), the previous colour comes back."""

    class FillReading(Workbook):
        def read_fills(self, name, cells):
            self.reads += 1
            return {c: "#FFF9DB" for c in cells}

    path = messy_book(tmp_path)
    outcome, _ = validate_file(path, DEFS)
    excel = remote.Excel()
    _, acts = press(lambda b: h.validate_book(FillReading(b), DEFS), path, excel)
    remote.apply(acts, path, excel)
    assert {r.previous for r in M.parse_record(_rows(path, M.RECORD_SHEET))} == {"#FFF9DB"}
    _, acts = press(h.clear_marks_book, path, excel)
    fills = colours_of(acts, sheets_of(path))
    assert set(fills) == finding_cells(outcome.findings)
    assert {c.upper() for c in fills.values()} == {"#FFF9DB"}


def test_validating_again_moves_the_marks(tmp_path):
    path = messy_book(tmp_path)
    excel = remote.Excel()
    _, acts = press(lambda b: h.validate_book(b, DEFS), path, excel)
    remote.apply(acts, path, excel)
    li = remote.entry_row(path, PEER, 1, "李四")
    fixed = (PEER, L.a1(li, 3))
    books.patch(path, {PEER: {fixed[1]: 8}})  # the clerk corrects 八
    outcome, _ = validate_file(path, DEFS)
    cells = finding_cells(outcome.findings)
    assert fixed not in cells

    _, acts = press(lambda b: h.validate_book(b, DEFS), path, excel)
    # only what changed is written: the corrected cell's fill and note go, the rest stay
    assert colours_of(acts, sheets_of(path)) == {fixed: None}
    assert set(on_cells(acts, sheets_of(path), "deleteNote")) == {fixed}
    assert "addNote" not in funcs(acts) and "addSheet" not in funcs(acts)
    remote.apply(acts, path, excel)
    assert set(excel.notes) == cells
    assert {k for k, v in excel.fills.items() if v} == cells
    assert {(r.sheet, r.cell) for r in M.parse_record(_rows(path, M.RECORD_SHEET))} == cells


def test_validating_twice_writes_nothing_the_second_time(tmp_path):
    path = messy_book(tmp_path)
    excel = remote.Excel()
    _, acts = press(lambda b: h.validate_book(b, DEFS), path, excel)
    remote.apply(acts, path, excel)
    _, acts = press(lambda b: h.validate_book(b, DEFS), path, excel)
    assert funcs(acts) == ["alert"]


def test_a_clean_workbook_gets_no_marks(tmp_path):
    path = books.worked_book(tmp_path, lookback=F.LOOKBACK, categories=F.CATEGORIES,
                             levels=F.LEVELS)
    outcome, _ = validate_file(path, DEFS)
    result, acts = press(lambda b: h.validate_book(b, DEFS), path)
    assert finding_cells(result.findings) == finding_cells(outcome.findings)
    if not outcome.findings:
        assert funcs(acts) == ["alert"] and "没有发现问题" in result.message


# --- formulas typed over ---------------------------------------------------------------------

def typed_over_book(tmp_path, kind="total", same_value=False):
    """Formula cells replaced by typed values: 张三's first peer 合计 ("total"; 95, or
    90, the very sum it showed), his 汇总 composite ("composite"; text "88"), or both."""
    path = books.worked_book(tmp_path)
    row = remote.entry_row(path, PEER, 1, "张三")
    total = L.a1(row, L.entry_total_col(DEFS.items))
    composite = L.a1(L.SUMMARY_FIRST_ROW, L.summary_columns(DEFS.groups)[1])
    cells = {}
    if kind in ("total", "both"):
        cells[PEER] = {total: 90 if same_value else 95}
    if kind in ("composite", "both"):
        cells[L.SUMMARY] = {composite: "88"}
    books.type_over(path, cells)
    return path


def overwritten(findings):
    return {(f.sheet, f.cell) for f in findings if f.code == "formula-overwritten"}


@pytest.mark.parametrize("kind", ["total", "composite"])
def test_typed_over_formulas_found_without_reading_formulas(tmp_path, kind):
    """The remote engine cannot read formulas: a formula cell that does not show
    what its formula shows is reported as typed over, as the file shell reports it."""
    path = typed_over_book(tmp_path, kind)
    outcome, _ = validate_file(path, DEFS)
    assert len(overwritten(outcome.findings)) == 1
    result, _ = press(lambda b: h.validate_book(b, DEFS), path)
    assert [f.as_dict() for f in result.findings] == [f.as_dict() for f in outcome.findings]


def test_typed_over_below_a_typed_over_cell_waits_without_formulas(tmp_path):
    """Once a 合计 is typed over, 汇总 follows the typed number: without formulas the
    cells it feeds cannot be judged until the 合计 is restored (then they are)."""
    path = typed_over_book(tmp_path, "both")
    outcome, _ = validate_file(path, DEFS)
    result, _ = press(lambda b: h.validate_book(b, DEFS), path)
    total = {c for c in overwritten(outcome.findings) if c[0] == PEER}
    assert overwritten(result.findings) == total
    assert len(overwritten(outcome.findings)) == 2


def test_typed_over_formulas_found_by_reading_formulas(tmp_path, monkeypatch):
    """Where the engine reads formulas (desktop Excel), one .formula read per region finds
    every typed-over cell, even one typed over with the very value it showed."""
    from xlwings.pro import _xlremote
    from xlsheets.ooxml import BookFile

    path = typed_over_book(tmp_path, "both", same_value=True)
    with BookFile.open(path) as b:
        texts = {s: {a: c for a, c in b.cells(s).items()} for s in b.sheet_names}

    def formula(rng):  # what COM's Range.Formula gives: formulas, else constants as text
        (r1, c1), (r2, c2) = rng.arg1, rng.arg2 or rng.arg1
        cells = texts[rng.sheet.name]
        out = []
        for r in range(r1, r2 + 1):
            row = []
            for c in range(c1, c2 + 1):
                cell = cells.get(f"{_col(c)}{r}")
                row.append("" if cell is None else "=" + cell.formula if cell.formula
                           else "" if cell.value is None else str(cell.value))
            out.append(tuple(row))
        return tuple(out)

    monkeypatch.setattr(_xlremote.Range, "formula", property(formula))

    class FormulaReading(Workbook):
        can_read_formulas = True

    outcome, _ = validate_file(path, DEFS)
    assert len(overwritten(outcome.findings)) == 2
    calls = remote.Calls(monkeypatch)
    book = remote.open_book(remote.payload(path))
    result = h.validate_book(FormulaReading(book), DEFS)
    assert [f.as_dict() for f in result.findings] == [f.as_dict() for f in outcome.findings]
    with_formulas = {s for s in h.formula_cells(DEFS, 0, {}, graded=True)}  # 评定等次 too
    assert calls.counts["Range.formula get"] == len(with_formulas)

    blind, _ = press(lambda b: h.validate_book(b, DEFS), path)  # the remote engine as it is
    # without formulas, the 合计 typed over with the 90 its formula showed is invisible
    assert overwritten(blind.findings) == {c for c in overwritten(outcome.findings)
                                           if c[0] == L.SUMMARY}


def _col(n):
    return col_name(n)


@pytest.mark.libreoffice
@pytest.mark.parametrize("make", ["messy", "text numbers", "typed-over total",
                                  "typed-over composite"])
def test_payload_recalculated_by_libreoffice(tmp_path, soffice, make):
    """Formula results from an independent recalculation give the same findings,
    and the default payload shows what LibreOffice shows."""
    path = {"messy": messy_book, "text numbers": text_number_book,
            "typed-over total": lambda p: typed_over_book(p, "total"),
            "typed-over composite": lambda p: typed_over_book(p, "composite")}[make](tmp_path)
    outcome, _ = validate_file(path, DEFS)
    result, _ = press(lambda b: h.validate_book(b, DEFS), path, shown="libreoffice")
    assert [f.as_dict() for f in result.findings] == [f.as_dict() for f in outcome.findings]
    if make.startswith("typed-over"):
        return  # the default payload does not follow typed-over cells into the formulas below
    default, recalculated = remote.payload(path), remote.payload(path, shown="libreoffice")
    for ours, theirs in zip(default["sheets"], recalculated["sheets"]):
        if ours["name"] == L.SATISFACTION and make == "text numbers":
            continue  # 附件6 with text counts: left to Excel, see formula_results
        for row_a, row_b in zip(ours["values"], theirs["values"]):
            for a, b in zip(row_a, row_b):
                if isinstance(a, float) or isinstance(b, float):
                    assert a == pytest.approx(b, rel=1e-9), ours["name"]
                else:
                    assert a == b, ours["name"]


# --- failures reach the clerk as one message ----------------------------------------------------

def not_ours_book(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(["姓名", "分数"])
    ws.append(["张三", 90])
    path = tmp_path / "别的表.xlsx"
    wb.save(path)
    return path


@pytest.mark.parametrize("button", ["validate", "compute", "export"])
def test_a_workbook_that_is_not_ours_gets_one_message_and_no_writes(tmp_path, button):
    path = not_ours_book(tmp_path)
    core = {"validate": lambda b: h.validate_book(b, DEFS),
            "compute": lambda b: h.compute_book(b, DEFS, now=NOW),
            "export": lambda b: h.export_opinions_book(b, DEFS)}[button]
    result, acts = press(core, path)
    assert funcs(acts) == ["alert"]
    assert "不是民主评议工作簿" in acts[0]["args"][0]
    assert "Traceback" not in result.message


def test_broken_identity_gets_one_message(tmp_path):
    """The 说明 table lost its definition set: the add-in cannot tell what the book is."""
    path = books.worked_book(tmp_path)
    row = L.IDENTITY_FIRST_ROW + [k for k, _ in L.IDENTITY_KEYS].index("set")
    books.patch(path, {L.INTRO: {L.a1(row, 1): None}})
    result, acts = press(lambda b: h.validate_book(b, DEFS), path)
    assert funcs(acts) == ["alert"] and "不是民主评议工作簿" in result.message


def test_a_bug_gets_one_message_and_no_writes(tmp_path, monkeypatch):
    path = messy_book(tmp_path)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(h, "examine", broken)
    result, acts = press(lambda b: h.compute_book(b, DEFS, now=NOW), path)
    assert funcs(acts) == ["alert"]
    assert "程序内部错误" in result.message and "boom" in result.message


def test_a_write_that_fails_half_way_can_be_undone(tmp_path, monkeypatch):
    """The record is written first, so 清除标记 undoes what a failed press wrote."""
    path = messy_book(tmp_path)
    outcome, _ = validate_file(path, DEFS)
    add_note = Workbook.add_note
    done = []

    def flaky(self, *args):
        if done:
            raise RuntimeError("Excel is busy")
        done.append(args)
        return add_note(self, *args)

    monkeypatch.setattr(Workbook, "add_note", flaky)
    excel = remote.Excel()
    result, acts = press(lambda b: h.validate_book(b, DEFS), path, excel)
    assert "写入工作簿时出错" in result.message and "清除标记" in result.message
    assert funcs(acts).count("alert") == 1 and funcs(acts)[-3:] == [
        "setCalculation", "setScreenUpdating", "alert"]  # Excel's settings restored
    remote.apply(acts, path, excel)
    assert len(excel.notes) == 1
    monkeypatch.setattr(Workbook, "add_note", add_note)
    _, acts = press(h.clear_marks_book, path, excel)
    remote.apply(acts, path, excel)
    assert excel.notes == {} and not any(excel.fills.values())
    assert {k for k in excel.fills} == finding_cells(outcome.findings)


def test_other_buttons_answer_in_chinese(tmp_path):
    path = books.worked_book(tmp_path)
    for core, words in ((h.help_book, "校验"),
                        (lambda b: h.export_opinions_book(b, DEFS), "保存")):
        result, acts = press(core, path)
        assert funcs(acts) == ["alert"] and words in result.message, result.message
    # a saved workbook, on an engine without PDF export
    result, acts = press(lambda b: h.export_opinions_book(b, DEFS), path, name=str(path))
    assert funcs(acts) == ["alert"] and "PDF" in result.message and "另存为" in result.message


def test_consolidate_button_collects_a_folder(tmp_path):
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    first = books.worked_book(tmp_path)
    (inbox / "机关.xlsx").write_bytes(first.read_bytes())
    (inbox / "机关副本.xlsx").write_bytes(first.read_bytes())
    (inbox / "坏文件.xlsx").write_bytes(b"not a workbook")
    result, acts = press(lambda b: h.consolidate_app(b.app, DEFS, str(inbox)), first)
    assert funcs(acts) == ["alert"]
    assert "共收到 3 个文件,采用 1 个" in result.message
    assert (inbox / "全镇汇总.xlsx").exists() and (inbox / "全镇汇总.sqlite").exists()
    from xlsheets.errors import UsageError
    with pytest.raises(UsageError):  # no dialog on this engine: the command line is named
        h.consolidate_app(remote.open_book(remote.payload(first)).app, DEFS)


def test_new_book_core_builds_the_workbook(tmp_path):
    roster = F.write_roster(tmp_path / "名册.csv", ["甲一", "乙二"])
    out = h.make_book(DEFS, "机关", roster, None)
    assert out == tmp_path / "机关_民主评议工作簿.xlsx"
    outcome, grids = validate_file(out, DEFS)
    assert [n for _, n in grids.roster] == ["甲一", "乙二"]
    from xlsheets.errors import UsageError

    with pytest.raises(UsageError) as refused:
        h.make_book(DEFS, "机关", roster, None)
    assert refused.value.code == "output-exists"
    with pytest.raises(UsageError) as refused:
        h.make_book(DEFS, "没有这个单位", roster, tmp_path / "x.xlsx")
    assert refused.value.code == "unit-unknown" and "机关" in str(refused.value)
    with pytest.raises(UsageError) as refused:
        h.make_book(DEFS, "机关", roster, tmp_path / "x.xls")
    assert refused.value.code == "output-not-xlsx"
    # no dialogs on this engine: one message that says how to do it instead
    book = remote.open_book(remote.payload(out))
    result = h.run(lambda b: h.new_book_app(b.app, DEFS), book)
    assert funcs(remote.actions(book)) == ["alert"] and "xlsheets new" in result.message


# --- round trips do not grow with members and ballots -------------------------------------------

def presses(tmp_path, members, plan, monkeypatch):
    path = warned_book(tmp_path, members, plan)
    outcome, _ = validate_file(path, DEFS)
    assert sorted(f.code for f in books.beyond_steps(outcome.findings)) == [
        "lookback-text-number", "satisfaction-text-number", "score-text-number"]
    calls = remote.Calls(monkeypatch)
    regions = []
    read_values = Workbook._read_values

    def spy(self, rng):
        regions.append(rng.sheet.name)
        return read_values(self, rng)

    monkeypatch.setattr(Workbook, "_read_values", spy)
    excel = remote.Excel()
    measured = {}
    for label, core in (("validate", lambda b: h.validate_book(b, DEFS)),
                        ("compute", lambda b: h.compute_book(b, DEFS, now=NOW)),
                        ("clear_marks", h.clear_marks_book)):
        book = remote.open_book(remote.payload(path, excel))
        calls.reset()
        regions.clear()
        xb = Workbook(book)
        h.run(lambda b: core(xb), book)
        acts = remote.actions(book)
        measured[label] = {"reads": calls.reads, "writes": calls.writes,
                           "adapter": (xb.reads, xb.writes), "calls": dict(calls.counts),
                           "actions": Counter(funcs(acts)), "regions": list(regions)}
        remote.apply(acts, path, excel)
    return measured, path


def test_calls_per_button_do_not_grow_with_members(tmp_path, monkeypatch):
    small = L.BallotPlan((("peer", 3), ("mass", 2), ("committee", 1)), spare=1, lookback=5)
    large = L.BallotPlan((("peer", 30), ("mass", 12), ("committee", 6)), spare=2, lookback=40)
    four, _ = presses(tmp_path / "4", ["张三", "李四", "王五", "赵六"], small, monkeypatch)
    names30 = [f"党员{i:02d}" for i in range(1, 31)]
    thirty, _ = presses(tmp_path / "30", names30, large, monkeypatch)
    for button in four:
        assert four[button]["calls"] == thirty[button]["calls"], button
        assert four[button]["actions"] == thirty[button]["actions"], button
        assert four[button]["adapter"] == thirty[button]["adapter"], button
    # one read per region: 说明, 名册, three entry sheets, 汇总, 附件4, 回头看录入, 附件5, 附件6
    # each region is read once, in one call
    for button in four:
        regions = four[button]["regions"]
        assert len(regions) == len(set(regions)), regions
        values = ("Range.value get", "Range.raw_value get")
        assert sum(four[button]["calls"].get(k, 0) for k in values) == len(regions)
    print({b: (m["reads"], m["writes"], sum(m["actions"].values())) for b, m in four.items()})


# --- the adapter ------------------------------------------------------------------------------

def test_array_sheet_with_formulas():
    sheet = ArraySheet([["票号", "=x", None], [1.0, "text", ""], [None, None, None]],
                       [["票号", "=x", ""], ["1", "text", "=SUM(A2:B2)"], ["", "", "=1"]])
    assert sheet.value(1, 0) == 1 and isinstance(sheet.value(1, 0), int)
    assert not sheet.is_formula(0, 1)  # '=x typed as text
    assert sheet.is_formula(1, 2) and not sheet.is_formula(1, 1)
    assert sheet.last_row(2) == 2 and sheet.last_row(1) == 1
    blind = ArraySheet([["a"], [None], [None]], None, formula_rows=True)
    assert blind.is_formula(1, 0) and blind.last_row(0) == 2
    blind.typed = {"A2"}
    assert not blind.is_formula(1, 0) and blind.is_formula(2, 0)


# --- the steps beyond the ballots: the same checks behind 校验, the talk matrix by 计算 ------

def test_the_steps_registers_are_checked_and_the_talk_matrix_written(tmp_path):
    import steps as S
    from test_steps import clear_talk, matrix_cell

    path = S.steps_book(tmp_path, clear_talk(1))  # the town secretary never talked with 吴晓燕
    outcome, _ = validate_file(path, DEFS)
    must = [f for f in outcome.findings if f.code == "talk-must-missing"]
    assert [(f.sheet, f.cell) for f in must] == [(L.TALK_MATRIX, matrix_cell(S.SECRETARY,
                                                                               S.FLAGGED))]
    result, acts = press(lambda b: h.validate_book(b, DEFS), path)
    assert [f.as_dict() for f in result.findings] == [f.as_dict() for f in outcome.findings]
    assert (L.TALK_MATRIX, must[0].cell) in colours_of(acts, sheets_of(path))

    clean = S.steps_book(tmp_path / "clean")
    cli = remote.copy(clean, tmp_path / "cli")
    assert compute_file(cli, DEFS, now=NOW).written
    result, acts = press(lambda b: h.compute_book(b, DEFS, now=NOW), clean)
    assert result.computed, result.message
    remote.apply(acts, clean, remote.Excel())
    got, want = remote.sheet_values(clean, L.TALK_MATRIX), remote.sheet_values(cli, L.TALK_MATRIX)
    assert got == want
    assert got[matrix_cell(S.SECRETARY, S.LEADER)] == 1 and got[matrix_cell(S.PLAIN, S.FLAGGED)] == 0


def test_the_talk_matrix_is_written_while_its_sheet_is_unprotected(tmp_path, monkeypatch):
    """谈心情况表 is protected: desktop Excel refuses a write unless 计算得分 lifts it first."""
    import contextlib

    import steps as S

    lifted, writes = [], []
    unprotected, write_block = Workbook.unprotected, Workbook.write_block

    @contextlib.contextmanager
    def spy_unprotected(self, names):
        lifted.append(set(names))
        with unprotected(self, names):
            yield
        lifted.pop()

    def spy_write(self, name, row, col, rows, text=False):
        writes.append((name, set().union(*lifted)))
        return write_block(self, name, row, col, rows, text)

    monkeypatch.setattr(Workbook, "unprotected", spy_unprotected)
    monkeypatch.setattr(Workbook, "write_block", spy_write)
    result, _ = press(lambda b: h.compute_book(b, DEFS, now=NOW), S.steps_book(tmp_path))
    assert result.computed, result.message
    matrix = [open_sheets for name, open_sheets in writes if name == L.TALK_MATRIX]
    assert matrix and all(L.TALK_MATRIX in open_sheets for open_sheets in matrix)
