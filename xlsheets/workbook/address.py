"""A1 cell addresses within Excel's sheet (XFD, 1,048,576): the one parser and formatter.

Every reader, check and shell turns addresses into positions here, so a malformed or
out-of-sheet address means the same everywhere. ``parse_a1`` is 1-based as the sheet
XML is; ``rc`` and ``a1`` are 0-based as XlsxWriter and the readers' grids are.
"""

import functools
import re

_A1 = re.compile(r"\$?([A-Za-z]{1,3})\$?([1-9][0-9]{0,6})")
MAX_ROW, MAX_COL = 1_048_576, 16_384


def col_name(col):
    """Column letters of a 1-based column number."""
    name = ""
    while col:
        col, rem = divmod(col - 1, 26)
        name = chr(65 + rem) + name
    return name


@functools.lru_cache(maxsize=1 << 12)
def col_number(letters):
    """1-based column number of column letters."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def parse_a1(address):
    """(row, col), both 1-based, of an A1 address; ValueError when it is not one."""
    m = _A1.fullmatch(address.strip())
    if not m:
        raise ValueError(f"not an A1 cell address: {address!r}")
    row, col = int(m[2]), col_number(m[1])
    if row > MAX_ROW or col > MAX_COL:
        raise ValueError(f"cell address outside the sheet: {address!r}")
    return row, col


@functools.lru_cache(maxsize=1 << 16)
def rc(address):
    """(row, col), both 0-based, of an A1 address; ValueError when it is not one."""
    row, col = parse_a1(address)
    return row - 1, col - 1


def col(c):
    """Column letters of a 0-based column."""
    return col_name(c + 1)


def a1(row, c, absolute=False):
    """The A1 address of a 0-based (row, col), ``$A$1`` when ``absolute``."""
    mark = "$" if absolute else ""
    return f"{mark}{col_name(c + 1)}{mark}{row + 1}"
