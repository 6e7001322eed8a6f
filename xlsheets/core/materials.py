"""党性分析材料 (step 4): length to the minimum (R16), exemptions, the review chain (R17).

Length counts every character that is not white space: typed in by the clerk,
or counted from the members' files (``wordcount``), which then wins. The
leadership's material needs 4000, a member's 2000. A member exempted with the
branch's approval gives an oral account that someone records instead.

The reviewer is the one step 4 names: the town secretary for the leadership's
material and its members'; a leadership member for the heads of the departments
he supervises; the branch head for the branch's members. The town secretary's
and the branch secretary's own materials go to someone other than themselves
(the plan names nobody). The reviewer signs; returned material is revised.
"""

import math
import unicodedata

from xlsheets.workbook import layout as L
from xlsheets.core.findings import finding
from xlsheets.core.registers import Sheet, blank, empty, header
from xlsheets.core.roles import leadership, text
from xlsheets.core.values import BAD, BLANK, NUMBER, TEXT_NUMBER, read_number, show

NAME, KIND, LENGTH, MINIMUM, EXEMPT, RECORDER, REVIEWER, REVIEW, REMARK = L.MaterialCol
TYPED = (LENGTH, EXEMPT, RECORDER, REVIEWER, REVIEW, REMARK)

RULES = (
    "镇党委负责人要审阅领导班子及成员的党性分析材料",
    "班子成员要审阅分管部门(科室)负责人的党性分析材料",
    "党支部负责人要审阅本支部党员的党性分析材料",
)


def reviewer(defs, people, name, leadership):
    """Who may review ``name``'s material: ``(names, rule)``; names None means anyone else.

    Returns ``([], rule)`` when the roster does not say who holds the role.
    """
    p = defs.process
    if leadership or (people.has(name, p.leader) and not people.has(name, p.secretary)):
        return people.having(p.secretary), RULES[0]
    if people.has(name, p.secretary):
        return None, None
    boss = people.supervisor.get(name)
    if people.has(name, p.head) and boss:
        return [boss], RULES[1]
    if people.has(name, p.branch_secretary):
        return None, None
    return [n for n in people.having(p.branch_secretary) if n != name], RULES[2]


def check(defs, unit, grids, people, out, fixes, counted=None):
    """The register's rows; ``counted`` (a ``wordcount.Counted``) overrides typed lengths.

    Returns whether the register is started.
    """
    m, p = defs.process.materials, defs.process
    if L.MATERIALS not in grids.sheets:
        return False
    if not header(L.MATERIALS, grids.registers.get("materials", []), L.MATERIAL_HEADERS, out):
        return False
    sheet = Sheet(L.MATERIALS, L.MATERIAL_HEADERS, defs.year, out, fixes)
    counts = dict(counted.counts) if counted else {}
    _folder(counted, out)
    lines = [ln for ln in grids.materials if text(ln.values[NAME])]
    started = counts or any(not blank(ln.values[c]) for ln in lines for c in TYPED)
    if not started:
        empty(L.MATERIALS, "党性分析材料登记", "请登记每份党性分析材料的字数、审阅人和审阅意见。", out,
              L.a1(L.REGISTER_FIRST_ROW, LENGTH))
        return False
    if leadership(defs, people) and not any(text(ln.values[NAME]) == m["leadership"]
                                            for ln in lines):
        out.append(finding("role-after-build", L.MATERIALS, L.a1(L.REGISTER_FIRST_ROW, NAME),
                           who="班子成员", what=f"“{m['leadership']}”"))
    for ln in lines:
        v, name = ln.values, text(ln.values[NAME])
        collective = name == m["leadership"]
        exempt = sheet.choice(ln, EXEMPT, (m["exempt_value"], "否")) == m["exempt_value"]
        if exempt:
            role = m["leadership"] if collective else next(
                (r for r in (p.secretary, p.leader, p.head) if people.has(name, r)), None)
            if role is None and not any(w in unit.name for w in m["exempt_units"]):
                role = f"{unit.name}的党员"
            if role:
                sheet.add("material-exempt-not-allowed", ln.row, EXEMPT, name=name, role=role)
            if blank(v[RECORDER]):
                sheet.add("material-exempt-no-record", ln.row, RECORDER, name=name)
            continue
        length, bad = _length(sheet, ln, counts.get(name))
        minimum = m["leadership_minimum"] if collective else m["member_minimum"]
        if length is None and not bad:
            sheet.add("material-length-missing", ln.row, LENGTH, name=name)
        elif length is not None and length < minimum:
            sheet.add("material-too-short", ln.row, LENGTH, name=name, count=length,
                      minimum=minimum, kind="领导班子" if collective else "每个党员")
        _review(defs, sheet, ln, people, name, collective)
    return True


