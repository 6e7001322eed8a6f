"""Scoring core: SPEC.md's worked example (R5-R8) and rounding."""

from decimal import Decimal
from fractions import Fraction

import pytest

from xlsheets import definitions
from xlsheets.core.numbers import display, round_half_away, to_fraction
from xlsheets.core.scoring import composite, group_mean, ranks, score_members

GROUPS = definitions.load().groups
NAMES = ["张三", "李四", "王五"]
# SPEC.md worked example: ballot totals per group.
TOTALS = {
    "peer": [("张三", 90), ("张三", 85), ("张三", 88),
             ("李四", 78), ("李四", 82), ("李四", 80),
             ("王五", 88), ("王五", 90), ("王五", 89)],
    "mass": [("张三", 80), ("张三", 90), ("李四", 75), ("李四", 70),
             ("王五", 85), ("王五", 83)],
    "committee": [("张三", 92), ("李四", 85), ("王五", 84)],
}


# numbers ---------------------------------------------------------------

def test_to_fraction_is_exact():
    assert to_fraction(0.1) == Fraction(1, 10)
    assert to_fraction(Decimal("2.675")) == Fraction(2675, 1000)
    assert to_fraction(7) == 7 and to_fraction(Fraction(1, 3)) == Fraction(1, 3)
    with pytest.raises(TypeError):
        to_fraction("8")
    with pytest.raises(TypeError):
        to_fraction(True)


@pytest.mark.parametrize("x, expected", [
    (Fraction(529, 6), "88.17"),
    (Fraction(-5, 1000), "-0.01"),
    (Fraction(5, 1000), "0.01"),
    (Fraction(2675, 1000), "2.68"),
    (2.675, "2.68"),  # a float as typed, not the binary 2.67499999...
    (86, "86.00"),
    (Fraction(-1, 1000), "0.00"),  # no negative zero
])
def test_round_half_away(x, expected):
    assert round_half_away(x) == Decimal(expected)
    assert str(round_half_away(x)) == expected


def test_round_other_places_and_display():
    assert round_half_away(Fraction(25, 10), 0) == Decimal("3")
    assert round_half_away(Fraction(-25, 10), 0) == Decimal("-3")
    assert round_half_away(125, -1) == Decimal("130")
    assert display(Fraction(529, 6)) == "88.17"
    assert display(Fraction(317, 4)) == "79.25"
    assert display(125, -1) == "130"
    assert display(None) == ""


# group means -----------------------------------------------------------

def test_group_mean_plain_and_trimmed():
    assert group_mean([90, 85, 88]) == Fraction(263, 3)
    assert group_mean([]) is None
    assert group_mean([70, 80, 90, 100], "trimmed") == 85
    assert group_mean([70, 80, 90, 100], "mean") == 85
    assert group_mean([60, 80, 100, 100], "trimmed") == 90
    assert group_mean([80, 90], "trimmed") == 85  # fewer than 3: plain mean
    assert group_mean([], "trimmed") is None
    with pytest.raises(ValueError):
        group_mean([1], "median")


# worked example --------------------------------------------------------

def test_worked_example():
    scores = score_members(NAMES, TOTALS, GROUPS)
    assert [s.name for s in scores] == NAMES
    zhang, li, wang = scores
    assert zhang.composite.value == Fraction(529, 6)
    assert li.composite.value == Fraction(7925, 100)
    assert wang.composite.value == 86
    assert [display(s.composite.value) for s in scores] == ["88.17", "79.25", "86.00"]
    assert [s.rank for s in scores] == [1, 3, 2]
    assert zhang.means == {"peer": Fraction(263, 3), "mass": 85, "committee": 92}
    assert zhang.counts == {"peer": 3, "mass": 2, "committee": 1}
    assert all(s.composite.missing == () and not s.composite.reweighted for s in scores)


def test_missing_group_is_not_zero():
    totals = {k: [t for t in v if not (k == "committee" and t[0] == "张三")]
              for k, v in TOTALS.items()}
    zhang, li, wang = score_members(NAMES, totals, GROUPS)
    assert zhang.composite.value is None
    assert zhang.composite.missing == ("committee",)
    assert zhang.composite.reweighted is False
    assert zhang.rank is None
    assert zhang.counts["committee"] == 0 and zhang.means["committee"] is None
    assert (li.rank, wang.rank) == (2, 1)

    zhang, li, wang = score_members(NAMES, totals, GROUPS, reweight_missing=True)
    # (40% x 263/3 + 30% x 85) / 70%
    assert zhang.composite.value == (Fraction(2, 5) * Fraction(263, 3) + Fraction(3, 10) * 85) / Fraction(7, 10)
    assert zhang.composite.value == Fraction(1817, 21)
    assert display(zhang.composite.value) == "86.52"
    assert zhang.composite.missing == ("committee",)
    assert zhang.composite.reweighted is True
    assert not li.composite.reweighted  # nothing missing: not flagged
    assert [s.rank for s in (zhang, li, wang)] == [1, 3, 2]


