"""The term index: which files a question can skip without reading them, and the rows of the files it
knows, kept between commands.

It lives in the platform's cache folder (`$XDG_CACHE_HOME/audit-trail`, by default `~/.cache/audit-trail`)
as one SQLite database of segments (`cache.segments`), each the terms of up to 64 files of one folder, with
those files' event rows (`cache.rows`). The terms only say which listed files cannot hold a match; the rows
answer a list of events (`investigate.warm`) when every file it needs has them. Both hold for a file only
while its identity (size and mtime:ctime, or the S3 ETag) is the one it had when they were taken: a changed,
truncated or replaced file is read; an added one is read; a removed one is not listed, and its rows are not
answered. A segment or a copy of rows whose checksum fails, or a database SQLite cannot read, is dropped and
built again.

The index is bounded (`AUDIT_TRAIL_CACHE_MAX_MB`, 1024 by default): past the bound, what the folders used
least recently hold goes, their kept rows first, then their terms. A cache folder that cannot be written,
or that another user owns or may write (the checksums show damage, not forgery), turns the index off for the
command, with one warning.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import orjson

from .segments import CorruptSegment, Segment, checksum
from .terms import FORMAT, probes

if TYPE_CHECKING:
    from ..investigate.sources import LogFile
    from ..investigate.warm import KeptRows

FileCounts = tuple[int, int]
"""A file whose rows are kept: its records with the required fields, and those without (as a scan counts)."""

DEFAULT_MAX_MB = 1024
MAX_MB_VARIABLE = "AUDIT_TRAIL_CACHE_MAX_MB"
_META = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
# A segment is keyed by its folder and its first file's name; `names` lists its files as a JSON array (a file
# name may hold any character, a newline too).
# `rows` is the block's event rows as Parquet (`cache.rows`), NULL when they could not be kept, and
# `counts` lists, per file, its (records, records without the required fields), or null for a file whose rows
# are not kept; `row_files` how many are. `rows` comes last: SQLite reaches a column stored after a large
# value only by reading through it, and a look-up reads every column but that one.
_SEGMENT = (
    "CREATE TABLE IF NOT EXISTS segment (folder TEXT NOT NULL, first TEXT NOT NULL, names TEXT NOT NULL, "
    "body BLOB NOT NULL, checksum BLOB NOT NULL, files INTEGER NOT NULL, counts TEXT, "
    "row_files INTEGER NOT NULL DEFAULT 0, rows_checksum BLOB, rows BLOB, PRIMARY KEY (folder, first))"
)
# When a question last used each folder, for eviction: a table of its own, so that noting it rewrites a small
# row, not a segment's whole body.
_USED = "CREATE TABLE IF NOT EXISTS used (folder TEXT PRIMARY KEY, at REAL NOT NULL)"
_PAGES = ("page_count", "freelist_count", "page_size")
_WAL_INDEX_BYTES = 32 << 10
"""The `-shm` file SQLite keeps beside a database in WAL mode while it is open: counted in the bound."""
_IN_BATCH = 500  # folders per SELECT; SQLite's bound on host parameters is far above this
_DATABASE_FILES = ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm")


def _check_private(folder: Path) -> None:
    """Refuse a cache another user could write: a segment's checksum tells damage, not forgery, so whoever
    can write the index can make it rule out a file that holds the answer (PermissionError). The folder must
    be the user's alone, and so must the database's files in it: one another user made while the folder was
    open to them, or still reaches through a second link, stays theirs to write after a `chmod` of it."""
    if not hasattr(os, "geteuid"):  # no owners and modes to go by
        return
    me = os.geteuid()
    st = folder.stat()
    if st.st_uid != me:
        raise PermissionError(f"another user owns it, uid {st.st_uid}")
    if st.st_mode & 0o022:
        mode = st.st_mode & 0o777
        raise PermissionError(
            f"other users can write it, mode {mode:o} - `chmod 700 {folder}` makes it yours alone"
        )
    for name in _DATABASE_FILES:
        try:
            st = os.lstat(folder / name)
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(st.st_mode) or st.st_uid != me or st.st_mode & 0o022 or st.st_nlink != 1:
            mode = st.st_mode & 0o777
            raise PermissionError(
                f"its {name} is not a file of yours alone (owner uid {st.st_uid}, mode {mode:o}, "
                f"{st.st_nlink} link(s)) - remove it (`rm {folder / name}`) and it is built again"
            )


def cache_folder() -> Path:
    """`$XDG_CACHE_HOME/audit-trail`, or `~/.cache/audit-trail` (the XDG base directory convention: a
    relative XDG_CACHE_HOME is ignored)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache"
    return root / "audit-trail"


