"""说明: what the workbook is for, how to fill it, and who it is.

The identity table (unit, definition set and version, workbook id, when made)
sits at a fixed place under a defined name, and is repeated as custom document
properties, so a program finds it without trusting file names or sheet order.

Every sentence of the guide that states a rule (the rater groups, their
weights, how a group's mean is taken, what a missing group does, the word
minimums, the roles, the days of notice) is written from the definitions and
the unit's options, so a unit's 说明 never tells its clerks another rule than
its formulas apply. For the seed's 2005 set it reads as the seed words it.
"""

from xlsheets.core.figures import MISSING, REWEIGHTED
from xlsheets.core.numbers import percent
from xlsheets.core.scoring import TRIM_MINIMUM
from xlsheets.workbook import layout as L
from xlsheets.writer.formats import a4


_NUMERALS = "零一两三四五六七八九十"  # 两, not 二, before a measure word (两天, 两张)

PLAIN_RULE = "(计算平均分时不去最高和最低分)"
_TRIM = "去掉该党员在这一层次中合计分最高的一张和最低的一张测评票,再求平均"
_FEW = f"这一层次的测评票不足{TRIM_MINIMUM}张时,按全部测评票求平均"


def _count(n):
    """A small count as the guide writes it before a measure word: 三张, 两天, 12 张."""
    return _NUMERALS[n] if 0 <= n < len(_NUMERALS) else f"{n} "


def _formula(groups):
    return "党员综合得分=" + "+".join(f"{g.mean_label}×{percent(g.weight)}" for g in groups)


def averaging_rule(groups, unit):
    """The bracket after the formula: how each group's mean is taken (R5); 附件3's note
    carries it too."""
    trimmed = [g for g in groups if (unit.averaging or g.averaging) == "trimmed"]
    plain = [g for g in groups if g not in trimmed]
    if not trimmed:
        return PLAIN_RULE
    if not plain:
        return f"(计算平均分时,{_TRIM};{_FEW})"
    return (f"(计算{'、'.join(g.mean_label for g in trimmed)}时,{_TRIM},{_FEW};"
            f"计算{'、'.join(g.mean_label for g in plain)}时不去最高和最低分)")


def _missing(groups, unit):
    """What a member without ballots in a group gets (R7)."""
    if not unit.reweight_missing or len(groups) < 2:
        return f"某一层次没有测评票的党员显示“{MISSING}”,不计为 0 分。"
    *rest, last = groups
    present = "+".join(f"{g.mean_label}×{percent(g.weight)}" for g in rest)
    example = f"({present})÷{percent(sum(g.weight for g in rest))}"
    return (f"某一层次没有测评票的党员,该层次显示“{MISSING}”,不计为 0 分;"
            "综合得分按其有测评票的层次折算:这些层次的平均分乘以权重相加,再除以这些层次的权重之和"
            f"(如缺{last.name}票,综合得分={example}),备注中注明“{REWEIGHTED}”,照常排名;"
            f"各层次都没有测评票的,综合得分显示“{MISSING}”。")


def guide(defs, unit):
    """The guide's paragraphs for ``unit`` of ``defs``, one string each."""
    groups, p = defs.groups, defs.process
    m = p.materials
    sheets = "".join(f"“{L.entry_sheet(g)}”" for g in groups)
    problems = "缺少的“必须谈”、字数不足、审阅人不符"
    if p.announce_days > 0:
        problems += f"、会议公示不足{_count(p.announce_days)}天"
    return (
        f"本工作簿用于{defs.town}先进性教育活动分析评议阶段的民主评议,由镇先进性教育活动领导小组办公室生成,发给{unit.name}党支部填写后交回。",
        "填写方法:",
        "1. 浅黄色单元格是填写区,其余单元格由公式自动计算,已保护(无密码),请勿改动。",
        f"2. 按回收的《党员分析评议测评表》(附件3),在{sheets}{_count(len(groups))}张录入表中逐票录入各项得分;票号和党员姓名已预先填好,只需输入分数。",
        "3. 每项分数在 0 到该项分值之间;一行只录了部分项目会以黄色标出,超出分值的分数以红色标出,合计显示“不完整”或“超出分值”。",
        "4. 没有测评某党员的整行留空即可;多出的测评票请录入到预留的空行,并从下拉列表中选择党员姓名。",
        f"5. “汇总”表按“{_formula(groups)}”自动计算{averaging_rule(groups, unit)};{_missing(groups, unit)}",
        "6. “回头看录入”表每行录入一份回收的“回头看”群众测评表,附件5自动计算各项测评分;附件6在标签正下方的浅黄色单元格中填写人数,合计、占参评人员的百分比和满意率自动计算。",
        "7. 附件4《党员评议意见表》的姓名、职务和测评综合得分自动带出,其余栏目由支委会填写后打印,每人一页。",
        f"8. {_count(len(defs.steps))}个环节的登记:“名册”中填写角色({'、'.join(p.roles)},多个用“、”分隔)、{p.head}的分管领导和群众反映问题较多的同志;"
        "“征求意见登记”每条意见一行,“征求意见汇总”自动计数;“谈心记录”每次谈心一行,“谈心情况表”由“计算得分”生成;"
        f"“党性分析材料”登记字数(不计空白字符,班子不少于{m['leadership_minimum']}字、党员不少于{m['member_minimum']}字)、审阅人和审阅意见;"
        "“会议情况”填写两个会的公示日期、召开日期和每名党员的出席情况;“四查四看”逐项填写检查结果和佐证材料。"
        f"“校验”会指出{problems}等问题。",
        "9. 请不要改动工作表名称、表头和下方的工作簿信息,以便镇办公室汇总。",
    )


def write(wb, ctx, identity):
    """Write 说明 and the identity table; set the document properties."""
    d, f = ctx.defs, ctx.fmt
    ws = wb.add_worksheet(L.INTRO)
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 70)
    ws.set_row(0, 36)
    ws.merge_range(0, 0, 0, 1, f"{d.name} · {ctx.unit.name}民主评议工作簿", f.title)
    ws.write_string(1, 0, "工作簿信息", f.header)
    ws.write_string(1, 1, "内容(供程序识别,请勿修改)", f.header)
    row = L.IDENTITY_FIRST_ROW
    for key, label in L.IDENTITY_KEYS:
        ws.write_string(row, 0, label, f.label)
        ws.write_string(row, 1, identity[key], f.text)
        row += 1
    wb.define_name(L.IDENTITY_NAME, "=" + L.ref(L.INTRO, (L.IDENTITY_FIRST_ROW, 0), (row - 1, 1)))
    row += 1
    for text in guide(d, ctx.unit):
        ws.set_row(row, 15 * max(1, -(-len(text) // 36)))
        ws.merge_range(row, 0, row, 1, text, f.plain)
        row += 1
    a4(ws, area=(0, 0, row - 1, 1), footer=False)
    ws.activate()
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})
    for key, _ in L.IDENTITY_KEYS:
        wb.set_custom_property(f"xlsheets.{key}", identity[key])
