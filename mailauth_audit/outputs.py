"""The one place that decides how an output path is opened.

Every file the tool writes for a user (check/verify reports, send's transcript and saved
message, receive's reports, the HTML report folder, the bulk folder) goes through here, and
what happens depends on what the path already is:

- absent or a regular file: written next to it and renamed over it, so a crash, a Ctrl-C
  or a full disk never leaves half a report (a reader sees the old file or the new one);
- a FIFO or a character device (`-o /dev/stdout`, `/dev/null`, a named pipe a consumer
  reads): written directly. Renaming over them would replace a device with a plain file;
- a symbolic link: refused. A link planted in a shared or world-writable folder could point
  at any file the user can write; write to the real path instead. (Links in the folders
  above the target are followed as usual: only the last component is checked.)
- a directory, a block device, a socket: refused;
- `-`: standard output.

Reports are not secrets, so new files get mode 0644 (mkstemp alone would make them 0600);
private keys are written elsewhere (messages/keys.py), 0600 from the first byte.

Files that are appended to or read back (bulk's results.jsonl) are opened with
`open_regular`: never through a symlink, and only if they are regular files.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "STDOUT",
    "OutputRefused",
    "check_output",
    "open_output",
    "open_regular",
    "write_output",
]

STDOUT = "-"

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOCTTY = getattr(os, "O_NOCTTY", 0)


class OutputRefused(OSError):
    """The target exists and is something the tool will not write (its strerror says why)."""


def _refusal(path: Path, mode: int) -> OutputRefused | None:
    """Why an existing file of this mode is not written, or None when it may be."""
    if stat.S_ISLNK(mode):
        return OutputRefused(
            errno.ELOOP,
            f"{path} is a symbolic link; mailauth-audit does not write through links "
            "(one planted in a shared folder could point at any file you can write): "
            "give the real path, or remove the link",
        )
    if stat.S_ISDIR(mode):
        return OutputRefused(errno.EISDIR, f"{path} is a directory")
    if stat.S_ISBLK(mode):
        return OutputRefused(
            errno.EINVAL, f"{path} is a block device; a report is never written onto a disk"
        )
    if stat.S_ISREG(mode) or stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        return None
    return OutputRefused(errno.EINVAL, f"{path} is not a file, a FIFO or a character device")


def _is_direct(mode: int) -> bool:
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


def check_output(target: Path | str) -> None:
    """Raise OutputRefused now for a target `open_output` would refuse (e.g. before a long
    run, rather than at its end)."""
    if str(target) == STDOUT:
        return
    path = Path(target)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    refusal = _refusal(path, mode)
    if refusal is not None:
        raise refusal


@contextlib.contextmanager
def open_output(target: Path | str, *, mode: int = 0o644) -> Iterator[BinaryIO]:
    """A binary stream for `target`, following the policy in the module docstring. The
    folder of a new file is created. Raises OutputRefused (an OSError) for refused targets."""
    if str(target) == STDOUT:
        sys.stdout.flush()  # what was echoed before comes first
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    path = Path(target)
    try:
        existing: int | None = os.lstat(path).st_mode
    except FileNotFoundError:
        existing = None
    if existing is not None:
        refusal = _refusal(path, existing)
        if refusal is not None:
            raise refusal
        if _is_direct(existing):
            with os.fdopen(_open_direct(path), "wb") as fh:
                yield fh
            return
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp creates with O_EXCL: never through a link; os.replace replaces the name itself
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_output(target: Path | str, data: str | bytes, *, mode: int = 0o644) -> None:
    """Write `data` (text is UTF-8) to `target`: see the module docstring for which targets
    are replaced atomically, written directly, or refused."""
    with open_output(target, mode=mode) as fh:
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)


def _open_direct(path: Path) -> int:
    """Open an existing FIFO or character device for writing, never through a link. A FIFO
    without a reader blocks here until one opens it, as a shell redirection would."""
    fd = os.open(path, os.O_WRONLY | _NOFOLLOW | _NOCTTY | _CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if not _is_direct(mode):  # replaced between the look and the open
            raise _refusal(path, mode) or OutputRefused(
                errno.EAGAIN, f"{path} changed while it was being opened; try again"
            )
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_regular(path: Path, flags: int, mode: int = 0o644) -> int:
    """os.open for a file that must be a regular file: never through a symlink (O_NOFOLLOW),
    and a FIFO or device there is refused instead of blocking or being written."""
    try:
        fd = os.open(path, flags | _NOFOLLOW | _NONBLOCK | _CLOEXEC, mode)
    except OSError as exc:
        # ELOOP: the last component is a link; ENXIO: a FIFO with no reader
        if exc.errno not in (errno.ELOOP, errno.EMLINK, errno.ENXIO):
            raise
        refusal: OutputRefused | None = None
        with contextlib.suppress(OSError):
            refusal = _refusal(path, os.lstat(path).st_mode)
        raise refusal or OutputRefused(
            exc.errno, f"{path} is not a regular file; it is not opened"
        ) from None
    try:
        st_mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(st_mode):
            raise _refusal(path, st_mode) or OutputRefused(
                errno.EINVAL, f"{path} is a {_kind(st_mode)}, not a regular file"
            )
        if _NONBLOCK:
            import fcntl

            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~_NONBLOCK)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISCHR(mode):
        return "character device"
    return "special file"
