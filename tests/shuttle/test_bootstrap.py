"""The composition root picks the storage by settings: S3 + KMS (moto over HTTP) runs the
same letter journey as the local folder and key file."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer
from world import World

from shuttle.accounts.passwords import PasswordPolicy
from shuttle.bootstrap import build_services
from shuttle.config import ConfigError, Settings
from shuttle.db import Base
from shuttle.messages import authoring, delivery, review


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)


def test_letter_journey_on_s3_with_kms(moto_endpoint: str, aws_env: None, tmp_path, postgres_url: str) -> None:  # type: ignore[no-untyped-def]
    bucket = f"shuttle-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    settings = Settings.from_env({
        "SHUTTLE_DATA_DIR": str(tmp_path), "SHUTTLE_SECRET_KEY": "s" * 40, "SHUTTLE_DATABASE_URL": postgres_url,
        "SHUTTLE_BLOB_BACKEND": "s3", "SHUTTLE_S3_BUCKET": bucket, "SHUTTLE_S3_ENDPOINT_URL": moto_endpoint,
        "SHUTTLE_S3_REGION": "us-east-1", "SHUTTLE_KEYRING_KIND": "kms", "SHUTTLE_KMS_ENDPOINT_URL": moto_endpoint,
    })
    svc = build_services(settings)
    import shuttle.models  # noqa: F401

    Base.metadata.drop_all(svc.db.engine)
    Base.metadata.create_all(svc.db.engine)
    try:
        svc.passwords = PasswordPolicy.for_tests()  # cheap hashing for the World's accounts
        world = World(svc)
        case_id, p = world.case()
        draft = world.do(authoring.start_draft, p.harmed, case_id, "Dear Sam, stored in S3.")
        world.do(authoring.submit, p.harmed, draft.id)
        world.run_jobs()
        world.do(review.claim, p.facilitator, draft.id)
        world.do(review.approve, p.facilitator, draft.id)
        assert world.do(delivery.open_message, p.responsible, draft.id) == "Dear Sam, stored in S3."
        listed = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1").list_objects_v2(
            Bucket=bucket)
        stored = b"".join(boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1").get_object(
            Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed["Contents"])
        assert listed["KeyCount"] >= 3 and b"stored in S3" not in stored
    finally:
        Base.metadata.drop_all(svc.db.engine)
        svc.db.dispose()


def test_a_missing_bucket_setting_is_one_clear_sentence(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="SHUTTLE_S3_BUCKET"):
        Settings.from_env({"SHUTTLE_DATA_DIR": str(tmp_path), "SHUTTLE_BLOB_BACKEND": "s3"})
    with pytest.raises(ConfigError, match="SHUTTLE_KEYRING_KIND"):
        Settings.from_env({"SHUTTLE_DATA_DIR": str(tmp_path), "SHUTTLE_KEYRING_KIND": "vault"})
