"""Where everything sits in a branch workbook: sheet names, header rows, anchors.

The writer places cells here and every reader (validate, compute, the add-in)
finds them here, so the layout is stated once. Rows and columns are 0-based
as in XlsxWriter; ``a1()`` gives the A1 address a clerk sees.
"""

from dataclasses import dataclass
from enum import IntEnum

from xlsheets.workbook.address import a1, col, quote_sheet  # noqa: F401 (also read as L.a1, L.col, L.quote_sheet)

INTRO = "说明"
ROSTER = "名册"
BALLOT_FORM = "附件3 测评表"
SUMMARY = "汇总"
OPINION_FORM = "附件4 评议意见表"
LOOKBACK_ENTRY = "回头看录入"
LOOKBACK_FORM = "附件5 回头看测评表"
SATISFACTION = "附件6 满意度测评表"

# 说明: identity of the workbook, one key per row, label in A and value in B.
IDENTITY_KEYS = (
    ("unit", "单位"),
    ("set", "定义集"),
    ("version", "定义版本"),
    ("workbook_id", "工作簿编号"),
    ("created", "生成时间"),
    ("generator", "生成程序"),
)
IDENTITY_NAME = "xlsheets_identity"  # defined name over the identity table
IDENTITY_FIRST_ROW = 2  # 0-based row of the first key, below title and header

# Ballot entry sheets: header in row 1, one row per (ballot, member) below;
# 票号 | 党员姓名 | one column per ballot item | 合计 (``entry_headers``).
ENTRY_FIXED_HEADERS = ("票号", "党员姓名")
ENTRY_FIRST_ROW = 1


class EntryCol(IntEnum):
    """An entry sheet's columns, 0-based: the items follow from FIRST_SCORE, then 合计."""
    BALLOT, NAME, FIRST_SCORE = range(3)


assert EntryCol.FIRST_SCORE == len(ENTRY_FIXED_HEADERS)


def entry_headers(items, total_header):
    """An entry sheet's header row: the fixed headers, the items' names, 合计."""
    return [*ENTRY_FIXED_HEADERS, *(i.name for i in items), total_header]

# 汇总: title in row 1, header in row 2, one row per member from row 3.
SUMMARY_HEADER_ROW = 1
SUMMARY_FIRST_ROW = 2

# 回头看录入: header in row 1, one row per returned ballot below. Its names and
# 附件5's means cover every row down to LOOKBACK_LAST_ROW from the start, all
# unlocked, so ballots typed below the numbered rows still count; a row below
# that is shown by the workbook and taken in by compute, never ignored.
# Its columns: 票号, then one per look-back item from FIRST_SCORE.
LOOKBACK_FIRST_ROW = 1
LOOKBACK_LAST_ROW = 1000
LOOKBACK_FIXED_HEADERS = ("票号",)


class LookbackEntryCol(IntEnum):
    BALLOT, FIRST_SCORE = range(2)


assert LookbackEntryCol.FIRST_SCORE == len(LOOKBACK_FIXED_HEADERS)

# 附件4: one form every OPINION_FORM_ROWS rows; the name and the score cell within it.
OPINION_FORM_ROWS = 10  # label, title, fields, 3 sections, 2 signatures, remark, note
OPINION_FORM_NAME = (2, 1)
OPINION_FORM_SCORE = (2, 5)

# 附件5: label, title, header, then one row per item and the 合计 row; the
# shown 测评分 round the exact means in a hidden column (R8, R9).
LOOKBACK_FORM_FIRST_ROW = 3


class LookbackFormCol(IntEnum):
    """附件5's columns, one per ``lookback.headers`` of the definitions (which are held to
    this count): 项目 | 标准分 | 测评分 | 备注."""
    ITEM, MAX, SCORE, REMARK = range(4)


LOOKBACK_EXACT_COL = len(LookbackFormCol)  # hidden, right of 备注

# 附件6: the entry cells sit directly below their labels.
SAT_TITLE_ROW = 1  # "附件6" above it
SAT_UNIT_ROW = 2
SAT_CATEGORY_LABEL_ROW = 3
SAT_CATEGORY_ROW = 4  # 合计 in column B, the categories from column C
SAT_LEVEL_LABEL_ROW = 5
SAT_LEVEL_ROW = 6  # one level every LEVEL_SPAN columns from column C
SAT_SHARE_ROW = 7
SAT_LEVEL_SPAN = 2


