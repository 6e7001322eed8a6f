"""The ribbon buttons: one handler per button, each a thin shell around the core.

The add-in's VBA calls, for each button::

    RunPython "import xlsheets.excel.handlers as h; h.validate()"

Each handler takes the calling workbook, ``xw.Book.caller()`` (the add-in's
xlwings module, ``xlwings_custom_addin.bas``, hands over the active workbook;
should the caller be an .xlam itself, the active workbook is used instead),
and runs a ``*_book(book, ...)`` core that tests call with a remote-engine
``xw.Book``. The cores read every region once
(see ``sheets.Workbook``), build ``Grids`` through ``reader.grids_from``, run
``checks.check`` - the same reader and checks as ``xlsheets validate`` - and
only then write, in whole blocks, with screen updating and calculation off.

Whatever goes wrong reaches the clerk as one Chinese message box, never a
traceback (XLSHEETS_DEBUG=1 prints it to stderr for developers); nothing is
written before every read and check has succeeded.
"""

import datetime as dt
import os
import sys
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from xlsheets import definitions
from xlsheets.workbook import layout as L
from xlsheets.files import canonical, report
from xlsheets.core import stamp as S
from xlsheets.core.cells import formula_cells
from xlsheets.core.examine import examine
from xlsheets.errors import UsageError, XlsheetsError
from xlsheets.core.findings import has_errors
from xlsheets.core.numbers import display
from xlsheets.core.shown import UNREAD, formula_results, typed_over
from xlsheets.files.new_book import new_book as build_new_book
from xlsheets.files.reader import grids_from, identity_from, not_ours, unit_of
from xlsheets.excel import marks as M
from xlsheets.excel.sheets import ArraySheet, Workbook
from xlsheets.workbook.address import rc

TITLE = "民主评议工作簿"
LINK_TIP = "转到该单元格"
LIST_LIMIT = 12  # findings listed in a message box; the rest are counted


# --- the buttons -----------------------------------------------------------------------

def validate():
    """校验: mark every finding's cell (red errors, yellow warnings) with a note."""
    _button(lambda book: validate_book(book, _defs()))


def compute():
    """计算得分: validate; without errors fix text numbers and write 校验结果."""
    _button(lambda book: compute_book(book, _defs()))


def clear_marks():
    """清除标记: undo exactly the marks the add-in made."""
    _button(clear_marks_book)


def consolidate(folder=None):
    """汇总: collect a folder of returned workbooks into the town summary, as `xlsheets collect`."""
    _button(lambda book: consolidate_app(book.app, _defs(), folder), needs_book=False)


def export_opinions():
    """导出评议意见表: the 附件4 forms as a PDF beside the workbook."""
    _button(lambda book: export_opinions_book(book, _defs()))


def import_online(download=None, group=None):
    """导入网上答卷: a 问卷星 / 腾讯问卷 download into an entry sheet, as `xlsheets import`."""
    _button(lambda book: import_online_book(book, _defs(), download, group))


def show_help():
    """帮助: what each button does."""
    _button(help_book, needs_book=False)


def new_book(unit=None, roster=None, out=None):
    """新建工作簿: ask for the unit and the roster file, build the workbook and open it.

    The VBA may pass ``unit``, ``roster`` and ``out`` (paths) if it asked the
    clerk itself; otherwise Excel's own input box and file dialog ask (desktop
    Excel on Windows only; elsewhere the message explains the command line).
    """
    _button(lambda book: new_book_app(book.app, _defs(), unit, roster, out), needs_book=False)


# --- reading a workbook ----------------------------------------------------------------

@dataclass
class Read:
    """Everything one button press read from a workbook, checked."""

    xb: Workbook
    sheets: list
    unit: object
    identity: dict
    grids: object
    checked: object
    findings: list  # sorted, stamp-stale included (as validate_file)
    record: list  # [marks.Recorded] from the record sheet
    record_rows: int  # rows the record sheet holds now (to blank them when rewriting)
    blocks: dict = field(default_factory=dict)  # sheet name -> ArraySheet read


