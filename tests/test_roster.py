"""Reading branch rosters: encodings, delimiters, sheets, cleaning, and errors."""

import os

import openpyxl
import pytest
import xlsxwriter

from xlsheets.errors import RosterError
from xlsheets.files.roster import Member, clean, read_roster

ROSTER_CSV = "姓名,职务,性别\n张三,支部书记,男\n李四,,女\n王五,党员,男\n"


def write_xlsx(path, sheets):
    """sheets: {name: [row, ...]}; None cells are left empty."""
    book = xlsxwriter.Workbook(path)
    for name, rows in sheets.items():
        ws = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, str):
                    ws.write_string(r, c, value)  # never a formula, even for "=..."
                else:
                    ws.write(r, c, value)
    book.close()
    return path


def check_three(roster):
    assert roster.columns == ("姓名", "职务", "性别")
    assert roster.names() == ["张三", "李四", "王五"]
    assert roster.members[0] == Member("张三", "支部书记", (("性别", "男"),), 2)
    assert roster.members[1] == Member("李四", "", (("性别", "女"),), 3)
    assert [m.row for m in roster.members] == [2, 3, 4]


# --- CSV ----------------------------------------------------------------------


def test_csv_utf8(tmp_path):
    path = tmp_path / "名册.csv"
    path.write_text(ROSTER_CSV, encoding="utf-8")
    roster = read_roster(path)
    check_three(roster)
    assert roster.path == str(path)


