"""Read an S3 source once: private local copies of its log objects, shared by every step of a command.

A report verifies the window's log files, counts their records, asks its questions and hunts: read from S3
at each step, every object would be downloaded about ten times. Here each is downloaded once, into a
folder only this user can read (removed when the command ends), and every step reads that copy. The hashes
`verify` checks are then of the very bytes the questions answer from, even if an object is replaced while
the command runs.

An object that cannot be copied (gone, refused, over the scanner's bound) is left to each step, which reads
it from S3 and names what went wrong, as without copies. The copies share the disk with every step's scratch
files: they are made only if the disk has twice their size free, and a copy that cannot be written (the disk
filled meanwhile) removes them all. Either way the files are read from S3 at every step, with a note.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from ..cloudtrail_layout import parse_s3_url
from ..store import MAX_READ_BYTES, Blob, Entry, Store, read_file
from .log_bytes import MAX_COMPRESSED_BYTES
from .sources import LogFile

_THREADS = 16  # network latency, not CPU, bounds a download; each thread holds one object at a time
_ROOM = 2  # the copies may take half the free space: the other half is left to the steps' scratch files


class Spool(NamedTuple):
    files: list[LogFile]
    """The files, each copied one with its `copy` set."""
    store: Store
    """The store, reading the copied log objects from their copies."""
    note: str
    """Why some files were not copied (read from S3 instead), or empty."""


class _Copied(NamedTuple):
    copy: str
    metadata: dict[str, str]


class CopiesFirst:
    """A `Store` whose copied objects are read from their copies, everything else from STORE."""

    def __init__(self, store: Store, copies: dict[str, _Copied]) -> None:
        self._store = store
        self._copies = copies  # by location (s3://bucket/key)
        self.bucket = store.bucket
        self.client = getattr(store, "client", None)  # named in an error's region, as the store's is

    def describe(self) -> str:
        return self._store.describe()

    def location(self, key: str) -> str:
        return self._store.location(key)

    def listdir(self, prefix: str) -> tuple[list[str], list[Entry]]:
        return self._store.listdir(prefix)

    def walk(self, prefix: str) -> Iterator[Entry]:
        return self._store.walk(prefix)

    def get(self, key: str, bucket: str | None = None, *, limit: int = MAX_READ_BYTES) -> Blob | None:
        copied = self._copies.get(f"s3://{bucket}/{key}" if bucket else self._store.location(key))
        if copied is None:
            return self._store.get(key, bucket, limit=limit)
        return Blob(read_file(copied.copy, limit), dict(copied.metadata))


@contextmanager
def spooled(files: Sequence[LogFile], store: Store) -> Iterator[Spool]:
    """FILES (and STORE, which holds them) reading each S3 object from one local copy while the context
    lasts; files of a folder as they are."""
    remote = [i for i, f in enumerate(files) if f.location.startswith("s3://") and not f.problem]
    if not remote:
        yield Spool(list(files), store, "")
        return
    with tempfile.TemporaryDirectory(prefix="audit-trail-copies-") as folder:  # mode 700: the user's alone
        wanted = [files[i] for i in remote]
        need, free = (
            sum(f.size for f in wanted if f.size <= MAX_COMPRESSED_BYTES),
            shutil.disk_usage(folder).free,
        )
        if free < _ROOM * need:
            cause = f"the copies would take {_mib(need)} of the {_mib(free)} free"
            yield Spool(list(files), store, _not_once(len(wanted), cause, folder))
            return
        copies, note = _copy(wanted, Path(folder), store)
        spooled_files = list(files)
        for i in remote:
            copied = copies.get(files[i].location)
            if copied is not None:
                spooled_files[i] = files[i]._replace(copy=copied.copy)
        yield Spool(spooled_files, CopiesFirst(store, copies), note)


def _copy(files: Sequence[LogFile], folder: Path, store: Store) -> tuple[dict[str, _Copied], str]:
    full = threading.Event()  # set at the first copy that cannot be written: the rest are not downloaded

    def one(numbered: tuple[int, LogFile]) -> _Copied | OSError | None:
        number, file = numbered
        if full.is_set() or file.size > MAX_COMPRESSED_BYTES:
            return None
        bucket, key = parse_s3_url(file.location)
        try:
            blob = store.get(key, bucket, limit=MAX_COMPRESSED_BYTES)
        except Exception:  # refused, too large, unreachable: each step reads it and names why
            return None
        if blob is None:
            return None
        path = folder / f"{number:07d}"  # a name of ours: the key is the attacker's
        try:
            with open(path, "xb") as fh:
                fh.write(blob.body)
        except OSError as exc:
            full.set()
            with contextlib.suppress(OSError):  # what part of it was written
                os.unlink(path)
            return exc
        return _Copied(str(path), blob.metadata)

    copies: dict[str, _Copied] = {}
    failure: OSError | None = None
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
        for file, result in zip(files, pool.map(one, enumerate(files)), strict=True):
            if isinstance(result, OSError):
                failure = failure or result
            elif result is not None:
                copies[file.location] = result
    if failure is None:
        return copies, ""
    for copied in copies.values():  # the copies kept would leave the steps no room for their scratch files
        with contextlib.suppress(OSError):
            os.unlink(copied.copy)
    cause = f"a copy could not be written ({failure.strerror or failure})"
    return {}, _not_once(len(files), cause, str(folder))


def _mib(size: int) -> str:
    return f"{size / 2**20:,.1f} MiB"


def _not_once(count: int, cause: str, folder: str) -> str:
    return (
        f"the {count} log files from S3 were read at every step, not once: {cause} in "
        f"{Path(folder).parent}; free space there (or set TMPDIR to a larger disk) to read each once."
    )
