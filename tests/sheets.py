"""Workbooks as tables in memory: rule tests on ``Grids`` without writing an .xlsx.

A rule takes well under a millisecond on ``Grids``; writing and reading a real
workbook for it takes a quarter of a second. This module keeps what the writer
and the reader make, once, and lets a test change it the way a clerk types:

* ``blank(...)`` is a workbook the writer built (``books.make_book``) and the
  file reader read (python-calamine values, formula addresses), kept per set of
  arguments for the session. Each call returns a fresh copy, a ``Book``.
* ``once(key, build)`` is the same for any builder (``steps.steps_book`` ...).
* ``worked(...)`` is ``books.worked_book`` in memory: the same arguments
  (``ballots``, ``cells``, ``typed_over``, ``lookback``, ``categories``,
  ``levels``) typed into such a copy, with what ``ooxml.write_patched`` and
  ``books.type_over`` would leave in the file.
* ``Book.grids()`` builds ``Grids`` through ``reader.grids_from`` over
  ``reader.FileSheet``: the one construction path both shells use, so rows,
  cells and addresses are the reader's.

Changes read like the sheet, as small markdown tables (in the spirit of
pyxform's fixtures)::

    book.ballots("群众参评", '''
    | 票号 | 党员姓名 | 宗旨意识 | 组织纪律 |
    | 2    | 李四     |          |          |
    ''')                                   # two cells of 李四's 2nd ballot cleared

    book.rows("党员互评", '''
    | 行 | 票号 | 党员姓名 | C | D |
    | 30 | 4    | 张三     | 8 | 9 |
    ''')                                   # row 30 as the clerk sees it

A table's header names columns by letter (``C``) or by the sheet's own header
text (``理想信念``); in ``ballots`` also by item number (``1`` .. ``8``). A
cell is a number (``8``, ``8.5``), a text (``李四``, or quoted to keep a
number as text: ``"８"``, ``'10'``, ``" 10 "``) or empty (the cell cleared).
Columns a table does not name are left as they are.
"""
from __future__ import annotations

import copy
import re
import tempfile
from pathlib import Path

import books as B
import filling as F

from xlsheets.core.cells import category_cells, level_cells
from xlsheets.core.checks import check
from xlsheets.core.findings import sort_key
from xlsheets.files import canonical
from xlsheets.files.compute import Outcome
from xlsheets.files.reader import FileSheet, grids_from, open_book, rc, read_grids
from xlsheets.workbook import layout as L

DEFS = B.DEFS
_LETTERS = re.compile(r"[A-Z]{1,3}$")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?$")


# --- tables -------------------------------------------------------------------------

def table(text):
    """The rows of a markdown table, header first, each cell parsed (see ``cell``)."""
    rows = []
    for line in text.strip().splitlines():
        line = line.strip()
        if not line:
            continue
        assert line.startswith("|") and line.endswith("|"), f"not a table row: {line!r}"
        parts = line[1:-1].split("|")
        if all(re.fullmatch(r"\s*:?-+:?\s*", p) for p in parts):
            continue  # a |---|---| rule under the header
        rows.append([p.strip() for p in parts])
    assert rows, "an empty table"
    width = len(rows[0])
    assert all(len(r) == width for r in rows), f"rows of unequal width in {text!r}"
    return [rows[0]] + [[cell(p) for p in r] for r in rows[1:]]


def cell(text):
    """One table cell: '' empty (None), a number, or a text (quoted: kept as typed)."""
    if text == "":
        return None
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    if _NUMBER.match(text):
        return float(text) if "." in text else int(text)
    return text


# --- a workbook in memory -------------------------------------------------------------

