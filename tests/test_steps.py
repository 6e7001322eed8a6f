"""The nine steps beyond the ballots, on small workbooks: each rule (R13-R18) and register.

Every test starts from ``steps.steps_book`` (a 机关 branch whose registers are
filled by the rules), changes what a clerk might get wrong, and expects the
finding on the right cell, with the right severity, through ``validate_file``
(the file shell) as the command line and the add-in's 校验 run it. The rule cases type
``cells`` into the filled workbook in memory (``steps.in_memory``: written and read once)
and check its Grids; the filled book, a day Excel made a date, compute, the materials
folder, the command line and the town go through a real .xlsx.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

import steps as S
from sheets import Book
from steps import (ABSENT, BRANCH, FLAGGED, HEAD, LEADER, NAMES, PLAIN, SECRETARY, day,
                   material_row, attendance_row, in_memory, steps_book)
from xlsheets.workbook import layout as L
from xlsheets.files.compute import compute_file, validate_file
from xlsheets.ooxml import BookFile

DEFS = S.DEFS
SCHEDULE = "附件1 工作日程表"
STEP_SHEETS = {L.ROSTER, SCHEDULE, "工作日程表", "附件2 工作日程表", L.OPINIONS,
               L.OPINION_COUNTS, L.TALKS, L.TALK_MATRIX, L.MATERIALS, L.MEETINGS, L.CHECKLIST}


PRODUCED = set()  # codes the cases below produced; checked against the catalogue at the end


def step_findings(book, **kw):
    """The findings on the steps' sheets: a ``sheets.Book`` checked on its Grids (what
    ``validate_file`` reports, but the stamp), a path through the file."""
    if isinstance(book, Book):
        assert not kw
        outcome = book.check()
    else:
        outcome, _ = validate_file(book, DEFS, **kw)
    found = [f for f in outcome.findings if f.sheet in STEP_SHEETS]
    PRODUCED.update(f.code for f in found)
    return found


def where(findings):
    return {(f.code, f.sheet, f.cell) for f in findings}


def severity(findings, code):
    return {f.severity for f in findings if f.code == code}


# --- the filled book and the seed's schedules (R13, R14) ------------------------------

def test_registers_filled_by_the_rules_give_only_the_seeds_one_month_warning(tmp_path):
    found = step_findings(steps_book(tmp_path))
    # 附件1 runs 8月16日 to 9月5日: 21 days, under a month (R14), a warning on its last date.
    assert where(found) == {("schedule-too-short", SCHEDULE, "B12")}
    assert severity(found, "schedule-too-short") == {"warning"}
    assert "2005年9月15日" in found[0].message


def test_the_seeds_second_schedule_lasts_a_month():
    found = step_findings(in_memory(unit="兴隆街社区", filename="兴隆街社区.xlsx"))
    assert not [f for f in found if f.code.startswith("schedule-")]


SPELLINGS = ["8月16—19日", "8月20--24日", "8月25–28日", "8月29~31日", "8月31日至9月5日",
             "9月6日", "9月7—9日", "9月10日—9月12日", "9月13～16日"]


def test_a_branch_schedule_in_every_spelling_parses():
    cells = {"工作日程表": {L.a1(L.SCHEDULE_FIRST_ROW + k, 1): t for k, t in enumerate(SPELLINGS)}}
    found = step_findings(in_memory(cells, unit="新华村", filename="新华村.xlsx"))
    assert not [f for f in found if f.code.startswith("schedule-")]


@pytest.mark.parametrize("step, text, code", [
    (3, "八月二十日", "schedule-date-bad"),
    (3, "8月28—25日", "schedule-date-reversed"),
    (3, "8月10—12日", "schedule-out-of-order"),
    (3, "", "schedule-date-missing"),
])
def test_a_bad_schedule_date_is_an_error_on_its_cell(step, text, code):
    typed = list(SPELLINGS)
    typed[step] = text or None
    cells = {"工作日程表": {L.a1(L.SCHEDULE_FIRST_ROW + k, 1): t for k, t in enumerate(typed)}}
    found = step_findings(in_memory(cells, unit="新华村", filename="新华村.xlsx"))
    assert (code, "工作日程表", L.a1(L.SCHEDULE_FIRST_ROW + step, 1)) in where(found)
    assert severity(found, code) == {"error"}


def test_a_day_excel_turned_into_a_date_still_reads(tmp_path):
    typed = [*SPELLINGS[:5], day(9, 6), *SPELLINGS[6:]]  # “9月6日”, stored by Excel as a date
    cells = {"工作日程表": {L.a1(L.SCHEDULE_FIRST_ROW + k, 1): t for k, t in enumerate(typed)}}
    path = steps_book(tmp_path, cells, unit="新华村", filename="新华村.xlsx")
    found = step_findings(path)
    assert not [f for f in found if f.code.startswith("schedule-")]


def test_an_unscheduled_branch_with_no_dates_gets_one_warning():
    found = step_findings(in_memory(unit="新华村", filename="新华村.xlsx"))
    assert [f.code for f in found if f.code.startswith("schedule-")] == ["schedule-empty"]


def test_a_renamed_step_is_an_error():
    cells = {SCHEDULE: {L.a1(L.SCHEDULE_FIRST_ROW + 1, 0): "2、征求意见"}}
    found = step_findings(in_memory(cells))
    assert ("schedule-step-changed", SCHEDULE, "A5") in where(found)


# --- 谈心 and “五个必须谈” (R18) ---------------------------------------------------

def matrix_cell(who, whom):
    return L.a1(L.MATRIX_FIRST_ROW + NAMES.index(who), 1 + NAMES.index(whom))


def talk_row(k):
    return L.REGISTER_FIRST_ROW + k


def clear_talk(k):
    return {L.TALKS: {L.a1(talk_row(k), c): None for c in range(len(L.TALK_HEADERS))}}


def test_a_talk_log_missing_one_compulsory_talk(tmp_path):
    path = steps_book(tmp_path, clear_talk(2))  # 钱立新 never talked with 孙明华, whom he supervises
    found = step_findings(path)
    assert where(found) - {("schedule-too-short", SCHEDULE, "B12")} == {
        ("talk-must-missing", L.TALK_MATRIX, matrix_cell(LEADER, HEAD))}
    assert severity(found, "talk-must-missing") == {"error"}
    assert not compute_file(path, DEFS).written  # an error blocks computing


@pytest.mark.parametrize("k, who, whom", [(0, SECRETARY, LEADER), (1, SECRETARY, FLAGGED)])
def test_the_secretarys_compulsory_talks(k, who, whom):
    found = step_findings(in_memory(clear_talk(k)))
    assert ("talk-must-missing", L.TALK_MATRIX, matrix_cell(who, whom)) in where(found)


def test_the_branch_secretarys_talks_are_a_should():
    found = step_findings(in_memory(clear_talk(3)))
    shoulds = {f.cell for f in found if f.code == "talk-should-missing"}
    assert {matrix_cell(BRANCH, n) for n in (HEAD, PLAIN)} <= shoulds
    assert severity(found, "talk-should-missing") == {"warning"}
    # 周国平 and 吴晓燕 now talked with no other member, only with the masses.
    total = L.a1(L.MATRIX_FIRST_ROW + NAMES.index(PLAIN), 2 + len(NAMES))
    assert total in shoulds
    assert not [f for f in found if f.is_error]


def test_a_talk_is_symmetric():
    cells = {L.TALKS: {L.a1(talk_row(2), 1): HEAD, L.a1(talk_row(2), 2): LEADER}}
    assert not [f for f in step_findings(in_memory(cells)) if f.code.startswith("talk-")]


def test_talk_rows_name_roster_members_and_the_right_form():
    r = talk_row(5)
    cells = {L.TALKS: {L.a1(r, 0): day(8, 24), L.a1(r, 1): "张某某", L.a1(r, 2): PLAIN,
                       L.a1(r, 4): "一对多"}}
    found = step_findings(in_memory(cells))
    assert {("talk-talker-unknown", L.TALKS, L.a1(r, 1)),
            ("talk-form-mismatch", L.TALKS, L.a1(r, 4))} <= where(found)


def test_names_separated_otherwise_are_read_and_written_back_with_the_forms_mark(tmp_path):
    r = talk_row(3)
    cells = {L.TALKS: {L.a1(r, 2): f"{SECRETARY},{LEADER} {HEAD}/{PLAIN}，{FLAGGED}"}}
    path = steps_book(tmp_path, cells)
    found = step_findings(path)
    assert ("register-names-separated", L.TALKS, L.a1(r, 2)) in where(found)
    assert not [f for f in found if f.code.startswith("talk-")]
    assert compute_file(path, DEFS).written
    with BookFile.open(path) as b:
        assert b.cells(L.TALKS)[L.a1(r, 2)].value == "、".join(n for n in NAMES if n != BRANCH)


def test_compute_writes_who_talked_with_whom(tmp_path):
    path = steps_book(tmp_path)
    assert compute_file(path, DEFS).written
    with BookFile.open(path) as b:
        cells = b.cells(L.TALK_MATRIX)
    value = lambda a: cells[a].value if a in cells else None  # noqa: E731
    assert value(matrix_cell(SECRETARY, LEADER)) == 1
    assert value(matrix_cell(LEADER, SECRETARY)) == 1
    assert value(matrix_cell(BRANCH, FLAGGED)) == 1
    assert value(matrix_cell(PLAIN, FLAGGED)) == 0  # talked side by side, not with each other
    masses = lambda n: L.a1(L.MATRIX_FIRST_ROW + NAMES.index(n), 1 + len(NAMES))  # noqa: E731
    total = lambda n: L.a1(L.MATRIX_FIRST_ROW + NAMES.index(n), 2 + len(NAMES))  # noqa: E731
    assert (value(masses(PLAIN)), value(masses(SECRETARY))) == (1, 0)
    assert (value(total(SECRETARY)), value(total(BRANCH)), value(total(FLAGGED))) == (3, 1, 3)


# --- 党性分析材料 (R16, R17) ------------------------------------------------------

def material(name, col, value):
    return {L.MATERIALS: {L.a1(material_row(name), col): value}}


def test_a_member_material_of_1999_characters_is_too_short():
    found = step_findings(in_memory(material(PLAIN, 2, 1999)))
    assert where(found) - {("schedule-too-short", SCHEDULE, "B12")} == {
        ("material-too-short", L.MATERIALS, L.a1(material_row(PLAIN), 2))}
    assert "1999" in found[0].message and "2000" in found[0].message


def test_the_leadership_needs_4000():
    found = step_findings(in_memory(material(DEFS.process.materials["leadership"], 2,
                                                        3999)))
    assert ("material-too-short", L.MATERIALS, L.a1(material_row("领导班子"), 2)) in where(found)


def test_an_exempt_member_without_an_oral_record():
    cells = material(FLAGGED, 4, "是")  # in a 社区: “社区年老体弱或者书写有困难的党员”
    cells[L.MATERIALS][L.a1(material_row(FLAGGED), 2)] = None
    community = dict(unit="兴隆街社区", filename="兴隆街社区.xlsx")
    found = step_findings(in_memory(cells, **community))
    assert {f for f in where(found) if f[0].startswith("material-")} == {
        ("material-exempt-no-record", L.MATERIALS, L.a1(material_row(FLAGGED), 5))}
    cells[L.MATERIALS][L.a1(material_row(FLAGGED), 5)] = PLAIN
    found = step_findings(in_memory(cells, **community))
    assert not [f for f in found if f.code.startswith("material-")]
    # the same member of the town organs (机关) may not be exempted at all
    found = step_findings(in_memory(cells))
    assert ("material-exempt-not-allowed", L.MATERIALS, L.a1(material_row(FLAGGED), 4)) in \
        where(found)


def test_leadership_cannot_be_exempt():
    found = step_findings(in_memory(material(LEADER, 4, "是")))
    assert ("material-exempt-not-allowed", L.MATERIALS, L.a1(material_row(LEADER), 4)) in where(found)


@pytest.mark.parametrize("name, reviewer", [
    (HEAD, BRANCH),  # a department head is reviewed by the leadership member over him
    (LEADER, BRANCH),  # a leadership member by the town secretary
    ("领导班子", LEADER),  # the leadership's material by the town secretary
    (PLAIN, SECRETARY),  # a member by the branch head
])
def test_a_material_reviewed_by_the_wrong_person(name, reviewer):
    found = step_findings(in_memory(material(name, 6, reviewer)))
    assert ("material-reviewer-wrong", L.MATERIALS, L.a1(material_row(name), 6)) in where(found)
    assert severity(found, "material-reviewer-wrong") == {"error"}


def test_a_review_unsigned_or_returned():
    cells = material(PLAIN, 7, None)
    cells[L.MATERIALS][L.a1(material_row(FLAGGED), 7)] = "退回修改"
    found = step_findings(in_memory(cells))
    assert {("material-not-signed", L.MATERIALS, L.a1(material_row(PLAIN), 7)),
            ("material-returned", L.MATERIALS, L.a1(material_row(FLAGGED), 7))} <= where(found)
    assert severity(found, "material-returned") == {"warning"}


def test_nobody_reviews_his_own():
    found = step_findings(in_memory(material(SECRETARY, 6, SECRETARY)))
    assert ("material-self-review", L.MATERIALS, L.a1(material_row(SECRETARY), 6)) in where(found)


# --- meetings (R15) ---------------------------------------------------------------

def test_a_meeting_announced_one_day_before():
    found = step_findings(in_memory({L.MEETINGS: {"B3": day(8, 24)}}))
    assert where(found) - {("schedule-too-short", SCHEDULE, "B12")} == {
        ("meeting-announced-late", L.MEETINGS, "B3")}
    late = next(f for f in found if f.code == "meeting-announced-late")
    assert late.severity == "warning" and "提前了 1 天" in late.message


def test_two_days_before_is_in_time_and_the_meeting_falls_in_step_5():
    found = step_findings(in_memory({L.MEETINGS: {"B3": day(8, 23), "C4": day(8, 29)}}))
    assert where(found) - {("schedule-too-short", SCHEDULE, "B12")} == {
        ("meeting-outside-schedule", L.MEETINGS, "C4")}


@pytest.mark.parametrize("col, value, code", [
    (5, None, "absence-no-presenter"),
    (5, ABSENT, "absence-presenter-bad"),
    (4, "否", "absence-no-material"),
    (6, None, "absence-no-makeup"),
    (6, day(8, 20), "absence-makeup-early"),
])
def test_an_absence_on_official_business(col, value, code):
    r = attendance_row(ABSENT)
    found = step_findings(in_memory({L.MEETINGS: {L.a1(r, col): value}}))
    assert (code, L.MEETINGS, L.a1(r, col)) in where(found)


def test_a_health_absence_needs_no_make_up():
    r = attendance_row(PLAIN)
    cells = {L.MEETINGS: {L.a1(r, 2): "缺席", L.a1(r, 3): "身体原因"}}
    assert not [f for f in step_findings(in_memory(cells))
                if f.code.startswith(("absence-", "attendance-"))]


def test_attendance_left_blank_once_the_sheet_is_started():
    r = attendance_row(LEADER, leadership=True)
    found = step_findings(in_memory({L.MEETINGS: {L.a1(r, 2): None}}))
    assert ("attendance-missing", L.MEETINGS, L.a1(r, 2)) in where(found)


# --- 征求意见 ------------------------------------------------------------------------

def opinion(k, col, value):
    return {L.OPINIONS: {L.a1(L.REGISTER_FIRST_ROW + k, col): value}}


def test_a_personal_attack_is_never_fed_back():
    found = step_findings(in_memory(opinion(2, 6, "已反馈")))
    assert ("opinion-attack-fed-back", L.OPINIONS, "G5") in where(found)
    assert severity(found, "opinion-attack-fed-back") == {"error"}


def test_only_opinions_about_a_member_must_be_fed_back():
    found = step_findings(in_memory(opinion(0, 6, "不反馈")))  # about the leadership
    assert not [f for f in found if f.code.startswith("opinion-")]


def test_opinions_about_a_member_are_fed_back_before_step_7():
    found = step_findings(in_memory(opinion(1, 7, day(8, 29))))
    assert ("opinion-fed-back-late", L.OPINIONS, "H4") in where(found)
    found = step_findings(in_memory(opinion(1, 6, "未反馈")))
    assert ("opinion-not-fed-back", L.OPINIONS, "G4") in where(found)


@pytest.mark.parametrize("col, value, code", [
    (1, "电话", "register-choice-bad"),
    (3, "张某", "opinion-target-unknown"),
    (0, "八月", "register-date-bad"),
    (4, None, "opinion-incomplete"),
])
def test_an_opinion_row_from_the_lists(col, value, code):
    found = step_findings(in_memory(opinion(0, col, value)))
    assert (code, L.OPINIONS, L.a1(L.REGISTER_FIRST_ROW, col)) in where(found)


def test_the_opinion_summary_counts_by_target_and_channel(tmp_path):
    extra = {L.OPINIONS: {L.a1(L.REGISTER_FIRST_ROW + 3, c): v for c, v in enumerate(
        [day(8, 22), "座谈会", "特邀监督员", HEAD, "下乡少", None, "已反馈", day(8, 25)])}}
    path = steps_book(tmp_path, extra)
    outcome = compute_file(path, DEFS)
    assert outcome.written
    with BookFile.open(path) as b:
        cells = b.cells(L.OPINION_COUNTS)
    channels = list(DEFS.process.opinions["channels"])
    row = L.OPINION_COUNTS_FIRST_ROW + len(DEFS.process.opinions["targets"]) + NAMES.index(HEAD)
    got = lambda c: cells[L.a1(row, c)].value  # noqa: E731
    assert got(1 + channels.index("座谈会")) == 2
    n = len(channels)
    assert (got(1 + n), got(2 + n), got(3 + n)) == (2, 2, 0)  # 合计, 已反馈, 不反馈
    total_row = row - NAMES.index(HEAD) + len(NAMES)
    assert cells[L.a1(total_row, 1 + n)].value == 4


# --- “四查四看” and the roster's roles -------------------------------------------------

def test_a_started_checklist_needs_every_result():
    found = step_findings(in_memory({L.CHECKLIST: {"B4": None, "C5": None}}))
    assert {("checklist-result-missing", L.CHECKLIST, "B4"),
            ("checklist-evidence-missing", L.CHECKLIST, "C5")} <= where(found)


def test_registers_not_started_give_one_warning_each():
    found = step_findings(in_memory(registers=False))
    empty = [f for f in found if f.code == "register-empty"]
    assert {f.sheet for f in empty} == {L.OPINIONS, L.TALKS, L.MATERIALS, L.MEETINGS,
                                        L.CHECKLIST}
    assert not [f for f in found if f.is_error]


def test_an_unknown_role_and_a_supervisor_not_in_the_leadership():
    cells = {L.ROSTER: {L.a1(5, L.ROSTER_ROLE_COL): "组长", L.a1(3, L.ROSTER_ROLE_COL + 1): PLAIN}}
    found = step_findings(in_memory(cells))
    assert {("role-unknown", L.ROSTER, "C6"), ("role-supervisor-unknown", L.ROSTER, "D4")} <= \
        where(found)


def test_the_cli_counts_materials_from_a_folder(tmp_path):
    path = steps_book(tmp_path, material(PLAIN, 2, None))
    folder = tmp_path / "材料"
    folder.mkdir()
    (folder / f"{PLAIN}.txt").write_text("党" * 1500 + " \n\t\u3000" + "性" * 499, encoding="gb18030")
    run = lambda *a: subprocess.run([sys.executable, "-m", "xlsheets.cli", *a], capture_output=True,  # noqa: E731
                                    text=True, encoding="utf-8")
    done = run("validate", str(path), "--materials", str(folder), "--json")
    codes = {(f["code"], f["cell"]) for f in json.loads(done.stdout)["findings"]}
    assert ("material-too-short", L.a1(material_row(PLAIN), 2)) in codes  # 1999, not 2003
    (folder / f"{PLAIN}.txt").write_text("党" * 2000, encoding="utf-8")
    assert run("compute", str(path), "--materials", str(folder)).returncode == 0
    with BookFile.open(path) as b:
        assert b.cells(L.MATERIALS)[L.a1(material_row(PLAIN), 2)].value == 2000
    missing = run("validate", str(path), "--materials", str(tmp_path / "没有"))
    assert missing.returncode == 2 and "没有" in missing.stderr and "Traceback" not in missing.stderr


# --- the rest of the catalogue's step codes ----------------------------------------------

@pytest.mark.parametrize("cells, code, cell", [
    ({L.TALKS: {"C6": f"{LEADER}、{BRANCH}"}}, "talk-self", "C6"),
    ({L.TALKS: {"C3": "张某某"}}, "talk-member-unknown", "C3"),
    ({L.TALKS: {"E3": None}}, "talk-incomplete", "A3"),
    ({L.TALKS: {"A9": day(8, 30), "B9": PLAIN}}, "talk-incomplete", "A9"),
    ({L.TALKS: {"B503": PLAIN, "C503": FLAGGED}}, "register-row-outside", "A503"),
    ({L.OPINIONS: {"G4": "不反馈"}}, "opinion-withheld", "G4"),
    ({L.MEETINGS: {"B3": day(8, 26)}}, "meeting-announced-after", "B3"),
    ({L.MEETINGS: {"C3": None}}, "meeting-date-missing", "C3"),
    ({L.CHECKLIST: {"B3": "不符合要求"}}, "checklist-failed", "B3"),
    ({L.CHECKLIST: {"A4": "二查党性分析"}}, "checklist-changed", "A4"),
    ({L.MEETINGS: {L.a1(attendance_row(PLAIN), 2): "缺席"}}, "absence-reason-missing",
     L.a1(attendance_row(PLAIN), 3)),
    ({L.MATERIALS: {L.a1(material_row(PLAIN), 2): None}}, "material-length-missing",
     L.a1(material_row(PLAIN), 2)),
    ({L.MATERIALS: {L.a1(material_row(PLAIN), 2): "两千"}}, "material-length-bad",
     L.a1(material_row(PLAIN), 2)),
    ({L.MATERIALS: {L.a1(material_row(PLAIN), 6): None}}, "material-reviewer-missing",
     L.a1(material_row(PLAIN), 6)),
    ({L.ROSTER: {"E6": "多"}}, "role-flag-bad", "E6"),
    ({L.TALKS: {"A3": "8月21号"}}, "register-date-bad", "A3"),
    ({L.OPINIONS: {"B3": "电话"}}, "register-choice-bad", "B3"),
    ({L.MATERIALS: {"B2": "人数"}}, "header-changed", "B2"),
])
def test_step_findings_on_their_cells(cells, code, cell):
    found = step_findings(in_memory(cells))
    sheet = next(iter(cells))
    assert (code, sheet, cell) in where(found)


def test_a_roster_without_its_branch_secretary():
    rows = [r if r[0] != BRANCH else (BRANCH, "科员", "", "", "") for r in S.ROSTER]
    found = step_findings(in_memory(rows=rows))
    assert ("role-missing", L.ROSTER, "C1") in where(found)


def test_a_materials_folder_with_strays(tmp_path):
    path = steps_book(tmp_path)
    folder = tmp_path / "材料"
    folder.mkdir()
    (folder / f"{PLAIN}.txt").write_text("党" * 2100, encoding="utf-8")
    (folder / "张某某.txt").write_text("党" * 2100, encoding="utf-8")
    (folder / f"{FLAGGED}.txt").write_text("党" * 2100, encoding="utf-8")
    (folder / f"{FLAGGED}.docx").write_bytes(b"not a zip")
    (folder / f"{HEAD}.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    found = step_findings(path, materials=folder)
    assert {("material-counted", L.MATERIALS, L.a1(material_row(PLAIN), 2)),
            ("material-file-unmatched", L.MATERIALS, ""),
            ("material-file-duplicate", L.MATERIALS, ""),
            ("material-file-failed", L.MATERIALS, "")} <= where(found)


# --- the town summary's 各环节情况 ---------------------------------------------------------

def test_the_town_summary_shows_each_branchs_steps(tmp_path):
    import openpyxl

    from xlsheets.cli import main
    from xlsheets.core.steps import SUMMARY_COLUMNS

    inbox = tmp_path / "收件箱"
    steps_book(inbox, clear_talk(2))  # 机关: one compulsory talk missing, so not included
    steps_book(inbox, registers=False, unit="兴隆街社区", filename="兴隆街社区.xlsx")
    out = tmp_path / "全镇汇总.xlsx"
    assert main(["collect", str(inbox), "--out", str(out)]) == 0
    ws = openpyxl.load_workbook(out)["各环节情况"]
    header = [c.value for c in ws[3]]
    rows = {r[0]: dict(zip(header, r)) for r in ws.iter_rows(min_row=4, values_only=True)}
    assert header[2:2 + len(SUMMARY_COLUMNS)] == [label for label, _ in SUMMARY_COLUMNS]
    organs, community = rows["机关"], rows["兴隆街社区"]
    assert organs["汇总结果"] == "未汇总(有错误)" and community["汇总结果"] == "已汇总"
    assert (organs["工作日程"], community["工作日程"]) == ("不足一个月", "符合要求")
    assert (organs["征求意见(条)"], organs["谈心(次)"], organs["必须谈未谈(项)"]) == (3, 4, 1)
    assert (organs["应谈未谈(项)"], organs["党性分析材料未达要求(份)"], organs["四查四看"]) == (
        0, 0, "符合要求")
    assert (organs["各环节错误"], organs["各环节提醒"]) == (1, 1)
    assert community["谈心(次)"] == community["四查四看"] == "未填写"
    assert community["各环节错误"] == 0


def test_roles_named_after_the_book_was_made():
    rows = [(n, duty, "支部书记" if n == BRANCH else "", "", "") for n, duty, *_ in S.ROSTER]
    first_member = L.REGISTER_FIRST_ROW  # no 领导班子 row: nobody was leadership when made
    cells = {L.ROSTER: {L.a1(1, L.ROSTER_ROLE_COL): "镇党委负责人"},
             L.MATERIALS: {L.a1(first_member, 2): 2500},
             L.MEETINGS: {"B3": day(8, 22)}}
    found = step_findings(in_memory(cells, registers=False, rows=rows))
    assert {("role-after-build", L.MATERIALS, "A3"),
            ("role-after-build", L.MEETINGS, L.a1(L.ATTENDANCE_HEADER_ROW, 0))} <= where(found)



def test_split_carries_the_roles_of_a_town_roster(tmp_path):
    import csv

    from xlsheets.cli import main

    town = tmp_path / "全镇名册.csv"
    with open(town, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["姓名", "职务", "支部", *L.ROSTER_ROLE_HEADERS])
        w.writerows([(n, d, "机关", role, boss, flag) for n, d, role, boss, flag in S.ROSTER])
        w.writerow(["蒋德明", "支部书记", "兴隆街社区", "支部书记", "", ""])
    assert main(["split", "--roster", str(town), "--out", str(tmp_path / "发出")]) == 0
    organs = next((tmp_path / "发出").glob("*机关*.xlsx"))
    with BookFile.open(organs) as b:
        roster = b.cells(L.ROSTER)
        materials = b.cells(L.MATERIALS)
    assert roster["C2"].value == "镇党委负责人" and roster["D4"].value == LEADER
    assert materials["A3"].value == "领导班子"  # the leadership's row, from the roles



def test_a_name_with_a_space_inside_is_one_name():
    padded = "欧阳　修"  # a full-width space, as rosters pad names to line up
    rows = [*S.ROSTER, (padded, "科员", "", "", "")]
    r = talk_row(5)
    cells = {L.TALKS: {L.a1(r, 0): day(8, 24), L.a1(r, 1): BRANCH, L.a1(r, 2): f"{padded}、{PLAIN}",
                       L.a1(r, 4): "一对多"}}
    book = in_memory(cells, rows=rows)
    found = step_findings(book)
    assert not [f for f in found if f.code in ("talk-member-unknown", "register-names-separated")]
    assert not [f for f in found if f.code == "talk-should-missing" and padded in f.message
                and BRANCH in f.message]


@pytest.mark.parametrize("typed, length", [("2100字", 2100), ("2,100", 2100), ("2，100字", 2100)])
def test_a_length_typed_with_its_unit_or_a_thousands_comma(tmp_path, typed, length):
    path = steps_book(tmp_path, material(PLAIN, 2, typed))
    assert not [f for f in step_findings(path) if f.code.startswith("material-")]
    assert compute_file(path, DEFS).written
    with BookFile.open(path) as b:
        assert b.cells(L.MATERIALS)[L.a1(material_row(PLAIN), 2)].value == length


def test_a_length_that_is_no_count_is_reported_once():
    found = step_findings(in_memory(material(PLAIN, 2, "9" * 400)))
    assert [f.code for f in found if f.cell == L.a1(material_row(PLAIN), 2)] == [
        "material-length-bad"]


def test_a_day_of_1900_in_a_date_cell_is_no_date(tmp_path):
    # through the file: python-calamine reads a number in a date cell as a datetime
    found = step_findings(steps_book(tmp_path, {L.MEETINGS: {"B3": 8.22}}))
    assert ("register-date-bad", L.MEETINGS, "B3") in where(found)


def test_members_in_a_talk_the_masses_joined_talked_with_the_masses():
    r = talk_row(4)  # 周国平 and 吴晓燕 with the masses, now as 李志强's members
    cells = {L.TALKS: {L.a1(r, 1): BRANCH, L.a1(r, 2): f"{PLAIN}、{FLAGGED}", L.a1(r, 4): "一对多"}}
    found = step_findings(in_memory(cells))
    assert not [f for f in found if f.code.startswith("talk-")]
    r2 = {L.TALKS: {L.a1(r, 1): f"{PLAIN}、{FLAGGED}", L.a1(r, 2): BRANCH, L.a1(r, 3): None,
                    L.a1(r, 4): "多对多"}}  # several talkers with one: the seed's 多对多
    found = step_findings(in_memory(r2))
    assert "talk-form-mismatch" not in {f.code for f in found}


# Last, so every case above has run.
def test_every_step_code_has_a_case():
    """Every code test_checks.py leaves to this module is asserted here, and was produced."""
    from pathlib import Path
    import re

    from xlsheets.core.findings import CATALOGUE

    def quoted(name):
        source = (Path(__file__).parent / name).read_text(encoding="utf-8")
        return set(re.findall(r'"([a-z-]+)"', source)) & set(CATALOGUE)

    checks = Path(__file__).with_name("test_checks.py").read_text(encoding="utf-8")
    theirs = set(re.findall(r'\("([a-z-]+)", ', checks)) | set(re.findall(r'\["([a-z-]+)"', checks))
    mine = quoted("test_steps.py") - theirs
    assert len(mine) > 40
    if len(PRODUCED) > 20:  # the whole module ran
        assert mine - PRODUCED == set()
