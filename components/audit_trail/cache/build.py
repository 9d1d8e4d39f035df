"""Building the term index: read the files a question listed once more and store their terms by folder.

A question never waits for this: taking the terms of a file costs several times what the prefilter's search
does, so the command that listed the files starts a background build once it has answered (`in_background`),
and `audit-trail cache build` runs one in the foreground. Builds take turns on a lock in the cache folder.

A file's terms are stored under the identity it was listed with, and only if the bytes read are that version:
a local file is checked again just before it is read and left out while its ctime is under `RACY_SECONDS`
old (a change within the file system's timestamp granularity would not show); an S3 object is read with
`If-Match` on its ETag.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from ..cloudtrail_layout import parse_s3_url
from ..investigate.log_bytes import MAX_COMPRESSED_BYTES, inflate, looks_whole, s3
from ..investigate.sources import LogFile
from ..store import etag_of, read_file, s3_version, version_of
from .index import FileCounts, StoredRows, TermIndex, split_location, storable
from .rows import BlockRows, file_rows
from .segments import BLOCK_FILES, FileEntry, encode
from .terms import EMBEDDED_RECORDS, file_terms

RACY_SECONDS = 2.0
"""How old a local file's ctime must be before its terms are taken (FAT's timestamps are 2 s coarse)."""


def _read_as_listed(file: LogFile) -> bytes | None:
    """FILE's bytes if they are still the version it was listed as; None if it changed (or cannot be read)."""
    try:
        if file.location.startswith("s3://"):
            bucket, key = parse_s3_url(file.location)
            got = s3().get_object(Bucket=bucket, Key=key, IfMatch=etag_of(file.version))
            written = got.get("LastModified")
            if s3_version({"ETag": got.get("ETag"), "LastModified": written}) != file.version:
                return None
            if not isinstance(written, datetime) or time.time() - written.timestamp() < RACY_SECONDS:
                return None  # a rewrite within LastModified's one-second grain would not show
            data: bytes = got["Body"].read(MAX_COMPRESSED_BYTES + 1)
            return data if len(data) <= MAX_COMPRESSED_BYTES else None
        st = os.stat(file.location)
        if st.st_size != file.size or version_of(st) != file.version:
            return None
        if time.time() - st.st_ctime < RACY_SECONDS:
            return None
        data = read_file(file.location, MAX_COMPRESSED_BYTES)
        st = os.stat(file.location)  # a change while it was read shows here
        return data if st.st_size == file.size and version_of(st) == file.version else None
    except Exception:  # gone, unreadable, changed on S3 (412): left unindexed, read by the next question
        return None


class _Made(NamedTuple):
    entry: FileEntry
    terms: set[bytes] | None
    rows: tuple[list[bytes], FileCounts] | None


def _entry(file: LogFile, bit: int) -> _Made | None:
    """FILE's entry, terms and rows (as the BIT-th file of its block); None when it cannot be indexed now
    (changed, too new, unreadable)."""
    payload = _read_as_listed(file)
    if payload is None:
        return None
    name = split_location(file.location)[1]
    data, _ = inflate(file.location, payload)
    if data is None or not looks_whole(data):  # the scanner reads and reports such a file every time
        return _Made(FileEntry(name, file.size, file.version, False), None, None)
    terms = file_terms(data)
    if EMBEDDED_RECORDS in terms:  # records inside strings, decoded twice: read every time
        return _Made(FileEntry(name, file.size, file.version, False), None, None)
    return _Made(FileEntry(name, file.size, file.version, True), terms, file_rows(file.location, data, bit))


@dataclass(frozen=True)
class Block:
    folder: str
    names: list[str]
    segment: tuple[bytes, bytes] | None
    files: int
    rows: StoredRows | None = None


def _index_block(args: tuple[str, Sequence[LogFile]]) -> Block:
    folder, files = args
    entries: list[FileEntry] = []
    terms: list[set[bytes] | None] = []
    counts: list[FileCounts | None] = []
    with contextlib.ExitStack() as stack:
        try:
            scratch: Path | None = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="audit-trail-rows-"))
            )
        except OSError:  # no room for the rows' scratch file: the block keeps its terms
            scratch = None
        rows = BlockRows(scratch)
        for file in files:
            made = _entry(file, len(entries))
            if made is not None:
                entries.append(made.entry)
                terms.append(made.terms)
                counts.append(made.rows[1] if made.rows is not None else None)
                rows.add(made.rows[0] if made.rows is not None else [])
        if not entries:
            return Block(folder, [], None, 0)
        encoded = rows.encoded()
    kept = None if encoded is None else StoredRows(encoded, counts)
    return Block(folder, [e.name for e in entries], encode(entries, terms), len(entries), kept)


