"""LibreOffice itself as the clerk: it types ballots, appends more than expected, inserts,
deletes and sorts rows, copies every sheet into a new document, saves as .xls and back.
After each, validate and compute behave as the README promises and the figures equal
hand-computed ones (exact fractions here), in Python and in LibreOffice's own
recalculation of the file, before compute (what a clerk without Python sees) and after.
"""
from __future__ import annotations

import os
import zipfile
from fractions import Fraction as Fr

import openpyxl
import pytest

import books as B
import filling as F
import libreoffice as lo
import uno_clerk
from xlsheets.workbook import layout as L
from xlsheets.files.compute import compute_file, validate_file

PEER, MASS = "党员互评", "群众参评"
NAMES = B.NAMES  # 张三, 李四, 王五
MAXIMA = [i.max for i in B.DEFS.items]
PAIRS, COMP, RANK, _ = L.summary_columns(B.DEFS.groups)


@pytest.fixture(scope="module")
def clerk(soffice):
    if not uno_clerk.available():
        msg = "Python-UNO missing: install python3-uno"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


def r8(x):
    n = (x * 100 + Fr(1, 2)).__floor__()
    return float(Fr(n, 100))


def composite(t):
    mean = lambda xs: Fr(sum(xs), len(xs))
    return Fr(4, 10) * mean(t["peer"]) + Fr(3, 10) * mean(t["mass"]) + \
        Fr(3, 10) * mean(t["committee"])


def worked():
    return {n: {k: list(v) for k, v in F.WORKED[n].items()} for n in NAMES}


def row_of(ballot, member):
    """1-based row of (ballot, member) among an entry sheet's pre-filled rows."""
    return 2 + (ballot - 1) * len(NAMES) + NAMES.index(member)


def typing(totals):
    """Steps that type every ballot of ``totals`` into its pre-filled row."""
    steps = []
    for name, groups in totals.items():
        for key, ballots in groups.items():
            for b, total in enumerate(ballots, start=1):
                steps.append({"op": "fill", "sheet": B.SHEET[key], "start": f"C{row_of(b, name)}",
                              "rows": [F.split_total(total, MAXIMA)]})
    return steps


def ballot_at(row, ballot, name, total):
    return {"op": "fill", "sheet": MASS, "start": f"A{row}",
            "rows": [[ballot, name, *F.split_total(total, MAXIMA)]]}


def summary_of(values):
    rows = values[L.SUMMARY]
    return {rows[L.SUMMARY_FIRST_ROW + i][1]: rows[L.SUMMARY_FIRST_ROW + i]
            for i in range(len(NAMES))}


def assert_figures(path, totals, tmp_path, tag):
    """Python's figures and LibreOffice's recalculation of ``path`` equal the hand figures."""
    outcome, _ = validate_file(path, B.DEFS)
    for m in outcome.checked.figures.members:
        assert m.composite == composite(totals[m.name]), (tag, m.name)
    seen = summary_of(lo.read_values(lo.recalc(path, tmp_path / f"lo-{tag}")))
    for name in NAMES:
        assert seen[name][COMP] == r8(composite(totals[name])), (tag, name)
        for g, (cc, _) in zip(B.DEFS.groups, PAIRS):
            assert seen[name][cc] == len(totals[name][g.key]), (tag, name, g.key)
    return outcome


def codes(outcome):
    return {(f.code, f.sheet, f.cell) for f in outcome.findings} - {
        (f.code, f.sheet, f.cell) for f in outcome.findings if f.code in B.STEPS_BLANK}


@pytest.fixture
def blank(tmp_path):
    return B.make_book(tmp_path / "blank", lookback=F.LOOKBACK, categories=F.CATEGORIES,
                       levels=F.LEVELS)


def test_typed_by_libreoffice(clerk, blank, tmp_path):
    typed = tmp_path / "typed.xlsx"
    uno_clerk.run(blank, typed, typing(worked()))
    assert codes(validate_file(typed, B.DEFS)[0]) == set()
    assert_figures(typed, worked(), tmp_path, "before")
    assert compute_file(typed, B.DEFS).written
    assert_figures(typed, worked(), tmp_path, "after")


