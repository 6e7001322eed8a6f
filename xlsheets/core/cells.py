"""Which cells of a branch workbook hold formulas, and what each should show.

Shared by ``compute`` (file shell) and the Excel add-in: both refresh exactly
these cells with the core's figures, and both report any of them typed over.
"""

from xlsheets.workbook import layout as L
from xlsheets.core import opinions, talks
from xlsheets.core.figures import INCOMPLETE, OUT_OF_RANGE, cached, share_shown, shown


def summary_note_row(members):
    """汇总's note row below the members: the sentinel of rows outside the names."""
    return L.SUMMARY_FIRST_ROW + members + 1


def _a1(row, col):
    return L.a1(row, col)


def formula_cells(defs, members, entry_rows, graded=False):
    """Expected formula cells: {sheet: [A1, ...]}.

    Args:
        members: number of members (rows of 汇总, forms of 附件4).
        entry_rows: {group key: [0-based rows of the entry sheet]}.
        graded: the workbook has 评定等次 (and with it the ballot accounting and
            附件4's grade); an older workbook has none of their formulas.
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
    out[L.OPINION_FORM] = [_a1(i * L.OPINION_FORM_ROWS + L.OPINION_FORM_SCORE[0], L.OPINION_FORM_SCORE[1])
                      for i in range(members)]
    first, n = L.LOOKBACK_FORM_FIRST_ROW, len(defs.lookback_items)
    x = L.LOOKBACK_EXACT_COL
    score, most = L.LookbackFormCol.SCORE, L.LookbackFormCol.MAX
    out[L.LOOKBACK_FORM] = [_a1(first + k, c) for k in range(n) for c in (score, x)] + [
        _a1(first + n, most), _a1(first + n, score), _a1(first + n, x),
        _a1(first + n + 2, L.LookbackFormCol.ITEM)]
    out[L.LOOKBACK_ENTRY] = [_a1(0, L.LookbackEntryCol.FIRST_SCORE + n)]
    levels = defs.satisfaction["levels"]
    out[L.SATISFACTION] = [_a1(L.SAT_CATEGORY_ROW, L.SatCol.TOTAL)] + [
        _a1(L.SAT_SHARE_ROW, L.SatCol.FIRST + L.SAT_LEVEL_SPAN * k) for k in range(len(levels))] + [
        _a1(L.SAT_LEVEL_ROW, L.SatCol.FIRST + L.SAT_LEVEL_SPAN * len(levels))]
    rows = len(defs.process.opinions["targets"]) + members + 1  # the targets, then 合计
    out[L.OPINION_COUNTS] = [_a1(L.OPINION_COUNTS_FIRST_ROW + r, 1 + c) for r in range(rows)
                              for c in range(summary_width(defs))]
    if graded and defs.grading is not None:
        for sheet, cells in grading_cells(defs, members).items():
            out.setdefault(sheet, []).extend(cells)
    return out


def grading_cells(defs, members):
    """The formula cells of 评定等次, the entry sheets' 已录入 and 附件4's grade."""
    out = {L.entry_sheet(g): [_a1(*L.account_cell(defs.items, 2))] for g in defs.groups}
    rows = [_a1(L.GRADE_FIRST_ROW + i, c) for i in range(members)
            for c in (L.GRADE_SCORE, L.GRADE_RANK)]
    head, per, graded, total, limit = L.grade_count_rows(defs.grading.grades, members)
    rows += [_a1(r, c) for r in (*per, graded) for c in (1, 2)] + [_a1(total, 1), _a1(limit, 1)]
    out[L.GRADES] = rows
    out[L.OPINION_FORM] = [_a1(i * L.OPINION_FORM_ROWS + L.OPINION_GRADE[0], L.OPINION_GRADE[1])
                      for i in range(members)]
    return out


def grading_values(defs, figures):
    """The cached value of each of ``grading_cells``: {sheet: {A1: value}}."""
    gf = figures.grading
    out = {L.entry_sheet(g): {_a1(*L.account_cell(defs.items, 2)): gf.typed[g.key]}
           for g in defs.groups}
    grades, members = {}, len(figures.members)
    for i, m in enumerate(figures.members):
        grades[_a1(L.GRADE_FIRST_ROW + i, L.GRADE_SCORE)] = cached(shown(m.composite))
        grades[_a1(L.GRADE_FIRST_ROW + i, L.GRADE_RANK)] = cached(m.rank)
    head, per, graded, total, limit = L.grade_count_rows(defs.grading.grades, members)
    for r, grade in zip(per, defs.grading.grades):
        grades[_a1(r, 1)] = gf.counts[grade]
        grades[_a1(r, 2)] = cached(share_shown(gf.share(gf.counts[grade])))
    grades[_a1(graded, 1)] = gf.graded
    grades[_a1(graded, 2)] = cached(share_shown(gf.share(gf.graded)))
    grades[_a1(total, 1)] = gf.members
    grades[_a1(limit, 1)] = gf.limit
    out[L.GRADES] = grades
    out[L.OPINION_FORM] = {_a1(i * L.OPINION_FORM_ROWS + L.OPINION_GRADE[0], L.OPINION_GRADE[1]):
                      opinion_grade_text(grade) for i, grade in enumerate(gf.grades)}
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

    return {L.OPINION_COUNTS: cells(L.OPINION_COUNTS_FIRST_ROW,
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
        opinion[_a1(i * L.OPINION_FORM_ROWS + L.OPINION_FORM_SCORE[0], L.OPINION_FORM_SCORE[1])] = cached(
            shown(m.composite))
    summary[_a1(summary_note_row(len(figures.members)), 0)] = ""
    out[L.SUMMARY], out[L.OPINION_FORM] = summary, opinion
    first, lb, x = L.LOOKBACK_FORM_FIRST_ROW, figures.lookback, L.LOOKBACK_EXACT_COL
    form = {}
    for k, v in enumerate(lb.means):
        form[_a1(first + k, x)] = cached(v)
        form[_a1(first + k, L.LookbackFormCol.SCORE)] = cached(shown(v))
    n = len(defs.lookback_items)
    form[_a1(first + n, L.LookbackFormCol.MAX)] = sum(i.max for i in defs.lookback_items)
    form[_a1(first + n, x)] = cached(lb.total)
    form[_a1(first + n, L.LookbackFormCol.SCORE)] = cached(shown(lb.total))
    form[_a1(first + n + 2, L.LookbackFormCol.ITEM)] = ""
    out[L.LOOKBACK_FORM] = form
    out[L.LOOKBACK_ENTRY] = {_a1(0, L.LookbackEntryCol.FIRST_SCORE + n): ""}
    sat, levels = figures.satisfaction, defs.satisfaction["levels"]
    six = {_a1(L.SAT_CATEGORY_ROW, L.SatCol.TOTAL): sat.total}
    for k, share in enumerate(sat.shares):
        six[_a1(L.SAT_SHARE_ROW, L.SatCol.FIRST + L.SAT_LEVEL_SPAN * k)] = cached(share_shown(share))
    six[_a1(L.SAT_LEVEL_ROW, L.SatCol.FIRST + L.SAT_LEVEL_SPAN * len(levels))] = cached(
        share_shown(sat.rate))
    out[L.SATISFACTION] = six
    out.update(getattr(figures, "registers", None) or {})
    if getattr(figures, "grading", None) is not None:
        for sheet, cells in grading_values(defs, figures).items():
            out.setdefault(sheet, {}).update(cells)
    return out


def category_cells(defs):
    """附件6 entry cells of the participant categories, in order."""
    return [_a1(L.SAT_CATEGORY_ROW, L.SatCol.FIRST + k)
            for k in range(len(defs.satisfaction["categories"]))]


def level_cells(defs):
    """附件6 entry cells of the satisfaction levels, in order."""
    return [_a1(L.SAT_LEVEL_ROW, L.SatCol.FIRST + L.SAT_LEVEL_SPAN * k)
            for k in range(len(defs.satisfaction["levels"]))]


def total_formula(row, items):
    """The 合计 formula of entry row ``row`` (0-based)."""
    first = L.EntryCol.FIRST_SCORE
    last = first + len(items) - 1
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


def opinion_grade_formula(i):
    """附件4's grade of member ``i`` (0-based): '评定等次:优秀' once 评定等次 holds one."""
    grade = L.ref(L.GRADES, (L.GRADE_FIRST_ROW + i, L.GRADE))
    return f'=IF({grade}="","","{L.GRADE_HEADERS[L.GRADE]}:"&{grade})'


