"""``xlsheets collect``: the whole inbox into the town's summary, losing nothing.

Each workbook is known by its own identity (unit, definition set, workbook
id), not by its file name. Exact duplicates are noticed by hash; of several
versions of one branch the newest by its own time stamp is kept and the
others are reported as superseded; each kept workbook is validated with the
core and included only without errors. Files are read in parallel, a few at a
time, so memory follows the number of workers, not the size of the inbox.
"""

import datetime as dt
import hashlib
import multiprocessing
import multiprocessing.connection
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import crypto, definitions, process, report
from .compute import validate_file
from .errors import XlsheetsError
from .inbox import scan
from .ooxml import BookFile

# Bounds per file: each is examined in a worker process that may map at most
# MEMORY_LIMIT bytes more than it had on starting (RLIMIT_AS: enforced on Linux; macOS
# accepts but ignores it; Windows has no such limit) and gets FILE_TIMEOUT seconds. A file that exceeds either is 拒收 with
# the reason, its worker is replaced, and the rest of the inbox goes on.
MEMORY_LIMIT = 1 << 30
FILE_TIMEOUT = 120

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
        result.hash, result.size = _digest(item.path)
    except OSError as e:
        result.reason = f"无法读取({e.strerror})"
        return result
    defs = _defs(defs_source)
    try:
        # An encrypted return is read from a decrypted private copy, with the password
        # given to ``collect --password`` (None: refused, saying a password is needed).
        with crypto.plain_copy(item.path, crypto.inbox_password_now()) as source:
            outcome, grids = validate_file(source, defs)
            with BookFile.open(source) as book:
                result.modified = _modified(book)
    except XlsheetsError as e:
        result.reason = getattr(e, "problem", None) or str(e)
        return result
    except MemoryError:
        result.reason = OUT_OF_MEMORY
        return result
    except Exception as e:  # a bug must not stop the inbox; the file is reported
        result.reason = f"程序内部错误({type(e).__name__}: {e})"
        return result
    result.identity = dict(grids.identity)
    result.findings = [f.as_dict() for f in outcome.findings]
    result.branch = _branch_figures(defs, outcome, grids)
    return result


OUT_OF_MEMORY = (f"读取时内存不足(每个文件的上限为 {MEMORY_LIMIT >> 20} MB),"
                 "文件异常庞大或疑似恶意构造,已停止读取")


def _digest(path):
    """(sha256 hex, size) of a file, read in chunks."""
    h, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


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

    gf = figs.grading
    members = []
    for i, m in enumerate(figs.members):
        members.append({"name": m.name, "means": {k: (v if isinstance(v, str) else float(v))
                                                  for k, v in m.means.items()},
                        "composite": m.composite if isinstance(m.composite, str)
                        else float(m.composite), "rank": m.rank,
                        **({"grade": gf.grades[i] or None} if gf is not None else {})})
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
        "steps": process.summary(defs, unit, [f.as_dict() for f in outcome.findings],
                                 outcome.checked.process),
        # 评定等次 (None: the definitions do not grade, or an older workbook without it)
        "grading": None if gf is None else {
            "counts": dict(gf.counts), "graded": gf.graded, "members": gf.members,
            "limit": gf.limit},
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
            notes = list(dict.fromkeys(f["message"].split("。")[0] for f in r.findings
                                       if f["code"] in PACKAGE_CODES + UNCOUNTED_CODES))
            if notes:  # kept, but the office should know what else the file carries
                r.reason = "提醒:" + ";".join(notes)
    return results


# Findings about what a workbook carries besides its data (macros, links): a file kept
# with one of them says so in its reason, in the summary's file list and the archive.
PACKAGE_CODES = ("vba-project", "external-link")
# Findings that the workbook's own formulas do not (yet) show what is summed here: the
# town counts every ballot, the branch's printed 汇总 will once it computes.
UNCOUNTED_CODES = ("row-outside-range", "range-names-missing", "formula-restored",
                   "formula-external")


def collect(defs_source, inbox, workers=None, progress=None, skip=()):
    """Examine every workbook of ``inbox``; return the ``FileResult``s with their fates.

    ``skip`` names files to leave alone (the summary and archive, if they are
    written inside the inbox). Every file is examined in a worker process, so
    each is bounded in memory and time (``MEMORY_LIMIT``, ``FILE_TIMEOUT``).
    """
    workers = workers or os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="xlsheets-inbox-") as scratch:
        items = list(scan(inbox, scratch, skip))
        results = _parallel(items, defs_source, min(workers, len(items)), progress)
    return decide(results)


