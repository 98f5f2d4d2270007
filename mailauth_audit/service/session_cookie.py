"""Sessions of the pages for people: a signed, stateless cookie, and CSRF tokens.

Why stateless: a sessions table would need a migration and a sweep of expired rows; a cookie
signed with HMAC-SHA256 under a server secret carries the token's row id, an expiry and a
random nonce, and the server checks the signature, the expiry and then the token's row on
every request, so revoking the token ends its sessions at once. The token itself is never in
the cookie: a stolen cookie dies at its expiry or with the token, whichever comes first.
Logging out removes the cookie from the browser; a copy taken before stays valid until then
(there is no server-side list to strike it from): revoke the token to end every session.

The secret comes from $MAILAUTH_AUDIT_SESSION_SECRET (at least 32 characters; set it when
logins must survive a restart or be shared by several processes), else it is drawn at
random when the app is built: then every login ends when the server restarts.

CSRF: every form carries HMAC(secret, "csrf", seed); the seed is the session's nonce once
logged in, and before that (the login form) a random value in a short-lived cookie of its
own, so a POST is accepted only from a page this server rendered for this browser.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass

__all__ = [
    "CSRF_COOKIE",
    "SECRET_ENV",
    "SESSION_COOKIE",
    "Session",
    "SessionSigner",
    "secret_from_env",
]

SESSION_COOKIE = "maa_session"
CSRF_COOKIE = "maa_login_csrf"  # the seed of the login form's CSRF token (before a session)
SECRET_ENV = "MAILAUTH_AUDIT_SESSION_SECRET"
MIN_SECRET = 32  # characters of $MAILAUTH_AUDIT_SESSION_SECRET
MAX_COOKIE = 1024  # a longer cookie is not one of ours: refused before decoding


@dataclass(frozen=True)
class Session:
    token_id: int  # the api_tokens row that logged in
    expires: int  # Unix time
    nonce: str  # random; the CSRF seed of this session


def secret_from_env(environ: dict[str, str] | None = None) -> bytes:
    """The configured secret, or a random one (sessions then end with the process)."""
    value = (environ if environ is not None else dict(os.environ)).get(SECRET_ENV, "")
    if value:
        if len(value) < MIN_SECRET:
            raise ValueError(f"${SECRET_ENV} must be at least {MIN_SECRET} characters long")
        return value.encode("utf-8")
    return secrets.token_bytes(32)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    def __init__(self, secret: bytes, lifetime: int) -> None:
        self._key = hashlib.sha256(b"mailauth-audit session\0" + secret).digest()
        self.lifetime = lifetime

    def _mac(self, purpose: str, data: bytes) -> bytes:
        return hmac.new(self._key, purpose.encode() + b"\0" + data, hashlib.sha256).digest()

    def issue(self, token_id: int, now: float | None = None) -> tuple[Session, str]:
        """A new session (a new nonce: a login never reuses a seed an attacker could know)."""
        moment = int(time.time() if now is None else now)
        session = Session(token_id, moment + self.lifetime, secrets.token_urlsafe(16))
        body = json.dumps(
            {"t": session.token_id, "e": session.expires, "n": session.nonce},
            separators=(",", ":"),
        ).encode()
        return session, f"{_b64(body)}.{_b64(self._mac('session', body))}"

    def read(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session a cookie carries, or None when it is absent, forged or expired."""
        if not cookie or len(cookie) > MAX_COOKIE or cookie.count(".") != 1:
            return None
        body_text, mac_text = cookie.split(".")
        try:
            body, mac = _unb64(body_text), _unb64(mac_text)
        except ValueError:
            return None
        if not hmac.compare_digest(mac, self._mac("session", body)):
            return None
        try:
            doc = json.loads(body)
            session = Session(int(doc["t"]), int(doc["e"]), str(doc["n"]))
        except (ValueError, KeyError, TypeError):
            return None
        if session.expires <= (time.time() if now is None else now):
            return None
        return session

    def csrf_token(self, seed: str) -> str:
        return _b64(self._mac("csrf", seed.encode()))

    def csrf_ok(self, seed: str | None, presented: str | None) -> bool:
        if not seed or not presented or len(presented) > 100:
            return False
        return hmac.compare_digest(presented.encode(), self.csrf_token(seed).encode())
