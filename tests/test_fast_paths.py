"""Fast paths give the bytes and decisions of the general code they stand in for.

Each shortcut in the patcher is taken only for one plain spelling; these tests feed both
paths the same spellings, plain and odd, and require the same result, so a shortcut can
never decide differently from the code that handles every case.
"""

import itertools
import re

import pytest

from xlsheets.ooxml import patch
from xlsheets.ooxml.guards import BookError

CELLS = [
    '<c r="K3" s="10"><f>SUM(C3:J3)</f><v />',  # openpyxl: no cached value
    '<c r="K3" s="10"><f>SUM(C3:J3)</f><v/></c>',
    '<c r="K3" s="10"><f>SUM(C3:J3)</f><v></v></c>',
    '<c r="K3" s="10"><f>SUM(C3:J3)</f><v>12</v></c>',
    '<c r="K3"><f>SUM(C3:J3)</f></c>',
    '<c r="K3" s="10" t="str"><f>IF(A1="","",1)</f><v>不完整</v></c>',
    '<c r="K3" t="n" s="10"><f>SUM(C3:J3)</f><v>1</v></c>',
    '<c r="K3"  s="10"><f>SUM(C3:J3)</f><v>1</v></c>',  # two spaces
    "<c r='K3' s='10'><f>SUM(C3:J3)</f><v>1</v></c>",
    '<c r="K3" s="10" vm="1"><f>SUM(C3:J3)</f><v>1</v></c>',
    '<c r="K3" s="10"><f t="shared" si="0"/><v>1</v></c>',
    '<c r="K3" s="10"><f>SUM(C3:J3)</f><v>1</v><extLst><ext uri="x"/></extLst></c>',
    '<c r="K3" s="10"/>',
    '<c r="K3" s="10" t="s"><v>4</v></c>',
    '<c r="K3" s="10" t="inlineStr"><is><t>x</t></is></c>',
    '<c r="K3" s="10" xt="q"><f>A1&amp;"&lt;"</f><v>a</v></c>',
]
VALUES = [0, 7, -3, 12.5, 88.075, 1e-7, 2**60, "", "不完整", "a<b&c", " lead", "x\x01y", True,
          None, float("nan"), float("inf")]


@pytest.mark.parametrize("prefix", ["", "x:"])
def test_patch_cell_fast_path_equals_the_general_one(prefix):
    taken = 0
    for cell, value in itertools.product(CELLS, VALUES):
        cell = cell.replace("<", "<" + prefix).replace("<" + prefix + "/", "</" + prefix) \
            if prefix else cell
        try:
            general = patch._patch_cell_general(cell, value, prefix)
        except (ValueError, TypeError) as e:
            with pytest.raises(type(e)):
                patch._patch_cell(cell, value, prefix)
            continue
        assert patch._patch_cell(cell, value, prefix) == general, (cell, value)
        taken += patch._plain_formula(prefix).fullmatch(cell) is not None
    assert taken > 40  # the shortcut really ran, for numbers and for text


ROWS = [
    '<c r="A3" s="1"><v>1</v></c><c r="B3" t="s"><v>0</v></c><c r="K3"><f>SUM(A3)</f></c>',
    '<c r="A3"/><c r="K3" s="2"><f>SUM(A3)</f><v>1</v></c><c r="L3" t="inlineStr"><is><t>K3</t></is></c>',
    '<c s="1"><v>1</v></c><c r="K3"><f>SUM(A3)</f></c>',  # a cell without r
    '<c t="n" r="K3"><v>1</v></c>',  # r not first
    '<c r="$K$3"><v>1</v></c>',
    '<c r="A3"><v>1</v></c>',  # K3 missing: inserted
    '<c r="K4"><v>1</v></c>',  # a cell of another row: the general scan places it by column
    '<c r="K3"><v>1</v></c><c r="K3"><v>2</v></c>',  # twice: the first one, as before
    '<c r="1K"><v>1</v></c>',  # not an address
]


@pytest.mark.parametrize("row", ROWS)
def test_row_patch_fast_path_equals_the_general_scan(row, monkeypatch):
    text = (f'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<sheetData><row r="3">{row}</row></sheetData></worksheet>')
    updates = {"K3": 5, "A3": 2}

    def patched():
        try:
            return patch._patch_sheet("b.xlsx", "s", "p", text.encode(), updates)
        except BookError as e:
            return ("refused", str(e))

    spliced = patched()
    monkeypatch.setattr(patch, "_splice_plain", lambda *a: None)
    fast = patched()
    monkeypatch.setattr(patch, "_find_cells", lambda *a: None)
    assert spliced == fast == patched()


