"""A town's returns, as they reach the town office: helpers for the split/collect tests.

``write_town_roster`` writes the roster ``split`` takes (姓名, 职务, 支部);
``fill_branch`` types ballots, 附件5 look-back ballots and 附件6 counts into a
branch workbook the way a clerk does (cells found by their pre-filled 票号 and
党员姓名, typed with ``xlsheets.ooxml.write_patched``); ``zip_with``, ``gbk_zip`` and
``mail_with`` pack workbooks the way they come back: a .zip made by Python, a
.zip made by Chinese Windows (GBK entry names, no UTF-8 flag) and a saved .eml
with RFC 2231 encoded attachment names. ``dump_archive`` reads every table of
the collect archive, for comparing runs.
"""
from __future__ import annotations

import csv
import email.policy
import os
import re
import sqlite3
import zipfile
from email.message import EmailMessage
from pathlib import Path

from books import ballot_updates, entry_rows
from filling import split_total
from xlsheets import definitions
from xlsheets.workbook import layout as L
from xlsheets.core.cells import category_cells, level_cells
from xlsheets.ooxml import BookFile, write_patched

DEFS = definitions.load()
SHEET = {g.key: L.entry_sheet(g) for g in DEFS.groups}  # group key -> entry sheet
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
SCHEDULE_FIRST_ROW = 3  # 工作日程表, 0-based: label, title, header, then one step per row


def write_town_roster(path, branches, encoding="utf-8") -> Path:
    """A town roster CSV: {支部: [(姓名, 职务), ...]} -> 姓名,职务,支部, branches interleaved."""
    # A town roster is not sorted by branch: take the branches' members in turn.
    queues = [[(name, duty, branch) for name, duty in members]
              for branch, members in branches.items()]
    rows = [q[i] for i in range(max(map(len, queues))) for q in queues if i < len(q)]
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["姓名", "职务", "支部"])
        w.writerows(rows)
    return Path(path)


def ballot_total(member, group, ballot, salt=0):
    """A ballot total in 60..99 from (member index, group index, ballot index).

    ``salt`` shifts every member but the first, so the first member of every
    branch filled with the same counts gets the same composite (a tie in town).
    """
    shift = salt if member else 0
    return 60 + (member * 11 + group * 7 + ballot * 5 + shift) % 40


def branch_entries(names, counts, salt=0, defs=DEFS):
    """{group key: [{name: item scores}]}: ``counts[key]`` full ballots rating everyone."""
    maxima = [i.max for i in defs.items]
    return {g.key: [{n: split_total(ballot_total(m, gi, b, salt), maxima)
                     for m, n in enumerate(names)} for b in range(counts[g.key])]
            for gi, g in enumerate(defs.groups)}


def fill_branch(path, ballots, *, lookback=(), categories=None, levels=None, dates=None,
                cells=None, defs=DEFS):
    """Type entries into a branch workbook in place, as a clerk does, and save.

    ballots: {group key: [{member name: item scores}, ...]}, ballot 1 first.
    lookback: 附件5 ballots, one list of item scores each (into 回头看录入).
    categories, levels: 附件6 counts.
    dates: date texts for the blank 工作日程表 of a branch the definitions do not schedule.
    cells: {sheet: {A1: value}} typed last (a wrong value, say).
    """
    updates = {}
    with BookFile.open(path) as b:
        ballot_updates(b, ballots, updates)
        schedule = next((s for s in b.sheet_names if s.endswith("工作日程表")), None)
    for i, scores in enumerate(lookback):
        for k, s in enumerate(scores):
            if s is not None:
                updates.setdefault(L.LOOKBACK_ENTRY, {})[L.a1(L.LOOKBACK_FIRST_ROW + i, 1 + k)] = s
    sat = updates.setdefault(L.SATISFACTION, {})
    for addrs, counts in ((category_cells(defs), categories), (level_cells(defs), levels)):
        for a, n in zip(addrs, counts or []):
            sat[a] = n
    for i, text in enumerate(dates or []):
        updates.setdefault(schedule, {})[L.a1(SCHEDULE_FIRST_ROW + i, 1)] = text
    for sheet, values in (cells or {}).items():
        updates.setdefault(sheet, {}).update(values)
    patch(path, updates)
    return path


