"""评定等次: the branch committee's grade for each member, and the count of each grade.

Current practice, not the seed (``definitions.Grading``): written only when the
definition set grades. 测评综合得分 and 排名 link to 汇总 as 附件4's score does; the
grade is a drop-down; the counts, the shares of 党员人数 (their denominator shown)
and the most 优秀 the share allows are formulas, so a clerk without Python sees them.
"""

from xlsheets.workbook import layout as L
from xlsheets.core.figures import cached, share_shown, shown
from xlsheets.writer.formats import a4, choice, date_column, header_row, protect, put, title_row

_WIDTHS = (11, 11, 12, 10, 34, 14, 12, 24)  # per GRADE_HEADERS (排名 wide for the counts below)


def write(wb, ctx):
    """Write 评定等次, pre-filled from ``ctx.entries.grades`` (name -> values from 评定等次 on)."""
    d, f, g = ctx.defs, ctx.fmt, ctx.defs.grading
    gf = ctx.figures.grading
    ws = wb.add_worksheet(L.GRADES)
    last_col = len(L.GRADE_HEADERS) - 1
    title_row(ws, f, f"{d.town}{ctx.unit.name}{g.title}", last_col)
    header_row(ws, f, L.GRADE_HEADER_ROW, L.GRADE_HEADERS, height=32)
    for c, w in enumerate(_WIDTHS):
        ws.set_column(c, c, w)
    _, comp, rank, _ = L.summary_columns(d.groups)
    first, n = L.GRADE_FIRST_ROW, len(ctx.members)
    last = first + n - 1
    for i, m in enumerate(ctx.members):
        r = first + i
        s = ctx.figures.members[i]
        ws.set_row(r, 30)
        ws.write_string(r, L.GRADE_NAME, m.name, f.text_center)
        row = ctx.summary_rows[m.name]
        ws.write_formula(r, L.GRADE_SCORE, f"={L.ref(L.SUMMARY, (row, comp))}", f.score,
                         _cached_shown(s.composite))
        ws.write_formula(r, L.GRADE_RANK, f"={L.ref(L.SUMMARY, (row, rank))}", f.int,
                         "" if s.rank is None else s.rank)
        typed = list(ctx.entries.grades.get(m.name, []))
        typed += [None] * (len(L.GRADE_HEADERS) - L.GRADE - len(typed))
        for c, v in zip(range(L.GRADE, last_col + 1), typed):
            fmt = (f.entry_text if c in (L.GRADE_REASON, L.GRADE_GROUNDS) else
                   f.entry_date if c == L.GRADE_APPROVED else f.entry)
            put(ws, r, c, v, fmt, f.entry_date)
    choice(ws, first, last, L.GRADE, g.grades, "评定等次",
           "支委会集体评定的等次,从下拉列表中选择。测评得分和排名只作参考。")
    ws.data_validation(first, L.GRADE_REASON, last, L.GRADE_REASON, {
        "validate": "any", "input_title": "评定依据",
        "input_message": f"{'、'.join(sorted(g.reason_required, key=g.grades.index))}必须写明;"
                         "评定与测评结果相差较大的,也请写明理由。"})
    date_column(ws, first, last, L.GRADE_APPROVED, "上级党委审批日期",
                f"{'、'.join(sorted(g.approval_required, key=g.grades.index))}须报上级党委审批。")
    ws.data_validation(first, L.GRADE_APPROVER, last, L.GRADE_APPROVER, {
        "validate": "any", "input_title": "上级党委审批人",
        "input_message": "填写审批的上级党委(或审批人)。"})
    choice(ws, first, last, L.GRADE_GROUNDS, g.grounds, "不合格情形",
           f"评定为“{g.failing}”的,选择或填写具体情形。",
           error="不在下拉列表中,请确认后继续。", strict=False)

    head, per, graded, total, limit = L.grade_count_rows(g.grades, n)
    header_row(ws, f, head, L.COUNT_HEADERS, height=32)
    for r in (*per, graded, total, limit):
        ws.set_row(r, 20)
    grades = f"{L.a1(first, L.GRADE, True)}:{L.a1(last, L.GRADE, True)}"
    names = f"{L.a1(first, L.GRADE_NAME, True)}:{L.a1(last, L.GRADE_NAME, True)}"
    members = L.a1(total, 1, True)
    for r, grade in zip(per, g.grades):
        ws.write_string(r, 0, grade, f.text_center)
        ws.write_formula(r, 1, f"=COUNTIF({grades},{L.a1(r, 0)})", f.int, gf.counts[grade])
        _share(ws, f, r, members, gf.share(gf.counts[grade]))
    ws.write_string(graded, 0, L.COUNT_TOTALS[0], f.label)
    ws.write_formula(graded, 1, f"=SUM({L.a1(per[0], 1)}:{L.a1(per[-1], 1)})", f.int, gf.graded)
    _share(ws, f, graded, members, gf.share(gf.graded))
    ws.write_string(total, 0, L.COUNT_TOTALS[1], f.label)
    ws.write_formula(total, 1, f"=COUNTA({names})", f.int, gf.members)
    ws.write_blank(total, 2, None, f.text_center)
    share = g.share_of(ctx.unit)
    ws.write_string(limit, 0, f"{g.excellent}最多(人)", f.label)
    ws.write_formula(limit, 1, f"=INT({members}*{share.numerator}/{share.denominator})", f.int,
                     gf.limit)
    ws.write_string(limit, 2, f"{L.COUNT_TOTALS[1]}×{share.numerator}/{share.denominator}",
                    f.text_center)
    ws.freeze_panes(first, 1)
    a4(ws, landscape=True, repeat=(L.GRADE_HEADER_ROW, L.GRADE_HEADER_ROW),
       area=(0, 0, limit, last_col))
    protect(ws)


def _share(ws, f, r, members, percent):
    ws.write_formula(r, 2, f"=ROUND({L.a1(r, 1)}/{members},4)", f.percent,
                     cached(share_shown(percent)))


def _cached_shown(value):
    return cached(shown(value))
