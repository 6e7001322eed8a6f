"""The checks of the nine steps beyond the ballots: schedule, registers, roles.

One entry point for ``checks.check``: it runs R13-R18 and the register
checks on ``Grids``, putting findings and write-backs (cells typed in a form
the formulas cannot match) where the caller says; ``summary`` gives the town
summary's row of one branch.
"""

from dataclasses import dataclass, field

from xlsheets.core import checklist, materials, meetings, opinions, roles, schedule, talks
from xlsheets.workbook import layout as L
from xlsheets.core.findings import finding
from xlsheets.core.registers import header


@dataclass
class Registers:
    """What the step checks hand on: how many rows the counted registers hold."""

    rows: dict = field(default_factory=dict)  # register sheet -> rows typed (opinions, talks)


def check(defs, unit, grids, out, fixes, counted=None):
    """Run the step checks on ``grids``; findings into ``out``, write-backs into ``fixes``."""
    ranges = list(unit.ranges)
    if grids.schedule:
        typed = schedule.check(defs, unit, grids.schedule_steps, grids.schedule, out)
        ranges = [t or u for t, u in zip(typed, unit.ranges)]
    people = roles.people(defs, grids.roles, out) if grids.roles else roles.People([])
    if grids.roles and L.ROSTER in grids.sheets:
        header(L.ROSTER, grids.registers.get("roles", []),
               L.ROSTER_HEADERS, out, row=0)
    opinions.check(defs, grids, people, ranges, out, fixes)
    talked = talks.check(defs, grids, people, out, fixes)
    written = materials.check(defs, unit, grids, people, out, fixes, counted)
    meetings.check(defs, grids, people, ranges, out, fixes)
    checklist.check(defs, grids, out, fixes)
    if talked or written:  # the rules that name roles are in use
        _roles_named(defs, people, out)
    return Registers(rows={L.OPINIONS: len(grids.opinions), L.TALKS: len(grids.talks)})


def _roles_named(defs, people, out):
    """The roles the talk and review rules need, if the roster names none."""
    p = defs.process
    cell = L.a1(0, L.ROSTER_ROLE_COL)
    if people.having(p.leader) and not people.having(p.secretary):
        out.append(finding("role-missing", L.ROSTER, cell, role=p.secretary,
                           what="“五个必须谈”和班子党性分析材料的审阅"))
    if not people.having(p.branch_secretary):
        out.append(finding("role-missing", L.ROSTER, cell, role=p.branch_secretary,
                           what="支部书记谈心和党员党性分析材料的审阅"))


# The town summary's 各环节情况: per branch, what its registers hold and what is
# missing, as counts of rows and of findings by code.
SUMMARY_COLUMNS = (
    ("工作日程", None),
    ("征求意见(条)", "opinions"),
    ("意见未按时反馈(条)", ("opinion-not-fed-back", "opinion-fed-back-late")),
    ("谈心(次)", "talks"),
    ("必须谈未谈(项)", ("talk-must-missing",)),
    ("应谈未谈(项)", ("talk-should-missing",)),
    ("党性分析材料未达要求(份)", ("material-length-missing", "material-too-short",
                             "material-exempt-no-record", "material-exempt-not-allowed")),
    ("审阅问题(项)", ("material-reviewer-missing", "material-reviewer-wrong",
                    "material-self-review", "material-not-signed", "material-returned")),
    ("会议公示不足(次)", ("meeting-announced-late",)),
    ("缺席未补课(人)", ("absence-no-makeup",)),
    ("四查四看", None),
)


def summary(defs, unit, findings, steps):
    """One branch's row of 各环节情况: [value per ``SUMMARY_COLUMNS``, 错误, 提醒].

    ``steps`` is the ``Registers`` that ``check`` returned (``Checked.registers``).

    ``findings`` are dicts (as ``Finding.as_dict``); a register not started
    shows 未填写 instead of counts that would read as “nothing missing”.
    """
    codes = [f["code"] for f in findings]
    blank = {f["sheet"] for f in findings if f["code"] == "register-empty"}
    schedule_sheet = L.schedule_sheet(unit)
    on_schedule = [f for f in findings if f["sheet"] == schedule_sheet]
    if any(f["severity"] == "error" for f in on_schedule):
        plan = "有误"
    elif "schedule-empty" in codes:
        plan = "未填写"
    elif "schedule-too-short" in codes:
        plan = "不足一个月"
    else:
        plan = "符合要求"
    sheet_of = {"opinions": L.OPINIONS, "talks": L.TALKS}
    row = []
    for label, what in SUMMARY_COLUMNS:
        if label == "工作日程":
            row.append(plan)
        elif label == "四查四看":
            row.append(_checklist(codes, L.CHECKLIST in blank))
        elif isinstance(what, str):
            sheet = sheet_of[what]
            row.append("未填写" if sheet in blank else steps.rows.get(sheet, 0))
        else:
            sheets = {_sheet_of(c) for c in what}
            row.append("未填写" if sheets & blank else sum(codes.count(c) for c in what))
    steps = [f for f in findings if f["sheet"] in L.STEP_SHEETS or f["sheet"] == schedule_sheet]
    errors = sum(f["severity"] == "error" for f in steps)
    return row + [errors, len(steps) - errors]


def _sheet_of(code):
    return {"opinion": L.OPINIONS, "talk": L.TALKS, "material": L.MATERIALS,
            "meeting": L.MEETINGS, "absence": L.MEETINGS}[code.split("-")[0]]


def _checklist(codes, blank):
    if blank:
        return "未填写"
    failed = codes.count("checklist-failed")
    missing = codes.count("checklist-result-missing")
    if missing:
        return f"{missing} 项未填"
    return f"{failed} 项不符合要求" if failed else "符合要求"
