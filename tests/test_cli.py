"""The command line: `xlsheets new` and `xlsheets demo` as the office runs them."""

import csv
import subprocess
import sys
import zipfile

import openpyxl
import pytest

from xlsheets.workbook import layout as L
from xlsheets.cli import main

ROSTER = [("张三", "书记"), ("李四", "委员"), ("王五", "党员")]


def write_csv(path, rows, encoding="utf-8", header=("姓名", "职务", "备注")):
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for r in rows:
            w.writerow([*r, "无"][: len(header)])
    return path


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_new_from_csv(tmp_path, capsys, encoding):
    roster = write_csv(tmp_path / "名册.csv", ROSTER, encoding)
    out = tmp_path / "机关.xlsx"
    code, stdout, err = run(capsys, "new", "--unit", "机关", "--roster", str(roster), "--out", str(out))
    assert code == 0, err
    assert "3 名党员" in stdout
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:4] == [L.INTRO, L.ROSTER, "附件1 工作日程表", L.OPINIONS]
    assert L.BALLOT_FORM in wb.sheetnames
    ws = wb[L.ROSTER]
    assert [c.value for c in ws[1]] == ["姓名", "职务", *L.ROSTER_ROLE_HEADERS, "备注"]  # other columns kept
    assert [ws.cell(r, 1).value for r in range(2, 5)] == ["张三", "李四", "王五"]


def test_new_from_xlsx_with_ballot_counts(tmp_path, capsys):
    src = tmp_path / "名册.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "职务"])
    for r in ROSTER:
        wb.active.append(list(r))
    wb.save(src)
    out = tmp_path / "b.xlsx"
    code, _, err = run(capsys, "new", "--unit", "兴隆街社区", "--roster", str(src), "--out", str(out),
                       "--ballots", "群众参评=4", "--ballots", "committee=2")
    assert code == 0, err
    book = openpyxl.load_workbook(out)
    assert "附件2 工作日程表" in book.sheetnames
    mass = book["群众参评"]
    # 4 expected ballots + 1 spare, 3 members each, below the header row, then room
    # for 3 x 4 more ballots (formulas ready, unlocked).
    assert mass.max_row == 1 + (4 + 1) * 3 + 3 * 4 * 3
    assert mass.cell(1 + 4 * 3, 1).value == 4 and mass.cell(2 + 4 * 3, 1).value is None
    assert mass.cell(mass.max_row, 11).value.startswith("=IF(COUNTA(")
    assert book["支委会考评"].max_row == 1 + (2 + 1) * 3 + 3 * 2 * 3


def test_identity_readable_back(tmp_path, capsys):
    roster = write_csv(tmp_path / "r.csv", ROSTER)
    out = tmp_path / "x.xlsx"
    assert run(capsys, "new", "--unit", "机关", "--roster", str(roster), "--out", str(out),
               "--id", "book-42", "--created", "2005-08-20T09:00")[0] == 0
    wb = openpyxl.load_workbook(out)
    dest = wb.defined_names[L.IDENTITY_NAME].destinations
    sheet, rng = next(iter(dest))
    table = {row[0].value: row[1].value for row in wb[sheet][rng.replace("$", "")]}
    assert table == {"单位": "机关", "定义集": "guanba-2005", "定义版本": "1.1.0",
                     "工作簿编号": "book-42", "生成时间": "2005-08-20T09:00:00",
                     "生成程序": table["生成程序"]}
    props = {p.name: p.value for p in wb.custom_doc_props.props}
    assert props["xlsheets.unit"] == "机关" and props["xlsheets.workbook_id"] == "book-42"


def test_no_macros_in_output(tmp_path, capsys):
    roster = write_csv(tmp_path / "r.csv", ROSTER)
    out = tmp_path / "x.xlsx"
    run(capsys, "new", "--unit", "机关", "--roster", str(roster), "--out", str(out))
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        assert not [n for n in names if "vba" in n.lower()]
        assert b"macroEnabled" not in z.read("[Content_Types].xml")


@pytest.mark.parametrize("rows, header, row, words", [
    ([("张三", "书记"), ("", "委员")], ("姓名", "职务"), 3, "姓名"),
    ([("张三", "书记"), ("张三", "委员")], ("姓名", "职务"), 3, "重复"),
    ([("张三", "书记")], ("名字", "职务"), None, "姓名"),
])
def test_bad_roster_names_file_and_row_and_writes_nothing(tmp_path, capsys, rows, header, row, words):
    roster = write_csv(tmp_path / "坏名册.csv", rows, header=header)
    out = tmp_path / "out.xlsx"
    code, stdout, err = run(capsys, "new", "--unit", "机关", "--roster", str(roster), "--out", str(out))
    assert code == 2
    assert "坏名册.csv" in err and words in err
    if row is not None:
        assert f"第 {row} 行" in err
    assert "Traceback" not in err and not out.exists()
    assert not list(tmp_path.glob(".~xlsheets-*"))


def test_unknown_unit_and_unreadable_roster(tmp_path, capsys):
    roster = write_csv(tmp_path / "r.csv", ROSTER)
    code, _, err = run(capsys, "new", "--unit", "红旗村", "--roster", str(roster), "--out", str(tmp_path / "o.xlsx"))
    assert code == 2 and "红旗村" in err and "机关" in err
    garbage = tmp_path / "g.xlsx"
    garbage.write_bytes(b"not a workbook at all")
    code, _, err = run(capsys, "new", "--unit", "机关", "--roster", str(garbage), "--out", str(tmp_path / "o.xlsx"))
    assert code == 2 and "g.xlsx" in err
    assert not (tmp_path / "o.xlsx").exists()