class SatCol(IntEnum):
    """附件6's columns: the row labels in A; 合计 (and the levels' and shares' labels) in B;
    the categories, and the levels every SAT_LEVEL_SPAN columns, from FIRST."""
    LABEL, TOTAL, FIRST = range(3)


# 工作日程表: label, title, header, then one row per step: 工作环节 | 工作时间 | 内容.
SCHEDULE_FIRST_ROW = 3

# 名册: 姓名 | 职务 | the three role columns | every other column of the roster file;
# header in row 1, one member per row below.
ROSTER_ROLE_HEADERS = ("角色", "分管领导", "群众反映问题较多")
ROSTER_HEADERS = ("姓名", "职务", *ROSTER_ROLE_HEADERS)
ROSTER_FIRST_ROW = 1


class RosterCol(IntEnum):
    NAME, DUTY, ROLE, BOSS, FLAG = range(5)


assert len(RosterCol) == len(ROSTER_HEADERS)
ROSTER_ROLE_COL = RosterCol.ROLE  # 角色; 分管领导 and 群众反映问题较多 follow

# The registers of steps 2-5 and 9. Each has its title in row 1 and its header
# in row 2; a clerk's rows start in row 3 (0-based 2). The registers clerks add
# rows to have REGISTER_ROWS rows, which the summary formulas cover.
OPINIONS = "征求意见登记"
OPINION_COUNTS = "征求意见汇总"
TALKS = "谈心记录"
TALK_MATRIX = "谈心情况表"
MATERIALS = "党性分析材料"
MEETINGS = "会议情况"
CHECKLIST = "四查四看"
REGISTER_HEADER_ROW = 1
REGISTER_FIRST_ROW = 2
REGISTER_ROWS = 500
REGISTER_LAST_ROW = REGISTER_FIRST_ROW + REGISTER_ROWS - 1

OPINION_HEADERS = ("日期", "征求方式", "提出人类别", "意见对象", "意见内容",
                   "是否属人身攻击、发泄私愤", "反馈情况", "反馈日期")
TALK_HEADERS = ("日期", "谈心人", "谈心对象(党员)", "谈心对象(群众)", "谈心形式", "主要内容")
MATERIAL_HEADERS = ("姓名", "类别", "字数", "最低字数", "免写(经支部同意)", "口头总结记录人",
                    "审阅人", "审阅意见", "备注")
MEETING_HEADERS = ("会议", "公示日期", "召开日期", "备注")
ATTENDANCE_HEADERS = ("姓名", "会议", "出席情况", "缺席原因", "事先提交党性分析材料",
                      "代为发言人", "补课日期", "备注")
CHECKLIST_HEADERS = ("检查内容", "检查结果", "情况及佐证材料")


# The registers' columns, 0-based, named once for the writer and the core; each enum
# follows its header tuple above (checked below), so moving a column is one edit.
class OpinionCol(IntEnum):
    DATE, CHANNEL, CATEGORY, TARGET, CONTENT, ATTACK, FEEDBACK, FED_ON = range(8)


class TalkCol(IntEnum):
    DATE, TALKERS, MEMBERS, MASSES, FORM, CONTENT = range(6)


class MaterialCol(IntEnum):
    NAME, KIND, LENGTH, MINIMUM, EXEMPT, RECORDER, REVIEWER, REVIEW, REMARK = range(9)


class MeetingCol(IntEnum):
    MEETING, ANNOUNCED, HELD, REMARK = range(4)


class AttendanceCol(IntEnum):
    NAME, WHICH, STATUS, REASON, HANDED_IN, PRESENTER, MAKEUP, REMARK = range(8)


class ChecklistCol(IntEnum):
    CHECK, RESULT, EVIDENCE = range(3)


for _cols, _headers in ((OpinionCol, OPINION_HEADERS), (TalkCol, TALK_HEADERS),
                        (MaterialCol, MATERIAL_HEADERS), (MeetingCol, MEETING_HEADERS),
                        (AttendanceCol, ATTENDANCE_HEADERS), (ChecklistCol, CHECKLIST_HEADERS)):
    assert len(_cols) == len(_headers), _cols

