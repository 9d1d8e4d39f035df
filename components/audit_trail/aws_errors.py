"""AWS failures as one line a responder can act on: what was asked, of which resource, in which region, and
what to do. botocore is imported only when there is an error to explain."""

from __future__ import annotations

from typing import Any

from .errors import CannotRunError

_HINTS = {
    "NoSuchBucket": "no such bucket: check the name (SOURCE, --bucket, or the stack's bucketName output)",
    "AccessDenied": "access denied: the credentials in use lack the permission",
    "AccessDeniedException": "access denied: the credentials in use lack the permission",
    "InvalidAccessKeyId": "the access key is not valid: check AWS_PROFILE / AWS_ACCESS_KEY_ID",
    "SignatureDoesNotMatch": "the secret key does not match the access key: check the credentials",
    "ExpiredToken": "the session token has expired: refresh the credentials (e.g. aws sso login)",
    "ExpiredTokenException": "the session token has expired: refresh the credentials (e.g. aws sso login)",
    "UnrecognizedClientException": "the credentials are not valid here: check AWS_PROFILE and the region",
    "TrailNotFoundException": "no such trail in this region: check --trail and --region (its home region)",
}


def explain(
    exc: BaseException, *, action: str, resource: str, region: str | None = None, need: str = ""
) -> Any:
    """A CannotRunError for EXC, an AWS failure of ACTION on RESOURCE; NEED names the permission it takes.

    Exceptions that are not AWS failures are returned unchanged, for the caller to re-raise.
    """
    from botocore.exceptions import (  # type: ignore[import-untyped]
        BotoCoreError,
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )

    where = f" in {region}" if region else ""
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        why = "no AWS credentials found: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
    elif isinstance(exc, NoRegionError):
        why = "no AWS region set: pass --region or set AWS_REGION"
    elif isinstance(exc, EndpointConnectionError):
        why = f"AWS cannot be reached ({exc}): check the network, a proxy, or AWS_ENDPOINT_URL"
    elif isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Error"))
        why = _HINTS.get(code, f"{code}: {error.get('Message') or 'no message'}")
        if code.startswith("AccessDenied") and need:
            why += f" ({need})"
    elif isinstance(exc, BotoCoreError):
        why = str(exc)
    else:
        return exc
    return CannotRunError(f"{action} {resource}{where} failed - {why}.")


def error_code(exc: BaseException) -> str:
    """The service's error code of an AWS failure (`NoSuchBucket`, `404`, ...), or empty."""
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def is_aws_error(exc: BaseException) -> bool:
    """botocore's errors, told apart without importing botocore (commands that never call AWS skip it)."""
    return any(cls.__module__.startswith("botocore") for cls in type(exc).__mro__)
