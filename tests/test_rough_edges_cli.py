"""Rough edges a new maintainer hits on the command line: a broken CSV, a HEARTH_DB that is
not a database, a backup folder that does not exist, the console's banner and quitting,
progress of a long import, and where an export went."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_hostile_cli import hearth_env, run_hearth


def test_rough_edge_csv_with_an_unterminated_quote_is_refused_whole(tmp_path: Path) -> None:
    """Rough edge: a quote left open swallowed the rest of the file into one body and the
    import said "imported 1 entries", exit 0. Now the line is named, nothing is imported,
    exit 2."""
    path = tmp_path / "broken.csv"
    path.write_text('title,body\nCá kho,"kho với nước màu\nThịt kho,kho với trứng\n', "utf-8")
    proc = run_hearth(tmp_path, ["kb", "import", str(path)])
    err = proc.stderr.decode()
    assert proc.returncode == 2, (proc.stdout, err)
    assert "line 2" in err and "quote" in err, err
    assert b"imported 0 entries" in proc.stdout, proc.stdout
    exported = run_hearth(tmp_path, ["kb", "export"])
    assert exported.stdout == b""


def test_rough_edge_hearth_db_that_is_not_sqlite_is_one_line(tmp_path: Path) -> None:
    """Rough edge: HEARTH_DB naming a text file printed a traceback."""
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list: fish sauce, rice\n" * 200, "utf-8")
    for args in (["kb", "search", "cá"], ["logs"], ["db", "status"], ["run"]):
        proc = run_hearth(tmp_path, args, HEARTH_DB=str(notes))
        err = proc.stderr.decode().strip()
        assert proc.returncode != 0, args
        assert "Traceback" not in err and len(err.splitlines()) == 1, (args, err)
        assert "not a SQLite database" in err and str(notes) in err, (args, err)


def test_rough_edge_backup_into_a_missing_folder_says_so(tmp_path: Path) -> None:
    """Rough edge: `hearth db backup` into a folder that did not exist quietly made it (a
    typo in the path went unnoticed); now it says it created the folder."""
    target = tmp_path / "no-such-folder" / "backup.db"
    proc = run_hearth(tmp_path, ["db", "backup", str(target)])
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode()
    assert f"created the folder {target.parent}" in out, out
    assert target.is_file()
    again = run_hearth(tmp_path, ["db", "backup", str(target)])
    assert "created the folder" not in again.stdout.decode()


# Leading a new process group (setsid), the child makes the pseudo-terminal its controlling
# terminal, as a login shell does, so that Ctrl-C typed there is a SIGINT to it; then it runs `hearth`.
TAKE_THE_TERMINAL = (
    "import fcntl, runpy, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0);"
    " sys.argv = ['hearth', *sys.argv[1:]]; runpy.run_module('bot', run_name='__main__')"
)


def _console(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    """`hearth chat` on a pseudo-terminal, as a person at a terminal runs it."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", TAKE_THE_TERMINAL, "chat", "--family", "home"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=tmp_path,
        env=hearth_env(tmp_path),
        start_new_session=True,
    )
    os.close(follower)
    return proc, leader


def _read_until(fd: int, needle: bytes, seconds: float = 20.0) -> bytes:
    seen = b""
    deadline = time.monotonic() + seconds
    while needle not in seen:
        assert time.monotonic() < deadline, seen
        try:
            seen += os.read(fd, 4096)
        except OSError:
            break
    return seen


@pytest.mark.parametrize("key", [b"\x04", b"\x03"], ids=["ctrl-d", "ctrl-c"])
def test_rough_edge_console_banner_and_quitting_at_once(tmp_path: Path, key: bytes) -> None:
    """Rough edge: `hearth chat` at a terminal printed no banner, and Ctrl-C waited for the
    Enter key (the line reader held the process). Now the banner says the family, the model
    (or that there is none) and how to quit; Ctrl-D and Ctrl-C end it at once."""
    proc, fd = _console(tmp_path)
    try:
        banner = _read_until(fd, b"> ")
        text = banner.decode("utf-8", "replace")
        assert "home" in text and "no model" in text and "Ctrl-D" in text, text
        os.write(fd, key)
        started = time.monotonic()
        code = proc.wait(timeout=10)
        assert time.monotonic() - started < 3
        rest = b""
        with contextlib.suppress(OSError):
            rest = os.read(fd, 65536)
        assert b"Traceback" not in rest, rest
        assert code in (0, 130), code
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        os.close(fd)


def _import_on_a_terminal(tmp_path: Path, path: Path) -> tuple[int, bytes, str]:
    """`hearth kb import PATH` with its stderr on a pseudo-terminal: (exit code, stdout,
    what the terminal showed)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "kb", "import", str(path)],
        stdout=subprocess.PIPE,
        stderr=follower,
        cwd=tmp_path,
        env=hearth_env(tmp_path),
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the process closed its end
            break
        if not chunk:
            break
        shown += chunk
    out, _ = proc.communicate(timeout=60)
    os.close(leader)
    return proc.returncode, out, shown.decode("utf-8", "replace")


def test_rough_edge_kb_import_shows_progress_on_a_terminal(tmp_path: Path) -> None:
    """Rough edge: importing thousands of entries showed nothing until the end. On a terminal
    a progress line counts up; otherwise only the summary line is printed."""
    path = tmp_path / "many.jsonl"
    path.write_text(
        "".join(
            json.dumps({"title": f"Món {n}", "body": f"Cách nấu {n}"}) + "\n" for n in range(1500)
        ),
        "utf-8",
    )
    code, out, shown = _import_on_a_terminal(tmp_path, path)
    assert code == 0, shown
    assert b"imported 1500 entries" in out
    assert "\r" in shown and "1500/1500" in shown and "%" in shown, shown[-300:]
    piped = run_hearth(tmp_path, ["kb", "import", str(path)])  # duplicates this time
    assert piped.returncode == 0 and piped.stderr == b"", piped.stderr
    assert piped.stdout.decode().count("\n") == 1


def test_rough_edge_kb_export_says_where_it_wrote(tmp_path: Path) -> None:
    """Rough edge: `hearth kb export` wrote without a word of where; now a line on stderr says
    how many entries went where, and `--output PATH` writes a file."""
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps({"title": "Canh chua", "body": "Me, cà chua"}) + "\n", "utf-8")
    assert run_hearth(tmp_path, ["kb", "import", str(path)]).returncode == 0
    to_stdout = run_hearth(tmp_path, ["kb", "export"])
    assert to_stdout.returncode == 0
    assert json.loads(to_stdout.stdout)["title"] == "Canh chua"
    assert "1 entries" in to_stdout.stderr.decode() and "stdout" in to_stdout.stderr.decode()
    target = tmp_path / "kb.md"
    to_file = run_hearth(tmp_path, ["kb", "export", "--format", "md", "--output", str(target)])
    assert to_file.returncode == 0, to_file.stderr
    assert to_file.stdout == b""
    assert str(target) in to_file.stderr.decode()
    assert "Canh chua" in target.read_text("utf-8")
