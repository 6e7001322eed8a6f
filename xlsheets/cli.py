"""The ``xlsheets`` command: the same engine the Excel add-in calls.

Each command parses its arguments, calls one function of the package and
prints the result. Each imports what it uses when it runs (the writer, the demo,
the town layer...), so ``xlsheets compute`` does not pay for the builder. Anything the clerk gave that cannot be used becomes one
Chinese message and exit status 2; never a traceback (set XLSHEETS_DEBUG=1
to see one when reporting a bug).

``--password`` (new, split, validate, compute, collect) is the opening password
of encrypted workbooks; ``--password -`` asks for it without echo (or reads
one line from standard input), so it need not appear in the shell history.
"""

import argparse
import contextlib
import datetime as dt
import json
import os
import sys
from pathlib import Path

from xlsheets import __version__, definitions
from xlsheets.disk import crypto
from xlsheets.workbook import layout as L
from xlsheets.errors import UsageError, XlsheetsError
from xlsheets.disk.terminal import visible


_ARGPARSE_WORDS = (
    ("the following arguments are required: ", "缺少必需的参数:"),
    ("unrecognized arguments: ", "无法识别的参数:"),
    ("invalid choice: ", "无效的选择:"),
    ("(choose from ", "(可选:"),
    ("expected one argument", "需要一个值"),
    ("invalid int value: ", "不是整数:"),
    ("argument ", "参数 "),
)


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "用法:" if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    """argparse with its help and complaints in Chinese and exit status 2."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, add_help=False, **kwargs)
        self._optionals.title = "选项"
        self.add_argument("-h", "--help", action="help", help="显示本帮助并退出")

    def error(self, message):
        for english, chinese in _ARGPARSE_WORDS:
            message = message.replace(english, chinese)
        self.print_usage(sys.stderr)
        self.exit(2, f"参数错误:{message}\n")


def main(argv=None):
    """Entry point of the console script."""
    for stream in (sys.stdout, sys.stderr):  # Chinese on any Windows console code page
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    args = _parser().parse_args(argv)
    try:
        with _one_workbook_pause(args.run):
            return args.run(args) or 0
    except XlsheetsError as e:
        print(visible(f"错误:{e}"), file=sys.stderr)
        return e.exit_code
    except BrokenPipeError:  # output piped into `head` and the like
        return 0
    except KeyboardInterrupt:
        print("已中断,未写入任何文件。", file=sys.stderr)
        return 130
    except Exception as e:  # a bug: say so plainly, keep the traceback for developers
        if os.environ.get("XLSHEETS_DEBUG"):
            import traceback  # only for a developer's debugging

            traceback.print_exc()
        print(f"程序内部错误({type(e).__name__}: {e})。未写入任何文件;"
              "请把此消息和所用文件发给技术人员。", file=sys.stderr)
        return 3


def console():
    """The console script ``xlsheets``: ``main``, then the process ends without the
    interpreter's teardown. A command has closed, synced and put in place whatever it
    wrote, joined its threads and stopped its workers before it returns; the teardown
    would only free its objects one by one (30-50 ms after a large compute, more after a
    town's collect). The output is flushed first; ``main(argv)`` itself returns as before."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # no console at all (a detached start, ``>&-``)
            continue
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing to say to
            stream.flush()
    os._exit(code)


def _one_workbook_pause(run):
    """compute and validate run with the collector paused until their outcome is let go
    (``compute.gc_paused``); every other command as it is."""
    if run not in (_compute, _validate):
        return contextlib.nullcontext()
    from xlsheets.files.compute import gc_paused

    return gc_paused()


def _parser():
    p = _Parser(prog="xlsheets", description="关坝镇先进性教育活动分析评议阶段民主评议工作簿工具。")
    p.add_argument("--version", action="version", version=f"xlsheets {__version__}",
                   help="显示版本号并退出")
    p.add_argument("--definitions", default=definitions.DEFAULT_SET, metavar="定义文件",
                   help="表格定义集(内置名称或 .toml 文件),默认为 2005 年关坝镇方案")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser,
                           title="命令", metavar="命令")

    d = sub.add_parser("demo", help="用内置示例数据生成示例镇的全部工作簿",
                       description="示例:xlsheets demo --out demo_out")
    d.add_argument("--out", default="demo_out", help="输出文件夹(默认 demo_out)")
    d.set_defaults(run=_demo)

    n = sub.add_parser("new", help="由名册生成一个党支部的民主评议工作簿",
                       description="示例:xlsheets new --unit 机关 --roster 名册.csv --out 机关.xlsx")
    n.add_argument("--unit", required=True, help="单位名称,如 机关、兴隆街社区")
    n.add_argument("--roster", required=True, help="名册文件(CSV 或 XLSX,须有“姓名”列)")
    n.add_argument("--out", required=True, help="要生成的工作簿(.xlsx)")
    n.add_argument("--ballots", action="append", default=[], metavar="层次=票数",
                   help="某测评层次预计回收的测评票数,如 群众参评=12(可重复)")
    n.add_argument("--lookback-ballots", type=int, default=20, metavar="份数",
                   help="“回头看”群众测评表预留行数(默认 20)")
    n.add_argument("--id", help="工作簿编号(默认由内容生成)")
    n.add_argument("--created", metavar="时间",
                   help="记录的生成时间:now 或 2005-08-20T09:00(默认不记录,以便同样输入得到同样文件)")
    _password_option(n, "给生成的工作簿设置打开密码(加密)")
    n.set_defaults(run=_new)

    for name, helptext, example, run in (
            ("validate", "校验一个交回的工作簿,指出每个问题所在的单元格",
             "示例:xlsheets validate 机关.xlsx --json", _validate),
            ("compute", "校验无误后计算综合得分、回头看和满意度,写回同一个工作簿",
             "示例:xlsheets compute 机关.xlsx", _compute)):
        c = sub.add_parser(name, help=helptext, description=example)
        c.add_argument("book", metavar="工作簿", help="要处理的工作簿(.xlsx)")
        c.add_argument("--unit", help="核对工作簿是否属于该单位")
        c.add_argument("--json", action="store_true", help="以 JSON 输出结果")
        c.add_argument("--materials", metavar="文件夹",
                       help="党性分析材料所在的文件夹(每人一个 .docx 或 .txt 文件,以姓名命名,"
                            "班子的以“领导班子”命名):按文件统计字数(不计空白字符),代替手填的字数")
        _password_option(c, "加密工作簿的打开密码" + (";计算结果仍以同一密码加密写回"
                                                  if name == "compute" else ""))
        c.set_defaults(run=run)

    sp = sub.add_parser("split", help="把全镇名册按“支部”列拆成各党支部的工作簿",
                        description="示例:xlsheets split --roster 全镇名册.xlsx --out 发出")
    sp.add_argument("--roster", required=True, help="全镇名册(CSV 或 XLSX,须有 姓名、职务、支部 列)")
    sp.add_argument("--out", required=True, help="输出文件夹,每个支部一个工作簿")
    _password_option(sp, "给每个支部的工作簿设置同一个打开密码(加密)")
    sp.set_defaults(run=_split)

    co = sub.add_parser("collect", help="收集交回的工作簿(含 .zip 和 .eml),生成全镇汇总",
                        description="示例:xlsheets collect 收件箱 --out 全镇汇总.xlsx")
    co.add_argument("inbox", metavar="收件文件夹", help="放交回文件的文件夹(.xlsx、.zip、.eml)")
    co.add_argument("--out", required=True, help="全镇汇总工作簿(.xlsx);档案库写在它旁边(.sqlite)")
    co.add_argument("--workers", type=_positive, default=None, help="并行读取的进程数(默认为 CPU 核数)")
    _password_option(co, "交回的加密工作簿的打开密码(未加密的文件照常读取)")
    co.set_defaults(run=_collect)

    im = sub.add_parser("import", help="把问卷星或腾讯问卷的答卷下载导入一个测评层次的录入表(不记名)",
                        description="示例:xlsheets import 机关.xlsx 答卷.xlsx --group 群众参评")
    im.add_argument("book", metavar="工作簿", help="要导入的党支部工作簿(.xlsx)")
    im.add_argument("download", metavar="下载文件",
                    help="问卷星下载的 .xlsx、.xls、.csv,或腾讯问卷下载的 .zip(内含 CSV)")
    im.add_argument("--group", required=True, metavar="测评层次",
                    help="党员互评、群众参评、支委会考评,或 回头看(回头看录入)、附件6(满意度人数)")
    im.add_argument("--mapping", metavar="映射文件",
                    help="列标题无法自动识别时:CSV 文件,三列为 表头,党员姓名,测评项目(不是分数的列后两列留空)")
    im.add_argument("--dry-run", action="store_true", help="只检查,显示将导入什么,不写入工作簿")
    im.add_argument("--keep-errors", action="store_true",
                    help="答案中有超出分值或不是数字的,也照样写入(之后在工作簿中改正)")
    im.add_argument("--json", action="store_true", help="以 JSON 输出结果")
    _password_option(im, "加密工作簿的打开密码;导入后仍以同一密码加密写回")
    im.set_defaults(run=_import)

    sv = sub.add_parser("survey", help="生成网上测评问卷的题目文本(可粘贴到问卷星的批量导入题目)",
                        description="示例:xlsheets survey 机关.xlsx --group 群众参评 --out 问卷.txt")
    sv.add_argument("book", metavar="工作簿", help="党支部工作簿(.xlsx),从中读取名册")
    sv.add_argument("--group", required=True, metavar="测评层次",
                    help="党员互评、群众参评、支委会考评、回头看 或 附件6")
    sv.add_argument("--format", choices=("wjx", "tencent"), default="wjx",
                    help="wjx:问卷星批量导入题目的文本(默认);tencent:腾讯问卷用的题目清单")
    sv.add_argument("--out", metavar="文件", help="写入的文本文件(UTF-8);默认显示在屏幕上")
    sv.set_defaults(run=_survey)

    t = sub.add_parser("templates", help="重新生成 workbook_templates/ 中的空白模板",
                       description="示例:xlsheets templates --out workbook_templates")
    t.add_argument("--out", default="workbook_templates", help="输出文件夹(默认 workbook_templates)")
    t.set_defaults(run=_templates)

    a = sub.add_parser("addin", help="生成或安装 Excel 加载项(功能区“民主评议”选项卡)",
                       description="示例:xlsheets addin build;xlsheets addin install")
    asub = a.add_subparsers(dest="addin_command", required=True, parser_class=_Parser,
                            title="命令", metavar="命令")
    ab = asub.add_parser("build", help="由 macros/ 中的源代码生成加载项 xlsheets.xlam",
                         description="示例:xlsheets addin build --out dist/xlsheets.xlam")
    ab.add_argument("--out", default="dist/xlsheets.xlam", help="要生成的加载项(默认 dist/xlsheets.xlam)")
    ab.set_defaults(run=_addin_build)
    ai = asub.add_parser("install", help="把加载项装到本机 Excel 的启动文件夹,并检查 xlwings 的设置",
                         description="示例:xlsheets addin install --xlam xlsheets.xlam")
    ai.add_argument("--xlam", help="要安装的加载项文件(默认由源代码现场生成,或用 dist/xlsheets.xlam)")
    ai.set_defaults(run=_addin_install)
    return p


