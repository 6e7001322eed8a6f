"""From a workbook's sheets to ``Grids``, for both shells.

``grids_from`` reads the regions the checks need through a small sheet
interface (``value``, ``is_formula``, ``last_row``), so the file shell (cells
parsed from the .xlsx) and the Excel add-in (arrays read from open ranges)
share one reader. The workbook is known by what it says it is (custom
properties, else the identity table on 说明), never by file name or order.
"""

import re
import threading

from xlsheets.core import cells as C
from xlsheets.workbook import layout as L
from xlsheets.core.dates import read_day
from xlsheets.workbook.address import a1, rc
from xlsheets.workbook.grids import EntryRow, Grids, Line, LookbackRow
from python_calamine import CalamineError, CalamineWorkbook

from xlsheets.ooxml import BookError, BookFile
from xlsheets.files.report import SHEET as REPORT
from xlsheets.files.roster import MAX_MEMBERS, too_many



class FileSheet:
    """A sheet of a workbook file: values as python-calamine reads them (a fast,
    Rust reader), and the addresses of its formula cells."""

    def __init__(self, values, formulas, positions=None):
        self.values = values
        # the formula cells' (row, col)s, from their A1 addresses unless given
        self._formula_rc = {rc(a) for a in formulas} if positions is None else positions
        self._last_formula = None  # {col: last row holding a formula}, once asked

    @property
    def formulas(self):
        """The formula cells' A1 addresses (made when asked: the read keeps their
        positions only, a few MB less on a large branch)."""
        return {a1(r, c) for r, c in self._formula_rc}

    def value(self, row, col):
        if row < len(self.values):
            line = self.values[row]
            if col < len(line):
                v = line[col]
                return None if v == "" else v
        return None

    def is_formula(self, row, col):
        return (row, col) in self._formula_rc

    def formula_test(self):
        """``is_formula`` taking one (row, col): the set's own membership test, for a
        caller asking of thousands of cells."""
        return self._formula_rc.__contains__

    def row(self, row, ncols):
        """The first ``ncols`` values of a row, blanks as None: one call per row."""
        line = self.values[row][:ncols] if row < len(self.values) else []
        if "" in line:  # calamine's blank; a full row of numbers skips the per-cell test
            line = [None if v == "" else v for v in line]
        if len(line) < ncols:
            line += [None] * (ncols - len(line))
        return line

    def last_row(self, last_col):
        """The last 0-based row with a value or formula in columns 0..last_col."""
        if self._last_formula is None:  # one walk of the formula cells, not one per call
            by_col = self._last_formula = {}
            for r, c in self._formula_rc:
                if by_col.get(c, -1) < r:
                    by_col[c] = r
        last = max((r for c, r in self._last_formula.items() if c <= last_col), default=0)
        for r in range(len(self.values) - 1, last, -1):
            if any(v != "" and v is not None for v in self.values[r][:last_col + 1]):
                return r
        return last


def identity_from(props, intro):
    """The identity dict from custom properties or the 说明 sheet; None if not ours."""
    ident = {k: props.get(f"xlsheets.{k}") for k, _ in L.IDENTITY_KEYS}
    if ident.get("set") and ident.get("unit"):
        return {k: v or "" for k, v in ident.items()}
    if intro is None:
        return None
    labels = {label: key for key, label in L.IDENTITY_KEYS}
    found = {}
    for r in range(L.IDENTITY_FIRST_ROW, L.IDENTITY_FIRST_ROW + len(L.IDENTITY_KEYS) + 2):
        label = intro.value(r, 0)
        if label in labels:
            value = intro.value(r, 1)
            found[labels[label]] = "" if value is None else str(value)
    return found if found.get("set") and found.get("unit") else None


def unit_of(defs, ident, source):
    """The unit the identity names (a branch the set does not schedule included)."""
    return defs.unit_or_unscheduled(ident["unit"])


def not_ours(source):
    return BookError(source, f"不是民主评议工作簿(找不到“{L.INTRO}”中的工作簿信息),"
                             "请确认文件是由 xlsheets 生成的。")


def open_book(path, defs):
    """Open ``path``; return ``(book, unit, identity)`` or raise BookError (exit 2).

    ``BookFile.open`` checks the package (zip bombs, missing parts) before
    anything is parsed; the values are then read with python-calamine.
    """
    book = BookFile.open(path)
    try:
        if REPORT in book.sheet_names and not book.is_worksheet(REPORT):
            raise BookError(path, f"“{REPORT}”不是普通工作表(可能是图表工作表),计算结果无法写入。"
                                  "请删除或改名该工作表后再试。")
        # a few cells: a thread beside its parse would cost more than it could save
        intro = (_file_sheet(book, L.INTRO, scan_thread=False)
                 if L.INTRO in book.sheet_names else None)
        ident = identity_from(book.custom_properties(), intro)
        if ident is None:
            raise not_ours(path)
        unit = unit_of(defs, ident, path)
    except BaseException:
        book.close()
        raise
    return book, unit, ident


