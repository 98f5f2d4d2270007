"""The one exception every pure record parser raises, shared so callers catch a single type."""

from __future__ import annotations


class RecordSyntaxError(ValueError):
    """A record that does not follow its grammar.

    Carries the 0-based character offset of the offending text so a report can point at it
    (`v=spf1 inclde:x.com` → position 7): a person fixing a zone needs the place, not only
    the complaint. `str(exc)` is the message alone; the position is `.position`.
    """

    def __init__(self, message: str, position: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.position = position

    def __repr__(self) -> str:
        return f"RecordSyntaxError({self.message!r}, position={self.position})"

    def __reduce__(self) -> tuple[type[RecordSyntaxError], tuple[object, ...]]:
        return (type(self), (self.message, self.position))