def _blocks(index: TermIndex, files: Sequence[LogFile]) -> list[tuple[str, list[LogFile]]]:
    """The blocks of FILES' folders whose files the index does not all know as they are now."""
    lookup = index.look_up(files)
    by_folder: dict[str, list[LogFile]] = {}
    for file in files:
        if not file.problem and file.version and storable(file.location):
            by_folder.setdefault(split_location(file.location)[0], []).append(file)
    todo: list[tuple[str, list[LogFile]]] = []
    for folder, listed in sorted(by_folder.items()):
        listed.sort(key=lambda f: f.location)
        for i in range(0, len(listed), BLOCK_FILES):
            block = listed[i : i + BLOCK_FILES]
            if not all(f.location in lookup.current for f in block):
                todo.append((folder, block))
    return todo


@dataclass
class BuildReport:
    files: int = 0
    """Files whose terms were stored."""
    folders: int = 0
    evicted: int = 0
    seconds: float = 0.0


def build(
    index: TermIndex,
    files: Sequence[LogFile],
    *,
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> BuildReport:
    """Index the FILES the index does not know as they are now."""
    start = time.monotonic()
    report = BuildReport()
    todo = _blocks(index, files)
    workers = workers or os.cpu_count() or 1
    folders: set[str] = set()
    for done, block in enumerate(_run(todo, workers), 1):
        if block.segment is not None:
            index.store(block.folder, block.segment, block.names, block.rows)
            report.files += block.files
            folders.add(block.folder)
        if progress is not None:
            progress(f"{done} of {len(todo)} blocks of log files indexed")
    report.folders = len(folders)
    report.evicted = index.evict()
    report.seconds = time.monotonic() - start
    return report


def _run(todo: list[tuple[str, list[LogFile]]], workers: int) -> Iterator[Block]:
    if workers == 1 or len(todo) < 2:
        yield from map(_index_block, todo)
        return
    from concurrent.futures import ProcessPoolExecutor  # not loaded by a question that builds nothing

    with ProcessPoolExecutor(workers) as pool:
        yield from pool.map(_index_block, todo)


# --- in the background ---

_LOCK = "build.lock"
PENDING = "pending-*.json"
"""The list of files a background build was started for, until that build's turn comes."""
ORPHANED_SECONDS = 24 * 3600
"""A list this old belongs to a build that died before its turn (killed, the machine shut down): a build
waits only for the one before it. The next build sweeps it, so dead builds cannot fill the cache folder."""


@contextlib.contextmanager
def _turn(folder: Path) -> Iterator[None]:
    """One build at a time per cache folder: wait for the running one."""
    with open(folder / _LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def in_background(index: TermIndex, files: Sequence[LogFile]) -> bool:
    """Start a build of FILES that outlives this command; False if the cache cannot take one."""
    files = [f for f in files if storable(f.location)]
    if index.problem is not None or not files:
        return False
    listed = orjson.dumps([[f.location, f.size, f.version] for f in files])
    manifest: Path | None = None
    try:
        index.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.NamedTemporaryFile(
            "wb", dir=index.folder, prefix="pending-", suffix=".json", delete=False
        ) as fh:
            manifest = Path(fh.name)
            fh.write(listed)
    except OSError:  # a full disk, say: a list cut short must not wait there for a build
        if manifest is not None:
            manifest.unlink(missing_ok=True)
        return False
    try:
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "audit_trail.cache.build",
                str(index.folder),
                str(manifest),
                str(index.limit),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # neither a closed pipe nor Ctrl-C on the command stops it
            close_fds=True,
        )
    except OSError:
        manifest.unlink(missing_ok=True)  # no build will take it
        return False
    return True


def clear_pending(folder: Path, older_than: float = 0.0) -> int:
    """Remove the lists of files of builds not yet started (OLDER_THAN seconds old or more); how many went.
    Their builds, if still waiting, find nothing to do."""
    removed = 0
    for path in folder.glob(PENDING):
        with contextlib.suppress(OSError):  # gone meanwhile: taken by its build
            if time.time() - path.stat().st_mtime >= older_than:
                path.unlink()
                removed += 1
    return removed


def _background(folder: Path, manifest: Path, limit: int) -> None:
    with contextlib.suppress(OSError):
        os.nice(10)  # the responder's next question comes first
    # The manifest goes only once this build holds the lock: while either is there, a build is pending.
    with _turn(folder):
        clear_pending(folder, older_than=ORPHANED_SECONDS)
        try:
            held = manifest.read_bytes()
        except FileNotFoundError:  # `cache clear` ran while this build waited: nothing to do
            return
        finally:
            manifest.unlink(missing_ok=True)
        files = [LogFile(str(loc), int(size), version=str(v)) for loc, size, v in orjson.loads(held)]
        index = TermIndex(folder, limit)
        build(index, files)
        index.close()


def main(argv: Sequence[str] | None = None) -> None:
    args: Any = list(sys.argv[1:] if argv is None else argv)
    _background(Path(args[0]), Path(args[1]), int(args[2]))


if __name__ == "__main__":
    main()
