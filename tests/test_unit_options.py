"""Per-unit options (R5, R7): trimmed means and re-weighting over present groups.

The writer emits different formulas for them (array formulas for the trimmed
mean); LibreOffice's recalculation must agree with the core's figures.
"""

from fractions import Fraction
from pathlib import Path

import openpyxl

from libreoffice import cell, read_values, recalc
from xlsheets import writer as book, definitions
from xlsheets.workbook import layout as L
from xlsheets.definitions import load
from xlsheets.workbook.entries import Entries
from xlsheets.files.roster import read_roster

SEED_SET = Path(definitions.__file__).parent / "data" / "guanba2005.toml"


def _defs(tmp_path):
    text = SEED_SET.read_text(encoding="utf-8").replace(
        'attachment = "附件1"', 'attachment = "附件1"\naveraging = "trimmed"\nreweight_missing = true')
    path = tmp_path / "options.toml"
    path.write_text(text, encoding="utf-8")
    return load(path)


def _items(total):
    """Eight item scores within their maxima that add up to ``total``."""
    seven = min(70, total - 30) if total >= 30 else 0
    base, extra = divmod(seven, 7)
    scores = [base + (1 if k < extra else 0) for k in range(7)]
    return scores + [total - seven]


def test_trimmed_and_reweighted(tmp_path, soffice):
    defs = _defs(tmp_path)
    roster_csv = tmp_path / "r.csv"
    roster_csv.write_text("姓名,职务\n张三,书记\n李四,党员\n", encoding="utf-8")
    roster = read_roster(roster_csv)
    peer = [60, 80, 90, 100]  # trimmed 85, plain 82.5
    entries = Entries(ballots={
        "peer": [{"张三": _items(t), "李四": _items(80)} for t in peer],
        "mass": [{"张三": _items(90), "李四": _items(70)}, {"张三": _items(80), "李四": _items(72)}],
        "committee": [{"李四": _items(75)}],  # 张三 has no committee ballot
    })
    out = tmp_path / "book.xlsx"
    book.build(defs, defs.unit("机关"), roster, out, entries=entries)

    ws = openpyxl.load_workbook(out, data_only=True)[L.SUMMARY]
    header = [c.value for c in ws[L.SUMMARY_HEADER_ROW + 1]]
    comp = header.index("综合得分")
    row_of = {ws.cell(r, 2).value: r for r in range(L.SUMMARY_FIRST_ROW + 1, ws.max_row + 1)}
    # 张三: peers trimmed 85, masses 85; re-weighted over 40% + 30%.
    zhang = Fraction(85 * 40 + 85 * 30, 70)
    li = Fraction(80 * 40 + 71 * 30 + 75 * 30, 100)
    assert ws.cell(row_of["张三"], comp + 1).value == float(zhang)
    assert "按现有层次折算" in ws.cell(row_of["张三"], comp + 3).value

    values = read_values(recalc(out, tmp_path / "lo"))
    col = L.col(comp)
    assert round(cell(values, L.SUMMARY, f"{col}{row_of['张三']}"), 9) == round(float(zhang), 9)
    assert round(cell(values, L.SUMMARY, f"{col}{row_of['李四']}"), 9) == round(float(li), 9)
    peer_mean = L.col(4)
    assert cell(values, L.SUMMARY, f"{peer_mean}{row_of['张三']}") == 85
    remark = cell(values, L.SUMMARY, f"{L.col(comp + 2)}{row_of['张三']}")
    assert remark == ws.cell(row_of["张三"], comp + 3).value  # formula text equals Python's
