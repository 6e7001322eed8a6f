"""Validation (R1-R4, R7, R9-R12, workbook integrity): one case per finding code.

Each case starts from SPEC.md's worked example typed into a small 机关 workbook
(which validates without a single finding), spoils it the way clerks do, and
asserts the exact set of (code, sheet, cell) that ``validate_file`` reports.
Most cases type into the workbook in memory (``sheets.worked``: the writer's
workbook as the reader holds it) and check its ``Grids``; those that need the
file itself (how a cell is stored, the package, compute writing back, the
stamp) and one or more per rule family write a real .xlsx and go through
``validate_file``, so the reading path stays covered.
Wording is free to change; codes and cells are not. Row and column addresses
below follow the workbook: entry rows are (ballot 1: 张三, 李四, 王五; ballot 2:
...), items in C..J (工作绩效 in J), 合计 in K.
"""
from __future__ import annotations

import dataclasses
import re
from fractions import Fraction
from pathlib import Path

import openpyxl
import pytest

import books as B
import hostile as H
import sheets as S
from books import DEFS, UNIT, codes_cells, worked_book
from xlsheets.workbook import layout as L
from xlsheets.core.checks import check
from xlsheets.files.compute import compute_file, validate_file
from xlsheets.core.findings import CATALOGUE, ERROR, WARNING, Finding, finding
from xlsheets.core.values import BAD, BLANK, NUMBER, TEXT_NUMBER, read_number

PEER, MASS, COMMITTEE = "党员互评", "群众参评", "支委会考评"
SUMMARY, OPINION_FORM, INTRO, ROSTER = L.SUMMARY, L.OPINION_FORM, L.INTRO, L.ROSTER
LB, LB_FORM, SAT = L.LOOKBACK_ENTRY, L.LOOKBACK_FORM, L.SATISFACTION
CJK = re.compile(r"[\u4e00-\u9fff]")
COVERED = set()  # codes the cases below produce; checked against the catalogue at the end


def findings_of(book, expected_unit=None):
    """What validate reports: for a ``sheets.Book`` checked on its Grids, for a path
    through the file (reader, checks, stamp) as the command line runs it."""
    if isinstance(book, S.Book):
        outcome = book.check(expected_unit=expected_unit)
    else:
        outcome, _ = validate_file(book, DEFS, expected_unit)
    for f in outcome.findings:
        assert_readable(f)
    return outcome


def assert_readable(f):
    """A finding a clerk can act on: Chinese, fully formatted, names its sheet."""
    assert f.code in CATALOGUE
    assert f.severity == CATALOGUE[f.code][0]
    assert CJK.search(f.message), f.message
    assert "{" not in f.message and "}" not in f.message, f.message
    assert f.sheet and f.sheet in f.text(), f
    if f.cell:
        assert re.fullmatch(r"[A-Z]{1,3}[1-9][0-9]*", f.cell), f.cell
        assert f"{f.sheet}!{f.cell}" in f.text()


def expect(book, expected, expected_unit=None):
    outcome = findings_of(book, expected_unit)
    assert codes_cells(outcome.findings) == set(expected)
    assert len(B.beyond_steps(outcome.findings)) == len(expected), "each finding once"
    COVERED.update(code for code, _, _ in expected)
    return outcome


def test_worked_example_is_clean(tmp_path):
    outcome = expect(worked_book(tmp_path), [])
    assert outcome.ok


def test_worked_example_is_clean_in_memory():
    outcome = expect(S.worked(), [])
    assert outcome.ok


SPOILT = {  # one spoil per rule family of the cases below, typed into one file
    PEER: {"C2": "８", "D3": "八", "B4": "赵六", "C1": "理想"},  # R1 text, R1 bad, R4, header
    MASS: {"D6": None, "F6": "  "},  # R2: 李四's 2nd ballot half filled, spaces cleared
    LB: {"C3": "９"},  # R9
    SAT: {"C5": "１０"},  # R10
    SUMMARY: {"B4": "李斯"},  # the roster
}


def test_spoils_read_through_the_file_as_in_memory(tmp_path):
    """End to end: the spoils typed into a real .xlsx, read by the file reader (string
    cells stay text, numbers numbers), give what the same spoils give in memory."""
    expected = [("score-text-number", PEER, "C2"), ("score-not-number", PEER, "D3"),
                ("ballot-unknown-name", PEER, "B4"), ("header-changed", PEER, "C1"),
                ("ballot-half-filled", MASS, "D6"), ("lookback-text-number", LB, "C3"),
                ("satisfaction-text-number", SAT, "C5"), ("roster-mismatch", SUMMARY, "B4")]
    fixes = {PEER: {"C2": 8}, MASS: {"F6": None}, LB: {"C3": 9}, SAT: {"C5": 10}}
    on_file = expect(worked_book(tmp_path, cells=SPOILT), expected)
    in_memory = expect(S.worked(cells=SPOILT), expected)
    assert on_file.checked.fixes == in_memory.checked.fixes == fixes
    assert on_file.checked.figures == in_memory.checked.figures