def read_grids(book, defs, unit, identity, cache=None, also=(), scan_thread=True):
    """Read every region the checks need from an open ``BookFile``.

    ``cache`` (a dict) keeps the sheets read, for a caller that needs their
    current values afterwards (compute writes only what differs); ``also`` names
    sheets to read into it besides those the checks need. ``scan_thread``: each
    sheet's scans in a thread beside calamine's parse (``_file_sheet``), for a caller
    with a core to spare; collect's workers, which keep every core busy, scan after
    the parse (the same decisions, in the same order).
    """
    cache = {} if cache is None else cache
    values = _calamine(book)

    def sheet(name):
        if name not in cache:
            cache[name] = _file_sheet(book, name, values, scan_thread)
        return cache[name]

    grids = grids_from(book.path, list(book.sheet_names), sheet, defs, identity)
    for name in also:
        if name in book.sheet_names:
            sheet(name)
    grids.macros = book.macro_parts()
    grids.external_links = book.external_links()
    grids.names = book.defined_names()
    if grids.external_links:  # a copy of a copy: which formulas read the other file
        for name in book.sheet_names:  # every sheet: a clerk's own formula may use the link
            if book.sheet_part(name) and book.is_worksheet(name):
                grids.external_formulas += [
                    (name, addr, _link_target(grids.external_links, m[1]))
                    for addr, cell in book.cells(name).items()
                    if cell.formula and (m := _EXTERNAL.search(_STRING.sub("", cell.formula)))]
    return grids




_STRING = re.compile(r'"[^"]*"')
_EXTERNAL = re.compile(r"\[(\d+)\]")  # [1]Sheet!A1 or '[1]Sheet'!A1: another workbook


def _link_target(links, index):
    """The file an external reference ``[n]`` names, as far as the package tells."""
    k = int(index) - 1
    return links[k] if 0 <= k < len(links) else f"[{index}]"


def _calamine(book):
    book.screen_for_reading()  # what calamine parses on opening: no DTD, bounded size
    try:
        return CalamineWorkbook.from_path(book.path)
    except BaseException as e:
        raise _calamine_error(book, e, "无法读取单元格内容") from None


def _file_sheet(book, name, workbook=None, scan_thread=True):
    """The sheet ``name`` read: calamine's values and the formula scan's addresses.

    The sheet's bounds first: one too large, or with a DTD, is refused before
    calamine builds its grid (a cell at XFD150000 alone would cost gigabytes).
    Then calamine parses it, letting go of the GIL, while a thread of our own proves
    the XML and scans its formulas and error cells (on two cores calamine's parse
    costs no time; calamine stays on this thread, so what it allocates and frees
    stays in the main heap). Calamine's values are used only once that proof has
    passed, and its errors only then: a file is refused for the same reason, in the
    same order, as when one thing ran after the other. Without ``scan_thread`` the
    scans run after the parse, on this thread: where every core is busy already (a
    collect worker per core) the thread's hand-overs of the GIL cost more than it gains
    (500 workbooks on 2 cores: 49 s with it, 36 s without).
    """
    book.sheet_bounds(name)
    workbook = workbook or _calamine(book)

    def scan_work():  # the positions too: this thread waits for calamine anyway
        return {rc(a) for a in book.formula_addresses(name)}, book.error_cells(name)

    scan = _Parse(scan_work) if scan_thread else _After(scan_work)
    try:
        scan.go()
        rows, failed = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False), None
    except BaseException as e:
        rows, failed = None, e
    finally:
        scan.wait()
    if scan.error is not None:  # the proof's or the scan's refusal comes first
        raise scan.error
    if failed is not None:
        raise _calamine_error(book, failed, f"工作表“{name}”无法读取") from None
    positions, errors = scan.result
    for addr, shown in errors.items():  # typed or pasted #DIV/0!: not a blank
        r, c = rc(addr)
        if r < len(rows) and c < len(rows[r]):
            rows[r][c] = shown
    book.release(name)
    return FileSheet(rows, None, positions)


