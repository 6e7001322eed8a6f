"""Validation of a branch workbook (R1-R4, R7, R9-R12 and its own integrity).

Pure: takes ``Grids`` and the definitions, returns findings and the clean
values the figures are computed from. Clerks' data never raises here; every
problem is a ``Finding`` on a cell.
"""

import dataclasses
import math
from operator import le
from dataclasses import dataclass, field

from xlsheets.core import counted as ranges, figures as F, grading, steps
from xlsheets.workbook import layout as L
from xlsheets.workbook.address import rc
from xlsheets.core.cells import category_cells, level_cells, register_values, total_formula
from xlsheets.core.findings import finding
from xlsheets.core.registers import header
from xlsheets.core.values import BAD, BLANK, TEXT_NUMBER, _tidy, read_number, show


@dataclass
class Checked:
    """The outcome of checking one workbook."""

    findings: list
    rows_by_group: dict  # group key -> [(name, scores)] in sheet order (numbers or None)
    entry_rows: dict  # group key -> [0-based rows], same order
    lookback: list  # [[numbers or None]]
    categories: list
    levels: list
    fixes: dict = field(default_factory=dict)  # {sheet: {A1: number or None}} text made number
    figures: object = None  # figures.Figures
    registers: object = None  # steps.Registers: the steps' registers
    repair: object = None  # Repair: names and formulas compute restores


