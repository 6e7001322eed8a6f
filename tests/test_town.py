"""The town's round trip: ``split`` a town roster, branches fill and compute, ``collect``.

One inbox, built once per module, holds what a town office really receives: a
branch workbook under another file name, an older and a newer version of one
branch, an exact duplicate, workbooks inside .zip archives (one made by Chinese
Windows, with GBK entry names), a saved .eml with two attachments, a foreign
workbook, a corrupt file, a file that is no workbook at all and a branch
workbook that still has errors. ``collect`` must account for every file, keep
the right ones, and its town summary must show the figures ``compute --json``
gives for each kept workbook.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import re
import shutil
import sqlite3
import time
import zipfile
from email.message import EmailMessage
from fractions import Fraction
from pathlib import Path

import openpyxl
import pytest

import inboxes as I
import libreoffice as lo
from xlsheets.town import archive
from xlsheets import definitions
from xlsheets.workbook import layout as L
from xlsheets.cli import main
from xlsheets.town.collect import DUPLICATE, EXCLUDED, INCLUDED, REJECTED, SUPERSEDED
from xlsheets.files.compute import compute_file
from xlsheets.core.numbers import round_half_away
from xlsheets.town.split import file_name

DEFS = definitions.load()
TOWN = DEFS.town
GROUPS = DEFS.groups
LEVELS = DEFS.satisfaction["levels"]

ROSTER = {
    "机关": [("张伟", "支部书记"), ("李娜", "组织委员"), ("王芳", "党员"), ("刘洋", "党员")],
    "兴隆街社区": [("陈静", "支部书记"), ("杨磊", "党员"), ("赵敏", "党员")],
    "红旗村": [("黄强", "支部书记"), ("周杰", "党员"), ("吴丽", "党员")],
    "石桥村": [("徐涛", "支部书记"), ("孙超", "党员"), ("胡艳", "党员")],
}
UNSCHEDULED = ("红旗村", "石桥村")  # 支部 the definitions give no schedule
COUNTS = {"peer": 3, "mass": 2, "committee": 2}  # ballots typed per group (of those expected)
SALT = {"机关": 0, "兴隆街社区": 13, "红旗村": 29, "石桥村": 3}
LOOKBACK = {"机关": [[9] * 10, [8] * 10, [10, 9, 8, 7, 9, 10, 8, 9, 10, 9]],
            "兴隆街社区": [[7] * 10, [9, 8, 7, 9, 8, 7, 9, 8, 7, 9]],
            "红旗村": [[10] * 10, [9] * 10, [8] * 10, [6] * 10],
            "石桥村": [[8] * 10]}
SATISFACTION = {"机关": ([10, 5, 8, 3, 2, 6, 1], [28, 6, 1]),
                "兴隆街社区": ([12, 4, 6, 2, 3, 5, 2], [25, 7, 2]),
                "红旗村": ([20, 3, 5, 1, 2, 4, 5], [30, 8, 2]),
                "石桥村": ([5, 5, 5, 5, 5, 5, 5], [20, 10, 5])}
HONGQI_DATES = ["8月16—19日", "8月20—24日", "8月25—28日", "8月29—31日", "9月1—5日",
                "9月6—8日", "9月9—11日", "9月12日", "9月13—16日"]
OLD_TIME = dt.datetime(2005, 8, 30, 10, 0)  # 机关's first return, computed then
NEW_TIME = dt.datetime(2005, 9, 2, 15, 30)  # ... and its corrected return
OTHER_TIME = dt.datetime(2005, 9, 1, 9, 0)

# The inbox: origin (as collect reports it) -> (fate, unit or "", words the reason contains).
NEW_JIGUAN = "机关支部交回(最终版).xlsx"
OLD_JIGUAN = f"旧版/{file_name(TOWN, '机关')}"
COPY_JIGUAN = "转发_机关支部交回(最终版).xlsx"
GBK_ZIP = "第二批.zip → 兴隆街社区工作簿.xlsx"
HONGQI_ZIP = f"红旗村.zip → {file_name(TOWN, '红旗村')}"
MAIL = "邮件/石桥村交回.eml"
SHIQIAO = f"{MAIL} → 石桥村民主评议工作簿(有错).xlsx"
MAIL_COPY = f"{MAIL} → 兴隆街社区工作簿(再次发送).xlsx"
FOREIGN = "其他/统计表.xlsx"
CORRUPT = "其他/损坏的工作簿.xlsx"
NOTE = "其他/说明.txt"
EXPECTED = {
    NEW_JIGUAN: (INCLUDED, "机关", ""),
    OLD_JIGUAN: (SUPERSEDED, "机关", NEW_JIGUAN),
    COPY_JIGUAN: (DUPLICATE, "机关", NEW_JIGUAN),
    GBK_ZIP: (INCLUDED, "兴隆街社区", ""),
    HONGQI_ZIP: (INCLUDED, "红旗村", ""),
    SHIQIAO: (EXCLUDED, "石桥村", "1 个错误"),
    MAIL_COPY: (DUPLICATE, "兴隆街社区", GBK_ZIP),
    FOREIGN: (REJECTED, "", "不是民主评议工作簿"),
    CORRUPT: (REJECTED, "", "不是有效的 .xlsx"),
    NOTE: (REJECTED, "", "不是工作簿"),
}
KEPT = {"机关": NEW_JIGUAN, "兴隆街社区": GBK_ZIP, "红旗村": HONGQI_ZIP}


def names(unit):
    return [n for n, _ in ROSTER[unit]]


def run(argv):
    """``main(argv)`` with stdout and stderr captured (for module fixtures, where capsys is not)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def capture(capsys, argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# --- the town, built once ------------------------------------------------------------------

def fill(path, unit, *, entries=None, dates=None, cells=None):
    cats, lvls = SATISFACTION[unit]
    return I.fill_branch(path, entries or I.branch_entries(names(unit), COUNTS, SALT[unit]),
                         lookback=LOOKBACK[unit], categories=cats, levels=lvls, dates=dates,
                         cells=cells)


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    """Split, fill, compute, pack into an inbox, collect; everything the tests look at."""
    root = tmp_path_factory.mktemp("town")
    roster = I.write_town_roster(root / "全镇名册.csv", ROSTER)
    sent = root / "发出"
    code, split_out, err = run(["split", "--roster", roster, "--out", sent])
    assert code == 0, err
    blank = {u: sent / file_name(TOWN, u) for u in ROSTER}

    work = root / "支部"
    work.mkdir()
    books = {}
    # 机关 returns twice: first with one peer ballot typed wrong, then corrected.
    old_entries = I.branch_entries(names("机关"), COUNTS, SALT["机关"])
    old_entries["peer"][0]["李娜"] = I.split_total(61, [i.max for i in DEFS.items])
    for unit, version, entries, when in (("机关", "old", old_entries, OLD_TIME),
                                         ("机关", "new", None, NEW_TIME),
                                         ("兴隆街社区", "", None, OTHER_TIME),
                                         ("红旗村", "", None, OTHER_TIME)):
        path = shutil.copy(blank[unit], work / f"{unit}{version}.xlsx")
        fill(path, unit, entries=entries, dates=HONGQI_DATES if unit == "红旗村" else None)
        outcome = compute_file(path, DEFS, now=when)
        assert outcome.ok and outcome.written, [f.text() for f in outcome.findings]
        books[unit + version] = Path(path)
    # 石桥村 returns a workbook with a score over its maximum (理想信念 is out of 10).
    shiqiao = shutil.copy(blank["石桥村"], work / "石桥村.xlsx")
    fill(shiqiao, "石桥村")
    row = I.row_of(shiqiao, "peer", 1, "孙超")
    I.fill_branch(shiqiao, {}, cells={"党员互评": {L.a1(row, 2): 11}})
    books["石桥村"] = Path(shiqiao)

    inbox = root / "收件箱"
    (inbox / "旧版").mkdir(parents=True)
    (inbox / "邮件").mkdir()
    (inbox / "其他").mkdir()
    shutil.copy(books["机关new"], inbox / NEW_JIGUAN)
    shutil.copy(books["机关new"], inbox / COPY_JIGUAN)
    old = shutil.copy(books["机关old"], inbox / OLD_JIGUAN)
    later = time.time() + 3600
    os.utime(old, (later, later))  # the old version arrived last: its own time must decide
    I.gbk_zip(inbox / "第二批.zip", {"兴隆街社区工作簿.xlsx": books["兴隆街社区"]})
    I.zip_with(inbox / "红旗村.zip", {file_name(TOWN, "红旗村"): books["红旗村"]},
               extra=[("说明.txt", "红旗村支部交回".encode("utf-8"))])
    I.mail_with(inbox / MAIL, {"石桥村民主评议工作簿(有错).xlsx": books["石桥村"],
                               "兴隆街社区工作簿(再次发送).xlsx": books["兴隆街社区"]})
    foreign = openpyxl.Workbook()
    foreign.active.append(["姓名", "得分"])
    foreign.active.append(["张伟", 90])
    foreign.save(inbox / FOREIGN)
    (inbox / CORRUPT).write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    (inbox / NOTE).write_text("各支部交回的表格", encoding="utf-8")

    out = root / "汇总" / "全镇汇总.xlsx"
    code, collect_out, collect_err = run(["collect", inbox, "--out", out])
    assert code == 0, collect_err

    # What compute --json says of each kept workbook (on a copy: compute writes in place).
    expected = {}
    for unit, key in (("机关", "机关new"), ("兴隆街社区", "兴隆街社区"), ("红旗村", "红旗村")):
        copy = shutil.copy(books[key], root / f"json-{unit}.xlsx")
        code, doc, err = run(["compute", copy, "--json"])
        assert code == 0, err
        expected[unit] = json.loads(doc)
    return {"root": root, "roster": roster, "sent": sent, "split_out": split_out,
            "books": books, "inbox": inbox, "out": out, "db": archive.path_for(out),
            "stdout": collect_out, "stderr": collect_err, "json": expected}


def table(ws, header_row):
    """A sheet's table as dicts by header, from ``header_row`` (1-based) down."""
    header = [c.value for c in ws[header_row]]
    rows = []
    for r in ws.iter_rows(min_row=header_row + 1, values_only=True):
        if all(v is None for v in r):
            continue
        rows.append(dict(zip(header, r)))
    return rows


@pytest.fixture(scope="module")
def summary(town):
    wb = openpyxl.load_workbook(town["out"])
    return {"branches": {r["支部"]: r for r in table(wb["各支部汇总"], 3)},
            "members": table(wb["党员得分"], 1),
            "files": {r["文件(来源)"]: r for r in table(wb["文件清单"], 1)},
            "sheets": wb.sheetnames}


def two(x):
    """``x`` rounded to 2 decimals half away from zero, as compute --json rounds."""
    return None if x is None else float(round_half_away(Fraction(x)))


# --- split ---------------------------------------------------------------------------------

def test_split_writes_one_workbook_per_branch_and_notes_unscheduled(tmp_path, capsys):
    roster = I.write_town_roster(tmp_path / "全镇名册.csv", ROSTER)
    code, out, err = capture(capsys, ["split", "--roster", roster, "--out", tmp_path / "发出"])
    assert code == 0, err
    assert f"{len(ROSTER)} 个党支部" in out
    lines = {u: next(line for line in out.splitlines() if line.strip().startswith(u + ":"))
             for u in ROSTER}
    for unit, members in ROSTER.items():
        path = tmp_path / "发出" / file_name(TOWN, unit)
        assert path.is_file() and f"{len(members)} 名党员" in lines[unit] and str(path) in lines[unit]
        assert ("工作日程" in lines[unit]) == (unit in UNSCHEDULED), lines[unit]
        wb = openpyxl.load_workbook(path)
        intro = wb[L.INTRO]
        ident = {intro.cell(r, 1).value: intro.cell(r, 2).value for r in range(3, 9)}
        assert ident["单位"] == unit
        ws = wb[L.ROSTER]
        assert [c.value for c in ws[1]] == ["姓名", "职务", *L.ROSTER_ROLE_HEADERS]  # 支部 is the file, not a column
        assert [(ws.cell(r, 1).value, ws.cell(r, 2).value)
                for r in range(2, ws.max_row + 1)] == members
        schedules = [s for s in wb.sheetnames if s.endswith("工作日程表")]
        assert len(schedules) == 1
        sched = wb[schedules[0]]
        steps = range(I.SCHEDULE_FIRST_ROW + 1, I.SCHEDULE_FIRST_ROW + 1 + len(DEFS.steps))
        assert [sched.cell(r, 1).value for r in steps] == [s.name for s in DEFS.steps]
        if unit in UNSCHEDULED:
            assert schedules == ["工作日程表"]
            assert unit in sched.cell(2, 1).value  # the title names the branch
            for r in steps:  # blank date cells the branch types into
                cell = sched.cell(r, 2)
                assert cell.value is None and cell.protection.locked is False
            assert sched.protection.sheet
        else:
            assert [sched.cell(r, 2).value for r in steps] == list(DEFS.unit(unit).dates)


def test_split_refuses_roster_without_branch_column(tmp_path, capsys):
    path = tmp_path / "名册.csv"
    path.write_text("姓名,职务\n张伟,党员\n", encoding="utf-8")
    code, out, err = capture(capsys, ["split", "--roster", path, "--out", tmp_path / "o"])
    assert code == 2 and "支部" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())


