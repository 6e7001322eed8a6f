"""Gnumeric as a second engine: it opens our workbooks without complaint, and what it
displays for every composite, mean, share and total is R8's rounding - halves
included, such as 88.075 and 70.825, which Gnumeric shows as 88.07 and 70.82 when a
0.00 format is laid over the exact value (it reads decimals into long doubles).

Expected figures are worked out here by hand, in exact fractions.
"""
from __future__ import annotations

import os
from fractions import Fraction as Fr

import pytest

import books as B
import filling as F
import gnumeric as gn
import libreoffice as lo
from xlsheets.workbook import layout as L
from xlsheets.files.compute import compute_file

# Ballot totals chosen so that the composites fall on exact halves of a cent.
HALVES = {
    "张三": {"peer": [88, 88, 88], "mass": [88, 88, 88, 89], "committee": [88, 88]},
    "李四": {"peer": [70, 70, 70], "mass": [71, 71, 71, 72], "committee": [71, 72]},
    "王五": {"peer": [80, 80, 80], "mass": [80, 80, 80, 80], "committee": [80, 80]},
}
PLAN = L.BallotPlan((("peer", 3), ("mass", 4), ("committee", 2)), spare=1, lookback=40)
# 40 look-back ballots: item 1 has one 10 and 39 nines (361/40 = 9.025), the rest 9.
LOOKBACK = [[10] + [9] * 9] + [[9] * 10 for _ in range(39)]
CATEGORIES = [10, 5, 8, 3, 2, 3, 1]  # 合计 32
LEVELS = [29, 2, 1]  # 90.625%, 6.25%, 3.125%; 满意率 96.875%


def mean(xs):
    return Fr(sum(xs), len(xs))


def r8(x: Fr) -> str:
    """Two decimals, half away from zero, of a non-negative exact fraction."""
    n = (x * 100 + Fr(1, 2)).__floor__()
    return f"{n // 100}.{n % 100:02d}"


def composite(name):
    t = HALVES[name]
    return Fr(4, 10) * mean(t["peer"]) + Fr(3, 10) * mean(t["mass"]) + \
        Fr(3, 10) * mean(t["committee"])


@pytest.fixture(scope="module")
def ssconvert():
    if gn.ssconvert_path() is None:
        if os.environ.get("CI"):
            pytest.fail("Gnumeric's ssconvert not found: install gnumeric")
        pytest.skip("Gnumeric's ssconvert not found")


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    """(as typed, never computed; the same computed) workbooks."""
    tmp = tmp_path_factory.mktemp("halves")
    ballots = F.ballots_of(HALVES, B.DEFS.items, B.DEFS.groups)
    typed = B.make_book(tmp / "typed", ballots, lookback=LOOKBACK, categories=CATEGORIES,
                        levels=LEVELS, plan=PLAN)
    computed = B.make_book(tmp / "computed", ballots, lookback=LOOKBACK,
                           categories=CATEGORIES, levels=LEVELS, plan=PLAN)
    outcome = compute_file(computed, B.DEFS)
    assert outcome.written, [f.text() for f in outcome.findings]
    return typed, computed


def test_the_hand_figures_are_halves():
    assert composite("张三") == Fr(88075, 1000) and composite("李四") == Fr(70825, 1000)
    assert (r8(composite("张三")), r8(composite("李四"))) == ("88.08", "70.83")


@pytest.mark.parametrize("which", ["typed", "computed"])
def test_gnumeric_opens_without_complaint(ssconvert, books, which):
    path = books[0] if which == "typed" else books[1]
    assert gn.warnings(path) == []


@pytest.mark.parametrize("which", ["typed", "computed"])
def test_gnumeric_shows_the_rules_rounding(ssconvert, books, which):
    path = books[0] if which == "typed" else books[1]
    rows = gn.displayed(path, L.SUMMARY)
    header = rows[L.SUMMARY_HEADER_ROW]
    pairs, comp, rank, _ = L.summary_columns(B.DEFS.groups)
    for i, name in enumerate(HALVES):
        row = rows[L.SUMMARY_FIRST_ROW + i]
        assert row[1] == name
        for g, (_, mc) in zip(B.DEFS.groups, pairs):
            assert row[mc] == r8(mean(HALVES[name][g.key])), (name, header[mc])
        assert row[comp] == r8(composite(name)), name
    assert [rows[L.SUMMARY_FIRST_ROW + i][rank] for i in range(3)] == ["1", "3", "2"]
    opinion = gn.displayed(path, L.OPINION_FORM)
    for i, name in enumerate(HALVES):
        r, c = i * L.OPINION_FORM_ROWS + L.OPINION_FORM_SCORE[0], L.OPINION_FORM_SCORE[1]
        assert opinion[r][c] == r8(composite(name))
    form = gn.displayed(path, L.LOOKBACK_FORM)
    first = L.LOOKBACK_FORM_FIRST_ROW
    assert form[first][2] == r8(Fr(361, 40)) == "9.03"
    assert [form[first + k][2] for k in range(1, 10)] == ["9.00"] * 9
    assert form[first + 10][2] == r8(Fr(361, 40) + 81) == "90.03"
    six = gn.displayed(path, L.SATISFACTION)
    shares = [six[L.SAT_SHARE_ROW][2 + L.SAT_LEVEL_SPAN * k] for k in range(3)]
    assert shares == ["90.63%", "6.25%", "3.13%"]  # 29/32, 2/32, 1/32 of a hundred
    assert six[L.SAT_LEVEL_ROW][2 + L.SAT_LEVEL_SPAN * 3] == "96.88%"  # 31/32
    assert six[L.SAT_CATEGORY_ROW][1] == "32"


def test_libreoffice_shows_the_same_figures(soffice, books, tmp_path):
    """LibreOffice's own recalculation of the computed file: the same rounded figures."""
    values = lo.read_values(lo.recalc(books[1], tmp_path))
    pairs, comp, _, _ = L.summary_columns(B.DEFS.groups)
    for i, name in enumerate(HALVES):
        row = values[L.SUMMARY][L.SUMMARY_FIRST_ROW + i]
        assert f"{row[comp]:.2f}" == r8(composite(name))
        assert row[comp] == float(r8(composite(name)))
    assert values[L.LOOKBACK_FORM][L.LOOKBACK_FORM_FIRST_ROW][2] == 9.03
