"""The file shell's reader: a branch workbook on disk into ``Grids``.

The workbook is known by what it says it is (custom properties, else the
identity table on 说明), never by its file name or sheet order.
"""

import re

from . import cells as C, layout as L
from .grids import EntryRow, Grids, LookbackRow
from .ooxml import BookError, BookFile

_ADDR = re.compile(r"([A-Z]+)(\d+)$")


def identity_of(book):
    """The identity dict of an open ``BookFile``, or None if it is not one of ours."""
    props = book.custom_properties()
    ident = {k: props.get(f"xlsheets.{k}") for k, _ in L.IDENTITY_KEYS}
    if ident.get("set") and ident.get("unit"):
        return {k: v or "" for k, v in ident.items()}
    if L.INTRO not in book.sheet_names:
        return None
    cells = book.cells(L.INTRO)
    labels = {label: key for key, label in L.IDENTITY_KEYS}
    found = {}
    for r in range(L.IDENTITY_FIRST_ROW, L.IDENTITY_FIRST_ROW + len(L.IDENTITY_KEYS) + 2):
        label = _value(cells, r, 0)
        if label in labels:
            value = _value(cells, r, 1)
            found[labels[label]] = "" if value is None else str(value)
    return found if found.get("set") and found.get("unit") else None


def open_book(path, defs):
    """Open ``path``; return ``(book, unit, identity)`` or raise BookError (exit 2)."""
    book = BookFile.open(path)
    try:
        ident = identity_of(book)
        if ident is None:
            raise BookError(path, f"不是民主评议工作簿(找不到“{L.INTRO}”中的工作簿信息),"
                                  "请确认文件是由 xlsheets 生成的。")
        unit = defs.unit(ident["unit"])
        if unit is None:
            known = "、".join(u.name for u in defs.units)
            raise BookError(path, f"属于单位“{ident['unit']}”,定义集 {defs.id} 中没有这个单位"
                                  f"(有:{known})。请用 --definitions 指定该工作簿的定义文件。")
    except BaseException:
        book.close()
        raise
    return book, unit, ident


def read_grids(book, defs, unit, identity):
    """Read every region the checks need from an open ``BookFile``."""
    g = Grids(source=book.path, identity=identity, sheets=list(book.sheet_names))
    present = set(book.sheet_names)
    if L.ROSTER in present:
        g.roster = _column(book.cells(L.ROSTER), 0, 1)
    if L.SUMMARY in present:
        g.summary = _column(book.cells(L.SUMMARY), 1, L.SUMMARY_FIRST_ROW)
    if L.OPINION in present:
        cells = book.cells(L.OPINION)
        r0, c = L.OPINION_NAME
        g.opinion = [(i * L.OPINION_ROWS + r0, _text(_value(cells, i * L.OPINION_ROWS + r0, c)))
                     for i in range(len(g.summary))]
    total_col = L.entry_total_col(defs.items)
    formulas = {}
    for grp in defs.groups:
        sheet = L.entry_sheet(grp)
        if sheet not in present:
            continue
        cells = book.cells(sheet)
        formulas[sheet] = cells
        g.entry_headers[grp.key] = [_value(cells, 0, c) for c in range(total_col + 1)]
        rows = []
        for r in range(L.ENTRY_FIRST_ROW, _last_row(cells, total_col) + 1):
            total = cells.get(L.a1(r, total_col))
            rows.append(EntryRow(
                row=r, ballot=_value(cells, r, 0), name=_value(cells, r, 1),
                scores=[_value(cells, r, c) for c in range(2, total_col)],
                total=None if total is None else total.value,
                total_is_formula=total is not None and total.formula is not None))
        g.entries[grp.key] = rows
    if L.LOOKBACK_ENTRY in present:
        cells = book.cells(L.LOOKBACK_ENTRY)
        n = len(defs.lookback_items)
        g.lookback_header = [_value(cells, 0, c) for c in range(n + 1)]
        g.lookback = [LookbackRow(r, _value(cells, r, 0), [_value(cells, r, c) for c in range(1, n + 1)])
                      for r in range(L.LOOKBACK_FIRST_ROW, _last_row(cells, n) + 1)]
    if L.SATISFACTION in present:
        cells = book.cells(L.SATISFACTION)
        formulas[L.SATISFACTION] = cells
        g.categories = [_cell_value(cells, a) for a in C.category_cells(defs)]
        g.levels = [_cell_value(cells, a) for a in C.level_cells(defs)]
    entry_rows = {k: [r.row for r in rows] for k, rows in g.entries.items()}
    for sheet, addrs in C.formula_cells(defs, len(g.summary), entry_rows).items():
        if sheet not in present:
            continue
        cells = formulas.get(sheet) or book.cells(sheet)
        formulas[sheet] = cells
        for a in addrs:
            cell = cells.get(a)
            if cell is None or cell.formula is None:
                g.overwritten.append((sheet, a, None if cell is None else cell.value))
    return g


def _value(cells, row, col):
    cell = cells.get(L.a1(row, col))
    return None if cell is None else cell.value


def _cell_value(cells, addr):
    cell = cells.get(addr)
    return None if cell is None else cell.value


def _text(value):
    return None if value is None else str(value).strip()


def _column(cells, col, first):
    """[(row, text)] down a column from ``first`` to its last non-empty cell."""
    letter = L.col(col)
    rows = []
    for addr, cell in cells.items():
        m = _ADDR.match(addr)
        if m and m.group(1) == letter and int(m.group(2)) - 1 >= first and cell.value not in (None, ""):
            rows.append(int(m.group(2)) - 1)
    if not rows:
        return []
    return [(r, _text(_value(cells, r, col))) for r in range(first, max(rows) + 1)]


def _last_row(cells, last_col):
    """The last 0-based row with a value or formula in columns 0..last_col."""
    last = 0
    for addr, cell in cells.items():
        if cell.value in (None, "") and cell.formula is None:
            continue
        m = _ADDR.match(addr)
        if m and _col_index(m.group(1)) <= last_col:
            last = max(last, int(m.group(2)) - 1)
    return last


def _col_index(letters):
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1
