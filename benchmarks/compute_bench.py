"""compute against the calamine read and openpyxl load+save, whole process against whole process.

What: two cases of a 200-member branch workbook, built once (or reused from --keep DIR):

  cached     the benchmark workbook as ``book.build(plan=..., entries=...)`` writes it
             (107 ballots per member: 60 peer, 40 mass, 7 committee, 1 spare each; random
             whole-number scores from a fixed seed, 20 look-back ballots, the 附件6 counts):
             its cached values are already right, so compute writes none of them;
  openpyxl   the same workbook loaded and saved by openpyxl: no cached values, so compute
             writes every formula value (about 25,000).

How: for each case, best of --repeat runs, each a fresh subprocess timed with perf_counter
around ``subprocess.run`` (start-up and imports included):

  calamine   ``python -c``: CalamineWorkbook.from_path(p) + to_python() of every sheet
  compute    ``xlsheets compute COPY`` through the console script, on a fresh copy each run
             (the copy is not timed; exit status 0 required)
  openpyxl   ``python -c``: load_workbook(p).save(out)

then the ratios against the goals of issue 14; the peak memory of each (one subprocess per
measurement: imports, VmHWM reset, run; peak and growth over the RSS after the imports);
and compute's phases, in a process of their own: ``compute_file`` called in-process on a
fresh copy, with the package's internal functions wrapped by perf_counter accumulators (as
a profiler would, the package is not edited); a function that is missing prints "n/a".

Before timing, the package's modules are compiled to bytecode as ``pip install`` leaves
them (``sample.bytecode``): else, with PYTHONDONTWRITEBYTECODE set, every run compiles them.

    python benchmarks/compute_bench.py [--repeat N] [--members N] [--keep DIR]
                                       [--no-memory] [--quick]
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

NOW = dt.datetime(2005, 9, 1, 10, 0)  # a fixed stamp: every run writes the same bytes
PLAN = (("peer", 60), ("mass", 40), ("committee", 7))
LOOKBACK = 20
SEED = 2005
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华兰红玉梅建国志文斌海"

# Goals of issue 14 ("Done when"): compute / calamine per case, openpyxl / compute.
GOAL_CALAMINE = {"cached": 2.5, "openpyxl": 3.0}
GOAL_OPENPYXL = 5.0
GOAL_MEMORY = 2.5


# --- the workbook ------------------------------------------------------------------------

def names(n):
    """``n`` distinct two- or three-character names, the same every run."""
    out = [s + g for g in GIVEN for s in SURNAMES]
    out += [s + a + b for a in GIVEN for b in GIVEN for s in SURNAMES]
    return out[:n]


def build(path, members):
    from xlsheets import writer as book, definitions
    from xlsheets.workbook import layout as L
    from sample import random_entries
    from xlsheets.files.roster import read_roster

    defs = definitions.load()
    unit = defs.unit("机关")
    rnd = random.Random(SEED)
    roster_csv = path.with_name("名册.csv")
    with open(roster_csv, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["姓名", "职务"])
        w.writerows([n, "党员"] for n in names(members))
    roster = read_roster(roster_csv)

    entries = random_entries(defs, [m.name for m in roster.members], PLAN, LOOKBACK, rnd)
    book.build(defs, unit, roster, path, plan=L.BallotPlan(PLAN, spare=1, lookback=LOOKBACK),
               entries=entries)


def cases(folder, members):
    """{case: path} of the two workbooks in ``folder``, built when absent; and the
    seconds the building took (None when both were there)."""
    cached = folder / f"branch-{members}.xlsx"
    saved = folder / f"branch-{members}-openpyxl.xlsx"
    start, built = time.perf_counter(), False
    if not cached.exists():
        build(cached, members)
        built = True
    if not saved.exists():
        import openpyxl
        openpyxl.load_workbook(cached).save(saved)
        built = True
    return {"cached": cached, "openpyxl": saved}, (time.perf_counter() - start if built else None)


def describe(path):
    """Rows, non-empty cells (as calamine reads them), zip and sheet-XML size of ``path``."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    grids = [wb.get_sheet_by_name(n).to_python() for n in wb.sheet_names]
    with zipfile.ZipFile(path) as zf:
        xml = sum(i.file_size for i in zf.infolist() if i.filename.startswith("xl/worksheets/"))
    return {"rows": sum(len(g) for g in grids),
            "cells": sum(1 for g in grids for row in g for v in row if v != ""),
            "zip": path.stat().st_size, "xml": xml}


# --- whole processes ---------------------------------------------------------------------