def check(defs, unit, grids, expected_unit=None, counted=None, formulas=None):
    """Check ``grids`` against ``defs``; compute the figures from the clean values.

    ``counted`` (a ``wordcount.Counted``) gives the self-analysis lengths counted
    from the members' files, which then override the typed ones. ``formulas`` gives
    the builder's own formulas, to restore those a clerk's program lost:
    ``formulas(defs, unit, names, sheets)`` -> ``{sheet: {A1: (text, array ref or None)}}``
    (the file shell's ``canonical.formulas``); without it none is known, and a cleared
    formula is an error. The shells call ``examine.examine``, which always passes it.
    """
    known_formulas = _known(defs, unit, formulas)
    out = []
    fixes = {}
    _identity(defs, grids, expected_unit, out)
    _package(grids, out)
    missing = _sheets(defs, unit, grids, out)
    names = [n for _, n in grids.roster]
    _roster(grids, names, out, missing)
    registers = steps.check(defs, unit, grids, out, fixes, counted)
    rows_by_group, entry_rows, outside = {}, {}, set()
    repair = Repair()
    total_col = L.entry_total_col(defs.items)
    for g in defs.groups:
        sheet = L.entry_sheet(g)
        if sheet in missing:
            rows_by_group[g.key], entry_rows[g.key] = [], []
            continue
        header(sheet, grids.entry_headers.get(g.key, []), _entry_header(defs), out, row=0)
        typed = grids.entries.get(g.key, [])
        if grids.names is None:  # a shell without names: the table ends at its last formula
            end = max((er.row for er in typed if er.total_is_formula),
                      default=L.ENTRY_FIRST_ROW - 1)
            for er in typed:
                if er.row > end:  # below the table the 汇总 formulas cover
                    outside.add((sheet, er.row))
                    if _has_content(er.ballot, er.name, *er.scores):
                        out.append(finding("row-outside-table", sheet, L.a1(er.row, L.EntryCol.BALLOT)))
            typed = [er for er in typed if er.row <= end]
        else:
            roles = [L.entry_name(g, role) for role in L.ENTRY_NAME_ROLES]
            before = ranges.counted(grids.names, roles)
            first, last, rewrite = ranges.span_of(
                grids, sheet, roles, [er.row for er in typed], _typed_rows(typed),
                L.ENTRY_FIRST_ROW, out)
            if rewrite:
                repair.names.update(ranges.entry_names(defs, g, first, last))
            typed = [er for er in typed if first <= er.row <= last]
            for er in typed:
                if er.total_is_formula:
                    continue
                cell = L.a1(er.row, total_col)
                inside = before is not None and before[1] <= er.row <= before[2]
                if er.total in (None, "") or not inside:  # typed below: R3 judges the total
                    repair.restore(sheet, cell, total_formula(er.row, defs.items)[1:])
                    if er.total in (None, "") and inside:  # rows taken in: said above
                        repair.missing.setdefault(sheet, []).append(cell)
                    outside.add((sheet, er.row))
        rows_by_group[g.key], entry_rows[g.key] = _ballots(defs, sheet, typed, set(names), out, fixes)
    lookback = []
    if L.LOOKBACK_ENTRY not in missing:
        header(L.LOOKBACK_ENTRY, grids.lookback_header,
               [*L.LOOKBACK_FIXED_HEADERS, *(i.name for i in defs.lookback_items)], out, row=0)
        if grids.names is None:
            inside = []
            for lr in grids.lookback:
                if lr.row <= L.LOOKBACK_LAST_ROW:
                    inside.append(lr)
                elif _has_content(lr.ballot, *lr.values):
                    out.append(finding("row-outside-table", L.LOOKBACK_ENTRY,
                                       L.a1(lr.row, L.LookbackEntryCol.BALLOT)))
        else:
            n = len(defs.lookback_items)
            first, last, rewrite = ranges.span(
                grids, L.LOOKBACK_ENTRY, [L.lookback_name(k) for k in (None, *range(n))],
                [(lr.row, [lr.ballot, *lr.values]) for lr in grids.lookback],
                L.LOOKBACK_FIRST_ROW, out, L.LOOKBACK_LAST_ROW)
            if rewrite:
                repair.names.update(ranges.lookback_names(defs, first, last))
            inside = [lr for lr in grids.lookback if first <= lr.row <= last]
        lookback = _lookback(defs, inside, out, fixes)
    categories, levels = ([], []) if L.SATISFACTION in missing else _satisfaction(
        defs, grids, out, fixes)
    for sheet, cell, value in grids.overwritten:
        if (sheet, rc(cell)[0]) in outside:
            continue
        if value is None or value == "":
            known = known_formulas(names, sheet).get(cell)
            if known is None:
                out.append(finding("formula-cleared", sheet, cell))
            else:
                repair.restore(sheet, cell, *known)
                repair.missing.setdefault(sheet, []).append(cell)
        else:
            out.append(finding("formula-overwritten", sheet, cell, value=show(value)))
    for sheet, cell, target in grids.external_formulas:
        known = known_formulas(names, sheet).get(cell)
        if sheet in {L.entry_sheet(g) for g in defs.groups} and cell.startswith(
                L.col(total_col)) and cell[len(L.col(total_col)):].isdigit():
            known = (total_formula(int(cell[len(L.col(total_col)):]) - 1, defs.items)[1:], None)
        if known is None:
            repair.links_used = True  # a clerk's own formula: the external-link warning stays
            continue
        repair.restore(sheet, cell, *known)
        repair.external.setdefault(sheet, []).append((cell, target))
    if grids.external_formulas and not repair.links_used and not any(
            "[" in (text or "") for text in (grids.names or {}).values()):
        repair.drop_links = True  # nothing will read the other file once restored
    repair.report(out)

    figs = F.compute(defs, unit, names, rows_by_group, lookback, categories or None,
                     levels or None)
    figs = dataclasses.replace(figs, registers=register_values(
        defs, names, grids.opinions, grids.talks))
    if L.SUMMARY not in missing:
        _composites(defs, unit, figs, out, missing)
    if L.SUMMARY not in missing and grids.roster:
        figs = dataclasses.replace(figs, grading=grading.check(defs, unit, grids, figs.members,
                                                               out, fixes))
    return Checked(out, rows_by_group, entry_rows, lookback, categories, levels, fixes, figs,
                   registers, repair)


