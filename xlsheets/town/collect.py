"""``xlsheets collect``: the whole inbox into the town's summary, losing nothing.

Each workbook is known by its own identity (unit, definition set, workbook
id), not by its file name. Exact duplicates are noticed by hash; of several
versions of one branch the newest by its own time stamp is kept and the
others are reported as superseded; each kept workbook is validated with the
core and included only without errors. Files are read in parallel, a few at a
time, so memory follows the number of workers, not the size of the inbox.
"""

import contextlib
import dataclasses
import datetime as dt
import functools
import hashlib
import multiprocessing
import multiprocessing.connection
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from xlsheets.disk import crypto, debris
from xlsheets import definitions
from xlsheets.core import steps
from xlsheets.core.scoring import ranks
from xlsheets.disk.fileio import (atomic_outputs, cannot_write, new_beside, reason_of,
                                  refuse_if_open, refuse_read_only, target_of)
from xlsheets.disk.locks import workbook_lock
from xlsheets.files.compute import gc_paused, validate_file
from xlsheets.errors import UsageError, XlsheetsError
from xlsheets.town import archive, town_book
from xlsheets.town.inbox import scan, unpack
from xlsheets.disk.terminal import visible

# Bounds per file: each is examined in a worker process that may map at most
# MEMORY_LIMIT bytes more than it had on starting (RLIMIT_AS: enforced on Linux; macOS
# accepts but ignores it; Windows has no such limit) and gets FILE_TIMEOUT seconds. A file that exceeds either is 拒收 with
# the reason, its worker is replaced, and the rest of the inbox goes on.
MEMORY_LIMIT = 1 << 30
FILE_TIMEOUT = 120
ARCHIVE_TIMEOUT = 20 * FILE_TIMEOUT  # one archive or mail, all its workbooks together

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
    notes: list = field(default_factory=list)  # what the office should know besides the fate

    @property
    def readable(self):
        return bool(self.identity)


_DEFS = {}


def _defs(source):
    if source not in _DEFS:
        _DEFS[source] = definitions.load(source)
    return _DEFS[source]


def examine(item, defs_source, scan_thread=True):
    """The results of one inbox file, one by one (runs in a worker process): the file
    itself, or each workbook of an archive or a mail, extracted into a private scratch
    folder when its turn comes and removed once examined. ``scan_thread``: as
    ``validate_file``'s (collect gives False when its workers take every core)."""
    try:
        scratch = debris.scratch_dir()
    except OSError as e:
        yield FileResult(item.origin, item.received, reason=f"无法在临时文件夹 {tempfile.gettempdir()} "
                                                            f"中解压({e.strerror or e}),未读取")
        return
    try:
        for k, one in enumerate(unpack(item, scratch)):
            try:
                if k >= item.skip:  # after a workbook that stalled: go on with the next
                    yield Begin(one.origin)
                    yield examine_workbook(one, defs_source, scan_thread)
            finally:
                if one.path and one.path != item.path:
                    shutil.rmtree(Path(one.path).parent, ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@dataclass(frozen=True)
class Begin:
    """A worker's word that it starts on one workbook of an inbox file."""

    origin: str


def examine_workbook(item, defs_source, scan_thread=True):
    """Read, identify and validate one workbook (the collector paused until what the
    validation built is let go: its young collection then walks the result alone)."""
    with gc_paused():
        return _examine_workbook(item, defs_source, scan_thread)


def _examine_workbook(item, defs_source, scan_thread):
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
        # One open of the file: the town's times are read while validate_file has it open,
        # and the talk matrix, which nothing in the summary shows, is left unread.
        with crypto.plain_copy(item.path, crypto.inbox_password_now()) as source:
            outcome, grids = validate_file(source, defs, talk_matrix=False, inspect=_modified,
                                           scan_thread=scan_thread)
        result.modified, odd = outcome.inspected
        if odd:  # a time the file gives that cannot be true: when we received it decides
            result.notes.append(f"文件记录的时间“{odd}”不可信(无法识别或晚于现在),"
                                "按收到时间比较版本")
            result.modified = max(result.modified, item.received)
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


SKEW = dt.timedelta(days=1)  # clocks of the branches' PCs may run this far ahead


def _modified(book, stamp):
    """(the workbook's own time, an implausible time it gives or "").

    ``book`` is the open ``BookFile``, ``stamp`` its previous stamp as
    ``report.read_stamp`` gave it (validate_file reads it once for both).

    The later of its last save and its last compute, each only when it is a time at
    all and not in the future (beyond ``SKEW``): a forged ``9999-12-31`` must not
    win the choice of the newest version.
    """
    given = []
    if book.has_part("docProps/core.xml"):
        try:
            root = book._tree("docProps/core.xml")  # parsed, defused, size-bounded
        except XlsheetsError:
            root = None
            given.append("(docProps/core.xml 无法解析)")
        for el in root.iter() if root is not None else ():
            if el.tag.rpartition("}")[2] == "modified" and el.text:
                given.append(el.text.strip()[:64])
    if stamp and stamp.get("computed"):
        given.append(str(stamp["computed"])[:64])
    latest = dt.datetime.now() + SKEW
    times, odd = [], ""
    for text in given:
        moment = _local(text)
        if moment is None or moment > latest:
            odd = odd or visible(text)[:40]
        else:
            times.append(moment.isoformat(timespec="seconds"))
    return max(times, default=""), odd


def _local(text):
    """A naive local time of a docProps time (UTC, "...Z") or a stamp (the computing PC's
    clock), so that both compare alike; None when the text is not a time."""
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, TypeError):
        return None
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone().replace(tzinfo=None)
        except (OverflowError, ValueError, OSError):
            return None
    return moment


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
        "steps": steps.summary(defs, unit, [f.as_dict() for f in outcome.findings],
                                 outcome.checked.registers),
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
            r.reason = ";".join([f"同一支部有更新的版本:{newest[key].origin}", *r.notes])
        elif any(f["severity"] == "error" for f in r.findings):
            r.fate = EXCLUDED
            errors = [f for f in r.findings if f["severity"] == "error"]
            first = errors[0]
            r.reason = (f"{len(errors)} 个错误,如 {first['sheet']}!{first['cell']}:"
                        f"{first['message']}")
        else:
            r.fate = INCLUDED
            notes = list(dict.fromkeys([*(f["message"].split("。")[0] for f in r.findings
                                          if f["code"] in PACKAGE_CODES + UNCOUNTED_CODES),
                                        *r.notes]))
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


