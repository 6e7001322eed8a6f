"""Read speed of xlsheets.ooxml against python-calamine on a large branch workbook.

Builds (once, in a temp folder) a workbook with XlsxWriter: 3 entry sheets x 21,400
rows x 11 columns (ballot number, ten scores, a SUM formula with its cached value),
then times, in this one process, calamine reading every sheet to Python lists and
BookFile.cells() reading every sheet; best of --repeat runs each.

    python benchmarks/ooxml_read.py [--unique] [--repeat N] [--keep PATH]

--unique makes every score a distinct float, so identical cells cannot share a Cell
object (the scanner's cache then never hits): the worst case for our reader.
"""
from __future__ import annotations

import argparse
import gc
import random
import tempfile
import time
import zipfile
from pathlib import Path

import xlsxwriter
from python_calamine import CalamineWorkbook

from xlsheets import ooxml
from xlsheets.ooxml import guards, package

SHEETS = ("党员互评", "群众参评", "支委会考评")
ROWS, COLS = 21_400, 11


def build(path, unique):
    rnd = random.Random(2005)
    wb = xlsxwriter.Workbook(path)
    for name in SHEETS:
        ws = wb.add_worksheet(name)
        ws.write_row(0, 0, ["票号"] + [f"第{i}项" for i in range(1, 10)] + ["合计"])
        for r in range(1, ROWS):
            if unique:
                scores = [rnd.uniform(0, 10) for _ in range(9)]
            else:  # what clerks type: whole points, now and then a half or a tenth
                scores = [rnd.choice((rnd.randint(0, 10), round(rnd.uniform(0, 10), 1)))
                          for _ in range(9)]
            ws.write_number(r, 0, r)
            ws.write_row(r, 1, scores)
            ws.write_formula(r, 10, f"=SUM(B{r + 1}:J{r + 1})", None, sum(scores))
    wb.close()


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def calamine(path):
    wb = CalamineWorkbook.from_path(str(path))
    return {n: wb.get_sheet_by_name(n).to_python() for n in SHEETS}


def ours(path):
    with ooxml.BookFile.open(path) as book:
        return {n: book.cells(n) for n in SHEETS}


def phases(path):
    """Seconds spent inflating, checking the XML (expat), and scanning cells."""
    out = {"inflate": 0.0, "xml check": 0.0, "decode+scan": 0.0}
    with ooxml.BookFile.open(path) as book:
        book._shared_strings()
        for n in SHEETS:
            part = book.sheet_part(n)
            t0 = time.perf_counter()
            data = book.part(part)
            t1 = time.perf_counter()
            guards._check_xml(book.path, part, data)
            t2 = time.perf_counter()
            text, _ = guards._decode(book.path, part, data)
            start, end = package._sheet_data(text, "")
            gc.disable()  # as cells() does
            book._cells_fast(part, text, start, end, "")
            gc.enable()
            t3 = time.perf_counter()
            out["inflate"] += t1 - t0
            out["xml check"] += t2 - t1
            out["decode+scan"] += t3 - t2
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--unique", action="store_true", help="all scores distinct floats")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="build the workbook here (reused if present)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "bench.xlsx"
        if not path.exists():
            build(path, args.unique)
        with zipfile.ZipFile(path) as zf:
            xml = sum(i.file_size for i in zf.infolist() if i.filename.startswith("xl/worksheets/"))
        print(f"{path.name}: {path.stat().st_size / 1e6:.1f} MB zipped, "
              f"sheet XML {xml / 1e6:.1f} MB, {len(SHEETS) * ROWS * COLS:,} cells")
        t_cal, cal = best(lambda: calamine(path), args.repeat)
        t_ours, got = best(lambda: ours(path), args.repeat)
        cells = sum(len(c) for c in got.values())
        assert cells == sum(len(r) * COLS for r in cal.values()), "readers disagree on cell count"
        print(f"calamine        {t_cal:6.3f} s")
        print(f"BookFile.cells  {t_ours:6.3f} s  ({cells / t_ours / 1e6:.2f} M cells/s)")
        print(f"ratio           {t_ours / t_cal:6.2f} x calamine")
        print("where our time goes:", ", ".join(f"{k} {v:.3f} s" for k, v in phases(path).items()))


if __name__ == "__main__":
    main()
