"""What came back by email: workbooks in a folder, in .zip archives, in saved .eml mails.

``scan`` walks an inbox and yields one ``Item`` per file on disk (a folder it cannot
read is an Item too, with the reason); nothing is opened there. ``unpack`` turns one
Item into the workbooks it holds: itself, or each workbook of an archive or a mail,
extracted into a scratch folder only when its turn comes. collect runs ``unpack`` in
its worker processes, so an archive or a mail is read under the same time and memory
bounds as a workbook, and the caller removes each extracted file once examined: the
scratch folder holds one attachment per worker, never the inbox.
"""

import datetime as dt
import email
import email.policy
import email.utils
import itertools
import os
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from xlsheets.ooxml import MAX_RATIO, RATIO_MIN_SIZE, BookError, check_zip_directory
from xlsheets.disk.terminal import visible

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
MAX_MEMBER = 200 * 1024 * 1024  # a workbook inside a zip larger than this is refused
MAX_ARCHIVE_ENTRIES = 10_000  # an archive listing more entries is refused before reading them
MAX_MAIL = 300 * 1024 * 1024  # a saved mail larger than this is refused unread
MAX_MAIL_DEPTH = 20  # multiparts nested deeper than this: the mail is refused
MAX_MAIL_PARTS = 2_000  # parts in one mail
MAX_ARCHIVE_BYTES = 2 << 30  # bytes extracted from one archive, all its workbooks together
MAX_NAME = 120  # characters kept of an attachment's file name (and at most 200 UTF-8 bytes)
SPREADSHEET_TYPES = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     "application/vnd.ms-excel.sheet.macroenabled.12")


@dataclass(frozen=True)
class Item:
    """One file to examine: a path on disk and a readable origin."""

    path: str
    origin: str  # e.g. "收件箱/第二批.zip → 机关.xlsx", control characters made visible
    received: str  # ISO time the inbox gives it (file mtime, zip entry date, mail Date)
    problem: str = ""  # why it could not even be extracted, if so
    skip: int = 0  # of an archive or a mail: the workbooks already examined (a resumed run)


def scan(inbox, skip=()):
    """Yield an ``Item`` per file under ``inbox`` (sorted, so runs are repeatable), and
    one per folder that cannot be read. Files in ``skip`` (the town summary and its
    archive) are left out, and so are owner files of open workbooks, our locks and
    temporary files."""
    inbox = Path(inbox)
    skip = {Path(p).resolve() for p in skip}
    found, unreadable = [], []

    def failed(error):
        unreadable.append(Path(error.filename or inbox))

    for folder, dirs, files in os.walk(inbox, onerror=failed):
        dirs.sort()
        found += [Path(folder) / f for f in files]
    for folder in sorted(unreadable):
        rel = folder.relative_to(inbox).as_posix() if folder != inbox else inbox.name
        yield Item(str(folder), visible(rel) + "/", "", problem="文件夹无法读取(没有权限或已损坏),"
                                                               "其中的文件未收取")
    for path in sorted(found):
        name = path.name
        if (name.startswith(("~$", ".~lock.", ".~xlsheets-")) or name.endswith(".xlsheets-lock")):
            continue  # owner files of open workbooks, our locks, temp files
        rel = visible(path.relative_to(inbox).as_posix())
        try:
            if path.resolve() in skip:
                continue
            regular = path.is_file()
            mtime = _iso(dt.datetime.fromtimestamp(path.stat().st_mtime)) if regular else ""
        except (OSError, ValueError, OverflowError, RuntimeError):
            regular, mtime = path.is_file(), ""
        if not regular:
            yield Item(str(path), rel, "", problem="不是普通文件(快捷方式已失效,或是设备、管道),未读取")
            continue
        suffix = path.suffix.lower()
        if suffix in WORKBOOK_SUFFIXES + (".zip", ".eml"):
            yield Item(str(path), rel, mtime)
        elif suffix in (".xls", ".et"):
            yield Item(str(path), rel, mtime, problem="这是旧版格式的表格文件,请在 Excel 或 WPS 中"
                                                     "“另存为” .xlsx 工作簿后再发送")
        else:
            yield Item(str(path), rel, mtime, problem="不是工作簿、压缩包(.zip)或邮件(.eml)")


