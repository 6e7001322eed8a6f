"""Who is who in a branch: the roles that “五个必须谈” (R18) and the review chain (R17) name.

The roster's 角色 column says who is the town secretary (镇党委负责人), the
leadership members (班子成员), the department heads (部门负责人) and the
branch secretary (支部书记); 分管领导 says which leadership member supervises
a department head; 群众反映问题较多 flags the comrades the masses raised many
problems about. Pure: takes the 名册 rows as read, returns ``People`` and
findings on the 名册 cells.
"""

import re
from dataclasses import dataclass, field

from xlsheets.workbook import layout as L
from xlsheets.core.findings import finding

# Clerks separate names and roles with 、 (the form's own), commas, semicolons or
# slashes, in half- or full-width, or with spaces, which a name itself may hold
# (“周　平”, padded to line up with three-character names).
_SEPARATORS = re.compile(r"[、,，;；/／]+")
_SPACES = re.compile(r"[\s\u3000]+")


def split_names(value, known=()):
    """The names in a cell, in order, without blanks: ``'张三,李四 '`` -> ``['张三', '李四']``.

    A part with spaces inside is one name when ``known`` has it, else several.
    """
    if value is None:
        return []
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    out = []
    for part in _SEPARATORS.split(str(value)):
        part = part.strip()
        if part in known or not _SPACES.search(part):
            out += [part] if part else []
        else:
            out += [n for n in _SPACES.split(part) if n]
    return out


def text(value):
    """A cell as trimmed text; '' for blank."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


@dataclass
class People:
    """The roster's names and roles, as the checks of steps 3 and 4 need them."""

    names: list  # roster order
    rows: dict = field(default_factory=dict)  # name -> 0-based 名册 row
    roles: dict = field(default_factory=dict)  # name -> set of role labels
    supervisor: dict = field(default_factory=dict)  # department head -> leadership member
    flagged: list = field(default_factory=list)  # 群众反映问题较多, roster order

    def having(self, role):
        """Members holding ``role``, in roster order."""
        return [n for n in self.names if role in self.roles.get(n, ())]

    def has(self, name, role):
        return role in self.roles.get(name, ())


def people(defs, lines, out):
    """Read the 名册 role columns (``grids.roles``); report bad cells into ``out``."""
    p = defs.process
    known = set(p.roles)
    names = [text(line.values[0]) for line in lines]
    result = People(names=[n for n in names if n])
    for line, name in zip(lines, names):
        if not name:
            continue
        result.rows[name] = line.row
        role_cell, boss_cell, flag_cell = (list(line.values[1:4]) + [None] * 3)[:3]
        roles = set()
        for role in split_names(role_cell):
            if role in known:
                roles.add(role)
            else:
                out.append(finding("role-unknown", L.ROSTER, L.a1(line.row, L.ROSTER_ROLE_COL),
                                   value=role, roles="、".join(p.roles)))
        result.roles[name] = roles
        flag = text(flag_cell)
        if flag == p.flag_value:
            result.flagged.append(name)
        elif flag not in ("", "否"):
            out.append(finding("role-flag-bad", L.ROSTER, L.a1(line.row, L.RosterCol.FLAG),
                               value=flag, flag=p.flag_value))
        boss = text(boss_cell)
        if boss:
            result.supervisor[name] = boss
    leaders = set(result.having(p.leader)) | set(result.having(p.secretary))
    for name, boss in result.supervisor.items():
        if boss not in leaders:
            out.append(finding("role-supervisor-unknown", L.ROSTER,
                               L.a1(result.rows[name], L.RosterCol.BOSS), value=boss))
    return result


def leadership(defs, people):
    """The town leadership in this roster: its secretary and members (roster order)."""
    p = defs.process
    return [n for n in people.names if people.has(n, p.secretary) or people.has(n, p.leader)]
