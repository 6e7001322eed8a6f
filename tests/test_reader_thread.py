"""The reader proves and scans a sheet in a thread of its own while calamine parses it.

What must not change with it: calamine never sees a sheet before its bounds are checked,
a sheet that fails expat's proof is refused for that reason even when calamine fails on it
too (one message, whatever thread finished first), and no thread outlives a read.
"""

import threading

import pytest

import hostile as H
from books import DEFS, worked_book
from xlsheets.files import compute, reader
from xlsheets.ooxml import BookError
from xlsheets.workbook import layout as L

PEERS = L.entry_sheet(DEFS.groups[0])


class Recording:
    """A CalamineWorkbook that records which sheets are parsed, in which thread, and
    fails on the sheets named in ``failing`` as calamine does on a broken part."""

    def __init__(self, real, failing=()):
        self._real, self._failing = real, failing
        self.parsed = []

    def __getattr__(self, name):
        return getattr(self._real, name)

    def get_sheet_by_name(self, name):
        self.parsed.append((name, threading.current_thread() is threading.main_thread()))
        if name in self._failing:
            raise reader.CalamineError("XmlError: unexpected end of element")
        return self._real.get_sheet_by_name(name)


@pytest.fixture
def recorded(monkeypatch):
    made = []
    real = reader.CalamineWorkbook
    failing = []

    class Factory:
        @staticmethod
        def from_path(*a, **kw):
            made.append(Recording(real.from_path(*a, **kw), failing))
            return made[-1]

    monkeypatch.setattr(reader, "CalamineWorkbook", Factory)
    return made, failing


def _parsed(made):
    return [name for wb in made for name, _ in wb.parsed]


def test_sheets_are_scanned_beside_calamine_and_read_as_before(recorded, tmp_path, monkeypatch):
    from xlsheets.ooxml import BookFile

    made, _ = recorded
    scanned = []
    real = BookFile.formula_addresses

    def formula_addresses(self, name):
        scanned.append((name, threading.current_thread() is threading.main_thread()))
        return real(self, name)

    monkeypatch.setattr(BookFile, "formula_addresses", formula_addresses)
    good = worked_book(tmp_path)
    before = threading.active_count()
    outcome, grids = compute.validate_file(good, DEFS)
    assert outcome.ok, [f.text() for f in outcome.findings][:3]
    parsed = [p for wb in made for p in wb.parsed]
    assert PEERS in _parsed(made) and L.ROSTER in _parsed(made)
    assert all(on_main for _, on_main in parsed)  # calamine on this thread
    assert {n for n, _ in scanned} >= {PEERS, L.ROSTER}
    assert not any(on_main for n, on_main in scanned if n != L.INTRO)  # the scans beside it
    assert (L.INTRO, True) in scanned  # but 说明's few cells, after its parse
    assert threading.active_count() == before  # and every thread was joined
    assert len(grids.entries[DEFS.groups[0].key]) > 0


def test_without_the_scan_thread_the_scans_follow_the_parse_on_this_thread(
        recorded, tmp_path, monkeypatch):
    """``scan_thread=False`` (collect's workers when they take every core): no thread is
    started, each sheet is scanned right after calamine parsed it, and the read is the
    threaded read's."""
    from xlsheets.ooxml import BookFile

    made, _ = recorded
    order = []
    real = BookFile.formula_addresses

    def formula_addresses(self, name):
        order.append(("scan", name, threading.current_thread() is threading.main_thread()))
        return real(self, name)

    monkeypatch.setattr(BookFile, "formula_addresses", formula_addresses)
    good = worked_book(tmp_path)
    started = []
    monkeypatch.setattr(reader._Parse, "start", lambda self: started.append(self))
    outcome, grids = compute.validate_file(good, DEFS, scan_thread=False)
    assert not started and outcome.ok
    parsed = [name for wb in made for name, _ in wb.parsed]
    scanned = [name for _, name, _ in order]
    assert all(on_main for *_, on_main in order) and PEERS in scanned
    assert scanned == [n for n in parsed if n in scanned]  # one sheet at a time, in order
    monkeypatch.undo()
    threaded, threaded_grids = compute.validate_file(good, DEFS)
    assert [f.as_dict() for f in outcome.findings] == [f.as_dict() for f in threaded.findings]
    assert grids.entries == threaded_grids.entries


