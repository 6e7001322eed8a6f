"""回头看录入 and 附件5: returned look-back ballots and their item means (R9)."""

from xlsheets.core import counted
from xlsheets.workbook import layout as L
from xlsheets.core.figures import cached, shown
from xlsheets.writer.formats import a4, protect, score_column
from xlsheets.writer.summary_sheet import shown_formula


def write_entry(wb, ctx):
    """One row per returned 附件5 ballot; returns the 0-based last row."""
    d, f = ctx.defs, ctx.fmt
    items = d.lookback_items
    ws = wb.add_worksheet(L.LOOKBACK_ENTRY)
    ballot, first = L.LookbackEntryCol.BALLOT, L.LookbackEntryCol.FIRST_SCORE
    last_col = first + len(items) - 1
    for c, h in enumerate([*L.LOOKBACK_FIXED_HEADERS, *(i.name for i in items)]):
        ws.write_string(0, c, h, f.header)
    ws.set_row(0, 75)
    # Every row down to LOOKBACK_LAST_ROW is counted and typeable; below it too
    # (the sentinel shows such rows, compute takes them in).
    ws.set_column(ballot, ballot, 6, f.loose)
    ws.set_column(first, last_col, 11, f.loose)
    ws.freeze_panes(1, first)
    rows = max(ctx.plan.lookback, len(ctx.entries.lookback))
    for i in range(rows):
        r = L.LOOKBACK_FIRST_ROW + i
        ws.write_number(r, ballot, i + 1, f.name_entry)
        typed = ctx.entries.lookback[i] if i < len(ctx.entries.lookback) else []
        for c in range(first, last_col + 1):
            v = typed[c - first] if c - first < len(typed) else None
            if v is None:
                ws.write_blank(r, c, None, f.entry)
            else:
                ws.write_number(r, c, v, f.entry)
    last = L.LOOKBACK_FIRST_ROW + rows - 1
    counted_last = max(last, L.LOOKBACK_LAST_ROW)
    for c, item in enumerate(items, start=first):
        score_column(ws, f, L.LOOKBACK_FIRST_ROW, counted_last, c, item, "测评分", "测评分")
    for name, text in counted.lookback_names(d, L.LOOKBACK_FIRST_ROW, counted_last).items():
        wb.define_name(name, f"={text}")
    sentinel = last_col + 1
    ws.set_column(sentinel, sentinel, 40)
    ws.write_formula(0, sentinel, counted.sentinel_formula(
        ws.name, L.lookback_name(None), len(items), "附件5"), f.sentinel, "")
    a4(ws, landscape=True, repeat=(0, 0), area=(0, 0, last, last_col))
    protect(ws)
    return counted_last


def write_form(wb, ctx, entry_last, result):
    """附件5: 项目 | 标准分 | 测评分 (mean of the entries) | 备注, and 合计."""
    d, f = ctx.defs, ctx.fmt
    lb = d.lookback
    ws = wb.add_worksheet(L.LOOKBACK_FORM)
    item_col, most, score, remark = L.LookbackFormCol
    ws.set_column(item_col, item_col, 40)
    ws.set_column(most, score, 10)
    ws.set_column(remark, remark, 16)
    ws.write_string(0, 0, "附件5", f.subtitle)
    ws.set_row(1, 48)
    ws.merge_range(1, item_col, 1, remark, lb["title"], f.title)
    for c, h in enumerate(lb["headers"]):
        ws.write_string(2, c, h, f.header)
    first = L.LOOKBACK_FORM_FIRST_ROW
    exact = L.LOOKBACK_EXACT_COL
    ws.set_column(exact, exact, 12, f.score, {"hidden": True})  # R8/R9: the exact means
    for k, item in enumerate(d.lookback_items):
        r = first + k
        ws.set_row(r, 26)
        ws.write_string(r, item_col, item.name, f.text)
        ws.write_number(r, most, item.max, f.int)
        col = L.lookback_name(k)
        mean = result.means[k]
        ws.write_formula(r, exact, f'=IF(COUNT({col})=0,"",AVERAGE({col}))', f.score,
                         cached(mean))
        ws.write_formula(r, score, shown_formula(L.a1(r, exact)), f.score, cached(shown(mean)))
        ws.write_blank(r, remark, None, f.text)
    total = first + len(d.lookback_items)
    ws.set_row(total, 26)
    ws.write_string(total, item_col, lb["total_label"], f.label)
    span = f"{L.a1(first, most)}:{L.a1(total - 1, most)}"
    ws.write_formula(total, most, f"=SUM({span})", f.int, sum(i.max for i in d.lookback_items))
    span = f"{L.a1(first, exact)}:{L.a1(total - 1, exact)}"  # R9: the unrounded means
    ws.write_formula(total, exact, f'=IF(COUNT({span})=0,"",SUM({span}))', f.score,
                     cached(result.total))
    ws.write_formula(total, score, shown_formula(L.a1(total, exact)), f.score,
                     cached(shown(result.total)))
    ws.write_blank(total, remark, None, f.text)
    ws.set_row(total + 1, 30)
    ws.merge_range(total + 1, item_col, total + 1, remark, lb["note"], f.note)
    ws.set_row(total + 2, 36)
    ws.merge_range(total + 2, item_col, total + 2, remark, "", f.sentinel)
    sentinel = L.LookbackEntryCol.FIRST_SCORE + len(d.lookback_items)  # 回头看录入's
    ws.write_formula(total + 2, item_col, f'={L.ref(L.LOOKBACK_ENTRY, (0, sentinel))}'
                     f'&""', f.sentinel, "")
    a4(ws, area=(0, 0, total + 2, remark))
    protect(ws)
