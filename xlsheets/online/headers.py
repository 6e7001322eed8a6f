"""Which column of a download holds which member's which item.

A download's question columns are headed in several ways (问卷星: ``N、题干``,
matrix ``第N题(行)``, ``N、(行)``, ``N.题干—行1`` followed by columns headed with
the row title alone; 腾讯问卷: ``N.题干:子题``). A column is placed when its
question text and row title together name exactly one roster member and one
ballot item - whichever way the survey was built (a matrix per member with the
items as rows, or a matrix per item with the members as rows). Stem-less matrix
columns (``第N题(行)``, ``N、(行)``) whose rows are the members are placed by
question order only when there are exactly as many such questions as items, the
form's own order (the survey ``survey.py`` writes). Anything else that is not
certain is refused, naming the headers; a mapping file can say it instead.
"""

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from xlsheets.workbook.address import col_name
from xlsheets.online.download import DownloadError, _decode

# Columns a download carries besides the answers. Only the answer number and the
# times are read (and only into a salted hash); the rest is never read at all.
NUMBER_HEADERS = ("序号", "编号", "答卷编号", "答卷序号", "答题序号")
TIME_HEADERS = ("提交答卷时间", "开始答题时间", "结束答题时间", "提交时间", "答题时间", "开始时间", "结束时间")
# The leading columns the services put before the answers (and some they may add).
META_HEADERS = ("序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP", "总分", "编号",
                "开始答题时间", "结束答题时间", "答题时长", "语言", "清洗数据结果", "用户类型", "用户标识",
                "昵称", "自定义字段", "IP", "UA", "Referrer", "答卷编号", "IP所在地", "填写设备", "微信昵称",
                "openid", "提交时间", "开始时间", "结束时间", "答题时间")
META_PREFIXES = ("地理位置", "自定义", "来自", "微信", "IP")

_NUMBERED = re.compile(r"^\s*(?:Q|q)?(\d{1,4})\s*[、.．:：)]\s*(.*)$", re.S)
_TI = re.compile(r"^\s*第\s*(\d{1,4})\s*题\s*(.*)$", re.S)
_PAREN = re.compile(r"^[((](.*)[))]\s*$", re.S)
_DASHES = ("—", "--", "－")
_COLONS = (":", ":")


class MappingError(DownloadError):
    """The columns cannot be placed with certainty."""


@dataclass
class Column:
    index: int
    header: str
    question: int | None = None
    stem: str = ""
    row: str = ""

    @property
    def where(self):
        return f"第 {col_name(self.index + 1)} 列“{self.header}”"


@dataclass
class Placement:
    """Where each answer column goes: {column index: (member name, item index)}."""

    answers: dict
    number: int | None  # the 序号/编号 column
    times: list  # the time columns (read into the hash only)
    absent: list  # roster members no column names
    ignored: list = field(default_factory=list)  # question headers that are not scores


