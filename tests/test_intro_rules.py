"""The 说明 sheet states the rules the unit's workbook applies (issue: one statement of the workbook).

Its guide names the rater groups, the composite's weights, how a group's mean is
taken, what a member without ballots in a group gets, the word minimums, the roles
and the days of notice. These come from the definition set and the unit's options
(averaging = "trimmed", reweight_missing), so a unit is never told another rule than
its formulas apply. Every expected text here is written out by hand; the built
workbook's 说明 is read back with openpyxl. No LibreOffice needed.
"""
from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

import filling as F
from xlsheets import writer as book, definitions
from xlsheets.workbook import layout as L
from xlsheets.workbook.entries import Entries
from xlsheets.files.roster import read_roster

SEED_SET = Path(definitions.__file__).parent / "data" / "guanba2005.toml"
NAMES = ("张三", "李四")

# The seed set's guide for 机关, as it read before the guide followed the definitions.
DEFAULT_GUIDE = [
    "本工作簿用于关坝镇先进性教育活动分析评议阶段的民主评议,由镇先进性教育活动领导小组办公室生成,发给机关党支部填写后交回。",
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
]
RULE = 6  # index of paragraph 5 (the composite) in the guide

TRIMMED_5 = (
    "5. “汇总”表按“党员综合得分=党员互评平均分×40%+群众参评平均分×30%+支委会考评平均分×30%”自动计算"
    "(计算平均分时,去掉该党员在这一层次中合计分最高的一张和最低的一张测评票,再求平均;"
    "这一层次的测评票不足3张时,按全部测评票求平均);某一层次没有测评票的党员显示“缺票”,不计为 0 分。")
REWEIGHT_5 = (
    "5. “汇总”表按“党员综合得分=党员互评平均分×40%+群众参评平均分×30%+支委会考评平均分×30%”自动计算"
    "(计算平均分时不去最高和最低分);某一层次没有测评票的党员,该层次显示“缺票”,不计为 0 分;"
    "综合得分按其有测评票的层次折算:这些层次的平均分乘以权重相加,再除以这些层次的权重之和"
    "(如缺支委会考评票,综合得分=(党员互评平均分×40%+群众参评平均分×30%)÷70%),"
    "备注中注明“按现有层次折算”,照常排名;各层次都没有测评票的,综合得分显示“缺票”。")


def _set(tmp_path, *edits):
    """The seed set with each (old, new) text replaced once; loaded from tmp_path."""
    text = SEED_SET.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "set.toml"
    path.write_text(text, encoding="utf-8")
    return definitions.load(path)


def _unit_option(option):
    return ('attachment = "附件1"', f'attachment = "附件1"\n{option}')


def _build(tmp_path, defs, unit="机关", entries=None):
    csv = F.write_roster(tmp_path / "r.csv", NAMES)
    out = tmp_path / f"{unit}.xlsx"
    book.build(defs, defs.unit_or_unscheduled(unit), read_roster(csv), out, entries=entries)
    return out


def _guide(path):
    """The 说明's guide paragraphs: column A from the first one to the end."""
    texts = [r[0].value for r in openpyxl.load_workbook(path)[L.INTRO].iter_rows(max_col=1)]
    first = next(k for k, t in enumerate(texts) if t and t.startswith("本工作簿用于"))
    return texts[first:]


def _all_text(path):
    """Every text of the 说明 sheet, title and identity table included."""
    ws = openpyxl.load_workbook(path)[L.INTRO]
    return "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)


def _items(total):
    return F.split_total(total, [10] * 7 + [30])


@pytest.mark.parametrize("unit", ["机关", "兴隆街社区"])
def test_default_guide_unchanged(tmp_path, unit):
    expected = [DEFAULT_GUIDE[0].replace("机关", unit), *DEFAULT_GUIDE[1:]]
    assert _guide(_build(tmp_path, definitions.load(), unit)) == expected