# --- values.read_number (R1) ----------------------------------------------------------

@pytest.mark.parametrize("raw, kind, number", [
    (None, BLANK, None),
    ("", BLANK, None),
    ("   ", BLANK, None),
    ("\u3000", BLANK, None),  # an ideographic space only
    (8, NUMBER, 8),
    (8.0, NUMBER, 8),
    (8.5, NUMBER, 8.5),
    (0, NUMBER, 0),
    (-1, NUMBER, -1),
    ("８", TEXT_NUMBER, 8),
    ("8分", TEXT_NUMBER, 8),
    ("８分", TEXT_NUMBER, 8),
    (" 8 ", TEXT_NUMBER, 8),
    ("8", TEXT_NUMBER, 8),
    ("１０", TEXT_NUMBER, 10),
    ("8.5", TEXT_NUMBER, 8.5),
    ("８．５", TEXT_NUMBER, 8.5),
    ("8 分", TEXT_NUMBER, 8),
    ("\u30008\u3000", TEXT_NUMBER, 8),
    ("3人", TEXT_NUMBER, 3),
    ("+8", TEXT_NUMBER, 8),
    ("-1", TEXT_NUMBER, -1),
    ("八", BAD, None),
    ("优", BAD, None),
    ("-", BAD, None),
    ("8分分", BAD, None),
    ("8-9", BAD, None),
    ("分", BAD, None),
    (True, BAD, None),
    (False, BAD, None),
])
def test_read_number(raw, kind, number):
    got_kind, got = read_number(raw)
    assert got_kind == kind
    assert got == number
    if number is not None and float(number).is_integer():
        assert type(got) is int, "whole numbers come back as int"


# --- R1: item scores -------------------------------------------------------------------

@pytest.mark.parametrize("addr, raw, number", [
    ("C2", "８", 8), ("C2", "8分", 8), ("C2", " 8 ", 8), ("C2", "8", 8),
    ("C2", "８.５", 8.5), ("J2", "２５分", 25),
])
def test_score_text_number(addr, raw, number):
    book = S.worked(cells={PEER: {addr: raw}})
    outcome = expect(book, [("score-text-number", PEER, addr)])
    assert outcome.ok, "a warning only"
    assert outcome.checked.fixes == {PEER: {addr: number}}, "normalised number to write back"
    name, scores = outcome.checked.rows_by_group["peer"][0]
    assert name == "张三" and scores[ord(addr[0]) - ord("C")] == number


@pytest.mark.parametrize("raw", ["八", "优", "-", "8-9"])
def test_score_not_number(raw):
    book = S.worked(cells={PEER: {"D3": raw}})
    outcome = expect(book, [("score-not-number", PEER, "D3")])
    assert not outcome.ok
    li = outcome.checked.figures.members[1]
    assert li.name == "李四" and li.composite == "有误", "as the 汇总 formula shows it"


@pytest.mark.parametrize("addr, value", [("C2", 11), ("J2", 35), ("E2", -1), ("J2", 31),
                                         ("C2", "１１")])
def test_score_out_of_range(addr, value):
    book = S.worked(cells={PEER: {addr: value}})
    expected = [("score-out-of-range", PEER, addr)]
    if isinstance(value, str):
        expected.append(("score-text-number", PEER, addr))
    outcome = expect(book, expected)
    assert not outcome.ok


def test_score_maxima_are_allowed():
    ballots = B.worked_ballots()
    ballots["peer"][0]["张三"] = [10, 10, 10, 10, 10, 10, 10, 30]
    ballots["peer"][1]["张三"] = [0] * 8
    outcome = expect(S.worked(ballots), [])
    assert outcome.checked.figures.entry_totals["peer"][:4] == [100, 78, 88, 0]


# --- R2: half-filled, empty rows and ballots ---------------------------------------

def test_half_filled_row_at_first_empty_item():
    # 群众参评 ballot 2, 李四 (row 6): 宗旨意识 (D) and 组织纪律 (F) left empty.
    book = S.worked().ballots(MASS, """
    | 票号 | 党员姓名 | 宗旨意识 | 组织纪律 |
    | 2    | 李四     |          |          |
    """)
    outcome = expect(book, [("ballot-half-filled", MASS, "D6")])
    assert not outcome.ok