# 征求意见汇总: header in row 2, one row per target (the collective ones, then each
# member), then 合计; columns: 意见对象 | one per channel | 合计 | 已反馈 | 不反馈.
# 会议情况: the meetings from row 3, a blank row, the attendance header, its rows.
MEETING_FIRST_ROW = 2
MEETING_ROWS = 2  # 支部专题组织生活会, 班子专题民主生活会
ATTENDANCE_HEADER_ROW = MEETING_FIRST_ROW + MEETING_ROWS + 1
ATTENDANCE_FIRST_ROW = ATTENDANCE_HEADER_ROW + 1
OPINION_COUNTS_FIRST_ROW = 2
# 谈心情况表: header in row 2 (姓名, then the names across, 群众, 合计), one row
# per member from row 3; the counts are written by the core, not formulas (a live
# member-by-member count would be n² array formulas over the whole log).
MATRIX_FIRST_ROW = 2
MATERIAL_KINDS = ("班子", "党员")  # 类别 of the leadership's row and of a member's


def summary_columns(groups):
    """汇总's 0-based columns: (count, mean) per group, composite, rank, remark.

    The means and 综合得分 shown are rounded (R8) by their formulas, so every
    program displays the same digits; ``exact_columns`` hold the exact values.
    """
    pairs = [(3 + 2 * k, 4 + 2 * k) for k in range(len(groups))]
    comp = 3 + 2 * len(groups)
    return pairs, comp, comp + 1, comp + 2


def summary_pairs_count(groups, group):
    """汇总's 0-based 票数 column of ``group``."""
    return summary_columns(groups)[0][list(groups).index(group)][0]


def exact_columns(groups):
    """汇总's hidden columns right of 备注: each group's exact mean, the exact composite.

    Ranks and the composite follow these, never the rounded figures shown (R8).
    """
    remark = summary_columns(groups)[3]
    return [remark + 1 + k for k in range(len(groups))], remark + 1 + len(groups)


# The rows the workbook's formulas count are held by workbook-scoped defined
# names, not by ranges repeated in every formula: Excel, WPS, LibreOffice and
# Gnumeric all keep names and grow or shrink them with inserted and deleted
# rows, and Python reads them to count exactly the same rows. Per entry sheet:
# its names column, its 合计 column and its input block (票号..last item), which
# the sentinel compares with the whole columns to show what lies outside.
NAME_PREFIX = "xlsheets_"
ENTRY_NAME_ROLES = ("names", "totals", "inputs")


def entry_name(group, role):
    """The defined name of one column (or the input block) of an entry sheet."""
    return f"{NAME_PREFIX}{group.key}_{role}"


def entry_name_cols(items, role):
    """(first col, last col) a role's name covers on an entry sheet."""
    total = entry_total_col(items)
    return {"names": (EntryCol.NAME, EntryCol.NAME), "totals": (total, total),
            "inputs": (EntryCol.BALLOT, total - 1)}[role]


def lookback_name(k):
    """The defined name of 回头看录入's item column k (0-based), or of the block (None)."""
    return f"{NAME_PREFIX}lookback_{'inputs' if k is None else k + 1}"


def sentinel_col(items):
    """Entry sheets: the header-row cell that says when rows lie outside the names."""
    return entry_total_col(items) + 1


def entry_total_col(items):
    """The 合计 column of an entry sheet: after 票号, 党员姓名 and the items."""
    return EntryCol.FIRST_SCORE + len(items)


def schedule_sheet(unit):
    """The schedule sheet's name, e.g. ``附件1 工作日程表`` (``工作日程表`` without one)."""
    return f"{unit.attachment} 工作日程表".strip()


def entry_sheet(group):
    """The ballot entry sheet of a rater group: its name, e.g. ``党员互评``."""
    return group.name


def ref(sheet, first, last=None):
    """An absolute reference into another sheet, e.g. ``'汇总'!$J$3``."""
    cells = a1(*first, absolute=True)
    if last is not None:
        cells += ":" + a1(*last, absolute=True)
    return f"{quote_sheet(sheet)}!{cells}"


