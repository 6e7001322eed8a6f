"""The Excel add-in: xlsheets.xlam built from macros/, checked by readers that are not ours.

olevba must extract exactly the modules of macros/ plus xlwings' module, its Dictionary
class and ThisWorkbook, with the sources' code; LibreOffice must open the add-in and
import that code; the ribbon's buttons must reach VBA callbacks and the callbacks
Python functions that exist.
"""

import importlib
import importlib.metadata
import importlib.resources
import platform
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from xlsheets.addin import build as B
from xlsheets.addin import install as I
from xlsheets.cli import main
from xlsheets.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent
MACROS = ROOT / "macros"
RIBBON = MACROS / "customUI14.xml"
CUI = "{http://schemas.microsoft.com/office/2009/07/customui}"
XLWINGS = importlib.resources.files("xlwings")
#: Modules the build adds to those of macros/ (xlwings' custom add-in module is named "xlwings").
ADDED = {"xlwings": "xlwings.bas", "Dictionary": "Dictionary.cls", "ThisWorkbook": "ThisWorkbook.cls"}
HANDLERS = {"new_book", "validate", "compute", "clear_marks", "consolidate",
            "export_opinions", "show_help", "import_online"}
BUTTONS = {"新建工作簿", "校验", "计算得分", "清除标记", "汇总", "导出评议意见表", "帮助", "导入网上答卷"}
CALLBACK = re.compile(r"(?im)^[ \t]*(?:Public[ \t]+)?Sub[ \t]+(\w+)[ \t]*\("
                      r"[ \t]*control[ \t]+As[ \t]+IRibbonControl[ \t]*\)")
RUNPYTHON = re.compile(r'RunPython[ \t(]+"([^"]*)"')

# olevba's module-level pyparsing grammar uses names pyparsing 3 deprecates
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:oletools.olevba")


def vba_sources():
    return sorted(p for p in MACROS.iterdir() if p.suffix.lower() in (".bas", ".cls"))


def body(text):
    """A module's code without export header and leading Attribute lines, LF line ends."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[0].startswith("VERSION "):
        lines = lines[lines.index("END") + 1:]
    while lines and lines[0].startswith("Attribute VB_"):
        lines.pop(0)
    return "\n".join(lines).rstrip("\n")


def xlwings_module_text():
    """Installed xlwings' custom add-in module with the one line the build adapts."""
    text = (XLWINGS / "xlwings_custom_addin.bas").read_text("ascii")
    old = 'Public Const PROJECT_NAME As String = "myaddin"'
    assert text.count(old) == 1
    return text.replace(old, 'Public Const PROJECT_NAME As String = "xlwings"')


def expected_bodies():
    bodies = {p.stem: body(p.read_text("ascii")) for p in vba_sources()}
    bodies["xlwings"] = body(xlwings_module_text())
    bodies["Dictionary"] = body((XLWINGS / "addin" / "Dictionary.cls").read_text("ascii"))
    bodies["ThisWorkbook"] = ""
    return bodies


@pytest.fixture(scope="module")
def addin(tmp_path_factory):
    return B.build(tmp_path_factory.mktemp("addin") / "xlsheets.xlam")


# --- reproducible build ------------------------------------------------------------

