"""Speed and memory of ``collect`` on a whole town's inbox, against calamine's floor.

Generates (once; cached in the folder given on the command line, reruns skip it)
--books branch workbooks of --members members each (500 x 100 = 50,000 members),
one unit each (第001党支部 ...), with ``book.build(plan=..., entries=...)``: a modest
ballot plan (peer 10, mass 5, committee 3 ballots per member, one spare ballot
each), every expected row filled with random whole-number scores in range from a
fixed seed, 20 look-back ballots and the 附件6 counts, so every workbook is
included. Generation runs in a process pool (--jobs, default nproc).

Then, in ONE fresh process (so its rusage holds nothing of the generation):

  floor     python-calamine reading every sheet of every file to Python lists,
            in a ProcessPoolExecutor with the same worker count as collect
  collect   xlsheets.town.collect.consolidate, end to end: collect (the archive
            recorded as the results come), the town book, the archive's commit, both
            files flushed and put in place

best of --repeat each, the ratio collect / floor (goal <= 2.5), the parent's serial
tail (from the last file read to consolidate's return, goal <= 0.5 s), the peak RSS of
the measuring process (RUSAGE_SELF) and of the largest worker (RUSAGE_CHILDREN,
read after each stage of the first run: the floor runs first, so the value after
collect is collect's own largest worker whenever it is larger than the floor's;
forked workers count the parent's pages they share, so its RSS is printed), and where
collect's time goes: its phases, what one worker does per file timed serially on a
sample of files (``examine_workbook``, the lean ``validate_file`` collect calls beside
the full one validate and compute call, and the floor's read of the same file), and a
cProfile of ``examine_workbook`` over the sample.

    python benchmarks/collect_bench.py CACHE_DIR [--books 500] [--members 100]
        [--workers N] [--jobs N] [--repeat N] [--sample N] [--top N]
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime as dt
import hashlib
import json
import os
import pickle
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEED = 2005
PLAN = (("peer", 10), ("mass", 5), ("committee", 3))
SPARE = 1
LOOKBACK = 20
FLOOR_PIECE = "calamine, all sheets (the floor's work)"
GENERATOR = 1  # bump when what is generated changes, so caches are rebuilt
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华兰红玉梅建国志文斌海"


def _rss_now():
    """This process's current RSS in MB from /proc (None where there is none)."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return None


def _mb(kb):
    """ru_maxrss in MB (KB on Linux, bytes on macOS)."""
    return kb / (2**20 if sys.platform == "darwin" else 1024)


# --- generating the inbox ------------------------------------------------------------------

def names(n):
    """``n`` distinct two- or three-character names, the same every run."""
    out = [s + g for g in GIVEN for s in SURNAMES]
    out += [s + a + b for a in GIVEN for b in GIVEN for s in SURNAMES]
    return out[:n]


def unit_name(i):
    return f"第{i + 1:03d}党支部"


def build_one(args):
    """Write branch workbook ``i`` into ``folder`` (runs in a generation worker)."""
    i, members, folder = args
    from xlsheets import writer as book, definitions
    from xlsheets.workbook import layout as L
    from sample import random_entries
    from xlsheets.files.roster import Member, Roster
    from xlsheets.town.split import file_name

    defs = definitions.load()
    rnd = random.Random(SEED * 100_003 + i)
    unit = defs.unit_or_unscheduled(unit_name(i))
    roster = Roster("名册.csv", ("姓名", "职务"), tuple(
        Member(n, "支部书记" if k == 0 else "党员", (), k + 2)
        for k, n in enumerate(names(members))))

    entries = random_entries(defs, [m.name for m in roster.members], PLAN, LOOKBACK, rnd)
    path = Path(folder) / file_name(defs.town, unit.name)
    book.build(defs, unit, roster, path, plan=L.BallotPlan(PLAN, spare=SPARE, lookback=LOOKBACK),
               entries=entries)
    return path.stat().st_size


def params(args):
    """What the cached inbox was made with; any change regenerates it."""
    import xlsheets
    from xlsheets import __version__

    src = Path(xlsheets.__file__).parent  # the writer's sources: a changed writer, new books
    h = hashlib.sha256()
    for f in sorted([*src.glob("writer/*.py"), *src.glob("workbook/*.py"), *src.glob("core/*.py"),
                     src / "definitions.py"]):
        h.update(str(f.relative_to(src)).encode() + f.read_bytes())
    return {"books": args.books, "members": args.members, "plan": PLAN, "spare": SPARE,
            "lookback": LOOKBACK, "seed": SEED, "generator": GENERATOR,
            "xlsheets": __version__, "writer": h.hexdigest()[:16]}


