"""The output writer on regular files: whole file or old file, readable reports, nothing left
behind on failure. (Links, FIFOs, devices and `-`: tests/hostile/test_hostile_files.py.)"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mailauth_audit import outputs
from mailauth_audit.atomic_write import write_atomically
from mailauth_audit.outputs import open_output


@pytest.mark.parametrize(("data", "want"), [("é\n", "é\n".encode()), (b"\x00\xff", b"\x00\xff")])
def test_writes_text_as_utf8_and_bytes_as_given(
    tmp_path: Path, data: str | bytes, want: bytes
) -> None:
    target = tmp_path / "new" / "folder" / "report.json"  # the folder is created
    write_atomically(target, data)
    assert target.read_bytes() == want
    assert os.stat(target).st_mode & 0o777 == 0o644
    assert os.listdir(target.parent) == ["report.json"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.html"
    target.write_text("old")

    def disk_full(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(outputs.os, "replace", disk_full)
    with pytest.raises(OSError, match="No space"):
        write_atomically(target, "new")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["report.html"]


def test_an_error_while_streaming_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "results.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), open_output(target) as fh:
        fh.write(b"half")
        raise RuntimeError("renderer crashed")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["results.csv"]
