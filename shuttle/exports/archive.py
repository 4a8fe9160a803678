"""The certified record's archive: its layout, its signed manifest, and the offline check.

A record is one zip:

    manifest.json       what is in it: every other file's path, size and SHA-256; the case; who
                        exported it, when and why; the audit chain head at that moment; the key
    manifest.sig        the Ed25519 signature of manifest.json's exact bytes, base64
    public_key.pem      the service's public key (compare its fingerprint with the one the service
                        publishes on its coordinator pages, or pass --public-key)
    summary.html        the readable summary
    audit/chain.jsonl   the audit chain from the case's first event to the head: the case's events
                        whole, every other event as its link only (seq, prev_hash, hash)
    audit/head.txt      the head as one `seq hash at` line (a head file for `shuttle audit verify --against`)
    ...                 the record itself (record.py)

`verify` needs nothing but the archive (and, better, the public key from elsewhere): no database,
no settings, no network. It names every file, hash, signature or chain link that does not match.
This module imports nothing from the service but the audit hash, so the check is the same code
that made the chain.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shuttle.audit.log import GENESIS_HASH, event_hash

FORMAT = "shuttle-case-record"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
PUBLIC_KEY = "public_key.pem"
CHAIN = "audit/chain.jsonl"
UNLISTED = frozenset({MANIFEST, SIGNATURE})
#: Fields of a whole audit event in chain.jsonl; a line with only seq, prev_hash and hash is a link.
EVENT_FIELDS = ("seq", "at", "actor_id", "actor_role", "action", "case_id", "subject_type", "subject_id",
                "details", "prev_hash", "hash")
MAX_MEMBERS = 100_000
MAX_UNPACKED = 4 * 2**30  # a record is read whole into memory to be checked


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> bytes:
    """Stable bytes: sorted keys, two-space indent, UTF-8, a final newline."""
    return (json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def fingerprint_of_raw(raw: bytes) -> str:
    return "SHA256:" + hashlib.sha256(raw).hexdigest()


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def build(files: Mapping[str, bytes], manifest_fields: Mapping[str, Any], key: Ed25519PrivateKey,
          at: datetime) -> tuple[bytes, str]:
    """The zip of `files` plus the public key, the manifest and its signature; returns the zip's bytes
    and the SHA-256 of manifest.json (which the audit event of the export records)."""
    public = key.public_key()
    members = dict(files)
    members[PUBLIC_KEY] = public.public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)
    listed = [{"path": path, "size": len(data), "sha256": sha256(data)} for path, data in sorted(members.items())]
    manifest = canonical_json({
        **manifest_fields,
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "signing_key": {"algorithm": "Ed25519", "fingerprint": fingerprint_of_raw(_raw(public))},
        "files": listed,
    })
    signature = base64.b64encode(key.sign(manifest)) + b"\n"
    stamp = at.timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in [(MANIFEST, manifest), (SIGNATURE, signature), *sorted(members.items())]:
            info = zipfile.ZipInfo(path, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out.getvalue(), sha256(manifest)


# --- verifying ---------------------------------------------------------------------------------------


class KeyError_(ValueError):
    """The public key given to `verify` cannot be read."""


def read_public_key(given: str) -> tuple[Ed25519PublicKey | None, str | None]:
    """--public-key: a PEM file, PEM text, or a fingerprint (`SHA256:` and 64 hex digits, spaces and
    colons ignored). Returns (key, None) or (None, fingerprint)."""
    text = given
    path = Path(given)
    try:
        if len(given) < 4096 and path.is_file():
            text = path.read_text(encoding="ascii", errors="replace")
    except OSError:
        pass
    if "BEGIN PUBLIC KEY" in text:
        try:
            public = serialization.load_pem_public_key(text.encode("ascii", errors="replace"))
        except ValueError as exc:
            raise KeyError_(f"the public key given cannot be read: {exc}") from None
        if not isinstance(public, Ed25519PublicKey):
            raise KeyError_("the public key given is not an Ed25519 key")
        return public, None
    digits = "".join(ch for ch in text.strip().removeprefix("SHA256:").removeprefix("sha256:")
                     if ch not in " :\n\t").lower()
    if len(digits) == 64 and all(ch in "0123456789abcdef" for ch in digits):
        return None, "SHA256:" + digits
    raise KeyError_("the public key given is neither a PEM public key (file or text) nor a SHA256 fingerprint")


@dataclass
class Verification:
    problems: list[str] = field(default_factory=list)
    files: int = 0
    events: int = 0
    case_events: int = 0
    fingerprint: str = ""
    key_source: str = ""  # "given" | "fingerprint given" | "archive"
    head: tuple[int, str] | None = None
    reference: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def sentence(self) -> str:
        if self.ok:
            where = {"given": "the public key given", "fingerprint given": "the key whose fingerprint was given",
                     "archive": "the public key inside the archive"}[self.key_source]
            head = f"head {self.head[0]} {self.head[1]}" if self.head else "no head"
            extra = ("" if self.key_source != "archive" else
                     "; compare that fingerprint with the one the service publishes, or pass --public-key")
            return (f"export of {self.reference} verified: signature by {where} ({self.fingerprint}), "
                    f"{self.files} files match the manifest, audit chain slice of {self.events} events "
                    f"({self.case_events} of this case) links up to the {head}{extra}")
        return "export does NOT verify: " + "; ".join(self.problems)


def _check_chain(lines: list[bytes], head: tuple[int, str] | None, case_id: str, result: Verification) -> None:
    """Each line links to the one before; each whole event's hash recomputes from its content and its
    prev_hash; the last hash is the head; the first line links to the genesis or to a link line."""
    prev: tuple[int, str] | None = None
    for number, raw in enumerate(lines, 1):
        try:
            event = json.loads(raw)
            seq, prev_hash, stated = int(event["seq"]), str(event["prev_hash"]), str(event["hash"])
        except (ValueError, KeyError, TypeError):
            result.problems.append(f"{CHAIN} line {number} is not an audit event")
            return
        if prev is None:
            if seq == 1 and prev_hash != GENESIS_HASH:
                result.problems.append(f"{CHAIN}: event 1 does not start from the genesis hash")
                return
        elif seq != prev[0] + 1:
            result.problems.append(f"{CHAIN}: after event {prev[0]} comes event {seq} (events are missing)")
            return
        elif prev_hash != prev[1]:
            result.problems.append(f"{CHAIN}: event {seq}'s prev_hash is not the hash of event {prev[0]} "
                                   "(an event was removed or changed)")
            return
        if "action" in event:
            try:
                recomputed = event_hash(**{name: _field(event, name) for name in EVENT_FIELDS if name != "hash"})
            except (ValueError, KeyError, TypeError):
                recomputed = ""
            if recomputed != stated:
                result.problems.append(f"{CHAIN}: event {seq}'s hash does not recompute from its content "
                                       "(the event was changed)")
                return
            if event.get("case_id") != case_id:
                result.problems.append(f"{CHAIN}: event {seq} is whole but not of this case")
                return
            result.case_events += 1
        result.events += 1
        prev = (seq, stated)
    if head is None:
        result.problems.append("the manifest names no audit chain head")
    elif prev is None:
        result.problems.append(f"{CHAIN} holds no event")
    elif prev != head:
        result.problems.append(f"{CHAIN} ends at event {prev[0]} with hash {prev[1]}, not at the head "
                               f"the manifest names (event {head[0]}, {head[1]})")


def _field(event: Mapping[str, Any], name: str) -> Any:
    value = event[name]
    if name == "at":
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if name == "details" and not isinstance(value, dict):
        raise TypeError("details")
    return value


def verify(data: bytes, public_key: str | None = None) -> Verification:
    """Check an archive's bytes: signature, every file's hash, the audit chain slice and its head."""
    result = Verification()
    given_key, given_fp = read_public_key(public_key) if public_key else (None, None)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise zipfile.BadZipFile("too many members")
        if sum(info.file_size for info in infos) > MAX_UNPACKED:
            raise zipfile.BadZipFile(f"it would unpack to more than {MAX_UNPACKED // 2**30} GiB")
        members = {info.filename: archive.read(info) for info in infos}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        result.problems.append(f"the file is not a readable zip archive ({exc})")
        return result
    manifest_bytes, signature = members.get(MANIFEST), members.get(SIGNATURE)
    if manifest_bytes is None or signature is None:
        result.problems.append(f"the archive has no {MANIFEST if manifest_bytes is None else SIGNATURE}")
        return result
    # The key: given, or the archive's own (then checked against a given fingerprint, if any).
    key = given_key
    result.key_source = "given"
    if key is None:
        try:
            loaded = serialization.load_pem_public_key(members.get(PUBLIC_KEY, b""))
            key = loaded if isinstance(loaded, Ed25519PublicKey) else None
        except ValueError:
            key = None
        if key is None:
            result.problems.append(f"{PUBLIC_KEY} in the archive is not an Ed25519 public key")
            return result
        result.key_source = "fingerprint given" if given_fp else "archive"
    result.fingerprint = fingerprint_of_raw(_raw(key))
    if given_fp and given_fp != result.fingerprint:
        result.problems.append(f"the archive's public key ({result.fingerprint}) is not the key whose "
                               f"fingerprint was given ({given_fp})")
        return result
    try:
        key.verify(base64.b64decode(signature.strip(), validate=True), manifest_bytes)
    except (InvalidSignature, binascii.Error, ValueError):
        result.problems.append(f"the signature of {MANIFEST} does not verify with {result.fingerprint}"
                               f"{' (the public key given)' if given_key else ''}: the manifest was changed "
                               "or signed by another key")
        return result
    try:
        manifest = json.loads(manifest_bytes)
        listed = {str(f["path"]): (str(f["sha256"]), int(f["size"])) for f in manifest["files"]}
    except (ValueError, KeyError, TypeError):
        result.problems.append(f"{MANIFEST} is signed but not a manifest of this format")
        return result
    result.reference = str(manifest.get("case", {}).get("reference", ""))
    for path, (digest, _size) in sorted(listed.items()):
        content = members.get(path)
        if content is None:
            result.problems.append(f"{path} is listed in the manifest but missing from the archive")
        elif sha256(content) != digest:
            result.problems.append(f"{path} does not match its SHA-256 in the manifest")
        else:
            result.files += 1
    for path in sorted(set(members) - set(listed) - UNLISTED):
        result.problems.append(f"{path} is in the archive but not in the manifest")
    head_fields = manifest.get("audit_head") or {}
    head = (int(head_fields["seq"]), str(head_fields["hash"])) if "seq" in head_fields else None
    result.head = head
    lines = [line for line in members.get(CHAIN, b"").splitlines() if line.strip()]
    _check_chain(lines, head, str(manifest.get("case", {}).get("id", "")), result)
    _check_counts(lines, manifest.get("audit_chain") or {}, result)
    return result


def _check_counts(lines: list[bytes], stated: Mapping[str, Any], result: Verification) -> None:
    """The signed manifest says where the slice starts and how many events it holds: an event cut
    from its start (which no link can show) or anywhere else is named here too."""
    try:
        first = int(json.loads(lines[0])["seq"]) if lines else None
    except (ValueError, KeyError, TypeError):
        first = None
    if stated.get("first_seq") != first:
        result.problems.append(f"{CHAIN} starts at event {first}, not at event {stated.get('first_seq')} "
                               "as the manifest says")
    if stated.get("events") != len(lines):
        result.problems.append(f"{CHAIN} holds {len(lines)} events, not {stated.get('events')} "
                               "as the manifest says")
