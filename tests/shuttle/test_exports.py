"""The certified case record (issue 11): exported, signed, and checked offline; any change named."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from world import People, World

from shuttle.agreements.models import AgreementItem
from shuttle.audit import log as audit
from shuttle.audit.models import AuditEvent
from shuttle.blobs import Blob
from shuttle.cli import main
from shuttle.errors import BadInput, NotFound
from shuttle.exports import archive, signing
from shuttle.exports.record import EXPORTED, export_case
from shuttle.messages import authoring, review
from shuttle.services import Actor, Services

LETTER = "Dear Sam, I want you to know what that night did to us."


def _released(world: World, p: People, case_id: str, text: str = LETTER) -> str:
    message = world.do(authoring.start_draft, p.harmed, case_id, text)
    world.do(authoring.submit, p.harmed, message.id)
    world.run_jobs()
    world.do(review.claim, p.facilitator, message.id)
    world.do(review.approve, p.facilitator, message.id)
    return str(message.id)


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {info.filename: z.read(info) for info in z.infolist()}


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, content in members.items():
            z.writestr(name, content)
    return out.getvalue()


@pytest.fixture
def exported(world: World) -> tuple[World, People, str, bytes]:
    case_id, p = world.case()
    _released(world, p, case_id)
    other_id, _ = world.case()  # another case's events run through the chain between this case's
    world.do(authoring.start_draft, _.harmed, other_id, "Someone else's words.")
    _released(world, p, case_id, "Dear Sam, a second letter.")
    result = world.do(export_case, p.facilitator, case_id, "  Court order 42 of  the county court ")
    return world, p, case_id, result.data


def test_an_export_verifies_and_holds_the_record(exported: tuple[World, People, str, bytes]) -> None:
    world, p, case_id, data = exported
    public = world.do(lambda s, svc: signing.existing_public(s, svc))
    checked = archive.verify(data, public.pem)
    assert checked.ok, checked.problems
    assert checked.key_source == "given" and checked.fingerprint == public.fingerprint
    members = _members(data)
    assert {"manifest.json", "manifest.sig", "public_key.pem", "summary.html", "case.json", "messages.json",
            "consents.json", "assessments.json", "timeline.json", "audit/chain.jsonl",
            "audit/head.txt"} <= set(members)
    letters = sorted(name for name in members if name.startswith("messages/"))
    assert [members[n].decode() for n in letters] == [LETTER, "Dear Sam, a second letter."]
    summary = members["summary.html"].decode()
    assert LETTER in summary and "Court order 42 of the county court" in summary
    consents = json.loads(members["consents.json"])
    assert {(c["kind"], c["granted"]) for c in consents} == {("take_part", True), ("receive_messages", True)}
    assert len(consents) == 8 and len(json.loads(members["assessments.json"])) == 8  # 4 people, 2 each
    assert summary.count("<td>take part</td>") == 4 and summary.count("<td>suitable</td>") == 4
    manifest = json.loads(members["manifest.json"])
    assert manifest["reason"] == "Court order 42 of the county court"
    assert manifest["exported_by"]["role"] == "facilitator"
    chain = [json.loads(line) for line in members["audit/chain.jsonl"].splitlines()]
    whole = [e for e in chain if "action" in e]
    others = [e for e in chain if "action" not in e]
    assert whole and others  # the other case's events are links only: no action, no details
    assert {e["case_id"] for e in whole} == {case_id}
    assert "Someone else" not in members["audit/chain.jsonl"].decode()
    with world.svc.db.uow() as uow:
        head = audit.head(uow.session)
        event = uow.session.scalar(select(AuditEvent).where(AuditEvent.action == EXPORTED))
        assert event is not None and event.case_id == case_id and event.actor_id == p.facilitator.account_id
        assert event.seq == head.seq  # recorded after the head the archive names
        assert manifest["audit_head"] == {"seq": head.seq - 1, "hash": event.prev_hash}
        assert event.details["manifest_sha256"] == archive.sha256(members["manifest.json"])
        assert event.details["reason"] == "Court order 42 of the county court"
        assert LETTER not in json.dumps(event.details)
        assert audit.verify(uow.session).ok
    assert members["audit/head.txt"].decode().split()[:2] == [str(head.seq - 1), event.prev_hash]


@pytest.mark.parametrize("name", ["summary.html", "messages.json", "consents.json", "case.json",
                                  "audit/chain.jsonl", "public_key.pem", "timeline.json"])
def test_one_flipped_byte_in_any_file_is_named(exported: tuple[World, People, str, bytes], name: str) -> None:
    world, _, _, data = exported
    members = _members(data)
    content = bytearray(members[name])
    content[len(content) // 2] ^= 0x01
    members[name] = bytes(content)
    checked = archive.verify(_zip(members), world.do(lambda s, svc: signing.existing_public(s, svc)).pem)
    assert not checked.ok
    assert f"{name} does not match its SHA-256 in the manifest" in checked.problems


def test_a_flipped_letter_byte_is_named_with_its_path(exported: tuple[World, People, str, bytes]) -> None:
    _, _, _, data = exported
    members = _members(data)
    letter = next(n for n in members if n.startswith("messages/letter-"))
    members[letter] = members[letter].replace(b"Sam", b"Tom")
    checked = archive.verify(_zip(members))
    assert checked.problems == [f"{letter} does not match its SHA-256 in the manifest"]
    assert checked.sentence().startswith("export does NOT verify: messages/letter-")


def test_a_tampered_manifest_fails_the_signature(exported: tuple[World, People, str, bytes]) -> None:
    _, _, _, data = exported
    members = _members(data)
    members["manifest.json"] = members["manifest.json"].replace(b"Court order 42", b"Court order 43")
    checked = archive.verify(_zip(members))
    assert len(checked.problems) == 1 and "signature of manifest.json does not verify" in checked.problems[0]


def test_a_dropped_audit_event_fails_the_chain_slice(exported: tuple[World, People, str, bytes]) -> None:
    _, _, case_id, data = exported
    members = _members(data)
    lines = members["audit/chain.jsonl"].splitlines(keepends=True)
    dropped = next(i for i, line in enumerate(lines) if i > 0 and b'"action"' in line)
    seq = json.loads(lines[dropped])["seq"]
    members["audit/chain.jsonl"] = b"".join(lines[:dropped] + lines[dropped + 1:])
    checked = archive.verify(_zip(members))
    assert "audit/chain.jsonl does not match its SHA-256 in the manifest" in checked.problems
    assert f"audit/chain.jsonl: after event {seq - 1} comes event {seq + 1} (events are missing)" in checked.problems
    # Even with the manifest re-signed by someone holding a key (so hashes agree), the slice fails.
    forged = _resign(members, Ed25519PrivateKey.generate())
    checked = archive.verify(forged)
    assert not checked.ok and checked.problems[0].startswith("audit/chain.jsonl: after event")


def test_the_first_event_cut_off_or_an_event_edited_is_named(exported: tuple[World, People, str, bytes]) -> None:
    _, _, _, data = exported
    members = _members(data)
    lines = members["audit/chain.jsonl"].splitlines(keepends=True)
    key = Ed25519PrivateKey.generate()
    checked = archive.verify(_resign({**members, "audit/chain.jsonl": b"".join(lines[1:])}, key))
    assert any("not at event" in problem and "as the manifest says" in problem for problem in checked.problems)
    edited = json.loads(lines[0])
    edited["details"] = {**edited["details"], "extra": 1}
    lines[0] = (json.dumps(edited) + "\n").encode()
    checked = archive.verify(_resign({**members, "audit/chain.jsonl": b"".join(lines)}, key))
    assert checked.problems == [f"audit/chain.jsonl: event {edited['seq']}'s hash does not recompute from its "
                                "content (the event was changed)"]


def test_a_slice_that_stops_short_of_the_head_is_named(exported: tuple[World, People, str, bytes]) -> None:
    _, _, _, data = exported
    members = _members(data)
    manifest = json.loads(members["manifest.json"])
    manifest["audit_head"] = {"seq": manifest["audit_head"]["seq"] + 1, "hash": "f" * 64}
    members["manifest.json"] = archive.canonical_json(manifest)
    checked = archive.verify(_resign(members, Ed25519PrivateKey.generate()))
    assert any("not at the head the manifest names" in problem for problem in checked.problems)


def _resign(members: dict[str, bytes], key: Ed25519PrivateKey) -> bytes:
    """The archive as a forger with their own key would remake it: hashes recomputed, re-signed."""
    manifest = json.loads(members["manifest.json"])
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    members = {**members, "public_key.pem": pem}
    manifest["files"] = [{"path": f["path"], "size": len(members[f["path"]]),
                          "sha256": archive.sha256(members[f["path"]])} for f in manifest["files"]]
    body = archive.canonical_json(manifest)
    members["manifest.json"] = body
    members["manifest.sig"] = base64.b64encode(key.sign(body)) + b"\n"
    return _zip(members)


def test_the_wrong_public_key_fails(exported: tuple[World, People, str, bytes], tmp_path: Path) -> None:
    world, _, _, data = exported
    stranger = Ed25519PrivateKey.generate().public_key()
    pem = stranger.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    checked = archive.verify(data, pem.decode())
    assert len(checked.problems) == 1 and "signature of manifest.json does not verify" in checked.problems[0]
    # A forged archive carrying its forger's key verifies only against that key, never the service's.
    members = _members(data)
    forged = _resign(members, Ed25519PrivateKey.generate())
    assert archive.verify(forged).ok  # self-consistent...
    service_key = world.do(lambda s, svc: signing.existing_public(s, svc))
    assert not archive.verify(forged, service_key.pem).ok  # ...but not the service's
    wrong_fp = archive.verify(forged, service_key.fingerprint)
    assert not wrong_fp.ok and "is not the key whose fingerprint was given" in wrong_fp.problems[0]
    assert archive.verify(data, service_key.fingerprint_grouped).ok


def test_the_cli_exports_and_verifies(exported: tuple[World, People, str, bytes], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    world, _, _, data = exported
    path = tmp_path / "record.zip"
    path.write_bytes(data)
    key = tmp_path / "service.pem"
    key.write_text(world.do(lambda s, svc: signing.existing_public(s, svc)).pem)
    assert main(["export", "verify", str(path), "--public-key", str(key)]) == 0
    said = capsys.readouterr().out
    assert "verified" in said and "the public key given" in said
    members = _members(data)
    members["summary.html"] = members["summary.html"] + b" "
    path.write_bytes(_zip(members))
    assert main(["export", "verify", str(path), "--public-key", str(key)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == "shuttle: export does NOT verify: summary.html does not match its SHA-256 in the manifest."
    assert main(["export", "verify", str(tmp_path / "missing.zip")]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_who_may_export_and_the_reason_is_required(world: World) -> None:
    case_id, p = world.case()
    for outsider in (p.harmed, p.responsible, p.supporter, p.outsider_facilitator, p.co_facilitator,
                     Actor(None, "system")):
        with pytest.raises(NotFound):
            world.do(export_case, outsider, case_id, "Curious.")
    with pytest.raises(BadInput):
        world.do(export_case, p.facilitator, case_id, "   ")
    by_coordinator = world.do(export_case, p.coordinator, case_id, "Inspection by the commissioner.")
    assert archive.verify(by_coordinator.data).ok
    with pytest.raises(NotFound):
        world.do(export_case, p.facilitator, "0" * 32, "Missing.")


def test_the_key_is_made_once_kept_encrypted_and_survives_rotation(svc: Services) -> None:
    from shuttle.keys import rotate

    world = World(svc)
    case_id, p = world.case()
    first = world.do(export_case, p.facilitator, case_id, "First.")
    with svc.db.uow() as uow:
        made = uow.session.scalars(select(AuditEvent).where(AuditEvent.action == signing.KEY_CREATED)).all()
        assert len(made) == 1
        details = dict(made[0].details)
    raw_private = world.do(lambda s, svc_: signing.existing(s, svc_)).private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    stored = Path(svc.settings.blob_dir)
    assert all(raw_private not in f.read_bytes() for f in stored.rglob("*") if f.is_file())
    rotate(svc)
    second = world.do(export_case, p.coordinator, case_id, "Second.")
    pem = world.do(lambda s, svc_: signing.existing_public(s, svc_)).pem
    assert archive.verify(first.data, pem).ok and archive.verify(second.data, pem).ok
    with svc.db.uow() as uow:
        again = uow.session.scalars(select(AuditEvent).where(AuditEvent.action == signing.KEY_CREATED)).all()
        assert [e.details for e in again] == [details]  # the same key, re-wrapped under the new KEK version
        stored_key = uow.session.get(Blob, details["blob_id"])
        assert stored_key is not None and stored_key.kek_version == svc.store.keyring.primary_version


def test_the_cli_exports_a_case_by_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("SHUTTLE_DATABASE_URL", "SHUTTLE_SECRET_KEY", "SHUTTLE_KEYRING", "SHUTTLE_BLOB_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SHUTTLE_DATA_DIR", str(tmp_path / "data"))
    assert main(["db", "upgrade"]) == 0
    assert main(["demo", "--no-serve"]) == 0
    capsys.readouterr()
    assert main(["export", "key"]) == 0
    printed = capsys.readouterr().out
    assert "BEGIN PUBLIC KEY" in printed and "SHA256: " in printed
    fingerprint = printed.strip().splitlines()[-1]
    out = tmp_path / "record.zip"
    assert main(["export", "case", "RJ-2026-0001", "--reason", "Inspection.", "--out", str(out)]) == 0
    assert "signed record written" in capsys.readouterr().out
    manifest = json.loads(_members(out.read_bytes())["manifest.json"])
    assert manifest["exported_by"]["role"] == "coordinator" and "command line" in manifest["exported_by"]["name"]
    assert main(["export", "case", "RJ-2026-0001", "--reason", "Again.", "--out", str(out)]) == 1
    assert "exists already" in capsys.readouterr().err
    assert main(["export", "case", "RJ-1999-0000", "--reason", "x", "--out", str(tmp_path / "n.zip")]) == 1
    assert capsys.readouterr().err.strip().endswith("\nshuttle: no case RJ-1999-0000")
    assert main(["export", "case", "RJ-2026-0001", "--reason", " ", "--out", str(tmp_path / "n.zip")]) == 1
    assert "Say why" in capsys.readouterr().err
    assert main(["export", "verify", str(out), "--public-key", fingerprint]) == 0
    assert "the key whose fingerprint was given" in capsys.readouterr().out
    assert main(["export", "verify", str(out)]) == 0  # the archive's own key: said, with its fingerprint
    said = capsys.readouterr().out
    assert "the public key inside the archive" in said and "compare that fingerprint" in said
    assert main(["audit", "verify", "--against", str(tmp_path / "head.txt")]) == 1  # no such file: one sentence
    capsys.readouterr()
    (tmp_path / "head.txt").write_bytes(_members(out.read_bytes())["audit/head.txt"])
    assert main(["audit", "verify", "--against", str(tmp_path / "head.txt")]) == 0  # the export's head holds
    assert "holding 1 published head" in capsys.readouterr().out


def test_the_agreement_its_answers_and_item_history_are_in_the_record(world: World) -> None:
    from shuttle.agreements import rules
    from shuttle.agreements import service as agreements

    case_id, p = world.case()
    empty = _members(world.do(export_case, p.facilitator, case_id, "Before any agreement.").data)
    assert json.loads(empty["agreement.json"]) == {"agreement": None, "closure": None}
    assert "No outcome agreement was drafted." in empty["summary.html"].decode()
    today = world.svc.now().date()
    world.do(agreements.draft_version, p.facilitator, case_id,
             [rules.Item("Sam repairs the fence", "responsible", today, "Fiona visits and looks")])
    world.do(agreements.answer, p.responsible, case_id, version=1, decision="change", note="Not by then, please.")
    world.do(agreements.draft_version, p.facilitator, case_id,
             [rules.Item("Sam repairs the fence by spring", "responsible", None, "Fiona visits and looks")])
    world.do(agreements.answer, p.harmed, case_id, version=2, decision="agree")
    world.do(agreements.answer, p.responsible, case_id, version=2, decision="agree")
    version = world.do(lambda s, svc: agreements.latest_version(s, agreements.agreement_of(s, case_id)))
    item_id = world.do(lambda s, svc: s.scalar(select(AgreementItem.id).where(AgreementItem.version_id == version.id)))
    world.do(agreements.mark_item, p.facilitator, case_id, item_id, status="done", note="Saw it on Tuesday.")
    world.do(agreements.close_case, p.facilitator, case_id, reason="completed")
    data = world.do(export_case, p.coordinator, case_id, "Agreement review.").data
    assert archive.verify(data).ok
    members = _members(data)
    record = json.loads(members["agreement.json"])["agreement"]
    assert json.loads(members["agreement.json"])["closure"]["reason"] == "completed"
    assert record["agreed_version"] == 2 and record["agreed_at"]
    first, second = record["versions"]
    assert first["state"] == "change_asked" and [a["decision"] for a in first["answers"]] == ["change"]
    assert [i["what"] for i in first["items"]] == ["Sam repairs the fence"]
    assert second["state"] == "agreed" and [a["side"] for a in second["answers"]] == ["harmed", "responsible"]
    [item] = second["items"]
    assert (item["what"], item["check"], item["owner"]) == ("Sam repairs the fence by spring",
                                                             "Fiona visits and looks", "responsible")
    assert [h["status"] for h in item["history"]] == ["done"]
    everything = b"".join(members.values()).decode("utf-8", "replace")
    assert "Saw it on Tuesday." not in everything and "Not by then, please." not in everything  # staff-only notes
    assert "Sam repairs the fence by spring" in members["summary.html"].decode()


def test_a_shredded_case_exports_what_is_left_and_says_what_was_destroyed(world: World) -> None:
    from shuttle.retention import shred_case

    case_id, p = world.case()
    _released(world, p, case_id)
    world.do(shred_case, p.coordinator, "RJ-2026-0001")
    data = world.do(export_case, p.facilitator, case_id, "After retention.").data
    assert archive.verify(data).ok
    members = _members(data)
    [message] = json.loads(members["messages.json"])
    assert message["text_file"] is None and "crypto-shredded" in message["text_missing"]
    assert LETTER not in b"".join(members.values()).decode("utf-8", "replace")
    assert any(json.loads(line).get("action") == "case.shred" for line in members["audit/chain.jsonl"].splitlines())


def test_what_is_not_a_record_is_said_in_one_sentence(tmp_path: Path) -> None:
    assert archive.verify(b"not a zip").problems[0].startswith("the file is not a readable zip archive")
    assert archive.verify(_zip({"summary.html": b"x"})).problems == ["the archive has no manifest.json"]
    with pytest.raises(archive.KeyError_):
        archive.verify(_zip({}), "not a key")
