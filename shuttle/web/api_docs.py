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
    "case_status": ("Open, pause, resume or close a case (facilitators)", {"status": "string", "version": "integer"}),
    "consent": ("Record a consent or its withdrawal (append-only)",
                {"kind": "string", "granted": "boolean", "note": "string"}),
    "assessment": ("Record an assessment: suitable or not_suitable", {"outcome": "string"}),
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
}
