"""xlsheets.ooxml: reading cells from the XML, refusing unusable files, patching in place.

The fidelity tests build a workbook with everything a clerk may add (image, chart,
comment, text box, sparkline, validation, conditional format, a VBA project),
patch it, and compare the zip entry by entry with the original.
"""
from __future__ import annotations

import io
import re
import struct
import time
import zipfile
import zlib
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

import libreoffice as lo
from xlsheets.ooxml import guards
from xlsheets.errors import XlsheetsError
from xlsheets.ooxml import BookError, BookFile, Cell, sheet_xml, write_patched

CJK = re.compile(r"[\u4e00-\u9fff]")
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
TEMPLATES = Path(__file__).resolve().parent.parent / "workbook_templates"


# --- helpers ---------------------------------------------------------------------------

def tiny_png():
    """A valid 1x1 RGB PNG."""
    def chunk(kind, data):
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def entries(path):
    """[(name, uncompressed bytes)] in zip order."""
    with zipfile.ZipFile(path) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def raw_entries(path):
    """{name: (compress_type, date_time, compressed bytes as stored)}."""
    out = {}
    with zipfile.ZipFile(path) as zf, open(path, "rb") as f:
        for info in zf.infolist():
            f.seek(info.header_offset)
            head = f.read(30)
            assert head[:4] == b"PK\x03\x04"
            n, m = struct.unpack("<HH", head[26:30])
            f.seek(info.header_offset + 30 + n + m)
            out[info.filename] = (info.compress_type, info.date_time, f.read(info.compress_size))
    return out


def replace_parts(src, dst, parts):
    """Copy a zip, replacing (or adding) the given parts' contents."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, parts.pop(info.filename, zin.read(info)))
        for name, data in parts.items():
            zout.writestr(name, data)
    return dst


def part_of(path, sheet):
    with BookFile.open(path) as book:
        return book.sheet_part(sheet)


def text_of(path, name):
    return dict(entries(path))[name].decode("utf-8")


def without_cells(xml, refs):
    """The sheet XML with the <c> elements of ``refs`` cut out."""
    for ref in refs:
        xml = re.sub(rf'<c r="{ref}"(?:[^>]*/>|[^>]*>.*?</c>)', "", xml, count=1, flags=re.S)
    return xml


def cell_xml(xml, ref):
    m = re.search(rf'<c r="{ref}"(?:[^>]*/>|[^>]*>.*?</c>)', xml, flags=re.S)
    return m[0] if m else None


def both_paths(book, sheet):
    """cells() and the streaming fallback's result, which must agree."""
    part = book.sheet_part(sheet)
    return book.cells(sheet), book._cells_slow(part, book.part(part))


def check_message(err, path):
    msg = str(err.value)
    assert Path(path).name in msg and CJK.search(msg), msg
    assert isinstance(err.value, XlsheetsError) and err.value.exit_code == 2


def worksheet(body, prefix="", extra=""):
    """A worksheet part whose sheetData holds ``body`` (elements written with ``prefix``)."""
    p = f"{prefix}:" if prefix else ""
    decl = f'xmlns:{prefix}="{MAIN}"' if prefix else f'xmlns="{MAIN}"'
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<{p}worksheet {decl}>{extra}<{p}sheetData>{body}</{p}sheetData></{p}worksheet>'
            ).encode("utf-8")


@pytest.fixture
def plain_book(tmp_path):
    """A one-sheet xlsxwriter workbook whose sheet part tests can replace."""
    path = tmp_path / "plain.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("表")
    ws.write("A1", "甲")  # one shared string, index 0
    ws.write("B1", "乙")  # index 1
    for i in range(1, 9):  # cell styles s="1".."8" for the parts tests put in
        ws.write_blank(2, i, None, wb.add_format({"font_size": 10 + i}))
    wb.close()
    return path


# --- reading ---------------------------------------------------------------------------

@pytest.fixture
def typed_book(tmp_path):
    path = tmp_path / "类型.xlsx"
    wb = xlsxwriter.Workbook(path)
    bold = wb.add_format({"bold": True})
    grey = wb.add_format({"bg_color": "#DDDDDD"})
    ws = wb.add_worksheet("数据")
    ws.write_number("A1", 1.5)
    ws.write_number("A2", 2.0)
    ws.write_string("A3", "党员")
    ws.write_rich_string("A4", "普通", bold, "加粗", " 尾")
    ws.write_formula("A5", "=A1*2", None, 3)
    ws.write_formula("A6", '="a"&"b"', None, "ab")
    ws.write_boolean("A7", True)
    ws.write_formula("A8", "=1/0", None, "#DIV/0!")
    ws.write_blank("A9", None, grey)
    ws.write_number("A10", -1234567.25)
    ws.write_string("A11", "a<b & \"c\"")
    ws.write_boolean("A12", False)
    wb.add_worksheet("第二")
    wb.add_worksheet("第三").write("B2", 7)
    wb.define_name("分数", "=数据!$A$1:$A$2")
    wb.define_name("第二!本地", "=第二!$A$1")
    wb.set_custom_property("工作簿编号", "WB-001")
    wb.set_custom_property("份数", 12)
    wb.set_custom_property("已审核", True)
    wb.close()
    return path