def test_split_never_writes_two_branches_to_one_file(tmp_path):
    from xlsheets.errors import XlsheetsError
    from xlsheets.town.split import split

    roster = I.write_town_roster(tmp_path / "全镇名册.csv", {
        "新村:一组": [("张伟", "党员"), ("李娜", "党员")], "新村?一组": [("王芳", "党员")]})
    try:
        written = split(DEFS, roster, tmp_path / "发出")
    except XlsheetsError as e:
        assert "新村:一组" in str(e) and "新村?一组" in str(e)
    else:
        assert len({b.path for b in written}) == len(written) == 2
        for b in written:
            wb = openpyxl.load_workbook(b.path)
            assert wb[L.INTRO].cell(3, 2).value == b.name


# --- collect: what became of each file -----------------------------------------------------

def test_the_inbox_is_what_a_town_office_receives(town):
    inbox = town["inbox"]
    with zipfile.ZipFile(inbox / "第二批.zip") as z:
        (info,) = z.infolist()
        assert not info.flag_bits & 0x800
        assert info.filename.encode("cp437").decode("gbk") == "兴隆街社区工作簿.xlsx"
    mail = (inbox / MAIL).read_bytes()
    assert b"filename*0*=utf-8''" in mail and "石桥村".encode() not in mail  # RFC 2231