def read_book(xb, defs, expected_unit=None):
    """Read and check the open workbook; BookError if it is not a branch workbook."""
    names = xb.sheet_names()
    identity = _identity(xb, names)
    if identity is None:
        raise not_ours(xb.name)
    unit = unit_of(defs, identity, xb.name)
    with_formulas = set(formula_cells(defs, 0, {}, graded=True))
    blocks = {}

    def sheet(name):
        if name not in blocks:
            blocks[name] = xb.read_sheet(name, formulas=name in with_formulas)
        return blocks[name]

    grids = grids_from(xb.name, names, sheet, defs, identity)
    previous = _stamp(xb, names)
    seen = examine(defs, unit, grids, formulas=canonical.formulas, previous=previous,
                   expected_unit=expected_unit)
    blind = [n for n, s in blocks.items() if n in with_formulas and s.formulas is None]
    if blind:
        # The engine cannot read formulas: a formula cell is intact while it shows what
        # the formula shows for these inputs (the figures never depend on those cells).
        checked = seen.checked
        typed = typed_over(defs, checked, formula_results(defs, unit, grids, checked),
                           lambda s, a: _shows(blocks.get(s), a))
        for n in blind:
            blocks[n].typed = {a for s, a in typed if s == n}
        grids = grids_from(xb.name, names, sheet, defs, identity)
        seen = examine(defs, unit, grids, formulas=canonical.formulas, previous=previous,
                       expected_unit=expected_unit)
    checked, findings = seen.checked, seen.findings
    record, record_rows = [], 0
    if M.RECORD_SHEET in names:
        rows = xb.read_sheet(M.RECORD_SHEET).values
        record, record_rows = M.parse_record(rows), len(rows)
    return Read(xb, names, unit, identity, grids, checked, findings, record, record_rows,
                blocks)


def _shows(block, addr):
    """What a sheet read shows at ``addr`` for ``shown.typed_over``: UNREAD unless its
    formulas could not be read."""
    if block is None or block.formulas is not None:
        return UNREAD
    return block.value(*rc(addr))


def _identity(xb, names):
    props = xb.custom_properties([f"xlsheets.{k}" for k, _ in L.IDENTITY_KEYS])
    intro = None
    if L.INTRO in names:
        rows = L.IDENTITY_FIRST_ROW + len(L.IDENTITY_KEYS) + 2
        intro = ArraySheet(xb.read_block(L.INTRO, rows, 2))
    return identity_from(props, intro)


def _stamp(xb, names):
    """The previous compute's stamp on 校验结果 (as ``report.read_stamp``), or None."""
    if S.SHEET not in names:
        return None
    rows = xb.read_block(S.SHEET, S.FIRST_ROW + len(S.STAMP_KEYS), 2)
    return S.parse([(a, b) for a, b in rows[S.FIRST_ROW:]])


# --- marks -----------------------------------------------------------------------------

def plan_marks(read, findings):
    """The marks change for ``findings``: reads the fills and notes of newly marked cells."""
    new = M.plan(findings, read.sheets)
    old = {(r.sheet, r.cell) for r in read.record}
    fresh = {}
    for sheet, cell in new:
        if (sheet, cell) not in old:
            fresh.setdefault(sheet, []).append(cell)
    fills, notes = {}, {}
    for sheet, cells in fresh.items():
        fills.update(((sheet, c), v) for c, v in read.xb.read_fills(sheet, cells).items())
        notes.update(((sheet, c), v) for c, v in read.xb.notes_at(sheet, cells).items())
    return M.change(read.record, new, fills, notes)


class WriteFailed(XlsheetsError):
    """Writing into the workbook failed part way."""

    def __init__(self, error):
        super().__init__(
            f"写入工作簿时出错({type(error).__name__}: {error}),只写入了一部分。"
            "已写入的标记可按“清除标记”撤销;请检查工作簿是否被保护或正被编辑,再重试。")


@contextmanager
def _writing(xb, sheets):
    """The write phase: quiet Excel, sheets unprotected, failures as one message."""
    try:
        with xb.quiet(), xb.unprotected(sheets):
            yield
    except XlsheetsError:
        raise
    except Exception as e:
        if os.environ.get("XLSHEETS_DEBUG"):
            traceback.print_exc()
        if not xb.writes:
            raise
        raise WriteFailed(e) from e


def _write_marks(read, ch):
    xb = read.xb
    if not _changes_anything(ch, read):
        return
    if ch.recorded:
        if M.RECORD_SHEET not in read.sheets:
            xb.add_sheet(M.RECORD_SHEET, hidden=True)
        # The record goes first: if a later write fails, 清除标记 can still undo the rest.
        xb.write_block(M.RECORD_SHEET, 0, 0, M.record_rows(ch.recorded, read.record_rows),
                       text=True)
    for sheet, fills in ch.fills.items():
        xb.set_fills(sheet, fills)
    for sheet, cell in ch.delete_notes:
        xb.delete_note(sheet, cell)
    for m in ch.add_notes:
        xb.add_note(m.sheet, m.cell, m.note)
    if not ch.recorded and M.RECORD_SHEET in read.sheets:
        xb.delete_sheet(M.RECORD_SHEET)


