"""The record of imported answers kept in the workbook: salted hashes only.

Sheet 网上导入记录 holds a random salt (made at the first import), one salted
SHA-256 digest per imported answer (of the group, the answer number and the
submission times the download gives - never the values themselves), sorted so
that no digest sits next to a ballot number, and one line per import (group,
how many ballots, their numbers). The same answer imported again has the same
digest and is left out; an answer of another download has another one.
"""

import hashlib
import secrets
from dataclasses import dataclass, field

from xlsheets.ooxml import BookFile, sheet_xml as _worksheet

SHEET = "网上导入记录"
TITLE = "网上答卷导入记录"
NOTE = ("本表由“导入网上答卷”(xlsheets import)写入,用于识别已经导入过的答卷,避免重复计票。"
        "表中只有看不出原值的摘要(加盐的 SHA-256),不含答卷人的 IP、地理位置、设备、昵称、答题时间等任何信息,"
        "摘要的顺序也不与票号对应。请不要改动或删除本表,否则再次导入同一下载文件时会重复计票。")
SALT_LABEL = "盐值"
FIRST_ROW = 5  # 1-based: header in row 4
DIGEST_CHARS = 32


@dataclass
class Record:
    salt: str = ""
    hashes: set = field(default_factory=set)  # digests (each carries its group)
    log: list = field(default_factory=list)  # [(group name, ballots, numbers text)]


def new_salt():
    return secrets.token_hex(16)


def digest(salt, group_key, key):
    text = "\x1f".join([salt, group_key, key])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:DIGEST_CHARS]


def order(salt, key):
    """A sort key from which the submission order cannot be read back."""
    return hashlib.sha256(("order\x1f" + salt + "\x1f" + key).encode("utf-8")).hexdigest()


def read(path):
    """The record of the workbook at ``path`` (empty when it has none)."""
    rec = Record()
    with BookFile.open(path) as book:
        if SHEET not in book.sheet_names:
            return rec
        cells = book.cells(SHEET)

    def value(a):
        c = cells.get(a)
        return None if c is None or c.value in (None, "") else str(c.value).strip()

    rec.salt = value("B3") or ""
    r = FIRST_ROW
    while True:
        h, g = value(f"A{r}"), value(f"D{r}")
        if h is None and g is None:
            break
        if h:
            rec.hashes.add(h)
        if g:
            count = value(f"E{r}") or "0"
            rec.log.append((g, int(float(count)) if count.replace(".", "").isdigit() else 0,
                            value(f"F{r}") or ""))
        r += 1
    return rec


def sheet_xml(rec):
    """The worksheet XML of the record."""
    rows = [[TITLE], [NOTE], [SALT_LABEL, rec.salt], ["答卷摘要", None, None, "测评层次", "导入份数", "票号"]]
    hashes = sorted(rec.hashes)
    for i in range(max(len(hashes), len(rec.log))):
        line = [hashes[i] if i < len(hashes) else None, None, None]
        if i < len(rec.log):
            g, count, numbers = rec.log[i]
            line += [g, count, numbers]
        rows.append(line)
    return _worksheet(rows, col_widths=[36, 4, 4, 12, 10, 14])
