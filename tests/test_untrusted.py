"""Untrusted files, round two: faults of the file system and of other programs.

compute writes only the bytes it read and checked, and replaces the file only if it
is still the file it read; it never replaces a read-only file, follows a symbolic
link to its target, keeps owner, group and mode; a killed command's temporary files
are removed by the next one; a roster too long for one workbook is refused before
anything members x members is built; an error value typed in a score is not a blank.
"""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

import books as B
import hostile as H
from xlsheets.workbook import layout as L
from xlsheets.cli import main
from xlsheets.files.compute import compute_file
from xlsheets.disk.fileio import Snapshot, StaleError
from xlsheets.disk.locks import debris_tag

MASS = B.SHEET["mass"]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_message(err, *words):
    assert "Traceback" not in err and "程序内部错误" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    for w in words:
        assert w in err, (w, err)


def test_a_read_only_workbook_is_not_replaced(tmp_path, capsys):
    path = B.worked_book(tmp_path)
    before = path.read_bytes()
    os.chmod(path, 0o444)
    try:
        code, out, err = run(capsys, "compute", path)
    finally:
        os.chmod(path, 0o644)
    assert code == 2
    one_message(err, str(path), "只读")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".~")) == []


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_a_symbolic_link_is_followed_and_stays_a_link(tmp_path, capsys):
    real = B.worked_book(tmp_path / "real")
    link = tmp_path / "机关-链接.xlsx"
    link.symlink_to(real)
    code, out, err = run(capsys, "compute", link)
    assert code == 0, err
    assert link.is_symlink() and link.resolve() == real.resolve()
    with zipfile.ZipFile(real) as z:
        assert any("校验结果".encode() in z.read(n) for n in z.namelist() if n.endswith("workbook.xml"))


def test_mode_owner_and_group_are_kept(tmp_path):
    path = B.worked_book(tmp_path)
    os.chmod(path, 0o640)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.chown(path, 4321, 4321)  # root may give the file to another user: it stays theirs
    before = os.stat(path)
    assert compute_file(path, B.DEFS).written
    after = os.stat(path)
    assert stat.S_IMODE(after.st_mode) == 0o640
    assert (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)


def test_a_file_saved_by_another_program_meanwhile_is_not_overwritten(tmp_path, monkeypatch):
    """The file changes between compute's read and its replace: refused, the newer save kept."""
    path = B.worked_book(tmp_path)
    newer = B.worked_book(tmp_path / "newer", cells={MASS: {"C2": 7}})
    import xlsheets.files.compute as C

    real = C.write_patched

    def slow_write(*args, **kw):
        out = real(*args, **kw)
        path.write_bytes(newer.read_bytes())  # a clerk's program saves right now
        return out

    monkeypatch.setattr(C, "write_patched", slow_write)
    with pytest.raises(StaleError) as e:
        compute_file(path, B.DEFS)
    assert str(path) in str(e.value) and "未写入" in str(e.value)
    assert path.read_bytes() == newer.read_bytes(), "the newer save is what stays"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".~xlsheets-")]


def test_compute_writes_from_the_bytes_it_checked(tmp_path, monkeypatch):
    """Whatever lands on disk after the read, the write starts from the checked copy."""
    path = B.worked_book(tmp_path)
    checked = Snapshot.of(path)
    import xlsheets.files.compute as C

    seen = []
    real = C.write_patched

    def spy(src, *args, **kw):
        seen.append(Snapshot.of(src))
        return real(src, *args, **kw)

    monkeypatch.setattr(C, "write_patched", spy)
    assert compute_file(path, B.DEFS).written
    assert seen and seen[0].same_bytes(checked) and Path(path).stat().st_size > 0


def test_a_live_writer_never_gets_a_stale_stamp(tmp_path, capsys):
    """Another program saves the file once, at a moment of its own, while compute runs:
    compute either writes the figures of the bytes it read or refuses; what is left on
    disk is never a newer save carrying an older stamp (validate would say stamp-stale)."""
    import random

    rng = random.Random(5)
    source = B.worked_book(tmp_path / "a")
    other = B.worked_book(tmp_path / "b", cells={MASS: {"C2": 7}}).read_bytes()
    path = tmp_path / "机关.xlsx"
    outcomes = []
    for _ in range(12):
        path.write_bytes(source.read_bytes())
        delay = rng.uniform(0, 0.6)

        def save():
            time.sleep(delay)
            tmp = path.with_name("other.tmp")
            tmp.write_bytes(other)
            os.replace(tmp, path)

        t = threading.Thread(target=save)
        t.start()
        try:
            outcomes.append("written" if compute_file(path, B.DEFS).written else "not")
        except StaleError:
            outcomes.append("stale")
        t.join()
        code, out, err = run(capsys, "validate", path, "--json")
        codes = {f["code"] for f in json.loads(out)["findings"]}
        assert "stamp-stale" not in codes, (outcomes, delay)
    assert set(outcomes) <= {"written", "stale"}, outcomes