def _touched(ch):
    return sorted(set(ch.fills) | {s for s, _ in ch.delete_notes}
                  | {m.sheet for m in ch.add_notes})


def _changes_anything(ch, read):
    if ch.fills or ch.delete_notes or ch.add_notes:
        return True
    if M.RECORD_SHEET in read.sheets:  # delete it, or rewrite it unless it says the same
        return not ch.recorded or ch.recorded != read.record
    return bool(ch.recorded)


# --- validate --------------------------------------------------------------------------

@dataclass
class Result:
    """What a button press found and did (for tests and the message box)."""

    findings: list
    marks: object = None  # marks.Change
    message: str = ""
    computed: bool = False
    read: Read = None


def validate_book(book, defs, expected_unit=None):
    """校验 on an open workbook: mark the findings' cells, then one message box."""
    xb = _workbook(book)
    read = read_book(xb, defs, expected_unit)
    ch = plan_marks(read, read.findings)
    if _changes_anything(ch, read):
        with _writing(xb, _touched(ch)):
            _write_marks(read, ch)
    message = _validate_message(read.findings, ch)
    xb.alert(message, TITLE)
    return Result(read.findings, ch, message, read=read)


def _validate_message(findings, ch):
    if not findings:
        return "校验完成:没有发现问题。" + (
            f"\n已清除上次校验留下的 {ch.restored} 处标记。" if ch.restored else "")
    errors = sum(f.is_error for f in findings)
    head = (f"校验完成:发现 {errors} 个错误、{len(findings) - errors} 个提醒,"
            f"已在 {len(ch.recorded)} 个单元格上标出(红色为错误,黄色为提醒),"
            "鼠标指向单元格可看到说明。")
    tail = ("改正后请再按“校验”;按“清除标记”可去掉这些标记。" if errors else
            "没有错误,可以按“计算得分”。")
    return f"{head}\n\n{_listing(findings)}\n\n{tail}"


def _listing(findings):
    lines = [f.text() for f in findings[:LIST_LIMIT]]
    if len(findings) > LIST_LIMIT:
        lines.append(f"……另有 {len(findings) - LIST_LIMIT} 条,见标出的单元格。")
    return "\n".join(lines)


# --- compute ---------------------------------------------------------------------------

def compute_book(book, defs, expected_unit=None, now=None):
    """计算得分 on an open workbook.

    Validates; with errors only marks them and says so. Otherwise marks the
    warnings, turns text that is a number into numbers, writes the 校验结果
    sheet (exactly ``report.results_rows``) and says what was ranked. The
    figures themselves are the workbook's live formulas, which Excel
    recalculates when calculation is switched back on.
    """
    xb = _workbook(book)
    read = read_book(xb, defs, expected_unit)
    findings = [f for f in read.findings if f.code != "stamp-stale"]
    ch = plan_marks(read, findings)
    checked = read.checked
    if has_errors(findings):
        if _changes_anything(ch, read):
            with _writing(xb, _touched(ch)):
                _write_marks(read, ch)
        errors = sum(f.is_error for f in findings)
        message = (f"有 {errors} 个错误,未计算。已在工作簿中标出(红色为错误,黄色为提醒),"
                   f"鼠标指向单元格可看到说明。\n\n{_listing(findings)}\n\n"
                   "请改正后再按“计算得分”。")
        xb.alert(message, TITLE)
        return Result(findings, ch, message, read=read)

    roster = [n for _, n in read.grids.roster]
    when = now or dt.datetime.now().replace(microsecond=0)
    stamp = S.stamp(defs, checked, roster, when)
    rows, links = report.results_rows(stamp, findings)
    blocks, singles = _fix_writes(defs, read)
    fixed = sum(len(v) for v in checked.fixes.values())
    matrix = L.TALK_MATRIX in read.sheets and bool(roster)
    restored = checked.repair.formulas if checked.repair else {}
    touched = sorted(set(_touched(ch)) | {b[0] for b in blocks} | set(singles) | set(restored)
                     | ({L.TALK_MATRIX} if matrix else set()))
    with _writing(xb, touched):
        _write_marks(read, ch)
        for sheet, cells in restored.items():  # formulas a clerk's edit lost
            xb.write_formulas(sheet, cells)
        for sheet, row, col, values, text in blocks:
            xb.write_block(sheet, row, col, values, text=text)
        for sheet, cells in singles.items():
            xb.write_cells(sheet, cells)
        if matrix:  # a protected sheet: in ``touched``, so unprotected while written
            xb.write_block(L.TALK_MATRIX, L.MATRIX_FIRST_ROW, 1, _matrix(defs, roster, read))
        if report.SHEET in read.sheets:
            xb.clear_sheet(report.SHEET)
        else:
            xb.add_sheet(report.SHEET)
        xb.write_block(report.SHEET, 0, 0, rows, text=True)
        xb.column_widths(report.SHEET, report.COL_WIDTHS)
        xb.add_links(report.SHEET, links, LINK_TIP)
        xb.activate(report.SHEET)
    message = _compute_message(checked.figures, findings, fixed)
    xb.alert(message, TITLE)
    return Result(findings, ch, message, computed=True, read=read)


