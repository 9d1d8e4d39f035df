"""AWS failures of `verify` and `doctor` as one line that names the call, the resource, the region and what to
do (exit code 3, could not run), never a botocore traceback."""

from __future__ import annotations

from botocore.exceptions import (  # type: ignore[import-untyped]
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from ..errors import CannotRunError

AWS_ERRORS = (ClientError, BotoCoreError)
"""What an AWS call raises: the service's answer, or a failure before one (credentials, network)."""

CREDENTIALS_HINT = (
    "Set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run where an IAM role is available."
)
DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AllAccessDisabled", "403"}
BAD_CREDENTIALS = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
}


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def _message(exc: ClientError) -> str:
    """The service's message, first line only (an endpoint that is not AWS can answer with a whole page)."""
    text = str(exc.response.get("Error", {}).get("Message") or "").strip().splitlines()
    first = text[0] if text else ""
    return first if len(first) <= 200 else first[:200] + "..."


def aws_failure(exc: BaseException, what: str, region: str | None, todo: str) -> CannotRunError:
    """EXC, raised by WHAT (the call and resource, e.g. "S3 ListObjectsV2 on s3://b"), as one line.
    TODO says what to do when access is denied or the call fails otherwise."""
    where = f" (region {region})" if region else ""
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return CannotRunError(f"{what}{where}: no AWS credentials found. {CREDENTIALS_HINT}")
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError):
        endpoint = getattr(exc, "kwargs", {}).get("endpoint_url", "the endpoint")
        return CannotRunError(
            f"{what}{where}: cannot reach {endpoint}. Check the network, the region and AWS_ENDPOINT_URL."
        )
    code = error_code(exc)
    if code in BAD_CREDENTIALS:
        return CannotRunError(f"{what}{where}: the credentials were refused ({code}). {CREDENTIALS_HINT}")
    if code in DENIED:
        return CannotRunError(f"{what}{where}: access denied ({_message(exc)}). {todo}")
    if isinstance(exc, ClientError):
        return CannotRunError(f"{what}{where} failed ({code}: {_message(exc)}). {todo}")
    return CannotRunError(f"{what}{where} failed ({type(exc).__name__}: {exc}). {todo}")