def test_same_sources_same_bytes(addin, tmp_path):
    # A second build in another process (other hash seed, fresh `random`) through the CLI.
    out = tmp_path / "again" / "xlsheets.xlam"
    res = subprocess.run([sys.executable, "-m", "xlsheets.cli", "addin", "build", "--out", str(out)],
                         capture_output=True, text=True, cwd=tmp_path,
                         env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"})
    assert res.returncode == 0, res.stderr
    assert "已生成" in res.stdout
    assert out.read_bytes() == addin.read_bytes()
    assert not list(out.parent.glob(".~xlsheets-*")), "temporary file left behind"


def test_zip_entries_fixed(addin):
    with zipfile.ZipFile(addin) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == [
            "[Content_Types].xml", "_rels/.rels", "docProps/core.xml", "xl/workbook.xml",
            "xl/_rels/workbook.xml.rels", "xl/styles.xml", "xl/worksheets/sheet1.xml",
            "xl/vbaProject.bin", "customUI/customUI14.xml"]
        for i in infos:
            assert i.date_time == (1980, 1, 1, 0, 0, 0) and i.create_system == 0, i.filename
        assert zf.comment.decode() == f"xlsheets add-in; xlwings {importlib.metadata.version('xlwings')}"


def test_ms_ovba_alone_is_not_deterministic_and_the_build_pins_it():
    """The finding behind the pin: ms-ovba's PROJECT stream encryption draws from `random`."""
    from ms_ovba_crypto import MsOvbaCrypto

    pid = B.PROJECT_ID
    assert len({MsOvbaCrypto.encrypt(pid, b"\x00") for _ in range(20)}) > 1
    with B._ms_ovba_fixed():
        first = [MsOvbaCrypto.encrypt(pid, b"\x00") for _ in range(3)]
    with B._ms_ovba_fixed():
        again = [MsOvbaCrypto.encrypt(pid, b"\x00") for _ in range(3)]
    assert first == again
    assert MsOvbaCrypto.decrypt(first[0]) == b"\x00"


def test_long_repeats_compress_correctly():
    """ms-ovba-compression 1.0.1 corrupts repeats longer than a copy token holds; the build fixes it."""
    from ms_ovba_compression.ms_ovba import MsOvba
    from oletools.olevba import decompress_stream

    # late in a chunk a copy token has few length bits: (0xFFFF >> 12) + 3 = 18 at 3000 bytes
    head = "".join(f"x{i} = {i * 7}\r\n" for i in range(300))
    data = (head + "' " + "~" * 300 + " '\r\n").encode("ascii")
    with B._ms_ovba_fixed():
        packed = MsOvba().compress(data)
    assert bytes(decompress_stream(bytearray(packed))) == data
    assert B.decompress(packed) == data


def test_decompress_is_strict():
    with pytest.raises(ValueError):
        B.decompress(b"\x02\x00\xb0x")
    # a copy token pointing before the start of the chunk
    with pytest.raises(ValueError):
        B.decompress(b"\x01\x02\xb0\x01\xff\xff")


# --- the package ---------------------------------------------------------------------

def test_package_parts(addin):
    ns = {"ct": "http://schemas.openxmlformats.org/package/2006/content-types",
          "r": "http://schemas.openxmlformats.org/package/2006/relationships",
          "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(addin) as zf:
        types = ET.fromstring(zf.read("[Content_Types].xml"))
        overrides = {o.get("PartName"): o.get("ContentType") for o in types.iterfind("ct:Override", ns)}
        assert overrides["/xl/workbook.xml"] == "application/vnd.ms-excel.addin.macroEnabled.main+xml"
        defaults = {d.get("Extension"): d.get("ContentType") for d in types.iterfind("ct:Default", ns)}
        assert defaults["bin"] == "application/vnd.ms-office.vbaProject"
        rels = {r.get("Type"): r.get("Target") for r in ET.fromstring(zf.read("_rels/.rels"))}
        assert rels["http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"] \
            == "customUI/customUI14.xml"
        assert zf.read("customUI/customUI14.xml") == RIBBON.read_bytes()
        wb_rels = {r.get("Type"): r.get("Target")
                   for r in ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))}
        vba = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
        assert wb_rels[vba] == "vbaProject.bin"
        workbook = ET.fromstring(zf.read("xl/workbook.xml"))
        assert workbook.find("m:workbookPr", ns).get("codeName") == "ThisWorkbook"
        sheets = workbook.findall("m:sheets/m:sheet", ns)
        assert [s.get("name") for s in sheets] == ["xlwings.conf"]
        cells = [t.text for t in ET.fromstring(zf.read("xl/worksheets/sheet1.xml")).iter(f"{{{ns['m']}}}t")]
        assert cells == ["ADD_WORKBOOK_TO_PYTHONPATH", "false"]


def test_olevba_extracts_exactly_the_sources(addin):
    from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(addin))
    try:
        assert parser.detect_vba_macros()
        extracted = {}
        for _, stream, filename, code in parser.extract_macros():
            name, ext = filename.rsplit(".", 1)
            assert name not in extracted, f"module {name} twice"
            extracted[name] = (ext, code)
    finally:
        parser.close()
    expected = expected_bodies()
    assert set(extracted) == set(expected) == {p.stem for p in vba_sources()} | set(ADDED)
    files = {**{p.stem: p.name for p in vba_sources()}, **ADDED}  # olevba names by module type
    for name, (ext, code) in extracted.items():
        assert body(code) == expected[name], f"code of {name} differs from its source"
        assert f"{name}.{ext}" == files[name]
    assert 'Attribute VB_Base = "0{00020819-0000-0000-C000-000000000046}"' in extracted["ThisWorkbook"][1]


def test_only_project_name_of_xlwings_module_is_adapted():
    installed = (XLWINGS / "xlwings_custom_addin.bas").read_text("ascii").splitlines()
    stored = B.xlwings_modules()[0].stored_source().decode("ascii").splitlines()
    assert len(stored) == len(installed)
    changed = [(a, b) for a, b in zip(installed, stored) if a != b]
    assert changed == [('Public Const PROJECT_NAME As String = "myaddin"',
                        'Public Const PROJECT_NAME As String = "xlwings"')]
    # the custom add-in variant hands the clerk's workbook, not the add-in, to Python
    text = "\n".join(stored)
    assert '"BOOK_CALLER", ActiveWorkbook' in text and '" --wb=" & """" & ActiveWorkbook.Name' in text