CALAMINE = ("import sys\n"
            "from python_calamine import CalamineWorkbook\n"
            "wb = CalamineWorkbook.from_path(sys.argv[1])\n"
            "for n in wb.sheet_names:\n"
            "    wb.get_sheet_by_name(n).to_python()\n")
OPENPYXL = ("import sys, openpyxl\n"
            "openpyxl.load_workbook(sys.argv[1]).save(sys.argv[2])\n")
CLI_MAIN = "from xlsheets.cli import main; raise SystemExit(main())"


def console_script():
    """The ``xlsheets`` console script next to this interpreter, else ``python -c main()``."""
    folder = Path(sys.executable).parent
    for name in ("xlsheets", "xlsheets.exe", "Scripts/xlsheets.exe"):
        if (folder / name).is_file():
            return [str(folder / name)]
    return [sys.executable, "-c", CLI_MAIN]


def run(cmd):
    """Seconds of one subprocess; stops the benchmark when it fails."""
    start = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if res.returncode != 0:
        print(f"failed (exit {res.returncode}): {' '.join(cmd)}\n{res.stderr}", file=sys.stderr)
        raise SystemExit(1)
    return took


def whole_processes(path, repeat, scratch):
    """Best of ``repeat`` seconds of the three processes on ``path``, run interleaved so
    that a busy moment of the shared machine spoils all three alike."""
    copy, out = scratch / "compute-copy.xlsx", scratch / "openpyxl-out.xlsx"
    cli = console_script()
    times = {"calamine": [], "compute": [], "openpyxl": []}
    for _ in range(repeat):
        times["calamine"].append(run([sys.executable, "-c", CALAMINE, str(path)]))
        shutil.copyfile(path, copy)
        times["compute"].append(run(cli + ["compute", str(copy)]))
        times["openpyxl"].append(run([sys.executable, "-c", OPENPYXL, str(path), str(out)]))
    return {k: min(v) for k, v in times.items()}


# --- peak memory, one fresh process per measurement ---------------------------------------

# Run in each memory subprocess before its measurement: VmRSS / VmHWM from /proc, VmHWM
# reset to the current RSS (Linux >= 4.0; ru_maxrss would keep the parent's peak, which
# Linux carries across fork+exec); without /proc, ru_maxrss (KB on Linux, bytes on macOS).
MEMORY_PRELUDE = """\
import json, resource, sys
def status(key):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False
def meters():
    if reset_peak() and status("VmRSS") is not None:
        return (lambda: status("VmRSS")), (lambda: status("VmHWM")), "VmHWM"
    div = 2**20 if sys.platform == "darwin" else 1024
    rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / div
    return rss, rss, "ru_maxrss"
"""
MEMORY_RUN = {  # imports, then the measured statement
    "calamine": ("from python_calamine import CalamineWorkbook",
                 ("wb = CalamineWorkbook.from_path(sys.argv[1])\n"
                  "grids = [wb.get_sheet_by_name(n).to_python() for n in wb.sheet_names]")),
    "compute": (("import datetime as dt\n"
                 "from xlsheets import definitions\n"
                 "from xlsheets.files import compute\n"
                 "defs = definitions.load()"),
                ("o = compute.compute_file(sys.argv[1], defs, "
                 f"now=dt.datetime(*{tuple(NOW.timetuple())[:6]}))\n"
                 "assert o.written, [f.text() for f in o.findings][:5]")),
    "openpyxl": ("import openpyxl",
                 "openpyxl.load_workbook(sys.argv[1]).save(sys.argv[2])"),
}


def peak_memory(mode, path, scratch):
    """{"base", "peak", "meter"} MB of one fresh process running ``mode`` on a copy of
    ``path``: RSS after its imports, and its peak after the run."""
    copy = scratch / f"mem-{mode}.xlsx"
    shutil.copyfile(path, copy)
    imports, statement = MEMORY_RUN[mode]
    code = (MEMORY_PRELUDE + imports + "\nbase, peak, meter = meters()\nbefore = base()\n"
            + statement + "\nprint(json.dumps({'base': before, 'peak': peak(), 'meter': meter}))\n")
    res = subprocess.run([sys.executable, "-c", code, str(copy), str(scratch / "mem-out.xlsx")],
                         capture_output=True, text=True, check=False)
    if res.returncode != 0:
        print(f"memory of {mode} failed (exit {res.returncode}):\n{res.stderr}", file=sys.stderr)
        raise SystemExit(1)
    return json.loads(res.stdout.strip().splitlines()[-1])


# --- compute's phases, in-process --------------------------------------------------------

