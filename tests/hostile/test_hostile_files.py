"""Output paths that are not plain files: symlinks, FIFOs, devices, `-`.

The attack: a report written by temp file + rename replaces whatever sits at the target.
`check -o /dev/null` run as root replaced the null device with a regular file; a FIFO a
consumer was reading became a regular file; a symlink planted at the target was replaced
(and writers that open the target follow it into any file the user can write). The bound:
one policy decides how an output path is opened (mailauth_audit/outputs.py), and every
command uses it. No test here touches /dev/null until a device node made in tmp_path has
been written through and shown to stay a device.
"""

from __future__ import annotations

import os
import select
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from fixture_zone import ZONE_FILE

from mailauth_audit import outputs
from mailauth_audit.outputs import OutputRefused, write_output

ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailauth_audit", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )


class FifoReader:
    """Holds a FIFO open for reading (so writers never block) and drains it on a thread."""

    def __init__(self, path: Path) -> None:
        os.mkfifo(path)
        self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        self.data = bytearray()
        self.writer_done = threading.Event()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while True:
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            chunk = os.read(self.fd, 65536) if ready else b""
            self.data += chunk
            if not chunk and self.writer_done.is_set():
                return  # EOF (or nothing yet) once the writer has finished

    def result(self) -> bytes:
        self.writer_done.set()
        self._thread.join(10)
        os.close(self.fd)
        return bytes(self.data)


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "precious.txt"
    victim.write_text("do not touch\n")
    return victim


# ---- the policy, in process ---------------------------------------------------------------


def test_a_symlink_target_is_refused_and_its_destination_untouched(tmp_path: Path) -> None:
    victim = _victim(tmp_path)
    link = tmp_path / "report.json"
    link.symlink_to(victim)
    with pytest.raises(OutputRefused, match="symbolic link") as info:
        write_output(link, "report\n")
    assert info.value.strerror and str(link) in info.value.strerror
    assert link.is_symlink() and victim.read_text() == "do not touch\n"


def test_a_dangling_symlink_is_refused_too(tmp_path: Path) -> None:
    link = tmp_path / "report.json"
    link.symlink_to(tmp_path / "would-be-created")
    with pytest.raises(OutputRefused, match="symbolic link"):
        write_output(link, "report\n")
    assert not (tmp_path / "would-be-created").exists()


def test_a_fifo_is_written_through_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    reader = FifoReader(fifo)
    write_output(fifo, "line one\nline two\n")
    assert reader.result() == b"line one\nline two\n"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["pipe"]  # no temporary left beside it


def test_a_directory_target_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputRefused, match="directory"):
        write_output(tmp_path, "x")


