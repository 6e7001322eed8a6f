"""R16: length of the self-analyses (党性分析材料) in .docx and .txt files, and their folder."""
from __future__ import annotations

import os
import random
import re
import struct
import sys
import tracemalloc
import unicodedata
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

import libreoffice
from xlsheets.errors import XlsheetsError
from xlsheets.files.wordcount import (
    MAX_BODY,
    MIN_LEADERSHIP,
    MIN_MEMBER,
    Counted,
    WordCountError,
    count_file,
    count_folder,
    count_text,
)

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>')
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="{target}"/></Relationships>')
CJK = "我是一名中国共产党员对照党章党规找差距坚定理想信念增强四个意识"


def document(body, prefix="w"):
    """A main document part whose body is ``body`` (already XML)."""
    p = f"{prefix}:" if prefix else ""
    xmlns = f"xmlns:{prefix}" if prefix else "xmlns"
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<{p}document {xmlns}="{W}" xmlns:mc="{MC}"><{p}body>{body}</{p}body></{p}document>')


def para(*runs):
    """A paragraph, one run per text."""
    return "<w:p>" + "".join(f'<w:r><w:t xml:space="preserve">{escape(t)}</w:t></w:r>'
                             for t in runs) + "</w:p>"


def write_docx(path, body="", *, xml=None, target="word/document.xml", parts=None):
    """A minimal .docx by hand: content types, package relationships, main document."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", RELS.format(target=target))
        z.writestr(target.lstrip("/"), document(body) if xml is None else xml)
        for name, data in (parts or {}).items():
            z.writestr(name, data)
    return path


def text_of(n, spaces=True):
    """A text with exactly ``n`` counted characters, white space sprinkled in."""
    chars = (CJK * (n // len(CJK) + 1))[:n]
    if not spaces:
        return chars
    return "".join(c + (" \u3000\t\n\xa0"[i % 5] if i % 7 == 0 else "") for i, c in enumerate(chars))


def problem(excinfo):
    return excinfo.value.problem


# --- count_text --------------------------------------------------------------------------

def test_count_text_skips_white_space_zero_width_and_bom():
    assert count_text("") == 0
    assert count_text("张三 abc\u3000,。\t\n\r\xa0\u200b\ufeff\u2060") == 7
    assert count_text("\ufeff我是党员 Party member\u3000一二\n") == 4 + 5 + 6 + 2
    assert count_text("𠀀𠀁") == 2  # outside the BMP: one character each
    assert count_text(text_of(2000)) == 2000


def test_count_text_white_space_is_exactly_str_isspace():
    # every code point: counted unless isspace() or one of the invisible five
    invisible = {0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF}
    for i in range(sys.maxunicode + 1):
        c = chr(i)
        assert count_text(c) == (0 if c.isspace() or i in invisible else 1), hex(i)


# --- .docx -------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1999, 2000, 4000])
def test_docx_at_the_threshold(tmp_path, n):
    text = text_of(n)
    lines = text.split("\n")
    path = write_docx(tmp_path / "张三.docx", "".join(para(line) for line in lines))
    assert count_file(path) == n
    assert (count_file(path) >= MIN_MEMBER) == (n >= 2000)
    assert (count_file(path) >= MIN_LEADERSHIP) == (n >= 4000)


def test_docx_mixed_text_tabs_breaks_and_split_runs(tmp_path):
    body = (para("我是党员", " Party ", "member\u3000一二")  # 4 + 5 + 6 + 2
            + '<w:p><w:r><w:t>第</w:t><w:tab/><w:t>二</w:t><w:br/><w:t xml:space="preserve"> 段 </w:t>'
              '<w:cr/></w:r></w:p>'  # 3
            + "<w:p/>"
            + '<w:p><w:r><w:t>&lt;党章&gt;&amp;&#x4E00;&#12288;</w:t></w:r></w:p>'  # <党章>&一 : 6
            + '<w:p><w:r><w:instrText> PAGE </w:instrText></w:r><w:r><w:t>7</w:t></w:r></w:p>')  # 1
    path = write_docx(tmp_path / "a.docx", body)
    assert count_file(path) == 17 + 3 + 6 + 1


def test_docx_counts_accepted_text_only(tmp_path):
    body = ("<w:p>"
            '<w:r><w:t>原有</w:t></w:r>'  # 2
            '<w:ins w:id="1" w:author="a"><w:r><w:t>新增</w:t></w:r></w:ins>'  # 2
            '<w:del w:id="2" w:author="a"><w:r><w:delText>删除的文字</w:delText></w:r></w:del>'
            '<w:del w:id="3" w:author="a"><w:r><w:t>非规范的删除</w:t></w:r></w:del>'
            '<w:r><w:delText>孤立的删除文字</w:delText></w:r>'
            '<w:moveFrom w:id="4" w:author="a"><w:r><w:t>移走</w:t></w:r></w:moveFrom>'
            '<w:moveTo w:id="5" w:author="a"><w:r><w:t>移走</w:t></w:r></w:moveTo>'  # 2
            '<w:r><w:rPr><w:del w:id="6" w:author="a"/></w:rPr><w:t>尾</w:t></w:r>'  # 1
            "</w:p>")
    assert count_file(write_docx(tmp_path / "a.docx", body)) == 7


def test_docx_hidden_text_does_not_pad_a_material(tmp_path):
    body = ("<w:p>"
            '<w:r><w:t>看得见</w:t></w:r>'  # 3
            '<w:r><w:rPr><w:b/><w:vanish/></w:rPr><w:t>隐藏的凑字数文字</w:t></w:r>'
            '<w:r><w:rPr><w:vanish w:val="0"/></w:rPr><w:t>不隐藏</w:t></w:r>'  # 3
            '<w:r><w:rPr><w:vanish w:val="false"/></w:rPr><w:t>也不</w:t></w:r>'  # 2
            '<w:r><w:t>尾</w:t></w:r>'  # 1: a hidden run hides itself only
            "</w:p>"
            '<w:p><w:pPr><w:rPr><w:vanish/></w:rPr></w:pPr><w:r><w:t>段落标记隐藏</w:t></w:r></w:p>')  # 6
    assert count_file(write_docx(tmp_path / "a.docx", body)) == 15


def test_docx_text_box_counted_once(tmp_path):
    box = '<w:txbxContent><w:p><w:r><w:t>文本框里的字</w:t></w:r></w:p></w:txbxContent>'
    body = ('<w:p><w:r><mc:AlternateContent>'
            f'<mc:Choice Requires="wps"><w:drawing>{box}</w:drawing></mc:Choice>'
            f'<mc:Fallback><w:pict>{box}</w:pict></mc:Fallback>'
            '</mc:AlternateContent></w:r><w:r><w:t>正文</w:t></w:r></w:p>')
    assert count_file(write_docx(tmp_path / "a.docx", body)) == 6 + 2


@pytest.mark.parametrize("prefix", ["", "ns0", "word"])
def test_docx_namespace_prefix_does_not_matter(tmp_path, prefix):
    p = f"{prefix}:" if prefix else ""
    body = f"<{p}p><{p}r><{p}t>党性分析</{p}t></{p}r></{p}p>"
    foreign = '<x:p xmlns:x="urn:other"><x:t>不是正文</x:t></x:p>'
    xml = document(body + foreign, prefix)
    assert count_file(write_docx(tmp_path / "a.docx", xml=xml)) == 4


def test_docx_main_part_found_through_relationships(tmp_path):
    path = write_docx(tmp_path / "a.docx", target="/word/document2.xml",
                      xml=document(para("正文在别处")))
    assert count_file(path) == 5


def test_docx_body_only_not_footnotes(tmp_path):
    notes = (f'<w:footnotes xmlns:w="{W}"><w:footnote w:id="1"><w:p><w:r><w:t>脚注文字</w:t>'
             '</w:r></w:p></w:footnote></w:footnotes>')
    path = write_docx(tmp_path / "a.docx", para("正文"), parts={"word/footnotes.xml": notes})
    assert count_file(path) == 2


def test_docx_large_body_is_streamed(tmp_path):
    rng = random.Random(16)
    pool = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    path = tmp_path / "大.docx"
    total = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("_rels/.rels", RELS.format(target="word/document.xml"))
        with z.open("word/document.xml", "w") as out:
            out.write(f'<w:document xmlns:w="{W}"><w:body>'.encode())
            for _ in range(4000):
                line = "".join(rng.choices(pool, k=1000))
                total += len(line)
                out.write(para(line, " ").encode())
            out.write(b"</w:body></w:document>")
    assert zipfile.ZipFile(path).getinfo("word/document.xml").file_size > 10 << 20
    tracemalloc.start()
    try:
        assert count_file(path) == total == 4_000_000
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, peak


# --- .txt --------------------------------------------------------------------------------

TXT = "我是一名共产党员。\r\n\tParty member\u3000二〇〇五年 𠀀\n" * 300  # 8 + 11 + 6 + 1 per line


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_txt_encodings(tmp_path, encoding):
    path = tmp_path / "张三.txt"
    path.write_bytes(TXT.encode(encoding))
    assert count_file(path) == 26 * 300 == count_text(TXT)


def test_txt_gbk_bytes_that_are_not_utf8(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes("党性分析 材料".encode("gbk"))
    assert count_file(path) == 6


def test_txt_undecodable_refused(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"\x80\xff\x80\xff" * 10)
    with pytest.raises(WordCountError) as e:
        count_file(path)
    assert e.value.code == "material-encoding"


def test_empty_txt_counts_zero(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"")
    assert count_file(path) == 0


# --- refusals ----------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".doc", ".DOC", ".wps"])
def test_old_formats_refused_with_save_as_advice(tmp_path, suffix):
    path = tmp_path / f"张三{suffix}"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    with pytest.raises(WordCountError) as e:
        count_file(path)
    assert e.value.code == "material-old-format"
    assert str(e.value) == f"文件 {path}:{problem(e)}"
    assert isinstance(e.value, XlsheetsError)


def test_other_suffix_refused(tmp_path):
    path = tmp_path / "a.pdf"
    path.write_bytes(b"%PDF-1.4")
    with pytest.raises(WordCountError) as e:
        count_file(path)
    assert e.value.code == "material-format-unsupported"


def forged_size(path, declared, compressed=None):
    """Rewrite the central directory's sizes of word/document.xml (nothing inflated)."""
    data = bytearray(path.read_bytes())
    at = data.rfind(b"PK\x01\x02", 0, data.rfind(b"word/document.xml") + 1)
    assert data[at + 46:at + 63] == b"word/document.xml"
    struct.pack_into("<I", data, at + 24, declared)
    if compressed is not None:
        struct.pack_into("<I", data, at + 20, compressed)
    path.write_bytes(bytes(data))
    return path


def test_declared_body_size_over_limit_refused(tmp_path):
    path = forged_size(write_docx(tmp_path / "a.docx", para("短")), MAX_BODY + 1, 1 << 20)
    with pytest.raises(WordCountError) as e:
        count_file(path)
    assert e.value.code == "material-body-too-large"


def test_declared_huge_size_refused(tmp_path):
    path = forged_size(write_docx(tmp_path / "a.docx", para("短")), 0xFFFF_FFF0)
    with pytest.raises(WordCountError) as e:
        count_file(path)
    assert e.value.code == "package-ratio"


def test_real_zip_bomb_refused(tmp_path):
    path = tmp_path / "炸弹.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("word/document.xml", "w") as out:
            out.write(f'<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>'.encode())
            for _ in range(40):
                out.write(b"\x20" * (1 << 20))
            out.write(b"</w:t></w:r></w:p></w:body></w:document>")
    assert path.stat().st_size < 200_000
    with pytest.raises(WordCountError) as e:
        count_file(path)
    assert e.value.code == "package-ratio"


@pytest.mark.parametrize("xml", [
    f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "党性分析">]>'
    f'<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>&x;&x;</w:t></w:r></w:p></w:body></w:document>',
    '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    f'<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>&c;&c;&c;</w:t></w:r></w:p></w:body></w:document>',
    f'<?xml version="1.0"?><!DOCTYPE d SYSTEM "file:///etc/passwd">'
    f'<w:document xmlns:w="{W}"><w:body/></w:document>',
], ids=["entity", "laughs", "external"])
def test_dtd_and_entities_refused(tmp_path, xml):
    with pytest.raises(WordCountError) as e:
        count_file(write_docx(tmp_path / "a.docx", xml=xml))
    assert e.value.code == "material-dtd" and "word/document.xml" in problem(e)


@pytest.mark.parametrize("inside", ["", "<w:del>"])
def test_deep_nesting_refused(tmp_path, inside):
    body = "<w:p>" + inside + "<w:sdt>" * 6000 + "</w:sdt>" * 6000 + inside.replace("<", "</") + "</w:p>"
    with pytest.raises(WordCountError) as e:
        count_file(write_docx(tmp_path / "a.docx", body))
    assert e.value.code == "material-too-deep"
    ok = "<w:p>" + "<w:sdt>" * 4000 + "<w:r><w:t>深</w:t></w:r>" + "</w:sdt>" * 4000 + "</w:p>"
    assert count_file(write_docx(tmp_path / "b.docx", ok)) == 1


def test_dtd_in_relationships_refused(tmp_path):
    path = tmp_path / "a.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("_rels/.rels", '<!DOCTYPE r [<!ENTITY x "y">]><Relationships/>')
        z.writestr("word/document.xml", document(para("正文")))
    with pytest.raises(WordCountError) as e:
        count_file(path)
    assert e.value.code == "material-dtd" and "_rels/.rels" in problem(e)


def test_not_a_docx(tmp_path):
    random_bytes = tmp_path / "随机.docx"
    random_bytes.write_bytes(random.Random(1).randbytes(5000))
    xlsx = tmp_path / "表格.docx"
    with zipfile.ZipFile(xlsx, "w") as z:
        z.writestr("_rels/.rels", RELS.format(target="xl/workbook.xml"))
        z.writestr("xl/workbook.xml", '<workbook xmlns="http://schemas.openxmlformats.org/'
                                      'spreadsheetml/2006/main"/>')
    no_body = tmp_path / "无正文.docx"
    with zipfile.ZipFile(no_body, "w") as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
    truncated = tmp_path / "截断.docx"
    truncated.write_bytes(write_docx(tmp_path / "x" / "好.docx", para(CJK * 50)).read_bytes()[:300])
    broken_xml = write_docx(tmp_path / "坏.docx", xml=document(para("正文"))[:-20])
    cfb = tmp_path / "加密.docx"
    cfb.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    empty = tmp_path / "空.docx"
    empty.write_bytes(b"")
    expected = {random_bytes: "material-not-docx", xlsx: "material-not-word",
                no_body: "material-no-body", truncated: "material-not-docx",
                broken_xml: "material-xml-bad", cfb: "material-encrypted", empty: "material-file-empty"}
    for path, code in expected.items():
        with pytest.raises(WordCountError) as e:
            count_file(path)
        assert e.value.code == code, (path.name, problem(e))
        assert e.value.path == str(path)
        assert re.search(r"[\u4e00-\u9fff]", problem(e))


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(WordCountError) as e:
        count_file(tmp_path / "无.docx")
    assert e.value.code == "file-missing"
    (tmp_path / "夹.docx").mkdir()
    with pytest.raises(WordCountError) as e:
        count_file(tmp_path / "夹.docx")
    assert e.value.code == "material-is-folder"


