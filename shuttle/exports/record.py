"""Exporting a case's certified record (issue 11): what goes in, who may, and the audit event.

In the record: the case (reference, status, side labels, settings, facilitators, participants),
its timeline, every message with an approved version (the delivered words: a letter's processed
text, a recording's or photographed letter's processed transcript; media files are not included,
only described), every consent and assessment record (the judgement and its dates; an assessment's
reasons are the facilitators' private notes and stay out, as do consent scans), the outcome agreement
(every version, its items, the sides' answers, each item's marks; `agreement`), the case's audit
events with their hashes in the chain running to the head at export time, and a readable summary.
The archive is signed with the service's key (`signing`); its layout is `archive`'s.

The same record whoever exports it: a facilitator of the case or the coordinator (who otherwise
sees no content: the export is the one, audited, exception). The audit event names who, when, the
reason and the manifest's SHA-256, never content.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import Environment, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuttle import blobs, permissions
from shuttle.access import membership
from shuttle.accounts.models import Account
from shuttle.audit import log as audit
from shuttle.audit.models import AuditEvent
from shuttle.cases.models import Assessment, Case, CaseFacilitator, Consent, Participant
from shuttle.cases.timeline import Cast, Entry, Event, MessageFacts, Person, assemble
from shuttle.errors import BadInput, NotFound
from shuttle.exports import archive, signing
from shuttle.exports.agreement import agreement_record
from shuttle.i18n import N_, Sentence
from shuttle.messages.models import Message, MessageVersion
from shuttle.messages.numbering import Numbered, message_names
from shuttle.messages.states import State, describe
from shuttle.organisations.models import Organisation
from shuttle.permissions import Membership
from shuttle.services import Actor, Services

EXPORTED = "case.export"
MAX_REASON = 500
#: Chain lines read at a time while writing the slice (memory stays flat on a long chain).
CHAIN_BATCH = 2000


@dataclass(frozen=True)
class Export:
    filename: str
    data: bytes
    manifest_sha256: str
    reference: str


def _iso(at: datetime | None) -> str | None:
    return audit.format_at(at) if at is not None else None


def check_reason(reason: str) -> str:
    cleaned = " ".join((reason or "").split())
    if not cleaned:
        raise BadInput(N_("Say why this record is being exported (for example, a court order or an inspection)."),
                       code="reason")
    if len(cleaned) > MAX_REASON:
        raise BadInput(Sentence(N_("The reason can be up to %(max)s characters."), max=MAX_REASON), code="reason")
    return cleaned


def _readable(session: Session, svc: Services, blob_id: str | None) -> tuple[str | None, str]:
    """(text, note): the text of a stored blob, or None and why it is not there."""
    if blob_id is None:
        return None, "none was recorded"
    try:
        return blobs.load_text(session, svc.store, blob_id), ""
    except LookupError:
        return None, "destroyed (crypto-shredded) under the retention policy"


def _names(session: Session, ids: Iterable[str | None]) -> dict[str, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict(session.execute(select(Account.id, Account.display_name).where(Account.id.in_(wanted))).all())


def _timeline(session: Session, case: Case, messages: list[Message], names: dict[str, str],
              participants: list[Participant]) -> list[Entry]:
    """As the facilitators' case page words it (shuttle.cases.timeline), less the many views."""
    sent = [m for m in messages if m.first_submitted_at is not None]
    numbered = message_names(Numbered(m.id, m.kind, m.first_submitted_at, m.created_at) for m in sent)
    facts = [MessageFacts(m.id, m.kind, m.author_side, describe(State(m.state)), numbered[m.id]) for m in sent]
    raw = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                   AuditEvent.action != "message.view_content")
                          .order_by(AuditEvent.seq)).all()
    staff_ids = set(session.scalars(select(Account.id).where(
        Account.id.in_({e.actor_id for e in raw if e.actor_id}), Account.role != "participant")))
    cast = Cast(labels={"harmed": case.label_harmed, "responsible": case.label_responsible},
                staff={i: names.get(i, "") for i in staff_ids},
                accounts={p.account_id: Person(p.side, p.role) for p in participants},
                participants={p.id: Person(p.side, p.role) for p in participants})
    events = [Event(e.at, e.action, e.actor_id, e.actor_role, e.subject_type, e.subject_id, e.details or {})
              for e in raw]
    return assemble(messages=facts, events=events, cast=cast, receipts_allowed=case.read_receipts_allowed)


