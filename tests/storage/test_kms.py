"""The KMS keyring's own guarantees, against moto's KMS over HTTP on 127.0.0.1.

The keyring contract (binding to the object id, rotation, tampering) is in test_keyring.py,
run against both keyrings. moto does not enforce key states (a disabled key still
decrypts there), so KMS's answers for disabled keys are injected with a botocore hook.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from moto_support import REGION, fake_response, new_kms_client

from storage.errors import DecryptionError, KeyringError, StorageUnavailable
from storage.factory import make_keyring
from storage.kms import CONTEXT_PURPOSE, KMS_KEYRING_FORMAT, KmsKeyring

OBJECT_ID = "object-aaaaaaaa"
DEK = os.urandom(32)


def kms_error(code: str, status: int = 400) -> AWSResponse:
    body = json.dumps({"__type": code, "message": f"injected {code}"}).encode()
    return fake_response(status, body, "application/x-amz-json-1.1")


class Calls:
    """Records the KMS operations a client sends; optionally answers some with an error."""

    def __init__(self, client: Any) -> None:
        self.operations: list[str] = []
        self.failures: dict[str, list[AWSResponse]] = {}
        client.meta.events.register("before-send.kms", self._before_send)

    def _before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        operation = request.headers["X-Amz-Target"].decode().split(".")[-1]
        self.operations.append(operation)
        queued = self.failures.get(operation)
        return queued.pop(0) if queued else None


@pytest.fixture
def fresh_kms_client(moto_endpoint: str) -> Any:
    return new_kms_client(moto_endpoint)


@pytest.fixture
def kms_keyring(tmp_path: Path, kms_client: Any) -> KmsKeyring:
    return KmsKeyring.open_or_create(tmp_path / "keys" / "kms-keyring.json", client=kms_client)


def test_the_version_file_pins_key_arns_and_holds_no_secret(tmp_path: Path, kms_client: Any) -> None:
    path = tmp_path / "kms-keyring.json"
    keyring = KmsKeyring.open_or_create(path, client=kms_client)
    keyring.add_version()
    document = json.loads(path.read_text())
    assert document["format"] == KMS_KEYRING_FORMAT and document["primary"] == 2
    assert [entry["version"] for entry in document["keys"]] == [1, 2]
    arns = [entry["kms_key_arn"] for entry in document["keys"]]
    assert arns == [keyring.key_arn(1), keyring.key_arn(2)]
    assert all(arn.startswith(f"arn:aws:kms:{REGION}:") and ":key/" in arn for arn in arns)
    for arn in arns:
        metadata = kms_client.describe_key(KeyId=arn)["KeyMetadata"]
        assert (metadata["KeyUsage"], metadata["KeySpec"], metadata["KeyState"]) == (
            "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT", "Enabled",
        )


def test_a_wrapped_key_is_a_kms_ciphertext_bound_by_the_encryption_context(
    kms_keyring: KmsKeyring, kms_client: Any
) -> None:
    wrapped = kms_keyring.wrap(DEK, OBJECT_ID)
    context = {"object_id": OBJECT_ID, "purpose": CONTEXT_PURPOSE}
    assert kms_client.decrypt(CiphertextBlob=wrapped.wrapped, EncryptionContext=context)["Plaintext"] == DEK
    for wrong in ({}, {"object_id": OBJECT_ID}, {**context, "purpose": "other"}, {**context, "object_id": "object-b"}):
        with pytest.raises(ClientError, match="InvalidCiphertext"):
            kms_client.decrypt(CiphertextBlob=wrapped.wrapped, EncryptionContext=wrong)


def test_rewrap_is_a_reencrypt_the_data_key_never_leaves_kms(tmp_path: Path, fresh_kms_client: Any) -> None:
    keyring = KmsKeyring.open_or_create(tmp_path / "kms-keyring.json", client=fresh_kms_client)
    calls = Calls(fresh_kms_client)
    old = keyring.wrap(DEK, OBJECT_ID)
    keyring.add_version()
    calls.operations.clear()
    new = keyring.rewrap(old, OBJECT_ID)
    assert calls.operations == ["ReEncrypt"]  # no Decrypt: the plaintext key is never returned
    assert new.kek_version == 2 and keyring.unwrap(new, OBJECT_ID) == DEK
    calls.operations.clear()
    assert keyring.rewrap(new, OBJECT_ID) == new  # already primary: verified, unchanged
    assert calls.operations == ["Decrypt"]
    # The new ciphertext is under version 2's key: naming version 1 for it is refused.
    with pytest.raises((DecryptionError, KeyringError)):
        keyring.unwrap(type(new)(1, new.wrapped), OBJECT_ID)


def test_rotation_can_adopt_an_existing_key_pinned_by_arn(kms_keyring: KmsKeyring, kms_client: Any) -> None:
    key = kms_client.create_key(Description="made by the operator")["KeyMetadata"]
    kms_client.create_alias(AliasName=f"alias/shuttle-{os.urandom(4).hex()}", TargetKeyId=key["KeyId"])
    alias = kms_client.list_aliases(KeyId=key["KeyId"])["Aliases"][0]["AliasName"]
    assert kms_keyring.add_version(alias) == 2
    assert kms_keyring.key_arn(2) == key["Arn"]  # the alias was resolved and the ARN pinned
    assert kms_keyring.unwrap(kms_keyring.wrap(DEK, OBJECT_ID), OBJECT_ID) == DEK
    with pytest.raises(KeyringError, match="already a version"):
        kms_keyring.add_version(key["Arn"])
    assert kms_keyring.versions == [1, 2]


def test_a_key_that_cannot_wrap_is_refused_as_a_new_version(kms_keyring: KmsKeyring, kms_client: Any) -> None:
    disabled = kms_client.create_key()["KeyMetadata"]["KeyId"]
    kms_client.disable_key(KeyId=disabled)
    with pytest.raises(KeyringError, match="Disabled"):
        kms_keyring.add_version(disabled)
    signing = kms_client.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"]["Arn"]
    with pytest.raises(KeyringError, match="not a symmetric encryption key"):
        kms_keyring.add_version(signing)
    with pytest.raises(KeyringError):
        kms_keyring.add_version("alias/does-not-exist")
    assert kms_keyring.versions == [1]


def test_the_configured_key_bootstraps_version_1_and_must_stay_a_version(tmp_path: Path, kms_client: Any) -> None:
    configured = kms_client.create_key()["KeyMetadata"]
    path = tmp_path / "kms-keyring.json"
    keyring = KmsKeyring.open_or_create(path, client=kms_client, key_id=configured["KeyId"])
    assert keyring.key_arn(1) == configured["Arn"]
    wrapped = keyring.wrap(DEK, OBJECT_ID)
    keyring.add_version()
    again = KmsKeyring.open_or_create(path, client=kms_client, key_id=configured["Arn"])  # still a version
    assert again.unwrap(wrapped, OBJECT_ID) == DEK and again.primary_version == 2
    other = kms_client.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(KeyringError, match="not a version"):
        KmsKeyring.open_or_create(path, client=kms_client, key_id=other)


def test_reopening_creates_no_new_key(tmp_path: Path, fresh_kms_client: Any) -> None:
    path = tmp_path / "kms-keyring.json"
    KmsKeyring.open_or_create(path, client=fresh_kms_client)
    calls = Calls(fresh_kms_client)
    KmsKeyring.open_or_create(path, client=fresh_kms_client)
    assert calls.operations == []  # the version file is enough; KMS is asked only to wrap/unwrap


@pytest.mark.parametrize(
    ("code", "operation"),
    [
        ("DisabledException", "Decrypt"),
        ("KMSInvalidStateException", "Decrypt"),  # pending deletion
        ("NotFoundException", "Decrypt"),
        ("AccessDeniedException", "Decrypt"),
        ("DisabledException", "Encrypt"),
        ("DisabledException", "ReEncrypt"),
    ],
)
def test_a_disabled_or_unusable_key_is_a_keyring_error(
    tmp_path: Path, fresh_kms_client: Any, code: str, operation: str
) -> None:
    keyring = KmsKeyring.open_or_create(tmp_path / "kms-keyring.json", client=fresh_kms_client)
    wrapped = keyring.wrap(DEK, OBJECT_ID)
    keyring.add_version()
    calls = Calls(fresh_kms_client)
    calls.failures[operation] = [kms_error(code)]
    with pytest.raises(KeyringError, match=code):
        {
            "Decrypt": lambda: keyring.unwrap(wrapped, OBJECT_ID),
            "Encrypt": lambda: keyring.wrap(DEK, OBJECT_ID),
            "ReEncrypt": lambda: keyring.rewrap(wrapped, OBJECT_ID),
        }[operation]()
    assert keyring.unwrap(wrapped, OBJECT_ID) == DEK  # re-enabled (nothing injected any more)


def test_throttling_and_server_errors_are_retried(tmp_path: Path, fresh_kms_client: Any) -> None:
    keyring = KmsKeyring.open_or_create(tmp_path / "kms-keyring.json", client=fresh_kms_client)
    wrapped = keyring.wrap(DEK, OBJECT_ID)
    calls = Calls(fresh_kms_client)
    calls.failures["Decrypt"] = [kms_error("ThrottlingException"), kms_error("KMSInternalException", 500)]
    assert keyring.unwrap(wrapped, OBJECT_ID) == DEK
    assert calls.operations == ["Decrypt"] * 3


def test_an_unreachable_kms_is_a_keyring_error(kms_keyring: KmsKeyring, tmp_path: Path) -> None:
    wrapped = kms_keyring.wrap(DEK, OBJECT_ID)
    dead = new_kms_client("http://127.0.0.1:9", retries=0, connect_timeout=1)  # discard port
    offline = KmsKeyring.open_or_create(tmp_path / "keys" / "kms-keyring.json", client=dead)
    with pytest.raises(KeyringError, match="Decrypt") as raised:
        offline.unwrap(wrapped, OBJECT_ID)
    assert isinstance(raised.value, StorageUnavailable)  # an outage: 503 on the web, retried by jobs


@pytest.mark.parametrize(
    "document",
    [
        {"format": "shuttle-keyring-v1", "primary": 1, "keys": []},
        {"format": KMS_KEYRING_FORMAT, "primary": 1, "keys": []},
        {"format": KMS_KEYRING_FORMAT, "primary": 1, "keys": [{"version": 1, "kms_key_arn": "alias/x"}]},
        {"format": KMS_KEYRING_FORMAT, "primary": 1, "keys": [{"version": 1, "kms_key_arn": "key/1234"}]},
        {"format": KMS_KEYRING_FORMAT, "primary": 2, "keys": [{"version": 1, "kms_key_arn": "ARN"}]},
        {"format": KMS_KEYRING_FORMAT, "primary": 1, "keys": [{"version": 0, "kms_key_arn": "ARN"}]},
        {"format": KMS_KEYRING_FORMAT, "primary": 1, "keys": [{"version": 1, "kms_key_arn": "ARN"}] * 2},
        {"format": KMS_KEYRING_FORMAT, "primary": 1, "keys": [
            {"version": 1, "kms_key_arn": "ARN"}, {"version": 2, "kms_key_arn": "ARN"}]},
    ],
)
def test_a_malformed_version_file_is_refused(tmp_path: Path, kms_client: Any, document: dict[str, Any]) -> None:
    arn = "arn:aws:kms:us-east-1:123456789012:key/0b7c4a4e-1111-2222-3333-444455556666"
    path = tmp_path / "kms-keyring.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, json.dumps(document).replace('"ARN"', json.dumps(arn)).encode())
    os.close(fd)
    with pytest.raises(KeyringError):
        KmsKeyring.open_or_create(path, client=kms_client)


def test_factory_builds_both_keyrings(
    tmp_path: Path, moto_endpoint: str, kms_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")  # "the usual places"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    local = make_keyring("local", path=tmp_path / "local" / "keyring.json")
    assert local.unwrap(local.wrap(DEK, OBJECT_ID), OBJECT_ID) == DEK
    key = kms_client.create_key()["KeyMetadata"]
    kms = make_keyring("kms", path=tmp_path / "kms.json", kms_key_id=key["KeyId"], kms_endpoint_url=moto_endpoint,
                       region=REGION)
    assert isinstance(kms, KmsKeyring) and kms.key_arn(1) == key["Arn"]
    assert kms.unwrap(kms.wrap(DEK, OBJECT_ID), OBJECT_ID) == DEK
    same = make_keyring("kms", cache_path=tmp_path / "kms.json", kms_endpoint_url=moto_endpoint, region=REGION)
    assert same.unwrap(kms.wrap(DEK, OBJECT_ID), OBJECT_ID) == DEK
    with pytest.raises(ValueError):
        make_keyring("kms", path=tmp_path / "a.json", cache_path=tmp_path / "b.json")
    with pytest.raises(ValueError):
        make_keyring("kms", kms_endpoint_url=moto_endpoint)
    with pytest.raises(ValueError):
        make_keyring("local")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    with pytest.raises(KeyringError, match="region"):
        make_keyring("kms", path=tmp_path / "kms.json")
    with pytest.raises(ValueError, match="unknown keyring"):
        make_keyring("vault", path=tmp_path / "x.json")
