"""Ballots imported from 问卷星 and 腾讯问卷 downloads (issue 16).

Downloads are built by ``tests/surveys.py`` in every header layout, both survey
builds and every file kind; each is imported into a generated workbook and the
composites are checked against figures computed here by hand with exact
fractions, through compute and through LibreOffice's recalculation. Identifying
values planted in the downloads must appear in no zip part of the workbook.
"""
from __future__ import annotations

import hashlib
import json
import re
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest

import books
import libreoffice as lo
import surveys as S
from xlsheets.workbook import layout as L
from xlsheets.cli import main
from xlsheets.files.compute import as_json, compute_file, validate_file
from xlsheets.online import ImportRefused, import_file
from xlsheets.online.headers import MappingError
from xlsheets.online import record as R

NAMES = books.NAMES  # 张三, 李四, 王五
DEFS = books.DEFS
PEER = {"张三": [9] * 7 + [27], "李四": [8] * 7 + [24], "王五": [7] * 7 + [21]}
COMMITTEE = {"张三": [10] * 7 + [28], "李四": [9] * 7 + [26], "王五": [8] * 7 + [25]}
MASS = [
    {"张三": [8] * 7 + [25], "李四": [9] * 7 + [28], "王五": [7] * 7 + [20]},
    {"张三": [10, 9, 8, 7, 6, 5, 4, 30], "李四": [6] * 7 + [18], "王五": [5, 6, 7, 8, 9, 10, 10, 29]},
    {"张三": [9] * 7 + [26], "李四": [10] * 7 + [30], "王五": [3] * 7 + [10]},
]
MORE = [
    {"张三": [5] * 7 + [15], "李四": [7] * 7 + [21], "王五": [6] * 7 + [16]},
    {"张三": [8] * 7 + [22], "李四": [4] * 7 + [12], "王五": [9] * 7 + [27]},
]


def fresh_book(tmp_path):
    """机关, three members, one peer and one committee ballot typed, no 群众参评 yet."""
    return books.make_book(tmp_path, {"peer": [PEER], "committee": [COMMITTEE]})


def hand(mass):
    """{name: exact composite} from PEER, COMMITTEE and the 群众参评 ballots ``mass``."""
    out = {}
    for m in NAMES:
        peer = Fraction(sum(PEER[m]))
        committee = Fraction(sum(COMMITTEE[m]))
        masses = Fraction(sum(sum(b[m]) for b in mass), len(mass))
        out[m] = peer * Fraction(40, 100) + masses * Fraction(30, 100) + committee * Fraction(30, 100)
    return out


