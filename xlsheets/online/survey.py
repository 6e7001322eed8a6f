"""The question list of a branch's online survey, in the text the services import.

One matrix question per ballot item, the members as its rows and the scores
0..max as its columns: every item keeps its own maximum (a 矩阵量表题 has one
scale, so a matrix per member with the items as rows could not offer 0-30 for
工作绩效 beside 0-10 for the others). The download of such a survey maps back
without a mapping file: each column is headed with the item (the question) and
the member (the row), and where the service leaves the question out of the
header (``第N题(张三)``) the eight questions are the items in the form's order.

问卷星's text import (批量导入题目 / 文本导入): a title line, a description, then
per question ``N. 题干[矩阵量表题]``, a line with the column labels separated by
spaces, and one line per row. 腾讯问卷 gets the same list as a plain outline
(``N. 题干``, ``行:`` rows, ``列:`` options), to paste question by question.
"""

from xlsheets.workbook import layout as L

FORMATS = ("wjx", "tencent")


def survey_text(defs, unit_name, members, group, fmt="wjx"):
    """The survey's text for ``fmt`` ("wjx" or "tencent")."""
    title = f"{unit_name}民主评议党员{group.name}测评"
    intro = ("本问卷不记名,答卷不会记录您的姓名。请按《党员分析评议测评表》的测评项目,"
             "为每名党员每一项打分(0 分到该项满分)。")
    lines = [title, intro, ""]
    if group.key == "lookback":  # one matrix: the ten items of the 回头看 form, all of 10 points
        return _lookback_text(defs, unit_name, fmt)
    if group.key == "satisfaction":  # two single-choice questions: who answers, how satisfied
        return _satisfaction_text(defs, unit_name, fmt)
    for q, item in enumerate(defs.items, start=1):
        stem = f"{item.name}(满分{item.max}分)"
        options = [f"{v}分" for v in range(item.max + 1)]
        if fmt == "wjx":
            lines.append(f"{q}. {stem}[矩阵量表题]")
            lines.append(" ".join(options))
            lines.extend(members)
        else:
            lines.append(f"{q}. {stem}(矩阵单选)")
            lines.append("行:")
            lines.extend(f"- {m}" for m in members)
            lines.append("列:")
            lines.extend(f"- {o}" for o in options)
        lines.append("")
    return "\n".join(lines)


def _lookback_text(defs, unit_name, fmt):
    from xlsheets.online.headers import item_name

    items = [item_name(i.name) for i in defs.lookback_items]
    most = max(i.max for i in defs.lookback_items)
    options = [f"{v}分" for v in range(most + 1)]
    stem = f"请对本支部分析评议阶段的工作逐项测评(每项满分{most}分)"
    lines = [f"{unit_name}{defs.lookback['title']}",
             "本问卷不记名,答卷不会记录您的姓名。", ""]
    if fmt == "wjx":
        lines += [f"1. {stem}[矩阵量表题]", " ".join(options), *items, ""]
    else:
        lines += [f"1. {stem}(矩阵单选)", "行:", *(f"- {i}" for i in items), "列:",
                  *(f"- {o}" for o in options), ""]
    return "\n".join(lines)


def _satisfaction_text(defs, unit_name, fmt):
    sat = defs.satisfaction
    mark = "[单选题]" if fmt == "wjx" else "(单选)"
    return "\n".join([
        f"{unit_name}先进性教育活动分析评议阶段群众满意度测评", "本问卷不记名,答卷不会记录您的姓名。", "",
        f"1. 您属于哪一类参加测评人员?{mark}", *sat["categories"], "",
        f"2. 您对{unit_name}先进性教育活动分析评议阶段工作的总体评价{mark}", *sat["levels"], ""])


def survey_for_book(path, defs, group):
    """(unit name, roster names) read from a branch workbook, for ``survey_text``."""
    from xlsheets.files.reader import open_book, read_grids

    book, unit, ident = open_book(path, defs)
    with book:
        grids = read_grids(book, defs, unit, ident)
    if L.entry_sheet(group) not in grids.sheets:
        from xlsheets.errors import XlsheetsError
        raise XlsheetsError(f"{path}:缺少工作表“{L.entry_sheet(group)}”。",
                            code="survey-sheet-missing")
    return unit.name, [n for _, n in grids.roster if n]
