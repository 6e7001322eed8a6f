"""collect's lean path gives what the full path gives.

A collect worker opens each workbook once, leaves the talk matrix unread and reads
the workbook's times while ``validate_file`` has it open; the town book writes its
member rows from row templates. Here, on a small inbox with spoiled files (an error,
a duplicate, a superseded version inside a zip, a stale stamp, a forged time, a
foreign, a corrupt and a non-workbook file), every result is compared with what the
full ``validate_file`` (talk matrix read, as validate and compute read it) and a
second open give for the same workbook, and the town book with what XlsxWriter
writes cell by cell.
"""
from __future__ import annotations

import copy
import io
import random
import shutil
import struct
import zipfile

import openpyxl
import pytest

import books as B
import inboxes as I
from xlsheets import definitions
from xlsheets.core.numbers import round_half_away
from xlsheets.errors import XlsheetsError
from xlsheets.files import report
from xlsheets.files.compute import compute_file, validate_file
from xlsheets.ooxml import BookFile
from xlsheets.town import collect as C, town_book
from xlsheets.workbook import layout as L

DEFS = definitions.load()


@pytest.fixture(scope="module")
def inbox(tmp_path_factory):
    root = tmp_path_factory.mktemp("lean")
    work, inbox = root / "work", root / "收件箱"
    work.mkdir()
    inbox.mkdir()
    new = B.worked_book(work, filename="机关.xlsx")
    compute_file(new, DEFS)
    I.patch(new, {"党员互评": {"C3": 7}})  # typed after compute: stamp-stale
    I.set_modified(new, "2005-09-02T08:00:00Z")
    old = B.worked_book(work, filename="机关旧.xlsx", cells={"党员互评": {"C3": 5}})
    I.set_modified(old, "2005-09-01T08:00:00Z")
    wrong = B.worked_book(work, unit="兴隆街社区", filename="兴隆街社区.xlsx",
                          cells={"党员互评": {"C3": 11}})  # over its maximum: an error
    I.set_modified(wrong, "9999-12-31T00:00:00Z")  # a forged time
    shutil.copy(new, inbox / "机关.xlsx")
    shutil.copy(new, inbox / "转发_机关.xlsx")
    shutil.copy(wrong, inbox / "兴隆街社区.xlsx")
    I.zip_with(inbox / "旧版.zip", {"机关旧.xlsx": old}, extra=[("说明.txt", b"x")])
    foreign = openpyxl.Workbook()
    foreign.active.append(["姓名", "得分"])
    foreign.save(inbox / "统计表.xlsx")
    (inbox / "损坏.xlsx").write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    # its only fault in the talk matrix, which collect does not read: refused all the same
    far = B.worked_book(work, unit="兴隆街社区", filename="远处单元格.xlsx")
    _spoil_talk_matrix(far, inbox / "远处单元格.xlsx")
    (inbox / "说明.txt").write_text("各支部交回的表格", encoding="utf-8")
    results = C.collect(definitions.DEFAULT_SET, inbox, workers=1)
    return {"root": root, "inbox": inbox, "results": {r.origin: r for r in results}}


def _spoil_talk_matrix(path, out):
    """A copy of ``path`` whose 谈心情况表 holds a cell beyond Excel's last column."""
    with BookFile.open(path) as book:
        part = book.sheet_part(L.TALK_MATRIX)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == part:
                data = data.replace(b"</sheetData>",
                                    b'<row r="900"><c r="ZZZZ900"><v>1</v></c></row></sheetData>')
            dst.writestr(info, data)


def test_a_fault_in_the_unread_talk_matrix_is_refused(inbox):
    r = inbox["results"]["远处单元格.xlsx"]
    assert r.fate == C.REJECTED and "ZZZZ900" in r.reason and L.TALK_MATRIX in r.reason


def full(path):
    """What the full path says of one workbook: validate_file with the talk matrix, then
    a second open for the times (as collect did before), or the BookError's reason."""
    try:
        outcome, grids = validate_file(path, DEFS)
        with BookFile.open(path) as book:
            modified, odd = C._modified(book, report.read_stamp(book))
    except XlsheetsError as e:
        return {"reason": getattr(e, "problem", None) or str(e)}
    return {"identity": dict(grids.identity), "modified": modified, "odd": odd,
            "findings": [f.as_dict() for f in outcome.findings],
            "branch": C._branch_figures(DEFS, outcome, grids)}


def test_every_fate_is_there(inbox):
    fates = sorted(r.fate for r in inbox["results"].values())
    assert fates.count(C.INCLUDED) == 1 and fates.count(C.EXCLUDED) == 1
    assert fates.count(C.DUPLICATE) == 1 and fates.count(C.SUPERSEDED) == 1
    assert fates.count(C.REJECTED) == 4  # foreign, corrupt, not a workbook, far cell


def test_each_result_equals_the_full_validate_file(inbox, tmp_path):
    results = inbox["results"]
    workbooks = I.unpacked(inbox["inbox"], tmp_path)
    assert {w.origin for w in workbooks} == set(results)
    compared = 0
    for w in workbooks:
        r = results[w.origin]
        if w.problem:
            assert r.reason == w.problem and not r.identity
            continue
        want = full(w.path)
        compared += 1
        if "reason" in want:
            assert (r.reason, r.identity, r.findings, r.branch) == (want["reason"], {}, [], {})
            continue
        assert r.identity == want["identity"]
        assert r.findings == want["findings"]
        assert r.branch == want["branch"]
        if want["odd"]:
            assert r.notes and want["odd"] in r.notes[0]
            assert r.modified == max(want["modified"], w.received)
        else:
            assert r.modified == want["modified"] and not r.notes
    read = [w.origin for w in workbooks if results[w.origin].identity]
    assert len(read) == 4 and compared >= 6  # the branch workbooks; foreign and corrupt
    codes = {f["code"] for r in results.values() for f in r.findings}
    assert {"stamp-stale", "score-out-of-range"} <= codes


