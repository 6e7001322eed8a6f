"""征求意见登记 and 征求意见汇总: the opinions of step 2, one per row, and their count.

The register is typed by the clerk; the summary counts it by target and
channel with live COUNTIFS formulas, each carrying the core's figure as its
cached value (``opinions.summary``), so both agree before anyone recalculates.
"""

from xlsheets.workbook import layout as L
from xlsheets.core import opinions
from xlsheets.writer.formats import (a4, choice, date_column, header_row, log_lines, log_sheet,
                                     protect, title_row)

_WIDTHS = (14, 12, 16, 20, 50, 12, 10, 14)  # per OPINION_HEADERS
DATE, CHANNEL, CATEGORY, TARGET, CONTENT, ATTACK, FEEDBACK, FED_ON = L.OpinionCol


def write_register(wb, ctx):
    """征求意见登记: REGISTER_ROWS entry rows, pre-filled with ``ctx.entries.opinions``."""
    d, f, op = ctx.defs, ctx.fmt, ctx.defs.process.opinions
    ws = log_sheet(wb, f, L.OPINIONS, op["title"], L.OPINION_HEADERS, _WIDTHS,
                   ctx.entries.opinions, wrapped=(CATEGORY, CONTENT))
    first, end = L.REGISTER_FIRST_ROW, L.REGISTER_LAST_ROW
    for c, title in ((DATE, "征求日期"), (FED_ON, "反馈日期")):
        date_column(ws, first, end, c, title)
    choice(ws, first, end, CHANNEL, op["channels"], "征求方式", "从下拉列表中选择征求意见的方式。")
    choice(ws, first, end, CATEGORY, d.satisfaction["categories"], "提出人类别",
           "从下拉列表中选择提出意见者的类别。")
    targets = opinions.targets(d, ctx.roster.names())
    choice(ws, first, end, TARGET, "=" + L.ref(
        L.OPINION_COUNTS, (L.OPINION_COUNTS_FIRST_ROW, 0),
        (L.OPINION_COUNTS_FIRST_ROW + len(targets) - 1, 0)),
        "意见对象", "选择意见针对的对象:领导班子、党组织,或名册中的某位党员。",
        error="意见对象应从下拉列表中选择(党员须在名册中)。")
    choice(ws, first, end, ATTACK, [op["attack_value"], "否"], "是否属人身攻击、发泄私愤",
           f"属人身攻击、发泄私愤的意见填“{op['attack_value']}”,不予反馈;否则留空。",
           error=f"只能填“{op['attack_value']}”“否”或留空。")
    choice(ws, first, end, FEEDBACK, op["feedback"], "反馈情况",
           f"从下拉列表中选择;人身攻击、发泄私愤的意见选“{op['feedback_withheld']}”。")


def write_summary(wb, ctx):
    """征求意见汇总: per target, the opinions per channel, 合计, 已反馈 and 不反馈."""
    d, f, op = ctx.defs, ctx.fmt, ctx.defs.process.opinions
    ws = wb.add_worksheet(L.OPINION_COUNTS)
    names = ctx.roster.names()
    targets = opinions.targets(d, names)
    figures = opinions.summary(d, names, log_lines(ctx.entries.opinions))
    channels = op["channels"]
    headers = [L.OPINION_HEADERS[TARGET], *channels, "合计", op["feedback_done"],
               op["feedback_withheld"]]
    last_col = len(headers) - 1
    title_row(ws, f, op["summary_title"], last_col)
    header_row(ws, f, L.REGISTER_HEADER_ROW, headers, height=45)
    ws.set_column(0, 0, 22)
    ws.set_column(1, last_col, 8)

    def column(c):
        return L.ref(L.OPINIONS, (L.REGISTER_FIRST_ROW, c), (L.REGISTER_LAST_ROW, c))

    target, channel = column(TARGET), column(CHANNEL)
    hr = L.REGISTER_HEADER_ROW + 1  # 1-based header row, for B$2
    first = L.OPINION_COUNTS_FIRST_ROW
    for k, (name, row) in enumerate(zip(targets, figures)):
        r = first + k
        a = f"$A{r + 1}"
        ws.write_string(r, 0, name, f.text)
        formulas = [f"=COUNTIFS({target},{a},{channel},{L.col(1 + i)}${hr})"
                    for i in range(len(channels))]
        formulas += [f"=COUNTIF({target},{a})",
                     f'=COUNTIFS({target},{a},{column(FEEDBACK)},"{op["feedback_done"]}")',
                     f'=COUNTIFS({target},{a},{column(ATTACK)},"{op["attack_value"]}")']
        for c, (formula, value) in enumerate(zip(formulas, row), start=1):
            ws.write_formula(r, c, formula, f.int, value)
    total = first + len(targets)
    ws.write_string(total, 0, "合计", f.label)
    for c, value in enumerate(figures[-1], start=1):
        span = f"{L.a1(first, c)}:{L.a1(total - 1, c)}"
        ws.write_formula(total, c, f"=SUM({span})", f.int, value)
    ws.freeze_panes(first, 1)
    a4(ws, landscape=True, repeat=(L.REGISTER_HEADER_ROW, L.REGISTER_HEADER_ROW),
       area=(0, 0, total, last_col))
    protect(ws)
