"""The branch workbook's formulas, recalculated by LibreOffice (R2, R5-R12).

Two angles:
- a blank workbook filled the way a clerk fills it (openpyxl types numbers into the
  entry cells, nothing is cached) must show SPEC.md's worked-example figures once a
  real spreadsheet program has recalculated it;
- a workbook built *with* entries carries Python's figures as cached values; every
  formula cell must keep its value when LibreOffice recalculates it, so Python's
  figures and the workbook's formulas agree.
A sentinel (=6*7 cached as 0) proves each file really was recalculated.
"""
from __future__ import annotations

import dataclasses
import shutil

import openpyxl
import pytest
from openpyxl.worksheet.formula import ArrayFormula

import filling as F
import libreoffice as lo
from xlsheets import writer as book, definitions
from xlsheets.workbook import layout as L
from xlsheets.core.figures import INCOMPLETE, OUT_OF_RANGE
from xlsheets.writer.summary_sheet import INVALID, MISSING
from xlsheets.files.roster import read_roster

pytestmark = pytest.mark.libreoffice

DEFS = definitions.load()
UNIT = DEFS.unit("机关")
GROUP = {g.key: g for g in DEFS.groups}
WORK = DEFS.items[-1]  # 工作绩效, 30 points


# --- building, filling, recalculating -------------------------------------------------

def build_blank(tmp, unit=UNIT):
    roster = read_roster(F.write_roster(tmp / "名册.csv", list(F.all_totals())))
    path = tmp / "机关.xlsx"
    book.build(DEFS, unit, roster, path, plan=F.PLAN)
    return path


def fill_like_a_clerk(path, spoil=None):
    """Type the worked example into the blank workbook at ``path``; ``spoil(wb)`` edits on top."""
    wb = openpyxl.load_workbook(path)
    F.type_ballots(wb, DEFS, F.ballots_of(F.all_totals(), DEFS.items, DEFS.groups))
    F.type_satisfaction(wb[L.SATISFACTION], DEFS, F.CATEGORIES, F.LEVELS)
    F.type_lookback(wb[L.LOOKBACK_ENTRY], F.LOOKBACK)
    if spoil:
        spoil(wb)
    wb.save(path)


def free_cell(path, sheet):
    """An empty cell two columns right of the sheet's used range, row 1."""
    ws = openpyxl.load_workbook(path)[sheet]
    return f"{L.col(ws.max_column + 1)}1"


def recalculated(path, outdir):
    """Plant the sentinel on 汇总, recalc with LibreOffice; (values, sentinel cell)."""
    sentinel = free_cell(path, L.SUMMARY)
    lo.plant_sentinel(path, L.SUMMARY, sentinel)
    return lo.read_values(lo.recalc(path, outdir)), sentinel


