"""Workbooks protected by an opening password: real OOXML agile encryption.

An encrypted .xlsx is not a zip at all but an OLE compound file (CFB) holding
two streams, ``EncryptionInfo`` (how the key is derived from the password) and
``EncryptedPackage`` (the whole .xlsx, AES-encrypted). Excel, WPS and
LibreOffice open it after asking for the password. msoffcrypto-tool does the
cryptography; this module adds what a clerk's file needs around it:

- every encrypted file is decrypted again right after it is made and must give
  back the very bytes that went in (a valid .xlsx) before it replaces anything;
- packages of 4,080 bytes or less are padded first (a zip comment): for them
  msoffcrypto-tool writes ``EncryptedPackage`` into the CFB mini stream with a
  wrong start sector, and the file decrypts to garbage (msoffcrypto-tool issue
  #105). Real branch workbooks are far larger; the check above would catch it
  anyway;
- a wrong password, a file that is encrypted but no password given, or a
  damaged container each become one Chinese message naming the file (exit 2).

``plain_copy`` gives the rest of the package a path it can read: the file
itself when it is not encrypted, else a decrypted copy in a private temporary
folder, deleted afterwards.
"""

import contextlib
import io
import os
import shutil
import zipfile
from pathlib import Path

from xlsheets.disk.debris import private_dir
from xlsheets.disk.fileio import atomic_output
from xlsheets.errors import UsageError
from xlsheets.ooxml import BookError, read_error

CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_ENCRYPTED = 200 * 1024 * 1024  # larger encrypted files are refused before decrypting
MAX_PASSWORD = 255  # Excel's limit for an opening password
SMALL_PACKAGE = 4080  # packages up to this size trip msoffcrypto-tool's mini-stream bug
INBOX_PASSWORD_ENV = "XLSHEETS_INBOX_PASSWORD"  # collect's password, seen by its worker processes


class PasswordError(BookError):
    """The password given does not open the workbook."""


def check_password(password):
    """Raise a Chinese UsageError for a password Excel would not accept."""

    if password is None:
        return
    if password == "":
        raise UsageError("--password 不能为空;不需要密码时请不要加 --password。")
    if len(password) > MAX_PASSWORD:
        raise UsageError(f"--password 过长({len(password)} 个字符),Excel 的打开密码最多 "
                         f"{MAX_PASSWORD} 个字符。")


def is_encrypted(path):
    """True when ``path`` is an OLE/CFB file with an ``EncryptionInfo`` stream."""
    try:
        with open(path, "rb") as f:
            if f.read(len(CFB_MAGIC)) != CFB_MAGIC:
                return False
    except OSError:
        return False
    return _has_encryption_info(path)


def _has_encryption_info(source):
    import olefile

    try:
        with olefile.OleFileIO(source) as ole:
            return ole.exists("EncryptionInfo") and ole.exists("EncryptedPackage")
    except Exception:  # a damaged or hostile container: not one we can decrypt
        return False


def needs_password(path):
    """The BookError for an encrypted file opened without ``--password``."""
    return BookError(path, "文件已加密(设置了打开密码)。请在命令后加上 --password 密码 再试"
                           "(密码区分大小写),或在 Excel/WPS 中取消密码后另存。",
                     code="password-needed")


def decrypt(path, password):
    """The plain .xlsx bytes of encrypted workbook ``path``.

    Raises ``PasswordError`` for a wrong password and ``BookError`` when the file
    is not an encrypted workbook or is damaged; both name ``path``.
    """
    try:
        size = os.path.getsize(path)
        if size > MAX_ENCRYPTED:
            raise BookError(path, f"加密文件超过 {MAX_ENCRYPTED >> 20} MB,疑似损坏或恶意构造,已拒绝打开。",
                            code="encrypted-too-large")
        data = Path(path).read_bytes()
    except OSError as e:
        raise read_error(path, e) from None
    return decrypt_bytes(data, password, path)


