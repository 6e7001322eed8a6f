"""Untrusted inboxes, round two: one bad file is one 拒收 line, never the end of the run.

Attachment names that are paths, carry a NUL or a newline, or run past what a file
system allows; mails nested a thousand deep; archives whose end record lies about
their entries; archives of many large entries (the scratch folder holds one at a
time); mails parsed in the workers under the per-file time bound; folders that
cannot be read; forged saved times; and the finishing steps - the town summary and
its archive - replaced together or not at all, with a true message when they are not.
"""
from __future__ import annotations

import os
import re
import shutil
import sys
import sqlite3
import struct
import zipfile
from pathlib import Path

import pytest

import books as B
import hostile as H
import inboxes as I
from xlsheets.disk import debris
from xlsheets.town import archive, collect as C, inbox as X
from xlsheets.cli import main

XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return B.worked_book(tmp_path_factory.mktemp("good"))


def collect_cli(capsys, inbox, out):
    code = main(["collect", str(inbox), "--out", str(out), "--workers", "1"])
    stdout, err = capsys.readouterr()
    return code, stdout, err


def listed(stdout):
    """The file lines of collect's output."""
    return [x for x in stdout.splitlines() if x.startswith("  [")]


def test_attachment_names_that_are_no_file_names(tmp_path, capsys, good):
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    import base64

    payload = base64.encodebytes(good.read_bytes()).decode("ascii")
    names = ["a/..", "机\x00关.xlsx", "长" * 270 + ".xlsx", "机关.xlsx\n  [采用] 伪造.xlsx",
             "..\\..\\逃出.xlsx", "CON.xlsx", "\x1b[2J清屏.xlsx"]
    parts = [f'--B\nContent-Type: {"/".join(XLSX)}\nContent-Transfer-Encoding: base64\n'
             f'Content-Disposition: attachment; filename="{name}"\n\n{payload}\n'
             for name in names]  # raw, as a hostile sender writes them (no library quoting)
    raw = ('Subject: =?utf-8?b?5Lqk5Zue?=\nDate: Fri, 02 Sep 2005 16:30:00 +0800\nMIME-Version: 1.0\n'
           'Content-Type: multipart/mixed; boundary="B"\n\n' + "".join(parts) + "--B--\n")
    (inbox / "怪名.eml").write_bytes(raw.encode("utf-8"))
    out = tmp_path / "全镇汇总.xlsx"
    code, stdout, err = collect_cli(capsys, inbox, out)
    assert code == 0, err
    assert "程序内部错误" not in stdout + err and "Traceback" not in err
    lines = listed(stdout)
    assert len(lines) == len(names), lines  # one attachment, one line
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", stdout + err), "no control character printed"
    assert not any(x.startswith("  [采用] 伪造") for x in lines), "no forged line"
    forged = [x for x in lines if "伪造" in x]
    assert len(forged) == 1 and not forged[0].startswith("  [采用] 伪造"), "inside its own line"
    assert out.exists() and archive.path_for(out).exists()
    assert not (tmp_path / "逃出.xlsx").exists() and not (inbox.parent / "逃出.xlsx").exists()


def test_safe_names():
    assert X.safe_name("a/..") == "附件.xlsx"
    assert X.safe_name("..\\..\\逃出.xlsx") == "逃出.xlsx"
    assert X.safe_name("机\x00关.xlsx") == "机_关.xlsx"
    assert X.safe_name("CON.xlsx") == "_CON.xlsx"
    long = X.safe_name("长" * 270 + ".xlsx")
    assert len(long.encode("utf-8")) <= 200 and long.endswith(".xlsx") and long.startswith("长长")
    assert X.safe_name("a:b*?.xlsx") == "a_b__.xlsx"


def test_a_mail_nested_a_thousand_deep_is_one_line(tmp_path, capsys, good):
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    head = 'Subject: deep\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b0"\n\n'
    body = []
    for k in range(1000):
        body.append(f'--b{k}\nContent-Type: multipart/mixed; boundary="b{k + 1}"\n\n')
    body.append('--b1000\nContent-Type: text/plain\n\nx\n')
    body += [f"--b{k}--\n" for k in range(1000, -1, -1)]
    (inbox / "深.eml").write_text(head + "".join(body), encoding="ascii")
    shutil.copy(good, inbox / "机关.xlsx")
    code, stdout, err = collect_cli(capsys, inbox, tmp_path / "全镇汇总.xlsx")
    assert code == 0, err
    lines = listed(stdout)
    deep = [x for x in lines if "深.eml" in x]
    assert len(deep) == 1 and "[拒收]" in deep[0] and "嵌套" in deep[0], lines
    assert any("[采用]" in x and "机关.xlsx" in x for x in lines)


