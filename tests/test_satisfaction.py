"""附件6 satisfaction (R10-R12): SPEC.md's worked example."""

from decimal import Decimal
from fractions import Fraction

import pytest

from xlsheets.core.numbers import display, round_half_away
from xlsheets.core.satisfaction import summarise

CATEGORIES = [10, 5, 8, 3, 2, 6, 1]


def test_worked_example():
    r = summarise(CATEGORIES, [28, 6, 1])
    assert r.total == 35
    assert r.answered == 35
    assert r.shares == (80, Fraction(120, 7), Fraction(20, 7))
    assert [round_half_away(s) for s in r.shares] == [
        Decimal("80.00"), Decimal("17.14"), Decimal("2.86")]
    assert r.rate == Fraction(680, 7)
    assert display(r.rate) == "97.14"


def test_total_zero():
    r = summarise([0, None, 0, 0, 0, 0, 0], [0, 0, 0])
    assert r.total == 0
    assert r.shares == (None, None, None)
    assert r.rate is None
    assert display(r.rate) == ""


def test_blank_answers_keep_the_denominator():
    r = summarise([10, None, 0, 0, 0, 0, 0], [5, None, 2])
    assert r.total == 10 and r.answered == 7
    assert r.shares == (50, 0, 20)
    assert r.rate == 50


def test_rate_levels_and_bad_counts():
    assert summarise([10], [5, 3, 2], rate_levels=1).rate == 50
    with pytest.raises(ValueError):
        summarise([10], [5, 3, 2], rate_levels=4)
    with pytest.raises(ValueError):
        summarise([Fraction(1, 2)], [0])
    with pytest.raises(ValueError):
        summarise([-1], [0])
    assert summarise([10.0], [10], rate_levels=1).total == 10
