"""Install ``xlsheets.xlam`` where Excel opens add-ins at start-up; check xlwings' interpreter.

Windows: ``%APPDATA%\\Microsoft\\Excel\\XLSTART`` (Excel opens every workbook there at
start-up, an .xlam as a hidden add-in; the folder is one of Excel's default trusted
locations, so the add-in's macros run without a prompt). macOS: the ``Startup.localized/
Excel`` folder of Office's group container. Anywhere else there is no Excel: the command
says what to do on the clerk's PC and copies nothing.

The buttons start Python through xlwings' RunPython, which takes the interpreter from
xlwings' user config file (``INTERPRETER_WIN`` / ``INTERPRETER_MAC``) and otherwise runs
whatever ``python`` is on PATH. The command reads that setting and tells the user, in
Chinese, which Python to set: the one running this command, which has xlsheets.
"""

import contextlib
import csv
import importlib.metadata
import importlib.util
import locale
import os
import platform
import sys
import tempfile
from pathlib import Path

from xlsheets.errors import UsageError, XlsheetsError
from xlsheets.disk.fileio import atomic_output
from xlsheets.addin import build as B

ADDIN_FILE = "xlsheets.xlam"
MAC_OFFICE = Path("Library") / "Group Containers" / "UBF8T346G9.Office"
MAC_STARTUP = MAC_OFFICE / "User Content.localized" / "Startup.localized" / "Excel"
MAC_CONFIG = Path("Library") / "Containers" / "com.microsoft.Excel" / "Data" / "xlwings.conf"
MAC_SCRIPTS = Path("Library") / "Application Scripts" / "com.microsoft.Excel"
WINDOWS_STARTUP_HINT = r"%APPDATA%\Microsoft\Excel\XLSTART"
MAC_STARTUP_HINT = "~/" + MAC_STARTUP.as_posix()


def install(xlam=None, *, system=None, home=None, env=None, executable=None, out=print):
    """Copy the add-in into Excel's start-up folder and report what else to set; returns 0.

    Args:
        xlam: the add-in to install; by default it is built from ``macros/`` when the
            sources and ms-ovba are at hand, else ``dist/xlsheets.xlam`` is used.
        system, home, env, executable: the platform (``platform.system()``), home
            folder, environment and Python interpreter; given by tests.
        out: prints one line.
    """
    system = system or platform.system()
    home = Path(home) if home is not None else Path.home()
    env = os.environ if env is None else env
    executable = executable or sys.executable
    target = startup_folder(system, home, env)
    if target is None:
        _explain_elsewhere(system, out)
        return 0
    with _addin_source(xlam) as source:
        _check_xlwings_version(source, system, out)
        dest = _copy(source, target, home, system)
    out(f"已安装加载项:{dest}")
    if importlib.util.find_spec("xlsheets.excel") is None or \
            importlib.util.find_spec("xlsheets.excel.handlers") is None:
        out("注意:当前安装的 xlsheets 还没有按钮的处理程序(xlsheets.excel.handlers),"
            "按钮会报错;请升级 xlsheets 后再用。")
    if system == "Darwin":
        _check_mac_runpython(home, out)
    for line in interpreter_advice(system, home, env, executable):
        out(line)
    out("完成后请完全退出并重新启动 Excel,功能区会出现“民主评议”选项卡。")
    for line in TRUST[system]:
        out(line)
    return 0


TRUST = {
    "Windows": ["如果没有出现选项卡或出现“安全警告”:在 Excel 的 文件 → 选项 → 信任中心 → 信任中心设置 中,",
                f"  “受信任位置”里应有 {WINDOWS_STARTUP_HINT}(Excel 默认就有,除非单位的策略禁用了受信任位置);",
                "  “加载项”里不要勾选“要求应用程序加载项由受信任的发布者签名”和“禁用所有应用程序加载项”。"],
    "Darwin": ["Excel 启动时如询问是否启用宏,请选择“启用宏”(Excel → 偏好设置 → 安全性 中可调整)。"],
}


def startup_folder(system, home, env):
    """The folder whose add-ins Excel opens at start-up, or None where there is no Excel."""
    if system == "Windows":
        appdata = env.get("APPDATA") or str(Path(home) / "AppData" / "Roaming")
        return Path(appdata) / "Microsoft" / "Excel" / "XLSTART"
    if system == "Darwin":
        return Path(home) / MAC_STARTUP
    return None


def xlwings_config_file(system, home, env):
    """xlwings' user config file, where the add-in's xlwings module reads the interpreter."""
    if system == "Darwin":
        return Path(home) / MAC_CONFIG  # inside Excel's sandbox
    return Path(env.get("USERPROFILE") or home) / ".xlwings" / "xlwings.conf"


