"""征求意见 (step 2): the register of opinions, its summary, and the feedback rule.

One row per opinion: date, channel, who gave it (附件6's categories), whom it
concerns (镇党委领导班子及成员, 机关和社区党组织 or a named member), content,
whether it is a personal attack, feedback. Opinions about a member are fed back
before step 7 begins, except personal attacks and venting, which never are.
"""

from xlsheets.workbook import layout as L
from xlsheets.core.dates import shown
from xlsheets.core.registers import Sheet, blank, empty, header
from xlsheets.core.roles import text

DATE, CHANNEL, CATEGORY, TARGET, CONTENT, ATTACK, FEEDBACK, FED_ON = L.OpinionCol


def targets(defs, names):
    """The rows of 征求意见汇总 and the 意见对象 drop-down: the collective targets, then members."""
    return [*defs.process.opinions["targets"], *names]


def summary(defs, names, lines):
    """征求意见汇总 as its COUNTIFS formulas show it.

    One row per target: [count per channel..., 合计, 已反馈, 不反馈], then the
    column sums. Values are compared as the formulas do, whole cell to whole cell.
    """
    o = defs.process.opinions
    lines = [ln for ln in lines if ln.row <= L.REGISTER_LAST_ROW]
    by_target = {}
    for ln in lines:
        by_target.setdefault(text(ln.values[TARGET]), []).append(ln)
    rows = []
    for t in targets(defs, names):
        mine = by_target.get(t, [])
        counts = [sum(text(ln.values[CHANNEL]) == ch for ln in mine) for ch in o["channels"]]
        rows.append(counts + [
            len(mine),
            sum(text(ln.values[FEEDBACK]) == o["feedback_done"] for ln in mine),
            sum(text(ln.values[ATTACK]) == o["attack_value"] for ln in mine),
        ])
    rows.append([sum(col) for col in zip(*rows)] if rows else [])
    return rows


def check(defs, grids, people, ranges, out, fixes):
    """The register's rows: complete, from the lists, and fed back as step 2 says."""
    o = defs.process.opinions
    if L.OPINIONS not in grids.sheets:
        return
    if not header(L.OPINIONS, grids.registers.get("opinions", []), L.OPINION_HEADERS, out):
        return
    sheet = Sheet(L.OPINIONS, L.OPINION_HEADERS, defs.year, out, fixes)
    lines = sheet.outside(grids.opinions, L.REGISTER_LAST_ROW)
    if not lines:
        empty(L.OPINIONS, "征求意见登记", "请把征求到的意见逐条登记:日期、征求方式、提出人类别、意见对象和意见内容。", out)
        return
    step = defs.process.opinions["feedback_before_step"] - 1
    deadline = ranges[step][0] if ranges[step] else None
    known = set(targets(defs, people.names))
    for ln in lines:
        v = ln.values
        missing = [c for c in (DATE, CHANNEL, CATEGORY, TARGET, CONTENT) if blank(v[c])]
        if missing:
            sheet.add("opinion-incomplete", ln.row, missing[0],
                      missing="、".join(L.OPINION_HEADERS[c] for c in missing))
        sheet.day(ln, DATE)
        sheet.choice(ln, CHANNEL, o["channels"])
        sheet.choice(ln, CATEGORY, defs.satisfaction["categories"])
        target = sheet.trimmed(ln, TARGET)
        if target and target not in known:
            sheet.add("opinion-target-unknown", ln.row, TARGET, value=target,
                      targets="、".join(f"“{t}”" for t in o["targets"]))
            target = ""
        attack = sheet.choice(ln, ATTACK, (o["attack_value"], "否")) == o["attack_value"]
        feedback = sheet.choice(ln, FEEDBACK, o["feedback"])
        fed_on = sheet.day(ln, FED_ON)
        if attack and feedback == o["feedback_done"]:
            sheet.add("opinion-attack-fed-back", ln.row, FEEDBACK, value=feedback,
                      withheld=o["feedback_withheld"])
        elif feedback == o["feedback_withheld"] and not attack and target in people.rows:
            sheet.add("opinion-withheld", ln.row, FEEDBACK, value=feedback)
        elif target in people.rows and not attack:
            when = dict(step=defs.steps[step].name,
                        deadline=shown(deadline) if deadline else "日期见工作日程表")
            if feedback != o["feedback_done"]:
                sheet.add("opinion-not-fed-back", ln.row, FEEDBACK, name=target, **when)
            elif fed_on and deadline and fed_on >= deadline:
                sheet.add("opinion-fed-back-late", ln.row, FED_ON, name=target,
                          date=shown(fed_on), **when)
