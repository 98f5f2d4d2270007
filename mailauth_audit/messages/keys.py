"""DKIM key pairs: generate, store safely, load, and the TXT record that publishes them.

RFC 6376 §3.6.1 (key record), RFC 8301 §3.2 (RSA at least 1024 bits, 2048 recommended),
RFC 8463 §4 (ed25519: the bare 32-byte public key, base64, in p=). Generation and record
text are pure; only `write_private_key` touches the file system, and it creates the file with
mode 0600 from the first byte (a temporary file from `mkstemp`, then a link or rename), so the
key is never readable by others, not even for a moment.
"""

from __future__ import annotations

import base64
import os
import tempfile
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from ..errors import MailauthAuditError
from ..options import suggested_dkim_selector
from ..records.zonefile import zone_line

MIN_RSA_BITS = 1024  # RFC 8301 §3.2: verifiers must not accept shorter keys
RECOMMENDED_RSA_BITS = 2048  # RFC 8301 §3.2: signers should use at least 2048
DEFAULT_RSA_BITS = RECOMMENDED_RSA_BITS
# 4096-bit records are ~740 characters: still one TXT RRset most resolvers fetch over UDP
# with EDNS; larger keys buy nothing a verifier checks and risk truncated answers.
MAX_RSA_BITS = 4096
DEFAULT_TTL = 3600


class DkimKeyType(StrEnum):
    RSA = "rsa"
    ED25519 = "ed25519"


def suggested_selector(key_type: DkimKeyType, today: date | None = None) -> str:
    """The selector `dkim keygen` uses when none is given: s2026 (RSA) or ed2026 (ed25519)
    in 2026. `check` probes exactly these date-style names (options.dkim_date_selectors), so
    a key published under the suggestion is found with default options."""
    return suggested_dkim_selector(today, ed25519=key_type is DkimKeyType.ED25519)


class DkimKeyError(MailauthAuditError, ValueError):
    """Base of the key problems a user can fix (a size, a file)."""


class KeyParameterError(DkimKeyError):
    """A key size or type we refuse to generate."""


class KeyFileError(DkimKeyError):
    """A key file we cannot read, parse, or may not overwrite."""


PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


@dataclass(frozen=True)
class DkimPrivateKey:
    """A loaded signing key. The secret material is kept out of repr() so it never lands in
    a log line or a traceback by accident."""

    key_type: DkimKeyType
    key_bits: int  # RSA modulus size, 256 for ed25519
    key: PrivateKey = field(repr=False, compare=False)

    def public_key_b64(self) -> str:
        """p= value: SubjectPublicKeyInfo for RSA (what verifiers expect in practice),
        the raw 32-byte key for ed25519 (RFC 8463 §4)."""
        public = self.key.public_key()
        if isinstance(public, ed25519.Ed25519PublicKey):
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        else:
            raw = public.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        return base64.b64encode(raw).decode("ascii")

    def private_pem(self) -> bytes:
        """PEM text of the key: PKCS#1 for RSA (what dkimpy and OpenDKIM read), PKCS#8 for
        ed25519 (the only PEM form OpenSSL has for it)."""
        fmt = (
            serialization.PrivateFormat.TraditionalOpenSSL
            if self.key_type is DkimKeyType.RSA
            else serialization.PrivateFormat.PKCS8
        )
        return self.key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


@dataclass(frozen=True)
class DkimKeyRecordText:
    """What to publish for a key: the owner name, the record, and the zone-file line."""

    domain: str
    selector: str
    name: str  # <selector>._domainkey.<domain>
    key_type: DkimKeyType
    key_bits: int
    record: str  # the TXT value, "v=DKIM1; k=...; p=..."
    zone_line: str  # the record as one zone-file line, split into strings of <= 255 bytes


