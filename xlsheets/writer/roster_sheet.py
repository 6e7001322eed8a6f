"""名册: the roster as given, its three role columns to fill, names for drop-downs.

姓名 | 职务 | 角色 | 分管领导 | 群众反映问题较多 | every other column of the roster
file. The role columns come from the file when it has them and stay entry
cells, since “五个必须谈” and the review chain of step 4 are read from them.
"""

from xlsheets.workbook import layout as L
from xlsheets.core import roles
from xlsheets.workbook.grids import Line
from xlsheets.writer.formats import a4, choice, header_row, protect, put

_WIDTHS = {"姓名": 10, "职务": 20, "角色": 22, "分管领导": 12, "群众反映问题较多": 12}


def people(defs, roster):
    """The roster file's names and roles as ``roles.People`` (bad role texts ignored)."""
    lines = [Line(r, [m.name, *(dict(m.extra).get(h) for h in L.ROSTER_ROLE_HEADERS)])
             for r, m in enumerate(roster.members, start=L.ROSTER_FIRST_ROW)]
    return roles.people(defs, lines, [])


def leadership(defs, roster):
    """The town leadership the roster names (镇党委负责人, 班子成员), roster order."""
    return roles.leadership(defs, people(defs, roster))


def write(wb, ctx):
    """Write the roster; set ``ctx.roster_names_ref`` to the names' range."""
    f, roster, p = ctx.fmt, ctx.roster, ctx.defs.process
    ws = wb.add_worksheet(L.ROSTER)
    fixed = L.ROSTER_HEADERS
    columns = [*fixed, *(c for c in roster.columns if c not in fixed)]
    header_row(ws, f, 0, columns)
    for c, h in enumerate(columns):
        ws.set_column(c, c, _WIDTHS.get(h, 14))
    role_cols = range(L.ROSTER_ROLE_COL, L.ROSTER_ROLE_COL + len(L.ROSTER_ROLE_HEADERS))
    for r, m in enumerate(roster.members, start=L.ROSTER_FIRST_ROW):
        values = {"姓名": m.name, "职务": m.duty, **dict(m.extra)}
        for c, h in enumerate(columns):
            put(ws, r, c, values.get(h, ""), f.entry_text if c in role_cols else f.text)
    last = L.ROSTER_FIRST_ROW + len(roster.members) - 1
    ctx.roster_names_ref = "=" + L.ref(L.ROSTER, (L.ROSTER_FIRST_ROW, L.RosterCol.NAME),
                                       (last, L.RosterCol.NAME))
    if roster.members:
        _validate_roles(ws, p, last, ctx.roster_names_ref)
    ws.freeze_panes(1, 1)
    a4(ws, landscape=len(columns) > 6, repeat=(0, 0), area=(0, 0, max(last, 1), len(columns) - 1))
    protect(ws)


def _validate_roles(ws, p, last, names_ref):
    """Prompts and drop-downs of 角色, 分管领导 and 群众反映问题较多."""
    role, boss, flag = L.RosterCol.ROLE, L.RosterCol.BOSS, L.RosterCol.FLAG
    first = L.ROSTER_FIRST_ROW
    ws.data_validation(first, role, last, role, {
        "validate": "any", "input_title": "角色",
        "input_message": f"可填:{'、'.join(p.roles)}。一人有多个角色时用“、”分隔;"
                         "普通党员留空。",
    })
    choice(ws, first, last, boss, names_ref, "分管领导",
           f"{p.head}填写分管他的{p.leader}姓名,从名册中选择;其他人留空。",
           error=f"分管领导应为名册中的{p.secretary}或{p.leader},请核对。", strict=False)
    choice(ws, first, last, flag, [p.flag_value, "否"], "群众反映问题较多",
           f"群众反映问题较多的同志填“{p.flag_value}”,其他人留空。",
           error=f"只能填“{p.flag_value}”“否”或留空。")
