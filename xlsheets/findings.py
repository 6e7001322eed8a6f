"""Findings: what is wrong where, as values, with one catalogue of codes.

Each code has a severity and a Chinese message template of one shape:
where (sheet!cell) - what is wrong - what to do. Tests assert codes and cells,
not wording, so a message can be reworded here without breaking them.
"""

from dataclasses import asdict, dataclass

ERROR, WARNING = "error", "warning"
SEVERITY_LABEL = {ERROR: "错误", WARNING: "提醒"}

CATALOGUE = {
    # The workbook's own integrity.
    "sheet-missing": (ERROR, "缺少工作表“{name}”(可能被删除或改名)。请把工作表名称改回“{name}”,或改用镇办公室发来的原工作簿。"),
    "header-changed": (ERROR, "表头应为“{expected}”,现为“{actual}”。请改回原表头,不要插入、删除或移动列。"),
    "formula-overwritten": (ERROR, "此单元格原是自动计算的公式,已被改写为“{value}”。请撤销改动,或从原工作簿复制该单元格的公式。"),
    "formula-cleared": (ERROR, "此单元格原是自动计算的公式,已被清空。请撤销改动,或从原工作簿复制该单元格的公式。"),
    "row-outside-table": (ERROR, "这一行在录入表的范围之外,汇总公式不会计入。请把这份测评票录入到表内预留的行中;行数不够时请镇办公室重新生成工作簿。"),
    "identity-set": (ERROR, "工作簿属于定义集 {actual},不是当前使用的 {expected}。请改用对应定义集的工作簿,或用 --definitions 指定其定义文件。"),
    "identity-version": (WARNING, "工作簿按定义集版本 {actual} 生成,当前使用版本 {expected}。如两版表格内容不同,请重新生成工作簿。"),
    "identity-unit": (ERROR, "工作簿属于单位“{actual}”,不是“{expected}”。请核对是否选错了文件。"),
    # What the package carries besides cells. Warnings, not errors: the tool reads the
    # values stored in the file, never runs a macro and never opens or refreshes a link,
    # so the checks and figures are those of the data as it is; but a branch's workbook
    # never carries either (the office sends plain .xlsx), so the office must know, and
    # whoever opens the file in Excel must not enable its macros or update its links.
    "vba-project": (WARNING, "工作簿含有宏({parts})。本程序从不运行宏,表中数据照常校验;镇办公室发出的工作簿不含宏,请不要在 Excel 中对此文件“启用宏”,并请支部把数据录入原工作簿(不含宏的 .xlsx)后重新交回。"),
    "external-link": (WARNING, "工作簿含有指向其他文件或数据源的外部链接({targets})。本程序只读取文件中保存的数值,不会打开或更新这些链接,但在 Excel 中更新链接后数值可能改变。在 Excel 中打开时如提示“更新链接”,请选择“不更新”;请支部用“数据 → 编辑链接 → 断开链接”后重新交回。"),
    "roster-mismatch": (ERROR, "姓名“{actual}”与名册第 {row} 行的“{expected}”不一致。请不要在名册或汇总表中改动、增删人员;人员有变动请由镇办公室重新生成工作簿。"),
    # 附件3 ballots (R1-R4).
    "score-not-number": (ERROR, "“{item}”的分数“{value}”不是数字。请按测评表填写 0 到 {max} 之间的数字。"),
    "score-text-number": (WARNING, "“{item}”的分数“{value}”是文字形式的数字,已按 {number} 处理。建议重新输入为数字。"),
    "score-out-of-range": (ERROR, "“{item}”的分数 {value} 超出 0 到 {max} 的范围。请核对测评表后改正。"),
    "ballot-half-filled": (ERROR, "票号 {ballot} 对“{name}”只录入了部分项目,缺“{missing}”。请按测评表补全,或整行清空(视为未测评)。"),
    "ballot-row-empty": (WARNING, "票号 {ballot} 对“{name}”整行为空,按未测评该党员处理。"),
    "ballot-empty": (WARNING, "票号 {ballot} 整张票没有录入分数,不计入。若已回收该票,请补录。"),
    "ballot-total-mismatch": (ERROR, "合计 {value} 与各项之和 {sum} 不符。请删除手填的合计,恢复自动计算的公式。"),
    "ballot-unknown-name": (ERROR, "姓名“{name}”不在名册中。请从下拉列表中选择名册里的姓名。"),
    "ballot-duplicate-name": (ERROR, "票号 {ballot} 中“{name}”出现了不止一次(另见 {other})。每张票每名党员只能有一行。"),
    "ballot-name-spaces": (WARNING, "姓名“{raw}”前后有空格,已按“{name}”处理。"),
    "ballot-no-name": (ERROR, "这一行录入了分数,但没有党员姓名。请从下拉列表中选择被测评党员。"),
    # 汇总 (R7).
    "composite-missing-group": (ERROR, "“{name}”没有{group}的测评票,无法计算综合得分(缺票不按 0 分计)。请补录{group}测评票。"),
    "composite-reweighted": (WARNING, "“{name}”没有{groups}的测评票,综合得分已按其余层次的权重折算。"),
    # 附件5 look-back (R9).
    "lookback-not-number": (ERROR, "“{item}”的测评分“{value}”不是数字。请填写 0 到 {max} 之间的数字。"),
    "lookback-text-number": (WARNING, "“{item}”的测评分“{value}”是文字形式的数字,已按 {number} 处理。建议重新输入为数字。"),
    "lookback-out-of-range": (ERROR, "“{item}”的测评分 {value} 超出 0 到 {max} 的范围。请核对后改正。"),
    "lookback-partial": (WARNING, "票号 {ballot} 只录入了部分项目(缺“{missing}”),缺项不计入该项的平均分。"),
    "lookback-empty": (WARNING, "还没有录入任何“回头看”群众测评表,附件5 的测评分为空。"),
    # 附件6 satisfaction (R10-R12).
    "satisfaction-not-count": (ERROR, "“{label}”的人数“{value}”应为不小于 0 的整数。请改正。"),
    "satisfaction-text-number": (WARNING, "“{label}”的人数“{value}”是文字形式的数字,已按 {number} 处理。建议重新输入为数字。"),
    "satisfaction-over-total": (ERROR, "满意、基本满意、不满意人数之和 {answered} 超过参加测评群众合计 {total}。请核对各档次人数和参加测评人数。"),
    "satisfaction-under-total": (WARNING, "满意、基本满意、不满意人数之和 {answered} 少于参加测评群众合计 {total},{diff} 人视为未作答;占比仍以合计 {total} 为分母。"),
    "stamp-stale": (WARNING, "上次计算({when})之后又改动了录入内容,工作簿里的得分可能已过时。请重新“计算得分”。"),
    "satisfaction-empty": (WARNING, "附件6 还没有填写参加测评群众人数和测评档次人数。"),
}


@dataclass(frozen=True)
class Finding:
    """One problem at one cell: what the CLI prints, the add-in marks and 校验结果 lists."""

    code: str
    severity: str
    sheet: str
    cell: str
    message: str

    @property
    def is_error(self):
        return self.severity == ERROR

    def as_dict(self):
        return asdict(self)

    def text(self):
        where = f"{self.sheet}!{self.cell}" if self.cell else self.sheet
        return f"[{SEVERITY_LABEL[self.severity]}] {where}:{self.message}"


def finding(code, sheet, cell, **fields):
    """Make a finding of catalogue ``code`` at ``sheet``/``cell``."""
    severity, template = CATALOGUE[code]
    return Finding(code, severity, sheet, cell, template.format(**fields))


def has_errors(findings):
    return any(f.is_error for f in findings)


def sort_key(f):
    """Errors first, then by sheet and cell in reading order."""
    import re

    m = re.match(r"([A-Z]+)(\d+)", f.cell or "")
    col, row = (m.group(1), int(m.group(2))) if m else ("", 0)
    return (f.severity != ERROR, f.sheet, row, len(col), col, f.code)
