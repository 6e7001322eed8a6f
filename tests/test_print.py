"""Printing a branch workbook: A4 pages, one per sheet, one 附件4 form per member.

LibreOffice renders the workbook to PDF; poppler's pdfinfo / pdftotext read it back.
"""
from __future__ import annotations

import re
import subprocess

import openpyxl
import pytest

import filling as F
import libreoffice as lo
from xlsheets import writer as book, definitions
from xlsheets.workbook import layout as L
from xlsheets.files.roster import read_roster

pytestmark = pytest.mark.libreoffice

DEFS = definitions.load()
UNIT = DEFS.unit("机关")
MEMBERS = list(F.WORKED)  # 张三, 李四, 王五
A4 = (595.3, 841.9)  # points
TOLERANCE = 2


@pytest.fixture(scope="module")
def printed(soffice, tmp_path_factory):
    """The worked example's workbook (default plan) and its PDF: (sheet names, orientation
    per sheet, PDF path)."""
    tmp = tmp_path_factory.mktemp("print")
    roster = read_roster(F.write_roster(tmp / "名册.csv", MEMBERS))
    path = tmp / "机关.xlsx"
    book.build(DEFS, UNIT, roster, path, entries=F.worked_entries(DEFS, with_zhao=False))
    wb = openpyxl.load_workbook(path)
    orientation = {ws.title: ws.page_setup.orientation for ws in wb}
    return wb.sheetnames, orientation, lo.to_pdf(path, tmp / "pdf")


def pages_per_sheet(sheets):
    """Every sheet prints on one page except 附件4: one form, one page, per member."""
    return {s: len(MEMBERS) if s == L.OPINION_FORM else 1 for s in sheets}


def first_page(sheets, sheet):
    """1-based number of the sheet's first page, sheets printing in workbook order."""
    counts = pages_per_sheet(sheets)
    return 1 + sum(counts[s] for s in sheets[:sheets.index(sheet)])


def page_text(pdf, page):
    """The text of one page with all white space removed (cells wrap text anywhere)."""
    out = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-enc", "UTF-8",
                          str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r"\s", "", out)


def is_a4(size, landscape):
    w, h = size
    want = A4[::-1] if landscape else A4
    return abs(w - want[0]) <= TOLERANCE and abs(h - want[1]) <= TOLERANCE


def test_page_count(printed):
    sheets, _, pdf = printed
    expected = sum(pages_per_sheet(sheets).values())
    assert expected == len(sheets) - 1 + len(MEMBERS)
    assert len(lo.pdf_pages(pdf)) == expected


def test_every_page_is_a4_in_its_sheets_orientation(printed):
    sheets, orientation, pdf = printed
    sizes = lo.pdf_pages(pdf)
    assert all(is_a4(s, False) or is_a4(s, True) for s in sizes), sizes
    for sheet in sheets:
        start = first_page(sheets, sheet)
        landscape = orientation[sheet] == "landscape"
        for page in range(start, start + pages_per_sheet(sheets)[sheet]):
            assert is_a4(sizes[page - 1], landscape), (sheet, page, sizes[page - 1])
    assert orientation[L.SUMMARY] == "landscape"  # the wide sheets, so the test sees both


ENTRY_HEADER = ["票号", "党员姓名", *(i.name for i in DEFS.items), "合计"]
# Text that identifies each sheet's page: it must sit on that page, whole.
MARKS = {
    L.INTRO: ["工作簿信息", "民主评议工作簿"],
    L.ROSTER: ["姓名", "职务", *MEMBERS],
    "附件1 工作日程表": ["附件1", UNIT.title, "9、认真开展“回头看”", "9月1—5日"],
    L.BALLOT_FORM: [DEFS.ballot["title"], DEFS.ballot["note"]],
    "党员互评": ENTRY_HEADER,
    "群众参评": ENTRY_HEADER,
    "支委会考评": ENTRY_HEADER,
    L.SUMMARY: ["关坝镇机关党员分析评议测评汇总", "综合得分", "88.17", "79.25", "86.00"],
    L.LOOKBACK_ENTRY: ["票号", "1、转段动员", "10、领导带头"],  # headers wrap: their starts only
    L.LOOKBACK_FORM: [DEFS.lookback["title"], "93.00", DEFS.lookback["note"]],
    L.SATISFACTION: [DEFS.satisfaction["title"], "80.00%", "17.14%", "2.86%", "97.14%"],
}


def test_each_sheet_prints_on_its_page(printed):
    sheets, _, pdf = printed
    missing = []
    for sheet, marks in MARKS.items():
        text = page_text(pdf, first_page(sheets, sheet))
        missing += [(sheet, m) for m in marks if re.sub(r"\s", "", m) not in text]
    assert not missing


def test_ballot_form_note_printed_whole(printed):
    sheets, _, pdf = printed
    text = page_text(pdf, first_page(sheets, L.BALLOT_FORM))
    assert ("注:党支部在发放和汇总此表时,按党员互评、群众参评、支委会考评三个层次进行。"
            "党员综合得分=党员互评平均分×40%+群众参评平均分×30%+支委会考评平均分×30%"
            "(计算平均分时,不去最高和最低分)。") in text


def test_one_opinion_form_per_member(printed):
    sheets, _, pdf = printed
    start = first_page(sheets, L.OPINION_FORM)
    for k, (name, score) in enumerate(zip(MEMBERS, ("88.17", "79.25", "86.00"))):
        text = page_text(pdf, start + k)
        assert text.count(DEFS.opinion["title"]) == 1, (name, text)
        assert f"姓名{name}职务" in text, (name, text)
        assert score in text, (name, text)
        assert [m for m in MEMBERS if m in text] == [name]  # no other member on the page


def test_opinion_form_note_printed_whole(printed):
    sheets, _, pdf = printed
    start = first_page(sheets, L.OPINION_FORM)
    for k, name in enumerate(MEMBERS):
        assert DEFS.opinion["note"] in page_text(pdf, start + k), name  # 注:若不够书写,可另附页。