def test_dash_means_standard_output(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    os.chdir(tmp_path)
    write_output("-", "to stdout\n")
    write_output(Path("-"), b"bytes too\n")
    assert capfd.readouterr().out == "to stdout\nbytes too\n"
    assert os.listdir(tmp_path) == []


def test_every_old_import_is_the_policy() -> None:
    """send (--transcript, --save-message) and receive (its reports) import the writer under
    its old name; that name is the policy, not a bare temp+rename."""
    from mailauth_audit import atomic_write
    from mailauth_audit.cli import send
    from mailauth_audit.messages import receive

    assert atomic_write.write_atomically is write_output
    assert send.write_atomically is write_output
    assert receive.write_atomically is write_output


@pytest.mark.skipif(not ROOT, reason="making a device node needs root")
def test_a_character_device_is_written_through_then_dev_null_stays_a_device(
    tmp_path: Path,
) -> None:
    """First a null device made in tmp_path (harmless if the policy were wrong); only when
    that stays a device is /dev/null itself used as a target."""
    node = tmp_path / "null"
    os.mknod(node, 0o666 | stat.S_IFCHR, os.stat("/dev/null").st_rdev)
    write_output(node, "discarded\n")
    assert stat.S_ISCHR(os.lstat(node).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["null"]
    write_output(Path("/dev/null"), "discarded\n")
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)


@pytest.mark.skipif(not ROOT, reason="making a device node needs root")
def test_a_block_device_is_refused(tmp_path: Path) -> None:
    node = tmp_path / "disk"
    # a device number no driver answers: even a wrong policy could not write to a disk
    os.mknod(node, 0o600 | stat.S_IFBLK, os.makedev(4095, 1048575))
    with pytest.raises(OutputRefused, match="block device"):
        write_output(node, "x")
    assert stat.S_ISBLK(os.lstat(node).st_mode)


def test_atomic_replacement_of_a_regular_file_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    target.write_text("old")
    before = os.stat(target).st_ino
    write_output(target, "new")
    assert target.read_text() == "new" and os.stat(target).st_ino != before
    assert outputs.write_output is write_output


# ---- the commands -------------------------------------------------------------------------


def test_check_refuses_a_symlinked_output(tmp_path: Path) -> None:
    victim = _victim(tmp_path)
    link = tmp_path / "out.json"
    link.symlink_to(victim)
    res = cli("check", "--zone-file", str(ZONE_FILE), "-o", str(link), "good.example")
    assert res.returncode == 2, res.stderr
    assert "symbolic link" in res.stderr and "Traceback" not in res.stderr
    assert link.is_symlink() and victim.read_text() == "do not touch\n"


def test_check_writes_into_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    reader = FifoReader(fifo)
    res = cli("check", "--zone-file", str(ZONE_FILE), "--format", "json", "-o", str(fifo),
              "good.example")  # fmt: skip
    data = reader.result()
    assert res.returncode in (0, 1, 3), res.stderr
    assert b'"domain": "good.example"' in data
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_check_dash_output_is_stdout(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "mailauth_audit", "check", "--zone-file", str(ZONE_FILE),
         "--format", "json", "-o", "-", "good.example"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False,
        env={**os.environ, "NO_COLOR": "1", "PYTHONPATH": os.environ.get("PYTHONPATH", "")},
    )  # fmt: skip
    assert '"domain": "good.example"' in res.stdout, res.stderr
    assert os.listdir(tmp_path) == []


def test_check_html_folder_refuses_a_symlinked_page(tmp_path: Path) -> None:
    victim = _victim(tmp_path)
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "index.html").symlink_to(victim)
    res = cli("check", "--zone-file", str(ZONE_FILE), "--format", "html", "-o", f"{folder}/",
              "good.example")  # fmt: skip
    assert res.returncode == 2, res.stderr
    assert "symbolic link" in res.stderr
    assert victim.read_text() == "do not touch\n"


def test_verify_refuses_a_symlinked_output(tmp_path: Path) -> None:
    victim = _victim(tmp_path)
    link = tmp_path / "v.json"
    link.symlink_to(victim)
    msg = tmp_path / "m.eml"
    msg.write_bytes(b"From: a@good.example\r\nTo: b@good.example\r\nSubject: x\r\n\r\nhi\r\n")
    res = cli("verify", str(msg), "--zone-file", str(ZONE_FILE), "-o", str(link))
    assert res.returncode == 2, res.stderr
    assert "symbolic link" in res.stderr
    assert victim.read_text() == "do not touch\n"


def test_send_refuses_a_symlinked_saved_message_without_a_traceback(
    tmp_path: Path, closed_port: int
) -> None:
    victim = _victim(tmp_path)
    link = tmp_path / "sent.eml"
    link.symlink_to(victim)
    res = cli("send", "--from", "a@good.example", "--to", "b@good.example",
              "--smtp-host", "127.0.0.1", "--port", str(closed_port), "--save-message", str(link),
              "--retries", "0")  # fmt: skip
    assert res.returncode == 2, res.stderr
    assert "symbolic link" in res.stderr and "Traceback" not in res.stderr
    assert victim.read_text() == "do not touch\n"