def _known(defs, unit, formulas):
    """``(names, sheet) -> {A1: (text, array)}``: the formulas ``formulas`` knows, or none.

    None are known while the roster itself is broken (a name cleared, typed twice or
    not text): its rows are findings of their own, and the builder cannot lay out a
    workbook for such a list."""
    if formulas is None:
        return lambda names, sheet: {}

    def known(names, sheet):
        if not all(isinstance(n, str) and n for n in names) or len(set(names)) < len(names):
            return {}
        return formulas(defs, unit, names, [sheet])[sheet]
    return known


@dataclass
class Repair:
    """What compute restores: the names of the counted rows, lost formulas."""

    names: dict = field(default_factory=dict)  # {defined name: range text}
    formulas: dict = field(default_factory=dict)  # {sheet: {A1: (text, array ref or None)}}
    missing: dict = field(default_factory=dict)  # {sheet: [A1]} formulas that were not there
    external: dict = field(default_factory=dict)  # {sheet: [(A1, target)]} pointing elsewhere
    links_used: bool = False  # some formula compute does not own reads another workbook
    drop_links: bool = False  # after the restores no formula reads one: drop the links

    def restore(self, sheet, cell, text, array=None):
        self.formulas.setdefault(sheet, {})[cell] = (text, array)

    def report(self, out):
        """One warning per sheet and kind, at its first cell, the rest counted."""
        for sheet, cells in self.missing.items():
            out.append(finding("formula-restored", sheet, cells[0], more=_more(cells)))
        for sheet, cells in self.external.items():
            out.append(finding("formula-external", sheet, cells[0][0], target=cells[0][1],
                               more=_more([c for c, _ in cells])))


def _more(cells):
    if len(cells) == 1:
        return ""
    return f",同类共 {len(cells)} 处({_listed(cells)})"


def _read(raw):
    """``read_number``, but NaN and infinities are not numbers: no cell can hold one,
    a damaged file can (``<v>NaN</v>``, a 400-digit text)."""
    kind, value = read_number(raw)
    if isinstance(value, float) and not math.isfinite(value):
        return BAD, None
    return kind, value


def _has_content(*values):
    return any(v not in (None, "") and not (isinstance(v, str) and not v.strip())
               for v in values)


def _entry_header(defs):
    return L.entry_headers(defs.items, defs.ballot["total_header"])


def _identity(defs, grids, expected_unit, out):
    ident = grids.identity
    cell = lambda key: L.a1(L.IDENTITY_FIRST_ROW + [k for k, _ in L.IDENTITY_KEYS].index(key), 1)
    if ident.get("set") != defs.id:
        out.append(finding("identity-set", L.INTRO, cell("set"), actual=ident.get("set"),
                           expected=defs.id))
    elif ident.get("version") != defs.version:
        out.append(finding("identity-version", L.INTRO, cell("version"),
                           actual=ident.get("version"), expected=defs.version))
    if expected_unit and ident.get("unit") != expected_unit:
        out.append(finding("identity-unit", L.INTRO, cell("unit"), actual=ident.get("unit"),
                           expected=expected_unit))


def _package(grids, out):
    """Macros and external links: one finding each, on the workbook (说明, no cell)."""
    if grids.macros:
        out.append(finding("vba-project", L.INTRO, "", parts=_listed(grids.macros)))
    if grids.external_links:
        out.append(finding("external-link", L.INTRO, "", targets=_listed(grids.external_links)))


def _listed(items, most=3):
    shown = "、".join(str(x) for x in items[:most])
    return shown if len(items) <= most else f"{shown} 等 {len(items)} 处"


def _sheets(defs, unit, grids, out):
    # 评定等次 absent is a warning of its own (grading-absent), not a missing sheet
    required = L.sheet_names(defs.groups, unit, graded=False)
    missing = [s for s in required if s not in grids.sheets]
    for s in missing:
        out.append(finding("sheet-missing", s, "", name=s))
    return set(missing)


