"""The checks of the nine steps beyond the ballots: schedule, registers, roles.

One entry point for ``checks.check``: it runs R13-R18 and the register
checks on ``Grids`` and returns what compute writes back: the fixes (cells
typed in a form the formulas cannot match) and the talk matrix.
"""

from dataclasses import dataclass, field

from . import checklist, layout as L, materials, meetings, opinions, roles, schedule, talks
from .findings import finding
from .registers import header


@dataclass
class Process:
    """What the process checks found: per step whether its register is started."""

    ranges: list  # (start, end) or None per step, from the workbook's schedule
    started: dict = field(default_factory=dict)  # register sheet -> bool
    people: object = None  # roles.People


def check(defs, unit, grids, out, fixes, counted=None):
    """Run the step checks on ``grids``; findings into ``out``, write-backs into ``fixes``."""
    ranges = list(unit.ranges)
    if grids.schedule:
        typed = schedule.check(defs, unit, grids.schedule_steps, grids.schedule, out)
        ranges = [t or u for t, u in zip(typed, unit.ranges)]
    people = roles.people(defs, grids.roles, out) if grids.roles else roles.People([])
    if grids.roles and L.ROSTER in grids.sheets:
        header(L.ROSTER, grids.registers.get("roles", []),
               ["姓名", "职务", *L.ROSTER_ROLE_HEADERS], out, row=0)
    result = Process(ranges, people=people)
    opinions.check(defs, grids, people, ranges, out, fixes)
    result.started[L.OPINIONS] = bool(grids.opinions)
    result.started[L.TALKS] = talks.check(defs, grids, people, out, fixes)
    result.started[L.MATERIALS] = materials.check(defs, grids, people, out, fixes, counted)
    result.started[L.MEETINGS] = meetings.check(defs, grids, people, ranges, out, fixes)
    result.started[L.CHECKLIST] = checklist.check(defs, grids, out, fixes)
    if result.started[L.TALKS] or result.started[L.MATERIALS]:
        _roles_named(defs, people, out)
    return result


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
