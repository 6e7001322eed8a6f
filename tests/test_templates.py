"""The shipped blank templates are exactly what the code generates today (issue 2, item 6)."""

from pathlib import Path

from golden import differences
from xlsheets import definitions
from xlsheets.cli import write_templates

TEMPLATES = Path(__file__).resolve().parent.parent / "workbook_templates"


def test_templates_are_current(tmp_path):
    written = write_templates(definitions.load(), tmp_path)
    books = [p for p in written if p.suffix == ".xlsx"]
    assert len(books) == 2
    for fresh in written:
        shipped = TEMPLATES / fresh.name
        assert shipped.exists(), f"{shipped} is missing: run `xlsheets templates`"
        if fresh.suffix == ".xlsx":
            diffs = differences(shipped, fresh)
            assert not diffs, ("template out of date, run `xlsheets templates`:\n"
                               + "\n".join(diffs))
        assert shipped.read_bytes() == fresh.read_bytes()


def test_same_inputs_same_bytes(tmp_path):
    a = write_templates(definitions.load(), tmp_path / "a")
    b = write_templates(definitions.load(), tmp_path / "b")
    for x, y in zip(a, b):
        assert x.read_bytes() == y.read_bytes(), x.name


def test_differences_reports_a_changed_part(tmp_path):
    import zipfile
    src = next(TEMPLATES.glob("附件1_*.xlsx"))
    changed = tmp_path / "changed.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(changed, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/sharedStrings.xml":
                data = data.replace("理想信念".encode(), "理想".encode())
            zout.writestr(info, data)
    diffs = differences(src, changed)
    assert len(diffs) == 1 and "xl/sharedStrings.xml" in diffs[0] and "理想" in diffs[0]
