"""The one entry point of the core for a shell: check, steps, figures and the stamp together.

``files.compute`` (validate, compute), the Excel add-in's buttons and ``online``'s
import read a workbook their own way into ``Grids`` and the previous stamp's rows;
from there on they share this: ``checks.check`` (the rules, the steps' registers,
the figures, what compute restores) and ``stamp.stale`` (inputs typed since the last
compute), the findings sorted as the clerk reads them.
"""

from dataclasses import dataclass

from xlsheets.core import stamp
from xlsheets.core.checks import check
from xlsheets.core.findings import sort_key


@dataclass
class Examined:
    """One workbook examined: ``checked`` as ``checks.check`` gives it (its own findings
    count the stamp's errors and warnings) and ``findings``, sorted, with stamp-stale
    when the stamp is stale."""

    checked: object  # checks.Checked
    findings: list


def examine(defs, unit, grids, *, formulas, previous=None, expected_unit=None, counted=None):
    """Check ``grids`` and compare the previous stamp with them.

    formulas: the builder's own formula text, ``formulas(defs, unit, names, sheets)``
        -> ``{sheet: {A1: (text, array ref or None)}}`` (``files.canonical.formulas``),
        to restore formulas a clerk's program lost.
    previous: the previous compute's stamp, ``stamp.parse`` of its rows, or None.
    expected_unit, counted: as ``checks.check``.
    """
    checked = check(defs, unit, grids, expected_unit, counted, formulas=formulas)
    findings = list(checked.findings)
    stale = stamp.stale(previous, checked, [n for _, n in grids.roster])
    if stale is not None:
        findings.append(stale)
    findings.sort(key=sort_key)
    return Examined(checked, findings)