def _lo_convert(soffice, src, outdir, fmt):
    # LibreOffice's type detection has no entry for the add-in content type (it answers
    # "source file could not be loaded"), so name the filter of macro-enabled workbooks.
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        res = subprocess.run(
            [soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
             "--nolockcheck", "--infilter=Calc MS Excel 2007 VBA XML", "--convert-to", fmt,
             "--outdir", str(outdir), str(src)],
            capture_output=True, text=True, timeout=180)
    out = outdir / (Path(src).stem + "." + fmt)
    assert out.is_file() and out.stat().st_size, f"LibreOffice made no {out}:\n{res.stdout}\n{res.stderr}"
    return out


@pytest.mark.libreoffice
def test_libreoffice_opens_addin_and_imports_the_vba(addin, soffice, tmp_path):
    ods = _lo_convert(soffice, addin, tmp_path / "lo", "ods")
    script = "{http://openoffice.org/2000/script}"
    with zipfile.ZipFile(ods) as zf:
        parts = [n for n in zf.namelist()
                 if n.startswith("Basic/VBAProject/") and not n.endswith("/script-lb.xml")]
        imported = {}
        for part in parts:
            module = ET.fromstring(zf.read(part))
            imported[module.get(f"{script}name")] = module.text or ""
        content = zf.read("content.xml").decode("utf-8")
    expected = expected_bodies()
    assert set(imported) == set(expected)
    lo_header = ("Rem Attribute VBA_ModuleType=", "Option VBASupport 1", "Option ClassModule")
    for name, text in imported.items():
        lines = [ln for ln in text.split("\n") if not ln.startswith(lo_header)]
        # LibreOffice drops every line that starts with "Attribute ", as VBA hides them
        want = [ln for ln in expected[name].split("\n") if not ln.startswith("Attribute ")]
        assert "\n".join(lines).strip("\n") == "\n".join(want).strip("\n"), \
            f"LibreOffice read {name} differently"
    assert 'table:name="xlwings.conf"' in content and "ADD_WORKBOOK_TO_PYTHONPATH" in content
    assert _lo_convert(soffice, addin, tmp_path / "pdf", "pdf").read_bytes().startswith(b"%PDF")


# --- ribbon, callbacks and their Python targets --------------------------------------

def ribbon():
    return ET.parse(RIBBON).getroot()


def callbacks_in_macros():
    subs = {}
    for path in vba_sources():
        for name in CALLBACK.findall(path.read_text("ascii")):
            assert name.lower() not in subs, f"callback {name} defined twice"
            subs[name.lower()] = path.name
    return subs


def test_ribbon_parses_in_2009_namespace():
    root = ribbon()
    assert root.tag == f"{CUI}customUI"
    tabs = root.findall(f"{CUI}ribbon/{CUI}tabs/{CUI}tab")
    assert [t.get("label") for t in tabs] == ["民主评议"]


def test_buttons():
    buttons = list(ribbon().iter(f"{CUI}button"))
    assert {b.get("label") for b in buttons} >= BUTTONS
    ids = [el.get("id") for el in ribbon().iter() if el.get("id")]
    assert len(ids) == len(set(ids))
    for b in buttons:
        label = b.get("label")
        assert b.get("size") == "large", label
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", b.get("imageMso") or ""), label
        for attr in ("screentip", "supertip"):
            assert re.search(r"[\u4e00-\u9fff]", b.get(attr) or ""), f"{label}: {attr} not Chinese"
    onactions = [b.get("onAction") for b in buttons]
    assert len(onactions) == len(set(onactions)), "one callback per button"


def test_labels_are_chinese():
    labelled = [el for el in ribbon().iter() if el.get("label") is not None]
    assert len(labelled) >= len(BUTTONS) + 1
    for el in labelled:
        assert re.fullmatch(r"[\u4e00-\u9fff]+", el.get("label")), el.get("label")


def test_every_onaction_names_a_callback():
    subs = callbacks_in_macros()
    actions = [el.get("onAction") for el in ribbon().iter() if el.get("onAction")]
    assert actions
    for action in actions:
        assert action.lower() in subs, \
            f"onAction {action}: no Sub {action}(control As IRibbonControl) in macros/"


def test_build_refuses_a_missing_callback(tmp_path):
    (tmp_path / "Ribbon.bas").write_text(
        'Attribute VB_Name = "Ribbon"\nSub Other(control As IRibbonControl)\nEnd Sub\n')
    (tmp_path / B.RIBBON).write_bytes(RIBBON.read_bytes())
    with pytest.raises(UsageError, match="onAction"):
        B.package(tmp_path)