def test_values_of_each_type(typed_book):
    with BookFile.open(typed_book) as book:
        cells, slow = both_paths(book, "数据")
    assert cells == slow
    assert cells["A1"] == Cell(1.5, None, "n")
    assert cells["A2"] == Cell(2, None, "n") and type(cells["A2"].value) is int
    assert cells["A3"] == Cell("党员", None, "s")
    assert cells["A4"] == Cell("普通加粗 尾", None, "s")
    assert cells["A5"] == Cell(3, "A1*2", "n")
    assert cells["A6"] == Cell("ab", '"a"&"b"', "str")
    assert cells["A7"] == Cell(True, None, "b")
    assert cells["A8"] == Cell("#DIV/0!", "1/0", "e")
    assert cells["A9"] == Cell(None, None, "blank")
    assert cells["A10"] == Cell(-1234567.25, None, "n")
    assert cells["A11"] == Cell('a<b & "c"', None, "s")
    assert cells["A12"] == Cell(False, None, "b")
    assert list(cells) == [f"A{i}" for i in range(1, 13)]


def test_sheet_order_names_and_properties(typed_book):
    with BookFile.open(typed_book) as book:
        assert book.path == str(typed_book)
        assert book.sheet_names == ["数据", "第二", "第三"]
        assert book.sheet_part("第三") == "xl/worksheets/sheet3.xml"
        assert book.cells("第三") == {"B2": Cell(7, None, "n")}
        assert book.cells("第二") == {}
        assert book.defined_names() == {"分数": "数据!$A$1:$A$2", "第二!本地": "第二!$A$1"}
        assert book.custom_properties() == {"工作簿编号": "WB-001", "份数": "12", "已审核": "true"}
        assert book.has_part("xl/styles.xml") and not book.has_part("xl/vbaProject.bin")
        assert book.part("xl/workbook.xml").startswith(b"<?xml")
        with pytest.raises(BookError) as err:
            book.cells("不存在")
        check_message(err, typed_book)


def test_inline_strings_and_formula_without_cache_from_openpyxl(tmp_path):
    path = tmp_path / "openpyxl.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "录入"
    ws["A1"] = "内联 文本"
    ws["A2"] = 4
    ws["B2"] = '=A2&"x"'
    ws["C2"] = 2.5
    wb.save(path)
    assert 't="inlineStr"' in text_of(path, "xl/worksheets/sheet1.xml")
    with BookFile.open(path) as book:
        cells, slow = both_paths(book, "录入")
        assert book.custom_properties() == {}
    assert cells == slow
    assert cells["A1"] == Cell("内联 文本", None, "s")
    assert cells["A2"] == Cell(4, None, "n")
    assert cells["B2"] == Cell(None, 'A2&"x"', "blank")
    assert cells["C2"] == Cell(2.5, None, "n")


EXOTIC = (
    '<row r="1">'
    '<c r="A1"><v>3.0</v></c><c r="B1"><v>1E+2</v></c><c r="C1"><v>1.5E-3</v></c>'
    '<c r="D1" t="d"><v>2005-03-01T00:00:00</v></c><c r="E1" t="e"><v>#N/A</v></c>'
    '<c r="F1" t="s"><v>1</v></c><c r="G1" s="2"/>'
    '<c r="H1" t="str"><f>"x"&amp;"&lt;"</f><v>x&lt;</v></c>'
    "</row>"
    '<row r="2"><c r="A2"><f t="shared" ref="A2:A4" si="0">B2*2</f><v>4</v></c>'
    '<c r="B2" t="inlineStr"><is><r><t>富</t></r>'
    '<r><rPr><b/></rPr><t xml:space="preserve"> 文本</t></r>'
    '<rPh sb="0" eb="1"><t>フ</t></rPh></is></c>'
    '<c r="C2" t="str"><v>line_x000D_break&amp;</v></c>'
    '<c r="D2" t="inlineStr"><is><t/></is></c></row>'
    '<row r="3" spans="1:3"><c r="A3"><f t="shared" si="0"/><v>6</v></c>'
    '<c r="B3" t="b"><v>0</v></c><c r="C3" t="n"><v></v></c><c r="D3" s="2"><v></v></c>'
    '<c r="E3"><f>IF(A1&gt;0,1,2)</f><v>1</v></c><c r="F3"><f></f><v>2</v></c>'
    '<c r="G3" s="1"><f>1+1</f><v></v></c></row>'
)
EXOTIC_CELLS = {
    "A1": Cell(3, None, "n"), "B1": Cell(100, None, "n"), "C1": Cell(0.0015, None, "n"),
    "D1": Cell("2005-03-01T00:00:00", None, "d"), "E1": Cell("#N/A", None, "e"),
    "F1": Cell("乙", None, "s"), "G1": Cell(None, None, "blank"),
    "H1": Cell("x<", '"x"&"<"', "str"),
    "A2": Cell(4, "B2*2", "n"), "B2": Cell("富 文本", None, "s"),
    "C2": Cell("line\rbreak&", None, "str"), "D2": Cell("", None, "s"),
    "A3": Cell(6, "", "n"), "B3": Cell(False, None, "b"), "C3": Cell(None, None, "blank"),
    "D3": Cell(None, None, "blank"), "E3": Cell(1, "IF(A1>0,1,2)", "n"), "F3": Cell(2, "", "n"),
    "G3": Cell(None, "1+1", "blank"),
}