def _chain(session: Session, case_id: str, head: audit.ChainHead) -> tuple[bytes, int, int, int | None]:
    """audit/chain.jsonl: from the case's first event to the head, the case's events whole and every
    other event as its link. Returns the bytes, the number of lines, of the case's, and the first seq."""
    first = session.scalar(select(AuditEvent.seq).where(AuditEvent.case_id == case_id)
                           .order_by(AuditEvent.seq).limit(1))
    if first is None or head.seq < first:
        return b"", 0, 0, None
    lines: list[bytes] = []
    own = 0
    # Other cases' events as three columns (no ORM objects kept in the session); this case's whole.
    links = session.execute(select(AuditEvent.seq, AuditEvent.prev_hash, AuditEvent.hash, AuditEvent.case_id)
                            .where(AuditEvent.seq >= first, AuditEvent.seq <= head.seq)
                            .order_by(AuditEvent.seq).execution_options(yield_per=CHAIN_BATCH))
    whole = {e.seq: e for e in session.scalars(select(AuditEvent).where(
        AuditEvent.case_id == case_id, AuditEvent.seq >= first, AuditEvent.seq <= head.seq))}
    for seq, prev_hash, hash_, event_case in links:
        event = whole.get(seq) if event_case == case_id else None
        if event is not None:
            own += 1
            line: dict[str, Any] = {"seq": event.seq, "at": audit.format_at(event.at), "actor_id": event.actor_id,
                                    "actor_role": event.actor_role, "action": event.action,
                                    "case_id": event.case_id, "subject_type": event.subject_type,
                                    "subject_id": event.subject_id, "details": event.details,
                                    "prev_hash": event.prev_hash, "hash": event.hash}
        else:
            line = {"seq": seq, "prev_hash": prev_hash, "hash": hash_}
        lines.append(_line(line))
    return b"".join(lines), len(lines), own, first