def test_collect_scans_beside_calamine_only_with_a_core_to_spare(monkeypatch, tmp_path):
    from xlsheets.town import collect as C

    given = []
    monkeypatch.setattr(C, "_parallel", lambda items, d, workers, p, task=None, **k:
                        given.append((workers, task.keywords)) or [])
    inbox = tmp_path / "in"
    inbox.mkdir()
    for k in range(4):
        (inbox / f"{k}.xlsx").write_bytes(b"x")
    monkeypatch.setattr(C.os, "cpu_count", lambda: 4)
    for workers in (1, 3, 4, 8):
        C.collect("guanba2005", inbox, workers)
    assert given == [(1, {"scan_thread": True}), (3, {"scan_thread": True}),
                     (4, {"scan_thread": False}), (4, {"scan_thread": False})]


def test_a_far_cell_is_refused_before_calamine_sees_the_sheet(recorded, tmp_path):
    made, failing = recorded
    failing.append(PEERS)  # should the order break, calamine is not let build that grid
    bad = H.far_cell(worked_book(tmp_path), tmp_path / "远处单元格.xlsx")
    with pytest.raises(BookError, match="16,384 列"):
        compute.validate_file(bad, DEFS)
    assert PEERS not in _parsed(made)


@pytest.mark.parametrize("calamine_fails", [False, True])
def test_an_ill_formed_sheet_is_refused_by_the_proof_whatever_calamine_says(
        recorded, tmp_path, calamine_fails):
    made, failing = recorded
    if calamine_fails:
        failing.append(L.SUMMARY)
    bad = H.ill_formed(worked_book(tmp_path), tmp_path / "格式错误.xlsx", L.SUMMARY)
    before = threading.active_count()
    with pytest.raises(BookError) as err:
        compute.validate_file(bad, DEFS)
    assert "不是有效的 XML" in str(err.value) and "技术细节" not in str(err.value)
    assert L.SUMMARY in _parsed(made)  # calamine did parse it, alongside the proof
    assert threading.active_count() == before


def test_what_calamine_raises_on_a_proved_sheet_is_still_a_clear_refusal(recorded, tmp_path):
    made, failing = recorded
    failing.append(PEERS)
    with pytest.raises(BookError, match=f"工作表“{PEERS}”无法读取.*技术细节:XmlError"):
        compute.validate_file(worked_book(tmp_path), DEFS)


def test_a_read_sheet_lets_go_of_its_bytes_and_reads_them_anew(tmp_path):
    from xlsheets.ooxml import BookFile

    with BookFile.open(worked_book(tmp_path)) as book:
        part, data = book.sheet_data(PEERS)
        first = reader._file_sheet(book, PEERS)
        assert part not in book._bounded and part not in book._proved  # nothing held
        again_part, again = book.sheet_data(PEERS)  # read, bounded and proved anew
        assert (again_part, again) == (part, data) and part in book._proved
        assert reader._file_sheet(book, PEERS).values == first.values


def test_the_scan_thread_waits_for_go():
    """Begun at once, the scan's first long C call would hold the GIL and keep calamine
    from starting; it waits for ``go``, and its errors reach the caller."""
    ran = threading.Event()
    scan = reader._Parse(lambda: ran.set() or 7)
    assert not ran.wait(0.2) and scan.is_alive()
    scan.go()
    scan.join(5)
    assert ran.is_set() and scan.result == 7 and scan.error is None
    failing = reader._Parse(lambda: 1 / 0)
    failing.go()
    failing.join(5)
    assert isinstance(failing.error, ZeroDivisionError) and failing.result is None


@pytest.mark.parametrize("talk_matrix", [True, False])
def test_an_address_holding_a_space_is_refused_by_validate_and_collect_alike(tmp_path, talk_matrix):
    """Found in review: the far-cell extent's quick pass took "AB5000 AB5000" for two
    addresses, and collect (which leaves the talk matrix unread) let the file through."""
    good = worked_book(tmp_path)
    part = H.sheet_part(good, L.TALK_MATRIX)
    far = b'<row r="5000"><c r="AB5000 AB5000"><v>1</v></c></row></sheetData>'
    bad = H.rewrite(good, tmp_path / "空格地址.xlsx",
                    {part: lambda d: H._sub_once(rb"</sheetData>", far, d)})
    with pytest.raises(BookError, match="单元格地址“AB5000 AB5000”"):
        compute.validate_file(bad, DEFS, talk_matrix=talk_matrix)
