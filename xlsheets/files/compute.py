"""Validate and compute a branch workbook on disk, in place.

``validate_file`` reads and checks; ``compute_file`` refuses while errors
remain, otherwise writes the figures into the same file: cached values of
the formula cells, text-that-is-a-number made numbers, and a 校验结果 sheet
with the stamp. Only those cells and parts change; the file is replaced
atomically, so on any failure the original stays as it was.

A workbook with an opening password is read from a decrypted private copy
(``crypto.plain_copy``) and written back encrypted with the same password.
``compute_file`` holds the workbook's lock (``locks.workbook_lock``) from the
first read to the final rename, so two commands never interleave on one file.
"""

import contextlib
import datetime as dt
import gc
from dataclasses import dataclass, field
from pathlib import Path

from xlsheets.files import canonical, report
from xlsheets.disk import crypto
from xlsheets.workbook import layout as L
from xlsheets.core import stamp as S
from xlsheets.core.cells import position_values
from xlsheets.core.examine import examine
from xlsheets.core.values import same_value
from xlsheets.disk.fileio import atomic_output, private_copy, refuse_if_open, target_of
from xlsheets.core.findings import has_errors
from xlsheets.disk.locks import workbook_lock
from xlsheets.core.numbers import display, round_half_away
from xlsheets.ooxml import Formula, write_patched
from xlsheets.files.reader import open_book, read_grids
from xlsheets.files.wordcount import count_folder
from xlsheets.workbook.address import a1, rc


@dataclass
class Outcome:
    """What validate/compute found and computed for one file."""

    path: str
    unit: object
    findings: list
    checked: object
    written: bool = False
    current: dict = field(default=None, repr=False)  # sheet name -> reader.FileSheet as read
    encrypted: bool = False  # the file has an opening password
    inspected: object = field(default=None, repr=False)  # validate_file's ``inspect`` gave it
    proved: frozenset = field(default=frozenset(), repr=False)  # BookFile.proofs() of the read

    @property
    def ok(self):
        return not has_errors(self.findings)


def validate_file(path, defs, expected_unit=None, password=None, materials=None, *,
                  talk_matrix=True, inspect=None, scan_thread=True):
    """Read and check ``path``; raises BookError when it cannot be used at all.

    ``materials`` is a folder of the members' self-analysis files (张三.docx,
    领导班子.txt): their lengths are counted and override the typed ones.

    An encrypted workbook needs ``password`` (BookError "文件已加密 … --password"
    without it, PasswordError "密码不正确" for a wrong one); it is decrypted to a
    private temporary copy, removed afterwards. A plain workbook ignores it.

    For ``collect``, which opens each file once and uses only what the town summary
    shows: ``talk_matrix=False`` leaves the talk matrix unread (its counts are what
    compute compares before writing; no check and no figure reads them; its guards
    still run, so collect refuses whatever validate refuses), and
    ``inspect(book, previous)`` is called with the open ``BookFile`` and its previous
    stamp (``report.read_stamp``) before the book closes; its value is
    ``Outcome.inspected``; ``scan_thread=False`` scans each sheet after calamine's parse
    rather than beside it (``reader.read_grids``: a collect worker per core).
    """
    with gc_paused(), crypto.plain_copy(path, password) as source:
        outcome, grids = _validate(source, defs, expected_unit, materials,
                                   also=(L.TALK_MATRIX,) if talk_matrix else (), inspect=inspect,
                                   scan_thread=scan_thread)
    if str(source) != str(path):
        outcome.path, outcome.encrypted, grids.source = str(path), True, str(path)
    return outcome, grids


def _validate(path, defs, expected_unit, materials=None, also=(L.TALK_MATRIX,), inspect=None,
              scan_thread=True):
    """Read and check, reading also what compute compares before writing (``also``: the
    talk matrix's counts, which no check needs): validate refuses whatever compute would."""
    book, unit, ident = open_book(path, defs)
    current = {}
    with book:
        grids = read_grids(book, defs, unit, ident, current, also=also, scan_thread=scan_thread)
        if L.TALK_MATRIX not in also and L.TALK_MATRIX in book.sheet_names:
            book.sheet_data(L.TALK_MATRIX)  # unread, but refused as validate refuses it
        counted = None
        if materials is not None:
            counted = count_folder(materials, [n for _, n in grids.roster],
                                   defs.process.materials["leadership"])
        previous = report.read_stamp(book)
        inspected = inspect(book, previous) if inspect is not None else None
        proved = book.proofs()
    # canonical.formulas is looked up here, at the call, so a test may replace it
    seen = examine(defs, unit, grids, formulas=canonical.formulas, previous=previous,
                   expected_unit=expected_unit, counted=counted)
    return Outcome(str(path), unit, seen.findings, seen.checked, current=current,
                   inspected=inspected, proved=proved), grids


def compute_file(path, defs, expected_unit=None, now=None, password=None, materials=None):
    """Validate, then (without errors) write the figures into ``path`` in place.

    Holds the workbook's lock throughout. An encrypted workbook (``password``
    required) is written back encrypted with the same password; the new file is
    decrypted once more and must give back what was written before it replaces
    the original.
    """
    with gc_paused(), held(path, password) as (source, encrypted, snapshot):
        outcome, grids = _validate(source, defs, expected_unit, materials)
        outcome.path = str(path)
        outcome.encrypted = encrypted
        grids.source = str(path)
        return _compute(path, source, password, defs, outcome, grids, now, snapshot)