def _lying_zip(path, entries, told=1):
    with zipfile.ZipFile(path, "w") as z:
        for i in range(entries):
            z.writestr(f"{i}.xlsx", b"x")
    data = bytearray(path.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, told, told)  # entries on this disk, in total
    path.write_bytes(bytes(data))
    return path


def test_an_archive_lying_about_its_entries_is_counted_for_real(tmp_path, monkeypatch):
    monkeypatch.setattr(X, "MAX_ARCHIVE_ENTRIES", 50)
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    _lying_zip(inbox / "撒谎.zip", 60)
    problems = {i.origin: i.problem for i in I.unpacked(inbox, tmp_path / "scratch")}
    assert "条目超过 50 个" in problems["撒谎.zip"], problems
    assert not (tmp_path / "scratch").exists() or not any((tmp_path / "scratch").rglob("*.xlsx"))


def test_an_archive_of_large_entries_holds_one_at_a_time_in_scratch(tmp_path, good):
    """30 entries of 4 MB each: never more than one of them on disk at once."""
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    blob = (b"not a workbook " * 300_000)[:4 << 20]
    with zipfile.ZipFile(inbox / "大.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.write(good, "机关.xlsx")
        for i in range(30):
            z.writestr(f"大{i}.xlsx", blob)

    def measuring(item, defs_source):
        import tempfile

        for result in C.examine(item, defs_source):
            if isinstance(result, C.Begin):
                yield result
                continue
            roots = Path(tempfile.gettempdir()).glob(f"{debris.SCRATCH_PREFIX}*")
            held = sum(p.stat().st_size for root in roots for p in root.rglob("*") if p.is_file())
            result.reason = f"{result.reason}|{held}"
            yield result

    results = C._parallel(list(X.scan(inbox)), "guanba2005", 1, None, task=measuring)
    assert len(results) == 31
    held = [int(r.reason.rsplit("|", 1)[1]) for r in results]
    assert max(held) <= (4 << 20) + 64, max(held)  # the one being examined, nothing else
    assert results[0].identity["unit"] == "机关"


def test_a_mail_is_parsed_in_the_worker_under_the_time_bound(tmp_path, monkeypatch, good):
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    I.mail_with(inbox / "慢.eml", {"机关.xlsx": good})
    shutil.copy(good, inbox / "甲.xlsx")
    import time

    real = X.email.message_from_binary_file

    def slow(fh, **kw):
        time.sleep(600)  # a mail the parser takes minutes over
        return real(fh, **kw)

    monkeypatch.setattr(X.email, "message_from_binary_file", slow)
    start = time.perf_counter()
    results = {r.origin: r for r in C._parallel(list(X.scan(inbox)), "guanba2005", 1, None,
                                                timeout=2)}
    assert time.perf_counter() - start < 30
    assert "超过 2 秒" in results["慢.eml"].reason
    assert results["甲.xlsx"].identity["unit"] == "机关"


def test_an_unreadable_folder_is_listed(tmp_path, monkeypatch, good):
    inbox = tmp_path / "收件箱"
    (inbox / "锁住的").mkdir(parents=True)
    shutil.copy(good, inbox / "锁住的" / "机关.xlsx")
    shutil.copy(good, inbox / "机关.xlsx")
    real = os.scandir

    def scandir(path="."):
        if Path(path).name == "锁住的":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    items = list(X.scan(inbox))
    locked = [i for i in items if i.origin.startswith("锁住的")]
    assert len(locked) == 1 and "文件夹无法读取" in locked[0].problem
    assert [i.origin for i in items if not i.problem] == ["机关.xlsx"]


def _with_times(src, dst, modified):
    return H.rewrite(src, dst, {"docProps/core.xml": lambda d: re.sub(
        rb"<dcterms:modified([^>]*)>[^<]*</dcterms:modified>",
        b"<dcterms:modified\\1>" + modified.encode() + b"</dcterms:modified>", d)})


@pytest.mark.parametrize("forged", ["9999-12-31T23:59:59Z", "不是时间", "2099-01-01T00:00:00Z"])
def test_a_forged_saved_time_does_not_win_the_version_choice(tmp_path, good, forged):
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    old = _with_times(good, inbox / "旧版.xlsx", forged)
    new = B.worked_book(tmp_path / "new", cells={B.SHEET["mass"]: {"C2": 7}})
    new = Path(shutil.copy(new, inbox / "新版.xlsx"))
    os.utime(old, (1_000_000_000, 1_000_000_000))  # received long ago
    results = {r.origin: r for r in C.collect("guanba2005", inbox, 1)}
    assert results["新版.xlsx"].fate == C.INCLUDED, results["新版.xlsx"].reason
    assert results["旧版.xlsx"].fate == C.SUPERSEDED
    assert "不可信" in results["旧版.xlsx"].reason


# --- the finishing steps: summary and archive, both or neither ------------------------------

@pytest.fixture
def inbox(tmp_path, good):
    folder = tmp_path / "收件箱"
    folder.mkdir()
    shutil.copy(good, folder / "机关.xlsx")
    return folder


def _state(out):
    db = archive.path_for(out)
    return (out.read_bytes() if out.exists() else None, db.read_bytes() if db.exists() else None)


def test_a_corrupt_archive_writes_neither(tmp_path, capsys, inbox):
    out = tmp_path / "汇总" / "全镇汇总.xlsx"
    out.parent.mkdir()
    archive.path_for(out).write_bytes(b"this is not an archive" * 100)
    before = _state(out)
    code, stdout, err = collect_cli(capsys, inbox, out)
    assert code == 2
    errors = [x for x in err.splitlines() if x.startswith("错误")]
    assert len(errors) == 1 and "档案库" in err and "均未写入" in err, err
    assert not [x for x in err.splitlines() if x.startswith("读取 ")]  # said before any file is read
    assert _state(out) == before
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".~")]


