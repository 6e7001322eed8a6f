"""The collect archive: every file ever collected, in SQLite beside the town summary.

One row per file and origin (hash, where it came from, when first seen, its
identity, its fate), its findings, and the figures extracted from it, so the
office can answer "which file did this number come from". Writing the same
inbox again changes nothing: rows are keyed by content and origin, and only
first_seen records a clock.
"""

import contextlib
import datetime as dt
import json
import sqlite3
from itertools import repeat
from pathlib import Path

from xlsheets.errors import XlsheetsError

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    hash TEXT NOT NULL, origin TEXT NOT NULL, received TEXT, size INTEGER,
    unit TEXT, set_id TEXT, version TEXT, workbook_id TEXT, modified TEXT,
    fate TEXT NOT NULL, reason TEXT, first_seen TEXT NOT NULL,
    PRIMARY KEY (hash, origin));
CREATE TABLE IF NOT EXISTS findings (
    hash TEXT NOT NULL, code TEXT NOT NULL, severity TEXT NOT NULL, sheet TEXT NOT NULL,
    cell TEXT NOT NULL, message TEXT NOT NULL, PRIMARY KEY (hash, code, sheet, cell));
CREATE TABLE IF NOT EXISTS members (
    hash TEXT NOT NULL, unit TEXT NOT NULL, name TEXT NOT NULL, means TEXT NOT NULL,
    composite TEXT, rank INTEGER, PRIMARY KEY (hash, name));
CREATE TABLE IF NOT EXISTS branches (
    hash TEXT PRIMARY KEY, unit TEXT NOT NULL, figures TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS grades (
    hash TEXT NOT NULL, unit TEXT NOT NULL, name TEXT NOT NULL, grade TEXT,
    PRIMARY KEY (hash, name));
"""


def path_for(summary_path):
    """The archive beside the town summary: TOWN.xlsx -> TOWN.sqlite."""
    return Path(summary_path).with_suffix(".sqlite")


def record(db_path, results, now=None, source=None):
    """Record every result; returns the number of files the archive did not have.

    ``db_path`` is a copy that the caller makes durable and puts in place (consolidate:
    ``atomic_outputs`` flushes it to disk before the rename, and throws it away should
    anything fail), so SQLite neither syncs it nor keeps its rollback journal on disk:
    the same file, a sixth of the time less for a town's inbox.

    ``source``: the archive's real path, for the message when ``db_path`` (its copy)
    is not an archive or cannot be written (XlsheetsError, nothing recorded)."""
    with Recorder(db_path, source) as recorder:
        recorder.add(results)
        return recorder.finish(results, now)


class Recorder:
    """The archive written while collect runs (``record`` in two steps): ``add`` records
    each file's findings and figures as its result comes, keyed by its content, which no
    later decision changes; ``finish`` the files with the fates collect decided, and
    commits. One transaction: nothing is committed before ``finish``, and a recorder left
    unfinished (an error, an interrupt) leaves the copy as it found it.

    The office waits for ``finish`` only: the rest is done while the workers read."""

    def __init__(self, db_path, source=None):
        self.db_path, self.source = db_path, source
        with self._errors():
            self.con = sqlite3.connect(db_path, isolation_level=None)
            try:
                self.con.execute("PRAGMA synchronous=OFF")
                self.con.execute("PRAGMA journal_mode=MEMORY")
                self.con.executescript(SCHEMA)
                self.con.execute("BEGIN")
            except BaseException:
                self.con.close()
                raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Let go of the archive; what was not finished is rolled back."""
        con, self.con = self.con, None
        if con is not None:
            with contextlib.suppress(sqlite3.Error):
                if con.in_transaction:
                    con.rollback()
            con.close()

    @contextlib.contextmanager
    def _errors(self):
        try:
            yield
        except sqlite3.Error as e:
            what = str(e).lower()
            why = ("磁盘已满" if "full" in what else
                   "文件已损坏或不是档案库" if "not a database" in what or "malformed" in what else
                   "正被其他程序占用" if "locked" in what else str(e))
            raise XlsheetsError(f"档案库 {self.source or self.db_path} 无法写入({why}),"
                                "全镇汇总和档案库均未写入。"
                                "如档案库已损坏,请把它移到别处保存后重新运行(会新建档案库)。") from None

    def add(self, results):
        """Each result's findings, members, grades and figures (INSERT OR IGNORE: a file
        the archive has, or a duplicate of one, adds nothing)."""
        with self._errors():
            for r in results:
                self._content(r)

    def finish(self, results, now=None):
        """The files and their fates (``results`` as collect decided them), then commit;
        returns the number of files the archive did not have."""
        now = (now or dt.datetime.now()).replace(microsecond=0).isoformat()
        with self._errors():
            new = sum(map(self._file, results, repeat(now)))
            self.con.execute("COMMIT")
        return new

    def _file(self, r, now):
        con, ident = self.con, r.identity
        known = con.execute("SELECT fate, reason FROM files WHERE hash=? AND origin=?",
                            (r.hash, r.origin)).fetchone()
        if known is None:
            con.execute("INSERT INTO files VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                        (r.hash, r.origin, r.received, r.size, ident.get("unit"),
                         ident.get("set"), ident.get("version"), ident.get("workbook_id"),
                         r.modified, r.fate, r.reason, now))
            return 1
        if known != (r.fate, r.reason):  # a newer version came since
            con.execute("UPDATE files SET fate=?, reason=? WHERE hash=? AND origin=?",
                        (r.fate, r.reason, r.hash, r.origin))
        return 0

    def _content(self, r):
        con = self.con
        con.executemany(
            "INSERT OR IGNORE INTO findings VALUES (?,?,?,?,?,?)",
            [(r.hash, f["code"], f["severity"], f["sheet"], f["cell"], f["message"])
             for f in r.findings])
        if r.branch:
            unit = r.branch["unit"]
            con.executemany(
                "INSERT OR IGNORE INTO members VALUES (?,?,?,?,?,?)",
                [(r.hash, unit, m["name"], _TEXT(m["means"]), _TEXT(m["composite"]),
                  m["rank"]) for m in r.branch["members"]])
            if r.branch.get("grading") is not None:  # 评定等次; None: not graded yet
                con.executemany(
                    "INSERT OR IGNORE INTO grades VALUES (?,?,?,?)",
                    [(r.hash, unit, m["name"], m.get("grade")) for m in r.branch["members"]])
            con.execute("INSERT OR IGNORE INTO branches VALUES (?,?,?)",
                        (r.hash, unit, _SORTED(r.branch)))


