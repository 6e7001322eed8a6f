"""谈心 (step 3): the talk log, who has talked with whom, and “五个必须谈” (R18).

A talk is symmetric: 张三 talking with 李四 is 李四 talking with 张三. A row may
name several talkers and several members (一对多, 多对多); each talker has then
talked with each member named, and with the masses when any are named.

The musts are errors when missing: the town secretary with every leadership
member and with every comrade the masses raised many problems about; each
leadership member with the heads of the departments he supervises. The shoulds
are warnings: the branch secretary with every member; every ordinary member with
another member and with the masses.
"""

from collections import Counter, defaultdict

from xlsheets.workbook import layout as L
from xlsheets.core.findings import finding
from xlsheets.core.registers import Sheet, blank, empty, header
from xlsheets.core.roles import split_names

DATE, TALKERS, MEMBERS, MASSES, FORM, CONTENT = L.TalkCol

RULES = (
    "镇党委负责人必须与每个班子成员谈",
    "镇党委负责人必须与群众反映较大、突出问题较多的同志谈",
    "党委成员必须与分管部门(科室)负责人谈",
    "党支部书记尽量与每个党员谈",
    "每个普通党员尽量与其他党员和群众谈",
)


class Talks:
    """The talks of a log, as pairs and per person."""

    def __init__(self, rows):
        self.pairs = defaultdict(Counter)  # a -> b -> talks, both ways round
        self.masses = Counter()  # talker -> talks that included the masses
        self.total = Counter()  # name -> talks he took part in
        for talkers, members, masses in rows:
            for a in talkers:
                for b in members:
                    if a != b:
                        self.pairs[a][b] += 1
                        self.pairs[b][a] += 1
            for name in set(talkers) | set(members):
                self.total[name] += 1
                if masses:  # everyone in a talk the masses joined talked with them
                    self.masses[name] += 1

    def between(self, a, b):
        return self.pairs[a][b] if a in self.pairs else 0

    def with_members(self, name):
        return sum(self.pairs[name].values()) if name in self.pairs else 0


def _parsed(lines, known):
    return [(split_names(ln.values[TALKERS], known), split_names(ln.values[MEMBERS], known),
             not blank(ln.values[MASSES])) for ln in lines]


def matrix(defs, names, lines):
    """谈心情况表: per member, talks with each member (None on the diagonal), 群众, 合计."""
    talks = Talks(_parsed([ln for ln in lines if ln.row <= L.REGISTER_LAST_ROW], set(names)))
    rows = []
    for a in names:
        mine = talks.pairs.get(a, {})
        rows.append([None if a == b else mine.get(b, 0) for b in names]
                    + [talks.masses[a], talks.total[a]])
    return rows


def check(defs, grids, people, out, fixes):
    """The log's rows, then the coverage of “五个必须谈”. Returns whether the log is started."""
    if L.TALKS not in grids.sheets:
        return False
    if not header(L.TALKS, grids.registers.get("talks", []), L.TALK_HEADERS, out):
        return False
    sheet = Sheet(L.TALKS, L.TALK_HEADERS, defs.year, out, fixes)
    lines = sheet.outside(grids.talks, L.REGISTER_LAST_ROW)
    if not lines:
        empty(L.TALKS, "谈心活动记录", "请逐次登记谈心的日期、谈心人、谈心对象和谈心形式。", out)
        return False
    roster = set(people.names)
    rows = []
    for ln in lines:
        v = ln.values
        missing = [L.TALK_HEADERS[c] for c in (DATE, TALKERS) if blank(v[c])]
        missing += ["谈心对象"] if blank(v[MEMBERS]) and blank(v[MASSES]) else []
        missing += [L.TALK_HEADERS[FORM]] if blank(v[FORM]) else []
        if missing:
            sheet.add("talk-incomplete", ln.row, TALKERS if "谈心人" in missing else 0,
                      missing="、".join(missing))
        sheet.day(ln, DATE)
        talkers, members = sheet.names(ln, TALKERS, roster), sheet.names(ln, MEMBERS, roster)
        for name in talkers:
            if name not in roster:
                sheet.add("talk-talker-unknown", ln.row, TALKERS, name=name)
        for name in members:
            if name not in roster:
                sheet.add("talk-member-unknown", ln.row, MEMBERS, name=name)
            elif name in talkers:
                sheet.add("talk-self", ln.row, MEMBERS, name=name)
        masses = split_names(v[MASSES]) if not blank(v[MASSES]) else []
        form = sheet.choice(ln, FORM, defs.process.talks["forms"])
        _form(defs, sheet, ln, form, len(talkers), len(members) + len(masses))
        rows.append(([n for n in talkers if n in roster], [n for n in members if n in roster],
                     bool(masses)))
    _coverage(defs, people, Talks(rows), out)
    return True


def _form(defs, sheet, ln, form, talkers, others):
    """一对一 is one with one, 一对多 one with several, 多对多 several talkers (with
    one or several: the seed has no 多对一)."""
    forms = defs.process.talks["forms"]
    if not form or not talkers or not others:
        return
    fits = {forms[0]: talkers == 1 and others == 1,
            forms[1]: talkers == 1 and others > 1,
            forms[2]: talkers > 1}
    if not fits.get(form, True):
        sheet.add("talk-form-mismatch", ln.row, FORM, form=form, talkers=talkers, others=others)


def _coverage(defs, people, talks, out):
    """R18: every missing must (error) and should (warning), on the 谈心情况表 cell."""
    p, names = defs.process, people.names
    col = {n: 1 + k for k, n in enumerate(names)}
    masses_col, total_col = 1 + len(names), 2 + len(names)
    reported = set()

    def cell(who, whom_col):
        return L.a1(L.MATRIX_FIRST_ROW + names.index(who), whom_col)

    def need(code, rule, a, b):
        key = frozenset((a, b))
        if a == b or key in reported or talks.between(a, b):
            return
        reported.add(key)
        out.append(finding(code, L.TALK_MATRIX, cell(a, col[b]), rule=RULES[rule], who=a,
                           whom=b))

    secretaries = people.having(p.secretary)
    for s in secretaries:
        for m in people.having(p.leader):
            need("talk-must-missing", 0, s, m)
        for m in people.flagged:
            need("talk-must-missing", 1, s, m)
    for head in people.having(p.head):
        boss = people.supervisor.get(head)
        if boss in col:
            need("talk-must-missing", 2, boss, head)
    for b in people.having(p.branch_secretary):
        for m in names:
            need("talk-should-missing", 3, b, m)
    for m in names:
        if people.roles.get(m):
            continue  # “普通党员”: no role
        if not talks.with_members(m):
            out.append(finding("talk-should-missing", L.TALK_MATRIX, cell(m, total_col),
                               rule=RULES[4], who=m, whom="其他党员"))
        if not talks.masses[m]:
            out.append(finding("talk-should-missing", L.TALK_MATRIX, cell(m, masses_col),
                               rule=RULES[4], who=m, whom=p.talks["masses_label"]))