def _parallel(items, defs_source, workers, progress, task=None, timeout=None):
    """Examine items in ``workers`` processes, one file at a time each, in order of the items.

    A file that takes longer than ``timeout`` seconds (default FILE_TIMEOUT) or
    whose worker dies (a native reader aborting when the memory limit is hit)
    is rejected with the reason; the worker is replaced and the rest goes on.
    ``task`` (default ``examine``) is what a worker runs on one item.
    """
    task = task or examine
    timeout = FILE_TIMEOUT if timeout is None else timeout
    out = [None] * len(items)
    if not items:
        return out
    todo = iter(enumerate(items))
    pool = [_Worker(defs_source, task) for _ in range(max(1, min(workers, len(items))))]
    done = 0
    try:
        for w in pool:
            w.next(todo)
        while any(w.job for w in pool):
            busy = [w for w in pool if w.job]
            now = time.monotonic()
            wait = max(0.0, min(w.started + timeout for w in busy) - now)
            ready = multiprocessing.connection.wait([w.conn for w in busy], timeout=wait)
            for w in busy:
                if w.conn in ready:
                    i, item = w.job
                    try:
                        result = w.conn.recv()
                    except (EOFError, OSError):  # the worker died: killed, or aborted
                        result = _lost(item, "读取时处理进程意外退出(可能内存不足,或文件异常),已停止读取")
                        w.restart()
                    except Exception:  # a result that did not come through in one piece
                        result = _lost(item, "读取结果无法传回,已停止读取")
                        w.restart()
                elif time.monotonic() - w.started >= timeout:
                    i, item = w.job
                    result = _lost(item, f"读取超过 {timeout:g} 秒仍未完成,文件异常庞大或疑似恶意构造,"
                                         "已停止读取")
                    w.restart()
                else:
                    continue
                out[i] = result
                done += 1
                if progress:
                    progress(done, len(items), item.origin)
                w.next(todo)
    finally:
        for w in pool:
            w.stop(kill=w.job is not None)  # an interrupted run does not wait for files
    return out


def _lost(item, reason):
    """The result of a file whose worker gave none: its hash and size from here."""
    result = FileResult(item.origin, item.received, reason=reason)
    if item.path:
        try:
            result.hash, result.size = _digest(item.path)
        except OSError:
            pass
    return result


class _Worker:
    """One worker process with its own pipe: one item in, one result out."""

    def __init__(self, defs_source, task):
        self.defs_source, self.task = defs_source, task
        self.job, self.started = None, 0.0
        self._start()

    def _start(self):
        ctx = multiprocessing.get_context()
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, self.defs_source, self.task,
                                                        MEMORY_LIMIT), daemon=True)
        self.process.start()
        child.close()

    def next(self, todo):
        """Give the worker the next item, if any (a worker that died idle is replaced)."""
        self.job = next(todo, None)
        if self.job is None:
            return
        try:
            self.conn.send(self.job[1])
        except (OSError, ValueError):
            self.restart()
            self.conn.send(self.job[1])
        self.started = time.monotonic()

    def restart(self):
        """Kill this worker (stuck or dead) and start a fresh one."""
        self.stop(kill=True)
        self._start()

    def stop(self, kill=False):
        if not kill:
            try:
                self.conn.send(None)  # done: the worker returns
            except (OSError, ValueError):
                kill = True
            self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.conn.close()


def _serve(conn, defs_source, task, memory_limit):
    """A worker's loop: items in, results out, until told to stop."""
    _limit_memory(memory_limit)
    while True:
        try:
            item = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if item is None:
            return
        try:
            result = task(item, defs_source)
        except MemoryError:
            result = FileResult(item.origin, item.received, reason=OUT_OF_MEMORY)
        except KeyboardInterrupt:
            return
        try:
            conn.send(result)
        except (OSError, ValueError):
            return


def _limit_memory(limit):
    """Cap the address space at what the process maps now plus ``limit`` bytes.

    Relative to now, so a worker forked from a large parent is not starved.
    Skipped where it cannot be set (Windows has no ``resource``; macOS ignores it).
    """
    try:
        import resource
    except ImportError:
        return
    try:
        with open("/proc/self/statm") as f:
            mapped = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        mapped = 256 << 20  # no /proc: the interpreter and our modules, roughly
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        want = mapped + limit
        if hard != resource.RLIM_INFINITY:
            want = min(want, hard)
        if soft == resource.RLIM_INFINITY or want < soft:
            resource.setrlimit(resource.RLIMIT_AS, (want, hard))
    except (ValueError, OSError, AttributeError):
        pass


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


