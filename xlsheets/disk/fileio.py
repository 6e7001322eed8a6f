"""Writing files safely: a temporary file beside the target, then one atomic rename.

A clerk's file is never left half-written: on any error the temporary file is
removed and the original, if any, is untouched. If the process is killed
outright, the original is still untouched; the temporary file carries the
process id (``debris.temp_beside``), and the next command that writes there or takes
over the dead process's workbook lock removes it. ``os.replace`` is atomic on
Windows, macOS and Linux when both paths are on one volume, hence "beside".
"""

import contextlib
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from xlsheets.disk import debris
from xlsheets.errors import XlsheetsError
from xlsheets.ooxml import BookError, read_error


class StaleError(XlsheetsError):
    """The file changed on disk after it was read: nothing written."""


@dataclass(frozen=True)
class Snapshot:
    """What a file was when it was read: its identity and the hash of its bytes."""

    dev: int
    ino: int
    size: int
    mtime_ns: int
    sha256: str

    @classmethod
    def of(cls, path):
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            digest = hashlib.sha256()
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, digest.hexdigest())

    def same_bytes(self, other):
        return self.size == other.size and self.sha256 == other.sha256


@contextlib.contextmanager
def private_copy(path):
    """Yield ``(copy, Snapshot)``: the bytes of ``path`` as read once, in a private folder.

    compute reads, checks and patches the copy, so what it writes comes from the bytes
    it checked; the Snapshot lets the final replace refuse a file saved meanwhile. An
    error about the copy is re-raised naming ``path``. The folder goes afterwards.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            data = f.read()
    except OSError as e:
        raise read_error(path, e) from None
    snap = Snapshot(st.st_dev, st.st_ino, len(data), st.st_mtime_ns,
                    hashlib.sha256(data).hexdigest())
    try:
        folder = Path(debris.private_dir())
    except OSError as e:
        raise XlsheetsError(f"无法在临时文件夹 {tempfile.gettempdir()} 中建立 {path} 的副本"
                            f"({reason_of(e)}),未写入。") from None
    try:
        copy = folder / path.name  # same name: messages and unit detection see the same
        try:
            copy.write_bytes(data)
        except OSError as e:
            raise XlsheetsError(f"无法在临时文件夹 {tempfile.gettempdir()} 中建立 {path} 的副本"
                                f"({reason_of(e)}),未写入。") from None
        del data
        try:
            yield copy, snap
        except BookError as e:
            if e.path == str(copy):
                raise type(e)(path, e.problem, code=e.code) from None
            raise
        except XlsheetsError as e:
            if str(copy) in str(e):
                e.args = (str(e).replace(str(copy), str(path)),)
            raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def target_of(path):
    """The file a write to ``path`` must replace: a symbolic link's target, else ``path``."""
    path = Path(path)
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def refuse_read_only(path):
    """XlsheetsError when ``path`` exists and is read-only (mode or Windows attribute)."""
    try:
        st = os.stat(path)
    except OSError:
        return
    if not st.st_mode & 0o222 or not os.access(path, os.W_OK):
        raise XlsheetsError(f"{path} 是只读文件,未写入。如确需写入,请先在文件属性中取消“只读”"
                            "(或请管理员给予写入权限)后重试。")


