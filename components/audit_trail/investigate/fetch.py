"""`fetch`: copy a trail's log files for a window from its bucket into a local folder mirroring the S3 layout.

Resumable: a file already present with the same size is skipped, and each download lands under a temporary
name before it is renamed, so an interrupted run never leaves a partial file under a log file's name. Digest
files come along with their S3 signature metadata saved beside them (`<name>.meta.json`), so the folder can be
verified offline.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..cloudtrail_layout import AWSLOGS, META_SUFFIX, find_accounts, parse_s3_url
from ..errors import CannotRunError, UserError
from ..store import S3Store, s3_client
from ..window import Window
from .log_bytes import MAX_COMPRESSED_BYTES
from .sources import LogFile, list_log_files

DIGEST_METADATA = ("signature", "signature-algorithm", "backfill-generation-timestamp")
"""The S3 user metadata of a digest that `verify` needs: its signature, and a backfill's generation time."""


@dataclass
class FetchReport:
    listed: int = 0
    downloaded: int = 0
    skipped: int = 0
    bytes: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    """Keys not mirrored because no local path can hold them safely (`..`, `//`, a clash): named, skipped."""


def local_path(dest: Path, key: str) -> Path:
    """Where KEY goes under DEST; refuses keys no local path can mirror exactly: `..` or `.` segments,
    an absolute key, empty segments (`a//b` would land on `a/b`)."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\0" in key:
        raise UserError(f"S3 key {key!r} cannot be mirrored safely under {dest}; it was not downloaded.")
    return dest.joinpath(*parts)


def _is_present(path: Path, size: int, digest: bool) -> bool:
    if not path.is_file() or path.stat().st_size != size:
        return False
    return not digest or path.with_name(path.name + META_SUFFIX).is_file()


def _download(client: Any, bucket: str, key: str, path: Path, digest: bool, size: int) -> int:
    obj = client.get_object(Bucket=bucket, Key=key)
    body: bytes = obj["Body"].read(MAX_COMPRESSED_BYTES + 1)
    if len(body) != size:  # replaced between listing and download, or larger than a log file can be
        raise ValueError(f"its size changed from {size} to {len(body)} bytes while fetching; fetch again")
    path.parent.mkdir(parents=True, exist_ok=True)
    if digest:
        meta = obj.get("Metadata", {})
        meta_path = path.with_name(path.name + META_SUFFIX)
        tmp_meta = meta_path.with_name(meta_path.name + ".part")
        tmp_meta.write_text(json.dumps({k: meta[k] for k in DIGEST_METADATA if k in meta}))
        os.replace(tmp_meta, meta_path)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(body)
    os.replace(tmp, path)
    return len(body)


def _layout_or_explain(client: Any, bucket: str, prefix: str) -> None:
    """CannotRunError unless s3://BUCKET/PREFIX holds CloudTrail's layout, saying where the bucket does."""
    store = S3Store(bucket, client)

    def dirs(path: str) -> list[str]:
        return store.listdir(path)[0]

    if find_accounts(dirs, prefix) is not None:
        return
    found = find_accounts(dirs, "") if prefix else None
    if found:
        roots = sorted({path.split(f"/{AWSLOGS}/")[0] for _, path in found if f"/{AWSLOGS}/" in path})
        where = ", ".join(f"--prefix {r}" for r in roots) or "no --prefix"
        hint = f"it holds CloudTrail's layout elsewhere: use {where}"
    else:
        top = dirs("")
        hint = f"its top-level folders: {', '.join(top[:10]) or 'none'}" + (" ..." if len(top) > 10 else "")
    raise CannotRunError(
        f"s3://{bucket}/{prefix}: no CloudTrail logs (AWSLogs/<account>/CloudTrail/...) there or below; "
        f"{hint}."
    )


def fetch(
    bucket: str,
    prefix: str,
    dest: Path,
    window: Window,
    *,
    client: Any = None,
    threads: int = 16,
    on_total: Callable[[int], None] | None = None,
    on_file: Callable[[], None] | None = None,
) -> FetchReport:
    """Download the log and digest files of WINDOW from s3://BUCKET/PREFIX into DEST (same key layout)."""
    client = client or s3_client()
    prefix = prefix.strip("/")
    _layout_or_explain(client, bucket, prefix)
    try:  # one clear error for a read-only or missing destination, not one per file
        dest.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=dest, prefix=".audit-trail-"):
            pass
    except OSError as exc:
        why = exc.strerror or exc
        raise CannotRunError(f"{dest}: cannot write there ({why}); choose another folder.") from None
    source = f"s3://{bucket}/{prefix}"
    files: list[tuple[LogFile, bool]] = [(f, False) for f in list_log_files(source, window, client=client)]
    files += [(f, True) for f in list_log_files(source, window, client=client, digests=True)]
    report = FetchReport(listed=len(files))
    if on_total:
        on_total(len(files))
    todo: list[tuple[str, Path, bool, int]] = []
    claimed: dict[str, str] = {}  # local path, case-folded -> the key that has it
    for file, digest in files:
        key = parse_s3_url(file.location)[1]
        if key.endswith(META_SUFFIX):  # a planted key would overwrite (or race) a digest's signature file
            report.refused.append(
                (key, f"its name ends in {META_SUFFIX}, where fetch keeps a digest's S3 metadata")
            )
            continue
        try:
            path = local_path(dest, key)
        except UserError:
            report.refused.append((key, "cannot be mirrored as a local path (`..`, `.` or an empty segment)"))
            continue
        first = claimed.setdefault(str(path).casefold(), key)
        if first != key:
            report.refused.append((key, f"would overwrite {first} (same local path)"))
            continue
        if _is_present(path, file.size, digest):
            report.skipped += 1
            if on_file:
                on_file()
        else:
            todo.append((key, path, digest, file.size))

    def one(item: tuple[str, Path, bool, int]) -> tuple[str, int | Exception]:
        key, path, digest, size = item
        try:
            return key, _download(client, bucket, key, path, digest, size)
        except Exception as exc:  # reported per file; the rest still downloads
            return key, exc

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for key, result in pool.map(one, todo):
            if isinstance(result, Exception):
                report.failed.append((key, str(result)))
            else:
                report.downloaded += 1
                report.bytes += result
            if on_file:
                on_file()
    return report
