"""Test data and a clerk's hands: SPEC.md's worked example, and typing it into a workbook.

The workbook is filled the way a branch clerk fills it: open the file, find the
row of (ballot, member) by its pre-filled 票号 and 党员姓名, find each item's
column by its header, type numbers, save. Nothing here computes a result: the
expected figures live in the tests, copied from SPEC.md.
"""
from __future__ import annotations

import csv
from pathlib import Path

from xlsheets.workbook import layout as L
from xlsheets.workbook.entries import Entries

# SPEC.md "Worked examples": ballot totals per member and rater group.
WORKED = {
    "张三": {"peer": [90, 85, 88], "mass": [80, 90], "committee": [92]},
    "李四": {"peer": [78, 82, 80], "mass": [75, 70], "committee": [85]},
    "王五": {"peer": [88, 90, 89], "mass": [85, 83], "committee": [84]},
}
# A fourth member rated by peers and masses but by no committee ballot (R7).
ZHAO = "赵六"
ZHAO_TOTALS = {"peer": [80, 76, 84], "mass": [72, 70], "committee": []}
DUTIES = {"张三": "支部书记", "李四": "组织委员", "王五": "党员", ZHAO: "党员"}

PLAN = L.BallotPlan((("peer", 3), ("mass", 2), ("committee", 1)))

CATEGORIES = [10, 5, 8, 3, 2, 6, 1]  # 附件6 participants, 合计 35
LEVELS = [28, 6, 1]  # 满意, 基本满意, 不满意
LOOKBACK = [[9] * 10, [10] * 10, [8, 9, 10, 8, 9, 10, 8, 9, 10, 8]]


def all_totals(with_zhao=True):
    """Member -> group -> ballot totals, 赵六 last when wanted."""
    totals = dict(WORKED)
    if with_zhao:
        totals[ZHAO] = ZHAO_TOTALS
    return totals


def write_roster(path: Path, names) -> Path:
    """A UTF-8 roster CSV with 姓名,职务 and one row per name."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["姓名", "职务"])
        for n in names:
            w.writerow([n, DUTIES.get(n, "党员")])
    return path


def split_total(total, maxima):
    """Whole item scores, each within its maximum, that add up to ``total``.

    The big item (工作绩效, 30) takes about 30% of the total and the rest is
    spread as evenly as possible over the 10-point items.
    """
    big = max(range(len(maxima)), key=lambda k: maxima[k])
    small = [k for k in range(len(maxima)) if k != big]
    scores = [0] * len(maxima)
    scores[big] = min(maxima[big], round(total * maxima[big] / sum(maxima)))
    q, r = divmod(total - scores[big], len(small))
    for n, k in enumerate(small):
        scores[k] = q + (1 if n < r else 0)
    assert sum(scores) == total, (total, scores)
    assert all(0 <= s <= m for s, m in zip(scores, maxima)), (total, scores)
    return scores


def ballots_of(totals, items, groups):
    """``Entries.ballots`` from member -> group -> totals: ballot b rates every member once."""
    maxima = [i.max for i in items]
    out = {}
    for g in groups:
        count = max(len(t[g.key]) for t in totals.values())
        out[g.key] = [
            {name: split_total(t[g.key][b], maxima)
             for name, t in totals.items() if b < len(t[g.key])}
            for b in range(count)
        ]
    return out


def worked_entries(defs, with_zhao=True) -> Entries:
    """The worked example as ``Entries``: ballots, 附件6 counts and look-back ballots."""
    return Entries(ballots=ballots_of(all_totals(with_zhao), defs.items, defs.groups),
                   lookback=[list(b) for b in LOOKBACK],
                   categories=list(CATEGORIES), levels=list(LEVELS))


# --- finding cells as a clerk does: by what the sheet says ---------------------------

def header_columns(ws, row=1):
    """Header text -> 1-based column of openpyxl worksheet ``ws``'s header row."""
    return {c.value: c.column for c in ws[row] if c.value is not None}


def entry_rows(ws):
    """(票号, 党员姓名) -> 1-based row of an entry sheet, read from its pre-filled cells."""
    cols = header_columns(ws)
    no_col, name_col = (cols[h] for h in L.ENTRY_FIXED_HEADERS)
    rows = {}
    for r in range(L.ENTRY_FIRST_ROW + 1, ws.max_row + 1):
        no, name = ws.cell(r, no_col).value, ws.cell(r, name_col).value
        if no is not None and name:
            rows[(no, name)] = r
    return rows


def type_scores(ws, items, ballot_no, name, scores):
    """Type one row of item scores (None leaves the cell empty)."""
    cols = header_columns(ws)
    r = entry_rows(ws)[(ballot_no, name)]
    for item, s in zip(items, scores):
        ws.cell(r, cols[item.name]).value = s
    return r


def type_ballots(wb, defs, ballots):
    """Type ``Entries.ballots``-shaped data into the entry sheets of openpyxl ``wb``."""
    for g in defs.groups:
        ws = wb[L.entry_sheet(g)]
        for b, ballot in enumerate(ballots.get(g.key, []), start=1):
            for name, scores in ballot.items():
                type_scores(ws, defs.items, b, name, scores)


def type_satisfaction(ws, defs, categories, levels):
    """Type 附件6 counts in the cells right below their labels; check the labels."""
    sat = defs.satisfaction
    for k, (label, n) in enumerate(zip(sat["categories"], categories)):
        col = 3 + k  # 0-based column 2 onwards, openpyxl is 1-based
        assert ws.cell(L.SAT_CATEGORY_LABEL_ROW + 1, col).value == label
        ws.cell(L.SAT_CATEGORY_ROW + 1, col).value = n
    for k, (label, n) in enumerate(zip(sat["levels"], levels)):
        col = 3 + L.SAT_LEVEL_SPAN * k
        assert ws.cell(L.SAT_LEVEL_LABEL_ROW + 1, col).value == label
        ws.cell(L.SAT_LEVEL_ROW + 1, col).value = n


def type_lookback(ws, ballots):
    """Type returned 附件5 ballots into 回头看录入, one per pre-numbered row."""
    for i, scores in enumerate(ballots):
        r = L.LOOKBACK_FIRST_ROW + 1 + i
        assert ws.cell(r, 1).value == i + 1, "票号 pre-filled in column A"
        for c, s in enumerate(scores, start=2):
            ws.cell(r, c).value = s


# --- reading recalculated values (read_values grids, 0-based) -------------------------

def find_in_row(grid, row, text):
    """0-based column of ``text`` in 0-based ``row`` of a values grid."""
    return grid[row].index(text)


def find_in_col(grid, col, text):
    """0-based row of ``text`` in 0-based column ``col`` of a values grid."""
    return next(r for r, line in enumerate(grid) if col < len(line) and line[col] == text)
