"""The old name of the output writer, kept so existing imports keep working.

`write_atomically` is `mailauth_audit.outputs.write_output`: regular files are still
replaced atomically, but symlinks are refused, FIFOs and character devices are written
directly and `-` is standard output (see outputs.py).
"""

from __future__ import annotations

from .outputs import OutputRefused, write_output

__all__ = ["OutputRefused", "write_atomically"]

write_atomically = write_output