SHEET_ROWS = [
    '<row r="1"><c r="A1" t="s"><v>0</v></c></row>',
    '<row r="2" spans="1:11"><c r="A2"><v>1</v></c><c r="K2"><f>SUM(A2)</f><v /></c></row>',
    '<row r="3"><c r="K3" s="2"><f>SUM(A3)</f></c></row>',
    '<row r="3"><c r="K3"><v>9</v></c></row>',  # row 3 twice
    '<row r="4"/>',
    '<row r="5" x="a>b"><c r="K5"><f>1</f><v>1</v></c></row>',
    '<row r="6"><c r="K6"><v>1</v></c><c r="K6"><v>2</v></c></row>',
    '<row><c r="K7"><v>1</v></c></row>',  # no r
    '<row  r="8"><c r="K8"><v>1</v></c></row>',  # two spaces
    '<row r="9"><c r="L9"><v>1</v></c></row>',  # K9 missing
    '<row r="10"><c t="n" r="K10"><v>1</v></c></row>',  # r not first
    '<row r="11"><!-- a comment --><c r="K11"><v>1</v></c></row>',
    '<row r="12" customFormat="1" s="3"><c r="K12"><v>1</v></c></row>',
    '<row r="013"><c r="K13"><v>1</v></c></row>',
    '<row r="2"><c r="K2"><v>1</v></c></row>',  # out of order after the rows above
]


def _sheet(rows):
    return ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<dimension ref="A1:K3"/><sheetData>' + "".join(rows) + '</sheetData></worksheet>')


def test_sheet_splice_equals_the_general_scan(monkeypatch):
    """Random sheets of plain and odd rows: the split-apart splice and the row-by-row
    scan give the same text or the same refusal, and the splice really runs."""
    import random

    rnd = random.Random(2005)
    general_path = patch._splice_plain
    cases = taken = 0
    for _ in range(600):
        pool = ["K2", "K3", "K5", "K6", "K7", "K8", "K9", "K10", "K11", "K12", "K13", "A2", "M1"]
        rows = rnd.sample(SHEET_ROWS, rnd.randint(1, 5))
        values = [5, "不完整", 2.5, None]
        if rnd.random() < 0.5:  # the plain case: rows in order, their own cells
            rows = sorted(rnd.sample([SHEET_ROWS[k] for k in (0, 1, 2, 5, 12)], rnd.randint(1, 5)),
                          key=SHEET_ROWS.index)
            pool = [a for a in ("A1", "A2", "K2", "K3", "K5", "K12")
                    if f'<c r="{a}"' in "".join(rows)]
            values = [5, "不完整", 2.5, 0, True]
        text = _sheet(rows)
        updates = {a: rnd.choice(values) for a in rnd.sample(pool, rnd.randint(1, min(4, len(pool))))}

        def patched():
            try:
                return patch._patch_sheet("b.xlsx", "s", "p", text.encode(), updates)
            except BookError as e:
                return ("refused", str(e))

        monkeypatch.setattr(patch, "_splice_plain", general_path)
        fast = patched()
        taken += general_path(text.encode(), _targets(updates)) is not None
        monkeypatch.setattr(patch, "_splice_plain", lambda *a: None)
        assert fast == patched(), (rows, updates)
        cases += 1
    assert taken > 100 and cases == 600


def _targets(updates):
    from xlsheets.workbook.address import parse_a1

    out = {}
    for address, value in updates.items():
        row, col = parse_a1(address)
        out.setdefault(row, {})[col] = value
    return out


def test_sheet_quoting_is_xlsxwriters():
    """address.quote_sheet decides two plain cases itself and gives XlsxWriter's answer
    for every name: the workbook's own sheet names and names built to trip each rule."""
    from xlsxwriter.utility import quote_sheetname

    from xlsheets import definitions
    from xlsheets.workbook import layout as L
    from xlsheets.workbook.address import quote_sheet

    defs = definitions.load()
    unit = defs.units[0]
    names = list(L.sheet_names(defs.groups, unit, graded=True))
    names += ["A1", "a1", "XFD1048576", "XFE1", "R1C1", "rc", "R", "C", "RC", "C12x", "R0",
              "1abc", "１号", "٣x", ".x", "x.y", "a b", "a'b", "'已引'", "汇总", "汇总1",
              "附件4 评议意见表", "名-单", "😀", "x😀", "汇😀", "ı1", "ſ1", "ß1", "ﬀ1", "Ab12",
              "_x", "é1", "Ω", "表(一)", "表_一", "\tx", "中\x7f"]
    for name in names:
        assert quote_sheet(name) == quote_sheetname(name), name