def unpack(item, scratch):
    """Yield the workbooks ``item`` holds: itself (a workbook, or a file with a problem),
    or each workbook of an archive or a mail, extracted into ``scratch`` in turn."""
    suffix = Path(item.path).suffix.lower()
    if item.problem or suffix not in (".zip", ".eml"):
        if not item.problem and not _utf8(item.path):  # a name no reader can open as given
            try:
                target = _out(Path(scratch), itertools.count(), Path(item.path).name.encode(
                    "utf-8", "surrogateescape").decode("gb18030", "replace"))
                target.write_bytes(Path(item.path).read_bytes())
            except OSError as e:
                yield Item("", item.origin, item.received, problem=f"无法读取({visible(e.strerror or e)})")
                return
            yield Item(str(target), item.origin, item.received)
            return
        yield item
        return
    ids = itertools.count()
    path, scratch = Path(item.path), Path(scratch)
    if suffix == ".zip":
        yield from _from_zip(path, item.origin, scratch, ids, item.received)
    else:
        yield from _from_mail(path, item.origin, scratch, ids, item.received)


def _utf8(path):
    try:
        str(path).encode("utf-8")
        return True
    except UnicodeEncodeError:  # undecodable bytes kept as surrogates (a GBK name on Linux)
        return False


def unique(origin, seen):
    """``origin``, or ``origin (2)``... when an archive or a mail names a file twice."""
    n = seen.get(origin, 0) + 1
    seen[origin] = n
    return origin if n == 1 else f"{origin} ({n})"


def safe_name(name, fallback="附件.xlsx"):
    """A file name from an archive or a mail made safe to create on Windows, macOS and
    Linux: the last path component, no control or reserved characters, no trailing dots
    or spaces, at most ``MAX_NAME`` characters keeping the suffix; ``fallback`` if none."""
    name = PurePosixPath(name.replace("\\", "/")).name
    name = "".join("_" if unicodedata.category(ch)[0] == "C" or ch in '<>:"/\\|?*' else ch
                   for ch in name).strip(" .")
    if name in ("", ".", ".."):
        return fallback
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 10:
        stem, ext = name, ""
    ext = f".{ext}" if ext else ""
    if len(name) > MAX_NAME or len(name.encode("utf-8")) > 200:
        stem = stem[:MAX_NAME - len(ext)]
        while len((stem + ext).encode("utf-8")) > 200:
            stem = stem[:-1]
        name = stem + ext
    if PurePosixPath(name).stem.upper().split(".")[0] in _RESERVED:
        name = "_" + name
    return name


_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
             *(f"LPT{i}" for i in range(1, 10))}


def _out(scratch, ids, name):
    folder = scratch / f"{next(ids):06d}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / safe_name(name)


