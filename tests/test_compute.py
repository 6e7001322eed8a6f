"""`xlsheets validate` and `xlsheets compute` on files, as the town office runs them.

- SPEC.md's worked examples through `compute --json`;
- a messy clerk's workbook: exactly the expected findings, and compute refuses;
- files that cannot be used at all: exit status 2, one Chinese message;
- a successful compute writes figures that LibreOffice's recalculation agrees with,
  text-numbers become numbers, a 校验结果 sheet with the stamp, and repeating it
  changes nothing;
- the file is never half-written: an open workbook (lock file) or a failing write
  leaves it byte-identical.
"""
from __future__ import annotations

import json
import math
import os
import re
import shutil
import zipfile
import xml.etree.ElementTree as ET
from pathlib import Path

import openpyxl
import pytest

import books as B
import filling as F
import libreoffice as lo
from books import DEFS, worked_book
from xlsheets.workbook import layout as L
from xlsheets.cli import main
from xlsheets.files.compute import compute_file, validate_file
from xlsheets.ooxml import BookFile

PEER, MASS, COMMITTEE = "党员互评", "群众参评", "支委会考评"
SUMMARY, LB, SAT = L.SUMMARY, L.LOOKBACK_ENTRY, L.SATISFACTION
RESULTS = "校验结果"
CJK = re.compile(r"[\u4e00-\u9fff]")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def beyond_steps(findings):
    """JSON findings but the blank steps' warnings every book here carries (B.STEPS_BLANK)."""
    return [f for f in findings if f["code"] not in B.STEPS_BLANK]


def triples(findings):
    return {(f["code"], f["sheet"], f["cell"]) for f in beyond_steps(findings)}


# --- SPEC.md's worked examples --------------------------------------------------------

MEMBERS = [
    {"name": "张三", "peer_mean": 87.67, "mass_mean": 85.0, "committee_mean": 92.0,
     "composite": 88.17, "rank": 1, "grade": None},
    {"name": "李四", "peer_mean": 80.0, "mass_mean": 72.5, "committee_mean": 85.0,
     "composite": 79.25, "rank": 3, "grade": None},
    {"name": "王五", "peer_mean": 89.0, "mass_mean": 84.0, "committee_mean": 84.0,
     "composite": 86.0, "rank": 2, "grade": None},
]
LOOKBACK_MEANS = [9.0, 9.33, 9.67, 9.0, 9.33, 9.67, 9.0, 9.33, 9.67, 9.0]
SATISFACTION = {"total": 35, "rate": 97.14, "levels": {
    "满意": {"count": 28, "percent": 80.0},
    "基本满意": {"count": 6, "percent": 17.14},
    "不满意": {"count": 1, "percent": 2.86}}}


def test_worked_examples_json(tmp_path, capsys):
    path = worked_book(tmp_path)
    code, out, err = run(capsys, "compute", path, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) == {"members", "lookback", "satisfaction", "grading", "findings"}
    assert doc["members"] == MEMBERS
    # 评定等次 not started: no grade yet, at most 1 优秀 of 3 (floor(3 x 1/3)); the ballots
    # typed (3, 2, 1 per group), none accounted for as issued or returned
    assert doc["grading"] == {
        "counts": {"优秀": 0, "合格": 0, "基本合格": 0, "不合格": 0}, "graded": 0, "members": 3,
        "percent": {"优秀": 0.0, "合格": 0.0, "基本合格": 0.0, "不合格": 0.0},
        "graded_percent": 0.0, "excellent_limit": 1,
        "ballots": {"peer": {"issued": None, "returned": None, "typed": 3},
                    "mass": {"issued": None, "returned": None, "typed": 2},
                    "committee": {"issued": None, "returned": None, "typed": 1}}}
    assert [set(m) for m in doc["members"]] == [set(MEMBERS[0])] * 3
    assert doc["lookback"] == {
        "items": [{"name": i.name, "mean": m} for i, m in zip(DEFS.lookback_items, LOOKBACK_MEANS)],
        "total": 93.0}
    assert doc["satisfaction"] == SATISFACTION
    assert beyond_steps(doc["findings"]) == []


def test_worked_examples_text(tmp_path, capsys):
    path = worked_book(tmp_path)
    code, out, err = run(capsys, "compute", path)
    assert code == 0, err
    ranked = [ln.split() for ln in out.splitlines() if "88.17" in ln or "79.25" in ln
              or "86.00" in ln]
    assert ranked == [["1", "张三", "88.17"], ["2", "王五", "86.00"], ["3", "李四", "79.25"]]


