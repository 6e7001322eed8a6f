"""The town summary workbook that ``collect`` writes, from plain rows (``Town``).

Per branch: members, ballots per group, mean composite, look-back total,
satisfaction shares and 满意率, schedule; each branch's registers of steps
2-5 and 9 (what they hold, what is missing); every member with the composite and
ranks within the branch and the town; every file and what became of it; and
native charts (distribution of composites, satisfaction per unit) that open
in Excel, WPS and LibreOffice. Figures are the core's, as each branch
workbook's own. No clock is written: the same inbox gives the same file.
"""

import datetime as dt
import io
import unicodedata
import zipfile
from bisect import bisect_left
from dataclasses import dataclass
from fractions import Fraction
from itertools import chain, repeat
from pathlib import Path
from statistics import fmean

import xlsxwriter

from xlsheets.workbook.address import a1
from xlsheets.writer.formats import FONT, FONT_SIZE, a4, fit_row
from xlsheets.core.steps import SUMMARY_COLUMNS
from xlsheets.disk.fileio import atomic_output
from xlsheets.ooxml.zipcopy import ZipWriter, pack_made
from xlsheets.core.numbers import round_half_away

BRANCHES, STEPS, MEMBERS, FILES, CHARTS = "各支部汇总", "各环节情况", "党员得分", "文件清单", "图表"
GRADING = "民主评议党员情况"
CHUNK_ROWS = 4000  # rows of a spliced table made at a time (about 1.3 MB of the members')
BINS = ((None, 60, "60分以下"), (60, 70, "60-70分"), (70, 80, "70-80分"),
        (80, 90, "80-90分"), (90, None, "90分及以上"))


@dataclass
class Town:
    """What the town summary shows, as ``collect`` decided it (each list sorted by unit)."""

    kept: list  # [(branch, origin, modified)]: the included branches
    latest: list  # [(unit, "已汇总" or "未汇总(有错误)", branch)]: every newest branch read
    members: list  # [(unit, member, town rank)]: the included branches' members
    files: list  # [[origin, received, unit, workbook id, modified, fate, reason, hash]]


def write(defs, town, path):
    """Write the town summary ``town`` (a ``Town``) to ``path``."""
    kept = town.kept
    with atomic_output(path) as tmp:
        buffer = io.BytesIO()  # XlsxWriter's package; the tables' rows are spliced in after
        wb = xlsxwriter.Workbook(buffer, {
            "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
            "default_format_properties": {"font_name": FONT, "font_size": FONT_SIZE}})
        newest = max((modified for _, _, modified in kept if modified), default="")
        created = _parse(newest) or dt.datetime.combine(defs.issued, dt.time())
        wb.set_properties({"title": f"{defs.town}民主评议汇总", "author": defs.issuer,
                           "created": created})
        fmt = _formats(wb)
        rows = []  # the tables' rows as templates (``_Rows``)
        _branches(wb, fmt, defs, kept, rows)
        _steps(wb, fmt, defs, town.latest, rows)
        if defs.grading is not None:
            _grading(wb, fmt, defs, town.latest, rows)
        _members(wb, fmt, defs, town.members, rows)
        _files(wb, fmt, town.files, rows)
        _charts(wb, fmt, defs, kept, town.members)
        wb.close()
        _splice(buffer, tmp, rows)


def _formats(wb):
    base = {"border": 1, "valign": "vcenter"}
    return {
        "title": wb.add_format({"bold": True, "font_size": 14}),
        "header": wb.add_format({"bold": True, "text_wrap": True, "align": "center",
                                 "bg_color": "#E7E6E6", **base}),
        "text": wb.add_format({"text_wrap": True, **base}),
        "int": wb.add_format({"num_format": "0", "align": "center", **base}),
        "score": wb.add_format({"num_format": "0.00", "align": "center", **base}),
        "pct": wb.add_format({"num_format": "0.00%", "align": "center", **base}),
    }


