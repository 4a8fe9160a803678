"""docs/encryption.md is a specification: an independent implementation written from it
must interoperate with the code, and its test vector must be what the format produces.

Nothing here imports the stream or keyring internals; only the public entry points are
used to cross-check.
"""

from __future__ import annotations

import base64
import json
import re
import struct
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage.keyring import LocalKeyring, WrappedKey
from storage.stream import open_bytes, seal_bytes

DOC = Path(__file__).resolve().parents[2] / "docs" / "encryption.md"

VECTOR_DEK = bytes(range(32))
VECTOR_OBJECT_ID = "spec-vector-01"
VECTOR_SEGMENT_SIZE = 16
VECTOR_SALT = bytes(range(0x10, 0x20))
VECTOR_PREFIX = bytes(range(0xA0, 0xA7))
VECTOR_PLAINTEXT = b"Dear Jessica, this is a test vector."  # 36 bytes: segments of 16, 16, 4
VECTOR_CIPHERTEXT_HEX = (
    "5348544c010000001010111213141516"
    "1718191a1b1c1d1e1fa0a1a2a3a4a5a6"
)


def reference_seal(
    dek: bytes, object_id: str, plaintext: bytes, segment_size: int, salt: bytes, prefix: bytes
) -> bytes:
    header = b"SHTL" + bytes([1]) + struct.pack(">I", segment_size) + salt + prefix
    key = HKDF(SHA256(), 32, salt, b"shuttle-stream-v1|" + object_id.encode()).derive(dek)
    count = max(1, -(-len(plaintext) // segment_size))
    out = [header]
    for i in range(count):
        nonce = prefix + struct.pack(">I", i) + (b"\x01" if i == count - 1 else b"\x00")
        out.append(AESGCM(key).encrypt(nonce, plaintext[i * segment_size : (i + 1) * segment_size], header))
    return b"".join(out)


def reference_open(dek: bytes, object_id: str, data: bytes) -> bytes:
    header = data[:32]
    assert header[:5] == b"SHTL\x01"
    (segment_size,) = struct.unpack(">I", header[5:9])
    salt, prefix = header[9:25], header[25:32]
    key = HKDF(SHA256(), 32, salt, b"shuttle-stream-v1|" + object_id.encode()).derive(dek)
    body, step = data[32:], segment_size + 16
    pieces = [body[i : i + step] for i in range(0, len(body), step)] or [b""]
    out = []
    for i, piece in enumerate(pieces):
        nonce = prefix + struct.pack(">I", i) + (b"\x01" if i == len(pieces) - 1 else b"\x00")
        out.append(AESGCM(key).decrypt(nonce, piece, header))
    return b"".join(out)


def vector() -> bytes:
    return reference_seal(
        VECTOR_DEK, VECTOR_OBJECT_ID, VECTOR_PLAINTEXT, VECTOR_SEGMENT_SIZE, VECTOR_SALT, VECTOR_PREFIX
    )


def test_code_opens_what_the_reference_seals() -> None:
    for n in (0, 1, 15, 16, 17, 48, 50):
        plaintext = bytes(range(n))
        sealed = reference_seal(VECTOR_DEK, VECTOR_OBJECT_ID, plaintext, 16, VECTOR_SALT, VECTOR_PREFIX)
        assert open_bytes(VECTOR_DEK, VECTOR_OBJECT_ID, sealed) == plaintext


def test_reference_opens_what_the_code_seals() -> None:
    for n in (0, 1, 15, 16, 17, 48, 50):
        plaintext = bytes(range(n))
        sealed = seal_bytes(VECTOR_DEK, VECTOR_OBJECT_ID, plaintext, 16)
        assert reference_open(VECTOR_DEK, VECTOR_OBJECT_ID, sealed) == plaintext


def test_vector_header_and_size() -> None:
    sealed = vector()
    assert sealed.hex().startswith(VECTOR_CIPHERTEXT_HEX)
    assert len(sealed) == 32 + 36 + 3 * 16
    assert open_bytes(VECTOR_DEK, VECTOR_OBJECT_ID, sealed) == VECTOR_PLAINTEXT


def documented_vector() -> dict[str, str]:
    """The `name: value` lines of the vector block; indented lines continue the value above."""
    block = re.search(r"<!-- vector -->\s*```text\n(.*?)```", DOC.read_text(), re.S)
    assert block is not None, "docs/encryption.md lost its test vector block"
    fields: dict[str, str] = {}
    name = ""
    for line in block.group(1).splitlines():
        if line[:1].isspace():
            fields[name] += line.strip()
        else:
            name, value = line.split(":", 1)
            fields[name] = value.strip()
    return fields


def test_the_documented_vector_is_the_one_the_format_produces() -> None:
    doc = documented_vector()
    assert doc["data key"] == VECTOR_DEK.hex()
    assert doc["object id"] == f'"{VECTOR_OBJECT_ID}"'
    assert int(doc["segment size"]) == VECTOR_SEGMENT_SIZE
    assert doc["salt"] == VECTOR_SALT.hex()
    assert doc["nonce prefix"] == VECTOR_PREFIX.hex()
    assert doc["plaintext"].startswith(f'"{VECTOR_PLAINTEXT.decode()}"')
    segment_key = HKDF(SHA256(), 32, VECTOR_SALT, b"shuttle-stream-v1|" + VECTOR_OBJECT_ID.encode()).derive(VECTOR_DEK)
    assert doc["segment key"] == segment_key.hex()
    for i in range(3):
        assert doc[f"nonce {i}"].replace(" ", "") == VECTOR_PREFIX.hex() + f"{i:08x}" + ("01" if i == 2 else "00")
    assert doc["ciphertext"] == vector().hex()


def test_keyring_file_and_wrapped_key_follow_the_documented_format(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    keyring = LocalKeyring.open_or_create(path)
    keyring.add_version()
    document = json.loads(path.read_text())
    assert document["format"] == "shuttle-keyring-v1" and document["primary"] == 2
    keks = {entry["version"]: base64.urlsafe_b64decode(entry["key"] + "=") for entry in document["keys"]}
    assert sorted(keks) == [1, 2] and all(len(k) == 32 for k in keks.values())

    object_id = "object-for-spec"
    text = keyring.wrap(VECTOR_DEK, object_id).encode()
    version, encoded = re.fullmatch(r"v(\d+):([A-Za-z0-9_-]+)", text).groups()  # type: ignore[union-attr]
    raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    assert int(version) == 2 and len(raw) == 60
    aad = b"shuttle-dek-v1|" + object_id.encode() + b"|2"
    assert AESGCM(keks[2]).decrypt(raw[:12], raw[12:], aad) == VECTOR_DEK
    assert WrappedKey.decode(text) == WrappedKey(2, raw)
