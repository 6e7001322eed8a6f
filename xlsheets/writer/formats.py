"""Cell formats, page setup and entry-cell helpers shared by the sheets of a branch workbook.

One font for every cell, 宋体 (SimSun): it ships with Chinese Windows and WPS,
and LibreOffice substitutes a CJK font (Noto) for it elsewhere. Entry cells
are unlocked and tinted; everything else stays locked under sheet protection.
"""

import datetime as dt
import unicodedata

from xlsheets.workbook import layout as L
from xlsheets.workbook.address import a1
from xlsheets.workbook.grids import Line

FONT = "宋体"
FONT_SIZE = 11
ENTRY_FILL = "#FFF9DB"  # pale yellow: type here
BAD_FILL = "#F4B6B6"  # conditional format: out of range or not a number
HALF_FILL = "#FFE08A"  # conditional format: a half-filled ballot row
ZERO_FILL = "#FCE4D6"  # conditional format: a count still at 0
DATE_FORMAT = 'yyyy"年"m"月"d"日"'
FIRST_DATE, LAST_DATE = dt.date(2000, 1, 1), dt.date(2100, 12, 31)  # a typed date's bounds


class Formats:
    """The formats of one workbook, created once and looked up by name."""

    def __init__(self, wb):
        border = {"border": 1, "valign": "vcenter"}
        center = {"align": "center", **border}
        self.title = wb.add_format({"bold": True, "font_size": 16, "align": "center",
                                    "valign": "vcenter", "text_wrap": True})
        self.subtitle = wb.add_format({"bold": True, "font_size": 12, "valign": "vcenter"})
        self.header = wb.add_format({"bold": True, "text_wrap": True, "bg_color": "#E7E6E6",
                                     **center})
        self.label = wb.add_format({"bold": True, "text_wrap": True, **center})
        self.text = wb.add_format({"text_wrap": True, **border})
        self.text_center = wb.add_format({"text_wrap": True, **center})
        self.top_text = wb.add_format({"text_wrap": True, "border": 1, "valign": "top"})
        self.int = wb.add_format({"num_format": "0", **center})
        self.score = wb.add_format({"num_format": "0.00", **center})
        self.percent = wb.add_format({"num_format": "0.00%", **center})
        self.note = wb.add_format({"text_wrap": True, "valign": "top"})
        self.plain = wb.add_format({"text_wrap": True, "valign": "top"})
        self.entry = wb.add_format({"locked": False, "bg_color": ENTRY_FILL, "num_format": "General",
                                    **center})
        self.entry_text = wb.add_format({"locked": False, "bg_color": ENTRY_FILL, "text_wrap": True,
                                         **border})
        # Kept as typed: Excel would make “9月12日” a date, and a range like “8月16—19日” text.
        self.entry_as_typed = wb.add_format({"locked": False, "bg_color": ENTRY_FILL,
                                             "num_format": "@", **center})
        self.entry_top = wb.add_format({"locked": False, "bg_color": ENTRY_FILL, "text_wrap": True,
                                        "border": 1, "valign": "top"})
        self.entry_box = wb.add_format({"locked": False, "text_wrap": True, "border": 1,
                                        "valign": "top"})
        self.entry_date = wb.add_format({"locked": False, "bg_color": ENTRY_FILL,
                                         "num_format": DATE_FORMAT, **center})
        self.name_entry = wb.add_format({"locked": False, **center})
        self.loose = wb.add_format({"locked": False})  # below an entry table: typeable
        self.sentinel = wb.add_format({"bold": True, "font_color": "#C00000", "valign": "vcenter",
                                       "text_wrap": True})
        self.bad = wb.add_format({"bg_color": BAD_FILL, "font_color": "#9C0006"})
        self.half = wb.add_format({"bg_color": HALF_FILL})
        self.zero = wb.add_format({"bg_color": ZERO_FILL})


def a4(ws, *, landscape=False, repeat=None, area=None, fit_width=True, footer=True):
    """A4 page setup: one page wide, title rows repeated, centred, small margins."""
    ws.set_paper(9)
    ws.set_landscape() if landscape else ws.set_portrait()
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.center_horizontally()
    if fit_width:
        ws.fit_to_pages(1, 0)
    if repeat is not None:
        ws.repeat_rows(*repeat)
    if area is not None:
        ws.print_area(*area)
    if footer:
        ws.set_footer("&C第 &P 页,共 &N 页")


def protect(ws):
    """Lock formula cells without a password; entry cells stay open."""
    ws.protect("", {"format_columns": True, "format_rows": True, "select_locked_cells": True,
                    "select_unlocked_cells": True, "sort": False, "autofilter": True})


