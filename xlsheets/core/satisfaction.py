"""The satisfaction evaluation (附件6, R10-R12): 合计, shares and 满意率.

Counts are plain whole numbers already checked by the validator (R10, R11);
shares and rate are exact Fraction percentages, rounded only when shown.
"""

from dataclasses import dataclass
from fractions import Fraction

from xlsheets.core.numbers import to_fraction


@dataclass(frozen=True)
class SatisfactionResult:
    """合计, each level's share of it and the 满意率, in percent; answered count."""

    total: int  # 合计: sum of the participant categories (the denominator)
    shares: tuple  # Fraction percent | None per level
    rate: object  # Fraction percent | None
    answered: int  # sum of the level counts (below total: blank answers, R11)


def _count(x):
    """A count as int: None (blank cell) is 0; fractions and negatives raise."""
    if x is None:
        return 0
    f = to_fraction(x)
    if f.denominator != 1 or f < 0:
        raise ValueError(f"not a whole count >= 0: {x!r}")
    return int(f)


def summarise(category_counts, level_counts, rate_levels=2):
    """Compute 合计, level shares and 满意率 (R10, R12).

    The denominator is 合计, the sum of the participant categories, not the
    number who answered: blank answers lower every share (R11 warns about
    them). Shares and rate are None when 合计 is 0. The rate adds the first
    ``rate_levels`` levels (满意 + 基本满意 in the seed's order).
    """
    levels = [_count(c) for c in level_counts]
    if not 0 <= rate_levels <= len(levels):
        raise ValueError(f"rate_levels {rate_levels} out of 0..{len(levels)}")
    total = sum(_count(c) for c in category_counts)
    if total == 0:
        return SatisfactionResult(0, (None,) * len(levels), None, sum(levels))
    shares = tuple(Fraction(100 * n, total) for n in levels)
    rate = Fraction(100 * sum(levels[:rate_levels]), total)
    return SatisfactionResult(total, shares, rate, sum(levels))
