"""Untrusted input: the hostile corpus of ``hostile.py`` through validate, compute and collect.

Every file gets its expected outcome within a few seconds and a bounded amount of
memory: refused with one Chinese message naming the file (exit 2, the file untouched),
flagged with a warning (macros, external links; the data checked in full), or clean
(names beginning with ``=``, ``+``, ``-``, ``@`` stay text everywhere). ``collect`` of
an inbox holding the whole corpus, a zip bomb archive and one good workbook finishes,
keeps the good ones and gives every other file its reason. The collect workers'
bounds are tested on their own: a file that takes too long, a worker that dies, a
worker that runs out of memory.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest

import hostile as H
import inboxes as I
from books import DEFS, STEPS_BLANK
from xlsheets.town import collect as C, inbox as X
from xlsheets.workbook import layout as L
from xlsheets.cli import main

CJK = re.compile(r"[\u4e00-\u9fff]")
SECONDS = 5  # per file, per command
PYTHON_PEAK = 200 << 20  # bytes traced by tracemalloc, per file and command
PROCESS_PEAK = 400 << 20  # resident memory of a process validating the whole corpus
CASES = ["压缩炸弹.xlsx", "十亿笑声.xlsx", "外部实体.xlsx", "不是工作簿.xlsx", "不完整.xlsx", "加密.xlsx",
         "百万行.xlsx", "远处单元格.xlsx", "大小写重名部件.xlsx", "编码重名部件.xlsx", "四字母列.xlsx",
         "四字母列158行.xlsx", "回溯标签.xlsx", "报告覆盖共享字符串.xlsx", "报告覆盖样式.xlsx",
         "报告覆盖内容类型.xlsx", "报告覆盖工作簿.xlsx", "报告覆盖自定义属性.xlsx", "另一工作簿主体.xlsx",
         "处处远行.xlsx", "名称藏在CDATA.xlsx", "报告覆盖测评票.xlsx", "缺内容类型.xlsx", "缺工作簿关系.xlsx", "格式错误.xlsx", "编码无法识别.xlsx", "红旗村(含宏).xlsm", "石桥村(外部链接).xlsx",
         "兴隆街社区(特殊姓名).xlsx"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    good, cases = H.corpus(root / "corpus")
    assert [c.name for c in cases] == CASES
    return {"root": root, "good": good, "cases": {c.name: c for c in cases}}


def run(argv):
    """``main(argv)`` with its output, time and traced Python memory peak."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(a) for a in argv])
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return code, out.getvalue(), err.getvalue(), seconds, peak


def assert_clean_message(text, path):
    assert "Traceback" not in text and "程序内部错误" not in text, text
    assert CJK.search(text), text
    assert str(path) in text, f"the message names the file: {text}"


@pytest.mark.parametrize("name", CASES)
def test_validate_each(corpus, name, tmp_path):
    case = corpus["cases"][name]
    path = Path(shutil.copy(case.path, tmp_path / case.name))
    before = path.read_bytes()
    code, out, err, seconds, peak = run(["validate", path, "--json"])
    assert seconds < SECONDS, f"{name}: {seconds:.1f} s"
    assert peak < PYTHON_PEAK, f"{name}: {peak >> 20} MB"
    assert path.read_bytes() == before
    if case.outcome == H.REFUSED:
        assert code == 2 and not out, (code, out, err)
        assert_clean_message(err, path)
        assert len(err.strip().splitlines()) == 1, "one message"
        for word in case.words:
            assert word in err, (word, err)
        assert "root:" not in err, "no file content leaks into the message"
    else:
        assert code == 0, err
        findings = [f for f in json.loads(out)["findings"] if f["code"] not in STEPS_BLANK]
        assert {f["code"] for f in findings} == set(case.words)
        assert all(f["severity"] == "warning" and f["sheet"] == L.INTRO for f in findings)


@pytest.mark.parametrize("name", CASES)
def test_compute_each(corpus, name, tmp_path):
    case = corpus["cases"][name]
    path = Path(shutil.copy(case.path, tmp_path / case.name))
    before = path.read_bytes()
    code, out, err, seconds, peak = run(["compute", path])
    assert seconds < SECONDS and peak < PYTHON_PEAK, (seconds, peak >> 20)
    if case.outcome == H.REFUSED:
        assert code == 2, (code, out, err)
        assert_clean_message(err, path)
        assert path.read_bytes() == before, "a refused file is never touched"
        assert list(tmp_path.iterdir()) == [path], "no temporary file left behind"
        return
    assert code == 0, err
    assert "已计算并写回" in out
    code, out, _, _, _ = run(["validate", path, "--json"])
    assert code == 0 and {f["code"] for f in json.loads(out)["findings"]} - STEPS_BLANK == set(
        case.words)