def validate_key_parameters(key_type: DkimKeyType, bits: int | None) -> int:
    """The key size to generate; raise KeyParameterError for sizes we refuse."""
    if key_type is DkimKeyType.ED25519:
        if bits not in (None, 256):
            raise KeyParameterError("ed25519 keys have a fixed size; do not give --bits")
        return 256
    size = DEFAULT_RSA_BITS if bits is None else bits
    if size < MIN_RSA_BITS:
        raise KeyParameterError(
            f"RSA keys shorter than {MIN_RSA_BITS} bits are refused: verifiers must reject "
            "them (RFC 8301 §3.2)"
        )
    if size > MAX_RSA_BITS:
        raise KeyParameterError(f"RSA keys longer than {MAX_RSA_BITS} bits are not supported")
    if size % 8:
        raise KeyParameterError("RSA key size must be a multiple of 8 bits")
    return size


def generate_key(key_type: DkimKeyType, bits: int | None = None) -> DkimPrivateKey:
    size = validate_key_parameters(key_type, bits)
    if key_type is DkimKeyType.ED25519:
        return DkimPrivateKey(DkimKeyType.ED25519, 256, ed25519.Ed25519PrivateKey.generate())
    key = rsa.generate_private_key(public_exponent=65537, key_size=size)
    return DkimPrivateKey(DkimKeyType.RSA, size, key)


def load_private_key(pem: bytes, *, source: str = "key") -> DkimPrivateKey:
    """Parse a PEM private key (PKCS#1 or PKCS#8, unencrypted). The error never quotes the
    file's content: it is a secret."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except TypeError:
        raise KeyFileError(f"{source} is encrypted; give an unencrypted PEM key") from None
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFileError(f"{source} is not a PEM private key") from None
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < MIN_RSA_BITS:
            raise KeyFileError(
                f"{source} is a {key.key_size}-bit RSA key; DKIM needs at least {MIN_RSA_BITS}"
            )
        return DkimPrivateKey(DkimKeyType.RSA, key.key_size, key)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return DkimPrivateKey(DkimKeyType.ED25519, 256, key)
    raise KeyFileError(f"{source} holds a {type(key).__name__}; DKIM uses RSA or ed25519 keys")


def read_private_key(path: Path) -> DkimPrivateKey:
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {path}: {exc.strerror}") from None
    return load_private_key(pem, source=f"key file {path}")


def txt_zone_line(name: str, text: str, ttl: int = DEFAULT_TTL) -> str:
    """A zone-file TXT line (RFC 6376 §3.6.2.2: verifiers join the strings back without
    spaces); written by the one zone-line function every part of the tool uses."""
    return zone_line(name, "TXT", text, ttl)


def key_record(
    key: DkimPrivateKey, domain: str, selector: str, ttl: int = DEFAULT_TTL
) -> DkimKeyRecordText:
    name = f"{selector}._domainkey.{domain}".lower()
    record = f"v=DKIM1; k={key.key_type.value}; p={key.public_key_b64()}"
    return DkimKeyRecordText(
        domain=domain,
        selector=selector,
        name=name,
        key_type=key.key_type,
        key_bits=key.key_bits,
        record=record,
        zone_line=txt_zone_line(name, record, ttl),
    )


def write_private_key(path: Path, key: DkimPrivateKey, *, force: bool = False) -> None:
    """Write the key with mode 0600, atomically; refuse to replace a key unless `force`.

    `mkstemp` creates the temporary file with mode 0600 (and O_EXCL), so no other user can
    ever open it. Without `force` the file is put in place with link(2), which fails when
    the name exists: there is no window in which a check passes and another writer wins.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not force and (path.exists() or path.is_symlink()):
        raise KeyFileError(f"{path} already exists; refusing to overwrite a key (use --force)")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key.private_pem())
            fh.flush()
            os.fsync(fh.fileno())
        if force:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise KeyFileError(
                    f"{path} already exists; refusing to overwrite a key (use --force)"
                ) from None
            os.unlink(tmp)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