class Book:
    """A workbook's sheets as the file reader holds them: values and formula cells."""

    def __init__(self, source, identity, names, sheets, values, formulas, unit):
        self.source = source
        self.identity = identity
        self.names = names  # {defined name: text}, as BookFile.defined_names reads them
        self.sheets = sheets  # sheet names, in order
        self.values = values  # sheet -> [[value]] as python-calamine gives them
        self.formulas = formulas  # sheet -> {A1} formula cells
        self.unit = unit
        self.macros = []
        self.external_links = []

    @classmethod
    def read(cls, path, defs=DEFS):
        """A workbook file read once, as ``reader.read_grids`` reads it."""
        book, unit, ident = open_book(path, defs)
        cache = {}
        with book:
            read_grids(book, defs, unit, ident, cache, also=book.sheet_names)
            names = book.defined_names()
            sheets = list(book.sheet_names)
        return cls(str(path), ident, names, sheets,
                   {n: [list(r) for r in s.values] for n, s in cache.items()},
                   {n: set(s.formulas) for n, s in cache.items()}, unit)

    def copy(self):
        return copy.deepcopy(self)

    # what a clerk does ----------------------------------------------------------------

    def type(self, sheet, cells):
        """Type ``cells`` {A1: value} (or a ``rows`` table) as ``write_patched`` does:
        a formula cell keeps its formula and gets the value as its cached one."""
        if isinstance(cells, str):
            cells = self.cells(sheet, cells)
        for addr, value in cells.items():
            self._put(sheet, addr, value)
        return self

    def type_over(self, sheet, cells):
        """Replace formula cells {A1: value} by typed values (None: the formula deleted)."""
        for addr, value in cells.items():
            assert addr in self.formulas[sheet], f"{sheet}!{addr} holds no formula to type over"
            self.formulas[sheet].discard(addr)
            self._put(sheet, addr, value)
        return self

    def rows(self, sheet, text):
        """Type a table whose first column ``行`` gives each row's number (1-based)."""
        return self.type(sheet, self.cells(sheet, text))

    def ballots(self, sheet, text):
        """Type a table of ballot rows found by their pre-filled 票号 and 党员姓名."""
        header, *lines = table(text)
        assert header[:2] == ["票号", "党员姓名"], header
        where = self.entry_rows(sheet)
        cols = [self._column(sheet, h, items=True) for h in header[2:]]
        for line in lines:
            r = where[(line[0], line[1])]
            for c, value in zip(cols, line[2:]):
                self._put(sheet, L.a1(r, c), value)
        return self

    def rename(self, old, new):
        """Rename a sheet (its tab only, as a double-click on it does)."""
        self.sheets = [new if s == old else s for s in self.sheets]
        self.values[new], self.formulas[new] = self.values.pop(old), self.formulas.pop(old)
        return self

    def drop(self, sheet):
        self.sheets.remove(sheet)
        return self

    # reading it back ------------------------------------------------------------------

    def grids(self, defs=DEFS):
        """``Grids`` through the reader's own ``grids_from``, as ``read_grids`` builds them."""
        sheets = {n: FileSheet(self.values[n], self.formulas[n]) for n in self.sheets}
        g = grids_from(self.source, list(self.sheets), sheets.__getitem__, defs, self.identity)
        g.macros = list(self.macros)
        g.external_links = list(self.external_links)
        g.names = dict(self.names) if self.names is not None else None
        return g

    def check(self, defs=DEFS, unit=None, expected_unit=None, counted=None):
        """What ``validate_file`` reports for this book (no stamp: it was never computed),
        with the builder's formulas known as validate knows them."""
        checked = check(defs, unit or self.unit, self.grids(defs), expected_unit, counted,
                        formulas=canonical.formulas)
        return Outcome(self.source, unit or self.unit, sorted(checked.findings, key=sort_key),
                       checked)

    # helpers --------------------------------------------------------------------------

    def entry_rows(self, sheet):
        """(票号, 党员姓名) -> 0-based row, from the pre-filled cells (``books.entry_rows``)."""
        rows = {}
        for r, line in enumerate(self.values[sheet]):
            no = line[0] if line else None
            if isinstance(no, float) and no.is_integer():
                no = int(no)
            if isinstance(no, int) and len(line) > 1 and line[1]:
                rows[(no, line[1])] = r
        return rows

    def cells(self, sheet, text):
        """{A1: value} of a table whose first column ``行`` holds row numbers."""
        header, *lines = table(text)
        assert header[0] in ("行", ""), f"the first column gives the row: {header}"
        cols = [self._column(sheet, h) for h in header[1:]]
        return {L.a1(line[0] - 1, c): v for line in lines for c, v in zip(cols, line[1:])}

    def _column(self, sheet, header, items=False):
        if _LETTERS.match(header):
            return rc(header + "1")[1]
        if items and header.isdigit():
            return 1 + int(header)
        for line in self.values[sheet][:8]:
            for c, v in enumerate(line):
                if isinstance(v, str) and v.strip() == header:
                    return c
        raise AssertionError(f"no column {header!r} on {sheet}")

    def _put(self, sheet, addr, value):
        r, c = rc(addr)
        grid = self.values[sheet]
        while len(grid) <= r:
            grid.append([])
        line = grid[r]
        if len(line) <= c:
            line.extend([""] * (c + 1 - len(line)))
        line[c] = _as_read(value)


