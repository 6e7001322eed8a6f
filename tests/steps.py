"""A small 机关 branch whose registers of steps 2-5 and 9 are filled by the rules.

``steps_book`` builds the workbook from a roster CSV that names the roles, then
types the registers the way a clerk does (dates as Excel stores them: day
numbers in date-formatted cells). Each test changes one cell on top with
``cells`` and expects one finding there. Rows and columns come from
``xlsheets.workbook.layout``, as the writer places them.
"""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from books import ballot_updates, patch
from xlsheets import writer as book, definitions
from xlsheets.workbook import layout as L
from xlsheets.ooxml import BookFile
from xlsheets.files.roster import read_roster

DEFS = definitions.load()
P = DEFS.process
SECRETARY, LEADER, HEAD, BRANCH, PLAIN, FLAGGED = (
    "赵建国", "钱立新", "孙明华", "李志强", "周国平", "吴晓燕")
ROSTER = [  # 姓名, 职务, 角色, 分管领导, 群众反映问题较多
    (SECRETARY, "党委书记", "镇党委负责人", "", ""),
    (LEADER, "党委副书记、镇长", "班子成员", "", ""),
    (HEAD, "党政办主任", "部门负责人", LEADER, ""),
    (BRANCH, "机关支部书记", "支部书记", "", ""),
    (PLAIN, "科员", "", "", ""),
    (FLAGGED, "科员", "", "", "是"),
]
NAMES = [r[0] for r in ROSTER]


def day(month, d):
    """A 2005 date as Excel stores it in a cell: days since 1899-12-30."""
    return (dt.date(2005, month, d) - dt.date(1899, 12, 30)).days


OPINIONS = [  # OPINION_HEADERS order
    [day(8, 20), "征求意见表", "本单位党员群众代表", "镇党委领导班子及成员", "深入村社不够", None, None, None],
    [day(8, 20), "座谈会", "服务对象代表", HEAD, "办事效率不高", None, "已反馈", day(8, 24)],
    [day(8, 21), "意见箱", "其他", FLAGGED, "人身攻击的话", "是", "不反馈", None],
]
TALKS = [  # TALK_HEADERS order
    [day(8, 21), SECRETARY, LEADER, None, "一对一", "交流思想"],
    [day(8, 21), SECRETARY, FLAGGED, None, "一对一", "指出问题"],
    [day(8, 22), LEADER, HEAD, None, "一对一", "分管工作"],
    [day(8, 22), BRANCH, "、".join(n for n in NAMES if n != BRANCH), None, "一对多", "征求意见"],
    [day(8, 23), f"{PLAIN}、{FLAGGED}", None, "居民代表王某、李某", "多对多", "听取意见"],
]
MATERIALS = {  # name -> 字数, 免写, 口头总结记录人, 审阅人, 审阅意见
    P.materials["leadership"]: [4200, None, None, SECRETARY, "已签署意见"],
    SECRETARY: [2600, None, None, "区委督导组", "已签署意见"],
    LEADER: [2300, None, None, SECRETARY, "已签署意见"],
    HEAD: [2100, None, None, LEADER, "已签署意见"],
    BRANCH: [2050, None, None, SECRETARY, "已签署意见"],
    PLAIN: [2000, None, None, BRANCH, "已签署意见"],
    FLAGGED: [2400, None, None, BRANCH, "已签署意见"],
}
MEETINGS = [[day(8, 22), day(8, 25)], [day(8, 23), day(8, 26)]]  # 公示日期, 召开日期
SCORES = [8, 8, 8, 8, 8, 8, 8, 24]  # every member's ballot: 80
ABSENT = HEAD  # away on official business, material handed in, presented, made up


def material_row(name):
    """0-based row of ``name`` in 党性分析材料 (the leadership's row comes first)."""
    return L.REGISTER_FIRST_ROW + [P.materials["leadership"], *NAMES].index(name)


