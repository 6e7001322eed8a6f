"""Import a survey download into a group's entry sheet, one ballot per respondent.

The same rules as compute: the workbook is read and checked under its lock, the
ballots are added to the checked values in memory, the whole workbook is checked
again with them (so every rule of a typed ballot applies to an imported one), and
the cells are patched in place by ``ooxml.write_patched`` into a temporary file
that replaces the workbook atomically. Rows beyond the counted names are taken in
the way compute takes in typed ones: the names are widened, the 合计 formulas
written. Nothing of a respondent but the scores reaches the workbook: the answer
number and times are read only into salted hashes (``record.py``), the other
columns of the download are never read.

``--group 回头看`` writes rows of 回头看录入 the same way; ``--group 附件6``
(``import_satisfaction``) adds each answer to one participant category and one
satisfaction level of 附件6.
"""

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from xlsheets.disk import crypto
from xlsheets.files import canonical
from xlsheets.workbook import layout as L
from xlsheets.core.cells import position_values
from xlsheets.core.checks import check
from xlsheets.files.compute import _changed, _validate, figure_updates, held, validate_file
from xlsheets.errors import UsageError, XlsheetsError
from xlsheets.disk.fileio import atomic_output, refuse_if_open, target_of
from xlsheets.core.findings import finding, has_errors
from xlsheets.workbook.grids import EntryRow
from xlsheets.ooxml import write_patched
from xlsheets.core.values import BAD, BLANK, read_number, show
from xlsheets.online import record as R
from xlsheets.online.download import DownloadError, read_download
from xlsheets.online.headers import MappingError, place, place_items, read_mapping

SKIPPED_TEXTS = {"(跳过)", "(空)", "跳过", "(跳过)", "(空)", "-2", "-3", "−2", "−3"}
SKIPPED_CODES = (-2, -3)  # 问卷星's option codes: skipped, hidden by the survey's logic


class ImportRefused(XlsheetsError):
    """Answers that would be errors at the imported cells: nothing written.

    ``findings`` are those errors (each with its finding code and cell), where the
    refusal comes from them."""

    def __init__(self, message, code=None, findings=()):
        super().__init__(message, code=code)
        self.findings = list(findings)


@dataclass
class Respondent:
    row: int  # the row in the download
    key: str  # what identifies the answer within the download (hashed, never written)
    scores: dict  # member -> [value per item]: number, text as given, or None (skipped)
    sources: dict = field(default_factory=dict)  # (member, k) -> header


@dataclass
class Imported:
    """What one import did."""

    path: str
    download: str
    group: str
    ballots: list  # ballot numbers written
    duplicates: int  # answers imported before, left out
    empty: list  # download rows without any score, left out
    findings: list  # the workbook's findings after the import (validate's), import's own first
    notes: list  # what the clerk should know about the download
    written: bool = False

    @property
    def ok(self):
        return not has_errors(self.findings)


LOOKBACK_NAMES = ("回头看", L.LOOKBACK_ENTRY, "附件5", "lookback")
SATISFACTION_NAMES = ("附件6", "满意度", L.SATISFACTION, "satisfaction")


@dataclass(frozen=True)
class Lookback:
    """The 回头看 群众测评表 as an import target (its ballots rate items, not members)."""

    key: str = "lookback"
    name: str = L.LOOKBACK_ENTRY


@dataclass(frozen=True)
class Satisfaction:
    """附件6 满意度测评: each answer adds one to its category and to its level."""

    key: str = "satisfaction"
    name: str = L.SATISFACTION


def find_group(defs, name):
    """The rater group called ``name`` (or its key), ``Lookback()`` for 回头看,
    ``Satisfaction()`` for 附件6."""
    name = (name or "").strip()
    if name in LOOKBACK_NAMES:
        return Lookback()
    if name in SATISFACTION_NAMES:
        return Satisfaction()
    group = next((g for g in defs.groups if name in (g.name, g.key)), None)
    if group is None:
        raise UsageError(f"没有测评层次“{name}”;可选:{'、'.join(g.name for g in defs.groups)}"
                         "、回头看、附件6")
    return group