def test_spaces_only_count_as_empty():
    book = S.worked(cells={MASS: {"D6": "  "}})
    outcome = expect(book, [("ballot-half-filled", MASS, "D6")])
    assert outcome.checked.fixes == {MASS: {"D6": None}}, "the spaces are cleared"


def test_wholly_empty_row_is_a_warning():
    ballots = B.worked_ballots()
    del ballots["mass"][0]["王五"]  # 群众参评 ballot 1 did not rate 王五 (row 4)
    outcome = expect(S.worked(ballots), [("ballot-row-empty", MASS, "C4")])
    assert outcome.ok
    wang = outcome.checked.figures.members[2]
    assert wang.counts["mass"] == 1 and wang.means["mass"] == 83


def test_wholly_empty_ballot_is_one_warning():
    ballots = B.worked_ballots()
    ballots["peer"][2] = {}  # 党员互评 ballot 3 (rows 8-10) not typed at all
    outcome = expect(S.worked(ballots), [("ballot-empty", PEER, "A8")])
    assert outcome.ok
    assert [m.counts["peer"] for m in outcome.checked.figures.members] == [2, 2, 2]


# --- R3: a 合计 typed by hand --------------------------------------------------------

def test_total_typed_over_with_a_wrong_number(tmp_path):
    # 李四's first peer ballot adds up to 78.
    path = worked_book(tmp_path, typed_over={PEER: {"K3": 80}})
    outcome = expect(path, [("formula-overwritten", PEER, "K3"),
                            ("ballot-total-mismatch", PEER, "K3")])
    assert not outcome.ok


@pytest.mark.parametrize("typed", [78, "78"])
def test_total_typed_over_with_the_right_number(typed):
    book = S.worked(typed_over={PEER: {"K3": typed}})
    expect(book, [("formula-overwritten", PEER, "K3")])


# --- R4: names -------------------------------------------------------------------------

def test_unknown_name():
    book = S.worked(cells={PEER: {"B3": "赵六"}})
    expect(book, [("ballot-unknown-name", PEER, "B3")])


def test_duplicate_name_on_one_ballot():
    book = S.worked(cells={PEER: {"B3": "张三"}})  # ballot 1: 张三 on rows 2 and 3
    expect(book, [("ballot-duplicate-name", PEER, "B3")])


def test_scores_without_a_name():
    book = S.worked(cells={PEER: {"B3": None}})
    expect(book, [("ballot-no-name", PEER, "B3")])


def test_scores_on_a_spare_row_without_a_name():
    # The spare ballot's rows follow ballot 3: row 11 is its first (no 票号 pre-filled).
    book = S.worked().rows(PEER, """
    | 行 | 票号 | 党员姓名 | C | D | E | F | G | H | I | J |
    | 11 |      |          | 8 | 8 | 8 | 8 | 8 | 8 | 8 | 8 |
    """)
    expect(book, [("ballot-no-name", PEER, "B11")])


# --- R7: a member without ballots in a group ------------------------------------------

def test_member_without_committee_ballot(tmp_path):
    ballots = B.worked_ballots()
    del ballots["committee"][0]["王五"]
    outcome = expect(worked_book(tmp_path, ballots), [
        ("ballot-row-empty", COMMITTEE, "C4"),  # the row is there, empty
        ("composite-missing-group", SUMMARY, "I5"),  # 王五's 支委会考评平均分
    ])
    assert not outcome.ok
    assert outcome.checked.figures.members[2].composite == "缺票", "never counted as 0"


def test_reweighted_unit_flags_instead():
    ballots = B.worked_ballots()
    del ballots["committee"][0]["王五"]
    unit = dataclasses.replace(UNIT, reweight_missing=True)
    checked = check(DEFS, unit, S.worked(ballots).grids())
    assert codes_cells(checked.findings) == {("ballot-row-empty", COMMITTEE, "C4"),
                                             ("composite-reweighted", SUMMARY, "J5")}
    COVERED.add("composite-reweighted")
    wang = checked.figures.members[2]
    assert wang.composite == Fraction(89 * 40 + 84 * 30, 70)


# --- R9: 回头看录入 --------------------------------------------------------------------

@pytest.mark.parametrize("raw, codes", [
    ("９", ["lookback-text-number"]),
    ("9分", ["lookback-text-number"]),
    ("好", ["lookback-not-number"]),
    (11, ["lookback-out-of-range"]),
    (-1, ["lookback-out-of-range"]),
    ("１１", ["lookback-text-number", "lookback-out-of-range"]),
])
def test_lookback_values(raw, codes):
    book = S.worked(cells={LB: {"C3": raw}})  # ballot 2, item 2
    outcome = expect(book, [(c, LB, "C3") for c in codes])
    assert outcome.ok == (codes == ["lookback-text-number"])


