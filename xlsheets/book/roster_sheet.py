"""名册: the roster as given, every column kept; names are the list for drop-downs."""

from .. import layout as L
from .formats import a4


def write(wb, ctx):
    """Write the roster; set ``ctx.roster_names_ref`` to the names' range."""
    f, roster = ctx.fmt, ctx.roster
    ws = wb.add_worksheet(L.ROSTER)
    columns = ["姓名", "职务", *(c for c in roster.columns if c not in ("姓名", "职务"))]
    for c, h in enumerate(columns):
        ws.write_string(0, c, h, f.header)
        ws.set_column(c, c, 14)
    for r, m in enumerate(roster.members, start=1):
        values = {"姓名": m.name, "职务": m.duty, **dict(m.extra)}
        for c, h in enumerate(columns):
            ws.write_string(r, c, values.get(h, ""), f.text)
    last = len(roster.members)
    ws.freeze_panes(1, 1)
    ctx.roster_names_ref = "=" + L.ref(L.ROSTER, (1, 0), (last, 0))
    a4(ws, repeat=(0, 0), area=(0, 0, last, len(columns) - 1))
