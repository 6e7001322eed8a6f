"""Branch rosters (名册): who is in a Party branch, as a town office clerk gives it.

A roster is a CSV or XLSX file with one header row and one person per row.
Only 姓名 is required; 职务 is used when present and every other column is
kept as text, so nothing the clerk typed is lost. Reading normalises cells
(trimmed text, ``3.0`` -> ``"3"``) once, here, so the rest of the package
compares plain strings. Anything that makes the file unusable becomes one
``RosterError`` in Chinese naming the file and, where known, the row.
"""

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

from python_calamine import CalamineError, CalamineWorkbook, PasswordError

from xlsheets.errors import RosterError
from xlsheets.workbook.address import col

# Members one workbook can hold: its 谈心情况表 is members x members cells, so the
# cost of a workbook grows with the square of its roster. A 党支部 has at most a few
# hundred members; a larger roster is several branches, one workbook each.
MAX_MEMBERS = 1000

NAME = "姓名"
DUTY = "职务"
SHEET = "名册"
CSV_SUFFIXES = (".csv",)
XLSX_SUFFIXES = (".xlsx", ".xlsm")
# utf-8-sig also reads plain UTF-8; GB18030 is what Excel on Chinese Windows
# writes (it is a superset of GBK/GB2312).
ENCODINGS = ("utf-8-sig", "gb18030")
DELIMITERS = ",\t;"
TITLE_ROWS = 5  # rows above the header that may hold a title

# str.strip() already removes U+3000 and NBSP; BOM and zero-width spaces are
# not whitespace to Python but are invisible to a clerk too.
_EDGES = re.compile(r"^[\s\ufeff\u200b]+|[\s\ufeff\u200b]+$")
_INNER_SPACE = re.compile(r"[\s\ufeff\u200b]+")


@dataclass(frozen=True)
class Member:
    name: str  # 姓名, cleaned
    duty: str  # 职务, "" when the column is absent or the cell is empty
    extra: tuple  # ((column, value_as_str), ...) of every other column, in file order
    row: int  # true 1-based row number in the file (header row counts)


@dataclass(frozen=True)
class Roster:
    path: str
    columns: tuple  # every header in file order (姓名/职务 included)
    members: tuple  # of Member, in file order

    def names(self) -> list[str]:
        """Members' names in file order."""
        return [m.name for m in self.members]


def read_roster(path) -> Roster:
    """Read and check a roster file; raise RosterError if it cannot be used."""
    path = str(path)  # as the clerk gave it, for messages and Roster.path
    suffix = Path(path).suffix.lower()
    if suffix in CSV_SUFFIXES:
        rows = _csv_rows(path, _read_bytes(path))
    elif suffix in XLSX_SUFFIXES:
        rows = _xlsx_rows(path, _read_bytes(path))
    else:
        raise RosterError(
            path, f"不支持的文件格式“{suffix or '无扩展名'}”,名册只接受 CSV 或 XLSX 文件(.csv、.xlsx、.xlsm)",
            code="roster-format-unsupported",
        )
    return _build(path, [[clean(v) for v in r] for r in rows])


def clean(value) -> str:
    """One cell as the text a clerk sees: trimmed, whole numbers without '.0'."""
    if value is None:
        return ""
    if isinstance(value, bool):  # before int: bool is an int
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return _EDGES.sub("", str(value))


def too_many(count):
    """The message for a roster longer than one workbook holds."""
    return (f"名册有 {count:,} 名人员,超过一个工作簿 {MAX_MEMBERS:,} 名的上限"
            "(谈心情况表为人数×人数的表格)。请按党支部分开,每个支部一个名册和一个工作簿。")


