"""Exact numbers and Excel-style rounding (R8).

Scores are kept as ``fractions.Fraction`` so that 88.1666... stays 529/6 and
nothing drifts before the one rounding at display time. Rounding is half away
from zero, as Excel's ROUND does (Python's ``round`` rounds half to even and
works on binary floats, so 2.675 would give 2.67 there).
"""

from decimal import Decimal
from fractions import Fraction
from numbers import Rational


def to_fraction(x):
    """Return ``x`` (int, float, Decimal or Fraction) as an exact Fraction.

    Floats go through ``Decimal(str(x))`` so that 0.1 means 1/10, the number
    the clerk typed, not the binary float nearest to it. Booleans, strings and
    other types raise TypeError: text is the validator's business, not ours.
    """
    if isinstance(x, bool):
        raise TypeError(f"not a number: {x!r}")
    if isinstance(x, (Fraction, int)):
        return Fraction(x)
    if isinstance(x, float):
        return Fraction(Decimal(str(x)))  # ValueError for nan/inf
    if isinstance(x, Decimal):
        return Fraction(x)
    if isinstance(x, Rational):
        return Fraction(x.numerator, x.denominator)
    raise TypeError(f"not a number: {x!r}")


def round_half_away(x, places=2):
    """Round ``x`` to ``places`` decimals, half away from zero, exactly.

    Returns a Decimal with exactly ``places`` decimals (``Decimal("86.00")``),
    so the shown text and the workbook's ROUND agree. The result is built from
    integers, never through a float or a limited-precision Decimal context.
    A negative ``places`` rounds to tens, hundreds, ... like ROUND(x, -1).
    """
    if isinstance(x, Fraction):
        p, q = x.numerator, x.denominator
    elif type(x) is int:  # not bool: to_fraction refuses it
        p, q = x, 1
    else:
        f = to_fraction(x)
        p, q = f.numerator, f.denominator
    if places >= 0:  # floor(|p| / q * 10^places + 1/2), in integers
        n = (2 * abs(p) * 10 ** places + q) // (2 * q)
    else:
        scale = 10 ** -places
        n = (2 * abs(p) + q * scale) // (2 * q * scale) * scale
        places = 0
    negative = p < 0 and n != 0  # no "-0.00"
    return Decimal((int(negative), tuple(map(int, str(n))), -places))


def display(x, places=2):
    """Text of ``x`` rounded to ``places`` decimals ("88.17"); "" for None."""
    if x is None:
        return ""
    return format(round_half_away(x, places), "f")


def percent(weight):
    """A rater group's weight (a Fraction of 1, whole percents: the definitions say so) as
    the forms, the formulas and the messages write it: 40%."""
    p = Fraction(weight) * 100
    return f"{p.numerator}%" if p.denominator == 1 else f"{float(p):g}%"
