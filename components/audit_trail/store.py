"""Where a trail's files are read from: a local folder or an S3 bucket, both addressed by S3 key.

One abstraction for every command that lists or reads the layout (`query` and the questions, `hunt`,
`fetch`, `verify`). In a folder the key is the path under its root, and a digest's S3 user metadata (its
signature) is the `<digest file>.meta.json` that `fetch` saved beside it. boto3 loads only for S3.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import orjson

from .aws_errors import explain, is_aws_error
from .cloudtrail_layout import META_SUFFIX, join_key
from .errors import CannotRunError


class Entry(NamedTuple):
    """A file in a listing: its name (or key, in a walk), its size, and what identifies this version of it.
    A named tuple: a listing makes one per file, and a frozen dataclass costs four times as much to make."""

    name: str
    size: int
    version: str = ""
    """Local: `version_of` its stat; S3: `s3_version`, the ETag and the time it was written."""
    problem: str = ""
    """Why it cannot be read as a file (a FIFO, a dangling or looping symlink), or empty."""


def s3_version(listed: dict[str, Any]) -> str:
    """What tells this version of an S3 object from another of the same size: its ETag, and when it was
    written. An ETag alone is the MD5 of a plain upload's bytes, and an MD5 collision can be made: an object
    rewritten later has a later LastModified too (`cache.build` indexes no object written in the last two
    seconds, so a rewrite within LastModified's one-second grain cannot pass for the version indexed)."""
    written = listed.get("LastModified")  # whole seconds: a listing and a GET give it to different precisions
    return f"{listed.get('ETag', '')}@{int(written.timestamp()) if isinstance(written, datetime) else ''}"


def etag_of(version: str) -> str:
    """The ETag part of an `s3_version`."""
    return version.rsplit("@", 1)[0]


_NAME = attrgetter("name")


def version_of(st: os.stat_result) -> str:
    """What tells this version of a local file from another of the same size: its device and inode (a file
    put in its place) and its mtime and ctime in ns (a user can set mtime back, not ctime)."""
    return f"{st.st_dev}:{st.st_ino}:{st.st_mtime_ns}:{st.st_ctime_ns}"


# A named tuple, not a frozen dataclass: defining one of those costs about a millisecond at every start.
class Blob(NamedTuple):
    body: bytes
    metadata: dict[str, str]


class Store(Protocol):
    bucket: str | None
    """The bucket (None for a folder)."""

    def describe(self) -> str: ...

    def location(self, key: str) -> str:
        """A path or `s3://bucket/key` URL the scanner can read KEY from."""
        ...

    def listdir(self, prefix: str) -> tuple[list[str], list[Entry]]:
        """(sub-folder names, files) directly under PREFIX (no trailing '/'), both sorted by name."""
        ...

    def walk(self, prefix: str) -> Iterator[Entry]:
        """Every file at any depth under PREFIX, as Entry(key, size), in key order."""
        ...

    def get(self, key: str, bucket: str | None = None, *, limit: int = ...) -> Blob | None:
        """The object at KEY (in BUCKET if it differs), or None if there is none.

        TooLarge when it holds more than LIMIT bytes."""
        ...


class TooLarge(CannotRunError):
    """A file over the size a caller allows: named, and never read into memory whole."""


def read_file(path: str | os.PathLike[str], limit: int) -> bytes:
    """A local file's bytes, at most LIMIT: a FIFO, a device or a directory is refused without blocking
    (opened non-blocking, checked to be a regular file), and a larger file raises TooLarge."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"{os.fspath(path)}: not a regular file")
        if info.st_size > limit:
            raise TooLarge(f"{os.fspath(path)}: {info.st_size} bytes, more than the {limit} allowed")
        chunks = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
    finally:
        os.close(fd)
    if len(data) > limit:  # grew while read
        raise TooLarge(f"{os.fspath(path)}: more than the {limit} bytes allowed")
    return data


_OUT_OF_FOLDER = "a symlink that leads out of the folder: not read"

MAX_READ_BYTES = 256 << 20
"""What `Store.get` reads of one object at most (callers that know a tighter bound pass it)."""


def s3_client() -> Any:
    import boto3  # type: ignore[import-untyped]

    return boto3.client("s3")


@dataclass
class FolderStore:
    root: Path
    bucket: str | None = field(default=None, init=False)
    problems: list[tuple[str, str]] = field(default_factory=list, init=False)
    """Folders that could not be listed (unreadable, looping), with why: callers report them."""

    def describe(self) -> str:
        return str(self.root)

    def location(self, key: str) -> str:
        # String joining: listing a month of a busy trail asks this for every file, and Path is 20x slower.
        root = str(self.root)
        if not key:
            return root
        return key if root == "." else (root + key if root.endswith("/") else f"{root}/{key}")

    def _entries(self, prefix: str) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(self.root / prefix) as it:
                return list(it)
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as exc:  # unreadable, a symlink loop: named, never fatal
            self.problems.append((self.location(prefix), f"cannot list it ({exc.strerror or exc})"))
            return []

    def listdir(self, prefix: str) -> tuple[list[str], list[Entry]]:
        dirs: list[str] = []
        files: list[Entry] = []
        for e in self._entries(prefix):
            if e.name.endswith(META_SUFFIX):
                continue
            try:
                if e.is_symlink() and not self._leads_inside(e.path):
                    # A link planted in an evidence folder must not make a question read (or the cache
                    # keep the terms of) a file of the machine: `get` refuses such a key too.
                    if e.is_dir():
                        self.problems.append((self.location(join_key(prefix, e.name)), _OUT_OF_FOLDER))
                    else:
                        files.append(Entry(e.name, 0, problem=_OUT_OF_FOLDER))
                    continue
                if e.is_file():  # most entries, so asked first
                    st = e.stat()
                    files.append(Entry(e.name, st.st_size, version_of(st)))
                    continue
                if e.is_dir():
                    dirs.append(e.name)
                    continue
                dangling = e.is_symlink() and not os.path.exists(e.path)  # a link to a device is not
                problem = "a dangling symlink" if dangling else "not a regular file (a FIFO or device)"
            except OSError as exc:
                problem = f"cannot read it ({exc.strerror or exc})"
            files.append(Entry(e.name, 0, problem=problem))
        files.sort(key=_NAME)
        return sorted(dirs), files

    def walk(self, prefix: str) -> Iterator[Entry]:
        dirs, files = self.listdir(prefix)
        for f in files:
            yield Entry(join_key(prefix, f.name), f.size, f.version, f.problem)
        for d in dirs:
            yield from self.walk(join_key(prefix, d))

    def _leads_inside(self, path: str) -> bool:
        root = os.path.realpath(self.root)
        return os.path.commonpath([root, os.path.realpath(path)]) == root

    def _inside(self, key: str) -> Path | None:
        """The path of KEY if it is one inside the folder: a key of `..` or `.` segments, absolute, or
        leading through a symlink out of the folder (a planted previous-digest reference, say) is none."""
        parts = key.split("/")
        if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
            return None
        path = self.root.joinpath(*parts)
        return path if self._leads_inside(str(path)) else None

    def get(self, key: str, bucket: str | None = None, *, limit: int = MAX_READ_BYTES) -> Blob | None:
        """A folder holds one bucket: BUCKET is not used. None also when KEY is no regular file inside the
        folder (a FIFO, a device, a link out of it): such a file is never opened for reading."""
        path = self._inside(key)
        if path is None:
            return None
        try:
            body = read_file(path, limit)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        except PermissionError as exc:
            raise CannotRunError(
                f"{path}: cannot read it ({exc.strerror}). Give the folder read access, then run again."
            ) from exc
        except OSError:  # not a regular file
            return None
        meta_path = path.with_name(path.name + META_SUFFIX)
        metadata: dict[str, str] = {}
        if meta_path.is_file():
            try:
                loaded = orjson.loads(read_file(meta_path, 64 << 10))
            except (OSError, orjson.JSONDecodeError):
                loaded = {}
            if isinstance(loaded, dict):
                metadata = {str(k): str(v) for k, v in loaded.items()}
        return Blob(body, metadata)


class S3Store:
    def __init__(self, bucket: str, client: Any = None) -> None:
        self.bucket: str | None = bucket
        self.client = client if client is not None else s3_client()

    def describe(self) -> str:
        return f"s3://{self.bucket}"

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def _pages(self, prefix: str, delimiter: bool) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        if delimiter:
            kwargs["Delimiter"] = "/"
        try:
            yield from self.client.get_paginator("list_objects_v2").paginate(**kwargs)
        except Exception as exc:
            if not is_aws_error(exc):
                raise
            region = getattr(getattr(self.client, "meta", None), "region_name", None)
            resource = f"s3://{self.bucket}/{prefix}"
            raise explain(
                exc, action="listing", resource=resource, region=region, need="s3:ListBucket"
            ) from None

    def listdir(self, prefix: str) -> tuple[list[str], list[Entry]]:
        p = f"{prefix}/" if prefix else ""
        dirs: list[str] = []
        files: list[Entry] = []
        for page in self._pages(p, True):
            dirs.extend(cp["Prefix"][len(p) :].rstrip("/") for cp in page.get("CommonPrefixes", ()))
            files.extend(
                Entry(o["Key"][len(p) :], o["Size"], s3_version(o)) for o in page.get("Contents", ())
            )
        files.sort(key=_NAME)
        return sorted(dirs), files

    def walk(self, prefix: str) -> Iterator[Entry]:
        for page in self._pages(f"{prefix}/" if prefix else "", False):
            for o in page.get("Contents", ()):
                yield Entry(o["Key"], o["Size"], s3_version(o))

    def get(self, key: str, bucket: str | None = None, *, limit: int = MAX_READ_BYTES) -> Blob | None:
        try:
            response = self.client.get_object(Bucket=bucket or self.bucket, Key=key)
        except Exception as exc:
            if not is_aws_error(exc):
                raise
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if code in ("NoSuchKey", "404"):
                return None
            raise explain(
                exc,
                action="reading",
                resource=f"s3://{bucket or self.bucket}/{key}",
                need="s3:GetObject on the trail's bucket, and kms:Decrypt on its key if the logs are SSE-KMS",
            ) from None
        size = int(response.get("ContentLength") or 0)
        if size > limit:
            response["Body"].close()
            raise TooLarge(f"s3://{bucket or self.bucket}/{key}: {size} bytes, more than the {limit} allowed")
        body = response["Body"].read(limit + 1)
        if len(body) > limit:  # more than its announced length
            raise TooLarge(f"s3://{bucket or self.bucket}/{key}: more than the {limit} bytes allowed")
        return Blob(body, dict(response.get("Metadata") or {}))