def test_debris_of_a_killed_command_is_removed_by_the_next(tmp_path):
    path = B.worked_book(tmp_path)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    leftover = tmp_path / f".~xlsheets-{debris_tag(int(dead))}abc.xlsx"
    leftover.write_bytes(b"half a workbook")
    alive = tmp_path / f".~xlsheets-{debris_tag()}mine.xlsx"  # this process: still running
    alive.write_bytes(b"in use")
    assert compute_file(path, B.DEFS).written
    assert not leftover.exists(), "a dead process's temporary file is gone"
    assert alive.exists(), "a live process's is kept"


def test_a_roster_too_long_for_one_workbook(tmp_path, capsys):
    from xlsheets.files.roster import MAX_MEMBERS

    csv = tmp_path / "名册.csv"
    csv.write_text("姓名\n" + "".join(f"党员{i}\n" for i in range(MAX_MEMBERS + 1)),
                   encoding="utf-8")
    code, out, err = run(capsys, "new", "--unit", "机关", "--roster", csv,
                         "--out", tmp_path / "大.xlsx")
    assert code == 2
    one_message(err, str(csv), f"{MAX_MEMBERS + 1:,}", "上限")
    assert not (tmp_path / "大.xlsx").exists()


def test_a_workbook_whose_roster_is_too_long_is_refused_before_the_matrix(tmp_path, capsys):
    path = B.worked_book(tmp_path)
    part = H.sheet_part(path, L.ROSTER)
    rows = "".join(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>党员{r}</t></is></c></row>'
                   for r in range(5, 7005))
    bad = H.rewrite(path, tmp_path / "七千人.xlsx",
                    {part: lambda d: d.replace(b"</sheetData>", rows.encode() + b"</sheetData>", 1)})
    import tracemalloc

    tracemalloc.start()
    try:
        code, out, err = run(capsys, "validate", bad)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert code == 2
    one_message(err, str(bad), "名册", "上限")
    assert peak < 200 << 20


def test_an_error_value_in_a_score_is_not_a_blank(tmp_path, capsys):
    path = B.worked_book(tmp_path)
    part = H.sheet_part(path, MASS)
    with zipfile.ZipFile(path) as z:
        data = z.read(part)
    import re

    m = re.search(rb'<c r="C2"[^>]*?(?:/>|>.*?</c>)', data, re.S)
    assert m, "the first ballot's first score"
    cell = b'<c r="C2" t="e"><v>#DIV/0!</v></c>'
    bad = H.rewrite(path, tmp_path / "错误值.xlsx", {part: data.replace(m[0], cell, 1)})
    code, out, err = run(capsys, "validate", bad, "--json")
    found = [f for f in json.loads(out)["findings"] if f["sheet"] == MASS and f["cell"] == "C2"]
    assert found, out
    assert any("#DIV/0!" in f["message"] for f in found), found
    assert not any("未填" in f["message"] or "missing" in f["code"] for f in found), found


def test_a_full_temp_folder(tmp_path, capsys, monkeypatch):
    """compute copies the workbook to a private temp folder first; collect unpacks there."""
    path = B.worked_book(tmp_path)
    before = path.read_bytes()
    import tempfile

    def full(*a, **kw):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "mkdtemp", full)
    code, out, err = run(capsys, "compute", path)
    assert code == 2
    one_message(err, str(path), "临时文件夹", "磁盘已满")
    assert path.read_bytes() == before
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    H.rewrite(path, inbox / "机关.xlsx")
    code, out, err = run(capsys, "collect", inbox, "--out", tmp_path / "全镇汇总.xlsx",
                         "--workers", "1")
    assert code == 0, err  # the run goes on; the file says why it was not read
    line = next(x for x in out.splitlines() if "机关.xlsx" in x)
    assert "[拒收]" in line and "临时文件夹" in line, out