def _password_option(parser, helptext):
    parser.add_argument("--password", metavar="密码",
                        help=helptext + ";写 - 则在运行时输入,不在命令行中显示")


def _password(args, confirm=False):
    """The --password value: None, the text given, or (for "-") asked for / read from stdin.

    confirm: ask twice at a terminal (a password being set, not one being used).
    """
    value = getattr(args, "password", None)
    if value == "-":
        if sys.stdin is not None and sys.stdin.isatty():
            import getpass  # a terminal's prompt: the only caller

            value = getpass.getpass("密码:")
            if confirm and getpass.getpass("再输入一次密码:") != value:
                raise UsageError("两次输入的密码不一致,未写入任何文件。")
        else:
            line = sys.stdin.readline() if sys.stdin is not None else ""
            value = line.rstrip("\r\n")
    crypto.check_password(value)
    return value


def _positive(text):
    """An argparse type: a whole number of at least 1."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"应为不小于 1 的整数:{text}")
    return int(text)


def _defs(args):
    return definitions.load(args.definitions)


def _demo(args):
    from xlsheets import demo

    demo.run(_defs(args), args.out)


def _new(args):
    from xlsheets.files.new_book import new_book, output_path, unit_named

    defs = _defs(args)
    # what is wrong with the request is told before a password is asked for
    output_path(unit_named(defs, args.unit), args.roster, args.out)
    password = _password(args, confirm=True)
    out, unit, roster, identity = new_book(
        defs, args.unit, args.roster, args.out, book_id=args.id, created=_created(args.created),
        password=password, plan=lambda roster: _plan(defs, roster, args.ballots,
                                                     args.lookback_ballots))
    print(f"已生成 {out}:{unit.name},{len(roster.members)} 名党员,"
          f"工作簿编号 {identity['workbook_id']}" + ("(已加密,打开时需输入密码)" if password else ""))


def _plan(defs, roster, specs, lookback):
    plan = L.default_plan(defs.groups, len(roster.members))
    counts = dict(plan.expected)
    for spec in specs:
        name, _, value = spec.partition("=")
        group = next((g for g in defs.groups if name in (g.name, g.key)), None)
        if group is None or not value.strip().isdigit():
            known = "、".join(g.name for g in defs.groups)
            raise UsageError(f"--ballots {spec} 无法识别:应写成 层次=票数,层次为 {known}")
        counts[group.key] = int(value)
    if lookback < 1:
        raise UsageError("--lookback-ballots 应至少为 1")
    return L.BallotPlan(tuple(counts.items()), plan.spare, lookback)


def _created(text):
    if text is None:
        return None
    if text == "now":
        return dt.datetime.now().replace(microsecond=0)
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--created {text} 不是有效时间,应为 now 或 2005-08-20T09:00") from None


def _validate(args):
    from xlsheets.files.compute import validate_file

    outcome, _ = validate_file(args.book, _defs(args), args.unit, password=_password(args),
                               materials=args.materials)
    _note_unused_password(args, outcome)
    _print_findings(args, outcome)
    return 0 if outcome.ok else 1


def _compute(args):
    from xlsheets.files.compute import as_json, compute_file

    defs = _defs(args)
    outcome = compute_file(args.book, defs, args.unit, password=_password(args),
                           materials=args.materials)
    _note_unused_password(args, outcome)
    if args.json:
        doc = as_json(outcome, defs) if outcome.ok else {}
        doc["findings"] = [f.as_dict() for f in outcome.findings]
        print(json.dumps(doc, ensure_ascii=False, indent=1))
        return 0 if outcome.ok else 1
    if not outcome.ok:
        _print_findings(args, outcome)
        print("有错误,未计算。请改正上述错误后重新运行。", file=sys.stderr)
        return 1
    _print_findings(args, outcome)
    print(f"已计算并写回 {args.book}" + ("(仍以原密码加密)" if outcome.encrypted else "") + ":")
    members = sorted(outcome.checked.figures.members, key=lambda m: (m.rank is None, m.rank or 0))
    for m in members:
        print(visible(f"  {m.rank or '-':>3}  {m.name}  {_shown(m.composite)}"))
    return 0


def _note_unused_password(args, outcome):
    if args.password is not None and not outcome.encrypted:
        print(f"提醒:{args.book} 没有设置打开密码,--password 未使用。", file=sys.stderr)


def _shown(x):
    from xlsheets.core.numbers import display

    return x if isinstance(x, str) else display(x)


def _print_findings(args, outcome):
    if args.json:
        print(json.dumps({"findings": [f.as_dict() for f in outcome.findings]},
                         ensure_ascii=False, indent=1))
        return
    errors = sum(f.is_error for f in outcome.findings)
    print(visible(f"{outcome.path}:{errors} 个错误,{len(outcome.findings) - errors} 个提醒"))
    for f in outcome.findings:  # one finding, one line, whatever the file holds
        print("  " + visible(f.text()))


def _import(args):
    from xlsheets.online import import_file

    r = import_file(args.book, args.download, _defs(args), args.group, mapping=args.mapping,
                    dry_run=args.dry_run, keep_errors=args.keep_errors,
                    password=_password(args))
    if args.json:
        print(json.dumps({"ballots": r.ballots, "duplicates": r.duplicates, "written": r.written,
                          "notes": r.notes, "findings": [f.as_dict() for f in r.findings]},
                         ensure_ascii=False, indent=1))
        return 0 if r.ok else 1
    sheet = r.group
    if not r.ballots:
        print(f"没有新的答卷可导入 {sheet}:{args.book} 未改动。")
    elif r.written and sheet == L.SATISFACTION:
        print(f"已把 {len(r.ballots)} 份答卷计入 {args.book} 的“{sheet}”(人员类别和测评档次的人数)。")
    elif r.written:
        print(f"已把 {len(r.ballots)} 份答卷导入 {args.book} 的“{sheet}”,"
              f"票号 {r.ballots[0]}–{r.ballots[-1]}(答卷人的 IP、地理位置、设备、昵称、答题时间等均未写入)。")
    else:
        print(f"检查完毕(未写入):将把 {len(r.ballots)} 份答卷导入“{sheet}”,"
              f"票号 {r.ballots[0]}–{r.ballots[-1]}。")
    for note in r.notes:
        print("  " + note)
    errors = sum(f.is_error for f in r.findings)
    print(f"{args.book}:{errors} 个错误,{len(r.findings) - errors} 个提醒")
    for f in r.findings:
        print("  " + f.text())
    return 0 if r.ok else 1


def _survey(args):
    from xlsheets.online import find_group
    from xlsheets.online.survey import survey_for_book, survey_text

    defs = _defs(args)
    group = find_group(defs, args.group)
    unit, members = survey_for_book(args.book, defs, group)
    text = survey_text(defs, unit, members, group, args.format)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"已写出 {args.out}:{len(defs.items)} 道矩阵题,每题 {len(members)} 行(党员)。")
    else:
        print(text)


def _split(args):
    from xlsheets.town.split import split

    defs = _defs(args)
    password = _password(args, confirm=True)
    branches = split(defs, args.roster, args.out, password=password)
    print(f"已拆分为 {len(branches)} 个党支部的工作簿" + ("(均已加密,打开时需输入密码)" if password else "")
          + ":")
    for b in branches:
        note = "" if b.scheduled else "(定义中没有该支部的工作日程,请支部在“工作日程表”中填写时间)"
        print(f"  {b.name}:{b.members} 名党员 → {b.path}{note}")


def _collect(args):
    from xlsheets.town.collect import INCLUDED, consolidate

    with crypto.inbox_password(_password(args)):  # collect's workers read it (see crypto.py)
        results, new, db = consolidate(_defs(args), args.definitions, args.inbox, args.out,
                                       args.workers, _progress)
    print(f"\n共 {len(results)} 个文件,新收 {new} 个;汇总写入 {args.out},档案库 {db}")
    for r in results:
        unit = r.identity.get("unit", "")
        print(visible(f"  [{r.fate}] {r.origin}" + (f"({unit})" if unit else "")
                      + (f":{r.reason}" if r.reason and r.fate != INCLUDED else "")))


def _progress(done, total, origin):
    """One line per file when piped; a bar that rewrites itself on a terminal."""
    if sys.stderr.isatty():
        bar = "#" * (30 * done // max(total, 1))
        sys.stderr.write(f"\r读取 [{bar:<30}] {done}/{total}")
        if done == total:
            sys.stderr.write("\n")
    else:
        sys.stderr.write(visible(f"读取 {done}/{total}:{origin}") + "\n")
    sys.stderr.flush()


def _templates(args):
    defs = _defs(args)
    for path in write_templates(defs, Path(args.out)):
        print(f"已生成 {path}")


def _addin_build(args):
    from xlsheets.addin.build import build

    print(f"已生成 Excel 加载项 {build(args.out)}")


def _addin_install(args):
    from xlsheets.addin.install import install

    return install(args.xlam)


def write_templates(defs, folder):
    """Blank workbooks of the sample rosters, one per unit: the shipped templates."""
    from xlsheets import demo, writer as book
    from xlsheets.files.roster import read_roster

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for unit in defs.units:
        roster_path = folder / f"名册_{unit.name}.csv"
        demo.write_roster(unit.name, roster_path)
        path = folder / f"{unit.attachment}_{unit.name}_空白工作簿.xlsx"
        book.build(defs, unit, read_roster(roster_path), path)
        written += [roster_path, path]
    return written


if __name__ == "__main__":
    console()