@pytest.fixture(scope="module")
def clerk_book(soffice, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("clerk")
    path = build_blank(tmp)
    fill_like_a_clerk(path)
    return recalculated(path, tmp / "out")


def spoil(wb):
    """李四's 2nd peer ballot half-filled; 35 in 王五's 工作绩效 on the 1st mass ballot."""
    peers = wb[L.entry_sheet(GROUP["peer"])]
    half = F.split_total(82, [i.max for i in DEFS.items])
    half[2] = half[5] = None
    F.type_scores(peers, DEFS.items, 2, "李四", half)
    masses = wb[L.entry_sheet(GROUP["mass"])]
    r = F.entry_rows(masses)[(1, "王五")]
    masses.cell(r, F.header_columns(masses)[WORK.name]).value = 35


@pytest.fixture(scope="module")
def spoilt_book(soffice, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("spoilt")
    path = build_blank(tmp)
    fill_like_a_clerk(path, spoil)
    return recalculated(path, tmp / "out")[0]


# --- reading the recalculated sheets ---------------------------------------------------

def summary_row(values, name):
    """汇总 as {header: value} for one member, headers from the header row."""
    grid = values[L.SUMMARY]
    headers = grid[L.SUMMARY_HEADER_ROW]
    r = F.find_in_col(grid, headers.index("姓名"), name)
    return dict(zip(headers, grid[r]))


def mean_of(row, group_key):
    """The group mean from a ``summary_row``: its header starts with 党员互评平均分 etc."""
    label = GROUP[group_key].mean_label
    (value,) = [v for h, v in row.items() if isinstance(h, str) and h.startswith(label)]
    return value


def entry_total(values, group_key, ballot_no, name):
    """合计 of the entry row of (票号, 党员姓名) in a group's entry sheet."""
    grid = values[L.entry_sheet(GROUP[group_key])]
    head = grid[0]
    no, who, tot = (head.index(h) for h in (*L.ENTRY_FIXED_HEADERS, DEFS.ballot["total_header"]))
    (line,) = [ln for ln in grid[1:] if ln[no] == ballot_no and ln[who] == name]
    return line[tot]


# --- the clerk-filled workbook ---------------------------------------------------------

def test_sentinel_proves_recalculation(clerk_book):
    values, sentinel = clerk_book
    assert lo.cell(values, L.SUMMARY, sentinel) == lo.SENTINEL_VALUE == 42


def test_entry_totals(clerk_book):
    values, _ = clerk_book
    for name, groups in F.all_totals().items():
        for key, totals in groups.items():
            for b, total in enumerate(totals, start=1):
                assert entry_total(values, key, b, name) == total, (key, b, name)
    # 赵六 has no committee ballot: his pre-filled row stays empty, not 0.
    assert entry_total(values, "committee", 1, F.ZHAO) == ""


@pytest.mark.parametrize("name, peer, mass, committee, composite, rank", [
    ("张三", 87.67, 85.00, 92.00, 88.17, 1),
    ("李四", 80.00, 72.50, 85.00, 79.25, 3),
    ("王五", 89.00, 84.00, 84.00, 86.00, 2),
])
def test_summary_worked_example(clerk_book, name, peer, mass, committee, composite, rank):
    row = summary_row(clerk_book[0], name)
    assert [row[f"{GROUP[k].name}票数"] for k in ("peer", "mass", "committee")] == [3, 2, 1]
    assert round(mean_of(row, "peer"), 2) == peer
    assert round(mean_of(row, "mass"), 2) == mass
    assert round(mean_of(row, "committee"), 2) == committee
    assert round(row["综合得分"], 2) == composite
    assert row["排名"] == rank


def test_exact_composite(clerk_book):
    # 0.4*(263/3) + 0.3*85 + 0.3*92 = 88.1666...: shown as 88.17 by its own ROUND (R8),
    # kept exact in the hidden column the ranks follow.
    row = summary_row(clerk_book[0], "张三")
    assert row["综合得分"] == 88.17
    assert row["未舍入的综合得分"] == pytest.approx(88 + 1 / 6, abs=1e-9)


def test_member_without_committee_ballot(clerk_book):
    row = summary_row(clerk_book[0], F.ZHAO)
    assert row[f"{GROUP['committee'].name}票数"] == 0
    assert mean_of(row, "committee") == MISSING
    assert round(mean_of(row, "peer"), 2) == 80.00
    assert round(mean_of(row, "mass"), 2) == 71.00
    assert row["综合得分"] == MISSING == "缺票"  # never 0 (R7)
    assert row["排名"] == ""
    assert row["备注"] == f"缺{GROUP['committee'].name}票"


def test_satisfaction(clerk_book):
    grid = clerk_book[0][L.SATISFACTION]
    levels = DEFS.satisfaction["levels"]
    assert grid[L.SAT_CATEGORY_ROW][1] == 35  # 合计, the denominator
    shares = [grid[L.SAT_SHARE_ROW][2 + L.SAT_LEVEL_SPAN * k] for k in range(len(levels))]
    assert [round(s, 4) for s in shares] == [0.8, 0.1714, 0.0286]
    rate_col = F.find_in_row(grid, L.SAT_LEVEL_LABEL_ROW, DEFS.satisfaction["rate_label"])
    assert round(grid[L.SAT_LEVEL_ROW][rate_col], 4) == 0.9714


def test_lookback_means(clerk_book):
    grid = clerk_book[0][L.LOOKBACK_FORM]
    head = F.find_in_col(grid, 0, DEFS.lookback["headers"][0])
    score = grid[head].index(DEFS.lookback["headers"][2])  # 测评分
    means = [grid[F.find_in_col(grid, 0, it.name)][score] for it in DEFS.lookback_items]
    assert [round(m, 2) for m in means] == [9, 9.33, 9.67, 9, 9.33, 9.67, 9, 9.33, 9.67, 9]
    total = grid[F.find_in_col(grid, 0, DEFS.lookback["total_label"])]
    assert round(total[score], 2) == 93.00
    assert total[score] == pytest.approx(93, abs=1e-9)
    assert total[1] == 100  # 标准分


def test_opinion_form_links_composite(clerk_book):
    grid = clerk_book[0][L.OPINION_FORM]
    label = DEFS.opinion["fields"][2]  # 测评综合得分
    for name, expected in (("张三", 88.17), ("李四", 79.25), ("王五", 86.00), (F.ZHAO, MISSING)):
        line = grid[F.find_in_col(grid, 1, name)]
        value = line[line.index(label) + 1]
        assert (value if isinstance(value, str) else round(value, 2)) == expected, name


# --- half-filled and out-of-range rows -------------------------------------------------

def test_half_filled_row(spoilt_book):
    assert entry_total(spoilt_book, "peer", 2, "李四") == INCOMPLETE == "不完整"
    row = summary_row(spoilt_book, "李四")
    assert row[f"{GROUP['peer'].name}票数"] == 2  # the broken row is not counted...
    assert mean_of(row, "peer") == INVALID == "有误"  # ...and the mean refuses to show
    assert row["综合得分"] == INVALID
    assert row["排名"] == ""
    # The other members' figures stand; the rank leaves no gap for 李四.
    zhang = summary_row(spoilt_book, "张三")
    assert round(zhang["综合得分"], 2) == 88.17 and zhang["排名"] == 1


def test_out_of_range_score(spoilt_book):
    assert entry_total(spoilt_book, "mass", 1, "王五") == OUT_OF_RANGE == "超出分值"
    assert entry_total(spoilt_book, "mass", 2, "王五") == 83
    row = summary_row(spoilt_book, "王五")
    assert mean_of(row, "mass") == INVALID
    assert round(mean_of(row, "peer"), 2) == 89.00
    assert row["综合得分"] == INVALID
    assert row["排名"] == ""


# --- Python's cached figures against LibreOffice's ---------------------------------------

def faulty_entries():
    """The worked example plus a half-filled row, a 35 and a 八 typed as text."""
    e = F.worked_entries(DEFS)
    half = F.split_total(82, [i.max for i in DEFS.items])
    half[2] = half[5] = None
    e.ballots["peer"][1]["李四"] = half
    e.ballots["mass"][0]["王五"] = [*F.split_total(55, [10] * 7), 35]
    e.ballots["committee"][0]["张三"] = ["八", *F.split_total(83, [i.max for i in DEFS.items[1:]])]
    return e


def graded_entries():
    """The worked example with 评定等次 begun (赵六 not graded) and ballots accounted for."""
    import datetime as dt

    return dataclasses.replace(
        F.worked_entries(DEFS),
        grades={"张三": ["优秀", "", dt.date(2005, 9, 5), "镇党委"],
                "李四": ["基本合格", "学习不够"], "王五": ["合格"]},
        accounts={"peer": (4, 3), "mass": (2, 2)})


VARIANTS = {
    "worked-example": (UNIT, lambda: F.worked_entries(DEFS)),
    "graded": (UNIT, graded_entries),
    "faulty-rows": (UNIT, faulty_entries),
    "trimmed-reweighted": (dataclasses.replace(UNIT, averaging="trimmed", reweight_missing=True),
                           lambda: F.worked_entries(DEFS)),
}


def formula_cells(path):
    """(sheet, row, col) of every formula cell, 1-based, found with openpyxl."""
    wb = openpyxl.load_workbook(path)
    return [(ws.title, c.row, c.column) for ws in wb for line in ws.iter_rows() for c in line
            if isinstance(c.value, ArrayFormula)
            or (c.data_type == "f" and isinstance(c.value, str) and c.value.startswith("="))]


def same_value(cached, recalced):
    """Numbers equal to 9 decimals, texts equal; an empty cache ('' forces recalc) is ''."""
    if cached is None:
        cached = ""
    if isinstance(cached, (int, float)) and not isinstance(cached, bool):
        return (isinstance(recalced, (int, float)) and not isinstance(recalced, bool)
                and abs(cached - recalced) < 1e-9)
    return cached == recalced


@pytest.mark.parametrize("variant", VARIANTS)
def test_cached_values_match_recalculation(soffice, tmp_path, variant):
    unit, entries = VARIANTS[variant]
    roster = read_roster(F.write_roster(tmp_path / "名册.csv", list(F.all_totals())))
    path = tmp_path / "机关.xlsx"
    book.build(DEFS, unit, roster, path, plan=F.PLAN, entries=entries())

    cells = formula_cells(path)
    cached_wb = openpyxl.load_workbook(path, data_only=True)
    cached = {(s, r, c): cached_wb[s].cell(r, c).value for s, r, c in cells}
    formula_sheets = {s for s, _, _ in cells}
    assert formula_sheets == {*(g.name for g in DEFS.groups), L.SUMMARY, L.OPINION_FORM,
                              L.LOOKBACK_ENTRY, L.LOOKBACK_FORM, L.SATISFACTION,
                              L.OPINION_COUNTS, L.GRADES}
    numbers = [v for v in cached.values() if isinstance(v, (int, float))]
    texts = [v for v in cached.values() if isinstance(v, str) and v]
    assert len(numbers) >= 50 and texts  # not a vacuous check: figures and 缺票/有误 are cached

    work = tmp_path / "recalc"
    work.mkdir()
    copy = shutil.copy(path, work / path.name)  # the sentinel edits a copy, not the original
    values, sentinel = recalculated(copy, tmp_path / "out")
    assert lo.cell(values, L.SUMMARY, sentinel) == lo.SENTINEL_VALUE

    disagree = [(s, f"{L.col(c - 1)}{r}", cached[(s, r, c)], values[s][r - 1][c - 1])
                for s, r, c in cells
                if not same_value(cached[(s, r, c)], values[s][r - 1][c - 1])]
    assert not disagree, f"{len(disagree)} of {len(cells)} formula cells differ: {disagree[:20]}"