class _Parse(threading.Thread):
    """``work()`` run in a thread of its own once ``go()`` is called: ``result``, or
    ``error`` (whatever it raised) once joined.

    Started, it waits for ``go``: begun at once, its first long C call (expat holds the
    GIL through a whole sheet) would keep ``start()`` from returning until it ended, and
    calamine would begin only then."""

    def __init__(self, work):
        super().__init__(daemon=True)
        self._work, self.result, self.error = work, None, None
        self._go = threading.Event()
        self.start()

    def go(self):
        self._go.set()

    def wait(self):
        """Join, even when Ctrl-C interrupts the join: no thread outlives the read. The
        ``go`` is given here too, should an interrupt have come before it (else: no end)."""
        self._go.set()
        try:
            self.join()
        except BaseException:
            self.join()
            raise

    def run(self):
        try:
            self._go.wait()
            self.result = self._work()
        except BaseException as e:  # handed to the caller, who knows what to say
            self.error = e
        finally:
            self._work = None


class _After:
    """``_Parse``'s interface without a thread: ``work()`` runs when waited for."""

    def __init__(self, work):
        self._work, self.result, self.error = work, None, None

    def go(self):
        pass

    def wait(self):
        try:
            self.result = self._work()
        except BaseException as e:  # as the thread hands it over
            self.error = e
        finally:
            self._work = None


def _calamine_error(book, error, what):
    """A BookError for what python-calamine raised; anything else is raised as it was.

    calamine's errors carry an English parser message: it follows the Chinese
    message as a detail for a technician. A panic in the Rust code (pyo3's PanicException,
    a BaseException) is a file calamine cannot read, not a reason to stop.
    """
    if isinstance(error, MemoryError):
        return BookError(book.path, f"{what}:内存不足,文件过大或疑似恶意构造,已拒绝读取。")
    if isinstance(error, (CalamineError, ValueError, TypeError, OSError, UnicodeError)) \
            or type(error).__name__ == "PanicException":
        detail = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
        return BookError(book.path, f"{what},文件可能已损坏。请用 Excel 或 WPS 打开后另存一次再试。"
                                    f"(技术细节:{detail})")
    raise error


def grids_from(source, names, sheet, defs, identity):
    """Build ``Grids`` from sheet names present and ``sheet(name)`` accessors."""
    g = Grids(source=source, identity=identity, sheets=list(names))
    present = set(names)
    if L.ROSTER in present:
        g.roster = _column(sheet(L.ROSTER), L.RosterCol.NAME, L.ROSTER_FIRST_ROW)
        count = sum(1 for _, name in g.roster if name)
        if count > MAX_MEMBERS:  # before anything members x members is built
            raise BookError(source, f"工作表“{L.ROSTER}”:" + too_many(count))
    schedule = next((n for n in names if n.endswith("工作日程表")), None)
    if schedule is not None:
        s = sheet(schedule)
        g.schedule = [_schedule_text(s.value(L.SCHEDULE_FIRST_ROW + k, 1), defs.year) or ""
                      for k in range(len(defs.steps))]
        g.schedule_steps = [_text(s.value(L.SCHEDULE_FIRST_ROW + k, 0)) or ""
                            for k in range(len(defs.steps))]
    if L.ROSTER in present:
        s = sheet(L.ROSTER)
        g.registers["roles"] = _row(s, 0, len(L.RosterCol))
        g.roles = [Line(r, [name, *_row(s, r, len(L.RosterCol))[L.ROSTER_ROLE_COL:]])
                   for r, name in g.roster]
    _registers(g, present, sheet)
    if L.SUMMARY in present:
        g.summary = _column(sheet(L.SUMMARY), 1, L.SUMMARY_FIRST_ROW)
    if L.OPINION_FORM in present:
        s = sheet(L.OPINION_FORM)
        r0, c = L.OPINION_FORM_NAME
        g.opinion = [(i * L.OPINION_FORM_ROWS + r0, _text(s.value(i * L.OPINION_FORM_ROWS + r0, c)))
                     for i in range(len(g.summary))]
    total_col = L.entry_total_col(defs.items)
    for grp in defs.groups:
        name = L.entry_sheet(grp)
        if name not in present:
            continue
        s = sheet(name)
        g.entry_headers[grp.key] = [s.value(0, c) for c in range(total_col + 1)]
        ballot, member, first = L.EntryCol.BALLOT, L.EntryCol.NAME, L.EntryCol.FIRST_SCORE
        rows = range(L.ENTRY_FIRST_ROW, s.last_row(total_col) + 1)
        read = s.row if hasattr(s, "row") else lambda r, n: _row(s, r, n)
        formula = _formula_test(s)
        g.entries[grp.key] = [  # positional: 34,000 rows on a 200-member workbook
            EntryRow(r, line[ballot], line[member], line[first:total_col], line[total_col],
                     formula((r, total_col)))
            for r in rows for line in (read(r, total_col + 1),)]
        g.ballot_accounts[grp.key] = tuple(
            s.value(*L.account_cell(defs.items, k)) for k in range(2))
    if L.GRADES in present:
        s = sheet(L.GRADES)
        n = len(L.GRADE_HEADERS)
        g.registers["grades"] = _row(s, L.GRADE_HEADER_ROW, n)
        g.grades = [Line(L.GRADE_FIRST_ROW + i, _row(s, L.GRADE_FIRST_ROW + i, n))
                    for i in range(len(g.roster))]
    if L.LOOKBACK_ENTRY in present:
        s = sheet(L.LOOKBACK_ENTRY)
        n = len(defs.lookback_items)
        first = L.LookbackEntryCol.FIRST_SCORE
        g.lookback_header = [s.value(0, c) for c in range(first + n)]
        g.lookback = [LookbackRow(r, s.value(r, L.LookbackEntryCol.BALLOT),
                                  [s.value(r, c) for c in range(first, first + n)])
                      for r in range(L.LOOKBACK_FIRST_ROW, s.last_row(first + n - 1) + 1)]
    if L.SATISFACTION in present:
        s = sheet(L.SATISFACTION)
        g.categories = [s.value(*rc(a)) for a in C.category_cells(defs)]
        g.levels = [s.value(*rc(a)) for a in C.level_cells(defs)]
    entry_rows = {k: [r.row for r in rows] for k, rows in g.entries.items()}
    graded = defs.grading is not None and L.GRADES in present
    for name, cells in C.formula_positions(defs, len(g.summary), entry_rows, graded).items():
        if name not in present:
            continue
        s = sheet(name)
        formula = _formula_test(s)
        g.overwritten += [(name, a1(r, c), s.value(r, c)) for r, c in cells
                          if not formula((r, c))]
    return g