def test_lookback_text_number_is_averaged():
    outcome = expect(S.worked(cells={LB: {"C3": "１０"}}),
                     [("lookback-text-number", LB, "C3")])
    assert outcome.checked.fixes == {LB: {"C3": 10}}
    assert outcome.checked.figures.lookback.means[1] == Fraction(28, 3)


def test_lookback_partial_ballot():
    outcome = expect(S.worked(cells={LB: {"C3": None}}),
                     [("lookback-partial", LB, "A3")])
    assert outcome.ok
    assert outcome.checked.figures.lookback.means[1] == Fraction(9 + 9, 2), "blank not counted"


def test_lookback_empty():
    outcome = expect(S.worked(lookback=[]), [("lookback-empty", LB_FORM, "C4")])
    assert outcome.ok


# --- R10-R11: 附件6 ------------------------------------------------------------------

@pytest.mark.parametrize("raw", [-1, 2.5, "三", "2.5人"])
def test_satisfaction_not_count(raw):
    # 本单位党员群众代表 (C5) was 10; without it 合计 is 25 < 35 answered.
    book = S.worked(cells={SAT: {"C5": raw}})
    expected = [("satisfaction-not-count", SAT, "C5"), ("satisfaction-over-total", SAT, "B5")]
    if isinstance(raw, str) and raw[0].isdigit():
        expected.append(("satisfaction-text-number", SAT, "C5"))
    outcome = expect(book, expected)
    assert not outcome.ok


@pytest.mark.parametrize("raw", [-1, 2.5, "三"])
def test_satisfaction_not_count_on_a_level(raw):
    # 不满意 (G7) was 1; without it 34 answered of 35: blank answers, a warning.
    book = S.worked(cells={SAT: {"G7": raw}})
    expect(book, [("satisfaction-not-count", SAT, "G7"), ("satisfaction-under-total", SAT, "B5")])


@pytest.mark.parametrize("raw", ["１０", "10人", " 10 "])
def test_satisfaction_text_number(raw):
    outcome = expect(S.worked(cells={SAT: {"C5": raw}}),
                     [("satisfaction-text-number", SAT, "C5")])
    assert outcome.ok and outcome.checked.fixes == {SAT: {"C5": 10}}
    assert outcome.checked.figures.satisfaction.total == 35


def test_satisfaction_over_total():
    outcome = expect(S.worked(levels=[28, 6, 2]),
                     [("satisfaction-over-total", SAT, "B5")])
    assert not outcome.ok


def test_satisfaction_under_total():
    outcome = expect(S.worked(levels=[28, 5, 1]),
                     [("satisfaction-under-total", SAT, "B5")])
    assert outcome.ok
    assert outcome.checked.figures.satisfaction.total == 35, "the denominator stays 合计"


def test_satisfaction_empty():
    outcome = expect(S.worked(categories=[], levels=[]),
                     [("satisfaction-empty", SAT, "C5")])
    assert outcome.ok


# --- the workbook's identity ------------------------------------------------------------


def test_identity_set(tmp_path):
    other = B.defs_with(tmp_path, 'id = "guanba-2005"', 'id = "other-2006"')
    path = worked_book(tmp_path, defs=other)
    expect(path, [("identity-set", INTRO, "B4")])


def test_identity_version(tmp_path):
    other = B.defs_with(tmp_path, 'version = "1.1.0"', 'version = "1.2.0"')
    path = worked_book(tmp_path, defs=other)
    outcome = expect(path, [("identity-version", INTRO, "B5")])
    assert outcome.ok


def test_identity_unit():
    book = S.worked()
    expect(book, [("identity-unit", INTRO, "B3")], expected_unit="兴隆街社区")
    expect(book, [], expected_unit="机关")


# --- the workbook's integrity ----------------------------------------------------------

def test_sheet_missing_in_the_file(tmp_path):
    path = worked_book(tmp_path)
    wb = openpyxl.load_workbook(path)
    del wb[LB]
    wb.save(path)
    outcome = expect(path, [("sheet-missing", LB, "")])
    assert not outcome.ok


REQUIRED = [INTRO, ROSTER, "附件1 工作日程表", L.BALLOT_FORM, PEER, MASS, COMMITTEE, SUMMARY,
            OPINION_FORM, LB, LB_FORM, SAT]


@pytest.fixture(scope="module")
def clean_grids():
    return S.worked().grids()