def max_bytes() -> int:
    """The bound on the index's size, from AUDIT_TRAIL_CACHE_MAX_MB (a ValueError names a bad value)."""
    text = os.environ.get(MAX_MB_VARIABLE, "").strip()
    if not text:
        return DEFAULT_MAX_MB << 20
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise ValueError(f"{MAX_MB_VARIABLE}={text!r}: give a whole number of megabytes, 1 or more.")
    return int(text) << 20


def split_location(location: str) -> tuple[str, str]:
    """(folder, name) of a path or s3:// URL."""
    folder, _, name = location.rpartition("/")
    return folder, name


def storable(location: str) -> bool:
    """LOCATION can be kept in the index: a local name that is not UTF-8 (Python holds its bytes as lone
    surrogates) cannot be stored, and such a file is always read."""
    try:
        location.encode()
    except UnicodeEncodeError:
        return False
    return True


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One change, whole or not at all, and not interleaved with another process's: a connection in
    autocommit mode opens no transaction of its own (not even in `with db:`)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if db.in_transaction:  # some errors (a full disk) have rolled it back already
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _counts(held: str | None, files: int) -> list[FileCounts | None] | None:
    """A segment's `counts` column, one entry per file; None if its rows are not kept (or it is unreadable:
    the segment's checksum does not cover it, so it is checked here, and then its files are read)."""
    if held is None:
        return None
    try:
        counts = orjson.loads(held)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(counts, list) or len(counts) != files:
        return None
    out: list[FileCounts | None] = []
    for entry in counts:
        if entry is None:
            out.append(None)
        elif isinstance(entry, list) and len(entry) == 2 and all(type(n) is int and n >= 0 for n in entry):
            out.append((entry[0], entry[1]))
        else:
            return None
    return out


def _names(held: str) -> set[str] | None:
    """The file names a segment's `names` column lists; None if it cannot be read."""
    try:
        names = orjson.loads(held)
    except orjson.JSONDecodeError:
        return None
    return {str(n) for n in names} if isinstance(names, list) else None


class StoredRows(NamedTuple):
    """A block's event rows as the build keeps them: Parquet, and each file's counts (None: the file's rows
    are not kept)."""

    body: bytes
    counts: list[FileCounts | None]


def _rows_checksum(segment: bytes, counts: str, body: bytes) -> bytes:
    """What a block's kept rows are checked against: their bytes, the counts beside them, and the checksum
    of the segment they were kept with, so rows are never answered with another segment's file list (one
    stored over it since the look-up, or moved beside another)."""
    return checksum(b"%d:%s%d:%s%s" % (len(segment), segment, len(counts), counts.encode(), body))


class Held(NamedTuple):
    """One segment of a look-up: the bits and locations of the files it describes as they are now."""

    folder: str
    first: str
    segment: Segment
    bits: list[int]
    locations: list[str]
    counts: list[FileCounts | None] | None
    """Per file of the segment, its counts when its rows are kept (`StoredRows.counts`); None: no rows."""
    stored: tuple[bytes, str | None]
    """The segment's checksum and its counts as stored: what its rows must still be kept with."""


@dataclass
class Lookup:
    """What the index holds of one question's files, read once: the files it knows as they are now."""

    files: Sequence[LogFile]
    held: list[Held] = field(default_factory=list)
    index: TermIndex | None = None

    @cached_property
    def current(self) -> set[str]:
        """Locations of the files the index describes as they are now."""
        return {location for held in self.held for location in held.locations}

    def cannot_match(self, groups: Sequence[Sequence[bytes]]) -> frozenset[str]:
        """Locations of the files the index proves hold no record with, for every group, one of its needles
        (the prefilter's needle groups). A file it does not know as it is now is never among them."""
        if not groups:
            return frozenset()
        probed = tuple(tuple(probes(needle) for needle in group) for group in groups)
        skip: set[str] = set()
        for held in self.held:
            mask = held.segment.may_hold(probed)
            if not mask:  # the usual case for a selective question: the whole segment at once
                skip.update(held.locations)
                continue
            skip.update(
                location
                for bit, location in zip(held.bits, held.locations, strict=True)
                if not mask >> bit & 1
            )
        return frozenset(skip)

    def unindexed(self) -> list[LogFile]:
        """The files the index does not know as they are now."""
        current = self.current
        return [f for f in self.files if not f.problem and f.location not in current]

    def kept_rows(self, read: Sequence[LogFile], folder: Path) -> KeptRows | None:
        """The kept rows of the files READ, as Parquet files written into FOLDER; None unless every one of
        them has its rows kept as it is now (or a copy turns out damaged: it is dropped, the files read)."""
        if self.index is None:
            return None
        where: dict[str, tuple[int, int, FileCounts]] = {}
        for number, held in enumerate(self.held):
            if held.counts is None:
                continue
            for bit, location in zip(held.bits, held.locations, strict=True):
                counts = held.counts[bit]
                if counts is not None:
                    where[location] = (number, bit, counts)
        used: dict[int, set[int]] = {}
        records = 0
        bad: Counter[str] = Counter()
        for file in read:
            found = where.get(file.location)
            if found is None:
                return None
            number, bit, (good, without) = found
            used.setdefault(number, set()).add(bit)
            records += good
            if without:
                bad[file.location] += without
        from ..investigate.warm import KeptRows  # loaded only by a question the rows can answer

        numbers = sorted(used)
        written = self.index.rows_of([self.held[n] for n in numbers], folder)
        if written is None:
            return None
        parts: list[tuple[Path, tuple[int, ...] | None]] = []
        for number, path in zip(numbers, written, strict=True):
            if path is not None:
                bits = used[number]
                kept = {b for b, c in enumerate(self.held[number].counts or ()) if c is not None}
                parts.append((path, None if bits == kept else tuple(sorted(bits))))
        return KeptRows(parts, records, bad)


