"""The debris of dead runs: temporary files and folders named after the process that made them.

Every temporary thing xlsheets leaves while it works carries a tag naming its
process, ``<host hash>-<pid>-`` (``debris_tag``):

- ``.~xlsheets-<tag>…`` beside a workbook: a new file before its atomic rename
  (``fileio.atomic_output``);
- ``xlsheets-plain-<tag>…`` in the temp folder: a private folder holding a decrypted
  or private copy (``crypto.plain_copy``, ``fileio.private_copy``);
- ``xlsheets-inbox-<tag>…`` in the temp folder: the scratch folder a collect worker
  unpacks an archive or a mail into.

A process killed outright (power cut, task manager) leaves them behind. They are
removed by the next command: ``sweep`` before every write (any process of this
computer that is gone), ``sweep_dead`` when a stale workbook lock is taken over (that
one process). A live process's files, and another computer's on a shared folder, are
kept.
"""

import contextlib
import hashlib
import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path

BESIDE_PREFIX = ".~xlsheets-"  # a new file beside its target, before the rename
PLAIN_PREFIX = "xlsheets-plain-"  # private folders holding decrypted copies
SCRATCH_PREFIX = "xlsheets-inbox-"  # a collect worker's folder for unpacked files


def this_host():
    return socket.gethostname() or "?"


def debris_tag(pid=None, host=None):
    """Prefix part naming temporary files of one process: ``<host hash>-<pid>-``."""
    host = this_host() if host is None else host
    pid = os.getpid() if pid is None else pid
    return f"{hashlib.sha1(host.encode('utf-8', 'replace')).hexdigest()[:6]}-{pid}-"


def proc_stat(pid):
    """The fields after the command name in /proc/<pid>/stat (Linux), or None."""
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
        return stat.rsplit(")", 1)[1].split()
    except (OSError, ValueError, IndexError):
        return None


def start_time(pid):
    """The process start time (Linux: clock ticks since boot), or None where unknown."""
    fields = proc_stat(pid)
    return fields[19] if fields and len(fields) > 19 else None


def pid_alive(pid):
    """Whether process ``pid`` runs on this computer (best effort on Windows)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    if sys.platform == "win32":
        return _win_alive(pid)
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    except OSError:
        return True
    fields = proc_stat(pid)
    return not (fields and fields[0] in ("Z", "X"))  # a zombie has ended already


def _win_alive(pid):
    """OpenProcess + GetExitCodeProcess (os.kill would terminate the process on Windows)."""
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.OpenProcess.restype = wintypes.HANDLE
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return ctypes.get_last_error() == 5  # access denied: it exists
    try:
        code = wintypes.DWORD()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def temp_beside(path, kind=""):
    """A new empty file beside ``path``, named after this process (``kind``: "old-" for an
    original kept aside); the caller renames or removes it. OSError as ``mkstemp``'s."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f"{BESIDE_PREFIX}{debris_tag()}{kind}", suffix=path.suffix,
                               dir=path.parent)
    os.close(fd)
    return Path(tmp)


def private_dir():
    """A new folder only this user can read, for decrypted copies (named after our pid)."""
    return tempfile.mkdtemp(prefix=f"{PLAIN_PREFIX}{debris_tag()}")


def scratch_dir():
    """A new private folder for a collect worker's unpacked files (named after our pid)."""
    return tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{debris_tag()}")


def sweep_dead(folder, owner):
    """Remove what the dead process ``owner`` (a lock's record: pid, host) left beside the
    workbook in ``folder`` and its decrypted copies in the temp folder."""
    tag = debris_tag(owner.get("pid"), owner.get("host"))
    for p in Path(folder).glob(f"{BESIDE_PREFIX}{tag}*"):
        with contextlib.suppress(OSError):
            p.unlink()
    for p in Path(tempfile.gettempdir()).glob(f"{PLAIN_PREFIX}{tag}*"):
        shutil.rmtree(p, ignore_errors=True)


def sweep(folder):
    """Remove what processes of this computer that are gone left in ``folder`` and in the
    temp folder: ``.~xlsheets-<host>-<pid>-*`` files, decrypted private copies and inbox
    scratch folders.

    Run before every write, so a killed command's leftovers do not outlive it even
    when no lock of its was left to take over. A live process's files, and another
    computer's (on a shared folder), are kept.
    """
    here = debris_tag(0).split("-")[0]
    temp = Path(tempfile.gettempdir())
    places = [(Path(folder), BESIDE_PREFIX, False), (temp, PLAIN_PREFIX, True),
              (temp, SCRATCH_PREFIX, True)]
    for place, prefix, is_dir in places:
        try:
            found = list(place.glob(f"{prefix}{here}-*"))
        except OSError:
            continue
        for p in found:
            pid = p.name[len(prefix) + len(here) + 1:].partition("-")[0]
            if not pid.isdigit() or pid_alive(int(pid)):
                continue
            with contextlib.suppress(OSError):
                shutil.rmtree(p, ignore_errors=True) if is_dir else p.unlink()


__all__ = ["debris_tag", "pid_alive", "temp_beside", "private_dir", "scratch_dir", "sweep",
           "sweep_dead", "PLAIN_PREFIX", "SCRATCH_PREFIX"]