# (key, module, attribute): the functions wrapped, looked up where compute calls them
# (compute.py imports open_book, read_grids, examine, position_values and write_patched
# by name, so its own names are replaced).
WRAPS = (
    ("open_book", "xlsheets.files.compute", "open_book"),
    ("read_grids", "xlsheets.files.compute", "read_grids"),
    ("sheet_bounds", "xlsheets.ooxml.package", "BookFile.sheet_bounds"),
    ("sheet_data", "xlsheets.ooxml.package", "BookFile.sheet_data"),
    ("formula_addresses", "xlsheets.ooxml.package", "BookFile.formula_addresses"),
    ("_calamine", "xlsheets.files.reader", "_calamine"),
    ("scan_wait", "xlsheets.files.reader", "_Parse.join"),
    ("grids_from", "xlsheets.files.reader", "grids_from"),
    ("examine", "xlsheets.files.compute", "examine"),
    ("figure_values", "xlsheets.files.compute", "position_values"),
    ("_changed", "xlsheets.files.compute", "_changed"),
    ("write_patched", "xlsheets.files.compute", "write_patched"),
    ("_patch_sheet", "xlsheets.ooxml.patch", "_patch_sheet"),
    ("zip_add", "xlsheets.ooxml.zipcopy", "ZipWriter.add"),
)
TOP = ("open_book", "read_grids", "examine", "figure_values", "_changed", "write_patched")


class Timers:
    """perf_counter accumulators around wrapped functions. Each call is booked under
    (its key, the outermost wrapped call it runs in), inclusive and exclusive of the
    wrapped calls nested in it; a call in another thread than the main one (the sheet
    scans beside calamine's parse) is booked under (its key, "thread")."""

    def __init__(self):
        self.wrapped, self.acc, self.cells = set(), {}, 0
        self._local = threading.local()

    @property
    def stack(self):
        if not hasattr(self._local, "stack"):
            self._local.stack = []
        return self._local.stack

    def wrap(self, key, fn, after=None):
        clock = time.perf_counter

        def timed(*a, **kw):
            start = clock()
            stack = self.stack
            stack.append([key, 0.0])
            try:
                result = fn(*a, **kw)
            finally:
                took = clock() - start
                _, nested = stack.pop()
                main = threading.current_thread() is threading.main_thread()
                outer = (stack[0][0] if stack else key) if main else "thread"
                if stack:
                    stack[-1][1] += took
                inc, exc = self.acc.get((key, outer), (0.0, 0.0))
                self.acc[(key, outer)] = (inc + took, exc + took - nested)
            if after is not None:
                after(result)
            return result

        timed.__wrapped__ = fn
        self.wrapped.add(key)
        return timed

    def inc(self, key, outer=None):
        return self.acc.get((key, outer or key), (0.0, 0.0))[0] if key in self.wrapped else None

    def exc(self, key, outer=None):
        return self.acc.get((key, outer or key), (0.0, 0.0))[1] if key in self.wrapped else None


def install(timers):
    """Wrap what ``WRAPS`` names (a missing one is skipped: its lines print n/a) and
    python-calamine's sheet reads in ``reader``, through a proxy of ``CalamineWorkbook``."""
    import importlib

    for key, module, attr in WRAPS:
        try:
            owner = importlib.import_module(module)
            *path, name = attr.split(".")
            for part in path:
                owner = getattr(owner, part)
            fn = getattr(owner, name)
        except (ImportError, AttributeError):
            continue
        after = None
        if key == "_changed":
            def after(result):
                timers.cells += sum(len(c) for c in result.values())
        setattr(owner, name, timers.wrap(key, fn, after))
    try:
        from xlsheets.files import reader
        real = reader.CalamineWorkbook
    except (ImportError, AttributeError):
        return

    class Sheet:
        def __init__(self, sheet):
            self._sheet = sheet
            self.to_python = timers.wrap("to_python", sheet.to_python)

        def __getattr__(self, name):
            return getattr(self._sheet, name)

    class Workbook:
        def __init__(self, wb):
            self._wb = wb
            get = timers.wrap("get_sheet_by_name", wb.get_sheet_by_name)
            self.get_sheet_by_name = lambda name: Sheet(get(name))

        def __getattr__(self, name):
            return getattr(self._wb, name)

        @staticmethod
        def from_path(*a, **kw):
            return Workbook(real.from_path(*a, **kw))

    reader.CalamineWorkbook = Workbook


def _sum(*values):
    return None if any(v is None for v in values) else sum(values)