# A named tuple, not a frozen dataclass: defining one of those costs about a millisecond at every start.
class IndexInfo(NamedTuple):
    folder: Path
    bytes: int
    limit: int
    files: int
    folders: int
    segments: int
    row_files: int = 0

    def rows(self) -> list[dict[str, object]]:
        return [
            {"setting": "location", "value": str(self.folder)},
            {"setting": "size", "value": f"{self.bytes / 2**20:.1f} MiB of at most {self.limit >> 20} MiB"},
            {"setting": "log files indexed", "value": self.files},
            {"setting": "log files with their events kept", "value": self.row_files},
            {"setting": "folders", "value": self.folders},
            {"setting": "segments", "value": self.segments},
        ]


class TermIndex:
    """The index kept in FOLDER (the cache folder by default).

    `problem` says why it is off for this command (a cache folder that cannot be written); `warnings` what
    it mended on the way (a damaged database or segment, dropped and built again)."""

    def __init__(self, folder: Path | None = None, limit: int | None = None) -> None:
        self.folder = folder or cache_folder()
        self.path = self.folder / "index.sqlite"
        self.limit = limit if limit is not None else max_bytes()
        self.problem: str | None = None
        self.warnings: list[str] = []
        self._db: sqlite3.Connection | None = None

    # --- the database ---

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is not None or self.problem is not None:
            return self._db
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            _check_private(self.folder)
            self._db = self._open()
        except sqlite3.DatabaseError as exc:  # not a database, or a damaged one: start again
            self._discard(exc)
            try:
                self._db = self._open()
            except (OSError, sqlite3.Error) as again:
                self._off(again)
        except (OSError, sqlite3.Error) as exc:
            self._off(exc)
        return self._db

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode = WAL")  # readers never wait for a build
            # A commit is not synced to disk, only a checkpoint: a crash may lose the last changes of a cache,
            # never corrupt it (https://www.sqlite.org/pragma.html#pragma_synchronous), and a question's note
            # of what it used costs no fsync.
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute(_META)
            row = db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
            if row is None or row[0] != FORMAT:  # terms taken another way cannot answer for this version
                with _transaction(db):
                    db.execute("DROP TABLE IF EXISTS segment")  # its columns may be another version's too
                    db.execute("DROP TABLE IF EXISTS used")
                    db.execute(_SEGMENT)
                    db.execute(_USED)
                    db.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (FORMAT,))
                if row is not None:
                    self.warnings.append(
                        f"the cache's index at {self.path} was written in another format ({row[0]!r}, this "
                        f"version writes {FORMAT!r}); it is built again"
                    )
        except BaseException:
            db.close()
            raise
        return db

    def _off(self, exc: BaseException) -> None:
        self.problem = (
            f"the cache at {self.folder} cannot be used ({exc}): every file is read. Set XDG_CACHE_HOME to a "
            "writable folder, or pass --no-cache."
        )
        self._db = None

    def _refused(self, exc: BaseException) -> None:
        """A change the database refused (a full disk, a failing one): the index is off for the command."""
        self.close()
        self._off(exc)

    def _discard(self, exc: BaseException) -> None:
        self.close()
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{self.path}{suffix}").unlink()
        self.warnings.append(f"the cache's index at {self.path} was unreadable ({exc}); it is built again")

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # --- asking ---

    def _segments(self, folders: set[str]) -> Iterator[Held]:
        """The segments of FOLDERS that decode, as `Held` without files yet (damaged ones are dropped)."""
        db = self._connect()
        if db is None:
            return
        wanted = sorted(folders)
        damaged: list[tuple[str, str]] = []
        try:
            for i in range(0, len(wanted), _IN_BATCH):
                batch = wanted[i : i + _IN_BATCH]
                marks = ",".join("?" * len(batch))
                rows = db.execute(
                    "SELECT folder, first, body, checksum, counts, rows_checksum IS NULL FROM segment "
                    f"WHERE folder IN ({marks})",
                    batch,
                ).fetchall()
                asked = set(batch)
                for folder, first, body, checksum, counts, no_rows in rows:
                    try:
                        # A row of a folder not asked for: a table that compares folders otherwise than it
                        # was made to (another collation, say) is not one this index wrote.
                        if folder not in asked:
                            raise CorruptSegment("a folder not asked for")
                        segment = Segment.decode(body, checksum)
                        kept = _counts(counts, len(segment.names))
                        # Rows kept have counts that read, and rows not kept have none: else the files
                        # would be neither answered from rows nor ever kept again, and nobody told.
                        if (counts is None) != bool(no_rows) or (counts is not None and kept is None):
                            raise CorruptSegment("its rows' counts are unreadable")
                        yield Held(folder, first, segment, [], [], kept, (checksum, counts))
                    except CorruptSegment:
                        damaged.append((folder, first))
                # Recency, for eviction (best effort), in one transaction: a commit per folder would cost
                # more than the look-up.
                now = time.time()
                used = [(folder, now) for folder in {row[0] for row in rows}]
                if used:
                    with contextlib.suppress(sqlite3.Error), _transaction(db):
                        db.executemany("INSERT OR REPLACE INTO used VALUES (?, ?)", used)
            if damaged:
                with _transaction(db):
                    db.executemany("DELETE FROM segment WHERE folder = ? AND first = ?", damaged)
                self.warnings.append(f"{len(damaged)} damaged index segments dropped: their files are read")
        except sqlite3.DatabaseError as exc:
            self._discard(exc)

    def look_up(self, files: Sequence[LogFile]) -> Lookup:
        """What the index holds for FILES (nothing when it is off)."""
        lookup = Lookup(files, index=self)
        asked: dict[str, dict[str, LogFile]] = {}
        for file in files:
            # A file that cannot be read (a FIFO, a dangling link) has no version: never current.
            if file.version and not file.problem:
                folder, _, name = file.location.rpartition("/")
                asked.setdefault(folder, {})[name] = file
        # A name that is not UTF-8 is never stored (`storable`), so only its folder needs the check here.
        folders = {folder for folder in asked if storable(folder)}
        for held in self._segments(folders):
            segment = held.segment
            listed = asked[held.folder]
            bits: list[int] = []
            locations: list[str] = []
            for bit, name in enumerate(segment.names):
                known = listed.get(name)
                if (
                    known is not None
                    and segment.indexed[bit]
                    and segment.sizes[bit] == known.size
                    and segment.versions[bit] == known.version
                ):
                    bits.append(bit)
                    locations.append(known.location)
            if bits:
                lookup.held.append(held._replace(bits=bits, locations=locations))
        return lookup

    def rows_of(self, segments: Sequence[Held], folder: Path) -> list[Path | None] | None:
        """The kept rows of SEGMENTS, each checked against its checksum and written into FOLDER (None for a
        segment without a single row); None if one is gone or stored again since the look-up, or damaged (a
        damaged one is dropped, with a warning: its files are read, and indexed again)."""
        db = self._connect()
        if db is None:
            return None
        written: list[Path | None] = []
        try:
            for number, held in enumerate(segments):
                key = (held.folder, held.first)
                got = db.execute(
                    "SELECT rows, rows_checksum, checksum, counts FROM segment "
                    "WHERE folder = ? AND first = ?",
                    key,
                ).fetchone()
                if got is None or (got[2], got[3]) != held.stored:  # evicted, or built again meanwhile
                    return None
                body, stored, segment, counts = got
                if not (
                    isinstance(body, bytes)
                    and isinstance(counts, str)
                    and stored == _rows_checksum(segment, counts, body)
                ):
                    with _transaction(db):
                        db.execute("DELETE FROM segment WHERE folder = ? AND first = ?", key)
                    self.warnings.append("a damaged copy of event rows was dropped: its files are read")
                    return None
                if not body:
                    written.append(None)
                    continue
                path = folder / f"kept-{number:05d}.parquet"
                path.write_bytes(body)
                written.append(path)
        except sqlite3.DatabaseError as exc:
            self._discard(exc)
            return None
        except OSError:  # no room for the copies in the scratch folder: the scan that follows says so
            for made in folder.glob("kept-*.parquet"):
                made.unlink(missing_ok=True)
            return None
        return written

    # --- building ---

    def store(
        self, folder: str, segment: tuple[bytes, bytes], names: Sequence[str], rows: StoredRows | None = None
    ) -> None:
        """Store a segment of FOLDER's files NAMES, with their ROWS when they were kept; the segments it
        supersedes (sharing a file) go."""
        db = self._connect()
        if db is None:
            return
        body, checksum = segment
        listed = orjson.dumps(list(names)).decode()
        try:
            with _transaction(db):
                for first, held in db.execute(
                    "SELECT first, names FROM segment WHERE folder = ?", (folder,)
                ).fetchall():
                    superseded = _names(held)
                    if superseded is None or not superseded.isdisjoint(names):
                        db.execute("DELETE FROM segment WHERE folder = ? AND first = ?", (folder, first))
                kept: tuple[str | None, int, bytes | None, bytes | None] = (None, 0, None, None)
                if rows is not None:
                    counts = orjson.dumps(rows.counts).decode()
                    row_files = sum(c is not None for c in rows.counts)
                    kept = (counts, row_files, _rows_checksum(checksum, counts, rows.body), rows.body)
                db.execute(
                    "INSERT INTO segment VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (folder, names[0], listed, body, checksum, len(names), *kept),
                )
                db.execute("INSERT OR REPLACE INTO used VALUES (?, ?)", (folder, time.time()))
        except sqlite3.Error as exc:  # a full disk, say: the index stays as it was, and off from here
            self._refused(exc)

    def _footprint(self, db: sqlite3.Connection) -> int:
        """What the index takes on disk once vacuumed: its pages in use, and the WAL index beside them."""
        pages, free, size = (db.execute(f"PRAGMA {p}").fetchone()[0] for p in _PAGES)
        return (pages - free) * size + _WAL_INDEX_BYTES

    def evict(self) -> int:
        """Drop what the least recently used folders hold until the index is within its bound on disk: their
        kept rows first (most of what a folder takes; a list over it is then scanned), then their terms;
        how many folders lost their terms."""
        db = self._connect()
        if db is None:
            return 0
        dropped = 0
        try:
            if self._footprint(db) > self.limit:
                rows = db.execute(
                    "SELECT DISTINCT folder, coalesce(at, 0) FROM segment LEFT JOIN used USING (folder) "
                    "ORDER BY 2"
                ).fetchall()
                with _transaction(db):
                    for folder, _ in rows:
                        if self._footprint(db) <= self.limit:
                            break
                        db.execute(
                            "UPDATE segment SET rows = NULL, rows_checksum = NULL, counts = NULL, "
                            "row_files = 0 WHERE folder = ? AND rows IS NOT NULL",
                            (folder,),
                        )
                    for folder, _ in rows:
                        if self._footprint(db) <= self.limit:
                            break
                        db.execute("DELETE FROM segment WHERE folder = ?", (folder,))
                        db.execute("DELETE FROM used WHERE folder = ?", (folder,))
                        dropped += 1
                db.execute("VACUUM")  # give the space back: the bound is on the disk the cache takes
            # The write-ahead log holds what was written since it was last folded in (after VACUUM, a copy
            # of the whole database): fold it in now, so that the bound holds as soon as a build is done.
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:
            self._refused(exc)
        return dropped

    # --- the `cache` command ---

    def info(self) -> IndexInfo:
        """What the index holds; `problem` says why it cannot be used, even before it holds anything."""
        counts = (0, 0, 0, 0)
        if self.path.exists():
            if (db := self._connect()) is not None:
                counts = db.execute(
                    "SELECT coalesce(sum(files), 0), count(DISTINCT folder), count(*), "
                    "coalesce(sum(row_files), 0) FROM segment"
                ).fetchone()
        elif self.folder.is_dir():
            try:
                _check_private(self.folder)
            except PermissionError as exc:
                self._off(exc)
        size = sum(p.stat().st_size for p in self.folder.glob("index.sqlite*") if p.is_file())
        return IndexInfo(self.folder, size, self.limit, *map(int, counts))

    def clear(self) -> int:
        """Empty the index; the bytes it took."""
        held = self.info().bytes
        self.close()
        for path in self.folder.glob("index.sqlite*"):
            path.unlink()
        return held
