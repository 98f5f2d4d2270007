"""API tokens of `serve`: created and revoked from the command line, checked per request.

A token is 32 random bytes (`secrets.token_urlsafe`), shown once. The store keeps only its
SHA-256: a plain (fast) hash is enough because the token has 256 bits of entropy, so no
dictionary or brute-force attack applies (what a slow password hash like scrypt defends
against); and a fast, deterministic hash lets each request find its token by an indexed
equality lookup instead of trying every stored salt. A copy of the table gives nothing an
attacker can send.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Row, select

from .connect import StoreError
from .record import utc_text
from .schema import api_tokens
from .store import Store

__all__ = [
    "TOKEN_PREFIX",
    "ApiToken",
    "TokenScope",
    "create_token",
    "find_token",
    "list_tokens",
    "revoke_token",
    "token_digest",
]

TOKEN_PREFIX = "maa_"  # recognisable in a leaked file or a secret scanner's rules
MAX_NAME = 100


class TokenScope(StrEnum):
    """What a token may do; each scope includes the ones before it."""

    READ = "read"  # GET
    WRITE = "write"  # and POST audits
    ADMIN = "admin"  # and what operators do (nothing more yet)

    @property
    def rank(self) -> int:
        return list(TokenScope).index(self)

    def allows(self, needed: TokenScope) -> bool:
        return self.rank >= needed.rank


@dataclass(frozen=True)
class ApiToken:
    id: int
    name: str
    scope: TokenScope
    created_at: str
    revoked_at: str | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(store: Store, name: str, scope: TokenScope) -> tuple[ApiToken, str]:
    """A new token named `name` (unique); the token text is returned here and nowhere else."""
    name = name.strip()
    if not name or len(name) > MAX_NAME or any(ord(c) < 32 for c in name):
        raise StoreError(f"a token name is 1 to {MAX_NAME} printable characters: {name!r}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    created = utc_text()
    with store.transaction() as conn:
        taken = conn.execute(select(api_tokens.c.id).where(api_tokens.c.name == name)).first()
        if taken is not None:
            raise StoreError(f"a token named {name!r} exists already (revoke it or pick a name)")
        row_id = conn.execute(
            api_tokens.insert().values(
                name=name, scope=scope.value, token_sha256=token_digest(token), created_at=created
            )
        ).inserted_primary_key
    assert row_id is not None
    return ApiToken(int(row_id[0]), name, scope, created, None), token


def list_tokens(store: Store) -> list[ApiToken]:
    with store.transaction(write=False) as conn:
        rows = conn.execute(select(*_COLUMNS).order_by(api_tokens.c.id))
        return [_token(r) for r in rows]


def revoke_token(store: Store, name: str) -> ApiToken:
    """Revoke the token named `name`; revoking a revoked token keeps its first revocation."""
    with store.transaction() as conn:
        row = conn.execute(select(*_COLUMNS).where(api_tokens.c.name == name)).first()
        if row is None:
            raise StoreError(f"no token named {name!r}")
        token = _token(row)
        if token.revoked_at is None:
            when = utc_text()
            conn.execute(
                api_tokens.update().where(api_tokens.c.id == token.id).values(revoked_at=when)
            )
            token = ApiToken(token.id, token.name, token.scope, token.created_at, when)
        return token


def find_token(store: Store, token: str) -> ApiToken | None:
    """The stored token a request presented (revoked ones included: the caller says why it
    refuses), or None for a token never issued here."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    with store.transaction(write=False) as conn:
        row = conn.execute(
            select(*_COLUMNS).where(api_tokens.c.token_sha256 == token_digest(token))
        ).first()
    return None if row is None else _token(row)


_COLUMNS = (
    api_tokens.c.id,
    api_tokens.c.name,
    api_tokens.c.scope,
    api_tokens.c.created_at,
    api_tokens.c.revoked_at,
)


def _token(row: Row[Any, Any, Any, Any, Any]) -> ApiToken:
    revoked = row.revoked_at
    return ApiToken(
        int(row.id),
        str(row.name),
        TokenScope(row.scope),
        str(row.created_at),
        None if revoked is None else str(revoked),
    )
