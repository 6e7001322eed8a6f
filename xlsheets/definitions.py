"""Form definitions: items, groups, weights, forms' texts and unit schedules.

A definition set is one TOML file (``data/*.toml``); the seed's 2005
Guanba set is the default. Loading checks it, so the rest of the package can
trust it: maximum points add up to 100, weights to 100%, names are unique,
schedule dates parse. Another town's set needs a new file, not new code.
"""

import datetime as dt
import tomllib
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from xlsheets.core.dates import parse_range
from xlsheets.errors import DefinitionError
from xlsheets.workbook.layout import LookbackFormCol

DEFAULT_SET = "guanba2005"
_BUILTIN = Path(__file__).resolve().parent / "data"  # the built-in definition sets
AVERAGING = ("mean", "trimmed")


@dataclass(frozen=True)
class Item:
    name: str
    max: int


@dataclass(frozen=True)
class Group:
    key: str
    name: str
    weight: Fraction  # share of the composite, 0..1
    averaging: str

    @property
    def mean_label(self):
        return f"{self.name}平均分"


@dataclass(frozen=True)
class Step:
    name: str
    text: str


@dataclass(frozen=True)
class Process:
    """The registers of steps 2-5 and 9: their texts, drop-down lists and numbers."""

    phase_months: int  # R14
    announce_days: int  # R15
    roles: tuple  # 镇党委负责人, 班子成员, 部门负责人, 支部书记 (in that meaning)
    flag_value: str  # 名册 “群众反映问题较多” when set
    opinions: MappingProxyType
    talks: MappingProxyType
    materials: MappingProxyType
    meetings: MappingProxyType
    checklist: MappingProxyType

    @property
    def secretary(self):
        return self.roles[0]

    @property
    def leader(self):
        return self.roles[1]

    @property
    def head(self):
        return self.roles[2]

    @property
    def branch_secretary(self):
        return self.roles[3]


@dataclass(frozen=True)
class Unit:
    name: str
    attachment: str
    title: str
    dates: tuple  # date texts as the seed writes them, one per step
    ranges: tuple  # (start, end) per step
    averaging: str | None  # per-unit override of every group's averaging
    reweight_missing: bool  # compose over present groups (flagged) instead of 缺票
    scheduled: bool = True  # False: the definitions have no schedule; the clerk fills one in
    excellent_share: Fraction | None = None  # per-unit override of grading.excellent_share


@dataclass(frozen=True)
class Grading:
    """评定等次 (current practice, not the seed): the grades and the rules on them.

    Shares are fractions of the members (党员人数). ``high``/``low`` are the grades
    that warn when far from the votes (a member in the bottom / top ``far_share``).
    """

    title: str
    grades: tuple  # best first
    excellent: str
    excellent_share: Fraction
    reason_required: frozenset
    approval_required: frozenset
    failing: str
    grounds: tuple
    far_share: Fraction
    high: frozenset
    low: frozenset
    participation_group: str
    participation_share: Fraction

    def excellent_limit(self, members, unit=None):
        """Most members a unit may grade 优秀 without a warning: floor(members x share)."""
        share = self.share_of(unit)
        return members * share.numerator // share.denominator

    def share_of(self, unit=None):
        return (unit.excellent_share if unit is not None and unit.excellent_share is not None
                else self.excellent_share)


@dataclass(frozen=True)
class Definitions:
    path: str
    id: str
    version: str
    name: str
    town: str
    issuer: str
    issued: dt.date
    year: int
    ballot: MappingProxyType
    items: tuple
    groups: tuple
    opinion: MappingProxyType
    lookback: MappingProxyType
    lookback_items: tuple
    satisfaction: MappingProxyType
    schedule: MappingProxyType
    steps: tuple
    units: tuple
    process: Process
    grading: Grading | None = None  # None: the set does not grade (no 评定等次 sheet)

    def unit(self, name):
        """The unit called ``name``, or None."""
        return next((u for u in self.units if u.name == name), None)

    def unit_or_unscheduled(self, name):
        """The unit called ``name``; a branch the set does not list gets a blank schedule.

        Its 工作日程表 keeps the nine steps and their texts, with the dates left
        for the branch to fill in (the seed's own units each have one).
        """
        known = self.unit(name)
        if known is not None:
            return known
        blank = ("",) * len(self.steps)
        title = f"{self.town}{name}{self.schedule['title_suffix']}"
        return Unit(name, "", title, blank, (None,) * len(self.steps), None, False, False)

    @property
    def ballot_max(self):
        return sum(i.max for i in self.items)