def test_more_ballots_than_expected(clerk, blank, tmp_path):
    """Ballot 3 of 群众参评 (2 expected) in the room, ballot 4 below the names."""
    totals = worked()
    steps = typing(totals)
    # the room starts below the pre-filled rows: (2 + 1 spare) x 3 members = rows 2-10
    for i, name in enumerate(NAMES):
        steps.append(ballot_at(11 + i, 3, name, 70 + i))
        totals[name]["mass"].append(70 + i)
    before = {n: {k: list(v) for k, v in t.items()} for n, t in totals.items()}
    last = 1 + B.PLAN.capacity("mass", len(NAMES))  # the names' last row, 1-based
    for i, name in enumerate(NAMES):
        steps.append(ballot_at(last + 1 + i, 4, name, 60))
        totals[name]["mass"].append(60)
    path = tmp_path / "more.xlsx"
    uno_clerk.run(blank, path, steps)  # protection stays on: the rows are unlocked
    # before compute the workbook counts ballots 1-3 and says ballot 4 is outside
    seen = lo.read_values(lo.recalc(path, tmp_path / "lo-more"))
    summary = summary_of(seen)
    for name in NAMES:
        assert summary[name][COMP] == r8(composite(before[name]))
    assert seen[MASS][0][L.sentinel_col(B.DEFS.items)].startswith("未计入")
    assert seen[L.SUMMARY][L.SUMMARY_FIRST_ROW + len(NAMES) + 1][0].startswith("注意")
    outcome = validate_file(path, B.DEFS)[0]
    assert codes(outcome) == {("row-outside-range", MASS, f"A{last + 1}")}
    assert compute_file(path, B.DEFS).written
    after = lo.read_values(lo.recalc(path, tmp_path / "lo-more-after"))
    assert after[MASS][0][L.sentinel_col(B.DEFS.items)] == ""
    assert_figures(path, totals, tmp_path, "more-after")
    assert codes(validate_file(path, B.DEFS)[0]) == set()


def test_inserted_row_deleted_row_and_sort(clerk, blank, tmp_path):
    totals = worked()
    path = tmp_path / "edited.xlsx"
    uno_clerk.run(blank, path, typing(totals))
    # unprotect; insert a row inside the table and type a 4th peer ballot for 张三 there
    # (no 合计 formula in it); delete 王五's ballot 3 (row 10); sort by name
    steps = [{"op": "unprotect", "sheet": PEER},
             {"op": "insert_rows", "sheet": PEER, "before": 5, "count": 1},
             {"op": "fill", "sheet": PEER, "start": "A5",
              "rows": [[4, "张三", *F.split_total(77, MAXIMA)]]},
             {"op": "delete_rows", "sheet": PEER, "first": row_of(3, "王五") + 1, "count": 1},
             {"op": "sort", "sheet": PEER, "range": "A2:K13", "by": 1, "ascending": True},
             {"op": "protect", "sheet": PEER}]
    totals["张三"]["peer"].append(77)
    totals["王五"]["peer"] = totals["王五"]["peer"][:2]
    edited = tmp_path / "edited2.xlsx"
    uno_clerk.run(path, edited, steps)
    outcome = validate_file(edited, B.DEFS)[0]  # read, not refused (no exit 2)
    assert {c for c, _, _ in codes(outcome)} <= {"formula-restored"}
    assert outcome.ok
    for m in outcome.checked.figures.members:
        assert m.composite == composite(totals[m.name]), m.name
    assert compute_file(edited, B.DEFS).written
    assert codes(validate_file(edited, B.DEFS)[0]) == set()
    assert_figures(edited, totals, tmp_path, "edited")


def test_copied_into_a_new_document(clerk, blank, tmp_path):
    path = tmp_path / "typed.xlsx"
    uno_clerk.run(blank, path, typing(worked()))
    copy = tmp_path / "copy.xlsx"
    uno_clerk.run(path, copy, [{"op": "copy_all_sheets_to_new_document"}])
    outcome = validate_file(copy, B.DEFS)[0]
    found = {c for c, _, _ in codes(outcome)}
    assert found & {"formula-external", "range-names-missing", "formula-restored"}, found
    assert outcome.ok
    assert compute_file(copy, B.DEFS).written
    after = {c for c, _, _ in codes(validate_file(copy, B.DEFS)[0])}
    assert not after & {"formula-external", "range-names-missing", "formula-restored",
                        "external-link"}, after
    with zipfile.ZipFile(copy) as zf:  # no link left for Excel to offer to update
        assert not [n for n in zf.namelist() if "externalLink" in n]
        assert b"externalReferences" not in zf.read("xl/workbook.xml")
    assert openpyxl.load_workbook(copy).sheetnames[-1] == "校验结果"
    assert_figures(copy, worked(), tmp_path, "copy")


def test_saved_as_xls_and_back(clerk, blank, tmp_path):
    xls = tmp_path / "typed.xls"
    uno_clerk.run(blank, xls, typing(worked()), fmt="xls")
    back = tmp_path / "back.xlsx"
    uno_clerk.run(xls, back, [])
    outcome = validate_file(back, B.DEFS)[0]
    assert outcome.ok, [f.text() for f in outcome.findings if f.is_error]
    assert compute_file(back, B.DEFS).written
    assert_figures(back, worked(), tmp_path, "xls")