def collect(defs_source, inbox, workers=None, progress=None, skip=(), record=None):
    """Examine every workbook of ``inbox``; return the ``FileResult``s with their fates.

    ``skip`` names files to leave alone (the summary and archive, if they are
    written inside the inbox). Every file is examined in a worker process, so
    each is bounded in memory and time (``MEMORY_LIMIT``, ``FILE_TIMEOUT``).
    ``record`` is given the results as they come, in the inbox's order, before their
    fates are decided (``archive.Recorder.add``).
    """
    workers = workers or os.cpu_count() or 1
    items = list(scan(inbox, skip))
    workers = min(workers, len(items))
    # each sheet's scans in a thread beside calamine only with a core to spare
    task = functools.partial(examine, scan_thread=workers < (os.cpu_count() or 1))
    results = _parallel(items, defs_source, workers, progress, task=task, record=record)
    return decide(results)


def _parallel(items, defs_source, workers, progress, task=None, timeout=None, record=None):
    """Examine items in ``workers`` processes, one inbox file at a time each; the results
    in order of the items (an archive or a mail gives one per workbook it holds).

    A workbook that takes longer than ``timeout`` seconds (default FILE_TIMEOUT) or
    whose worker dies (a native reader aborting when the memory limit is hit) is
    rejected with the reason; the worker is replaced and the rest goes on - within an
    archive or a mail with its next workbook, until the whole file has had
    ``ARCHIVE_TIMEOUT``. ``task`` (default ``examine``) is what a worker runs on one
    item: a FileResult, or an iterable of FileResults and ``Begin`` markers. ``record``
    is given each item's results once it and every item before it are done, so in the
    items' order, while the workers go on with the rest (consolidate's archive).
    """
    task = task or examine
    timeout = FILE_TIMEOUT if timeout is None else timeout
    out = [[] for _ in items]
    if not items:
        return []
    todo = iter(enumerate(items))
    pool = []
    done, finished, recorded = 0, [False] * len(items), 0
    try:
        for _ in range(max(1, min(workers, len(items)))):  # one that cannot start: the
            pool.append(_Worker(defs_source, task))         # others are stopped below
        for w in pool:
            w.next(todo)
        while any(w.job for w in pool):
            busy = [w for w in pool if w.job]
            now = time.monotonic()
            wait = max(0.0, min(min(w.started + timeout, w.began + ARCHIVE_TIMEOUT)
                                for w in busy) - now)
            ready = multiprocessing.connection.wait([w.conn for w in busy], timeout=wait)
            for w in busy:
                i, item = w.job
                if w.conn in ready:
                    try:
                        kind, result = w.conn.recv()
                    except (EOFError, OSError):  # the worker died: killed, or aborted
                        kind, result = "lost", "读取时处理进程意外退出(可能内存不足,或文件异常),已停止读取"
                    except Exception:  # a result that did not come through in one piece
                        kind, result = "lost", "读取结果无法传回,已停止读取"
                    if kind == "begin":
                        w.current, w.begun, w.started = result, w.begun + 1, time.monotonic()
                        continue
                    if kind == "one":
                        out[i].append(result)
                        w.current, w.started = None, time.monotonic()
                        continue
                    if kind == "lost":
                        if w.resume(out[i], result, todo):
                            continue
                    elif result is not None:
                        out[i].append(result)
                elif _waiting(w.conn):  # came while this loop recorded: read next round
                    continue
                elif time.monotonic() - w.began >= ARCHIVE_TIMEOUT:
                    out[i].append(_lost(item, out[i], f"整个文件读取超过 {ARCHIVE_TIMEOUT:g} 秒仍未完成,"
                                                      "已停止读取"))
                    w.restart()
                elif time.monotonic() - w.started >= timeout:
                    if w.resume(out[i], f"读取超过 {timeout:g} 秒仍未完成,文件异常庞大或"
                                        "疑似恶意构造,已停止读取", todo):
                        continue
                else:
                    continue
                done += 1
                finished[i] = True
                if progress:
                    progress(done, len(items), item.origin)
                w.next(todo)
                while record and recorded < len(items) and finished[recorded]:
                    record(out[recorded])
                    recorded += 1
    finally:
        for w in pool:
            w.stop(kill=w.job is not None)  # an interrupted run does not wait for files
    return [r for results in out for r in results]