def opinion_grade_text(grade):
    """What ``opinion_grade_formula`` shows for a 评定等次 cell (as ``grading.grade_cell``)."""
    return f"{L.GRADE_HEADERS[L.GRADE]}:{grade}" if grade else ""


def formula_chain(defs, members, entry_rows):
    """The formula cells a clerk sees, each with the formula cells its formula reads:
    ``[(sheet, A1, ((sheet, A1), ...))]``, every cell after those it reads.

    entry 合计 -> 汇总 counts -> means -> composite and remark -> ranks, composite -> 附件4's
    score; 附件5's items -> its total; 附件6's 合计 -> the shares and the rate; 征求意见汇总's
    counts -> its 合计 row. (The exact columns, the sentinels and 评定等次 are not in it.)
    """
    out = []
    total_col = L.entry_total_col(defs.items)
    totals = {}
    for g in defs.groups:
        sheet = L.entry_sheet(g)
        totals[g.key] = tuple((sheet, _a1(r, total_col)) for r in entry_rows.get(g.key, ()))
        out += [(sheet, a1, ()) for _, a1 in totals[g.key]]
    pairs, comp, rank, remark = L.summary_columns(defs.groups)
    composites = []
    for i in range(members):
        row = L.SUMMARY_FIRST_ROW + i
        means = []
        for g, (count_col, mean_col) in zip(defs.groups, pairs):
            count = (L.SUMMARY, _a1(row, count_col))
            mean = (L.SUMMARY, _a1(row, mean_col))
            out += [(*count, totals[g.key]), (*mean, (*totals[g.key], count))]
            means += [count, mean]
        composite = (L.SUMMARY, _a1(row, comp))
        out += [(*composite, tuple(means)), (L.SUMMARY, _a1(row, remark), tuple(means)),
                (L.OPINION_FORM, _a1(i * L.OPINION_FORM_ROWS + L.OPINION_FORM_SCORE[0], L.OPINION_FORM_SCORE[1]),
                 (composite,))]
        composites.append(composite)
    composites = tuple(composites)
    out += [(L.SUMMARY, _a1(L.SUMMARY_FIRST_ROW + i, rank), composites) for i in range(members)]
    first, n = L.LOOKBACK_FORM_FIRST_ROW, len(defs.lookback_items)
    score, most = L.LookbackFormCol.SCORE, L.LookbackFormCol.MAX
    items = tuple((L.LOOKBACK_FORM, _a1(first + k, score)) for k in range(n))
    out += [(*item, ()) for item in items]
    out += [(L.LOOKBACK_FORM, _a1(first + n, most), ()),
            (L.LOOKBACK_FORM, _a1(first + n, score), items)]
    levels = len(defs.satisfaction["levels"])
    total = (L.SATISFACTION, _a1(L.SAT_CATEGORY_ROW, L.SatCol.TOTAL))
    out += [(*total, ())] + [(L.SATISFACTION,
                              _a1(L.SAT_SHARE_ROW, L.SatCol.FIRST + L.SAT_LEVEL_SPAN * k),
                              (total,)) for k in range(levels)]
    out.append((L.SATISFACTION, _a1(L.SAT_LEVEL_ROW, L.SatCol.FIRST + L.SAT_LEVEL_SPAN * levels),
                (total,)))
    width = summary_width(defs)
    targets = len(defs.process.opinions["targets"]) + members
    counts = tuple((L.OPINION_COUNTS, _a1(L.OPINION_COUNTS_FIRST_ROW + r, 1 + c))
                   for r in range(targets) for c in range(width))
    out += [(*count, ()) for count in counts]
    out += [(L.OPINION_COUNTS, _a1(L.OPINION_COUNTS_FIRST_ROW + targets, 1 + c), counts)
            for c in range(width)]
    return out