def _roster(grids, names, out, missing):
    """汇总 and 附件4 list the roster's members, in its order (a missing sheet is its own
    finding: nothing is compared with it)."""
    if L.SUMMARY not in missing:
        for (row, name), (_, want) in zip(grids.summary, grids.roster):
            if name != want:
                out.append(finding("roster-mismatch", L.SUMMARY, L.a1(row, 1),
                                   actual=name or "", expected=want,
                                   row=names.index(want) + L.ROSTER_FIRST_ROW + 1))
    if L.OPINION_FORM not in missing:
        for (row, name), (_, want) in zip(grids.opinion, grids.roster):
            if name != want:
                out.append(finding("roster-mismatch", L.OPINION_FORM, L.a1(row, L.OPINION_FORM_NAME[1]),
                                   actual=name or "", expected=want,
                                   row=names.index(want) + L.ROSTER_FIRST_ROW + 1))
    if L.SUMMARY not in missing and len(grids.summary) != len(grids.roster):
        longer = len(grids.roster) > len(grids.summary)
        sheet, col = (L.ROSTER, L.RosterCol.NAME) if longer else (L.SUMMARY, 1)
        row, name = (grids.roster[len(grids.summary)] if longer
                     else grids.summary[len(grids.roster)])
        out.append(finding("roster-count-mismatch", sheet, L.a1(row, col), name=name or "",
                           where=sheet, summary=len(grids.summary), roster=len(grids.roster)))


def _typed_rows(entries):
    """The rows of ``entries`` (EntryRows) holding anything, as ``counted._typed`` tells
    of [ballot, name, *scores], without building that list for each row."""
    blank = (None, "")
    return [er.row for er in entries
            if er.ballot not in blank or er.name not in blank
            or er.scores.count(None) + er.scores.count("") < len(er.scores)]


def _name(raw):
    if raw is None:
        return None
    text = show(raw).strip()
    return text or None


_NUMBER_TYPES = (int, float)
_NUMBER_SET = set(_NUMBER_TYPES)


def _clean(er, scores, n, maxes):
    """Whether an entry row is full and clean: a number ballot, a trimmed name, every
    score a number within 0..max and the 合计 a formula, so no check has more to say.

    Built-ins over the row instead of a test per cell (``le`` fails on NaN, so ``min``
    then sees numbers only)."""
    name = er.name
    return (er.total_is_formula and type(er.ballot) in _NUMBER_TYPES and type(name) is str
            and name and name == name.strip() and len(scores) == n
            and set(map(type, scores)) <= _NUMBER_SET
            and all(map(le, scores, maxes)) and min(scores) >= 0)


