"""The 工作日程表 checks (R13, R14): nine steps in order, dates that parse, a month at least.

Pure: takes the step names and date texts as the workbook shows them and
returns the parsed ranges (None where a text does not parse); problems go
into the findings list on the schedule sheet's cells.
"""

import calendar
import datetime as dt

from xlsheets.workbook import layout as L
from xlsheets.core.dates import parse_range, shown
from xlsheets.core.findings import finding


def check(defs, unit, steps, texts, out):
    """R13 and R14 on one unit's schedule; returns [(start, end) or None] per step."""
    sheet = L.schedule_sheet(unit)
    row = lambda k: L.SCHEDULE_FIRST_ROW + k  # noqa: E731
    for k, (want, got) in enumerate(zip(defs.steps, steps)):
        if got != want.name:
            out.append(finding("schedule-step-changed", sheet, L.a1(row(k), 0), n=k + 1,
                               expected=want.name, actual=got))
    if texts and all(not t for t in texts):
        out.append(finding("schedule-empty", sheet, L.a1(row(0), 1)))
        return [None] * len(defs.steps)
    ranges, previous = [], None
    for k, (step, typed) in enumerate(zip(defs.steps, texts)):
        cell = L.a1(row(k), 1)
        rng = parse_range(typed, defs.year) if typed else None
        if not typed:
            out.append(finding("schedule-date-missing", sheet, cell, step=step.name))
        elif rng is None:
            out.append(finding("schedule-date-bad", sheet, cell, step=step.name, text=typed))
        elif rng[1] < rng[0]:
            out.append(finding("schedule-date-reversed", sheet, cell, step=step.name, text=typed))
            rng = None
        if rng is not None:
            if previous is not None and rng[0] < previous[1][0]:
                out.append(finding("schedule-out-of-order", sheet, cell, step=step.name,
                                   start=shown(rng[0]), previous=previous[0],
                                   previous_start=shown(previous[1][0])))
            previous = (step.name, rng)
        ranges.append(rng)
    known = [r for r in ranges if r is not None]
    if len(known) == len(ranges) and known:
        first, last = known[0][0], max(r[1] for r in known)
        needed = add_months(first, defs.process.phase_months) - dt.timedelta(days=1)
        if last < needed:
            out.append(finding("schedule-too-short", sheet, L.a1(row(len(ranges) - 1), 1),
                               start=shown(first), end=shown(last),
                               days=(last - first).days + 1, months=_months(defs),
                               needed=shown(needed)))
    return ranges


def add_months(day, months):
    """``day`` plus whole calendar months, clamped to the month's end (1月31日 + 1 = 2月28日)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _months(defs):
    n = defs.process.phase_months
    return "一" if n == 1 else str(n)
