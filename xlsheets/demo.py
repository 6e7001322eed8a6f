"""A sample town for ``xlsheets demo``: the seed's two units, rosters, filled ballots.

Names are invented; scores are drawn from a fixed seed, so every run writes
the same files. Each unit gets its roster (CSV, as a clerk would send it), a
blank branch workbook and a filled one, which is then validated and computed
in place as the office would, with its figures printed. The registers of
steps 2-5 and 9 are filled as the work plan asks, every rule kept.
"""

import csv
import datetime
import random
from dataclasses import dataclass
from pathlib import Path

from xlsheets import writer as book
from xlsheets.workbook import layout as L
from xlsheets.core import steps
from xlsheets.workbook.entries import Entries
from xlsheets.files.roster import read_roster
from xlsheets.files.compute import compute_file
from xlsheets.core.numbers import display, percent

ROSTERS = {
    "机关": [
        ("赵建国", "党委书记"), ("钱立新", "党委副书记、镇长"), ("孙明华", "党委副书记"),
        ("李志强", "纪委书记"), ("周国平", "组织委员"), ("吴晓燕", "宣传委员"),
        ("郑海涛", "党政办主任"), ("王春梅", "财政所所长"), ("冯德胜", "农业服务中心主任"),
        ("陈丽娟", "社会事务办科员"), ("褚文斌", "安监站站长"), ("卫红英", "计生办科员"),
    ],
    "兴隆街社区": [
        ("蒋德明", "支部书记"), ("沈秀兰", "支部副书记"), ("韩光荣", "支部委员"),
        ("杨淑芬", "支部委员"), ("朱长林", "党员"), ("秦桂珍", "党员"),
        ("尤大海", "党员(退休)"), ("许玉兰", "党员"), ("何永福", "党员(年老体弱)"),
        ("吕小军", "党员"),
    ],
}
BALLOTS = {"peer": None, "mass": 8, "committee": 3}  # None: one per member
LOOKBACK = 15
_DEMO_TIME = datetime.datetime(2005, 9, 6, 9, 0)  # the demo's stamp: same files every run
SATISFACTION = {
    "机关": ([12, 6, 8, 3, 2, 5, 2], [31, 6, 1]),
    "兴隆街社区": ([15, 3, 9, 2, 1, 7, 3], [33, 5, 2]),
}


def write_roster(unit, path):
    """Write a unit's sample roster as UTF-8 CSV with BOM, as Excel saves it."""
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([*L.ROSTER_HEADERS, "所在党支部"])
        roles = ROLES.get(unit, {})
        for name, duty in ROSTERS[unit]:
            w.writerow([name, duty, *roles.get(name, ("", "", "")), f"{unit}党支部"])


def sample_entries(defs, unit, names, rng):
    """Ballots, look-back ballots, 附件6 counts and the registers a branch might return."""
    quality = {n: rng.uniform(0.72, 0.97) for n in names}
    ballots = {}
    for g in defs.groups:
        count = BALLOTS.get(g.key) or len(names)
        group = []
        for _ in range(count):
            ballot = {}
            for n in names:
                if g.key == "peer" and rng.random() < 0.04:
                    continue  # a rater who left a member blank
                ballot[n] = [_score(rng, quality[n], it.max) for it in defs.items]
            group.append(ballot)
        ballots[g.key] = group
    lookback = [[_score(rng, 0.9, it.max) for it in defs.lookback_items] for _ in range(LOOKBACK)]
    categories, levels = SATISFACTION[unit.name]
    entries = Entries(ballots, lookback, list(categories), list(levels),
                      **_registers(defs, unit, names))
    if defs.grading is not None:  # no draw from rng here: the registers above stay as they were
        entries.grades = _grades(defs, unit, names, quality)
        entries.accounts = {g.key: (len(ballots[g.key]), len(ballots[g.key])) for g in defs.groups}
    return entries


