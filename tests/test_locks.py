"""Two commands on one workbook, and a command killed in the middle of writing.

- a workbook lock held by a live process: a second `compute` (or `new` onto the
  same file) exits 2 with "另一个 xlsheets 命令正在处理 …" and the file is unchanged;
- a lock left by a process that is gone is stale: it is taken over, and the
  temporary files that process left are removed;
- a `compute` killed (SIGKILL on Linux, TerminateProcess on Windows) while it
  writes leaves the original byte for byte, still usable; only the lock and the
  dead process's temporary file remain, and the next `compute` takes the lock
  over, clears them and succeeds. The child is slowed down deterministically: a
  small wrapper script runs `xlsheets.cli.main` with `write_patched` replaced by
  one that writes half a file, says so, and sleeps;
- the same for an encrypted workbook, whose decrypted private copy in the temp
  folder is cleared too.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from books import DEFS, worked_book
from xlsheets.disk import crypto, debris, locks
from xlsheets.cli import main
from xlsheets.files.compute import validate_file

PASSWORD = "关坝2005!"
MESSAGE = "另一个 xlsheets 命令正在处理"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def cli(*argv, env=None, timeout=120):
    """`python -m xlsheets.cli ...` in a child process, as a second clerk's command would run."""
    return subprocess.run([sys.executable, "-m", "xlsheets.cli", *map(str, argv)],
                          capture_output=True, text=True, encoding="utf-8", timeout=timeout,
                          env=env)


def dead_pid():
    """The pid of a process that has ended (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def write_lock(book, pid, host=None, age=0.0):
    lock = locks.lock_path(book)
    lock.write_text(json.dumps({"pid": pid, "host": host or socket.gethostname(),
                                "time": "2005-09-10T16:30:00"}), encoding="utf-8")
    if age:
        then = time.time() - age
        os.utime(lock, (then, then))
    return lock


def listing(folder):
    return sorted(p.name for p in Path(folder).iterdir())


@pytest.fixture
def holder(tmp_path):
    """A live process holding a workbook's lock (through the real API) until the test ends."""
    procs = []

    def hold(book):
        ready = tmp_path / f"held-{len(procs)}"
        script = textwrap.dedent(f"""
            import time
            from pathlib import Path
            from xlsheets.disk.locks import workbook_lock
            with workbook_lock({str(book)!r}):
                Path({str(ready)!r}).write_text("held")
                time.sleep(120)
        """)
        proc = subprocess.Popen([sys.executable, "-c", script])
        procs.append(proc)
        _wait_for(ready, proc)
        return proc

    yield hold
    for proc in procs:
        proc.kill()
        proc.wait()


def _wait_for(path, proc, seconds=60):
    deadline = time.monotonic() + seconds
    while not Path(path).exists():
        assert proc.poll() is None, f"child ended early with {proc.returncode}"
        assert time.monotonic() < deadline, "child never got there"
        time.sleep(0.02)


# --- a held lock ---------------------------------------------------------------------------

def test_a_held_lock_stops_a_second_compute(tmp_path, holder):
    book = worked_book(tmp_path)
    before = book.read_bytes()
    holder(book)
    res = cli("compute", book)
    assert res.returncode == 2, res
    err = res.stderr
    assert MESSAGE in err and "机关.xlsx" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert book.read_bytes() == before
    assert locks.lock_path(book).exists(), "the holder's lock is left alone"
    assert not list(tmp_path.glob(".~xlsheets-*"))


def test_a_held_lock_stops_new_onto_the_same_file(tmp_path, capsys, holder):
    book = worked_book(tmp_path)
    before = book.read_bytes()
    holder(book)
    roster = next((tmp_path / "名册").iterdir())
    code, out, err = run(capsys, "new", "--unit", "机关", "--roster", roster, "--out", book)
    assert code == 2 and MESSAGE in err and "Traceback" not in err
    assert book.read_bytes() == before


def test_validate_reads_while_a_lock_is_held(tmp_path, capsys, holder):
    book = worked_book(tmp_path)
    holder(book)
    assert run(capsys, "validate", book)[0] == 0


def test_the_lock_is_gone_after_each_command(tmp_path, capsys):
    book = worked_book(tmp_path)
    assert run(capsys, "compute", book)[0] == 0
    assert run(capsys, "compute", book, "--unit", "兴隆街社区")[0] == 1
    assert not locks.lock_path(book).exists()
    assert ".机关.xlsx.xlsheets-lock" == locks.lock_path(book).name


def test_a_lock_of_another_computer_is_respected(tmp_path, capsys):
    book = worked_book(tmp_path)
    before = book.read_bytes()
    write_lock(book, dead_pid(), host="另一台电脑")
    code, out, err = run(capsys, "compute", book)
    assert code == 2 and MESSAGE in err and "另一台电脑" in err
    assert str(locks.lock_path(book)) in err, "the message says which file to delete"
    assert book.read_bytes() == before


# --- stale locks ---------------------------------------------------------------------------

def test_a_stale_lock_is_taken_over_and_its_debris_cleared(tmp_path, capsys):
    book = worked_book(tmp_path)
    pid = dead_pid()
    write_lock(book, pid)
    debris = tmp_path / f".~xlsheets-{locks.debris_tag(pid)}abc123.xlsx"
    debris.write_bytes(b"PK half")
    other = tmp_path / f".~xlsheets-{locks.debris_tag(os.getpid())}keep.xlsx"
    other.write_bytes(b"a live process's file")
    code, out, err = run(capsys, "compute", book)
    assert code == 0, err
    assert not locks.lock_path(book).exists() and not debris.exists()
    assert other.exists(), "only the dead process's files are removed"


