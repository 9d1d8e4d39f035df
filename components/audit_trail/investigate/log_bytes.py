"""Reading a log file's bytes, bounded: from a folder or S3, inflated if gzip, checked to look whole.

The files are attacker-written: a huge planted object or a gzip bomb is refused at a bound, never read whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ..cloudtrail_layout import parse_s3_url
from ..compressed import GzipError, gunzip
from ..store import TooLarge, read_file, s3_client
from .sources import LogFile

MAX_FILE_BYTES = 128 << 20
"""What one log file may inflate to. CloudTrail delivers a file per region about every five minutes, and
an event holds at most 256 KB (CloudTrail User Guide, "CloudTrail record contents"): a real file is
kilobytes to a few megabytes. 128 MiB is far above that and still bounded (a worker holds one at a time)."""
MAX_COMPRESSED_BYTES = 64 << 20
"""What one log file may occupy before inflating: read with that bound, so a huge planted object is
refused."""

_client: Any = None


def s3() -> Any:
    global _client  # one client per worker process, made after the fork
    if _client is None:
        _client = s3_client()
    return _client


def read_log(file: LogFile) -> bytes:
    if file.copy:
        return read_file(file.copy, MAX_COMPRESSED_BYTES)
    if file.location.startswith("s3://"):
        if file.size > MAX_COMPRESSED_BYTES:
            raise TooLarge(f"{file.size} bytes, more than the {MAX_COMPRESSED_BYTES} allowed")
        bucket, key = parse_s3_url(file.location)
        body: bytes = s3().get_object(Bucket=bucket, Key=key)["Body"].read(MAX_COMPRESSED_BYTES + 1)
        if len(body) > MAX_COMPRESSED_BYTES:
            raise TooLarge(f"more than the {MAX_COMPRESSED_BYTES} bytes allowed")
        return body
    return read_file(file.location, MAX_COMPRESSED_BYTES)


def fetch_all(files: Sequence[LogFile]) -> Iterator[tuple[LogFile, bytes | Exception]]:
    """Bytes of each file, S3 objects fetched concurrently (network latency, not CPU, bounds them)."""

    def one(file: LogFile) -> tuple[LogFile, bytes | Exception]:
        try:
            return file, read_log(file)
        except Exception as exc:  # any read failure is reported per file, never fatal
            return file, exc

    if files and files[0].location.startswith("s3://"):
        from concurrent.futures import ThreadPoolExecutor  # a folder's files are read without it

        with ThreadPoolExecutor(max_workers=16) as pool:
            yield from pool.map(one, files)
    else:
        for file in files:
            yield one(file)


def looks_whole(data: bytes) -> bool:
    """Cheap check that a JSON object of Records was not cut: files the prefilter skips are still vetted."""
    head, tail = data[:64].lstrip(), data[-64:].rstrip()
    return head[:1] == b"{" and tail[-1:] == b"}" and b'"Records"' in data


def inflate(loc: str, data: bytes) -> tuple[bytes | None, str | None]:
    """The JSON text of a file's bytes (gunzipped, bounded), or None and why it cannot be had."""
    if data[:2] == b"\x1f\x8b":
        try:
            return gunzip(data, MAX_FILE_BYTES), None
        except GzipError as exc:
            return None, f"unreadable gzip ({exc})"
    if loc.endswith(".gz"):
        return None, "not gzip data"
    return data, None


def fresh_worker() -> None:
    global _client  # a forked child must not share the parent's HTTP connections
    _client = None