def _waiting(conn):
    """Whether a worker's pipe holds a result that came after the last wait (while the
    loop was recording): read next round rather than judged late. A pipe that cannot be
    asked is judged as before."""
    try:
        return conn.poll()
    except (OSError, EOFError, ValueError):
        return False


def _lost(item, so_far, reason, origin=None):
    """The result of a file whose worker gave none: its hash and size from here; of a
    workbook inside an archive (``origin``), or of the rest of one after an interrupt."""
    if so_far and origin is None:
        reason = f"{reason};压缩包或邮件中其余的文件未读取"
    result = FileResult(origin or item.origin, item.received, reason=reason)
    if item.path and not so_far and origin is None:
        try:
            result.hash, result.size = _digest(item.path)
        except OSError:
            pass
    return result


class _Worker:
    """One worker process with its own pipe: one item in, its results out, then "end"."""

    def __init__(self, defs_source, task):
        self.defs_source, self.task = defs_source, task
        self.job, self.started, self.began = None, 0.0, 0.0
        self.current, self.begun = None, 0  # the workbook of an archive being examined
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
        self.current, self.begun = None, 0
        if self.job is None:
            return
        self._send_job(self.job[1])
        self.began = self.started

    def _send_job(self, item):
        try:
            self.conn.send(item)
        except (OSError, ValueError):
            self.restart()
            self.conn.send(item)
        self.started = time.monotonic()

    def resume(self, results, reason, todo):
        """The worker stalled or died: record ``reason`` for what it was on; within an
        archive or a mail go on with its next workbook in a fresh worker (True), else
        the item is done (False)."""
        i, item = self.job
        current = self.current
        results.append(_lost(item, results if current is None else [], reason, current))
        self.restart()
        if current is None:
            return False
        began = self.began
        self._send_job(dataclasses.replace(item, skip=self.begun))
        self.began, self.current = began, None
        return True

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
    """A worker's loop: an item in, ("one", result) for each of its results, ("end", None)."""
    _limit_memory(memory_limit)
    while True:
        try:
            item = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if item is None:
            return
        try:
            if not _results_of(conn, item, task, defs_source):
                return  # the pipe is gone
        except KeyboardInterrupt:
            return


