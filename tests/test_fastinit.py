"""fast_init keeps a frozen dataclass's constructor semantics while skipping setattr calls."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from mailauth_audit.fastinit import cached_once, fast_init
from mailauth_audit.model import CheckId, Finding, Severity


@fast_init
@dataclasses.dataclass(frozen=True)
class _Sample:
    a: int
    b: str = "x"
    c: list[int] = dataclasses.field(default_factory=list)


def test_same_fields_defaults_and_factories() -> None:
    one, two = _Sample(1), _Sample(2, "y", [3])
    assert (one.a, one.b, one.c) == (1, "x", [])
    assert (two.a, two.b, two.c) == (2, "y", [3])
    assert _Sample(1).c is not _Sample(1).c  # a fresh default per instance
    assert _Sample(a=1, b="x") == one


def test_still_frozen_replaceable_and_picklable() -> None:
    f = Finding("spf.x", Severity.LOW, CheckId.SPF, "t", "d", "r")
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.code = "other"  # type: ignore[misc]
    assert dataclasses.replace(f, code="spf.y").code == "spf.y"
    assert pickle.loads(pickle.dumps(f)) == f
    assert f.evidence == () and f.params == ()
    with pytest.raises(TypeError):
        Finding("spf.x")  # type: ignore[call-arg]


def test_refuses_what_it_cannot_copy() -> None:
    with pytest.raises(TypeError):

        @fast_init
        @dataclasses.dataclass(frozen=True, slots=True)
        class _Slots:
            a: int

    with pytest.raises(TypeError):

        @fast_init
        @dataclasses.dataclass(frozen=True)
        class _Post:
            a: int

            def __post_init__(self) -> None:
                pass

    with pytest.raises(TypeError):

        @fast_init
        @dataclasses.dataclass(frozen=True)
        class _KwOnly:
            a: int = dataclasses.field(kw_only=True)


@fast_init
@dataclasses.dataclass(frozen=True)
class _Cached:
    a: int

    @cached_once
    def double(self) -> list[int]:
        """Twice `a`, once."""
        calls.append(self.a)
        return [self.a * 2]


calls: list[int] = []


def test_cached_once_computes_once_per_instance_and_keeps_equality() -> None:
    calls.clear()
    one = _Cached(1)
    assert one.double == [2]
    assert one.double is one.double
    assert calls == [1]  # later reads come from the instance, not the function
    assert _Cached(3).double == [6] and calls == [1, 3]
    assert one == _Cached(1) and hash(one) == hash(_Cached(1))  # not a field
    assert [f.name for f in dataclasses.fields(_Cached)] == ["a"]
    assert isinstance(_Cached.double, cached_once)  # read from the class: the descriptor
    assert _Cached.double.__doc__ == "Twice `a`, once."
    assert pickle.loads(pickle.dumps(one)).double == [2]


def test_each_instance_gets_its_own_dict_of_the_fields_in_order() -> None:
    one, two = _Sample(1), _Sample(2, "y")
    assert list(one.__dict__) == ["a", "b", "c"] == [f.name for f in dataclasses.fields(_Sample)]
    assert one.__dict__ is not two.__dict__ and one.__dict__ == {"a": 1, "b": "x", "c": []}
    assert (two.a, two.b) == (2, "y")