def row_of(path, group_key, ballot_no, name):
    """The 0-based row of (ballot, member) on a group's entry sheet of ``path``."""
    with BookFile.open(path) as b:
        return entry_rows(b, SHEET[group_key])[(ballot_no, name)]


def patch(path, updates):
    """Type ``updates`` {sheet: {A1: value}} into ``path`` in place with write_patched."""
    updates = {s: v for s, v in updates.items() if v}
    if not updates:
        return
    tmp = Path(path).with_name(Path(path).name + ".patching")
    write_patched(path, tmp, updates)
    os.replace(tmp, path)


def zip_with(path, members, extra=()) -> Path:
    """A .zip as Python writes it (UTF-8 names flagged): {entry name: file path}."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, src in members.items():
            z.write(src, name)
        for name, data in extra:
            z.writestr(name, data)
    return Path(path)


def gbk_zip(path, members) -> Path:
    """A .zip as Chinese Windows' "send to compressed folder" writes it.

    Entry names are GBK bytes and the UTF-8 flag (bit 11) is not set. Python's
    zipfile would flag any non-ASCII name as UTF-8, so each entry is written
    under an ASCII stand-in of the same byte length and the name bytes are
    swapped afterwards in the local header and the central directory (the CRC
    covers the data only, so the archive stays valid).
    """
    swaps = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for i, (name, src) in enumerate(members.items()):
            raw = name.encode("gbk")
            stand_in = f"{i:02d}".encode("ascii") + b"#" * (len(raw) - 2)
            assert len(stand_in) == len(raw)
            z.write(src, stand_in.decode("ascii"))
            swaps.append((stand_in, raw))
    data = Path(path).read_bytes()
    for stand_in, raw in swaps:
        assert data.count(stand_in) == 2, "the stand-in name must occur in exactly two headers"
        data = data.replace(stand_in, raw)
    Path(path).write_bytes(data)
    with zipfile.ZipFile(path) as z:
        assert not any(i.flag_bits & 0x800 for i in z.infolist())
    return Path(path)


def mail_with(path, attachments, *, subject="民主评议工作簿", sender="支部 <branch@example.cn>",
              date="Fri, 02 Sep 2005 16:30:00 +0800") -> Path:
    """A saved mail (.eml): a text part and {file name: path} attached as .xlsx.

    With the default policy, non-ASCII file names are RFC 2231 encoded
    (``filename*=utf-8''...``), as current mail programs send them.
    """
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "关坝镇党委 <office@example.cn>"
    msg["Subject"] = subject
    msg["Date"] = date
    msg.set_content("附件是本支部的民主评议工作簿,请查收。")
    for name, src in attachments.items():
        msg.add_attachment(Path(src).read_bytes(), maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1],
                           filename=name)
    Path(path).write_bytes(msg.as_bytes(policy=email.policy.default))
    return Path(path)


def unpacked(inbox, scratch):
    """Every workbook of an inbox as collect's workers see them, extracted into ``scratch``."""
    from xlsheets.town.inbox import scan, unpack

    return [one for item in scan(inbox) for one in unpack(item, scratch)]


def dump_archive(db_path, skip_columns=()):
    """Every table of the collect archive as {table: sorted rows}, minus ``skip_columns``."""
    con = sqlite3.connect(db_path)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        out = {}
        for t in tables:
            cols = [r[1] for r in con.execute(f"PRAGMA table_info({t})")]
            keep = [c for c in cols if c not in skip_columns]
            out[t] = sorted(con.execute(f"SELECT {', '.join(keep)} FROM {t}").fetchall(),
                            key=repr)
        return out
    finally:
        con.close()


def set_modified(path, when):
    """Set docProps/core.xml's dcterms:modified to ``when`` (W3CDTF), as a save in Excel does."""
    with zipfile.ZipFile(path) as zf:
        entries = [(info, zf.read(info)) for info in zf.infolist()]
    tmp = Path(path).with_name(Path(path).name + ".saving")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                data, n = re.subn(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                                  rb"\g<1>" + when.encode("ascii") + rb"\g<2>", data)
                assert n == 1
            out.writestr(info, data)
    os.replace(tmp, path)
    return Path(path)
