"""Small filled branch workbooks for the validate/compute tests.

``make_book`` builds a blank workbook with ``xlsheets.writer.build`` (unit 机关,
three members, a small BallotPlan) and then types the entries into it the way
the file shell will see them: by patching cells with ``xlsheets.ooxml.write_patched``.
So a typed ``'８'`` stays a string cell and ``8`` stays a number, as they would
after a clerk typed them in Excel. ``type_over`` replaces a formula cell by a
plain value, as a clerk who types into a formula cell does.

Cells are located from what the sheet says (pre-filled 票号 and 党员姓名), not
from assumptions about row numbers, so tests name true A1 addresses.
"""
from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import filling as F
from xlsheets import writer as book, definitions
from xlsheets.workbook import layout as L
from xlsheets.core.cells import category_cells, level_cells
from xlsheets.ooxml import BookFile, write_patched
from xlsheets.files.roster import read_roster

DEFS = definitions.load()
UNIT = DEFS.unit("机关")
NAMES = ("张三", "李四", "王五")
SHEET = {g.key: L.entry_sheet(g) for g in DEFS.groups}  # group key -> entry sheet
# 3 peer ballots, 2 mass, 1 committee (the worked example), one spare ballot each, 5 look-back rows.
PLAN = L.BallotPlan((("peer", 3), ("mass", 2), ("committee", 1)), spare=1, lookback=5)


def worked_ballots(names=NAMES):
    """SPEC.md's worked example as ``{group key: [{name: [8 scores]}]}``."""
    totals = {n: F.WORKED[n] for n in names}
    return F.ballots_of(totals, DEFS.items, DEFS.groups)


def make_book(tmp_path, ballots=None, cells=None, *, lookback=None, categories=None,
              levels=None, typed_over=None, names=NAMES, plan=PLAN, unit="机关",
              filename="机关.xlsx", defs=DEFS) -> Path:
    """Build a blank branch workbook in ``tmp_path`` and type entries into it.

    ballots: {group key: [{member name: [8 item scores]}, ...]}, ballot 1 first;
        a score None leaves its cell empty.
    cells: {sheet: {A1: value}} typed last (None clears the cell); a formula cell
        keeps its formula and only gets this as cached value - see ``typed_over``.
    lookback: 附件5 ballots, one list of 10 scores each, typed into 回头看录入.
    categories, levels: 附件6 counts (7 categories, 3 levels).
    typed_over: {sheet: {A1: value}}: formula cells replaced by plain values
        (None: the formula deleted, the cell left empty).
    """
    tmp_path = Path(tmp_path)
    roster_csv = tmp_path / "名册" / f"{Path(filename).stem}.csv"
    roster_csv.parent.mkdir(parents=True, exist_ok=True)
    roster = read_roster(F.write_roster(roster_csv, names))
    path = tmp_path / filename
    book.build(defs, defs.unit(unit), roster, path, plan=plan)

    updates = {}
    if ballots:
        with BookFile.open(path) as b:
            ballot_updates(b, ballots, updates)
    for i, scores in enumerate(lookback or []):
        for k, s in enumerate(scores):
            if s is not None:
                updates.setdefault(L.LOOKBACK_ENTRY, {})[
                    L.a1(L.LOOKBACK_FIRST_ROW + i, 1 + k)] = s
    sat = updates.setdefault(L.SATISFACTION, {})
    for addrs, counts in ((category_cells(defs), categories), (level_cells(defs), levels)):
        for a, n in zip(addrs, counts or []):
            if n is not None:
                sat[a] = n
    for sheet, values in (cells or {}).items():
        updates.setdefault(sheet, {}).update(values)
    patch(path, updates)
    if typed_over:
        type_over(path, typed_over)
    return path


def worked_book(tmp_path, ballots=None, cells=None, **kw) -> Path:
    """The worked example (ballots, 附件5, 附件6) with ``cells`` typed on top."""
    kw.setdefault("lookback", F.LOOKBACK)
    kw.setdefault("categories", F.CATEGORIES)
    kw.setdefault("levels", F.LEVELS)
    return make_book(tmp_path, worked_ballots() if ballots is None else ballots, cells, **kw)