def test_compute_keeps_the_macros_and_links_as_they_were(corpus, tmp_path):
    for name, parts in (("红旗村(含宏).xlsm", ["xl/vbaProject.bin"]),
                        ("石桥村(外部链接).xlsx", ["xl/externalLinks/externalLink1.xml",
                                              "xl/externalLinks/_rels/externalLink1.xml.rels"])):
        path = Path(shutil.copy(corpus["cases"][name].path, tmp_path / name))
        with zipfile.ZipFile(path) as z:
            before = {p: z.read(p) for p in parts}
        assert run(["compute", path])[0] == 0
        with zipfile.ZipFile(path) as z:
            assert {p: z.read(p) for p in parts} == before
            if name.endswith(".xlsm"):  # still a macro-enabled workbook, as Excel expects
                assert H.MACRO_WB_CT in z.read("[Content_Types].xml")


def test_names_that_look_like_formulas_stay_text(corpus, tmp_path):
    path = Path(shutil.copy(corpus["cases"]["兴隆街社区(特殊姓名).xlsx"].path, tmp_path / "特殊.xlsx"))
    code, out, err, _, _ = run(["compute", path, "--json"])
    assert code == 0, err
    assert [m["name"] for m in json.loads(out)["members"]] == list(H.FORMULA_NAMES)
    wb = openpyxl.load_workbook(path)
    for sheet, col, first in ((L.ROSTER, 1, 2), (L.SUMMARY, 2, L.SUMMARY_FIRST_ROW + 1)):
        cells = [wb[sheet].cell(first + i, col) for i in range(len(H.FORMULA_NAMES))]
        assert [c.value for c in cells] == list(H.FORMULA_NAMES), sheet
        assert all(c.data_type == "s" for c in cells), sheet
    peer = wb[L.entry_sheet(DEFS.groups[0])]
    typed = {peer.cell(r, 2).value for r in range(2, peer.max_row + 1)} - {None}
    assert typed == set(H.FORMULA_NAMES)
    assert all(peer.cell(r, 2).data_type == "s" for r in range(2, peer.max_row + 1)
               if peer.cell(r, 2).value is not None)


