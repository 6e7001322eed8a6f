"""compute writes the same bytes and reports the same findings as when the goldens were made.

A guard for speed work (the patcher's splices, the reader's scans, the checks' fast
paths): on the benchmark's branch (built by benchmarks/compute_bench.py, 30 members),
the same branch saved by openpyxl (no cached values: compute writes every formula's),
that copy with numbers typed as text (compute's fixes), and that copy spoiled in a few
hundred cells (compute refuses: findings only), every part compute leaves, and every
finding, must be what tests/data/same_output.json recorded: part by part, by SHA-256 (the
findings by count, first lines and a digest of all).

The goldens were recorded from the code before the speed work of the benchmark issue
and checked against it on the 200-member workbooks. A deliberate change of what compute
writes regenerates them: ``XLSHEETS_REGOLD=1 pytest tests/test_same_output.py``.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from xlsheets import definitions
from xlsheets.files import compute

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).with_name("data") / "same_output.json"
MEMBERS = 30
# openpyxl stamps its save time here; compute copies the part untouched
UNSTABLE = {"docProps/core.xml"}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("same")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import compute_bench as CB
        CB.build(folder / "bench.xlsx", MEMBERS)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    openpyxl.load_workbook(folder / "bench.xlsx").save(folder / "opx.xlsx")
    rnd = random.Random(7)
    wb = openpyxl.load_workbook(folder / "opx.xlsx")
    typed = 0
    for ws in wb.worksheets:
        if ws.title in ("党员互评", "群众参评", "支委会考评"):
            for row in ws.iter_rows(min_row=3):
                for c in row[2:10]:
                    if isinstance(c.value, (int, float)) and rnd.random() < 0.05:
                        c.value, typed = str(int(c.value)), typed + 1
    assert typed > 20
    wb.save(folder / "fixes.xlsx")
    wb = openpyxl.load_workbook(folder / "opx.xlsx")
    bad = [-1, 101, "abc", "85", 3.5, None, "", "  ", "王五", 1e300, "2005-13-40", 0, 99999]
    for ws in wb.worksheets[1:]:
        cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
        for c in rnd.sample(cells, min(len(cells), max(3, len(cells) // 40))):
            c.value = rnd.choice(bad)
    wb.save(folder / "errors.xlsx")
    return {"now": CB.NOW, "files": sorted(folder.glob("*.xlsx"))}


def outcome_of(path, now):
    """What compute did to ``path``: written or not, its findings, its parts' digests."""
    result = compute.compute_file(path, definitions.load(), now=now)
    with zipfile.ZipFile(path) as z:
        parts = {n: hashlib.sha256(z.read(n)).hexdigest() for n in z.namelist()
                 if n not in UNSTABLE}
    texts = [f.text() for f in result.findings]
    return {"written": result.written, "findings": len(texts), "first": texts[:8],
            "all": hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest(),
            "parts": parts}


def test_compute_writes_what_the_goldens_recorded(inputs, tmp_path):
    got = {}
    for source in inputs["files"]:
        path = shutil.copy(source, tmp_path / source.name)
        got[source.name] = outcome_of(path, inputs["now"])
    if os.environ.get("XLSHEETS_REGOLD"):
        GOLDEN.write_text(json.dumps(got, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                          encoding="utf-8")
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert sorted(got) == sorted(want) == ["bench.xlsx", "errors.xlsx", "fixes.xlsx", "opx.xlsx"]
    for name in want:
        g, w = got[name], want[name]
        assert g["written"] == w["written"], name
        assert (g["findings"], g["first"], g["all"]) == (w["findings"], w["first"], w["all"]), name
        assert sorted(g["parts"]) == sorted(w["parts"]), name
        differ = [part for part in w["parts"] if g["parts"][part] != w["parts"][part]]
        assert not differ, f"{name}: parts differ from the goldens: {differ}"
    assert want["errors.xlsx"]["written"] is False and want["errors.xlsx"]["findings"] > 50
    assert all(want[n]["written"] for n in ("bench.xlsx", "opx.xlsx", "fixes.xlsx"))