def _ballots(defs, sheet, rows, roster, out, fixes):
    """R1-R4 on one entry sheet; returns ([(name, values)], [row]) for every row.

    Values are numbers (text that is clearly a number included), None for
    blanks, and the raw text of anything else, as the 合计 formula sees it.
    """
    items, total_col = defs.items, L.entry_total_col(defs.items)
    n, maxes = len(items), [item.max for item in items]
    kept, at, by_ballot, seen, shown = [], [], {}, {}, {}
    for er in rows:
        scores = er.scores
        if er.ballot is None and er.name is None and scores.count(None) == len(scores):
            kept.append((None, [None] * n))  # an unused spare row, fast
            at.append(er.row)
            continue
        if _clean(er, scores, n, maxes):  # the usual full row: nothing to say, fast
            ints = list(map(int, scores))
            name, ballot = er.name, er.ballot
            kept.append((name, ints if ints == scores else list(map(_tidy, scores))))
            at.append(er.row)
            key = shown.get(ballot)
            if key is None:
                key = shown[ballot] = show(ballot)
            by_ballot.setdefault(key, []).append((er, n))
            if name not in roster:
                out.append(finding("ballot-unknown-name", sheet, L.a1(er.row, L.EntryCol.NAME),
                                   name=name))
            if (key, name) in seen:
                out.append(finding("ballot-duplicate-name", sheet, L.a1(er.row, L.EntryCol.NAME),
                                   ballot=key, name=name, other=L.a1(seen[key, name], L.EntryCol.NAME)))
            else:
                seen[key, name] = er.row
            continue
        name = _name(er.name)
        if isinstance(er.name, str) and name and name != er.name:
            # The 汇总 formulas match names exactly: write the trimmed name back.
            out.append(finding("ballot-name-spaces", sheet, L.a1(er.row, L.EntryCol.NAME), raw=er.name,
                               name=name))
            fixes.setdefault(sheet, {})[L.a1(er.row, L.EntryCol.NAME)] = name
        numbers, blank, bad = [], [], False
        for k, (raw, item) in enumerate(zip(er.scores, items)):
            if type(raw) in (int, float) and 0 <= raw <= item.max:  # the usual case, fast
                numbers.append(int(raw) if raw == int(raw) else raw)
                continue
            cell = L.a1(er.row, L.EntryCol.FIRST_SCORE + k)
            kind, value = _read(raw)
            if kind == BLANK:
                blank.append(item.name)
                if isinstance(raw, str) and raw:
                    fixes.setdefault(sheet, {})[cell] = None
            elif kind == BAD:
                bad = True
                out.append(finding("score-not-number", sheet, cell, item=item.name,
                                   value=show(raw), max=item.max))
            else:
                if kind == TEXT_NUMBER:
                    out.append(finding("score-text-number", sheet, cell, item=item.name,
                                       value=raw, number=show(value)))
                    fixes.setdefault(sheet, {})[cell] = value
                if not 0 <= value <= item.max:
                    bad = True
                    out.append(finding("score-out-of-range", sheet, cell, item=item.name,
                                       value=show(value), max=item.max))
            # A bad value stays text, so the figures show 不完整 as the formula does.
            numbers.append((show(raw) if isinstance(raw, float) else raw) if kind == BAD else value)
        filled = len(items) - len(blank)
        kept.append((name, numbers))
        at.append(er.row)
        ballot = er.ballot if er.ballot not in ("", None) else None
        if ballot is None and name is None and not filled:
            continue  # an unused spare row
        if ballot is not None:
            by_ballot.setdefault(show(ballot), []).append((er, filled))
        if filled and name is None:
            out.append(finding("ballot-no-name", sheet, L.a1(er.row, L.EntryCol.NAME)))
        elif filled and name not in roster:
            out.append(finding("ballot-unknown-name", sheet, L.a1(er.row, L.EntryCol.NAME),
                               name=name))
        if filled and blank:
            first_blank = next(k for k, v in enumerate(er.scores) if _read(v)[0] == BLANK)
            out.append(finding("ballot-half-filled", sheet,
                               L.a1(er.row, L.EntryCol.FIRST_SCORE + first_blank),
                               ballot=show(ballot) if ballot is not None else "(无)",
                               name=name or "", missing="、".join(blank)))
        if filled and name is not None and ballot is not None:
            key = (show(ballot), name)
            if key in seen:
                out.append(finding("ballot-duplicate-name", sheet, L.a1(er.row, L.EntryCol.NAME),
                                   ballot=show(ballot), name=name,
                                   other=L.a1(seen[key], L.EntryCol.NAME)))
            else:
                seen[key] = er.row
        if not er.total_is_formula and filled == len(items) and not bad:
            kind, typed = _read(er.total)
            if kind != BLANK and typed != sum(numbers):  # R3
                out.append(finding("ballot-total-mismatch", sheet, L.a1(er.row, total_col),
                                   value=show(er.total), sum=show(sum(numbers))))
    for ballot, members in by_ballot.items():
        if not any(filled for _, filled in members):
            er = members[0][0]
            out.append(finding("ballot-empty", sheet, L.a1(er.row, L.EntryCol.BALLOT),
                               ballot=ballot))
        else:
            for er, filled in members:
                if not filled and _name(er.name):
                    out.append(finding("ballot-row-empty", sheet, L.a1(er.row, L.EntryCol.FIRST_SCORE),
                                       ballot=ballot, name=_name(er.name)))
    return kept, at


