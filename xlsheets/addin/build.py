"""Build ``xlsheets.xlam`` from ``macros/``: on any OS, the same sources give the same bytes.

The add-in is an OOXML package with the add-in content type, one minimal worksheet,
the ribbon XML as ``customUI/customUI14.xml`` and ``xl/vbaProject.bin``, which ms-ovba
writes from the VBA *source* (no compiled p-code; Excel compiles on first load). The
VBA project holds:

* every ``macros/*.bas`` (standard modules) and ``macros/*.cls`` (class modules);
* xlwings' VBA module, taken from the installed xlwings so that RunPython works
  without the xlwings add-in. It is xlwings' *custom add-in* variant
  (``xlwings_custom_addin.bas``), not ``xlwings.bas``: in an add-in ``ThisWorkbook``
  is the .xlam itself, and ``xlwings.bas`` hands ``ThisWorkbook`` to Python as the
  caller, looks for config next to it and names it in ``--wb``, so ``Book.caller()``
  would be the add-in instead of the clerk's workbook. The variant uses
  ``ActiveWorkbook`` there and reads an add-in config sheet. One line is adapted:
  ``PROJECT_NAME`` becomes ``xlwings``, so the interpreter is read from xlwings' usual
  user config file (``%USERPROFILE%\\.xlwings\\xlwings.conf``, written by
  ``xlwings config create``) instead of a ``myaddin.conf``;
* xlwings' ``Dictionary`` class (``addin/Dictionary.cls``): on a Mac the xlwings module
  declares ``Dim d As Dictionary``, and VBA compiles a whole module at once, so without
  the class RunPython would not compile there (xlwings' own release command imports the
  same pair);
* the ``ThisWorkbook`` document module (empty).

The worksheet is xlwings' add-in config sheet ``xlwings.conf`` with one setting,
``ADD_WORKBOOK_TO_PYTHONPATH = false``: the package is installed, so nothing should be
imported from the folder of a workbook that arrived by email.

ms-ovba, as released (ms-ovba 0.0.1, ms-ovba-compression 1.0.1, ms-ovba-crypto 2.0.1),
needs three things from the build:

* It writes its intermediate files into the working directory: the build runs in a
  private temporary directory.
* It encrypts the PROJECT stream's CMG/DPB/GC fields with seeds from the module-level
  ``random`` (MS-OVBA 2.4.3), so two builds differ: the build pins that generator.
  All other fields are fixed (FILETIMEs zero, CLSIDs zero, the project ID a constant).
* Its compressor computes a copy token's maximum length as ``0xFFFF << (bitCount + 3)``
  instead of ``(0xFFFF >> bitCount) + 3`` (MS-OVBA 2.4.1.3.19.1), so a repeat longer
  than a token can hold spills into the offset bits and every reader (Excel,
  LibreOffice, olevba) decodes garbage from there on. The build corrects that value
  while it runs and then checks that each module stream decompresses to its source.

The zip entries have a fixed order, a fixed 1980-01-01 timestamp, DOS attributes and no
compression (deflate output depends on the zlib build), so the same sources give the
same bytes on any machine.
"""

import contextlib
import importlib.metadata
import importlib.resources
import io
import random
import re
import tempfile
import threading
import uuid
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from xlsheets.errors import UsageError
from xlsheets.disk.fileio import atomic_output

MACROS = Path(__file__).resolve().parents[2] / "macros"
DEFAULT_OUT = Path("dist") / "xlsheets.xlam"
RIBBON = "customUI14.xml"

ADDIN_CONTENT_TYPE = "application/vnd.ms-excel.addin.macroEnabled.main+xml"
CUSTOMUI_NS = "http://schemas.microsoft.com/office/2009/07/customui"
RIBBON_RELATIONSHIP = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
VBA_RELATIONSHIP = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"

#: xlwings' files the add-in carries (paths inside the installed xlwings package).
XLWINGS_MODULE = "xlwings_custom_addin.bas"
XLWINGS_DICTIONARY = "addin/Dictionary.cls"
#: The config sheet of the add-in (xlwings reads ``PROJECT_NAME & ".conf"``).
CONFIG_SHEET = "xlwings.conf"
CONFIG = (("ADD_WORKBOOK_TO_PYTHONPATH", "false"),)

