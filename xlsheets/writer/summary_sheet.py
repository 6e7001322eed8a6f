"""汇总: per member, each group's ballots and mean, 综合得分 and 排名 (R5-R8).

Every figure is a live formula, so a clerk with Excel or WPS alone sees the
scores; Python writes the same figures as cached values. A member with no
ballot in a group shows 缺票, never 0; a group with a broken row shows 有误.
"""

from xlsheets.workbook import layout as L
from xlsheets.core.figures import INVALID, MISSING, REWEIGHTED, cached, shown
from xlsheets.core.cells import summary_note_row
from xlsheets.core.numbers import percent
from xlsheets.writer.formats import a4, protect


def write(wb, ctx):
    """Write 汇总 and record each member's row in ``ctx.summary_rows``."""
    d, f, groups, members = ctx.defs, ctx.fmt, ctx.defs.groups, ctx.members
    ws = wb.add_worksheet(L.SUMMARY)
    pairs, comp, rank, remark = L.summary_columns(groups)
    ws.set_row(0, 30)
    ws.merge_range(0, 0, 0, remark, f"{d.town}{ctx.unit.name}党员分析评议测评汇总", f.title)
    headers = ["序号", "姓名", "职务"]
    for g in groups:
        headers += [f"{g.name}票数", f"{g.mean_label}({percent(g.weight)})"]
    headers += ["综合得分", "排名", "备注"]
    hr = L.SUMMARY_HEADER_ROW
    ws.set_row(hr, 45)
    for c, h in enumerate(headers):
        ws.write_string(hr, c, h, f.header)
    ws.set_column(0, 0, 5)
    ws.set_column(1, 2, 11)
    ws.set_column(3, comp - 1, 9)
    ws.set_column(comp, rank, 9)
    ws.set_column(remark, remark, 34)
    ws.freeze_panes(hr + 1, 2)

    first, last = L.SUMMARY_FIRST_ROW, L.SUMMARY_FIRST_ROW + len(members) - 1
    exact_means, exact_comp = L.exact_columns(groups)
    for c, h in zip((*exact_means, exact_comp), [*(g.mean_label for g in groups), "综合得分"]):
        ws.set_column(c, c, 12, f.score, {"hidden": True})  # R8: what the shown cells round
        ws.write_string(hr, c, f"未舍入的{h}", f.header)
    averaging = ctx.unit.averaging
    for i, m in enumerate(members):
        r = first + i
        ctx.summary_rows[m.name] = r
        s = ctx.figures.members[i]
        ws.set_row(r, 20)
        ws.write_number(r, 0, i + 1, f.int)
        ws.write_string(r, 1, m.name, f.text_center)
        ws.write_string(r, 2, m.duty, f.text_center)
        name = f"$B{r + 1}"
        exact_cells = []
        for g, (cc, mc), xc in zip(groups, pairs, exact_means):
            names, tot = L.entry_name(g, "names"), L.entry_name(g, "totals")
            hit = f"({names}={name})"
            count = L.a1(r, cc)
            ws.write_formula(r, cc, f"=SUMPRODUCT({hit}*ISNUMBER({tot}))", f.int,
                             s.counts[g.key])
            bad = f'SUMPRODUCT({hit}*ISTEXT({tot})*({tot}<>""))>0'
            total = f"SUMPRODUCT({hit}*ISNUMBER({tot}),{tot})"
            mean = f"{total}/{count}"
            exact = cached(s.means[g.key])
            if (averaging or g.averaging) == "trimmed":
                hi = f"MAX(IF({hit}*ISNUMBER({tot}),{tot}))"
                lo = f"MIN(IF({hit}*ISNUMBER({tot}),{tot}))"
                mean = f"IF({count}<3,{mean},({total}-{hi}-{lo})/({count}-2))"
                ws.write_array_formula(r, xc, r, xc,
                                       f'{{=IF({bad},"{INVALID}",IF({count}=0,"{MISSING}",{mean}))}}',
                                       f.score, exact)
            else:
                ws.write_formula(r, xc, f'=IF({bad},"{INVALID}",IF({count}=0,"{MISSING}",{mean}))',
                                 f.score, exact)
            xref = L.a1(r, xc)
            ws.write_formula(r, mc, shown_formula(xref), f.score, cached(shown(s.means[g.key])))
            exact_cells.append(xref)

        any_bad = "OR(" + ",".join(f'{c}="{INVALID}"' for c in exact_cells) + ")"
        terms = "+".join(f"{c}*{percent(g.weight)}" for c, g in zip(exact_cells, groups))
        if ctx.unit.reweight_missing:
            num = "+".join(f"N({c})*{percent(g.weight)}" for c, g in zip(exact_cells, groups))
            den = "+".join(f"ISNUMBER({c})*{percent(g.weight)}" for c, g in zip(exact_cells, groups))
            value = f'IF(COUNT({",".join(exact_cells)})=0,"{MISSING}",ROUND(({num})/({den}),9))'
        else:
            # ROUND to 9 places: exact ties stay ties for RANK despite binary fractions.
            value = f'IF(COUNT({",".join(exact_cells)})={len(groups)},ROUND({terms},9),"{MISSING}")'
        xcomp = L.a1(r, exact_comp)
        ws.write_formula(r, exact_comp, f'=IF({any_bad},"{INVALID}",{value})', f.score,
                         cached(s.composite))
        ws.write_formula(r, comp, shown_formula(xcomp), f.score, cached(shown(s.composite)))
        span = f"{L.a1(first, exact_comp, True)}:{L.a1(last, exact_comp, True)}"
        ws.write_formula(r, rank, f'=IF(ISNUMBER({xcomp}),RANK({xcomp},{span}),"")', f.int,
                         cached(s.rank))
        ws.write_formula(r, remark, _remark_formula(exact_cells, groups, ctx.unit.reweight_missing,
                                                    xcomp), f.int, s.remark)

    note = summary_note_row(len(members))
    ws.set_row(note, 36)
    ws.merge_range(note, 0, note, remark, "", f.sentinel)
    ws.write_formula(note, 0, outside_formula(d), f.sentinel, "")
    a4(ws, landscape=True, repeat=(0, hr), area=(0, 0, note, remark))
    protect(ws)


def shown_formula(exact_cell):
    """A shown figure: the exact cell rounded as R8 says, so every program shows the
    same digits (a 0.00 format over 88.075 shows 88.07 in Gnumeric); text passes."""
    return f"=IF(ISNUMBER({exact_cell}),ROUND({exact_cell},2),{exact_cell})"


def outside_formula(defs):
    """汇总's note row: names the entry sheets whose sentinel says rows lie outside."""
    sentinels = [(g.name, L.ref(L.entry_sheet(g), (0, L.sentinel_col(defs.items))))
                 for g in defs.groups]
    which = "&".join(f'IF({ref}<>"","{name} ","")' for name, ref in sentinels)
    return (f'=IF(OR({",".join(f"{ref}<>{chr(34)}{chr(34)}" for _, ref in sentinels)}),'
            f'"注意:"&TRIM({which})&" 中有测评票在计算范围之外,本表尚未计入。'
            f'请运行“计算”后再打印、上报。","")')


def _remark_formula(mean_cells, groups, reweight, composite_cell):
    parts = [f'IF({c}="{MISSING}","缺{g.name}票 ","")' for c, g in zip(mean_cells, groups)]
    text = "&".join(parts)
    if reweight:
        text += f'&IF(AND(ISNUMBER({composite_cell}),COUNT({",".join(mean_cells)})<{len(groups)}),"{REWEIGHTED}","")'
    return f"=TRIM({text})"
