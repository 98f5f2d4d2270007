"""Logging of `serve` (and `worker`): text or JSON lines, with secrets taken out.

`configure_logging("json")` writes one JSON object per line (time, level, logger, message,
and the exception's trace when there is one) for log collectors. Whatever the format, a
filter on the handler replaces API tokens (`maa_…`), `Bearer …` credentials and the
password of a URL (`postgresql://user:secret@host`) before a record is written, whichever
library logged it: a request header or a store URL in an exception must not reach the log.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import TextIO

__all__ = ["LOG_FORMATS", "JsonFormatter", "SecretFilter", "configure_logging", "redact"]

LOG_FORMATS = ("text", "json")
REDACTED = "[redacted]"
_SECRETS = re.compile(
    r"maa_[A-Za-z0-9_\-]+"  # our API tokens
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/=\-]+"  # any bearer credential
    r"|(?<=://)[^/\s:@]*:[^/\s@]*(?=@)"  # user:password@ in a URL
)
_HANDLER_NAME = "mailauth-audit"


def redact(text: str) -> str:
    return _SECRETS.sub(REDACTED, text)


class SecretFilter(logging.Filter):
    """Rewrites the record's message (args merged in) without the secrets it carries."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):  # each argument cleaned: formatters may read them
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            client, method, path, _version, status = args
            doc.update(client=str(client), method=str(method), path=redact(str(path)))
            doc["status"] = status
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            doc["exception"] = record.exc_text
        return json.dumps(doc, ensure_ascii=False)


def configure_logging(
    fmt: str = "text", level: str = "info", stream: TextIO | None = None
) -> logging.Handler:
    """One handler on the root logger (replacing ours from an earlier call); uvicorn's
    loggers propagate to it when uvicorn is started with `log_config=None`."""
    if fmt not in LOG_FORMATS:
        raise ValueError(f"log format {fmt!r}: choose from {', '.join(LOG_FORMATS)}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(SecretFilter())
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else logging.Formatter("%(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler
