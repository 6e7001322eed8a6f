"""The seed's definition set loads, and a broken set names the file and key."""

from pathlib import Path

import pytest

from xlsheets import definitions
from xlsheets.errors import DefinitionError
from xlsheets.workbook import layout as L

SEED_SET = Path(definitions.__file__).parent / "data" / "guanba2005.toml"


def test_seed_set_figures():
    d = definitions.load()
    assert d.id == "guanba-2005" and d.year == 2005
    assert [(i.name, i.max) for i in d.items] == [
        ("理想信念", 10), ("宗旨意识", 10), ("工作作风", 10), ("组织纪律", 10),
        ("廉洁自律", 10), ("精神状态", 10), ("素质能力", 10), ("工作绩效", 30)]
    assert [(g.name, g.weight * 100, g.averaging) for g in d.groups] == [
        ("党员互评", 40, "mean"), ("群众参评", 30, "mean"), ("支委会考评", 30, "mean")]
    assert len(d.lookback_items) == 10 and sum(i.max for i in d.lookback_items) == 100
    assert len(d.satisfaction["categories"]) == 7
    assert d.satisfaction["levels"] == ("满意", "基本满意", "不满意")
    assert len(d.steps) == 9
    jiguan, community = d.unit("机关"), d.unit("兴隆街社区")
    assert jiguan.attachment == "附件1" and community.attachment == "附件2"
    assert str(jiguan.ranges[0][0]) == "2005-08-16" and str(jiguan.ranges[-1][1]) == "2005-09-05"
    assert str(community.ranges[-1][1]) == "2005-09-16"
    assert d.unit("不存在") is None


def test_load_by_path_equals_builtin():
    assert definitions.load(SEED_SET).items == definitions.load().items


def _broken(tmp_path, old, new):
    text = SEED_SET.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(DefinitionError) as e:
        definitions.load(path)
    assert str(path) in str(e.value)
    return e.value


def test_max_points_must_add_to_100(tmp_path):
    err = _broken(tmp_path, 'name = "工作绩效"\nmax = 30', 'name = "工作绩效"\nmax = 29')
    assert err.key == "ballot.items" and "99" in err.problem


def test_weights_must_add_to_100(tmp_path):
    err = _broken(tmp_path, "weight = 40", "weight = 30")
    assert err.key == "groups.weight" and "90%" in err.problem


def test_item_names_unique(tmp_path):
    err = _broken(tmp_path, 'name = "宗旨意识"', 'name = "理想信念"')
    assert err.key == "ballot.items.name" and "理想信念" in err.problem


def test_dates_must_parse(tmp_path):
    err = _broken(tmp_path, '"9月12日"', '"九月十二日"')
    assert err.key == "units[1].dates[7]" and "九月十二日" in err.problem


def test_date_count_matches_steps(tmp_path):
    err = _broken(tmp_path, '"9月13—16日",', '')
    assert err.key == "units[1].dates"


def test_averaging_rule_checked(tmp_path):
    err = _broken(tmp_path, 'averaging = "mean"', 'averaging = "median"')
    assert err.key == "groups[0].averaging"


def test_missing_key_named(tmp_path):
    err = _broken(tmp_path, 'title = "关坝镇先进性教育活动党员分析评议测评表"\n', "")
    assert err.key == "ballot.title" and "缺少" in err.problem


def test_wrong_type_named(tmp_path):
    err = _broken(tmp_path, "max = 30", 'max = "30"')
    assert err.key == "ballot.items[7].max"


def test_bad_toml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[set\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as e:
        definitions.load(bad)
    assert e.value.code == "definitions-not-toml" and "bad.toml" in str(e.value)
    with pytest.raises(DefinitionError) as e:
        definitions.load(tmp_path / "absent.toml")
    assert e.value.code == "definitions-unreadable" and "absent.toml" in str(e.value)


def test_per_unit_options(tmp_path):
    text = SEED_SET.read_text(encoding="utf-8").replace(
        'attachment = "附件1"', 'attachment = "附件1"\naveraging = "trimmed"\nreweight_missing = true')
    path = tmp_path / "options.toml"
    path.write_text(text, encoding="utf-8")
    unit = definitions.load(path).unit("机关")
    assert unit.averaging == "trimmed" and unit.reweight_missing is True


def test_column_enums_follow_the_seed_headers():
    """The entry sheets', 回头看录入's and 附件5's column names point at the headers they name."""
    d = definitions.load()
    entry = L.entry_headers(d.items, d.ballot["total_header"])
    assert entry[L.EntryCol.BALLOT] == "票号" and entry[L.EntryCol.NAME] == "党员姓名"
    assert entry[L.EntryCol.FIRST_SCORE] == d.items[0].name
    assert L.entry_total_col(d.items) == len(entry) - 1
    assert L.LOOKBACK_FIXED_HEADERS[L.LookbackEntryCol.BALLOT] == "票号"
    assert [d.lookback["headers"][c] for c in L.LookbackFormCol] == ["项目", "标准分", "测评分", "备注"]
    assert [L.ROSTER_HEADERS[c] for c in (L.RosterCol.NAME, L.RosterCol.ROLE)] == ["姓名", "角色"]
