"""Which cells of a branch workbook hold formulas, and what each should show.

Shared by ``compute`` (file shell) and the Excel add-in: both refresh exactly
these cells with the core's figures, and both report any of them typed over.
Cells are 0-based (row, col) positions (``formula_positions``, ``position_values``):
the file shell compares tens of thousands of them with the cells as read and needs
A1 text only for those it writes. ``formula_cells`` and ``figure_values`` give the
same by A1 address.
"""

from xlsheets.workbook import layout as L
from xlsheets.core import opinions, talks
from xlsheets.core.figures import INCOMPLETE, OUT_OF_RANGE, cached, share_shown, shown


def summary_note_row(members):
    """汇总's note row below the members: the sentinel of rows outside the names."""
    return L.SUMMARY_FIRST_ROW + members + 1


def formula_positions(defs, members, entry_rows, graded=False):
    """Expected formula cells: {sheet: [(row, col), ...]}, 0-based.

    Args:
        members: number of members (rows of 汇总, forms of 附件4).
        entry_rows: {group key: [0-based rows of the entry sheet]}.
        graded: the workbook has 评定等次 (and with it the ballot accounting and
            附件4's grade); an older workbook has none of their formulas.
    """
    out = {}
    total_col = L.entry_total_col(defs.items)
    for g in defs.groups:
        out[L.entry_sheet(g)] = [(0, L.sentinel_col(defs.items))] + [
            (r, total_col) for r in entry_rows.get(g.key, ())]
    pairs, comp, rank, remark = L.summary_columns(defs.groups)
    exact_means, exact_comp = L.exact_columns(defs.groups)
    cols = [c for pair in pairs for c in pair] + [comp, rank, remark, *exact_means, exact_comp]
    out[L.SUMMARY] = [(L.SUMMARY_FIRST_ROW + i, c) for i in range(members) for c in cols] + [
        (summary_note_row(members), 0)]
    out[L.OPINION_FORM] = [_opinion_score(i) for i in range(members)]
    first, n = L.LOOKBACK_FORM_FIRST_ROW, len(defs.lookback_items)
    x = L.LOOKBACK_EXACT_COL
    score, most = L.LookbackFormCol.SCORE, L.LookbackFormCol.MAX
    out[L.LOOKBACK_FORM] = [(first + k, c) for k in range(n) for c in (score, x)] + [
        (first + n, most), (first + n, score), (first + n, x),
        (first + n + 2, L.LookbackFormCol.ITEM)]
    out[L.LOOKBACK_ENTRY] = [(0, L.LookbackEntryCol.FIRST_SCORE + n)]
    levels = defs.satisfaction["levels"]
    out[L.SATISFACTION] = [(L.SAT_CATEGORY_ROW, L.SatCol.TOTAL)] + [
        (L.SAT_SHARE_ROW, L.SatCol.FIRST + L.SAT_LEVEL_SPAN * k) for k in range(len(levels))] + [
        (L.SAT_LEVEL_ROW, L.SatCol.FIRST + L.SAT_LEVEL_SPAN * len(levels))]
    rows = len(defs.process.opinions["targets"]) + members + 1  # the targets, then 合计
    out[L.OPINION_COUNTS] = [(L.OPINION_COUNTS_FIRST_ROW + r, 1 + c) for r in range(rows)
                             for c in range(summary_width(defs))]
    if graded and defs.grading is not None:
        for sheet, cells in grading_positions(defs, members).items():
            out.setdefault(sheet, []).extend(cells)
    return out


def formula_cells(defs, members, entry_rows, graded=False):
    """``formula_positions`` as A1 addresses: {sheet: [A1, ...]}."""
    return {sheet: [L.a1(r, c) for r, c in cells]
            for sheet, cells in formula_positions(defs, members, entry_rows, graded).items()}


def _opinion_score(i):
    """附件4's score cell of member ``i`` (0-based)."""
    return i * L.OPINION_FORM_ROWS + L.OPINION_FORM_SCORE[0], L.OPINION_FORM_SCORE[1]


def _opinion_grade(i):
    """附件4's grade cell of member ``i`` (0-based)."""
    return i * L.OPINION_FORM_ROWS + L.OPINION_GRADE[0], L.OPINION_GRADE[1]


def grading_positions(defs, members):
    """The formula cells of 评定等次, the entry sheets' 已录入 and 附件4's grade."""
    out = {L.entry_sheet(g): [L.account_cell(defs.items, 2)] for g in defs.groups}
    rows = [(L.GRADE_FIRST_ROW + i, c) for i in range(members)
            for c in (L.GRADE_SCORE, L.GRADE_RANK)]
    head, per, graded, total, limit = L.grade_count_rows(defs.grading.grades, members)
    rows += [(r, c) for r in (*per, graded) for c in (1, 2)] + [(total, 1), (limit, 1)]
    out[L.GRADES] = rows
    out[L.OPINION_FORM] = [_opinion_grade(i) for i in range(members)]
    return out