def _lookback(defs, rows, out, fixes):
    sheet, items, kept = L.LOOKBACK_ENTRY, defs.lookback_items, []
    for lr in rows:
        numbers, blank = [], []
        for k, (raw, item) in enumerate(zip(lr.values, items)):
            cell = L.a1(lr.row, L.LookbackEntryCol.FIRST_SCORE + k)
            kind, value = _read(raw)
            if kind == BAD:
                out.append(finding("lookback-not-number", sheet, cell, item=item.name,
                                   value=show(raw), max=item.max))
                value = None
            elif kind == TEXT_NUMBER:
                out.append(finding("lookback-text-number", sheet, cell, item=item.name,
                                   value=raw, number=show(value)))
                fixes.setdefault(sheet, {})[cell] = value
            elif kind == BLANK:
                blank.append(item.name)
                if isinstance(raw, str) and raw:
                    fixes.setdefault(sheet, {})[cell] = None
            if value is not None and not 0 <= value <= item.max:
                out.append(finding("lookback-out-of-range", sheet, cell, item=item.name,
                                   value=show(value), max=item.max))
            numbers.append(value)
        if len(blank) == len(items):
            continue
        if blank:
            out.append(finding("lookback-partial", sheet, L.a1(lr.row, L.LookbackEntryCol.BALLOT),
                               ballot=show(lr.ballot), missing="、".join(blank)))
        kept.append(numbers)
    if not kept:
        out.append(finding("lookback-empty", L.LOOKBACK_FORM,
                           L.a1(L.LOOKBACK_FORM_FIRST_ROW, L.LookbackFormCol.SCORE)))
    return kept


def _satisfaction(defs, grids, out, fixes):
    sheet, sat = L.SATISFACTION, defs.satisfaction

    def counts(raws, cells, labels):
        got = []
        for raw, cell, label in zip(raws, cells, labels):
            kind, value = _read(raw)
            if kind == TEXT_NUMBER:
                out.append(finding("satisfaction-text-number", sheet, cell, label=label,
                                   value=raw, number=show(value)))
                fixes.setdefault(sheet, {})[cell] = value
            if kind == BAD or (value is not None and (value < 0 or value != int(value))):
                out.append(finding("satisfaction-not-count", sheet, cell, label=label,
                                   value=show(raw)))
                value = None
            got.append(None if value is None else int(value))
        return got

    cats = counts(grids.categories, category_cells(defs), sat["categories"])
    levels = counts(grids.levels, level_cells(defs), sat["levels"])
    if all(v is None for v in cats + levels):
        out.append(finding("satisfaction-empty", sheet, category_cells(defs)[0]))
        return cats, levels
    total, answered = sum(v or 0 for v in cats), sum(v or 0 for v in levels)
    where = L.a1(L.SAT_CATEGORY_ROW, L.SatCol.TOTAL)
    if answered > total:
        out.append(finding("satisfaction-over-total", sheet, where, answered=answered,
                           total=total))
    elif answered < total:
        out.append(finding("satisfaction-under-total", sheet, where, answered=answered,
                           total=total, diff=total - answered))
    return cats, levels


def _composites(defs, unit, figs, out, missing):
    """R7: a member with no ballot in a group has no composite (or is re-weighted).

    A group whose entry sheet is missing (renamed, deleted) is that sheet's finding,
    not one per member asking to 补录 ballots that may well be there."""
    pairs, comp, _, _ = L.summary_columns(defs.groups)
    if any(L.entry_sheet(g) in missing for g in defs.groups):
        return
    for i, m in enumerate(figs.members):
        row = L.SUMMARY_FIRST_ROW + i
        absent = [(g, mc) for g, (_, mc) in zip(defs.groups, pairs) if m.means[g.key] == F.MISSING]
        if not absent or m.composite == F.INVALID:
            continue
        if m.reweighted:
            out.append(finding("composite-reweighted", L.SUMMARY, L.a1(row, comp), name=m.name,
                               groups="、".join(g.name for g, _ in absent)))
        else:
            for g, mc in absent:
                out.append(finding("composite-missing-group", L.SUMMARY, L.a1(row, mc),
                                   name=m.name, group=g.name))
