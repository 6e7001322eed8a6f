"""A branch workbook read into plain values: what both shells hand to the core.

The file shell (``reader.py``) fills a ``Grids`` from an .xlsx on disk; the
Excel add-in fills one from the open workbook's ranges. Rows are 0-based
sheet rows, so findings can name the true cell.
"""

from dataclasses import dataclass, field


@dataclass(slots=True)
class EntryRow:
    """One row of a ballot entry sheet, as typed."""

    row: int
    ballot: object  # 票号
    name: object  # 党员姓名
    scores: list  # one raw value per item
    total: object = None  # 合计 as shown (cached)
    total_is_formula: bool = True


@dataclass(slots=True)
class LookbackRow:
    row: int
    ballot: object
    values: list


@dataclass(slots=True)
class Line:
    """One row of a register sheet (steps 2-5 and 9): its 0-based row and raw values."""

    row: int
    values: list


@dataclass
class Grids:
    """Everything the checks and figures need from one workbook."""

    source: str  # the file (or workbook) name, for messages
    identity: dict  # identity key -> text (see layout.IDENTITY_KEYS)
    sheets: list  # sheet names present
    roster: list = field(default_factory=list)  # [(row, name)] from 名册
    summary: list = field(default_factory=list)  # [(row, name)] from 汇总
    opinion: list = field(default_factory=list)  # [(row, name)] from 附件4
    entry_headers: dict = field(default_factory=dict)  # group key -> header values
    entries: dict = field(default_factory=dict)  # group key -> [EntryRow]
    lookback_header: list = field(default_factory=list)
    lookback: list = field(default_factory=list)  # [LookbackRow]
    categories: list = field(default_factory=list)  # raw values, category order
    levels: list = field(default_factory=list)  # raw values, level order
    schedule: list = field(default_factory=list)  # 工作时间 texts of the nine steps, as typed
    schedule_steps: list = field(default_factory=list)  # 工作环节 texts, as typed
    roles: list = field(default_factory=list)  # [Line] of 名册: 姓名, 角色, 分管领导, 问题较多
    registers: dict = field(default_factory=dict)  # Grids attribute (roles, opinions, ...) -> header as typed
    opinions: list = field(default_factory=list)  # [Line] of 征求意见登记
    talks: list = field(default_factory=list)  # [Line] of 谈心记录
    materials: list = field(default_factory=list)  # [Line] of 党性分析材料
    meetings: list = field(default_factory=list)  # [Line] of 会议情况's meetings
    attendance: list = field(default_factory=list)  # [Line] of 会议情况's attendance
    checklist: list = field(default_factory=list)  # [Line] of 四查四看
    overwritten: list = field(default_factory=list)  # [(sheet, A1, value)] formula cells typed over
    macros: list = field(default_factory=list)  # parts that carry macros (never run), e.g. xl/vbaProject.bin
    external_links: list = field(default_factory=list)  # what the workbook links to outside itself
    # {name: text} of the workbook's defined names, which hold the rows its formulas
    # count (see counted.py); None where a shell cannot read them
    names: dict = None
    # [(sheet, A1, target)] formula cells whose formula reads another file
    external_formulas: list = field(default_factory=list)
    grades: list = field(default_factory=list)  # [Line] of 评定等次, one per member (blank too)
    ballot_accounts: dict = field(default_factory=dict)  # group key -> (发出, 收回) as typed
