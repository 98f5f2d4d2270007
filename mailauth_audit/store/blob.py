"""A stored report document, compressed: raw DEFLATE with a preset dictionary.

Why a preset dictionary: one report is a few kilobytes of JSON whose keys and common values
("status":"pass","findings":[]...) repeat across every report but only once or twice within
one, so plain zlib has little to work with (about 2.6 KB per bench-zone report); primed
with reports of the bundled demo it compresses to about half that. A dictionary can never
change once data was written with it: a new one is a new codec number, and every codec
ever used stays readable.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["CURRENT_CODEC", "BlobError", "digest", "dumps", "pack", "unpack"]

CURRENT_CODEC = 1
_DICTIONARIES = {1: "zdict-1.bin"}  # codec -> the dictionary file beside this module


class BlobError(ValueError):
    """A stored body that cannot be read back (unknown codec, damaged data, not JSON)."""


@cache
def _dictionary(codec: int) -> bytes:
    name = _DICTIONARIES.get(codec)
    if name is None:
        raise BlobError(f"unknown blob codec {codec}")
    return resources.files(__package__).joinpath(name).read_bytes()


def dumps(doc: dict[str, Any]) -> bytes:
    """The canonical bytes of a document: the digest and the compressed body are of these."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pack(data: bytes, codec: int = CURRENT_CODEC) -> bytes:
    compressor = zlib.compressobj(
        9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, _dictionary(codec)
    )
    return compressor.compress(data) + compressor.flush()


def unpack(body: bytes, codec: int) -> dict[str, Any]:
    try:
        decompressor = zlib.decompressobj(-15, _dictionary(codec))
        data = decompressor.decompress(body) + decompressor.flush()
        doc = json.loads(data)
    except (zlib.error, ValueError) as exc:
        raise BlobError(f"stored report is damaged: {exc}") from None
    if not isinstance(doc, dict):
        raise BlobError("stored report is not a JSON object")
    return doc
