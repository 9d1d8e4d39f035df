"""CloudTrail digest files as pure functions: names, parsing, the string to sign, signature and hash checks.

The algorithm follows two pages of the AWS CloudTrail User Guide: "Custom implementations of CloudTrail log
file integrity validation" (string to sign, SHA256withRSA verification, public key chosen by fingerprint,
hashes of the uncompressed files, walking the chain through the previous digest) and "CloudTrail digest file
structure" (field meanings, the starting digest whose previous-digest fields are null, digests with no logs).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from ..compressed import GzipError
from ..compressed import gunzip as inflate

SIGNATURE_ALGORITHM = "SHA256withRSA"
HASH_ALGORITHM = "SHA-256"


class DigestError(Exception):
    """A digest (or log) file that cannot be read as CloudTrail wrote it."""


MAX_FILE_BYTES = 1 << 30
"""What a digest or log file may inflate to (the bound is revisited with the hostile-input limits)."""


def gunzip(data: bytes) -> bytes:
    """The uncompressed content; DigestError for a truncated, corrupt or oversized gzip stream."""
    try:
        return inflate(data, MAX_FILE_BYTES)
    except GzipError as exc:
        raise DigestError(f"not a complete gzip file ({exc})") from exc


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Digest:
    """One digest file: where it was read, its uncompressed bytes and fields, and its signature (hex)."""

    key: str
    content: bytes
    fields: Mapping[str, Any]
    signature: str | None
    signature_algorithm: str | None

    @property
    def hash(self) -> str:
        return sha256_hex(self.content)

    @property
    def previous_key(self) -> str | None:
        value = self.fields.get("previousDigestS3Object")
        return value if isinstance(value, str) else None

    @property
    def log_files(self) -> list[Mapping[str, Any]]:
        return list(self.fields.get("logFiles") or [])


def parse_digest(key: str, compressed: bytes, signature: str | None, algorithm: str | None) -> Digest:
    content = gunzip(compressed)
    try:
        fields = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        raise DigestError(f"not JSON ({exc})") from exc
    if not isinstance(fields, dict) or "digestEndTime" not in fields or "digestS3Object" not in fields:
        raise DigestError("not a CloudTrail digest (no digestEndTime / digestS3Object)")
    return Digest(key, content, fields, signature, algorithm)


def string_to_sign(fields: Mapping[str, Any], content: bytes) -> bytes:
    """digestEndTime, bucket/key of this digest, hex SHA-256 of its uncompressed content, previous signature.

    A starting digest has a null previousDigestSignature; it is signed over the literal text `null`.
    """
    previous = fields.get("previousDigestSignature")
    return "\n".join(
        [
            str(fields["digestEndTime"]),
            f"{fields.get('digestS3Bucket')}/{fields['digestS3Object']}",
            sha256_hex(content),
            "null" if previous is None else str(previous),
        ]
    ).encode()


def load_public_key(der: bytes) -> rsa.RSAPublicKey:
    """ListPublicKeys' `Value`: a DER RSAPublicKey (PKCS#1); a SubjectPublicKeyInfo DER is accepted too, as
    one of the keys in AWS's own list-public-keys example is one."""
    key = load_der_public_key(der)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


def signature_valid(public_key: rsa.RSAPublicKey, signature_hex: str, message: bytes) -> bool:
    """SHA256withRSA (RSASSA-PKCS1-v1_5 over SHA-256) of MESSAGE."""
    try:
        public_key.verify(binascii.unhexlify(signature_hex), message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def public_keys_from_list(entries: Iterable[Mapping[str, Any]]) -> dict[str, rsa.RSAPublicKey]:
    """Fingerprint -> key of ListPublicKeys entries (`Value`: bytes from boto3, base64 text from the CLI)."""
    keys: dict[str, rsa.RSAPublicKey] = {}
    for entry in entries:
        value = entry["Value"]
        der = value if isinstance(value, bytes) else base64.b64decode(value, validate=True)
        keys[str(entry["Fingerprint"]).lower()] = load_public_key(der)
    return keys
