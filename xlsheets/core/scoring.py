"""Member scores of the ballot (附件3): group means, composite, ranks (R5-R8).

Plain values in, plain values out: totals are numbers already checked by the
validator; results are exact Fractions, rounded only when shown
(``numbers.display``).
"""

from fractions import Fraction
from dataclasses import dataclass

from xlsheets.core.numbers import to_fraction

AVERAGINGS = ("mean", "trimmed")


# "trimmed" drops one highest and one lowest total only when a member has at least
# this many ballots in the group; else the plain mean (说明 and 附件3 say so).
TRIM_MINIMUM = 3

def group_mean(totals, averaging="mean"):
    """Mean of one member's ballot totals in one group (R5); None when empty.

    "mean" is the plain arithmetic mean, the seed's rule (it says explicitly
    not to drop the highest and lowest). "trimmed" drops one highest and one
    lowest total first; with fewer than 3 totals nothing would be left to
    average fairly, so it falls back to the plain mean.
    """
    if averaging not in AVERAGINGS:
        raise ValueError(f"unknown averaging: {averaging!r}")
    totals = list(totals)
    if averaging == "mean" and totals and all(type(t) is int for t in totals):
        return Fraction(sum(totals), len(totals))  # whole-number ballots: no Fractions to add
    values = sorted(to_fraction(t) for t in totals)
    if not values:
        return None
    if averaging == "trimmed" and len(values) >= TRIM_MINIMUM:
        values = values[1:-1]
    return sum(values) / len(values)


@dataclass(frozen=True)
class Composite:
    """A member's 综合得分: None when a group is missing and not re-weighted."""

    value: object  # Fraction | None
    missing: tuple  # keys of the groups with no ballot for the member, in group order
    reweighted: bool  # True when value is composed over the present groups only


def composite(means, groups, reweight_missing=False):
    """Weighted sum of the group means (R6), with missing groups per R7.

    ``means`` maps group key to its mean (None or absent: no ballot). A missing
    group never counts as 0: the composite is None and ``missing`` names the
    group. With ``reweight_missing`` (a per-unit option) and at least one group
    present, the value is sum(w*m) / sum(w) over the present groups and is
    flagged ``reweighted``.
    """
    present = [(to_fraction(g.weight), means[g.key]) for g in groups
               if means.get(g.key) is not None]
    missing = tuple(g.key for g in groups if means.get(g.key) is None)
    if not missing:
        return Composite(sum(w * m for w, m in present), (), False)
    if reweight_missing and present:
        value = sum(w * m for w, m in present) / sum(w for w, _ in present)
        return Composite(value, missing, True)
    return Composite(None, missing, False)


def ranks(values):
    """Competition ranks, highest first; ties share a rank (1, 1, 3) (R8).

    None values (no composite) get None and take no rank from the others.
    """
    ordered = sorted((v for v in values if v is not None), reverse=True)
    # each value's first place among them, highest first: walking them lowest first, the
    # last place written for a value is its first (one pass in C, no search per value)
    first = dict(zip(reversed(ordered), range(len(ordered), 0, -1)))
    return [None if v is None else first[v] for v in values]


@dataclass(frozen=True)
class MemberScore:
    """One member's group means, ballot counts, composite and rank."""

    name: str
    means: dict  # group key -> Fraction | None
    counts: dict  # group key -> number of ballot totals used
    composite: Composite
    rank: object  # int | None


def score_members(names, totals_by_group, groups, averaging=None, reweight_missing=False):
    """Score every member of the roster ``names`` (in that order).

    ``totals_by_group`` maps group key to an iterable of (member name, ballot
    total); a group absent from it has no ballots. ``averaging`` overrides each
    group's own ``Group.averaging`` when given (the per-unit option). Totals of
    names not on the roster are ignored here: the validator reports them (R4).
    """
    names = list(names)
    collected = {g.key: {n: [] for n in names} for g in groups}
    for g in groups:
        for name, total in totals_by_group.get(g.key, ()):
            if name in collected[g.key]:
                collected[g.key][name].append(total)

    scored = []
    for name in names:
        means = {g.key: group_mean(collected[g.key][name],
                                    g.averaging if averaging is None else averaging)
                 for g in groups}
        counts = {g.key: len(collected[g.key][name]) for g in groups}
        scored.append((name, means, counts, composite(means, groups, reweight_missing)))

    order = ranks([c.value for *_, c in scored])
    return [MemberScore(name, means, counts, comp, rank)
            for (name, means, counts, comp), rank in zip(scored, order)]
