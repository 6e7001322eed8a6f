"""Workbooks with an opening password: `new`/`split` write them, `validate`/`compute`/`collect` read them.

- `new --password` and `split --password` write real OOXML agile encryption (an OLE
  compound file): msoffcrypto-tool decrypts each to exactly the workbook written
  without a password;
- without `--password` an encrypted workbook is refused with one Chinese message
  that says it is encrypted and how to give the password (exit 2); a wrong password
  says 密码不正确 (exit 2); the file is never touched;
- `compute --password` writes the figures back, still encrypted with the same
  password, and the file decrypts to what `compute` writes into the plain workbook;
- tiny packages (msoffcrypto-tool issue #105: `EncryptedPackage` in the CFB mini
  stream comes back as garbage) are padded, and every encrypted file is proven to
  decrypt before it replaces anything;
- LibreOffice opens an encrypted workbook with the right password and refuses a
  wrong one. Headless `soffice --convert-to` has no way to pass a password (its
  conversion loads documents silently, without interaction), so the test runs a
  small LibreOffice Basic macro from a throwaway profile with
  `soffice --headless macro:///Standard.Module1.Convert(...)`: the macro calls
  `loadComponentFromURL` with the `Password` media-descriptor property and stores
  the document as a plain .xlsx (recalculated: the profile recalculates on load).
"""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import msoffcrypto
import openpyxl
import pytest

import books as B
import inboxes as I
import libreoffice as lo
from books import DEFS, worked_book
from xlsheets.disk import crypto, debris
from xlsheets.workbook import layout as L
from xlsheets.cli import main
from xlsheets.files.compute import compute_file, validate_file
from xlsheets.ooxml import BookError

PASSWORD = "关坝2005!"
WRONG = "关坝2006!"
NOW = dt.datetime(2005, 9, 10, 16, 30)
CJK = re.compile(r"[\u4e00-\u9fff]")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def msoff_decrypt(path, password):
    """Decrypt with msoffcrypto-tool directly (not through xlsheets.disk.crypto)."""
    with open(path, "rb") as f:
        office = msoffcrypto.OfficeFile(f)
        office.load_key(password=password)
        out = io.BytesIO()
        office.decrypt(out)
    return out.getvalue()


def encrypted_copy(plain, target, password=PASSWORD):
    crypto.encrypt(plain, target, password)
    assert target.read_bytes().startswith(crypto.CFB_MAGIC)
    return target


def one_line_error(err):
    assert CJK.search(err) and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    return err


# --- new and split write encrypted workbooks --------------------------------------------

def test_new_with_password_writes_an_encrypted_copy_of_the_same_workbook(tmp_path, capsys):
    roster = I.write_town_roster(tmp_path / "名册.csv", {"机关": [("张三", "书记"), ("李四", "党员")]})
    plain, locked = tmp_path / "plain.xlsx", tmp_path / "机关.xlsx"
    assert run(capsys, "new", "--unit", "机关", "--roster", roster, "--out", plain)[0] == 0
    code, out, err = run(capsys, "new", "--unit", "机关", "--roster", roster, "--out", locked,
                         "--password", PASSWORD)
    assert code == 0, err
    assert "已加密" in out
    data = locked.read_bytes()
    assert data.startswith(crypto.CFB_MAGIC) and not zipfile.is_zipfile(locked)
    assert crypto.is_encrypted(locked) and not crypto.is_encrypted(plain)
    assert msoff_decrypt(locked, PASSWORD) == plain.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.xlsx", "名册.csv", "机关.xlsx"]


def test_split_with_password_encrypts_every_branch(tmp_path, capsys):
    roster = I.write_town_roster(tmp_path / "全镇名册.csv", {
        "机关": [("张伟", "书记"), ("李娜", "党员")], "红旗村": [("黄强", "书记"), ("周杰", "党员")]})
    code, out, err = run(capsys, "split", "--roster", roster, "--out", tmp_path / "发出",
                         "--password", PASSWORD)
    assert code == 0, err
    assert "已加密" in out
    assert run(capsys, "split", "--roster", roster, "--out", tmp_path / "明文")[0] == 0
    files = sorted((tmp_path / "发出").iterdir())
    assert [p.name for p in files] == sorted(p.name for p in (tmp_path / "明文").iterdir())
    assert len(files) == 2
    for path in files:
        assert path.read_bytes().startswith(crypto.CFB_MAGIC)
        plain = msoff_decrypt(path, PASSWORD)
        assert plain == (tmp_path / "明文" / path.name).read_bytes()
        wb = openpyxl.load_workbook(io.BytesIO(plain))
        assert wb[L.INTRO].cell(3, 2).value in path.name