def _read_bytes(path):
    """The file's bytes, with OS failures turned into a clerk's message."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise RosterError(path, "文件不存在,请检查路径和文件名", code="roster-file-missing") from None
    except IsADirectoryError:
        raise RosterError(path, "这是一个文件夹,不是名册文件", code="roster-is-folder") from None
    except PermissionError:
        raise RosterError(path, "没有权限读取该文件(如果它正在 Excel 中打开,请先关闭)",
                          code="roster-no-permission") from None
    except OSError as e:
        raise RosterError(path, f"无法读取该文件:{e.strerror or e}", code="roster-unreadable") from None


def _csv_rows(path, data):
    """Decode and split a CSV file into rows of text cells."""
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise RosterError(path, "无法识别文件编码(应为 UTF-8 或 GBK/GB18030),请在 Excel 中另存为“CSV UTF-8”或 XLSX",
                          code="roster-encoding")
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text)))
    except csv.Error as e:
        raise RosterError(path, f"CSV 格式错误,无法读取:{e}", code="roster-csv-bad") from None


def _delimiter(text):
    """Comma, tab or semicolon, as sniffed from the first lines."""
    lines = [line for line in text.splitlines() if line.strip()][:20]
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        pass
    # Ragged rows can defeat the sniffer; the header line alone still tells.
    header = lines[0] if lines else ""
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _xlsx_rows(path, data):
    """Rows of the sheet 名册 (else the first sheet), from cell A1 on."""
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = book.sheet_names
        if not names:
            raise RosterError(path, "工作簿里没有工作表", code="roster-no-sheet")
        sheet = next((n for n in names if n.strip() == SHEET), names[0])
        # skip_empty_area=False keeps leading empty rows, so indexes are true row numbers.
        return book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    except RosterError:
        raise
    except PasswordError:
        raise RosterError(path, "文件设置了密码保护,请取消密码后再使用", code="roster-encrypted") from None
    except CalamineError:
        raise RosterError(path, "不是有效的 XLSX 文件(可能已损坏,或只是把扩展名改成了 .xlsx)",
                          code="roster-xlsx-bad") from None
    except Exception as e:  # a third-party parser on a clerk's file: never a traceback
        raise RosterError(path, f"无法读取该 XLSX 文件:{e}", code="roster-xlsx-unreadable") from None


def _build(path, rows):
    """Find the header, check every row, and make the Roster."""
    start = next((i for i, r in enumerate(rows) if any(r)), None)
    if start is None:
        raise RosterError(path, "文件是空的,没有表头和人员", code="roster-file-empty")
    # A title such as "某某支部党员名册" often sits above the header: take the
    # first row that has a 姓名 cell among the first few, else the first row.
    named = next((i for i, r in enumerate(rows[:TITLE_ROWS + 1])
                  if any(_INNER_SPACE.sub("", c) == NAME for c in r if c)), None)
    if named is not None:
        start = named
    header_row = start + 1
    header = rows[start]

    # Columns with an empty header are left out; data under them is an error below.
    columns, index = [], []
    for i, h in enumerate(header):
        if h:
            key = _INNER_SPACE.sub("", h)  # "姓 名" is how forms often align it
            columns.append(key if key in (NAME, DUTY) else h)
            index.append(i)
    for key in (NAME, DUTY):
        if columns.count(key) > 1:
            raise RosterError(path, f"表头里有多个“{key}”列,无法确定用哪一列", row=header_row,
                              code="roster-column-twice")
    if NAME not in columns:
        raise RosterError(
            path,
            f"缺少“{NAME}”列;这一行作为表头,找到的列是:{'、'.join(columns)}"
            "(请把“姓名”写在表头行)",
            row=header_row,
            code="roster-name-column-missing",
        )
    name_at = index[columns.index(NAME)]
    duty_at = index[columns.index(DUTY)] if DUTY in columns else None
    others = [(c, i) for c, i in zip(columns, index) if i not in (name_at, duty_at)]
    headed = set(index)

    members, seen = [], {}
    for n, cells in enumerate(rows[start + 1 :], start=header_row + 1):
        if not any(cells):
            continue
        stray = next((i for i, v in enumerate(cells) if v and i not in headed), None)
        if stray is not None:
            raise RosterError(
                path, f"第 {col(stray)} 列有内容“{cells[stray]}”,但该列没有表头", row=n,
                code="roster-column-unheaded",
            )
        cells = cells + [""] * (len(header) - len(cells))
        name = cells[name_at]
        if not name:
            raise RosterError(path, f"“{NAME}”为空,但这一行有其他内容", row=n,
                              code="roster-name-empty")
        if name in seen:
            raise RosterError(path, f"姓名“{name}”重复,第 {seen[name]} 行已有同名人员", row=n,
                              code="roster-name-twice")
        seen[name] = n
        members.append(
            Member(
                name=name,
                duty=cells[duty_at] if duty_at is not None else "",
                extra=tuple((c, cells[i]) for c, i in others),
                row=n,
            )
        )
    if not members:
        raise RosterError(path, "名册里没有任何人员(表头下面没有内容)", code="roster-no-members")
    if len(members) > MAX_MEMBERS:
        raise RosterError(path, too_many(len(members)), code="roster-too-many")
    return Roster(path=path, columns=tuple(columns), members=tuple(members))