def _length(sheet, ln, counted):
    """The material's length: the file's count when there is one, else the typed number.

    Returns ``(length or None, typed but not a length)``.
    """
    raw, cell = ln.values[LENGTH], L.a1(ln.row, LENGTH)
    kind, value = _typed_length(raw)
    if counted is not None:
        count, filename = counted
        if kind != BLANK and value != count:
            sheet.add("material-counted", ln.row, LENGTH, file=filename, count=count,
                      typed=show(raw))
        if value != count or kind != NUMBER:
            sheet.fixes.setdefault(sheet.name, {})[cell] = count
        return count, False
    if kind == BLANK:
        return None, False
    if kind == BAD:
        sheet.add("material-length-bad", ln.row, LENGTH, value=show(raw))
        return None, True
    if kind == TEXT_NUMBER:
        sheet.fixes.setdefault(sheet.name, {})[cell] = value
    return value, False


def _typed_length(raw):
    """``read_number`` for a count of characters: “2100字” and “2,100” are 2100; a
    count is a whole number >= 0 (and finite: a 400-digit text is no count)."""
    if isinstance(raw, str):
        raw = unicodedata.normalize("NFKC", raw).strip().removesuffix("字").replace(",", "")
    kind, value = read_number(raw)
    if kind in (NUMBER, TEXT_NUMBER) and (not math.isfinite(value) or value < 0
                                          or value != int(value)):
        return BAD, None
    return kind, (int(value) if value is not None else None)


def _review(defs, sheet, ln, people, name, leadership):
    """R17: the named reviewer, who has signed."""
    m = defs.process.materials
    who = text(ln.values[REVIEWER])
    allowed, rule = reviewer(defs, people, name, leadership)
    expected = _expected(defs, allowed)
    if not who:
        sheet.add("material-reviewer-missing", ln.row, REVIEWER, name=name, expected=expected)
    elif who == name:
        sheet.add("material-self-review", ln.row, REVIEWER, name=name)
    elif allowed and who not in allowed:
        sheet.add("material-reviewer-wrong", ln.row, REVIEWER, name=name, actual=who,
                  expected=expected, rule=rule)
    result = sheet.choice(ln, REVIEW, m["reviewed"])
    if who and not result:
        sheet.add("material-not-signed", ln.row, REVIEW, name=name)
    elif result and result != m["signed"]:
        sheet.add("material-returned", ln.row, REVIEW, name=name)


def _expected(defs, allowed):
    if allowed is None:
        return "本人以外的负责同志"
    if not allowed:
        return "名册中标明的负责人"
    return "或".join(f"“{n}”" for n in allowed)


def _folder(counted, out):
    """What a materials folder held that counted for nobody."""
    if not counted:
        return
    for name in counted.unmatched:
        out.append(finding("material-file-unmatched", L.MATERIALS, "", file=name))
    for name, reason in counted.failed:
        out.append(finding("material-file-failed", L.MATERIALS, "", file=name, reason=reason))
    for name, files in counted.duplicates:
        out.append(finding("material-file-duplicate", L.MATERIALS, "", name=name,
                           files="、".join(files)))