def grading_values(defs, figures):
    """The cached value of each of ``grading_positions``: {sheet: {(row, col): value}}."""
    gf = figures.grading
    out = {L.entry_sheet(g): {L.account_cell(defs.items, 2): gf.typed[g.key]}
           for g in defs.groups}
    grades, members = {}, len(figures.members)
    for i, m in enumerate(figures.members):
        grades[L.GRADE_FIRST_ROW + i, L.GRADE_SCORE] = cached(shown(m.composite))
        grades[L.GRADE_FIRST_ROW + i, L.GRADE_RANK] = cached(m.rank)
    head, per, graded, total, limit = L.grade_count_rows(defs.grading.grades, members)
    for r, grade in zip(per, defs.grading.grades):
        grades[r, 1] = gf.counts[grade]
        grades[r, 2] = cached(share_shown(gf.share(gf.counts[grade])))
    grades[graded, 1] = gf.graded
    grades[graded, 2] = cached(share_shown(gf.share(gf.graded)))
    grades[total, 1] = gf.members
    grades[limit, 1] = gf.limit
    out[L.GRADES] = grades
    out[L.OPINION_FORM] = {_opinion_grade(i): opinion_grade_text(grade)
                           for i, grade in enumerate(gf.grades)}
    return out


def summary_width(defs):
    """征求意见汇总's formula columns: one per channel, 合计, 已反馈, 不反馈."""
    return len(defs.process.opinions["channels"]) + 3


def register_values(defs, names, opinion_lines, talk_lines):
    """What 征求意见汇总's formulas show and 谈心情况表's counts: {sheet: {(row, col): value}}.

    The summary's rows follow ``opinions.targets``; the matrix has no formulas
    (see ``layout.MATRIX_FIRST_ROW``), its counts are written as values.
    """
    def cells(first_row, rows):
        return {(first_row + r, 1 + c): v for r, row in enumerate(rows)
                for c, v in enumerate(row) if v is not None}

    return {L.OPINION_COUNTS: cells(L.OPINION_COUNTS_FIRST_ROW,
                                     opinions.summary(defs, names, opinion_lines)),
            L.TALK_MATRIX: cells(L.MATRIX_FIRST_ROW, talks.matrix(defs, names, talk_lines))}


def position_values(defs, figures, entry_rows):
    """The cached value of every formula cell, and the talk matrix, by 0-based position:
    {sheet: {(row, col): value}} (a sheet may be None: its values cannot be told).

    ``entry_rows`` are the entry sheets' 0-based rows, in the order of
    ``figures.entry_totals``. Positions, not A1 text: compute compares them all with
    the cells as read and makes an address only of those it writes.
    """
    out = {}
    total_col = L.entry_total_col(defs.items)
    for g in defs.groups:
        out[L.entry_sheet(g)] = {
            (r, total_col): cached(t)
            for r, t in zip(entry_rows.get(g.key, ()), figures.entry_totals.get(g.key, ()))}
        out[L.entry_sheet(g)][0, L.sentinel_col(defs.items)] = ""  # compute counts all
    pairs, comp, rank, remark = L.summary_columns(defs.groups)
    exact_means, exact_comp = L.exact_columns(defs.groups)
    summary, opinion = {}, {}
    for i, m in enumerate(figures.members):
        r = L.SUMMARY_FIRST_ROW + i
        for g, (cc, mc), xc in zip(defs.groups, pairs, exact_means):
            summary[r, cc] = m.counts[g.key]
            summary[r, xc] = cached(m.means[g.key])
            summary[r, mc] = cached(shown(m.means[g.key]))
        composite = cached(shown(m.composite))
        summary[r, exact_comp] = cached(m.composite)
        summary[r, comp] = composite
        summary[r, rank] = cached(m.rank)
        summary[r, remark] = m.remark
        opinion[_opinion_score(i)] = composite
    summary[summary_note_row(len(figures.members)), 0] = ""
    out[L.SUMMARY], out[L.OPINION_FORM] = summary, opinion
    first, lb, x = L.LOOKBACK_FORM_FIRST_ROW, figures.lookback, L.LOOKBACK_EXACT_COL
    form = {}
    for k, v in enumerate(lb.means):
        form[first + k, x] = cached(v)
        form[first + k, L.LookbackFormCol.SCORE] = cached(shown(v))
    n = len(defs.lookback_items)
    form[first + n, L.LookbackFormCol.MAX] = sum(i.max for i in defs.lookback_items)
    form[first + n, x] = cached(lb.total)
    form[first + n, L.LookbackFormCol.SCORE] = cached(shown(lb.total))
    form[first + n + 2, L.LookbackFormCol.ITEM] = ""
    out[L.LOOKBACK_FORM] = form
    out[L.LOOKBACK_ENTRY] = {(0, L.LookbackEntryCol.FIRST_SCORE + n): ""}
    sat, levels = figures.satisfaction, defs.satisfaction["levels"]
    six = {(L.SAT_CATEGORY_ROW, L.SatCol.TOTAL): sat.total}
    for k, share in enumerate(sat.shares):
        six[L.SAT_SHARE_ROW, L.SatCol.FIRST + L.SAT_LEVEL_SPAN * k] = cached(share_shown(share))
    six[L.SAT_LEVEL_ROW, L.SatCol.FIRST + L.SAT_LEVEL_SPAN * len(levels)] = cached(
        share_shown(sat.rate))
    out[L.SATISFACTION] = six
    out.update(getattr(figures, "registers", None) or {})
    if getattr(figures, "grading", None) is not None:
        for sheet, cells in grading_values(defs, figures).items():
            out.setdefault(sheet, {}).update(cells)
    return out


