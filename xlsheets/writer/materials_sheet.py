"""党性分析材料: the written self-analyses of step 4, their length, exemption and review.

One row for the leadership's material when the roster names a town leadership,
then one per member. 最低字数 is the form's (R16); a length below it that is
not exempt shows red.
"""

from xlsheets.workbook import layout as L
from xlsheets.writer.formats import a4, choice, header_row, protect, put, title_row
from xlsheets.writer.roster_sheet import leadership

_WIDTHS = (12, 8, 10, 10, 17, 14, 20, 14, 24)  # per MATERIAL_HEADERS
NAME, KIND, LENGTH, MINIMUM, EXEMPT, RECORDER, REVIEWER, REVIEW, REMARK = L.MaterialCol


def rows(defs, roster):
    """(name, 类别, 最低字数) per row: the leadership's first when it has members."""
    m = defs.process.materials
    head = [(m["leadership"], L.MATERIAL_KINDS[0], m["leadership_minimum"])] \
        if leadership(defs, roster) else []
    return head + [(n, L.MATERIAL_KINDS[1], m["member_minimum"]) for n in roster.names()]


def write(wb, ctx):
    """Write 党性分析材料, pre-filled from ``ctx.entries.materials`` (name -> values from 字数 on)."""
    d, f, m = ctx.defs, ctx.fmt, ctx.defs.process.materials
    ws = wb.add_worksheet(L.MATERIALS)
    last_col = len(L.MATERIAL_HEADERS) - 1
    title_row(ws, f, m["title"], last_col)
    header_row(ws, f, L.REGISTER_HEADER_ROW, L.MATERIAL_HEADERS)
    for c, w in enumerate(_WIDTHS):
        ws.set_column(c, c, w)
    first = L.REGISTER_FIRST_ROW
    table = rows(d, ctx.roster)
    for k, (name, kind, minimum) in enumerate(table):
        r = first + k
        ws.set_row(r, 20)
        ws.write_string(r, NAME, name, f.text_center)
        ws.write_string(r, KIND, kind, f.text_center)
        ws.write_number(r, MINIMUM, minimum, f.int)
        typed = list(ctx.entries.materials.get(name, []))
        typed += [None] * (len(L.MATERIAL_HEADERS) - 3 - len(typed))
        for c, v in zip((LENGTH, EXEMPT, RECORDER, REVIEWER, REVIEW, REMARK), typed):
            put(ws, r, c, v, f.entry_text if c == REMARK else f.entry)
    last = first + len(table) - 1
    ws.data_validation(first, LENGTH, last, LENGTH, {
        "validate": "integer", "criteria": ">=", "value": 0,
        "input_title": "字数", "input_message": "材料的字数(不计空格和换行),输入整数。",
        "error_title": "字数有误", "error_message": "字数应为不小于 0 的整数。",
    })
    choice(ws, first, last, EXEMPT, [m["exempt_value"], "否"], "免写(经支部同意)",
           f"年老体弱或无书写能力、经支部同意免写的填“{m['exempt_value']}”,"
           "并在右栏填写口头总结记录人;否则留空。",
           error=f"只能填“{m['exempt_value']}”“否”或留空。")
    ws.data_validation(first, RECORDER, last, RECORDER, {
        "validate": "any", "input_title": "口头总结记录人",
        "input_message": "免写的党员口头总结时,填写记录人姓名。"})
    choice(ws, first, last, REVIEWER, ctx.roster_names_ref, "审阅人",
           "填写审阅并签署意见的人;支部以外的审阅人(如督导组)可直接输入。",
           error="审阅人不在本支部名册中,请确认后继续。", strict=False)
    choice(ws, first, last, REVIEW, m["reviewed"], "审阅意见",
           f"审阅人签署意见后选“{m['signed']}”;不合要求退回的选“{m['reviewed'][-1]}”。")
    length, minimum, exempt = (f"${L.col(c)}{first + 1}" for c in (LENGTH, MINIMUM, EXEMPT))
    ws.conditional_format(first, LENGTH, last, LENGTH, {
        "type": "formula", "format": f.bad,
        "criteria": f'=AND(ISNUMBER({length}),{length}<{minimum},{exempt}<>"{m["exempt_value"]}")',
    })
    ws.freeze_panes(first, 1)
    a4(ws, landscape=True, repeat=(L.REGISTER_HEADER_ROW, L.REGISTER_HEADER_ROW),
       area=(0, 0, last, last_col))
    protect(ws)