#: ID of the VBA project (PROJECT stream); constant so that builds repeat.
PROJECT_ID = "{5E1D7C2A-2005-4A18-9B0D-3C6F1E8A4D72}"
#: Seed of the generator that ms-ovba's PROJECT-stream encryption draws from.
CRYPTO_SEED = 20050818
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
ZIP_COMMENT_PREFIX = "xlsheets add-in; xlwings "

_ATTRIBUTE = re.compile(r"Attribute VB_(\w+) = (.*)")
_BUILD_LOCK = threading.Lock()  # the build changes directory and a module global


@dataclass(frozen=True)
class VbaModule:
    """One module of the VBA project as it is stored.

    ``kind`` is "module", "class" or "document"; ``attributes`` are the ``Attribute
    VB_...`` lines that head the stored source; ``code`` is the rest, with LF line ends.
    """

    name: str
    kind: str
    attributes: tuple
    code: str
    origin: str

    def stored_source(self):
        """The module's text as the VBA project stores it: CRLF line ends."""
        text = "\n".join(self.attributes) + "\n" + self.code
        return text.replace("\n", "\r\n").encode("ascii")


def build(out=DEFAULT_OUT, macros=MACROS):
    """Write the add-in to ``out`` (atomically) and return its path.

    Args:
        out: the .xlam to write; folders are created.
        macros: folder of the VBA (``*.bas``, ``*.cls``) and ribbon (``customUI14.xml``) sources.

    Returns:
        ``Path`` of the written add-in.
    """
    out = Path(out)
    if out.suffix.lower() != ".xlam":
        raise UsageError(f"输出文件 {out} 应以 .xlam 结尾")
    data = package(macros)
    with atomic_output(out) as tmp:
        tmp.write_bytes(data)
    return out


def package(macros=MACROS):
    """The bytes of the add-in built from ``macros``."""
    macros = Path(macros)
    ribbon = read_ribbon(macros)
    modules = vba_modules(macros)
    check_callbacks(ribbon, modules)
    parts = [
        ("[Content_Types].xml", _content_types()),
        ("_rels/.rels", _root_rels()),
        ("docProps/core.xml", _core_properties()),
        ("xl/workbook.xml", _workbook()),
        ("xl/_rels/workbook.xml.rels", _workbook_rels()),
        ("xl/styles.xml", _styles()),
        ("xl/worksheets/sheet1.xml", _config_sheet()),
        ("xl/vbaProject.bin", vba_project_bin(modules)),
        ("customUI/customUI14.xml", ribbon),
    ]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in parts:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 0  # MS-DOS, whatever OS builds it
            info.external_attr = 0
            zf.writestr(info, data)
        zf.comment = (ZIP_COMMENT_PREFIX + _xlwings_version()).encode("ascii")
    return buf.getvalue()


def built_with_xlwings(path):
    """The xlwings version whose VBA module the add-in at ``path`` carries (None if unknown)."""
    with zipfile.ZipFile(path) as zf:
        comment = zf.comment.decode("ascii", "replace")
    return comment[len(ZIP_COMMENT_PREFIX):] if comment.startswith(ZIP_COMMENT_PREFIX) else None


# --- sources -----------------------------------------------------------------------

def read_ribbon(macros=MACROS):
    """The ribbon XML's bytes, after checking that it parses and uses the 2009/07 schema."""
    path = Path(macros) / RIBBON
    try:
        data = path.read_bytes()
        root = ET.fromstring(data)
    except OSError as e:
        raise UsageError(f"找不到功能区定义 {path}:{e.strerror}") from None
    except ET.ParseError as e:
        raise UsageError(f"功能区定义 {path} 不是有效的 XML:{e}") from None
    if root.tag != f"{{{CUSTOMUI_NS}}}customUI":
        raise UsageError(f"功能区定义 {path} 的根元素应为 {CUSTOMUI_NS} 命名空间的 customUI")
    return data


def vba_modules(macros=MACROS):
    """Every module of the add-in's VBA project, in project order.

    ThisWorkbook, then ``macros/*.bas`` and ``*.cls`` by file name, then xlwings' module
    and its Dictionary class.
    """
    modules = [this_workbook()]
    for path in sorted(Path(macros).iterdir()):
        kind = {".bas": "module", ".cls": "class"}.get(path.suffix.lower())
        if kind is None or not path.is_file():
            continue
        module = parse_source(_read_ascii(path), kind, str(path))
        if module.name != path.stem:
            raise UsageError(f"{path}:模块名 {module.name} 应与文件名 {path.stem} 一致")
        modules.append(module)
    modules += xlwings_modules()
    names = [m.name.lower() for m in modules]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UsageError(f"VBA 模块名重复:{', '.join(dupes)}(macros/ 中的模块不能与 xlwings 的模块同名)")
    return modules


