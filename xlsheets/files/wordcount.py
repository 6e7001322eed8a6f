"""Length of the written self-analyses (党性分析材料), rule R16.

The length is the number of characters that are not white space: every
character for which ``str.isspace()`` is false (so U+3000 and NBSP are not
counted), less the invisible U+200B, U+200C, U+200D, U+2060 and U+FEFF.

What is counted:

* ``.txt``: the whole file, read as UTF-8 (with or without BOM), else GB18030
  (Notepad on Chinese Windows); a UTF-16 file with a BOM (Notepad's "Unicode")
  is read too.
* ``.docx``: the body only, i.e. the ``w:t`` text of the main document part
  (``word/document.xml``), as it reads with all tracked changes accepted:
  deleted and moved-away text (``w:del``, ``w:moveFrom``) is left out, inserted
  text is counted. Headers, footers, footnotes, endnotes and comments are other
  parts and are not counted: the material is the body. Text boxes are body
  text; of a ``mc:AlternateContent`` only the first branch is read, since Word
  stores each text box twice (the DrawingML choice and its VML fallback).
  Tabs and line breaks are white space, field codes are not text, a symbol
  (``w:sym``) is not counted, and neither is text a run's own properties hide
  (``w:vanish``: it does not print, so it cannot pad a material to length; text
  hidden through a character style still counts).
* ``.doc`` and ``.wps`` (old binary formats) are refused: save as .docx.

A .docx arrives by email and is untrusted: the zip is screened from its
central directory before anything is inflated (``ooxml``'s guards: entry
count, total size, compression ratio, encrypted entries), the body part may
not inflate beyond ``MAX_BODY``, and the XML is streamed through ``ooxml``'s
expat parser, which refuses any DTD or entity declaration.

Matching files to members (``count_folder``), one file per member in one
folder (sub-folders are not read):

1. Only ``.docx``, ``.txt``, ``.doc`` and ``.wps`` files are considered;
   hidden files and names beginning with ``.`` or ``~`` (Word's ``~$`` owner
   files, LibreOffice's ``.~lock``, macOS ``._`` files) are skipped.
2. Names and file names are compared in Unicode NFC, case-folded, with white
   space inside a name ignored (``张  三`` is ``张三``).
3. From the file's stem a leading sequence number is dropped
   (``01_张三``, ``1.张三``, ``3、张三``).
4. The stem must then be the name, or begin with the name followed by a
   separator (white space, ``-``, ``_``, an opening bracket, ``、``, a comma,
   a digit, half- or full-width, ...) or by one of ``党性``, ``的``, ``同志``, ``个人``, ``自我``,
   ``材料``, ``分析``, ``剖析``. So ``张三 党性分析材料.docx`` and
   ``张三党性分析材料.docx`` are 张三's, but ``张三丰.docx`` is not 张三's.
5. When several names fit, the longest wins (``张三丰`` over ``张三``). A name
   that two members share fits nobody (reported under ``failed``).
6. Two files for one member are both left uncounted and reported under
   ``duplicates``; except that a ``.doc``/``.wps`` beside a ``.docx``/``.txt``
   of the same stem is taken for its saved-as original and skipped.
"""
from __future__ import annotations

import codecs
import os
import posixpath
import re
import stat
import unicodedata
import xml.parsers.expat as expat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from xlsheets.errors import XlsheetsError
from xlsheets.ooxml import (
    CFB_MAGIC,
    BookError,
    Forbidden,
    guard_members,
    safe_parser,
    check_zip_directory,
    read_error,
)
from xlsheets.files.roster import ENCODINGS

__all__ = ["MIN_MEMBER", "MIN_LEADERSHIP", "WordCountError", "Counted", "count_text",
           "count_file", "count_folder"]

MIN_MEMBER = 2000  # R16: a member's self-analysis, characters
MIN_LEADERSHIP = 4000  # R16: the leadership's

MAX_BODY = 50 << 20  # declared uncompressed bytes of the main document part
MAX_RELS = 1 << 20  # declared uncompressed bytes of _rels/.rels
MAX_TEXT = 50 << 20  # bytes of a .txt file
MAX_DEPTH = 5_000  # open elements in the body (Word's deepest nesting is a few hundred)
CHUNK = 1 << 16