@dataclass(frozen=True)
class BallotPlan:
    """How many ballots each group is expected to return, and spare rows.

    Entry rows are pre-filled with ballot number and member name for the
    expected ballots, so a clerk types numbers only; ``spare`` blank ballots
    follow for the ones nobody expected.
    """

    expected: tuple  # ((group key, ballots), ...)
    spare: int = 1
    lookback: int = 20
    room: int = 3  # blank ballots beyond those, per expected ballot, formulas ready
    room_most: int = 20  # ... but at most this many (peers cannot outnumber members)

    def ballots(self, key):
        return dict(self.expected)[key]

    def entry_rows(self, key, members):
        return (self.ballots(key) + self.spare) * members

    def capacity(self, key, members):
        """Rows the entry sheet's names and 合计 formulas cover from the start: the
        pre-filled rows and blank, unlocked room for ``room`` times as many ballots
        again, at most ``room_most`` (10 expected 群众参评 ballots: room for 20 more)."""
        extra = min(self.room * max(self.ballots(key), 1), self.room_most)
        return self.entry_rows(key, members) + extra * members


def default_plan(groups, members):
    """Peers: one ballot per member; masses 10; the committee 5; look-back 20."""
    defaults = {"peer": members, "mass": 10, "committee": 5}
    return BallotPlan(tuple((g.key, defaults.get(g.key, 5)) for g in groups))


# 评定等次 (current practice, an option the definitions turn on; see definitions.Grading):
# title in row 1, header in row 2, one row per member from row 3 in the roster's order;
# one blank row below them, then the count of each grade (COUNT_HEADERS), the members
# graded, 党员人数 (the shares' denominator) and the most 优秀 the share allows.
GRADES = "评定等次"
GRADE_HEADERS = ("姓名", "测评综合得分", "排名", "评定等次", "评定依据", "上级党委审批日期",
                 "上级党委审批人", "不合格情形")
(GRADE_NAME, GRADE_SCORE, GRADE_RANK, GRADE, GRADE_REASON, GRADE_APPROVED, GRADE_APPROVER,
 GRADE_GROUNDS) = range(len(GRADE_HEADERS))
GRADE_HEADER_ROW = 1
GRADE_FIRST_ROW = 2
COUNT_HEADERS = ("评定等次", "人数", "占党员人数的比例")
COUNT_TOTALS = ("已评定", "党员人数")  # after the grades; then the 优秀 limit


def grade_count_rows(grades, members):
    """评定等次's counts table, 0-based rows: header, one per grade, 已评定, 党员人数, limit."""
    head = GRADE_FIRST_ROW + members + 1
    per = [head + 1 + k for k in range(len(grades))]
    graded = head + 1 + len(grades)
    return head, per, graded, graded + 1, graded + 2


# Ballot accounting on each entry sheet, in its header row right of the sentinel: a
# label and its value for each of ACCOUNT_LABELS; 发出 and 收回 are typed, 已录入 is a
# formula (the most ballots any member has in 汇总). The header row never moves when a
# clerk inserts, deletes or sorts ballot rows, and stays in view (frozen). Present in
# workbooks that have 评定等次.
ACCOUNT_LABELS = ("发出测评票(张)", "收回测评票(张)", "已录入测评票(张)")


def account_cell(items, k):
    """0-based (row, col) of entry sheet value k of ``ACCOUNT_LABELS``; its label is left of it."""
    return 0, sentinel_col(items) + 2 + 2 * k


# 附件4: the committee's grade (“评定等次:优秀”, a formula) in the 备注 row, right of
# the clerk's remark box (columns B-D); no field is added to the seed's form.
OPINION_GRADE = (8, 4)


# The steps' sheets: the registers of steps 2-5 and 9, and 名册 whose roles they read.
STEP_SHEETS = (OPINIONS, OPINION_COUNTS, TALKS, TALK_MATRIX, MATERIALS, MEETINGS, CHECKLIST,
               ROSTER)


def sheet_names(groups, unit, graded):
    """Every sheet of a branch workbook, in the order the writer writes them: the one list
    the writer is held to and validate looks for."""
    return [INTRO, ROSTER, schedule_sheet(unit), OPINIONS, OPINION_COUNTS, TALKS, TALK_MATRIX,
            MATERIALS, MEETINGS, BALLOT_FORM, *(entry_sheet(g) for g in groups), SUMMARY,
            *([GRADES] if graded else []), OPINION_FORM, LOOKBACK_ENTRY, LOOKBACK_FORM, SATISFACTION,
            CHECKLIST]