def test_every_file_gets_its_fate_and_reason(town, summary):
    files = summary["files"]
    assert set(files) == set(EXPECTED), sorted(set(files) ^ set(EXPECTED))
    for origin, (fate, unit, words) in EXPECTED.items():
        row = files[origin]
        assert row["结果"] == fate, (origin, row)
        assert (row["支部"] or "") == unit, (origin, row)
        assert words in (row["说明"] or ""), (origin, row)
        if fate == INCLUDED:
            assert not row["说明"]
    # The error is named by sheet and cell, so the branch can fix it.
    row = I.row_of(town["books"]["石桥村"], "peer", 1, "孙超")
    assert f"党员互评!{L.a1(row, 2)}" in files[SHIQIAO]["说明"]
    # Own time, not arrival time, decides between versions.
    assert files[NEW_JIGUAN]["工作簿时间"] == NEW_TIME.isoformat()
    assert files[OLD_JIGUAN]["工作簿时间"] == OLD_TIME.isoformat()
    assert files[OLD_JIGUAN]["收到时间"] > files[NEW_JIGUAN]["收到时间"]
    # The mail's Date is when its attachments were received (in UTC).
    assert files[SHIQIAO]["收到时间"] == "2005-09-02T08:30:00"


def test_collect_prints_every_file_and_progress(town):
    out, err = town["stdout"], town["stderr"]
    assert f"共 {len(EXPECTED)} 个文件,新收 {len(EXPECTED)} 个" in out
    for origin, (fate, unit, _) in EXPECTED.items():
        line = next((x for x in out.splitlines() if f"] {origin}" in x), None)
        assert line is not None and line.strip().startswith(f"[{fate}]"), (origin, out)
    # progress: one line per file of the inbox (an archive or a mail is one file)
    files = {origin.split(" → ")[0] for origin in EXPECTED}
    progress = [x for x in err.splitlines() if x.startswith("读取 ")]
    assert len(progress) == len(files)
    assert {re.match(r"读取 (\d+)/(\d+)", x).groups() for x in progress} == {
        (str(n), str(len(files))) for n in range(1, len(files) + 1)}
    assert {x.split(":", 1)[1] for x in progress} == files


