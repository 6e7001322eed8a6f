"""Cell marks of the add-in: which cells to colour and note, and how to undo it.

Pure: no xlwings here. ``plan`` turns findings into one mark per cell (red
fill for errors, yellow for warnings, a note with the Chinese messages).
What was marked is kept in a hidden sheet ``xlsheets_marks`` as plain rows
(sheet, cell, the fill the cell had before, whether the note is ours, and
the mark itself), so ``清除标记`` restores exactly those cells and deletes
only the notes the add-in added, even after the workbook was saved, closed
and emailed, and pressing 校验 again rewrites only the marks that changed.
"""

from dataclasses import dataclass

from xlsheets.core.findings import ERROR, SEVERITY_LABEL

ERROR_FILL = "#FF6B6B"  # red: an error at this cell
WARNING_FILL = "#FFD966"  # yellow: a warning at this cell

RECORD_SHEET = "xlsheets_marks"
RECORD_TITLE = "xlsheets 标记记录(供“清除标记”使用,请勿修改或删除)"
RECORD_HEADER = ["工作表", "单元格", "原填充色", "批注由本程序添加", "标记色", "批注内容"]
RECORD_COLS = len(RECORD_HEADER)
RECORD_FIRST_ROW = 2  # 0-based: title, header, then one row per marked cell

NO_FILL = ""  # the cell had no fill
UNKNOWN_FILL = "?"  # the engine could not tell (restored as no fill)


@dataclass(frozen=True)
class Mark:
    """What one cell gets: a fill and a note with every message at that cell."""

    sheet: str
    cell: str
    fill: str
    note: str


@dataclass(frozen=True)
class Recorded:
    """One marked cell as recorded: its fill before marking, whether the note is ours."""

    sheet: str
    cell: str
    previous: str  # "#RRGGBB", NO_FILL or UNKNOWN_FILL
    note_added: bool
    fill: str = ""  # the mark's fill
    note: str = ""  # the mark's note text, when the note is ours


def plan(findings, sheets):
    """{(sheet, cell): Mark} for the findings that point at a cell of a present sheet."""
    present = {s.casefold(): s for s in sheets}
    grouped = {}
    for f in findings:
        sheet = present.get((f.sheet or "").casefold())
        if sheet is None or not f.cell:
            continue
        grouped.setdefault((sheet, f.cell.replace("$", "").upper()), []).append(f)
    marks = {}
    for (sheet, cell), fs in grouped.items():
        error = any(f.severity == ERROR for f in fs)
        note = "\n".join(f"【{SEVERITY_LABEL[f.severity]}】{f.message}" for f in fs)
        marks[(sheet, cell)] = Mark(sheet, cell, ERROR_FILL if error else WARNING_FILL,
                                    "xlsheets 校验:\n" + note)
    return marks


def parse_record(rows):
    """The Recorded cells from the record sheet's rows (blank or broken rows skipped)."""
    out = []
    for row in rows[RECORD_FIRST_ROW:]:
        row = list(row) + [None] * (RECORD_COLS - len(row))
        sheet, cell, previous, ours, fill, note = row[:RECORD_COLS]
        if not isinstance(sheet, str) or not isinstance(cell, str) or not sheet or not cell:
            continue
        previous = "" if previous is None else str(previous).strip()
        if previous not in (NO_FILL, UNKNOWN_FILL) and not _is_hex(previous):
            previous = UNKNOWN_FILL
        out.append(Recorded(sheet, cell.strip().upper(), previous,
                            str(ours).strip() in ("1", "1.0", "是", "True"),
                            str(fill or "").strip().upper(), str(note or "")))
    return out


def record_rows(recorded, pad_to=0):
    """The record sheet's rows, padded with blank rows to ``pad_to`` rows (to clear old ones)."""
    rows = [[RECORD_TITLE] + [None] * (RECORD_COLS - 1), list(RECORD_HEADER)]
    rows += [[r.sheet, r.cell, r.previous, "1" if r.note_added else "0", r.fill, r.note]
             for r in recorded]
    rows += [[None] * RECORD_COLS for _ in range(pad_to - len(rows))]
    return rows


@dataclass
class Change:
    """Everything one button press does to the marks, planned before anything is written."""

    fills: dict  # {sheet: {cell: "#RRGGBB" or None}}, restored and new fills together
    delete_notes: list  # [(sheet, cell)] notes of ours to delete
    add_notes: list  # [Mark] notes to add
    recorded: list  # [Recorded] the record after this press
    restored: int  # cells given back their previous fill


def change(old, new, previous_fill, has_note):
    """Plan going from the ``old`` record to the ``new`` marks.

    Args:
        old: [Recorded] from the record sheet (what is marked now).
        new: {(sheet, cell): Mark} wanted after this press ({} to clear).
        previous_fill: {(sheet, cell): fill text} of cells not marked now, read before.
        has_note: {(sheet, cell): bool} whether such a cell already carries a note.

    A cell marked before and now keeps its recorded previous fill; its fill and
    note are written again only if they changed.
    """
    old_by = {(r.sheet, r.cell): r for r in old}
    fills, delete, add, recorded, restored = {}, [], [], [], 0
    for key, r in old_by.items():
        if key not in new:
            fills.setdefault(r.sheet, {})[r.cell] = _restore(r.previous)
            restored += 1
            if r.note_added:
                delete.append(key)
    for key, m in new.items():
        was = old_by.get(key)
        if was is None:
            before, ours = previous_fill.get(key, UNKNOWN_FILL), not has_note.get(key, False)
            if ours:
                add.append(m)
            fills.setdefault(m.sheet, {})[m.cell] = m.fill
        else:
            before, ours = was.previous, was.note_added
            if ours and was.note != m.note:
                delete.append(key)  # our old note goes, ours comes in its place
                add.append(m)
            if was.fill.upper() != m.fill.upper():
                fills.setdefault(m.sheet, {})[m.cell] = m.fill
        recorded.append(Recorded(m.sheet, m.cell, before, ours, m.fill.upper(),
                                 m.note if ours else ""))
    return Change(fills, delete, add, recorded, restored)


def _restore(previous):
    return previous if _is_hex(previous) else None


def _is_hex(text):
    return (isinstance(text, str) and len(text) == 7 and text.startswith("#")
            and all(ch in "0123456789abcdefABCDEF" for ch in text[1:]))
