"""评定等次 and the ballots accounted for (issue 15): one case per rule, on small workbooks.

The branch of nine below has one ballot per group and member, each member's three
ballots of the same total: 赵一 90, 钱二 85, ... 冯九 50, so the composites are those
totals and the ranks 1..9 (top third: ranks 1-3, bottom third: ranks 7-9). Cells are
named as the clerk sees them: members in rows 3-11 of 评定等次 (D 评定等次, E 评定依据,
F 上级党委审批日期, G 上级党委审批人, H 不合格情形); the counts' header in row 13, 优秀 in
row 14; on each entry sheet, in its header row, N1 发出, P1 收回, R1 已录入. Expected figures are by hand.
The rule cases type into the workbook in memory (``nine``, ``sheets.make``) and check
its Grids; a graded branch and the ballots accounted for, compute, LibreOffice and the
town go through a real .xlsx (``nine_book(tmp_path, ...)``).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import books as B
import filling as F
import libreoffice as lo
import sheets as S
from books import DEFS, codes_cells
from xlsheets import writer as book
from xlsheets.workbook import layout as L
from xlsheets.files.roster import read_roster
from xlsheets.cli import main
from xlsheets.files.compute import compute_file, validate_file
from xlsheets.errors import DefinitionError
from xlsheets.ooxml import BookFile

GRADES, PEER, MASS, INTRO, OPINION_FORM = L.GRADES, "党员互评", "群众参评", L.INTRO, L.OPINION_FORM
NINE = ("赵一", "钱二", "孙三", "李四", "周五", "吴六", "郑七", "王八", "冯九")
ONE_EACH = L.BallotPlan((("peer", 1), ("mass", 1), ("committee", 1)), spare=1, lookback=5)
APPROVED = {"F": 38600, "G": "镇党委"}  # 2005-09-05 as Excel's day number, and by whom


def nine_book(tmp_path=None, grades=None, cells=None, names=NINE, plan=ONE_EACH, ballots=None):
    """The branch of nine, every member rated once per group, ``grades`` typed into 评定等次.

    grades: {row: {column letter: value}} of 评定等次 (rows 3-11). With ``tmp_path`` a
    real .xlsx there; without, the same workbook in memory (``sheets.make``)."""
    if ballots is None:
        totals = {n: {g.key: [90 - 5 * k] for g in DEFS.groups} for k, n in enumerate(names)}
        ballots = F.ballots_of(totals, DEFS.items, DEFS.groups)
    typed = {GRADES: {f"{c}{r}": v for r, row in (grades or {}).items() for c, v in row.items()}}
    for sheet, values in (cells or {}).items():
        typed.setdefault(sheet, {}).update(values)
    kw = dict(names=names, plan=plan, lookback=F.LOOKBACK, categories=F.CATEGORIES,
              levels=F.LEVELS)
    if tmp_path is None:
        return S.make(ballots, typed, **kw)
    return B.make_book(tmp_path, ballots, typed, **kw)


def nine(*args, **kw):
    """``nine_book`` in memory."""
    return nine_book(None, *args, **kw)


def findings(book):
    """What validate reports: a ``sheets.Book`` checked on its Grids, a path through the file."""
    if isinstance(book, S.Book):
        return book.check()
    outcome, _ = validate_file(book, DEFS)
    return outcome


def expect(path, expected):
    outcome = findings(path)
    assert codes_cells(outcome.findings) == set(expected)
    assert len(B.beyond_steps(outcome.findings)) == len(expected), "each finding once"
    return outcome


def graded(**rows):
    """{row: {col: value}} with 合格 for every member not in ``rows``."""
    out = {r: {"D": "合格"} for r in range(3, 3 + len(NINE))}
    out.update({int(k[1:]): v for k, v in rows.items()})
    return out


# --- the workbook as built ------------------------------------------------------------

def test_an_ungraded_branch_has_no_grading_finding():
    expect(nine(), [])


def test_all_graded_as_the_rules_want_is_clean(tmp_path):
    outcome = expect(nine_book(tmp_path, graded(
        r3={"D": "优秀", **APPROVED}, r11={"D": "基本合格", "E": "多次无故缺席组织生活"})), [])
    gf = outcome.checked.figures.grading
    assert gf.counts == {"优秀": 1, "合格": 7, "基本合格": 1, "不合格": 0}
    assert (gf.graded, gf.members, gf.limit) == (9, 9, 3)


# --- the grades -----------------------------------------------------------------------

def test_nine_members_four_excellent_warns_with_limit_and_count():
    rows = {f"r{r}": {"D": "优秀", "E": "表现突出", **APPROVED} for r in (3, 4, 5, 6)}
    outcome = expect(nine(graded(**rows)), [("grade-excellent-over", GRADES, "B14")])
    warned = next(f for f in outcome.findings if f.code == "grade-excellent-over")
    assert "4 人" in warned.message and "最多 3 人" in warned.message and "9 人" in warned.message
    assert outcome.ok  # a warning: the committee decides


def test_three_excellent_of_nine_is_within_the_share():
    rows = {f"r{r}": {"D": "优秀", **APPROVED} for r in (3, 4, 5)}
    expect(nine(graded(**rows)), [])


def test_member_without_a_grade_once_grading_started():
    rows = graded()
    rows[7], rows[9] = {}, {}
    outcome = expect(nine(rows), [("grade-missing", GRADES, "D7"),
                                                ("grade-missing", GRADES, "D9")])
    assert not outcome.ok


def test_failing_without_a_reason():
    outcome = expect(nine(graded(r11={"D": "不合格", "H": "其他", **APPROVED})),
                     [("grade-reason-missing", GRADES, "E11")])
    assert not outcome.ok


def test_failing_without_grounds_or_approval():
    expect(nine(graded(r11={"D": "不合格", "E": "长期不参加组织生活"})),
           [("grade-grounds-missing", GRADES, "H11"), ("grade-approval-missing", GRADES, "F11")])


def test_basic_pass_without_a_reason():
    expect(nine(graded(r10={"D": "基本合格"})),
           [("grade-reason-missing", GRADES, "E10")])


def test_excellent_without_approval():
    expect(nine(graded(r3={"D": "优秀"})), [("grade-approval-missing", GRADES, "F3")])


def test_excellent_approved_on_a_day_but_by_nobody():
    outcome = expect(nine(graded(r3={"D": "优秀", "F": 38600})),
                     [("grade-approval-missing", GRADES, "G3")])
    assert "上级党委审批人" in next(f.message for f in outcome.findings
                                 if f.code == "grade-approval-missing")


def test_approval_date_that_is_not_a_date():
    expect(nine(graded(r3={"D": "优秀", "F": "九月", "G": "镇党委"})),
           [("register-date-bad", GRADES, "F3")])


def test_grade_not_on_the_list():
    expect(nine(graded(r5={"D": "良好"})), [("register-choice-bad", GRADES, "D5")])


def test_excellent_for_the_bottom_ranked_without_a_reason_warns():
    outcome = expect(nine(graded(r11={"D": "优秀", **APPROVED})),
                     [("grade-against-votes", GRADES, "D11")])
    warned = next(f for f in outcome.findings if f.code == "grade-against-votes")
    assert "第 9 名" in warned.message and "共 9 人" in warned.message
    assert outcome.ok  # never a block on the committee's decision


def test_excellent_for_the_bottom_ranked_with_a_reason_is_accepted():
    expect(nine(graded(r11={"D": "优秀", "E": "抗洪抢险中表现突出", **APPROVED})),
           [])


def test_excellent_for_a_middle_rank_needs_no_reason():
    # rank 6 of 9 is not in the bottom third (7-9)
    expect(nine(graded(r8={"D": "优秀", **APPROVED})), [])


def test_failing_for_the_top_ranked_needs_its_reason():
    """不合格 for rank 1: the reason it always needs is the finding; with it, accepted."""
    expect(nine(graded(r3={"D": "不合格", "H": "其他", **APPROVED})),
           [("grade-reason-missing", GRADES, "E3")])
    expect(nine(graded(r3={"D": "不合格", "E": "违反廉洁纪律受到处分",
                                               "H": "道德行为不端", **APPROVED})), [])


def test_name_changed_on_the_grade_sheet():
    expect(nine(cells={GRADES: {"A4": "钱 二"}}),
           [("roster-mismatch", GRADES, "A4")])


# --- the ballots accounted for --------------------------------------------------------

def mass_ballots(n):
    """Three members rated by ``n`` 群众参评 ballots (the worked example's peers and committee)."""
    ballots = B.worked_ballots()
    ballot = ballots["mass"][0]
    ballots["mass"] = [dict(ballot) for _ in range(n)]
    return ballots


def test_eleven_mass_ballots_typed_where_ten_were_issued(tmp_path):
    plan = L.BallotPlan((("peer", 3), ("mass", 11), ("committee", 1)))
    path = B.make_book(tmp_path, mass_ballots(11), {MASS: {"N1": 10}}, plan=plan,
                       lookback=F.LOOKBACK, categories=F.CATEGORIES, levels=F.LEVELS)
    outcome = expect(path, [("ballots-typed-over-issued", MASS, "R1")])
    void = next(f for f in outcome.findings if f.code == "ballots-typed-over-issued")
    assert "11 张" in void.message and "10 张" in void.message
    assert outcome.checked.figures.grading.typed["mass"] == 11
    assert not outcome.ok


def test_more_returned_than_issued_voids_the_vote():
    plan = L.BallotPlan((("peer", 3), ("mass", 10), ("committee", 1)))
    book = S.make(mass_ballots(10), {MASS: {"N1": 10, "P1": 11}}, plan=plan,
                  lookback=F.LOOKBACK, categories=F.CATEGORIES, levels=F.LEVELS)
    expect(book, [("ballots-returned-over-issued", MASS, "P1")])


def test_ten_of_ten_is_clean_and_fewer_typed_than_returned_is_fine():
    plan = L.BallotPlan((("peer", 3), ("mass", 10), ("committee", 1)))
    book = S.make(mass_ballots(9), {MASS: {"N1": 10, "P1": 10}}, plan=plan,
                  lookback=F.LOOKBACK, categories=F.CATEGORIES, levels=F.LEVELS)
    # ballot 10 (rows 29-31) not typed: that warning only, nothing on the accounting
    expect(book, [("ballot-empty", MASS, "A29")])


def test_more_typed_than_returned_warns():
    book = S.worked(cells={MASS: {"P1": 1}})
    expect(book, [("ballots-typed-over-returned", MASS, "R1")])


def test_ballot_count_that_is_not_a_count():
    expect(S.worked(cells={MASS: {"N1": "十"}}),
           [("ballots-count-bad", MASS, "N1")])


def eight_with_peers(peers, cells):
    names = NINE[:8]
    totals = {n: {"peer": [80] * peers, "mass": [80], "committee": [80]} for n in names}
    plan = L.BallotPlan((("peer", peers), ("mass", 1), ("committee", 1)))
    return nine(names=names, plan=plan,
                     ballots=F.ballots_of(totals, DEFS.items, DEFS.groups), cells=cells)


def test_three_of_eight_members_taking_part_in_peer_rating():
    outcome = expect(eight_with_peers(3, {PEER: {"N1": 8}}),
                     [("participation-low", PEER, "R1")])
    low = next(f for f in outcome.findings if f.code == "participation-low")
    assert "3 人" in low.message and "8 人" in low.message and "1/2" in low.message


def test_participation_counts_the_returned_ballots_when_typed():
    expect(eight_with_peers(3, {PEER: {"N1": 8, "P1": 3}}),
           [("participation-low", PEER, "P1")])


def test_half_is_not_more_than_half_five_is():
    expect(eight_with_peers(4, {PEER: {"N1": 8}}),
           [("participation-low", PEER, "R1")])
    expect(eight_with_peers(5, {PEER: {"N1": 8}}), [])


def test_more_peer_ballots_than_members():
    expect(eight_with_peers(9, {PEER: {"N1": 9}}),
           [("ballots-over-members", PEER, "R1")])


# --- an older workbook ----------------------------------------------------------------

OLD = Path(__file__).parent / "data" / "old_机关_no_grading.xlsx"


def test_a_workbook_without_the_grade_sheet_still_validates_and_computes(tmp_path):
    """The blank 机关 template shipped before 评定等次 existed: one warning says the new
    checks do not apply; its other findings are those of today's blank workbook of the
    same roster, and compute still writes."""
    path = tmp_path / "old.xlsx"
    shutil.copy(OLD, path)
    codes = sorted(f.code for f in findings(path).findings)
    assert codes.count("grading-absent") == 1
    roster = read_roster(Path(__file__).parent.parent / "workbook_templates" / "名册_机关.csv")
    fresh = tmp_path / "fresh.xlsx"
    book.build(DEFS, DEFS.unit("机关"), roster, fresh)
    assert [c for c in codes if c != "grading-absent"] == sorted(
        f.code for f in findings(fresh).findings)
    totals = {m.name: {g.key: [80] for g in DEFS.groups} for m in roster.members}
    updates = {}
    with BookFile.open(path) as b:
        B.ballot_updates(b, F.ballots_of(totals, DEFS.items, DEFS.groups), updates)
    B.patch(path, updates)
    outcome = findings(path)
    assert outcome.ok and [f.code for f in outcome.findings].count("grading-absent") == 1
    assert compute_file(path, DEFS).written
    assert all(m.composite == 80 for m in findings(path).checked.figures.members)


# --- the definitions ------------------------------------------------------------------


def test_grading_definitions_as_data():
    g = DEFS.grading
    assert g.grades == ("优秀", "合格", "基本合格", "不合格")
    assert g.excellent_limit(9) == 3 and g.excellent_limit(10) == 3 and g.excellent_limit(2) == 0
    assert g.reason_required == {"基本合格", "不合格"} and g.approval_required == {"优秀", "不合格"}


@pytest.mark.parametrize("old, new, key", [
    ('excellent_share = [1, 3]', 'excellent_share = [4, 3]', "grading.excellent_share"),
    ('excellent_share = [1, 3]', 'excellent_share = "1/3"', "grading.excellent_share"),
    ('reason_required = ["基本合格", "不合格"]', 'reason_required = ["基本合格", "差"]',
     "grading.reason_required[1]"),
    ('failing = "不合格"', 'failing = "差"', "grading.failing"),
    ('participation_group = "peer"', 'participation_group = "party"',
     "grading.participation_group"),
    ('grades = ["优秀", "合格", "基本合格", "不合格"]', 'grades = ["优秀", "优秀"]', "grading.grades"),
    ('low_grades = ["基本合格", "不合格"]', 'low_grades = ["优秀"]', "grading.low_grades"),
])
def test_broken_grading_definitions_name_the_key(tmp_path, old, new, key):
    with pytest.raises(DefinitionError) as e:
        B.defs_with(tmp_path, old, new)
    assert key in str(e.value)


def test_a_set_without_grading_writes_no_grade_sheet(tmp_path):
    other = B.defs_with(tmp_path, "enabled = true", "enabled = false")
    assert other.grading is None
    path = B.worked_book(tmp_path, defs=other)
    outcome, grids = validate_file(path, other)
    assert L.GRADES not in grids.sheets
    assert not any(f.code.startswith(("grad", "ballots-")) for f in outcome.findings)


def test_a_unit_may_set_its_own_share(tmp_path):
    other = B.defs_with(tmp_path, 'attachment = "附件1"',
                       'attachment = "附件1"\nexcellent_share = [1, 2]')
    assert other.grading.excellent_limit(9, other.unit("机关")) == 4
    assert other.grading.excellent_limit(9, other.unit("兴隆街社区")) == 3


# --- compute --json, the workbook recalculated ----------------------------------------

def test_compute_json_carries_grades_and_counts(tmp_path, capsys):
    path = nine_book(tmp_path, graded(r3={"D": "优秀", **APPROVED},
                                      r11={"D": "基本合格", "E": "学习不够"}),
                     cells={PEER: {"N1": 9, "P1": 9}})
    assert main(["compute", str(path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    grades = {m["name"]: m["grade"] for m in doc["members"]}
    assert grades["赵一"] == "优秀" and grades["冯九"] == "基本合格" and grades["李四"] == "合格"
    assert doc["grading"]["counts"] == {"优秀": 1, "合格": 7, "基本合格": 1, "不合格": 0}
    assert doc["grading"]["members"] == 9 and doc["grading"]["graded"] == 9
    assert doc["grading"]["excellent_limit"] == 3
    assert doc["grading"]["percent"]["优秀"] == 11.11  # 1/9
    assert doc["grading"]["ballots"]["peer"] == {"issued": 9, "returned": 9, "typed": 1}


@pytest.mark.libreoffice
def test_grade_counts_recalculated_by_libreoffice_equal_pythons(tmp_path):
    if not lo.soffice_path():
        pytest.skip("LibreOffice missing")
    rows = {f"r{r}": {"D": "优秀", "E": "表现突出", **APPROVED} for r in (3, 4, 5, 6)}
    rows["r10"] = {"D": "基本合格", "E": "学习不够"}
    path = nine_book(tmp_path, graded(**rows), cells={MASS: {"N1": 1, "P1": 1}})
    outcome = findings(path)
    gf = outcome.checked.figures.grading
    planted = tmp_path / "planted" / path.name
    planted.parent.mkdir()
    shutil.copy(path, planted)
    lo.plant_sentinel(planted, GRADES, "K1")
    values = lo.read_values(lo.recalc(planted, tmp_path / "lo"))
    at = lambda sheet, ref: lo.cell(values, sheet, ref)
    assert at(GRADES, "K1") == lo.SENTINEL_VALUE
    # by hand: 4 优秀, 4 合格, 1 基本合格, 0 不合格 of 9; at most floor(9/3) = 3 优秀
    hand = {"优秀": (4, 0.4444), "合格": (4, 0.4444), "基本合格": (1, 0.1111), "不合格": (0, 0)}
    for row, (grade, (count, share)) in enumerate(hand.items(), start=14):
        assert at(GRADES, f"A{row}") == grade
        assert at(GRADES, f"B{row}") == count == gf.counts[grade]
        assert at(GRADES, f"C{row}") == pytest.approx(share, abs=1e-12)
    assert at(GRADES, "B18") == 9 == gf.graded and at(GRADES, "C18") == 1
    assert at(GRADES, "B19") == 9 == gf.members
    assert at(GRADES, "B20") == 3 == gf.limit
    assert at(GRADES, "B3") == 90 and at(GRADES, "C3") == 1  # 赵一's score and rank, from 汇总
    assert at(GRADES, "B11") == 50 and at(GRADES, "C11") == 9
    assert at(MASS, "R1") == 1 == gf.typed["mass"]
    # 附件4's 备注 row carries the grade (赵一's form rows 1-10, 钱二's 11-20, ...)
    assert at(OPINION_FORM, "E9") == "评定等次:优秀" and at(OPINION_FORM, "E19") == "评定等次:优秀"
    assert at(OPINION_FORM, "E79") == "评定等次:基本合格" and at(OPINION_FORM, "E89") == "评定等次:合格"
    # compute writes the same figures as cached values
    assert compute_file(path, DEFS).written
    cached = lo.read_values(path)
    for ref in ("B14", "C14", "B16", "C16", "B18", "B19", "B20"):
        assert lo.cell(cached, GRADES, ref) == pytest.approx(at(GRADES, ref)), ref


# --- the town's figures ---------------------------------------------------------------

def graded_town(tmp_path):
    """An inbox of two branches: 机关 (nine, 4 优秀: over the share, included) and
    兴隆街社区 (three, 王五 not graded yet: an error, so not in 各支部汇总)."""
    rows = {f"r{r}": {"D": "优秀", "E": "表现突出", **APPROVED} for r in (3, 4, 5, 6)}
    rows["r10"] = {"D": "基本合格", "E": "学习不够"}
    organs = nine_book(tmp_path / "机关", graded(**rows))
    community = B.make_book(tmp_path / "社区", B.worked_ballots(), {GRADES: {
        "D3": "优秀", **{f"{c}3": v for c, v in APPROVED.items()}, "D4": "合格"}},
        unit="兴隆街社区", filename="兴隆街社区.xlsx", lookback=F.LOOKBACK,
        categories=F.CATEGORIES, levels=F.LEVELS)
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    for p in (organs, community):
        shutil.copy(p, inbox / p.name)
    out = tmp_path / "全镇汇总.xlsx"
    assert main(["collect", str(inbox), "--out", str(out)]) == 0
    return out


def test_town_summary_grades_per_branch_and_in_total(tmp_path):
    import openpyxl

    out = graded_town(tmp_path)
    ws = openpyxl.load_workbook(out)["民主评议党员情况"]
    header = [c.value for c in ws[3]]
    rows = {r[0]: dict(zip(header, r)) for r in ws.iter_rows(min_row=4, values_only=True)}
    assert list(rows) == ["兴隆街社区", "机关", "合计"]
    organs, community, total = rows["机关"], rows["兴隆街社区"], rows["合计"]
    # by hand: 机关 9 members, 4/4/1/0; 社区 3 members, 2 graded 1/1/0/0
    assert (organs["党员人数"], organs["已评定(人)"], organs["优秀(人)"], organs["合格(人)"],
            organs["基本合格(人)"], organs["不合格(人)"], organs["优秀最多(人)"]) == (9, 9, 4, 4, 1, 0, 3)
    assert organs["优秀占党员人数的比例"] == 0.4444 and organs["基本合格占党员人数的比例"] == 0.1111
    assert organs["汇总结果"] == "已汇总" and organs["情况"] == "优秀超过比例(4 人,最多 3 人)"
    assert (community["党员人数"], community["已评定(人)"], community["优秀(人)"],
            community["合格(人)"], community["优秀最多(人)"]) == (3, 2, 1, 1, 1)
    assert community["汇总结果"] == "未汇总(有错误)"
    assert community["情况"] == "评定未完成(1 人未评定)"
    # the total is the sum over the branches; its shares are of all 12 members
    for key in ("党员人数", "已评定(人)", "优秀(人)", "合格(人)", "基本合格(人)", "不合格(人)"):
        assert total[key] == organs[key] + community[key], key
    assert (total["党员人数"], total["已评定(人)"], total["优秀(人)"]) == (12, 11, 5)
    assert total["优秀占党员人数的比例"] == 0.4167 and total["基本合格占党员人数的比例"] == 0.0833
    assert total["情况"] == "评定未完成 1 个支部;优秀超过比例 1 个支部"


def test_the_archive_records_the_grades(tmp_path):
    from xlsheets.town import archive

    out = graded_town(tmp_path)
    organs = archive.grades_of(archive.path_for(out), "机关")
    assert [(n, g) for _, n, g in organs] == list(zip(NINE, ["优秀"] * 4 + ["合格"] * 3 +
                                                          ["基本合格", "合格"]))
    community = archive.grades_of(archive.path_for(out), "兴隆街社区")
    assert [(n, g) for _, n, g in community] == [("张三", "优秀"), ("李四", "合格"), ("王五", None)]


def test_town_summary_header_rows_are_tall_enough_to_print(tmp_path):
    """Each wrapped header of the town summary's tables gets the lines it needs (it used
    to keep one line's height, so the printed texts ran into each other)."""
    import unicodedata

    import openpyxl

    out = graded_town(tmp_path)
    wb = openpyxl.load_workbook(out)
    for name in ("各支部汇总", "各环节情况", "民主评议党员情况"):
        ws = wb[name]
        need = 1
        for cell in ws[3]:
            width = ws.column_dimensions[cell.column_letter].width
            units = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1
                        for ch in cell.value or "")
            # a bold CJK character is about two width units; a cell loses about one to padding
            need = max(need, -(-units // int(width - 1)))
        height = ws.row_dimensions[3].height or 15
        assert need >= 2 and height >= 15 * need, (name, height, need)


def test_a_grade_changed_after_compute_makes_the_scores_stale(tmp_path):
    path = nine_book(tmp_path, graded(r3={"D": "优秀", **APPROVED}))
    assert compute_file(path, DEFS).written
    assert "stamp-stale" not in [f.code for f in findings(path).findings]
    B.patch(path, {GRADES: {"D4": "基本合格", "E4": "学习不够"}})
    assert "stamp-stale" in [f.code for f in findings(path).findings]