def _matrix(defs, roster, read):
    """谈心情况表's counts as one block (values, not formulas: see layout.MATRIX_FIRST_ROW)."""
    from xlsheets.core.talks import matrix

    return [["—" if v is None else v for v in row]
            for row in matrix(defs, roster, read.grids.talks)]


def _fix_writes(defs, read):
    """The fixes as writes: one block per column band of an entry sheet, single cells else.

    ``checked.fixes`` holds text that is a number (to become the number) and
    names with stray spaces (to become the trimmed name). On an entry sheet a
    block spans the fixed cells' rows, in the name column or in the score
    columns; in a workbook without errors every other cell of such a block
    is a roster name or blank (names) or a number or blank (scores), so
    writing the block back changes only the fixed cells.
    """
    entry = {L.entry_sheet(g) for g in defs.groups} | {L.LOOKBACK_ENTRY}
    blocks, singles = [], {}
    for sheet, fixes in read.checked.fixes.items():
        if not fixes:
            continue
        if sheet not in entry:
            singles[sheet] = dict(fixes)
            continue
        src = read.blocks[sheet]
        bands = {}
        for addr, value in fixes.items():
            r, c = rc(addr)
            if r < L.ENTRY_FIRST_ROW:  # the header row's ballot accounting: never in a band
                singles.setdefault(sheet, {})[addr] = value  # (a band would span formulas)
                continue
            name_col = sheet != L.LOOKBACK_ENTRY and c == L.EntryCol.NAME
            bands.setdefault(name_col, {})[(r, c)] = value
        for names, at in bands.items():
            r0, r1 = min(r for r, _ in at), max(r for r, _ in at)
            c0, c1 = min(c for _, c in at), max(c for _, c in at)
            values = [[at[(r, c)] if (r, c) in at else src.value(r, c)
                       for c in range(c0, c1 + 1)] for r in range(r0, r1 + 1)]
            blocks.append((sheet, r0, c0, values, names))  # names are written as text
    return blocks, singles


def _compute_message(figs, findings, fixed):
    ranked = sorted((m for m in figs.members if m.rank is not None), key=lambda m: m.rank)
    lines = [f"计算完成:已写入“{report.SHEET}”工作表,各项得分由工作簿中的公式自动计算。",
             f"共 {len(figs.members)} 名党员,已排名 {len(ranked)} 名:"]
    lines += [f"  第 {m.rank} 名  {m.name}  {display(m.composite)}" for m in ranked[:40]]
    if len(ranked) > 40:
        lines.append(f"  ……另有 {len(ranked) - 40} 名,见“汇总”工作表。")
    unranked = [m for m in figs.members if m.rank is None]
    if unranked:
        lines.append("未排名:" + "、".join(f"{m.name}({m.remark or m.composite})"
                                          for m in unranked))
    rate = figs.satisfaction.rate
    lines.append("群众满意率:" + (f"{display(rate)}%" if rate is not None else
                                 "无法计算(附件6 尚未填写参加测评人数)"))
    if fixed:
        lines.append(f"已把 {fixed} 个文字形式的数字改为数字。")
    if findings:
        lines.append(f"另有 {len(findings)} 个提醒,已在单元格上用黄色标出,"
                     f"并列在“{report.SHEET}”工作表中。")
    return "\n".join(lines)