def test_split_refuses_before_writing_when_a_target_is_open(tmp_path, capsys):
    from xlsheets.town.split import file_name

    roster = I.write_town_roster(tmp_path / "全镇名册.csv", {
        "机关": [("张伟", "书记")], "红旗村": [("黄强", "书记")]})
    out = tmp_path / "发出"
    out.mkdir()
    second = out / file_name(DEFS.town, "红旗村")
    second.write_bytes(b"open in Excel")
    (out / ("~$" + second.name)).write_bytes(b"owner")
    code, _, err = run(capsys, "split", "--roster", roster, "--out", out, "--password", PASSWORD)
    assert code == 2 and second.name in one_line_error(err)
    assert sorted(p.name for p in out.iterdir()) == sorted([second.name, "~$" + second.name])


@pytest.mark.parametrize("password, words", [("", "不能为空"), ("x" * 256, "255")])
def test_unusable_passwords_are_refused(tmp_path, capsys, password, words):
    roster = I.write_town_roster(tmp_path / "名册.csv", {"机关": [("张三", "书记")]})
    code, _, err = run(capsys, "new", "--unit", "机关", "--roster", roster,
                       "--out", tmp_path / "o.xlsx", "--password", password)
    assert code == 2 and words in one_line_error(err)
    assert not (tmp_path / "o.xlsx").exists()


# --- validate and compute open them --------------------------------------------------------

@pytest.fixture
def locked_book(tmp_path):
    """The worked example, encrypted with PASSWORD, and its plain twin."""
    plain = worked_book(tmp_path / "plain")
    locked = encrypted_copy(plain, tmp_path / "机关.xlsx")
    return locked, plain


@pytest.mark.parametrize("command", ["validate", "compute"])
def test_without_password_the_file_is_said_to_be_encrypted(locked_book, capsys, command):
    locked, _ = locked_book
    before = locked.read_bytes()
    code, out, err = run(capsys, command, locked)
    assert code == 2
    one_line_error(err)
    assert "机关.xlsx" in err
    with pytest.raises(BookError) as e:
        (validate_file if command == "validate" else compute_file)(locked, DEFS)
    assert e.value.code == "password-needed" and e.value.path == str(locked)
    assert str(e.value) in err
    assert locked.read_bytes() == before
    assert sorted(p.name for p in locked.parent.iterdir()) == ["plain", "机关.xlsx"]


@pytest.mark.parametrize("command", ["validate", "compute"])
def test_a_wrong_password_is_refused(locked_book, capsys, command):
    locked, _ = locked_book
    before = locked.read_bytes()
    code, out, err = run(capsys, command, locked, "--password", WRONG)
    assert code == 2
    assert "机关.xlsx" in one_line_error(err)
    with pytest.raises(crypto.PasswordError) as e:
        (validate_file if command == "validate" else compute_file)(locked, DEFS, password=WRONG)
    assert e.value.code == "password-wrong" and e.value.path == str(locked)
    assert str(e.value) in err
    assert locked.read_bytes() == before


def test_validate_with_password_finds_what_the_plain_file_shows(locked_book, capsys):
    locked, plain = locked_book
    code, out, err = run(capsys, "validate", locked, "--password", PASSWORD, "--json")
    assert code == 0, err
    expected = run(capsys, "validate", plain, "--json")[1]
    assert json.loads(out) == json.loads(expected)


def test_compute_writes_back_encrypted_with_the_same_password(locked_book, capsys):
    locked, plain = locked_book
    code, out, err = run(capsys, "compute", locked, "--password", PASSWORD, "--json")
    assert code == 0, err
    assert json.loads(out) == json.loads(run(capsys, "compute", plain, "--json")[1])
    assert crypto.is_encrypted(locked)
    doc = openpyxl.load_workbook(io.BytesIO(msoff_decrypt(locked, PASSWORD)), data_only=True)
    assert "校验结果" in doc.sheetnames
    assert doc[L.SUMMARY]["J3"].value == 88.17  # 88 + 1/6 as R8 shows it
    # nothing else left beside it, and a second compute with the password is fine too
    assert sorted(p.name for p in locked.parent.iterdir()) == ["plain", "机关.xlsx"]
    code, out, err = run(capsys, "compute", locked, "--password", PASSWORD)
    assert code == 0 and "仍以原密码加密" in out, err


