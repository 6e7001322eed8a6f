"""谈心记录 and 谈心情况表: the talks of step 3, one per row, and who talked with whom.

The matrix holds plain counts from ``talks.matrix``: a live member-by-member
count over the whole log would be n² array formulas, so 校验/计算 rewrites it.
"""

from xlsheets.workbook import layout as L
from xlsheets.core import talks
from xlsheets.writer.formats import (a4, choice, date_column, header_row, log_lines, log_sheet,
                                     protect, title_row)

_WIDTHS = (14, 16, 22, 20, 10, 48)  # per TALK_HEADERS
DATE, TALKERS, MEMBERS, MASSES, FORM, CONTENT = L.TalkCol
NOTE = ("本表由“计算得分”根据谈心活动记录自动生成,请勿手工填写。表中数字为两人之间的谈心次数,"
        "“群众”为与群众谈心的次数,“合计”为本人参加谈心的次数;为 0 的以浅色标出。")


def write_register(wb, ctx):
    """谈心记录: REGISTER_ROWS entry rows, pre-filled with ``ctx.entries.talks``."""
    f, tk = ctx.fmt, ctx.defs.process.talks
    ws = log_sheet(wb, f, L.TALKS, tk["title"], L.TALK_HEADERS, _WIDTHS, ctx.entries.talks,
                   wrapped=(MEMBERS, MASSES, CONTENT))
    first, end = L.REGISTER_FIRST_ROW, L.REGISTER_LAST_ROW
    date_column(ws, first, end, DATE, "谈心日期")
    several = "可从名册中选择;几人同谈时直接输入姓名,用“、”分隔。"
    choice(ws, first, end, TALKERS, ctx.roster_names_ref, "谈心人", several,
           error="姓名不在名册中。几人同谈时用“、”分隔,请核对。", strict=False)
    choice(ws, first, end, MEMBERS, ctx.roster_names_ref, "谈心对象(党员)",
           several + "群众请填在“谈心对象(群众)”栏。",
           error="姓名不在名册中。几人时用“、”分隔;群众请填在“谈心对象(群众)”栏。", strict=False)
    ws.data_validation(first, MASSES, end, MASSES, {
        "validate": "any", "input_title": "谈心对象(群众)",
        "input_message": "填写谈心的群众,如“居民代表王某”;几人时用“、”分隔。",
    })
    choice(ws, first, end, FORM, tk["forms"], "谈心形式", "从下拉列表中选择谈心形式。")


def write_matrix(wb, ctx):
    """谈心情况表: per member, talks with each other member, with the masses, in all."""
    f, tk = ctx.fmt, ctx.defs.process.talks
    ws = wb.add_worksheet(L.TALK_MATRIX)
    names = ctx.roster.names()
    rows = talks.matrix(ctx.defs, names, log_lines(ctx.entries.talks))
    headers = ["姓名", *names, tk["masses_label"], "合计"]
    last_col = len(headers) - 1
    title_row(ws, f, tk["matrix_title"], last_col)
    header_row(ws, f, L.REGISTER_HEADER_ROW, headers, height=45)
    ws.set_column(0, 0, 10)
    ws.set_column(1, len(names), 7)
    ws.set_column(len(names) + 1, last_col, 6)
    first = L.MATRIX_FIRST_ROW
    for k, (name, counts) in enumerate(zip(names, rows)):
        r = first + k
        ws.write_string(r, 0, name, f.text_center)
        for c, n in enumerate(counts, start=1):
            if n is None:
                ws.write_string(r, c, "—", f.text_center)
            else:
                ws.write_number(r, c, n, f.int)
    last = first + len(names) - 1
    ws.conditional_format(first, 1, last, last_col, {
        "type": "cell", "criteria": "==", "value": 0, "format": f.zero})
    note = last + 2
    ws.set_row(note, 30)
    ws.merge_range(note, 0, note, last_col, NOTE, f.note)
    ws.freeze_panes(first, 1)
    a4(ws, landscape=True, repeat=(L.REGISTER_HEADER_ROW, L.REGISTER_HEADER_ROW),
       area=(0, 0, note, last_col))
    protect(ws)