# --- clear marks -----------------------------------------------------------------------

def clear_marks_book(book):
    """清除标记: give every marked cell its fill back, delete our notes and the record."""
    xb = _workbook(book)
    names = xb.sheet_names()
    if M.RECORD_SHEET not in names:
        message = "没有需要清除的标记。"
        xb.alert(message, TITLE)
        return Result([], None, message)
    rows = xb.read_sheet(M.RECORD_SHEET).values
    record = M.parse_record(rows)
    missing = {r.sheet for r in record if r.sheet not in names}
    record = [r for r in record if r.sheet in names]
    read = Read(xb, names, None, None, None, None, [], record, len(rows))
    ch = M.change(record, {}, {}, {})
    with _writing(xb, _touched(ch)):
        _write_marks(read, ch)
    message = f"已清除 {ch.restored} 处标记。"
    if missing:
        message += "(工作表“" + "”“".join(sorted(missing)) + "”已不存在,其上的标记无法恢复。)"
    xb.alert(message, TITLE)
    return Result([], ch, message)


# --- the other buttons -----------------------------------------------------------------

CONSOLIDATE_ASK = "请输入放交回工作簿的文件夹(可含 .xlsx、.zip、.eml):"

HELP_MESSAGE = (
    "民主评议工作簿加载项\n\n"
    "新建工作簿:选择单位和名册文件(CSV 或 XLSX,须有“姓名”列),生成本支部的民主评议工作簿。\n"
    "校验:检查各测评表的录入和九个环节的登记(工作日程、征求意见、谈心和“五个必须谈”、"
    "党性分析材料的字数和审阅、会议公示和出席、“四查四看”),把有问题的单元格标成红色(错误)"
    "或黄色(提醒),鼠标指向单元格可看到问题和改正办法。\n"
    "计算得分:先校验;没有错误时把文字形式的数字改为数字,写出“谈心情况表”和“校验结果”工作表,"
    "并报告排名和群众满意率。各项得分由工作簿中的公式自动计算。\n"
    "清除标记:去掉“校验”留下的颜色和批注,恢复单元格原来的颜色。\n"
    "汇总:由镇办公室使用。选择放交回工作簿的文件夹(可含 .xlsx、.zip、.eml),"
    "生成“全镇汇总.xlsx”和档案库,与命令 xlsheets collect 相同。\n"
    "导出评议意见表:把“附件4 评议意见表”导出为 PDF,放在工作簿所在的文件夹。\n"
    "导入网上答卷:选择测评层次和问卷星或腾讯问卷下载的答卷文件,每份答卷录为一张测评票;"
    "答卷人的 IP、地理位置、设备、昵称、答题时间等不写入工作簿,同一文件导入两次不会重复计票。\n\n"
    "请不要改动工作表名称、表头、公式单元格和“说明”中的工作簿信息。")


def consolidate_app(app, defs, folder=None):
    """汇总 in a running Excel: ask for the inbox folder, collect it, open the summary."""
    from xlsheets.town.collect import INCLUDED, consolidate as collect_folder

    if folder is None:
        if not sys.platform.startswith("win") or getattr(app.engine, "name", "") == "remote":
            raise UsageError("这里无法弹出选择框。请在命令行中运行:\n"
                             "xlsheets collect 文件夹名 --out 全镇汇总.xlsx")
        folder = app.api.InputBox(CONSOLIDATE_ASK, TITLE, os.getcwd())
        if folder is False or not str(folder).strip():
            return Result([], message="")  # the clerk cancelled
    folder = Path(str(folder).strip().strip('"'))
    out = folder / "全镇汇总.xlsx"
    results, _, db = collect_folder(defs, os.environ.get("XLSHEETS_DEFINITIONS")
                                    or definitions.DEFAULT_SET, folder, out, workers=1)
    used = sum(r.fate == INCLUDED for r in results)
    message = (f"共收到 {len(results)} 个文件,采用 {used} 个;汇总已写入 {out},"
               f"档案库 {db.name}。未采用或拒收的原因见汇总中的“文件清单”。")
    if getattr(app.engine, "name", "") != "remote":
        app.books.open(str(out))
    app.alert(message, title=TITLE)
    return Result([], message=message)


def help_book(book_or_app):
    app = getattr(book_or_app, "app", book_or_app)
    app.alert(HELP_MESSAGE, title=TITLE)
    return Result([], message=HELP_MESSAGE)