@pytest.mark.parametrize("sheet", REQUIRED)
def test_sheet_missing(clean_grids, sheet):
    grids = dataclasses.replace(clean_grids, sheets=[s for s in clean_grids.sheets if s != sheet])
    found = check(DEFS, UNIT, grids).findings
    missing = [f for f in found if f.code == "sheet-missing"]
    assert [(f.sheet, f.cell) for f in missing] == [(sheet, "")]
    for f in found:
        assert_readable(f)


def test_grids_identity(clean_grids):
    grids = dataclasses.replace(clean_grids, identity={**clean_grids.identity, "set": "x-1"})
    assert codes_cells(check(DEFS, UNIT, grids).findings) == {("identity-set", INTRO, "B4")}
    grids = dataclasses.replace(clean_grids, identity={**clean_grids.identity, "unit": "兴隆街社区"})
    assert codes_cells(check(DEFS, UNIT, grids, "机关").findings) == {("identity-unit", INTRO, "B3")}


@pytest.mark.parametrize("sheet, addr, text", [
    (PEER, "C1", "理想"), (PEER, "K1", "总分"), (MASS, "B1", "姓名"), (COMMITTEE, "A1", None),
    (LB, "C1", "2、征求意见情况"),
])
def test_header_changed(sheet, addr, text):
    expect(S.worked(cells={sheet: {addr: text}}), [("header-changed", sheet, addr)])


def test_header_with_spaces_is_tolerated():
    expect(S.worked(cells={PEER: {"C1": " 理想信念 "}}), [])


def test_roster_mismatch_in_summary():
    expect(S.worked(cells={SUMMARY: {"B4": "李斯"}}),
           [("roster-mismatch", SUMMARY, "B4")])


def test_roster_mismatch_in_opinion():
    expect(S.worked(cells={OPINION_FORM: {"B13": "李斯"}}),
           [("roster-mismatch", OPINION_FORM, "B13")])


def test_roster_renamed():
    outcome = findings_of(S.worked(cells={ROSTER: {"A4": "王武"}}))
    found = codes_cells(outcome.findings)
    assert {("roster-mismatch", SUMMARY, "B5"), ("roster-mismatch", OPINION_FORM, "B23")} <= found
    assert ("ballot-unknown-name", PEER, "B4") in found  # 王五 is no longer on the roster
    assert not outcome.ok


@pytest.mark.parametrize("typed", [None, "张三"], ids=["cleared", "twice"])
def test_a_broken_roster_with_a_cleared_formula_is_reported_not_rebuilt(typed):
    """A roster name cleared or typed twice, and a formula cleared: the builder is not
    asked for a workbook of that list (it would fail); both are findings."""
    book = S.worked(cells={ROSTER: {"A3": typed}}, typed_over={SUMMARY: {"J3": None}})
    outcome = findings_of(book)
    found = codes_cells(outcome.findings)
    assert ("roster-mismatch", SUMMARY, "B4") in found
    assert ("formula-cleared", SUMMARY, "J3") in found
    assert not outcome.ok


def test_roster_grew():
    outcome = findings_of(S.worked(cells={ROSTER: {"A5": "赵六"}}))
    assert ("roster-count-mismatch", ROSTER, "A5") in codes_cells(outcome.findings)
    grew = next(f for f in outcome.findings if f.code == "roster-count-mismatch")
    assert "汇总有 3 名党员,名册有 4 名" in grew.message and "赵六" in grew.message
    assert not outcome.ok
    COVERED.add("roster-count-mismatch")


def rename_sheet(path, old, new):
    """Rename a sheet in workbook.xml only, as a clerk's double-click on the tab does
    (formulas elsewhere are left as they are: the findings are what is tested)."""
    import os, zipfile
    with zipfile.ZipFile(path) as zf:
        entries = [(i, zf.read(i)) for i in zf.infolist()]
    tmp = Path(path).with_suffix(".renaming")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in entries:
            if info.filename == "xl/workbook.xml":
                data = data.replace(f'name="{old}"'.encode(), f'name="{new}"'.encode())
            out.writestr(info, data)
    os.replace(tmp, path)


def test_renamed_entry_sheet_is_one_finding(tmp_path):
    """No follow-on 补录 errors for ballots that are there, under another sheet name."""
    path = worked_book(tmp_path)
    rename_sheet(path, MASS, "群众参评(1)")
    found = codes_cells(findings_of(path).findings)
    assert ("sheet-missing", MASS, "") in found
    assert not any(code == "composite-missing-group" for code, _, _ in found)


def test_renamed_summary_is_one_finding():
    found = codes_cells(findings_of(S.worked().rename(SUMMARY, "汇总表")).findings)
    assert ("sheet-missing", SUMMARY, "") in found
    assert not any(code.startswith("roster") for code, _, _ in found)