def read_xlwings_config(path):
    """Settings of an xlwings.conf file (``"KEY","VALUE"`` lines), keys upper-cased; {} if absent."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return {}
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:  # VBA reads it in the PC's ANSI code page (GBK on Chinese Windows)
        text = data.decode(locale.getpreferredencoding(False), errors="replace")
    rows = csv.reader(text.splitlines())
    return {row[0].strip().upper(): row[1].strip() for row in rows if len(row) >= 2}


def interpreter_advice(system, home, env, executable):
    """Chinese lines on the Python interpreter xlwings will start, and what to set."""
    conf = xlwings_config_file(system, home, env)
    settings = read_xlwings_config(conf)
    key = "INTERPRETER_MAC" if system == "Darwin" else "INTERPRETER_WIN"
    line = f'"{key}","{executable}"'
    venv = sys.prefix != sys.base_prefix
    configured = settings.get(key) or settings.get("INTERPRETER")
    lines = []
    if configured:
        expanded = os.path.expandvars(configured)
        if _same_file(expanded, executable):
            lines.append(f"xlwings 已设置使用当前的 Python:{executable}")
        elif not Path(expanded).exists():
            lines += [f"xlwings 设置的 Python 解释器 {configured} 不存在。请把 {conf} 中的 {key} 一行改为:",
                      f"  {line}"]
        else:
            lines += [f"xlwings 设置的 Python 解释器是 {configured},不是运行本命令的 {executable}。",
                      f"请确认那个 Python 中也安装了 xlsheets[excel],或把 {conf} 中的 {key} 一行改为:",
                      f"  {line}"]
    elif system == "Windows" and settings.get("CONDA PATH") and settings.get("CONDA ENV"):
        lines.append(f"xlwings 使用 Conda 环境 {settings['CONDA ENV']}({settings['CONDA PATH']}):"
                     "请确认该环境中安装了 xlsheets[excel]。")
    else:
        lines += ["尚未设置 xlwings 使用的 Python 解释器:按钮会运行 PATH 中的 python,"
                  "那不一定是安装了 xlsheets 的 Python。",
                  f"请在 {conf} 中写入一行(没有该文件就新建):",
                  f"  {line}",
                  "(也可以运行 xlwings config create --force,它写入当前的 Python,但会覆盖该文件中原有的设置;"
                  "路径中有中文时用这个办法,因为 Excel 按 ANSI(GBK)编码读取该文件。)"]
    if venv and not (configured and _same_file(os.path.expandvars(configured), executable)):
        lines.append(f"当前 Python 在虚拟环境 {sys.prefix} 中:Excel 必须使用这个虚拟环境里的 Python。")
    return lines


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


@contextlib.contextmanager
def _addin_source(xlam):
    # The add-in file to install: the one given, a fresh build (removed afterwards), or dist/.
    if xlam is not None:
        path = Path(xlam)
        if not path.is_file() or path.suffix.lower() != ".xlam":
            raise UsageError(f"找不到加载项文件 {path}(应为 .xlam 文件)")
        yield path
    elif (B.MACROS / B.RIBBON).is_file() and importlib.util.find_spec("ms_ovba") is not None:
        with tempfile.TemporaryDirectory(prefix="xlsheets-addin-") as tmp:
            yield B.build(Path(tmp) / ADDIN_FILE)
    elif B.DEFAULT_OUT.is_file():
        yield B.DEFAULT_OUT
    else:
        raise UsageError(f"找不到加载项文件:请用 --xlam 指定 {ADDIN_FILE} 的位置"
                         "(技术人员可在源代码目录运行 xlsheets addin build 生成)")


def _check_xlwings_version(source, system, out):
    built = B.built_with_xlwings(source)
    try:
        installed = importlib.metadata.version("xlwings")
    except importlib.metadata.PackageNotFoundError:
        out('注意:当前 Python 没有安装 xlwings,按钮无法运行。请运行 pip install "xlsheets[excel]"。')
        return
    if built and built != installed:
        consequence = "在 Mac 上按钮将无法运行" if system == "Darwin" else "建议两者一致"
        out(f"注意:加载项带的是 xlwings {built} 的 VBA 模块,当前安装的是 xlwings {installed}({consequence})。"
            f'请运行 pip install "xlwings=={built}",或用当前环境重新生成加载项(xlsheets addin build)。')


def _copy(source, target, home, system):
    if system == "Darwin" and not (Path(home) / MAC_OFFICE).is_dir():
        raise UsageError(f"没有找到 Office 的文件夹 ~/{MAC_OFFICE.as_posix()}:请先安装 Excel 并至少运行一次。")
    dest = target / ADDIN_FILE
    data = Path(source).read_bytes()
    try:
        with atomic_output(dest) as tmp:  # a fresh file: no "downloaded from the internet" mark
            tmp.write_bytes(data)
    except OSError as e:
        raise XlsheetsError(f"无法写入 {dest}:{e.strerror or e}。"
                            "如果 Excel 正在运行,请先退出 Excel 再运行本命令。") from None
    return dest


def _check_mac_runpython(home, out):
    # RunPython on a Mac goes through an AppleScript that xlwings installs once.
    try:
        version = importlib.metadata.version("xlwings")
    except importlib.metadata.PackageNotFoundError:
        return
    script = Path(home) / MAC_SCRIPTS / f"xlwings-{version}.applescript"
    if not script.is_file():
        out("在 Mac 上按钮通过 xlwings 的 AppleScript 启动 Python,尚未安装:请运行 xlwings runpython install。")


def _explain_elsewhere(system, out):
    out(f"当前系统({system or '未知'})没有 Microsoft Excel,未复制任何文件。加载项要装在使用 Excel 的 Windows 或 Mac 电脑上:")
    out('  1. 安装 Python 3.11 或更新版本,然后运行 pip install "xlsheets[excel]";')
    out("  2. 在那台电脑上运行 xlsheets addin install(可用 --xlam 指定 xlsheets.xlam 文件),")
    out(f"     或把 xlsheets.xlam 复制到 Excel 的启动文件夹:Windows 为 {WINDOWS_STARTUP_HINT},"
        f"macOS 为 {MAC_STARTUP_HINT};")
    out("  3. 按该命令的提示设置 xlwings 使用的 Python,然后重新启动 Excel。")
    if B.DEFAULT_OUT.is_file():
        out(f"本机已生成的加载项:{B.DEFAULT_OUT.resolve()}")
