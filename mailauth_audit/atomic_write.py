"""The one way the tool writes a finished file: next to the target, then renamed over it.

A crash, a Ctrl-C or a full disk never leaves half a report: a reader sees the old file or the
new one. Reports are not secrets, so they get mode 0644 (mkstemp alone would make them 0600);
private keys are written elsewhere (messages/keys.py), 0600 from the first byte.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["write_atomically"]


def write_atomically(path: Path, data: str | bytes, *, mode: int = 0o644) -> None:
    """Write `data` (text is UTF-8) to `path`, creating its folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
