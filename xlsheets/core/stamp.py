"""校验结果's stamp: when the figures were computed, by what, from which inputs.

The stamp records when the figures were computed, by which package and
definition version, and a fingerprint of the inputs, so a later run can tell
whether anything was typed since (``stale``). Pure: the file shell and the
Excel shell read the stamp's rows each their own way and hand them to ``parse``;
``files.report`` writes the sheet.
"""

import hashlib

from xlsheets import __version__
from xlsheets.core.findings import finding
from xlsheets.workbook import layout as L

SHEET = "校验结果"
STAMP_KEYS = (("computed", "计算时间"), ("generator", "计算程序"), ("definitions", "定义集及版本"),
              ("fingerprint", "输入指纹"), ("errors", "错误数"), ("warnings", "提醒数"))
FIRST_ROW = 2  # 0-based: the stamp's rows, below the title and a blank row


def fingerprint(checked, roster):
    """A hash of every input value the figures depend on, in a stable form.

    The checks hand over whole numbers as ints, so 8 typed as 8.0 hashes alike.
    """
    registers = getattr(checked.figures, "registers", None) or {}
    # The registers' counts, zeros left out: the roster already fixes which cells exist.
    data = (roster, sorted(checked.rows_by_group.items()), checked.lookback,
            checked.categories, checked.levels,
            sorted((sheet, sorted((a, v) for a, v in cells.items() if v))
                   for sheet, cells in registers.items()))
    grading = getattr(checked.figures, "grading", None)
    if grading is not None:  # 评定等次's grades and the ballots issued and returned
        data += (grading.grades, sorted((grading.accounts or {}).items()))
    return hashlib.sha256(repr(data).encode("utf-8")).hexdigest()[:16]


def stamp(defs, checked, roster, when):
    """The stamp's values, {key: text}, for figures computed at ``when``."""
    errors = sum(f.is_error for f in checked.findings)
    return {"computed": when.isoformat(timespec="seconds"), "generator": f"xlsheets {__version__}",
            "definitions": f"{defs.id} {defs.version}",
            "fingerprint": fingerprint(checked, roster),
            "errors": str(errors), "warnings": str(len(checked.findings) - errors)}


def stamp_cell(key):
    """Where a stamp value sits on 校验结果 (column B, below the title)."""
    return L.a1(FIRST_ROW + [k for k, _ in STAMP_KEYS].index(key), 1)


def parse(rows):
    """A previous stamp from its rows ``[(label, value)]`` as read (rows ``FIRST_ROW`` on,
    columns A and B), or None: a label not ours, or a blank value, is no part of it."""
    labels = {label: key for key, label in STAMP_KEYS}
    found = {}
    for label, value in rows:
        if isinstance(label, str) and label in labels and value is not None:
            found[labels[label]] = str(value)
    return found or None


def stale(previous, checked, roster):
    """The stamp-stale finding when ``previous`` (a parsed stamp) was computed from other
    inputs than ``checked``'s, else None."""
    if previous and previous.get("fingerprint") != fingerprint(checked, roster):
        return finding("stamp-stale", SHEET, stamp_cell("fingerprint"),
                       when=previous.get("computed", ""))
    return None