def test_csv_utf8_bom(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_text(ROSTER_CSV, encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    check_three(read_roster(path))


def test_csv_gbk_as_excel_saves_it(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_text(ROSTER_CSV.replace("\n", "\r\n"), encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    check_three(read_roster(path))


def test_csv_tab_delimited(tmp_path):
    path = tmp_path / "tab.csv"
    path.write_text(ROSTER_CSV.replace(",", "\t"), encoding="utf-8")
    check_three(read_roster(path))


def test_csv_semicolon_delimited(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text(ROSTER_CSV.replace(",", ";"), encoding="utf-8")
    check_three(read_roster(path))


def test_csv_single_column_falls_back_to_comma(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("姓名\n张三\n李四\n", encoding="utf-8")
    roster = read_roster(path)
    assert roster.columns == ("姓名",)
    assert roster.members == (Member("张三", "", (), 2), Member("李四", "", (), 3))


def test_csv_cells_stripped_of_fullwidth_and_nbsp(tmp_path):
    path = tmp_path / "spaces.csv"
    path.write_text("\u3000姓名\u00a0, 职务 \n\u3000张三\u00a0,\u3000支部书记\n", encoding="utf-8")
    roster = read_roster(path)
    assert roster.columns == ("姓名", "职务")
    assert roster.members == (Member("张三", "支部书记", (), 2),)


def test_csv_leading_empty_rows_keep_true_row_numbers(tmp_path):
    path = tmp_path / "lead.csv"
    path.write_text("\n,,\n姓名,职务\n张三,书记\n,\n李四,委员\n", encoding="utf-8")
    roster = read_roster(path)
    assert [(m.name, m.row) for m in roster.members] == [("张三", 4), ("李四", 6)]


def test_csv_quoted_cell_with_comma(tmp_path):
    path = tmp_path / "quoted.csv"
    path.write_text('姓名,职务,备注\n张三,书记,"关坝村,一组"\n', encoding="utf-8")
    assert read_roster(path).members[0].extra == (("备注", "关坝村,一组"),)


def test_header_with_inner_space_is_recognised(tmp_path):
    path = tmp_path / "spaced.csv"
    path.write_text("姓  名,职 务\n张三,书记\n", encoding="utf-8")
    roster = read_roster(path)
    assert roster.columns == ("姓名", "职务")
    assert roster.members == (Member("张三", "书记", (), 2),)


def test_formula_like_names_kept_verbatim_csv(tmp_path):
    path = tmp_path / "formula.csv"
    path.write_text("姓名\n=SUM(A1)\n+1\n@x\n-2\n", encoding="utf-8")
    assert read_roster(path).names() == ["=SUM(A1)", "+1", "@x", "-2"]


# --- XLSX ---------------------------------------------------------------------


def test_xlsx_named_sheet_not_first(tmp_path):
    path = write_xlsx(
        tmp_path / "book.xlsx",
        {
            "说明": [["这不是名册"], ["姓名"], ["不该读到"]],
            "名册": [["姓名", "职务", "性别"], ["张三", "支部书记", "男"], ["李四", None, "女"], ["王五", "党员", "男"]],
        },
    )
    check_three(read_roster(path))


def test_xlsx_first_sheet_when_no_roster_sheet(tmp_path):
    path = write_xlsx(tmp_path / "book.xlsx", {"Sheet1": [["姓名"], ["张三"]], "Sheet2": [["姓名"], ["李四"]]})
    assert read_roster(path).names() == ["张三"]


def test_xlsx_extra_columns_and_numbers_normalised(tmp_path):
    path = write_xlsx(
        tmp_path / "nums.xlsx",
        {"名册": [["序号", "姓名", "党龄", "电话", "得分", "职务"], [1, "张三", 3.0, 13800138000, 92.5, "书记"]]},
    )
    roster = read_roster(path)
    assert roster.columns == ("序号", "姓名", "党龄", "电话", "得分", "职务")
    (member,) = roster.members
    assert member.name == "张三"
    assert member.duty == "书记"
    assert member.extra == (("序号", "1"), ("党龄", "3"), ("电话", "13800138000"), ("得分", "92.5"))
    assert member.row == 2


def test_xlsx_number_as_name_and_empty_extra(tmp_path):
    path = write_xlsx(tmp_path / "n.xlsx", {"名册": [["姓名", "备注"], [7.0, None], ["李四", "  \u3000 "]]})
    roster = read_roster(path)
    assert roster.members == (Member("7", "", (("备注", ""),), 2), Member("李四", "", (("备注", ""),), 3))


def test_xlsx_leading_empty_rows_keep_true_row_numbers(tmp_path):
    path = write_xlsx(
        tmp_path / "lead.xlsx",
        {"名册": [[], [], [None, "姓名", "职务"], [None, "张三", "书记"], [], [None, "李四", None]]},
    )
    roster = read_roster(path)
    assert roster.columns == ("姓名", "职务")
    assert [(m.name, m.duty, m.row) for m in roster.members] == [("张三", "书记", 4), ("李四", "", 6)]


def test_xlsx_formula_like_names_kept_verbatim(tmp_path):
    path = write_xlsx(tmp_path / "f.xlsx", {"名册": [["姓名"], ["=SUM(A1)"], ["+1"], ["@x"]]})
    assert read_roster(path).names() == ["=SUM(A1)", "+1", "@x"]


def test_xlsm_and_upper_case_suffix_accepted(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "名册"
    book.active.append(["姓名", "职务"])
    book.active.append(["张三", "书记"])
    book.save(tmp_path / "a.XLSX")
    assert read_roster(tmp_path / "a.XLSX").members == (Member("张三", "书记", (), 2),)


def test_clean_values():
    assert clean(None) == ""
    assert clean(3.0) == "3"
    assert clean(3) == "3"
    assert clean(0.1) == "0.1"
    assert clean(True) == "TRUE"
    assert clean("\ufeff\u3000 张三\u00a0") == "张三"
    assert clean("张 三") == "张 三"


# --- errors -------------------------------------------------------------------


def error_for(path):
    with pytest.raises(RosterError) as info:
        read_roster(path)
    error = info.value
    assert os.path.basename(str(path)) in str(error)
    assert error.path == str(path)
    return error


def test_missing_name_column(tmp_path):
    path = tmp_path / "noname.csv"
    path.write_text("\n人员,职务\n张三,书记\n", encoding="utf-8")
    error = error_for(path)
    assert error.row == 2
    assert error.code == "roster-name-column-missing"
    assert "人员、职务" in str(error)


def test_title_row_above_header_in_xlsx(tmp_path):
    path = write_xlsx(tmp_path / "title.xlsx", {"名册": [["关坝镇第一支部党员名册"], ["姓名", "职务"], ["张三", "书记"]]})
    roster = read_roster(path)
    assert roster.names() == ["张三"] and roster.members[0].row == 3


def test_header_without_name_is_explained(tmp_path):
    path = write_xlsx(tmp_path / "title.xlsx", {"名册": [["关坝镇第一支部党员名册"], ["名字", "职务"], ["张三", "书记"]]})
    error = error_for(path)
    assert error.row == 1
    assert "关坝镇第一支部党员名册" in str(error)
    assert error.code == "roster-name-column-missing"


def test_empty_name_with_other_cells(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("姓名,职务\n张三,书记\n,委员\n", encoding="utf-8")
    error = error_for(path)
    assert error.row == 3
    assert "第 3 行" in str(error)
    assert error.code == "roster-name-empty"


def test_empty_name_xlsx_row_counts_leading_rows(tmp_path):
    path = write_xlsx(tmp_path / "e.xlsx", {"名册": [[], ["姓名", "职务"], ["张三", "书记"], [None, "委员"]]})
    assert error_for(path).row == 4


def test_duplicate_name_mentions_both_rows(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("姓名,职务\n张三,书记\n李四,\n\u3000张三 ,委员\n", encoding="utf-8")
    error = error_for(path)
    assert error.row == 4 and error.code == "roster-name-twice"
    assert "第 4 行" in str(error)
    assert "第 2 行" in str(error)
    assert "张三" in str(error)


def test_no_members(tmp_path):
    path = tmp_path / "header_only.csv"
    path.write_text("姓名,职务\n,\n\n", encoding="utf-8")
    error = error_for(path)
    assert error.row is None
    assert error.code == "roster-no-members"


def test_empty_file(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_bytes(b"")
    error = error_for(path)
    assert error.row is None
    assert error.code == "roster-file-empty"


def test_missing_file(tmp_path):
    path = tmp_path / "不存在.xlsx"
    error = error_for(path)
    assert error.row is None
    assert error.code == "roster-file-missing"


def test_directory(tmp_path):
    path = tmp_path / "folder.csv"
    path.mkdir()
    error = error_for(path)
    assert error.row is None
    assert error.code == "roster-is-folder"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_unreadable_permission(tmp_path):
    path = tmp_path / "locked.csv"
    path.write_text(ROSTER_CSV, encoding="utf-8")
    path.chmod(0)
    try:
        error = error_for(path)
    finally:
        path.chmod(0o644)
    assert error.row is None
    assert error.code == "roster-no-permission"


def test_garbage_named_xlsx(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"\x00\x01garbage, not a zip" * 50)
    error = error_for(path)
    assert error.row is None
    assert error.code == "roster-xlsx-bad"


def test_truncated_zip_named_xlsx(tmp_path):
    good = write_xlsx(tmp_path / "good.xlsx", {"名册": [["姓名"], ["张三"]]})
    path = tmp_path / "cut.xlsx"
    path.write_bytes(good.read_bytes()[:200])
    error = error_for(path)
    assert error.row is None
    assert error.code == "roster-xlsx-bad"


def test_csv_undecodable_bytes(tmp_path):
    path = tmp_path / "bin.csv"
    path.write_bytes(b"\xff\xfe\xff\xff" * 20)
    error = error_for(path)
    assert error.row is None
    assert error.code == "roster-encoding"


def test_csv_broken_structure(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text('姓名\n"' + "张" * 200_000 + "\n", encoding="utf-8")  # unclosed quote
    error = error_for(path)
    assert error.row is None
    assert error.code == "roster-csv-bad"


def test_unsupported_txt(tmp_path):
    path = tmp_path / "名册.txt"
    path.write_text(ROSTER_CSV, encoding="utf-8")
    error = error_for(path)
    assert error.row is None
    assert error.code == "roster-format-unsupported"
    assert ".txt" in str(error)


def test_data_under_no_header(tmp_path):
    path = tmp_path / "stray.csv"
    path.write_text("姓名,职务\n张三,书记\n李四,委员,多出来的\n", encoding="utf-8")
    error = error_for(path)
    assert error.row == 3 and error.code == "roster-column-unheaded"
    assert "第 C 列" in str(error)
    assert "多出来的" in str(error)


def test_duplicate_name_header(tmp_path):
    path = tmp_path / "twice.csv"
    path.write_text("姓名,职务,姓名\n张三,书记,张三\n", encoding="utf-8")
    error = error_for(path)
    assert error.row == 1
    assert error.code == "roster-column-twice"


def test_title_rows_above_the_header_are_skipped(tmp_path):
    path = tmp_path / "带标题.csv"
    path.write_text("兴隆街社区党支部党员名册,,\n,,\n姓名,职务,电话\n张三,书记,123\n李四,党员,\n",
                    encoding="utf-8")
    roster = read_roster(path)
    assert roster.names() == ["张三", "李四"]
    assert roster.columns == ("姓名", "职务", "电话")
    assert [m.row for m in roster.members] == [4, 5]
