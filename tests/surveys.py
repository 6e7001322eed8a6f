"""Survey downloads as 问卷星 and 腾讯问卷 give them, built for the import tests.

Each respondent's row carries identifying values (IP, location, device, nickname,
user id, custom field, referrer, times) planted from ``PLANTED`` so a test can
prove none of them reaches the workbook. ``rows`` gives header and rows for one
header layout and one survey build; ``write_xlsx``, ``write_csv`` and
``write_tencent_zip`` write them as the services do.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl

ITEMS = ("理想信念", "宗旨意识", "工作作风", "组织纪律", "廉洁自律", "精神状态", "素质能力", "工作绩效")
MAX = (10, 10, 10, 10, 10, 10, 10, 30)

# Identifying values planted in every download; none may appear in a written workbook.
PLANTED = ("203.0.113.77", "198.51.100.23", "红旗飘飘昵称", "Mozilla/5.0 (iPhone; CPU iPhone OS 16_0)",
           "oWx-openid-123456", "浙江省杭州市西湖区", "wx.qq.com/ref", "自定义-工号0042", "手机提交详情")

WJX_META = ("序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP")
TENCENT_META = ("编号", "开始答题时间", "结束答题时间", "答题时长", "语言", "清洗数据结果", "地理位置(国家)",
                "地理位置(省)", "地理位置(市)", "用户类型", "用户标识", "昵称", "自定义字段", "IP", "UA",
                "Referrer")


def _wjx_meta(i):
    when = dt.datetime(2005, 8, 26, 9, 0, 0) + dt.timedelta(minutes=7 * i, seconds=i)
    return [i, when.strftime("%Y/%m/%d %H:%M:%S"), f"{100 + i}秒", "手机提交", PLANTED[8],
            f"{PLANTED[i % 2]}({PLANTED[5]})"]


def _tencent_meta(i):
    start = dt.datetime(2005, 8, 26, 9, 0, 0) + dt.timedelta(minutes=5 * i)
    end = start + dt.timedelta(seconds=95 + i)
    return [i, start.strftime("%Y-%m-%d %H:%M:%S"), end.strftime("%Y-%m-%d %H:%M:%S"), f"{95 + i}", "zh",
            "正常", "中国", "浙江", PLANTED[5], "微信用户", PLANTED[4], PLANTED[2], PLANTED[7],
            PLANTED[i % 2], PLANTED[3], PLANTED[6]]


def columns(members, layout, build="item"):
    """[(header, member, item index)] of the answer columns.

    layout: "plain" (N、题干, one question per member and item), "ti" (第N题(行)),
    "paren" (N、(行)), "dash" (N.题干—行1 then row titles), "tencent" (N.题干:子题).
    build: "item" (a matrix per item, members as rows) or "member" (a matrix per
    member, items as rows).
    """
    out = []
    if layout == "plain":
        q = 0
        for m in members:
            for k, item in enumerate(ITEMS):
                q += 1
                out.append((f"{q}、请为{m}的“{item}”打分(满分{MAX[k]}分)", m, k))
        return out
    if build == "item":
        outer = [(k, f"{item}(满分{MAX[k]}分)") for k, item in enumerate(ITEMS)]
        for q, (k, stem) in enumerate(outer, start=1):
            for r, m in enumerate(members):
                out.append((_matrix_header(layout, q, stem, m, r), m, k))
    else:
        for q, m in enumerate(members, start=1):
            stem = f"请对{m}同志评议"
            for r, (k, item) in enumerate(enumerate(ITEMS)):
                out.append((_matrix_header(layout, q, stem, item, r), m, k))
    return out


def _matrix_header(layout, q, stem, row, r):
    if layout == "ti":
        return f"第{q}题({row})"
    if layout == "paren":
        return f"{q}、({row})"
    if layout == "dash":
        return f"{q}.{stem}—{row}" if r == 0 else row
    if layout == "tencent":
        return f"{q}.{stem}:{row}"
    raise ValueError(layout)


def rows(members, ballots, layout="plain", build="item", by="text", tencent=False, total=False,
         first=1):
    """(header, rows) of a download. ballots: [{member: [8 scores or None]}], one per respondent.

    by: "text" (按选项文本: "8分"), "score" (按分数: numbers), "code" (None written as -2).
    """
    cols = columns(members, layout, build)
    meta = TENCENT_META if tencent else WJX_META
    header = list(meta) + (["总分"] if total else []) + [h for h, _, _ in cols]
    body = []
    for i, ballot in enumerate(ballots, start=first):
        line = (_tencent_meta if tencent else _wjx_meta)(i)
        values = []
        for _, m, k in cols:
            v = ballot.get(m, [None] * 8)[k]
            if v is None:
                values.append(-2 if by == "code" else ("(跳过)" if by == "text" and not tencent else ""))
            elif by == "text":
                values.append(f"{v}分" if not tencent else str(v))
            else:
                values.append(v)
        if total:
            line.append(sum(v for v in values if isinstance(v, (int, float)) and v >= 0))
        body.append(line + values)
    return header, body


def write_xlsx(path, header, body):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(header)
    for line in body:
        ws.append(line)
    wb.save(path)
    return Path(path)


def write_csv(path, header, body, encoding="utf-8-sig"):
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(header)
    for line in body:
        w.writerow(["" if v is None else v for v in line])
    Path(path).write_bytes(buf.getvalue().encode(encoding))
    return Path(path)


def write_tencent_zip(path, header, body):
    """A 腾讯问卷 download: a zip holding the answers as a UTF-8 CSV (with BOM)."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(header)
    for line in body:
        w.writerow(["" if v is None else v for v in line])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("1234567_民主评议群众参评_答卷数据.csv", buf.getvalue().encode("utf-8-sig"))
    return Path(path)
