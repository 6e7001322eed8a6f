"""会议情况: the two meetings of step 5 (announced, held) and who attended them.

The leadership's 民主生活会 applies only where the roster names a town
leadership; otherwise its row says so and takes no dates. Attendance lists
every member for the branch meeting, then each leadership member for theirs.
"""

from xlsheets.workbook import layout as L
from xlsheets.writer.formats import a4, choice, date_column, header_row, protect, put, title_row
from xlsheets.writer.roster_sheet import leadership

_WIDTHS = (20, 20, 14, 24, 20, 12, 14, 20)  # shared by both tables
NOT_APPLICABLE = "本支部无班子成员,不适用"
_, _, STATUS, REASON, HANDED_IN, PRESENTER, MAKEUP, REMARK = L.AttendanceCol


def attendance_rows(defs, roster):
    """(name, meeting) per attendance row: every member, then each leadership member."""
    mt = defs.process.meetings
    return [(n, mt["branch"]) for n in roster.names()] + \
        [(n, mt["leadership"]) for n in leadership(defs, roster)]


def write(wb, ctx):
    """Write 会议情况: the meetings table, a blank row, the attendance table."""
    f, mt = ctx.fmt, ctx.defs.process.meetings
    ws = wb.add_worksheet(L.MEETINGS)
    last_col = len(L.ATTENDANCE_HEADERS) - 1
    title_row(ws, f, mt["title"], last_col)
    for c, w in enumerate(_WIDTHS):
        ws.set_column(c, c, w)
    _meetings(ws, ctx, bool(leadership(ctx.defs, ctx.roster)))
    last = _attendance(ws, ctx)
    ws.freeze_panes(L.REGISTER_HEADER_ROW + 1, 0)
    a4(ws, landscape=True, area=(0, 0, last, last_col))
    protect(ws)


def _meetings(ws, ctx, has_leadership):
    """The two meetings' dates; the leadership's takes none without a leadership."""
    f, mt = ctx.fmt, ctx.defs.process.meetings
    header_row(ws, f, L.REGISTER_HEADER_ROW, L.MEETING_HEADERS)
    first = L.MEETING_FIRST_ROW
    for k, name in enumerate((mt["branch"], mt["leadership"])):
        r = first + k
        ws.set_row(r, 24)
        ws.write_string(r, 0, name, f.text_center)
        if k and not has_leadership:
            ws.write_blank(r, 1, None, f.text_center)
            ws.write_blank(r, 2, None, f.text_center)
            ws.write_string(r, 3, NOT_APPLICABLE, f.text)
            continue
        typed = list(ctx.entries.meetings.get(name, [])) + [None] * 3
        for c, v in enumerate(typed[:3], start=1):
            put(ws, r, c, v, f.entry_text if c == 3 else f.entry_date)
    last = first + (L.MEETING_ROWS if has_leadership else 1) - 1
    announce = ctx.defs.process.announce_days
    date_column(ws, first, last, 1, "公示日期",
                f"会议时间、内容和要求应至少提前 {announce} 天公示。")
    date_column(ws, first, last, 2, "召开日期")


def _attendance(ws, ctx):
    """The attendance table; returns its 0-based last row."""
    f, mt = ctx.fmt, ctx.defs.process.meetings
    header_row(ws, f, L.ATTENDANCE_HEADER_ROW, L.ATTENDANCE_HEADERS)
    first = L.ATTENDANCE_FIRST_ROW
    table = attendance_rows(ctx.defs, ctx.roster)
    if not table:
        return L.ATTENDANCE_HEADER_ROW
    for k, (name, meeting) in enumerate(table):
        r = first + k
        ws.set_row(r, 18)
        ws.write_string(r, 0, name, f.text_center)
        ws.write_string(r, 1, meeting, f.text_center)
        typed = list(ctx.entries.attendance.get((name, meeting), [])) + [None] * 6
        for c, v in enumerate(typed[:6], start=STATUS):
            put(ws, r, c, v, f.entry_text if c == REMARK else f.entry, f.entry_date)
    last = first + len(table) - 1
    choice(ws, first, last, STATUS, mt["attendance"], "出席情况", "选择出席或缺席。")
    choice(ws, first, last, REASON, mt["reasons"], "缺席原因",
           f"缺席的选择原因;{mt['official']}的应事先提交党性分析材料、委托他人代为发言并补课。")
    choice(ws, first, last, HANDED_IN, [mt["yes"], "否"], "事先提交党性分析材料",
           "缺席者是否在会前提交了党性分析材料。")
    choice(ws, first, last, PRESENTER, ctx.roster_names_ref, "代为发言人",
           "缺席者委托代为发言的党员,从名册中选择。",
           error="代为发言人应为名册中的党员。")
    date_column(ws, first, last, MAKEUP, "补课日期")
    return last