def import_file(path, download, defs, group_name, mapping=None, dry_run=False,
                keep_errors=False, password=None):
    """Import ``download`` into the entry sheet of ``group_name`` in workbook ``path``.

    An encrypted workbook (``password``) is read from a private plain copy and
    written back encrypted with the same password, as compute does.
    """
    group = find_group(defs, group_name)
    if isinstance(group, Satisfaction):
        return import_satisfaction(path, download, defs, dry_run, keep_errors, password)
    lookback = isinstance(group, Lookback)
    items = [i.name for i in (defs.lookback_items if lookback else defs.items)]
    with held(path, password) as (source, encrypted, snapshot):
        outcome, grids = _validate(source, defs, None)
        sheet = L.LOOKBACK_ENTRY if lookback else L.entry_sheet(group)
        if sheet not in grids.sheets:
            raise XlsheetsError(f"{path}:缺少工作表“{sheet}”,无法导入。请把工作表名称改回“{sheet}”。",
                                code="import-sheet-missing")
        members = [None] if lookback else [n for _, n in grids.roster]
        mapped = read_mapping(mapping, members, items, lookback) if mapping else None
        table, placement = _choose(read_download(download), members, items, mapped, lookback)
        respondents, empty = _respondents(table, placement, len(items), members)
        rec = R.read(source)
        salt = rec.salt or R.new_salt()
        fresh, seen, duplicates = [], set(rec.hashes), 0
        for r in respondents:
            h = R.digest(salt, group.key, r.key)
            if h in seen:
                duplicates += 1
                continue
            seen.add(h)
            fresh.append((R.order(salt, r.key), h, r))
        fresh.sort(key=lambda t: t[0])  # ballot order is not submission order
        notes = _notes(table, placement, duplicates, empty)
        result = Imported(str(path), str(download), group.name, [], duplicates, empty, [], notes)
        if not fresh:
            result.findings = outcome.findings
            return result
        own, updates, cells_from, numbers = (_place_lookback if lookback else _place_ballots)(
            defs, grids, group, members, [r for _, _, r in fresh], placement)
        checked = check(defs, outcome.unit, grids, formulas=canonical.formulas)
        errors = [f for f in checked.findings if f.is_error and (f.sheet, f.cell) in cells_from]
        if errors and not keep_errors:
            raise ImportRefused(_refusal(download, errors, cells_from), code="import-errors",
                                findings=errors)
        result.ballots = numbers
        if dry_run:  # what the write would fix itself (names widened, 合计 written) is not said
            result.findings = own + [f for f in checked.findings if f.code != "stamp-stale" and not (
                f.sheet == sheet and f.code in ("row-outside-range", "formula-restored"))]
            return result
        refuse_if_open(target_of(path))
        for s, cells in figure_updates(defs, checked, outcome.current).items():
            updates.setdefault(s, {}).update(cells)
        rec.salt = salt
        rec.hashes |= {h for _, h, _ in fresh}
        rec.log.append((group.name, len(fresh), f"{numbers[0]}–{numbers[-1]}"))
        _write(path, source, encrypted, password, updates, rec, checked, snapshot)
        result.written = True
    after = validate_file(path, defs, password=password)[0].findings
    result.findings = own + after
    return result


CODED_NAMES = ("all_data_original", "按序号")