@pytest.mark.parametrize("prefix", ["", "x"])
def test_exotic_cells_fast_and_slow(plain_book, tmp_path, prefix):
    body = EXOTIC if not prefix else re.sub(r"<(/?)(row|c|v|f|is|r|rPr|b|t|rPh)\b",
                                            rf"<\1{prefix}:\2", EXOTIC)
    path = replace_parts(plain_book, tmp_path / "exotic.xlsx",
                         {"xl/worksheets/sheet1.xml": worksheet(body, prefix)})
    with BookFile.open(path) as book:
        cells, slow = both_paths(book, "表")
    assert cells == EXOTIC_CELLS
    assert slow == EXOTIC_CELLS


def test_unusual_markup_takes_the_streaming_parser(plain_book, tmp_path):
    # cells without r (positions implied), r not the first attribute
    body = ('<row><c><v>1</v></c><c t="s"><v>0</v></c></row>'
            '<row r="4"><c s="1" r="C4"><v>2</v></c><c><v>3</v></c></row>')
    path = replace_parts(plain_book, tmp_path / "unusual.xlsx",
                         {"xl/worksheets/sheet1.xml": worksheet(body)})
    with BookFile.open(path) as book:
        assert book.cells("表") == {"A1": Cell(1, None, "n"), "B1": Cell("甲", None, "s"),
                                    "C4": Cell(2, None, "n"), "D4": Cell(3, None, "n")}


@pytest.mark.parametrize("hidden", ['<!-- <c r="Z9"><v>9</v></c> -->', "<![CDATA[x]]>", "<?pi x?>"])
def test_comments_cdata_and_instructions_in_a_sheet_are_refused(plain_book, tmp_path, hidden):
    """Legal XML no spreadsheet program writes, which regex patching would misread."""
    body = f'<row r="4"><c r="C4"><v>2</v></c>{hidden}<c r="D4"><v>3</v></c></row>'
    path = replace_parts(plain_book, tmp_path / "hidden.xlsx",
                         {"xl/worksheets/sheet1.xml": worksheet(body)})
    with BookFile.open(path) as book, pytest.raises(BookError) as err:
        book.cells("表")
    check_message(err, path)
    assert "注释、CDATA 或处理指令" in str(err.value)


def test_shipped_templates_read_like_calamine():
    for path in sorted(TEMPLATES.glob("*.xlsx")):
        cal = CalamineWorkbook.from_path(str(path))
        with BookFile.open(path) as book:
            assert book.sheet_names == cal.sheet_names
            for name in book.sheet_names:
                cells, slow = both_paths(book, name)
                assert cells == slow
                rows = cal.get_sheet_by_name(name).to_python(skip_empty_area=False)
                for ref, cell in cells.items():
                    value = lo.cell({name: rows}, name, ref)
                    if cell.kind == "blank":
                        assert value in ("", None), (name, ref)
                    elif cell.kind == "n":
                        assert value == cell.value, (name, ref)
                    else:
                        assert str(value) == str(cell.value) or value == cell.value, (name, ref)


# --- refusing files ----------------------------------------------------------------------

def minimal_zip(path, extra=(), workbook=True, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as zf:
        if workbook:
            zf.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/'
                                               'package/2006/content-types"/>')
            zf.writestr("xl/workbook.xml", f'<workbook xmlns="{MAIN}"><sheets/></workbook>')
        for name, data in extra:
            zf.writestr(name, data)
    return path


def test_missing_file(tmp_path):
    with pytest.raises(BookError) as err:
        BookFile.open(tmp_path / "没有这个.xlsx")
    check_message(err, "没有这个.xlsx")


def test_text_file_named_xlsx(tmp_path):
    path = tmp_path / "伪装.xlsx"
    path.write_text("这不是工作簿\n", encoding="utf-8")
    with pytest.raises(BookError) as err:
        BookFile.open(path)
    check_message(err, path)
    assert "不是有效的 .xlsx" in str(err.value)


def test_ole_file_is_encrypted_or_old_xls(tmp_path):
    path = tmp_path / "加密.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096))
    with pytest.raises(BookError) as err:
        BookFile.open(path)
    check_message(err, path)
    assert "加密" in str(err.value) and ".xls" in str(err.value)


def test_zip_without_workbook(tmp_path):
    path = minimal_zip(tmp_path / "压缩包.xlsx", [("readme.txt", "hi")], workbook=False)
    with pytest.raises(BookError) as err:
        BookFile.open(path)
    check_message(err, path)
    assert "xl/workbook.xml" in str(err.value)


