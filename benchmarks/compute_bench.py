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

    python benchmarks/compute_bench.py [--repeat N] [--members N] [--keep DIR]
                                       [--no-memory] [--quick]
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
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
    res = subprocess.run(cmd, capture_output=True, text=True)
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
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(where), "status", "--porcelain", "xlsheets"],
                               capture_output=True, text=True).stdout.strip()
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
    args = ap.parse_args()
    repeat = 1 if args.quick else args.repeat

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folder = args.keep or tmp
        folder.mkdir(parents=True, exist_ok=True)
        paths, t_build = cases(folder, args.members)
        lines = [f"compute_bench  {versions()}",
                 f"nproc {os.cpu_count()}  best of {repeat}  whole processes"
                 + (f"  (workbooks built in {t_build:.1f} s)" if t_build is not None else "")]
        for case, path in paths.items():
            d = describe(path)
            t = whole_processes(path, repeat, tmp)
            r_cal, r_opx = t["compute"] / t["calamine"], t["openpyxl"] / t["compute"]
            g_cal = GOAL_CALAMINE[case]
            lines += [
                f"[{case}] {path.name}: {args.members} members x {sum(n for _, n in PLAN)} "
                f"ballots, {d['rows']:,} rows, {d['cells']:,} cells, {d['zip'] / 1e6:.2f} MB zip, "
                f"{d['xml'] / 1e6:.1f} MB sheet XML",
                f"  calamine  read every sheet        {ms(t['calamine'])}",
                f"  compute   xlsheets compute        {ms(t['compute'])}",
                f"  openpyxl  load_workbook + save    {ms(t['openpyxl'])}",
                f"  compute / calamine  {r_cal:5.2f} x   goal <= {g_cal}   {verdict(r_cal <= g_cal)}",
                f"  openpyxl / compute  {r_opx:5.2f} x   goal >= {GOAL_OPENPYXL:g}     "
                f"{verdict(r_opx >= GOAL_OPENPYXL)}",
            ]
        print("\n".join(lines))


if __name__ == "__main__":
    main()