def _line(value: dict[str, Any]) -> bytes:
    return (json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")


@dataclass(frozen=True)
class ExportForm:
    """What the export page says before anything is exported (no content)."""

    case_id: str
    reference: str
    status: str
    fingerprint: str | None  # the signing key's, if it was made already


def _exportable(session: Session, actor: Actor, case_id: str) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound()
    # The operator at the server's command line (`shuttle export case`) acts as the coordinator.
    operator = actor.account_id is None and actor.role == "coordinator"
    member = Membership("coordinator") if operator else membership(session, actor, case.id)
    if not permissions.may_export_case(member):
        raise NotFound()
    return case


def export_form(session: Session, svc: Services, actor: Actor, case_id: str) -> ExportForm:
    case = _exportable(session, actor, case_id)
    public = signing.existing_public(session, svc)
    return ExportForm(case.id, case.reference, case.status, public.fingerprint_grouped if public else None)


def export_case(session: Session, svc: Services, actor: Actor, case_id: str, reason: str) -> Export:
    """The signed record of a case, for one of its facilitators or the coordinator; audited."""
    case = _exportable(session, actor, case_id)
    why = check_reason(reason)
    now = svc.now()
    key = signing.get_or_create(session, svc, actor)
    participants = list(session.scalars(select(Participant).where(Participant.case_id == case.id)
                                        .order_by(Participant.side, Participant.role, Participant.id)))
    facilitator_ids = list(session.scalars(select(CaseFacilitator.account_id)
                                           .where(CaseFacilitator.case_id == case.id).order_by(CaseFacilitator.id)))
    messages = list(session.scalars(select(Message).where(Message.case_id == case.id)
                                    .order_by(Message.first_submitted_at, Message.created_at, Message.id)))
    consents = list(session.scalars(select(Consent).where(Consent.participant_id.in_([p.id for p in participants]))
                                    .order_by(Consent.id)))
    assessments = list(session.scalars(select(Assessment).where(
        Assessment.participant_id.in_([p.id for p in participants])).order_by(Assessment.id)))
    names = _names(session, [actor.account_id, *facilitator_ids, *(p.account_id for p in participants),
                             *(c.recorded_by for c in consents), *(a.recorded_by for a in assessments),
                             *(e for e in session.scalars(select(AuditEvent.actor_id)
                                                          .where(AuditEvent.case_id == case.id).distinct()))])
    organisations = dict(session.execute(select(Organisation.id, Organisation.name).where(
        Organisation.id.in_({c.organisation_id for c in consents if c.organisation_id}))).all())
    people = {p.id: p for p in participants}

    def who(participant_id: str) -> dict[str, Any]:
        p = people[participant_id]
        return {"participant_id": p.id, "name": names.get(p.account_id, ""), "side": p.side,
                "side_label": case.label_of(p.side), "role": p.role}

    files: dict[str, bytes] = {}
    case_facts = {
        "id": case.id, "reference": case.reference, "status": case.status, "created_at": _iso(case.created_at),
        "labels": {"harmed": case.label_harmed, "responsible": case.label_responsible},
        "settings": {"initiator": case.initiator, "responsible_may_reply": case.responsible_may_reply,
                     "approvals_required": case.approvals_required,
                     "author_must_accept_edits": case.author_must_accept_edits,
                     "read_receipts_allowed": case.read_receipts_allowed,
                     "proceedings_ongoing": case.proceedings_ongoing},
        "facilitators": [{"account_id": i, "name": names.get(i, "")} for i in facilitator_ids],
        "participants": [{**who(p.id), "acting_for": p.acting_for, "active": p.active} for p in participants],
    }
    files["case.json"] = archive.canonical_json(case_facts)

    numbered = message_names(Numbered(m.id, m.kind, m.first_submitted_at, m.created_at) for m in messages)
    message_rows: list[dict[str, Any]] = []
    for m in messages:
        if m.approved_version_id is None:
            continue
        version = session.get(MessageVersion, m.approved_version_id)
        if version is None:
            continue
        name = numbered.get(m.id, "Message")
        slug = name.lower().replace(" ", "-")
        text, missing = _readable(session, svc, version.processed_blob_id if m.kind == "letter"
                                  else version.transcript_blob_id)
        path = f"messages/{slug}.txt" if text is not None else None
        if text is not None and path is not None:
            files[path] = text.encode("utf-8")
        message_rows.append({
            "id": m.id, "name": name, "kind": m.kind, "from": who(m.author_participant_id)
            if m.author_participant_id in people else {"side": m.author_side},
            "state": m.state, "state_words": describe(State(m.state)), "delivered": State(m.state) in {
                State.RELEASED, State.VIEWED},
            "approved_version": {"id": version.id, "number": version.number, "origin": version.origin,
                                 "created_at": _iso(version.created_at), "processed_at": _iso(version.processed_at),
                                 "content_type": version.content_type, "duration_ms": version.duration_ms,
                                 "flags": version.flag_count},
            "first_submitted_at": _iso(m.first_submitted_at), "released_at": _iso(m.released_at),
            "opened_at": _iso(m.opened_at) if m.receipt_shared else None,  # as the timeline: receipts only
            "text_file": path,
            "text_kind": "letter" if m.kind == "letter" else "transcript",
            "text_missing": missing if text is None else "",
            "media_file": None if m.kind == "letter" else "not included: only its transcript is in this record",
        })
    files["messages.json"] = archive.canonical_json(message_rows)

    files["consents.json"] = archive.canonical_json([
        {**who(c.participant_id), "kind": c.kind, "granted": c.granted, "method": c.method,
         "given_on": c.given_on.isoformat() if c.given_on else None, "recorded_at": _iso(c.recorded_at),
         "recorded_by": names.get(c.recorded_by or "", ""), "organisation": organisations.get(c.organisation_id or ""),
         "note": c.note, "signed_form_scanned": c.scan_blob_id is not None}
        for c in consents if c.participant_id in people])
    files["assessments.json"] = archive.canonical_json([
        {**who(a.participant_id), "kind": a.kind, "outcome": a.outcome, "recorded_at": _iso(a.recorded_at),
         "recorded_by": names.get(a.recorded_by or "", ""),
         "review_by": a.review_by.isoformat() if a.review_by else None, "lapsed_at": _iso(a.lapsed_at),
         "reasons": "kept by the facilitators (private notes), not in this record"}
        for a in assessments if a.participant_id in people])

    files["agreement.json"] = archive.canonical_json(agreement_record(session, svc, case))

    entries = _timeline(session, case, messages, names, participants)
    files["timeline.json"] = archive.canonical_json([
        {"at": _iso(e.at), "who": e.who, "what": e.what, "message": e.message_name} for e in entries])

    head = audit.head(session)
    chain, chain_events, case_events, first_seq = _chain(session, case.id, head)
    files[archive.CHAIN] = chain
    files["audit/head.txt"] = (head.line(now) + "\n").encode("ascii")

    exporter = {"account_id": actor.account_id, "role": actor.role,
                "name": names.get(actor.account_id, "") if actor.account_id else
                "the service's operator, on the server's command line (shuttle export case)"}
    manifest = {
        "case": {"id": case.id, "reference": case.reference},
        "exported_at": audit.format_at(now),
        "exported_by": exporter,
        "reason": why,
        "audit_head": {"seq": head.seq, "hash": head.hash},
        "audit_chain": {"first_seq": first_seq, "events": chain_events, "case_events": case_events},
        "contents": {"media_files": "not included (transcripts only)",
                     "assessment_reasons": "not included (private facilitator notes)",
                     "consent_scans": "not included (whether one was kept is said)",
                     "agreement_notes": "not included (the notes kept with item marks and change requests "
                                        "are the facilitators' only)"},
    }
    files["summary.html"] = _summary(case_facts, message_rows, files, entries, manifest,
                                     signing.view_of(key.public_key()))
    data, manifest_sha = archive.build(files, manifest, key, now)
    audit.record(session, action=EXPORTED, actor_id=actor.account_id, actor_role=actor.role, case_id=case.id,
                 subject_type="case", subject_id=case.id,
                 details={"reason": why, "manifest_sha256": manifest_sha, "files": len(files) + 1,
                          "audit_head_seq": head.seq, "signing_key": signing.fingerprint(key.public_key())},
                 now=now)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    return Export(f"{case.reference}-record-{stamp}.zip", data, manifest_sha, case.reference)


# --- the readable summary -----------------------------------------------------------------------------

_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
SUMMARY = _ENV.from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Case record {{ case.reference }}</title>
<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #bbb;padding:.3rem .5rem;text-align:left;
vertical-align:top}pre{white-space:pre-wrap;background:#f6f6f6;padding:.75rem;border:1px solid #ddd}
code{word-break:break-all}</style></head><body>
<h1>Case record {{ case.reference }}</h1>
<p>Exported {{ manifest.exported_at }} by {{ manifest.exported_by.name or "an account" }}
({{ manifest.exported_by.role }}). Reason given: {{ manifest.reason }}</p>
<p>This archive is signed by the service. To check that nothing in it was changed, run
<code>shuttle export verify FILE --public-key KEY</code> with the service's public key
(fingerprint <code>{{ key.fingerprint_grouped }}</code>, also in <code>public_key.pem</code> here; compare it
with the one the service publishes). Every file's SHA-256 is in <code>manifest.json</code>.</p>
<h2>The case</h2>
<p>Between {{ case.labels.harmed }} and {{ case.labels.responsible }}. Status: {{ case.status }}.
Created {{ case.created_at }}. Facilitators: {{ case.facilitators | map(attribute="name") | join(", ") or "none" }}.</p>
<table><thead><tr><th>Name</th><th>Side</th><th>Role</th><th>Active</th></tr></thead><tbody>
{% for p in case.participants %}<tr><td>{{ p.name }}</td><td>{{ p.side_label }}</td><td>{{ p.role }}
{% if p.acting_for %}({{ p.acting_for }}){% endif %}</td><td>{{ "yes" if p.active else "no" }}</td></tr>
{% endfor %}</tbody></table>
<h2>Messages approved or delivered</h2>
{% for m in messages %}<h3>{{ m.name }} ({{ m.kind }}) from {{ m.from.side_label or m.from.side }}</h3>
<p>{{ m.state_words }}. Sent {{ m.first_submitted_at }}{% if m.released_at %}; released {{ m.released_at }}
{% endif %}. Approved version {{ m.approved_version.number }} ({{ m.approved_version.origin }}).</p>
{% if m.text_file %}<p>{{ "The delivered letter" if m.text_kind == "letter" else "Its transcript" }}
({{ m.text_file }}):</p><pre>{{ texts[m.text_file] }}</pre>{% else %}<p>Text: {{ m.text_missing }}.</p>{% endif %}
{% if m.kind != "letter" %}<p>The recording itself is not in this record.</p>{% endif %}
{% else %}<p>No message has been approved.</p>{% endfor %}
<h2>Timeline</h2>
<table><thead><tr><th>When</th><th>Who</th><th>What</th></tr></thead><tbody>
{% for e in entries %}<tr><td>{{ e.at.isoformat() }}</td><td>{{ e.who }}</td><td>{% if e.message_name %}
{{ e.message_name }}: {% endif %}{{ e.what }}</td></tr>{% endfor %}</tbody></table>
<h2>Outcome agreement</h2>
{% set a = agreement.agreement %}
{% if a %}<p>{% if a.agreed_version %}Version {{ a.agreed_version }} was agreed by both sides on {{ a.agreed_at }}.
{% else %}No version has been agreed by both sides.{% endif %} Every version is in <code>agreement.json</code>.</p>
{% for v in a.versions %}<h3>Version {{ v.number }} ({{ v.state }}), drafted {{ v.created_at }}</h3>
<p>{% for ans in v.answers %}{{ ans.side_label }} {{ ans.words }} on {{ ans.at }}. {% else %}No answers.{% endfor %}</p>
<table><thead><tr><th>Item</th><th>Who</th><th>By</th><th>What</th><th>How it is checked</th><th>Marks</th></tr></thead>
<tbody>{% for i in v["items"] %}<tr><td>{{ i.number }}</td><td>{{ i.owner_words }}</td><td>{{ i.due_on or "" }}</td>
<td>{{ i.what if i.what is not none else i.destroyed }}</td><td>{{ i.check or "" }}</td><td>
{% for h in i.history %}{{ h.words }} ({{ h.at }}){% if not loop.last %}; {% endif %}{% else %}none{% endfor %}
</td></tr>{% endfor %}</tbody></table>
{% endfor %}{% else %}<p>No outcome agreement was drafted.</p>{% endif %}
{% if agreement.closure %}<p>The case was closed: {{ agreement.closure.words }}
({{ agreement.closure.at }}).</p>{% endif %}
<h2>Consents</h2>
<p>Every record, oldest first (a withdrawal is a record of its own); also in <code>consents.json</code>.</p>
<table><thead><tr><th>Who</th><th>Consent</th><th>Given</th><th>How</th><th>Date given</th><th>Recorded</th>
</tr></thead><tbody>{% for c in consents %}<tr><td>{{ c.name }} ({{ c.side_label }}, {{ c.role }})</td>
<td>{{ c.kind | replace("_", " ") }}{% if c.organisation %} with {{ c.organisation }}{% endif %}</td>
<td>{{ "yes" if c.granted else "withdrawn" }}</td><td>{{ c.method | replace("_", " ") }}</td>
<td>{{ c.given_on or "" }}</td>
<td>{{ c.recorded_at }}{% if c.recorded_by %} by {{ c.recorded_by }}{% endif %}</td></tr>
{% else %}<tr><td colspan="6">None recorded.</td></tr>{% endfor %}</tbody></table>
<h2>Assessments</h2>
<p>Every judgement, oldest first; also in <code>assessments.json</code>. Their reasons are the facilitators'
private notes and are not in this record.</p>
<table><thead><tr><th>Who</th><th>Assessment</th><th>Outcome</th><th>Recorded</th><th>Review by</th></tr></thead>
<tbody>{% for a in assessments %}<tr><td>{{ a.name }} ({{ a.side_label }}, {{ a.role }})</td><td>{{ a.kind }}</td>
<td>{{ a.outcome | replace("_", " ") }}</td>
<td>{{ a.recorded_at }}{% if a.recorded_by %} by {{ a.recorded_by }}{% endif %}</td>
<td>{{ a.review_by or "" }}{% if a.lapsed_at %} (lapsed {{ a.lapsed_at }}){% endif %}</td></tr>
{% else %}<tr><td colspan="5">None recorded.</td></tr>{% endfor %}</tbody></table>
<h2>Audit</h2>
<p>The case's {{ manifest.audit_chain.case_events }} audit events are in <code>audit/chain.jsonl</code> with
their hashes, linked through the {{ manifest.audit_chain.events }} events of the service's chain from event
{{ manifest.audit_chain.first_seq }} to the head at export time: event {{ manifest.audit_head.seq }},
<code>{{ manifest.audit_head.hash }}</code>.</p>
<p>Not in this record: media files (transcripts only), assessment reasons, scanned consent forms, and the notes
the facilitators keep with the agreement's item marks and the sides' change requests.</p>
</body></html>
""")


def _summary(case: dict[str, Any], messages: list[dict[str, Any]], files: dict[str, bytes], entries: list[Entry],
             manifest: dict[str, Any], key: signing.PublicKeyView) -> bytes:
    texts = {m["text_file"]: files[m["text_file"]].decode("utf-8") for m in messages if m["text_file"]}
    agreement = json.loads(files["agreement.json"])
    return SUMMARY.render(case=case, messages=messages, texts=texts, entries=entries, manifest=manifest,
                          agreement=agreement, consents=json.loads(files["consents.json"]),
                          assessments=json.loads(files["assessments.json"]), key=key).encode("utf-8")