def test_too_many_entries(tmp_path):
    path = minimal_zip(tmp_path / "条目.xlsx", [(f"x/{i}", b"") for i in range(10_000)])
    start = time.perf_counter()
    with pytest.raises(BookError) as err:
        BookFile.open(path)
    assert time.perf_counter() - start < 1
    check_message(err, path)
    assert "10000" in str(err.value)


def test_ten_thousand_entries_are_fine(tmp_path):
    path = minimal_zip(tmp_path / "条目.xlsx", [(f"x/{i}", b"") for i in range(9_998)])
    with BookFile.open(path) as book:
        assert book.sheet_names == []


def test_highly_compressed_entry(tmp_path):
    path = minimal_zip(tmp_path / "炸弹.xlsx", [("xl/worksheets/sheet1.xml", bytes(50 << 20))],
                       compression=zipfile.ZIP_DEFLATED)
    start = time.perf_counter()
    with pytest.raises(BookError) as err:
        BookFile.open(path)
    assert time.perf_counter() - start < 1
    check_message(err, path)
    assert "压缩比" in str(err.value) and "sheet1.xml" in str(err.value)


def test_total_declared_size(tmp_path, monkeypatch):
    monkeypatch.setattr(guards, "MAX_TOTAL_SIZE", 10_000)
    path = minimal_zip(tmp_path / "太大.xlsx", [(f"x/{i}", bytes(3000)) for i in range(4)])
    with pytest.raises(BookError) as err:
        BookFile.open(path)
    check_message(err, path)
    assert "1 GiB" in str(err.value)


@pytest.mark.parametrize("bad", [
    b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaa">]>'
    b'<worksheet xmlns="' + MAIN.encode() + b'"><sheetData/></worksheet>',
    b'<!DOCTYPE worksheet SYSTEM "http://example.com/x.dtd">'
    b'<worksheet xmlns="' + MAIN.encode() + b'"><sheetData/></worksheet>',
])
def test_sheet_with_dtd(plain_book, tmp_path, bad):
    path = replace_parts(plain_book, tmp_path / "实体.xlsx", {"xl/worksheets/sheet1.xml": bad})
    with BookFile.open(path) as book, pytest.raises(BookError) as err:
        book.cells("表")
    check_message(err, path)
    assert "DTD" in str(err.value)


def test_workbook_part_with_entity(plain_book, tmp_path):
    wb = text_of(plain_book, "xl/workbook.xml")
    bad = wb.replace("<workbook", '<!DOCTYPE workbook [<!ENTITY e "x">]><workbook', 1)
    path = replace_parts(plain_book, tmp_path / "实体.xlsx", {"xl/workbook.xml": bad.encode()})
    with pytest.raises(BookError) as err:
        BookFile.open(path)
    check_message(err, path)


def test_malformed_sheet(plain_book, tmp_path):
    path = replace_parts(plain_book, tmp_path / "损坏.xlsx", {
        "xl/worksheets/sheet1.xml": worksheet('<row r="1"><c r="A1"><v>1</v></row>')})
    with BookFile.open(path) as book, pytest.raises(BookError) as err:
        book.cells("表")
    check_message(err, path)
    assert "不是有效的 XML" in str(err.value)


# --- patching --------------------------------------------------------------------------

def test_patch_cells_and_rows_that_do_not_exist(plain_book, tmp_path):
    body = ('<row r="2" spans="1:2"><c r="A2"><v>1</v></c><c r="C2"><v>3</v></c></row>'
            '<row r="3" spans="1:3"/>'
            '<row r="5"><c r="B5" s="1"><v>5</v></c></row>')
    extra = '<dimension ref="A2:C5"/>'
    src = replace_parts(plain_book, tmp_path / "稀疏.xlsx",
                        {"xl/worksheets/sheet1.xml": worksheet(body, extra=extra)})
    dst = tmp_path / "稀疏_改.xlsx"
    write_patched(src, dst, {"表": {
        "B2": 2,          # between two cells of a row
        "e2": "尾",        # after the last cell, lower-case address
        "B3": 3.25,       # into a self-closing row
        "A1": "首",        # a row before every row
        "A4": True,       # a row between rows
        "C7": 7,          # a row after the last row
        "$A$5": "前",      # before the first cell of a row
    }})
    xml = text_of(dst, "xl/worksheets/sheet1.xml")
    rows = re.findall(r'<row r="(\d+)"', xml)
    assert rows == ["1", "2", "3", "4", "5", "7"]
    order = re.findall(r'<c r="([A-Z]+\d+)"', xml)
    assert order == ["A1", "A2", "B2", "C2", "E2", "B3", "A4", "A5", "B5", "C7"]
    assert '<row r="2" spans="1:5">' in xml  # the hint widened to the new cell
    assert '<dimension ref="A1:E7"/>' in xml
    with BookFile.open(dst) as book:
        cells, slow = both_paths(book, "表")
    assert cells == slow
    assert {k: c.value for k, c in cells.items()} == {
        "A1": "首", "A2": 1, "B2": 2, "C2": 3, "E2": "尾", "B3": 3.25, "A4": True,
        "A5": "前", "B5": 5, "C7": 7}
    ws = openpyxl.load_workbook(dst)["表"]
    assert [ws[a].value for a in ("A1", "B2", "E2", "B3", "A4", "A5", "C7")] == \
        ["首", 2, "尾", 3.25, True, "前", 7]
    rows = CalamineWorkbook.from_path(str(dst)).get_sheet_by_name("表").to_python(
        skip_empty_area=False)
    assert rows[6][2] == 7 and rows[0][0] == "首" and rows[1][4] == "尾"


