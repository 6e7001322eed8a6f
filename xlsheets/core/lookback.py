"""The “回头看” mass evaluation (附件5, R9): item means and their total.

Ballots are plain rows of numbers (or None for a blank cell) already checked
by the validator; results are exact Fractions.
"""

from dataclasses import dataclass

from xlsheets.core.numbers import to_fraction


@dataclass(frozen=True)
class LookbackResult:
    """Per-item 测评分 (None when no ballot scored the item), total, ballots used."""

    means: tuple  # Fraction | None per item
    total: object  # Fraction | None
    ballots: int


def item_means(ballots, n_items):
    """Mean of each item over the returned ballots, and their total (R9).

    A wholly empty row (every cell None) is a ballot not returned and is
    ignored. Each item's mean is over the rows that have a number for it, so a
    blank cell does not count as 0. The total sums the unrounded item means,
    so it is exact (93, not 9.00 + 9.33 + ...); None when no ballot at all.
    Cells beyond ``n_items`` must be empty (ValueError otherwise): silently
    dropping a score would hide a misplaced column.
    """
    sums = [0] * n_items
    counts = [0] * n_items
    used = 0
    for row in ballots:
        row = list(row)
        if any(v is not None for v in row[n_items:]):
            raise ValueError(f"ballot has scores beyond its {n_items} items: {row!r}")
        cells = row[:n_items]
        if all(v is None for v in cells):
            continue
        used += 1
        for i, v in enumerate(cells):
            if v is not None:
                sums[i] += to_fraction(v)
                counts[i] += 1
    means = tuple(s / c if c else None for s, c in zip(sums, counts))
    total = sum(m for m in means if m is not None) if used else None
    return LookbackResult(means, total, used)