def test_validate_json_of_a_clean_book(tmp_path, capsys):
    code, out, err = run(capsys, "validate", worked_book(tmp_path), "--json")
    assert code == 0, err
    assert set(json.loads(out)) == {"findings"}
    assert beyond_steps(json.loads(out)["findings"]) == []


# --- a messy workbook -----------------------------------------------------------------

MESSY_CELLS = {
    PEER: {"C2": "８", "D2": "8分",  # 张三, ballot 1: numbers as text
           "C3": "八",  # 李四, ballot 1
           "C4": 11},  # 王五, ballot 1: 11 in a 10-point item
    MASS: {"J2": 35,  # 张三, ballot 1: 35 in 工作绩效 (30)
           **{f"{c}6": None for c in "EFGHIJ"}},  # 李四, ballot 2: only C6, D6 typed
    COMMITTEE: {"B4": "赵六"},  # not on the roster
}
MESSY_TYPED_OVER = {SUMMARY: {"J3": 88}}
MESSY_FINDINGS = {
    ("score-text-number", PEER, "C2"),
    ("score-text-number", PEER, "D2"),
    ("score-not-number", PEER, "C3"),
    ("score-out-of-range", PEER, "C4"),
    ("score-out-of-range", MASS, "J2"),
    ("ballot-half-filled", MASS, "E6"),
    ("ballot-unknown-name", COMMITTEE, "B4"),
    ("formula-overwritten", SUMMARY, "J3"),
}


@pytest.fixture
def messy(tmp_path):
    return worked_book(tmp_path, cells=MESSY_CELLS, typed_over=MESSY_TYPED_OVER)


def test_messy_validate(messy, capsys):
    before = messy.read_bytes()
    code, out, err = run(capsys, "validate", messy, "--json")
    assert code == 1
    found = beyond_steps(json.loads(out)["findings"])
    assert triples(found) == MESSY_FINDINGS
    assert len(found) == len(MESSY_FINDINGS)
    for f in found:
        assert set(f) == {"code", "severity", "sheet", "cell", "message"}
        assert CJK.search(f["message"])
    assert [f["severity"] for f in found] == ["error"] * 6 + ["warning"] * 2, "errors first"
    assert messy.read_bytes() == before


def test_messy_validate_text(messy, capsys):
    code, out, _ = run(capsys, "validate", messy)
    assert code == 1
    for code_, sheet, cell in MESSY_FINDINGS:
        assert f"{sheet}!{cell}" in out


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_messy_compute_refuses(messy, capsys, json_flag):
    before = messy.read_bytes()
    code, out, err = run(capsys, "compute", messy, *json_flag)
    assert code == 1
    if json_flag:
        doc = json.loads(out)
        assert set(doc) == {"findings"}, "no figures from a workbook with errors"
        assert triples(doc["findings"]) == MESSY_FINDINGS
    assert messy.read_bytes() == before
    assert sorted(p.name for p in messy.parent.iterdir()) == ["名册", messy.name]


def test_unit_option(tmp_path, capsys):
    path = worked_book(tmp_path)
    code, out, _ = run(capsys, "validate", path, "--unit", "兴隆街社区", "--json")
    assert code == 1
    assert triples(json.loads(out)["findings"]) == {("identity-unit", L.INTRO, "B3")}
    assert run(capsys, "validate", path, "--unit", "机关")[0] == 0


# --- files that cannot be used at all -------------------------------------------------

def _text_file(tmp_path):
    path = tmp_path / "名单.xlsx"
    path.write_text("姓名,职务\n张三,书记\n", encoding="utf-8")
    return path


def _plain_workbook(tmp_path):
    path = tmp_path / "别人的表.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "得分"])
    wb.active.append(["张三", 90])
    wb.save(path)
    return path


def _missing(tmp_path):
    return tmp_path / "没有这个文件.xlsx"


def _folder(tmp_path):
    path = tmp_path / "文件夹.xlsx"
    path.mkdir()
    return path


@pytest.mark.parametrize("command", ["validate", "compute"])
@pytest.mark.parametrize("make", [_text_file, _plain_workbook, _missing, _folder])
def test_unusable_file(tmp_path, capsys, command, make):
    path = make(tmp_path)
    before = path.read_bytes() if path.is_file() else None
    code, out, err = run(capsys, command, path, "--json")
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert CJK.search(lines[0]) and path.name in lines[0]
    assert "Traceback" not in err
    if before is not None:
        assert path.read_bytes() == before
    else:
        assert not path.is_file()