PHASES = (  # label, figure from (timers, total seconds)
    ("compute_file, in-process", lambda t, total: total),
    ("open_book (zip directory, workbook, identity)", lambda t, _: t.inc("open_book")),
    ("read_grids", lambda t, _: t.inc("read_grids")),
    ("  BookFile.sheet_bounds (zip, size, DTD search, extent)",
     lambda t, _: t.inc("sheet_bounds", "read_grids")),
    ("  calamine sheet reads (get_sheet_by_name, to_python)",
     lambda t, _: _sum(t.inc("get_sheet_by_name", "read_grids"), t.inc("to_python", "read_grids"))),
    ("  _calamine (sst/styles guard, from_path)", lambda t, _: t.inc("_calamine", "read_grids")),
    ("  waiting for the scan thread (reader._Parse.join)",
     lambda t, _: t.inc("scan_wait", "read_grids")),
    ("  in the scan thread, beside calamine: expat proof (sheet_data less its bounds)",
     lambda t, _: t.exc("sheet_data", "thread")),
    ("  in the scan thread: formula scan (formula_addresses less sheet_data)",
     lambda t, _: t.exc("formula_addresses", "thread")),
    ("  grids_from's own work (rows, registers, formula check)",
     lambda t, _: t.exc("grids_from", "read_grids")),
    ("  rest of read_grids (error cells, links, names)", lambda t, _: t.exc("read_grids")),
    ("examine (checks and figures)", lambda t, _: t.inc("examine")),
    ("figure_values", lambda t, _: t.inc("figure_values")),
    ("_changed (compare with cached values)", lambda t, _: t.inc("_changed")),
    ("write_patched", lambda t, _: t.inc("write_patched")),
    ("  _patch_sheet (splice the cells)", lambda t, _: t.inc("_patch_sheet", "write_patched")),
    ("  ZipWriter.add (zlib of changed parts)", lambda t, _: t.inc("zip_add", "write_patched")),
    ("  rest of write_patched (open, read + decode parts, copy)", lambda t, _: t.exc("write_patched")),
    ("rest of compute_file (lock, copy, stamp, rename)",
     lambda t, total: None if (s := _sum(*(t.inc(k) for k in TOP))) is None else total - s),
)


def phases_child(path, repeat):
    """Print, as JSON, the best of ``repeat`` of each phase of compute_file on fresh
    copies of ``path`` (this process: the parent runs one per case)."""
    from xlsheets import definitions
    from xlsheets.files import compute

    defs = definitions.load()
    timers = Timers()
    install(timers)
    copy = Path(tempfile.mkdtemp()) / Path(path).name
    runs, cells = [], 0
    for _ in range(repeat):
        shutil.copyfile(path, copy)
        timers.acc, timers.cells = {}, 0
        start = time.perf_counter()
        outcome = compute.compute_file(copy, defs, now=NOW)
        total = time.perf_counter() - start
        assert outcome.written, [f.text() for f in outcome.findings][:5]
        runs.append([fig(timers, total) for _, fig in PHASES])
        cells = timers.cells if "_changed" in timers.wrapped else None
    shutil.rmtree(copy.parent, ignore_errors=True)
    best = [None if any(r[i] is None for r in runs) else min(r[i] for r in runs)
            for i in range(len(PHASES))]
    print(json.dumps({"phases": best, "cells": cells, "findings": len(outcome.findings)}))


def phases(path, repeat):
    res = subprocess.run([sys.executable, __file__, "--phases", str(path), "--repeat", str(repeat)],
                         capture_output=True, text=True, check=False)
    if res.returncode != 0:
        print(f"phases failed (exit {res.returncode}):\n{res.stderr}", file=sys.stderr)
        raise SystemExit(1)
    return json.loads(res.stdout.strip().splitlines()[-1])


def import_times(repeat):
    """Best of ``repeat`` seconds of ``python -c "import X"`` minus ``python -c pass``."""
    def best(code):
        return min(run([sys.executable, "-c", code]) for _ in range(repeat))

    empty = best("pass")
    return {"xlsheets.cli": best("import xlsheets.cli") - empty,
            "xlsheets.cli + files.compute":
                best("import xlsheets.cli, xlsheets.files.compute") - empty}


# --- the report ----------------------------------------------------------------------------