def import_satisfaction(path, download, defs, dry_run=False, keep_errors=False, password=None):
    """附件6: count each new answer into its participant category and its level.

    The counts typed or imported before stay and the new ones are added; the same
    answers are recognised by their salted hashes, as for ballots."""
    from xlsheets.core.cells import category_cells, level_cells
    from xlsheets.online.headers import norm, place_choices

    group = Satisfaction()
    sat = defs.satisfaction
    kinds = {"参加测评人员类别": sat["categories"], "测评档次": sat["levels"]}
    with held(path, password) as (source, encrypted, snapshot):
        outcome, grids = _validate(source, defs, None)
        if L.SATISFACTION not in grids.sheets:
            raise XlsheetsError(f"{path}:缺少工作表“{L.SATISFACTION}”,无法导入。",
                                code="import-sheet-missing")
        tables = [t for t in read_download(download) if t.header and t.rows]
        _refuse_coded(tables)
        if not tables:
            raise DownloadError(download, "没有任何答卷。", code="download-empty")
        placed, last_error = None, None
        for t in tables:
            try:
                placed = (t, *place_choices(t, kinds))
                break
            except MappingError as e:
                last_error = e
        if placed is None:
            raise last_error
        table, found, number, times = placed
        rec = R.read(source)
        salt = rec.salt or R.new_salt()
        seen, fresh, duplicates, empty = set(rec.hashes), [], 0, []
        for row, values in table.rows:
            picked = {}
            for kind, options in kinds.items():
                v = values[found[kind]] if found[kind] < len(values) else None
                picked[kind] = next((k for k, o in enumerate(options) if norm(o) == norm(v)), None)
            if all(k is None for k in picked.values()):
                empty.append(row)
                continue
            key = "\x1f".join([show(values[number]) if number is not None else str(row),
                                *(_time_text(values[i]) for i in times
                                  if i < len(values) and values[i] not in (None, ""))])
            if not times:
                key += "\x1f" + "\x1f".join(str(picked[k]) for k in kinds)
            h = R.digest(salt, group.key, key)
            if h in seen:
                duplicates += 1
                continue
            seen.add(h)
            fresh.append((h, picked))
        notes = [n for n in _notes(table, R_EMPTY_PLACEMENT, duplicates, empty)]
        result = Imported(str(path), str(download), group.name, [], duplicates, empty, [], notes)
        if not fresh:
            result.findings = outcome.findings
            return result
        cells = {}
        for kind, raws, addrs in (("参加测评人员类别", grids.categories, category_cells(defs)),
                                  ("测评档次", grids.levels, level_cells(defs))):
            new = list(raws)
            for k, (raw, a) in enumerate(zip(raws, addrs)):
                add = sum(1 for _, p in fresh if p[kind] == k)
                if not add:
                    continue
                kind_, have = read_number(raw)
                if kind_ == BAD or (have is not None and (have < 0 or have != int(have))):
                    raise ImportRefused(f"{L.SATISFACTION}!{a} 现为“{show(raw)}”,不是人数,无法把网上答卷"
                                        "加进去。请先改正这个单元格,再导入。",
                                        code="import-cell-not-count")
                new[k] = int(have or 0) + add
                cells[a] = new[k]
            if kind == "参加测评人员类别":
                grids.categories = new
            else:
                grids.levels = new
        checked = check(defs, outcome.unit, grids, formulas=canonical.formulas)
        where = {L.a1(L.SAT_CATEGORY_ROW, L.SatCol.TOTAL)} | set(category_cells(defs)) | set(level_cells(defs))
        errors = [f for f in checked.findings if f.is_error and f.sheet == L.SATISFACTION
                  and f.cell in where]
        if errors and not keep_errors:
            raise ImportRefused(f"下载文件 {download}:导入后附件6 会有错误,未写入任何内容:\n  "
                                + "\n  ".join(f"{f.sheet}!{f.cell}:{f.message}" for f in errors)
                                + "\n(如有答卷只选了测评档次、没有选人员类别,请核对后加 --keep-errors 导入。)",
                                code="import-satisfaction-errors", findings=errors)
        result.ballots = list(range(1, len(fresh) + 1))
        if dry_run:
            result.findings = [f for f in checked.findings if f.code != "stamp-stale"]
            return result
        refuse_if_open(target_of(path))
        updates = {L.SATISFACTION: cells}
        values = position_values(defs, checked.figures, checked.entry_rows)
        for s_, c_ in _changed(values, outcome.current).items():
            updates.setdefault(s_, {}).update(c_)
        rec.salt = salt
        rec.hashes |= {h for h, _ in fresh}
        rec.log.append((group.name, len(fresh), ""))
        _write(path, source, encrypted, password, updates, rec, checked, snapshot)
        result.written = True
    result.findings = validate_file(path, defs, password=password)[0].findings
    return result


