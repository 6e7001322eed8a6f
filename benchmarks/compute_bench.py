"""Speed and memory of ``compute_file`` on a large branch, against calamine and openpyxl.

Builds (once, in a temp folder, or at --keep) a branch workbook of 200 members with
107 ballots per member (60 peer, 40 mass, 7 committee; 1 spare ballot each), every
expected row filled with random whole-number scores in range from a fixed seed, 20
look-back ballots and the 附件6 counts, with ``book.build(plan=..., entries=...)``, so
compute finds nothing wrong. Then, in this one process, best of --repeat runs each:

  calamine   CalamineWorkbook.from_path(p) + to_python() of every sheet (a pure read)
  compute    compute_file(p) end to end, on a fresh copy of the workbook each run
  openpyxl   load_workbook(p) + save(): what "read, edit, write back" costs with openpyxl

and the peak RSS of each in a fresh subprocess (VmHWM, reset after the imports; "+"
is the growth over the process's RSS after its imports), and a breakdown of compute's
time into its pieces, timed with perf_counter around the same internal calls.

    python benchmarks/compute_bench.py [--repeat N] [--members N] [--keep PATH] [--no-memory]
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import random
import resource
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


# --- what is measured --------------------------------------------------------------------

def calamine_read(path):
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    return {n: wb.get_sheet_by_name(n).to_python() for n in wb.sheet_names}


def compute_once(path):
    from xlsheets.files import compute
    from xlsheets import definitions

    outcome = compute.compute_file(path, definitions.load(), now=NOW)
    assert outcome.written and outcome.ok, [f.text() for f in outcome.findings][:5]
    return outcome


def openpyxl_roundtrip(path, out):
    import openpyxl

    openpyxl.load_workbook(path).save(out)


def compute_phases(path):
    """Seconds of compute's two halves: validate (open, read, check) and the write."""
    from xlsheets.files import compute
    from xlsheets.core.cells import figure_values
    from xlsheets.definitions import load

    defs = load()
    t0 = time.perf_counter()
    outcome, _ = compute.validate_file(path, defs)
    t1 = time.perf_counter()
    compute.compute_file(path, defs, now=NOW)
    t2 = time.perf_counter()
    # What compute compared before writing (validate reads it too: they refuse alike).
    compared, _ = compute._validate(path, defs, None)
    checked = compared.checked
    changed = compute._changed(figure_values(defs, checked.figures, checked.entry_rows),
                               compared.current)
    return {"validate": t1 - t0, "compute": t2 - t1,
            "cells set": sum(len(c) for c in changed.values())}


def best(fn, repeat, setup=None):
    times = []
    for _ in range(repeat):
        args = (setup(),) if setup else ()
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return min(times)


# --- peak memory, one fresh process per measurement ---------------------------------------

def _status_mb(key):
    """VmRSS / VmHWM of this process in MB from /proc (None where there is no /proc)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None


def _reset_peak():
    """Reset VmHWM to the current RSS (Linux >= 4.0); ru_maxrss would keep the parent's
    peak, since Linux carries it across fork+exec."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def child(mode, path):
    """Run one measurement in this (fresh) process; print its RSS before and peak after."""
    import openpyxl  # noqa: F401  every child imports the same, so baselines compare
    import python_calamine  # noqa: F401

    from xlsheets.files import compute
    from xlsheets import definitions
    definitions.load()
    path = Path(path)
    if _reset_peak() and _status_mb("VmRSS") is not None:
        base, peak = (lambda: _status_mb("VmRSS")), (lambda: _status_mb("VmHWM"))
    else:  # no /proc: ru_maxrss (KB on Linux, bytes on macOS)
        div = 2**20 if sys.platform == "darwin" else 1024
        base = peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / div
    before = base()
    if mode == "calamine":
        calamine_read(path)
    elif mode == "compute":
        compute_once(path)
    elif mode == "openpyxl":
        openpyxl_roundtrip(path, path.with_name("openpyxl-out.xlsx"))
    print(json.dumps({"base": before, "peak": peak()}))