def _table(ws, fmt, row, headers, rows, widths, kinds, spliced):
    """The header at ``row``, the rows below it; the last row's index.

    The rows go to ``spliced`` as templates (``_Rows``), or, where this XlsxWriter lacks
    what the templates lean on or a row is not the table's width, every cell through
    XlsxWriter's write calls (the same bytes, slower)."""
    for c, (h, w) in enumerate(zip(headers, widths)):
        ws.write_string(row, c, h, fmt["header"])
        ws.set_column(c, c, w)
    # Tall enough for every wrapped header (bold CJK runs wider than the plain estimate),
    # so the printed texts never run into each other.
    fit_row(ws, row, headers, [w - 1 for w in widths], line=16)
    last = row + len(rows)
    if rows and _templates_usable(ws) and all(len(v) == len(kinds) for v in rows):
        spliced.append(_row_texts(ws, fmt, row + 1, rows, kinds, [w - 1 for w in widths]))
        ws._check_dimensions(last, len(headers) - 1)  # XlsxWriter's <dimension> spans them
        rows = []
    for r, values in enumerate(rows, start=row + 1):
        for c, (v, kind) in enumerate(zip(values, kinds)):
            if v is None or v == "":
                ws.write_blank(r, c, None, fmt[kind])
            elif isinstance(v, str):
                ws.write_string(r, c, v, fmt["text"])
            elif kind == "score":  # R8: the rounded figure itself, not a format over it
                ws.write_number(r, c, rounded(v), fmt[kind])
            else:
                ws.write_number(r, c, v, fmt[kind])
        fit_row(ws, r, values, [w - 1 for w in widths])  # a wrapped text's lines, all shown
    ws.freeze_panes(row + 1, 1)
    return last


def _branches(wb, fmt, defs, kept, spliced):
    ws = wb.add_worksheet(BRANCHES)
    ws.write_string(0, 0, f"{defs.town}先进性教育活动分析评议阶段民主评议汇总", fmt["title"])
    levels = defs.satisfaction["levels"]
    headers = ["支部", "党员人数", *(f"{g.name}票数" for g in defs.groups), "平均综合得分",
               "“回头看”合计", "参加测评群众(人)", *(f"{lv}占比" for lv in levels), "满意率",
               "工作日程", "来源文件"]
    rows = []
    for b, origin, _ in kept:
        scored = [m["composite"] for m in b["members"] if not isinstance(m["composite"], str)]
        sat = b["satisfaction"]
        rows.append([b["unit"], len(b["members"]), *(b["ballots"].get(g.key, 0) for g in defs.groups),
                     fmean(scored) if scored else "", b["lookback_total"], sat["total"],
                     *(_share(s) for s in sat["shares"]), _share(sat["rate"]),
                     b["schedule"], origin])
    kinds = ["text", "int", *("int" for _ in defs.groups), "score", "score", "int",
             *("pct" for _ in levels), "pct", "text", "text"]
    widths = [14, 8, *(9 for _ in defs.groups), 10, 10, 10, *(9 for _ in levels), 9, 22, 36]
    last = _table(ws, fmt, 2, headers, rows, widths, kinds, spliced)
    a4(ws, landscape=True, repeat=(2, 2), area=(0, 0, max(last, 2), len(headers) - 1))