def _write(path, source, encrypted, password, updates, rec, checked, snapshot):
    with atomic_output(path) as tmp:
        if encrypted:  # patch the private plain copy, then encrypt into place
            plain = Path(source).with_suffix(".imported.xlsx")
            write_patched(source, plain, updates, {R.SHEET: R.sheet_xml(rec)},
                          checked.repair.names, drop_links=checked.repair.drop_links)
            Path(tmp).write_bytes(crypto.encrypt_bytes(plain.read_bytes(), password, path))
        else:
            write_patched(source, tmp, updates, {R.SHEET: R.sheet_xml(rec)},
                          checked.repair.names, drop_links=checked.repair.drop_links)


def _refuse_coded(tables):
    for t in tables:
        if any(n in t.source.casefold() for n in CODED_NAMES):
            raise DownloadError(t.source, "这是“按序号”下载的答卷(All_Data_Original),其中是选项的序号而不是"
                                          "分数或选项文字。请在问卷星中选择“按选项文本”下载(All_Data_Readable)后再导入。",
                                code="download-option-numbers")


def _choose(tables, members, items, mapping, lookback=False):
    """The one table whose columns can be placed (a 腾讯问卷 zip may hold several CSVs).

    A download of option numbers (问卷星's 按序号, ``All_Data_Original``) is refused:
    option 1 of a “0分 … 10分” question is 0 points, so its numbers are no scores."""
    _refuse_coded(tables)
    placed, errors = [], []
    for t in tables:
        if not t.header or not t.rows:
            continue
        try:
            placed.append((t, place_items(t, items, mapping) if lookback
                           else place(t, members, items, mapping)))
        except MappingError as e:
            errors.append(e)
    if len(placed) == 1:
        return placed[0]
    if len(placed) > 1:
        raise DownloadError(placed[0][0].source.split("!")[0],
                            "含有多个答卷表(" + "、".join(t.source for t, _ in placed)
                            + "),无法确定导入哪一个。请只保留一个答卷文件再导入。",
                            code="download-several-tables")
    if errors:
        raise errors[0]
    raise DownloadError(tables[0].source if tables else "", "没有任何答卷。", code="download-empty")


