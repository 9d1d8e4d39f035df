"""CloudTrail's public keys for digest signatures: from ListPublicKeys, or its saved output (air-gapped).

CloudTrail signs with a private key unique to each region, and each public key is valid for a period
(`ValidityStartTime`, `ValidityEndTime`); a digest verifies only with a key of its own region that was valid
when it was signed ("Custom implementations of CloudTrail log file integrity validation", step B).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import stat
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric import rsa

from ..aws_errors import explain, is_aws_error
from ..errors import CannotRunError, UserError
from ..times import iso, parse_instant, utc
from .digests import load_public_key

EXPORT_HINT = (
    "Save them online with `aws cloudtrail list-public-keys --region REGION --start-time START "
    "--end-time END --output json > keys-REGION.json` for each region of the trail."
)
MAX_KEYS_FILE_BYTES = 1 << 20
"""A saved key list: an entry is about 500 bytes and CloudTrail rotates keys every few weeks, so 1 MiB holds
decades of keys; a larger "key file" (or a device) is refused, not read."""
REGION_IN_NAME = re.compile(r"(?<![a-z0-9])([a-z]{2}(?:-[a-z]+)+-\d+)(?![0-9])")


@dataclass(frozen=True)
class PublicKey:
    fingerprint: str
    key: rsa.RSAPublicKey
    valid_from: datetime
    valid_until: datetime

    def valid_at(self, moment: datetime) -> bool:
        return self.valid_from <= moment <= self.valid_until


KeyProvider = Callable[[str, datetime, datetime], Mapping[str, PublicKey]]
"""(region, start, end) -> fingerprint -> key: the region's keys for digests signed between START and END.
Raises UserError when it was given no keys at all for that region."""


def _moment(value: Any) -> datetime | None:
    """ListPublicKeys' times: datetimes from boto3; ISO text from the CLI; epoch text in AWS's older guide."""
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, int | float) or (isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?", value)):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return parse_instant(value)


def keys_from_list(entries: Iterable[Any]) -> dict[str, PublicKey]:
    """Fingerprint -> key of ListPublicKeys entries (`Value`: bytes from boto3, base64 text from the CLI).
    ValueError naming the entry that is not a CloudTrail public key."""
    keys: dict[str, PublicKey] = {}
    for n, entry in enumerate(entries):
        fields = entry if isinstance(entry, dict) else {}
        value, fingerprint = fields.get("Value"), fields.get("Fingerprint")
        start, end = _moment(fields.get("ValidityStartTime")), _moment(fields.get("ValidityEndTime"))
        if not isinstance(fingerprint, str) or start is None or end is None:
            raise ValueError(f"entry {n} lacks Fingerprint, ValidityStartTime or ValidityEndTime")
        try:
            der = value if isinstance(value, bytes) else base64.b64decode(str(value), validate=True)
            key = load_public_key(der)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(
                f"entry {n} ({fingerprint}): `Value` is not a base64 DER RSA key ({exc})"
            ) from exc
        keys[fingerprint.lower()] = PublicKey(fingerprint.lower(), key, start, end)
    return keys


def _read_keys_file(path: Path, flag: str) -> dict[str, PublicKey]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise UserError(f"{flag} {path}: cannot read it ({exc.strerror}). {EXPORT_HINT}") from exc
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UserError(f"{flag} {path}: not a regular file. {EXPORT_HINT}")
        data = f.read(MAX_KEYS_FILE_BYTES + 1)
    if len(data) > MAX_KEYS_FILE_BYTES:
        raise UserError(
            f"{flag} {path}: larger than {MAX_KEYS_FILE_BYTES // 2**20} MiB, not a saved key list. "
            f"{EXPORT_HINT}"
        )
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise UserError(f"{flag} {path}: not JSON ({exc}). {EXPORT_HINT}") from exc
    # The CLI prints `PublicKeyList`; AWS's older guide shows `publicKeyList`.
    entries = (
        document.get("PublicKeyList", document.get("publicKeyList")) if isinstance(document, dict) else None
    )
    if not isinstance(entries, list):
        raise UserError(f"{flag} {path}: no `PublicKeyList` in it. {EXPORT_HINT}")
    try:
        return keys_from_list(entries)
    except ValueError as exc:
        raise UserError(
            f"{flag} {path}: not CloudTrail public keys as list-public-keys prints them: {exc}. {EXPORT_HINT}"
        ) from exc


def _region_of(path: Path, flag: str) -> str:
    found = set(REGION_IN_NAME.findall(path.name))
    if len(found) != 1:
        raise UserError(
            f"{flag} {path}: cannot tell which region's keys it holds (CloudTrail's keys are per region). "
            f"Give it as REGION=FILE, or name the file for its region (keys-eu-west-1.json)."
        )
    return found.pop()


@dataclass(frozen=True)
class SavedKeys:
    """Keys saved from ListPublicKeys, by region."""

    by_region: Mapping[str, Mapping[str, PublicKey]]
    flag: str

    def __call__(self, region: str, start: datetime, end: datetime) -> Mapping[str, PublicKey]:
        if region not in self.by_region:
            given = ", ".join(sorted(self.by_region)) or "none"
            raise UserError(
                f"no public key for {region} given (use {self.flag} for each region; given: {given})."
            )
        return self.by_region[region]


def saved_keys(specs: Sequence[str], flag: str) -> SavedKeys:
    """The keys of SPECS, each `REGION=FILE`, a FILE named for its region (`keys-eu-west-1.json`), or a
    folder of such files. FLAG names the option in messages."""
    files: list[tuple[str, Path]] = []
    for spec in specs:
        region, sep, rest = spec.partition("=")
        if sep and REGION_IN_NAME.fullmatch(region):
            files.append((region, Path(rest).expanduser()))
            continue
        path = Path(spec).expanduser()
        if path.is_dir():
            named = sorted(p for p in path.iterdir() if p.suffix == ".json")
            if not named:
                raise UserError(f"{flag} {path}: a folder without key files (*.json). {EXPORT_HINT}")
            files.extend((_region_of(p, flag), p) for p in named)
        else:
            files.append((_region_of(path, flag), path))
    by_region: dict[str, dict[str, PublicKey]] = {}
    for region, path in files:
        by_region.setdefault(region, {}).update(_read_keys_file(path, flag))
    return SavedKeys(by_region, flag)


class CloudTrailKeys:
    """ListPublicKeys in each digest's region (keys are per region), for the time the digests cover."""

    def __init__(self, session: Any = None, flag: str = "--public-keys") -> None:
        import boto3  # type: ignore[import-untyped]

        self.session = session or boto3.session.Session()
        self.flag = flag
        self.cache: dict[tuple[str, datetime, datetime], Mapping[str, PublicKey]] = {}

    def __call__(self, region: str, start: datetime, end: datetime) -> Mapping[str, PublicKey]:
        if (region, start, end) not in self.cache:
            client = self.session.client("cloudtrail", region_name=region)
            pages = client.get_paginator("list_public_keys").paginate(StartTime=start, EndTime=end)
            try:
                entries = [entry for page in pages for entry in page.get("PublicKeyList", [])]
                self.cache[(region, start, end)] = keys_from_list(entries)
            except ValueError as exc:
                raise CannotRunError(
                    f"CloudTrail ListPublicKeys in {region} answered what is not a public key ({exc})."
                ) from exc
            except Exception as exc:
                if not is_aws_error(exc):
                    raise
                raise explain(
                    exc,
                    action="CloudTrail ListPublicKeys for",
                    resource=f"{iso(start)} to {iso(end)}",
                    region=region,
                    need=f"cloudtrail:ListPublicKeys; or verify offline with {self.flag}",
                ) from None
        return self.cache[(region, start, end)]