def test_clearing_a_missing_cell_changes_nothing(plain_book, tmp_path):
    dst = tmp_path / "清空.xlsx"
    write_patched(plain_book, dst, {"表": {"Z99": None, "C1": None}})
    assert entries(dst) == entries(plain_book)


def test_patch_into_empty_sheet_data(plain_book, tmp_path):
    src = replace_parts(plain_book, tmp_path / "空.xlsx", {
        "xl/worksheets/sheet1.xml": worksheet("").replace(b"<sheetData></sheetData>",
                                                          b"<sheetData/>")})
    dst = tmp_path / "空_改.xlsx"
    write_patched(src, dst, {"表": {"B2": 2, "A1": 1}})
    with BookFile.open(dst) as book:
        assert book.cells("表") == {"A1": Cell(1, None, "n"), "B2": Cell(2, None, "n")}


def test_patch_value_kinds_and_escaping(plain_book, tmp_path):
    body = ('<row r="1"><c r="A1" s="3" t="s"><v>0</v></c>'
            '<c r="B1" s="4"><f>1+1</f><v>2</v></c>'
            '<c r="C1" t="str"><f>"a"</f><v>a</v></c>'
            '<c r="D1" t="e"><f>1/0</f><v>#DIV/0!</v></c>'
            '<c r="E1" s="5"><v>9</v></c>'
            '<c r="F1" t="b"><v>1</v></c>'
            '<c r="G1" t="s" vm="1"><v>1</v></c></row>')
    src = replace_parts(plain_book, tmp_path / "种类.xlsx",
                        {"xl/worksheets/sheet1.xml": worksheet(body)})
    dst = tmp_path / "种类_改.xlsx"
    tricky = ' a<b>&"c"\n_x000D_ tail\r\x01 '
    write_patched(src, dst, {"表": {
        "A1": tricky, "B1": "文本结果", "C1": 4.5, "D1": None, "E1": None, "F1": 0,
        "G1": False}})
    xml = text_of(dst, "xl/worksheets/sheet1.xml")
    assert cell_xml(xml, "A1").startswith(
        '<c r="A1" s="3" t="inlineStr"><is><t xml:space="preserve">')
    assert cell_xml(xml, "B1") == '<c r="B1" s="4" t="str"><f>1+1</f><v>文本结果</v></c>'
    assert cell_xml(xml, "C1") == '<c r="C1"><f>"a"</f><v>4.5</v></c>'
    assert cell_xml(xml, "D1") == '<c r="D1"><f>1/0</f></c>'
    assert cell_xml(xml, "E1") == '<c r="E1" s="5"/>'
    assert cell_xml(xml, "F1") == '<c r="F1"><v>0</v></c>'
    assert cell_xml(xml, "G1") == '<c r="G1" t="b"><v>0</v></c>'
    with BookFile.open(dst) as book:
        cells, slow = both_paths(book, "表")
    assert cells == slow
    assert cells["A1"] == Cell(tricky, None, "s")
    assert cells["B1"] == Cell("文本结果", "1+1", "str")
    assert cells["C1"] == Cell(4.5, '"a"', "n")
    assert cells["D1"] == Cell(None, "1/0", "blank")
    assert cells["E1"] == Cell(None, None, "blank")
    assert cells["F1"] == Cell(0, None, "n")
    assert cells["G1"] == Cell(False, None, "b")
    assert openpyxl.load_workbook(dst)["表"]["A1"].value.strip().startswith("a<b>&\"c\"")


def test_patch_refuses_bad_requests(plain_book, tmp_path):
    dst = tmp_path / "out.xlsx"
    with pytest.raises(BookError) as err:
        write_patched(plain_book, dst, {"没有": {"A1": 1}})
    check_message(err, plain_book)
    with pytest.raises(ValueError):
        write_patched(plain_book, plain_book, {"表": {"A1": 1}})
    with pytest.raises(ValueError):
        write_patched(plain_book, dst, {"表": {"1A": 1}})
    with pytest.raises(ValueError):
        write_patched(plain_book, dst, {"表": {"A1": float("nan")}})
    with pytest.raises(TypeError):
        write_patched(plain_book, dst, {"表": {"A1": object()}})
    with pytest.raises(ValueError):
        write_patched(plain_book, dst, {}, add_sheets={"坏[名]": sheet_xml([])})