def _letters(n):
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _by_hand(address):
    """(row, col) of a plain address, or None: letters in base 26, A = 1."""
    m = re.fullmatch(rb"([A-Z]{1,3})([1-9][0-9]{0,6})", address)
    if not m:
        return None
    col = 0
    for ch in m[1]:
        col = col * 26 + ch - 64
    return int(m[2]), col


def test_plain_extent_equals_one_by_one():
    """The sheet extent's quick pass over far cells decides as the cell-by-cell one:
    same figures, or it steps aside (None) and the cell-by-cell one raises or stops."""
    import random

    from xlsheets.ooxml import guards

    def one_by_one(addresses):
        try:
            return guards._extent_one_by_one(addresses)
        except guards.BadAddress as e:
            return ("bad", e.text)

    rng = random.Random(14)
    spellings = [b"AA1", b"GR201", b"XFD1048576", b"XFE1", b"A1048577", b"ZZ0", b"$AB$3", b"ab3",
                 b" AB3", b"AB3 ", b"AAAA1", b"AB", b"", b"AB12345678", b"Z200001", b"B200000",
                 b"CV100000", b"XFD200000", b"XFD200001", b"AZ99", b"AB5000 AB5000", b"AB5 "]
    quick = 0
    for _ in range(3000):
        addresses = [rng.choice(spellings) if rng.random() < 0.3 else
                     f"{_letters(rng.randint(1, 16_384))}{rng.randint(1, 210_000)}".encode()
                     for _ in range(rng.randint(0, 6))]
        fast = guards._plain_extent(addresses)
        if fast is not None:
            quick += 1
            assert fast == one_by_one(addresses), addresses
        places = [_by_hand(a) for a in addresses]  # a plain list inside every limit: quick
        inside = all(p is not None and p[0] <= 200_000 and p[1] <= 16_384 for p in places)
        assert (fast is not None) == inside, addresses
        if inside:
            assert fast == (max([p[0] for p in places], default=0),
                            max([p[1] for p in places], default=1))
    assert quick > 300
    assert guards._plain_extent([b"GR201", b"B7", b"AA300"]) == (300, 200)  # GR = 7*26+18


def _formula_refs_general(data):
    """The formula scan as it was before its shortcuts (every ``<f`` through the prefixed
    pattern, ``r`` always read attribute by attribute): the reference."""
    from xlsheets.ooxml import package as P
    from xlsheets.ooxml.markup import _attr

    out = set()
    for m in P._FORMULA_OPEN.finditer(data):
        at = m.start()
        start = data.rfind(b"<", 0, at)
        gt = data.find(b">", start, at)
        if start < 0 or gt < 0 or data[gt - 1] == 0x2F or data[gt + 1:at].strip():
            continue
        if P._CELL_OPEN.match(data, start, gt + 1):
            r = _attr(data[start:gt], "r")
            if r and P._CELL_REF.fullmatch(r):
                out.add(r.decode("ascii"))
    return out


FORMULA_PIECES = [
    '<c r="K3" s="10"><f>SUM(C3:J3)</f><v>1</v></c>', '<c r="K4"><f t="shared" si="0"/></c>',
    '<c r="K5" s="1">\n  <f>A1</f></c>', '<c s="1" r="K6"><f>A1</f></c>', "<c r='K7'><f>A1</f></c>",
    '<c r="K8" s="1"/><f>A1</f>', '<c r="K9>" s="1"><f>A1</f></c>', '<c r="K10"><fx>1</fx></c>',
    '<c r="k11"><f>A1</f></c>', '<c r="K12" t="str"><f>"x:f"</f></c>', '<x:c r="K13"><x:f>A1</x:f></x:c>',
    '<c r="K14"><x:f>A1</x:f></c>', '<c  r="K15"><f>A1</f></c>', '<c r="$K$16"><f>A1</f></c>',
    '<c q:x=\' r="K17"\' r="K18"><f>A1</f></c>', '<c r="K19" x="a"b"><f>A1</f></c>',
    '<c r="K20"><v>1</v></c><f>B1</f>', '<dataValidation><formula1>"a,b"</formula1></dataValidation>',
    '<c r="K21"><is><t>:f</t></is></c>', '<c r="K22" s="1">x<f>A1</f></c>', '<c\tr="K23"><f>1</f></c>',
    '<c r="K24"><f\n>1</f></c>', '<c r="AB25"><f>1</f></c>', '<c r="K26"', '<f>', '<c r="K27">',
]