def decrypt_bytes(data, password, name="工作簿"):
    """Decrypt an encrypted workbook held in memory; ``name`` is used in messages."""
    import msoffcrypto
    from msoffcrypto import exceptions as mx

    if not data.startswith(CFB_MAGIC) or not _has_encryption_info(io.BytesIO(data)):
        raise BookError(name, "不是加密的 .xlsx 工作簿(没有加密信息)。", code="not-encrypted")
    try:
        # msoffcrypto-tool refuses a spinCount above [MS-OFFCRYPTO]'s 10,000,000 here,
        # so a hostile file cannot stall the key derivation
        office = msoffcrypto.OfficeFile(io.BytesIO(data))
        office.load_key(password=password, verify_password=True)
    except mx.InvalidKeyError:
        raise PasswordError(name, "密码不正确,无法打开。请核对密码(区分大小写)后重试。",
                            code="password-wrong") from None
    except Exception:  # unsupported or damaged encryption header
        raise BookError(name, "无法解密:加密信息已损坏,或加密方式不受支持。",
                        code="encryption-info-bad") from None
    out = io.BytesIO()
    try:
        office.decrypt(out, verify_integrity=True)
    except mx.InvalidKeyError:
        raise BookError(name, "解密后的内容校验失败:文件已损坏或被改动过。",
                        code="decrypt-integrity") from None
    except Exception:
        raise BookError(name, "无法解密:文件已损坏,或加密方式不受支持。",
                        code="decrypt-failed") from None
    plain = out.getvalue()
    if not zipfile.is_zipfile(io.BytesIO(plain)):
        raise BookError(name, "解密后不是有效的 .xlsx 工作簿,文件可能已损坏。",
                        code="decrypted-not-xlsx")
    return plain


def encrypt_bytes(plain, password, name="工作簿"):
    """Agile-encrypt the .xlsx bytes ``plain``; return the CFB bytes, proven to decrypt.

    The result is decrypted again at once and must give back exactly the package
    that was encrypted (padded with a zip comment first if it is tiny).
    """
    from msoffcrypto.format.ooxml import OOXMLFile

    check_password(password)
    if not zipfile.is_zipfile(io.BytesIO(plain)):
        raise BookError(name, "要加密的内容不是有效的 .xlsx 工作簿。", code="encrypt-not-xlsx")
    plain = _padded(plain)
    out = io.BytesIO()
    try:
        OOXMLFile(io.BytesIO(plain)).encrypt(password, out)
    except Exception:  # msoffcrypto-tool could not build the container
        raise BookError(name, "无法加密该工作簿,未写入任何文件,原文件保持不变。",
                        code="encrypt-failed") from None
    encrypted = out.getvalue()
    try:
        again = decrypt_bytes(encrypted, password, name)
    except BookError:
        again = None
    if again != plain:
        raise BookError(name, "加密后的文件未能按原密码正确解密,已放弃写入,原文件保持不变。",
                        code="encrypt-verify-failed")
    return encrypted


def _padded(plain):
    """A package too small for msoffcrypto-tool's CFB writer, grown by a zip comment."""
    if len(plain) > SMALL_PACKAGE:
        return plain
    buf = io.BytesIO(plain)
    with zipfile.ZipFile(buf, "a") as z:
        z.comment = z.comment + b" " * (SMALL_PACKAGE + 64 - len(plain))
    return buf.getvalue()


def encrypt(plain_path, out_path, password):
    """Encrypt workbook ``plain_path`` into ``out_path``, replacing it atomically.

    Nothing is written unless the encrypted file decrypts back to the same package.
    """
    data = Path(plain_path).read_bytes()
    encrypted = encrypt_bytes(data, password, out_path)
    with atomic_output(out_path) as tmp:
        Path(tmp).write_bytes(encrypted)


@contextlib.contextmanager
def plain_copy(path, password=None):
    """Yield a readable .xlsx path for ``path``: itself, or a decrypted private copy.

    - not encrypted: yields ``path`` unchanged (the password, if any, is not needed);
    - encrypted, no password: BookError "文件已加密 … --password";
    - encrypted, wrong password: PasswordError "密码不正确".
    A BookError raised inside the block about the copy is re-raised naming ``path``.
    """
    if not is_encrypted(path):
        yield path
        return
    if password is None:
        raise needs_password(path)
    plain = decrypt(path, password)
    folder = private_dir()
    try:
        copy = Path(folder) / (Path(path).stem + ".xlsx")
        copy.write_bytes(plain)
        del plain
        try:
            yield copy
        except BookError as e:
            if getattr(e, "path", None) == str(copy):
                raise BookError(path, e.problem, code=e.code) from None
            raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def inbox_password(password):
    """Make ``password`` the one collect's workers use (``inbox_password_now``), for the block.

    It travels in an environment variable so that worker processes started by
    ``spawn`` (Windows, macOS) see it as well as forked ones; it is removed after.
    """
    before = os.environ.get(INBOX_PASSWORD_ENV)
    if password is None:
        os.environ.pop(INBOX_PASSWORD_ENV, None)
    else:
        os.environ[INBOX_PASSWORD_ENV] = password
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(INBOX_PASSWORD_ENV, None)
        else:
            os.environ[INBOX_PASSWORD_ENV] = before


def inbox_password_now():
    """The password given to ``collect --password``, or None."""
    return os.environ.get(INBOX_PASSWORD_ENV) or None


__all__ = ["PasswordError", "check_password", "is_encrypted", "decrypt", "decrypt_bytes",
           "encrypt", "encrypt_bytes", "plain_copy", "inbox_password", "inbox_password_now"]
