"""Headless LibreOffice as an independent oracle: recalculate and render our workbooks.

Every call uses a throwaway user profile (so parallel runs do not collide) configured
to always recalculate formulas on load, since the files we write carry cached values.
"""
from __future__ import annotations

import os
import posixpath
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import openpyxl
from python_calamine import CalamineWorkbook

TIMEOUT = 180
SENTINEL_VALUE = 42

_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" \
xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""
_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "pr": "http://schemas.openxmlformats.org/package/2006/relationships",
}


def soffice_path() -> str | None:
    """Path of `soffice` (or `libreoffice`) on PATH, else None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def _convert(src: Path, outdir: Path, fmt: str, suffix: str) -> Path:
    """Run one headless conversion with a fresh always-recalc profile; return the output."""
    exe = soffice_path()
    assert exe, "LibreOffice (soffice) not found on PATH"
    src, outdir = Path(src).resolve(), Path(outdir).resolve()
    if outdir == src.parent:
        raise ValueError(f"outdir must differ from the source folder: {outdir}")
    outdir.mkdir(parents=True, exist_ok=True)
    out = outdir / (src.stem + suffix)
    out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as prof:
        (Path(prof) / "user").mkdir()
        (Path(prof) / "user" / "registrymodifications.xcu").write_text(_XCU, encoding="utf-8")
        cmd = [exe, f"-env:UserInstallation={Path(prof).as_uri()}", "--headless",
               "--norestore", "--nolockcheck", "--convert-to", fmt,
               "--outdir", str(outdir), str(src)]
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
            log = f"rc={res.returncode}\nstdout:\n{res.stdout}\nstderr:\n{res.stderr}"
        except subprocess.TimeoutExpired as e:
            log = f"timed out after {TIMEOUT}s\nstdout:\n{e.stdout}\nstderr:\n{e.stderr}"
    assert out.is_file() and out.stat().st_size, f"soffice produced no {out}\n{' '.join(cmd)}\n{log}"
    return out


def recalc(src: Path, outdir: Path) -> Path:
    """Copy-convert `src` into `outdir` as an .xlsx that LibreOffice recalculated."""
    return _convert(src, outdir, 'xlsx:Calc MS Excel 2007 XML', ".xlsx")


def to_pdf(src: Path, outdir: Path) -> Path:
    """Render `src` to a PDF in `outdir` with LibreOffice."""
    return _convert(src, outdir, "pdf", ".pdf")


def pdf_pages(pdf: Path) -> list[tuple[float, float]]:
    """Page sizes (width, height) in points, one tuple per page."""
    def info(*args: str) -> str:
        return subprocess.run(["pdfinfo", *args, str(pdf)], capture_output=True,
                              text=True, check=True).stdout
    n = int(re.search(r"^Pages:\s+(\d+)", info(), re.M).group(1))
    sizes = re.findall(r"^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info("-f", "1", "-l", str(n)), re.M)
    assert len(sizes) == n, f"pdfinfo listed {len(sizes)} of {n} pages"
    return [(float(w), float(h)) for w, h in sizes]


def _sheet_part(zf: zipfile.ZipFile, sheet: str) -> str:
    """Zip member name of the worksheet XML called `sheet`."""
    wb = ET.fromstring(zf.read("xl/workbook.xml"))
    node = next((s for s in wb.iterfind("m:sheets/m:sheet", _NS) if s.get("name") == sheet), None)
    assert node is not None, f"no sheet {sheet!r}"
    rid = node.get(f"{{{_NS['r']}}}id")
    rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    target = next(r.get("Target") for r in rels.iterfind("pr:Relationship", _NS) if r.get("Id") == rid)
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))


def plant_sentinel(xlsx: Path, sheet: str, cell: str) -> None:
    """Make `sheet!cell` hold =6*7 with a wrong cached value 0 (edits `xlsx` in place)."""
    cell = cell.upper()
    wb = openpyxl.load_workbook(xlsx)
    wb[sheet][cell] = "=6*7"  # guarantees a <c r="CELL"> element exists
    wb.save(xlsx)
    with zipfile.ZipFile(xlsx) as zf:
        part = _sheet_part(zf, sheet)
        entries = [(i, zf.read(i)) for i in zf.infolist()]
    tmp = Path(xlsx).with_suffix(".planting")
    with zipfile.ZipFile(tmp, "w") as zout:
        for info, data in entries:
            if info.filename == part:
                xml, n = re.subn(rf'<c r="{cell}"(?:[^>]*/>|[^>]*>.*?</c>)',
                                 f'<c r="{cell}"><f>6*7</f><v>0</v></c>', data.decode("utf-8"),
                                 count=1, flags=re.S)
                assert n == 1, f"cell {cell} not found in {part}"
                data = xml.encode("utf-8")
            zout.writestr(info, data)
    os.replace(tmp, xlsx)


def read_values(xlsx: Path) -> dict[str, list[list]]:
    """All sheets' values via calamine; row/column indices match A1 addresses."""
    wb = CalamineWorkbook.from_path(str(xlsx))
    return {n: wb.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in wb.sheet_names}


def cell(values: dict[str, list[list]], sheet: str, ref: str):
    """Value at A1-style `ref` on `sheet` of `read_values` output; None if outside the data."""
    m = re.fullmatch(r"\$?([A-Za-z]+)\$?(\d+)", ref)
    assert m, f"bad cell reference {ref!r}"
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    row, col = int(m.group(2)) - 1, col - 1
    rows = values[sheet]
    return rows[row][col] if row < len(rows) and col < len(rows[row]) else None
