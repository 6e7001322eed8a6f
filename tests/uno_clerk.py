"""LibreOffice as a clerk: open a workbook, type and edit through Python-UNO, save it.

The pytest side (`run`, `displayed`) starts one headless soffice with a throwaway,
always-recalculate profile (see libreoffice.py), then runs this very file under Debian's
/usr/bin/python3 -- the only interpreter with the `uno` module -- as the driver, the job
passed as JSON on stdin. A file lock in /tmp keeps parallel test workers to one soffice
at a time; soffice's process group is killed afterwards whatever happened.

Steps (sheets by name, cells in A1 notation, rows 1-based as a clerk sees them):
  {"op": "set", "sheet": S, "cell": "C5", "value": 9}  numbers -> setValue, text -> setString
      (verbatim, no number recognition), None -> clear, "=..." -> formula in Excel grammar.
  {"op": "formula", "sheet": S, "cell": "C5", "formula": "=...", "grammar": G}  G is
      "excel" (default: Excel UI names, commas, 'Sheet'!A1), "ooxml" (file grammar, needs
      _xlfn. prefixes such as _xlfn.STDEV.S) or "api" (raw XCell.setFormula: English
      names but ';' separators and $Sheet.A1 references; "=ROUND(1,2)" there is #NAME?).
  {"op": "fill", "sheet": S, "start": "C5", "rows": [[9, 8], [7, "x"]]}  setDataArray;
      values only (a "=..." string lands as text), ragged rows padded with empty cells.
  {"op": "protect"|"unprotect", "sheet": S, "password": ""}
  {"op": "insert_rows", "sheet": S, "before": 5, "count": 2}
  {"op": "delete_rows", "sheet": S, "first": 5, "count": 1}
  {"op": "copy_down", "sheet": S, "from": "K5", "to": "K6:K8"}  copyRange tiled over `to`
      (relative references adjust, like copy and paste).
  {"op": "sort", "sheet": S, "range": "A2:K40", "by": 1, "ascending": true, "header": false}
      `by` is the 0-based column index within the range.
  {"op": "rename_sheet", "sheet": S, "to": T}
  {"op": "copy_all_sheets_to_new_document"}  a new Calc document gets every sheet through
      XSpreadsheets.importSheet (what Move/Copy to a new document does); it replaces the
      current document, which is closed.
  {"op": "recalc"}  calculateAll().
  {"op": "read", "sheet": S, "cells": [...]}  displayed strings (used by `displayed`).
"""
from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

UNO_PYTHON = "/usr/bin/python3"
TIMEOUT = 180
CRASH_RUNS = 5  # sessions tried when soffice itself aborts each time
LOCK = Path(tempfile.gettempdir()) / "xlsheets-uno-clerk.lock"
FILTERS = {"xlsx": "Calc MS Excel 2007 XML", "xls": "MS Excel 97", "ods": "calc8"}


class ClerkError(RuntimeError):
    """The driver or soffice failed; the message carries the driver's stderr and soffice's log."""


def available() -> bool:
    """True when /usr/bin/python3 can import the `uno` module."""
    return Path(UNO_PYTHON).is_file() and subprocess.run(
        [UNO_PYTHON, "-c", "import uno"], capture_output=True).returncode == 0


def run(src: Path, dst: Path, steps: list[dict], fmt: str = "xlsx") -> None:
    """Open `src` in LibreOffice, perform `steps` in order, save as `fmt` to `dst`."""
    if fmt not in FILTERS:
        raise ValueError(f"fmt must be one of {sorted(FILTERS)}, not {fmt!r}")
    _session(src, steps, dst, FILTERS[fmt])


def displayed(src: Path, sheet: str, cells: list[str]) -> dict[str, str]:
    """Open `src`, recalculate everything, return each cell's text as LibreOffice shows it."""
    return _session(src, [{"op": "recalc"}, {"op": "read", "sheet": sheet, "cells": cells}])[-1]


def _session(src: Path, steps: list[dict], dst: Path | None = None, filt: str = "") -> list:
    """Run one soffice + driver under the lock; return the driver's `read` results.

    soffice itself sometimes aborts in headless mode on a loaded machine (a signal in its
    overlay drawing, "Fatal exception" in its log): the session is run again in a fresh
    process and profile, up to ``CRASH_RUNS`` times. Any other failure is tried once
    more; one that repeats - a file LibreOffice truly cannot open, a step that truly
    fails - is raised."""
    failures = []
    while True:
        try:
            return _session_once(src, steps, dst, filt)
        except ClerkError as e:
            failures.append("Fatal exception" in str(e))
            # soffice's own aborts (seen in about a third of the sessions that copy sheets
            # into a new document on a loaded machine): up to five runs; anything else twice
            if len(failures) >= (CRASH_RUNS if all(failures) else 2):
                raise


