"""An advisory lock per workbook, so that two xlsheets commands never interleave on one file.

``with workbook_lock(path):`` creates ``.<name>.xlsheets-lock`` beside the
workbook with an exclusive create (``O_CREAT | O_EXCL``: atomic on Windows,
macOS and Linux, also on most network shares) and writes who holds it: pid,
host, time and, on Linux, the process start time. The file is removed when the
block ends, however it ends, except when the process is killed.

A second command finding the lock:
- held by a live process (or by another computer, which cannot be checked):
  one Chinese message "另一个 xlsheets 命令正在处理 …" (exit 2), nothing read or written;
- left by a process of this computer that is gone (killed, power cut): the lock
  is stale; it is taken over, and the temporary files that process left beside
  the workbook or in the temp folder (``debris.sweep_dead``) are removed.

Taking over is careful about a third command doing the same at the same time:
the stale file is first renamed to a private name and checked to still be the
one judged stale; a live lock renamed by mistake is put back.
"""

import contextlib
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

from xlsheets.disk import debris
from xlsheets.disk.debris import debris_tag, pid_alive, start_time, this_host
from xlsheets.errors import XlsheetsError

SUFFIX = ".xlsheets-lock"
FRESH_SECONDS = 10  # an unreadable lock younger than this may still be being written


class BusyError(XlsheetsError):
    """Another xlsheets command holds the workbook."""


def lock_path(path):
    path = Path(path)
    return path.with_name("." + path.name + SUFFIX)


def _owner_record():
    pid = os.getpid()
    record = {"pid": pid, "host": this_host(),
              "time": dt.datetime.now().replace(microsecond=0).isoformat(),
              "command": " ".join(os.path.basename(a) for a in sys.argv[:2])}
    start = start_time(pid)
    if start is not None:
        record["start"] = start
    return record


def _read(lock):
    """(raw bytes, parsed dict or None); raw is None when the lock is gone."""
    try:
        raw = lock.read_bytes()
    except FileNotFoundError:
        return None, None
    except OSError:
        return b"", None
    try:
        owner = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return raw, None
    return raw, owner if isinstance(owner, dict) else None


def _stale(lock, owner):
    """True when ``owner`` (parsed lock content) is a process of this host that is gone."""
    if owner is None:  # empty or garbled: killed while writing it, unless it is brand new
        try:
            age = time.time() - lock.stat().st_mtime
        except OSError:
            return True
        return age > FRESH_SECONDS
    if owner.get("host") != this_host():
        return False
    pid = owner.get("pid")
    if not pid_alive(pid):
        return True
    start = owner.get("start")
    if start is not None:
        now = start_time(pid)
        if now is not None and now != start:
            return True  # the pid was reused by another process
    return False


def _busy(path, lock, owner):
    who = ""
    if owner:
        who = (f"(计算机 {owner.get('host', '?')},进程 {owner.get('pid', '?')},"
               f"开始于 {owner.get('time', '?')})")
    return BusyError(f"另一个 xlsheets 命令正在处理 {path}{who},请等它结束后再试。"
                     f"如果确定没有其他命令在运行,可以删除锁文件 {lock} 后重试。")


def _take_over(lock, raw, owner):
    """Remove the stale ``lock`` if it still holds ``raw``; True when it is gone."""
    aside = lock.with_name(f"{lock.name}.stale-{os.urandom(4).hex()}")
    try:
        os.rename(lock, aside)
    except FileNotFoundError:
        return True  # someone else removed it first
    except OSError:
        return False
    try:
        moved = aside.read_bytes()
    except OSError:
        moved = None
    if moved != raw:  # a fresh lock taken in between: put it back
        try:
            os.link(aside, lock)  # fails rather than replace a lock taken meanwhile
        except (OSError, AttributeError):  # no hard links here (FAT, some shares)
            with contextlib.suppress(OSError):
                os.rename(aside, lock)
        else:
            with contextlib.suppress(OSError):
                aside.unlink()
        return False
    with contextlib.suppress(OSError):
        aside.unlink()
    if owner:
        debris.sweep_dead(lock.parent, owner)
    return True


def _acquire(path):
    lock = lock_path(path)
    record = json.dumps(_owner_record(), ensure_ascii=False).encode("utf-8")
    for _ in range(20):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_BINARY", 0),
                         0o644)
        except FileExistsError:
            raw, owner = _read(lock)
            if raw is None:
                continue  # released meanwhile: try again
            if not _stale(lock, owner):
                if owner is None:  # being written right now; look again shortly
                    time.sleep(0.05)
                    raw, owner = _read(lock)
                    if raw is None or _stale(lock, owner):
                        continue
                raise _busy(path, lock, owner)
            if not _take_over(lock, raw, owner):
                raise _busy(path, lock, _read(lock)[1])
            continue
        except FileNotFoundError:
            raise XlsheetsError(f"找不到 {path} 所在的文件夹 {path.parent}。") from None
        except PermissionError:
            raise XlsheetsError(f"无法在 {path} 所在的文件夹中建立锁文件:没有写入权限。") from None
        except OSError as e:
            raise XlsheetsError(f"无法在 {path} 所在的文件夹中建立锁文件({e.strerror})。") from None
        try:
            os.write(fd, record)
        finally:
            os.close(fd)
        return lock
    raise _busy(path, lock, _read(lock)[1])


@contextlib.contextmanager
def workbook_lock(path, create_folder=False):
    """Hold the advisory lock of workbook ``path`` for the block (BusyError if taken).

    create_folder: make the workbook's folder first (for a file about to be written).
    """
    path = Path(path)
    if create_folder:
        path.parent.mkdir(parents=True, exist_ok=True)
    lock = _acquire(path)
    try:
        yield lock
    finally:
        with contextlib.suppress(OSError):
            lock.unlink()


__all__ = ["BusyError", "workbook_lock", "lock_path", "pid_alive", "debris_tag"]