def test_composite_edge_cases():
    assert composite({}, GROUPS) == composite({}, GROUPS, reweight_missing=True)
    none = composite({}, GROUPS, reweight_missing=True)
    assert none.value is None and none.missing == ("peer", "mass", "committee")
    assert not none.reweighted
    # the group mean passed as None is missing, never 0
    c = composite({"peer": 80, "mass": 80, "committee": None}, GROUPS)
    assert c.value is None and c.missing == ("committee",)


def test_roster_order_unknown_names_and_absent_group():
    totals = {"peer": [("王五", 90), ("赵六", 10)], "mass": [("王五", 80)]}
    scores = score_members(["王五", "张三"], totals, GROUPS)
    assert [s.name for s in scores] == ["王五", "张三"]
    assert scores[0].counts == {"peer": 1, "mass": 1, "committee": 0}
    assert scores[0].composite.missing == ("committee",)
    assert scores[1].composite.missing == ("peer", "mass", "committee")


def test_averaging_override():
    totals = {"peer": [("甲", 70), ("甲", 80), ("甲", 90), ("甲", 100), ("甲", 60)],
              "mass": [("甲", 80), ("甲", 90)], "committee": [("甲", 85)]}
    plain, = score_members(["甲"], totals, GROUPS)
    assert plain.means["peer"] == 80
    trimmed, = score_members(["甲"], totals, GROUPS, averaging="trimmed")
    assert trimmed.means["peer"] == 80  # (70 + 80 + 90) / 3
    totals["peer"].append(("甲", 100))
    assert score_members(["甲"], totals, GROUPS)[0].means["peer"] == Fraction(250, 3)
    assert score_members(["甲"], totals, GROUPS, averaging="trimmed")[0].means["peer"] == 85
    assert score_members(["甲"], totals, GROUPS, averaging="trimmed")[0].means["mass"] == 85


# ranks -----------------------------------------------------------------

def test_ranks():
    assert ranks([90, 90, 80]) == [1, 1, 3]
    assert ranks([80, None, 90, 90]) == [3, None, 1, 1]
    assert ranks([None, Fraction(529, 6), 86]) == [None, 1, 2]
    assert ranks([]) == []


def test_ranks_are_one_more_than_the_higher_ones():
    """By the definition (R8: competition ranks): 1 + how many values are higher; many
    ties, None, and equal Fractions and floats (85.5 and 171/2 tie)."""
    import random

    rnd = random.Random(8)
    for n in (1, 2, 7, 40, 300):
        values = [rnd.choice([None, rnd.randint(60, 70), Fraction(rnd.randint(120, 140), 2),
                              rnd.randint(120, 140) / 2]) for _ in range(n)]
        want = [None if v is None else 1 + sum(1 for w in values if w is not None and w > v)
                for v in values]
        assert ranks(values) == want, values


def _round_half_away_by_fractions(x, places):
    """R8 as first written, in Fractions: the reference for the integer version."""
    from decimal import Decimal

    from xlsheets.core.numbers import to_fraction

    f = to_fraction(x)
    n = int(abs(f) * Fraction(10) ** places + Fraction(1, 2))
    negative = f < 0 and n != 0
    if places < 0:
        n *= 10 ** -places
        places = 0
    return Decimal((int(negative), tuple(int(d) for d in str(n)), -places))


def test_round_half_away_in_integers_equals_the_fraction_arithmetic():
    import random
    from decimal import Decimal

    from xlsheets.core.numbers import round_half_away

    rng = random.Random(8)
    values = [0, 1, -1, 2.675, -2.675, 0.005, -0.005, 0.015, 1e-9, -1e-9, 88.165, 1e20, -7.5,
              Fraction(529, 6), Fraction(-1, 200), Fraction(1, 200), Decimal("2.675"), Decimal("-0.5"),
              10**30 + 5, Fraction(5, 1000), Fraction(-15, 1000)]
    values += [Fraction(rng.randint(-10**6, 10**6), rng.randint(1, 10**4)) for _ in range(3000)]
    values += [rng.uniform(-1000, 1000) for _ in range(2000)]
    values += [rng.randint(-10**9, 10**9) for _ in range(500)]
    for v in values:
        for places in (2, 0, 1, 3, -1, -2):
            got, want = round_half_away(v, places), _round_half_away_by_fractions(v, places)
            assert got == want and str(got) == str(want), (v, places, got, want)
    assert str(round_half_away(Fraction(529, 6))) == "88.17"  # by hand: 88.1666...
    assert str(round_half_away(-0.004)) == "0.00" and str(round_half_away(2.675)) == "2.68"
    for bad in (True, "1", None, float("nan"), float("inf")):
        with pytest.raises((TypeError, ValueError, OverflowError)):
            round_half_away(bad)
