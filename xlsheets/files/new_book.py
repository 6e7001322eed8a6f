"""A new branch workbook from a roster: the one flow behind ``xlsheets new`` and 新建工作簿.

Both shells ask for the same things and refuse the same things with the same words; only
their defaults differ (the ribbon names the file after the unit beside the roster and never
overwrites, since a clerk may click twice; the command line writes where it is told).
"""

from pathlib import Path

from xlsheets import writer
from xlsheets.disk.fileio import refuse_if_open
from xlsheets.errors import UsageError
from xlsheets.files.roster import read_roster
from xlsheets.workbook import layout as L


def default_path(unit, roster_path):
    """Where 新建工作簿 puts a workbook when the clerk names none: beside the roster."""
    return Path(roster_path).with_name(f"{unit.name}_民主评议工作簿.xlsx")


def unit_named(defs, name):
    """The unit ``name`` of ``defs``; UsageError listing the units when there is none."""
    unit = defs.unit((name or "").strip())
    if unit is None:
        known = "、".join(u.name for u in defs.units)
        raise UsageError(f"没有单位“{name}”;定义集 {defs.id} 中可选的单位有:{known}",
                         code="unit-unknown")
    return unit


def output_path(unit, roster_path, out):
    """The file to write: ``out``, or beside the roster; UsageError unless it is an .xlsx."""
    out = Path(out) if out else default_path(unit, roster_path)
    if out.suffix.lower() != ".xlsx":
        raise UsageError(f"要生成的文件 {out} 应以 .xlsx 结尾。", code="output-not-xlsx")
    return out


def new_book(defs, unit_name, roster_path, out=None, *, plan=None, overwrite=True,
             book_id=None, created=None, password=None):
    """Build the workbook of ``unit_name`` for the roster at ``roster_path``; returns
    (path, unit, roster, identity). ``plan`` maps the roster to a BallotPlan (default:
    ``layout.default_plan``)."""
    unit = unit_named(defs, unit_name)
    out = output_path(unit, roster_path, out)
    roster = read_roster(roster_path)
    if not overwrite and out.exists():
        raise UsageError(f"文件 {out} 已经存在。为免覆盖已填写的内容,请先把它改名或移走,再新建。",
                         code="output-exists")
    refuse_if_open(out)
    ballots = plan(roster) if plan else L.default_plan(defs.groups, len(roster.members))
    identity = writer.build(defs, unit, roster, out, plan=ballots, book_id=book_id,
                            created=created, password=password)
    return out, unit, roster, identity