# --- a successful compute -------------------------------------------------------------

def _text_numbers():
    """The worked example with numbers typed as text: 全角 digits, 8分, 10人, ９."""
    ballots = B.worked_ballots()
    zhang = ballots["peer"][0]["张三"]
    typed = {PEER: {"C2": str(zhang[0]).translate(FULLWIDTH), "D2": f"{zhang[1]}分"},
             SAT: {"C5": f"{F.CATEGORIES[0]}人"},
             LB: {"B2": str(F.LOOKBACK[0][0]).translate(FULLWIDTH)}}
    plain = {PEER: {"C2": zhang[0], "D2": zhang[1]}, SAT: {"C5": F.CATEGORIES[0]},
             LB: {"B2": F.LOOKBACK[0][0]}}
    return typed, plain


@pytest.fixture(scope="module")
def computed(tmp_path_factory):
    """The text-number book after one compute: (path, first outcome, JSON doc)."""
    tmp = tmp_path_factory.mktemp("computed")
    typed, _ = _text_numbers()
    path = worked_book(tmp, cells=typed)
    outcome = compute_file(path, DEFS)
    assert outcome.written
    return path, outcome


def test_compute_reports_the_text_numbers(computed):
    _, outcome = computed
    assert B.codes_cells(outcome.findings) == {
        ("score-text-number", PEER, "C2"), ("score-text-number", PEER, "D2"),
        ("satisfaction-text-number", SAT, "C5"), ("lookback-text-number", LB, "B2")}


def test_text_numbers_became_numbers(computed):
    path, _ = computed
    _, plain = _text_numbers()
    wb = openpyxl.load_workbook(path)
    for sheet, cells in plain.items():
        for addr, number in cells.items():
            c = wb[sheet][addr]
            assert c.data_type == "n" and c.value == number and type(c.value) is int, (sheet, addr)


