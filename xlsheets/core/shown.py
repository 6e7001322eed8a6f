"""What a workbook's formula cells show for the inputs as typed, and which show other.

For an engine that reads the cells' values but not their formulas (Excel on the web
through Office.js): there a formula cell counts as intact while it shows what its
formula shows for these inputs (``formula_results``), judged along ``cells.formula_chain``
(``typed_over``). Pure: the Excel shell hands over what the engine shows.
"""

import dataclasses

from xlsheets.workbook import layout as L
from xlsheets.core import grading
from xlsheets.core.cells import figure_values, formula_chain
from xlsheets.core.figures import compute as figures
from xlsheets.core.values import same_value

UNREAD = object()  # what ``typed_over``'s ``shows`` gives for a cell it cannot judge


def formula_results(defs, unit, grids, checked):
    """What the workbook's formula cells show for the inputs as typed: {sheet: {A1: value}}.

    The core's figures read text that is a number as the number; the formulas
    do not (COUNT and AVERAGE skip text, so a ballot row with '８' shows
    不完整 until 计算得分 makes it 8), and names with stray spaces match no
    member. So the figures are recomputed with the typed text put back where
    ``checked.fixes`` changed a cell. 附件6's formulas divide by cells
    directly, where Excel may or may not read text as a number: with a fix
    there, its formula cells are left out (None: cannot tell).
    """
    fixes = checked.fixes
    rows = {}
    for g in defs.groups:
        sheet = L.entry_sheet(g)
        fixed = fixes.get(sheet, {})
        typed = {er.row: er for er in grids.entries.get(g.key, [])}
        out = []
        for r, (name, scores) in zip(checked.entry_rows.get(g.key, []),
                                     checked.rows_by_group.get(g.key, [])):
            er = typed.get(r)
            if er is not None and fixed:
                scores = [er.scores[k] if L.a1(r, L.EntryCol.FIRST_SCORE + k) in fixed else v
                          for k, v in enumerate(scores)]
                if L.a1(r, L.EntryCol.NAME) in fixed:
                    name = er.name
            out.append((name, scores))
        rows[g.key] = out
    last = getattr(L, "LOOKBACK_LAST_ROW", None)
    lookback = [[v if isinstance(v, (int, float)) and not isinstance(v, bool) else None
                 for v in lr.values]
                for lr in grids.lookback if last is None or lr.row <= last]
    names = [n for _, n in grids.roster]
    figs = figures(defs, unit, names, rows, lookback, checked.categories or None,
                   checked.levels or None)
    if checked.figures.grading is not None:  # 评定等次's counts follow these members' figures
        figs = dataclasses.replace(figs, grading=grading.figures(
            defs, unit, figs.members, [ln.values[L.GRADE] for ln in grids.grades]))
    registers = dict(checked.figures.registers or {})
    registers.pop(L.TALK_MATRIX, None)  # counts, not formulas
    if fixes.get(L.OPINIONS):  # the summary's COUNTIFS see the cells as typed
        registers[L.OPINION_COUNTS] = None
    shown = figure_values(defs, dataclasses.replace(figs, registers=registers),
                          checked.entry_rows)
    if fixes.get(L.SATISFACTION):
        shown[L.SATISFACTION] = None
    return shown


def typed_over(defs, checked, results, shows):
    """{(sheet, A1)} formula cells that do not show what their formula shows.

    ``results`` is ``formula_results``; ``shows(sheet, A1)`` what the engine shows in the
    cell, or ``UNREAD`` where it is not to be judged (a sheet whose formulas were read).
    A cell is judged only while the cells its formula reads (``cells.formula_chain``)
    are intact: once a 合计 is typed over, 汇总's figures of that group follow the typed
    number, so they are not judged (they are again once the clerk restores the 合计).
    """
    typed, intact = set(), {}
    for sheet, addr, inputs in formula_chain(defs, len(checked.figures.members),
                                             checked.entry_rows):
        cell = (sheet, addr)
        if not all(intact[i] for i in inputs):
            intact[cell] = False
            continue
        expected = results.get(sheet) or {}
        if addr in expected:
            value = shows(sheet, addr)
            if value is not UNREAD and not same_value(value, expected[addr]):
                typed.add(cell)
        intact[cell] = cell not in typed
    return typed