def test_roster_mismatch_from_grids(clean_grids):
    summary = list(clean_grids.summary)
    summary[1] = (summary[1][0], "李斯")
    grids = dataclasses.replace(clean_grids, summary=summary)
    assert codes_cells(check(DEFS, UNIT, grids).findings) == {("roster-mismatch", SUMMARY, "B4")}


@pytest.mark.parametrize("sheet, addr, value", [
    (SUMMARY, "J3", 88), (SUMMARY, "E4", 80), (SUMMARY, "K5", 2), (SUMMARY, "L3", "-"),
    (OPINION_FORM, "F3", 88.17), (LB_FORM, "C4", 9), (LB_FORM, "C14", 93), (SAT, "B5", 35),
    (SAT, "C8", "80%"), (SAT, "I7", 0.9714),
])
def test_formula_overwritten(sheet, addr, value):
    outcome = expect(S.worked(typed_over={sheet: {addr: value}}),
                     [("formula-overwritten", sheet, addr)])
    assert not outcome.ok


def test_cached_value_alone_is_not_overwriting(tmp_path):
    # write_patched keeps a formula and changes only its cached value: still a formula.
    expect(worked_book(tmp_path, cells={SUMMARY: {"J3": 1}}), [])


# --- what the package carries: macros, external links ------------------------------------

def test_vba_project(tmp_path):
    path = H.with_macros(worked_book(tmp_path), tmp_path / "机关.xlsm")
    outcome = expect(path, [("vba-project", INTRO, "")])
    assert outcome.ok, "a warning: the macros are never run, the data is checked"
    assert "xl/vbaProject.bin" in B.beyond_steps(outcome.findings)[0].message


def test_vba_project_from_grids(clean_grids):
    grids = dataclasses.replace(clean_grids, macros=["xl/vbaProject.bin"])
    assert codes_cells(check(DEFS, UNIT, grids).findings) == {("vba-project", INTRO, "")}


def test_external_link(tmp_path):
    path = H.with_external_link(worked_book(tmp_path), tmp_path / "链接.xlsx")
    outcome = expect(path, [("external-link", INTRO, "")])
    assert outcome.ok and H.SECRET in B.beyond_steps(outcome.findings)[0].message


def test_external_links_listed_at_most_three(clean_grids):
    grids = dataclasses.replace(clean_grids, external_links=[f"C:/x{i}.xlsx" for i in range(5)])
    (f,) = B.beyond_steps(check(DEFS, UNIT, grids).findings)
    assert (f.code, f.sheet, f.cell) == ("external-link", INTRO, "")
    assert "C:/x2.xlsx" in f.message and "C:/x3.xlsx" not in f.message and "5 处" in f.message


# --- the stamp -------------------------------------------------------------------------

def test_stamp_stale(tmp_path):
    path = worked_book(tmp_path)
    assert compute_file(path, DEFS).written
    expect(path, [])  # just computed: nothing typed since
    B.patch(path, {PEER: {"C2": 7}})
    outcome = expect(path, [("stamp-stale", "校验结果", "B6")])
    assert outcome.ok


def test_stamp_not_stale_after_text_numbers_fixed(tmp_path):
    path = worked_book(tmp_path, cells={PEER: {"C2": "９"}, SAT: {"C5": "10人"}})
    assert compute_file(path, DEFS).written
    expect(path, [])


# --- the catalogue ---------------------------------------------------------------------

def test_finding_helper():
    f = finding("ballot-empty", PEER, "A8", ballot="3")
    assert isinstance(f, Finding) and f.severity == WARNING and not f.is_error
    assert f.text().startswith("[提醒] 党员互评!A8")
    assert finding("sheet-missing", LB, "", name=LB).severity == ERROR


def formula_of(path, sheet, cell):
    return openpyxl.load_workbook(path)[sheet][cell].value


def cached_of(path, sheet, cell):
    return openpyxl.load_workbook(path, data_only=True)[sheet][cell].value


@pytest.mark.parametrize("value", [None, ""])
def test_cleared_formula_cell_is_restored(tmp_path, value):
    """A cleared formula is not a clerk's figure: compute puts the builder's formula back."""
    fresh = worked_book(tmp_path / "fresh")
    path = worked_book(tmp_path, typed_over={SUMMARY: {"J3": value, "J4": value}})
    outcome = expect(path, [("formula-restored", SUMMARY, "J3")])
    restored = next(f for f in outcome.findings if f.code == "formula-restored")
    assert "J4" in restored.message and "None" not in restored.message
    assert outcome.ok and compute_file(path, DEFS).written
    assert formula_of(path, SUMMARY, "J3") == formula_of(fresh, SUMMARY, "J3")
    assert formula_of(path, SUMMARY, "J4") == formula_of(fresh, SUMMARY, "J4")
    assert cached_of(path, SUMMARY, "J3") == 88.17  # 88 + 1/6 shown
    expect(path, [])