def export_opinions_book(book, defs):
    """导出附件4: the 附件4 sheet as a PDF beside the workbook, where the engine can."""
    xb = _workbook(book)
    names = xb.sheet_names()
    if _identity(xb, names) is None:
        raise not_ours(xb.name)
    if L.OPINION_FORM not in names:
        raise UsageError(f"工作簿中没有“{L.OPINION_FORM}”工作表(可能被删除或改名),无法导出。")
    folder = os.path.dirname(book.fullname or "")
    if not folder or not os.path.isdir(folder):
        message = ("请先把工作簿保存到电脑上的文件夹中,再按“导出评议意见表”;"
                   "PDF 会放在工作簿所在的文件夹。")
        xb.alert(message, TITLE)
        return Result([], message=message)
    path = os.path.join(folder, f"{Path(book.name).stem}_附件4评议意见表.pdf")
    try:
        if xb.remote:  # Office.js has no PDF export (and xlwings would hide sheets first)
            raise NotImplementedError
        xb.writes += 1
        xb.sheet(L.OPINION_FORM).to_pdf(path)
    except NotImplementedError:
        message = (f"当前的 Excel 环境不能由程序导出 PDF。请打开“{L.OPINION_FORM}”工作表,"
                   "用“文件 → 另存为(或导出)→ PDF”保存,并选择“仅当前工作表”。")
        xb.alert(message, TITLE)
        return Result([], message=message)
    message = f"已把“{L.OPINION_FORM}”导出为:\n{path}"
    xb.alert(message, TITLE)
    return Result([], message=message)


IMPORT_FILTER = "问卷下载 (*.xlsx;*.xls;*.csv;*.zip),*.xlsx;*.xls;*.csv;*.zip"


def import_online_book(book, defs, download=None, group=None):
    """导入网上答卷: the same ``online.import_file`` as `xlsheets import`, on the saved file.

    The workbook is saved and closed first (the file is patched on disk, under its
    lock, like compute) and opened again afterwards, whatever happened; on an engine
    without dialogs (or without files to close) ``download`` and ``group`` are given.
    """
    from xlsheets.online import find_group, import_file

    xb = _workbook(book)
    if _identity(xb, xb.sheet_names()) is None:
        raise not_ours(xb.name)
    path = book.fullname or ""
    if not path.lower().endswith(".xlsx") or not os.path.isfile(path):
        message = "请先把工作簿保存为电脑上的 .xlsx 文件,再按“导入网上答卷”。"
        xb.alert(message, TITLE)
        return Result([], message=message)
    app = book.app
    remote = getattr(app.engine, "name", "") == "remote"
    if download is None or group is None:
        if not sys.platform.startswith("win") or remote:
            raise UsageError("这里无法弹出选择框。请在命令行中运行:\n"
                             "xlsheets import 工作簿.xlsx 下载文件 --group 群众参评")
        names = [g.name for g in defs.groups] + ["回头看", "附件6"]
        choices = "\n".join(f"{i}. {n}" for i, n in enumerate(names, start=1))
        answer = app.api.InputBox(f"导入到哪个测评层次?请输入名称或序号:\n{choices}", TITLE,
                                  names[min(1, len(names) - 1)])
        if answer is False or answer in ("", None):
            return Result([], message="")  # the clerk cancelled
        answer = str(answer).strip()
        group = names[int(answer) - 1] if answer.isdigit() and 1 <= int(answer) <= len(names) \
            else answer
        download = app.api.GetOpenFilename(IMPORT_FILTER, 1, "选择问卷星或腾讯问卷下载的答卷文件")
        if download is False or not download:
            return Result([], message="")
    find_group(defs, group)  # a wrong name is said before the workbook is closed
    if not remote:
        book.save()
        book.close()
    try:
        result = import_file(path, str(download), defs, group)
    finally:
        if not remote:
            app.books.open(path)
    errors = sum(f.is_error for f in result.findings)
    if result.ballots and result.group == L.SATISFACTION:
        message = f"已把 {len(result.ballots)} 份答卷计入“{result.group}”的人数。"
    elif result.ballots:
        message = (f"已把 {len(result.ballots)} 份答卷导入“{result.group}”,票号 "
                   f"{result.ballots[0]}–{result.ballots[-1]}。答卷人的 IP、地理位置、设备、"
                   "昵称、答题时间等均未写入工作簿。")
    else:
        message = f"没有新的答卷可导入“{result.group}”,工作簿未改动。"
    message += "".join("\n" + n for n in result.notes)
    message += f"\n\n校验:{errors} 个错误,{len(result.findings) - errors} 个提醒。"
    message += "请按“校验”查看有问题的单元格,按“计算得分”计算。" if result.findings else ""
    app.alert(message, title=TITLE)
    return Result(result.findings, message=message)


