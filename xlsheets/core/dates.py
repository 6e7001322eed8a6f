"""Date texts of the schedules (“8月16—19日”, “9月12日”, “8月30日至9月2日”).

The seed and clerks spell ranges with —, ——, --, –, -, ~, ～, 至 or 到; a text is
kept as typed and parsed to real dates for checks.
"""

import datetime as dt
import re
import unicodedata

_DASH = r"(?:—|–|-|~|～|〜|至|到)+"
_RANGE = re.compile(
    r"^(?:(?P<y>\d{4})年)?(?P<m1>\d{1,2})月(?P<d1>\d{1,2})日?"
    rf"(?:{_DASH}(?:(?P<m2>\d{{1,2}})月)?(?P<d2>\d{{1,2}})日?)?$"
)


def parse_range(text, year):
    """Return ``(start, end)`` dates of a schedule date text, or None.

    Args:
        text: the text as typed, e.g. ``"8月29--30日"``.
        year: the year the text means when it names none.
    Returns:
        a pair of ``datetime.date``; None when the text is not a date range
        or names a day that does not exist.
    """
    if not isinstance(text, str):
        return None
    clean = unicodedata.normalize("NFKC", text).replace(" ", "")
    # NFKC turns the full-width tilde into "~" but leaves — and – alone.
    m = _RANGE.match(clean)
    if not m:
        return None
    y = int(m["y"]) if m["y"] else year
    m1, d1 = int(m["m1"]), int(m["d1"])
    m2 = int(m["m2"]) if m["m2"] else m1
    d2 = int(m["d2"]) if m["d2"] else d1
    try:
        start = dt.date(y, m1, d1)
        end = dt.date(y + (1 if m2 < m1 else 0), m2, d2)
    except ValueError:
        return None
    return start, end


_ISO = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def read_day(value, year):
    """One day from a cell: a date, an Excel serial number, or a text such as
    ``2005-8-20``, ``2005年8月20日`` or ``8月20日`` (in ``year``). None if it is none."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):  # a date cell read without its format
        if 1 <= value < 2958466 and float(value).is_integer():
            return _EXCEL_EPOCH + dt.timedelta(days=int(value))
        return None
    if not isinstance(value, str):
        return None
    clean = unicodedata.normalize("NFKC", value).replace(" ", "")
    m = _ISO.match(clean)
    if m:
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return None
    rng = parse_range(clean, year)
    if rng is None or rng[0] != rng[1]:
        return None
    return rng[0]


def shown(day):
    """A date as a clerk reads it: ``2005年8月20日``."""
    return f"{day.year}年{day.month}月{day.day}日"