def _grades(defs, unit, names, quality):
    """The committee's grades: the best quarter 优秀 (approved at the end of step 6), the
    rest 合格; the committee decides, the demo only follows its members' quality."""
    g = defs.grading
    best = sorted(names, key=lambda n: -quality[n])[:len(names) // 4]
    step6 = unit.ranges[5] if unit.ranges and unit.ranges[5] else None
    approved = step6[1] if step6 else datetime.date(defs.year, 9, 10)
    return {n: ([g.excellent, "党员和群众评价高,工作表现突出", approved, "镇党委"] if n in best
                else [g.grades[1]]) for n in names}


def _score(rng, quality, top):
    """A whole-number score near ``quality`` of ``top``, within 0..top."""
    return max(0, min(top, round(rng.gauss(quality * top, top * 0.06))))


def run(defs, out, echo=print):
    """Write the sample town into ``out``; return the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(2005)
    written = []
    for unit in defs.units:
        if unit.name not in ROSTERS:
            continue
        roster_path = out / f"名册_{unit.name}.csv"
        write_roster(unit.name, roster_path)
        roster = read_roster(roster_path)
        names = roster.names()
        blank = out / f"{unit.name}_空白.xlsx"
        book.build(defs, unit, roster, blank)
        entries = sample_entries(defs, unit, names, rng)
        filled = out / f"{unit.name}_已填.xlsx"
        plan = L.BallotPlan(tuple((g.key, BALLOTS.get(g.key) or len(names)) for g in defs.groups))
        book.build(defs, unit, roster, filled, plan=plan, entries=entries)
        outcome = compute_file(filled, defs, now=_DEMO_TIME)
        written += [roster_path, blank, filled]
        _print_scores(defs, unit, outcome, echo)
    echo(f"\n已写入 {len(written)} 个文件到 {out}:")
    for p in written:
        echo(f"  {p}")
    return written


def _print_scores(defs, unit, outcome, echo):
    errors = sum(f.is_error for f in outcome.findings)
    echo(f"\n{unit.name}党支部:校验 {errors} 个错误、{len(outcome.findings) - errors} 个提醒;"
         "综合得分(" + " + ".join(f"{L.entry_sheet(g)}×{percent(g.weight)}" for g in defs.groups)
         + "):")
    members = sorted(outcome.checked.figures.members, key=lambda m: (m.rank is None, m.rank or 0))
    gf = outcome.checked.figures.grading
    grade = {}
    if gf is not None:
        grade = {m.name: gf.grades[i] or "-" for i, m in enumerate(outcome.checked.figures.members)}
    for m in members:
        means = "  ".join(f"{g.name} {_shown(m.means[g.key])}" for g in defs.groups)
        echo(f"  {m.rank or '-':>2}  {m.name:<5} {_shown(m.composite):>6}   {means}"
             + (f"   {grade[m.name]}" if grade else ""))
    if gf is not None:
        counts = "、".join(f"{k} {v} 人" for k, v in gf.counts.items())
        echo(f"  评定等次:{counts}(党员 {gf.members} 人,{defs.grading.excellent}最多 {gf.limit} 人)")
    sat = outcome.checked.figures.satisfaction
    echo(f"  “回头看”合计 {_shown(outcome.checked.figures.lookback.total)};"
         f"满意率 {_shown(sat.rate)}%(参加测评 {sat.total} 人)")
    row = steps.summary(defs, unit, [f.as_dict() for f in outcome.findings],
                          outcome.checked.registers)
    labels = [label for label, _ in steps.SUMMARY_COLUMNS]
    echo("  各环节:" + ";".join(f"{label} {value}" for label, value in zip(labels, row)))


def _shown(x):
    return x if isinstance(x, str) else display(x)


# --- the registers of steps 2-5 and 9 ------------------------------------------------

# 名册 角色 | 分管领导 | 群众反映问题较多 of the sample members (blank for the others).
ROLES = {
    "机关": {
        "赵建国": ("镇党委负责人", "", ""),
        "钱立新": ("班子成员", "", ""), "孙明华": ("班子成员", "", ""),
        "李志强": ("班子成员", "", ""), "周国平": ("班子成员、支部书记", "", ""),
        "吴晓燕": ("班子成员", "", ""),
        "郑海涛": ("部门负责人", "钱立新", ""), "王春梅": ("部门负责人", "孙明华", ""),
        "冯德胜": ("部门负责人", "周国平", ""), "褚文斌": ("部门负责人", "李志强", ""),
        "陈丽娟": ("", "", "是"),
    },
    "兴隆街社区": {"蒋德明": ("支部书记", "", "")},
}
# Who reviews the town secretary's and a branch secretary's own material: the plan names
# nobody, so someone from outside the branch.
OUTSIDE_REVIEWER = {"镇党委负责人": "区委督导组", "支部书记": "镇党委联系领导钱立新"}
AWAY = {"机关": ("王春梅", "郑海涛"), "兴隆街社区": ("吕小军", "朱长林")}  # 公出, presenter
EXEMPT = {"兴隆街社区": ("何永福", "沈秀兰")}  # 免写, who recorded the oral account
MASSES = {"机关": ("村民代表王某", "服务对象李某", "个体工商户张某", "村社干部刘某"),
          "兴隆街社区": ("居民代表王某", "退休教师李某", "楼栋长张某", "低保户刘某")}
COLLECTIVE_OPINIONS = (  # (target index, channel, category, content)
    (0, "座谈会", "下属单位党员群众代表", "希望镇党委班子成员多深入村社,帮助解决群众出行难、饮水难问题。"),
    (0, "征求意见表", "服务对象代表", "建议定期公开镇财政收支和惠农资金发放情况,接受群众监督。"),
    (0, "个别访谈", "党代表、人大代表、政协委员", "部分领导下乡调研走马观花,蹲点时间短,问题解决不彻底。"),
    (0, "意见箱", "其他", "会议多、文件多,基层干部疲于应付,希望精简会议。"),
    (0, "上门征求", "离退休干部职工", "希望班子加强团结,多关心离退休老同志的生活。"),
    (1, "群众接待日", "服务对象代表", "办事窗口服务态度有待改进,一次性告知制度落实不到位。"),
    (1, "座谈会", "本单位党员群众代表", "党员学习活动形式单一,希望结合实际多开展专题讨论。"),
    (1, "热线电话", "其他", "环境卫生整治要常抓不懈,不能一阵风。"),
    (1, "征求意见表", "特邀监督员", "流动党员管理要加强,做到联系不断线、教育不断档。"),
    (1, "电子邮箱", "下属单位党员群众代表", "建议把群众反映的问题建立台账,办理情况按时回复。"),
)
MEMBER_OPINIONS = (  # (channel, category, content) about a member
    ("征求意见表", "本单位党员群众代表", "工作积极肯干,但对群众反映的问题有时答复不够及时。"),
    ("个别访谈", "服务对象代表", "下村(入户)次数偏少,希望多听听群众的意见。"),
    ("交心谈心", "本单位党员群众代表", "办事效率高,建议在政策宣传解释上多下功夫。"),
    ("座谈会", "下属单位党员群众代表", "对来访群众有时态度生硬,说话不够耐心。"),
    ("上门征求", "离退休干部职工", "学习抓得紧,联系群众方面还需加强。"),
    ("征求意见表", "服务对象代表", "业务熟悉,希望多帮助年轻同志提高业务水平。"),
    ("群众接待日", "其他", "工作中有畏难情绪,碰到矛盾绕着走。"),
    ("意见箱", "其他", "作风扎实,建议注意劳逸结合。"),
)
ATTACK = ("意见箱", "其他", "此人人品极差,早就该撤职滚蛋!")
TALK_TOPICS = ("交流思想,征求对本人和班子的意见", "指出工作中存在的不足,明确努力方向",
               "听取对分管工作的意见建议", "谈心交流,帮助查找党性方面的问题")
MASS_TOPIC = "听取群众对党员作风和服务的意见建议"


@dataclass
class _Cast:
    """Who is who in a sample unit, from ``ROLES``."""

    roles: dict  # name -> [role, ...]
    boss: dict  # department head -> 分管领导
    flagged: list  # 群众反映问题较多
    having: dict  # role -> names, roster order
    leadership: list  # 镇党委负责人 and 班子成员, roster order


def _cast(defs, unit, names):
    p, given = defs.process, ROLES.get(unit.name, {})
    roles = {n: given[n][0].split("、") if n in given and given[n][0] else [] for n in names}
    return _Cast(roles, {n: r[1] for n, r in given.items() if r[1]},
                 [n for n in names if n in given and given[n][2] == p.flag_value],
                 {role: [n for n in names if role in roles[n]] for role in p.roles},
                 [n for n in names if {p.secretary, p.leader} & set(roles[n])])


def _registers(defs, unit, names):
    """The Entries fields of steps 2-5 and 9 for a sample unit (a fixed seed per unit)."""
    rng = random.Random(f"registers:{unit.name}")  # apart from the ballots' draws
    cast = _cast(defs, unit, names)
    return {
        "opinions": _opinions(defs, unit, names, rng),
        "talks": _talks(defs, unit, names, cast, rng),
        "materials": _materials(defs, unit, names, cast, rng),
        **_meetings(defs, unit, names, cast.leadership),
        "checklist": _checklist(defs),
    }


def _days(first, last):
    return [first + datetime.timedelta(days=k) for k in range((last - first).days + 1)]


def _opinions(defs, unit, names, rng):
    """Opinions on the collective targets and on some members; one personal attack."""
    o, ranges = defs.process.opinions, unit.ranges
    asked = _days(*ranges[1])
    deadline = ranges[defs.process.opinions["feedback_before_step"] - 1][0]
    day = datetime.timedelta(days=1)
    answered = _days(ranges[1][1] + day, deadline - day)  # after asking, before step 7
    rows = []
    for k, (target, channel, category, content) in enumerate(COLLECTIVE_OPINIONS):
        fed = k % 4 != 3  # a few are still being worked on
        rows.append([rng.choice(asked), channel, category, o["targets"][target], content, None,
                     o["feedback_done"] if fed else o["feedback"][1],
                     rng.choice(answered) if fed else None])
    about = rng.sample(names, min(len(MEMBER_OPINIONS), len(names)))
    for name, (channel, category, content) in zip(about, MEMBER_OPINIONS):
        rows.append([rng.choice(asked), channel, category, name, content, None,
                     o["feedback_done"], rng.choice(answered)])
    channel, category, content = ATTACK
    rows.append([rng.choice(asked), channel, category, about[0], content, o["attack_value"],
                 o["feedback_withheld"], None])
    return sorted(rows, key=lambda r: r[0])


def _talks(defs, unit, names, cast, rng):
    """“五个必须谈” first, then each member with the masses; one-to-many where it fits."""
    p, forms, having = defs.process, defs.process.talks["forms"], cast.having
    days = _days(*unit.ranges[2])
    pairs = [(s, m) for s in having[p.secretary] for m in having[p.leader] + cast.flagged
             if s != m]
    pairs += [(boss, head) for head, boss in cast.boss.items()]
    talked = {frozenset(x) for x in pairs}
    rows = [[rng.choice(days), a, b, None, forms[0], rng.choice(TALK_TOPICS)] for a, b in pairs]
    for b in having[p.branch_secretary]:
        rest = [n for n in names if n != b and frozenset((b, n)) not in talked]
        for k in range(0, len(rest), 3):  # in small groups: 一对多 (or 一对一 for one left)
            group = rest[k:k + 3]
            rows.append([rng.choice(days), b, "、".join(group), None,
                         forms[1] if len(group) > 1 else forms[0], rng.choice(TALK_TOPICS)])
    masses = MASSES[unit.name]
    for k, n in enumerate(names):
        rows.append([rng.choice(days), n, None, masses[k % len(masses)], forms[0], MASS_TOPIC])
    return sorted(rows, key=lambda r: r[0])


def _materials(defs, unit, names, cast, rng):
    """Lengths above the minimum, one exemption, and the reviewer step 4 names, signed."""
    p, m = defs.process, defs.process.materials
    secretary = (cast.having[p.secretary] or [OUTSIDE_REVIEWER[p.secretary]])[0]

    def reviewer(name):
        own = cast.roles[name]
        if p.secretary in own:
            return OUTSIDE_REVIEWER[p.secretary]
        if p.leader in own:
            return secretary
        if p.head in own:
            return cast.boss[name]
        if p.branch_secretary in own:
            return OUTSIDE_REVIEWER[p.branch_secretary]
        return cast.having[p.branch_secretary][0]

    rows = {}
    if cast.leadership:
        rows[m["leadership"]] = [m["leadership_minimum"] + rng.randint(200, 1800), None, None,
                                 secretary, m["signed"], "班子集体讨论形成"]
    exempt, recorder = EXEMPT.get(unit.name, (None, None))
    for n in names:
        if n == exempt:
            rows[n] = [None, m["exempt_value"], recorder, reviewer(n), m["signed"], "年老体弱,口头总结"]
        else:
            rows[n] = [m["member_minimum"] + rng.randint(100, 1900), None, None, reviewer(n),
                       m["signed"], None]
    return rows


def _meetings(defs, unit, names, leadership):
    """Both meetings announced three days ahead within step 5; one member away on business."""
    mt, (first, last) = defs.process.meetings, unit.ranges[4]
    ahead = datetime.timedelta(days=3)
    held = {mt["branch"]: first}
    if leadership:
        held[mt["leadership"]] = min(first + datetime.timedelta(days=1), last)
    meetings = {name: [day - ahead, day, "按时召开,会议记录齐全"] for name, day in held.items()}
    away, presenter = AWAY[unit.name]
    attendance = {}
    for meeting, who in ((mt["branch"], names), (mt["leadership"], leadership)):
        for n in who:
            attendance[(n, meeting)] = [mt["attendance"][0], None, None, None, None, None]
    attendance[(away, mt["branch"])] = [
        mt["absent"], mt["official"], mt["yes"], presenter,
        held[mt["branch"]] + datetime.timedelta(days=4), "已补课"]
    return {"meetings": meetings, "attendance": attendance}


def _checklist(defs):
    """All four checks met, each with a line of evidence."""
    evidence = (
        "通过征求意见表、座谈会、个别访谈等多种方式广泛征求意见,已分类梳理,见征求意见登记表和汇总表。",
        "党性分析材料均按要求撰写,字数达标,经审阅人签署意见,见党性分析材料登记表。",
        "专题组织生活会提前公示、按时召开,党员逐一开展批评与自我批评,会议记录齐全。",
        "测评票按党员互评、群众参评、支委会考评三个层次发放汇总,评议意见经支委会集体研究决定。",
    )
    ck = defs.process.checklist
    return [[ck["results"][0], text] for text in evidence[:len(ck["checks"])]]
