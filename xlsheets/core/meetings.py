"""专题组织生活会 and 专题民主生活会 (step 5): announced in time (R15), attendance, 补课.

Each meeting is announced at least two days before it is held, within the
schedule's step 5. A member away on official business (公出) hands in his
material beforehand, has another member present it, and makes up later; a
member absent for health is handled flexibly (no requirement but an absence
reason); any other absence is made up too.
"""

from xlsheets.workbook import layout as L
from xlsheets.core.dates import shown
from xlsheets.core.registers import Sheet, blank, empty, header
from xlsheets.core.roles import leadership, text

MEETING, ANNOUNCED, HELD, _ = L.MeetingCol
NAME, WHICH, STATUS, REASON, HANDED_IN, PRESENTER, MAKEUP, _ = L.AttendanceCol


def check(defs, grids, people, ranges, out, fixes):
    """Both meetings' dates and every attendance row."""
    mt = defs.process.meetings
    if L.MEETINGS not in grids.sheets:
        return
    if not (header(L.MEETINGS, grids.registers.get("meetings", []), L.MEETING_HEADERS, out)
            and header(L.MEETINGS, grids.registers.get("attendance", []), L.ATTENDANCE_HEADERS,
                       out, L.ATTENDANCE_HEADER_ROW)):
        return
    sheet = Sheet(L.MEETINGS, L.MEETING_HEADERS, defs.year, out, fixes)
    rows = Sheet(L.MEETINGS, L.ATTENDANCE_HEADERS, defs.year, out, fixes)
    started = any(not blank(ln.values[c]) for ln in grids.meetings for c in (ANNOUNCED, HELD)) \
        or any(not blank(ln.values[c]) for ln in grids.attendance for c in range(STATUS, 8))
    if not started:
        empty(L.MEETINGS, "会议情况", "请填写支部专题组织生活会(和班子专题民主生活会)的公示日期、召开日期和每名党员的出席情况。",
              out, L.a1(L.MEETING_FIRST_ROW, ANNOUNCED))
        return
    leaders = leadership(defs, people)
    step = mt["step"] - 1
    held_on = {}
    for ln in grids.meetings:
        name = text(ln.values[MEETING])
        if name == mt["leadership"] and not leaders:
            continue
        announced, held = sheet.day(ln, ANNOUNCED), sheet.day(ln, HELD)
        for col, day in ((ANNOUNCED, announced), (HELD, held)):
            if day is None and blank(ln.values[col]):
                sheet.add("meeting-date-missing", ln.row, col, meeting=name,
                          label=L.MEETING_HEADERS[col])
        if held is None:
            continue
        held_on[name] = held
        if announced is not None and announced > held:
            sheet.add("meeting-announced-after", ln.row, ANNOUNCED, meeting=name,
                      announced=shown(announced), held=shown(held))
        elif announced is not None and (held - announced).days < defs.process.announce_days:
            sheet.add("meeting-announced-late", ln.row, ANNOUNCED, meeting=name,
                      announced=shown(announced), held=shown(held),
                      days=(held - announced).days, required=_days(defs))
        window = ranges[step]
        if window and not window[0] <= held <= window[1]:
            sheet.add("meeting-outside-schedule", ln.row, HELD, meeting=name, held=shown(held),
                      step=defs.steps[step].name,
                      range=f"{shown(window[0])}至{shown(window[1])}")
    for ln in grids.attendance:
        _attendance(defs, rows, ln, people, held_on)
    listed = {text(ln.values[NAME]) for ln in grids.attendance
              if text(ln.values[WHICH]) == mt["leadership"]}
    unlisted = [n for n in leaders if n not in listed]
    if unlisted:
        sheet.add("role-after-build", L.ATTENDANCE_HEADER_ROW, NAME, who="、".join(unlisted),
                  what=f"{mt['leadership']}出席情况")


def _attendance(defs, rows, ln, people, held_on):
    mt = defs.process.meetings
    name, which = text(ln.values[NAME]), text(ln.values[WHICH])
    if not name:
        return
    status = rows.choice(ln, STATUS, mt["attendance"], "attendance-missing", name=name,
                         meeting=which)
    if status != mt["absent"]:
        return
    reason = rows.choice(ln, REASON, mt["reasons"], "absence-reason-missing", name=name,
                         meeting=which)
    if not reason:
        return
    if reason == mt["official"]:
        if rows.choice(ln, HANDED_IN, (mt["yes"], "否")) != mt["yes"]:
            rows.add("absence-no-material", ln.row, HANDED_IN, name=name, yes=mt["yes"])
        presenter = text(ln.values[PRESENTER])
        if not presenter:
            rows.add("absence-no-presenter", ln.row, PRESENTER, name=name)
        elif presenter == name or presenter not in people.rows:
            rows.add("absence-presenter-bad", ln.row, PRESENTER, value=presenter)
    makeup, held = rows.day(ln, MAKEUP), held_on.get(which)
    if makeup is None:
        if reason != mt["health"] and blank(ln.values[MAKEUP]):
            rows.add("absence-no-makeup", ln.row, MAKEUP, name=name, meeting=which, reason=reason)
    elif held is not None and makeup < held:
        rows.add("absence-makeup-early", ln.row, MAKEUP, makeup=shown(makeup), held=shown(held))


def _days(defs):
    n = defs.process.announce_days
    return "两" if n == 2 else str(n)
