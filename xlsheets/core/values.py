"""Reading what a clerk typed into a number (R1): numbers in disguise and not.

``８`` (full-width), ``8分``, `` 8 `` and a number stored as text are clearly
numbers: accepted, with a warning. ``八``, ``优``, ``-`` are not.
"""

import re
import unicodedata

NUMBER, TEXT_NUMBER, BLANK, BAD = "number", "text-number", "blank", "bad"
_NUMERIC = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_UNITS = ("分", "人", "名", "票")


def read_number(raw):
    """Classify a cell value; returns ``(kind, number or None)``.

    kind is NUMBER (a real number), TEXT_NUMBER (text that is clearly a
    number), BLANK (nothing there) or BAD (anything else).
    """
    if raw is None:
        return BLANK, None
    if isinstance(raw, bool):
        return BAD, None
    if isinstance(raw, (int, float)):
        return NUMBER, _tidy(raw)
    if not isinstance(raw, str):
        return BAD, None
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        return BLANK, None  # spaces only: nothing was rated
    for unit in _UNITS:
        if text.endswith(unit):
            text = text[: -len(unit)].strip()
            break
    if _NUMERIC.match(text):
        return TEXT_NUMBER, _tidy(float(text))
    return BAD, None


def _tidy(x):
    """Whole floats become ints, so 8.0 shows and sums as 8."""
    return int(x) if isinstance(x, float) and x.is_integer() else x


def show(raw):
    """A value as the clerk sees it in a message."""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


# Two evaluations of one formula (Excel's, LibreOffice's, the core's) may differ in the last
# bit or two of a double; a number typed in 15 significant digits, Excel's precision, differs
# from any other by at least 1e-15 of its size. Half that tells them apart.
SAME_NUMBER = 5e-16


def same_value(shown, expected):
    """Whether a cell showing ``shown`` already shows ``expected`` (a value of
    ``cells.figure_values``): blanks alike, numbers equal to Excel's 15 significant digits
    (``SAME_NUMBER``), text equal but for surrounding spaces, anything else equal."""
    if shown in (None, "") or expected in (None, ""):
        return shown in (None, "") and expected in (None, "")
    if isinstance(shown, bool) or isinstance(expected, bool):
        return shown is expected
    numbers = isinstance(shown, (int, float)), isinstance(expected, (int, float))
    if all(numbers):
        a, b = float(shown), float(expected)
        return a == b or abs(a - b) <= SAME_NUMBER * max(abs(a), abs(b))
    if any(numbers):
        return False
    if isinstance(shown, str) and isinstance(expected, str):
        return shown.strip() == expected.strip()
    return shown == expected