def xlwings_modules():
    """The installed xlwings' custom add-in module (PROJECT_NAME adapted) and Dictionary class."""
    root = _xlwings_root()
    version = _xlwings_version()
    text = _read_ascii(root / XLWINGS_MODULE)
    if f'Public Const XLWINGS_VERSION As String = "{version}"' not in text:
        raise UsageError(f"已安装的 xlwings {version} 与其 VBA 模块 {XLWINGS_MODULE} 的版本不符,请重新安装 xlwings")
    text, n = re.subn(r'(?m)^(Public Const PROJECT_NAME As String = )"myaddin"', r'\1"xlwings"', text)
    if n != 1:
        raise UsageError(f"xlwings {version} 的 {XLWINGS_MODULE} 中找不到 PROJECT_NAME,无法改编;请使用经过测试的 xlwings 版本")
    module = parse_source(text, "module", f"xlwings {version}/{XLWINGS_MODULE}")
    dictionary = parse_source(_read_ascii(root / XLWINGS_DICTIONARY), "class",
                              f"xlwings {version}/{XLWINGS_DICTIONARY}")
    return [module, dictionary]


def this_workbook():
    """The workbook's document module: attributes only, no code."""
    attributes = (
        'Attribute VB_Name = "ThisWorkbook"',
        'Attribute VB_Base = "0{00020819-0000-0000-C000-000000000046}"',
        "Attribute VB_GlobalNameSpace = False",
        "Attribute VB_Creatable = False",
        "Attribute VB_PredeclaredId = True",
        "Attribute VB_Exposed = True",
        "Attribute VB_TemplateDerived = False",
        "Attribute VB_Customizable = True",
    )
    return VbaModule("ThisWorkbook", "document", attributes, "", "(generated)")