def test_formula_scan_shortcuts_equal_the_general_scan():
    import random

    from xlsheets.ooxml import package as P

    rng = random.Random(2005)
    plain = 0
    for _ in range(3000):
        data = "".join(rng.choice(FORMULA_PIECES) for _ in range(rng.randint(0, 8))).encode()
        assert P._formula_refs(data) == _formula_refs_general(data), data
        plain += b":f" not in data and bool(_formula_refs_general(data))
    assert plain > 1000  # the unprefixed search really ran on sheets with formulas
    # by hand: r first, r later, r quoted with ', a prefixed f, a self-closed cell, a far r
    assert P._formula_refs("".join(FORMULA_PIECES[:6]).encode()) == {"K3", "K4", "K5", "K6", "K7"}
    assert P._formula_refs(b'<c r="K14"><x:f>A1</x:f></c>') == {"K14"}
    assert P._formula_refs(b'<c r="AB25"><f>1</f></c><c r="$K$16"><f>A1</f></c>') == {"AB25"}


def test_sheet_extent_in_chunks_equals_one_pass(monkeypatch):
    """Cut into chunks of a few bytes, the sheet extent finds what one pass finds:
    figures, the early stop past MAX_SHEET_ROWS and the first bad address."""
    import random

    from xlsheets.ooxml import guards

    def extent(data):
        try:
            return guards._sheet_extent("b.xlsx", "sheet1.xml", data)
        except guards.BadAddress as e:
            return ("bad", e.text)

    rng = random.Random(7)
    cells = ['<c r="A1"><v>1</v></c>', '<c r="AB12"/>', '<c r="GR201" s="1"><v>2</v></c>',
             '<c r="B200001"/>', '<c r="ZZZZ3"/>', '<c r="C5"><v>3</v></c>', '<c r="XFD9"/>',
             '<c r="A999999"/>', '<c r="$AA$7"/>', '<c r="D17"/>']
    for _ in range(1500):
        body = "".join(f'<row r="{rng.randint(1, 9)}">' + rng.choice(cells) + "</row>"
                       for _ in range(rng.randint(0, 12)))
        data = f"<worksheet><sheetData>{body}</sheetData></worksheet>".encode()
        monkeypatch.setattr(guards, "CHUNK", 1 << 30)
        whole = extent(data)
        monkeypatch.setattr(guards, "CHUNK", rng.randint(1, 40))
        assert extent(data) == whole, data
    monkeypatch.setattr(guards, "CHUNK", 5)
    by_hand = b'<sheetData><row r="3"><c r="GR3"/><c r="B7"/></row><row r="9"><c r="C9"/></row></sheetData>'
    assert extent(by_hand) == (9, 200)


