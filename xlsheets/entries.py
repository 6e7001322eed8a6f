"""What clerks type into a branch workbook, as plain values.

The demo and the tests fill workbooks from an ``Entries``; later the readers
return one from a filled workbook. Scores are numbers or None (empty cell).
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
    """

    ballots: dict = field(default_factory=dict)
    lookback: list = field(default_factory=list)
    categories: list | None = None
    levels: list | None = None
