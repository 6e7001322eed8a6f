"""Reading a survey download into plain tables: 问卷星 .xlsx/.xls/.csv, 腾讯问卷 .zip of CSVs.

A ``Table`` is the header row and the answer rows of one sheet or CSV, values as
the file holds them (numbers, text, dates). Nothing here knows about members or
items; ``headers.py`` places the columns. Every problem is a ``DownloadError``
naming the file (and the part of a zip) in Chinese.
"""

import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from xlsheets.errors import XlsheetsError
from xlsheets.ooxml import BookError, check_zip_directory, guard_members

MAX_DOWNLOAD = 64 << 20  # bytes of one CSV or one zip member; a branch's answers are far less
MAX_ROWS = 100_000


class DownloadError(XlsheetsError):
    """A download that cannot be read or mapped; names the file."""

    def __init__(self, path, problem, code=None):
        self.path, self.problem = str(path), problem
        super().__init__(f"下载文件 {self.path}:{problem}", code=code)


@dataclass
class Table:
    source: str  # the file, or "file!member.csv" inside a zip, for messages
    header: list  # header texts, one per column ("" for a blank header)
    rows: list  # [(1-based row number in the file, [values])]


def read_download(path):
    """The tables of a download: one per sheet (.xlsx/.xls), one per CSV (.csv, .zip)."""
    path = Path(path)
    if not path.is_file():
        raise DownloadError(path, "文件不存在。")
    suffix = path.suffix.lower()
    with open(path, "rb") as f:
        head = f.read(8)
    if suffix == ".zip" or (head.startswith(b"PK") and suffix not in (".xlsx", ".xls")):
        return _zip_tables(path)
    if suffix in (".xlsx", ".xlsm", ".xls") or head.startswith((b"PK", b"\xd0\xcf\x11\xe0")):
        return _book_tables(path)
    if suffix in (".csv", ".txt"):
        if path.stat().st_size > MAX_DOWNLOAD:
            raise DownloadError(path, "文件过大,不像是一次问卷的答卷下载。")
        return [_csv_table(str(path), path.read_bytes(), path)]
    raise DownloadError(path, "不是问卷星或腾讯问卷的答卷下载(应为 .xlsx、.xls、.csv 或 .zip)。")


def _book_tables(path):
    from python_calamine import CalamineWorkbook

    if path.stat().st_size > MAX_DOWNLOAD:
        raise DownloadError(path, "文件过大,不像是一次问卷的答卷下载。")
    with open(path, "rb") as f:
        if f.read(2) == b"PK":
            f.seek(0)
            try:
                check_zip_directory(path, f)
                with zipfile.ZipFile(f) as zf:
                    guard_members(path, zf.infolist())
            except BookError as e:
                raise DownloadError(path, e.problem, code=e.code) from None
            except zipfile.BadZipFile:
                raise DownloadError(path, "文件已损坏,无法打开。请重新下载。") from None
    try:
        wb = CalamineWorkbook.from_path(str(path))
        tables = []
        for name in wb.sheet_names:
            rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
            if len(rows) > MAX_ROWS:
                raise DownloadError(path, f"工作表“{name}”超过 {MAX_ROWS} 行,不像是答卷下载。")
            if rows:
                tables.append(_table(f"{path}({name})" if len(wb.sheet_names) > 1 else str(path),
                                     rows))
    except DownloadError:
        raise
    except BaseException as e:  # calamine's errors, a panic in its Rust code
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        detail = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise DownloadError(path, f"无法读取,文件可能已损坏。请重新下载,或用 Excel 打开后另存为 .xlsx 再试。"
                                  f"(技术细节:{detail})") from None
    return tables


def _zip_tables(path):
    try:
        with open(path, "rb") as f:
            check_zip_directory(path, f)
            with zipfile.ZipFile(f) as zf:
                infos = [i for i in guard_members(path, zf.infolist()).values()
                         if not i.is_dir() and i.filename.lower().endswith(".csv")]
                tables = []
                for info in infos:
                    if info.file_size > MAX_DOWNLOAD:
                        raise DownloadError(path, f"其中的 {_member_name(info)} 过大。")
                    data = zf.read(info)
                    tables.append(_csv_table(f"{path}!{_member_name(info)}", data, path))
    except BookError as e:
        raise DownloadError(path, e.problem, code=e.code) from None
    except zipfile.BadZipFile:
        raise DownloadError(path, "压缩包已损坏,无法打开。请重新下载。") from None
    if not tables:
        raise DownloadError(path, "压缩包中没有 .csv 文件。腾讯问卷的下载应为 CSV 压缩包。")
    return tables


def _member_name(info):
    """A zip member's name, GBK names (Chinese Windows zip tools) decoded."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("gbk")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name


def _csv_table(source, data, path):
    text = _decode(data, source)
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as e:
        raise DownloadError(source, f"CSV 格式有误:{e}") from None
    if len(rows) > MAX_ROWS:
        raise DownloadError(source, f"超过 {MAX_ROWS} 行,不像是答卷下载。")
    if not rows:
        raise DownloadError(source, "文件是空的。")
    return _table(source, rows)


def _decode(data, source):
    """UTF-8 (with or without BOM), else GBK/GB18030 as Excel saves CSV on Chinese Windows."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for codec in ("utf-8", "gb18030"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    raise DownloadError(source, "无法识别文字编码(应为 UTF-8 或 GBK)。")


def _table(source, rows):
    header = [_text(v) for v in rows[0]]
    body = []
    for i, line in enumerate(rows[1:], start=2):
        values = [None if v == "" else v for v in line]
        if any(v is not None and (not isinstance(v, str) or v.strip()) for v in values):
            body.append((i, values + [None] * (len(header) - len(values))))
    return Table(source, header, body)


def _text(v):
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()