def load(name_or_path=DEFAULT_SET):
    """Load and check a definition set by built-in name or file path."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        return _load_builtin(str(name_or_path))
    return _parse(path, _read(path))


@lru_cache(maxsize=None)
def _load_builtin(name):
    ref = _BUILTIN / f"{name}.toml"  # beside the modules, as pip installs them
    if not ref.is_file():
        raise DefinitionError(name, "文件", "没有这个内置定义集", code="definitions-unknown")
    return _parse(ref, ref.read_bytes())


def _read(path):
    try:
        return path.read_bytes()
    except OSError as e:
        raise DefinitionError(path, "文件", f"无法读取({e.strerror})",
                              code="definitions-unreadable") from None


class _Reader:
    """Typed access to the TOML tree that names the failing key."""

    def __init__(self, path):
        self.path = path

    def fail(self, key, problem, code=None):
        raise DefinitionError(self.path, key, problem, code=code)

    def get(self, table, key, kind, where):
        full = f"{where}.{key}" if where else key
        if key not in table:
            self.fail(full, "缺少此项")
        value = table[key]
        if kind is int and isinstance(value, bool) or not isinstance(value, kind):
            self.fail(full, f"类型应为 {_KIND_NAMES.get(kind, kind.__name__)}")
        if isinstance(value, str) and not value.strip():
            self.fail(full, "不能为空")
        return value

    def unique(self, names, key):
        seen = set()
        for n in names:
            if n in seen:
                self.fail(key, f"名称“{n}”重复")
            seen.add(n)


_KIND_NAMES = {str: "文字", int: "整数", list: "列表", dict: "表", bool: "true/false"}


def _parse(path, data):
    r = _Reader(path)
    try:
        tree = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        r.fail("文件", "不是 UTF-8 编码")
    except tomllib.TOMLDecodeError as e:
        r.fail("文件", f"TOML 格式错误({e})", code="definitions-not-toml")

    head = r.get(tree, "set", dict, "")
    issued = head.get("issued")
    if not isinstance(issued, dt.date):
        r.fail("set.issued", "应为日期,如 2005-08-18")
    year = r.get(head, "year", int, "set")

    ballot = r.get(tree, "ballot", dict, "")
    for k in ("title", "name_header", "items_header", "total_header", "note"):
        r.get(ballot, k, str, "ballot")
    items = _items(r, r.get(ballot, "items", list, "ballot"), "ballot.items")
    if sum(i.max for i in items) != 100:
        r.fail("ballot.items", f"各项分值之和为 {sum(i.max for i in items)},应为 100")

    groups = []
    for n, g in enumerate(r.get(tree, "groups", list, "")):
        where = f"groups[{n}]"
        if not isinstance(g, dict):
            r.fail(where, "应为表")
        weight = r.get(g, "weight", int, where)
        if weight <= 0:
            r.fail(f"{where}.weight", "权重应大于 0")
        averaging = r.get(g, "averaging", str, where)
        if averaging not in AVERAGING:
            r.fail(f"{where}.averaging", f"应为 {' 或 '.join(AVERAGING)}")
        groups.append(Group(r.get(g, "key", str, where), r.get(g, "name", str, where),
                            Fraction(weight, 100), averaging))
    if not groups:
        r.fail("groups", "至少要有一个测评层次")
    r.unique([g.key for g in groups], "groups.key")
    r.unique([g.name for g in groups], "groups.name")
    total = sum(g.weight for g in groups)
    if total != 1:
        r.fail("groups.weight", f"权重之和为 {float(total * 100):g}%,应为 100%")

    opinion = r.get(tree, "opinion", dict, "")
    for k in ("title", "date_label", "remark", "note"):
        r.get(opinion, k, str, "opinion")
    for k in ("fields", "sections", "signatures"):
        _strings(r, r.get(opinion, k, list, "opinion"), f"opinion.{k}")

    lookback = r.get(tree, "lookback", dict, "")
    for k in ("title", "total_label", "note"):
        r.get(lookback, k, str, "lookback")
    _strings(r, r.get(lookback, "headers", list, "lookback"), "lookback.headers",
             len(LookbackFormCol))  # one per column of 附件5
    lb_items = _items(r, r.get(lookback, "items", list, "lookback"), "lookback.items")

    sat = r.get(tree, "satisfaction", dict, "")
    for k in ("title", "unit_label", "participants_label", "total_label", "result_label",
              "levels_label", "share_label", "rate_label", "signature_label", "review_label"):
        r.get(sat, k, str, "satisfaction")
    _strings(r, r.get(sat, "categories", list, "satisfaction"), "satisfaction.categories")
    levels = _strings(r, r.get(sat, "levels", list, "satisfaction"), "satisfaction.levels")
    if len(levels) < 2:
        r.fail("satisfaction.levels", "至少要有两个测评档次")

    schedule = r.get(tree, "schedule", dict, "")
    r.get(schedule, "title_suffix", str, "schedule")
    _strings(r, r.get(schedule, "headers", list, "schedule"), "schedule.headers", 3)
    steps = []
    for n, s in enumerate(r.get(tree, "steps", list, "")):
        where = f"steps[{n}]"
        if not isinstance(s, dict):
            r.fail(where, "应为表")
        steps.append(Step(r.get(s, "name", str, where), r.get(s, "text", str, where)))
    r.unique([s.name for s in steps], "steps.name")

    units = []
    for n, u in enumerate(r.get(tree, "units", list, "")):
        where = f"units[{n}]"
        if not isinstance(u, dict):
            r.fail(where, "应为表")
        dates = _strings(r, r.get(u, "dates", list, where), f"{where}.dates")
        if len(dates) != len(steps):
            r.fail(f"{where}.dates", f"有 {len(dates)} 个日期,应与工作环节数 {len(steps)} 相同")
        ranges = []
        for k, text in enumerate(dates):
            rng = parse_range(text, year)
            if rng is None:
                r.fail(f"{where}.dates[{k}]", f"“{text}”不是可识别的日期")
            ranges.append(rng)
        averaging = u.get("averaging")
        if averaging is not None and averaging not in AVERAGING:
            r.fail(f"{where}.averaging", f"应为 {' 或 '.join(AVERAGING)}")
        reweight = u.get("reweight_missing", False)
        if not isinstance(reweight, bool):
            r.fail(f"{where}.reweight_missing", "应为 true 或 false")
        share = u.get("excellent_share")
        if share is not None:
            share = _share(r, share, f"{where}.excellent_share")
        units.append(Unit(r.get(u, "name", str, where), r.get(u, "attachment", str, where),
                          r.get(u, "title", str, where), tuple(dates), tuple(ranges),
                          averaging, reweight, excellent_share=share))
    r.unique([u.name for u in units], "units.name")

    process = _process(r, r.get(tree, "process", dict, ""), len(steps))
    grading = _grading(r, tree.get("grading"), [g.key for g in groups])

    ballot, opinion, lookback, sat, schedule = (
        _frozen(t) for t in (ballot, opinion, lookback, sat, schedule))
    return Definitions(
        path=str(path), id=r.get(head, "id", str, "set"),
        version=r.get(head, "version", str, "set"), name=r.get(head, "name", str, "set"),
        town=r.get(head, "town", str, "set"), issuer=r.get(head, "issuer", str, "set"),
        issued=issued, year=year, ballot=ballot, items=items, groups=tuple(groups),
        opinion=opinion, lookback=lookback, lookback_items=lb_items, satisfaction=sat,
        schedule=schedule, steps=tuple(steps), units=tuple(units), process=process,
        grading=grading,
    )


def _share(r, raw, key):
    """A share written [numerator, denominator]: a fraction strictly between 0 and 1."""
    if (not isinstance(raw, list) or len(raw) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in raw)):
        r.fail(key, "应写成 [分子, 分母],如 [1, 3]")
    if raw[1] <= 0 or not 0 < raw[0] < raw[1]:
        r.fail(key, "应是大于 0、小于 1 的比例,如 [1, 3]")
    return Fraction(raw[0], raw[1])


def _grading(r, tree, group_keys):
    """The ``[grading]`` table (评定等次), or None when the set does not grade."""
    if tree is None:
        return None
    if not isinstance(tree, dict):
        r.fail("grading", "应为表")
    enabled = tree.get("enabled", False)
    if not isinstance(enabled, bool):
        r.fail("grading.enabled", "应为 true 或 false")
    if not enabled:
        return None
    where = "grading"
    grades = _strings(r, r.get(tree, "grades", list, where), "grading.grades")
    if len(grades) < 2:
        r.fail("grading.grades", "至少要有两个等次")

    def grade(key):
        value = r.get(tree, key, str, where)
        if value not in grades:
            r.fail(f"grading.{key}", f"“{value}”应是 grades 中的一项")
        return value

    def some(key):
        values = _strings(r, r.get(tree, key, list, where), f"grading.{key}")
        for n, v in enumerate(values):
            if v not in grades:
                r.fail(f"grading.{key}[{n}]", f"“{v}”应是 grades 中的一项")
        return frozenset(values)

    group = r.get(tree, "participation_group", str, where)
    if group not in group_keys:
        r.fail("grading.participation_group", f"“{group}”应是 groups 的 key 之一")
    high, low = some("high_grades"), some("low_grades")
    if high & low:
        r.fail("grading.low_grades", f"“{sorted(high & low)[0]}”不能同时在 high_grades 中")
    return Grading(
        title=r.get(tree, "title", str, where), grades=grades, excellent=grade("excellent"),
        excellent_share=_share(r, r.get(tree, "excellent_share", list, where),
                               "grading.excellent_share"),
        reason_required=some("reason_required"), approval_required=some("approval_required"),
        failing=grade("failing"),
        grounds=_strings(r, r.get(tree, "grounds", list, where), "grading.grounds"),
        far_share=_share(r, r.get(tree, "far_share", list, where), "grading.far_share"),
        high=high, low=low, participation_group=group,
        participation_share=_share(r, r.get(tree, "participation_share", list, where),
                                   "grading.participation_share"))


# Each register's keys: texts (str), lists (list of str), and the list a value
# must be one of ({key: list key}).
_PROCESS = {
    "opinions": (("title", "summary_title", "member_target", "feedback_done",
                  "feedback_withheld", "attack_value"), ("channels", "targets", "feedback"),
                 {"feedback_done": "feedback", "feedback_withheld": "feedback"}),
    "talks": (("title", "matrix_title", "masses_label"), ("forms",), {}),
    "materials": (("title", "leadership", "exempt_value", "signed"), ("reviewed", "exempt_units"),
                  {"signed": "reviewed"}),
    "meetings": (("title", "branch", "leadership", "absent", "official", "health", "yes"),
                 ("attendance", "reasons"),
                 {"absent": "attendance", "official": "reasons", "health": "reasons"}),
    "checklist": (("title", "failed"), ("checks", "results"), {"failed": "results"}),
}


def _process(r, tree, steps):
    """The ``[process]`` table: registers of steps 2-5 and 9 (R14-R18)."""
    numbers = {}
    for key in ("phase_months", "announce_days"):
        numbers[key] = r.get(tree, key, int, "process")
        if numbers[key] < 0:
            r.fail(f"process.{key}", "不能小于 0")
    roles = _strings(r, r.get(tree, "roles", list, "process"), "process.roles", 4)
    tables = {}
    for name, (texts, lists, member_of) in _PROCESS.items():
        where = f"process.{name}"
        t = r.get(tree, name, dict, "process")
        for k in texts:
            r.get(t, k, str, where)
        for k in lists:
            _strings(r, r.get(t, k, list, where), f"{where}.{k}")
        for k, within in member_of.items():
            if t[k] not in t[within]:
                r.fail(f"{where}.{k}", f"“{t[k]}”应是 {within} 中的一项")
        tables[name] = _frozen(t)
    for table, key in (("opinions", "feedback_before_step"), ("meetings", "step")):
        n = r.get(tree[table], key, int, f"process.{table}")
        if not 1 <= n <= steps:
            r.fail(f"process.{table}.{key}", f"应为 1 到 {steps} 之间的环节序号")
    for k in ("leadership_minimum", "member_minimum"):
        if r.get(tree["materials"], k, int, "process.materials") <= 0:
            r.fail(f"process.materials.{k}", "应大于 0")
    return Process(numbers["phase_months"], numbers["announce_days"], roles,
                   r.get(tree, "flag_value", str, "process"), **tables)


def _frozen(table):
    """A read-only copy of a form's texts, lists as tuples (the set is cached)."""
    return MappingProxyType({k: tuple(v) if isinstance(v, list) else v
                             for k, v in table.items() if k != "items"})


def _items(r, raw, key):
    items = []
    for n, it in enumerate(raw):
        where = f"{key}[{n}]"
        if not isinstance(it, dict):
            r.fail(where, "应为表")
        mx = r.get(it, "max", int, where)
        if mx <= 0:
            r.fail(f"{where}.max", "分值应大于 0")
        items.append(Item(r.get(it, "name", str, where), mx))
    if not items:
        r.fail(key, "至少要有一项")
    r.unique([i.name for i in items], f"{key}.name")
    return tuple(items)


def _strings(r, raw, key, count=None):
    for n, s in enumerate(raw):
        if not isinstance(s, str) or not s.strip():
            r.fail(f"{key}[{n}]", "应为非空文字")
    if count is not None and len(raw) != count:
        r.fail(key, f"应有 {count} 项,现有 {len(raw)} 项")
    r.unique(raw, key)
    return tuple(raw)