def test_results_sheet_and_stamp(computed):
    path, outcome = computed
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames.count(RESULTS) == 1
    assert wb.sheetnames[-1] == RESULTS and wb.sheetnames.count(RESULTS) == 1, "added last, once"
    ws = wb[RESULTS]
    stamp = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(3, 9)}
    assert set(stamp) == {"计算时间", "计算程序", "定义集及版本", "输入指纹", "错误数", "提醒数"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", str(stamp["计算时间"]))
    assert str(stamp["计算程序"]).startswith("xlsheets ")
    assert stamp["定义集及版本"] == f"{DEFS.id} {DEFS.version}"
    assert re.fullmatch(r"[0-9a-f]{16}", str(stamp["输入指纹"]))
    assert (str(stamp["错误数"]), str(stamp["提醒数"])) == ("0", "10")  # 4 text numbers, 5 blank registers, the seed schedule
    listed = {(row[1], row[2], row[3]) for row in ws.iter_rows(min_row=11, values_only=True)
              if row[3]}
    assert listed == {(f.sheet, f.cell, f.code) for f in outcome.findings}


def test_summary_shows_rounded_figures_and_keeps_exact_ones(computed):
    """R8: the shown cells hold the rounded figure itself; hidden columns the exact one."""
    path, _ = computed
    ws = openpyxl.load_workbook(path, data_only=True)[SUMMARY]
    assert [ws[f"J{r}"].value for r in (3, 4, 5)] == [88.17, 79.25, 86.0]
    assert ws["E3"].value == 87.67  # 263/3 shown
    # hidden: M-O the exact group means, P the exact composite (88 + 1/6, not 88.17)
    assert ws["P3"].value == pytest.approx(88 + 1 / 6, abs=1e-9)
    assert ws["M3"].value == pytest.approx(263 / 3, abs=1e-12)
    assert all(d.hidden for d in ws.column_dimensions.values() if d.min <= 16 <= d.max)
    assert any(d.min <= 13 and 16 <= d.max for d in ws.column_dimensions.values())
    assert [ws[f"K{r}"].value for r in (3, 4, 5)] == [1, 3, 2]
    opinion = openpyxl.load_workbook(path, data_only=True)[L.OPINION_FORM]
    assert opinion["F3"].value == 88.17


def test_pandas_sees_numbers(computed):
    pd = pytest.importorskip("pandas")
    path, _ = computed
    df = pd.read_excel(path, sheet_name=SUMMARY, header=1, engine="openpyxl")
    assert df["姓名"].tolist() == ["张三", "李四", "王五"]
    assert df["综合得分"].dtype.kind == "f"
    assert df["综合得分"].tolist() == [88.17, 79.25, 86.0]  # R8, as shown
    assert df["排名"].tolist() == [1, 3, 2]
    assert df["党员互评票数"].tolist() == [3, 3, 3]


def test_compute_twice(tmp_path, capsys):
    typed, _ = _text_numbers()
    path = worked_book(tmp_path, cells=typed)
    code, out1, err = run(capsys, "compute", path, "--json")
    assert code == 0, err
    code, out2, err = run(capsys, "compute", path, "--json")
    assert code == 0, err
    first, second = json.loads(out1), json.loads(out2)
    assert {k: v for k, v in first.items() if k != "findings"} == \
        {k: v for k, v in second.items() if k != "findings"}
    assert first["members"] == MEMBERS
    # The text-numbers were fixed by the first run; nothing else changed.
    assert beyond_steps(second["findings"]) == [
        f for f in beyond_steps(first["findings"]) if not f["code"].endswith("text-number")] == []
    with BookFile.open(path) as b:
        assert b.sheet_names.count(RESULTS) == 1
    assert openpyxl.load_workbook(path).sheetnames.count(RESULTS) == 1


def _declare_r_per_sheet(path):
    """Move the r: declaration from workbook.xml's root onto each <sheet>, as openpyxl
    3.0 writes it (openpyxl 3.1 declares it on the root when it writes defined names)."""
    ns = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    with zipfile.ZipFile(path) as zf:
        entries = [(i, zf.read(i)) for i in zf.infolist()]
    tmp = Path(path).with_suffix(".moving")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in entries:
            if info.filename == "xl/workbook.xml":
                text = data.decode("utf-8")
                start = text.index("<workbook")
                end = text.index(">", start)
                text = text[:start] + text[start:end].replace(" " + ns, "") + text[end:]
                text = re.sub(r"<sheet ", f"<sheet {ns} ", text)
                data = text.encode("utf-8")
                ET.fromstring(data)  # still well-formed and bound
            out.writestr(info, data)
    os.replace(tmp, path)


@pytest.mark.libreoffice
def test_workbook_saved_by_openpyxl_survives_two_computes(soffice, tmp_path, capsys):
    """openpyxl declares the r: prefix on each <sheet>, not on the root: what compute
    adds to workbook.xml must bind its own prefixes (a file we damage is a lost file)."""
    path = worked_book(tmp_path)
    wb = openpyxl.load_workbook(path)
    wb.save(path)  # what an office script or a pandas user hands back
    _declare_r_per_sheet(path)
    text = zipfile.ZipFile(path).read("xl/workbook.xml").decode("utf-8")
    root_tag = text[text.index("<workbook"):text.index(">", text.index("<workbook"))]
    assert "xmlns:r=" not in root_tag, "the case this test is about: no r: on the root"
    for _ in range(2):
        code, out, err = run(capsys, "compute", path, "--json")
        assert code == 0, err
        assert json.loads(out)["members"] == MEMBERS
    assert openpyxl.load_workbook(path).sheetnames.count(RESULTS) == 1
    with BookFile.open(path) as b:
        assert b.sheet_names.count(RESULTS) == 1
    values = lo.read_values(lo.recalc(path, tmp_path / "lo"))
    assert [row[9] for row in values[L.SUMMARY][2:5]] == [88.17, 79.25, 86.0]
    assert RESULTS in values


def test_compute_twice_keeps_warnings(tmp_path, capsys):
    ballots = B.worked_ballots()
    ballots["peer"][2] = {}  # an empty ballot: a warning that stays
    path = worked_book(tmp_path, ballots, levels=[28, 5, 1])
    code, out1, _ = run(capsys, "compute", path, "--json")
    code2, out2, _ = run(capsys, "compute", path, "--json")
    assert code == code2 == 0
    first, second = json.loads(out1), json.loads(out2)
    assert first == second
    assert triples(first["findings"]) == {("ballot-empty", PEER, "A8"),
                                          ("satisfaction-under-total", SAT, "B5")}


# --- LibreOffice agrees with every cached value ---------------------------------------

def formula_cells(path):
    """{(sheet, A1): cached value} of every formula cell, read with openpyxl."""
    formulas = openpyxl.load_workbook(path)
    cached = openpyxl.load_workbook(path, data_only=True)
    out = {}
    for ws in formulas.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f" or not isinstance(c.value, (str, int, float, type(None))):
                    out[(ws.title, c.coordinate)] = cached[ws.title][c.coordinate].value
    return out


def recalculated(path, tmp):
    """LibreOffice's values of a copy of ``path``, with a sentinel proving recalculation."""
    src = tmp / "lo-in" / path.name
    src.parent.mkdir()
    shutil.copy2(path, src)
    ws = openpyxl.load_workbook(src)[SUMMARY]
    sentinel = f"{L.col(ws.max_column + 1)}1"
    lo.plant_sentinel(src, SUMMARY, sentinel)
    values = lo.read_values(lo.recalc(src, tmp / "lo-out"))
    assert lo.cell(values, SUMMARY, sentinel) == lo.SENTINEL_VALUE
    return values


def disagreements(path, tmp):
    cached = formula_cells(path)
    assert len(cached) > 50
    values = recalculated(path, tmp)
    bad = []
    for (sheet, addr), mine in cached.items():
        theirs = lo.cell(values, sheet, addr)
        mine, theirs = ("" if mine is None else mine), ("" if theirs is None else theirs)
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool)
                      for v in (mine, theirs))
        if numbers and math.isclose(mine, theirs, rel_tol=0, abs_tol=1e-9):
            continue
        if not numbers and mine == theirs:
            continue
        bad.append((sheet, addr, mine, theirs))
    return bad