def test_a_read_only_archive_writes_neither(tmp_path, capsys, inbox):
    out = tmp_path / "全镇汇总.xlsx"
    assert collect_cli(capsys, inbox, out)[0] == 0
    before = _state(out)
    db = archive.path_for(out)
    os.chmod(db, 0o444)
    try:
        code, stdout, err = collect_cli(capsys, inbox, out)
    finally:
        os.chmod(db, 0o644)
    assert code == 2 and "只读" in err and str(db) in err, err
    assert _state(out) == before


@pytest.mark.parametrize("failing", [1, 2])
def test_a_replace_that_fails_puts_back_what_was_replaced(tmp_path, capsys, inbox, monkeypatch,
                                                          failing):
    out = tmp_path / "全镇汇总.xlsx"
    assert collect_cli(capsys, inbox, out)[0] == 0
    with sqlite3.connect(archive.path_for(out)) as con:
        con.execute("DELETE FROM files")  # so that a second run would change the archive
    before = _state(out)
    import xlsheets.disk.fileio as FIO

    real, calls = os.replace, []

    def replace(src, dst):
        if Path(dst) in (out, archive.path_for(out)) and "old-" not in str(src):
            calls.append(dst)
            if len(calls) == failing:
                raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(FIO.os, "replace", replace)
    code, stdout, err = collect_cli(capsys, inbox, out)
    assert code == 2, err
    assert "磁盘已满" in err and "未写入任何文件" in err, err
    assert _state(out) == before, "both as they were"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".~")]


def test_a_full_disk_while_writing_the_summary(tmp_path, capsys, inbox, monkeypatch):
    out = tmp_path / "全镇汇总.xlsx"
    import xlsheets.town.town_book as T

    def full(defs, results, path):
        Path(path).write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(T, "write", full)
    code, stdout, err = collect_cli(capsys, inbox, out)
    assert code == 2 and "磁盘已满" in err and "未写入任何文件" in err, err
    assert _state(out) == (None, None)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".~")]


def test_a_read_only_output_folder(tmp_path, capsys, inbox, monkeypatch):
    out = tmp_path / "只读" / "全镇汇总.xlsx"
    out.parent.mkdir()
    import tempfile as T

    def refuse(*a, **kw):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(T, "mkstemp", refuse)
    code, stdout, err = collect_cli(capsys, inbox, out)
    assert code == 2 and "没有写入权限" in err and "未写入任何文件" in err, err
    assert _state(out) == (None, None)


def test_a_name_with_escape_sequences_prints_visibly(tmp_path, capsys, good):
    ss = "xl/sharedStrings.xml"
    bad = H.rewrite(good, tmp_path / "转义.xlsx", {ss: lambda d: d.replace(
        "张三".encode(), "张_x001B_[2J校验通过_x000A_三".encode())})
    code = main(["compute", str(bad)])
    stdout, err = capsys.readouterr()
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", stdout + err), repr(stdout + err)
    if code == 0:
        assert "\\x1b" in stdout, stdout


def test_a_stalling_workbook_in_an_archive_does_not_lose_the_rest(tmp_path, good):
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    with zipfile.ZipFile(inbox / "一批.zip", "w") as z:
        for name in ("甲.xlsx", "慢.xlsx", "乙.xlsx"):
            z.write(good, name)
    import time

    def stalling(item, defs_source):
        for result in C.examine(item, defs_source):
            if isinstance(result, C.Begin) and "慢" in result.origin:
                yield result
                time.sleep(600)
            yield result

    start = time.perf_counter()
    results = {r.origin: r for r in C._parallel(list(X.scan(inbox)), "guanba2005", 1, None,
                                                task=stalling, timeout=2)}
    assert time.perf_counter() - start < 40
    assert set(results) == {"一批.zip → 甲.xlsx", "一批.zip → 慢.xlsx", "一批.zip → 乙.xlsx"}
    assert "超过 2 秒" in results["一批.zip → 慢.xlsx"].reason
    for name in ("一批.zip → 甲.xlsx", "一批.zip → 乙.xlsx"):
        assert results[name].identity["unit"] == "机关", results[name].reason