def test_typed_over_formula_is_refused():
    """A number typed over 综合得分 is a clerk's intent: refused, never silently replaced."""
    outcome = expect(S.worked(typed_over={SUMMARY: {"J3": 90}}),
                     [("formula-overwritten", SUMMARY, "J3")])
    assert not outcome.ok


def full_ballot(total_row, scores=(10, 10, 10, 10, 10, 10, 10, 10)):
    return {f"{L.col(2 + k)}{total_row}": v for k, v in enumerate(scores)}


def test_rows_in_the_room_are_counted_by_the_names(tmp_path):
    """Blank rows below the pre-filled ones are inside the names from the start."""
    # PLAN: peers 3 ballots + 1 spare for 3 members = rows 2-13, room to row 40
    row = 30
    cells = {"A30": 4, "B30": "张三", **full_ballot(row)}
    path = worked_book(tmp_path, cells={PEER: cells})
    outcome = expect(path, [])
    zhang = outcome.checked.figures.members[0]
    assert zhang.counts["peer"] == 4
    assert zhang.means["peer"] == Fraction(263 + 80, 4)
    assert outcome.ok and compute_file(path, DEFS).written
    assert cached_of(path, SUMMARY, "D3") == 4
    assert cached_of(path, SUMMARY, "M3") == 343 / 4 and cached_of(path, SUMMARY, "E3") == 85.75


def test_rows_below_the_names_are_shown_and_taken_in(tmp_path):
    """Beyond the names: a warning, counted by Python, and compute widens the names."""
    cells = {"A42": 5, "B42": "李四", "C42": 6, "D42": 6, "E42": 6, "F42": 6, "G42": 6,
             "H42": 6, "I42": 6, "J42": 6}
    path = worked_book(tmp_path, cells={PEER: cells})
    outcome = expect(path, [("row-outside-range", PEER, "A42")])
    warned = next(f for f in outcome.findings if f.code == "row-outside-range")
    assert outcome.ok and "第 42 行" in warned.message and "第 2–40 行" in warned.message
    li = outcome.checked.figures.members[1]
    assert li.counts["peer"] == 4 and li.means["peer"] == Fraction(240 + 48, 4)
    assert compute_file(path, DEFS).written
    assert formula_of(path, PEER, "K42").startswith("=IF(COUNTA(C42:J42)=0")
    assert cached_of(path, PEER, "K42") == 48
    with B.BookFile.open(path) as b:
        names = b.defined_names()
    assert names[L.entry_name(DEFS.groups[0], "totals")] == "党员互评!$K$2:$K$42"
    assert names[L.entry_name(DEFS.groups[0], "inputs")] == "党员互评!$A$2:$J$42"
    assert cached_of(path, SUMMARY, "D4") == 4 and cached_of(path, SUMMARY, "E4") == 72.0
    expect(path, [])


def test_inserted_row_without_the_total_formula(tmp_path):
    """A row inserted inside the names, typed, its 合计 blank: restored, not an error."""
    path = worked_book(tmp_path, typed_over={PEER: {"K20": None}},
                       cells={PEER: {"A20": 4, "B20": "王五", **full_ballot(20)}})
    outcome = expect(path, [("formula-restored", PEER, "K20")])
    assert outcome.ok and compute_file(path, DEFS).written
    assert formula_of(path, PEER, "K20").startswith("=IF(COUNTA(C20:J20)=0")
    assert cached_of(path, PEER, "K20") == 80
    expect(path, [])


def test_lookback_row_below_the_covered_range(tmp_path):
    row = L.LOOKBACK_LAST_ROW + 2  # 0-based: two rows below the names
    far = f"A{row + 1}"
    cells = {far: 99, **{f"{L.col(1 + k)}{row + 1}": 4 for k in range(10)}}
    path = worked_book(tmp_path, cells={LB: cells})
    outcome = expect(path, [("row-outside-range", LB, far)])
    assert outcome.ok
    means = outcome.checked.figures.lookback.means
    assert len(outcome.checked.lookback) == len(B.F.LOOKBACK) + 1
    assert compute_file(path, DEFS).written
    with B.BookFile.open(path) as b:
        assert b.defined_names()[L.lookback_name(0)] == f"回头看录入!$B$2:$B${row + 1}"
    assert cached_of(path, LB_FORM, "E4") == pytest.approx(float(means[0]), abs=1e-12)
    expect(path, [])


