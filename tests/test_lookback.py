"""附件5 look-back means (R9): SPEC.md's worked example."""

from fractions import Fraction

import pytest

from xlsheets.core.lookback import item_means
from xlsheets.core.numbers import display

EXAMPLE = [[9] * 10, [10] * 10, [8, 9, 10, 8, 9, 10, 8, 9, 10, 8]]


def test_worked_example():
    r = item_means(EXAMPLE, 10)
    assert r.ballots == 3
    assert r.means == (9, Fraction(28, 3), Fraction(29, 3)) * 3 + (9,)
    assert [display(m) for m in r.means] == (
        ["9.00", "9.33", "9.67"] * 3 + ["9.00"])
    assert r.total == 93  # exact: the unrounded means, not 9.00 + 9.33 + ...
    assert display(r.total) == "93.00"


def test_empty_rows_and_blank_cells():
    rows = [[None] * 10, [10, None] + [8] * 8, [], [9, 7] + [None] * 8]
    r = item_means(rows, 10)
    assert r.ballots == 2
    assert r.means[0] == Fraction(19, 2)
    assert r.means[1] == 7  # one blank cell is not a 0
    assert r.means[2] == 8
    assert r.total == Fraction(19, 2) + 7 + 8 * 8


def test_no_ballots():
    r = item_means([[None] * 3, []], 3)
    assert r == type(r)((None, None, None), None, 0)
    assert item_means([], 2).total is None


def test_item_without_any_score_is_left_out_of_total():
    r = item_means([[5, None], [7.5, None]], 2)
    assert r.means == (Fraction(25, 4), None)
    assert r.total == Fraction(25, 4)


def test_cells_beyond_items():
    assert item_means([[1, 2, None, None]], 2).means == (1, 2)
    with pytest.raises(ValueError):
        item_means([[1, 2, 3]], 2)