def test_a_name_twice_in_one_archive_is_two_lines_in_summary_and_archive(tmp_path, capsys, good):
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    with zipfile.ZipFile(inbox / "两次.zip", "w") as z:
        z.write(good, "机关.xlsx")
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns of the duplicate name
            z.write(good, "机关.xlsx")
    out = tmp_path / "全镇汇总.xlsx"
    code, stdout, err = collect_cli(capsys, inbox, out)
    assert code == 0, err
    origins = [x.split("] ", 1)[1].split("(")[0] for x in listed(stdout)]
    assert origins == ["两次.zip → 机关.xlsx", "两次.zip → 机关.xlsx "], origins
    with sqlite3.connect(archive.path_for(out)) as con:
        rows = con.execute("SELECT origin, fate, reason FROM files ORDER BY origin").fetchall()
    assert len(rows) == 2 and rows[0][1] == C.INCLUDED and rows[1][1] == C.DUPLICATE, rows
    assert rows[1][0] in rows[1][2] or rows[0][0] in rows[1][2]


def test_an_archive_whose_entries_overlap_is_refused(tmp_path, good):
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    path = inbox / "重叠.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.write(good, "机关.xlsx")
    data = bytearray(path.read_bytes())
    cd = data.rfind(b"PK\x01\x02")
    end = data.rfind(b"PK\x05\x06")
    entry = bytes(data[cd:end])
    copies = [entry.replace("机关.xlsx".encode(), f"机关{i}.xlsx".encode()[:len("机关.xlsx".encode())], 1)
              for i in range(50)]
    body = bytes(data[:cd]) + b"".join(copies)
    tail = bytearray(data[end:])
    struct.pack_into("<HHII", tail, 8, 50, 50, len(b"".join(copies)), cd)
    path.write_bytes(body + bytes(tail))
    problems = {i.origin: i.problem for i in I.unpacked(inbox, tmp_path / "scratch")}
    assert "重叠" in problems["重叠.zip"], problems


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="names as raw bytes: Linux")
def test_a_file_name_in_gbk_bytes_is_read(tmp_path, good):
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    raw = os.fsencode(str(inbox)) + b"/" + "机关.xlsx".encode("gbk")
    with open(raw, "wb") as f:
        f.write(good.read_bytes())
    results = C.collect("guanba2005", inbox, 1)
    assert len(results) == 1 and results[0].identity.get("unit") == "机关", results[0].reason


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_special_files_are_listed(tmp_path, good):
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    os.mkfifo(inbox / "管道.xlsx")
    (inbox / "失效.xlsx").symlink_to(tmp_path / "没有这个.xlsx")
    (inbox / "设备.xlsx").symlink_to("/dev/zero")
    shutil.copy(good, inbox / "机关.xlsx")
    import time

    start = time.perf_counter()
    results = {r.origin: r for r in C.collect("guanba2005", inbox, 1)}
    assert time.perf_counter() - start < 30
    for name in ("管道.xlsx", "失效.xlsx", "设备.xlsx"):
        assert "不是普通文件" in results[name].reason, results[name]
    assert results["机关.xlsx"].identity["unit"] == "机关"


def test_core_properties_that_are_no_xml_cost_nothing(tmp_path, good):
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    H.rewrite(good, inbox / "机关.xlsx", {"docProps/core.xml": b"<dcterms:modified" * 100_000})
    import time

    start = time.perf_counter()
    [r] = C.collect("guanba2005", inbox, 1)
    assert time.perf_counter() - start < 30
    assert r.fate in (C.INCLUDED, C.REJECTED)
    if r.fate == C.INCLUDED:
        assert "不可信" in r.reason


def test_two_collects_into_one_summary_do_not_interleave(tmp_path, capsys, inbox):
    from xlsheets.disk.locks import workbook_lock

    out = tmp_path / "全镇汇总.xlsx"
    with workbook_lock(out):  # another collect is writing this summary right now
        code, stdout, err = collect_cli(capsys, inbox, out)
    assert code == 2 and "另一个 xlsheets 命令正在处理" in err, err
    assert _state(out) == (None, None)
    assert collect_cli(capsys, inbox, out)[0] == 0, "free again afterwards"
