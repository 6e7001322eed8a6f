"""校验结果: the findings sheet that ``compute`` adds, with its stamp (``core.stamp``).
"""

from xlsheets.workbook import layout as L
from xlsheets.core.findings import SEVERITY_LABEL
from xlsheets.core.stamp import FIRST_ROW, SHEET, STAMP_KEYS, parse
from xlsheets.ooxml import sheet_xml

TABLE_HEADER = ("级别", "工作表", "单元格", "代码", "问题及处理办法")


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


def read_stamp(book):
    """The stamp of a previous compute in an .xlsx package, or None (``stamp.parse``)."""
    if SHEET not in book.sheet_names:
        return None
    cells = book.cells(SHEET)
    rows = []
    for r in range(FIRST_ROW, FIRST_ROW + len(STAMP_KEYS)):
        a, b = cells.get(L.a1(r, 0)), cells.get(L.a1(r, 1))
        rows.append((None if a is None else a.value, None if b is None else b.value))
    return parse(rows)