def versions():
    from importlib import metadata

    import xlsheets

    def v(dist):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "?"

    where = Path(xlsheets.__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "-C", str(where), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=False).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(where), "status", "--porcelain", "xlsheets"],
                               capture_output=True, text=True, check=False).stdout.strip()
        commit = f" at {head}{' + local changes' if dirty else ''}" if head else ""
    except OSError:
        commit = ""
    return (f"xlsheets {xlsheets.__version__} ({where}{commit})  "
            f"python-calamine {v('python-calamine')}  openpyxl {v('openpyxl')}  "
            f"{platform.python_implementation()} {platform.python_version()}  "
            f"{platform.system()} {platform.machine()}")


def ms(s):
    return f"{s * 1000:6.0f} ms"


def verdict(ok):
    return "ok" if ok else "MISSED"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs per measurement (best of)")
    ap.add_argument("--members", type=int, default=200)
    ap.add_argument("--keep", type=Path, metavar="DIR",
                    help="build the two workbooks in DIR (reused when present)")
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    ap.add_argument("--quick", action="store_true", help="one run of each (a smoke run)")
    ap.add_argument("--phases", metavar="PATH", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phases:
        return phases_child(args.phases, args.repeat)
    repeat = 1 if args.quick else args.repeat

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folder = args.keep or tmp
        folder.mkdir(parents=True, exist_ok=True)
        paths, t_build = cases(folder, args.members)
        from sample import bytecode
        lines = [f"compute_bench  {versions()}",
                 f"nproc {os.cpu_count()}  best of {repeat}  whole processes"
                 + (f"  (workbooks built in {t_build:.1f} s)" if t_build is not None else ""),
                 bytecode()]
        for case, path in paths.items():
            d = describe(path)
            t = whole_processes(path, repeat, tmp)
            r_cal, r_opx = t["compute"] / t["calamine"], t["openpyxl"] / t["compute"]
            g_cal = GOAL_CALAMINE[case]
            lines += [
                (f"[{case}] {path.name}: {args.members} members x {sum(n for _, n in PLAN)} "
                 f"ballots, {d['rows']:,} rows, {d['cells']:,} cells, {d['zip'] / 1e6:.2f} MB zip, "
                 f"{d['xml'] / 1e6:.1f} MB sheet XML"),
                f"  calamine  read every sheet        {ms(t['calamine'])}",
                f"  compute   xlsheets compute        {ms(t['compute'])}",
                f"  openpyxl  load_workbook + save    {ms(t['openpyxl'])}",
                f"  compute / calamine  {r_cal:5.2f} x   goal <= {g_cal}   {verdict(r_cal <= g_cal)}",
                (f"  openpyxl / compute  {r_opx:5.2f} x   goal >= {GOAL_OPENPYXL:g}     "
                 f"{verdict(r_opx >= GOAL_OPENPYXL)}"),
            ]
            if not args.no_memory:
                mem = {m: peak_memory(m, path, tmp) for m in MEMORY_RUN}
                grow = {m: v["peak"] - v["base"] for m, v in mem.items()}
                meter = mem["compute"]["meter"]
                lines.append(f"  peak memory ({meter}; growth over the RSS after the imports): "
                             + ", ".join(f"{m} {mem[m]['peak']:.0f} MB (+{grow[m]:.0f})"
                                         for m in MEMORY_RUN))
                r_mem = grow["compute"] / max(grow["calamine"], 1e-9)
                lines.append(f"  memory growth compute / calamine  {r_mem:5.2f} x   "
                             f"goal <= {GOAL_MEMORY}   {verdict(r_mem <= GOAL_MEMORY)}")
        imports = import_times(repeat)
        split = {case: phases(path, repeat) for case, path in paths.items()}
        width = max(len(label) for label, _ in PHASES) + 2
        lines.append(f"compute's phases (ms, best of {repeat} each; compute_file on a fresh copy, "
                     "internal functions wrapped)")
        lines.append("  " + "".join(f"{k:>9}" if i else f"{'':{width}}{k:>9}"
                                    for i, k in enumerate(split)))
        for k, v in imports.items():
            lines.append(f"  {'import ' + k + ' (python -c, less pass)':{width}}"
                         + f"{v * 1000:9.0f}" * len(split))

        def cell(v):
            return f"{'n/a':>9}" if v is None else f"{v * 1000:9.0f}"

        for i, (label, _) in enumerate(PHASES):
            lines.append(f"  {label:{width}}" + "".join(cell(p["phases"][i]) for p in split.values()))
        lines.append(f"  {'cells written (_changed), findings':{width}}" + "".join(
            f"{'n/a' if p['cells'] is None else format(p['cells'], ','):>9}" for p in split.values())
            + "   " + ", ".join(f"{case} {p['findings']}" for case, p in split.items()))
        print("\n".join(lines))


if __name__ == "__main__":
    main()