def _as_read(value):
    """A value typed into a cell as python-calamine reads it back: numbers as floats,
    an empty cell as ''."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


# --- the books of the tests -----------------------------------------------------------

_BLANKS = {}
_TMP = None


def once(key, build, defs=DEFS):
    """A fresh copy of the workbook ``build(folder)`` writes (it returns its path), built
    and read once a session for each ``key``."""
    global _TMP
    key = (id(defs), key)
    if key not in _BLANKS:
        if _TMP is None:
            _TMP = tempfile.TemporaryDirectory(prefix="xlsheets-sheets-")
        where = Path(_TMP.name) / str(len(_BLANKS))
        where.mkdir()
        _BLANKS[key] = (defs, Book.read(build(where), defs))  # defs kept: its id stays its own
    return _BLANKS[key][1].copy()


def blank(defs=DEFS, **kw):
    """A fresh copy of ``books.make_book(**kw)`` with nothing typed, read once a session."""
    return once(("make_book", repr(sorted(kw.items()))),
                lambda where: B.make_book(where, defs=defs, **kw), defs)


def make(ballots=None, cells=None, *, lookback=None, categories=None, levels=None,
         typed_over=None, defs=DEFS, **kw):
    """``books.make_book`` in memory: the same arguments, typed into ``blank(**kw)``."""
    book = blank(defs, **kw)
    for key, sheet_ballots in (ballots or {}).items():
        sheet = B.SHEET[key]
        where = book.entry_rows(sheet)
        for no, ballot in enumerate(sheet_ballots, start=1):
            for name, scores in ballot.items():
                r = where[(no, name)]
                book.type(sheet, {L.a1(r, 2 + k): s for k, s in enumerate(scores)
                                  if s is not None})
    for i, scores in enumerate(lookback or []):
        book.type(L.LOOKBACK_ENTRY, {L.a1(L.LOOKBACK_FIRST_ROW + i, 1 + k): s
                                     for k, s in enumerate(scores) if s is not None})
    for addrs, counts in ((category_cells(defs), categories), (level_cells(defs), levels)):
        book.type(L.SATISFACTION, {a: n for a, n in zip(addrs, counts or []) if n is not None})
    for sheet, values in (cells or {}).items():
        book.type(sheet, values)
    for sheet, values in (typed_over or {}).items():
        book.type_over(sheet, values)
    return book


def worked(ballots=None, cells=None, **kw):
    """``books.worked_book`` in memory: the worked example with ``cells`` typed on top."""
    kw.setdefault("lookback", F.LOOKBACK)
    kw.setdefault("categories", F.CATEGORIES)
    kw.setdefault("levels", F.LEVELS)
    return make(B.worked_ballots() if ballots is None else ballots, cells, **kw)
