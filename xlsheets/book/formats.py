"""Cell formats shared by the sheets of a branch workbook.

One font for every cell, 宋体 (SimSun): it ships with Chinese Windows and WPS,
and LibreOffice substitutes a CJK font (Noto) for it elsewhere. Entry cells
are unlocked and tinted; everything else stays locked under sheet protection.
"""

from xlsxwriter.utility import xl_rowcol_to_cell

FONT = "宋体"
FONT_SIZE = 11
ENTRY_FILL = "#FFF9DB"  # pale yellow: type here
BAD_FILL = "#F4B6B6"  # conditional format: out of range or not a number
HALF_FILL = "#FFE08A"  # conditional format: a half-filled ballot row


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
        self.entry_box = wb.add_format({"locked": False, "text_wrap": True, "border": 1,
                                        "valign": "top"})
        self.name_entry = wb.add_format({"locked": False, **center})
        self.bad = wb.add_format({"bg_color": BAD_FILL, "font_color": "#9C0006"})
        self.half = wb.add_format({"bg_color": HALF_FILL})


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
    cell = xl_rowcol_to_cell(first, col)
    ws.conditional_format(first, col, last, col, {
        "type": "formula", "format": fmt.bad,
        "criteria": f'=AND({cell}<>"",OR(NOT(ISNUMBER({cell})),{cell}<0,{cell}>{item.max}))',
    })