def test_failed_write_leaves_existing_file_untouched(tmp_path, capsys, monkeypatch):
    roster = write_csv(tmp_path / "r.csv", ROSTER)
    out = tmp_path / "o.xlsx"
    out.write_bytes(b"the clerk's earlier file")
    from xlsheets.writer import summary_sheet as summary

    def boom(*a, **k):
        raise RuntimeError("simulated crash while writing")

    monkeypatch.setattr(summary, "write", boom)
    code, _, err = run(capsys, "new", "--unit", "机关", "--roster", str(roster), "--out", str(out))
    assert code == 3 and "程序内部错误" in err and "Traceback" not in err
    assert out.read_bytes() == b"the clerk's earlier file"
    assert not list(tmp_path.glob(".~xlsheets-*"))


def test_open_workbook_is_not_overwritten(tmp_path, capsys):
    roster = write_csv(tmp_path / "r.csv", ROSTER)
    out = tmp_path / "机关工作簿.xlsx"
    out.write_bytes(b"open in Excel")
    (tmp_path / "~$机关工作簿.xlsx").write_bytes(b"owner")
    code, _, err = run(capsys, "new", "--unit", "机关", "--roster", str(roster), "--out", str(out))
    assert code == 2 and "正在被" in err
    assert out.read_bytes() == b"open in Excel"


def test_bad_arguments_in_chinese(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["new", "--unit", "机关"])
    assert e.value.code == 2
    assert "参数错误" in capsys.readouterr().err
    roster = write_csv(tmp_path / "r.csv", ROSTER)
    code, _, err = run(capsys, "new", "--unit", "机关", "--roster", str(roster),
                       "--out", str(tmp_path / "o.xlsx"), "--ballots", "路人=3")
    assert code == 2 and "层次=票数" in err


def test_demo_writes_the_sample_town(tmp_path, capsys):
    code, stdout, err = run(capsys, "demo", "--out", str(tmp_path))
    assert code == 0, err
    books = sorted(p.name for p in tmp_path.glob("*.xlsx"))
    assert books == ["兴隆街社区_已填.xlsx", "兴隆街社区_空白.xlsx", "机关_已填.xlsx", "机关_空白.xlsx"]
    filled = openpyxl.load_workbook(tmp_path / "机关_已填.xlsx", data_only=True)
    ws = filled[L.SUMMARY]
    header = [c.value for c in ws[L.SUMMARY_HEADER_ROW + 1]]
    comp, rank = header.index("综合得分") + 1, header.index("排名") + 1
    rows = [r for r in range(L.SUMMARY_FIRST_ROW + 1, ws.max_row + 1)
            if isinstance(ws.cell(r, 1).value, int)]  # 序号: the members, not the note row
    ranks = sorted(ws.cell(r, rank).value for r in rows)
    assert ranks == list(range(1, 13))  # twelve members, all scored, no ties
    top = next(r for r in rows if ws.cell(r, rank).value == 1)
    name = ws.cell(top, 2).value
    assert name in stdout and f"{ws.cell(top, comp).value:.2f}" in stdout


def test_console_script_runs_as_module():
    result = subprocess.run([sys.executable, "-m", "xlsheets.cli", "--version"],
                            capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("xlsheets ")


def _console(*argv, **kw):
    """The console script's own entry (``console``), as ``python -m xlsheets.cli``."""
    return subprocess.run([sys.executable, "-m", "xlsheets.cli", *map(str, argv)],
                          capture_output=True, **kw)


def test_console_script_ends_with_everything_written_and_said(tmp_path):
    """console() leaves without the interpreter's teardown: the output still arrives whole
    through a pipe, the exit code is the command's, the workbook is in place."""
    import json

    from books import worked_book

    from xlsheets.files import report

    book = worked_book(tmp_path)
    done = _console("compute", book, "--json")
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    doc = json.loads(done.stdout.decode("utf-8"))  # every byte of it
    assert doc["members"] and all("composite" in m for m in doc["members"])
    assert report.SHEET in openpyxl.load_workbook(book).sheetnames
    assert not list(tmp_path.glob(".~xlsheets-*"))  # no temporary file left beside it
    missing = _console("validate", tmp_path / "没有这个文件.xlsx")
    err = missing.stderr.decode("utf-8")
    assert missing.returncode == 2 and "没有这个文件.xlsx" in err and "Traceback" not in err


def test_console_script_into_a_closed_pipe_says_nothing_more(tmp_path):
    """Output piped into a reader that stops at once (``| head -c 1``): no traceback, no
    "Exception ignored" from a last flush."""
    from books import worked_book

    book = worked_book(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "xlsheets.cli", "validate", str(book), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.read(1)
    proc.stdout.close()  # the reader is gone before the rest is written
    err = proc.stderr.read().decode("utf-8", "replace")
    assert proc.wait(60) in (0, 1) and "Traceback" not in err and "Exception ignored" not in err, err


def test_console_script_without_standard_streams(tmp_path):
    """Found in review: with no stdout/stderr at all (a detached start, ``>&-``) the last
    flush met None and ended in a traceback after the work was done."""
    code = ("import sys; sys.stdout = sys.stderr = None; sys.argv = ['xlsheets', 'demo', "
            f"'--out', {str(tmp_path / 'd')!r}]; from xlsheets.cli import console; console()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True)
    assert done.returncode == 0 and not done.stderr, done.stderr
    assert list((tmp_path / "d").rglob("*.xlsx"))
