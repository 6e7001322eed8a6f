"""``xlsheets collect``: the whole inbox into the town's summary, losing nothing.

Each workbook is known by its own identity (unit, definition set, workbook
id), not by its file name. Exact duplicates are noticed by hash; of several
versions of one branch the newest by its own time stamp is kept and the
others are reported as superseded; each kept workbook is validated with the
core and included only without errors. Files are read in parallel, a few at a
time, so memory follows the number of workers, not the size of the inbox.
"""

import concurrent.futures as cf
import datetime as dt
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import definitions, report
from .compute import validate_file
from .errors import XlsheetsError
from .inbox import scan
from .ooxml import BookFile

# What became of a file.
INCLUDED, EXCLUDED, SUPERSEDED, DUPLICATE, REJECTED = (
    "采用", "未采用(有错误)", "被新版本取代", "重复文件", "拒收")


@dataclass
class FileResult:
    """One file of the inbox: where it came from, what it is, what became of it."""

    origin: str
    received: str
    hash: str = ""
    size: int = 0
    identity: dict = field(default_factory=dict)
    modified: str = ""
    reason: str = ""
    findings: list = field(default_factory=list)  # dicts
    branch: dict = field(default_factory=dict)  # the figures extracted
    fate: str = ""

    @property
    def readable(self):
        return bool(self.identity)


_DEFS = {}


def _defs(source):
    if source not in _DEFS:
        _DEFS[source] = definitions.load(source)
    return _DEFS[source]


def examine(item, defs_source):
    """Read, identify and validate one workbook (runs in a worker process)."""
    result = FileResult(item.origin, item.received)
    if item.problem:
        result.reason = item.problem
        return result
    try:
        data = Path(item.path).read_bytes()
    except OSError as e:
        result.reason = f"无法读取({e.strerror})"
        return result
    result.hash, result.size = hashlib.sha256(data).hexdigest(), len(data)
    defs = _defs(defs_source)
    try:
        outcome, grids = validate_file(item.path, defs)
        with BookFile.open(item.path) as book:
            result.modified = _modified(book)
    except XlsheetsError as e:
        result.reason = getattr(e, "problem", None) or str(e)
        return result
    except Exception as e:  # a bug must not stop the inbox; the file is reported
        result.reason = f"程序内部错误({type(e).__name__}: {e})"
        return result
    result.identity = dict(grids.identity)
    result.findings = [f.as_dict() for f in outcome.findings]
    result.branch = _branch_figures(defs, outcome, grids)
    return result


def _modified(book):
    """The workbook's own time: the later of its last save and its last compute."""
    times = []
    if book.has_part("docProps/core.xml"):
        m = re.search(rb"<dcterms:modified[^>]*>([^<]+)</dcterms:modified>",
                      book.part("docProps/core.xml"))
        if m:
            times.append(_local(m.group(1).decode("ascii", "replace")))
    stamp = report.read_stamp(book)
    if stamp and stamp.get("computed"):
        times.append(stamp["computed"])
    return max(times, default="")


def _local(text):
    """docProps times are UTC ("...Z"); the stamp is the computing PC's clock: compare alike."""
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is not None:
        moment = moment.astimezone().replace(tzinfo=None)
    return moment.isoformat(timespec="seconds")


def _branch_figures(defs, outcome, grids):
    figs, unit = outcome.checked.figures, outcome.unit

    def num(x):
        return None if x is None or isinstance(x, str) else float(x)

    members = []
    for m in figs.members:
        members.append({"name": m.name, "means": {k: (v if isinstance(v, str) else float(v))
                                                  for k, v in m.means.items()},
                        "composite": m.composite if isinstance(m.composite, str)
                        else float(m.composite), "rank": m.rank})
    ballots = {}
    for key, rows in grids.entries.items():
        ballots[key] = len({str(r.ballot) for r in rows if r.ballot not in (None, "")
                            and any(v not in (None, "") for v in r.scores)})
    sat = figs.satisfaction
    dates = [d for d in (grids.schedule or unit.dates) if d]
    return {
        "unit": unit.name, "members": members, "ballots": ballots,
        "lookback_total": num(figs.lookback.total),
        "satisfaction": {"total": sat.total, "levels": list(outcome.checked.levels),
                         "shares": [num(s) for s in sat.shares], "rate": num(sat.rate)},
        "schedule": f"{dates[0]}至{dates[-1]}" if dates else "(未填写)",
    }


