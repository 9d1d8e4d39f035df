"""CloudTrail's public keys for digest signatures: from ListPublicKeys, or its saved output (air-gapped)."""

from __future__ import annotations

import binascii
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from botocore.exceptions import ClientError  # type: ignore[import-untyped]
from cryptography.hazmat.primitives.asymmetric import rsa

from ..errors import UserError
from .digests import public_keys_from_list

EXPORT_HINT = (
    "Save it online with `aws cloudtrail list-public-keys --region REGION --start-time START --end-time END "
    "--output json > keys-REGION.json` for each region of the trail."
)


def keys_from_files(paths: Sequence[Path]) -> dict[str, rsa.RSAPublicKey]:
    """Fingerprint -> key from files holding what `aws cloudtrail list-public-keys --output json` prints."""
    keys: dict[str, rsa.RSAPublicKey] = {}
    for path in paths:
        try:
            document = orjson.loads(path.read_bytes())
        except OSError as exc:
            raise UserError(f"--public-keys {path}: cannot read it ({exc.strerror}). {EXPORT_HINT}") from exc
        except orjson.JSONDecodeError as exc:
            raise UserError(f"--public-keys {path}: not JSON ({exc}). {EXPORT_HINT}") from exc
        # The CLI prints `PublicKeyList`; AWS's older guide shows `publicKeyList`.
        entries = (
            document.get("PublicKeyList", document.get("publicKeyList"))
            if isinstance(document, dict)
            else None
        )
        if not isinstance(entries, list):
            raise UserError(f"--public-keys {path}: no `PublicKeyList` in it. {EXPORT_HINT}")
        try:
            keys.update(public_keys_from_list(entries))
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise UserError(
                f"--public-keys {path}: an entry is not a CloudTrail public key (`Value` base64 DER, "
                f"`Fingerprint`): {exc!r}. {EXPORT_HINT}"
            ) from exc
    return keys


class CloudTrailKeys:
    """ListPublicKeys in each digest's region (keys are per region), for the time the digests cover."""

    def __init__(self, session: Any = None) -> None:
        import boto3  # type: ignore[import-untyped]

        self.session = session or boto3.session.Session()
        self.cache: dict[tuple[str, datetime, datetime], Mapping[str, rsa.RSAPublicKey]] = {}

    def __call__(self, region: str, start: datetime, end: datetime) -> Mapping[str, rsa.RSAPublicKey]:
        if (region, start, end) not in self.cache:
            client = self.session.client("cloudtrail", region_name=region)
            pages = client.get_paginator("list_public_keys").paginate(StartTime=start, EndTime=end)
            try:
                entries = [entry for page in pages for entry in page.get("PublicKeyList", [])]
            except ClientError as exc:
                error = exc.response.get("Error", {})
                raise UserError(
                    f"CloudTrail ListPublicKeys in {region} failed ({error.get('Code')}: "
                    f"{error.get('Message')}). Allow cloudtrail:ListPublicKeys, or pass --public-keys. "
                    f"{EXPORT_HINT}"
                ) from exc
            self.cache[(region, start, end)] = public_keys_from_list(entries)
        return self.cache[(region, start, end)]
