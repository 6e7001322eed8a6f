"""The canonical formula of each formula cell, taken from the builder itself.

compute restores a formula a clerk's program lost (a cleared cell, a sheet
copied into another workbook so that its formulas point at the original file,
a workbook made by an older version without a newer cell). The formulas are
never restated here: a blank workbook with the same members is built, and its
formula text is read back cell by cell, so builder and healer cannot drift.
"""

import re
import tempfile
from pathlib import Path

from xlsheets.workbook import layout as L
from xlsheets.ooxml import BookFile
from xlsheets.ooxml.markup import unescape
from xlsheets.files.roster import Member, Roster

_CELL_F = re.compile(r'<c r="([A-Z]+[0-9]+)"[^>]*><f((?: t="array" ref="[^"]+")?)>([^<]*)</f>')


_CACHE = {}  # (id of defs, unit name, names) -> (defs, formulas); the last few built


def formulas(defs, unit, names, sheets):
    """{sheet: {A1: (formula text without '=', array ref or None)}} for ``sheets``."""
    key = (id(defs), unit.name, tuple(names))
    hit = _CACHE.get(key)
    if hit is None or hit[0] is not defs:
        if len(_CACHE) >= 4:
            _CACHE.pop(next(iter(_CACHE)))
        hit = _CACHE[key] = (defs, _built(defs, unit, tuple(names)))
    return {s: hit[1].get(s, {}) for s in sheets}


def _built(defs, unit, names):
    roster = Roster("", ("姓名",), tuple(Member(n, "", (), i + 2) for i, n in enumerate(names)))
    plan = L.BallotPlan(tuple((g.key, 1) for g in defs.groups), spare=0, lookback=1, room=0)
    from xlsheets import writer as book  # the builder, imported only when a formula is sought

    out = {}
    with tempfile.TemporaryDirectory(prefix="xlsheets-canonical-") as tmp:
        path = Path(tmp) / "canonical.xlsx"
        book.build(defs, unit, roster, path, plan=plan)
        with BookFile.open(path) as b:
            for sheet in b.sheet_names:
                text = b.part(b.sheet_part(sheet)).decode("utf-8")
                out[sheet] = {m[1]: (unescape(m[3]),
                                     m[2].split('ref="')[1][:-1] if m[2] else None)
                              for m in _CELL_F.finditer(text)}
    return out
