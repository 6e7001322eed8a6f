"""四查四看: the “回头看” self-check of step 9, one row per check, its result and evidence."""

from xlsheets.workbook import layout as L
from xlsheets.writer.formats import a4, choice, header_row, protect, put, title_row

CHECK, RESULT, EVIDENCE = L.ChecklistCol


def write(wb, ctx):
    """Write 四查四看, pre-filled from ``ctx.entries.checklist``."""
    f, ck = ctx.fmt, ctx.defs.process.checklist
    ws = wb.add_worksheet(L.CHECKLIST)
    last_col = len(L.CHECKLIST_HEADERS) - 1
    title_row(ws, f, ck["title"], last_col)
    header_row(ws, f, L.REGISTER_HEADER_ROW, L.CHECKLIST_HEADERS)
    ws.set_column(CHECK, CHECK, 34)
    ws.set_column(RESULT, RESULT, 14)
    ws.set_column(EVIDENCE, EVIDENCE, 56)
    first = L.REGISTER_FIRST_ROW
    for k, check in enumerate(ck["checks"]):
        r = first + k
        ws.set_row(r, 90)
        ws.write_string(r, CHECK, check, f.text)
        typed = list(ctx.entries.checklist[k]) if k < len(ctx.entries.checklist) else []
        typed += [None] * 2
        put(ws, r, RESULT, typed[0], f.entry)
        put(ws, r, EVIDENCE, typed[1], f.entry_top)
    last = first + len(ck["checks"]) - 1
    choice(ws, first, last, RESULT, ck["results"], "检查结果", "从下拉列表中选择检查结果。")
    ws.data_validation(first, EVIDENCE, last, EVIDENCE, {
        "validate": "any", "input_title": "情况及佐证材料",
        "input_message": "简述检查情况,列出佐证材料(如会议记录、登记表、测评表)。"})
    ws.freeze_panes(first, 0)
    a4(ws, landscape=True, repeat=(L.REGISTER_HEADER_ROW, L.REGISTER_HEADER_ROW),
       area=(0, 0, last, last_col))
    protect(ws)
