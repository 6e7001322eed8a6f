"""附件1 / 附件2: the unit's 工作日程表, with the seed's title, steps, dates, texts.

A branch the definitions do not schedule gets the same table with its dates
as entry cells, for the branch to fill in.
"""

from xlsheets.workbook import layout as L
from xlsheets.writer.formats import a4, protect


def write(wb, ctx):
    d, f, unit = ctx.defs, ctx.fmt, ctx.unit
    ws = wb.add_worksheet(L.schedule_sheet(unit))
    ws.set_column(0, 0, 26)
    ws.set_column(1, 1, 14)
    ws.set_column(2, 2, 52)
    if unit.attachment:
        ws.write_string(0, 0, unit.attachment, f.subtitle)
    ws.set_row(1, 48)
    ws.merge_range(1, 0, 1, 2, unit.title, f.title)
    for c, h in enumerate(d.schedule["headers"]):
        ws.write_string(2, c, h, f.header)
    row = L.SCHEDULE_FIRST_ROW
    for step, date in zip(d.steps, unit.dates):
        ws.set_row(row, 15 * max(3, -(-len(step.text) // 24) + 1))
        ws.write_string(row, 0, step.name, f.text)
        if unit.scheduled:
            ws.write_string(row, 1, date, f.text_center)
        else:  # no dates in the definitions: the branch types its own
            ws.write_blank(row, 1, None, f.entry_as_typed)
        ws.write_string(row, 2, step.text, f.text)
        row += 1
    a4(ws, repeat=(0, 2), area=(0, 0, row - 1, 2))
    protect(ws)