def test_add_sheet_replaces_existing_one(plain_book, tmp_path):
    dst = tmp_path / "替换.xlsx"
    write_patched(plain_book, dst, {"表": {"C3": 3}}, add_sheets={"表": sheet_xml([["新"]])})
    assert [n for n, _ in entries(dst)] == [n for n, _ in entries(plain_book)]
    assert text_of(dst, "xl/workbook.xml") == text_of(plain_book, "xl/workbook.xml")
    with BookFile.open(dst) as book:
        assert book.sheet_names == ["表"]
        assert book.cells("表") == {"A1": Cell("新", None, "s"), "C3": Cell(3, None, "n")}


def test_added_sheet_names_are_escaped(plain_book, tmp_path):
    dst = tmp_path / "名字.xlsx"
    write_patched(plain_book, dst, {"A&B <审核>": {"B2": 1}},
                  add_sheets={"A&B <审核>": sheet_xml([["x"]]), "第二个": sheet_xml([[2]])})
    assert '<sheet name="A&amp;B &lt;审核&gt;" sheetId="2"' in text_of(dst, "xl/workbook.xml")
    with BookFile.open(dst) as book:
        assert book.sheet_names == ["表", "A&B <审核>", "第二个"]
        assert book.cells("A&B <审核>") == {"A1": Cell("x", None, "s"), "B2": Cell(1, None, "n")}
        assert book.cells("第二个") == {"A1": Cell(2, None, "n")}
        assert book.sheet_part("第二个") == "xl/worksheets/sheet3.xml"
    assert openpyxl.load_workbook(dst).sheetnames == ["表", "A&B <审核>", "第二个"]


def test_sheet_xml_shape():
    xml = sheet_xml([["姓名", "分数", None], ["张三", 9.5, True], [], [None, 3]],
                    col_widths={0: 12, 2: 30}, freeze_header=True,
                    hyperlinks=[("A2", "'党员互评'!C5", "转到&查看")])
    text = xml.decode("utf-8")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>')
    assert '<dimension ref="A1:C4"/>' in text
    assert 'state="frozen"' in text and 'ySplit="1"' in text
    assert '<col min="1" max="1" width="12" customWidth="1"/>' in text
    assert '<col min="3" max="3" width="30" customWidth="1"/>' in text
    assert ('<hyperlink ref="A2" location="\'党员互评\'!C5" display="张三" '
            'tooltip="转到&amp;查看"/>') in text
    assert '<row r="3"></row>' in text and '<c r="B4"><v>3</v></c>' in text


# --- fidelity: everything a clerk may add survives a patch ---------------------------------

ENTRY, TOTAL, NEW = "党员互评", "汇总", "核对"
SCORES = {2: ("张三", 8, 7), 3: ("李四", 6, 9), 4: ("王五", 9, 9), 5: ("赵六", 5, None),
          6: ("钱七", 7, 8)}


def build_rich_book(path, tmp_path):
    vba = tmp_path / "vbaProject.bin"
    vba.write_bytes(b"\xd0\xcf\x11\xe0fake VBA project" + bytes(range(256)))
    wb = xlsxwriter.Workbook(path)
    wb.add_vba_project(str(vba))
    bold = wb.add_format({"bold": True})
    entry = wb.add_format({"locked": False, "bg_color": "#FFF2CC"})
    ws = wb.add_worksheet(ENTRY)
    ws.write_row(0, 0, ["票号", "姓名", "项1", "项2", "合计"], bold)
    for r, (name, a, b) in SCORES.items():
        ws.write_number(r - 1, 0, r - 1)
        ws.write_string(r - 1, 1, name)
        ws.write_number(r - 1, 2, a, entry)
        if b is not None:
            ws.write_number(r - 1, 3, b, entry)
        ws.write_formula(r - 1, 4, f"=C{r}+D{r}", None, a + (b or 0))
    ws.insert_image("H2", "dot.png", {"image_data": io.BytesIO(tiny_png())})
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"categories": f"='{ENTRY}'!$B$2:$B$6", "values": f"='{ENTRY}'!$E$2:$E$6"})
    ws.insert_chart("H10", chart)
    ws.write_comment("B2", "书记")
    ws.insert_textbox("M2", "办事员补充的说明")
    ws.add_sparkline("F2", {"range": f"'{ENTRY}'!C2:D2"})
    ws.data_validation("C2:D6", {"validate": "integer", "criteria": "between",
                                 "minimum": 0, "maximum": 10})
    ws.conditional_format("C2:D6", {"type": "cell", "criteria": ">", "value": 8, "format": bold})
    tot = wb.add_worksheet(TOTAL)
    tot.write("A1", "总分")
    tot.write_formula("B1", f"=SUM('{ENTRY}'!E2:E6)", None,
                      sum(a + (b or 0) for _, a, b in SCORES.values()))
    wb.define_name("录入区", f"='{ENTRY}'!$C$2:$D$6")
    wb.set_custom_property("xlsheets.workbook_id", "abc")
    wb.close()
    return path


PATCH = {ENTRY: {"C3": 10, "E3": 19, "B5": "赵六(补)", "D5": 6, "E5": 11},
         TOTAL: {"B1": 78}}