def shown(x):
    """An exact value as the workbook shows it: two decimals, halves away from zero."""
    return float((Decimal(x.numerator) / Decimal(x.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def composites(path):
    outcome = compute_file(path, DEFS)
    assert outcome.ok, [f.text() for f in outcome.findings if f.is_error]
    return {m["name"]: m["composite"] for m in as_json(outcome, DEFS)["members"]}


def assert_composites(path, mass):
    want = hand(mass)
    assert composites(path) == {m: shown(v) for m, v in want.items()}


def parts_text(path):
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i).decode("utf-8", "replace") for i in zf.infolist()}


def assert_anonymous(path, header, body):
    """No planted identifying value, no time, no identifying column's text in any part."""
    texts = parts_text(path)
    meta = [i for i, h in enumerate(header) if h in S.WJX_META + S.TENCENT_META and h not in ("序号", "编号")]
    planted = set(S.PLANTED)
    for line in body:
        planted |= {str(line[i]) for i in meta if len(str(line[i])) >= 4}
    for part, text in texts.items():
        for value in planted:
            assert value not in text, f"{value!r} in {part}"


def test_the_anonymity_check_can_fail(tmp_path):
    """assert_anonymous finds a planted value typed anywhere into the workbook."""
    book = fresh_book(tmp_path)
    download, header, body = write_download(tmp_path, "plain", "item", "text", "xlsx")
    books.patch(book, {"群众参评": {"M40": S.PLANTED[0]}})
    with pytest.raises(AssertionError, match="203.0.113.77"):
        assert_anonymous(book, header, body)


# --- every layout, build and file kind ------------------------------------------------

CASES = [  # (layout, build, by, file kind)
    ("plain", "item", "text", "xlsx"),
    ("plain", "item", "score", "xlsx"),  # 按分数, with 总分
    ("ti", "item", "text", "xlsx"),
    ("paren", "item", "score", "csv-utf8"),
    ("dash", "item", "text", "csv-gbk"),
    ("dash", "member", "text", "xlsx"),
    ("dash", "member", "score", "csv-plain"),  # UTF-8 without BOM
    ("tencent", "item", "score", "zip"),
    ("tencent", "member", "text", "zip"),
]


def write_download(tmp_path, layout, build, by, kind, ballots=MASS, first=1, name="答卷"):
    tencent = layout == "tencent"
    header, body = S.rows(NAMES, ballots, layout, build, by, tencent=tencent,
                          total=(by == "score" and not tencent), first=first)
    if kind == "xlsx":
        path = S.write_xlsx(tmp_path / f"{name}.xlsx", header, body)
    elif kind == "csv-utf8":
        path = S.write_csv(tmp_path / f"{name}.csv", header, body, "utf-8-sig")
    elif kind == "csv-plain":
        path = S.write_csv(tmp_path / f"{name}.csv", header, body, "utf-8")
    elif kind == "csv-gbk":
        path = S.write_csv(tmp_path / f"{name}.csv", header, body, "gbk")
    else:
        path = S.write_tencent_zip(tmp_path / f"{name}.zip", header, body)
    return path, header, body


@pytest.mark.parametrize("layout,build,by,kind", CASES)
def test_each_layout_imports_and_scores(tmp_path, layout, build, by, kind):
    book = fresh_book(tmp_path)
    download, header, body = write_download(tmp_path, layout, build, by, kind)
    result = import_file(book, download, DEFS, "群众参评")
    assert result.written and result.ballots == [1, 2, 3]
    assert not [f for f in result.findings if f.is_error]
    assert_anonymous(book, header, body)
    assert_composites(book, MASS)


def test_xls_download_via_libreoffice(tmp_path, soffice):
    """An old 问卷星 .xls (All_Data_Readable), written by LibreOffice from the .xlsx."""
    book = fresh_book(tmp_path)
    (tmp_path / "src").mkdir()
    xlsx, header, body = write_download(tmp_path / "src", "ti", "item", "text", "xlsx")
    xls = lo._convert(xlsx, tmp_path / "xls", "xls", ".xls")
    assert xls.read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a real BIFF/OLE file
    result = import_file(book, xls, DEFS, "群众参评")
    assert result.ballots == [1, 2, 3]
    assert_anonymous(book, header, body)
    assert_composites(book, MASS)


def test_libreoffice_recalculates_the_imported_figures(tmp_path, soffice):
    """More ballots than the sheet's rows: the names widen; LibreOffice's figures are ours."""
    book = fresh_book(tmp_path)
    ballots = MASS * 4  # 12 ballots; the sheet has rows for 2 + 1 spare + 6 of room
    download, _, _ = write_download(tmp_path, "dash", "item", "text", "xlsx", ballots)
    result = import_file(book, download, DEFS, "群众参评")
    assert result.ballots == list(range(1, 13))
    assert "row-outside-range" not in {f.code for f in result.findings}
    want = hand(ballots)
    recalculated = lo.read_values(lo.recalc(book, tmp_path / "lo"))
    _, comp, _, _ = L.summary_columns(DEFS.groups)
    exact = L.exact_columns(DEFS.groups)[1]
    for i, m in enumerate(NAMES):
        row = L.SUMMARY_FIRST_ROW + i
        assert recalculated[L.SUMMARY][row][1] == m
        assert recalculated[L.SUMMARY][row][comp] == shown(want[m])
        assert abs(recalculated[L.SUMMARY][row][exact] - float(want[m])) < 1e-9
    assert_composites(book, ballots)


# --- idempotence and adding up ---------------------------------------------------------

def test_same_download_twice_changes_nothing(tmp_path):
    book = fresh_book(tmp_path)
    download, _, _ = write_download(tmp_path, "plain", "item", "text", "xlsx")
    import_file(book, download, DEFS, "群众参评")
    before = hashlib.sha256(book.read_bytes()).hexdigest()
    again = import_file(book, download, DEFS, "群众参评")
    assert not again.written and again.ballots == [] and again.duplicates == 3
    assert hashlib.sha256(book.read_bytes()).hexdigest() == before
    # the same answers as a CSV of the same download are the same answers
    csv_copy, _, _ = write_download(tmp_path, "plain", "item", "text", "csv-utf8")
    assert import_file(book, csv_copy, DEFS, "群众参评").ballots == []
    assert hashlib.sha256(book.read_bytes()).hexdigest() == before


def test_two_downloads_add_up(tmp_path):
    book = fresh_book(tmp_path)
    first, h1, b1 = write_download(tmp_path, "plain", "item", "text", "xlsx", MASS, name="一")
    second, h2, b2 = write_download(tmp_path, "tencent", "item", "score", "zip", MORE, first=1, name="二")
    assert import_file(book, first, DEFS, "群众参评").ballots == [1, 2, 3]
    assert import_file(book, second, DEFS, "群众参评").ballots == [4, 5]
    assert_anonymous(book, h1, b1)
    assert_anonymous(book, h2, b2)
    assert_composites(book, MASS + MORE)
    rec = R.read(book)
    assert len(rec.hashes) == 5 and [n for _, n, _ in rec.log] == [3, 2]


def test_a_later_download_adds_only_the_new_answers(tmp_path):
    """The survey downloaded again after two more answers came in."""
    book = fresh_book(tmp_path)
    early, _, _ = write_download(tmp_path, "dash", "member", "text", "xlsx", MASS[:2], name="早")
    late, _, _ = write_download(tmp_path, "dash", "member", "text", "xlsx", MASS, name="晚")
    assert import_file(book, early, DEFS, "群众参评").ballots == [1, 2]
    later = import_file(book, late, DEFS, "群众参评")
    assert later.ballots == [3] and later.duplicates == 2
    assert_composites(book, MASS)


def test_ballot_order_is_not_submission_order_and_record_holds_hashes_only(tmp_path):
    book = fresh_book(tmp_path)
    ballots = [{m: [k % 11] * 7 + [3 * (k % 11)] for m in NAMES} for k in range(1, 9)]
    download, header, body = write_download(tmp_path, "plain", "item", "score", "xlsx", ballots)
    import_file(book, download, DEFS, "群众参评", keep_errors=True)
    with books.BookFile.open(book) as b:
        rows = books.entry_rows(b, L.entry_sheet(DEFS.groups[1]))
        cells = b.cells(L.entry_sheet(DEFS.groups[1]))
        record = b.cells(R.SHEET)
    firsts = [cells[L.a1(rows[(no, "张三")], 2)].value for no in range(1, 9)]
    assert sorted(firsts) == list(range(1, 9)) and firsts != list(range(1, 9))
    digests = [c.value for a, c in record.items() if re.fullmatch(r"A\d+", a) and int(a[1:]) >= 5]
    assert len(digests) == 8 and all(re.fullmatch(r"[0-9a-f]{32}", d) for d in digests)
    assert digests == sorted(digests)


# --- answers checked as ballots ----------------------------------------------------------

def test_out_of_range_and_non_numeric_answers_are_refused(tmp_path):
    book = fresh_book(tmp_path)
    before = book.read_bytes()
    bad = [dict(MASS[0]), dict(MASS[1])]
    bad[0]["李四"] = [11] + [9] * 6 + [28]
    download, header, body = write_download(tmp_path, "plain", "item", "score", "xlsx", bad)
    with pytest.raises(ImportRefused) as e:
        import_file(book, download, DEFS, "群众参评")
    assert e.value.code == "import-errors"
    assert [(f.code, f.sheet) for f in e.value.findings] == [("score-out-of-range", "群众参评")]
    assert e.value.findings[0].cell.startswith("C")
    assert "下载文件第 2 行" in str(e.value) and "请为李四的“理想信念”打分" in str(e.value)
    assert f"群众参评!{e.value.findings[0].cell}" in str(e.value)
    assert book.read_bytes() == before
    kept = import_file(book, download, DEFS, "群众参评", keep_errors=True)
    assert kept.written
    errors = {(f.code, f.sheet) for f in kept.findings if f.is_error}
    assert ("score-out-of-range", "群众参评") in errors


def test_text_answer_refused_at_its_cell(tmp_path):
    book = fresh_book(tmp_path)
    header, body = S.rows(NAMES, MASS[:1], "dash", "item", "text")
    body[0][header.index("1.理想信念(满分10分)—张三")] = "很好"
    download = S.write_xlsx(tmp_path / "d.xlsx", header, body)
    with pytest.raises(ImportRefused) as e:
        import_file(book, download, DEFS, "群众参评")
    assert e.value.code == "import-errors"
    assert [f.code for f in e.value.findings] == ["score-not-number"]
    assert e.value.findings[0].sheet == "群众参评" and "“很好”" in str(e.value)


def test_skipped_answers_and_partial_respondents(tmp_path):
    """-2 (skipped) for one whole member: that row stays empty (a warning at its cells);
    -2 for one item only: the row is half filled, an error, refused."""
    book = fresh_book(tmp_path)
    partial = [dict(MASS[0]), dict(MASS[1])]
    partial[1]["王五"] = [None] * 8
    download, _, _ = write_download(tmp_path, "plain", "item", "code", "xlsx", partial)
    result = import_file(book, download, DEFS, "群众参评")
    empty = [f for f in result.findings if f.code == "ballot-row-empty"]
    assert len(empty) == 1 and empty[0].sheet == "群众参评" and "王五" in empty[0].message
    half = [dict(MORE[0])]
    half[0]["张三"] = [5, None, 5, 5, 5, 5, 5, 15]
    download2, _, _ = write_download(tmp_path, "plain", "item", "code", "xlsx", half, first=7, name="半")
    with pytest.raises(ImportRefused) as e:
        import_file(book, download2, DEFS, "群众参评")
    assert e.value.code == "import-errors"
    assert [f.code for f in e.value.findings] == ["ballot-half-filled"]
    assert "宗旨意识" in str(e.value)


def test_uniform_ballot_is_a_warning(tmp_path):
    book = fresh_book(tmp_path)
    uniform = [{m: [8] * 8 for m in NAMES}, MASS[1]]
    download, _, _ = write_download(tmp_path, "plain", "item", "score", "xlsx", uniform)
    result = import_file(book, download, DEFS, "群众参评")
    warned = [f for f in result.findings if f.code == "import-uniform"]
    assert len(warned) == 1 and not warned[0].is_error and warned[0].sheet == "群众参评"
    assert re.fullmatch(r"A\d+", warned[0].cell)


def test_member_not_on_roster_refused_and_roster_member_absent_warned(tmp_path):
    book = fresh_book(tmp_path)
    before = book.read_bytes()
    header, body = S.rows(("张三", "李四", "赵六"), MASS[:1], "dash", "item", "text")
    download = S.write_xlsx(tmp_path / "d.xlsx", header, body)
    with pytest.raises(MappingError) as e:
        import_file(book, download, DEFS, "群众参评")
    assert e.value.code == "mapping-unsure" and "赵六" in str(e.value)
    assert book.read_bytes() == before
    two = [{"张三": b["张三"], "李四": b["李四"]} for b in MASS]
    header, body = S.rows(("张三", "李四"), two, "dash", "item", "text")
    download = S.write_xlsx(tmp_path / "d2.xlsx", header, body)
    result = import_file(book, download, DEFS, "群众参评")
    absent = [f for f in result.findings if f.code == "import-member-absent"]
    assert [(f.sheet, f.cell) for f in absent] == [("名册", "A4")] and "王五" in absent[0].message


def test_unplaceable_headers_refused_then_mapped_by_file(tmp_path):
    """A matrix per member without stems (第N题(行), rows = items): refused; a mapping file places it."""
    book = fresh_book(tmp_path)
    header, body = S.rows(NAMES, MASS, "ti", "member", "score")
    download = S.write_xlsx(tmp_path / "d.xlsx", header, body)
    with pytest.raises(MappingError) as e:
        import_file(book, download, DEFS, "群众参评")
    assert e.value.code == "mapping-unsure"
    assert "第 G 列“第1题(理想信念)”:只有行标题“理想信念”,没有题干" in str(e.value)
    lines = ["表头,党员姓名,测评项目"]
    for h, m, k in S.columns(NAMES, "ti", "member"):
        lines.append(f"{h.replace('第', '第', 1)},{m},{S.ITEMS[k]}")
    # 第N题(理想信念) repeats per member: the mapping file needs distinct headers, so the
    # clerk renames the download's headers; here the columns are renamed the same way.
    renamed = [h if i < 6 else f"{h}#{(i - 6) // 8 + 1}" for i, h in enumerate(header)]
    download = S.write_xlsx(tmp_path / "d2.xlsx", renamed, body)
    mapping = tmp_path / "映射.csv"
    mapping.write_text("表头,党员姓名,测评项目\n" + "\n".join(
        f"{renamed[6 + i]},{m},{S.ITEMS[k]}"
        for i, (_, m, k) in enumerate(S.columns(NAMES, "ti", "member"))) + "\n", encoding="gbk")
    result = import_file(book, download, DEFS, "群众参评", mapping=mapping)
    assert result.ballots == [1, 2, 3]
    assert_composites(book, MASS)


def test_other_questions_are_not_read(tmp_path):
    """A question that is no score (a free-text 意见建议 with a name in it) is never written."""
    book = fresh_book(tmp_path)
    header, body = S.rows(NAMES, MASS, "dash", "item", "score")
    header.append("9、您对本支部的意见建议")
    for i, line in enumerate(body):
        line.append(f"秘密意见{i}号")
    download = S.write_xlsx(tmp_path / "d.xlsx", header, body)
    result = import_file(book, download, DEFS, "群众参评")
    assert any("意见建议" in n for n in result.notes)
    assert not any("秘密意见" in t for t in parts_text(book).values())


def test_dry_run_writes_nothing(tmp_path):
    book = fresh_book(tmp_path)
    before = book.read_bytes()
    download, _, _ = write_download(tmp_path, "tencent", "member", "text", "zip")
    result = import_file(book, download, DEFS, "群众参评", dry_run=True)
    assert result.ballots == [1, 2, 3] and not result.written
    assert book.read_bytes() == before


# --- the survey text maps back ----------------------------------------------------------

def parse_wjx_text(text):
    """[(question number, stem, [rows])] of a 问卷星 text with [矩阵量表题] questions."""
    out, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^(\d+)\. (.+)\[矩阵量表题\]$", lines[i])
        if m:
            rows, j = [], i + 2
            while j < len(lines) and lines[j].strip():
                rows.append(lines[j])
                j += 1
            out.append((int(m[1]), m[2], rows, lines[i + 1].split()))
            i = j
        i += 1
    return out


@pytest.mark.parametrize("style", ["stem", "ti"])
def test_survey_text_maps_back_without_a_mapping_file(tmp_path, capsys, style):
    book = fresh_book(tmp_path)
    assert main(["survey", str(book), "--group", "群众参评"]) == 0
    questions = parse_wjx_text(capsys.readouterr().out)
    assert [q for q, _, _, _ in questions] == list(range(1, 9))
    assert all(rows == list(NAMES) for _, _, rows, _ in questions)
    assert [len(opts) for _, _, _, opts in questions] == [11] * 7 + [31]
    header = list(S.WJX_META)
    cols = []
    for q, stem, rows, _ in questions:
        for r, m in enumerate(rows):
            header.append(f"{q}、{stem}—{m}" if style == "stem" else f"第{q}题({m})")
            cols.append((m, q - 1))
    body = [S._wjx_meta(i) + [f"{b[m][k]}分" for m, k in cols] for i, b in enumerate(MASS, 1)]
    download = S.write_xlsx(tmp_path / "d.xlsx", header, body)
    assert import_file(book, download, DEFS, "群众参评").ballots == [1, 2, 3]
    assert_composites(book, MASS)


# --- the command line ---------------------------------------------------------------------

def test_cli_import_and_refusal(tmp_path, capsys):
    book = fresh_book(tmp_path)
    download, _, _ = write_download(tmp_path, "plain", "item", "text", "xlsx")
    assert main(["import", str(book), str(download), "--group", "群众参评"]) == 0
    out = capsys.readouterr().out
    assert "已把 3 份答卷导入" in out and "票号 1–3" in out
    assert main(["import", str(book), str(download), "--group", "群众参评"]) == 0
    assert "此前已导入过" in capsys.readouterr().out
    header, body = S.rows(("张三", "赵六", "王五"), MASS[:1], "dash", "item", "text")
    bad = S.write_xlsx(tmp_path / "bad.xlsx", header, body)
    before = book.read_bytes()
    assert main(["import", str(book), str(bad), "--group", "群众参评"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误:下载文件") and "赵六" in err and "Traceback" not in err
    assert book.read_bytes() == before
    assert main(["import", str(book), str(tmp_path / "无.xlsx"), "--group", "群众参评"]) == 2
    assert "文件不存在" in capsys.readouterr().err
    assert main(["import", str(book), str(download), "--group", "村民"]) == 2
    assert "没有测评层次“村民”" in capsys.readouterr().err


def test_cli_json_and_validate_after(tmp_path, capsys):
    book = fresh_book(tmp_path)
    download, _, _ = write_download(tmp_path, "tencent", "item", "score", "zip")
    assert main(["import", str(book), str(download), "--group", "群众参评", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ballots"] == [1, 2, 3] and doc["written"] is True
    outcome, _ = validate_file(book, DEFS)
    assert outcome.ok


# --- the add-in's button ------------------------------------------------------------------

def test_addin_button_calls_the_same_import(tmp_path, monkeypatch):
    """导入网上答卷 on xlwings' remote engine: the file on disk gets what the CLI gives."""
    import remote
    from xlsheets.excel import handlers as h

    monkeypatch.setenv(*remote.LICENCE_ENV)
    reason = remote.remote_engine_missing()
    if reason:
        pytest.skip(reason)
    book = fresh_book(tmp_path / "a")
    twin = fresh_book(tmp_path / "b")
    download, header, body = write_download(tmp_path, "dash", "member", "text", "xlsx")
    opened = remote.open_book(remote.payload(book, name=str(book)))
    result = h.run(lambda b: h.import_online_book(b, DEFS, str(download), "群众参评"), opened)
    assert "已把 3 份答卷导入“群众参评”,票号 1–3" in result.message
    assert [a["func"] for a in remote.actions(opened)] == ["alert"]
    assert_anonymous(book, header, body)
    assert_composites(book, MASS)
    import_file(twin, download, DEFS, "群众参评")
    compute_file(twin, DEFS)
    for path in (book, twin):  # the stamp's time aside, the same cells
        assert lo.read_values(path)[L.SUMMARY] == lo.read_values(twin)[L.SUMMARY]
    again = remote.open_book(remote.payload(book, name=str(book)))
    result = h.run(lambda b: h.import_online_book(b, DEFS, str(download), "群众参评"), again)
    assert "没有新的答卷" in result.message and "此前已导入过" in result.message
    no_dialog = remote.open_book(remote.payload(book, name=str(book)))
    result = h.run(lambda b: h.import_online_book(b, DEFS), no_dialog)
    assert "xlsheets import" in result.message


def test_a_held_lock_stops_the_import_and_an_encrypted_book_stays_encrypted(tmp_path):
    from xlsheets.disk import crypto
    from xlsheets.disk.locks import BusyError, workbook_lock

    book = fresh_book(tmp_path)
    download, _, _ = write_download(tmp_path, "plain", "item", "text", "xlsx")
    before = book.read_bytes()
    with workbook_lock(book):
        with pytest.raises(BusyError):
            import_file(book, download, DEFS, "群众参评")
    assert book.read_bytes() == before
    secret = tmp_path / "加密.xlsx"
    secret.write_bytes(crypto.encrypt_bytes(before, "口令123", secret))
    with pytest.raises(Exception) as e:
        import_file(secret, download, DEFS, "群众参评")
    assert e.value.code == "password-needed" and "加密.xlsx" in str(e.value)
    assert import_file(secret, download, DEFS, "群众参评", password="口令123").ballots == [1, 2, 3]
    assert crypto.is_encrypted(secret)
    outcome = compute_file(secret, DEFS, password="口令123")
    want = hand(MASS)
    assert {m["name"]: m["composite"] for m in as_json(outcome, DEFS)["members"]} == \
        {m: shown(v) for m, v in want.items()}


# --- 回头看 -------------------------------------------------------------------------------

LOOKBACK_ITEMS = [i.name for i in DEFS.lookback_items]


def lookback_download(tmp_path, answers, layout="dash", name="回头看", first=1):
    """A 问卷星 download of the one-matrix 回头看 survey ``survey --group 回头看`` writes."""
    bare = [re.sub(r"^\d+、", "", n) for n in LOOKBACK_ITEMS]
    if layout == "dash":
        cols = [f"1.请对本支部分析评议阶段的工作逐项测评(每项满分10分)—{bare[0]}", *bare[1:]]
    else:
        cols = [f"第1题({b})" for b in bare]
    header = list(S.WJX_META) + cols
    body = [S._wjx_meta(i) + [f"{v}分" if v is not None else "(跳过)" for v in a]
            for i, a in enumerate(answers, start=first)]
    return S.write_xlsx(tmp_path / f"{name}.xlsx", header, body), header, body


def test_lookback_survey_imports_into_its_sheet(tmp_path, capsys):
    book = fresh_book(tmp_path)
    assert main(["survey", str(book), "--group", "回头看"]) == 0
    text = capsys.readouterr().out
    assert "[矩阵量表题]" in text and "边议边改情况" in text
    answers = [[10, 9, 8, 10, 9, 8, 10, 9, 8, 10], [8] * 10, [7, 7, 7, 7, 7, 9, 9, 9, 9, None]]
    for layout in ("dash", "ti"):
        path = tmp_path / layout
        path.mkdir()
        b = fresh_book(path)
        download, header, body = lookback_download(path, answers, layout)
        result = import_file(b, download, DEFS, "回头看")
        assert result.ballots == [1, 2, 3] and result.written
        partial = [f for f in result.findings if f.code == "lookback-partial"]
        assert len(partial) == 1 and partial[0].sheet == L.LOOKBACK_ENTRY
        assert_anonymous(b, header, body)
        outcome = compute_file(b, DEFS)
        doc = as_json(outcome, DEFS)["lookback"]
        want = [Fraction(sum(a[k] for a in answers if a[k] is not None),
                         sum(a[k] is not None for a in answers)) for k in range(10)]
        assert [i["mean"] for i in doc["items"]] == [shown(w) for w in want]
        again = import_file(b, download, DEFS, "回头看")
        assert again.ballots == [] and again.duplicates == 3
    bad = [[11] + [8] * 9]
    download, _, _ = lookback_download(tmp_path, bad, name="坏")
    with pytest.raises(ImportRefused) as e:
        import_file(book, download, DEFS, "回头看")
    assert e.value.code == "import-errors"
    assert [(f.code, f.sheet) for f in e.value.findings] == [("lookback-out-of-range", "回头看录入")]


def test_xlsx_with_date_cells_and_csv_of_the_same_download_agree(tmp_path):
    """问卷星's .xlsx may hold 提交答卷时间 as a date cell, its .csv as text: the same answers."""
    import datetime as dt

    book = fresh_book(tmp_path)
    header, body = S.rows(NAMES, MASS, "plain", "item", "text")
    dated = [[dt.datetime.strptime(v, "%Y/%m/%d %H:%M:%S") if i == 1 else v
              for i, v in enumerate(line)] for line in body]
    xlsx = S.write_xlsx(tmp_path / "d.xlsx", header, dated)
    loose = [[re.sub(r"/0(\d)", r"/\1", v) if i == 1 else v for i, v in enumerate(line)]
             for line in body]  # 2005/8/26 9:07:01 as Excel writes a CSV
    csv_file = S.write_csv(tmp_path / "d.csv", header, loose, "gbk")
    assert import_file(book, xlsx, DEFS, "群众参评").ballots == [1, 2, 3]
    again = import_file(book, csv_file, DEFS, "群众参评")
    assert again.ballots == [] and again.duplicates == 3
    for line in body:
        assert line[1].replace("/", "-") not in "".join(parts_text(book).values())


def test_tencent_zip_with_another_csv_and_a_trailing_column(tmp_path):
    """A zip may hold more than the answers (a CSV of open answers, say) and columns after them."""
    book = fresh_book(tmp_path)
    header, body = S.rows(NAMES, MASS, "tencent", "item", "score", tencent=True)
    header.append("备注")
    for line in body:
        line.append(S.PLANTED[2])
    zipped = S.write_tencent_zip(tmp_path / "d.zip", header, body)
    with zipfile.ZipFile(zipped, "a") as zf:
        zf.writestr("开放题答案.csv", "编号,9.您的建议\n1,秘密建议\n".encode("gbk"))
    result = import_file(book, zipped, DEFS, "群众参评")
    assert result.ballots == [1, 2, 3]
    assert_anonymous(book, header, body)
    assert not any("秘密建议" in t for t in parts_text(book).values())
    assert_composites(book, MASS)


@pytest.mark.parametrize("group,key", [("党员互评", "peer"), ("支委会考评", "committee")])
def test_any_rater_group(tmp_path, group, key):
    book = books.make_book(tmp_path, {"mass": [MASS[0]], **({"committee": [COMMITTEE]}
                                                           if key == "peer" else {"peer": [PEER]})})
    download, _, _ = write_download(tmp_path, "tencent", "member", "score", "zip", MORE)
    result = import_file(book, download, DEFS, group)
    assert result.ballots == [1, 2] and not [f for f in result.findings if f.is_error]
    outcome = compute_file(book, DEFS)
    means = {m["name"]: m[f"{key}_mean"] for m in as_json(outcome, DEFS)["members"]}
    assert means == {m: shown(Fraction(sum(sum(b[m]) for b in MORE), len(MORE))) for m in NAMES}


def test_import_changes_only_what_it_must(tmp_path):
    """Lossless like compute: every part is copied byte for byte but the entry sheet, the
    record sheet, the workbook's names and sheet list, and cached values of formulas (the
    typed ballots' 合计 here, which the test book leaves uncached, and the figures)."""
    from xlsheets.ooxml import BookFile

    book = fresh_book(tmp_path)
    before = {i.filename: z for i, z in _parts(book)}
    download, _, _ = write_download(tmp_path, "plain", "item", "text", "xlsx")
    import_file(book, download, DEFS, "群众参评")
    after = {i.filename: z for i, z in _parts(book)}
    with BookFile.open(book) as b:
        written = {b.sheet_part("群众参评"), b.sheet_part(R.SHEET), "xl/workbook.xml",
                   "xl/_rels/workbook.xml.rels", "[Content_Types].xml"}
    assert set(before) <= set(after)
    changed = {p for p in after if before.get(p) != after[p]}
    assert {b.sheet_part("群众参评"), b.sheet_part(R.SHEET)} <= changed
    cached = re.compile(rb"<v>[^<]*</v>|<v/>| t=\"(?:str|n|b|e)\"")
    for part in changed - written:
        assert cached.sub(b"", before[part]) == cached.sub(b"", after[part]), part
    assert before["xl/styles.xml"] == after["xl/styles.xml"]


def _parts(path):
    with zipfile.ZipFile(path) as zf:
        return [(i, zf.read(i)) for i in zf.infolist()]


def test_option_number_downloads_are_refused(tmp_path):
    """问卷星's 按序号 download (All_Data_Original) holds option numbers, not scores."""
    book = fresh_book(tmp_path)
    header, body = S.rows(NAMES, MASS, "ti", "item", "score")
    coded = S.write_xlsx(tmp_path / "123456_2_All_Data_Original.xlsx", header, body)
    with pytest.raises(Exception) as e:
        import_file(book, coded, DEFS, "群众参评")
    assert e.value.code == "download-option-numbers" and "All_Data_Original" in str(e.value)
    scored, _, _ = write_download(tmp_path, "plain", "item", "score", "xlsx")  # with 总分
    assert any("按分数" in n for n in import_file(book, scored, DEFS, "群众参评").notes)


# --- 附件6 ------------------------------------------------------------------------------

def test_satisfaction_counts_add_up_and_are_not_counted_twice(tmp_path, capsys):
    sat = DEFS.satisfaction
    book = books.make_book(tmp_path, {"peer": [PEER], "mass": [MASS[0]], "committee": [COMMITTEE]},
                           categories=[2, 0, 0, 0, 0, 0, 0], levels=[1, 1, 0])  # typed from paper
    assert main(["survey", str(book), "--group", "附件6"]) == 0
    text = capsys.readouterr().out
    assert "[单选题]" in text and sat["categories"][3] in text and "基本满意" in text
    answers = [(0, 0), (0, 0), (2, 1), (6, 0), (3, 2)]  # (category, level) per respondent
    header = list(S.TENCENT_META) + ["1.您属于哪一类参加测评人员?", "2.总体评价"]
    body = [S._tencent_meta(i) + [sat["categories"][c], sat["levels"][lv]]
            for i, (c, lv) in enumerate(answers, start=1)]
    download = S.write_tencent_zip(tmp_path / "满意度.zip", header, body)
    assert main(["import", str(book), str(download), "--group", "附件6"]) == 0
    assert "已把 5 份答卷计入" in capsys.readouterr().out
    assert_anonymous(book, header, body)
    before = book.read_bytes()
    assert import_file(book, download, DEFS, "附件6").duplicates == 5
    assert book.read_bytes() == before
    outcome = compute_file(book, DEFS)
    doc = as_json(outcome, DEFS)["satisfaction"]
    total = 2 + len(answers)
    levels = [1 + 3, 1 + 1, 0 + 1]
    assert doc["total"] == total
    assert [doc["levels"][n]["count"] for n in sat["levels"]] == levels
    assert [doc["levels"][n]["percent"] for n in sat["levels"]] == \
        [shown(Fraction(100 * c, total)) for c in levels]


def test_satisfaction_columns_must_be_certain(tmp_path):
    book = fresh_book(tmp_path)
    sat = DEFS.satisfaction
    header = list(S.WJX_META) + ["1、总体评价", "2、对班子的评价"]  # two columns of levels, no category
    body = [S._wjx_meta(1) + ["满意", "满意"]]
    download = S.write_xlsx(tmp_path / "d.xlsx", header, body)
    with pytest.raises(MappingError) as e:
        import_file(book, download, DEFS, "附件6")
    assert e.value.code == "mapping-choice-none" and "参加测评人员类别" in str(e.value)
    header = list(S.WJX_META) + ["1、身份", "2、总体评价"]
    body = [S._wjx_meta(1) + [sat["categories"][0], "满意"], S._wjx_meta(2) + ["(跳过)", "不满意"]]
    download = S.write_xlsx(tmp_path / "d2.xlsx", header, body)
    with pytest.raises(ImportRefused) as e:
        import_file(book, download, DEFS, "附件6")
    assert e.value.code == "import-satisfaction-errors"
    assert [(f.code, f.sheet) for f in e.value.findings] == [("satisfaction-over-total", "附件6 满意度测评表")]
    assert import_file(book, download, DEFS, "附件6", keep_errors=True).written


# --- hostile or broken downloads; shuffled columns --------------------------------------

def _bomb_zip(path, size=24 << 20):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("答卷.csv", "w", force_zip64=True) as out:
            block = b"0" * (1 << 20)
            for _ in range(size >> 20):
                out.write(block)
    return path


@pytest.mark.parametrize("make,words", [
    (lambda p: (p / "答卷.xlsx").write_bytes(b"PK\x03\x04 not really") and p / "答卷.xlsx", "损坏"),
    (lambda p: (p / "答卷.xls").write_bytes(b"\xd0\xcf\x11\xe0 not really") and p / "答卷.xls", "无法读取"),
    (lambda p: _bomb_zip(p / "答卷.zip"), "压缩比异常"),
    (lambda p: (p / "答卷.csv").write_bytes(b"") or p / "答卷.csv", "空的"),
    (lambda p: (p / "答卷.docx").write_bytes(b"x") and p / "答卷.docx", "不是问卷星或腾讯问卷"),
])
def test_broken_downloads_get_one_chinese_message(tmp_path, capsys, make, words):
    book = fresh_book(tmp_path)
    before = book.read_bytes()
    bad = make(tmp_path)
    assert main(["import", str(book), str(bad), "--group", "群众参评"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误:下载文件") and words in err and "Traceback" not in err, err
    assert book.read_bytes() == before


@pytest.mark.parametrize("seed", range(4))
def test_column_order_does_not_matter(tmp_path, seed):
    """The services may order questions and matrix rows as the clerk built them."""
    import random

    book = fresh_book(tmp_path)
    header, body = S.rows(NAMES, MASS, "plain" if seed % 2 else "tencent", "item", "score",
                          tencent=not seed % 2)
    meta = len(S.TENCENT_META if not seed % 2 else S.WJX_META)
    order = list(range(meta, len(header)))
    random.Random(seed).shuffle(order)
    order = list(range(meta)) + order
    header = [header[i] for i in order]
    body = [[line[i] for i in order] for line in body]
    download = S.write_xlsx(tmp_path / "d.xlsx", header, body)
    assert import_file(book, download, DEFS, "群众参评").ballots == [1, 2, 3]
    assert_composites(book, MASS)
