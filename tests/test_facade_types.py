"""The facade's lazy names and their types for mypy (facade_types.py) stay in step, and the
facade still loads none of them on import."""

from __future__ import annotations

import subprocess
import sys

from mailauth_audit import asyncapi, facade_types
from mailauth_audit.facade_exports import LAZY


def test_every_lazy_name_is_typed_and_is_the_same_object() -> None:
    typed = set(facade_types.__all__)
    assert set(LAZY) <= typed, sorted(set(LAZY) - typed)
    for name in LAZY:
        assert getattr(facade_types, name) is getattr(asyncapi, name), name
    # what is typed beyond the lazy names is what the facade's own signatures name
    assert typed - set(LAZY) <= set(asyncapi.__all__) | {
        "ComposedMessage",
        "DkimPrivateKey",
        "FixOutcome",
    }, sorted(typed - set(LAZY))


def test_the_facade_does_not_import_its_types_module() -> None:
    code = (
        "import sys, mailauth_audit.asyncapi as f; "
        "print('mailauth_audit.facade_types' in sys.modules, 'jinja2' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