def restyle_zip(path):
    """Re-store a zip the way other programs might: media stored, XML at level 1, own dates.

    Our copy must keep exactly this, not re-deflate with its own settings."""
    data = [(i, zipfile.ZipFile(path).read(i)) for i in zipfile.ZipFile(path).infolist()]
    with zipfile.ZipFile(path, "w") as zf:
        for k, (info, payload) in enumerate(data):
            info = zipfile.ZipInfo(info.filename, date_time=(2024, 5, 6, 7, 8, 2 * k % 60))
            stored = info.filename.endswith((".png", ".bin"))
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            zf.writestr(info, payload, compresslevel=None if stored else 1)
    return path


def patched_rich_book(tmp_path):
    src = restyle_zip(build_rich_book(tmp_path / "支部.xlsm", tmp_path))
    dst = tmp_path / "支部_改.xlsm"
    check = sheet_xml([["姓名", "合计", "链接"], ["李四", 19, "去改"], ["赵六(补)", 11, None]],
                      col_widths=[14, 8, 10], freeze_header=True,
                      hyperlinks=[("C2", f"'{ENTRY}'!C3", "转到李四的录入行")])
    write_patched(src, dst, PATCH, add_sheets={NEW: check})
    return src, dst


def test_patch_keeps_every_other_part(tmp_path):
    src, dst = patched_rich_book(tmp_path)
    before, after = entries(src), entries(dst)
    names = [n for n, _ in before]
    for must in ("xl/media/image1.png", "xl/charts/chart1.xml", "xl/comments1.xml",
                 "xl/drawings/drawing1.xml", "xl/vbaProject.bin", "docProps/custom.xml"):
        assert must in names
    entry_part, total_part = part_of(src, ENTRY), part_of(src, TOTAL)
    touched = {entry_part, total_part, "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
               "[Content_Types].xml"}
    new_part = part_of(dst, NEW)
    assert [n for n, _ in after] == names + [new_part]
    with zipfile.ZipFile(dst) as zf:
        assert zf.testzip() is None  # every CRC right
    old_raw, new_raw = raw_entries(src), raw_entries(dst)
    for (name, data), (name2, data2) in zip(before, after):
        assert name == name2
        assert old_raw[name][:2] == new_raw[name][:2], name  # compression type and date
        if name not in touched:
            assert data == data2, name
            assert old_raw[name] == new_raw[name], name  # the stored bytes themselves
    for name in touched:
        assert dict(before)[name] != dict(after)[name], name

    # sheet parts: only the targeted cells differ
    for sheet, part in ((ENTRY, entry_part), (TOTAL, total_part)):
        old, new = text_of(src, part), text_of(dst, part)
        refs = list(PATCH[sheet])
        assert without_cells(old, refs) == without_cells(new, refs)
        for ref in refs:
            assert cell_xml(new, ref) != cell_xml(old, ref), ref
    assert cell_xml(text_of(src, entry_part), "D5") is None  # D5 was inserted
    assert '<f>C3+D3</f><v>19</v>' in cell_xml(text_of(dst, entry_part), "E3")
    assert 'sparkline' in text_of(dst, entry_part)

    # the three package parts gained exactly one entry each
    def minus(text, pattern):
        out, n = re.subn(pattern, "", text)
        assert n == 1, pattern
        return out
    new_sheet = rf'<sheet name="{NEW}" sheetId="3" r:id="rId\d+"/>'
    assert minus(text_of(dst, "xl/workbook.xml"), new_sheet) == text_of(src, "xl/workbook.xml")
    new_rel = r'<Relationship Id="rId\d+" Type="[^"]+/worksheet" Target="worksheets/sheet3.xml"/>'
    assert minus(text_of(dst, "xl/_rels/workbook.xml.rels"), new_rel) \
        == text_of(src, "xl/_rels/workbook.xml.rels")
    assert minus(text_of(dst, "[Content_Types].xml"),
                 r'<Override PartName="/xl/worksheets/sheet3.xml" ContentType="[^"]+"/>') \
        == text_of(src, "[Content_Types].xml")


def test_copy_without_changes_is_identical_entry_by_entry(tmp_path):
    src = restyle_zip(build_rich_book(tmp_path / "原样.xlsm", tmp_path))
    dst = tmp_path / "原样_副本.xlsm"
    write_patched(src, dst, {ENTRY: {}})
    assert raw_entries(dst) == raw_entries(src)
    assert list(raw_entries(dst)) == list(raw_entries(src))


def expected_values():
    return {(ENTRY, "C3"): 10, (ENTRY, "E3"): 19, (ENTRY, "B5"): "赵六(补)",
            (ENTRY, "D5"): 6, (ENTRY, "E5"): 11, (ENTRY, "C2"): 8, (TOTAL, "B1"): 78,
            (NEW, "A2"): "李四", (NEW, "B2"): 19, (NEW, "A3"): "赵六(补)", (NEW, "B3"): 11}