# --- collect: the archive ------------------------------------------------------------------

def test_archive_rows(town):
    con = sqlite3.connect(town["db"])
    try:
        files = {r[0]: r for r in con.execute(
            "SELECT origin, fate, unit, hash, workbook_id, modified, reason FROM files")}
        assert set(files) == set(EXPECTED)
        for origin, (fate, unit, words) in EXPECTED.items():
            assert files[origin][1] == fate and (files[origin][2] or "") == unit
            assert words in files[origin][6]
        assert files[NEW_JIGUAN][3] == files[COPY_JIGUAN][3] != files[OLD_JIGUAN][3]
        assert files[GBK_ZIP][3] == files[MAIL_COPY][3]
        assert files[NEW_JIGUAN][4] == files[OLD_JIGUAN][4]  # same workbook, two versions
        assert not files[NOTE][3]  # never read: no content hash

        branches = {r[0]: r[1] for r in con.execute("SELECT hash, unit FROM branches")}
        readable = {files[o][3]: EXPECTED[o][1] for o in EXPECTED if EXPECTED[o][1]}
        assert branches == readable  # one row per distinct content

        members = con.execute("SELECT hash, unit, name, means, composite, rank FROM members"
                              ).fetchall()
        by_hash = {}
        for h, unit, name, means, comp, rank in members:
            by_hash.setdefault(h, []).append(name)
            assert set(json.loads(means)) == {g.key for g in GROUPS}
        for h, unit in readable.items():
            assert sorted(by_hash[h]) == sorted(names(unit))

        findings = con.execute("SELECT hash, code, severity, sheet, cell FROM findings").fetchall()
        errors = [f for f in findings if f[2] == "error"]
        row = I.row_of(town["books"]["石桥村"], "peer", 1, "孙超")
        assert errors == [(files[SHIQIAO][3], "score-out-of-range", "error", "党员互评",
                           L.a1(row, 2))]
        assert {f[0] for f in findings} <= set(readable)
    finally:
        con.close()