def test_encrypted_compute_decrypts_to_exactly_the_plain_compute(locked_book):
    locked, plain = locked_book
    outcome = compute_file(locked, DEFS, now=NOW, password=PASSWORD)
    assert outcome.written and outcome.encrypted and outcome.path == str(locked)
    assert compute_file(plain, DEFS, now=NOW).written
    assert crypto.decrypt(locked, PASSWORD) == plain.read_bytes()
    again, _ = validate_file(locked, DEFS, password=PASSWORD)
    assert again.ok and again.encrypted and again.path == str(locked)


def test_compute_with_errors_leaves_the_encrypted_file(tmp_path, capsys):
    plain = worked_book(tmp_path / "plain", cells={"党员互评": {"C2": "八"}})
    locked = encrypted_copy(plain, tmp_path / "机关.xlsx")
    before = locked.read_bytes()
    code, out, err = run(capsys, "compute", locked, "--password", PASSWORD)
    assert code == 1 and "未计算" in err
    assert locked.read_bytes() == before


def test_password_from_standard_input(locked_book, capsys, monkeypatch):
    locked, _ = locked_book
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code, out, err = run(capsys, "validate", locked, "--password", "-")
    assert code == 0, err
    assert PASSWORD not in out + err


def test_a_password_for_a_plain_file_is_not_needed(locked_book, capsys):
    _, plain = locked_book
    before = plain.read_bytes()
    code, out, err = run(capsys, "validate", plain, "--password", PASSWORD)
    assert code == 0 and "没有设置打开密码" in err
    assert plain.read_bytes() == before


def test_errors_about_the_decrypted_copy_name_the_clerks_file(tmp_path, capsys):
    """An encrypted workbook that is not ours: the message names it, not a temporary copy."""
    foreign = tmp_path / "foreign.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "别的表格"
    wb.save(foreign)
    locked = encrypted_copy(foreign, tmp_path / "别人的表格.xlsx")
    code, _, err = run(capsys, "validate", locked, "--password", PASSWORD)
    assert code == 2
    assert "别人的表格.xlsx" in one_line_error(err) and "民主评议工作簿" in err
    assert debris.PLAIN_PREFIX not in err and str(locked) in err


def test_damaged_encrypted_files_and_old_xls_say_so(tmp_path, capsys, locked_book):
    locked, _ = locked_book
    damaged = tmp_path / "损坏.xlsx"
    data = bytearray(locked.read_bytes())
    data[-3000:-2000] = bytes(1000)  # inside EncryptedPackage
    damaged.write_bytes(bytes(data))
    code, _, err = run(capsys, "validate", damaged, "--password", PASSWORD)
    assert code == 2 and "损坏.xlsx" in one_line_error(err)
    old = tmp_path / "旧版.xlsx"
    old.write_bytes(crypto.CFB_MAGIC + bytes(2000))  # an OLE file without encryption streams
    assert not crypto.is_encrypted(old)
    code, _, err = run(capsys, "validate", old, "--password", PASSWORD)
    assert code == 2 and "旧版.xlsx" in one_line_error(err)


def test_a_hostile_key_stretching_count_is_refused_at_once(locked_book, tmp_path, capsys):
    """spinCount is read from the file: 2,000,000,000 rounds would stall for hours.

    msoffcrypto-tool (>= 6) refuses more than [MS-OFFCRYPTO]'s 10,000,000 before deriving.
    """
    import olefile
    from msoffcrypto.method.container.ecma376_encrypted import ECMA376Encrypted

    locked, _ = locked_book
    with olefile.OleFileIO(str(locked)) as ole:
        package = ole.openstream("EncryptedPackage").read()
        info = ole.openstream("EncryptionInfo").read()
    assert info.count(b'spinCount="100000"') == 1
    buf = io.BytesIO()
    ECMA376Encrypted(package, info.replace(b'spinCount="100000"', b'spinCount="2000000000"')
                     ).write_to(buf)
    hostile = tmp_path / "恶意.xlsx"
    hostile.write_bytes(buf.getvalue())
    started = dt.datetime.now()
    code, _, err = run(capsys, "validate", hostile, "--password", PASSWORD)
    assert code == 2 and "恶意.xlsx" in one_line_error(err) and "无法解密" in err
    assert (dt.datetime.now() - started).total_seconds() < 10


# --- the crypto module ---------------------------------------------------------------------

