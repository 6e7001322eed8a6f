"""compute proves each part once: the write trusts what its own read of the same file proved.

Trust is by zip entry (name, CRC, sizes, offset): a part of another file, or one whose
entry differs, is proved again and refused when it is not well-formed.
"""

import collections
import re
import shutil

import openpyxl
import pytest

import hostile as H
from books import DEFS, worked_book
from xlsheets.files import compute
from xlsheets.ooxml import BookError, BookFile, guards, package
from xlsheets.workbook import layout as L


@pytest.fixture
def counted(monkeypatch):
    """Every expat proof, by part."""
    seen = collections.Counter()
    real = guards._check_xml

    def check(book, label, data):  # a sheet's label is 工作表“名”(xl/worksheets/…)
        found = re.search(r"xl/worksheets/[^)]+", label)
        seen[found[0] if found else label] += 1
        return real(book, label, data)

    monkeypatch.setattr(package, "_check_xml", check)
    return seen


def test_compute_proves_each_sheet_once(counted, tmp_path):
    path = tmp_path / "openpyxl.xlsx"  # no cached values: compute patches every sheet
    openpyxl.load_workbook(worked_book(tmp_path)).save(path)
    counted.clear()  # building the book proved parts of its own
    outcome = compute.compute_file(path, DEFS)
    assert outcome.written
    sheets = [p for p in counted if p.startswith("xl/worksheets/")]
    assert len(sheets) > 10  # every sheet read was proved ...
    assert all(counted[p] == 1 for p in sheets), counted  # ... once, by the read
    with BookFile.open(path) as book:  # and what was written reads back, proved afresh
        for name in book.sheet_names:
            if book.sheet_part(name) and book.is_worksheet(name):
                book.sheet_data(name)


def test_a_proof_is_trusted_only_for_the_same_entry(counted, tmp_path):
    good = worked_book(tmp_path)
    with BookFile.open(good) as book:
        book.sheet_data(L.SUMMARY)
        proofs = book.proofs()
    part = next(p for p, *_ in proofs if p.startswith("xl/worksheets/"))
    bad = H.ill_formed(good, tmp_path / "格式错误.xlsx", L.SUMMARY)
    with BookFile.open(bad, proofs) as book:  # same part name, other bytes: proved again
        assert book.sheet_part(L.SUMMARY) == part
        with pytest.raises(BookError, match="不是有效的 XML"):
            book.sheet_data(L.SUMMARY)
    copy = shutil.copy(good, tmp_path / "副本.xlsx")
    counted.clear()
    with BookFile.open(copy, proofs) as book:  # the same entries: trusted
        assert book._entry(part) in proofs
        book.sheet_data(L.SUMMARY)
    assert not [p for p in counted if part in p]