def _session_once(src, steps, dst, filt):
    import libreoffice  # pytest side only: it needs openpyxl, which /usr/bin/python3 lacks

    exe = libreoffice.soffice_path()
    assert exe, "LibreOffice (soffice) not found on PATH"
    src = Path(src).resolve()
    assert src.is_file(), f"no such workbook {src}"
    job = {"pipe": f"uno_clerk_{uuid.uuid4().hex}", "src": src.as_uri(), "steps": steps,
           "dst": None, "filter": filt, "connect_timeout": 60}
    if dst is not None:
        dst = Path(dst).resolve()
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.unlink(missing_ok=True)
        job["dst"] = dst.as_uri()
    with open(LOCK, "a") as lock, tempfile.TemporaryDirectory(prefix="uno-clerk-") as prof:
        fcntl.flock(lock, fcntl.LOCK_EX)
        (Path(prof) / "user").mkdir()
        (Path(prof) / "user" / "registrymodifications.xcu").write_text(libreoffice._XCU, encoding="utf-8")
        # a session that crashed holding the source leaves LibreOffice's lock file: the next
        # load would then return nothing. Sessions run one at a time, so none is ours now.
        src.with_name(f".~lock.{src.name}#").unlink(missing_ok=True)
        log_path = Path(prof) / "soffice.log"
        with open(log_path, "w") as log:
            office = subprocess.Popen(
                [exe, f"-env:UserInstallation={Path(prof).as_uri()}",
                 f"--accept=pipe,name={job['pipe']};urp;", "--headless", "--invisible",
                 "--norestore", "--nolockcheck", "--nologo", "--nodefault"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        try:
            res = subprocess.run([UNO_PYTHON, str(Path(__file__).resolve())], input=json.dumps(job),
                                 capture_output=True, text=True, timeout=TIMEOUT)
            failure = None if res.returncode == 0 else f"driver rc={res.returncode}\n{res.stderr}"
        except subprocess.TimeoutExpired as e:
            res, failure = None, f"driver timed out after {TIMEOUT}s\n{e.stderr}"
        finally:
            _stop(office)
        if failure is None and dst is not None and not (dst.is_file() and dst.stat().st_size):
            failure = f"driver reported success but wrote no {dst}\n{res.stderr}"
        if failure:
            raise ClerkError(f"{failure}\nsoffice log:\n{log_path.read_text(errors='replace')[-4000:]}")
    return json.loads(res.stdout)


def _stop(office: subprocess.Popen) -> None:
    """Give soffice a moment to exit after desktop.terminate(), then kill its process group."""
    try:
        office.wait(10)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(office.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    office.wait()


# ---- driver: everything below runs under /usr/bin/python3 with `uno` ---------------------

class _Clerk:
    """Performs steps on the current document; `op_<name>` methods are the steps."""

    def __init__(self, uno, desktop, doc):
        self.uno, self.desktop, self.doc, self.reads = uno, desktop, doc, []

    def props(self, **kw):
        """A tuple of PropertyValue from keyword arguments."""
        out = []
        for k, v in kw.items():
            p = self.uno.createUnoStruct("com.sun.star.beans.PropertyValue")
            p.Name, p.Value = k, v
            out.append(p)
        return tuple(out)

    def sheet(self, step):
        return self.doc.Sheets.getByName(step["sheet"])

    def set_formula(self, cell, formula, grammar="excel"):
        """Enter `formula` into `cell`, parsed with the named grammar (see module doc)."""
        if grammar == "api":
            return cell.setFormula(formula)
        lang = {"excel": "XL_ENGLISH", "ooxml": "OOXML"}[grammar]
        const = self.uno.getConstantByName
        mapper = self.doc.createInstance("com.sun.star.sheet.FormulaOpCodeMapper")
        opcodes = mapper.getAvailableMappings(const(f"com.sun.star.sheet.FormulaLanguage.{lang}"),
                                              const("com.sun.star.sheet.FormulaMapGroup.ALL_EXCEPT_SPECIAL"))
        parser = self.doc.createInstance("com.sun.star.sheet.FormulaParser")
        parser.setPropertyValue("CompileEnglish", True)
        parser.setPropertyValue("FormulaConvention", const("com.sun.star.sheet.AddressConvention.XL_OOX"))
        self.uno.invoke(parser, "setPropertyValue", ("OpCodeMap", self.uno.Any(
            "[]com.sun.star.sheet.FormulaOpCodeMapEntry", opcodes)))
        cell.setTokens(parser.parseFormula(formula, cell.getCellAddress()))

    def op_set(self, step):
        cell, v = self.sheet(step).getCellRangeByName(step["cell"]), step["value"]
        if v is None:
            cell.clearContents(1 | 2 | 4 | 16)  # VALUE | DATETIME | STRING | FORMULA
        elif isinstance(v, (int, float)):
            cell.setValue(v)
        elif v.startswith("="):
            self.set_formula(cell, v)
        else:
            cell.setString(v)

    def op_formula(self, step):
        self.set_formula(self.sheet(step).getCellRangeByName(step["cell"]), step["formula"],
                         step.get("grammar", "excel"))

    def op_fill(self, step):
        sh, rows = self.sheet(step), step["rows"]
        width = max(len(r) for r in rows)
        data = tuple(tuple("" if v is None else v for v in r) + ("",) * (width - len(r)) for r in rows)
        at = sh.getCellRangeByName(step["start"]).getCellAddress()
        sh.getCellRangeByPosition(at.Column, at.Row, at.Column + width - 1,
                                  at.Row + len(rows) - 1).setDataArray(data)

    def op_protect(self, step):
        self.sheet(step).protect(step.get("password", ""))

    def op_unprotect(self, step):
        self.sheet(step).unprotect(step.get("password", ""))

    def op_insert_rows(self, step):
        self.sheet(step).getRows().insertByIndex(step["before"] - 1, step.get("count", 1))

    def op_delete_rows(self, step):
        self.sheet(step).getRows().removeByIndex(step["first"] - 1, step.get("count", 1))

    def op_copy_down(self, step):
        sh = self.sheet(step)
        src = sh.getCellRangeByName(step["from"]).getRangeAddress()
        dst = sh.getCellRangeByName(step["to"]).getRangeAddress()
        h, w = src.EndRow - src.StartRow + 1, src.EndColumn - src.StartColumn + 1
        for row in range(dst.StartRow, dst.EndRow + 1, h):
            for col in range(dst.StartColumn, dst.EndColumn + 1, w):
                at = self.uno.createUnoStruct("com.sun.star.table.CellAddress")
                at.Sheet, at.Column, at.Row = src.Sheet, col, row
                sh.copyRange(at, src)

    def op_sort(self, step):
        rng = self.sheet(step).getCellRangeByName(step["range"])
        field = self.uno.createUnoStruct("com.sun.star.table.TableSortField")
        field.Field, field.IsAscending = step["by"], step.get("ascending", True)
        desc = rng.createSortDescriptor()
        for p in desc:
            if p.Name == "SortFields":
                p.Value = self.uno.Any("[]com.sun.star.table.TableSortField", (field,))
            elif p.Name == "ContainsHeader":
                p.Value = step.get("header", False)
        self.uno.invoke(rng, "sort", (desc,))

    def op_rename_sheet(self, step):
        self.sheet(step).setName(step["to"])

    def op_copy_all_sheets_to_new_document(self, step):
        new = self.desktop.loadComponentFromURL("private:factory/scalc", "_blank", 0, self.props(Hidden=True))
        # no repaint while sheets move: headless soffice aborts now and then in its
        # selection overlay when it paints between two imports
        for d in (self.doc, new):
            d.lockControllers()
            d.addActionLock()
        placeholder = new.Sheets.getByIndex(0)
        placeholder.setName(f"clerk-{os.getpid()}")
        for i, name in enumerate(self.doc.Sheets.getElementNames()):
            new.Sheets.importSheet(self.doc, name, i)
        new.Sheets.removeByName(placeholder.getName())
        for d in (self.doc, new):
            d.removeActionLock()
            d.unlockControllers()
        self.doc.close(True)
        self.doc = new

    def op_recalc(self, step):
        self.doc.calculateAll()

    def op_read(self, step):
        sh = self.sheet(step)
        self.reads.append({c: sh.getCellRangeByName(c).getString() for c in step["cells"]})


def _drive(job: dict) -> list:
    """Connect to soffice, open the source, perform the steps, store; return `read` results."""
    import uno

    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + job["connect_timeout"]
    while True:
        try:
            ctx = resolver.resolve(f"uno:pipe,name={job['pipe']};urp;StarOffice.ComponentContext")
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    clerk = _Clerk(uno, desktop, None)
    try:
        clerk.doc = desktop.loadComponentFromURL(job["src"], "_blank", 0, clerk.props(Hidden=True))
        if clerk.doc is None:
            raise RuntimeError(f"LibreOffice could not open {job['src']}")
        for i, step in enumerate(job["steps"]):
            method = getattr(clerk, f"op_{step['op']}", None)
            if method is None:
                raise ValueError(f"step {i}: unknown op {step['op']!r}")
            try:
                method(step)
            except Exception as e:
                raise RuntimeError(f"step {i} {json.dumps(step, ensure_ascii=False)}: {e!r}") from e
        if job["dst"]:
            clerk.doc.storeToURL(job["dst"], clerk.props(FilterName=job["filter"], Overwrite=True))
        return clerk.reads
    finally:
        for closing in (lambda: clerk.doc and clerk.doc.close(True), desktop.terminate):
            try:
                closing()
            except Exception:
                pass  # soffice is killed by the pytest side anyway


if __name__ == "__main__":
    sys.stdout.write(json.dumps(_drive(json.load(sys.stdin)), ensure_ascii=False))