def ensure_inbox(cache, args):
    """The cached inbox, generated first when missing or made with other parameters."""
    inbox, stamp = cache / "inbox", cache / "params.json"
    want = json.loads(json.dumps(params(args)))
    if stamp.is_file() and json.loads(stamp.read_text("utf-8")) == want and \
            len(list(inbox.glob("*.xlsx"))) == args.books:
        return inbox, None
    inbox.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    for old in inbox.iterdir():
        old.unlink()
    jobs = args.jobs or os.cpu_count() or 1
    start = time.perf_counter()
    with cf.ProcessPoolExecutor(max_workers=jobs) as pool:
        done = 0
        for _ in pool.map(build_one, [(i, args.members, str(inbox)) for i in range(args.books)],
                          chunksize=4):
            done += 1
            if done % 50 == 0 or done == args.books:
                print(f"generated {done}/{args.books} "
                      f"({time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
    stamp.write_text(json.dumps(want, ensure_ascii=False), "utf-8")
    return inbox, time.perf_counter() - start


# --- what is measured ----------------------------------------------------------------------

def calamine_all(path):
    """Every sheet of one file to Python lists (runs in a floor worker); cells seen."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(path)
    cells = 0
    for n in wb.sheet_names:
        rows = wb.get_sheet_by_name(n).to_python()
        cells += sum(len(r) for r in rows)
    return cells


def floor(files, workers):
    with cf.ProcessPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(calamine_all, files))


GOAL_RATIO = 2.5  # collect / floor
GOAL_TAIL = 0.5  # seconds: the parent's serial tail, after the last file is read


def collect_end_to_end(inbox, workers, out):
    """``collect.consolidate`` (the command's own call: collect with the archive recorded
    as the results come, the archive's last rows and commit, the town book, both files
    flushed and put in place), timed: (total, {phase: s}, results, tail).

    The tail is what the office waits for once the last file is read: from the end of
    the workers' pool (``collect.decide`` called) to consolidate's return."""
    from xlsheets.town import archive, collect, town_book
    from xlsheets import definitions

    defs = definitions.load()
    marks = {}
    wrapped = [(collect, "decide"), (town_book, "write"), (archive.Recorder, "finish"),
               (archive.Recorder, "add")]
    saved = [(owner, name, getattr(owner, name)) for owner, name in wrapped]

    def timed(key, f):
        def run(*a, **k):
            t = time.perf_counter()
            try:
                return f(*a, **k)
            finally:
                now = time.perf_counter()
                marks.setdefault(key + ".first", t)
                marks[key] = marks.get(key, 0.0) + now - t
        return run

    for owner, name, f in saved:
        setattr(owner, name, timed(name, f))
    try:
        t0 = time.perf_counter()
        results, _, _ = collect.consolidate(defs, definitions.DEFAULT_SET, inbox, out, workers)
        t1 = time.perf_counter()
    finally:
        for owner, name, f in saved:
            setattr(owner, name, f)
    ended = marks["decide.first"]
    tail = t1 - ended
    t = {"collect.collect (scan, examine in parallel; the archive's rows as results come)":
         ended - t0,
         "  of which archive.Recorder.add in the parent": marks.get("add", 0.0),
         "tail: decide (the fates)": marks["decide"],
         "tail: archive.Recorder.finish (files, commit)": marks["finish"],
         "tail: town_book.write": marks["write"],
         "tail: the rest (town_rows, both files flushed to disk and put in place)":
         tail - marks["decide"] - marks["finish"] - marks["write"]}
    return t1 - t0, t, results, tail


def examine_pieces(files):
    """Milliseconds per file of what a collect worker does, serially over ``files``.

    ``examine_workbook`` whole (what the worker runs), then its pieces: the digest,
    ``validate_file`` as collect calls it (lean: no talk matrix, the times read while
    the file is open) and as validate/compute call it (full), the figures extracted,
    the result's pickling, and the floor's own read of the same file.
    """
    import inspect as py_inspect

    from xlsheets import definitions
    from xlsheets.files.compute import Outcome, validate_file
    from xlsheets.town import collect as C
    from xlsheets.town.inbox import Item

    defs = definitions.load()
    lean = "talk_matrix" in py_inspect.signature(validate_file).parameters
    t = {}

    def add(key, seconds):
        t[key] = t.get(key, 0.0) + seconds

    size = 0
    for f in files:
        z = time.perf_counter()
        C.examine_workbook(Item(str(f), f.name, ""), definitions.DEFAULT_SET, scan_thread=False)
        a = time.perf_counter()
        add("examine_workbook(scan_thread=False): a worker's work in a full pool", a - z)
        result = C.examine_workbook(Item(str(f), f.name, ""), definitions.DEFAULT_SET)
        b = time.perf_counter()
        add("examine_workbook() whole, the scans beside calamine (a core to spare)", b - a)
        C._digest(f)
        c = time.perf_counter()
        add("  read + sha256", c - b)
        if lean:
            outcome, grids = validate_file(f, defs, talk_matrix=False, inspect=C._modified)
        else:
            outcome, grids = validate_file(f, defs)
            from xlsheets.ooxml import BookFile
            with BookFile.open(f) as bf:
                C._modified(bf)
        d = time.perf_counter()
        add("  validate_file as collect calls it" + (" (lean)" if lean else
                                                      " (full, then a second open)"), d - c)
        C._branch_figures(defs, Outcome(str(f), outcome.unit, list(outcome.findings),
                                        outcome.checked), grids)
        e = time.perf_counter()
        add("  _branch_figures", e - d)
        blob = pickle.dumps(result)
        size += len(blob)
        pickle.loads(blob)
        g = time.perf_counter()
        add("  pickle result (IPC)", g - e)
        validate_file(f, defs)
        h = time.perf_counter()
        add("validate_file full (validate, compute: with the talk matrix)", h - g)
        calamine_all(str(f))
        add(FLOOR_PIECE, time.perf_counter() - h)
    return {k: v / len(files) for k, v in t.items()}, size / len(files)


def profile(files, top):
    """The ``top`` functions by own time over ``examine_workbook`` of ``files`` (cProfile)."""
    import cProfile
    import pstats

    from xlsheets import definitions
    from xlsheets.town.collect import examine_workbook
    from xlsheets.town.inbox import Item

    prof = cProfile.Profile()
    prof.enable()
    for f in files:
        examine_workbook(Item(str(f), f.name, ""), definitions.DEFAULT_SET)
    prof.disable()
    stats = pstats.Stats(prof).stats
    total = sum(v[2] for v in stats.values())
    rows = sorted(stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    out = []
    for (file, line, func), (cc, nc, tt, ct, _) in rows:
        where = f"{Path(file).parent.name}/{Path(file).name}:{line}" if line else file
        per_file = tt * 1000 / len(files)
        out.append(f"  {tt / total:6.1%}  {per_file:7.1f} ms  {nc // len(files):>8,}x  "
                   f"{func}  ({where})")
    return out


def measure(inbox, workers, repeat, sample, top):
    """The report, measured in this one (fresh) process."""
    from xlsheets import __version__
    from xlsheets.town.collect import INCLUDED

    from sample import bytecode

    compiled = bytecode()
    files = sorted(str(p) for p in Path(inbox).glob("*.xlsx"))
    nbytes = 0
    for f in files:  # the same warm page cache for both measurements (read in small
        with open(f, "rb") as fh:  # chunks: the parent's heap stays as it was)
            while chunk := fh.read(1 << 16):
                nbytes += len(chunk)
    at_fork = _rss_now()

    floors, collects = [], []
    rss_after_floor = rss_after_collect = 0.0
    with tempfile.TemporaryDirectory(prefix="collect-bench-") as tmp:
        for run in range(repeat):
            start = time.perf_counter()
            cells = floor(files, workers)
            floors.append(time.perf_counter() - start)
            if run == 0:  # later runs fork from a parent that has held collect's results
                rss_after_floor = _mb(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
                before_collect = _rss_now()
            out = Path(tmp) / f"run{run}" / "全镇汇总.xlsx"
            total, phases, results, tail = collect_end_to_end(inbox, workers, out)
            collects.append((total, phases, tail))
            if run == 0:
                rss_after_collect = _mb(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
            kept = [r for r in results if r.fate == INCLUDED]
            members = sum(len(r.branch["members"]) for r in kept)
            assert len(kept) == len(files), [(r.origin, r.fate, r.reason) for r in results
                                             if r.fate != INCLUDED][:3]
            out_size, db_size = out.stat().st_size, out.with_suffix(".sqlite").stat().st_size
            del results, kept
        sample_files = [Path(f) for f in files[:: max(1, len(files) // max(sample, 1))][:sample]]
        pieces, pickled = examine_pieces(sample_files) if sample else ({}, 0)
        hot = profile(sample_files, top) if sample and top else []
    parent = _mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)

    t_floor = min(floors)
    t_collect, phases, _ = min(collects, key=lambda c: c[0])
    ratio = t_collect / t_floor
    tail = min(t for _, _, t in collects)
    worker_collect = (f"{rss_after_collect:.0f} MB" if rss_after_collect > rss_after_floor
                      else f"<= {rss_after_floor:.0f} MB (not above the floor's)")
    lines = [
        f"collect_bench  xlsheets {__version__}  Python {platform.python_version()}  "
        f"{platform.system()} {platform.machine()}  nproc {os.cpu_count()}  "
        f"workers {workers}  best of {repeat}",
        compiled,
        f"inbox: {len(files)} branch workbooks, {members:,} members, "
        f"{nbytes / 1e6:.1f} MB ({nbytes / len(files) / 1e3:.0f} KB each), {cells:,} cells "
        f"read by calamine; ballots/member {sum(n for _, n in PLAN)} "
        f"({', '.join(f'{k} {n}' for k, n in PLAN)})",
        f"floor: calamine, all sheets, {workers} workers  {t_floor:8.2f} s",
        f"collect end to end                       {t_collect:8.2f} s",
        f"collect / floor                          {ratio:8.2f} x   (goal <= {GOAL_RATIO:g})  "
        f"{'ok' if ratio <= GOAL_RATIO else 'MISSED'}",
        f"parent's tail (after the last file)      {tail:8.2f} s   (goal <= {GOAL_TAIL:g} s)  "
        f"{'ok' if tail <= GOAL_TAIL else 'MISSED'}",
        f"peak RSS: parent (this process) {parent:.0f} MB; largest worker: floor "
        f"{rss_after_floor:.0f} MB, collect {worker_collect}"
        + (f" (first run; workers fork from a parent of {at_fork:.0f} MB before the floor, "
           f"{before_collect:.0f} MB before collect)" if at_fork else " (first run)"),
        f"outputs: town summary {out_size / 1e6:.2f} MB, archive {db_size / 1e6:.2f} MB",
        "collect phases (the best run):",
        *(f"  {k:<80}{v:8.2f} s" for k, v in phases.items()),
    ]
    if pieces:
        whole = next(iter(pieces.values()))
        lines += [
            f"per file, serial, mean over {len(sample_files)} files (ms per file):",
            *(f"  {k:<74}{v * 1000:8.1f}" for k, v in pieces.items()),
            f"  pickled FileResult size: {pickled / 1e3:.0f} KB",
            f"  => examine_workbook in a full pool / calamine per file: "
            f"{whole / pieces[FLOOR_PIECE]:.1f} x",
        ]
    if hot:
        lines += [f"cProfile of examine_workbook() over the same files, top {len(hot)} by own "
                  "time (share, ms per file, calls per file):", *hot]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cache", type=Path, help="folder for the generated inbox (reused when present)")
    ap.add_argument("--books", type=int, default=500)
    ap.add_argument("--members", type=int, default=100)
    ap.add_argument("--workers", type=int, default=None,
                    help="worker processes for collect and the floor (default nproc)")
    ap.add_argument("--jobs", type=int, default=None, help="generation processes (default nproc)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each measurement (best of)")
    ap.add_argument("--sample", type=int, default=20,
                    help="files for the per-file breakdown (0: none)")
    ap.add_argument("--top", type=int, default=12, help="cProfile lines (0: no profile)")
    ap.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    workers = args.workers or os.cpu_count() or 1
    inbox = args.cache / "inbox"
    if args.measure:
        print(measure(inbox, workers, args.repeat, args.sample, args.top))
        return
    started = time.perf_counter()
    inbox, t_gen = ensure_inbox(args.cache, args)
    print(f"inbox {inbox}: " + (f"generated in {t_gen:.0f} s" if t_gen is not None
                                else "cached, generation skipped"), flush=True)
    # A fresh process measures, so RUSAGE_CHILDREN holds no generation worker.
    cmd = [sys.executable, __file__, str(args.cache), "--measure", "--workers", str(workers),
           "--repeat", str(args.repeat), "--sample", str(args.sample), "--top", str(args.top)]
    subprocess.run(cmd, check=True)
    print(f"total wall time {time.perf_counter() - started:.0f} s "
          f"({dt.datetime.now().replace(microsecond=0).isoformat()})")


if __name__ == "__main__":
    main()
