"""``xlsheets split``: one town roster into one branch workbook per 支部.

The town roster has the columns 姓名, 职务 and 支部; each 支部 gets its own
workbook, named after it, ready to attach to an email. A 支部 the definitions
give no schedule gets a schedule to fill in, and the caller is told. With a
password every workbook is written encrypted (and proven to open with it).
Nothing is written while any of the target files is open in Excel or WPS.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from xlsheets import writer as book
from xlsheets.disk import crypto
from xlsheets.errors import RosterError
from xlsheets.disk.fileio import refuse_if_open
from xlsheets.files.roster import Roster, read_roster

BRANCH = "支部"
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')  # not allowed in Windows file names


@dataclass(frozen=True)
class Branch:
    name: str
    path: Path
    members: int
    scheduled: bool
    workbook_id: str


def branches(roster):
    """Split a town ``Roster`` by its 支部 column, keeping file order."""
    if BRANCH not in roster.columns:
        raise RosterError(roster.path, f"缺少“{BRANCH}”列,无法按党支部拆分;找到的列是:"
                                       f"{'、'.join(roster.columns)}")
    groups = {}
    for m in roster.members:
        branch = dict(m.extra).get(BRANCH, "").strip()
        if not branch:
            raise RosterError(roster.path, f"“{m.name}”的“{BRANCH}”为空,请填写所在党支部",
                              row=m.row)
        groups.setdefault(branch, []).append(m)
    columns = tuple(c for c in roster.columns if c != BRANCH)
    return {b: Roster(roster.path, columns, tuple(
        type(m)(m.name, m.duty, tuple(kv for kv in m.extra if kv[0] != BRANCH), m.row)
        for m in ms)) for b, ms in groups.items()}


def file_name(town, branch):
    """A file name that carries the 支部 and is valid on Windows, macOS and Linux."""
    return f"{town}_{_UNSAFE.sub('_', branch).strip(' .')}_民主评议工作簿.xlsx"


def split(defs, roster_path, outbox, created=None, password=None):
    """Write one branch workbook per 支部 into ``outbox``; return the ``Branch`` list.

    password: an opening password for every workbook (agile encryption); None for plain.
    """
    crypto.check_password(password)
    roster = read_roster(roster_path)
    outbox = Path(outbox)
    plan, used = [], set()
    for name, members in branches(roster).items():
        path = outbox / file_name(defs.town, name)
        n = 1
        while path.name.casefold() in used:  # 新村:一组 and 新村?一组 must not share a file
            n += 1
            path = outbox / file_name(defs.town, f"{name}_{n}")
        used.add(path.name.casefold())
        plan.append((name, members, path))
    for _, _, path in plan:  # an open target stops the split before anything is written
        refuse_if_open(path)
    written = []
    for name, members, path in plan:
        unit = defs.unit_or_unscheduled(name)
        identity = book.build(defs, unit, members, path, created=created, password=password)
        written.append(Branch(name, path, len(members.members), unit.scheduled,
                              identity["workbook_id"]))
    return written