TEXT_SUFFIXES = (".docx", ".txt")
OLD_SUFFIXES = (".doc", ".wps")
SUFFIXES = TEXT_SUFFIXES + OLD_SUFFIXES

_NOT_COUNTED = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")  # \s is exactly str.isspace()

_W_NS = ("http://schemas.openxmlformats.org/wordprocessingml/2006/main",
         "http://purl.oclc.org/ooxml/wordprocessingml/main")
_MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_OFFICE_DOCUMENT = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument",
                    "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument")
_DEFAULT_BODY = "word/document.xml"

_OLD_FORMAT = {
    ".doc": "这是旧版 Word 格式(.doc),无法统计字数。请在 Word 或 WPS 中打开它,“另存为” .docx 格式后再试。",
    ".wps": "这是 WPS 文字的旧格式(.wps),无法统计字数。请在 WPS 中打开它,“另存为” .docx 格式后再试。",
}
_NOT_DOCX = ("不是有效的 .docx 文档(文件已损坏,或并非 Word 文件)。"
             "请在 Word 或 WPS 中打开后“另存为” .docx 格式再试。")

# After a name in a file's stem: where the name may end (see the module docstring).
_AFTER_NAME = (r"(?=$|[\s\-_~\u2013\u2014\uff5e(\uff08\[\u3010\u300a<,\uff0c\u3001:\uff1a;\uff1b+&#0-9\uff10-\uff19]"
               r"|党性|的|同志|个人|自我|材料|分析|剖析)")
_NUMBER_PREFIX = re.compile(r"^[0-9\uff10-\uff19]+[\s._\-\uff0e\u3001\u2013\u2014)\uff09:\uff1a]*")


class WordCountError(XlsheetsError):
    """A material (or its folder) cannot be read; names the file, says why in Chinese."""

    def __init__(self, path, problem, kind="文件", code=None):
        self.path, self.problem = str(path), problem
        super().__init__(f"{kind} {self.path}:{problem}", code=code)


@dataclass
class Counted:
    """What ``count_folder`` found: counts by name, and the files it could not use."""

    counts: dict = field(default_factory=dict)  # name -> (count, file name)
    unmatched: list = field(default_factory=list)  # file names that match nobody
    failed: list = field(default_factory=list)  # (file name, reason in Chinese)
    duplicates: list = field(default_factory=list)  # (name, [file names]): none counted


# --- counting ------------------------------------------------------------------------------

def count_text(text):
    """Characters of ``text`` that are not white space (nor zero-width or BOM)."""
    return len(text) - sum(m.end() - m.start() for m in _NOT_COUNTED.finditer(text))