def runpython_targets():
    targets = []
    for path in vba_sources():
        for command in RUNPYTHON.findall(path.read_text("ascii")):
            m = (re.fullmatch(r"\s*import ([\w.]+) as (\w+)\s*;\s*(\w+)\.(\w+)\(\)\s*", command)
                 or re.fullmatch(r"\s*import ([\w.]+)()\s*;\s*([\w.]+)\.(\w+)\(\)\s*", command))
            assert m, f"{path.name}: RunPython {command!r} is not 'import X as h; h.f()' or 'import X; X.f()'"
            module, alias, used, func = m.groups()
            assert used == (alias or module), f"{path.name}: {command!r} calls through another name"
            targets.append((module, func))
    return targets


def test_each_callback_runs_one_python_function():
    for path in vba_sources():
        text = path.read_text("ascii")
        for name in CALLBACK.findall(text):
            pattern = rf"(?ims)^[ \t]*(?:Public[ \t]+)?Sub[ \t]+{name}\b.*?^[ \t]*End Sub"
            sub = re.search(pattern, text).group(0)
            assert len(RUNPYTHON.findall(sub)) == 1, f"{name} should call RunPython once"
    assert {f for _, f in runpython_targets()} == HANDLERS


def test_runpython_targets_exist():
    """Contract with xlsheets.excel.handlers: fails until every named function exists."""
    targets = runpython_targets()
    assert targets
    for module, func in targets:
        mod = importlib.import_module(module)
        assert callable(getattr(mod, func, None)), f"{module}.{func} does not exist"


def test_vba_sources_are_ascii():
    assert vba_sources()
    for path in vba_sources():
        for number, line in enumerate(path.read_bytes().splitlines(), start=1):
            assert line.isascii(), f"{path.name} line {number} is not ASCII"


def test_build_refuses_non_ascii_vba(tmp_path):
    (tmp_path / B.RIBBON).write_bytes(RIBBON.read_bytes())
    for path in vba_sources():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    (tmp_path / "Extra.bas").write_text('Attribute VB_Name = "Extra"\nConst T = "民主评议"\n', encoding="utf-8")
    with pytest.raises(UsageError, match="Extra.bas 第 2 行"):
        B.package(tmp_path)


# --- install -------------------------------------------------------------------------

def test_install_elsewhere_copies_nothing(tmp_path, capsys):
    if platform.system() == "Linux":
        assert main(["addin", "install"]) == 0
        assert "未复制任何文件" in capsys.readouterr().out
    lines = []
    assert I.install(system="Linux", home=tmp_path, env={}, out=lines.append) == 0
    assert "未复制任何文件" in lines[0]
    assert not any(tmp_path.rglob("*.xlam"))


def test_install_windows(addin, tmp_path):
    appdata, profile = tmp_path / "Roaming", tmp_path / "user"
    lines = []
    env = {"APPDATA": str(appdata), "USERPROFILE": str(profile)}
    assert I.install(addin, system="Windows", home=profile, env=env, executable=sys.executable,
                     out=lines.append) == 0
    dest = appdata / "Microsoft" / "Excel" / "XLSTART" / "xlsheets.xlam"
    assert dest.read_bytes() == addin.read_bytes()
    text = "\n".join(lines)
    assert f'"INTERPRETER_WIN","{sys.executable}"' in text  # no xlwings.conf yet: say what to set
    assert str(profile / ".xlwings" / "xlwings.conf") in text

    conf = profile / ".xlwings" / "xlwings.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text(f'"INTERPRETER_WIN","{sys.executable}"\n"SHOW CONSOLE","False"\n')
    lines.clear()
    I.install(addin, system="Windows", home=profile, env=env, executable=sys.executable, out=lines.append)
    assert any("已设置使用当前的 Python" in ln for ln in lines)

    conf.write_text('"INTERPRETER_WIN","C:\\\\nowhere\\\\python.exe"\n')
    assert any("不存在" in ln for ln in I.interpreter_advice("Windows", profile, env, sys.executable))


def test_install_mac(addin, tmp_path):
    with pytest.raises(UsageError, match="Office"):
        I.install(addin, system="Darwin", home=tmp_path, env={}, out=lambda line: None)
    (tmp_path / I.MAC_OFFICE).mkdir(parents=True)
    lines = []
    assert I.install(addin, system="Darwin", home=tmp_path, env={}, executable=sys.executable,
                     out=lines.append) == 0
    assert (tmp_path / I.MAC_STARTUP / "xlsheets.xlam").read_bytes() == addin.read_bytes()
    text = "\n".join(lines)
    assert "xlwings runpython install" in text
    assert f'"INTERPRETER_MAC","{sys.executable}"' in text
    assert str(tmp_path / I.MAC_CONFIG) in text


def test_install_refuses_a_missing_file(tmp_path):
    with pytest.raises(UsageError, match="找不到加载项文件"):
        I.install(tmp_path / "nope.xlam", system="Windows", home=tmp_path,
                  env={"APPDATA": str(tmp_path)}, out=lambda line: None)
