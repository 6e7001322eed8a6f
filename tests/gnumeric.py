"""Gnumeric's ssconvert as a second, independent oracle: recalculate workbooks and read
what Gnumeric displays.

Every call runs ssconvert with a throwaway HOME/XDG dirs, GSettings in memory (no dconf
writes), no display and LC_ALL=C.UTF-8 (so "." is the decimal point whatever the host
locale). ``--recalc`` is always passed: without it Gnumeric shows the cached values.

Findings worth knowing (Debian's Gnumeric 1.12.55):
* It computes in 80-bit long double and parses the file's decimal text into that, not
  into the IEEE double Excel uses: "88.075" becomes 88.074999999999999997 (as a double
  it is 88.07500000000000284). So 88.075 under '0.00' displays "88.07" (Excel: "88.08");
  so do TEXT() and FIXED(). Exact halves such as 0.125 display rounded away ("0.13").
* ROUND() is decimal-minded like Excel's: ROUND(88.075,2) = 88.08, ROUND(70.825,2) =
  70.83, ROUND(1.005,2) = 1.01, ROUND(-2.5,0) = -3.
* Negative numbers display with U+2212 MINUS SIGN ("−88.08") unless the format's
  own negative section spells out "-".
* "General" is rendered to fit the column width (1/3 shows "0.333333" in a default
  column, "0.3" in a narrow one); fixed formats such as '0.00' are never shortened
  or turned into "####".
* The stf exporter's ``quote=`` option sets the quote *character* (``quote=never``
  wraps fields in the word "never"); quoting is ``quoting-mode=never|auto|always``.
  Without ``sheet=`` it writes every sheet one after another. Under LC_ALL=C a CJK
  ``sheet=`` fails ("Invalid byte sequence in conversion input").
"""
from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from python_calamine import CalamineWorkbook

TIMEOUT = 120
XLSX = "Gnumeric_Excel:xlsx2"
TEXT = "Gnumeric_stf:stf_assistant"
# stderr messages that say nothing about the file being wrong.
NOISE = (
    # Gnumeric's xlsx reader has no handler for <workbookProtection> (openpyxl always
    # writes an empty one); the element is skipped, nothing else changes.
    re.compile(r"Unexpected element 'workbookProtection' in state :\s+workbook"),
)


def ssconvert_path() -> str | None:
    """Path of Gnumeric's `ssconvert` on PATH, else None."""
    return shutil.which("ssconvert")


def _quote(value: str) -> str:
    """`value` as a double-quoted ssconvert -O option value."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _messages(stderr: str) -> list[str]:
    """Split stderr into messages; indented lines continue the previous message."""
    out: list[str] = []
    for line in stderr.splitlines():
        if out and line[:1].isspace():
            out[-1] += "\n" + line
        elif line.strip():
            out.append(line)
    return out


def is_noise(message: str) -> bool:
    """True for a stderr message listed in NOISE."""
    return any(p.fullmatch(message.strip()) for p in NOISE)


def run(src: Path, out: Path, *args: str) -> list[str]:
    """ssconvert --recalc `src` to `out` (extra `args` before the files); stderr messages."""
    exe = ssconvert_path()
    assert exe, "Gnumeric (ssconvert) not found on PATH: install gnumeric"
    src, out = Path(src).resolve(), Path(out).resolve()
    out.unlink(missing_ok=True)
    cmd = [exe, "--recalc", *args, str(src), str(out)]
    with tempfile.TemporaryDirectory(prefix="gnumeric-home-") as home:
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        env.update(HOME=home, XDG_CONFIG_HOME=f"{home}/config", XDG_CACHE_HOME=f"{home}/cache",
                   XDG_DATA_HOME=f"{home}/data", XDG_RUNTIME_DIR=home,
                   GSETTINGS_BACKEND="memory", LC_ALL="C.UTF-8", LANG="C.UTF-8")
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT,
                                 env=env, cwd=home)
            ok, err = res.returncode == 0, res.stderr
            log = f"rc={res.returncode}\nstdout:\n{res.stdout}\nstderr:\n{err}"
        except subprocess.TimeoutExpired as e:
            ok, err = False, ""
            log = f"timed out after {TIMEOUT}s\nstdout:\n{e.stdout}\nstderr:\n{e.stderr}"
    assert ok and out.is_file(), f"ssconvert failed to write {out}\n{' '.join(cmd)}\n{log}"
    return _messages(err)


def recalc(src: Path, outdir: Path) -> Path:
    """Copy-convert `src` into `outdir` as an .xlsx that Gnumeric recalculated."""
    src, outdir = Path(src).resolve(), Path(outdir).resolve()
    if outdir == src.parent:
        raise ValueError(f"outdir must differ from the source folder: {outdir}")
    outdir.mkdir(parents=True, exist_ok=True)
    out = outdir / (src.stem + ".xlsx")
    run(src, out, "-T", XLSX)
    return out


def _text(src: Path, sheet: str | None, fmt: str) -> tuple[list[list[str]], list[str]]:
    """One sheet (default: the first) as stf text cells in format `fmt`, and stderr messages."""
    opts = f"format={fmt} quoting-mode=always separator='\t' eol=unix charset=UTF-8"
    if sheet is not None:
        opts = f"sheet={_quote(sheet)} {opts}"
    with tempfile.TemporaryDirectory(prefix="gnumeric-out-") as tmp:
        out = Path(tmp) / "sheet.txt"
        msgs = run(src, out, "-T", TEXT, "-O", opts)
        with out.open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f, delimiter="\t", quotechar='"', doublequote=True, strict=True))
    return rows, msgs


def displayed(src: Path, sheet: str) -> list[list[str]]:
    """Every cell of `sheet` (its used range, from A1) as the formatted text Gnumeric shows."""
    return _text(src, sheet, "preserve")[0]


def values(src: Path, sheet: str) -> list[list]:
    """Recalculated values of `sheet` (floats, str, bool; '' for empty), read by calamine."""
    with tempfile.TemporaryDirectory(prefix="gnumeric-xlsx-") as tmp:
        out = recalc(src, tmp)
        return CalamineWorkbook.from_path(str(out)).get_sheet_by_name(sheet).to_python(skip_empty_area=False)


def messages(src: Path) -> list[str]:
    """Everything Gnumeric says on stderr opening and recalculating `src`, noise included."""
    return _text(src, None, "raw")[1]


def warnings(src: Path) -> list[str]:
    """Gnumeric's complaints about `src` (stderr messages that are not NOISE); [] when clean."""
    return [m for m in messages(src) if not is_noise(m)]


def cell(rows: list[list], ref: str):
    """Entry at A1-style `ref` of `displayed`/`values` output; None if outside the range."""
    m = re.fullmatch(r"\$?([A-Za-z]+)\$?(\d+)", ref)
    assert m, f"bad cell reference {ref!r}"
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    row, col = int(m.group(2)) - 1, col - 1
    return rows[row][col] if row < len(rows) and col < len(rows[row]) else None