def peak_rss(mode, path, scratch):
    work = scratch / f"mem-{mode}"
    work.mkdir(exist_ok=True)
    copy = shutil.copy(path, work / path.name)
    res = subprocess.run([sys.executable, __file__, "--child", mode, str(copy)],
                         capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


# --- the report ----------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement (best of)")
    ap.add_argument("--members", type=int, default=200)
    ap.add_argument("--keep", type=Path, help="build the workbook here (reused if present)")
    ap.add_argument("--no-memory", action="store_true", help="skip the RSS subprocesses")
    ap.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(*args.child)

    from xlsheets import __version__

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = args.keep or tmp / "branch-200.xlsx"
        t_build = None
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            start = time.perf_counter()
            build(path, args.members)
            t_build = time.perf_counter() - start
        with zipfile.ZipFile(path) as zf:
            sheets_xml = sum(i.file_size for i in zf.infolist()
                             if i.filename.startswith("xl/worksheets/"))
        grids = calamine_read(path)
        rows = sum(len(g) for g in grids.values())
        cells = sum(sum(1 for v in row if v != "") for g in grids.values() for row in g)

        run = tmp / "run"
        run.mkdir()
        fresh = run / path.name

        def copy():
            shutil.copyfile(path, fresh)
            return fresh

        t_cal = best(lambda: calamine_read(path), args.repeat)
        t_comp = best(compute_once, args.repeat, setup=copy)
        t_opx = best(lambda: openpyxl_roundtrip(path, tmp / "openpyxl-out.xlsx"), args.repeat)
        phases = [compute_phases(copy()) for _ in range(args.repeat)]
        ph = {k: min(p[k] for p in phases) for k in phases[0]}
        from xlsheets.files import compute
        from xlsheets import definitions
        outcome, _ = compute.validate_file(path, definitions.load())

        mem = {} if args.no_memory else {m: peak_rss(m, path, tmp)
                                         for m in ("calamine", "compute", "openpyxl")}

        def ms(s):
            return f"{s * 1000:6.0f} ms"

        def rss(mode):
            if mode not in mem:
                return ""
            v = mem[mode]
            return f"   peak RSS {v['peak']:4.0f} MB (+{v['peak'] - v['base']:.0f})"

        def goal(ratio, ok, text):
            return f"{ratio:7.2f} x   goal {text}   {'ok' if ok else 'MISSED'}"

        r_cal, r_opx = t_comp / t_cal, t_opx / t_comp
        lines = [
            f"compute_bench  xlsheets {__version__}  {platform.python_implementation()} "
            f"{platform.python_version()}  {platform.system()} {platform.machine()}  "
            f"nproc {os.cpu_count()}  best of {args.repeat}",
            f"workbook  {args.members} members x {sum(n for _, n in PLAN)} ballots "
            f"({', '.join(f'{k} {n}' for k, n in PLAN)}): {rows:,} rows, {cells:,} cells, "
            f"{path.stat().st_size / 1e6:.2f} MB zip, {sheets_xml / 1e6:.1f} MB sheet XML"
            + (f" (built in {t_build:.1f} s)" if t_build is not None else ""),
            f"calamine  read all sheets        {ms(t_cal)}{rss('calamine')}",
            f"compute   compute_file           {ms(t_comp)}{rss('compute')}   "
            f"{ph['cells set']:,} cells set, {len(outcome.findings)} findings",
            f"openpyxl  load_workbook + save   {ms(t_opx)}{rss('openpyxl')}",
            f"ratio     compute / calamine   {goal(r_cal, r_cal <= 2, '<= 2')}",
            f"ratio     openpyxl / compute   {goal(r_opx, r_opx >= 5, '>= 5')}",
        ]
        if mem:
            c, k = mem["compute"], mem["calamine"]
            lines.append(f"memory    compute / calamine   {(c['peak'] - c['base']) / max(1e-9, k['peak'] - k['base']):7.2f} x   "
                         "(RSS growth over the imports)")
        lines += [
            "compute breakdown (best of each, on a fresh copy)",
            f"  validate_file (open, read, check)   {ms(ph['validate'])}",
            f"  compute_file (validate + write)     {ms(ph['compute'])}",
        ]
        print("\n".join(lines))


if __name__ == "__main__":
    main()