def test_source_of_names_the_file_a_figure_came_from(town):
    db, expected = town["db"], town["json"]
    for unit, kept in KEPT.items():
        for m in expected[unit]["members"]:
            rows = archive.source_of(db, unit, m["name"])
            used = [(o, c) for o, f, c in rows if f == INCLUDED]
            assert [o for o, _ in used] == [kept]
            assert two(json.loads(used[0][1])) == m["composite"]
    # 李娜's first figure came from the superseded file, and differs.
    rows = {o: (f, json.loads(c)) for o, f, c in archive.source_of(db, "机关", "李娜")}
    assert set(rows) == {NEW_JIGUAN, OLD_JIGUAN, COPY_JIGUAN}
    assert rows[OLD_JIGUAN][0] == SUPERSEDED and rows[COPY_JIGUAN][0] == DUPLICATE
    assert rows[OLD_JIGUAN][1] != rows[NEW_JIGUAN][1]
    assert archive.source_of(db, "机关", "不在名册") == []


# --- collect: the town summary -------------------------------------------------------------

def test_branch_figures_equal_compute_json(town, summary):
    branches = summary["branches"]
    assert sorted(branches) == sorted(KEPT)  # 石桥村 has errors and is left out
    for unit, doc in town["json"].items():
        row = branches[unit]
        assert row["党员人数"] == len(ROSTER[unit])
        for g in GROUPS:
            assert row[f"{g.name}票数"] == COUNTS[g.key]
        composites = [m["composite"] for m in doc["members"]]
        # The mean of the exact composites; compute --json shows each rounded, so the
        # mean of those may differ by half a cent at most.
        assert row["平均综合得分"] == pytest.approx(sum(composites) / len(composites), abs=0.005)
        assert two(row["“回头看”合计"]) == doc["lookback"]["total"]
        sat = doc["satisfaction"]
        assert row["参加测评群众(人)"] == sat["total"] == sum(SATISFACTION[unit][0])
        for level in LEVELS:
            assert two(row[f"{level}占比"] * 100) == sat["levels"][level]["percent"]
        assert two(row["满意率"] * 100) == sat["rate"]
        assert row["来源文件"] == KEPT[unit]
    assert branches["机关"]["工作日程"] == "8月16—19日至9月1—5日"


def test_unscheduled_branch_shows_the_dates_it_typed(summary):
    assert summary["branches"]["红旗村"]["工作日程"] == f"{HONGQI_DATES[0]}至{HONGQI_DATES[-1]}"


def test_member_figures_and_ranks(town, summary):
    rows = summary["members"]
    expected = {(unit, m["name"]): m for unit, doc in town["json"].items()
                for m in doc["members"]}
    assert sorted((r["支部"], r["姓名"]) for r in rows) == sorted(expected)
    for r in rows:
        m = expected[(r["支部"], r["姓名"])]
        assert two(r["综合得分"]) == m["composite"]
        for g in GROUPS:
            assert two(r[f"{g.name}平均分"]) == m[f"{g.key}_mean"]
        assert r["支部内排名"] == m["rank"]
    # Town rank: competition ranks over the composites, ties share a rank.
    for r in rows:
        assert r["全镇排名"] == 1 + sum(o["综合得分"] > r["综合得分"] for o in rows)
    firsts = [r for r in rows if r["姓名"] in {names(u)[0] for u in KEPT}]
    assert len({r["综合得分"] for r in firsts}) == 1  # the same ballots in every branch
    assert len({r["全镇排名"] for r in firsts}) == 1
    ranks = sorted(r["全镇排名"] for r in rows)
    assert ranks[0] == 1 and len(set(ranks)) < len(ranks)


def test_summary_has_native_charts_and_no_clock(town, summary):
    assert summary["sheets"] == ["各支部汇总", "各环节情况", "民主评议党员情况", "党员得分", "文件清单",
                                 "图表"]
    with zipfile.ZipFile(town["out"]) as z:
        charts = sorted(n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n))
        assert len(charts) == 2
        xml = [z.read(n).decode("utf-8") for n in charts]
        assert all("<c:barChart>" in x for x in xml)
        assert any('<c:grouping val="percentStacked"/>' in x for x in xml)
        assert not [n for n in z.namelist() if "vba" in n.lower()]
    wb = openpyxl.load_workbook(town["out"])
    ws = wb["图表"]
    bins = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(2, 7)}
    composites = [m["composite"] for doc in town["json"].values() for m in doc["members"]]
    assert sum(bins.values()) == len(composites)
    assert bins["90分及以上"] == sum(c >= 90 for c in composites)
    assert wb.properties.created == NEW_TIME  # the newest kept workbook's own time


@pytest.mark.libreoffice
def test_libreoffice_opens_the_summary(town, soffice, tmp_path):
    pdf = lo.to_pdf(town["out"], tmp_path / "pdf")
    pages = lo.pdf_pages(pdf)
    assert len(pages) >= 4
    assert all(w > h for w, h in pages)  # landscape A4
    values = lo.read_values(lo.recalc(town["out"], tmp_path / "recalc"))
    assert lo.cell(values, "各支部汇总", "A4") == "兴隆街社区"