# --- a folder ----------------------------------------------------------------------------

NAMES = ["张三", "李四", "王五", "张三丰", "赵六", "钱七", "孙八", "周九", "吴 十", "郑 一"]


def build_folder(root):
    """One folder of materials: matched, unmatched, duplicate, skipped and refused files."""
    write_docx(root / "张三.docx", para(text_of(2000)))
    (root / "01_李四 党性分析材料.txt").write_text(text_of(1999), encoding="gb18030")
    write_docx(root / "王五.docx", para("甲"))
    (root / "王五.txt").write_text("乙", encoding="utf-8")
    write_docx(root / "张三丰党性分析.docx", para(text_of(2500)))
    write_docx(root / "陈七.docx", para("无此人"))
    write_docx(root / "张三同学.docx", para("不是张三"))
    write_docx(root / "~$张三.docx", para("锁文件"))
    write_docx(root / "._王五.docx", para("macOS"))
    (root / ".~lock.张三.docx#").write_text("lock", encoding="utf-8")
    (root / "说明.pdf").write_bytes(b"%PDF")
    write_docx(root / "旧" / "赵六.docx", para("子文件夹不读"))
    (root / "赵六.doc").write_bytes(b"\xd0\xcf\x11\xe0" + bytes(100))
    (root / "钱七.doc").write_bytes(b"\xd0\xcf\x11\xe0" + bytes(100))  # saved as .docx beside it
    write_docx(root / "钱七.docx", para(text_of(30)))
    (root / "孙八.docx").write_bytes(b"not a zip at all")
    nfd = unicodedata.normalize("NFD", "Zoé·阿依")
    assert nfd != unicodedata.normalize("NFC", nfd)
    write_docx(root / f"{nfd}.docx", para("阿依的材料"))
    write_docx(root / "周 九(修改稿).docx", para(text_of(12)))
    write_docx(root / "吴十.docx", para(text_of(3)))
    write_docx(root / "郑\u3000一-党性分析.docx", para(text_of(4)))
    write_docx(root / "领导班子党性分析材料.docx", para(text_of(4000)))
    return root