def parse_source(text, kind, origin):
    """A VBA module from its exported text (.bas or .cls)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if kind == "class" and lines and lines[0].startswith("VERSION "):
        # An export's VERSION/BEGIN ... END header is not part of the stored module.
        end = next((i for i, line in enumerate(lines) if line.strip() == "END"), None)
        if end is None:
            raise UsageError(f"{origin}:类模块的 BEGIN 段没有 END")
        lines = lines[end + 1:]
    head = 0
    while head < len(lines) and _ATTRIBUTE.fullmatch(lines[head]):
        head += 1
    attributes, code = lines[:head], lines[head:]
    name = _ATTRIBUTE.fullmatch(attributes[0]) if attributes else None
    if not name or name.group(1) != "Name":
        raise UsageError(f'{origin}:第一行应为 Attribute VB_Name = "模块名"')
    if kind == "class":
        attributes = _class_attributes(attributes)
    module_name = name.group(2).strip('"')
    return VbaModule(module_name, kind, tuple(attributes), "".join(c + "\n" for c in code), origin)


def _class_attributes(attributes):
    # A stored class module names its base class and carries two attributes an export omits.
    names = [_ATTRIBUTE.fullmatch(a).group(1) for a in attributes]
    result = list(attributes)
    if "Base" not in names:
        result.insert(1, 'Attribute VB_Base = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"')
    for extra in ("TemplateDerived", "Customizable"):
        if extra not in names:
            result.append(f"Attribute VB_{extra} = False")
    return result


def check_callbacks(ribbon, modules):
    """Refuse a ribbon whose onAction names no ``Sub X(control As IRibbonControl)``."""
    subs = set()
    for m in modules:
        subs.update(n.lower() for n in callback_subs(m.code))
    root = ET.fromstring(ribbon)
    missing = sorted({el.get("onAction") for el in root.iter() if el.get("onAction")
                      and el.get("onAction").split(".")[-1].lower() not in subs})
    if missing:
        raise UsageError("功能区的 onAction 找不到对应的 VBA 过程"
                         f"(应为 Sub 名称(control As IRibbonControl)):{', '.join(missing)}")


def callback_subs(code):
    """Names of the ribbon callbacks ``Sub Name(control As IRibbonControl)`` in VBA code."""
    pattern = (r"(?im)^[ \t]*(?:Public[ \t]+)?Sub[ \t]+(\w+)[ \t]*\([ \t]*(?:ByRef[ \t]+|ByVal[ \t]+)?"
               r"\w+[ \t]+As[ \t]+(?:Office\.)?IRibbonControl[ \t]*\)")
    return re.findall(pattern, code)


def _read_ascii(path):
    data = Path(path).read_bytes()
    for number, line in enumerate(data.splitlines(), start=1):
        if any(b > 0x7F for b in line):
            raise UsageError(f"{path} 第 {number} 行含非 ASCII 字符:VBA 源代码只能用 ASCII"
                             "(VBA 模块按电脑的代码页保存;中文写在功能区 XML 或 Python 显示的消息中)")
    return data.decode("ascii")


def _xlwings_root():
    try:
        return importlib.resources.files("xlwings")
    except ModuleNotFoundError:
        raise UsageError("构建加载项需要 xlwings:pip install 'xlsheets[excel]'") from None


def _xlwings_version():
    try:
        return importlib.metadata.version("xlwings")
    except importlib.metadata.PackageNotFoundError:
        raise UsageError("构建加载项需要 xlwings:pip install 'xlsheets[excel]'") from None


# --- vbaProject.bin ----------------------------------------------------------------

def vba_project_bin(modules):
    """``xl/vbaProject.bin`` for ``modules``, written by ms-ovba, the same bytes every time."""
    try:
        from ms_ovba.Models.Entities.doc_module import DocModule
        from ms_ovba.Models.Entities.module_base import ModuleBase
        from ms_ovba.Models.Entities.reference import Reference
        from ms_ovba.Models.Entities.reference_registered import ReferenceRegistered
        from ms_ovba.Models.Entities.std_module import StdModule
        from ms_ovba.Models.Fields.libid_reference import LibidReference
        from ms_ovba.vbaProject import VbaProject
        from ms_ovba.Views.project_ole_file import ProjectOleFile
    except ImportError:
        raise UsageError("构建加载项需要 ms-ovba:pip install 'xlsheets[test]'(或 pip install ms-ovba)") from None

    class ClassModule(ModuleBase):
        # ms-ovba knows standard and document modules. A class module shares the
        # document modules' MODULETYPE record (0x0022, MS-OVBA 2.3.4.2.3.2.8), which
        # ModuleBase.pack writes for type "Document"; its PROJECT line says "Class=".
        def __init__(self, name):
            super().__init__(name)
            self.type = "Document"

        def to_project_module_string(self):
            return "Class=" + self.name

    kinds = {"module": StdModule, "class": ClassModule, "document": DocModule}
    with _BUILD_LOCK, tempfile.TemporaryDirectory(prefix="xlsheets-vba-") as tmp, \
            contextlib.chdir(tmp), _ms_ovba_fixed():
        project = VbaProject()
        project.project_id = PROJECT_ID
        project.add_attribute("VersionCompatible32", "393222000")
        for m in modules:
            module = kinds[m.kind](m.name)
            source = Path(tmp) / m.name
            # ms-ovba compresses "<file>.new" into "<file>.bin"; write the stored text ourselves.
            source.with_name(m.name + ".new").write_bytes(m.stored_source())
            module.add_file(str(source))
            project.add_module(module)
        project.add_reference(Reference(ReferenceRegistered(LibidReference(
            uuid.UUID("00020430-0000-0000-C000-000000000046"), "2.0", "0",
            "C:\\Windows\\System32\\stdole2.tlb", "OLE Automation")), "stdole"))
        # IRibbonControl lives in the Office library; Excel binds the installed version.
        project.add_reference(Reference(ReferenceRegistered(LibidReference(
            uuid.UUID("2DF8D04C-5BFA-101B-BDE5-00AA0044DE52"), "2.0", "0",
            "C:\\Program Files\\Common Files\\Microsoft Shared\\OFFICE16\\MSO.DLL",
            "Microsoft Office 16.0 Object Library")), "Office"))
        ProjectOleFile.write_file(project)
        _check_streams(modules)
        return Path("vbaProject.bin").read_bytes()


@contextlib.contextmanager
def _ms_ovba_fixed():
    # Pin the generator that MsOvbaCrypto.encrypt draws its seed and padding bytes
    # from, and correct the compressor's maximum copy length (see the module docstring).
    import ms_ovba_crypto.ms_ovba_crypto as crypto
    from ms_ovba_compression.ms_ovba import MsOvba

    if not hasattr(crypto, "random"):
        raise RuntimeError("ms_ovba_crypto no longer uses `random`: review the build's determinism")
    saved_random, saved_help = crypto.random, MsOvba.__dict__["copytoken_help"]
    original_help = MsOvba.copytoken_help

    def copytoken_help(difference):
        help = original_help(difference)
        help["maxLength"] = (0xFFFF >> help["bitCount"]) + 3
        return help

    crypto.random = random.Random(CRYPTO_SEED)
    MsOvba.copytoken_help = staticmethod(copytoken_help)
    try:
        yield
    finally:
        crypto.random = saved_random
        MsOvba.copytoken_help = saved_help


def _check_streams(modules):
    # Each module stream must decompress to exactly its source (a corrupt stream would
    # reach Excel as garbage code). Runs in the build's directory.
    for m in modules:
        try:
            ok = decompress(Path(m.name + ".bin").read_bytes()) == m.stored_source()
        except ValueError:
            ok = False
        if not ok:
            raise RuntimeError(f"ms-ovba compressed VBA module {m.name} wrongly; the add-in was not written")


def decompress(data):
    """Decompress an MS-OVBA compressed container (2.4.1), strictly: ValueError on any fault."""
    if not data or data[0] != 0x01:
        raise ValueError("no compressed container signature")
    out, pos = bytearray(), 1
    while pos < len(data):
        if pos + 2 > len(data):
            raise ValueError("truncated chunk header")
        header = int.from_bytes(data[pos:pos + 2], "little")
        if header & 0x7000 != 0x3000:
            raise ValueError("bad chunk signature")
        end, pos = pos + (header & 0x0FFF) + 3, pos + 2
        if end > len(data):
            raise ValueError("truncated chunk")
        if not header & 0x8000:  # a raw chunk
            out += data[pos:end]
            pos = end
            continue
        chunk = bytearray()
        while pos < end:
            flags, pos = data[pos], pos + 1
            for bit in range(8):
                if pos >= end:
                    break
                if not flags >> bit & 1:
                    chunk.append(data[pos])
                    pos += 1
                    continue
                token = int.from_bytes(data[pos:pos + 2], "little")
                pos += 2
                bits = max(4, (len(chunk) - 1).bit_length())
                length = (token & (0xFFFF >> bits)) + 3
                offset = (token >> (16 - bits)) + 1
                if offset > len(chunk) or len(chunk) + length > 4096:
                    raise ValueError("copy token out of range")
                for _ in range(length):
                    chunk.append(chunk[-offset])
        out += chunk
    return bytes(out)


# --- package parts -----------------------------------------------------------------

def _xml(text):
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + text).encode("utf-8")


def _content_types():
    return _xml(
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{ADDIN_CONTENT_TYPE}"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        '</Types>')


def _root_rels():
    return _xml(
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/'
        'metadata/core-properties" Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{RIBBON_RELATIONSHIP}" Target="customUI/customUI14.xml"/>'
        '</Relationships>')


def _core_properties():
    # Excel's add-ins dialog shows the title and the description.
    return _xml(
        '<cp:coreProperties '
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "<dc:title>民主评议</dc:title>"
        "<dc:description>xlsheets 的 Excel 加载项:功能区“民主评议”选项卡,"
        "按钮在当前工作簿上运行校验、计算得分等。</dc:description>"
        "<dc:creator>xlsheets</dc:creator>"
        "</cp:coreProperties>")


def _workbook():
    return _xml(
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<workbookPr codeName="ThisWorkbook"/>'
        "<bookViews><workbookView/></bookViews>"
        f'<sheets><sheet name="{CONFIG_SHEET}" sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>")


def _workbook_rels():
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
    return _xml(
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{rel}worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{rel}styles" Target="styles.xml"/>'
        f'<Relationship Id="rId3" Type="{VBA_RELATIONSHIP}" Target="vbaProject.bin"/>'
        "</Relationships>")


def _styles():
    return _xml(
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>")


def _config_sheet():
    # xlwings' add-in config sheet: keys in column A, values in column B, from row 1.
    rows = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{escape(k)}</t></is></c>'
        f'<c r="B{r}" t="inlineStr"><is><t>{escape(v)}</t></is></c></row>'
        for r, (k, v) in enumerate(CONFIG, start=1))
    return _xml(
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="A1:B{len(CONFIG)}"/>'
        f"<sheetData>{rows}</sheetData></worksheet>")
