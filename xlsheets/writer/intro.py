"""说明: what the workbook is for, how to fill it, and who it is.

The identity table (unit, definition set and version, workbook id, when made)
sits at a fixed place under a defined name, and is repeated as custom document
properties, so a program finds it without trusting file names or sheet order.
"""

from xlsheets.workbook import layout as L
from xlsheets.writer.formats import a4

GUIDE = (
    "本工作簿用于{town}先进性教育活动分析评议阶段的民主评议,由镇先进性教育活动领导小组办公室生成,发给{unit}党支部填写后交回。",
    "填写方法:",
    "1. 浅黄色单元格是填写区,其余单元格由公式自动计算,已保护(无密码),请勿改动。",
    "2. 按回收的《党员分析评议测评表》(附件3),在“党员互评”“群众参评”“支委会考评”三张录入表中逐票录入各项得分;票号和党员姓名已预先填好,只需输入分数。",
    "3. 每项分数在 0 到该项分值之间;一行只录了部分项目会以黄色标出,超出分值的分数以红色标出,合计显示“不完整”或“超出分值”。",
    "4. 没有测评某党员的整行留空即可;多出的测评票请录入到预留的空行,并从下拉列表中选择党员姓名。",
    "5. “汇总”表按“党员综合得分=党员互评平均分×40%+群众参评平均分×30%+支委会考评平均分×30%”自动计算(计算平均分时不去最高和最低分);某一层次没有测评票的党员显示“缺票”,不计为 0 分。",
    "6. “回头看录入”表每行录入一份回收的“回头看”群众测评表,附件5自动计算各项测评分;附件6在标签正下方的浅黄色单元格中填写人数,合计、占参评人员的百分比和满意率自动计算。",
    "7. 附件4《党员评议意见表》的姓名、职务和测评综合得分自动带出,其余栏目由支委会填写后打印,每人一页。",
    "8. 九个环节的登记:“名册”中填写角色(镇党委负责人、班子成员、部门负责人、支部书记,多个用“、”分隔)、部门负责人的分管领导和群众反映问题较多的同志;"
    "“征求意见登记”每条意见一行,“征求意见汇总”自动计数;“谈心记录”每次谈心一行,“谈心情况表”由“计算得分”生成;"
    "“党性分析材料”登记字数(不计空白字符,班子不少于4000字、党员不少于2000字)、审阅人和审阅意见;"
    "“会议情况”填写两个会的公示日期、召开日期和每名党员的出席情况;“四查四看”逐项填写检查结果和佐证材料。"
    "“校验”会指出缺少的“必须谈”、字数不足、审阅人不符、会议公示不足两天等问题。",
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
    for line in GUIDE:
        text = line.format(town=d.town, unit=ctx.unit.name)
        ws.set_row(row, 15 * max(1, -(-len(text) // 36)))
        ws.merge_range(row, 0, row, 1, text, f.plain)
        row += 1
    a4(ws, area=(0, 0, row - 1, 1), footer=False)
    ws.activate()
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})
    for key, _ in L.IDENTITY_KEYS:
        wb.set_custom_property(f"xlsheets.{key}", identity[key])