def test_folder(tmp_path):
    folder = build_folder(tmp_path / "材料")
    got = count_folder(folder, [*NAMES, "Zoé·阿依"], "领导班子")
    nfd = unicodedata.normalize("NFD", "Zoé·阿依") + ".docx"
    assert got == Counted(
        counts={"张三": (2000, "张三.docx"),
                "李四": (1999, "01_李四 党性分析材料.txt"),
                "张三丰": (2500, "张三丰党性分析.docx"),
                "钱七": (30, "钱七.docx"),
                "周九": (12, "周 九(修改稿).docx"),
                "吴 十": (3, "吴十.docx"),
                "郑 一": (4, "郑\u3000一-党性分析.docx"),
                "Zoé·阿依": (5, nfd),
                "领导班子": (4000, "领导班子党性分析材料.docx")},
        unmatched=["张三同学.docx", "陈七.docx"],
        failed=[("赵六.doc", got.failed[0][1]), ("孙八.docx", got.failed[1][1])],
        duplicates=[("王五", ["王五.docx", "王五.txt"])])
    assert "另存为" in got.failed[0][1] and ".docx" in got.failed[0][1]
    assert "不是有效的 .docx 文档" in got.failed[1][1]
    assert got.counts["张三"][0] >= MIN_MEMBER > got.counts["李四"][0]
    assert got.counts["领导班子"][0] >= MIN_LEADERSHIP


def test_folder_longest_name_wins_and_shared_names(tmp_path):
    folder = tmp_path / "f"
    write_docx(folder / "张三丰 材料.docx", para("丰"))
    write_docx(folder / "李四.docx", para("四"))
    write_docx(folder / "3、张三-初稿.docx", para("三三"))
    got = count_folder(folder, ["张三", "张三丰", "李四", "李四"], None)
    assert got.counts == {"张三丰": (1, "张三丰 材料.docx"), "张三": (2, "3、张三-初稿.docx")}
    assert got.failed == [("李四.docx", "名单中有 2 个“李四”,无法确定这是谁的材料。")]
    assert got.unmatched == [] and got.duplicates == []


def test_folder_without_files_or_names(tmp_path):
    assert count_folder(tmp_path, [], "") == Counted()
    write_docx(tmp_path / "张三.docx", para("一"))
    assert count_folder(tmp_path, [], None) == Counted(unmatched=["张三.docx"])


def test_folder_missing_or_a_file(tmp_path):
    missing = tmp_path / "没有这个文件夹"
    with pytest.raises(WordCountError) as e:
        count_folder(missing, ["张三"], "领导班子")
    assert e.value.code == "materials-folder-missing"
    assert str(e.value).startswith(f"文件夹 {missing}:")
    a_file = tmp_path / "名单.txt"
    a_file.write_text("x", encoding="utf-8")
    with pytest.raises(WordCountError) as e:
        count_folder(a_file, ["张三"], "领导班子")
    assert str(e.value).startswith(f"文件夹 {a_file}:") and e.value.code == "materials-not-folder"


# --- a real Word file from a real program ------------------------------------------------

@pytest.fixture(scope="module")
def writer(soffice, tmp_path_factory):
    """LibreOffice with Writer; skips (fails under $CI) when only Calc is installed."""
    tmp = tmp_path_factory.mktemp("writer")
    probe = tmp / "probe.txt"
    probe.write_text("\ufeff试", encoding="utf-8")
    try:
        libreoffice._convert(probe, tmp / "out", "docx:MS Word 2007 XML", ".docx")
    except AssertionError as e:
        msg = f"LibreOffice Writer not available (install libreoffice-writer): {e}"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return soffice


@pytest.mark.libreoffice
def test_libreoffice_docx_and_doc(writer, tmp_path):
    text = text_of(2000).replace("\n", "\r\n") + "\r\n第二页 Party member\u3000end"  # 2000 + 3 + 5 + 6 + 3
    src = tmp_path / "src" / "张三.txt"
    src.parent.mkdir()
    src.write_text("\ufeff" + text, encoding="utf-8", newline="")
    docx = libreoffice._convert(src, tmp_path / "docx", "docx:MS Word 2007 XML", ".docx")
    doc = libreoffice._convert(src, tmp_path / "doc", "doc:MS Word 97", ".doc")
    assert count_file(src) == count_file(docx) == 2017
    with pytest.raises(WordCountError) as e:
        count_file(doc)
    assert e.value.code == "material-old-format"
    renamed = tmp_path / "改名.docx"
    renamed.write_bytes(doc.read_bytes())
    with pytest.raises(WordCountError) as e:
        count_file(renamed)
    assert e.value.code == "material-encrypted"
    (tmp_path / "docx" / "张三.doc").write_bytes(doc.read_bytes())  # the original beside it
    got = count_folder(tmp_path / "docx", ["张三"], "领导班子")
    assert got == Counted(counts={"张三": (2017, "张三.docx")})