def _encoder(sort_keys):
    """``json.dumps(x, ensure_ascii=False, sort_keys=...)`` as one function made once:
    json.dumps builds a new encoder per call, which costs more than encoding a member's
    means. CPython's C encoder with the arguments json.dumps gives it (the same text),
    else the pure-Python encoder."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return json.JSONEncoder(ensure_ascii=False, sort_keys=sort_keys).encode
    encode = make({}, None, json.encoder.encode_basestring, None, ": ", ", ", sort_keys,
                  False, True)
    return lambda x: "".join(encode(x, 0))


_TEXT, _SORTED = _encoder(False), _encoder(True)


def source_of(db_path, unit, name):
    """Which files a member's figures came from: [(origin, fate, composite)]."""
    con = sqlite3.connect(db_path)
    try:
        return con.execute(
            "SELECT f.origin, f.fate, m.composite FROM members m JOIN files f ON f.hash = m.hash "
            "WHERE m.unit = ? AND m.name = ? ORDER BY f.origin", (unit, name)).fetchall()
    finally:
        con.close()


def grades_of(db_path, unit):
    """The grades recorded for a branch: [(origin, name, grade)] (grade None: not graded)."""
    con = sqlite3.connect(db_path)
    try:
        return con.execute(
            "SELECT f.origin, g.name, g.grade FROM grades g JOIN files f ON f.hash = g.hash "
            "WHERE g.unit = ? ORDER BY f.origin, g.rowid", (unit,)).fetchall()
    finally:
        con.close()
