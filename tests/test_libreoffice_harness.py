"""The LibreOffice harness itself: it must really recalculate and render."""
import openpyxl
import pytest
import xlsxwriter

import libreoffice as lo

pytestmark = pytest.mark.libreoffice


def test_recalc_replaces_wrong_cached_value(soffice, tmp_path):
    src = tmp_path / "wrong_cache.xlsx"
    wb = xlsxwriter.Workbook(src)
    ws = wb.add_worksheet("Data")
    ws.write("A1", 21)
    ws.write_formula("B1", "=A1*2", None, 999)
    wb.close()
    assert lo.cell(lo.read_values(src), "Data", "B1") == 999

    out = lo.recalc(src, tmp_path / "out")
    assert out.name == "wrong_cache.xlsx" and out.parent != src.parent
    values = lo.read_values(out)
    assert lo.cell(values, "Data", "A1") == 21
    assert lo.cell(values, "Data", "B1") == 42


def test_sentinel_on_chinese_sheet(soffice, tmp_path):
    src = tmp_path / "sentinel.xlsx"
    wb = xlsxwriter.Workbook(src)
    wb.add_worksheet("说明").write("A1", "x")
    ws = wb.add_worksheet("汇总")
    ws.write("A1", "合计")
    ws.write("D9", 5)
    wb.close()
    lo.plant_sentinel(src, "汇总", "C7")

    assert openpyxl.load_workbook(src)["汇总"]["C7"].value == "=6*7"
    assert openpyxl.load_workbook(src, data_only=True)["汇总"]["C7"].value == 0
    before = lo.read_values(src)
    assert lo.cell(before, "汇总", "C7") == 0
    assert lo.cell(before, "汇总", "D9") == 5  # A1 indexing holds past the sentinel

    after = lo.read_values(lo.recalc(src, tmp_path / "out"))
    assert lo.cell(after, "汇总", "C7") == lo.SENTINEL_VALUE == 42
    assert lo.cell(after, "汇总", "A1") == "合计"
    assert lo.cell(after, "说明", "A1") == "x"


def test_cell_addresses_match_a1(tmp_path):
    src = tmp_path / "offset.xlsx"
    wb = xlsxwriter.Workbook(src)
    wb.add_worksheet("S").write("C3", 7)
    wb.close()
    values = lo.read_values(src)
    assert lo.cell(values, "S", "C3") == 7
    assert lo.cell(values, "S", "$C$3") == 7
    assert lo.cell(values, "S", "A1") == ""
    assert lo.cell(values, "S", "Z99") is None


def test_pdf_of_a4_sheet(soffice, tmp_path):
    src = tmp_path / "a4.xlsx"
    wb = xlsxwriter.Workbook(src)
    ws = wb.add_worksheet("打印")
    ws.set_paper(9)  # A4
    ws.set_portrait()
    ws.write_row("A1", ["姓名", "得分"])
    ws.write_row("A2", ["张三", 88])
    wb.close()

    pages = lo.pdf_pages(lo.to_pdf(src, tmp_path / "pdf"))
    assert len(pages) == 1
    (w, h), = pages
    assert w == pytest.approx(595.3, abs=1) and h == pytest.approx(841.9, abs=1)


def test_outdir_must_differ_from_source_folder(soffice, tmp_path):
    src = tmp_path / "a.xlsx"
    wb = xlsxwriter.Workbook(src)
    wb.add_worksheet().write("A1", 1)
    wb.close()
    with pytest.raises(ValueError):
        lo.recalc(src, tmp_path)
