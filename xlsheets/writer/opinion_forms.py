"""附件4: one 党员评议意见表 per member, each on its own A4 page.

姓名 and 职务 are written, 测评综合得分 links to 汇总; the boxes are for the
branch committee's words and the signatures.
"""

from xlsheets.workbook import layout as L
from xlsheets.core.cells import opinion_grade_formula, opinion_grade_text
from xlsheets.core.figures import cached, shown
from xlsheets.writer.formats import a4, protect



def write(wb, ctx):
    d, f = ctx.defs, ctx.fmt
    op = d.opinion
    ws = wb.add_worksheet(L.OPINION_FORM)
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 14)
    ws.set_column(2, 2, 12)
    ws.set_column(3, 3, 14)
    ws.set_column(4, 4, 14)
    ws.set_column(5, 5, 12)
    breaks = []
    summary_comp = L.summary_columns(d.groups)[1]
    for i, m in enumerate(ctx.members):
        r = i * L.OPINION_FORM_ROWS
        if i:
            breaks.append(r)
        ws.write_string(r, 0, "附件4", f.subtitle)
        ws.set_row(r + 1, 44)
        ws.merge_range(r + 1, 0, r + 1, 5, op["title"], f.title)
        ws.set_row(r + 2, 32)
        name_l, duty_l, score_l = op["fields"]
        ws.write_string(r + 2, 0, name_l, f.label)
        ws.write_string(r + L.OPINION_FORM_NAME[0], L.OPINION_FORM_NAME[1], m.name, f.text_center)
        ws.write_string(r + 2, 2, duty_l, f.label)
        ws.write_string(r + 2, 3, m.duty, f.text_center)
        ws.write_string(r + 2, 4, score_l, f.label)
        link = L.ref(L.SUMMARY, (ctx.summary_rows[m.name], summary_comp))
        ws.write_formula(r + L.OPINION_FORM_SCORE[0], L.OPINION_FORM_SCORE[1], f"={link}", f.score,
                         cached(shown(ctx.figures.members[i].composite)))
        for k, section in enumerate(op["sections"]):
            row = r + 3 + k
            ws.set_row(row, 155)
            ws.write_string(row, 0, section, f.label)
            ws.merge_range(row, 1, row, 5, "", f.entry_box)
        for k, sign in enumerate(op["signatures"]):
            row = r + 6 + k
            ws.set_row(row, 40)
            ws.write_string(row, 0, sign, f.label)
            ws.merge_range(row, 1, row, 3, "", f.entry_box)
            ws.merge_range(row, 4, row, 5, op["date_label"], f.text_center)
        ws.set_row(r + 8, 50)
        ws.write_string(r + 8, 0, op["remark"], f.label)
        if d.grading is None:
            ws.merge_range(r + 8, 1, r + 8, 5, "", f.entry_box)
        else:  # the committee's grade in the 备注 box's right part, once decided
            gr, gc = L.OPINION_GRADE
            ws.merge_range(r + gr, 1, r + gr, gc - 1, "", f.entry_box)
            ws.merge_range(r + gr, gc, r + gr, 5, "", f.text_center)
            ws.write_formula(r + gr, gc, opinion_grade_formula(i), f.text_center,
                             opinion_grade_text(ctx.figures.grading.grades[i]))
        ws.merge_range(r + 9, 0, r + 9, 5, op["note"], f.note)
    last = len(ctx.members) * L.OPINION_FORM_ROWS - 1
    ws.set_h_pagebreaks(breaks)
    a4(ws, area=(0, 0, last, 5), footer=False)  # each form is handed out alone
    protect(ws)

