"""“回头看”“四查四看” (step 9): the four checks as the seed words them, each with a result and evidence."""

from xlsheets.workbook import layout as L
from xlsheets.core.registers import Sheet, blank, empty, header
from xlsheets.core.roles import text

CHECK, RESULT, EVIDENCE = L.ChecklistCol


def check(defs, grids, out, fixes):
    """The four rows: unchanged texts, a result each, evidence each."""
    c = defs.process.checklist
    if L.CHECKLIST not in grids.sheets or not header(
            L.CHECKLIST, grids.registers.get("checklist", []), L.CHECKLIST_HEADERS, out):
        return
    sheet = Sheet(L.CHECKLIST, L.CHECKLIST_HEADERS, defs.year, out, fixes)
    lines = {ln.row: ln for ln in grids.checklist}
    started = any(not blank(ln.values[k]) for ln in lines.values() for k in (RESULT, EVIDENCE))
    for k, want in enumerate(c["checks"]):
        row = L.REGISTER_FIRST_ROW + k
        ln = lines.get(row)
        if ln is None or text(ln.values[CHECK]) != want:
            sheet.add("checklist-changed", row, CHECK, n=k + 1, expected=want)
            continue
        if not started:
            continue
        result = sheet.choice(ln, RESULT, c["results"], "checklist-result-missing", check=want)
        if result == c["failed"]:
            sheet.add("checklist-failed", row, RESULT, check=want, result=result)
        if result and blank(ln.values[EVIDENCE]):
            sheet.add("checklist-evidence-missing", row, EVIDENCE, check=want)
    if not started:
        empty(L.CHECKLIST, "四查四看", "开展“回头看”时,请逐项填写检查结果和情况及佐证材料。", out,
              L.a1(L.REGISTER_FIRST_ROW, RESULT))