def count_file(path):
    """Characters of a .docx or .txt material; WordCountError when it cannot be read."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in _OLD_FORMAT:
        raise WordCountError(path, _OLD_FORMAT[suffix], code="material-old-format")
    if suffix not in TEXT_SUFFIXES:
        raise WordCountError(path, f"不支持的文件类型“{suffix or '无扩展名'}”,"
                                   "只能统计 .docx 或 .txt 文件。", code="material-format-unsupported")
    if path.is_dir():
        raise WordCountError(path, "这是一个文件夹,不是文档。", code="material-is-folder")
    try:
        with open(path, "rb") as f:
            return _count_docx(path, f) if suffix == ".docx" else _count_txt(path, f)
    except OSError as e:
        error = read_error(path, e)
        raise WordCountError(path, error.problem, code=error.code) from None


def _count_txt(path, f):
    """Characters of a text file, decoded chunk by chunk."""
    if os.fstat(f.fileno()).st_size > MAX_TEXT:
        raise WordCountError(path, f"文本文件超过 {MAX_TEXT >> 20} MB,不像是一份党性分析材料,已拒绝读取。",
                             code="material-too-large")
    head = f.read(2)
    utf16 = head in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    for encoding in ("utf-16",) if utf16 else ENCODINGS:
        f.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)()
        count = 0
        try:
            while chunk := f.read(CHUNK):
                count += count_text(decoder.decode(chunk))
            return count + count_text(decoder.decode(b"", True))
        except UnicodeDecodeError:
            continue
    raise WordCountError(path, "无法识别文本文件的编码(应为 UTF-8 或 GBK/GB18030)。"
                               "请用记事本打开,“另存为”时选择 UTF-8 编码后再试。",
                         code="material-encoding")


def _count_docx(path, f):
    """Characters of the body of a .docx, from an open binary file."""
    magic = f.read(len(CFB_MAGIC))
    if not magic:
        raise WordCountError(path, "文件是空的(0 字节)。", code="material-file-empty")
    if magic == CFB_MAGIC:
        raise WordCountError(path, "文件已加密(设置了打开密码),或其实是旧版 .doc 格式。"
                                   "请在 Word 或 WPS 中取消密码,并“另存为” .docx 格式后再试。",
                             code="material-encrypted")
    if not magic.startswith(b"PK"):
        raise WordCountError(path, _NOT_DOCX, code="material-not-docx")
    try:
        check_zip_directory(path, f)
        zf = zipfile.ZipFile(f)
    except BookError as e:
        raise WordCountError(path, e.problem, code=e.code) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError):
        raise WordCountError(path, _NOT_DOCX, code="material-not-docx") from None
    with zf:
        try:
            members = guard_members(path, zf.infolist())
        except BookError as e:
            raise WordCountError(path, e.problem, code=e.code) from None
        lower = {name.lower(): info for name, info in members.items()}
        body = lower.get(_main_part(path, zf, lower) or _DEFAULT_BODY)
        if body is None:
            raise WordCountError(path, f"其中没有 Word 正文({_DEFAULT_BODY}),{_NOT_DOCX}",
                                 code="material-no-body")
        if body.file_size > MAX_BODY:
            raise WordCountError(path, f"其中的 {body.filename} 解压后超过 {MAX_BODY >> 20} MB,"
                                       "疑似损坏或恶意构造的文件,已拒绝读取。",
                                 code="material-body-too-large")
        reader = _BodyReader()
        _stream(path, zf, body, reader.parser)
        if not reader.is_word:
            raise WordCountError(path, "其中的正文不是 Word 文档的格式(可能是改了扩展名的其他文件)。"
                                       "请在 Word 或 WPS 中“另存为” .docx 格式后再试。",
                                 code="material-not-word")
        return reader.count


def _main_part(path, zf, lower):
    """Zip name (lower case) of the main document part named by _rels/.rels, or None."""
    rels = lower.get("_rels/.rels")
    if rels is None:
        return None
    if rels.file_size > MAX_RELS:
        raise WordCountError(path, f"其中的 {rels.filename} 异常庞大,疑似损坏或恶意构造的文件,已拒绝读取。",
                             code="material-part-too-large")
    targets = []

    def start(name, attrs):
        if (name.rpartition(":")[2] == "Relationship" and attrs.get("Type") in _OFFICE_DOCUMENT
                and attrs.get("TargetMode", "Internal") == "Internal"):
            targets.append(attrs.get("Target", ""))

    p = safe_parser()
    p.StartElementHandler = start
    _stream(path, zf, rels, p)
    if not targets:
        return None
    target = posixpath.normpath(posixpath.join("/", unquote(targets[0]).replace("\\", "/")))
    return target.lstrip("/").lower()


def _stream(path, zf, info, p):
    """Inflate zip member ``info`` chunk by chunk into expat parser ``p``."""
    part = info.filename
    try:
        with zf.open(info) as stream:
            while chunk := stream.read(CHUNK):
                p.Parse(chunk, False)
        p.Parse(b"", True)
    except Forbidden:
        raise WordCountError(path, f"其中的 {part} 含有 DTD 或实体声明,出于安全原因拒绝读取。",
                             code="material-dtd") from None
    except _TooDeep:
        raise WordCountError(path, f"其中的 {part} 嵌套超过 {MAX_DEPTH:,} 层,"
                                   "疑似损坏或恶意构造的文件,已拒绝读取。",
                             code="material-too-deep") from None
    except expat.ExpatError as e:
        raise WordCountError(path, f"其中的 {part} 不是有效的 XML(第 {e.lineno} 行第 {e.offset + 1} 列出错),"
                                   "文件可能已损坏,请用 Word 或 WPS 打开后另存一次再试。",
                             code="material-xml-bad") from None
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, zlib.error, EOFError, OSError):
        raise WordCountError(path, f"其中的 {part} 无法解压(文件已损坏或使用了不支持的压缩方式)。",
                             code="material-part-unreadable") from None
    except (LookupError, ValueError, UnicodeError):
        raise WordCountError(path, f"其中的 {part} 编码无法识别,文件可能已损坏。",
                             code="material-part-encoding") from None


class _TooDeep(Exception):
    pass


class _BodyReader:
    """Expat handlers counting the ``w:t`` text of a WordprocessingML body.

    Namespaces are resolved by hand (the safe parser does not process them):
    ``ns`` maps prefixes to URIs, and ``saved`` keeps the map to restore at the
    end of each element that declared any.
    """

    def __init__(self):
        self.count = 0
        self.is_word = False
        self.ns = {"xml": "http://www.w3.org/XML/1998/namespace"}
        self.saved = []  # per open element: the outer ns map when it declared some, else None
        self.kinds = []  # per open element: "t", "ac" (AlternateContent) or None
        self.chosen = []  # per open AlternateContent: whether a branch was taken
        self.skip = 0  # depth inside an element whose text does not count
        self.text = 0  # depth inside w:t
        self.hidden = False  # inside a run whose own properties hide it (w:vanish)
        self.root = True
        p = self.parser = safe_parser()
        p.buffer_text = True
        p.StartElementHandler = self.start
        p.EndElementHandler = self.end
        p.CharacterDataHandler = self.data

    def start(self, name, attrs):
        if len(self.kinds) + self.skip >= MAX_DEPTH:
            raise _TooDeep
        if self.skip:
            self.skip += 1
            return
        decls = {k[6:]: v for k, v in attrs.items() if k.startswith("xmlns:")} if attrs else {}
        if attrs and "xmlns" in attrs:
            decls[""] = attrs["xmlns"]
        self.saved.append(self.ns if decls else None)
        if decls:
            self.ns = {**self.ns, **decls}
        prefix, _, local = name.rpartition(":")
        uri = self.ns.get(prefix)
        kind = None
        if self.root:
            self.root = False
            self.is_word = uri in _W_NS and local == "document"
        if uri in _W_NS:
            parent = self.kinds[-1] if self.kinds else None
            if local == "t":
                kind = "t"
                self.text += 1
            elif local in ("del", "moveFrom"):
                kind = "skip"
            elif local == "r":
                kind, self.hidden = "r", False
            elif local == "rPr" and parent == "r":
                kind = "rpr"
            elif local == "vanish" and parent == "rpr":
                value = next((v for k, v in attrs.items() if k.rpartition(":")[2] == "val"), "1")
                self.hidden = value.strip().lower() not in ("0", "false", "off")
        elif uri == _MC_NS:
            if local == "AlternateContent":
                kind = "ac"
                self.chosen.append(False)
            elif local in ("Choice", "Fallback") and self.chosen:
                if self.chosen[-1]:
                    kind = "skip"
                else:
                    self.chosen[-1] = True
        if kind == "skip":
            self._restore()
            self.skip = 1
            return
        self.kinds.append(kind)

    def end(self, _name):
        if self.skip:
            self.skip -= 1
            return
        kind = self.kinds.pop()
        if kind == "t":
            self.text -= 1
        elif kind == "r":
            self.hidden = False
        elif kind == "ac":
            self.chosen.pop()
        self._restore()

    def _restore(self):
        outer = self.saved.pop()
        if outer is not None:
            self.ns = outer

    def data(self, text):
        if self.text and not self.skip and not self.hidden:
            self.count += count_text(text)


# --- a folder of materials ------------------------------------------------------------------

def _key(text):
    """A name or stem as compared: NFC, case-folded, without white space."""
    return _NOT_COUNTED.sub("", unicodedata.normalize("NFC", text)).casefold()


def _name_pattern(key):
    """Regex matching ``key`` at the start of a stem, white space allowed between letters."""
    return re.compile(r"\s*".join(re.escape(c) for c in key) + _AFTER_NAME)


def _stem(filename):
    """A file's stem as compared: NFC, case-folded, trimmed, sequence number dropped."""
    stem = unicodedata.normalize("NFC", Path(filename).stem).casefold()
    stem = _NOT_COUNTED.sub(" ", stem).strip()
    return _NUMBER_PREFIX.sub("", stem)