def _table_rows(db):
    """Every table's rows in the order SQLite stores them (rowid), the clock left out."""
    con = sqlite3.connect(db)
    try:
        out = {}
        for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"):
            cols = [r[1] for r in con.execute(f"PRAGMA table_info({t})") if r[1] != "first_seen"]
            out[t] = con.execute(f"SELECT {', '.join(cols)} FROM {t} ORDER BY rowid").fetchall()
        return out
    finally:
        con.close()


def test_archive_is_recorded_while_the_workers_read(town, tmp_path):
    """consolidate gives the archive each file's figures as its result comes, in the
    inbox's order, before any fate is decided; what it ends with is what recording every
    result at once gives, row for row."""
    from xlsheets.town import collect as C

    calls = []

    def record(results):
        calls.append([(r.origin, r.fate) for r in results])
        recorder_add(results)

    out = tmp_path / "汇总" / "全镇汇总.xlsx"
    real = archive.Recorder
    recorder_add = None

    class Watched(real):
        def __init__(self, *a, **k):
            nonlocal recorder_add
            super().__init__(*a, **k)
            recorder_add, self.add = self.add, record

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(archive, "Recorder", Watched)
        results, new, db = C.consolidate(definitions.load(), "guanba2005", town["inbox"], out,
                                         workers=2)
    assert new == len(EXPECTED) == len(results)
    assert [o for call in calls for o, _ in call] == [r.origin for r in results]
    assert {fate for call in calls for _, fate in call} == {""}  # before decide
    once = tmp_path / "once.sqlite"
    assert archive.record(once, results) == len(results)
    assert _table_rows(db) == _table_rows(once)
    assert _table_rows(db) == _table_rows(town["db"])  # the command line's own collect


def _sleepy(item, defs_source):
    """A worker task that takes as many seconds as its origin says."""
    from xlsheets.town import collect as C

    time.sleep(float(item.origin))
    return C.FileResult(item.origin, "", hash=item.origin, identity={"unit": "x"})


def test_a_slow_record_does_not_make_a_finished_file_late():
    """Found in review: the loop recorded while a result already waited in another
    worker's pipe, then judged that worker by the clock and rejected it as timed out."""
    from xlsheets.town import collect as C
    from xlsheets.town.inbox import Item

    items = [Item("", "0.1", ""), Item("", "0.8", "")]
    results = C._parallel(items, "guanba2005", 2, None, task=_sleepy, timeout=1,
                          record=lambda rs: time.sleep(1.5))
    assert [(r.origin, r.reason) for r in results] == [("0.1", ""), ("0.8", "")]


def test_what_collect_raises_is_not_called_a_write_failure(town, tmp_path, monkeypatch):
    """Found in review: with collect inside the outputs' transaction, an OSError of its
    own (a worker that cannot be started) read as "写入…失败"; it is raised as it was,
    and nothing is left beside the summary."""
    from xlsheets.town import collect as C

    def no_worker(*a, **k):
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(C, "_parallel", no_worker)
    out = tmp_path / "汇总" / "全镇汇总.xlsx"
    with pytest.raises(BlockingIOError):
        C.consolidate(definitions.load(), "guanba2005", town["inbox"], out, workers=2)
    assert not out.exists() and not archive.path_for(out).exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".~")]


def test_a_worker_that_cannot_start_leaves_none_running(town, monkeypatch):
    """Found in review: the pool was made before the loop's ``finally``, so when the
    second worker could not start the first one was never stopped (and, with the
    console script leaving without the interpreter's teardown, ran on)."""
    from xlsheets.town import collect as C

    real, started = C._Worker._start, []

    def second_fails(self):
        if started:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        started.append(self)
        real(self)

    monkeypatch.setattr(C._Worker, "_start", second_fails)
    with pytest.raises(BlockingIOError):
        C.collect("guanba2005", town["inbox"], 2)
    assert started and not started[0].process.is_alive()


@pytest.mark.parametrize("failing, words", [("read", "档案库"), ("write", "无法在")])
def test_a_failed_copy_of_the_archive_says_which_side_failed(town, tmp_path, monkeypatch,
                                                             failing, words):
    """Found in review: a full disk while copying the archive was called the archive's
    being unreadable. Reading it and writing its copy are said apart, in Chinese."""
    import builtins
    import errno

    out = tmp_path / "全镇汇总.xlsx"
    assert run(["collect", town["inbox"], "--out", out, "--workers", "1"])[0] == 0
    before, before_db = out.read_bytes(), archive.path_for(out).read_bytes()
    real_open = builtins.open

    class Failing:
        def __init__(self, f):
            self._f = f

        def __getattr__(self, name):
            return getattr(self._f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._f.close()

        def read(self, *a):
            raise OSError(errno.EIO, "Input/output error")

        def write(self, *a):
            raise OSError(errno.ENOSPC, "No space left on device")

    def opening(path, mode="r", *a, **k):
        f = real_open(path, mode, *a, **k)
        name = Path(str(path)).name
        if failing == "read" and name == archive.path_for(out).name and "r" in mode:
            return Failing(f)
        if failing == "write" and name.startswith(".~xlsheets-") and "w" in mode:
            return Failing(f)
        return f

    monkeypatch.setattr(builtins, "open", opening)
    code, _, err = run(["collect", town["inbox"], "--out", out, "--workers", "1"])
    monkeypatch.undo()
    assert code == 2 and words in err and "未写入" in err and "Traceback" not in err, err
    assert ("磁盘已满" in err) == (failing == "write") and "Input/output" not in err
    assert out.read_bytes() == before and archive.path_for(out).read_bytes() == before_db
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".~")]