def test_trimmed_unit_states_its_rule(tmp_path):
    defs = _set(tmp_path, _unit_option('averaging = "trimmed"'))
    # 张三: four peer ballots (drop 60 and 100); 李四: two (too few to drop any).
    peer = [{"张三": _items(60), "李四": _items(70)}, {"张三": _items(80), "李四": _items(90)},
            {"张三": _items(90)}, {"张三": _items(100)}]
    entries = Entries(ballots={"peer": peer, "mass": [{n: _items(80) for n in NAMES}],
                               "committee": [{n: _items(80) for n in NAMES}]})
    path = _build(tmp_path, defs, entries=entries)
    guide = _guide(path)
    assert guide[RULE] == TRIMMED_5
    assert "不去最高和最低分" not in _all_text(path)
    assert guide[:RULE] + guide[RULE + 1:] == DEFAULT_GUIDE[:RULE] + DEFAULT_GUIDE[RULE + 1:]
    # What the sentence says is what the workbook computes.
    assert _peer_means(path) == {"张三": 85, "李四": 80}
    # The other unit of the same set keeps the seed's rule.
    assert _guide(_build(tmp_path, defs, "兴隆街社区"))[RULE] == DEFAULT_GUIDE[RULE]


def test_trimmed_three_ballots_keeps_the_middle_one(tmp_path):
    defs = _set(tmp_path, _unit_option('averaging = "trimmed"'))
    peer = [{"张三": _items(t)} for t in (60, 70, 100)] + [{"李四": _items(50)}]
    entries = Entries(ballots={"peer": peer, "mass": [{n: _items(80) for n in NAMES}],
                               "committee": [{n: _items(80) for n in NAMES}]})
    assert _peer_means(_build(tmp_path, defs, entries=entries)) == {"张三": 70, "李四": 50}


def test_reweighting_unit_states_its_rule(tmp_path):
    defs = _set(tmp_path, _unit_option("reweight_missing = true"))
    entries = Entries(ballots={
        "peer": [{n: _items(90) for n in NAMES}],
        "mass": [{n: _items(80) for n in NAMES}],
        "committee": [{"李四": _items(70)}],  # 张三 has no committee ballot
    })
    path = _build(tmp_path, defs, entries=entries)
    guide = _guide(path)
    assert guide[RULE] == REWEIGHT_5
    assert guide[:RULE] + guide[RULE + 1:] == DEFAULT_GUIDE[:RULE] + DEFAULT_GUIDE[RULE + 1:]
    # As stated: (90×40% + 80×30%) ÷ 70%, remarked, and ranked with the others.
    ws = openpyxl.load_workbook(path, data_only=True)[L.SUMMARY]
    cols = F.header_columns(ws, L.SUMMARY_HEADER_ROW + 1)
    row = _summary_rows(ws)["张三"]
    assert ws.cell(row, cols["综合得分"]).value == 85.71  # 6000 / 70 = 85.714...
    assert ws.cell(row, cols["备注"]).value == "缺支委会考评票 按现有层次折算"
    assert ws.cell(row, cols["排名"]).value == 1


def test_both_options(tmp_path):
    defs = _set(tmp_path, _unit_option('averaging = "trimmed"\nreweight_missing = true'))
    expected = TRIMMED_5.split(";某一层次")[0] + ";某一层次" + REWEIGHT_5.split(";某一层次", 1)[1]
    assert _guide(_build(tmp_path, defs))[RULE] == expected
    assert "不去最高和最低分" not in expected


