"""What the benchmarks share: random but repeatable ballots (whole points, always in
range), and the package's bytecode as an installed copy has it."""

import compileall
import sys
from pathlib import Path

import xlsheets
from xlsheets.workbook.entries import Entries


def bytecode():
    """Compile the package's modules to ``__pycache__`` as ``pip install`` does, so each
    timed process loads bytecode as on a clerk's PC: with PYTHONDONTWRITEBYTECODE set (or a
    fresh editable checkout) every run would compile the source again, about 60 ms of
    compute's start that no installed copy pays. The note says what was done."""
    where = Path(xlsheets.__file__).resolve().parent
    ok = compileall.compile_dir(where, quiet=1, force=False)
    return (f"bytecode of {where.name}/ compiled as pip install leaves it"
            + ("" if ok else " (some modules failed to compile)")
            + (", PYTHONDONTWRITEBYTECODE is set" if sys.flags.dont_write_bytecode else ""))


def random_entries(defs, names, plan, lookback, rnd):
    """Entries for ``names``: ``plan`` ((group key, ballots), ...) full ballots, 附件5 and 附件6."""
    def scores(items):
        return [rnd.randint(it.max // 2, it.max) for it in items]

    ballots = {key: [{n: scores(defs.items) for n in names} for _ in range(count)]
               for key, count in plan}
    categories = [rnd.randint(5, 30) for _ in defs.satisfaction["categories"]]
    total = sum(categories)
    sat = rnd.randint(total * 7 // 10, total)
    basic = rnd.randint(0, total - sat)
    return Entries(ballots=ballots, categories=categories,
                   levels=[sat, basic, total - sat - basic][:len(defs.satisfaction["levels"])],
                   lookback=[scores(defs.lookback_items) for _ in range(lookback)])
