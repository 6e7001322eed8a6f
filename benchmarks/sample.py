"""Random but repeatable ballots for the benchmarks: whole points, always in range."""

from xlsheets.workbook.entries import Entries


def random_entries(defs, names, plan, lookback, rnd):
    """Entries for ``names``: ``plan`` ((group key, ballots), ...) full ballots, 附件5 and 附件6."""
    def scores(items):
        return [rnd.randint(it.max // 2, it.max) for it in items]

    ballots = {key: [{n: scores(defs.items) for n in names} for _ in range(count)]
               for key, count in plan}
    categories = [rnd.randint(5, 30) for _ in defs.satisfaction["categories"]]
    total = sum(categories)
    sat = rnd.randint(total * 7 // 10, total)
    basic = rnd.randint(0, total - sat)
    return Entries(ballots=ballots, categories=categories,
                   levels=[sat, basic, total - sat - basic][:len(defs.satisfaction["levels"])],
                   lookback=[scores(defs.lookback_items) for _ in range(lookback)])