def _tiny_package(size):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"/>')
        base = len(buf.getvalue()) + 200
        z.writestr("pad.bin", b"x" * max(0, size - base))
    return buf.getvalue()


@pytest.mark.parametrize("size", [600, 3000, 4080, 4081, 4200, 9000])
def test_small_packages_survive_encryption(size):
    """msoffcrypto-tool's mini-stream bug (issue #105) bites packages up to 4,080 bytes."""
    plain = _tiny_package(size)
    encrypted = crypto.encrypt_bytes(plain, PASSWORD)
    back = crypto.decrypt_bytes(encrypted, PASSWORD)
    with zipfile.ZipFile(io.BytesIO(back)) as z, zipfile.ZipFile(io.BytesIO(plain)) as p:
        assert [(i.filename, z.read(i)) for i in z.infolist()] == \
            [(i.filename, p.read(i)) for i in p.infolist()]
    if len(plain) > crypto.SMALL_PACKAGE:
        assert back == plain


def test_an_encryption_that_does_not_decrypt_writes_nothing(tmp_path, monkeypatch, capsys):
    roster = I.write_town_roster(tmp_path / "名册.csv", {"机关": [("张三", "书记")]})
    out = tmp_path / "机关.xlsx"
    out.write_bytes(b"the earlier file")
    monkeypatch.setattr(crypto, "decrypt_bytes", lambda data, password, name="": b"PK garbage")
    code, _, err = run(capsys, "new", "--unit", "机关", "--roster", roster, "--out", out,
                       "--password", PASSWORD)
    assert code == 2 and "未能按原密码正确解密" in one_line_error(err)
    assert out.read_bytes() == b"the earlier file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["名册.csv", "机关.xlsx"]


def test_plain_copy_is_removed_and_private(locked_book):
    locked, plain = locked_book
    with crypto.plain_copy(plain, PASSWORD) as same:
        assert same == plain
    with crypto.plain_copy(locked, PASSWORD) as copy:
        assert copy.read_bytes() == crypto.decrypt(locked, PASSWORD)
        if os.name == "posix":
            assert os.stat(copy.parent).st_mode & 0o077 == 0
    assert not copy.exists() and not copy.parent.exists()
    with pytest.raises(BookError) as e:
        with crypto.plain_copy(locked):
            pass
    assert e.value.code == "password-needed" and e.value.path == str(locked)
    with pytest.raises(crypto.PasswordError) as e:
        with crypto.plain_copy(locked, WRONG):
            pass
    assert e.value.code == "password-wrong" and e.value.path == str(locked)


# --- collect -------------------------------------------------------------------------------

def test_collect_without_password_rejects_an_encrypted_return(locked_book, tmp_path, capsys):
    locked, _ = locked_book
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    shutil.copy(locked, inbox / "机关.xlsx")
    code, out, err = run(capsys, "collect", inbox, "--out", tmp_path / "汇总.xlsx", "--workers", "1")
    assert code == 0, err
    line = next(x for x in out.splitlines() if "机关.xlsx" in x)
    assert "拒收" in line and "已加密" in line and "--password" in line


def test_collect_password_reaches_the_workers(monkeypatch):
    monkeypatch.delenv(crypto.INBOX_PASSWORD_ENV, raising=False)
    with crypto.inbox_password(PASSWORD):
        assert crypto.inbox_password_now() == PASSWORD
        child = subprocess.run(
            [sys.executable, "-c", "from xlsheets.disk import crypto; "
             "print(crypto.inbox_password_now() == " + repr(PASSWORD) + ")"],
            capture_output=True, text=True, check=True)
        assert child.stdout.strip() == "True"
    assert crypto.inbox_password_now() is None


@pytest.mark.parametrize("workers", ["1", "2"])
def test_collect_with_password_includes_an_encrypted_return(tmp_path, capsys, workers):
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    plain = worked_book(tmp_path / "plain")
    encrypted_copy(plain, inbox / "机关.xlsx")
    other = B.make_book(tmp_path / "other", B.worked_ballots(), unit="兴隆街社区",
                        filename="社区.xlsx", lookback=B.F.LOOKBACK, categories=B.F.CATEGORIES,
                        levels=B.F.LEVELS)
    shutil.copy(other, inbox / "社区.xlsx")
    code, out, err = run(capsys, "collect", inbox, "--out", tmp_path / "汇总.xlsx",
                         "--workers", workers, "--password", PASSWORD)
    assert code == 0, err
    assert "[采用] 机关.xlsx" in out and "[采用] 社区.xlsx" in out


