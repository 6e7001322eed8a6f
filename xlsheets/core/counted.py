"""Which rows a branch workbook's own formulas count, stated once for both sides.

Each entry sheet's rows are held by workbook-scoped defined names (see
``layout.ENTRY_NAME_ROLES``): the builder defines them, 汇总's formulas count
through them, Python reads them to count exactly the same rows, and compute
widens them when a clerk typed ballots below them. A sentinel formula on the
entry sheet (and in 汇总 / 附件5) compares the whole columns with the names and
says so in the workbook itself while rows lie outside.
"""

import re

from xlsheets.workbook import layout as L
from xlsheets.core.findings import finding
from xlsheets.workbook.address import col_number, quote_sheet

OUTSIDE = "未计入"  # the sentinel's text starts with this while rows lie outside

_RANGE = re.compile(r"=?\s*(?:'((?:[^']|'')+)'|([^'!]+))!\$?([A-Z]{1,3})\$?([0-9]{1,7})"
                    r"(?::\$?([A-Z]{1,3})\$?([0-9]{1,7}))?\s*$")


def range_text(sheet, first_row, last_row, first_col, last_col):
    """``'党员互评'!$B$2:$B$67`` for 0-based rows and columns."""
    a = f"${L.col(first_col)}${first_row + 1}"
    b = f"${L.col(last_col)}${last_row + 1}"
    return f"{quote_sheet(sheet)}!{a}:{b}"


def parse_range(text):
    """(sheet, first row, last row, first col, last col), 0-based, of a name's range;
    None for anything else (``#REF!``, a formula, a link to another file)."""
    m = _RANGE.match(text or "")
    if not m:
        return None
    sheet = m[1].replace("''", "'") if m[1] is not None else m[2].strip()
    if sheet.startswith("["):  # [1]Sheet: another workbook
        return None
    r0, c0 = int(m[4]) - 1, col_number(m[3]) - 1
    r1, c1 = (int(m[6]) - 1, col_number(m[5]) - 1) if m[5] else (r0, c0)
    return sheet, min(r0, r1), max(r0, r1), min(c0, c1), max(c0, c1)


def entry_names(defs, group, first, last):
    """{defined name: range text} of one entry sheet's rows ``first..last`` (0-based)."""
    sheet = L.entry_sheet(group)
    return {L.entry_name(group, role): range_text(sheet, first, last,
                                                  *L.entry_name_cols(defs.items, role))
            for role in L.ENTRY_NAME_ROLES}


def lookback_names(defs, first, last):
    """{defined name: range text} of 回头看录入's rows: the input block, each item."""
    n = len(defs.lookback_items)
    c0 = L.LookbackEntryCol.FIRST_SCORE
    out = {L.lookback_name(None): range_text(L.LOOKBACK_ENTRY, first, last,
                                              L.LookbackEntryCol.BALLOT, c0 + n - 1)}
    for k in range(n):
        out[L.lookback_name(k)] = range_text(L.LOOKBACK_ENTRY, first, last, c0 + k, c0 + k)
    return out


def sentinel_formula(sheet, block, last_col, what="汇总"):
    """The formula that names what lies outside ``block`` (a defined name over the input
    columns 0..last_col of ``sheet``): '' while nothing does."""
    cols = f"{quote_sheet(sheet)}!$A:${L.col(last_col)}"
    header = f"{quote_sheet(sheet)}!$A$1:${L.col(last_col)}$1"
    outside = f"(COUNTA({cols})-COUNTA({header})-COUNTA({block}))"
    rows = f'SUMPRODUCT(MIN(ROW({block})))&"–"&SUMPRODUCT(MAX(ROW({block})))'
    return (f'=IF({outside}>0,"{OUTSIDE}{what}:本表有 "&{outside}&" 个单元格在计算范围'
            f'(第 "&{rows}&" 行)之外。请运行“计算”将其纳入。","")')


def counted(defined, names):
    """(sheet, first row, last row) the names cover, when they all agree; else None.

    ``defined``: {name: text} of the workbook's names (``BookFile.defined_names``).
    """
    spans = set()
    for name in names:
        parsed = parse_range(defined.get(name))
        if parsed is None:
            return None
        spans.add(parsed[:3])
    return spans.pop() if len(spans) == 1 else None


def _typed(values):
    """Anything a cell holds counts for COUNTA, a space included (counted by built-ins:
    a row is typed unless every value is None or '')."""
    return values.count(None) + values.count("") < len(values)


def span(grids, sheet, names, rows, first_row, out, last_row=None):
    """The rows counted after compute, and the names to write to get there.

    ``rows``: (0-based row, values) of the sheet's input block as read. Returns
    ``(first, last, rewrite)``: ``rewrite`` is true when the names must change
    (rows typed outside them, or names missing or damaged). Without usable names
    the rows are all those read, down to ``last_row`` at least.
    Findings: rows outside the names (warning: compute takes them in), names
    missing (warning: compute restores them).
    """
    return span_of(grids, sheet, names, [r for r, _ in rows],
                   [r for r, values in rows if _typed(values)], first_row, out, last_row)


def span_of(grids, sheet, names, rows, typed, first_row, out, last_row=None):
    """``span`` of a block given by its rows' numbers, ``rows``, and those of the rows
    typed in, ``typed`` (a caller holding rows of its own kind tells them faster)."""
    got = counted(grids.names, names) if grids.names is not None else None
    if got is not None and got[0].casefold() != sheet.casefold():
        got = None
    if got is None:
        out.append(finding("range-names-missing", sheet, "", names=names[0]))
        first = first_row
        last = max([first_row, last_row or first_row, *typed, *rows])
        return first, last, True
    _, first, last = got
    outside = [r for r in typed if not first <= r <= last]
    if not outside:
        return first, last, False
    out.append(finding("row-outside-range", sheet, L.a1(min(outside), 0),
                       rows=_rows_text(outside), first=first + 1, last=last + 1))
    return min(first, *outside), max(last, *outside), True


def _rows_text(rows):
    rows = sorted(rows)
    shown = f"第 {rows[0] + 1} 行" if len(rows) == 1 else f"第 {rows[0] + 1}–{rows[-1] + 1} 行"
    return shown if len(rows) == 1 else f"{shown}中的 {len(rows)} 行"
