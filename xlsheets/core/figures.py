"""Every figure a branch workbook's formulas show, computed by the core.

The workbook's formulas (entry 合计, 汇总, 附件4's score, 附件5, 附件6) and this
module must agree on every cell: the writer stores these values as the
formulas' cached values, ``compute`` refreshes them in a returned workbook,
and the tests let LibreOffice recalculate and compare. So this mirrors the
formulas' own statuses too: 不完整 / 超出分值 on an entry row, 有误 for a group
with such a row, 缺票 for a group without ballots.
"""

from dataclasses import dataclass
from itertools import chain
from operator import le, methodcaller

from xlsheets.core.lookback import item_means
from xlsheets.core.numbers import round_half_away
from xlsheets.core.satisfaction import summarise
from xlsheets.core.scoring import ranks, score_members

INCOMPLETE = "不完整"
OUT_OF_RANGE = "超出分值"
MISSING = "缺票"
INVALID = "有误"
REWEIGHTED = "按现有层次折算"
_INT = {int}


def row_total(scores, items, maxes=None):
    """What an entry row's 合计 formula shows: '', 不完整, 超出分值 or the sum.

    ``maxes``: the items' maxima, when the caller has them at hand."""
    if len(scores) == len(items) and set(map(type, scores)) <= _INT:
        maxes = maxes or [it.max for it in items]
        if all(map(le, scores, maxes)) and min(scores, default=0) >= 0:
            return sum(scores)  # the usual row, fast: built-ins, no test per cell
    if scores.count(None) == len(scores):
        return ""  # an unused spare row
    filled = [s for s in scores if s is not None and s != ""]
    if not filled:
        return ""
    numeric = [s for s in filled if isinstance(s, (int, float)) and not isinstance(s, bool)]
    if len(numeric) < len(items):
        return INCOMPLETE
    if any(s < 0 or s > it.max for s, it in zip(scores, items)):
        return OUT_OF_RANGE
    return sum(scores)


_COUNT_NONE = methodcaller("count", None)


def _usual_totals(rows, maxes):
    """``row_total`` of each of ``rows`` when every row is an unused one (all None, '') or
    a full one of whole numbers within 0..max (the sum), else None: a few passes of
    built-ins over the lot, columns at a time, instead of a call per row."""
    scores = [s for _, s in rows]
    n = len(maxes)
    if not scores or set(map(len, scores)) != {n}:
        return None
    blanks = list(map(_COUNT_NONE, scores))
    full = [s for s, k in zip(scores, blanks) if not k]
    if len(full) + blanks.count(n) != len(scores):
        return None  # a row part typed, part blank
    if full:
        if set(map(type, chain.from_iterable(full))) != _INT:
            return None
        columns = list(zip(*full))
        if min(map(min, columns)) < 0 or not all(map(le, map(max, columns), maxes)):
            return None
    sums = iter(list(map(sum, full)))
    return [next(sums) if not k else "" for k in blanks]


@dataclass(frozen=True)
class MemberFigures:
    """One row of 汇总: counts and means per group, composite, rank, remark."""

    name: str
    counts: dict  # group key -> int
    means: dict  # group key -> Fraction | 缺票 | 有误
    composite: object  # Fraction | 缺票 | 有误
    rank: object  # int | None
    remark: str
    reweighted: bool


@dataclass(frozen=True)
class Figures:
    entry_totals: dict  # group key -> [row total per entry row, in sheet order]
    members: tuple  # MemberFigures in roster order
    lookback: object  # lookback.LookbackResult
    satisfaction: object  # satisfaction.SatisfactionResult
    registers: dict = None  # {sheet: {A1: value}} of 征求意见汇总 and 谈心情况表 (cells.register_values)
    grading: object = None  # grading.GradingFigures of a workbook with 评定等次, else None


def compute(defs, unit, names, rows_by_group, lookback_rows, categories, levels):
    """All figures of one branch workbook.

    Args:
        defs, unit: the definition set and the workbook's unit.
        names: member names in 汇总's order (the roster).
        rows_by_group: group key -> [(member name or None, item scores)], one
            per entry row in sheet order; scores are numbers or None.
        lookback_rows: returned 附件5 ballots, lists of numbers or None.
        categories, levels: 附件6 counts (numbers or None).
    """
    totals, invalid, entry_totals = {}, set(), {}
    maxes = [it.max for it in defs.items]
    for g in defs.groups:
        rows = rows_by_group.get(g.key, ())
        shown = _usual_totals(rows, maxes)
        if shown is not None:  # every row full and in range, or unused: no status to find
            entry_totals[g.key] = shown
            totals[g.key] = [(name, t) for (name, _), t in zip(rows, shown) if t != ""]
            continue
        shown, used = [], []
        for name, scores in rows:
            t = row_total(list(scores), defs.items, maxes)
            shown.append(t)
            if t in (INCOMPLETE, OUT_OF_RANGE):
                invalid.add((g.key, name))
            elif t != "":
                used.append((name, t))
        entry_totals[g.key] = shown
        totals[g.key] = used
    scores = score_members(names, totals, defs.groups, averaging=unit.averaging,
                           reweight_missing=unit.reweight_missing)
    composites = []
    for s in scores:
        bad = any((g.key, s.name) in invalid for g in defs.groups)
        composites.append(INVALID if bad else MISSING if s.composite.value is None
                          else s.composite.value)
    order = ranks([c if not isinstance(c, str) else None for c in composites])
    members = []
    for s, comp, rank in zip(scores, composites, order):
        means = {g.key: INVALID if (g.key, s.name) in invalid else
                 MISSING if s.means[g.key] is None else s.means[g.key] for g in defs.groups}
        missing = [] if comp == INVALID else [
            f"缺{g.name}票" for g in defs.groups if means[g.key] == MISSING]
        reweighted = unit.reweight_missing and not isinstance(comp, str) and bool(missing)
        if reweighted:
            missing.append(REWEIGHTED)
        members.append(MemberFigures(s.name, dict(s.counts), means, comp, rank,
                                     " ".join(missing), reweighted))
    sat = defs.satisfaction
    return Figures(
        entry_totals, tuple(members),
        item_means(lookback_rows, len(defs.lookback_items)),
        summarise(categories or [None] * len(sat["categories"]),
                  levels or [None] * len(sat["levels"])),
    )


def cached(value):
    """A figure as the cell's cached value: floats for numbers, text as is, '' for None."""
    if value is None:
        return ""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return value
    return float(value)


def shown(value):
    """A figure as a person reads it (R8): numbers rounded to 2 decimals half away from
    zero, as the shown cells' ROUND gives them; text and None as they are."""
    if value is None or isinstance(value, str):
        return value
    return round_half_away(value)


def share_shown(percent):
    """A share or 满意率 (a percent, R12) as its cell holds it: a fraction rounded to
    2 decimals of a percent, as the formula's ROUND(…,4) gives it; None stays None."""
    if percent is None:
        return None
    return round_half_away(percent) / 100
