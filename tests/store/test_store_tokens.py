"""API tokens in the store (SQLite and PostgreSQL): shown once, stored hashed, revocable;
and `token create/list/revoke` from the command line."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from mailauth_audit.store.connect import StoreError
from mailauth_audit.store.schema import api_tokens
from mailauth_audit.store.store import open_store
from mailauth_audit.store.tokens import (
    TOKEN_PREFIX,
    TokenScope,
    create_token,
    find_token,
    list_tokens,
    revoke_token,
)


def test_tokens_are_stored_hashed_found_and_revoked(store_url: str) -> None:
    store = open_store(store_url)
    try:
        made, secret = create_token(store, "ci", TokenScope.WRITE)
        assert secret.startswith(TOKEN_PREFIX) and len(secret) > 40
        with store.transaction(write=False) as conn:
            stored = [tuple(r) for r in conn.execute(select(api_tokens))]
        assert secret not in repr(stored)  # never the token itself
        assert stored[0][3] == hashlib.sha256(secret.encode()).hexdigest()
        assert find_token(store, secret) == made and made.active
        assert find_token(store, secret + "x") is None
        assert find_token(store, "not-a-token") is None
        with pytest.raises(StoreError, match="exists already"):
            create_token(store, "ci", TokenScope.READ)
        _other, other_secret = create_token(store, "reader", TokenScope.READ)
        assert other_secret != secret
        revoked = revoke_token(store, "ci")
        assert revoked.revoked_at is not None and not revoked.active
        assert revoke_token(store, "ci").revoked_at == revoked.revoked_at  # first time kept
        found = find_token(store, secret)
        assert found is not None and not found.active
        assert [(t.name, t.active) for t in list_tokens(store)] == [
            ("ci", False),
            ("reader", True),
        ]
        with pytest.raises(StoreError, match="no token named"):
            revoke_token(store, "nobody")
    finally:
        store.close()


def test_scopes_include_the_lower_ones() -> None:
    assert TokenScope.ADMIN.allows(TokenScope.WRITE) and TokenScope.WRITE.allows(TokenScope.READ)
    assert not TokenScope.READ.allows(TokenScope.WRITE)
    assert not TokenScope.WRITE.allows(TokenScope.ADMIN)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailauth_audit", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )


def test_token_commands(store_url: str) -> None:
    made = cli("token", "create", "--name", "ci", "--scope", "write", "--store", store_url)
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert secret.startswith(TOKEN_PREFIX) and "shown only this once" in made.stderr
    listed = cli("token", "list", "--store", store_url)
    assert listed.returncode == 0 and "ci\twrite" in listed.stdout and "active" in listed.stdout
    assert secret not in listed.stdout
    again = cli("token", "create", "--name", "ci", "--store", store_url)
    assert again.returncode == 2 and "exists already" in again.stderr
    gone = cli("token", "revoke", "ci", "--store", store_url)
    assert gone.returncode == 0, gone.stderr
    assert "revoked" in cli("token", "list", "--store", store_url).stdout
    assert cli("token", "revoke", "nobody", "--store", store_url).returncode == 2
