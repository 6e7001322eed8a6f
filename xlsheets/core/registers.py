"""What every register of steps 2-5 and 9 shares: reading its cells into findings.

A ``Sheet`` wraps one register sheet's findings and fixes, so each step's
module says what a cell must hold (a day, one of a list, names) in one line
and gets a clean value back; a bad cell becomes a finding on that cell.
"""

from xlsheets.workbook import layout as L
from xlsheets.core.dates import read_day
from xlsheets.core.findings import finding
from xlsheets.core.roles import split_names, text
from xlsheets.core.values import show


class Sheet:
    """One register sheet being checked: where its findings and fixes go."""

    def __init__(self, name, headers, year, out, fixes):
        self.name, self.headers, self.year = name, headers, year
        self.out, self.fixes = out, fixes

    def add(self, code, row, col, **fields):
        self.out.append(finding(code, self.name, L.a1(row, col) if row is not None else "",
                                **fields))

    def day(self, line, col):
        """The day in a cell; None for blank (a bad value is a finding)."""
        raw = line.values[col]
        if blank(raw):
            return None
        day = read_day(raw, self.year)
        if day is not None and abs(day.year - self.year) > 1:
            day = None  # “8.22” or 25 in a date cell: a day of 1900, not of the campaign
        if day is None:
            self.add("register-date-bad", line.row, col, label=self.headers[col], value=show(raw))
        return day

    def choice(self, line, col, choices, missing=None, **fields):
        """The cell's text if it is one of ``choices``; '' for blank or a bad value.

        ``missing``: a finding code (with ``fields``) for a blank cell, which must be filled.
        """
        value = self.trimmed(line, col)
        if not value and missing and blank(line.values[col]):
            self.add(missing, line.row, col, **fields)
        if value and value not in choices:
            self.add("register-choice-bad", line.row, col, label=self.headers[col], value=value,
                     choices="、".join(f"“{c}”" for c in choices))
            return ""
        return value

    def trimmed(self, line, col):
        """The cell's text without edge spaces, written back so when it had them:
        the summary formulas compare whole cells."""
        raw = line.values[col]
        value = text(raw)
        if isinstance(raw, str) and value and raw != value:
            self.fixes.setdefault(self.name, {})[L.a1(line.row, col)] = value
        return value

    def names(self, line, col, known=()):
        """The names in a cell (``known`` ones may hold spaces); a cell not written
        with “、” is written back so."""
        raw = line.values[col]
        names = split_names(raw, known)
        joined = "、".join(names)
        if isinstance(raw, str) and names and raw != joined:
            if len(names) > 1:
                self.add("register-names-separated", line.row, col, text=joined)
            self.fixes.setdefault(self.name, {})[L.a1(line.row, col)] = joined
        return names

    def outside(self, lines, last):
        """Rows below the register's last row: reported, never counted."""
        kept = []
        for line in lines:
            if line.row > last:
                self.add("register-row-outside", line.row, 0, last=last + 1)
            else:
                kept.append(line)
        return kept


def blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def header(sheet, actual, expected, out, row=L.REGISTER_HEADER_ROW):
    """One finding for the first header cell that differs; whether none does."""
    for c, want in enumerate(expected):
        got = actual[c] if c < len(actual) else None
        if text(got) != want:
            out.append(finding("header-changed", sheet, L.a1(row, c), expected=want,
                               actual="" if got is None else show(got)))
            return False
    return True


def empty(sheet, what, hint, out, cell=None):
    out.append(finding("register-empty", sheet, cell or L.a1(L.REGISTER_FIRST_ROW, 0),
                       what=what, hint=hint))
