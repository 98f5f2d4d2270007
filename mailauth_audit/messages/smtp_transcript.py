"""The transcript of one attempt, recorded as it happens, with the secrets kept out.

What counts as a secret: everything we say during AUTH (the base64 in it *is* the password),
everything the server says during AUTH (a server may quote the client's line back, e.g. in
a 535), and the password itself. Commands and replies inside AUTH are withheld whole; after
it, any occurrence of what was sent (or of the password) is cut out of every later entry,
reply and error message, wherever the server chose to echo it.
"""

from __future__ import annotations

from collections.abc import Callable

from .smtp_model import SmtpReply, TranscriptEntry, TranscriptKind, parse_reply

REDACTED = "[redacted]"

__all__ = ["REDACTED", "Recorder"]


class Recorder:
    """Collects one attempt's entries and redacts them (see the module docstring)."""

    def __init__(
        self, clock: Callable[[], float], start: float, password: str | None = None
    ) -> None:
        self._clock = clock
        self._start = start
        self.entries: list[TranscriptEntry] = []
        self.in_auth = False
        self._secrets: set[str] = {password} if password else set()
        self.message_sent = False  # the whole message went out: do not send it twice

    def scrub(self, text: str) -> str:
        """`text` with every secret we know of replaced by REDACTED, longest first."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text

    def _remember(self, *tokens: str) -> None:
        for token in tokens:
            for form in (token, token.rstrip("=")):  # an echo may drop base64 padding
                if form:
                    self._secrets.add(form)

    def add(self, kind: TranscriptKind, text: str, code: int | None = None) -> None:
        elapsed = round(self._clock() - self._start, 4)
        self.entries.append(TranscriptEntry(elapsed, kind, self.scrub(text), code))

    def command(self, cmd: str, args: str) -> None:
        verb = cmd.split(" ", 1)[0]
        line = f"{verb.upper()}{cmd[len(verb) :]} {args}".strip()
        if self.in_auth:
            # smtplib sends each mechanism it tries as "AUTH", args; continuations as the
            # command alone
            if cmd.upper() == "AUTH" and args:
                mechanism, _, rest = args.partition(" ")
                self._remember(*rest.split())
                line = f"AUTH {mechanism} {REDACTED}".replace("  ", " ").strip()
            else:
                self._remember(*cmd.split(), *args.split())
                line = REDACTED
        self.add(TranscriptKind.COMMAND, line)

    def parse(self, code: int, raw: bytes | str) -> SmtpReply:
        """The reply as the transcript may keep it: withheld inside AUTH, scrubbed after.
        An enhanced status code is kept: it is digits and dots only, and says why."""
        reply = parse_reply(code, raw)
        if self.in_auth:
            text = f"{reply.enhanced_status} {REDACTED}" if reply.enhanced_status else REDACTED
            return SmtpReply(code=code, text=text, enhanced_status=reply.enhanced_status)
        return SmtpReply(
            code=code, text=self.scrub(reply.text), enhanced_status=reply.enhanced_status
        )

    def reply(self, code: int, text: bytes) -> None:
        self.add(TranscriptKind.REPLY, self.parse(code, text).text, code)

    def start_auth(self) -> None:
        self.in_auth = True

    def end_auth(self) -> None:
        self.in_auth = False
