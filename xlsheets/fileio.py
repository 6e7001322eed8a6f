"""Writing files safely: a temporary file beside the target, then one atomic rename.

A clerk's file is never left half-written: on any error the temporary file is
removed and the original, if any, is untouched. If the process is killed
outright, the original is still untouched; the temporary file carries the
process id (``locks.debris_tag``), and the next command that takes over the
dead process's workbook lock removes it. ``os.replace`` is atomic on
Windows, macOS and Linux when both paths are on one volume, hence "beside".
"""

import contextlib
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_output(path):
    """Yield a temporary path; on success move it over ``path`` in one step."""
    from .locks import debris_tag

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # named after this process, so that a command finding it dead can clear what it left
    fd, tmp = tempfile.mkstemp(prefix=f".~xlsheets-{debris_tag()}", suffix=path.suffix,
                               dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        _flush_to_disk(tmp)
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _flush_to_disk(path):
    """Make the new content durable before it takes the original's name (best effort)."""
    try:
        with open(path, "rb+") as f:
            os.fsync(f.fileno())
    except OSError:
        pass


def _mode_for(path):
    """Keep an existing file's mode; a new file gets the usual 0666 less umask."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def lock_files(path):
    """Owner files that Excel, WPS and LibreOffice leave beside an open workbook."""
    path = Path(path)
    name = path.name
    return [path.with_name("~$" + name), path.with_name("~$" + name[2:]),
            path.with_name(f".~lock.{name}#"), path.with_name(f".~{name}")]


def refuse_if_open(path):
    """Raise when ``path`` looks open in Excel, WPS or LibreOffice (a lock file beside it)."""
    from .errors import XlsheetsError

    path = Path(path)
    if not path.exists():
        return
    for lock in lock_files(path):
        if lock.exists():
            raise XlsheetsError(f"{path} 正在被 Excel、WPS 或 LibreOffice 打开({lock.name}),"
                                "请先关闭该文件再操作。")