def grading_rows(defs, latest):
    """民主评议党员情况: a row per branch and the total, as [values], and their header.

    Every branch whose newest workbook was read (included in the summary or not: a
    grading not finished is an error there, and the town must see it). Per branch:
    members, members graded, each grade's count and share of the members, the most
    优秀 its share allows, and what is not right yet (not graded, incomplete, over the
    share, or an older workbook without 评定等次). The total sums the branches graded."""
    g = defs.grading
    headers = ["支部", "汇总结果", "党员人数", "已评定(人)"]
    for grade in g.grades:
        headers += [f"{grade}(人)", f"{grade}占党员人数的比例"]
    headers += [f"{g.excellent}最多(人)", "情况"]
    rows, total = [], {"members": 0, "graded": 0, **{k: 0 for k in g.grades}}
    tally = {"未评定": 0, "评定未完成": 0, f"{g.excellent}超过比例": 0, "没有评定等次表": 0}
    for _, fate, b in latest:
        gr = b.get("grading")
        if gr is None:
            tally["没有评定等次表"] += 1
            rows.append([b["unit"], fate, len(b["members"]), None,
                         *([None, None] * len(g.grades)), None, "工作簿中没有评定等次表(旧版本)"])
            continue
        members, counts = gr["members"], gr["counts"]
        notes = []
        if gr["graded"] == 0:
            notes.append("尚未评定")
            tally["未评定"] += 1
        elif gr["graded"] < members:
            notes.append(f"评定未完成({members - gr['graded']} 人未评定)")
            tally["评定未完成"] += 1
        if counts[g.excellent] > gr["limit"]:
            notes.append(f"{g.excellent}超过比例({counts[g.excellent]} 人,最多 {gr['limit']} 人)")
            tally[f"{g.excellent}超过比例"] += 1
        row = [b["unit"], fate, members, gr["graded"]]
        for grade in g.grades:
            row += [counts[grade], _ratio(counts[grade], members)]
        rows.append(row + [gr["limit"], ";".join(notes) or "已完成"])
        total["members"] += members
        total["graded"] += gr["graded"]
        for grade in g.grades:
            total[grade] += counts[grade]
    row = ["合计", f"{len(latest)} 个支部", total["members"], total["graded"]]
    for grade in g.grades:
        row += [total[grade], _ratio(total[grade], total["members"])]
    rows.append(row + [None, ";".join(f"{what} {n} 个支部" for what, n in tally.items() if n)])
    return headers, rows


def _ratio(count, members):
    """count / members as the cell holds it (R12: a percent rounded to 2 decimals)."""
    return _share(Fraction(count * 100, members)) if members else None


def _grading(wb, fmt, defs, latest, spliced):
    ws = wb.add_worksheet(GRADING)
    ws.write_string(0, 0, f"{defs.town}民主评议党员情况", fmt["title"])
    headers, rows = grading_rows(defs, latest)
    n = len(defs.grading.grades)
    kinds = ["text", "text", "int", "int", *(["int", "pct"] * n), "int", "text"]
    widths = [14, 14, 8, 8, *([8, 10] * n), 8, 34]
    last = _table(ws, fmt, 2, headers, rows, widths, kinds, spliced)
    a4(ws, landscape=True, repeat=(2, 2), area=(0, 0, last, len(headers) - 1))


def rounded(x):
    """``float(round_half_away(x))`` (R8: 2 decimals, half away from zero), the same
    float, without Fractions for a float (``_hundredths``)."""
    n = _hundredths(x)
    return float(round_half_away(x)) if n is None else n / 100


def _share(percent):
    """A percent (R12) as the cell holds it: rounded to 2 decimals of a percent."""
    if percent is None:
        return None
    n = _hundredths(percent)
    return float(round_half_away(percent) / 100) if n is None else n / 10000


def _hundredths(x):
    """``x`` rounded half away from zero to a signed integer count of hundredths, for a
    float with a plain shortest decimal text (the number ``to_fraction`` takes it for),
    rounded on its digits, or a Fraction, on its integers; None otherwise (1e-05, nan,
    inf, another type: the general way). An integer over 100 or 10000 is a correctly
    rounded division, as ``float(Decimal)`` of the rounded figure is."""
    if type(x) is Fraction:
        a, b = x.numerator, x.denominator
        n = (abs(a) * 200 + b) // (2 * b)
        return -n if a < 0 else n
    if type(x) is not float:
        return None
    text = repr(x)
    if "e" in text or "n" in text:
        return None
    negative = text[0] == "-"
    whole, _, frac = text.lstrip("-").partition(".")
    n = int(whole + frac[:2].ljust(2, "0")) + (frac[2:3] >= "5")
    return -n if negative else n