def decide(results):
    """Give each result its fate: duplicates, rejections, superseded versions, in or out."""
    seen = {}
    newest = {}
    for r in results:
        if not r.readable:
            r.fate = REJECTED
            continue
        if r.hash in seen:
            r.fate, r.reason = DUPLICATE, f"与 {seen[r.hash].origin} 内容完全相同"
            continue
        seen[r.hash] = r
        key = (r.identity.get("set"), r.identity.get("unit"))
        best = newest.get(key)
        if best is None or (r.modified, r.received, r.origin) > (best.modified, best.received,
                                                                    best.origin):
            newest[key] = r
    for r in seen.values():
        key = (r.identity.get("set"), r.identity.get("unit"))
        if newest[key] is not r:
            r.fate = SUPERSEDED
            r.reason = f"同一支部有更新的版本:{newest[key].origin}"
        elif any(f["severity"] == "error" for f in r.findings):
            r.fate = EXCLUDED
            errors = [f for f in r.findings if f["severity"] == "error"]
            first = errors[0]
            r.reason = (f"{len(errors)} 个错误,如 {first['sheet']}!{first['cell']}:"
                        f"{first['message']}")
        else:
            r.fate = INCLUDED
    return results


def collect(defs_source, inbox, workers=None, progress=None, skip=()):
    """Examine every workbook of ``inbox``; return the ``FileResult``s with their fates.

    ``skip`` names files to leave alone (the summary and archive, if they are
    written inside the inbox).
    """
    workers = workers or os.cpu_count() or 1
    results = []
    with tempfile.TemporaryDirectory(prefix="xlsheets-inbox-") as scratch:
        items = list(scan(inbox, scratch, skip))
        total = len(items)
        if workers == 1 or total <= 1:
            for n, item in enumerate(items, 1):
                results.append(examine(item, defs_source))
                if progress:
                    progress(n, total, item.origin)
        else:
            results = _parallel(items, defs_source, workers, progress)
    return decide(results)


def _parallel(items, defs_source, workers, progress):
    """Examine items in worker processes, at most 2 per worker in flight at a time."""
    out = [None] * len(items)
    pending = {}
    todo = iter(enumerate(items))
    done_count = 0
    with cf.ProcessPoolExecutor(max_workers=workers) as pool:
        def submit():
            for i, item in todo:
                pending[pool.submit(examine, item, defs_source)] = (i, item)
                if len(pending) >= 2 * workers:
                    return
        submit()
        while pending:
            finished, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for fut in finished:
                i, item = pending.pop(fut)
                out[i] = fut.result()
                done_count += 1
                if progress:
                    progress(done_count, len(items), item.origin)
            submit()
    return out


def consolidate(defs, defs_source, inbox, out, workers=None, progress=None):
    """Collect ``inbox`` into the town summary ``out`` and its archive; one call for both shells.

    Returns ``(results, new files, archive path)``.
    """
    from . import archive, town_book
    from .errors import UsageError
    from .fileio import refuse_if_open

    inbox, out = Path(inbox), Path(out)
    if not inbox.is_dir():
        raise UsageError(f"收件文件夹 {inbox} 不存在或不是文件夹")
    if out.suffix.lower() != ".xlsx":
        raise UsageError(f"输出文件 {out} 应以 .xlsx 结尾")
    refuse_if_open(out)
    db = archive.path_for(out)
    results = collect(defs_source, inbox, workers, progress, skip=(out, db))
    town_book.write(defs, results, out)
    return results, archive.record(db, results), db


def included(results):
    return [r for r in results if r.fate == INCLUDED]


def town_ranks(results):
    """All members of the included branches with their town rank (ties share)."""
    from .scoring import ranks

    rows = []
    for r in sorted(included(results), key=lambda r: r.identity["unit"]):
        for m in r.branch["members"]:
            rows.append((r.identity["unit"], m))
    values = [None if isinstance(m["composite"], str) else m["composite"] for _, m in rows]
    return [(unit, m, rank) for (unit, m), rank in zip(rows, ranks(values))]


