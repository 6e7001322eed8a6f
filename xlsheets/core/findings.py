"""Findings: what is wrong where, as values, with one catalogue of codes.

Each code has a severity and a Chinese message template of one shape:
where (sheet!cell) - what is wrong - what to do. Tests assert codes and cells,
not wording, so a message can be reworded here without breaking them.
"""

from dataclasses import asdict, dataclass

from xlsheets.workbook.address import rc

ERROR, WARNING = "error", "warning"
SEVERITY_LABEL = {ERROR: "错误", WARNING: "提醒"}

CATALOGUE = {
    # The workbook's own integrity.
    "sheet-missing": (ERROR, "缺少工作表“{name}”(可能被删除或改名)。请把工作表名称改回“{name}”,或改用镇办公室发来的原工作簿。"),
    "header-changed": (ERROR, "表头应为“{expected}”,现为“{actual}”。请改回原表头,不要插入、删除或移动列。"),
    "formula-overwritten": (ERROR, "此单元格原是自动计算的公式,已被改写为“{value}”。请撤销改动,或从原工作簿复制该单元格的公式。"),
    "formula-cleared": (ERROR, "此单元格原是自动计算的公式,已被清空。请撤销改动,或从原工作簿复制该单元格的公式。"),
    "row-outside-range": (WARNING, "{rows}在本表的计算范围(第 {first}–{last} 行)之外,工作簿中的公式(汇总、附件5)尚未计入。本程序已将其计入;运行“计算”后工作簿的计算范围将扩大到这些行。"),
    "range-names-missing": (WARNING, "工作簿中记录本表计算范围的名称({names} 等)缺失或已损坏(例如把工作表复制到了新工作簿),汇总等公式可能显示 #NAME? 或错误的数。运行“计算”时将按本表现有的行恢复。"),
    "formula-restored": (WARNING, "此处应是自动计算的公式,现在没有公式(插入行时没有带上公式,或公式被清空){more}。运行“计算”时将自动补上公式。"),
    "formula-external": (WARNING, "此处的公式引用了其他文件({target}){more},不再计算本工作簿的数据。运行“计算”时将恢复为本工作簿的公式。"),
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
    "roster-count-mismatch": (ERROR, "汇总有 {summary} 名党员,名册有 {roster} 名:“{name}”只在“{where}”中。请不要在名册或汇总表中增删人员;人员有变动请由镇办公室重新生成工作簿。"),
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
    # 工作日程表 (R13, R14).
    "schedule-step-changed": (ERROR, "第 {n} 个工作环节应为“{expected}”,现为“{actual}”。请不要改动、删除或调换工作环节。"),
    "schedule-date-missing": (ERROR, "“{step}”的工作时间为空。请填写,如“8月16—19日”。"),
    "schedule-date-bad": (ERROR, "“{step}”的工作时间“{text}”无法识别为日期。请写成“8月16—19日”“9月12日”或“8月30日—9月2日”的形式。"),
    "schedule-date-reversed": (ERROR, "“{step}”的工作时间“{text}”结束日早于开始日。请改正。"),
    "schedule-out-of-order": (ERROR, "“{step}”开始于{start},早于上一环节“{previous}”的开始日{previous_start}。九个环节应按顺序进行。"),
    "schedule-too-short": (WARNING, "分析评议阶段从{start}到{end},共 {days} 天,不足{months}个月(时间原则上不少于一个月,应至少到{needed})。"),
    "schedule-empty": (WARNING, "工作日程表还没有填写工作时间。请按本支部的安排填写九个环节的工作时间。"),
    # 名册 roles (who “五个必须谈” and the review chain name).
    "role-unknown": (ERROR, "角色“{value}”不是可选的角色({roles})。多个角色请用“、”分隔。"),
    "role-supervisor-unknown": (ERROR, "分管领导“{value}”不在名册中,或在名册中没有标明为班子成员。请填写名册中班子成员的姓名。"),
    "role-flag-bad": (ERROR, "“群众反映问题较多”一栏应填“{flag}”或留空,现为“{value}”。"),
    "role-after-build": (WARNING, "名册中标明了{who},但本表没有{what}的行(生成工作簿时名册中还没有这一角色)。请镇办公室按现在的名册重新生成工作簿,或由支部在备注中说明。"),
    "role-missing": (WARNING, "名册“角色”列中没有标明“{role}”,无法核对{what}。请在名册中标明。"),
    # The registers of steps 2-5 and 9.
    "register-empty": (WARNING, "“{what}”还没有填写。{hint}"),
    "register-row-outside": (ERROR, "这一行在登记表的范围之外(第 {last} 行以下),汇总不会计入。请录入到表内预留的行中。"),
    "register-date-bad": (ERROR, "“{label}”“{value}”不是日期。请填写日期,如 2005-8-20。"),
    "register-choice-bad": (ERROR, "“{label}”应为{choices}之一,现为“{value}”。请从下拉列表中选择。"),
    "register-names-separated": (WARNING, "多个姓名应以“、”分隔,已按“{text}”处理。"),
    # 征求意见 (step 2).
    "opinion-incomplete": (ERROR, "这条意见缺少“{missing}”。请补全。"),
    "opinion-target-unknown": (ERROR, "意见对象“{value}”既不是{targets},也不在名册中。请从下拉列表中选择。"),
    "opinion-attack-fed-back": (ERROR, "这条意见已标明属人身攻击、发泄私愤,按规定不向本人反馈,但反馈情况填的是“{value}”。请改为“{withheld}”。"),
    "opinion-withheld": (ERROR, "反馈情况为“{value}”,但这条意见没有标明属人身攻击、发泄私愤。对党员个人的意见,除属于人身攻击、发泄私愤的外,要如实向本人反馈。"),
    "opinion-not-fed-back": (WARNING, "对“{name}”的意见尚未反馈。除属人身攻击、发泄私愤的外,应在“{step}”开始({deadline})之前如实向本人反馈。"),
    "opinion-fed-back-late": (WARNING, "对“{name}”的意见于{date}反馈,晚于“{step}”的开始日{deadline}。"),
    # 谈心 (step 3, R18).
    "talk-incomplete": (ERROR, "这条谈心记录缺少“{missing}”。请补全。"),
    "talk-talker-unknown": (ERROR, "谈心人“{name}”不在名册中。谈心人应为本支部党员;与群众谈心,请把群众填在“谈心对象(群众)”列。"),
    "talk-member-unknown": (ERROR, "谈心对象“{name}”不在名册中。群众请填在“谈心对象(群众)”列。"),
    "talk-self": (ERROR, "“{name}”同时是谈心人和谈心对象。请改正。"),
    "talk-form-mismatch": (WARNING, "谈心形式为“{form}”,但记录的是 {talkers} 人与 {others} 人谈心。请核对谈心形式。"),
    "talk-must-missing": (ERROR, "“五个必须谈”:{rule}。谈心记录中没有{who}与{whom}的谈心。"),
    "talk-should-missing": (WARNING, "“五个必须谈”:{rule}。谈心记录中没有{who}与{whom}的谈心。"),
    # 党性分析材料 (step 4, R16, R17).
    "material-length-missing": (ERROR, "“{name}”的党性分析材料字数未填写。请填写字数(不计空白字符),或用 --materials 指定材料所在文件夹自动统计。"),
    "material-length-bad": (ERROR, "字数“{value}”应为不小于 0 的整数。"),
    "material-too-short": (ERROR, "“{name}”的党性分析材料为 {count} 字,少于{kind}的最低要求 {minimum} 字。请督促其修改补充。"),
    "material-exempt-not-allowed": (ERROR, "“{name}”是{role},不能免写党性分析材料(只有社区年老体弱或书写有困难的党员,经支部同意可以不写)。"),
    "material-exempt-no-record": (ERROR, "“{name}”经支部同意免写党性分析材料,但没有填写口头总结记录人。免写的党员能口头表达的要口头总结,党组织要安排专人记录。"),
    "material-reviewer-missing": (ERROR, "“{name}”的党性分析材料还没有审阅人。应由{expected}审阅。"),
    "material-reviewer-wrong": (ERROR, "“{name}”的党性分析材料由“{actual}”审阅,应由{expected}审阅({rule})。"),
    "material-self-review": (ERROR, "“{name}”不能审阅自己的党性分析材料。"),
    "material-not-signed": (ERROR, "审阅人尚未对“{name}”的党性分析材料签署意见。审阅后,审阅人要签署意见。"),
    "material-returned": (WARNING, "“{name}”的党性分析材料已退回修改。修改到符合要求后,请审阅人重新审阅并签署意见。"),
    "material-counted": (WARNING, "字数已按文件“{file}”统计为 {count} 字(原填“{typed}”)。"),
    "material-file-unmatched": (WARNING, "材料文件夹中的“{file}”对应不上名册中的姓名,未统计。文件名应为党员姓名,如“张三.docx”。"),
    "material-file-failed": (WARNING, "材料文件“{file}”无法统计字数:{reason}"),
    "material-file-duplicate": (WARNING, "材料文件夹中“{name}”有多个文件({files}),无法确定统计哪一个,均未统计。"),
    # 专题组织生活会 / 专题民主生活会 (step 5, R15).
    "meeting-date-missing": (ERROR, "“{meeting}”的{label}未填写。"),
    "meeting-announced-late": (WARNING, "“{meeting}”于{announced}公示、{held}召开,只提前了 {days} 天;应提前{required}天公示会议时间、内容和要求。"),
    "meeting-announced-after": (ERROR, "“{meeting}”的公示日期{announced}晚于召开日期{held}。请核对两个日期。"),
    "meeting-outside-schedule": (WARNING, "“{meeting}”的召开日期{held}不在工作日程表“{step}”的时间({range})内。"),
    "attendance-missing": (ERROR, "“{name}”参加{meeting}的出席情况未填写。"),
    "absence-reason-missing": (ERROR, "“{name}”缺席{meeting},但没有填写缺席原因。"),
    "absence-no-material": (ERROR, "“{name}”因公出差不能参会,应事先撰写党性分析材料(“事先提交党性分析材料”应为“{yes}”)。"),
    "absence-no-presenter": (ERROR, "“{name}”因公出差不能参会,应委托其他党员在会上代为进行党性分析。请填写代为发言人。"),
    "absence-presenter-bad": (ERROR, "代为发言人“{value}”不在名册中,或就是缺席者本人。"),
    "absence-no-makeup": (WARNING, "“{name}”缺席{meeting}(原因:{reason}),还没有补课日期。回来后要及时“补课”。"),
    "absence-makeup-early": (ERROR, "补课日期{makeup}早于会议召开日期{held}。请改正。"),
    # “四查四看” (step 9).
    "checklist-changed": (ERROR, "第 {n} 项检查内容应为“{expected}”。请不要改动检查内容。"),
    "checklist-result-missing": (ERROR, "“{check}”还没有填写检查结果。"),
    "checklist-evidence-missing": (WARNING, "“{check}”没有写明情况及佐证材料。"),
    "checklist-failed": (WARNING, "“{check}”的检查结果为“{result}”,请针对问题及时整改。"),
    # 评定等次 and the ballots accounted for (current practice, not the seed; definitions.Grading).
    "grading-absent": (WARNING, "本工作簿没有“评定等次”工作表(由旧版本生成),评定等次和测评票发放、回收的检查不适用,其余照常校验和计算。需要时请镇办公室重新生成工作簿。"),
    "grade-missing": (ERROR, "“{name}”还没有评定等次。评定已经开始(本表已有党员评定了等次),请支委会为每名党员评定等次({grades})。"),
    "grade-reason-missing": (ERROR, "“{name}”评定为“{grade}”,没有写明评定依据。请在“评定依据”中写明理由(根据党员自评、互评、群众参评和量化评分的情况,征求到的群众意见和党员的一贯表现)。"),
    "grade-grounds-missing": (ERROR, "“{name}”评定为“{grade}”,没有填写不合格情形。请从下拉列表中选择或写明具体情形。"),
    "grade-approval-missing": (ERROR, "“{name}”评定为“{grade}”,须报上级党委审批,还没有填写{missing}。审批后请填写。"),
    "grade-excellent-over": (WARNING, "评定为“{grade}”的有 {count} 人,多于党员人数 {members} 人的 {share}(最多 {limit} 人)。“{grade}”一般不超过党员人数的 {share},请支委会复核。"),
    "grade-against-votes": (WARNING, "“{name}”测评综合得分排第 {rank} 名(共 {ranked} 人,在{where} {share}),评定为“{grade}”。评定以支委会集体决定为准,测评结果只作参考(不以票取人),但请在“评定依据”中写明理由。"),
    "ballots-count-bad": (ERROR, "“{label}”“{value}”应为不小于 0 的整数。"),
    "ballots-returned-over-issued": (ERROR, "{group}收回 {returned} 张测评票,多于发出的 {issued} 张。收回的票数多于发出的票数,该次测评无效,应重新组织测评;如是填错了票数,请改正。"),
    "ballots-typed-over-issued": (ERROR, "{group}已录入 {typed} 张测评票,多于发出的 {issued} 张,该次测评无效。请核对是否重复录入,或核对发出的票数。"),
    "ballots-typed-over-returned": (WARNING, "{group}已录入 {typed} 张测评票,多于收回的 {returned} 张。请核对是否重复录入。"),
    "ballots-over-members": (ERROR, "{group}有 {count} 张测评票({what}),多于党员人数 {members} 人。每名党员只填一张{group}测评票,请核对。"),
    "participation-low": (ERROR, "参加{group}的党员 {count} 人({what}),没有超过党员人数 {members} 人的 {share}。参加的党员须超过党员人数的 {share},请组织未参加的党员补评,或重新组织测评。"),
    "stamp-stale": (WARNING, "上次计算({when})之后又改动了录入内容,工作簿里的得分可能已过时。请重新“计算得分”。"),
    "satisfaction-empty": (WARNING, "附件6 还没有填写参加测评群众人数和测评档次人数。"),
    # Ballots imported from a 问卷星 / 腾讯问卷 download (xlsheets import, issue 16).
    "import-uniform": (WARNING, "票号 {ballot}(网上答卷)给每名党员的每一项都打了 {score} 分,可能没有认真填写。请评议小组核实是否计入;不计入的,清空这张票的各行即可。"),
    "import-member-absent": (WARNING, "网上问卷中没有“{name}”的题目,本次导入的 {count} 张{group}票都没有给他(她)打分。如果是问卷漏了此人,请补充测评(补发问卷或录入纸质票)。"),
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
    try:
        row, col = rc((f.cell or "").split(":")[0])
    except ValueError:
        row, col = -1, -1
    return (f.severity != ERROR, f.sheet, row, col, f.code)
