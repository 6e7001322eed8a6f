"""附件3: the printable ballot, and one entry sheet per rater group.

Entry sheets hold one table: ``票号 | 党员姓名 | <items> | 合计``, one row per
(ballot, member rated), ballot numbers and names pre-filled so the clerk types
numbers only. 合计 is a formula that refuses half-filled and out-of-range rows.
"""

from xlsheets.core import counted
from xlsheets.workbook import layout as L
from xlsheets.core.cells import total_formula
from xlsheets.core.figures import cached
from xlsheets.writer.formats import a4, protect, score_column
from xlsheets.writer.intro import PLAIN_RULE, averaging_rule



SEED_RULE = "(计算平均分时,不去最高和最低分)"


def ballot_note(defs, unit):
    """附件3's note in the set's words, with the unit's own averaging rule where the unit
    trims: the printed form must not tell its clerks the seed's rule."""
    note, rule = defs.ballot["note"], averaging_rule(defs.groups, unit)
    if rule == PLAIN_RULE:
        return note
    return note.replace(SEED_RULE, rule) if SEED_RULE in note else note + rule


def write_form(wb, ctx):
    """附件3 测评表: title, two header rows, one blank row per member, the note."""
    d, f = ctx.defs, ctx.fmt
    items, n = d.items, len(d.items)
    ws = wb.add_worksheet(L.BALLOT_FORM)
    last = n + 1
    ws.set_column(0, 0, 12)
    ws.set_column(1, n, 7.5)
    ws.set_column(last, last, 7)
    ws.write_string(0, 0, "附件3", f.subtitle)
    ws.set_row(1, 36)
    ws.merge_range(1, 0, 1, last, d.ballot["title"], f.title)
    ws.merge_range(2, 0, 4, 0, d.ballot["name_header"], f.header)
    ws.merge_range(2, 1, 2, n, d.ballot["items_header"], f.header)
    ws.merge_range(2, last, 3, last, d.ballot["total_header"], f.header)
    ws.set_row(3, 30)
    for c, item in enumerate(items, start=1):
        ws.write_string(3, c, item.name, f.header)
        ws.write_number(4, c, item.max, f.header)
    ws.write_number(4, last, d.ballot_max, f.header)
    row = 5
    for m in ctx.members:
        ws.set_row(row, 24)
        ws.write_string(row, 0, m.name, f.text_center)
        for c in range(1, last + 1):
            ws.write_blank(row, c, None, f.text_center)
        row += 1
    ws.set_row(row, 48)
    ws.merge_range(row, 0, row, last, ballot_note(d, ctx.unit), f.note)
    a4(ws, repeat=(1, 4), area=(0, 0, row, last))
    protect(ws)


