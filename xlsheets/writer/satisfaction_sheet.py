"""附件6: the masses' satisfaction (R10-R12).

Each count is an entry cell directly below its label; 合计, the shares
(占参评人员的 %) and 满意率 are formulas, the denominator always in view. A share
is rounded by its formula to 2 decimals of a percent (R12), so every program
shows the same digits.
"""

from xlsheets.workbook import layout as L
from xlsheets.core.figures import cached, share_shown
from xlsheets.writer.formats import a4, protect


def write(wb, ctx, result):
    d, f = ctx.defs, ctx.fmt
    sat = d.satisfaction
    cats, levels = sat["categories"], sat["levels"]
    span = L.SAT_LEVEL_SPAN
    label_col, total_col, first = L.SatCol
    last_col = max(first + len(cats) - 1, first + span * len(levels))
    ws = wb.add_worksheet(L.SATISFACTION)
    ws.set_column(label_col, label_col, 14)
    ws.set_column(total_col, last_col, 10.5)
    ws.write_string(0, 0, "附件6", f.subtitle)
    ws.set_row(L.SAT_TITLE_ROW, 48)
    ws.merge_range(L.SAT_TITLE_ROW, label_col, L.SAT_TITLE_ROW, last_col, sat["title"], f.title)

    r = L.SAT_UNIT_ROW
    ws.set_row(r, 30)
    ws.write_string(r, label_col, sat["unit_label"], f.label)
    ws.merge_range(r, total_col, r, last_col, ctx.unit.name, f.text_center)

    lr, cr = L.SAT_CATEGORY_LABEL_ROW, L.SAT_CATEGORY_ROW
    ws.merge_range(lr, label_col, cr, label_col, sat["participants_label"], f.label)
    ws.set_row(lr, 60)
    ws.set_row(cr, 30)
    ws.write_string(lr, total_col, sat["total_label"], f.header)
    first_cat, last_cat = L.a1(cr, first), L.a1(cr, first + len(cats) - 1)
    ws.write_formula(cr, total_col, f"=SUM({first_cat}:{last_cat})", f.int, result.total)
    counts = ctx.entries.categories or [None] * len(cats)
    for c, (text, n) in enumerate(zip(cats, counts), start=first):
        ws.write_string(lr, c, text, f.header)
        _entry(ws, cr, c, n, f.entry)
    ws.data_validation(cr, first, cr, first + len(cats) - 1, _whole(sat["participants_label"]))
    for c in range(first + len(cats), last_col + 1):
        ws.write_blank(lr, c, None, f.header)
        ws.write_blank(cr, c, None, f.text)

    ll, vr, sr = L.SAT_LEVEL_LABEL_ROW, L.SAT_LEVEL_ROW, L.SAT_SHARE_ROW
    ws.merge_range(ll, label_col, sr, label_col, sat["result_label"], f.label)
    ws.merge_range(ll, total_col, vr, total_col, sat["levels_label"], f.label)
    ws.write_string(sr, total_col, sat["share_label"], f.label)
    ws.set_row(ll, 30)
    ws.set_row(vr, 30)
    ws.set_row(sr, 30)
    total = L.a1(cr, total_col, absolute=True)
    values = ctx.entries.levels or [None] * len(levels)
    level_cells = []
    for k, (text, n) in enumerate(zip(levels, values)):
        c = first + span * k
        ws.merge_range(ll, c, ll, c + span - 1, text, f.header)
        ws.merge_range(vr, c, vr, c + span - 1, None, f.entry)
        _entry(ws, vr, c, n, f.entry)
        ws.data_validation(vr, c, vr, c, _whole(text))
        share = result.shares[k]
        ws.merge_range(sr, c, sr, c + span - 1, None, f.percent)
        ws.write_formula(sr, c, f'=IF({total}=0,"",ROUND({L.a1(vr, c)}/{total},4))',
                         f.percent, cached(share_shown(share)))
        level_cells.append(L.a1(vr, c))
    rc = first + span * len(levels)
    ws.write_string(ll, rc, sat["rate_label"], f.header)
    ws.merge_range(vr, rc, sr, rc, None, f.percent)
    rated = "+".join(level_cells[:2])
    ws.write_formula(vr, rc, f'=IF({total}=0,"",ROUND(({rated})/{total},4))', f.percent,
                     cached(share_shown(result.rate)))
    for c in range(rc + 1, last_col + 1):
        for row in (ll, vr, sr):
            ws.write_blank(row, c, None, f.text)

    r = sr + 1
    for text in (sat["signature_label"], sat["review_label"]):
        ws.set_row(r, 90)
        ws.write_string(r, label_col, text, f.label)
        ws.merge_range(r, total_col, r, last_col, "", f.entry_box)
        r += 1
    a4(ws, landscape=True, area=(0, label_col, r - 1, last_col))
    protect(ws)


def _entry(ws, row, col, value, fmt):
    if value is None:
        ws.write_blank(row, col, None, fmt)
    else:
        ws.write_number(row, col, value, fmt)


def _whole(label):
    return {"validate": "integer", "criteria": ">=", "value": 0,
            "input_title": label, "input_message": "请输入人数(不小于 0 的整数)",
            "error_title": "人数有误", "error_message": "人数应为不小于 0 的整数。"}
