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