def test_an_attribute_value_cannot_pose_as_the_row_number(tmp_path):
    """``q:x=' r="99"'`` is one attribute: compute patches row 2, and adds no twin row."""
    path = B.worked_book(tmp_path)
    part = H.sheet_part(path, MASS)
    import re

    total = L.col(L.entry_total_col(B.DEFS.items)) + "2"

    def decoy(d):
        d = re.sub(rb'<row r="2"', b'<row xmlns:q="urn:q" q:x=\' r="99\' r="2"', d, count=1)
        # the cached 合计 of the first ballot emptied, so that compute must write in row 2
        return re.sub(rb'(<c r="' + total.encode() + rb'"[^>]*>(?:<f>[^<]*</f>)?)<v>[^<]*</v>',
                      rb"\1", d, count=1)

    bad = H.rewrite(path, tmp_path / "诱饵.xlsx", {part: decoy})
    assert compute_file(bad, B.DEFS).written
    with zipfile.ZipFile(bad) as z:
        after = z.read(part)
    assert len(re.findall(rb"<row [^>]*\sr=\"2\"", after)) == 1, "one row 2"
    assert not re.search(rb'<row r="99"', after), "no twin row"
    cell = re.search(rb'<c r="' + total.encode() + rb'"[^>]*>.*?</c>', after, re.S)[0]
    assert b"<v>" in cell, "the 合计 of row 2 written in row 2"


def test_the_sheet_id_is_read_from_the_relationships_namespace(tmp_path):
    """A second, foreign ``q:id`` on a <sheet> pointing at a copy does not move what is read."""
    path = B.worked_book(tmp_path)
    part = H.sheet_part(path, MASS)
    with zipfile.ZipFile(path) as z:
        copy = z.read(part).replace(b"<v>8</v>", b"<v>1</v>")
        rels = z.read("xl/_rels/workbook.xml.rels")
    rel = b'<Relationship Id="rIdQ" Type="' + H.WORKSHEET_REL + b'" Target="worksheets/decoy.xml"/>'
    mass = MASS.encode()
    bad = H.rewrite(path, tmp_path / "外来id.xlsx", {
        "xl/workbook.xml": lambda d: d.replace(b'<sheet name="' + mass + b'"',
                                               b'<sheet xmlns:q="urn:q" q:id="rIdQ" name="' + mass + b'"', 1),
        "xl/_rels/workbook.xml.rels": rels.replace(b"</Relationships>", rel + b"</Relationships>")},
        add={"xl/worksheets/decoy.xml": copy})
    good_out, _ = __import__("xlsheets.files.compute", fromlist=["x"]).validate_file(path, B.DEFS)
    bad_out, _ = __import__("xlsheets.files.compute", fromlist=["x"]).validate_file(bad, B.DEFS)
    assert [m.composite for m in bad_out.checked.figures.members] == \
        [m.composite for m in good_out.checked.figures.members]


def test_phonetic_runs_in_shared_strings_cost_linear_time(tmp_path):
    path = B.worked_book(tmp_path)
    bad = H.rewrite(path, tmp_path / "读音.xlsx", {"xl/sharedStrings.xml": lambda d: d.replace(
        b"<si><t>", b"<si><t>x</t>" + b"<rPh/>" * 20_000 + b"<t>", 1)})
    start = time.perf_counter()
    code = main(["validate", str(bad), "--json"])
    assert time.perf_counter() - start < 10
    assert code in (0, 1, 2)


def test_cells_and_rows_without_r_validate_and_compute_alike(tmp_path, capsys):
    """A writer that leaves r out (legal OOXML): read where every reader places the
    cells, and patched in place by compute (validate and compute agree)."""
    import re

    path = B.worked_book(tmp_path)
    part = H.sheet_part(path, MASS)

    def drop_r(d):  # row 3 and its cells lose r: they follow row 2, cell after cell
        def strip(m):
            return re.sub(rb' r="[A-Z]+3"', b"", m[0])
        d = re.sub(rb'<row r="3"([^>]*)>.*?</row>', strip, d, count=1, flags=re.S)
        return d.replace(b'<row r="3"', b"<row", 1)

    bad = H.rewrite(path, tmp_path / "无位置.xlsx", {part: drop_r})
    code, out, err = run(capsys, "validate", bad, "--json")
    before = json.loads(out)["findings"] if out else None
    code2, out2, err2 = run(capsys, "compute", bad)
    assert (code, code2) in ((0, 0), (1, 1)), (code, code2, err, err2)
    good, _ = __import__("xlsheets.files.compute", fromlist=["x"]).validate_file(path, B.DEFS)
    after, _ = __import__("xlsheets.files.compute", fromlist=["x"]).validate_file(bad, B.DEFS)
    assert [m.composite for m in after.checked.figures.members] == \
        [m.composite for m in good.checked.figures.members]
    assert before is not None
