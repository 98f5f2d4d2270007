"""Answer's hand-written __init__ (a per-query cost) must stay the dataclass's own contract."""

from __future__ import annotations

import dataclasses
import inspect
import pickle

import pytest

from mailauth_audit.resolver.base import (
    NO_PROVENANCE,
    Answer,
    ExtendedError,
    Provenance,
    Rcode,
    RRType,
)


def test_init_takes_the_fields_in_order_with_their_defaults() -> None:
    params = list(inspect.signature(Answer.__init__).parameters.values())[1:]
    fields = dataclasses.fields(Answer)
    assert [p.name for p in params] == [f.name for f in fields]
    assert [p.default for p in params] == [
        inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default for f in fields
    ]


def test_every_field_lands_in_its_own_slot() -> None:
    origin = Provenance("192.0.2.53:53", True, True, (ExtendedError(3, "stale"),))
    values = ("a.test", RRType.TLSA, Rcode.NOERROR, ("x",), ("b.test",), 42, origin)
    answer = Answer(*values)
    assert dataclasses.astuple(answer)[:6] == values[:6]
    assert answer.provenance is origin
    assert (answer.server, answer.authenticated_data, answer.checking_disabled) == (
        "192.0.2.53:53",
        True,
        True,
    )
    assert answer.extended_errors == (ExtendedError(3, "stale"),)
    assert (
        Answer(**{f.name: v for f, v in zip(dataclasses.fields(Answer), values, strict=True)})
        == answer
    )
    assert dataclasses.replace(answer, ttl=7).ttl == 7
    assert pickle.loads(pickle.dumps(answer)) == answer
    assert hash(answer) == hash(Answer(*values))


def test_answers_stay_frozen_and_default_to_no_provenance() -> None:
    answer = Answer("a.test", RRType.A, Rcode.NXDOMAIN)
    assert answer.provenance is NO_PROVENANCE
    assert (answer.server, answer.authenticated_data, answer.signatures) == ("", False, ())
    with pytest.raises(dataclasses.FrozenInstanceError):
        answer.ttl = 5  # type: ignore[misc]