def _steps(wb, fmt, defs, latest, spliced):
    """Each branch's registers of steps 2-5 and 9, included or not (its newest version)."""
    ws = wb.add_worksheet(STEPS)
    ws.write_string(0, 0, f"{defs.town}先进性教育活动分析评议阶段各环节完成情况", fmt["title"])
    headers = ["支部", "汇总结果", *(label for label, _ in SUMMARY_COLUMNS), "各环节错误",
               "各环节提醒"]
    rows = [[unit, fate, *b["steps"]] for unit, fate, b in latest if "steps" in b]
    kinds = ["text", "text", *("int" for _ in SUMMARY_COLUMNS), "int", "int"]
    widths = [14, 12, 11, *(10 for _ in SUMMARY_COLUMNS[1:]), 9, 9]
    last = _table(ws, fmt, 2, headers, rows, widths, kinds, spliced)
    a4(ws, landscape=True, repeat=(2, 2), area=(0, 0, max(last, 2), len(headers) - 1))


def _members(wb, fmt, defs, members, spliced):
    ws = wb.add_worksheet(MEMBERS)
    keys = [g.key for g in defs.groups]
    rows = [[unit, m["name"], *map(m["means"].__getitem__, keys), m["composite"], m["rank"],
             town_rank] for unit, m, town_rank in members]
    headers = ["支部", "姓名", *(f"{g.name}平均分" for g in defs.groups), "综合得分",
               "支部内排名", "全镇排名"]
    kinds = ["text", "text", *("score" for _ in defs.groups), "score", "int", "int"]
    widths = [14, 10, *(11 for _ in defs.groups), 10, 9, 9]
    last = _table(ws, fmt, 0, headers, rows, widths, kinds, spliced)
    ws.autofilter(0, 0, max(last, 0), len(headers) - 1)
    a4(ws, landscape=True, repeat=(0, 0), area=(0, 0, max(last, 0), len(headers) - 1))


def _templates_usable(ws):
    """XlsxWriter's private pieces the row templates use are there (checked, not assumed:
    an update of XlsxWriter on an office PC then costs speed, not the town book)."""
    table = getattr(ws, "str_table", None)
    return (callable(getattr(table, "_get_shared_string_index", None))
            and isinstance(getattr(table, "count", None), int)
            and callable(getattr(ws, "_check_dimensions", None))
            and callable(getattr(ws, "_write_sheet_data", None))
            and all(isinstance(getattr(ws, k, None), dict) for k in ("table", "row_info", "comments"))
            and hasattr(ws, "dim_rowmax") and hasattr(ws, "dim_rowmin"))


@dataclass
class _Rows:
    """A table's rows, spliced into their sheet once XlsxWriter has written it: per
    column, each distinct cell's XML after its address (style indices as tokens until
    XlsxWriter has given them) and which of them each row holds."""

    ws: object
    first: int  # the first row's number (1-based)
    pieces: list  # per column: the distinct cells' XML
    cells: list  # per column: the index into its pieces of each row's cell
    heights: list  # per row: its height attributes ("" for one line)
    spans: str
    formats: list  # the formats the tokens stand for

    def xml_chunks(self, rows=CHUNK_ROWS):
        """The rows' XML, the tokens replaced by the formats' indices, ``rows`` rows a
        piece: one join over each piece's cells in order (the row number, its height,
        each cell's address and XML)."""
        numbers = list(map(str, range(self.first, self.first + len(self.heights))))
        cells = []
        for column in self.pieces:
            text = "\x01".join(column)
            for k, f in enumerate(self.formats):
                text = text.replace(f"\x00{k}\x00", str(f.xf_index))
            cells.append([f'"{cell}' for cell in text.split("\x01")])  # after the address
        heads = [f'<c r="{a1(0, c)[:-1]}' for c in range(len(cells))]
        for at in range(0, len(numbers), rows):
            block = slice(at, at + rows)
            nums = numbers[block]
            parts = [repeat('<row r="'), nums, repeat(f'"{self.spans}'), self.heights[block],
                     repeat(">")]
            for head, xml, index in zip(heads, cells, self.cells):
                parts += [repeat(head), nums, map(xml.__getitem__, index[block])]
            parts.append(repeat("</row>"))
            yield "".join(chain.from_iterable(zip(*parts)))