def test_archive_failing_midway_writes_nothing(town, tmp_path, monkeypatch):
    """An archive that cannot take a file's rows stops collect there: a Chinese message,
    the summary and the archive as they were, no temporary file left, no worker left."""
    from xlsheets.town import collect as C

    out = tmp_path / "全镇汇总.xlsx"
    assert run(["collect", town["inbox"], "--out", out, "--workers", "1"])[0] == 0
    before, before_db = out.read_bytes(), archive.path_for(out).read_bytes()
    seen = []
    real = archive.Recorder._content

    def full_after_two(self, r):
        seen.append(r.origin)
        if len(seen) > 2:
            raise sqlite3.OperationalError("database or disk is full")
        real(self, r)

    monkeypatch.setattr(archive.Recorder, "_content", full_after_two)
    code, stdout, err = run(["collect", town["inbox"], "--out", out, "--workers", "2"])
    assert code != 0 and "档案库" in err and "磁盘已满" in err and "Traceback" not in err, err
    assert "均未写入" in err
    assert len(seen) == 3  # it stopped at the first refusal, the rest never recorded
    assert out.read_bytes() == before and archive.path_for(out).read_bytes() == before_db
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, archive.path_for(out).name])
    assert not [w for w in C.multiprocessing.active_children()]


def test_archive_interrupted_midway_is_as_it_was(town, tmp_path, monkeypatch):
    out = tmp_path / "全镇汇总.xlsx"
    assert run(["collect", town["inbox"], "--out", out, "--workers", "1"])[0] == 0
    before, before_db = out.read_bytes(), archive.path_for(out).read_bytes()
    real = archive.Recorder.add
    calls = []

    def interrupted(self, results):
        calls.append(1)
        real(self, results)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(archive.Recorder, "add", interrupted)
    from xlsheets.town import collect as C
    with pytest.raises(KeyboardInterrupt):
        C.consolidate(definitions.load(), "guanba2005", town["inbox"], out, workers=2)
    assert out.read_bytes() == before and archive.path_for(out).read_bytes() == before_db
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, archive.path_for(out).name])


# --- collect: repeatable --------------------------------------------------------------------

def test_second_collect_changes_nothing(town):
    before_db = I.dump_archive(town["db"])
    before = town["out"].read_bytes()
    code, out, err = run(["collect", town["inbox"], "--out", town["out"]])
    assert code == 0, err
    assert f"共 {len(EXPECTED)} 个文件,新收 0 个" in out
    assert town["out"].read_bytes() == before
    assert I.dump_archive(town["db"]) == before_db


def test_workers_do_not_change_the_output(town, tmp_path, capsys):
    outputs = {}
    for workers in (1, 2):
        out = tmp_path / f"w{workers}" / "全镇汇总.xlsx"
        code, stdout, err = capture(capsys, ["collect", town["inbox"], "--out", out,
                                             "--workers", workers])
        assert code == 0, err
        files = {origin.split(" → ")[0] for origin in EXPECTED}
        assert len([x for x in err.splitlines() if x.startswith("读取 ")]) == len(files)
        outputs[workers] = (out.read_bytes(), I.dump_archive(archive.path_for(out),
                                                              skip_columns={"first_seen"}),
                            stdout.replace(str(out.parent), "OUT"))
    assert outputs[1] == outputs[2]
    assert outputs[1][0] == town["out"].read_bytes()


def test_missing_inbox_is_a_chinese_message(tmp_path, capsys):
    out = tmp_path / "全镇汇总.xlsx"
    code, stdout, err = capture(capsys, ["collect", tmp_path / "没有这个文件夹", "--out", out])
    assert code == 2
    assert "收件文件夹" in err and "不存在" in err and "Traceback" not in err
    assert not out.exists() and not archive.path_for(out).exists()


def test_gbk_zip_entry_names_are_read_as_chinese(tmp_path, town):
    src = town["books"]["红旗村"]
    inbox = tmp_path / "in"
    inbox.mkdir()
    I.gbk_zip(inbox / "打包.zip", {"红旗村支部/红旗村.xlsx": src, "机关.xlsx": src})
    items = list(I.unpacked(inbox, tmp_path / "scratch"))
    assert [i.origin for i in items] == ["打包.zip → 红旗村支部/红旗村.xlsx", "打包.zip → 机关.xlsx"]
    assert all(not i.problem and Path(i.path).read_bytes() == src.read_bytes() for i in items)
    assert Path(items[0].path).name == "红旗村.xlsx"