@pytest.mark.libreoffice
def test_cached_values_match_libreoffice(computed, soffice, tmp_path):
    path, _ = computed
    assert disagreements(path, tmp_path) == []


@pytest.mark.libreoffice
def test_cached_values_match_libreoffice_with_gaps(soffice, tmp_path):
    """Missing groups, empty rows and ballots, under-total: the formulas' statuses agree too."""
    ballots = B.worked_ballots()
    ballots["peer"][2] = {}
    del ballots["mass"][0]["王五"]
    path = worked_book(tmp_path, ballots, levels=[28, 5, 1],
                       lookback=[F.LOOKBACK[0], F.LOOKBACK[1][:5] + [None] * 5])
    outcome = compute_file(path, DEFS)
    assert outcome.written
    assert disagreements(path, tmp_path) == []


# --- never half-written ---------------------------------------------------------------

@pytest.mark.parametrize("lock", ["~$机关.xlsx", ".~lock.机关.xlsx#"])
def test_compute_refuses_an_open_workbook(tmp_path, capsys, lock):
    path = worked_book(tmp_path)
    (tmp_path / lock).write_bytes(b"owner")
    before = path.read_bytes()
    code, out, err = run(capsys, "compute", path)
    assert code == 2
    assert CJK.search(err) and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert path.read_bytes() == before
    assert run(capsys, "validate", path)[0] == 0, "reading an open workbook is fine"


@pytest.mark.parametrize("error, status", [(OSError(28, "No space left on device"), 2),
                                           (KeyboardInterrupt(), 130)])
def test_failed_write_leaves_the_original(tmp_path, capsys, monkeypatch, error, status):
    typed, _ = _text_numbers()
    path = worked_book(tmp_path, cells=typed)
    before = path.read_bytes()
    listing = sorted(os.listdir(tmp_path))

    def broken(src, dst, updates, add_sheets=None, names=None, **options):
        Path(dst).write_bytes(b"PK\x03\x04 half a workbook")
        raise error

    monkeypatch.setattr("xlsheets.files.compute.write_patched", broken)
    code, out, err = run(capsys, "compute", path)
    assert code == status
    assert "Traceback" not in err
    if status == 2:  # a full disk: one message naming the file, the cause and the outcome
        assert len(err.strip().splitlines()) == 1 and str(path) in err, err
        assert "磁盘已满" in err and "原文件未改动" in err, err
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == listing, "no temporary file left beside it"


@pytest.mark.libreoffice
def test_book_resaved_by_libreoffice(soffice, tmp_path):
    """A clerk's spreadsheet program re-saves the whole file: same findings, same figures."""
    typed, plain = _text_numbers()
    original = worked_book(tmp_path, cells=typed)
    resaved = lo.recalc(original, tmp_path / "resaved")
    first, _ = validate_file(original, DEFS)
    again, _ = validate_file(resaved, DEFS)
    assert [(f.code, f.sheet, f.cell) for f in again.findings] == \
        [(f.code, f.sheet, f.cell) for f in first.findings]
    assert compute_file(resaved, DEFS).written
    ws = openpyxl.load_workbook(resaved, data_only=True)[SUMMARY]
    assert ws["J3"].value == 88.17 and ws["P3"].value == pytest.approx(88 + 1 / 6, abs=1e-9)
    (tmp_path / "check").mkdir()
    assert disagreements(resaved, tmp_path / "check") == []


