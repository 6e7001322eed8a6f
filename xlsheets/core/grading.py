"""评定等次: the branch committee's grades, and the ballots accounted for.

Not in the seed: step 6 has the 支委会 decide each member's 评议意见 and names no
grades. Current practice (``definitions.Grading``, an option the set turns on)
makes the decision a grade; the votes are a reference, never the verdict, so a
grade far from them asks for a reason and is never refused. Pure: ``figures``
gives what 评定等次's formulas show, ``check`` the findings on ``Grids``.
"""

import dataclasses
from dataclasses import dataclass
from fractions import Fraction

from xlsheets.workbook import layout as L
from xlsheets.core.findings import finding
from xlsheets.core.registers import Sheet, blank, header
from xlsheets.core.roles import text
from xlsheets.core.values import BAD, BLANK, read_number, show


@dataclass(frozen=True)
class GradingFigures:
    """What 评定等次's counts and the entry sheets' 已录入 cells show."""

    grades: tuple  # per member, roster order: the 评定等次 cell as typed ('' for blank)
    counts: dict  # grade -> members with exactly that text (COUNTIF)
    graded: int  # the counts' sum
    members: int  # 党员人数: the shares' denominator
    limit: int  # the most 优秀 the share allows: floor(members x share)
    typed: dict  # group key -> ballots typed: the most ballots any member has in 汇总
    accounts: dict = None  # group key -> (发出, 收回) as whole numbers or None, once checked

    def share(self, count):
        """A count's share of the members, in percent (R12: the denominator is members)."""
        return Fraction(count * 100, self.members) if self.members else None


def grade_cell(raw):
    """A 评定等次 cell as its formulas see it: the text as typed, '' for blank."""
    if raw is None:
        return ""
    return raw if isinstance(raw, str) else show(raw)


def figures(defs, unit, member_figures, grades):
    """The counts of 评定等次 and the ballots typed, from the cells as typed.

    Args:
        member_figures: ``figures.MemberFigures`` in roster order (汇总's rows).
        grades: the 评定等次 cell of each member, raw, in the same order.
    """
    g = defs.grading
    cells = tuple(grade_cell(v) for v in grades)
    counts = {grade: sum(1 for c in cells if c == grade) for grade in g.grades}
    members = len(member_figures)
    typed = {grp.key: max((m.counts[grp.key] for m in member_figures), default=0)
             for grp in defs.groups}
    return GradingFigures(cells, counts, sum(counts.values()), members,
                          g.excellent_limit(members, unit), typed)


def check(defs, unit, grids, member_figures, out, fixes):
    """R-grading on ``grids``: findings into ``out``; the figures, or None without the sheet."""
    g = defs.grading
    if g is None:
        return None
    if L.GRADES not in grids.sheets:
        out.append(finding("grading-absent", L.INTRO, ""))
        return None
    lines = list(grids.grades)
    figs = figures(defs, unit, member_figures, [ln.values[L.GRADE] for ln in lines])
    if header(L.GRADES, grids.registers.get("grades", []), L.GRADE_HEADERS, out):
        _grades(defs, unit, grids, lines, member_figures, figs, out, fixes)
    return dataclasses.replace(figs, accounts=_ballots(defs, grids, figs, out, fixes))


def _share_text(share):
    return f"{share.numerator}/{share.denominator}"


