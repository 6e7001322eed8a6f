"""What clerks type into a branch workbook, as plain values.

The demo, the benchmarks and the tests fill workbooks from an ``Entries``: values
by meaning (a ballot of a member, a meeting's dates), clean, without positions.
The readers give ``grids.Grids`` instead: cells by position as a sheet holds them,
with whatever a clerk typed there (text in a score, a row below the table), which
is what the checks judge. The two are kept apart on purpose; the tests that build
from an ``Entries`` and read back (test_cells, test_workbook_recalc) prove they
describe the same values. Scores are numbers or None (empty cell).
"""

from dataclasses import dataclass, field


@dataclass
class Entries:
    """Typed-in data of one branch workbook.

    Attributes:
        ballots: group key -> list of ballots; a ballot maps member name to
            its item scores (a list as long as the ballot's items). A member
            missing from a ballot is an empty row.
        lookback: returned 附件5 ballots, one list of item scores each.
        categories: 附件6 participant counts per category, or None.
        levels: 附件6 counts per satisfaction level, or None.
        opinions: rows of 征求意见登记, one list of values per opinion in the
            order of ``layout.OPINION_HEADERS`` (dates as ``datetime.date``).
        talks: rows of 谈心记录, in the order of ``layout.TALK_HEADERS``.
        materials: name (or the leadership's label) -> the values typed from
            字数 on: 字数, 免写, 口头总结记录人, 审阅人, 审阅意见, 备注 (最低字数
            is the form's own).
        meetings: meeting name -> [公示日期, 召开日期, 备注].
        attendance: (name, meeting name) -> [出席情况, 缺席原因, 事先提交党性分析材料,
            代为发言人, 补课日期, 备注].
        checklist: per “四查四看” check, [检查结果, 情况及佐证材料].
        grades: name -> the values typed into 评定等次 from 评定等次 on: 评定等次,
            评定依据, 上级党委审批日期, 上级党委审批人, 不合格情形.
        accounts: group key -> (发出测评票, 收回测评票) typed on its entry sheet.
    """

    ballots: dict = field(default_factory=dict)
    lookback: list = field(default_factory=list)
    categories: list | None = None
    levels: list | None = None
    opinions: list = field(default_factory=list)
    talks: list = field(default_factory=list)
    materials: dict = field(default_factory=dict)
    meetings: dict = field(default_factory=dict)
    attendance: dict = field(default_factory=dict)
    checklist: list = field(default_factory=list)
    grades: dict = field(default_factory=dict)
    accounts: dict = field(default_factory=dict)