@contextlib.contextmanager
def atomic_output(path, unchanged=None):
    """Yield a temporary path; on success move it over ``path`` in one step.

    - a symbolic link is followed: its target is replaced, the link stays a link;
    - a read-only file is refused before anything is written;
    - the new file keeps the old one's mode and, where the system allows, owner and group;
    - ``unchanged`` (a Snapshot): replace only if the file still is what was read
      (StaleError otherwise: another program saved it meanwhile; nothing changed);
    - a failing write (full disk, no permission) is one Chinese message naming the file,
      and the original stays as it was.
    """
    path = target_of(path)
    refuse_read_only(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        debris.sweep(path.parent)
        # named after this process, so that a command finding it dead can clear what it left
        tmp = debris.temp_beside(path)
    except OSError as e:
        raise XlsheetsError(f"无法在 {path.parent} 中写入文件({reason_of(e)}),{path} 未写入。") from None
    tmp = Path(tmp)
    try:
        try:
            yield tmp
            _flush_to_disk(tmp)
            _keep_owner_and_mode(path, tmp)
            if unchanged is not None:
                _refuse_if_changed(path, unchanged)
            os.replace(tmp, path)
        except OSError as e:
            raise XlsheetsError(f"写入 {path} 失败({reason_of(e)}),原文件未改动。") from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def new_beside(target):
    """A new empty temporary file beside ``target`` (its folder made when missing), left
    for ``debris.sweep`` should this process die; the caller renames or removes it.
    XlsheetsError naming the folder when it cannot be made."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        debris.sweep(target.parent)
        return debris.temp_beside(target)
    except OSError as e:
        raise cannot_write(target.parent, e) from None


def cannot_write(folder, error):
    """The XlsheetsError for an OSError ``error`` met writing a new file in ``folder``."""
    return XlsheetsError(f"无法在 {folder} 中写入文件({reason_of(error)}),未写入任何文件。")


@contextlib.contextmanager
def atomic_outputs(paths, names):
    """Yield temporary paths for several files that are replaced all or none.

    ``names`` say what each file is (全镇汇总, 档案库) in the message. Each
    temporary file is written beside its target; at the end the originals are
    kept aside, the new files take their places, and if one replace fails the ones
    already done are put back: XlsheetsError saying truthfully that nothing was
    written (or, should putting back fail too, exactly what was).
    """
    targets = [target_of(p) for p in paths]
    for t in targets:
        refuse_read_only(t)
    temps = []
    try:
        for t in targets:
            temps.append(new_beside(t))
    except XlsheetsError:
        for tmp in temps:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise
    asides, done = [], []
    try:
        try:
            yield temps
            for t, tmp in zip(targets, temps):
                _flush_to_disk(tmp)
                _keep_owner_and_mode(t, tmp)
            for t in targets:  # the originals, kept aside until every new file is in place
                aside = None
                if t.exists():
                    aside = debris.temp_beside(t, "old-")
                    shutil.copyfile(t, aside)
                asides.append(aside)
            for t, tmp in zip(targets, temps):
                os.replace(tmp, t)
                done.append(t)
        except BaseException as e:  # an interrupt too: the files already replaced go back
            undone = _put_back(done, asides)
            why = reason_of(e) if isinstance(e, OSError) else "已中断"
            if undone:
                written = "、".join(f"{n} {t}" for n, t in zip(names, targets) if t in undone)
                raise XlsheetsError(f"写入失败({why}):{written} 已写入,其余未写入,"
                                    "两者可能不一致,请重新运行。") from None
            if not isinstance(e, OSError):
                raise
            where = "、".join(f"{n} {t}" for n, t in zip(names, targets))
            raise XlsheetsError(f"写入 {where} 失败({why}),未写入任何文件,原有文件未改动。") from None
    finally:
        for tmp in [*temps, *(a for a in asides if a)]:
            with contextlib.suppress(OSError):
                tmp.unlink()


def _put_back(done, asides):
    """Restore the originals of the files already replaced; those that could not be."""
    undone = []
    for t, aside in zip(done, asides):
        try:
            if aside is None:
                t.unlink()
            else:
                os.replace(aside, t)
        except OSError:
            undone.append(t)
    return undone


def reason_of(error):
    """The cause of an OSError in the clerk's words."""
    import errno

    words = {"ENOSPC": "磁盘已满", "EACCES": "没有写入权限", "EPERM": "没有写入权限",
             "EROFS": "磁盘或文件夹是只读的", "EDQUOT": "超出磁盘配额",
             "ENOENT": "文件夹不存在", "EBUSY": "文件正被其他程序占用", "EIO": "磁盘读写出错"}
    name = errno.errorcode.get(error.errno, "")
    return words.get(name) or (error.strerror or type(error).__name__)


def _refuse_if_changed(path, before):
    try:
        now = Snapshot.of(path)
    except OSError:
        now = None
    if now is None or not now.same_bytes(before):
        raise StaleError(f"{path} 在读取之后被其他程序改动或保存过,为免覆盖新的内容,未写入。"
                         "请关闭其他程序后重新运行。")


def _keep_owner_and_mode(path, tmp):
    os.chmod(tmp, _mode_for(path))
    try:
        st = os.stat(path)
    except OSError:
        return
    if hasattr(os, "chown"):
        with contextlib.suppress(OSError):
            os.chown(tmp, st.st_uid, st.st_gid)


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
    path = Path(path)
    if not path.exists():
        return
    for lock in lock_files(path):
        if lock.exists():
            raise XlsheetsError(f"{path} 正在被 Excel、WPS 或 LibreOffice 打开({lock.name}),"
                                "请先关闭该文件再操作。")