def _grades(defs, unit, grids, lines, member_figures, figs, out, fixes):
    g = defs.grading
    sheet = Sheet(L.GRADES, L.GRADE_HEADERS, defs.year, out, fixes)
    started = any(not blank(ln.values[L.GRADE]) for ln in lines)
    ranked = sum(1 for m in member_figures if m.rank is not None)
    far = g.far_share
    for ln, (_, want), m in zip(lines, grids.roster, member_figures):
        name = text(ln.values[L.GRADE_NAME])
        if name != want:
            out.append(finding("roster-mismatch", L.GRADES, L.a1(ln.row, L.GRADE_NAME),
                               actual=name or "", expected=want,
                               row=[n for _, n in grids.roster].index(want) + 2))
        grade = sheet.choice(ln, L.GRADE, g.grades)
        if not grade:
            if started and blank(ln.values[L.GRADE]):
                sheet.add("grade-missing", ln.row, L.GRADE, name=want, grades="、".join(g.grades))
            continue
        no_reason = blank(ln.values[L.GRADE_REASON])
        if grade in g.reason_required and no_reason:
            sheet.add("grade-reason-missing", ln.row, L.GRADE_REASON, name=want, grade=grade)
        elif no_reason and m.rank is not None and ranked:
            # bottom: rank beyond (1 - far) of the ranked; top: rank within far of them
            bottom = m.rank * far.denominator > ranked * (far.denominator - far.numerator)
            top = m.rank * far.denominator <= ranked * far.numerator
            where = ("后" if grade in g.high and bottom else
                     "前" if grade in g.low and top else None)
            if where:
                sheet.add("grade-against-votes", ln.row, L.GRADE, name=want, rank=m.rank,
                          ranked=ranked, where=where, share=_share_text(far), grade=grade)
        if grade == g.failing and blank(ln.values[L.GRADE_GROUNDS]):
            sheet.add("grade-grounds-missing", ln.row, L.GRADE_GROUNDS, name=want, grade=grade)
        if grade in g.approval_required:
            day = sheet.day(ln, L.GRADE_APPROVED)
            who = sheet.trimmed(ln, L.GRADE_APPROVER)
            missing = [(c, L.GRADE_HEADERS[c]) for c, v in ((L.GRADE_APPROVED, day),
                                                           (L.GRADE_APPROVER, who))
                       if blank(ln.values[c])]
            if missing:
                sheet.add("grade-approval-missing", ln.row, missing[0][0], name=want,
                          grade=grade, missing="和".join(f"“{h}”" for _, h in missing))
    count = figs.counts.get(g.excellent, 0)
    if count > figs.limit:
        _, per, _, _, _ = L.grade_count_rows(g.grades, len(lines))
        out.append(finding("grade-excellent-over", L.GRADES,
                           L.a1(per[g.grades.index(g.excellent)], 1), grade=g.excellent,
                           count=count, members=figs.members, limit=figs.limit,
                           share=_share_text(g.share_of(unit))))


def _count(raw, sheet, cell, label, out, fixes):
    """A typed number of ballots: a whole number >= 0, or None (blank or bad: a finding)."""
    kind, value = read_number(raw)
    if kind == BLANK:
        return None
    if kind == BAD or value < 0 or value != int(value):
        out.append(finding("ballots-count-bad", sheet, cell, label=label, value=show(raw)))
        return None
    if isinstance(raw, str):
        fixes.setdefault(sheet, {})[cell] = int(value)
    return int(value)


def _ballots(defs, grids, figs, out, fixes):
    """Per rater group: ballots issued, returned and typed; 党员互评's participation.

    A group is judged once its 发出 or 收回 is typed (the accounting has started)."""
    g = defs.grading
    issued_l, returned_l, _ = L.ACCOUNT_LABELS
    accounts = {}
    for grp in defs.groups:
        sheet = L.entry_sheet(grp)
        if sheet not in grids.sheets:
            continue
        raw = grids.ballot_accounts.get(grp.key, (None, None))
        cell = [L.a1(*L.account_cell(defs.items, k)) for k in range(3)]
        issued = _count(raw[0], sheet, cell[0], issued_l, out, fixes)
        returned = _count(raw[1], sheet, cell[1], returned_l, out, fixes)
        accounts[grp.key] = (issued, returned)
        if issued is None and returned is None:
            continue  # not accounted for yet: as a register not started, nothing to judge
        typed = figs.typed.get(grp.key, 0)
        if any(f.code == "ballot-duplicate-name" and f.sheet == sheet for f in out):
            typed = 0  # a member twice on one ballot inflates the count: that finding first
        name = grp.name
        if issued is not None and returned is not None and returned > issued:
            out.append(finding("ballots-returned-over-issued", sheet, cell[1], group=name,
                               returned=returned, issued=issued))
        if issued is not None and typed > issued:
            out.append(finding("ballots-typed-over-issued", sheet, cell[2], group=name,
                               typed=typed, issued=issued))
        elif returned is not None and typed > returned:
            out.append(finding("ballots-typed-over-returned", sheet, cell[2], group=name,
                               typed=typed, returned=returned))
        if grp.key != g.participation_group:
            continue
        members = figs.members
        taking = returned if returned is not None else typed
        what, where = (("收回", cell[1]) if returned is not None else ("已录入", cell[2]))
        most = max(typed, returned or 0)
        if most > members:
            out.append(finding("ballots-over-members", sheet, cell[2 if typed == most else 1],
                               group=name, count=most, what="已录入" if typed == most else "收回",
                               members=members))
        elif taking and taking * g.participation_share.denominator <= (
                members * g.participation_share.numerator):
            out.append(finding("participation-low", sheet, where, group=name, count=taking,
                               what=what, members=members,
                               share=_share_text(g.participation_share)))
    return accounts


def member_grades(figs):
    """Each member's grade for reports: the cell's text, None for blank."""
    return [c or None for c in figs.grades] if figs is not None else None

