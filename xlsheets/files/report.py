"""校验结果: the findings sheet that ``compute`` adds, and its stamp.

The stamp records when the figures were computed, by which package and
definition version, and a fingerprint of the inputs, so a later run can tell
whether anything was typed since.
"""

import hashlib

from xlsheets import __version__
from xlsheets.workbook import layout as L
from xlsheets.core.findings import SEVERITY_LABEL
from xlsheets.ooxml import sheet_xml

SHEET = "校验结果"
STAMP_KEYS = (("computed", "计算时间"), ("generator", "计算程序"), ("definitions", "定义集及版本"),
              ("fingerprint", "输入指纹"), ("errors", "错误数"), ("warnings", "提醒数"))
TABLE_HEADER = ("级别", "工作表", "单元格", "代码", "问题及处理办法")


def fingerprint(checked, roster):
    """A hash of every input value the figures depend on, in a stable form.

    The checks hand over whole numbers as ints, so 8 typed as 8.0 hashes alike.
    """
    registers = getattr(checked.figures, "registers", None) or {}
    # The registers' counts, zeros left out: the roster already fixes which cells exist.
    data = (roster, sorted(checked.rows_by_group.items()), checked.lookback,
            checked.categories, checked.levels,
            sorted((sheet, sorted((a, v) for a, v in cells.items() if v))
                   for sheet, cells in registers.items()))
    grading = getattr(checked.figures, "grading", None)
    if grading is not None:  # 评定等次's grades and the ballots issued and returned
        data += (grading.grades, sorted((grading.accounts or {}).items()))
    return hashlib.sha256(repr(data).encode("utf-8")).hexdigest()[:16]


def stamp(defs, checked, roster, when):
    errors = sum(f.is_error for f in checked.findings)
    return {"computed": when.isoformat(timespec="seconds"), "generator": f"xlsheets {__version__}",
            "definitions": f"{defs.id} {defs.version}",
            "fingerprint": fingerprint(checked, roster),
            "errors": str(errors), "warnings": str(len(checked.findings) - errors)}


COL_WIDTHS = [10, 18, 12, 26, 90]


def results_rows(stamp_values, findings):
    """The 校验结果 sheet as rows of values, and its links ``[(A1, target)]``.

    Both shells write exactly these rows: the file shell as worksheet XML,
    the Excel add-in as one range write.
    """
    rows = [["计算与校验结果(由 xlsheets 生成,重新计算时会被替换)"], []]
    for key, label in STAMP_KEYS:
        rows.append([label, stamp_values[key]])
    rows.append([])
    rows.append(list(TABLE_HEADER))
    first = len(rows)
    links = []
    for i, f in enumerate(findings):
        rows.append([SEVERITY_LABEL[f.severity], f.sheet, f.cell, f.code, f.message])
        if f.cell:
            links.append((L.a1(first + i, 2), f"'{f.sheet}'!{f.cell}"))
    if not findings:
        rows.append(["", "", "", "", "没有发现问题。"])
    return rows, links


def results_sheet(stamp_values, findings):
    """The worksheet XML of 校验结果: the stamp, then one row per finding with a link."""
    rows, links = results_rows(stamp_values, findings)
    return sheet_xml(rows, col_widths=COL_WIDTHS,
                     hyperlinks=[(cell, target, "转到该单元格") for cell, target in links])


def stamp_cell(key):
    """Where a stamp value sits on 校验结果 (column B, below the title)."""
    return L.a1(2 + [k for k, _ in STAMP_KEYS].index(key), 1)


def read_stamp(book):
    """The stamp of a previous compute, or None."""
    if SHEET not in book.sheet_names:
        return None
    cells = book.cells(SHEET)
    labels = {label: key for key, label in STAMP_KEYS}
    found = {}
    for r in range(2, 2 + len(STAMP_KEYS)):
        a, b = cells.get(L.a1(r, 0)), cells.get(L.a1(r, 1))
        if a is not None and a.value in labels and b is not None:
            found[labels[a.value]] = str(b.value)
    return found or None