def _skipped(entry):
    """Hidden files, owner/lock files and temporary files."""
    if entry.name.startswith((".", "~")):
        return True
    try:
        return bool(getattr(entry.stat(), "st_file_attributes", 0) & stat.FILE_ATTRIBUTE_HIDDEN)
    except OSError:
        return False


def _files(folder):
    """Names of the candidate files in ``folder``, sorted; WordCountError for the folder."""
    try:
        with os.scandir(folder) as it:
            entries = [e for e in it if e.is_file() and not _skipped(e)
                       and Path(e.name).suffix.lower() in SUFFIXES]
    except FileNotFoundError:
        raise WordCountError(folder, "找不到该文件夹,请检查路径。", "文件夹",
                             code="materials-folder-missing") from None
    except NotADirectoryError:
        raise WordCountError(folder, "这是一个文件,不是文件夹。", "文件夹",
                             code="materials-not-folder") from None
    except PermissionError:
        raise WordCountError(folder, "没有读取该文件夹的权限。", "文件夹",
                             code="materials-folder-no-permission") from None
    except OSError as e:
        raise WordCountError(folder, f"无法读取该文件夹:{e.strerror or e}", "文件夹",
                             code="materials-folder-unreadable") from None
    return sorted(e.name for e in entries)


def count_folder(folder, names, leadership_label):
    """Count each member's (and the leadership's) material in ``folder``.

    Args:
        folder: the folder holding one file per member.
        names: members' names (as on the roster).
        leadership_label: the name of the leadership's file (e.g. "领导班子"), or None.

    Returns:
        A ``Counted``; its ``counts`` are keyed by the names as given.
    """
    folder = Path(folder)
    if not folder.exists():
        raise WordCountError(folder, "找不到该文件夹,请检查路径。", "文件夹",
                             code="materials-folder-missing")
    if not folder.is_dir():
        raise WordCountError(folder, "这是一个文件,不是文件夹。", "文件夹",
                             code="materials-not-folder")
    owners = {}  # key -> [names as given]
    for name in [*names, *([leadership_label] if leadership_label else [])]:
        key = _key(name)
        if key:
            owners.setdefault(key, []).append(name)
    patterns = sorted(((key, _name_pattern(key)) for key in owners), key=lambda kp: -len(kp[0]))

    filenames = _files(folder)
    countable = {_stem(f) for f in filenames if Path(f).suffix.lower() in TEXT_SUFFIXES}
    result = Counted()
    found = {}  # key -> [file names]
    for filename in filenames:
        stem = _stem(filename)
        suffix = Path(filename).suffix.lower()
        if suffix in OLD_SUFFIXES:
            if stem not in countable:  # else: the original of a .docx saved beside it
                result.failed.append((filename, _OLD_FORMAT[suffix]))
            continue
        key = next((k for k, pattern in patterns if pattern.match(stem)), None)
        if key is None:
            result.unmatched.append(filename)
        elif len(owners[key]) > 1:
            result.failed.append((filename, f"名单中有 {len(owners[key])} 个“{owners[key][0]}”,"
                                            "无法确定这是谁的材料。"))
        else:
            found.setdefault(key, []).append(filename)
    for key in owners:
        if key not in found:
            continue
        name, files = owners[key][0], found[key]
        if len(files) > 1:
            result.duplicates.append((name, files))
            continue
        try:
            result.counts[name] = (count_file(folder / files[0]), files[0])
        except WordCountError as e:
            result.failed.append((files[0], e.problem))
    return result