def test_memory_of_a_process_reading_the_whole_corpus(corpus):
    """Resident memory (calamine's native allocations included) in a fresh process that
    validates every corpus file in turn, under an address-space cap as a safety net."""
    script = (
        "import resource, sys, contextlib, io\n"
        "resource.setrlimit(resource.RLIMIT_AS, (3 << 30, resource.getrlimit(resource.RLIMIT_AS)[1]))\n"
        "from xlsheets.cli import main\n"
        "codes = []\n"
        "for path in sys.argv[1:]:\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        "        codes.append(main(['validate', path]))\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        # Linux: ru_maxrss carries the forking parent's size across exec (the test
        # runner's, hundreds of MB late in a run); VmHWM is this process's own peak
        "try:\n"
        "    peak = int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])\n"
        "except (OSError, StopIteration, ValueError):\n"
        "    pass\n"
        "print(codes, peak)\n")
    pytest.importorskip("resource")
    paths = [str(c.path) for c in corpus["cases"].values()]
    done = subprocess.run([sys.executable, "-c", script, *paths], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    codes, maxrss = done.stdout.rsplit("]", 1)
    expected = [2 if c.outcome == H.REFUSED else 0 for c in corpus["cases"].values()]
    assert json.loads(codes + "]") == expected
    peak = int(maxrss) * (1 if sys.platform == "darwin" else 1024)
    print(f"\npeak resident memory validating the corpus: {peak >> 20} MB")
    assert peak < PROCESS_PEAK, f"{peak >> 20} MB"


# --- collect -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", CASES)
def test_scans_after_the_parse_decide_as_beside_it(corpus, name, tmp_path):
    """collect's workers scan each sheet after calamine's parse, validate beside it: the
    same refusal (the same message) or the same findings and figures, file by file."""
    from xlsheets.errors import XlsheetsError
    from xlsheets.files.compute import validate_file

    case = corpus["cases"][name]
    seen = []
    for scan_thread in (True, False):
        path = Path(shutil.copy(case.path, tmp_path / f"{scan_thread}-{case.name}"))
        try:
            outcome, grids = validate_file(path, DEFS, password=None, scan_thread=scan_thread)
        except XlsheetsError as e:
            seen.append(("refused", type(e).__name__, str(e).replace(str(path), "PATH")))
            continue
        seen.append(("read", [f.as_dict() for f in outcome.findings], grids.entries,
                     outcome.checked.figures))
    assert seen[0] == seen[1]
    assert seen[0][0] == ("refused" if case.outcome == H.REFUSED else "read")


def test_collect_of_the_whole_corpus(corpus, tmp_path):
    inbox = tmp_path / "收件箱"
    shutil.copytree(corpus["root"] / "corpus", inbox)
    shutil.copy(corpus["good"], inbox / "机关.xlsx")
    H.bomb_archive(inbox / "炸弹.zip")
    out = tmp_path / "汇总" / "全镇汇总.xlsx"
    start = time.perf_counter()
    code, stdout, err, _, _ = run(["collect", inbox, "--out", out, "--workers", "2"])
    seconds = time.perf_counter() - start
    assert code == 0, err
    assert "Traceback" not in stdout + err and "程序内部错误" not in stdout + err
    assert seconds < 60, seconds
    from xlsheets.town.collect import collect

    results = {r.origin: r for r in collect("guanba2005", inbox, 2)}
    expected = {c.name: c for c in corpus["cases"].values()}
    assert set(results) == set(expected) | {"机关.xlsx", "炸弹.zip → 机关.xlsx"}
    assert results["机关.xlsx"].fate == C.INCLUDED and not results["机关.xlsx"].reason
    bomb = results["炸弹.zip → 机关.xlsx"]
    assert bomb.fate == C.REJECTED and "压缩比" in bomb.reason
    for name, case in expected.items():
        r = results[name]
        assert CJK.search(r.reason or "采用") and "Traceback" not in r.reason
        if case.outcome == H.REFUSED:
            assert r.fate == C.REJECTED, (name, r.fate, r.reason)
            assert all(w in r.reason for w in case.words), (name, r.reason)
            assert f"[拒收] {name}:{r.reason}" in stdout
        else:
            assert r.fate == C.INCLUDED, (name, r.fate, r.reason)
            assert r.identity["unit"] == case.unit
            assert {f["code"] for f in r.findings} - STEPS_BLANK == set(case.words)
            assert bool(r.reason) == bool(case.words), r.reason
    wb = openpyxl.load_workbook(out)
    members = wb["党员得分"]
    names = [c for row in members.iter_rows() for c in row if c.value in H.FORMULA_NAMES]
    assert len(names) == len(H.FORMULA_NAMES) and all(c.data_type == "s" for c in names)
    files = [row for row in wb["文件清单"].iter_rows(values_only=True)]
    macro_row = next(r for r in files if r and r[0] == "红旗村(含宏).xlsm")
    assert any(isinstance(v, str) and "宏" in v for v in macro_row)


def _slow_or_dying(item, defs_source):
    """A worker task for the bounds tests: stalls, dies or eats memory on cue."""
    if "慢" in item.origin:
        time.sleep(600)
    if "崩" in item.origin:
        os._exit(70)
    if "贪" in item.origin:
        import resource

        if resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY:
            return C.FileResult(item.origin, item.received, reason="no memory limit in the worker")
        hog = bytearray(3 << 30)  # more than MEMORY_LIMIT above the worker's start
        return hog[:1]
    return C.examine(item, defs_source)


def test_a_file_that_stalls_or_kills_its_worker_is_rejected_and_the_rest_goes_on(corpus, tmp_path):
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    for name in ("甲.xlsx", "慢.xlsx", "乙.xlsx", "崩.xlsx", "丙.xlsx"):
        shutil.copy(corpus["good"], inbox / name)
    items = list(X.scan(inbox))
    seen = []
    start = time.perf_counter()
    results = C._parallel(items, "guanba2005", 2, lambda d, t, o: seen.append((d, o)),
                          task=_slow_or_dying, timeout=2)
    assert time.perf_counter() - start < 20
    by = {r.origin: r for r in results}
    assert [r.origin for r in results] == [i.origin for i in items], "in the inbox's order"
    assert "超过 2 秒" in by["慢.xlsx"].reason and not by["慢.xlsx"].identity
    assert "意外退出" in by["崩.xlsx"].reason
    assert by["慢.xlsx"].hash == by["甲.xlsx"].hash, "a lost file is still fingerprinted"
    for name in ("甲.xlsx", "乙.xlsx", "丙.xlsx"):
        assert by[name].identity["unit"] == "机关" and not by[name].reason
    assert sorted(d for d, _ in seen) == [1, 2, 3, 4, 5]
    assert {r.fate for r in C.decide(results) if r.origin in ("慢.xlsx", "崩.xlsx")} == {C.REJECTED}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced on Linux")
def test_a_worker_out_of_memory_rejects_the_file(corpus, tmp_path):
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    for name in ("贪.xlsx", "甲.xlsx"):
        shutil.copy(corpus["good"], inbox / name)
    items = list(X.scan(inbox))
    results = {r.origin: r for r in C._parallel(items, "guanba2005", 1, None, task=_slow_or_dying)}
    assert results["贪.xlsx"].reason == C.OUT_OF_MEMORY
    assert results["甲.xlsx"].identity["unit"] == "机关", "the same worker goes on"


def test_archives_and_mails_are_bounded_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(X, "MAX_ARCHIVE_ENTRIES", 50)
    monkeypatch.setattr(X, "MAX_MAIL", 1000)
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    with zipfile.ZipFile(inbox / "很多.zip", "w") as z:
        for i in range(60):
            z.writestr(f"{i}.xlsx", b"x")
    I.mail_with(inbox / "大.eml", {"机关.xlsx": inbox / "很多.zip"})
    with zipfile.ZipFile(inbox / "加密.zip", "w") as z:
        z.writestr("机关.xlsx", b"x")
    data = bytearray((inbox / "加密.zip").read_bytes())  # set the "encrypted" flag bit
    for sig, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = data.find(sig)
        data[i + at] |= 1
    (inbox / "加密.zip").write_bytes(bytes(data))
    problems = {i.origin: i.problem for i in I.unpacked(inbox, tmp_path / "scratch")}
    assert "条目超过 50 个" in problems["很多.zip"]
    assert "邮件文件超过" in problems["大.eml"]
    assert "密码" in problems["加密.zip → 机关.xlsx"]
