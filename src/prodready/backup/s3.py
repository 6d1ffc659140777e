"""S3-compatible object storage as a backup destination: the `s3://bucket/prefix` URL, a client
made from the standard AWS environment, and botocore's errors turned into one line and a hint.

The client reads what every AWS tool reads: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or
AWS_PROFILE), AWS_DEFAULT_REGION, and AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL for an
S3-compatible server (MinIO, R2, moto), which botocore honours since 1.31. boto3 is imported only
here, and only once an s3:// URL is used: the CLI's start-up does not pay for it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from prodready.errors import InputError, ToolError, UserError

S3_URL = re.compile(r"^s3://([^/]*)/?(.*)$")
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
CONNECT_TIMEOUT_S = 10
READ_TIMEOUT_S = 120
CREDENTIALS_HINT = (
    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) to a key that may read "
    "and write the bucket"
)
REFUSED = {
    "AccessDenied", "AllAccessDisabled", "ExpiredToken", "InvalidAccessKeyId", "InvalidToken",
    "SignatureDoesNotMatch", "403",
}  # fmt: skip
"""Error codes that mean the credentials (or their permissions) are the problem."""


@dataclass(frozen=True)
class S3Url:
    """`s3://bucket/prefix`: the backups live at `<prefix>/<id>/<part>`."""

    bucket: str
    prefix: str  # without leading or trailing slashes; "" for the bucket's root

    @classmethod
    def parse(cls, text: str) -> S3Url:
        match = S3_URL.match(text.strip())
        if not match:
            raise InputError(
                f"not an s3:// URL: {text!r}", "e.g. --upload s3://my-backups/shop (bucket/prefix)"
            )
        bucket, prefix = match.group(1), match.group(2).strip("/")
        if not BUCKET_NAME.match(bucket) or ".." in bucket:
            raise InputError(
                f"{bucket!r} is not a valid S3 bucket name ({text})",
                "3-63 lower-case letters, digits, dots and hyphens, e.g. s3://my-backups/shop",
            )
        return cls(bucket, prefix)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    def key(self, *names: str) -> str:
        return "/".join([self.prefix, *names] if self.prefix else names)


class Bucket:
    """A bucket and prefix with the client that reaches them."""

    def __init__(self, url: S3Url, client: Any) -> None:
        self.url = url
        self.name = url.bucket
        self.client = client

    @property
    def endpoint(self) -> str:
        return str(self.client.meta.endpoint_url)

    @contextlib.contextmanager
    def errors(self, doing: str) -> Iterator[None]:
        """botocore's exceptions, raised while `doing`, as one line and a hint (exit 2)."""
        with s3_errors(self.url, doing, lambda: self.endpoint):
            yield


def connect(url: S3Url) -> Bucket:
    """A client for `url` from the AWS environment, checked by listing one key under the prefix
    (it needs the same permission as listing the backups): a missing bucket, refused
    credentials or an unreachable endpoint fail here, before any work is done."""
    with s3_errors(url, "connecting", lambda: "the S3 endpoint"):
        try:
            import boto3
            from botocore.config import Config
        except ModuleNotFoundError:
            raise InputError(
                "S3 destinations need boto3", "pip install 'prodready[cli,backup]'"
            ) from None
        client = boto3.client(
            "s3",
            config=Config(connect_timeout=CONNECT_TIMEOUT_S, read_timeout=READ_TIMEOUT_S),
        )
    bucket = Bucket(url, client)
    with bucket.errors(f"listing {url}"):
        client.list_objects_v2(Bucket=url.bucket, Prefix=url.key(""), MaxKeys=1)
    return bucket


@contextlib.contextmanager
def s3_errors(url: S3Url, doing: str, endpoint: Any) -> Iterator[None]:
    try:
        yield
    except UserError:
        raise
    except Exception as error:
        translated = _translated(error, url, doing, endpoint())
        if translated is None:
            raise
        raise translated from None


def _translated(error: Exception, url: S3Url, doing: str, endpoint: str) -> UserError | None:
    from botocore import exceptions as bx

    if isinstance(error, bx.NoCredentialsError | bx.PartialCredentialsError):
        return InputError(f"no S3 credentials for {url}: {error}", CREDENTIALS_HINT)
    if isinstance(error, bx.ClientError):
        details = error.response.get("Error", {})
        code = str(details.get("Code", "?"))
        message = str(details.get("Message") or "no message").rstrip(".")
        if code in ("NoSuchBucket", "404") and (doing.startswith("listing") or code != "404"):
            return InputError(
                f"there is no bucket {url.bucket} at {endpoint}",
                "create it (aws s3 mb s3://" + url.bucket + "), or fix the bucket in the URL",
            )
        if code in REFUSED:
            return InputError(
                f"{endpoint} refused the credentials while {doing}: {code}: {message}",
                CREDENTIALS_HINT,
            )
        return ToolError(
            f"S3 error while {doing} at {endpoint}: {code}: {message}",
            "fix the cause above and run it again: an upload resumes where it stopped",
        )
    if isinstance(error, bx.EndpointConnectionError | bx.ConnectTimeoutError):
        return ToolError(
            f"cannot reach the S3 endpoint {endpoint} while {doing}",
            "check AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL and that the server runs, then run it "
            "again: an upload resumes where it stopped",
        )
    if isinstance(error, bx.ParamValidationError):
        return InputError(f"S3 refused the request while {doing}: {error}".splitlines()[0], None)
    if isinstance(error, bx.BotoCoreError):
        return ToolError(
            f"S3 error while {doing} at {endpoint}: {error}".splitlines()[0],
            "run it again: an upload resumes where it stopped",
        )
    return None
