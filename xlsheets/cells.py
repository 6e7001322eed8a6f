"""Which cells of a branch workbook hold formulas, and what each should show.

Shared by ``compute`` (file shell) and the Excel add-in: both refresh exactly
these cells with the core's figures, and both report any of them typed over.
"""

from . import layout as L, opinions, talks
from .figures import INCOMPLETE, OUT_OF_RANGE, cached, share_shown, shown


def summary_note_row(members):
    """汇总's note row below the members: the sentinel of rows outside the names."""
    return L.SUMMARY_FIRST_ROW + members + 1


def _a1(row, col):
    return L.a1(row, col)


def formula_cells(defs, members, entry_rows):
    """Expected formula cells: {sheet: [A1, ...]}.

    Args:
        members: number of members (rows of 汇总, forms of 附件4).
        entry_rows: {group key: [0-based rows of the entry sheet]}.
    """
    out = {}
    total_col = L.entry_total_col(defs.items)
    for g in defs.groups:
        out[L.entry_sheet(g)] = [_a1(0, L.sentinel_col(defs.items))] + [
            _a1(r, total_col) for r in entry_rows.get(g.key, ())]
    pairs, comp, rank, remark = L.summary_columns(defs.groups)
    exact_means, exact_comp = L.exact_columns(defs.groups)
    cols = [c for pair in pairs for c in pair] + [comp, rank, remark, *exact_means, exact_comp]
    out[L.SUMMARY] = [_a1(L.SUMMARY_FIRST_ROW + i, c) for i in range(members) for c in cols] + [
        _a1(summary_note_row(members), 0)]
    out[L.OPINION] = [_a1(i * L.OPINION_ROWS + L.OPINION_SCORE[0], L.OPINION_SCORE[1])
                      for i in range(members)]
    first, n = L.LOOKBACK_FORM_FIRST_ROW, len(defs.lookback_items)
    x = L.LOOKBACK_EXACT_COL
    out[L.LOOKBACK_FORM] = [_a1(first + k, c) for k in range(n) for c in (2, x)] + [
        _a1(first + n, 1), _a1(first + n, 2), _a1(first + n, x), _a1(first + n + 2, 0)]
    out[L.LOOKBACK_ENTRY] = [_a1(0, n + 1)]
    levels = defs.satisfaction["levels"]
    out[L.SATISFACTION] = [_a1(L.SAT_CATEGORY_ROW, 1)] + [
        _a1(L.SAT_SHARE_ROW, 2 + L.SAT_LEVEL_SPAN * k) for k in range(len(levels))] + [
        _a1(L.SAT_LEVEL_ROW, 2 + L.SAT_LEVEL_SPAN * len(levels))]
    rows = len(defs.process.opinions["targets"]) + members + 1  # the targets, then 合计
    out[L.OPINION_SUMMARY] = [_a1(L.OPINION_SUMMARY_FIRST_ROW + r, 1 + c) for r in range(rows)
                              for c in range(summary_width(defs))]
    return out


def summary_width(defs):
    """征求意见汇总's formula columns: one per channel, 合计, 已反馈, 不反馈."""
    return len(defs.process.opinions["channels"]) + 3


def register_values(defs, names, opinion_lines, talk_lines):
    """What 征求意见汇总's formulas show and 谈心情况表's counts: {sheet: {A1: value}}.

    The summary's rows follow ``opinions.targets``; the matrix has no formulas
    (see ``layout.MATRIX_FIRST_ROW``), its counts are written as values. A 200-member
    matrix is 40,000 cells: their addresses are built from column letters made once.
    """
    def cells(first_row, rows):
        width = max((len(r) for r in rows), default=0)
        letters = [L.col(1 + c) for c in range(width)]
        return {f"{letters[c]}{first_row + r + 1}": v for r, row in enumerate(rows)
                for c, v in enumerate(row) if v is not None}

    return {L.OPINION_SUMMARY: cells(L.OPINION_SUMMARY_FIRST_ROW,
                                     opinions.summary(defs, names, opinion_lines)),
            L.TALK_MATRIX: cells(L.MATRIX_FIRST_ROW, talks.matrix(defs, names, talk_lines))}