def _formula_test(s):
    """``is_formula`` of sheet ``s`` taking one (row, col): a FileSheet's own fast test,
    else through the sheet interface."""
    if hasattr(s, "formula_test"):
        return s.formula_test()
    return lambda at: s.is_formula(*at)


REGISTERS = (  # sheet, header columns, Grids attribute, first row, last row (None: to the end)
    (L.OPINIONS, L.OPINION_HEADERS, "opinions", L.REGISTER_FIRST_ROW, None),
    (L.TALKS, L.TALK_HEADERS, "talks", L.REGISTER_FIRST_ROW, None),
    (L.MATERIALS, L.MATERIAL_HEADERS, "materials", L.REGISTER_FIRST_ROW, None),
    (L.MEETINGS, L.MEETING_HEADERS, "meetings", L.MEETING_FIRST_ROW,
     L.MEETING_FIRST_ROW + L.MEETING_ROWS - 1),
    (L.MEETINGS, L.ATTENDANCE_HEADERS, "attendance", L.ATTENDANCE_FIRST_ROW, None),
    (L.CHECKLIST, L.CHECKLIST_HEADERS, "checklist", L.REGISTER_FIRST_ROW, None),
)


def _registers(g, present, sheet):
    """The register sheets of steps 2-5 and 9: their headers and non-empty rows."""
    for name, headers, attr, first, last in REGISTERS:
        if name not in present:
            continue
        s = sheet(name)
        n = len(headers)
        head = L.ATTENDANCE_HEADER_ROW if attr == "attendance" else L.REGISTER_HEADER_ROW
        g.registers[attr] = _row(s, head, n)
        end = s.last_row(n - 1) if last is None else last
        lines = []
        for r in range(first, end + 1):
            values = _row(s, r, n)
            if any(v is not None and (not isinstance(v, str) or v.strip()) for v in values):
                lines.append(Line(r, values))
        setattr(g, attr, lines)


def _row(s, r, ncols):
    """A row's values through ``s.row`` when the sheet has it, else cell by cell."""
    if hasattr(s, "row"):
        return s.row(r, ncols)
    return [s.value(r, c) for c in range(ncols)]


def _schedule_text(value, year):
    """A 工作时间 cell as text; a day Excel made a date of (“9月12日” typed into a
    General cell: a date, or its day number) reads the way the schedules write days."""
    day = read_day(value, year) if not isinstance(value, str) else None
    if day is not None and abs(day.year - year) <= 1:
        return f"{day.year}年{day.month}月{day.day}日"
    return _text(value)


def _text(value):
    return None if value is None else str(value).strip()


def _column(s, col, first):
    """[(row, text)] down a column from ``first`` to its last non-empty cell."""
    last = first - 1
    for r in range(first, s.last_row(col) + 1):
        if s.value(r, col) not in (None, ""):
            last = r
    return [(r, _text(s.value(r, col))) for r in range(first, last + 1)]