def make_book(defs, unit_name, roster_path, out_path):
    """The core of 新建工作簿: build a branch workbook, never over an existing file;
    returns its path."""
    return build_new_book(defs, unit_name, roster_path, out_path, overwrite=False)[0]


def new_book_app(app, defs, unit=None, roster=None, out=None):
    """新建工作簿 in a running Excel: ask what is missing, build, open the new workbook."""
    if unit is None or roster is None:
        asked = _ask_new_book(app, defs)
        if asked is None:
            return Result([], message="")  # the clerk cancelled
        unit, roster = asked
    path = make_book(defs, unit, roster, out)
    app.books.open(str(path))
    message = f"已生成并打开 {path}。\n请按“附件3 测评表”收回的测评票在各录入表中填写分数。"
    app.alert(message, title=TITLE)
    return Result([], message=message)


def _ask_new_book(app, defs):
    """(unit, roster path) from Excel's input box and file dialog; None if cancelled."""
    units = [u.name for u in defs.units]
    if not sys.platform.startswith("win") or getattr(app.engine, "name", "") == "remote":
        raise UsageError(
            "这里无法弹出选择框。请在命令行中运行:\n"
            "xlsheets new --unit 单位名称 --roster 名册.csv --out 单位名称.xlsx\n"
            f"单位名称可选:{'、'.join(units)}")
    choices = "\n".join(f"{i}. {name}" for i, name in enumerate(units, start=1))
    # Application.InputBox (text by default) and GetOpenFilename give False on 取消.
    answer = app.api.InputBox(f"请输入单位名称或序号:\n{choices}", TITLE, units[0])
    if answer is False or answer in ("", None):
        return None
    answer = str(answer).strip()
    if answer.isdigit() and 1 <= int(answer) <= len(units):
        answer = units[int(answer) - 1]
    roster = app.api.GetOpenFilename("名册文件 (*.csv;*.xlsx),*.csv;*.xlsx", 1,
                                     "选择名册文件(须有“姓名”列)")
    if roster is False or not roster:
        return None
    return answer, str(roster)


# --- plumbing --------------------------------------------------------------------------

def _defs():
    return definitions.load(os.environ.get("XLSHEETS_DEFINITIONS") or definitions.DEFAULT_SET)


def _workbook(book):
    return book if isinstance(book, Workbook) else Workbook(book)


def _working_book(caller):
    """The workbook the clerk works in: the caller, unless that is the add-in itself."""
    if not caller.name.lower().endswith((".xlam", ".xla")):
        return caller
    active = caller.app.books.active
    if active is None or active.name.lower().endswith((".xlam", ".xla")):
        raise UsageError("请先打开要处理的民主评议工作簿,再按按钮。")
    return active


def _button(core, needs_book=True):
    """Run one button's core; any failure becomes one Chinese message box."""
    app = None
    try:
        import xlwings as xw

        caller = xw.Book.caller()
        app = caller.app
        book = _working_book(caller) if needs_book else caller
    except XlsheetsError as e:
        return _last_word(app, str(e))
    except Exception as e:
        return _last_word(app, f"无法连接到 Excel 中的工作簿({type(e).__name__}: {e})。")
    return run(core, book)


def run(core, book):
    """``core(book)``, with every failure turned into one message box on the book's Excel."""
    app = getattr(book, "app", None)
    try:
        return core(book)
    except XlsheetsError as e:
        return _last_word(app, str(e))
    except Exception as e:
        if os.environ.get("XLSHEETS_DEBUG"):
            traceback.print_exc()
        return _last_word(app, f"程序内部错误({type(e).__name__}: {e})。"
                               "请把此消息和工作簿发给技术人员。")


def _last_word(app, message):
    try:
        if app is not None:
            app.alert(message, title=TITLE)
            return Result([], message=message)
    except Exception:
        pass
    print(message, file=sys.stderr)  # RunPython shows what reaches stderr
    return Result([], message=message)