def attendance_row(name, leadership=False):
    """0-based row of ``name`` in 会议情况's attendance: members, then the leadership's meeting."""
    if leadership:
        return L.ATTENDANCE_FIRST_ROW + len(NAMES) + [SECRETARY, LEADER].index(name)
    return L.ATTENDANCE_FIRST_ROW + NAMES.index(name)


def filled():
    """{sheet: {A1: value}}: every register filled as the rules want."""
    cells = {L.OPINIONS: {}, L.TALKS: {}, L.MATERIALS: {}, L.MEETINGS: {}, L.CHECKLIST: {}}
    for sheet, rows in ((L.OPINIONS, OPINIONS), (L.TALKS, TALKS)):
        for r, values in enumerate(rows):
            for c, v in enumerate(values):
                if v is not None:
                    cells[sheet][L.a1(L.REGISTER_FIRST_ROW + r, c)] = v
    for name, values in MATERIALS.items():
        for c, v in zip((2, 4, 5, 6, 7), values):
            if v is not None:
                cells[L.MATERIALS][L.a1(material_row(name), c)] = v
    for k, (announced, held) in enumerate(MEETINGS):
        cells[L.MEETINGS][L.a1(L.MEETING_FIRST_ROW + k, 1)] = announced
        cells[L.MEETINGS][L.a1(L.MEETING_FIRST_ROW + k, 2)] = held
    for name in NAMES:
        cells[L.MEETINGS][L.a1(attendance_row(name), 2)] = "出席"
    for name in (SECRETARY, LEADER):
        cells[L.MEETINGS][L.a1(attendance_row(name, True), 2)] = "出席"
    r = attendance_row(ABSENT)
    cells[L.MEETINGS].update({L.a1(r, 2): "缺席", L.a1(r, 3): "公出", L.a1(r, 4): "是",
                              L.a1(r, 5): PLAIN, L.a1(r, 6): day(8, 30)})
    for k in range(len(P.checklist["checks"])):
        cells[L.CHECKLIST][L.a1(L.REGISTER_FIRST_ROW + k, 1)] = "符合要求"
        cells[L.CHECKLIST][L.a1(L.REGISTER_FIRST_ROW + k, 2)] = "见会议记录和征求意见汇总"
    return cells


def write_roster(path, rows=ROSTER):
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["姓名", "职务", *L.ROSTER_ROLE_HEADERS])
        w.writerows(rows)
    return path


def steps_book(tmp_path, cells=None, *, registers=True, unit="机关", rows=ROSTER,
               filename="机关.xlsx") -> Path:
    """The workbook with its registers filled (``registers``) and ``cells`` typed on top."""
    tmp_path = Path(tmp_path)
    tmp_path.mkdir(parents=True, exist_ok=True)
    roster = read_roster(write_roster(tmp_path / f"{Path(filename).stem}.csv", rows))
    path = tmp_path / filename
    book.build(DEFS, DEFS.unit_or_unscheduled(unit), roster, path)
    updates = filled() if registers else {}
    with BookFile.open(path) as b:  # one ballot per group, so the book computes
        ballot_updates(b, {g.key: [{n: SCORES for n, *_ in rows}] for g in DEFS.groups}, updates)
    for sheet, values in (cells or {}).items():
        updates.setdefault(sheet, {}).update(values)
    patch(path, updates)
    return path


def in_memory(cells=None, *, registers=True, unit="机关", rows=ROSTER, filename="机关.xlsx"):
    """``steps_book`` in memory (``sheets.Book``): the filled workbook is written and read
    once a session, ``cells`` are typed on top of a fresh copy of it."""
    import sheets
    book = sheets.once(("steps_book", registers, unit, repr(rows), filename),
                       lambda where: steps_book(where, registers=registers, unit=unit, rows=rows,
                                                filename=filename))
    for sheet, values in (cells or {}).items():
        book.type(sheet, values)
    return book