def test_sheet_extent_equals_the_two_scans_it_fuses(monkeypatch):
    """One pass finds the odd start tags and the unusual cells together: the extent, the
    method (the streaming parse wherever an odd tag is, even after a bad address or past
    the row limit) and the first bad address are those of the two scans run one after the
    other over the whole part, the reference below."""
    import random
    import re

    from xlsheets.ooxml import guards

    unusual = re.compile(rb'<c r="(?!\$?[A-Za-z]\$?[1-9][0-9]{0,4}")([^"<>]*)"')

    def reference(data):
        if guards._ODD_TAG.search(data) or guards._PREFIXED_TAG.search(data):
            return guards._extent_by_parse("b.xlsx", "sheet1.xml", data)
        rows, cols = 0, 1
        for pos, end in guards._cell_chunks(data):
            found = unusual.findall(data, pos, end)
            got = guards._plain_extent(found) or guards._extent_one_by_one(found)
            rows, cols = max(rows, got[0]), max(cols, got[1])
            if rows > guards.MAX_SHEET_ROWS:
                return rows, cols
        if cols <= 26:
            return max(rows, 1), 26
        for pos, end in guards._cell_chunks(data):
            rows = max(rows, max(map(int, guards._ANY_CELL_ROW.findall(data, pos, end)), default=0))
        return max(rows, 1), cols

    def outcome(fn, data):
        try:
            return fn(data)
        except guards.BadAddress as e:
            return ("bad", e.text)
        except guards.BookError as e:  # the streaming parse of ill-formed markup
            return ("refused", str(e))

    def fused(data):
        return guards._sheet_extent("b.xlsx", "sheet1.xml", data)

    far = guards.MAX_SHEET_ROWS + 5
    cells = ['<c r="A1"><v>1</v></c>', '<c r="AB12"/>', '<c r="GR201" s="1"><v>2</v></c>',
             f'<c r="B{far}"/>', '<c r="ZZZZ3"/>', '<c r=""/>', '<c r="XFD9"/>', '<c r="$AA$7"/>',
             '<c s="1" r="C4"/>', '<c>', '<c/>', '<c\tr="D2"/>', '<c t="n"><v>4</v></c>',
             '<x:c r="E3"/>', '<c r="a9"/>', '<c r="A0"/>', '<row>', '<row spans="1:2">']
    rng = random.Random(1405)
    odd = 0
    for _ in range(2500):
        body = "".join(f'<row r="{rng.randint(1, 9)}">' + rng.choice(cells) + "</row>"
                       for _ in range(rng.randint(0, 10)))
        data = f"<worksheet><sheetData>{body}</sheetData></worksheet>".encode()
        monkeypatch.setattr(guards, "CHUNK", rng.choice([3, 17, 40, 1 << 30]))
        assert outcome(fused, data) == outcome(reference, data), data
        odd += bool(guards._ODD_TAG.search(data))
    assert odd > 500  # the streaming parse was chosen often, after bad addresses too
    # by hand, an odd tag in a later chunk than: the row limit passed (the parse stops at
    # XFD400, past the cell limit already), and a bad address (the parse meets </x> first)
    monkeypatch.setattr(guards, "CHUNK", 30)
    later = b'<row r="3"><c r="C3"><v>1</v></c></row><row r="4"><c s="1" r="A4"/></row>'
    past = (f'<worksheet><sheetData><row r="1"><c r="XFD400"/><c r="B{far}"/></row>'.encode()
            + later + b"</sheetData></worksheet>")
    assert outcome(fused, past) == outcome(reference, past) == (400, 16384)
    bad = b'<worksheet><sheetData></x><row r="2"><c r="ZZZZ3"/></row>' + later + b"</sheetData></worksheet>"
    assert outcome(fused, bad) == outcome(reference, bad) != ("bad", "ZZZZ3")


def test_has_markup_equals_the_two_byte_search():
    import random

    from xlsheets.ooxml.guards import has_markup

    rng = random.Random(5)
    alphabet = [b"<", b"!", b"?", b"a", b"<!", b"!!", b"<c>", b"?>"]
    for _ in range(5000):
        data = b"".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        for mark in (b"!", b"?"):
            start = rng.randint(0, len(data) + 1)
            tries = rng.choice([1, 2, 3, 64])
            assert has_markup(data, mark, start, tries) == (data.find(b"<" + mark, start) >= 0), \
                (data, mark, start, tries)
    assert has_markup(b"!" * 1000 + b"<!", b"!", 0, 3) and not has_markup(b"!" * 1000, b"!", 0, 3)


def test_sheet_splice_of_cells_out_of_column_order(monkeypatch):
    """Cells of a row out of column order (a spelling no writer uses, yet well-formed):
    the splice steps aside and the general scan edits each cell once, in place."""
    text = _sheet(['<row r="3"><c r="L3"><f>2</f><v>2</v></c><c r="K3"><f>1</f><v>1</v></c></row>'])
    updates = {"K3": 5, "L3": 6}
    assert patch._splice_plain(text.encode(), _targets(updates)) is None
    out = patch._patch_sheet("b.xlsx", "s", "p", text.encode(), updates).decode()
    assert '<c r="L3"><f>2</f><v>6</v></c><c r="K3"><f>1</f><v>5</v></c></row>' in out
    assert out.count("<c ") == 2