def _from_zip(path, rel, scratch, ids, mtime=""):
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
            if len(z.infolist()) > MAX_ARCHIVE_ENTRIES:  # the real directory, not the end record
                yield Item(str(path), rel, "", problem=f"压缩包内含条目超过 {MAX_ARCHIVE_ENTRIES:,} 个,"
                                                       "疑似损坏或恶意构造的文件,已拒绝打开")
                return
            offsets = [i.header_offset for i in z.infolist()]
            if len(set(offsets)) < len(offsets):  # entries sharing their data: a bomb
                yield Item(str(path), rel, "", problem="压缩包的条目互相重叠(多个条目指向同一份数据),"
                                                       "疑似恶意构造的压缩炸弹,已拒绝打开")
                return
            infos = [i for i in z.infolist() if not i.is_dir()]
            seen, budget = {}, MAX_ARCHIVE_BYTES
            if not any(_zip_name(i).lower().endswith(WORKBOOK_SUFFIXES) for i in infos):
                yield Item(str(path), rel, "", problem="压缩包中没有 .xlsx 工作簿")
                return
            for info in infos:
                name = _zip_name(info)
                origin = unique(f"{rel} → {visible(name)}", seen)
                try:
                    when = _plausible(_iso(dt.datetime(*info.date_time)), mtime)
                except (ValueError, OverflowError):
                    when = mtime
                if not name.lower().endswith(WORKBOOK_SUFFIXES):
                    continue
                if info.file_size > MAX_MEMBER:
                    yield Item("", origin, when, problem="压缩包中的文件过大,已拒收")
                    continue
                if info.file_size > budget:
                    yield Item("", origin, when, problem=f"压缩包解压总量超过 {MAX_ARCHIVE_BYTES >> 30} GiB,"
                                                         "其余文件未解压,已拒收")
                    continue
                budget -= info.file_size
                if info.file_size > RATIO_MIN_SIZE and info.file_size > MAX_RATIO * info.compress_size:
                    yield Item("", origin, when, problem=f"压缩包中的文件压缩比异常(超过 {MAX_RATIO} 倍),"
                                                         "疑似恶意构造的压缩炸弹,未解压,已拒收")
                    continue
                if info.flag_bits & 0x1:
                    yield Item("", origin, when, problem="压缩包中的文件设置了解压密码,无法解出;"
                                                         "请直接发送工作簿,或发送不加密码的压缩包")
                    continue
                try:
                    target = _out(scratch, ids, name)
                    with z.open(info) as src, open(target, "wb") as dst:
                        _copy_bounded(src, dst)
                except (zipfile.BadZipFile, RuntimeError, OSError, ValueError, EOFError,
                        NotImplementedError) as e:
                    yield Item("", origin, when, problem=f"无法从压缩包中解出({visible(str(e))})")
                    continue
                yield Item(str(target), origin, when)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as e:
        yield Item(str(path), rel, "", problem=f"压缩包已损坏,无法打开({visible(str(e))})")


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
    except RecursionError:
        yield Item(str(path), rel, mtime, problem="邮件的嵌套层数过多,疑似恶意构造的邮件,已拒收")
        return
    except (OSError, ValueError, TypeError, LookupError) as e:
        yield Item(str(path), rel, mtime, problem=f"邮件无法读取({visible(str(e))[:120]})")
        return
    when = mtime
    try:
        if msg["Date"]:
            when = _plausible(_iso(email.utils.parsedate_to_datetime(str(msg["Date"]))), mtime)
    except (TypeError, ValueError, OverflowError, IndexError, AttributeError):
        pass
    try:
        parts = _parts(msg)
    except _MailTooDeep as e:
        yield Item(str(path), rel, when, problem=str(e))
        return
    except RecursionError:
        yield Item(str(path), rel, when, problem="邮件的嵌套层数过多,疑似恶意构造的邮件,已拒收")
        return
    n, seen = 0, {}
    for part in parts:
        try:
            name = part.get_filename() or ""
            ctype = part.get_content_type().lower()
        except (ValueError, TypeError, LookupError, AttributeError, IndexError):
            continue
        if not (name.lower().endswith(WORKBOOK_SUFFIXES) or ctype in SPREADSHEET_TYPES):
            continue
        n += 1
        name = name or f"附件{n}.xlsx"
        origin = unique(f"{rel} → {visible(name)[:MAX_NAME]}", seen)
        try:
            data = part.get_payload(decode=True) or b""
        except (ValueError, TypeError, LookupError, AssertionError) as e:
            yield Item("", origin, when, problem=f"附件无法解码({visible(str(e))[:120]})")
            continue
        if len(data) > MAX_MEMBER:
            yield Item("", origin, when, problem="附件过大,已拒收")
            continue
        try:
            target = _out(scratch, ids, name)
            target.write_bytes(data)
        except OSError as e:
            yield Item("", origin, when, problem=f"附件无法保存到临时文件夹({visible(e.strerror or str(e))})")
            continue
        finally:
            del data
        yield Item(str(target), origin, when)
    if not n:
        yield Item(str(path), rel, when, problem="邮件中没有 .xlsx 工作簿附件(可能忘了添加附件,或附件是旧版 .xls)")


class _MailTooDeep(Exception):
    pass


def _parts(msg):
    """The mail's parts in order, walked without recursion; refused when nested deeper
    than ``MAX_MAIL_DEPTH`` or holding more than ``MAX_MAIL_PARTS`` parts."""
    out, stack = [], [(msg, 0)]
    while stack:
        part, depth = stack.pop()
        if depth > MAX_MAIL_DEPTH:
            raise _MailTooDeep(f"邮件的嵌套层数超过 {MAX_MAIL_DEPTH} 层,疑似恶意构造的邮件,已拒收")
        out.append(part)
        if len(out) > MAX_MAIL_PARTS:
            raise _MailTooDeep(f"邮件的组成部分超过 {MAX_MAIL_PARTS:,} 个,疑似恶意构造的邮件,已拒收")
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            stack += [(p, depth + 1) for p in reversed(payload)]
    return out


def _plausible(when, fallback):
    """``when`` (ISO), or ``fallback`` when it lies in the future: a forged date in an
    archive or a mail does not decide which version of a workbook is the newest."""
    latest = _iso(dt.datetime.now() + dt.timedelta(days=1))
    return when if when <= latest else fallback


def _iso(moment):
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=0).isoformat()
