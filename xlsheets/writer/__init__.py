"""The branch workbook: all six attachment forms, the step registers, entry sheets, formulas.

``build()`` writes one macro-free .xlsx with XlsxWriter. Every formula carries
its cached value, computed by the same core that ``compute`` uses, so email
previews and ``pandas.read_excel`` see numbers. The same inputs give the same
bytes: no clock is written unless ``created`` is given. With a ``password`` the
package is built in memory and only its encrypted form reaches the disk.
"""

import dataclasses
import datetime as dt
import hashlib
import io
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import xlsxwriter

from xlsheets import __version__
from xlsheets.disk import crypto
from xlsheets.workbook import layout as L
from xlsheets.workbook.entries import Entries
from xlsheets.disk.fileio import atomic_output
from xlsheets.disk.locks import workbook_lock
from xlsheets.core import figures
from xlsheets.writer import (
    ballots,
    checklist_sheet,
    intro,
    lookback_sheet,
    materials_sheet,
    meetings_sheet,
)
from xlsheets.writer import (
    opinion_forms as opinion,
    opinions_sheet,
    roster_sheet,
    satisfaction_sheet,
    schedule_sheet,
    summary_sheet as summary,
)
from xlsheets.writer import grades_sheet, talks_sheet
from xlsheets.core import grading
from xlsheets.writer.formats import FONT, FONT_SIZE, Formats

_ID_NAMESPACE = uuid.UUID("5b0f4d0e-8d2c-4a53-9a8e-6f1f0c2a2005")


@dataclass
class _Context:
    """What the sheet writers share while one workbook is built."""

    defs: object
    unit: object
    roster: object
    plan: L.BallotPlan
    entries: Entries
    fmt: Formats = None
    members: tuple = ()
    rows: dict = field(default_factory=dict)  # group key -> [(ballot no, name, scores)]
    figures: object = None  # figures.Figures
    entry_last: dict = field(default_factory=dict)
    summary_rows: dict = field(default_factory=dict)
    roster_names_ref: str = ""


def workbook_id(defs, unit, roster):
    """A stable id from what the workbook is made of: same inputs, same id."""
    h = hashlib.sha256()
    for part in (defs.id, defs.version, unit.name, *(f"{m.name}\t{m.duty}" for m in roster.members)):
        h.update(part.encode("utf-8") + b"\n")
    return str(uuid.uuid5(_ID_NAMESPACE, h.hexdigest()))


def build(defs, unit, roster, path, *, plan=None, entries=None, book_id=None, created=None,
          password=None):
    """Write a branch workbook to ``path`` (atomically) and return its identity.

    Args:
        defs: the loaded definition set.
        unit: one of ``defs.units``.
        roster: a ``roster.Roster``.
        path: where the .xlsx goes; replaced only once it is complete.
        plan: expected ballots per group; ``layout.default_plan`` if None.
        entries: typed-in data to fill (the demo, tests); blank if None.
        book_id: the workbook id; derived from the inputs if None.
        created: a ``datetime`` to record as the making time; none if None.
        password: an opening password: the file is written with agile encryption
            (and proven to decrypt) instead of as a plain .xlsx; None for plain.
    Returns:
        the identity dict written to 说明 and the document properties.
    """
    entries = entries or Entries()
    plan = plan or L.default_plan(defs.groups, len(roster.members))
    plan = _widen(plan, entries)
    ctx = _Context(defs, unit, roster, plan, entries, members=roster.members)
    ctx.rows = {g.key: entry_rows(plan, g.key, roster.members, entries, len(defs.items))
                for g in defs.groups}
    ctx.figures = figures.compute(
        defs, unit, roster.names(),
        {k: [(name, scores) for _, name, scores in rows] for k, rows in ctx.rows.items()},
        entries.lookback, entries.categories, entries.levels)
    if defs.grading is not None:
        typed = [(entries.grades.get(m.name) or [None])[0] for m in roster.members]
        ctx.figures = dataclasses.replace(ctx.figures, grading=grading.figures(
            defs, unit, ctx.figures.members, typed))
    identity = {
        "unit": unit.name, "set": defs.id, "version": defs.version,
        "workbook_id": book_id or workbook_id(defs, unit, roster),
        "created": created.isoformat(timespec="seconds") if created else "",
        "generator": f"xlsheets {__version__}",
    }
    crypto.check_password(password)
    with workbook_lock(path, create_folder=True), atomic_output(path) as tmp:
        target = io.BytesIO() if password is not None else str(tmp)
        wb = xlsxwriter.Workbook(target, {
            "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
            "default_format_properties": {"font_name": FONT, "font_size": FONT_SIZE},
        })
        stamp = created or dt.datetime.combine(defs.issued, dt.time())
        wb.set_properties({"title": f"{defs.name} · {unit.name}", "author": defs.issuer,
                           "company": defs.issuer, "created": stamp})
        ctx.fmt = Formats(wb)
        intro.write(wb, ctx, identity)
        roster_sheet.write(wb, ctx)
        schedule_sheet.write(wb, ctx)
        opinions_sheet.write_register(wb, ctx)
        opinions_sheet.write_summary(wb, ctx)
        talks_sheet.write_register(wb, ctx)
        talks_sheet.write_matrix(wb, ctx)
        materials_sheet.write(wb, ctx)
        meetings_sheet.write(wb, ctx)
        ballots.write_form(wb, ctx)
        for g in defs.groups:
            ctx.entry_last[g.key] = ballots.write_entry(wb, ctx, g)
        summary.write(wb, ctx)
        if defs.grading is not None:
            grades_sheet.write(wb, ctx)
        opinion.write(wb, ctx)
        last = lookback_sheet.write_entry(wb, ctx)
        lookback_sheet.write_form(wb, ctx, last, ctx.figures.lookback)
        satisfaction_sheet.write(wb, ctx, ctx.figures.satisfaction)
        checklist_sheet.write(wb, ctx)
        written = [ws.get_name() for ws in wb.worksheets()]
        assert written == L.sheet_names(defs.groups, unit, defs.grading is not None), written
        wb.close()
        if password is not None:
            Path(tmp).write_bytes(crypto.encrypt_bytes(target.getvalue(), password, path))
    return identity


def _widen(plan, entries):
    """Make room for every ballot the entries carry."""
    expected = tuple((k, max(n, len(entries.ballots.get(k, [])))) for k, n in plan.expected)
    lookback = max(plan.lookback, len(entries.lookback))
    return L.BallotPlan(expected, plan.spare, lookback, plan.room, plan.room_most)


def entry_rows(plan, key, members, entries, n_items):
    """The rows of one entry sheet: (ballot no, name, scores) per (ballot, member).

    Expected ballots come pre-filled with number and name; ``plan.spare``
    blank ballots follow for the ones nobody expected, then blank rows up to
    ``plan.capacity`` (room for more ballots than expected).
    """
    typed = entries.ballots.get(key, [])
    rows = []
    expected = plan.ballots(key)
    for b in range(expected + plan.spare):
        ballot = typed[b] if b < len(typed) else {}
        for m in members:
            if b < expected:
                scores = ballot.get(m.name)
                rows.append((b + 1, m.name, list(scores) if scores else [None] * n_items))
            else:
                rows.append((None, None, [None] * n_items))
    blank = plan.capacity(key, len(members)) - len(rows)
    return rows + [(None, None, [None] * n_items) for _ in range(blank)]
