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


_WORD = re.compile(r"\w+")
_ASCII_PUNCTUATION = re.compile(r"[\x00-\x2d\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]")


def quote_sheet(name):
    """A sheet name as a formula writes it: XlsxWriter's ``quote_sheetname`` (Excel's
    rules), decided here without importing XlsxWriter for the two plain cases - a name
    of word characters that starts with a non-ASCII one (汇总) stays as it is, a name
    with a space or ASCII punctuation (附件4 评议意见表) is quoted - so that validate and
    compute need not load the writer. Any other name is XlsxWriter's to decide."""
    if not name.startswith("'"):
        first = name[:1]
        if first.isalpha() and not first.upper()[:1].isascii() and _WORD.fullmatch(name):
            return name
        if _ASCII_PUNCTUATION.search(name):
            return "'" + name.replace("'", "''") + "'"
    from xlsxwriter.utility import quote_sheetname  # loads XlsxWriter

    return quote_sheetname(name)