@contextlib.contextmanager
def held(path, password=None):
    """``path`` held for a read, check and write: ``(source, encrypted, snapshot)``.

    Its lock is taken (a symbolic link's target's), its bytes are read once into a
    private copy (decrypted when it has a password: ``source``), and ``snapshot``
    lets the final replace refuse a file another program saved meanwhile
    (``atomic_output(path, unchanged=snapshot)``). Every command that writes a
    workbook in place goes through here (compute, import).
    """
    with workbook_lock(target_of(path)), private_copy(path) as (copy, snapshot), \
            crypto.plain_copy(copy, password) as source:
        yield source, str(source) != str(copy), snapshot


@contextlib.contextmanager
def gc_paused():
    """The cyclic garbage collector off for one read-check-write: it builds a few
    hundred thousand small objects, none in a cycle, and two or three full
    collections would cost 40-90 ms; it runs as before afterwards (nested, the inner
    one leaves it to the outer).

    Once back on, its first young collection walks whatever the run built that is still
    held: about 30 ms on a 200-member branch when the outcome and the sheets as read
    are. A caller that lets go of them before the collector returns pauses around
    itself (the command line's one-workbook commands, collect's work on each file);
    cyclic garbage of the run is still collected by that first young collection."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _compute(path, source, password, defs, outcome, grids, now, snapshot):
    outcome.findings = [f for f in outcome.findings if f.code != "stamp-stale"]
    if not outcome.ok:
        return outcome
    refuse_if_open(target_of(path))

    checked = outcome.checked
    updates = figure_updates(defs, checked, outcome.current)
    repair = checked.repair
    when = now or dt.datetime.now().replace(microsecond=0)
    stamp = S.stamp(defs, checked, [n for _, n in grids.roster], when)
    sheet = report.results_sheet(stamp, outcome.findings)
    with atomic_output(path, unchanged=snapshot) as tmp:
        if outcome.encrypted:  # patch the private plain copy, then encrypt into place
            plain = Path(source).with_suffix(".computed.xlsx")
            write_patched(source, plain, updates, {report.SHEET: sheet}, repair.names,
                          drop_links=repair.drop_links, proved=outcome.proved)
            Path(tmp).write_bytes(crypto.encrypt_bytes(plain.read_bytes(), password, path))
        else:
            write_patched(source, tmp, updates, {report.SHEET: sheet}, repair.names,
                          drop_links=repair.drop_links, proved=outcome.proved)
    outcome.written = True
    return outcome


def figure_updates(defs, checked, current):
    """What compute writes into the sheets, by A1 address ({sheet: {A1: value}}, as
    ``write_patched`` takes it): the figures whose cached value differs from
    ``current`` (the sheets as read), then ``checked.fixes``, then the restored formulas
    with what they show."""
    values = position_values(defs, checked.figures, checked.entry_rows)
    updates = _changed(values, current)
    for sheet, fixes in checked.fixes.items():
        updates.setdefault(sheet, {}).update(fixes)
    for sheet, cells in checked.repair.formulas.items():
        shown = values.get(sheet) or {}
        for cell, (text, array) in cells.items():
            updates.setdefault(sheet, {})[cell] = Formula(text, shown.get(rc(cell), ""), array)
    return updates


_PLAIN = (str, int, float)  # not bool: True == 1, yet a cell showing TRUE does not show 1


def _changed(values, current):
    """The cells of ``values`` (``cells.position_values``) whose cached value differs,
    by A1 address: the rest of each part stays as it is. Most show what they should,
    so equal text or numbers are settled before ``same_value``, and only the cells
    that changed get an address."""
    out = {}
    for sheet, cells in values.items():
        have = current.get(sheet)
        value_at = have.value if have is not None else None
        changed = {}
        for (r, c), value in cells.items():
            if value_at is None:
                changed[a1(r, c)] = value
                continue
            shown = value_at(r, c)
            if shown == value and type(shown) in _PLAIN and type(value) in _PLAIN \
                    or same_value(shown, value):
                continue
            changed[a1(r, c)] = value
        if changed:
            out[sheet] = changed
    return out


def as_json(outcome, defs):
    """The ``compute --json`` document: figures rounded to 2 decimals as displayed."""
    figs = outcome.checked.figures

    def num(x):
        return None if x is None or isinstance(x, str) else float(round_half_away(x))

    gf = figs.grading
    members = [{
        "name": m.name,
        **{f"{g.key}_mean": num(m.means[g.key]) for g in defs.groups},
        "composite": num(m.composite), "rank": m.rank,
        **({"grade": gf.grades[i] or None} if gf is not None else {}),
    } for i, m in enumerate(figs.members)]
    lb, sat = figs.lookback, figs.satisfaction
    return {
        "members": members,
        **({"grading": grading_json(defs, gf, num)} if gf is not None else {}),
        "lookback": {"items": [{"name": i.name, "mean": num(v)}
                               for i, v in zip(defs.lookback_items, lb.means)],
                     "total": num(lb.total)},
        "satisfaction": {
            "total": sat.total,
            "levels": {name: {"count": c, "percent": num(p)} for name, c, p in
                       zip(defs.satisfaction["levels"], outcome.checked.levels or
                           [None] * len(sat.shares), sat.shares)},
            "rate": num(sat.rate)},
    }


def grading_json(defs, gf, num):
    """评定等次's counts as the sheet shows them (shares in percent, 2 decimals), and the
    ballots issued, returned and typed per rater group."""
    accounts = gf.accounts or {}
    return {
        "counts": dict(gf.counts), "graded": gf.graded, "members": gf.members,
        "percent": {k: num(gf.share(v)) for k, v in gf.counts.items()},
        "graded_percent": num(gf.share(gf.graded)), "excellent_limit": gf.limit,
        "ballots": {g.key: {"issued": accounts.get(g.key, (None, None))[0],
                            "returned": accounts.get(g.key, (None, None))[1],
                            "typed": gf.typed[g.key]} for g in defs.groups},
    }


__all__ = ["Outcome", "validate_file", "compute_file", "as_json", "display", "gc_paused"]