SHOWN = [None, "", 0, 0.0, 1, 1.0, True, False, 3, 3.0, 12.5, 2**60, float(2**60), 2**53 + 1,
         "x", " x", "x ", "X", "3", "不完整", float("nan"), 1e-7, 1e-7 * (1 + 1e-16)]


def test_changed_cells_are_those_same_value_tells():
    """compute's ``_changed`` settles equal text and numbers before ``same_value``: it
    must pick exactly the cells ``same_value`` says differ (TRUE is not 1)."""
    from xlsheets.core.values import same_value
    from xlsheets.files.compute import _changed
    from xlsheets.files.reader import FileSheet

    pairs = list(itertools.product(SHOWN, SHOWN))
    sheet = FileSheet([[shown for shown, _ in pairs]], set())
    values = {"S": {(0, c): v for c, (_, v) in enumerate(pairs)}}
    letters = [chr(65 + k) for k in range(26)]
    names = letters + [a + b for a in letters for b in letters]  # A..Z, AA..ZZ
    want = {f"{names[c]}1": v for c, (shown, v) in enumerate(pairs)
            if not same_value(None if shown == "" else shown, v)}
    assert _changed(values, {"S": sheet}) == {"S": want}
    true, one = next(k for k, v in enumerate(SHOWN) if v is True), SHOWN.index(1)
    assert f"{names[true * len(SHOWN) + one]}1" in want  # TRUE shown, 1 expected: changed
    assert _changed(values, {}) == {"S": {f"{names[c]}1": v for c, (_, v) in enumerate(pairs)}}


def test_group_totals_fast_path_equals_row_total():
    """The entry totals of a whole group by built-ins equal ``row_total`` row by row, and
    the fast path gives up (None) on any group holding a row it cannot settle; the
    reference is the per-row rule, which the formulas mirror."""
    import random
    from fractions import Fraction

    from books import DEFS
    from xlsheets.core import figures as F

    items, maxes = DEFS.items, [it.max for it in DEFS.items]
    n = len(items)
    rng = random.Random(1020)

    def clean():
        return [rng.randint(0, m) for m in maxes]

    odd_rows = [
        lambda: [None] * (n - 1) + [3],                      # part typed
        lambda: clean()[:-1] + [""],                          # a text blank
        lambda: clean()[:-1] + [maxes[-1] + 1],               # over its maximum
        lambda: [-1] + clean()[1:],                           # below zero
        lambda: clean()[:-1] + [float(maxes[-1])],            # a whole float
        lambda: clean()[:-1] + [Fraction(1, 2)],              # not whole
        lambda: clean()[:-1] + [True],                        # a boolean is not a number
        lambda: clean()[:-1] + ["8"],                         # text
        lambda: clean()[:-1],                                 # short
    ]
    fast = 0
    for _ in range(600):
        rows = []
        for _ in range(rng.randint(0, 12)):
            k = rng.random()
            scores = clean() if k < 0.6 else [None] * n if k < 0.9 else rng.choice(odd_rows)()
            rows.append((rng.choice(["张三", "李四", None]), scores))
        got = F._usual_totals(rows, maxes)
        expected = [F.row_total(list(s), items, maxes) for _, s in rows]
        if got is not None:
            fast += 1
            assert got == expected and [type(t) for t in got] == [type(t) for t in expected], rows
        else:
            assert not rows or any(isinstance(t, str) and t != "" for t in expected) \
                or any(not (s.count(None) == n or set(map(type, s)) == {int}) for _, s in rows) \
                or any(len(s) != n for _, s in rows), rows
    assert fast > 100


def test_typed_entry_rows_are_those_counted_typed_tells():
    """Which entry rows hold anything: told from the EntryRows' own fields, as
    ``counted._typed`` tells it of the list [ballot, name, *scores]."""
    import random

    from xlsheets.core import checks, counted
    from xlsheets.workbook.grids import EntryRow

    rng = random.Random(11)
    palette = [None, "", " ", 0, 0.0, 1, "张三", float("nan"), False]
    for _ in range(400):
        rows = [EntryRow(r, rng.choice(palette), rng.choice(palette),
                         [rng.choice(palette) for _ in range(rng.randint(0, 3))])
                for r in range(rng.randint(0, 8))]
        expected = [er.row for er in rows if counted._typed([er.ballot, er.name, *er.scores])]
        assert checks._typed_rows(rows) == expected
