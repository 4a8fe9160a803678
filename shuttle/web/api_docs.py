"""Each API operation in words and in types: its summary, the body it takes, what it answers with each
status, and the headers and query values it reads. shuttle/web/openapi.py makes the document from this
table and the route table; the models are shuttle/web/contract.py's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from shuttle.accounts.enrolment import IssuedEnrolment, StaffRow
from shuttle.agreements import aftercare
from shuttle.cases.overview import CaseList, CaseStaffing
from shuttle.cases.preparation import PreparationView
from shuttle.messages.sharing import SharedItem, SupporterChoice
from shuttle.organisations.service import OrganisationRow
from shuttle.retention_policy import MAX_REASON_CHARS as MAX_HOLD_REASON_CHARS
from shuttle.web import agreement_api as ag
from shuttle.web import contract as c
from shuttle.web import export_api as ex
from shuttle.web import figures_api as fig


@dataclass(frozen=True)
class Header:
    """A request header an operation reads (`schema`: its JSON Schema), or one it answers with."""

    name: str
    description: str
    required: bool = False
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string"})


@dataclass(frozen=True)
class Doc:
    """One operation: `answers` maps each success status to its JSON body's shape (None: no JSON body);
    `statuses` are the refusals it may answer beyond those every operation of its kind may."""

    summary: str
    body: type[BaseModel] | None = None
    answers: Mapping[int, Any] = field(default_factory=dict)
    statuses: tuple[int, ...] = ()
    headers: tuple[Header, ...] = ()
    answer_headers: Mapping[int, tuple[Header, ...]] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    content: Mapping[str, str] = field(default_factory=dict)  # a raw body: media type -> what it is


NATURAL = {"type": "string", "pattern": "^[0-9]{1,18}$"}
TUS_RESUMABLE = Header("Tus-Resumable", "The tus version: 1.0.0 (412 otherwise)", True,
                       {"type": "string", "enum": ["1.0.0"]})
OFFSET = Header("Upload-Offset", "Bytes the server holds", schema={"type": "string"})
LENGTH = Header("Upload-Length", "The whole upload's size in bytes (absent while deferred)", schema={"type": "string"})
DEFER = Header("Upload-Defer-Length", "1 while the size is still to be told")
EXPIRES = Header("Upload-Expires", "When an unfinished upload is destroyed (RFC 9110 date)")
UPLOAD_STATE = (Header("Tus-Resumable", "1.0.0"), OFFSET, LENGTH, DEFER, EXPIRES)
TUS_OPTIONS = Doc("", headers=(), answer_headers={204: (
    Header("Tus-Resumable", "1.0.0"), Header("Tus-Version", "1.0.0"), Header("Tus-Extension", "The extensions"),
    Header("Tus-Max-Size", "The largest upload, in bytes"), Header("Tus-Checksum-Algorithm", "sha1,sha256,md5"))})
TUS_CREATE = Doc("", headers=(
    TUS_RESUMABLE, Header("Upload-Length", "The whole upload's size in bytes (or Upload-Defer-Length)", False, NATURAL),
    Header("Upload-Defer-Length", "creation-defer-length: 1 when the size is not known yet (a recording being "
           "made); a later PATCH tells it", False, {"type": "string", "enum": ["1"]}),
    Header("Upload-Metadata", "'message_id <base64 of the message id>'; other keys (a file name) are dropped")),
    answer_headers={201: (Header("Location", "The upload's address"), *UPLOAD_STATE)},
    content={"application/offset+octet-stream": "creation-with-upload: the first bytes"})
TUS_HEAD = Doc("", headers=(TUS_RESUMABLE,), answer_headers={200: UPLOAD_STATE})
TUS_PATCH = Doc("", headers=(
    TUS_RESUMABLE, Header("Upload-Offset", "Where these bytes go: the offset the server holds", True, NATURAL),
    Header("Upload-Checksum", "'<sha1|sha256|md5> <base64 digest>' of this piece (460 on mismatch)"),
    Header("Upload-Length", "A deferred upload's size, told once (with its last piece or after it)",
           schema=NATURAL)),
    answer_headers={204: UPLOAD_STATE}, content={"application/offset+octet-stream": "The next bytes"})
TUS_DELETE = Doc("", headers=(TUS_RESUMABLE,), answer_headers={204: (Header("Tus-Resumable", "1.0.0"),)})
RANGE = Doc("", headers=(
    Header("Range", "bytes=<first>-[<last>] or bytes=-<suffix> (one range; a malformed one is ignored)"),
    Header("If-Range", "The ETag: the range applies only if the file is still this one")),
    answer_headers={200: (Header("Accept-Ranges", "bytes"), Header("ETag", "The file's tag"),
                          Header("Content-Length", "Bytes in the answer")),
                    206: (Header("Accept-Ranges", "bytes"), Header("ETag", "The file's tag"),
                          Header("Content-Range", "bytes <first>-<last>/<size>"),
                          Header("Content-Length", "Bytes in the answer")),
                    416: (Header("Content-Range", "bytes */<size>"),)},
    query={"version": "A version id (staff: a version under review)"})
MEDIA_BODY = {"application/octet-stream": "The whole recording or picture"}
PHOTO_BODY = {"image/jpeg": "The photographed letter", "image/png": "The photographed letter",
              "image/webp": "The photographed letter"}
SCAN_BODY = {"application/pdf": "The scanned form", "image/jpeg": "The scanned form", "image/png": "The scanned form"}
TRANSCRIPT_QUERY = {"transcript": "The letter's words typed out"}
NOTES_QUERY = {"message_id": "Only this message's notes"}
STATUS_QUERY = {"status": "new, contacted, accepted or declined"}
CASES_QUERY = {"status": "A case status", "facilitator": "A facilitator's account id", "overdue": "yes: only overdue"}
SCAN_QUERY = {"kind": "take_part (default), share_information or receive_messages",
              "granted": "true (default) or false", "method": "signed_form (default), in_person or phone",
              "given_on": "A date like 2026-03-14",
              "organisation_id": "For share_information: the organisation's id"}


def _with(summary: str, how: Doc | None = None, **kwargs: Any) -> Doc:
    """A Doc from its summary and types, with the headers, body and query of `how` (tus, Range)."""
    if how is None:
        return Doc(summary, **kwargs)
    return Doc(summary, headers=how.headers, answer_headers=how.answer_headers,
               query={**how.query, **kwargs.pop("query", {})}, content={**how.content, **kwargs.pop("content", {})},
               **kwargs)


DOCS: dict[str, Doc] = {
    'login': _with(
        'Sign in with username and password (staff then need /session/totp)',
        body=c.Login, answers={200: c.SessionStage}, statuses=(429,)),
    'logout': _with(
        'Sign out: the session is revoked on the server',
        answers={200: c.SignedOut}),
    'login_totp': _with(
        'Second factor for staff',
        body=c.TotpCode, answers={200: c.SessionStage}, statuses=(429,)),
    'redeem_invitation': _with(
        "A participant's first sign-in with the code a facilitator gave them",
        body=c.InvitationCode, answers={200: c.SessionStage}, statuses=(429,)),
    'set_password': _with(
        'Choose a password after redeeming an invitation',
        body=c.NewPassword, answers={200: c.SessionStage}, statuses=(429,)),
    'me': _with(
        'Who is signed in, and their cases',
        answers={200: c.Me}),
    'list_cases': _with(
        'My cases',
        answers={200: list[c.CaseSummary]}),
    'get_case': _with(
        'A case as I may see it',
        answers={200: c.CaseView}),
    'case_settings': _with(
        'Change case settings (facilitators)',
        body=c.CaseSettings, answers={200: c.CaseView}),
    'case_status': _with(
        'Move a case through its life (facilitators): status open, paused, closing (holds everything pending)'
        ' or closed (from closing); the reason is kept in the audit log',
        body=c.CaseStatus, answers={200: c.CaseView}),
    'consent': _with(
        'Record a consent or its withdrawal (append-only): take_part, share_information (with '
        'organisation_id) or receive_messages; method in_person, phone or signed_form; given_on a date',
        body=c.Consent, answers={200: c.CaseView}),
    'assessment': _with(
        'Record an assessment: kind eligibility (eligible, not_eligible), suitability (suitable, '
        'not_suitable) or risk (low, medium, high), with reasons (stored encrypted) and review_by; without '
        "kind, 'suitable' records eligible and suitable",
        body=c.Assessment, answers={200: c.CaseView}),
    'invitation': _with(
        'A new one-time invitation code for a participant of the case (its facilitators only); shown once, in'
        ' this answer',
        answers={201: c.Invitation}),
    'holding': _with(
        'A participant pauses or resumes deliveries to themselves',
        body=c.Holding, answers={200: c.HoldingNow}),
    'withdraw_from_case': _with(
        'A participant withdraws from the process: everything pending is held',
        answers={200: c.Withdrawn}),
    'case_messages': _with(
        "The case's messages I may see",
        answers={200: list[c.MessageView]}),
    'start_letter': _with(
        'Start a letter (a draft only I can see), or an audio/video/image message to upload into; '
        'with in_reply_to, a reply to a message delivered to me and opened',
        body=c.StartMessage, answers={201: c.MessageView}),
    'get_message': _with(
        'A message as I may see it',
        answers={200: c.MessageView}),
    'get_draft': _with(
        "My draft's text",
        answers={200: c.Text}, statuses=(409,)),
    'put_draft': _with(
        'Autosave my draft',
        body=c.Draft, answers={200: c.MessageView}),
    'get_version': _with(
        "A version's text and flags (facilitators; audited)",
        answers={200: c.VersionView}),
    'open_message': _with(
        'Open a delivered message now (recipient)',
        body=c.OpenMessage, answers={200: c.Opened}),
    'message_action': _with(
        'submit, withdraw, accept-edit, decline-edit, claim, unclaim, request-changes, edit, edit-media, '
        "reject, approve, schedule, retry, recall, incident. approve needs 'resolutions': {flag id: reason "
        "for keeping it} for every flag of the version (flag ids from the version's flags); 409 "
        "'flags_unresolved' lists those left open. recall needs 'reason' (a released message not yet opened);"
        " incident needs 'note'",
        body=c.AnyAction, answers={200: c.MessageView}),
    'review_queue': _with(
        'Everything waiting on me across my cases, oldest first',
        answers={200: list[c.MessageView]}),
    'openapi_document': _with(
        'This document',
        answers={200: c.Document}),
    'export_case': _with(
        "A case's certified record, as a signed zip (application/zip): its timeline, the approved and delivered "
        "words, consents, assessments, the outcome agreement and its audit events linked to the chain head (the "
        "case's facilitators and the coordinator); 'reason' is required and kept in the audit log",
        body=ex.ExportReason, answers={200: None}),
    'export_key': _with(
        "The service's public signing key and its fingerprint, to publish so a certified record can be checked "
        "offline (shuttle export verify FILE --public-key KEY); the coordinator only",
        answers={200: ex.PublicSigningKey}),
    'service_figures': _with(
        "The service's figures for a quarter (the same numbers as the coordinator's figures page and its CSV): "
        "counts under 5 are not shown ('<5'), nor a total that would give one away, nor a share or median "
        "from fewer than 5; the coordinator only. A quarter that is not like 2026Q4 (nor 'all') is a 400",
        answers={200: fig.ServiceFigures}, query={"quarter": "2026Q4, or all (all time); the current quarter "
                                                             "when left out"}),
    'retention_list': _with(
        'What the periodic tick will destroy in the next 30 days (soonest first; held cases marked and kept) '
        'and every case on legal hold: references, dates and hold reasons, never content; the coordinator only',
        answers={200: c.Retention}),
    'place_legal_hold': _with(
        "Place a case on legal hold with its reason ('reason' required, up to "
        f"{MAX_HOLD_REASON_CHARS} characters; audited): the "
        'tick never destroys it while held; 409 if it is held already or was destroyed; the coordinator only',
        body=c.LegalHoldReason, answers={201: c.RetentionCase}),
    'lift_legal_hold': _with(
        'Lift a legal hold (audited): the case is destroyed at its date again, at the next tick if that has '
        'passed; 409 if it is not on legal hold; the coordinator only',
        answers={200: c.RetentionCase}),
    'get_notifications': _with(
        'My digest e-mail settings: my address (kept encrypted), whether I want a digest, the time of day '
        'digests go out (UTC), whether this service sends e-mail at all',
        answers={200: c.Notifications}),
    'put_notifications': _with(
        'Give or change my address and choose whether to get a digest (participants: the same words every '
        'time; facilitators: counts of their work)',
        body=c.NotificationChoice, answers={200: c.Notifications}),
    'delete_notifications': _with(
        'Remove my address (it is shredded) and stop digests',
        answers={200: c.Notifications}),
    'options': _with(
        'tus 1.0: what this server supports (version, extensions, max size, checksums)',
        answers={204: None}, how=TUS_OPTIONS),
    'create': _with(
        "tus 1.0 creation (and creation-with-upload, creation-defer-length): headers Upload-Length or "
        "Upload-Defer-Length: 1, Upload-Metadata 'message_id "
        "<base64>'; file names are dropped",
        answers={201: None}, statuses=(412, 415), how=TUS_CREATE),
    'head': _with(
        "tus 1.0: the upload's offset, to resume after a cut",
        answers={200: None}, statuses=(410, 412), how=TUS_HEAD),
    'patch': _with(
        'tus 1.0: append bytes at Upload-Offset (application/offset+octet-stream); Upload-Checksum checked '
        '(460 on mismatch)',
        answers={204: None}, statuses=(410, 412, 415, 460), how=TUS_PATCH),
    'delete': _with(
        "tus 1.0 termination: the upload's parts are destroyed",
        answers={204: None}, statuses=(410, 412), how=TUS_DELETE),
    'put_media': _with(
        'Upload a whole recording or file in one request (no resuming)',
        answers={201: c.Uploaded}, statuses=(415,), content=MEDIA_BODY),
    'message_media': _with(
        'The processed media, with HTTP Range (206/416, If-Range); recipients only after opening',
        answers={200: None, 206: None}, statuses=(416,), how=RANGE),
    'message_captions': _with(
        'The captions of a recording whose transcript was timed (text/vtt: plain-text cues the worker checked '
        'against the recording); recipients only after opening; 404 when it has none',
        answers={200: None}),
    'message_poster': _with(
        'The poster frame of a processed video (JPEG)',
        answers={200: None, 206: None}, statuses=(416,), how=RANGE),
    'draft_flags': _with(
        "Contact details found in my saved draft or transcript, as the facilitator will see them (the case's "
        "watch list is never shown to authors); 'key' fingerprints them",
        answers={200: c.DraftFlags}, statuses=(409, 429)),
    'message_transcript': _with(
        'The processed transcript of an audio, video or image message (recipients only after opening)',
        answers={200: c.Text}),
    'message_requests': _with(
        "The recipient side's requests about a message delivered to it, with the answers",
        answers={200: list[c.RequestRow]}),
    'ask_facilitator': _with(
        'A recipient asks the facilitators to hold, return or destroy a delivered message',
        body=c.AskFacilitator, answers={201: c.RequestRow}),
    'case_requests': _with(
        "A case's unanswered recipient requests, oldest first (facilitators)",
        answers={200: list[c.RequestRow]}),
    'handle_request': _with(
        'A facilitator answers a recipient request: done or declined, with a note shown to them',
        body=c.HandleRequest, answers={200: c.HandledRequest}),
    'my_supported_opening': _with(
        "The recipient side's waiting request to open a message with the facilitator (a list of one, or empty)",
        answers={200: list[c.SupportedOpeningRow]}),
    'ask_supported_opening': _with(
        'A recipient asks to open a released message together with their facilitator (with a note if they '
        'wish); it then opens only during a session the facilitator starts',
        body=c.AskSupportedOpening, answers={201: c.SupportedOpeningRow}),
    'withdraw_supported_opening': _with(
        'The recipient withdraws that request: the message opens again when they choose',
        answers={200: c.SupportedOpeningRow}),
    'case_supported_openings': _with(
        "A case's waiting requests to open a message with the facilitator, oldest first (facilitators)",
        answers={200: list[c.SupportedOpeningRow]}),
    'arrange_supported_opening': _with(
        'A facilitator records the time arranged with the recipient (not in the past)',
        body=c.ArrangeSupportedOpening, answers={200: c.SupportedOpeningRow}),
    'start_supported_session': _with(
        'A facilitator starts the session: the recipient may open the message for two hours, or until it ends',
        answers={200: c.SupportedOpeningRow}),
    'end_supported_session': _with(
        'A facilitator ends the session: the message stays closed until the next one',
        answers={200: c.SupportedOpeningRow}),
    'send_referral': _with(
        "Send a referral (no account; rate-limited per address): the public form's questions (source, "
        'person_name, offence, court, contact_*, and for organisations referrer_* , side, person_knows); 400 '
        "'invalid_referral' lists each field's problem; 201 gives the reference",
        body=c.Referral, answers={201: c.ReferralSent}, statuses=(429,)),
    'list_referrals': _with(
        'The referrals inbox (coordinator): waiting for first contact first, with the first-contact clock; '
        '?status=new|contacted|accepted|declined',
        answers={200: list[c.ReferralRow]}, query=STATUS_QUERY),
    'get_referral': _with(
        'One referral with every answer and its contact attempts (coordinator)',
        answers={200: c.ReferralRow}),
    'contact_attempt': _with(
        'Record a contact attempt (coordinator): method phone, letter, email, in_person or via_agency; '
        "outcome reached, no_answer, left_message or wrong_details; the first 'reached' stops the "
        'first-contact clock',
        body=c.ContactAttempt, answers={201: c.ReferralRow}),
    'decline_referral': _with(
        'Decline a referral (coordinator): reason not_eligible, declined_by_person, not_contactable, '
        'court_proceedings or other (with a note)',
        body=c.DeclineReferral, answers={200: c.ReferralRow}),
    'accept_referral': _with(
        'Accept a referral (coordinator): a case in preparation with the next reference of the year and its '
        'facilitators (two, or the only one the service has)',
        body=c.AcceptReferral, answers={201: c.ReferralRow}),
    'get_preparation': _with(
        "A participant's preparation meetings (newest first) and what they want from the process "
        '(facilitators of the case)',
        answers={200: PreparationView}),
    'add_meeting': _with(
        'Log a preparation meeting: held_on (YYYY-MM-DD), how (phone, video_call, in_person, prison_visit), '
        'who attended and notes (kept encrypted)',
        body=c.Meeting, answers={201: PreparationView}),
    'put_wishes': _with(
        'What the person wants: the questions they want answered, whether they want a reply, whether they '
        'want to hear how the outcome is kept (true, false or null: not asked yet)',
        body=c.Wishes, answers={200: PreparationView}),
    'letter_on_behalf': _with(
        'A facilitator enters a letter a principal or proxy dictated; it is sent to review at once, marked as'
        ' entered on their behalf (with two facilitators, the other approves it)',
        body=c.Letter, answers={201: c.MessageView}),
    'photo_on_behalf': _with(
        'A facilitator enters a photographed handwritten letter (the body: image/jpeg, image/png or '
        'image/webp; ?transcript= its words typed out) for a principal or proxy',
        answers={201: c.MessageView}, content=PHOTO_BODY, query=TRANSCRIPT_QUERY),
    'case_notes': _with(
        "Private facilitator notes of the case (?message_id= one message's); each reading is audited",
        answers={200: list[c.NoteRow]}, query=NOTES_QUERY),
    'add_case_note': _with(
        'Add a private facilitator note to the case or to one of its messages (encrypted; never shown to '
        'participants or the coordinator)',
        body=c.CaseNote, answers={201: c.NoteAdded}),
    'message_supporters': _with(
        "The recipient's supporters and whether this message is shared with each",
        answers={200: list[SupporterChoice]}),
    'share_message': _with(
        'The recipient shares an opened message with a supporter of their side (shared: true), or stops '
        'sharing it (false); audited',
        body=c.Share, answers={200: list[SupporterChoice]}),
    'shared_with_me': _with(
        'A supporter: the messages shared with me now (no words until I open one)',
        answers={200: list[SharedItem]}),
    'shared_message': _with(
        'A supporter: a message shared with me; its words only once I chose to open it',
        answers={200: SharedItem}),
    'open_shared': _with(
        'A supporter opens a message shared with them (needs their own consent and assessment)',
        answers={200: SharedItem}),
    'staff_list': _with(
        'Staff accounts with their status (active, waiting to enrol, deactivated), last sign-in and open '
        'cases (coordinator)',
        answers={200: list[StaffRow]}),
    'create_staff': _with(
        'Create a facilitator or coordinator; answers the one-time enrolment link, shown only now '
        '(coordinator)',
        body=c.CreateStaff, answers={201: IssuedEnrolment}),
    'deactivate_staff': _with(
        'Deactivate a staff account: its sessions end at once (coordinator)',
        answers={200: c.AccountActive}),
    'reactivate_staff': _with(
        'Reactivate a staff account (coordinator)',
        answers={200: c.AccountActive}),
    'reset_second_factor': _with(
        'A lost second factor: password and authenticator stop working, sessions end; answers a new enrolment'
        ' link (coordinator; audited)',
        answers={201: IssuedEnrolment}),
    'new_enrolment_link': _with(
        'A new enrolment link for someone not enrolled yet; older links stop working (coordinator)',
        answers={201: IssuedEnrolment}),
    'coordinator_cases': _with(
        'Every case with its facilitators, reviews waiting and overdue; no message content. Query: status, '
        'facilitator (account id), overdue=yes (coordinator)',
        answers={200: CaseList}, query=CASES_QUERY),
    'coordinator_case': _with(
        "One case's staffing: facilitators, conflicts of interest, who may join (coordinator)",
        answers={200: CaseStaffing}),
    'reassign': _with(
        'Replace a facilitator (leaving, joining: account ids; reason: leave, sickness, conflict_of_interest,'
        ' workload, other); their claimed messages go back to the queue (coordinator)',
        body=c.Reassign, answers={200: CaseStaffing}),
    'add_facilitator': _with(
        'Add a second facilitator (a case has one or two) (coordinator)',
        body=c.AccountRef, answers={200: CaseStaffing}),
    'remove_facilitator': _with(
        'Remove one of two facilitators; refused while the case needs two approvals (coordinator)',
        answers={200: CaseStaffing}),
    'record_conflict': _with(
        'Record that a facilitator knows someone in the case: they cannot be assigned to it (coordinator)',
        body=c.AccountRef, answers={200: CaseStaffing}),
    'own_conflict': _with(
        'A facilitator of the case records their own conflict of interest with it',
        answers={200: c.OwnConflict}),
    'list_organisations': _with(
        'Partner organisations, active first (coordinator)',
        answers={200: list[OrganisationRow]}),
    'add_organisation': _with(
        'Add a partner organisation; names are unique ignoring capitals (coordinator)',
        body=c.NewOrganisation, answers={201: OrganisationRow}),
    'rename_organisation': _with(
        'Rename a partner organisation (coordinator)',
        body=c.OrganisationName, answers={200: OrganisationRow}),
    'deactivate_organisation': _with(
        'No longer offered on new consent forms (coordinator)',
        answers={200: OrganisationRow}),
    'reactivate_organisation': _with(
        'Offered again on new consent forms (coordinator)',
        answers={200: OrganisationRow}),
    'enrolment_details': _with(
        "A new staff member's enrolment link: the account and the authenticator secret to add (no session "
        "needed; the token is the link's last part)",
        body=c.EnrolmentToken, answers={200: c.EnrolmentDetails}),
    'complete_enrolment': _with(
        'Finish enrolling: a password and a code from the authenticator; answers a session',
        body=c.CompleteEnrolment, answers={200: c.SessionStage}, statuses=(429,)),
    'add_person': _with(
        'Add a new person to a side as principal, proxy (acting_for) or supporter: creates their participant '
        'account without a password (issue an invitation code next)',
        body=c.AddPerson, answers={201: c.PersonAdded}),
    'deactivate': _with(
        'Deactivate a participant: their sessions end; pending messages they wrote are held',
        body=c.Deactivate, answers={200: c.CaseView}),
    'participant_consents': _with(
        "A participant's current consents, in words (facilitators)",
        answers={200: list[c.ConsentWords]}),
    'consent_scan': _with(
        'Record a consent form with its scanned copy as the body (PDF, JPEG or PNG, stored encrypted); query:'
        ' kind, granted, method, given_on, organisation_id',
        answers={201: c.CaseView}, content=SCAN_BODY, query=SCAN_QUERY),
    'my_consents': _with(
        'My own consents in each of my cases, in words',
        answers={200: list[c.MyCaseConsents]}),
    'withdraw_consent': _with(
        'Withdraw one of my own consents (take_part, share_information with an organisation, '
        'receive_messages); every gate reacts at once',
        body=c.WithdrawConsent, answers={200: c.Withdrawn}),
    'participant_assessments': _with(
        "A participant's current eligibility, suitability and risk judgements with their reasons and "
        'review-by dates (facilitators)',
        answers={200: list[c.AssessmentRow]}),
    'proceedings': _with(
        "Mark court proceedings ongoing or over; whether that holds the exchange is the service's setting "
        'SHUTTLE_HOLD_DURING_PROCEEDINGS',
        body=c.Proceedings, answers={200: c.CaseView}),
    # issue 11: the outcome agreement, closure and feedback (shuttle/web/agreement_api.py)
    'get_agreement': _with(
        "The outcome agreement as I may see it: the facilitators' page (every version, each side's answers "
        "and notes, item tracking, the closure), or a participant's own (the latest or agreed version, the "
        'item statuses only if they asked to hear them, the questionnaire, what they received)',
        answers={200: ag.AgreementView}),
    'draft_agreement': _with(
        'Draft the agreement, or a new version after a change was asked for (facilitators): items of what, '
        'owner (harmed, responsible, both, service), due_on and how it is checked; texts kept encrypted',
        body=ag.DraftBody, answers={201: ag.Drafted}),
    'answer_agreement': _with(
        "Agree to the latest version for my side, or ask for a change with a note (principals and proxies); "
        "agreed by both is recorded with its date",
        body=ag.AnswerBody, answers={200: ag.Answered}),
    'mark_agreement_item': _with(
        'Mark an item of the agreed version done, missed or varied (with a note) (facilitators)',
        body=ag.MarkBody, answers={201: ag.Marked}),
    'close_case': _with(
        'Close the case with its reason (facilitators): it becomes closing, everything pending is held, and '
        'each participant is offered the questionnaire',
        body=ag.CloseBody, answers={200: ag.Closed}),
    'finish_case': _with(
        'Finish closing: closing becomes closed (a reason is needed if the case was closed without one)',
        body=ag.FinishBody, answers={200: ag.Closed}),
    'give_feedback': _with(
        'Answer the closing questionnaire once (or decline it): stored apart from who gave it, with only '
        'the side and the quarter the case closed in',
        body=ag.FeedbackBody, answers={200: ag.Done}),
    'list_checkins': _with(
        "The case's aftercare check-ins (facilitators): each person's due dates and, once recorded, how they "
        'are and whether they got what they wanted',
        answers={200: list[aftercare.CheckInView]}),
    'record_checkin': _with(
        'Record a check-in (facilitators): how the person is (kept encrypted) and whether they got what they '
        'wanted (yes, partly, no, not_asked)',
        body=ag.CheckInBody, answers={200: ag.Done}),
    'list_support_services': _with(
        "The signposting directory (the coordinator: every entry; a facilitator: the entries offered)",
        answers={200: list[aftercare.SupportEntry]}),
    'add_support_service': _with(
        'Add a support service to the directory (coordinator): name, what it helps with, how to reach it',
        body=ag.SupportBody, answers={201: aftercare.SupportEntry}),
    'set_support_service_active': _with(
        'Offer a support service, or stop offering it (coordinator)',
        body=ag.SupportActive, answers={200: ag.Done}),
    'share_support': _with(
        "Share a support service onto a participant's page (the case's facilitators)",
        body=ag.ShareBody, answers={200: ag.Done}),
}