def test_another_set_shows_its_numbers(tmp_path):
    defs = _set(
        tmp_path,
        ('name = "党员互评"\nweight = 40', 'name = "党员相互评议"\nweight = 50'),
        ('name = "群众参评"\nweight = 30', 'name = "群众评议"\nweight = 25'),
        ('name = "支委会考评"\nweight = 30', 'name = "支部委员会评定"\nweight = 25'),
        ("leadership_minimum = 4000", "leadership_minimum = 5000"),
        ("member_minimum = 2000", "member_minimum = 1500"),
        ("announce_days = 2", "announce_days = 3"),
        ('roles = ["镇党委负责人", "班子成员", "部门负责人", "支部书记"]',
         'roles = ["乡党委书记", "党委委员", "站所负责人", "支部书记"]'),
        _unit_option("reweight_missing = true"),
    )
    guide = _guide(_build(tmp_path, defs))
    assert guide[3] == ("2. 按回收的《党员分析评议测评表》(附件3),在“党员相互评议”“群众评议”“支部委员会评定”"
                        "三张录入表中逐票录入各项得分;票号和党员姓名已预先填好,只需输入分数。")
    assert guide[RULE] == (
        "5. “汇总”表按“党员综合得分=党员相互评议平均分×50%+群众评议平均分×25%+支部委员会评定平均分×25%”"
        "自动计算(计算平均分时不去最高和最低分);某一层次没有测评票的党员,该层次显示“缺票”,不计为 0 分;"
        "综合得分按其有测评票的层次折算:这些层次的平均分乘以权重相加,再除以这些层次的权重之和"
        "(如缺支部委员会评定票,综合得分=(党员相互评议平均分×50%+群众评议平均分×25%)÷75%),"
        "备注中注明“按现有层次折算”,照常排名;各层次都没有测评票的,综合得分显示“缺票”。")
    rules = guide[9]
    assert "角色(乡党委书记、党委委员、站所负责人、支部书记,多个用“、”分隔)、站所负责人的分管领导" in rules
    assert "班子不少于5000字、党员不少于1500字" in rules
    assert "会议公示不足三天等问题。" in rules
    for seed_number in ("4000", "2000", "40%", "30%", "两天", "党员互评"):
        assert seed_number not in "\n".join(guide)


def test_two_groups_and_a_trimmed_group(tmp_path):
    """A set whose groups differ in averaging names which means are trimmed."""
    defs = _set(
        tmp_path,
        ('name = "党员互评"\nweight = 40\naveraging = "mean"',
         'name = "党员互评"\nweight = 60\naveraging = "trimmed"'),
        ('name = "群众参评"\nweight = 30', 'name = "群众参评"\nweight = 40'),
        ('[[groups]]\nkey = "committee"\nname = "支委会考评"\nweight = 30\naveraging = "mean"\n', ""),
    )
    guide = _guide(_build(tmp_path, defs))
    assert guide[3].startswith("2. 按回收的《党员分析评议测评表》(附件3),在“党员互评”“群众参评”两张录入表中")
    assert guide[RULE] == (
        "5. “汇总”表按“党员综合得分=党员互评平均分×60%+群众参评平均分×40%”自动计算"
        "(计算党员互评平均分时,去掉该党员在这一层次中合计分最高的一张和最低的一张测评票,再求平均,"
        "这一层次的测评票不足3张时,按全部测评票求平均;计算群众参评平均分时不去最高和最低分);"
        "某一层次没有测评票的党员显示“缺票”,不计为 0 分。")


def _summary_rows(ws):
    return {ws.cell(r, 2).value: r for r in range(L.SUMMARY_FIRST_ROW + 1, ws.max_row + 1)
            if ws.cell(r, 2).value in NAMES}


def _peer_means(path):
    """Each member's 党员互评 mean as 汇总 shows it (the writer's cached values)."""
    ws = openpyxl.load_workbook(path, data_only=True)[L.SUMMARY]
    cols = F.header_columns(ws, L.SUMMARY_HEADER_ROW + 1)
    col = next(c for h, c in cols.items() if h.startswith("党员互评平均分("))
    return {n: ws.cell(r, col).value for n, r in _summary_rows(ws).items()}



def _note(path):
    ws = openpyxl.load_workbook(path)["附件3 测评表"]
    return [c.value for row in ws.iter_rows() for c in row
            if isinstance(c.value, str) and c.value.startswith("注:")]


def test_ballot_form_note_follows_the_unit(tmp_path):
    """附件3's printed note: the seed's words for a plain unit, the unit's own rule where it trims."""
    head = ("注:党支部在发放和汇总此表时,按党员互评、群众参评、支委会考评三个层次进行。党员综合得分=党员互评"
            "平均分×40%+群众参评平均分×30%+支委会考评平均分×30%")
    assert _note(_build(tmp_path, definitions.load())) == [head + "(计算平均分时,不去最高和最低分)。"]
    trimmed = _set(tmp_path, _unit_option('averaging = "trimmed"'))
    assert _note(_build(tmp_path, trimmed)) == [
        head + "(计算平均分时,去掉该党员在这一层次中合计分最高的一张和最低的一张测评票,再求平均;"
        "这一层次的测评票不足3张时,按全部测评票求平均)。"]