@pytest.mark.parametrize("content, age, taken", [(b"", 60, True), (b"{garbled", 60, True),
                                                 (b"", 0, False)])
def test_an_unreadable_lock_is_stale_once_it_is_old(tmp_path, capsys, content, age, taken):
    book = worked_book(tmp_path)
    lock = locks.lock_path(book)
    lock.write_bytes(content)
    then = time.time() - age
    os.utime(lock, (then, then))
    code, _, err = run(capsys, "compute", book)
    assert (code == 0) is taken, err
    assert lock.exists() is not taken


def test_a_live_lock_renamed_by_mistake_is_put_back(tmp_path):
    """Two takers of one stale lock: the slower one must not remove the faster one's lock."""
    book = tmp_path / "机关.xlsx"
    stale = write_lock(book, dead_pid()).read_bytes()
    with locks.workbook_lock(book) as lock:  # the faster taker already holds a fresh lock
        fresh = lock.read_bytes()
        assert locks._take_over(lock, stale, json.loads(stale)) is False
        assert lock.read_bytes() == fresh
    assert listing(tmp_path) == []


def test_pid_alive():
    assert locks.pid_alive(os.getpid())
    assert not locks.pid_alive(dead_pid())
    assert not locks.pid_alive(None) and not locks.pid_alive(-5)


# --- killed in the middle of a write -------------------------------------------------------

_SLOW_CHILD = """
import os, sys, time
from pathlib import Path
import xlsheets.files.compute

real = xlsheets.files.compute.write_patched


def half_then_hang(src, dst, *args, **kwargs):
    real(src, dst, *args, **kwargs)
    with open(dst, "r+b") as f:
        f.truncate(os.path.getsize(dst) // 2)
    Path(sys.argv[1]).write_text("writing")
    time.sleep(300)


xlsheets.files.compute.write_patched = half_then_hang
from xlsheets.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _kill_mid_write(tmp_path, book, *extra, env=None):
    script = tmp_path / "slow_child.py"
    script.write_text(_SLOW_CHILD, encoding="utf-8")
    marker = tmp_path / "writing"
    child = subprocess.Popen([sys.executable, str(script), str(marker), "compute", str(book),
                              *extra], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        _wait_for(marker, child)
    finally:
        child.kill()  # SIGKILL: no finally blocks, no cleanup
        child.wait()
    return child.pid


def test_a_compute_killed_mid_write_leaves_the_original(tmp_path, capsys):
    folder = tmp_path / "books"
    book = worked_book(folder)
    before = book.read_bytes()
    pid = _kill_mid_write(tmp_path, book)

    assert book.read_bytes() == before, "the original is byte-identical"
    outcome, _ = validate_file(book, DEFS)
    assert outcome.ok, "and still usable"
    left = set(listing(folder)) - {"名册", "机关.xlsx"}
    lock = locks.lock_path(book)
    assert lock.name in left and len(left) == 2, left  # the lock and the half-written file
    assert json.loads(lock.read_text(encoding="utf-8"))["pid"] == pid
    assert all(n == lock.name or n.startswith(f".~xlsheets-{locks.debris_tag(pid)}")
               for n in left), left

    code, out, err = run(capsys, "compute", book)  # the stale lock is taken over
    assert code == 0, err
    assert listing(folder) == ["名册", "机关.xlsx"], "no lock and no temporary file remain"
    assert validate_file(book, DEFS)[0].ok and book.read_bytes() != before


def test_an_encrypted_compute_killed_mid_write_leaves_no_plain_copy(tmp_path):
    folder = tmp_path / "books"
    plain = worked_book(tmp_path / "plain")
    book = folder / "机关.xlsx"
    crypto.encrypt(plain, book, PASSWORD)
    before = book.read_bytes()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = dict(os.environ, TMPDIR=str(scratch), TEMP=str(scratch), TMP=str(scratch))
    pid = _kill_mid_write(tmp_path, book, "--password", PASSWORD, env=env)

    assert book.read_bytes() == before
    copies = list(scratch.glob(f"{debris.PLAIN_PREFIX}{locks.debris_tag(pid)}*"))
    assert copies, "the killed child had its decrypted copy in the temp folder"

    res = cli("compute", book, "--password", PASSWORD, env=env)
    assert res.returncode == 0, res.stderr
    assert list(scratch.iterdir()) == [], "the dead process's plain copy is removed"
    assert listing(folder) == ["机关.xlsx"]
    assert crypto.is_encrypted(book)
    assert validate_file(book, DEFS, password=PASSWORD)[0].ok


def test_a_zombie_is_not_alive():
    """A killed child its parent has not reaped yet still has a pid; it holds nothing."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs /proc (Linux)")
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        child.kill()
        deadline = time.monotonic() + 10
        while debris.proc_stat(child.pid)[0] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert not locks.pid_alive(child.pid)
    finally:
        child.wait()


def test_compute_in_a_missing_folder_says_so_and_creates_nothing(tmp_path, capsys):
    book = tmp_path / "没有" / "机关.xlsx"
    code, _, err = run(capsys, "compute", book)
    assert code == 2 and "没有" in err and "Traceback" not in err
    assert listing(tmp_path) == []


def test_concurrent_computes_never_interleave(tmp_path):
    """Four commands at once: each finishes or is told the workbook is busy; the file is whole."""
    book = worked_book(tmp_path)
    procs = [subprocess.Popen([sys.executable, "-m", "xlsheets.cli", "compute", str(book)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              encoding="utf-8") for _ in range(4)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert all(code == 0 or (code == 2 and MESSAGE in err) for code, err in results), results
    assert any(code == 0 for code, _ in results)
    assert listing(tmp_path) == ["名册", "机关.xlsx"]
    assert validate_file(book, DEFS)[0].ok