def score_value(raw):
    """An answer as a score: a number, None (skipped, hidden, blank), or the text as given."""
    if raw is None or isinstance(raw, bool):
        return None if raw is None else show(raw)
    if isinstance(raw, (int, float)):
        if raw in SKIPPED_CODES:
            return None
        return int(raw) if float(raw).is_integer() else raw
    if not isinstance(raw, str):  # a date or time where a score should be
        return str(raw)
    text = raw.strip()
    if not text or text.replace(" ", "") in SKIPPED_TEXTS:
        return None
    kind, value = read_number(text)
    if kind not in (BAD, BLANK):
        return value
    m = re.match(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*分", text)  # an option text such as “8分(较好)”
    if m:
        v = float(m[1])
        return int(v) if v.is_integer() else v
    return text


def _respondents(table, placement, n, members):
    out, empty = [], []
    for row, values in table.rows:
        scores = {m: [None] * n for m in members}
        sources = {}
        for index, (member, k) in placement.answers.items():
            raw = values[index] if index < len(values) else None
            scores[member][k] = score_value(raw)
            sources[(member, k)] = table.header[index]
        if all(v is None for vs in scores.values() for v in vs):
            empty.append(row)
            continue
        number = values[placement.number] if placement.number is not None else row
        times = [_time_text(values[i]) for i in placement.times
                 if i < len(values) and values[i] not in (None, "")]
        key = "\x1f".join([show(number), *times])
        if not times:  # no time to tell two downloads' answer 1 apart: the answers do
            key += "\x1f" + "\x1f".join(show(v) for m in members for v in scores[m])
        out.append(Respondent(row, key, scores, sources))
    return out, empty


_TIME = re.compile(r"^\s*(\d{4})\s*[-/年.]\s*(\d{1,2})\s*[-/月.]\s*(\d{1,2})\s*日?"
                   r"(?:[\sT]*(\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2}(?:\.\d+)?))?)?")


def _time_text(v):
    """A submission time in one spelling, however the file holds it (a date cell, an
    Excel day number, “2005/8/26 9:07:01”), so an .xlsx and a .csv of one download agree."""
    if isinstance(v, dt.datetime):
        return v.replace(microsecond=0).isoformat(sep=" ")
    if isinstance(v, dt.date):
        return dt.datetime(v.year, v.month, v.day).isoformat(sep=" ")
    if isinstance(v, (int, float)) and not isinstance(v, bool) and 1 < v < 2958466:
        t = dt.datetime(1899, 12, 30) + dt.timedelta(days=float(v))
        return (t + dt.timedelta(seconds=0.5)).replace(microsecond=0).isoformat(sep=" ")
    m = _TIME.match(str(v))
    if m:
        y, mo, d, h, mi, sec = m.groups()
        return (f"{int(y):04d}-{int(mo):02d}-{int(d):02d} {int(h or 0):02d}:{int(mi or 0):02d}:"
                f"{int(float(sec or 0)):02d}")
    return show(v).strip()


def _place_ballots(defs, grids, group, members, respondents, placement):
    """Put the ballots into ``grids`` (in memory) and return the cells to write.

    Returns (import findings, updates, {(sheet, A1): (download row, header)}, numbers).
    """
    sheet, n, items = L.entry_sheet(group), len(members), defs.items
    entries = grids.entries.setdefault(group.key, [])
    by_row = {er.row: er for er in entries}
    scored = [er for er in entries if any(v not in (None, "") for v in er.scores)]
    start = L.ENTRY_FIRST_ROW
    if scored:
        last = max(scored, key=lambda er: er.row)
        start = last.row + 1
        while start in by_row and by_row[start].ballot not in (None, "") \
                and show(by_row[start].ballot) == show(last.ballot):
            start += 1  # the rest of a ballot typed for some members only
    k = len(respondents)
    numbers = _ballot_numbers(entries, start, start + k * n, k)
    updates, cells_from, own = {}, {}, []
    cells = updates.setdefault(sheet, {})
    for i, (r, no) in enumerate(zip(respondents, numbers)):
        for j, member in enumerate(members):
            row = start + i * n + j
            scores = r.scores[member]
            er = by_row.get(row)
            if er is None:
                er = by_row[row] = EntryRow(row, None, None, [None] * len(items), None, False)
                entries.append(er)
            er.ballot, er.name, er.scores = no, member, list(scores)
            at_ballot, at_name = L.a1(row, L.EntryCol.BALLOT), L.a1(row, L.EntryCol.NAME)
            cells[at_ballot], cells[at_name] = no, member
            cells_from[(sheet, at_ballot)] = cells_from[(sheet, at_name)] = (r.row, "")
            for c, v in enumerate(scores):
                a = L.a1(row, L.EntryCol.FIRST_SCORE + c)
                cells_from[(sheet, a)] = (r.row, r.sources.get((member, c), ""))
                if v is not None:
                    cells[a] = v
        given = {v for m in members for v in r.scores[m] if v is not None}
        rated = [m for m in members if any(v is not None for v in r.scores[m])]
        if len(given) == 1 and len(rated) > 1 and all(
                all(v is not None for v in r.scores[m]) for m in rated):
            own.append(finding("import-uniform", sheet, L.a1(start + i * n, L.EntryCol.BALLOT),
                               ballot=no, score=show(next(iter(given)))))
    entries.sort(key=lambda er: er.row)
    for m in placement.absent:
        row = next(r for r, name in grids.roster if name == m)
        own.append(finding("import-member-absent", L.ROSTER, L.a1(row, L.RosterCol.NAME), name=m,
                           group=group.name, count=k))
    return own, updates, cells_from, numbers


def _ballot_numbers(rows, start, end, k):
    """票号 for ``k`` new ballots written into rows ``start``..``end``: after the numbers
    above them, and after every number below them too if those would collide."""
    before = {_int(r.ballot) for r in rows if r.row < start} - {None}
    below = {_int(r.ballot) for r in rows if r.row >= end} - {None}
    first = max(before, default=0) + 1
    if below & set(range(first, first + k)):
        first = max(before | below) + 1
    return list(range(first, first + k))


def _place_lookback(defs, grids, group, members, respondents, placement):
    """Put 回头看 ballots into ``grids.lookback`` (in memory): one row each, 票号 then items."""
    from xlsheets.workbook.grids import LookbackRow

    sheet, n = L.LOOKBACK_ENTRY, len(defs.lookback_items)
    rows = grids.lookback
    by_row = {lr.row: lr for lr in rows}
    typed = [lr.row for lr in rows if any(v not in (None, "") for v in lr.values)]
    start = max(typed) + 1 if typed else L.LOOKBACK_FIRST_ROW
    k = len(respondents)
    numbers = _ballot_numbers(rows, start, start + k, k)
    cells, cells_from = {}, {}
    for i, (r, no) in enumerate(zip(respondents, numbers)):
        row = start + i
        values = r.scores[None]
        lr = by_row.get(row)
        if lr is None:
            lr = by_row[row] = LookbackRow(row, None, [None] * n)
            rows.append(lr)
        lr.ballot, lr.values = no, list(values)
        at_ballot = L.a1(row, L.LookbackEntryCol.BALLOT)
        cells[at_ballot] = no
        cells_from[(sheet, at_ballot)] = (r.row, "")
        for c, v in enumerate(values):
            a = L.a1(row, L.LookbackEntryCol.FIRST_SCORE + c)
            cells_from[(sheet, a)] = (r.row, r.sources.get((None, c), ""))
            if v is not None:
                cells[a] = v
    rows.sort(key=lambda lr: lr.row)
    return [], {sheet: cells}, cells_from, numbers


def _int(v):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return int(f) if f.is_integer() and f > 0 else None


def _refusal(download, errors, cells_from):
    lines = []
    for f in errors[:15]:
        row, header = cells_from[(f.sheet, f.cell)]
        where = f"下载文件第 {row} 行" + (f"“{header}”" if header else "")
        lines.append(f"{where}(将写入 {f.sheet}!{f.cell}):{f.message}")
    more = f"\n  ……另有 {len(errors) - 15} 处" if len(errors) > 15 else ""
    return (f"下载文件 {download} 中有 {len(errors)} 处答案不能作为测评分数,未写入任何内容:\n  "
            + "\n  ".join(lines) + more
            + "\n请核对问卷的分值设置(下载时请选择“按选项文本”)。如确要导入后在工作簿中逐一改正,请加 --keep-errors。")


class _NoPlacement:
    ignored = ()


R_EMPTY_PLACEMENT = _NoPlacement()


def _notes(table, placement, duplicates, empty):
    notes = []
    if duplicates:
        notes.append(f"{duplicates} 份答卷此前已导入过,本次没有重复导入。")
    if empty:
        rows = "、".join(str(r) for r in empty[:10]) + ("等" if len(empty) > 10 else "")
        notes.append(f"下载文件第 {rows} 行的答卷没有任何分数,未导入。")
    if any(h.strip() == "总分" for h in table.header):
        notes.append("这是按分数下载的答卷:请确认问卷中每个选项的分数与选项文字一致(如“8分”的分数为 8),"
                     "否则请改为“按选项文本”下载后重新导入。")
    if placement.ignored:
        shown = "、".join(f"“{h}”" for h in placement.ignored[:5])
        more = f"等 {len(placement.ignored)} 列" if len(placement.ignored) > 5 else ""
        notes.append(f"{shown}{more}不是测评分数,未导入。")
    return notes