def write_entry(wb, ctx, group):
    """One rater group's entry sheet; returns the 0-based last data row."""
    d, f = ctx.defs, ctx.fmt
    items, n = d.items, len(d.items)
    total_col = L.entry_total_col(items)
    ws = wb.add_worksheet(L.entry_sheet(group))
    for c, h in enumerate(L.entry_headers(items, d.ballot["total_header"])):
        ws.write_string(0, c, h, f.header)
    ws.set_row(0, 30)
    # Below the table the cells stay typeable (the columns' format is unlocked): a
    # ballot typed there is shown by the sentinel and taken in by compute, never lost.
    ballot, name_col, first = L.EntryCol.BALLOT, L.EntryCol.NAME, L.EntryCol.FIRST_SCORE
    ws.set_column(ballot, ballot, 6, f.loose)
    ws.set_column(name_col, name_col, 12, f.loose)
    ws.set_column(first, total_col - 1, 9, f.loose)
    ws.set_column(total_col, total_col, 9)
    ws.freeze_panes(1, first)

    rows = ctx.rows[group.key]
    totals = ctx.figures.entry_totals[group.key]
    for i, ((number, name, scores), total) in enumerate(zip(rows, totals)):
        row = L.ENTRY_FIRST_ROW + i
        if number is None:
            ws.write_blank(row, ballot, None, f.name_entry)
            ws.write_blank(row, name_col, None, f.name_entry)
        else:
            ws.write_number(row, ballot, number, f.name_entry)
            ws.write_string(row, name_col, name, f.name_entry)
        for c, v in enumerate(scores, start=first):
            if v is None:
                ws.write_blank(row, c, None, f.entry)
            elif isinstance(v, str):
                ws.write_string(row, c, v, f.entry)
            else:
                ws.write_number(row, c, v, f.entry)
        ws.write_formula(row, total_col, total_formula(row, items), f.int, cached(total))
    last = L.ENTRY_FIRST_ROW + len(rows) - 1

    for c, item in enumerate(items, start=first):
        score_column(ws, f, L.ENTRY_FIRST_ROW, last, c, item, "分数", item.name)
    r0 = L.ENTRY_FIRST_ROW + 1
    ws.conditional_format(L.ENTRY_FIRST_ROW, ballot, last, total_col, {
        "type": "formula", "format": f.half,
        "criteria": f"=AND(COUNTA(${L.col(first)}{r0}:${L.col(total_col - 1)}{r0})>0,"
                    f"COUNT(${L.col(first)}{r0}:${L.col(total_col - 1)}{r0})<{n})",
    })
    ws.data_validation(L.ENTRY_FIRST_ROW, name_col, last, name_col, {
        "validate": "list", "source": ctx.roster_names_ref,
        "input_title": "党员姓名", "input_message": "从名册中选择被测评党员",
        "error_title": "姓名不在名册中", "error_message": "请从下拉列表中选择名册里的党员姓名。",
    })
    for name, text in counted.entry_names(d, group, L.ENTRY_FIRST_ROW, last).items():
        wb.define_name(name, f"={text}")
    sentinel = L.sentinel_col(items)
    ws.set_column(sentinel, sentinel, 40)
    ws.write_formula(0, sentinel, counted.sentinel_formula(
        ws.name, L.entry_name(group, "inputs"), total_col - 1), f.sentinel, "")
    if d.grading is not None:
        _accounts(ws, ctx, group)
    printed = L.ENTRY_FIRST_ROW + ctx.plan.entry_rows(group.key, len(ctx.members)) - 1
    a4(ws, landscape=False, repeat=(0, 0), area=(0, 0, max(printed, _last_filled(rows)), total_col))
    protect(ws)
    return last


def _last_filled(rows):
    """The 0-based sheet row of the last row with anything typed (entries given to build)."""
    filled = [i for i, (b, n, scores) in enumerate(rows)
              if b is not None or n is not None or any(v is not None for v in scores)]
    return L.ENTRY_FIRST_ROW + max(filled, default=0)


def _accounts(ws, ctx, group):
    """Ballots issued and returned (typed), and typed (a formula), right of the table."""
    d, f = ctx.defs, ctx.fmt
    typed = ctx.entries.accounts.get(group.key, (None, None))
    count_col = L.summary_pairs_count(d.groups, group)
    first = L.SUMMARY_FIRST_ROW
    last = first + len(ctx.members) - 1
    for k, label in enumerate(L.ACCOUNT_LABELS):
        r, c = L.account_cell(d.items, k)
        ws.set_column(c - 1, c - 1, 9)
        ws.set_column(c, c, 6)
        ws.write_string(r, c - 1, label, f.header)
        if k < 2:
            value = typed[k] if k < len(typed) else None
            if value is None:
                ws.write_blank(r, c, None, f.entry)
            else:
                ws.write_number(r, c, value, f.entry)
            ws.data_validation(r, c, r, c, {
                "validate": "integer", "criteria": ">=", "value": 0,
                "input_title": label, "input_message": "测评票张数,输入整数。",
                "error_title": "票数有误", "error_message": "票数应为不小于 0 的整数。"})
        else:
            span = f"{L.ref(L.SUMMARY, (first, count_col), (last, count_col))}"
            ws.write_formula(r, c, f"=MAX({span})", f.int, ctx.figures.grading.typed[group.key])
