"""Schedule date texts in the seed's and clerks' spellings (SPEC: 附件1/附件2)."""

import datetime as dt

import pytest

from xlsheets.core.dates import parse_range

D = dt.date


@pytest.mark.parametrize("text, start, end", [
    ("8月16—19日", D(2005, 8, 16), D(2005, 8, 19)),   # the seed's em dash
    ("8月29--30日", D(2005, 8, 29), D(2005, 8, 30)),  # the seed's double hyphen
    ("9月12日", D(2005, 9, 12), D(2005, 9, 12)),       # a single day
    ("8月30日—9月2日", D(2005, 8, 30), D(2005, 9, 2)),  # across months
    ("8月30日至9月2日", D(2005, 8, 30), D(2005, 9, 2)),
    ("8月1–3日", D(2005, 8, 1), D(2005, 8, 3)),         # en dash
    ("8月1~3日", D(2005, 8, 1), D(2005, 8, 3)),
    ("８月１日～３日", D(2005, 8, 1), D(2005, 8, 3)),     # full-width digits and tilde
    ("8月16——19日", D(2005, 8, 16), D(2005, 8, 19)),
    (" 8月16-19日 ", D(2005, 8, 16), D(2005, 8, 19)),
    ("2006年1月3日", D(2006, 1, 3), D(2006, 1, 3)),
    ("12月30日—1月2日", D(2005, 12, 30), D(2006, 1, 2)),  # across the new year
])
def test_parses_spellings(text, start, end):
    assert parse_range(text, 2005) == (start, end)


@pytest.mark.parametrize("text", ["", "下周", "8月", "2月30日", "8月16日—", None, 8])
def test_rejects_non_dates(text):
    assert parse_range(text, 2005) is None
