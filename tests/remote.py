"""Excel without Excel: xlwings' remote engine fed from a real .xlsx, its actions applied back.

``payload(path)`` builds the JSON an Office.js client sends for the workbook
at ``path``: every sheet's values as a 2D list from A1 to its used range, the
book's names, its name and active sheet, and which cells carry notes. A real
Excel shows each formula's *result*, so formula cells get what Excel would
show: by default ``handlers.formula_results`` (the core's figures for the
inputs as typed: text that is a number stays text, as COUNT and AVERAGE see
it), or a LibreOffice recalculation of the file (``shown="libreoffice"``, the
independent check of the default), or the file's cached values
(``shown="cached"``).

``open_book(payload)`` makes the ``xw.Book``; the add-in's handler runs on it;
``apply(actions, path, excel)`` then plays the recorded actions back: values
(setValues, addSheet, sheetClear) into the file with ``xlsheets.ooxml.write_patched``,
and what a file patch does not carry (fills, notes, links, hidden sheets,
deleted sheets, message boxes) into ``Excel``, the rest of Excel's state, which
the next ``payload(path, excel)`` sends again (notes, hidden sheets).

``Calls`` spies on xlwings' public Range/Sheet/Note methods to count the
round trips a button press makes.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from xlsheets.workbook import layout as L
from xlsheets.core.cells import figure_values
from xlsheets.files.compute import validate_file
from xlsheets.excel.handlers import formula_results
from xlsheets.ooxml import BookFile, sheet_xml, write_patched
from xlsheets.workbook.address import col_name, parse_a1

LICENCE_ENV = ("XLWINGS_LICENSE_KEY", "noncommercial")  # PolyForm Noncommercial, tests only


def remote_engine_missing():
    """Why xlwings' remote engine cannot be used here, or None when it can.

    Call with XLWINGS_LICENSE_KEY set. xlwings registers its remote engine when
    it is imported with a licence key; if it was imported before the key was
    set, the engine is registered here the same way.
    """
    try:
        import xlwings as xw

        if "remote" not in [e.name for e in xw.engines]:
            from xlwings.pro import _xlremote

            xw.engines.add(xw.main.Engine(impl=_xlremote.engine))
    except Exception as e:  # not installed, PRO part missing, licence refused
        return f"xlwings' remote engine is not importable: {type(e).__name__}: {e}"
    return None


@dataclass
class Excel:
    """What a workbook open in Excel holds beyond its cell values."""

    fills: dict = field(default_factory=dict)  # (sheet, A1) -> "#rrggbb" or None (cleared)
    notes: dict = field(default_factory=dict)  # (sheet, A1) -> text
    links: dict = field(default_factory=dict)  # (sheet, A1) -> (address, text, tip)
    hidden: set = field(default_factory=set)
    deleted: set = field(default_factory=set)
    widths: dict = field(default_factory=dict)  # (sheet, col) -> width
    text_format: set = field(default_factory=set)  # (sheet, A1) formatted as text
    alerts: list = field(default_factory=list)
    active: str | None = None
    calculation: str = "Automatic"
    screen_updating: bool = True


# --- the payload -------------------------------------------------------------------------

def payload(path, excel=None, *, defs=None, shown="core", name=None, active=0):
    """The remote engine's JSON for the workbook at ``path`` (see the module docstring)."""
    import xlwings as xw

    excel = excel or Excel()
    path = Path(path)
    results = _shown_values(path, defs, shown)
    sheets, index = [], {}
    with BookFile.open(path) as book:
        order = [s for s in book.sheet_names if s not in excel.deleted]
        for sheet_name in order:
            cells = book.cells(sheet_name)
            at = {parse_a1(a): c for a, c in cells.items()}
            rows = max((r for r, _ in at), default=1)
            cols = max((c for _, c in at), default=1)
            values = [[""] * cols for _ in range(rows)]
            for (r, c), cell in at.items():
                value = cell.value
                if cell.formula is not None:
                    value = results.get(sheet_name, {}).get(f"{col_name(c)}{r}", value)
                values[r - 1][c - 1] = "" if value is None else value
            index[sheet_name] = len(sheets)
            sheets.append({
                "name": sheet_name,
                "values": values,
                "used_range_address": f"A1:{col_name(cols)}{rows}",
                "visibility": "Hidden" if sheet_name in excel.hidden else "Visible",
                "notes": [{"address": "$" + "$".join(_split(a))}
                          for (s, a) in excel.notes if s == sheet_name],
                "pictures": [], "shapes": [], "charts": [], "tables": [],
                "pivot_tables": [], "print_area": None, "show_gridlines": True,
            })
        names = []
        for defined, refers in book.defined_names().items():
            if "!" in defined:  # sheet-scoped (print areas): not needed by the add-in
                continue
            sheet_name, _, address = refers.rpartition("!")
            sheet_name = sheet_name.strip("'").replace("''", "'")
            names.append({"name": defined, "refers_to": "=" + refers, "book_scope": True,
                          "scope_sheet_index": None, "scope_sheet_name": None,
                          "sheet_index": index.get(sheet_name),
                          "address": address.replace("$", "")})
    return {
        "client": "Office.js",
        "version": xw.__version__,
        "book": {"name": name or path.name, "active_sheet_index": active, "selection": "A1",
                 "calculation": excel.calculation},
        "names": names,
        "sheets": sheets,
    }