def _parts(path):
    with zipfile.ZipFile(path) as z:
        return [(i.filename, i.date_time, z.read(i)) for i in z.infolist()]


def test_town_book_rows_are_what_xlsxwriter_writes(inbox, tmp_path, monkeypatch):
    """Byte for byte, every part: shared strings in the same order, styles, heights
    (a name long enough to wrap), blanks, texts in score columns."""
    results = copy.deepcopy(list(inbox["results"].values()))  # the fixture's stay as they are
    kept = next(r for r in results if r.fate == C.INCLUDED)
    members = kept.branch["members"]
    members[0]["name"] = "欧阳" * 6 + "&<长名>"  # wraps: the row is made taller
    members[1]["composite"] = "缺票"
    members[1]["means"] = {k: (None if i == 0 else v) for i, (k, v) in
                           enumerate(members[1]["means"].items())}
    town = C.town_rows(results)
    fast, slow = tmp_path / "fast.xlsx", tmp_path / "slow.xlsx"
    town_book.write(DEFS, town, fast)
    monkeypatch.setattr(town_book, "_templates_usable", lambda ws: False)
    town_book.write(DEFS, town, slow)  # every cell through XlsxWriter, as before templates
    assert _parts(fast) == _parts(slow)
    rows = openpyxl.load_workbook(io.BytesIO(fast.read_bytes()))[town_book.MEMBERS]
    assert rows.row_dimensions[2].height and rows.row_dimensions[2].height > 15


def test_town_book_bins_and_ranks_at_the_edges(inbox, tmp_path):
    """图表's bins (lo <= composite < hi) and the town ranks, counted here by their
    definitions, for composites on and beside every edge, ties and texts among them."""
    results = copy.deepcopy(list(inbox["results"].values()))
    kept = [r for r in results if r.fate == C.INCLUDED]
    edges = [59.99, 60.0, 60.01, 69.999, 70.0, 79.99, 80.0, 89.99, 90.0, 90.0, 100.0, 0.0,
             "缺票", 75.5, 75.5]
    first = kept[0].branch["members"]
    first += [dict(first[0], name=f"党员{k}") for k in range(len(edges))]
    members = [m for r in kept for m in r.branch["members"]]
    for m, value in zip(members, edges * (len(members) // len(edges) + 1)):
        m["composite"] = value
    town = C.town_rows(results)
    out = tmp_path / "town.xlsx"
    town_book.write(DEFS, town, out)
    ws = openpyxl.load_workbook(out)[town_book.CHARTS]
    scored = [m["composite"] for m in members if not isinstance(m["composite"], str)]
    want = {"60分以下": sum(v < 60 for v in scored), "60-70分": sum(60 <= v < 70 for v in scored),
            "70-80分": sum(70 <= v < 80 for v in scored), "80-90分": sum(80 <= v < 90 for v in scored),
            "90分及以上": sum(v >= 90 for v in scored)}
    assert {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(2, 7)} == want
    for _, m, rank in town.members:
        v = m["composite"]
        assert rank == (None if isinstance(v, str) else 1 + sum(w > v for w in scored))


def test_rounded_is_round_half_away():
    rnd = random.Random(2005)
    values = [0.0, -0.0, 0.005, -0.005, 2.675, 1.005, 88.075, 70.825, 99.995, -0.004,
              1e-5, 1e16, 123456789.125, 5e-324, 3, 7, -2]
    values += [rnd.randint(0, 10_000) / rnd.choice([3, 6, 7, 12, 40, 200]) for _ in range(3000)]
    values += [round(rnd.uniform(-100, 100), rnd.randint(0, 5)) for _ in range(3000)]
    values += [struct.unpack("d", struct.pack("Q", rnd.getrandbits(64)))[0] for _ in range(3000)]
    for v in values:
        try:
            want = float(round_half_away(v))
        except (ValueError, OverflowError) as e:
            with pytest.raises(type(e)):
                town_book.rounded(v)
            continue
        got = town_book.rounded(v)
        assert repr(got) == repr(want), v


def test_share_is_round_half_away_over_100():
    """Shares and grading ratios: floats (satisfaction) and Fractions (count * 100 /
    members), the float the Decimal rounded figure over 100 gives."""
    from fractions import Fraction

    rnd = random.Random(14)
    values = [0.0, -0.0, 0.005, -0.005, 2.675, 99.995, 1e-5, None, 3,
              Fraction(1, 200), Fraction(-1, 200), Fraction(-3, 400)]
    values += [Fraction(c * 100, m) for m in range(1, 80) for c in range(m + 1)]
    values += [Fraction(rnd.randint(-10**7, 10**7), rnd.randint(1, 999)) for _ in range(3000)]
    values += [round(rnd.uniform(0, 100), rnd.randint(0, 5)) for _ in range(3000)]
    for v in values:
        want = None if v is None else float(round_half_away(v) / 100)
        assert repr(town_book._share(v)) == repr(want), v
