"""One line and the body fields of each API endpoint, for the OpenAPI document."""

from __future__ import annotations

DESCRIPTIONS: dict[str, tuple[str, dict[str, str] | None]] = {
    "login": ("Sign in with username and password (staff then need /session/totp)",
              {"username": "string", "password": "string"}),
    "logout": ("Sign out: the session is revoked on the server", None),
    "login_totp": ("Second factor for staff", {"code": "string"}),
    "redeem_invitation": ("A participant's first sign-in with the code a facilitator gave them", {"code": "string"}),
    "set_password": ("Choose a password after redeeming an invitation", {"password": "string"}),
    "me": ("Who is signed in, and their cases", None),
    "list_cases": ("My cases", None),
    "get_case": ("A case as I may see it", None),
    "case_settings": ("Change case settings (facilitators)", {"version": "integer"}),
    "case_status": ("Move a case through its life (facilitators): status open, paused, closing (holds everything "
                    "pending) or closed (from closing); the reason is kept in the audit log",
                    {"status": "string", "version": "integer", "reason": "string"}),
    "consent": ("Record a consent or its withdrawal (append-only): take_part, share_information (with "
                "organisation_id) or receive_messages; method in_person, phone or signed_form; given_on a date",
                {"kind": "string", "granted": "boolean", "note": "string", "method": "string",
                 "given_on": "string", "organisation_id": "string"}),
    "assessment": ("Record an assessment: kind eligibility (eligible, not_eligible), suitability (suitable, "
                   "not_suitable) or risk (low, medium, high), with reasons (stored encrypted) and review_by; "
                   "without kind, 'suitable' records eligible and suitable",
                   {"outcome": "string", "kind": "string", "reasons": "string", "review_by": "string"}),
    "invitation": ("A new one-time invitation code for a participant of the case (its facilitators only); "
                   "shown once, in this answer", None),
    "holding": ("A participant pauses or resumes deliveries to themselves", {"holding": "boolean"}),
    "withdraw_from_case": ("A participant withdraws from the process: everything pending is held", None),
    "case_messages": ("The case's messages I may see", None),
    "start_letter": ("Start a letter (a draft only I can see), or an audio/video/image message to upload into",
                     {"text": "string", "kind": "string"}),
    "get_message": ("A message as I may see it", None),
    "get_draft": ("My draft's text", None),
    "put_draft": ("Autosave my draft", {"text": "string", "version": "integer"}),
    "get_version": ("A version's text and flags (facilitators; audited)", None),
    "open_message": ("Open a delivered message now (recipient)", {"share_receipt": "boolean"}),
    "message_action": ("submit, withdraw, accept-edit, decline-edit, claim, unclaim, request-changes, edit, "
                       "edit-media, reject, approve, schedule, retry, recall, incident. approve needs "
                       "'resolutions': {flag id: reason for keeping it} for every flag of the version "
                       "(flag ids from the version's flags); 409 'flags_unresolved' lists those left open. "
                       "recall needs 'reason' (a released message not yet opened); incident needs 'note'",
                       {"version": "integer", "note": "string", "text": "string", "code": "string", "at": "string",
                        "take_over": "boolean", "edits": "object", "resolutions": "object", "reason": "string"}),
    "review_queue": ("Everything waiting on me across my cases, oldest first", None),
    "openapi_document": ("This document", None),
    "get_notifications": ("My digest e-mail settings: my address (kept encrypted), whether I want a digest, "
                          "the time of day digests go out (UTC), whether this service sends e-mail at all", None),
    "put_notifications": ("Give or change my address and choose whether to get a digest (participants: the same "
                          "words every time; facilitators: counts of their work)",
                          {"address": "string", "wants": "boolean"}),
    "delete_notifications": ("Remove my address (it is shredded) and stop digests", None),
    "options": ("tus 1.0: what this server supports (version, extensions, max size, checksums)", None),
    "create": ("tus 1.0 creation (and creation-with-upload): headers Upload-Length, Upload-Metadata "
               "'message_id <base64>'; file names are dropped", None),
    "head": ("tus 1.0: the upload's offset, to resume after a cut", None),
    "patch": ("tus 1.0: append bytes at Upload-Offset (application/offset+octet-stream); "
              "Upload-Checksum checked (460 on mismatch)", None),
    "delete": ("tus 1.0 termination: the upload's parts are destroyed", None),
    "put_media": ("Upload a whole recording or file in one request (no resuming)", None),
    "message_media": ("The processed media, with HTTP Range (206/416, If-Range); recipients only after opening",
                      None),
    "message_poster": ("The poster frame of a processed video (JPEG)", None),
    "draft_flags": ("Contact details found in my saved draft or transcript, as the facilitator will see them "
                    "(the case's watch list is never shown to authors); 'key' fingerprints them", None),
    "message_transcript": ("The processed transcript of an audio, video or image message "
                           "(recipients only after opening)", None),
    "message_requests": ("The recipient side's requests about a message delivered to it, with the answers", None),
    "ask_facilitator": ("A recipient asks the facilitators to hold, return or destroy a delivered message",
                        {"kind": "string", "note": "string"}),
    "case_requests": ("A case's unanswered recipient requests, oldest first (facilitators)", None),
    "handle_request": ("A facilitator answers a recipient request: done or declined, with a note shown to them",
                       {"outcome": "string", "note": "string"}),
    # issue 10: referrals (shuttle/web/referral_api.py)
    "send_referral": ("Send a referral (no account; rate-limited per address): the public form's questions "
                      "(source, person_name, offence, court, contact_*, and for organisations referrer_* , side, "
                      "person_knows); 400 'invalid_referral' lists each field's problem; 201 gives the reference",
                      {"source": "string", "person_name": "string", "offence": "string", "court": "string",
                       "more": "string", "side": "string", "person_knows": "string", "referrer_name": "string",
                       "referrer_organisation": "string", "referrer_contact": "string", "contact_phone": "string",
                       "safe_message": "string", "contact_email": "string", "contact_address": "string",
                       "contact_via_referrer": "string", "best_time": "string"}),
    "list_referrals": ("The referrals inbox (coordinator): waiting for first contact first, with the first-contact "
                       "clock; ?status=new|contacted|accepted|declined", None),
    "get_referral": ("One referral with every answer and its contact attempts (coordinator)", None),
    "contact_attempt": ("Record a contact attempt (coordinator): method phone, letter, email, in_person or "
                        "via_agency; outcome reached, no_answer, left_message or wrong_details; the first "
                        "'reached' stops the first-contact clock",
                        {"method": "string", "outcome": "string", "at": "string", "note": "string"}),
    "decline_referral": ("Decline a referral (coordinator): reason not_eligible, declined_by_person, "
                         "not_contactable, court_proceedings or other (with a note)",
                         {"reason": "string", "note": "string", "version": "integer"}),
    "accept_referral": ("Accept a referral (coordinator): a case in preparation with the next reference of the "
                        "year and its facilitators (two, or the only one the service has)",
                        {"facilitators": "array", "version": "integer"}),
    # issue 10: casework (shuttle/web/casework_api.py)
    "get_preparation": ("A participant's preparation meetings (newest first) and what they want from the process "
                        "(facilitators of the case)", None),
    "add_meeting": ("Log a preparation meeting: held_on (YYYY-MM-DD), how (phone, video_call, in_person, "
                    "prison_visit), who attended and notes (kept encrypted)",
                    {"held_on": "string", "how": "string", "attended": "string", "notes": "string"}),
    "put_wishes": ("What the person wants: the questions they want answered, whether they want a reply, whether "
                   "they want to hear how the outcome is kept (true, false or null: not asked yet)",
                   {"questions": "array", "wants_reply": "boolean", "wants_outcome_news": "boolean"}),
    "letter_on_behalf": ("A facilitator enters a letter a principal or proxy dictated; it is sent to review at "
                         "once, marked as entered on their behalf (with two facilitators, the other approves it)",
                         {"text": "string"}),
    "photo_on_behalf": ("A facilitator enters a photographed handwritten letter (the body: image/jpeg, image/png or "
                        "image/webp; ?transcript= its words typed out) for a principal or proxy", None),
    "case_notes": ("Private facilitator notes of the case (?message_id= one message's); each reading is audited",
                   None),
    "add_case_note": ("Add a private facilitator note to the case or to one of its messages (encrypted; never "
                      "shown to participants or the coordinator)", {"text": "string", "message_id": "string"}),
    "message_supporters": ("The recipient's supporters and whether this message is shared with each", None),
    "share_message": ("The recipient shares an opened message with a supporter of their side (shared: true), or "
                      "stops sharing it (false); audited", {"shared": "boolean"}),
    "shared_with_me": ("A supporter: the messages shared with me now (no words until I open one)", None),
    "shared_message": ("A supporter: a message shared with me; its words only once I chose to open it", None),
    "open_shared": ("A supporter opens a message shared with them (needs their own consent and assessment)", None),
    # issue 10: the coordinator (shuttle/web/coordinator_api.py); anyone else gets 404
    "staff_list": ("Staff accounts with their status (active, waiting to enrol, deactivated), last sign-in and "
                   "open cases (coordinator)", None),
    "create_staff": ("Create a facilitator or coordinator; answers the one-time enrolment link, shown only now "
                     "(coordinator)", {"username": "string", "display_name": "string", "role": "string"}),
    "deactivate_staff": ("Deactivate a staff account: its sessions end at once (coordinator)", None),
    "reactivate_staff": ("Reactivate a staff account (coordinator)", None),
    "reset_second_factor": ("A lost second factor: password and authenticator stop working, sessions end; answers "
                            "a new enrolment link (coordinator; audited)", None),
    "new_enrolment_link": ("A new enrolment link for someone not enrolled yet; older links stop working "
                           "(coordinator)", None),
    "coordinator_cases": ("Every case with its facilitators, reviews waiting and overdue; no message content. "
                          "Query: status, facilitator (account id), overdue=yes (coordinator)", None),
    "coordinator_case": ("One case's staffing: facilitators, conflicts of interest, who may join (coordinator)", None),
    "reassign": ("Replace a facilitator (leaving, joining: account ids; reason: leave, sickness, "
                 "conflict_of_interest, workload, other); their claimed messages go back to the queue (coordinator)",
                 {"leaving": "string", "joining": "string", "reason": "string"}),
    "add_facilitator": ("Add a second facilitator (a case has one or two) (coordinator)", {"account_id": "string"}),
    "remove_facilitator": ("Remove one of two facilitators; refused while the case needs two approvals "
                           "(coordinator)", None),
    "record_conflict": ("Record that a facilitator knows someone in the case: they cannot be assigned to it "
                        "(coordinator)", {"account_id": "string"}),
    "own_conflict": ("A facilitator of the case records their own conflict of interest with it", None),
    "list_organisations": ("Partner organisations, active first (coordinator)", None),
    "add_organisation": ("Add a partner organisation; names are unique ignoring capitals (coordinator)",
                         {"name": "string", "kind": "string"}),
    "rename_organisation": ("Rename a partner organisation (coordinator)", {"name": "string"}),
    "deactivate_organisation": ("No longer offered on new consent forms (coordinator)", None),
    "reactivate_organisation": ("Offered again on new consent forms (coordinator)", None),
    "enrolment_details": ("A new staff member's enrolment link: the account and the authenticator secret to add "
                          "(no session needed; the token is the link's last part)", {"token": "string"}),
    "complete_enrolment": ("Finish enrolling: a password and a code from the authenticator; answers a session",
                           {"token": "string", "password": "string", "code": "string"}),
    "add_person": ("Add a new person to a side as principal, proxy (acting_for) or supporter: creates their "
                   "participant account without a password (issue an invitation code next)",
                   {"name": "string", "side": "string", "role": "string", "acting_for": "string",
                    "username": "string"}),
    "deactivate": ("Deactivate a participant: their sessions end; pending messages they wrote are held",
                   {"reason": "string"}),
    "participant_consents": ("A participant's current consents, in words (facilitators)", None),
    "consent_scan": ("Record a consent form with its scanned copy as the body (PDF, JPEG or PNG, stored "
                     "encrypted); query: kind, granted, method, given_on, organisation_id", None),
    "my_consents": ("My own consents in each of my cases, in words", None),
    "withdraw_consent": ("Withdraw one of my own consents (take_part, share_information with an organisation, "
                         "receive_messages); every gate reacts at once",
                         {"kind": "string", "organisation_id": "string"}),
    "participant_assessments": ("A participant's current eligibility, suitability and risk judgements with "
                                "their reasons and review-by dates (facilitators)", None),
    "proceedings": ("Mark court proceedings ongoing or over; whether that holds the exchange is the service's "
                    "setting SHUTTLE_HOLD_DURING_PROCEEDINGS", {"ongoing": "boolean", "reason": "string"}),
}