def _row_texts(ws, fmt, first, rows, kinds, units):
    """The rows ``_table`` writes from row ``first``, as the XML XlsxWriter would write
    for them (strings into its shared string table in the same order, numbers as
    ``%.16G``, a blank with its format, the height ``fit_row`` sets), without its
    per-cell overhead: a column at a time, each distinct value made once."""
    table = ws.str_table
    # every string cell in row order, as write_string enters and counts it (its first
    # 32,767 characters); each distinct one entered once, the repeats counted at once
    strings = [v[:32767] for values in rows for v in values if isinstance(v, str) and v]
    index = {s: table._get_shared_string_index(s) for s in dict.fromkeys(strings)}
    table.count += len(strings) - len(index)
    formats = list(dict.fromkeys([fmt["text"], *(fmt[k] for k in kinds)]))
    token = {id(f): f"\x00{k}\x00" for k, f in enumerate(formats)}
    text_s = token[id(fmt["text"])]
    limits = [max(1, int(u) - 1) for u in units]

    def cell(kind, limit, v):  # (the cell's XML after its address, its lines as fit_row counts)
        if v is None or v == "":
            return f' s="{token[id(fmt[kind])]}"/>', 1
        if isinstance(v, str):  # fit_row measures the whole text
            width = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in v)
            return f' s="{text_s}" t="s"><v>{index[v[:32767]]}</v></c>', -(-width // limit)
        number = rounded(v) if kind == "score" else v
        return f' s="{token[id(fmt[kind])]}"><v>{number:.16G}</v></c>', 1

    pieces, cells, lines, uses = [], [], [], {}
    for c, (kind, limit, values) in enumerate(zip(kinds, limits, zip(*rows))):
        made, column, tall = {}, [], []  # (type, value): 1 and 1.0 are one key, not one text
        for r, v in enumerate(values):
            key = (v.__class__, v)
            k = made.get(key)
            if k is None:
                k = made[key] = len(made)
                tall.append(cell(kind, limit, v))
                used = fmt["text"] if isinstance(v, str) and v else fmt[kind]
                uses.setdefault((c, id(used)), (r, c, used))  # where it is first used here
            column.append(k)
        pieces.append([xml for xml, _ in tall])
        cells.append(column)
        if any(n > 1 for _, n in tall):
            lines.append([tall[k][1] for k in column])
    most = list(map(max, *lines)) if len(lines) > 1 else lines[0] if lines else [1] * len(rows)
    heights = [f' ht="{15 * n:.16g}" customHeight="1"' if n > 1 else "" for n in most]
    _index_after_sheet_data(ws, [f for _, _, f in sorted(uses.values(), key=lambda u: u[:2])])
    return _Rows(ws, first + 1, pieces, cells, heights, f' spans="1:{len(kinds)}"', formats)


def _index_after_sheet_data(ws, used):
    """XlsxWriter numbers the formats as it writes the cells, sheet by sheet, when the
    workbook closes; the formats of the rows spliced in (``used``, in the order of their
    first cells) are numbered where their cells come: after the sheet's own rows.

    While it writes its own rows, its dimension ends at the last of them: its row loops
    walk every row number of the dimension (and make an empty row for each), which
    the spliced rows would stretch to all of the table's, 50,000 for a town's members;
    rows it holds nothing of are written as nothing either way."""
    write = ws._write_sheet_data

    def write_then_index():
        spanned = ws.dim_rowmax
        own = [r for r, cells in ws.table.items() if cells] + list(ws.row_info) + [
            r for r, notes in ws.comments.items() if notes]
        if own and ws.dim_rowmin is not None:
            ws.dim_rowmax = min(spanned, max(max(own), ws.dim_rowmin))
        try:
            write()
        finally:
            ws.dim_rowmax = spanned
        for f in used:
            f._get_xf_index()

    ws._write_sheet_data = write_then_index


def _splice(buffer, path, rows):
    """Write XlsxWriter's package in ``buffer`` to ``path`` with each of ``rows`` (a list
    of ``_Rows``) spliced into its sheet: the other parts as XlsxWriter compressed them
    (their raw bytes), in the same order and with the same entry dates; the spliced
    sheets deflated piece by piece as they are made (``pack_made``), the members' sheet,
    the one large part, at level 1: a third of level 6's time."""
    if not rows:  # written cell by cell: XlsxWriter's package as it is
        Path(path).write_bytes(buffer.getvalue())
        return
    parts = {f"xl/worksheets/sheet{r.ws.index + 1}.xml": r for r in rows}
    with zipfile.ZipFile(buffer) as src, open(path, "wb") as f:
        out = ZipWriter(f, path)
        for info in src.infolist():
            spliced = parts.get(info.filename)
            if spliced is None:
                out.copy(info, buffer)
                continue
            head, tail = src.read(info).split(b"</sheetData>", 1)
            made = chain([head], (x.encode("utf-8") for x in spliced.xml_chunks()),
                         [b"</sheetData>" + tail])
            out.add(info, pack_made(made, 1 if spliced.ws.name == MEMBERS else 6))
        out.close()


def _files(wb, fmt, rows, spliced):
    ws = wb.add_worksheet(FILES)
    headers = ["文件(来源)", "收到时间", "支部", "工作簿编号", "工作簿时间", "结果", "说明", "内容指纹"]
    last = _table(ws, fmt, 0, headers, rows, [40, 19, 12, 38, 19, 14, 60, 18], ["text"] * 8,
                  spliced)
    ws.autofilter(0, 0, max(last, 0), len(headers) - 1)
    a4(ws, landscape=True, repeat=(0, 0), area=(0, 0, max(last, 0), len(headers) - 1))


def _charts(wb, fmt, defs, kept, members):
    ws = wb.add_worksheet(CHARTS)
    values = sorted(m["composite"] for _, m, _ in members
                    if not isinstance(m["composite"], str))
    ws.write_string(0, 0, "综合得分分段", fmt["header"])
    ws.write_string(0, 1, "人数", fmt["header"])
    for i, (lo, hi, label) in enumerate(BINS, start=1):  # lo <= v < hi: two searches
        count = ((len(values) if hi is None else bisect_left(values, hi))
                 - (0 if lo is None else bisect_left(values, lo)))
        ws.write_string(i, 0, label, fmt["text"])
        ws.write_number(i, 1, count, fmt["int"])
    ws.set_column(0, 0, 14)
    dist = wb.add_chart({"type": "column"})
    dist.add_series({"name": "人数", "categories": [CHARTS, 1, 0, len(BINS), 0],
                     "values": [CHARTS, 1, 1, len(BINS), 1], "data_labels": {"value": True}})
    dist.set_title({"name": "全镇党员综合得分分布"})
    dist.set_legend({"none": True})
    dist.set_y_axis({"name": "人数"})
    ws.insert_chart(0, 3, dist, {"x_scale": 1.2, "y_scale": 1.1})

    levels = defs.satisfaction["levels"]
    top = len(BINS) + 3
    ws.write_string(top, 0, "支部", fmt["header"])
    for k, lv in enumerate(levels, start=1):
        ws.write_string(top, k, lv, fmt["header"])
    for i, (b, _, _) in enumerate(kept, start=top + 1):
        ws.write_string(i, 0, b["unit"], fmt["text"])
        for k, share in enumerate(b["satisfaction"]["shares"], start=1):
            ws.write_number(i, k, (share or 0) / 100, fmt["pct"])
    if kept:
        sat = wb.add_chart({"type": "column", "subtype": "percent_stacked"})
        for k, lv in enumerate(levels, start=1):
            sat.add_series({"name": [CHARTS, top, k],
                            "categories": [CHARTS, top + 1, 0, top + len(kept), 0],
                            "values": [CHARTS, top + 1, k, top + len(kept), k]})
        sat.set_title({"name": "各支部群众满意度(附件6)"})
        sat.set_y_axis({"num_format": "0%"})
        ws.insert_chart(18, 3, sat, {"x_scale": 1.2, "y_scale": 1.1})  # below the first
    a4(ws, landscape=True)


def _parse(text):
    try:
        return dt.datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