def figure_values(defs, figures, entry_rows):
    """The cached value of every formula cell, and the talk matrix: {sheet: {A1: value}}.

    ``entry_rows`` are the entry sheets' 0-based rows, in the order of
    ``figures.entry_totals``.
    """
    out = {}
    total_col = L.entry_total_col(defs.items)
    for g in defs.groups:
        out[L.entry_sheet(g)] = {
            _a1(r, total_col): cached(t)
            for r, t in zip(entry_rows.get(g.key, ()), figures.entry_totals.get(g.key, ()))}
        out[L.entry_sheet(g)][_a1(0, L.sentinel_col(defs.items))] = ""  # compute counts all
    pairs, comp, rank, remark = L.summary_columns(defs.groups)
    exact_means, exact_comp = L.exact_columns(defs.groups)
    summary, opinion = {}, {}
    for i, m in enumerate(figures.members):
        r = L.SUMMARY_FIRST_ROW + i
        for g, (cc, mc), xc in zip(defs.groups, pairs, exact_means):
            summary[_a1(r, cc)] = m.counts[g.key]
            summary[_a1(r, xc)] = cached(m.means[g.key])
            summary[_a1(r, mc)] = cached(shown(m.means[g.key]))
        summary[_a1(r, exact_comp)] = cached(m.composite)
        summary[_a1(r, comp)] = cached(shown(m.composite))
        summary[_a1(r, rank)] = cached(m.rank)
        summary[_a1(r, remark)] = m.remark
        opinion[_a1(i * L.OPINION_ROWS + L.OPINION_SCORE[0], L.OPINION_SCORE[1])] = cached(
            shown(m.composite))
    summary[_a1(summary_note_row(len(figures.members)), 0)] = ""
    out[L.SUMMARY], out[L.OPINION] = summary, opinion
    first, lb, x = L.LOOKBACK_FORM_FIRST_ROW, figures.lookback, L.LOOKBACK_EXACT_COL
    form = {}
    for k, v in enumerate(lb.means):
        form[_a1(first + k, x)] = cached(v)
        form[_a1(first + k, 2)] = cached(shown(v))
    n = len(defs.lookback_items)
    form[_a1(first + n, 1)] = sum(i.max for i in defs.lookback_items)
    form[_a1(first + n, x)] = cached(lb.total)
    form[_a1(first + n, 2)] = cached(shown(lb.total))
    form[_a1(first + n + 2, 0)] = ""
    out[L.LOOKBACK_FORM] = form
    out[L.LOOKBACK_ENTRY] = {_a1(0, n + 1): ""}
    sat, levels = figures.satisfaction, defs.satisfaction["levels"]
    six = {_a1(L.SAT_CATEGORY_ROW, 1): sat.total}
    for k, share in enumerate(sat.shares):
        six[_a1(L.SAT_SHARE_ROW, 2 + L.SAT_LEVEL_SPAN * k)] = cached(share_shown(share))
    six[_a1(L.SAT_LEVEL_ROW, 2 + L.SAT_LEVEL_SPAN * len(levels))] = cached(
        share_shown(sat.rate))
    out[L.SATISFACTION] = six
    out.update(getattr(figures, "registers", None) or {})
    return out


def category_cells(defs):
    """附件6 entry cells of the participant categories, in order."""
    return [_a1(L.SAT_CATEGORY_ROW, 2 + k) for k in range(len(defs.satisfaction["categories"]))]


def level_cells(defs):
    """附件6 entry cells of the satisfaction levels, in order."""
    return [_a1(L.SAT_LEVEL_ROW, 2 + L.SAT_LEVEL_SPAN * k)
            for k in range(len(defs.satisfaction["levels"]))]


def total_formula(row, items):
    """The 合计 formula of entry row ``row`` (0-based)."""
    first, last = 2, 1 + len(items)
    span = f"{L.a1(row, first)}:{L.a1(row, last)}"
    checks = [f"MIN({span})<0"]
    # One MAX per run of neighbouring items that share a maximum.
    start = first
    for c in range(first, last + 1):
        end_of_run = c == last or items[c - first + 1].max != items[c - first].max
        if end_of_run:
            cells = L.a1(row, start) if start == c else f"{L.a1(row, start)}:{L.a1(row, c)}"
            checks.append(f"MAX({cells})>{items[c - first].max}")
            start = c + 1
    return (f'=IF(COUNTA({span})=0,"",IF(COUNT({span})<{len(items)},"{INCOMPLETE}",'
            f'IF(OR({",".join(checks)}),"{OUT_OF_RANGE}",SUM({span}))))')