@pytest.mark.filterwarnings("ignore:Sparkline Group extension")  # openpyxl drops it on load
def test_patched_file_reads_back_everywhere(tmp_path):
    src, dst = patched_rich_book(tmp_path)
    with BookFile.open(dst) as book:
        assert book.sheet_names == [ENTRY, TOTAL, NEW]
        assert book.defined_names() == {"录入区": f"'{ENTRY}'!$C$2:$D$6"}
        assert book.custom_properties() == {"xlsheets.workbook_id": "abc"}
        cells = {s: book.cells(s) for s in book.sheet_names}
        for s in book.sheet_names:
            assert cells[s] == both_paths(book, s)[1]
    assert cells[ENTRY]["E3"] == Cell(19, "C3+D3", "n")
    wb = openpyxl.load_workbook(dst, data_only=True, keep_vba=True)
    cal = lo.read_values(dst)
    for (sheet, ref), value in expected_values().items():
        assert cells[sheet][ref].value == value, (sheet, ref)
        assert wb[sheet][ref].value == value, (sheet, ref)
        assert lo.cell(cal, sheet, ref) == value, (sheet, ref)
    assert wb[NEW]["C2"].hyperlink.location == f"'{ENTRY}'!C3"
    assert wb[NEW].freeze_panes == "A2"
    assert openpyxl.load_workbook(dst)[ENTRY]["E3"].value == "=C3+D3"


@pytest.mark.libreoffice
def test_libreoffice_opens_the_patched_file(soffice, tmp_path):
    _, dst = patched_rich_book(tmp_path)
    out = lo.recalc(dst, tmp_path / "lo")
    values = lo.read_values(out)
    assert list(values)[:3] == [ENTRY, TOTAL, NEW]
    for (sheet, ref), value in expected_values().items():
        assert lo.cell(values, sheet, ref) == value, (sheet, ref)
    # LibreOffice recalculated: the formulas agree with the cached values we wrote
    assert lo.cell(values, ENTRY, "E6") == 15
    with BookFile.open(out) as book:
        assert book.cells(NEW)["C2"] == Cell("去改", None, "s")
        for sheet in book.sheet_names:  # LibreOffice writes cells its own way
            cells, slow = both_paths(book, sheet)
            assert cells == slow
        assert cells_of(book, ENTRY, "E3") == Cell(19, "C3+D3", "n")
    # and a file LibreOffice wrote can be patched in turn
    again = tmp_path / "again.xlsm"
    write_patched(out, again, {ENTRY: {"C4": 1, "E4": 10}})
    assert lo.cell(lo.read_values(again), ENTRY, "E4") == 10
    with BookFile.open(again) as book:
        assert cells_of(book, ENTRY, "C4") == Cell(1, None, "n")


def cells_of(book, sheet, ref):
    return book.cells(sheet)[ref]


def test_new_cells_take_the_column_style(plain_book, tmp_path):
    src = replace_parts(plain_book, tmp_path / "列样式.xlsx", {
        "xl/worksheets/sheet1.xml": worksheet(
            '<row r="1"><c r="A1"><v>1</v></c></row>'
            '<row r="2" s="7" customFormat="1"><c r="A2"><v>1</v></c></row>',
            extra='<cols><col min="2" max="3" width="9" style="5" customWidth="1"/></cols>')})
    dst = tmp_path / "列样式_改.xlsx"
    write_patched(src, dst, {"表": {"C1": 1, "D1": 2, "B2": 3}})
    xml = text_of(dst, "xl/worksheets/sheet1.xml")
    assert cell_xml(xml, "C1") == '<c r="C1" s="5"><v>1</v></c>'
    assert cell_xml(xml, "D1") == '<c r="D1"><v>2</v></c>'
    assert cell_xml(xml, "B2") == '<c r="B2" s="7"><v>3</v></c>'


def test_an_empty_last_row_from_a_row_deletion_is_not_a_huge_sheet(tmp_path):
    """LibreOffice writes ``<row r="1048576"/>`` after deleting a row: no cell lies
    there, python-calamine builds no grid for it, so the size guard reads the sheet."""
    from xlsheets.ooxml.guards import _extent_by_parse, _sheet_extent

    xml = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           b'<sheetData><row r="1"><c r="A1"><v>1</v></c></row><row r="42"><c r="C42">'
           b'<v>2</v></c></row><row r="1048576" spans="1:1"/></sheetData></worksheet>')
    rows, cols = _sheet_extent("s.xlsx", "p", xml)  # the quick path: exact from 100,000
    assert rows < 100_000 and cols == 26
    assert _extent_by_parse("s.xlsx", "p", xml) == (42, 3)
    odd = xml.replace(b'<c r="C42">', b'<c t="n" r="C42">')  # takes the streaming pass
    assert _sheet_extent("s.xlsx", "p", odd) == (42, 3)
    # A cell really at the last row still counts.
    far = xml.replace(b'<row r="1048576" spans="1:1"/>',
                      b'<row r="1048576"><c r="A1048576"><v>3</v></c></row>')
    assert _sheet_extent("s.xlsx", "p", far)[0] == 1048576