def norm(text):
    """Names and items compared without spaces, full-width forms folded."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text or "")))


def parse_columns(header):
    """[Column] with question number, stem and row title parsed from each header."""
    cols, previous = [], None
    for i, h in enumerate(header):
        c = Column(i, h)
        m = _TI.match(h) or _NUMBERED.match(h)
        if m:
            c.question, rest = int(m[1]), m[2].strip()
            paren = _PAREN.match(rest)
            if paren:  # 第N题(行), N、(行)
                c.row, dashed = paren[1].strip(), False
            else:
                c.stem, dashed = rest, False
                for marks in (_DASHES, _COLONS):
                    cut = max((rest.rfind(d), d) for d in marks)
                    if cut[0] > 0:
                        c.stem, c.row = rest[:cut[0]].strip(), rest[cut[0] + len(cut[1]):].strip()
                        dashed = marks is _DASHES
                        break
            # only 问卷星's N.题干—行1 has row-title-only columns after it (腾讯问卷 numbers each)
            previous = c if (c.row and c.stem and dashed) else None
        elif previous is not None and h and not _is_meta(h):
            # 问卷星's N.题干—行1 is followed by columns headed with the row title alone
            c.question, c.stem, c.row = previous.question, previous.stem, h
        else:
            previous = None
        cols.append(c)
    return cols


def _is_meta(h):
    n = norm(h)
    return n.casefold() in {norm(m).casefold() for m in META_HEADERS} or n.startswith(META_PREFIXES)


def _found(text, names):
    """The names occurring in ``text``; a name found only inside a longer found name is not."""
    t = norm(text)
    hits = [n for n in names if n and n in t]
    out = []
    for n in hits:
        rest = t
        for m in sorted((m for m in hits if m != n and n in m), key=len, reverse=True):
            rest = rest.replace(m, "\x00")
        if n in rest:
            out.append(n)
    return out


def _columns(table):
    """The parsed columns of ``table``, its answer-number column and its time columns."""
    cols = parse_columns(table.header)
    number = next((c.index for c in cols if norm(c.header) in NUMBER_HEADERS), None)
    times = [c.index for c in cols if norm(c.header) in TIME_HEADERS]
    return cols, number, times


def _mapped(c, mapping, answers):
    """True when a mapping file places column ``c`` (as a score, into ``answers``, or as
    no score at all)."""
    if c.header not in mapping:
        return False
    if mapping[c.header] is not None:
        answers[c.index] = mapping[c.header]
    return True


def place(table, members, items, mapping=None):
    """A ``Placement`` for ``table`` or a MappingError naming the headers it cannot place.

    ``members``: roster names; ``items``: the ballot's item names, in order;
    ``mapping``: {header: (member, item index) or None (not a score)} from a file.
    """
    mapping = mapping or {}
    by_norm = {norm(m): m for m in members}
    item_norm = [norm(i) for i in items]
    cols, number, times = _columns(table)
    answers, unsure, ignored, stemless = {}, [], [], {}
    for c in cols:
        if _mapped(c, mapping, answers) or c.question is None:
            continue
        ms = _found(c.stem + " " + c.row, list(by_norm))
        its = [item_norm.index(i) for i in _found(c.stem + " " + c.row, item_norm)]
        if len(ms) == 1 and len(its) == 1:
            answers[c.index] = (by_norm[ms[0]], its[0])
        elif not c.stem and len(ms) == 1 and not its:
            stemless.setdefault(c.question, []).append((c, by_norm[ms[0]]))
        elif not ms and not its and not _in_ballot_question(c, cols, by_norm, item_norm):
            ignored.append(c.header)
        else:
            unsure.append((c, ms, its))
    if stemless:
        questions = sorted(stemless)
        if len(questions) == len(items):  # the survey ``survey.py`` writes: item k is question k
            for k, q in enumerate(questions):
                for c, member in stemless[q]:
                    answers[c.index] = (member, k)
        else:
            unsure += [(c, [m], []) for q in questions for c, m in stemless[q]]
    if unsure:
        raise MappingError(table.source, _unsure_message(unsure, items), code="mapping-unsure")
    if not answers:
        raise MappingError(table.source, "找不到任何测评分数的列:没有一个列标题同时含有名册中的党员姓名和"
                                         f"测评项目({'、'.join(items)})。" + HOW_TO_NAME,
                           code="mapping-no-scores")
    seen = {}
    for index, key in answers.items():
        if key in seen:
            raise MappingError(table.source, f"第 {col_name(seen[key] + 1)} 列和第 {col_name(index + 1)} 列"
                                             f"都是“{key[0]}”的“{items[key[1]]}”,无法确定用哪一列。"
                                             "请删除多余的题目列,或用映射文件指定。",
                               code="mapping-column-twice")
        seen[key] = index
    rated = {}
    for member, k in answers.values():
        rated.setdefault(member, set()).add(k)
    for member in members:
        got = rated.get(member)
        if got and len(got) < len(items):
            lack = "、".join(items[k] for k in range(len(items)) if k not in got)
            raise MappingError(table.source, f"问卷中“{member}”的题目不全,缺“{lack}”。"
                                             "每名党员的八个测评项目都要有一题(或矩阵中的一行)。",
                               code="mapping-member-incomplete")
    absent = [m for m in members if m not in rated]
    return Placement(answers, number, times, absent, ignored)


def item_name(name):
    """A 回头看 item without its number: “1、转段动员部署情况” -> “转段动员部署情况”."""
    return re.sub(r"^\s*\d+\s*[、.．]\s*", "", name)


def place_items(table, items, mapping=None):
    """A ``Placement`` of the columns of a survey of items alone (the 回头看 form):
    {column index: (None, item index)}. ``mapping``: {header: (None, k) or None}."""
    mapping = mapping or {}
    names = [norm(item_name(i)) for i in items]
    cols, number, times = _columns(table)
    answers, unsure, ignored = {}, [], []
    for c in cols:
        if _mapped(c, mapping, answers) or c.question is None:
            continue
        its = [names.index(i) for i in _found(c.stem + " " + c.row, names)]
        if len(its) == 1:
            answers[c.index] = (None, its[0])
        elif not its and not _in_ballot_question(c, cols, {}, names):
            ignored.append(c.header)
        else:
            unsure.append(c)
    if unsure:
        raise MappingError(table.source, "以下列无法确定是哪个测评项目,未写入任何内容:" + ";".join(
            c.where for c in unsure[:12]) + "。每道题(或矩阵的每一行)应写明一个测评项目,如“转段动员部署情况”。",
            code="mapping-item-unsure")
    got = {}
    for index, (_, k) in answers.items():
        if k in got:
            raise MappingError(table.source, f"第 {col_name(got[k] + 1)} 列和第 {col_name(index + 1)} 列"
                                             f"都是“{items[k]}”,无法确定用哪一列。",
                               code="mapping-item-column-twice")
        got[k] = index
    lack = [items[k] for k in range(len(items)) if k not in got]
    if lack and answers:
        raise MappingError(table.source, f"问卷缺少测评项目“{'、'.join(lack)}”。",
                           code="mapping-item-missing")
    if not answers:
        raise MappingError(table.source, f"找不到任何测评项目的列({'、'.join(items)})。",
                           code="mapping-no-items")
    return Placement(answers, number, times, [], ignored)


def place_choices(table, kinds):
    """附件6: which column holds each kind of answer, by the answers themselves.

    ``kinds``: {kind: [option texts]} (the participant categories, the levels). A kind's
    column is the one question column whose answers are all among its options; none
    or several is refused. Returns {kind: column index} and the number/time columns.
    """
    cols, number, times = _columns(table)
    found = {}
    for kind, options in kinds.items():
        allowed = {norm(o) for o in options}
        hits = []
        for c in cols:
            if c.question is None:
                continue
            answers = {norm(v) for _, line in table.rows
                       if c.index < len(line) and (v := line[c.index]) not in (None, "")} - SKIPS
            if answers and answers <= allowed:
                hits.append(c)
        if len(hits) != 1:
            what = "、".join(options)
            why = "没有一列" if not hits else "有多列(" + "、".join(c.where for c in hits) + ")"
            raise MappingError(table.source, f"{why}的答案全是“{what}”中的一项,无法确定哪一题是"
                                             f"{kind}。请使用 `xlsheets survey --group 附件6` 生成的问卷,"
                                             "选项文字不要改动;下载时选择“按选项文本”。",
                               code="mapping-choice-several" if hits else "mapping-choice-none")
        found[kind] = hits[0].index
    return found, number, times


SKIPS = {"(跳过)", "(空)", "跳过", "-2", "-3"}


def _in_ballot_question(c, cols, by_norm, item_norm):
    """A column with neither a member nor an item, in a question whose other columns
    have one (a matrix row not on the roster, say): not certain."""
    if c.question is None:
        return False
    for o in cols:
        if o.question == c.question and o is not c:
            text = o.stem + " " + o.row
            if _found(text, list(by_norm)) or _found(text, item_norm):
                return True
    return False


HOW_TO_NAME = ("请在问卷中让每道题(或矩阵的每一行)同时写明党员姓名和测评项目,例如矩阵题“1、理想信念(满分10分)”"
               "的各行为党员姓名,或题目“1、张三—理想信念”;`xlsheets survey` 可生成这样的题目。"
               "也可以用 --mapping 指定映射文件(CSV,三列:表头,党员姓名,测评项目;不是分数的列,后两列留空)。")


def _unsure_message(unsure, items):
    lines = []
    for c, ms, its in unsure[:12]:
        if not ms and not its:
            why = "找不到名册中的党员姓名和测评项目(可能是名册中没有的人)"
        elif not ms and len(its) == 1 and not c.stem:
            why = f"只有行标题“{c.row}”,没有题干,无法确定是哪名党员"
        elif not ms:
            why = f"有测评项目“{items[its[0]]}”,但找不到名册中的党员姓名(可能是名册中没有的人)" \
                if len(its) == 1 else "含有多个测评项目,也找不到名册中的党员姓名"
        elif not its:
            why = (f"有党员“{ms[0]}”,但找不到测评项目" if c.stem else
                   f"只有行标题“{ms[0]}”,没有题干,无法确定是哪个测评项目") if len(ms) == 1 \
                else f"含有多名党员({'、'.join(ms)})"
        elif len(ms) > 1:
            why = f"含有多名党员({'、'.join(ms)})"
        else:
            why = f"含有多个测评项目({'、'.join(items[k] for k in its)})"
        lines.append(f"{c.where}:{why}")
    more = f";另有 {len(unsure) - 12} 列同样无法确定" if len(unsure) > 12 else ""
    return "以下列无法确定是哪名党员的哪个测评项目,未写入任何内容:" + ";".join(lines) + more + "。" + HOW_TO_NAME


def read_mapping(path, members, items, lookback=False):
    """A mapping file: CSV with 表头, 党员姓名, 测评项目 (UTF-8 or GBK); {header: (member, k) or None}.

    For 回头看 (``lookback``) the 党员姓名 column stays empty."""
    path = Path(path)
    if not path.is_file():
        raise DownloadError(path, "映射文件不存在。")
    rows = list(csv.reader(io.StringIO(_decode(path.read_bytes(), path), newline="")))
    if rows and norm(rows[0][0]) in ("表头", "列标题", "header"):
        rows = rows[1:]
    by_norm = {norm(m): m for m in members if m}
    item_norm = [norm(item_name(i)) for i in items]
    out = {}
    for r, line in enumerate(rows, start=2):
        line = [v.strip() for v in line] + ["", "", ""]
        header, member, item = line[:3]
        if not header:
            continue
        if not member and not item:
            out[header] = None
            continue
        if not lookback and norm(member) not in by_norm:
            raise DownloadError(path, f"第 {r} 行:党员“{member}”不在名册中。")
        if norm(item_name(item)) not in item_norm:
            raise DownloadError(path, f"第 {r} 行:测评项目“{item}”应为{'、'.join(items)}之一。")
        out[header] = (None if lookback else by_norm[norm(member)],
                       item_norm.index(norm(item_name(item))))
    return out
