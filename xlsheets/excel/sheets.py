"""The xlwings side of the add-in: whole regions in, whole blocks out, calls counted.

Every Excel round trip of the add-in goes through ``Workbook``: a sheet's
used block is read with one ``.value`` call (and, where the engine can, one
``.formula`` call), results are written as one block per region, fills are
grouped (multi-area addresses on the desktop, one colour matrix on the
remote engine) and screen updating and calculation are off while writing.
``reads`` and ``writes`` count the calls, so tests can show that a button
costs the same for 4 members as for 30.

``ArraySheet`` gives the arrays read here the sheet interface of
``reader.grids_from`` (``value``, ``is_formula``, ``last_row``), so the add-in
runs the same reader and checks as the command line.

Engines: the desktop engines (Windows COM, macOS) read formulas, fills and
notes synchronously. xlwings' remote engine (Office.js clients, and the tests)
only carries values and which cells have notes: formulas and fills cannot be
read there, see ``ArraySheet.is_formula`` and ``marks.UNKNOWN_FILL``.
"""

import sys
from contextlib import contextmanager

from xlsheets.workbook import layout as L
from xlsheets.errors import XlsheetsError
from xlsheets.workbook.address import rc

MAX_ROWS = 20_000  # a used range beyond this is formatting, not entries (see _extent)
_ADDRESS_LIMIT = 255  # Excel's Range("A1,B2,...") takes at most 255 characters
_COLOUR_CELLS = 10_000  # xlwings' Range.set_colors takes at most this many cells
_ERRORS = {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#DATA!",
           "#SPILL!", "#CALC!", "#GETTING_DATA"}


def clean(value):
    """A value read from Excel, tidied: whole floats become ints, empty strings None.

    Excel has only floats, so 8.0 is the 8 a clerk typed. Error values
    (#DIV/0! ...) are read as None, as the file reader reads them. Dates stay
    dates: they are not scores, whichever shell reads them.
    """
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if value == "":
        return None
    return value


class ArraySheet:
    """``reader``'s sheet interface over a block read from A1 in one call.

    formulas: the block's ``.formula`` texts, or None where the engine cannot
    read formulas. Then a formula cell counts as intact unless it is in
    ``typed`` (the cells found not to show their formula's result, see
    ``handlers.typed_over``), and a sheet whose rows end in formulas
    (``formula_rows``) is read down to its used range, where those formulas end.
    """

    def __init__(self, values, formulas=None, formula_rows=False):
        self.values = [[clean(v) for v in row] for row in values]
        self.formulas = formulas
        self.formula_rows = formula_rows
        self.typed = None  # {A1} formula cells typed over, when formulas cannot be read

    def value(self, row, col):
        if row < len(self.values) and col < len(self.values[row]):
            return self.values[row][col]
        return None

    def is_formula(self, row, col):
        if self.formulas is not None:
            try:
                text = self.formulas[row][col]
            except IndexError:
                return False
            # A text constant such as '=x keeps its "=" in .formula but equals its value.
            return (isinstance(text, str) and text.startswith("=")
                    and text != self.value(row, col))
        return self.typed is None or L.a1(row, col) not in self.typed

    def last_row(self, last_col):
        last = 0
        for r, row in enumerate(self.values):
            if any(v not in (None, "") for v in row[:last_col + 1]):
                last = r
            elif self.formulas is not None and any(
                    isinstance(f, str) and f.startswith("=")
                    for f in self.formulas[r][:last_col + 1]):
                last = r
        if self.formulas is None and self.formula_rows:
            last = max(last, len(self.values) - 1)
        return last


