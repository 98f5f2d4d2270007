"""A stored report document, compressed with a preset dictionary.

Why a preset dictionary: one report is several kilobytes of JSON whose keys and common
values ("status":"pass","findings":[]...) repeat across every report but only once or twice
within one, so a compressor without one has little to work with (about 2.6 KB per bench-zone
report with plain zlib). Codec 1 is raw DEFLATE primed with 32 KB of older demo reports;
codec 2 is zstd with the current demo's reports as a raw-content dictionary (zstd reaches
back over all of it, DEFLATE only over its last 32 KB), made by benchmarks/make_zdict.py.
A dictionary can never change once data was written with it: a new one is a new codec
number, and every codec ever used stays readable.
"""

from __future__ import annotations

import hashlib
import json
import threading
import zlib
from functools import cache
from importlib import resources
from typing import Any

import orjson
import zstandard

from ..options import StoreLimits

__all__ = ["CURRENT_CODEC", "BlobError", "digest", "dumps", "pack", "unpack"]

CURRENT_CODEC = 2
_DICTIONARIES = {1: "zdict-1.bin", 2: "zdict-2.bin"}  # codec -> the file beside this module
_ZSTD_LEVEL = 9  # about as small as level 19 here, at a fortieth of its CPU
_MAX_REPORT = StoreLimits().max_stored_report_bytes


class BlobError(ValueError):
    """A stored body that cannot be read back (unknown codec, damaged data, not JSON)."""


@cache
def _dictionary(codec: int) -> bytes:
    name = _DICTIONARIES.get(codec)
    if name is None:
        raise BlobError(f"unknown blob codec {codec}")
    return resources.files(__package__).joinpath(name).read_bytes()


@cache
def _zstd_dictionary(codec: int) -> zstandard.ZstdCompressionDict:
    zdict = zstandard.ZstdCompressionDict(
        _dictionary(codec), dict_type=zstandard.DICT_TYPE_RAWCONTENT
    )
    zdict.precompute_compress(level=_ZSTD_LEVEL)
    return zdict


def dumps(doc: dict[str, Any]) -> bytes:
    """The canonical bytes of a document: the digest and the compressed body are of these.

    orjson writes what `json.dumps(doc, ensure_ascii=False, separators=(",", ":"))` does
    (a float's exponent aside: 1e16, not 1e+16) for a fifth of the CPU; the standard
    library takes what orjson refuses (integers past 64 bits)."""
    try:
        return orjson.dumps(doc)
    except TypeError:
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def digest(data: bytes) -> bytes:
    """SHA-256 of the canonical bytes, raw: the key identical reports share a blob by."""
    return hashlib.sha256(data).digest()


def pack(data: bytes, codec: int = CURRENT_CODEC) -> bytes:
    if codec == 1:
        compressor = zlib.compressobj(
            9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, _dictionary(codec)
        )
        return compressor.compress(data) + compressor.flush()
    return _compressor(codec).compress(data)


_LOCAL = threading.local()


def _compressor(codec: int) -> zstandard.ZstdCompressor:
    """One compressor per thread and codec, kept: building one (its context, the
    dictionary's tables) costs more than compressing a report with it, and a compressor
    may not be used by two threads at once."""
    kept: dict[int, zstandard.ZstdCompressor] | None = getattr(_LOCAL, "compressors", None)
    if kept is None:
        kept = _LOCAL.compressors = {}
    found = kept.get(codec)
    if found is None:
        params = zstandard.ZstdCompressionParameters.from_level(
            _ZSTD_LEVEL, write_checksum=False, write_dict_id=False, write_content_size=True
        )
        found = kept[codec] = zstandard.ZstdCompressor(
            dict_data=_zstd_dictionary(codec), compression_params=params
        )
    return found


def _inflate_zstd(body: bytes, codec: int, max_bytes: int) -> bytes:
    reader = zstandard.ZstdDecompressor(dict_data=_zstd_dictionary(codec)).stream_reader(body)
    chunks, size = [], 0
    while chunk := reader.read(65536):
        size += len(chunk)
        if size > max_bytes:
            raise BlobError(f"stored report is larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def unpack(body: bytes, codec: int, max_bytes: int = _MAX_REPORT) -> dict[str, Any]:
    """The document of a stored body. A body that would decompress past `max_bytes` is
    damaged (or planted): refused before it is inflated."""
    try:
        if codec == 1:
            decompressor = zlib.decompressobj(-15, _dictionary(codec))
            data = decompressor.decompress(body, max_bytes + 1)
            if len(data) > max_bytes or decompressor.unconsumed_tail:
                raise BlobError(f"stored report is larger than {max_bytes} bytes")
            data += decompressor.flush()
        else:
            data = _inflate_zstd(body, codec, max_bytes)
        doc = json.loads(data)
    except (zlib.error, zstandard.ZstdError, ValueError) as exc:
        if isinstance(exc, BlobError):
            raise
        raise BlobError(f"stored report is damaged: {exc}") from None
    if not isinstance(doc, dict):
        raise BlobError("stored report is not a JSON object")
    return doc