# --- edge cases: files that are no return, bad arguments, clocks ---------------------------

def test_mail_or_zip_without_a_workbook_is_still_listed(tmp_path):
    from xlsheets.town.collect import collect

    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    old_excel = tmp_path / "机关.xls"
    old_excel.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))
    msg = EmailMessage()
    msg["Subject"], msg["Date"] = "机关交回", "Fri, 02 Sep 2005 16:30:00 +0800"
    msg.set_content("见附件")
    msg.add_attachment(old_excel.read_bytes(), maintype="application", subtype="vnd.ms-excel",
                       filename="机关.xls")
    (inbox / "机关交回.eml").write_bytes(msg.as_bytes())
    I.zip_with(inbox / "打包.zip", {"机关.xls": old_excel}, extra=[("说明.txt", b"x")])
    results = collect("guanba2005", inbox, 1)
    assert {r.origin: r.fate for r in results} == {"机关交回.eml": REJECTED, "打包.zip": REJECTED}
    assert all(".xlsx" in r.reason for r in results), [r.reason for r in results]


def test_bad_worker_count_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    for name in ("a.txt", "b.txt"):
        (tmp_path / "in" / name).write_text("x", encoding="utf-8")
    for bad in ("-1", "0", "两"):
        try:
            code = main(["collect", str(tmp_path / "in"), "--out", str(tmp_path / "t.xlsx"),
                         "--workers", bad])
        except SystemExit as e:  # argparse refuses it: 参数错误, exit 2
            code = e.code
        err = capsys.readouterr().err
        assert code == 2 and "--workers" in err and "程序内部错误" not in err, err
        assert not (tmp_path / "t.xlsx").exists()


def test_summary_inside_the_inbox_is_not_collected(town, tmp_path):
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    shutil.copy(town["books"]["红旗村"], inbox / "红旗村.xlsx")
    out = inbox / "全镇汇总.xlsx"
    assert run(["collect", inbox, "--out", out, "--workers", "1"])[0] == 0
    before, before_db = out.read_bytes(), I.dump_archive(archive.path_for(out))
    code, stdout, _ = run(["collect", inbox, "--out", out, "--workers", "1"])
    assert code == 0 and "共 1 个文件,新收 0 个" in stdout
    assert out.read_bytes() == before and I.dump_archive(archive.path_for(out)) == before_db


def test_a_later_save_in_excel_beats_an_earlier_compute(town, tmp_path, monkeypatch):
    from xlsheets.town.collect import collect

    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        inbox = tmp_path / "收件箱"
        inbox.mkdir()
        first = shutil.copy(town["books"]["红旗村"], inbox / "红旗村_16点.xlsx")
        compute_file(first, DEFS, now=dt.datetime(2005, 9, 2, 16, 0))  # 16:00 in Beijing
        second = shutil.copy(first, inbox / "红旗村_改正.xlsx")
        row = I.row_of(second, "mass", 1, "吴丽")
        I.fill_branch(second, {}, cells={"群众参评": {L.a1(row, 2): 10}})
        I.set_modified(second, "2005-09-02T10:00:00Z")  # saved in Excel at 18:00 in Beijing
        later = time.time() + 60
        os.utime(first, (later, later))  # the first one happened to arrive last
        fates = {r.origin: r.fate for r in collect("guanba2005", inbox, 1)}
        assert fates == {"红旗村_改正.xlsx": INCLUDED, "红旗村_16点.xlsx": SUPERSEDED}
    finally:
        monkeypatch.undo()
        time.tzset()


def test_reason_carries_no_path_even_with_a_drive_letter(tmp_path, monkeypatch):
    import tempfile

    from xlsheets.town.collect import collect
    from xlsheets.ooxml import BookError, BookFile

    drive = tmp_path / "C:"  # where Windows keeps its temporary folders: a path with ':'
    drive.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(drive))
    inbox = tmp_path / "D:收件箱"
    inbox.mkdir()
    bad = inbox / "坏.xlsx"
    bad.write_bytes(b"PK\x03\x04" + bytes(range(256)))
    I.zip_with(inbox / "第三批.zip", {"坏.xlsx": bad})
    with pytest.raises(BookError) as e:
        BookFile.open(bad)
    reasons = {r.origin: r.reason for r in collect("guanba2005", inbox, 1)}
    assert reasons == {"坏.xlsx": e.value.problem, "第三批.zip → 坏.xlsx": e.value.problem}


def test_old_excel_file_is_rejected_with_a_way_forward(tmp_path):
    from xlsheets.town.collect import collect

    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    (inbox / "兴隆街社区.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))
    (result,) = collect("guanba2005", inbox, 1)
    assert result.fate == REJECTED
    assert ".xls" in result.reason and ".xlsx" in result.reason and "不是工作簿" not in result.reason