def _results_of(conn, item, task, defs_source):
    """Send each result of ``task(item)``, then "end"; False when the pipe is gone."""
    last = None
    try:
        produced = task(item, defs_source)
        results = iter([produced] if isinstance(produced, FileResult) else produced)
        while True:
            try:
                result = next(results)
            except StopIteration:
                break
            message = ("begin", result.origin) if isinstance(result, Begin) else ("one", result)
            if not _send(conn, message):
                return False
    except MemoryError:
        last = FileResult(item.origin, item.received, reason=OUT_OF_MEMORY)
    except Exception as e:  # a bug must not stop the inbox; the file is reported
        last = FileResult(item.origin, item.received,
                          reason=f"程序内部错误({type(e).__name__}: {e})")
    return _send(conn, ("end", last))


def _send(conn, message):
    try:
        conn.send(message)
        return True
    except (OSError, ValueError):
        return False


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
    inbox, out = Path(inbox), Path(out)
    if not inbox.is_dir():
        raise UsageError(f"收件文件夹 {inbox} 不存在或不是文件夹")
    if out.suffix.lower() != ".xlsx":
        raise UsageError(f"输出文件 {out} 应以 .xlsx 结尾")
    refuse_if_open(out)
    db = archive.path_for(out)
    with workbook_lock(out, create_folder=True):  # two collects into one summary: one waits
        for target in (out, db):  # said before the inbox is read, not after
            refuse_read_only(target_of(target))
        # the archive's copy beside it takes each file's figures while the workers read
        # the next ones; then one transaction: the summary and the archive are both
        # replaced, or neither
        copy = new_beside(target_of(db))
        try:
            _copy_archive(db, copy)  # else the empty temporary file becomes a new archive
            with archive.Recorder(copy, source=db) as recorder:
                results = collect(defs_source, inbox, workers, progress, skip=(out, db),
                                  record=recorder.add)
                new = recorder.finish(results)
            with atomic_outputs([out, db], ["全镇汇总", "档案库"]) as (new_out, new_db):
                town_book.write(defs, town_rows(results), new_out)
                os.replace(copy, new_db)
        finally:
            with contextlib.suppress(OSError):
                copy.unlink(missing_ok=True)
    return results, new, db


def _copy_archive(db, copy):
    """The archive's bytes into its copy (none yet: the empty copy becomes a new archive);
    a failure to read it and one to write the copy said apart."""
    def unreadable(e):
        why = "没有读取权限" if isinstance(e, PermissionError) else reason_of(e)
        return XlsheetsError(f"档案库 {db} 无法读取({why}),全镇汇总和档案库均未写入。")

    try:
        src = open(db, "rb")
    except FileNotFoundError:
        return
    except OSError as e:
        raise unreadable(e) from None
    with src:
        try:
            with open(copy, "wb") as dst:
                while True:
                    try:
                        chunk = src.read(1 << 20)
                    except OSError as e:  # the archive's fault, not the copy's
                        raise unreadable(e) from None
                    if not chunk:
                        break
                    dst.write(chunk)
        except OSError as e:
            raise cannot_write(copy.parent, e) from None


def included(results):
    return [r for r in results if r.fate == INCLUDED]


def _unit(result):
    return result.identity["unit"]


def town_ranks(results):
    """All members of the included branches with their town rank (ties share)."""
    rows = []
    for r in sorted(included(results), key=lambda r: r.identity["unit"]):
        for m in r.branch["members"]:
            rows.append((r.identity["unit"], m))
    values = [None if isinstance(m["composite"], str) else m["composite"] for _, m in rows]
    return [(unit, m, rank) for (unit, m), rank in zip(rows, ranks(values))]


def town_rows(results):
    """The town summary's rows (``town_book.Town``) from ``results`` with fates decided."""
    kept = [(r.branch, r.origin, r.modified) for r in sorted(included(results), key=_unit)]
    latest = [(r.identity["unit"], "已汇总" if r.fate == INCLUDED else "未汇总(有错误)", r.branch)
              for r in sorted((r for r in results if r.fate in (INCLUDED, EXCLUDED) and r.branch),
                              key=_unit)]
    files = [[r.origin, r.received, r.identity.get("unit", ""), r.identity.get("workbook_id", ""),
              r.modified, r.fate, r.reason, r.hash[:16]] for r in results]
    return town_book.Town(kept, latest, town_ranks(results), files)