def checked_without_names(book):
    """check() as a shell that cannot read defined names (the add-in) runs it."""
    grids = book.grids()
    grids.names = None
    return check(DEFS, book.unit, grids)


def test_without_names_the_table_ends_at_its_last_formula():
    book = S.worked().rows(PEER, """
    | 行 | 票号 | 党员姓名 | 理想信念 |
    | 45 | 9    | 张三     | 8        |
    """)
    found = codes_cells(checked_without_names(book).findings)
    assert found == {("row-outside-table", PEER, "A45")}
    COVERED.add("row-outside-table")


def test_a_cleared_formula_nobody_knows_is_an_error(monkeypatch):
    monkeypatch.setattr("xlsheets.files.canonical.formulas",
                        lambda defs, unit, names, sheets: {s: {} for s in sheets})
    outcome = expect(S.worked(typed_over={SUMMARY: {"J3": None}}),
                     [("formula-cleared", SUMMARY, "J3")])
    assert not outcome.ok


def drop_names(path, prefix):
    """Remove the workbook-scoped defined names starting with ``prefix``."""
    import zipfile, os
    with zipfile.ZipFile(path) as zf:
        entries = [(i, zf.read(i)) for i in zf.infolist()]
    tmp = Path(path).with_suffix(".dropping")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in entries:
            if info.filename == "xl/workbook.xml":
                data, n = re.subn(rf'<definedName name="{prefix}[^"]*">[^<]*</definedName>'.encode(),
                                  b"", data)
                assert n
            out.writestr(info, data)
    os.replace(tmp, path)


def test_names_missing_are_restored(tmp_path):
    path = worked_book(tmp_path)
    drop_names(path, "xlsheets_mass_")
    outcome = expect(path, [("range-names-missing", MASS, "")])
    assert outcome.ok and compute_file(path, DEFS).written
    with B.BookFile.open(path) as b:
        names = b.defined_names()
    assert names["xlsheets_mass_names"] == "群众参评!$B$2:$B$28"  # 2+1 ballots x 3, room 18
    expect(path, [])


def test_formula_reading_another_file_is_restored(tmp_path):
    """A 合计 and a 汇总 formula that point at another workbook (a copy of a copy)."""
    import zipfile
    from xlsheets.ooxml import Formula
    fresh = worked_book(tmp_path / "fresh")
    path = worked_book(tmp_path)
    B.patch(path, {SUMMARY: {"J3": Formula("[1]汇总!J3", 12.5)},
                   PEER: {"K2": Formula("'[1]党员互评'!K2", 1)}})
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("xl/externalLinks/externalLink1.xml", "<externalLink/>")
    outcome = expect(path, [("formula-external", SUMMARY, "J3"), ("formula-external", PEER, "K2"),
                            ("external-link", INTRO, "")])
    assert outcome.ok and compute_file(path, DEFS).written
    assert formula_of(path, SUMMARY, "J3") == formula_of(fresh, SUMMARY, "J3")
    assert formula_of(path, PEER, "K2") == formula_of(fresh, PEER, "K2")
    assert cached_of(path, SUMMARY, "J3") == 88.17


def test_name_with_spaces_is_trimmed():
    outcome = expect(S.worked(cells={PEER: {"B3": " 李四 "}}),
                     [("ballot-name-spaces", PEER, "B3")])
    assert outcome.ok and outcome.checked.fixes[PEER]["B3"] == "李四"


def test_every_code_has_a_case():
    """Every catalogue code is asserted, with its cell, by some case in this module,
    or, for the steps beyond the ballots, in test_steps.py and for the grades in
    test_grading.py (which check their own)."""
    def asserted(path):
        source = path.read_text(encoding="utf-8")
        return set(re.findall(r'\("([a-z-]+)", ', source)) | set(
            re.findall(r'\["([a-z-]+)"', source))

    quoted = [code for module in ("test_steps.py", "test_grading.py")
              for code in re.findall(r'"([a-z-]+)"', Path(__file__).with_name(module).read_text(
                  encoding="utf-8"))]
    steps = set(quoted) & set(CATALOGUE) - asserted(Path(__file__))
    # the import of online answers (import-*) is asserted, at its cells, in test_online.py
    online = {c for c in CATALOGUE if c.startswith("import-")} & set(re.findall(
        r'"([a-z-]+)"', Path(__file__).with_name("test_online.py").read_text(encoding="utf-8")))
    assert set(CATALOGUE) - asserted(Path(__file__)) - steps - online == set()
    if len(COVERED) > 20:  # the whole module ran: the codes were really produced
        assert set(CATALOGUE) - steps - online - COVERED == set()
