"""What came back by email: workbooks in a folder, in .zip archives, in saved .eml mails.

``scan`` walks an inbox and yields one ``Item`` per workbook found, with where
it came from. Workbooks inside archives and mails are extracted to a scratch
folder one at a time, so memory holds one attachment, not the inbox.
"""

import datetime as dt
import email
import email.policy
import email.utils
import itertools
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .ooxml import MAX_RATIO, RATIO_MIN_SIZE, BookError, check_zip_directory

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
MAX_MEMBER = 200 * 1024 * 1024  # a workbook inside a zip larger than this is refused
MAX_ARCHIVE_ENTRIES = 10_000  # an archive listing more entries is refused before reading them
MAX_MAIL = 300 * 1024 * 1024  # a saved mail larger than this is refused unread
SPREADSHEET_TYPES = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     "application/vnd.ms-excel.sheet.macroenabled.12")


@dataclass(frozen=True)
class Item:
    """One workbook to examine: a path on disk and a readable origin."""

    path: str
    origin: str  # e.g. "收件箱/第二批.zip → 机关.xlsx"
    received: str  # ISO time the inbox gives it (file mtime, zip entry date, mail Date)
    problem: str = ""  # why it could not even be extracted, if so


def scan(inbox, scratch, skip=()):
    """Yield ``Item``s for every workbook under ``inbox`` (sorted, so runs are repeatable).

    Files in ``skip`` (the town summary and its archive) are left out.
    """
    inbox, scratch = Path(inbox), Path(scratch)
    skip = {Path(p).resolve() for p in skip}
    ids = itertools.count()
    for path in sorted(p for p in inbox.rglob("*") if p.is_file()):
        rel = path.relative_to(inbox).as_posix()
        suffix = path.suffix.lower()
        if (path.name.startswith(("~$", ".~lock.", ".~xlsheets-"))
                or path.name.endswith(".xlsheets-lock") or path.resolve() in skip):
            continue  # owner files of open workbooks, our locks, temp files and output
        mtime = _iso(dt.datetime.fromtimestamp(path.stat().st_mtime))
        if suffix in WORKBOOK_SUFFIXES:
            yield Item(str(path), rel, mtime)
        elif suffix == ".zip":
            yield from _from_zip(path, rel, scratch, ids)
        elif suffix == ".eml":
            yield from _from_mail(path, rel, scratch, ids, mtime)
        elif suffix in (".xls", ".et"):
            yield Item(str(path), rel, mtime, problem="这是旧版格式的表格文件,请在 Excel 或 WPS 中"
                                                     "“另存为” .xlsx 工作簿后再发送")
        else:
            yield Item(str(path), rel, mtime, problem="不是工作簿、压缩包(.zip)或邮件(.eml)")


def _out(scratch, ids, name):
    folder = scratch / f"{next(ids):06d}"
    folder.mkdir(parents=True, exist_ok=True)
    safe = PurePosixPath(name.replace("\\", "/")).name or "附件.xlsx"
    return folder / safe


def _from_zip(path, rel, scratch, ids):
    try:
        with open(path, "rb") as f:
            check_zip_directory(path, f, MAX_ARCHIVE_ENTRIES)
    except BookError as e:
        yield Item(str(path), rel, "", problem=f"压缩包{e.problem.rstrip('。')}")
        return
    except OSError:
        pass  # zipfile below says what is wrong
    try:
        with zipfile.ZipFile(path) as z:
            infos = [i for i in z.infolist() if not i.is_dir()]
            if not any(_zip_name(i).lower().endswith(WORKBOOK_SUFFIXES) for i in infos):
                yield Item(str(path), rel, "", problem="压缩包中没有 .xlsx 工作簿")
                return
            for info in infos:
                name = _zip_name(info)
                origin = f"{rel} → {name}"
                when = _iso(dt.datetime(*info.date_time))
                if not name.lower().endswith(WORKBOOK_SUFFIXES):
                    continue
                if info.file_size > MAX_MEMBER:
                    yield Item("", origin, when, problem="压缩包中的文件过大,已拒收")
                    continue
                if info.file_size > RATIO_MIN_SIZE and info.file_size > MAX_RATIO * info.compress_size:
                    yield Item("", origin, when, problem=f"压缩包中的文件压缩比异常(超过 {MAX_RATIO} 倍),"
                                                         "疑似恶意构造的压缩炸弹,未解压,已拒收")
                    continue
                if info.flag_bits & 0x1:
                    yield Item("", origin, when, problem="压缩包中的文件设置了解压密码,无法解出;"
                                                         "请直接发送工作簿,或发送不加密码的压缩包")
                    continue
                target = _out(scratch, ids, name)
                try:
                    with z.open(info) as src, open(target, "wb") as dst:
                        _copy_bounded(src, dst)
                except (zipfile.BadZipFile, RuntimeError, OSError, ValueError) as e:
                    yield Item("", origin, when, problem=f"无法从压缩包中解出({e})")
                    continue
                yield Item(str(target), origin, when)
    except (zipfile.BadZipFile, OSError) as e:
        yield Item(str(path), rel, "", problem=f"压缩包已损坏,无法打开({e})")


def _zip_name(info):
    """An entry's name: UTF-8 when flagged or valid, else GBK as Chinese Windows writes it."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def _copy_bounded(src, dst):
    total = 0
    while chunk := src.read(1 << 20):
        total += len(chunk)
        if total > MAX_MEMBER:
            raise ValueError("解压后超过大小上限")
        dst.write(chunk)


def _from_mail(path, rel, scratch, ids, mtime):
    try:
        if path.stat().st_size > MAX_MAIL:
            yield Item(str(path), rel, mtime, problem=f"邮件文件超过 {MAX_MAIL >> 20} MB,"
                                                      "疑似异常文件,未读取,已拒收")
            return
        with open(path, "rb") as fh:
            msg = email.message_from_binary_file(fh, policy=email.policy.default)
    except (OSError, ValueError) as e:
        yield Item(str(path), rel, mtime, problem=f"邮件无法读取({e})")
        return
    when = mtime
    if msg["Date"]:
        try:
            when = _iso(email.utils.parsedate_to_datetime(str(msg["Date"])))
        except (TypeError, ValueError):
            pass
    n = 0
    found = False
    for part in msg.walk():
        name = part.get_filename() or ""
        ctype = part.get_content_type().lower()
        if not (name.lower().endswith(WORKBOOK_SUFFIXES) or ctype in SPREADSHEET_TYPES):
            continue
        n += 1
        found = True
        name = name or f"附件{n}.xlsx"
        origin = f"{rel} → {name}"
        try:
            data = part.get_payload(decode=True) or b""
        except (ValueError, TypeError) as e:
            yield Item("", origin, when, problem=f"附件无法解码({e})")
            continue
        if len(data) > MAX_MEMBER:
            yield Item("", origin, when, problem="附件过大,已拒收")
            continue
        target = _out(scratch, ids, name)
        target.write_bytes(data)
        yield Item(str(target), origin, when)
    if not found:
        yield Item(str(path), rel, when, problem="邮件中没有 .xlsx 工作簿附件(可能忘了添加附件,或附件是旧版 .xls)")


def _iso(moment):
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=0).isoformat()
