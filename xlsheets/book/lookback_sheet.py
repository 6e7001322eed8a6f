"""回头看录入 and 附件5: returned look-back ballots and their item means (R9)."""

from .. import layout as L
from .formats import a4, protect, score_column


def write_entry(wb, ctx):
    """One row per returned 附件5 ballot; returns the 0-based last row."""
    d, f = ctx.defs, ctx.fmt
    items = d.lookback_items
    ws = wb.add_worksheet(L.LOOKBACK_ENTRY)
    ws.write_string(0, 0, "票号", f.header)
    for c, item in enumerate(items, start=1):
        ws.write_string(0, c, item.name, f.header)
    ws.set_row(0, 75)
    ws.set_column(0, 0, 6)
    ws.set_column(1, len(items), 11)
    ws.freeze_panes(1, 1)
    rows = max(ctx.plan.lookback, len(ctx.entries.lookback))
    for i in range(rows):
        r = L.LOOKBACK_FIRST_ROW + i
        ws.write_number(r, 0, i + 1, f.name_entry)
        typed = ctx.entries.lookback[i] if i < len(ctx.entries.lookback) else []
        for c in range(1, len(items) + 1):
            v = typed[c - 1] if c - 1 < len(typed) else None
            if v is None:
                ws.write_blank(r, c, None, f.entry)
            else:
                ws.write_number(r, c, v, f.entry)
    last = L.LOOKBACK_FIRST_ROW + rows - 1
    for c, item in enumerate(items, start=1):
        score_column(ws, f, L.LOOKBACK_FIRST_ROW, last, c, item, "测评分", "测评分")
    a4(ws, landscape=True, repeat=(0, 0), area=(0, 0, last, len(items)))
    protect(ws)
    return last


def write_form(wb, ctx, entry_last, result):
    """附件5: 项目 | 标准分 | 测评分 (mean of the entries) | 备注, and 合计."""
    d, f = ctx.defs, ctx.fmt
    lb = d.lookback
    ws = wb.add_worksheet(L.LOOKBACK_FORM)
    ws.set_column(0, 0, 40)
    ws.set_column(1, 2, 10)
    ws.set_column(3, 3, 16)
    ws.write_string(0, 0, "附件5", f.subtitle)
    ws.set_row(1, 48)
    ws.merge_range(1, 0, 1, 3, lb["title"], f.title)
    for c, h in enumerate(lb["headers"]):
        ws.write_string(2, c, h, f.header)
    first = L.LOOKBACK_FORM_FIRST_ROW
    for k, item in enumerate(d.lookback_items):
        r = first + k
        ws.set_row(r, 26)
        ws.write_string(r, 0, item.name, f.text)
        ws.write_number(r, 1, item.max, f.int)
        end = max(entry_last, L.LOOKBACK_LAST_ROW)
        col = L.ref(L.LOOKBACK_ENTRY, (L.LOOKBACK_FIRST_ROW, k + 1), (end, k + 1))
        mean = result.means[k]
        ws.write_formula(r, 2, f'=IF(COUNT({col})=0,"",AVERAGE({col}))', f.score,
                         "" if mean is None else float(mean))
        ws.write_blank(r, 3, None, f.text)
    total = first + len(d.lookback_items)
    ws.set_row(total, 26)
    ws.write_string(total, 0, lb["total_label"], f.label)
    span = f"{L.a1(first, 1)}:{L.a1(total - 1, 1)}"
    ws.write_formula(total, 1, f"=SUM({span})", f.int, sum(i.max for i in d.lookback_items))
    span = f"{L.a1(first, 2)}:{L.a1(total - 1, 2)}"
    ws.write_formula(total, 2, f'=IF(COUNT({span})=0,"",SUM({span}))', f.score,
                     "" if result.total is None else float(result.total))
    ws.write_blank(total, 3, None, f.text)
    ws.set_row(total + 1, 30)
    ws.merge_range(total + 1, 0, total + 1, 3, lb["note"], f.note)
    a4(ws, area=(0, 0, total + 1, 3))
    protect(ws)