# --- LibreOffice ---------------------------------------------------------------------------

_MACRO = """Sub Convert(sIn As String, sPassword As String, sOut As String, sStatus As String)
  Dim oDoc As Object
  Dim aLoad(1) As New com.sun.star.beans.PropertyValue
  aLoad(0).Name = "Hidden" : aLoad(0).Value = True
  aLoad(1).Name = "Password" : aLoad(1).Value = sPassword
  On Error Goto Failed
  oDoc = StarDesktop.loadComponentFromURL(ConvertToURL(sIn), "_blank", 0, aLoad())
  If IsNull(oDoc) Then
    WriteStatus(sStatus, "not loaded")
    Exit Sub
  End If
  Dim aStore(0) As New com.sun.star.beans.PropertyValue
  aStore(0).Name = "FilterName" : aStore(0).Value = "Calc MS Excel 2007 XML"
  oDoc.storeToURL(ConvertToURL(sOut), aStore())
  oDoc.close(True)
  WriteStatus(sStatus, "ok")
  Exit Sub
Failed:
  WriteStatus(sStatus, "failed: " & Error$)
End Sub

Sub WriteStatus(sPath As String, sText As String)
  Dim n As Integer
  n = FreeFile
  Open sPath For Output As #n
  Print #n, sText
  Close #n
End Sub
"""


def _lo_profile(folder):
    """A throwaway profile (recalculate on load) whose Standard library holds the macro."""
    prof = Path(folder) / "profile"
    (prof / "user").mkdir(parents=True)
    (prof / "user" / "registrymodifications.xcu").write_text(lo._XCU, encoding="utf-8")
    subprocess.run([lo.soffice_path(), f"-env:UserInstallation={prof.as_uri()}", "--headless",
                    "--norestore", "--terminate_after_init"],
                   capture_output=True, timeout=lo.TIMEOUT)
    module = prof / "user" / "basic" / "Standard" / "Module1.xba"
    assert module.parent.is_dir(), "LibreOffice did not initialise the profile"
    body = escape(_MACRO, {'"': "&quot;"})
    module.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" '
        '"module.dtd">\n<script:module xmlns:script="http://openoffice.org/2000/script" '
        f'script:name="Module1" script:language="StarBasic">{body}</script:module>\n',
        encoding="utf-8")
    return prof


def lo_open(prof, src, password, out):
    """Open ``src`` in LibreOffice with ``password``; store it as plain ``out``. The status text."""
    status = out.with_suffix(".status")
    args = ",".join(f'"{a}"' for a in (src, password, out, status))
    assert '"' not in password
    res = subprocess.run([lo.soffice_path(), f"-env:UserInstallation={prof.as_uri()}",
                          "--headless", "--norestore", "--nolockcheck",
                          f"macro:///Standard.Module1.Convert({args})"],
                         capture_output=True, text=True, timeout=lo.TIMEOUT)
    assert status.exists(), f"the macro did not run: {res}"
    return status.read_text(errors="replace").strip()


@pytest.mark.libreoffice
def test_libreoffice_opens_with_the_password_and_refuses_a_wrong_one(soffice, tmp_path,
                                                                     locked_book):
    locked, plain = locked_book
    assert compute_file(locked, DEFS, password=PASSWORD).written
    assert compute_file(plain, DEFS).written
    prof = _lo_profile(tmp_path / "lo")
    opened = tmp_path / "lo" / "opened.xlsx"
    assert lo_open(prof, locked, PASSWORD, opened) == "ok"
    ours = lo.read_values(plain)
    theirs = lo.read_values(opened)  # recalculated by LibreOffice on load
    for row in range(2, 2 + len(B.NAMES)):
        for col in "ABCDEFGHIJK":
            mine, lo_value = lo.cell(ours, L.SUMMARY, f"{col}{row + 1}"), \
                lo.cell(theirs, L.SUMMARY, f"{col}{row + 1}")
            if isinstance(mine, (int, float)):
                assert lo_value == pytest.approx(mine, abs=1e-9), (col, row)
            else:
                assert lo_value == mine, (col, row)
    refused = tmp_path / "lo" / "refused.xlsx"
    status = lo_open(prof, locked, WRONG, refused)
    assert status != "ok" and not refused.exists()
    # and plain headless conversion, which cannot pass a password, does not open it either
    with pytest.raises(AssertionError, match="produced no"):
        lo.recalc(locked, tmp_path / "lo" / "convert")