def _split(addr):
    letters = "".join(ch for ch in addr if ch.isalpha())
    return letters, addr[len(letters):]


def _shown_values(path, defs, shown):
    """{sheet: {A1: value}} that Excel would show in the formula cells."""
    if shown == "cached":
        return {}
    if shown == "libreoffice":
        import libreoffice

        with tempfile.TemporaryDirectory(prefix="recalc-") as tmp:
            out = libreoffice.recalc(Path(path), Path(tmp))
            with BookFile.open(out) as book:
                return {s: {a: c.value for a, c in book.cells(s).items()
                            if c.formula is not None} for s in book.sheet_names}
    if shown != "core":
        raise ValueError(shown)
    from xlsheets import definitions

    defs = defs or definitions.load()
    try:
        outcome, grids = validate_file(path, defs)
    except Exception:  # not a branch workbook: Excel would show the cached values
        return {}
    shown = formula_results(defs, outcome.unit, grids, outcome.checked)
    cached = figure_values(defs, outcome.checked.figures, outcome.checked.entry_rows)
    return {s: v if v is not None else cached.get(s, {}) for s, v in shown.items()}


def open_book(data):
    """An ``xw.Book`` of the remote engine over ``data``; the licence key must be set."""
    import xlwings as xw

    return xw.Book(json=data)


def actions(book):
    return book.impl.json()["actions"]


# --- playing actions back ----------------------------------------------------------------

class UnknownAction(AssertionError):
    pass


def apply(acts, path, excel, sheet_names=None):
    """Play the remote engine's ``acts`` back onto the file at ``path`` and ``excel``."""
    path = Path(path)
    if sheet_names is None:
        with BookFile.open(path) as book:
            sheet_names = [s for s in book.sheet_names if s not in excel.deleted]
    names = list(sheet_names)
    updates, fresh = {}, {}

    def cells_of(sheet):
        return fresh[sheet] if sheet in fresh else updates.setdefault(sheet, {})

    for a in acts:
        func, args = a["func"], a["args"]
        pos = a["sheet_position"]
        sheet = names[pos] if pos is not None else None
        r0, c0 = a["start_row"], a["start_column"]
        if func == "setValues":
            target = cells_of(sheet)
            for i, row in enumerate(a["values"]):
                for j, v in enumerate(row):
                    target[L.a1(r0 + i, c0 + j)] = None if v == "" else v
        elif func == "addSheet":
            ix, new = args
            names.insert(ix, new)
            fresh[new] = {}
            excel.active = new
        elif func == "sheetClear":
            fresh[sheet] = {}
            updates.pop(sheet, None)
            for key in [k for k in excel.links if k[0] == sheet]:
                del excel.links[key]
            for key in [k for k in excel.widths if k[0] == sheet]:
                del excel.widths[key]
        elif func == "sheetDelete":
            names.remove(sheet)
            fresh.pop(sheet, None)
            updates.pop(sheet, None)
            excel.deleted.add(sheet)
            excel.hidden.discard(sheet)
        elif func == "setSheetVisibility":
            (excel.hidden.add if args[0] != "Visible" else excel.hidden.discard)(sheet)
        elif func == "setRangeColors":
            for i, row in enumerate(args[0]):
                for j, colour in enumerate(row):
                    if colour != "keep":
                        excel.fills[(sheet, L.a1(r0 + i, c0 + j))] = colour
        elif func == "setRangeColor":
            for i in range(a["row_count"]):
                for j in range(a["column_count"]):
                    excel.fills[(sheet, L.a1(r0 + i, c0 + j))] = args[0]
        elif func == "addNote":
            cell = args[0].replace("$", "")
            assert (sheet, cell) not in excel.notes, f"a second note at {sheet}!{cell}"
            excel.notes[(sheet, cell)] = args[1]
        elif func == "deleteNote":
            cell = args[0].replace("$", "")
            assert (sheet, cell) in excel.notes, f"no note to delete at {sheet}!{cell}"
            del excel.notes[(sheet, cell)]
        elif func == "addHyperlink":
            excel.links[(sheet, L.a1(r0, c0))] = tuple(args)
        elif func == "setColumnWidth":
            for j in range(a["column_count"]):
                excel.widths[(sheet, c0 + j)] = args[0]
        elif func == "setNumberFormat":
            if args[0] == "@":
                for i in range(a["row_count"]):
                    for j in range(a["column_count"]):
                        excel.text_format.add((sheet, L.a1(r0 + i, c0 + j)))
        elif func == "activateSheet":
            excel.active = names[args[0]]
        elif func == "setCalculation":
            excel.calculation = args[0]
        elif func == "setScreenUpdating":
            excel.screen_updating = bool(args[0])
        elif func == "alert":
            excel.alerts.append(args[0])
        else:
            raise UnknownAction(f"the test harness does not apply {func!r}: {a}")

    add_sheets = {}
    for sheet, cells in fresh.items():
        add_sheets[sheet] = _sheet_part(sheet, cells, excel)
    updates = {s: v for s, v in updates.items() if v and s not in fresh}
    if updates or add_sheets:
        tmp = path.with_name(path.name + ".applying")
        write_patched(path, tmp, updates, add_sheets)
        os.replace(tmp, path)
    return names


