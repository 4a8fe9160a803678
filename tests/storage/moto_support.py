"""Helpers for tests against moto's S3 and KMS over HTTP (shared by the storage test modules;
a plain module rather than conftest, which is not importable by name)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

from storage.backends.s3 import make_s3_client
from storage.kms import make_kms_client

REGION = "us-east-1"
# moto accepts any credentials; given explicitly so nothing from the environment is used.
FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "aws_session_token": "testing"}
# One session for every test client: a new session loads the service models again (~0.3 s).
_SESSION = boto3.session.Session()


def new_s3_client(endpoint: str, **options: Any) -> Any:
    """A client configured as the backend configures its own (retries, timeouts, checksums)."""
    return make_s3_client(endpoint_url=endpoint, region=REGION, session=_SESSION, **options, **FAKE_CREDENTIALS)


def new_kms_client(endpoint: str, **options: Any) -> Any:
    return make_kms_client(endpoint_url=endpoint, region=REGION, session=_SESSION, **options, **FAKE_CREDENTIALS)


def empty_bucket(client: Any, bucket: str) -> None:
    """Delete every object and abort every upload (the buckets are unversioned)."""
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": entry["Key"]} for entry in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    for upload in client.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
        client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])


class FakeRaw:
    """The `raw` of a botocore response made up by a test instead of received."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def fake_response(status: int, body: bytes, content_type: str) -> AWSResponse:
    """What a `before-send` hook returns to answer a request without sending it."""
    return AWSResponse("http://injected", status, {"Content-Type": content_type}, FakeRaw(body))
