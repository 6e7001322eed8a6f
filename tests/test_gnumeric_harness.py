"""The Gnumeric harness itself: it must really recalculate and show formatted text."""
import os
import zipfile

import openpyxl
import pytest
import xlsxwriter

import gnumeric as gn

MINUS = "\u2212"  # Gnumeric displays negatives with U+2212, not "-"

# (cell, value or formula, number format, what Gnumeric displays, recalculated value)
CASES = [
    ("A1", 88.075, "0.00", "88.07", 88.075),  # long double 88.0749999...97: rounds down
    ("A2", 70.825, "0.00", "70.82", 70.825),
    ("A3", "=ROUND(88.075,2)", "0.00", "88.08", 88.08),  # ROUND is Excel-like
    ("A4", "=ROUND(70.825,2)", "0.00", "70.83", 70.83),
    ("A5", "=ROUND(88.075,9)", "0.00", "88.07", 88.075),
    ("A6", "=ROUND(0.125,2)", "0.00", "0.13", 0.13),
    ("A7", 0.125, "0.00", "0.13", 0.125),  # an exact half displays away from zero
    ("A8", "=A1*0.4+A2*0.6", "0.00", "77.72", 77.725),
    ("A9", "=ROUND(A8,2)", "0.00", "77.73", 77.73),
    ("A10", "=ROUND(1.005,2)", "0.00", "1.01", 1.01),
    ("A11", 1.005, "0.00", "1.00", 1.005),
    ("A12", "=ROUND(-88.075,2)", "0.00", MINUS + "88.08", -88.08),
    ("A13", "=ROUND(-2.5,0)", "0", MINUS + "3", -3.0),
    ("A14", 0.12345, "0.00%", "12.35%", 0.12345),
    ("A15", "党支部", "General", "党支部", "党支部"),
    ("A16", '=A15&"汇总"', "General", "党支部汇总", "党支部汇总"),
    ("A17", '=TEXT(88.075,"0.00")', "General", "88.07", "88.07"),
    ("A18", "=ROUND(88.075,2)", "General", "88.08", 88.08),
    ("A19", "=SUM(A3:A4)", "0.0", "158.9", 158.91),
    ("A20", 'a\tb "引号",\n第二行', "General", 'a\tb "引号",\n第二行', 'a\tb "引号",\n第二行'),
]


@pytest.fixture(scope="session")
def ssconvert() -> str:
    """Path of Gnumeric's ssconvert; skips when missing, fails instead when $CI is set."""
    path = gn.ssconvert_path()
    if path is None:
        msg = "Gnumeric not found: install gnumeric (for ssconvert)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.fixture(scope="module")
def book(ssconvert, tmp_path_factory):
    """An openpyxl workbook: 说明 first, then 汇总 holding CASES; its path."""
    path = tmp_path_factory.mktemp("gnumeric") / "汇总表.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    wb["说明"]["A1"] = "说明页"
    ws = wb.create_sheet("汇总")
    for ref, value, fmt, _, _ in CASES:
        ws[ref] = value
        ws[ref].number_format = fmt
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def shown(book):
    return gn.displayed(book, "汇总")


@pytest.fixture(scope="module")
def vals(book):
    return gn.values(book, "汇总")


@pytest.mark.parametrize("ref, value, fmt, text, _", CASES, ids=[f"{c[0]}:{c[1]}|{c[2]}" for c in CASES])
def test_displayed(shown, ref, value, fmt, text, _):
    assert gn.cell(shown, ref) == text


@pytest.mark.parametrize("ref, value, fmt, _, expected", CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_values(vals, ref, value, fmt, _, expected):
    got = gn.cell(vals, ref)
    assert got == (pytest.approx(expected, abs=1e-12) if isinstance(expected, float) else expected)


def test_sheet_is_chosen_by_name(book):
    assert gn.displayed(book, "说明") == [["说明页"]]
    assert len(gn.displayed(book, "汇总")) == len(CASES)
    with pytest.raises(AssertionError, match="Unknown sheet"):
        gn.displayed(book, "没有")


def test_openpyxl_noise_is_not_a_warning(book):
    msgs = gn.messages(book)
    assert msgs and all(gn.is_noise(m) for m in msgs)
    assert gn.warnings(book) == []


@pytest.mark.filterwarnings("ignore:Workbook contains no default style")
def test_recalc_replaces_wrong_cached_value(ssconvert, tmp_path):
    src = tmp_path / "错误缓存.xlsx"
    wb = xlsxwriter.Workbook(src)
    ws = wb.add_worksheet("汇总")
    ws.write("A1", 21)
    ws.write_formula("B1", "=A1*2", wb.add_format({"num_format": "0.00"}), 999)
    wb.close()
    assert openpyxl.load_workbook(src, data_only=True)["汇总"]["B1"].value == 999

    assert gn.displayed(src, "汇总") == [["21", "42.00"]]
    assert gn.values(src, "汇总") == [[21.0, 42.0]]
    out = gn.recalc(src, tmp_path / "out")
    assert out.name == src.name and out.parent != src.parent
    assert openpyxl.load_workbook(out, data_only=True)["汇总"]["B1"].value == 42
    with pytest.raises(ValueError):
        gn.recalc(src, tmp_path)
    assert gn.messages(src) == []  # xlsxwriter output opens without a word


def test_complaint_is_a_warning(ssconvert, tmp_path):
    src, bad = tmp_path / "ok.xlsx", tmp_path / "bad.xlsx"
    wb = xlsxwriter.Workbook(src)
    wb.add_worksheet("汇总").write("A1", 1)
    wb.close()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b"</sheetData><bogus/>")
            zout.writestr(info, data)
    assert gn.warnings(bad) == ["Unexpected element 'bogus' in state : \n\tworksheet"]