# --- the core's figures and the workbook's formulas must not part ---------------------

def _written_or_refused(path, tmp, cell):
    """Either compute refuses with a finding at ``cell``, or LibreOffice agrees with it."""
    outcome = compute_file(path, DEFS)
    if not outcome.written:
        assert (cell[0], cell[1]) in {(f.sheet, f.cell) for f in outcome.findings}
        return
    assert disagreements(path, tmp) == []


@pytest.mark.libreoffice
def test_padded_name_agrees_with_the_formulas(soffice, tmp_path):
    path = worked_book(tmp_path, cells={PEER: {"B3": " 李四 "}})
    _written_or_refused(path, tmp_path, (PEER, "B3"))


@pytest.mark.libreoffice
def test_lookback_rows_below_the_form(soffice, tmp_path):
    # PLAN numbers 5 look-back rows (2-6); the clerk typed 6 ballots, the 6th on row 7.
    path = worked_book(tmp_path, lookback=F.LOOKBACK + [[9] * 10, [9] * 10, [10] * 10])
    _written_or_refused(path, tmp_path, (LB, "A7"))


@pytest.mark.libreoffice
def test_tied_composites_rank_alike_in_the_workbook(soffice, tmp_path):
    totals = {"张三": {"peer": [70] * 3, "mass": [71] * 2, "committee": [72]},
              "李四": {"peer": [70] * 3, "mass": [73] * 2, "committee": [70]},
              "王五": {"peer": [80] * 3, "mass": [80] * 2, "committee": [80]}}
    path = worked_book(tmp_path, F.ballots_of(totals, DEFS.items, DEFS.groups))
    outcome = compute_file(path, DEFS)
    assert [m.rank for m in outcome.checked.figures.members] == [2, 2, 1]
    assert disagreements(path, tmp_path) == []


def test_cyclic_garbage_of_a_run_goes_with_the_next_young_collection(tmp_path, monkeypatch):
    """The collector is off during a read-check-write and back on afterwards, as it was:
    a reference cycle the run made is finalized by the next collection of the youngest
    generation (not left for a full collection, which a long-running add-in may not see
    for long), and nested pauses leave the collector to the outermost."""
    import gc

    from xlsheets.files import compute as C

    finalized = []

    class Cycle:
        def __del__(self):
            finalized.append(True)

    real = C.examine

    def examine(*a, **kw):
        assert not gc.isenabled()
        one = Cycle()
        one.me = one  # garbage as soon as this frame ends, reachable only from itself
        return real(*a, **kw)

    monkeypatch.setattr(C, "examine", examine)
    assert gc.isenabled()
    with C.gc_paused():
        assert compute_file(worked_book(tmp_path), DEFS).written
        assert not gc.isenabled()  # the inner pause left it to this one
    assert gc.isenabled()
    gc.collect(0)
    assert finalized == [True]


def test_one_workbook_commands_pause_the_collector_until_they_return(tmp_path, monkeypatch):
    """compute and validate on the command line, and collect's work on each file, run with
    the collector off and turn it back on once what they built is let go."""
    import gc

    from xlsheets.files import compute as C
    from xlsheets.town import collect
    from xlsheets.town.inbox import Item

    seen = []
    real_compute, real_validate = C.compute_file, C.validate_file

    def compute_file(*a, **kw):
        seen.append(("compute", gc.isenabled()))
        return real_compute(*a, **kw)

    def validate_file(*a, **kw):
        seen.append(("validate", gc.isenabled()))
        return real_validate(*a, **kw)

    monkeypatch.setattr(C, "compute_file", compute_file)
    monkeypatch.setattr(C, "validate_file", validate_file)
    monkeypatch.setattr(collect, "validate_file", validate_file)
    path = worked_book(tmp_path)
    assert main(["validate", str(path)]) == 0 and gc.isenabled()
    assert main(["compute", str(path)]) == 0 and gc.isenabled()
    from xlsheets import definitions

    result = collect.examine_workbook(Item(str(path), path.name, "2005-09-01T10:00:00"),
                                      definitions.DEFAULT_SET)
    assert gc.isenabled() and not result.reason
    assert seen == [("validate", False), ("compute", False), ("validate", False)]
