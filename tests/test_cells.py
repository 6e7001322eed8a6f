"""cells.py states where the writer put its formulas and what they show.

compute and the add-in rely on it to refresh exactly those cells, so it must
match the writer cell for cell: same formula cells, same cached values.
"""

import dataclasses

import openpyxl
import pytest

from filling import PLAN, worked_entries, write_roster
from xlsheets import writer as book, definitions
from xlsheets.workbook import layout as L
from xlsheets.core.cells import figure_values, formula_cells
from xlsheets.workbook.entries import Entries
from xlsheets.files.roster import read_roster


@pytest.mark.parametrize("filled", [False, True])
def test_cells_match_the_writer(tmp_path, filled):
    defs = definitions.load()
    unit = defs.unit("机关")
    roster = read_roster(write_roster(tmp_path / "r.csv", ["张三", "李四", "王五", "赵六"]))
    path = tmp_path / "b.xlsx"
    entries = worked_entries(defs) if filled else Entries()
    if filled:  # 评定等次 begun: 李四 not graded yet
        entries.grades = {"张三": ["优秀", "", None, "镇党委"], "王五": ["基本合格", "学习不够"],
                          "赵六": ["合格"]}
    ctx_rows = {g.key: book.entry_rows(PLAN, g.key, roster.members, entries, len(defs.items))
                for g in defs.groups}
    book.build(defs, unit, roster, path, plan=PLAN, entries=entries)

    formulas = openpyxl.load_workbook(path)
    values = openpyxl.load_workbook(path, data_only=True)
    entry_rows = {k: [L.ENTRY_FIRST_ROW + i for i in range(len(rows))] for k, rows in ctx_rows.items()}
    expected = formula_cells(defs, len(roster.members), entry_rows, graded=True)
    for ws in formulas.worksheets:
        found = {c.coordinate for row in ws.iter_rows() for c in row
                 if isinstance(c.value, str) and c.value.startswith("=")
                 or type(c.value).__name__ == "ArrayFormula"}
        assert found == set(expected.get(ws.title, ())), ws.title

    from xlsheets.core import figures
    figs = figures.compute(defs, unit, roster.names(),
                           {k: [(n, s) for _, n, s in rows] for k, rows in ctx_rows.items()},
                           entries.lookback, entries.categories, entries.levels)
    from xlsheets.core import grading
    typed = [(entries.grades.get(n) or [None])[0] for n in roster.names()]
    figs = dataclasses.replace(figs, grading=grading.figures(defs, unit, figs.members, typed))
    if filled:
        assert figs.grading.counts == {"优秀": 1, "合格": 1, "基本合格": 1, "不合格": 0}
    for sheet, cells in figure_values(defs, figs, entry_rows).items():
        for addr, want in cells.items():
            got = values[sheet][addr].value
            got = "" if got is None else got
            if isinstance(want, float):
                assert got == pytest.approx(want, abs=1e-9), (sheet, addr)
            else:
                assert got == want, (sheet, addr)
