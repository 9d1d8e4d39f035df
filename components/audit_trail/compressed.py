"""Gzip files as CloudTrail writes them, inflated with a bound.

ISA-L (`isal`) inflates about 2.5x faster than zlib, and decompression is most of a scan's time. Its one-call
`igzip.decompress` has no size limit, so a small planted file could inflate to gigabytes: each member is
inflated here with `max_length`, and the whole file stops at the caller's limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

from isal import isal_zlib

GZIP_MAGIC = b"\x1f\x8b"
# isal's stubs declare `error` as an exception instance; at run time it is the IsalError class.
_INFLATE_ERROR = cast(type[Exception], isal_zlib.error)


class GzipError(Exception):
    """Not a complete gzip file, or larger than allowed when inflated."""


class TooLarge(GzipError):
    pass


def gunzip(data: bytes, limit: int) -> bytes:
    """Every gzip member of DATA, at most LIMIT bytes in all. Bytes after the last member that do not start
    another (zero padding, say) are ignored, as gzip(1) does."""
    out = bytearray()
    members = 0
    while data[:2] == GZIP_MAGIC:
        members += 1
        inflater = isal_zlib.decompressobj(31)
        try:
            out += inflater.decompress(data, limit - len(out) + 1)
        except _INFLATE_ERROR as exc:
            raise GzipError(f"corrupt gzip data ({exc})") from None
        if len(out) > limit:
            raise TooLarge(f"inflates to more than {limit // 2**20} MiB")
        if not inflater.eof:
            raise GzipError("compressed file ended before the end-of-stream marker was reached")
        data = inflater.unused_data
    if not members:
        raise GzipError("not gzip data")
    return bytes(out)


CHUNK = 1 << 20


def inflate_chunks(data: bytes, limit: int) -> Iterator[bytes]:
    """The uncompressed content of DATA (every gzip member, as `gunzip`), a megabyte at a time, so that a
    caller hashing it holds one chunk, never the whole file. GzipError as `gunzip`, TooLarge past LIMIT."""
    total = 0
    members = 0
    while data[:2] == GZIP_MAGIC:
        members += 1
        inflater = isal_zlib.decompressobj(31)
        pending = data
        while not inflater.eof:
            try:
                chunk = inflater.decompress(pending, CHUNK)
            except _INFLATE_ERROR as exc:
                raise GzipError(f"corrupt gzip data ({exc})") from None
            total += len(chunk)
            if total > limit:
                raise TooLarge(f"inflates to more than {limit // 2**20} MiB")
            pending = inflater.unconsumed_tail
            if not chunk and not pending and not inflater.eof:
                raise GzipError("compressed file ended before the end-of-stream marker was reached")
            yield chunk
        data = inflater.unused_data
    if not members:
        raise GzipError("not gzip data")
