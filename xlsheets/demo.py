"""A sample town for ``xlsheets demo``: the seed's two units, rosters, filled ballots.

Names are invented; scores are drawn from a fixed seed, so every run writes
the same files. Each unit gets its roster (CSV, as a clerk would send it), a
blank branch workbook and a filled one, which is then validated and computed
in place as the office would, with its figures printed.
"""

import csv
import datetime
import random
from pathlib import Path

from . import book, layout as L
from .entries import Entries
from .roster import read_roster
from .compute import compute_file
from .numbers import display

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
        w.writerow(["姓名", "职务", "所在党支部"])
        for name, duty in ROSTERS[unit]:
            w.writerow([name, duty, f"{unit}党支部"])


def sample_entries(defs, unit, names, rng):
    """Ballots, look-back ballots and 附件6 counts a branch might return."""
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
    return Entries(ballots, lookback, list(categories), list(levels))


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
         "综合得分(党员互评×40% + 群众参评×30% + 支委会考评×30%):")
    members = sorted(outcome.checked.figures.members, key=lambda m: (m.rank is None, m.rank or 0))
    for m in members:
        means = "  ".join(f"{g.name} {_shown(m.means[g.key])}" for g in defs.groups)
        echo(f"  {m.rank or '-':>2}  {m.name:<5} {_shown(m.composite):>6}   {means}")
    sat = outcome.checked.figures.satisfaction
    echo(f"  “回头看”合计 {_shown(outcome.checked.figures.lookback.total)};"
         f"满意率 {_shown(sat.rate)}%(参加测评 {sat.total} 人)")


def _shown(x):
    return x if isinstance(x, str) else display(x)