def _sheet_part(sheet, cells, excel):
    at = {parse_a1(a): v for a, v in cells.items() if v is not None}
    rows = max((r for r, _ in at), default=0)
    cols = max((c for _, c in at), default=0)
    grid = [[at.get((r, c)) for c in range(1, cols + 1)] for r in range(1, rows + 1)]
    widths = [excel.widths.get((sheet, c)) for c in range(max(cols, 1))]
    links = [(cell, address.lstrip("#"), tip) for (s, cell), (address, _text, tip)
             in sorted(excel.links.items()) if s == sheet]
    return sheet_xml(grid, col_widths=widths if any(widths) else None, hyperlinks=links)


def copy(path, folder, name=None):
    """A copy of ``path`` in ``folder`` (for running the command line on the same file)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / (name or Path(path).name)
    shutil.copyfile(path, out)
    return out


def sheet_values(path, sheet):
    """{A1: value} of a sheet's non-empty cells."""
    with BookFile.open(path) as book:
        return {a: c.value for a, c in book.cells(sheet).items() if c.value not in (None, "")}


# --- counting calls ----------------------------------------------------------------------

READ_CALLS = ("Range.value get", "Range.raw_value get", "Range.formula get", "Range.color get",
              "Range.note get")


class Calls:
    """Counts calls of xlwings' public Range, Sheet, Sheets and Note API (via monkeypatch)."""

    PROPERTIES = {"Range": ("value", "raw_value", "formula", "color", "note", "number_format",
                            "column_width"),
                  "Sheet": ("visible", "used_range")}
    METHODS = {"Range": ("set_colors", "add_note", "add_hyperlink", "clear", "clear_contents"),
               "Sheet": ("clear", "delete", "activate", "to_pdf"),
               "Sheets": ("add",),
               "Note": ("delete",)}

    def __init__(self, monkeypatch):
        import xlwings as xw

        self.counts = Counter()
        for cls_name, props in self.PROPERTIES.items():
            cls = getattr(xw.main, cls_name)
            for prop in props:
                monkeypatch.setattr(cls, prop, self._property(f"{cls_name}.{prop}",
                                                              cls.__dict__[prop]))
        for cls_name, methods in self.METHODS.items():
            cls = getattr(xw.main, cls_name)
            for meth in methods:
                monkeypatch.setattr(cls, meth, self._method(f"{cls_name}.{meth}",
                                                            cls.__dict__[meth]))

    def _property(self, label, prop):
        counts = self.counts

        def get(obj):
            counts[f"{label} get"] += 1
            return prop.fget(obj)

        def set_(obj, value):
            counts[f"{label} set"] += 1
            prop.fset(obj, value)

        return property(get, set_ if prop.fset else None)

    def _method(self, label, fn):
        counts = self.counts

        def wrapped(*args, **kwargs):
            counts[label] += 1
            return fn(*args, **kwargs)

        return wrapped

    def reset(self):
        self.counts.clear()

    @property
    def reads(self):
        return sum(self.counts[k] for k in READ_CALLS)

    @property
    def writes(self):
        return sum(v for k, v in self.counts.items()
                   if k not in READ_CALLS and k != "Sheet.used_range get"
                   and not k.endswith("visible get")
                   and k != "Range.raw_value set")  # how xlwings makes a .value write


def entry_row(path, sheet, ballot, name):
    """The 0-based row of (票号, 党员姓名) on an entry sheet, from its pre-filled cells."""
    with BookFile.open(path) as book:
        cells = book.cells(sheet)
    for addr, cell in cells.items():
        if addr.startswith("A") and addr[1:].isdigit() and cell.value == ballot:
            r = int(addr[1:]) - 1
            other = cells.get(L.a1(r, 1))
            if other is not None and other.value == name:
                return r
    raise KeyError((sheet, ballot, name))