def score_column(ws, fmt, first, last, col, item, noun, title):
    """Entry cells of one scored item: validation 0..max with Chinese prompts, red if wrong."""
    ws.data_validation(first, col, last, col, {
        "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": item.max,
        "input_title": title, "input_message": f"请输入 0 到 {item.max} 之间的分数",
        "error_title": "分数超出范围",
        "error_message": f"“{item.name}”的{noun}应在 0 到 {item.max} 之间,请按测评表重新输入。",
    })
    cell = a1(first, col)
    ws.conditional_format(first, col, last, col, {
        "type": "formula", "format": fmt.bad,
        "criteria": f'=AND({cell}<>"",OR(NOT(ISNUMBER({cell})),{cell}<0,{cell}>{item.max}))',
    })


def title_row(ws, fmt, title, last_col, height=30):
    """A register's title: row 0 merged across its columns."""
    ws.set_row(0, height)
    ws.merge_range(0, 0, 0, last_col, title, fmt.title)


def header_row(ws, fmt, row, headers, height=30):
    """A header row of wrapped, shaded labels."""
    ws.set_row(row, height)
    for c, h in enumerate(headers):
        ws.write_string(row, c, h, fmt.header)


def fit_row(ws, row, values, widths, line=15):
    """Make a row tall enough for its wrapped texts (a full-width character is two units)."""
    lines = 1
    for value, width in zip(values, widths):
        if isinstance(value, str) and value:
            units = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in value)
            lines = max(lines, -(-units // max(1, int(width) - 1)))
    if lines > 1:
        ws.set_row(row, line * lines)


def put(ws, row, col, value, fmt, date_fmt=None):
    """Write a typed value as its own kind: date, number, text, or a blank cell."""
    if value is None or value == "":
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, dt.date):
        when = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        ws.write_datetime(row, col, when, date_fmt or fmt)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        ws.write_number(row, col, value, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def choice(ws, first, last, col, source, title, message, *, error=None, strict=True):
    """A drop-down list: ``source`` is a list of texts or an ``=range``.

    ``strict`` refuses anything else with ``error``; otherwise Excel only
    informs, for cells where a value off the list is allowed (a name from
    outside the branch, several names).
    """
    ws.data_validation(first, col, last, col, {
        "validate": "list", "source": list(source) if not isinstance(source, str) else source,
        "input_title": title, "input_message": message,
        "error_type": "stop" if strict else "information",
        "error_title": "输入有误" if strict else "不在下拉列表中",
        "error_message": error or "请从下拉列表中选择。",
    })


def date_column(ws, first, last, col, title, hint=""):
    """Date entry cells: a real date between 2000 and 2100, with a Chinese prompt."""
    ws.data_validation(first, col, last, col, {
        "validate": "date", "criteria": "between",
        "minimum": dt.datetime.combine(FIRST_DATE, dt.time()),
        "maximum": dt.datetime.combine(LAST_DATE, dt.time()),
        "input_title": title, "input_message": f"{hint}请输入日期,如 2005-8-20 或 2005年8月20日。",
        "error_title": "日期有误",
        "error_message": "请输入一个有效日期(年-月-日),如 2005-8-20。",
    })


def log_sheet(wb, fmt, name, title, headers, widths, typed, wrapped=()):
    """A register clerks add rows to: title, header, REGISTER_ROWS entry rows.

    ``typed`` pre-fills the first rows (one list of values per row, in header
    order); columns in ``wrapped`` wrap their text. No print area: the used rows
    print, not REGISTER_ROWS empty ones. Returns the sheet for its validations.
    """
    ws = wb.add_worksheet(name)
    title_row(ws, fmt, title, len(headers) - 1)
    header_row(ws, fmt, L.REGISTER_HEADER_ROW, headers, height=45)
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    first = L.REGISTER_FIRST_ROW
    for k in range(max(L.REGISTER_ROWS, len(typed))):
        values = list(typed[k]) if k < len(typed) else []
        values += [None] * (len(headers) - len(values))
        fit_row(ws, first + k, values, widths)
        for c, v in enumerate(values):
            put(ws, first + k, c, v, fmt.entry_text if c in wrapped else fmt.entry, fmt.entry_date)
    ws.freeze_panes(first, 0)
    a4(ws, landscape=True, repeat=(L.REGISTER_HEADER_ROW, L.REGISTER_HEADER_ROW))
    protect(ws)
    return ws


def log_lines(typed):
    """The rows ``log_sheet`` pre-fills, as the core's register ``Line``s."""
    return [Line(L.REGISTER_FIRST_ROW + k, list(v)) for k, v in enumerate(typed)]
