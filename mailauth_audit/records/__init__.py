"""Pure record parsers: text in, a typed record or `RecordSyntaxError(message, position)` out.

No I/O here, and no imports of the submodules: each parser imports alone.
"""

from .errors import RecordSyntaxError

__all__ = ["RecordSyntaxError"]