def ballot_updates(bookfile, ballots, updates):
    """Add to ``updates`` the cells that type ``ballots`` {group: [{name: scores}]} in."""
    for key, sheet_ballots in ballots.items():
        sheet = SHEET[key]
        rows = entry_rows(bookfile, sheet)
        for no, ballot in enumerate(sheet_ballots, start=1):
            for name, scores in ballot.items():
                r = rows[(no, name)]
                for k, s in enumerate(scores):
                    if s is not None:
                        updates.setdefault(sheet, {})[L.a1(r, 2 + k)] = s
    return updates


def entry_rows(bookfile, sheet):
    """(票号, 党员姓名) -> 0-based row of an entry sheet, from its pre-filled cells."""
    cells = bookfile.cells(sheet)
    rows = {}
    for addr, c in cells.items():
        m = re.fullmatch(r"A(\d+)", addr)
        if m and isinstance(c.value, int):
            r = int(m[1]) - 1
            name = cells.get(L.a1(r, 1))
            if name is not None and name.value:
                rows[(c.value, name.value)] = r
    return rows


def patch(path, updates):
    """Type ``updates`` {sheet: {A1: value}} into ``path`` in place with write_patched."""
    updates = {s: v for s, v in updates.items() if v}
    if not updates:
        return
    tmp = Path(path).with_name(Path(path).name + ".patching")
    write_patched(path, tmp, updates)
    os.replace(tmp, path)


def type_over(path, cells):
    """Replace formula cells {sheet: {A1: value}} by typed values (number, text or None)."""
    with BookFile.open(path) as b:
        parts = {b.sheet_part(sheet): values for sheet, values in cells.items()}
    with zipfile.ZipFile(path) as zf:
        entries = [(info, zf.read(info)) for info in zf.infolist()]
    tmp = Path(path).with_name(Path(path).name + ".typing")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in entries:
            if info.filename in parts:
                xml = data.decode("utf-8")
                for addr, value in parts[info.filename].items():
                    xml = _typed_cell(xml, addr, value)
                data = xml.encode("utf-8")
            out.writestr(info, data)
    os.replace(tmp, path)


def _typed_cell(xml, addr, value):
    pattern = re.compile(rf'<c r="{addr}"([^>]*?)(/>|>.*?</c>)', re.S)
    m = pattern.search(xml)
    assert m, f"no cell {addr}"
    assert "<f" in m[2], f"{addr} holds no formula to type over"
    style = re.search(r'\ss="\d+"', m[1])
    s = style[0] if style else ""
    if value is None:  # cleared with the Delete key: the cell keeps its format only
        body = f'<c r="{addr}"{s}/>'
    elif isinstance(value, str):
        body = f'<c r="{addr}"{s} t="inlineStr"><is><t>{escape(value)}</t></is></c>'
    else:
        body = f'<c r="{addr}"{s}><v>{value}</v></c>'
    return xml[:m.start()] + body + xml[m.end():]


# Books made here leave the registers of steps 2-5 and 9 blank (one warning each),
# and the 机关's seed schedule is under a month: test_steps.py's cases, not these.
def defs_with(tmp_path, old, new):
    """The built-in definition set with one text ``old`` replaced by ``new``, loaded."""
    seed = Path(definitions.__file__).parent / "data" / "guanba2005.toml"
    text = seed.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "other.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return definitions.load(path)


STEPS_BLANK = frozenset({"register-empty", "schedule-too-short"})


def beyond_steps(findings):
    """The findings but those every book made here carries (``STEPS_BLANK``)."""
    return [f for f in findings if f.code not in STEPS_BLANK]


def codes_cells(findings):
    """The findings as a set of (code, sheet, cell), ``STEPS_BLANK`` left out."""
    return {(f.code, f.sheet, f.cell) for f in beyond_steps(findings)}