class Workbook:
    """One open workbook, read and written in whole blocks; ``reads``/``writes`` count calls."""

    def __init__(self, book):
        self.book = book
        self.app = book.app
        self.remote = _engine_name(book) == "remote"
        self.windows = not self.remote and sys.platform.startswith("win")
        self.reads = 0
        self.writes = 0
        self._names = None  # sheet names, read once

    # --- structure ---------------------------------------------------------------------

    @property
    def name(self):
        return self.book.name

    @property
    def can_read_formulas(self):
        return not self.remote

    def sheet_names(self):
        if self._names is None:
            self._names = [s.name for s in self.book.sheets]
        return list(self._names)

    def sheet(self, name):
        """The sheet called ``name`` (as Excel does, ignoring case)."""
        for n in self.sheet_names():
            if n.casefold() == name.casefold():
                return self.book.sheets[n]
        raise KeyError(name)

    def has_sheet(self, name):
        return any(n.casefold() == name.casefold() for n in self.sheet_names())

    def active_sheet(self):
        try:
            return self.book.sheets.active.name
        except Exception:
            return None

    # --- reads -------------------------------------------------------------------------

    def read_sheet(self, name, formulas=False):
        """The sheet's used block from A1 as an ``ArraySheet``: one read (two with formulas)."""
        sheet = self.sheet(name)
        rows, cols = self._extent(sheet)
        rng = sheet.range((1, 1), (rows, cols))
        values = self._read_values(rng)
        texts = None
        if formulas and self.can_read_formulas:
            texts = self._read_formulas(rng, rows, cols)
        return ArraySheet(values, texts, formula_rows=formulas)

    def read_block(self, name, rows, cols):
        """Cells A1 to (rows, cols) of a sheet as a list of rows: one read."""
        sheet = self.sheet(name)
        values = self._read_values(sheet.range((1, 1), (rows, cols)))
        return [[clean(v) for v in row] for row in values]

    def read_fills(self, name, cells):
        """{cell: "#RRGGBB", "" (no fill) or "?" (engine cannot tell)} of a sheet's cells."""
        if not cells:
            return {}
        if self.remote:  # Office.js sends no fills; reading one needs `await get_colors()`
            return {c: "?" for c in cells}
        sheet = self.sheet(name)
        out = {}
        for chunk in _chunks(cells):
            whole = self._uniform_fill(sheet, chunk) if self.windows else None
            if whole is not None:
                out.update((c, whole) for c in chunk)
                continue
            for cell in chunk:
                self.reads += 1
                out[cell] = _hex(sheet.range(cell).color)
        return out

    def notes_at(self, name, cells):
        """{cell: bool} whether each cell already carries a note."""
        sheet = self.sheet(name)
        out = {}
        for cell in cells:
            self.reads += 1
            out[cell] = sheet.range(cell).note is not None
        return out

    def custom_properties(self, keys):
        """{name: text} of document properties (Windows only; {} elsewhere)."""
        if not self.windows:
            return {}
        out = {}
        try:
            props = self.book.api.CustomDocumentProperties
            for key in keys:
                try:
                    self.reads += 1
                    out[key] = str(props.Item(key).Value)
                except Exception:
                    pass
        except Exception:
            return {}
        return out

    def _read_values(self, rng):
        self.reads += 1
        if self.remote:
            # The remote engine's value conversion fails on text like "2005-09-01T10:00:00"
            # (it cuts a "Z" that is not there), which 校验结果's stamp holds: read raw.
            return [[None if v in _ERRORS else v for v in row] for row in rng.raw_value]
        return [list(row) for row in rng.options(ndim=2).value]

    def _read_formulas(self, rng, rows, cols):
        self.reads += 1
        texts = rng.formula
        if isinstance(texts, str):
            texts = [[texts]]
        texts = [list(row) if isinstance(row, (list, tuple)) else [row] for row in texts]
        return texts if len(texts) == rows else None

    def _extent(self, sheet):
        """(rows, columns) from A1 to the used range's last cell, at least 1 x 1."""
        last = sheet.used_range.last_cell
        rows, cols = max(1, last.row), max(1, last.column)
        if rows > MAX_ROWS:  # whole columns formatted: find the last cell with content
            rows = min(self._last_filled_row(sheet) or MAX_ROWS, MAX_ROWS)
        return rows, cols

    def _last_filled_row(self, sheet):
        if not self.windows:
            return None
        try:  # Find("*", LookIn:=xlFormulas, SearchOrder:=xlByRows, SearchDirection:=xlPrevious)
            found = sheet.api.Cells.Find("*", LookIn=-4123, SearchOrder=1, SearchDirection=2)
            return found.Row if found is not None else 1
        except Exception:
            return None

    def _uniform_fill(self, sheet, cells):
        """The one fill of several cells (one COM call), or None if mixed or unknown."""
        try:
            self.reads += 1
            interior = sheet.range(",".join(cells)).api.Interior
            if interior.ColorIndex == -4142:  # xlColorIndexNone
                return ""
            colour = interior.Color
            return None if colour is None else _hex(_int_to_rgb(int(colour)))
        except Exception:
            return None

    # --- writes ------------------------------------------------------------------------

    def write_block(self, name, row, col, rows, text=False):
        """Write a rectangular block at 0-based (row, col) in one call (text: as text)."""
        if not rows:
            return
        width = max(len(r) for r in rows)
        rows = [list(r) + [None] * (width - len(r)) for r in rows]
        sheet = self.sheet(name)
        if text:
            self.writes += 1
            sheet.range((row + 1, col + 1), (row + len(rows), col + width)).number_format = "@"
        self.writes += 1
        sheet.range((row + 1, col + 1)).value = rows

    def write_cells(self, name, cells):
        """Write single cells {A1: value}, one call each (for a few scattered cells)."""
        sheet = self.sheet(name)
        for addr, value in cells.items():
            self.writes += 1
            sheet.range(addr).value = value

    def write_formulas(self, name, cells):
        """Put formulas back {A1: (text without '=', array range or None)}, one call each."""
        sheet = self.sheet(name)
        for addr, (text, array) in cells.items():
            self.writes += 1
            if array:
                sheet.range(array).formula_array = "=" + text
            else:
                sheet.range(addr).formula = "=" + text

    def set_fills(self, name, fills):
        """Fill cells {A1: "#RRGGBB" or None}; the number of calls does not grow with cells.

        Desktop: one multi-area address per colour (chunked at 255 characters).
        Remote: one colour matrix over the cells' bounding rows (``...`` keeps a
        cell as it is), since the remote engine reads only the first area of
        a multi-area address.
        """
        if not fills:
            return
        sheet = self.sheet(name)
        if not self.remote:
            by_colour = {}
            for cell, colour in fills.items():
                by_colour.setdefault(colour, []).append(cell)
            for colour, cells in by_colour.items():
                for chunk in _chunks(sorted(cells, key=_order)):
                    self.writes += 1
                    sheet.range(",".join(chunk)).color = colour
            return
        at = {rc(c): colour for c, colour in fills.items()}
        r0, r1 = min(r for r, _ in at), max(r for r, _ in at)
        c0, c1 = min(c for _, c in at), max(c for _, c in at)
        band = max(1, _COLOUR_CELLS // (c1 - c0 + 1))
        for top in range(r0, r1 + 1, band):
            rows = range(top, min(top + band, r1 + 1))
            if not any((r, c) in at for r in rows for c in range(c0, c1 + 1)):
                continue
            matrix = [[at.get((r, c), ...) for c in range(c0, c1 + 1)] for r in rows]
            self.writes += 1
            sheet.range((rows[0] + 1, c0 + 1), (rows[-1] + 1, c1 + 1)).set_colors(matrix)

    def add_note(self, name, cell, text):
        """Add a note; False (nothing written) if the cell already has one."""
        rng = self.sheet(name).range(cell)
        self.writes += 1
        try:
            rng.add_note(text)
        except ValueError:  # "This cell already has a note"
            return False
        return True

    def delete_note(self, name, cell):
        rng = self.sheet(name).range(cell)
        self.reads += 1
        note = rng.note
        if note is not None:
            self.writes += 1
            note.delete()

    def add_links(self, name, links, tip):
        """Links [(A1, "'sheet'!cell")] to cells of this workbook, one call each.

        The link shows the target's cell address, as the 校验结果 rows do.
        """
        sheet = self.sheet(name)
        for cell, target in links:
            rng = sheet.range(cell)
            text = target.rsplit("!", 1)[-1]
            self.writes += 1
            if self.windows:  # an in-workbook link is a SubAddress for COM
                rng.api.Hyperlinks.Add(Anchor=rng.api, Address="", SubAddress=target,
                                       ScreenTip=tip, TextToDisplay=text)
            else:
                rng.add_hyperlink("#" + target, text, tip)

    def column_widths(self, name, widths):
        sheet = self.sheet(name)
        for c, width in enumerate(widths):
            self.writes += 1
            sheet.range((1, c + 1)).column_width = width

    def add_sheet(self, name, hidden=False):
        """A new sheet after the last one; the sheet active before stays active."""
        active = self.active_sheet()
        self.writes += 1
        sheet = self.book.sheets.add(name=name, after=self.book.sheets[-1])
        self._names = None
        if hidden:
            self.writes += 1
            sheet.visible = False
        self.activate(active)  # Excel activates a sheet it adds
        return sheet

    def clear_sheet(self, name):
        self.writes += 1
        self.sheet(name).clear()

    def delete_sheet(self, name):
        self.writes += 1
        self.sheet(name).delete()
        self._names = None

    def activate(self, name):
        if name and self.has_sheet(name):
            self.writes += 1
            self.sheet(name).activate()

    def alert(self, text, title):
        self.app.alert(text, title=title)

    # --- while writing -----------------------------------------------------------------

    @contextmanager
    def quiet(self):
        """Screen updating and automatic calculation off while writing, restored after."""
        app = self.app
        try:
            updating = app.screen_updating
        except Exception:  # the remote engine cannot read it back
            updating = True
        try:
            calculation = app.calculation
        except Exception:
            calculation = None
        app.screen_updating = False
        app.calculation = "manual"
        try:
            yield
        finally:
            try:
                app.calculation = calculation or "automatic"
            finally:
                app.screen_updating = updating

    @contextmanager
    def unprotected(self, names):
        """Lift sheet protection (no password, as the workbook is made) while writing.

        The branch workbook protects every sheet without a password: fills and
        notes on locked cells need it lifted. The protection, with its
        options, is put back afterwards. Only the desktop engine on Windows
        can do this; the remote engine carries no protection state.
        """
        lifted = []
        try:
            if self.windows:
                for name in names:
                    ws = self.sheet(name).api
                    if not ws.ProtectContents:
                        continue
                    p = ws.Protection
                    options = {k: getattr(p, k) for k in _PROTECTION_OPTIONS}
                    options.update(DrawingObjects=ws.ProtectDrawingObjects,
                                   Scenarios=ws.ProtectScenarios)
                    try:
                        self.writes += 1
                        ws.Unprotect("")
                    except Exception:
                        raise ProtectedSheet(name) from None
                    lifted.append((ws, options))
            yield
        finally:
            for ws, options in reversed(lifted):
                self.writes += 1
                ws.Protect(Password="", Contents=True, **options)


_PROTECTION_OPTIONS = ("AllowFormattingCells", "AllowFormattingColumns", "AllowFormattingRows",
                       "AllowInsertingColumns", "AllowInsertingRows", "AllowInsertingHyperlinks",
                       "AllowDeletingColumns", "AllowDeletingRows", "AllowSorting",
                       "AllowFiltering", "AllowUsingPivotTables")


class ProtectedSheet(XlsheetsError):
    """A sheet is protected with a password the add-in does not know."""

    def __init__(self, name):
        self.sheet = name
        super().__init__(f"工作表“{name}”设置了密码保护,无法标记或写入。"
                         "请先在“审阅 → 撤销工作表保护”中取消保护,再重试。")


def _engine_name(book):
    try:
        return book.app.engine.name
    except Exception:
        return ""


def _hex(rgb):
    if rgb is None:
        return ""
    if isinstance(rgb, str):
        return rgb.upper() if rgb.startswith("#") else "#" + rgb.upper()
    r, g, b = rgb
    return f"#{int(r):02X}{int(g):02X}{int(b):02X}"


def _int_to_rgb(number):
    """Excel's colour number (BGR) as (r, g, b)."""
    return number & 0xFF, (number >> 8) & 0xFF, (number >> 16) & 0xFF




def _order(addr):
    return rc(addr)


def _chunks(cells):
    """Cells joined into multi-area addresses of at most 255 characters."""
    chunk, size = [], 0
    for cell in cells:
        if chunk and size + 1 + len(cell) > _ADDRESS_LIMIT:
            yield chunk
            chunk, size = [], 0
        size += len(cell) + (1 if chunk else 0)
        chunk.append(cell)
    if chunk:
        yield chunk