def figure_values(defs, figures, entry_rows):
    """``position_values`` by A1 address: {sheet: {A1: value}} (None stays None)."""
    return {sheet: None if cells is None else {L.a1(r, c): v for (r, c), v in cells.items()}
            for sheet, cells in position_values(defs, figures, entry_rows).items()}


def category_cells(defs):
    """附件6 entry cells of the participant categories, in order."""
    return [L.a1(L.SAT_CATEGORY_ROW, L.SatCol.FIRST + k)
            for k in range(len(defs.satisfaction["categories"]))]


def level_cells(defs):
    """附件6 entry cells of the satisfaction levels, in order."""
    return [L.a1(L.SAT_LEVEL_ROW, L.SatCol.FIRST + L.SAT_LEVEL_SPAN * k)
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
        totals[g.key] = tuple((sheet, L.a1(r, total_col)) for r in entry_rows.get(g.key, ()))
        out += [(sheet, a1, ()) for _, a1 in totals[g.key]]
    pairs, comp, rank, remark = L.summary_columns(defs.groups)
    composites = []
    for i in range(members):
        row = L.SUMMARY_FIRST_ROW + i
        means = []
        for g, (count_col, mean_col) in zip(defs.groups, pairs):
            count = (L.SUMMARY, L.a1(row, count_col))
            mean = (L.SUMMARY, L.a1(row, mean_col))
            out += [(*count, totals[g.key]), (*mean, (*totals[g.key], count))]
            means += [count, mean]
        composite = (L.SUMMARY, L.a1(row, comp))
        out += [(*composite, tuple(means)), (L.SUMMARY, L.a1(row, remark), tuple(means)),
                (L.OPINION_FORM, L.a1(*_opinion_score(i)), (composite,))]
        composites.append(composite)
    composites = tuple(composites)
    out += [(L.SUMMARY, L.a1(L.SUMMARY_FIRST_ROW + i, rank), composites) for i in range(members)]
    first, n = L.LOOKBACK_FORM_FIRST_ROW, len(defs.lookback_items)
    score, most = L.LookbackFormCol.SCORE, L.LookbackFormCol.MAX
    items = tuple((L.LOOKBACK_FORM, L.a1(first + k, score)) for k in range(n))
    out += [(*item, ()) for item in items]
    out += [(L.LOOKBACK_FORM, L.a1(first + n, most), ()),
            (L.LOOKBACK_FORM, L.a1(first + n, score), items)]
    levels = len(defs.satisfaction["levels"])
    total = (L.SATISFACTION, L.a1(L.SAT_CATEGORY_ROW, L.SatCol.TOTAL))
    out += [(*total, ())] + [(L.SATISFACTION,
                              L.a1(L.SAT_SHARE_ROW, L.SatCol.FIRST + L.SAT_LEVEL_SPAN * k),
                              (total,)) for k in range(levels)]
    out.append((L.SATISFACTION, L.a1(L.SAT_LEVEL_ROW, L.SatCol.FIRST + L.SAT_LEVEL_SPAN * levels),
                (total,)))
    width = summary_width(defs)
    targets = len(defs.process.opinions["targets"]) + members
    counts = tuple((L.OPINION_COUNTS, L.a1(L.OPINION_COUNTS_FIRST_ROW + r, 1 + c))
                   for r in range(targets) for c in range(width))
    out += [(*count, ()) for count in counts]
    out += [(L.OPINION_COUNTS, L.a1(L.OPINION_COUNTS_FIRST_ROW + targets, 1 + c), counts)
            for c in range(width)]
    return out
