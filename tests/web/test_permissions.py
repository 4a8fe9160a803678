"""Who may call which API route (DESIGN.md section 8, invariant 7), route by route and role by role.

The table below is the specification: one row per route (and per message action), one
column per role. A route added to `shuttle.web.api.ROUTES` without a row fails the test.
Every request is also repeated with each id in its path replaced by a random one, which
must answer exactly like an id the caller may not see: same status, same body.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.responses import JSONResponse
from world import People, TestClient, World, web_client

from shuttle import blobs, retention_policy
from shuttle.accounts import enrolment
from shuttle.agreements import aftercare
from shuttle.agreements import service as agreement_service
from shuttle.agreements import views as agreement_views
from shuttle.agreements.rules import Item as AgreementItem
from shuttle.cases import participation
from shuttle.cases import service as cases
from shuttle.cases.models import Case
from shuttle.messages import authoring, delivery, processing, review, sharing, supported_opening
from shuttle.messages import requests as recipient_requests
from shuttle.messages.models import Message
from shuttle.organisations import service as organisations
from shuttle.referrals import service as referrals
from shuttle.services import Actor, Services
from shuttle.uploads import service as uploads
from shuttle.web import api
from shuttle.web.app import build_app

OK = "2xx"  # allowed, and done
NOW = 409  # allowed to this role, but not in the message's or case's current state
NO = 404  # not this role's to see or do: answered exactly like a missing id
ANON = 401  # not signed in

NOT_FOUND = {"error": "not_found", "message": "Not found."}
NOT_FOUND_LENGTH = str(len(JSONResponse(NOT_FOUND).body))  # all a HEAD answer tells of its body
SIGN_IN_ROUTES = {("POST", "/session"), ("POST", "/session/totp"), ("POST", "/session/invitation"),
                  ("POST", "/session/password"), ("POST", "/session/enrolment"),
                  ("POST", "/session/enrolment/details")}  # an enrolment link's token is its own credential
UNCHECKED_ROUTES = {("GET", "/openapi.json")}  # public by design: the API's own description
ACTION_PATH = "/messages/{message_id}/actions/{action}"

ROLES = ("author", "other_side", "proxy", "supporter", "facilitator", "foreign_facilitator",
         "foreign_participant", "coordinator", "anonymous")

# (method, path, target): the outcome for each role, in the order of ROLES. The target says
# what the path's ids point at: "case" is the case of all the roles but the foreign ones,
# "spare case" another case of the same people (leaving it changes nothing in "case"),
# "quiet case" one more where nothing was sent yet; a message target names the state of a
# message the author (the harmed principal) wrote in "case" ("video ..." a video message,
# processed by the media worker once sent); an upload target names the state of an upload
# the author made for a video draft. See Targets below.
EXPECTED: dict[tuple[str, str, str], tuple[Any, ...]] = {
    #                                                     auth  other proxy supp  facil f.fac f.par coord anon
    ("DELETE", "/session", "own session"):                (OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   ANON),
    ("GET", "/me", "-"):                                  (OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   ANON),
    ("GET", "/cases", "-"):                               (OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   ANON),
    ("GET", "/cases/{case_id}", "case"):                  (OK,   OK,   OK,   OK,   OK,   NO,   NO,   NO,   ANON),
    ("PATCH", "/cases/{case_id}/settings", "case"):       (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/status", "case"):          (NO,   NO,   NO,   NO,   NOW,  NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/participants/{participant_id}/consents", "case"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/participants/{participant_id}/assessments", "case"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/participants/{participant_id}/invitation", "case"):  # a new code, shown once
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    # preparing a case (shuttle/web/people_api.py): the case's facilitators add and deactivate people,
    # record consent forms (with a scan), read assessments, mark court proceedings; a participant reads
    # and withdraws their own consents ("spare participant": a supporter added for the request)
    ("POST", "/cases/{case_id}/participants", "case"):    (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/participants/{participant_id}/deactivate", "spare participant"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("GET", "/cases/{case_id}/participants/{participant_id}/consents", "case"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/participants/{participant_id}/consent-scans", "case"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("GET", "/cases/{case_id}/participants/{participant_id}/assessments", "case"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/proceedings", "case"):     (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/consents/withdraw", "spare case"):
                                                          (OK,   OK,   OK,   OK,   NO,   NO,   NO,   NO,   ANON),
    ("GET", "/me/consents", "-"):                         (OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   ANON),
    # digest e-mails (shuttle/web/notifications_api.py): participants and facilitators, each their own
    ("GET", "/me/notifications", "-"):                    (OK,   OK,   OK,   OK,   OK,   OK,   OK,   NO,   ANON),
    ("PUT", "/me/notifications", "-"):                    (OK,   OK,   OK,   OK,   OK,   OK,   OK,   NO,   ANON),
    ("DELETE", "/me/notifications", "-"):                 (OK,   OK,   OK,   OK,   OK,   OK,   OK,   NO,   ANON),
    ("POST", "/cases/{case_id}/holding", "case"):         (OK,   OK,   OK,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/withdraw", "spare case"):  (OK,   OK,   OK,   OK,   NO,   NO,   NO,   NO,   ANON),
    ("GET", "/cases/{case_id}/messages", "case"):         (OK,   OK,   OK,   OK,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/messages", "case"):        (OK,   OK,   OK,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/messages", "quiet case"):  (OK,   NOW,  OK,   NO,   NO,   NO,   NO,   NO,   ANON),
    # an unsent draft is its author's private work: staff neither see nor count it (issue 8), nor the
    # side's proxy when the principal started it (issue 13). Once sent, the proxy sees it but neither
    # changes, sends, withdraws it nor answers an edit: 409 not_the_writer (the NOW of its column).
    ("GET", "/messages/{message_id}", "draft"):           (OK,   NO,   NO,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("GET", "/messages/{message_id}", "awaiting review"): (OK,   NO,   OK,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("GET", "/messages/{message_id}", "released"):        (OK,   OK,   OK,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("GET", "/messages/{message_id}/draft", "draft"):     (OK,   NO,   NO,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("PUT", "/messages/{message_id}/draft", "draft"):     (OK,   NO,   NO,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("PUT", "/messages/{message_id}/draft", "awaiting review"):
                                                          (NOW,  NO,   NOW,  NO,   NO,   NO,   NO,   NO,   ANON),
    ("GET", "/messages/{message_id}/versions/{version_id}", "awaiting review"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("GET", "/messages/{message_id}/versions/{version_id}", "released"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/open", "awaiting review"):
                                                          (NO,   NO,   NO,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/open", "released"):  (NO,   OK,   NO,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/submit", "fresh draft"):
                                                          (OK,   NO,   NO,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/submit", "awaiting review"):
                                                          (NOW,  NO,   NOW,  NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/withdraw", "fresh draft"):
                                                          (OK,   NO,   NO,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/withdraw", "released"):
                                                          (NOW,  NO,   NOW,  NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/accept-edit", "fresh awaiting author"):
                                                          (OK,   NO,   NOW,  NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/accept-edit", "awaiting review"):
                                                          (NOW,  NO,   NOW,  NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/decline-edit", "fresh awaiting author"):
                                                          (OK,   NO,   NOW,  NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/claim", "fresh awaiting review"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/claim", "draft"):
                                                          (NO,   NO,   NO,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/unclaim", "fresh in review"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/request-changes", "fresh in review"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/edit", "fresh in review"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/edit-media", "fresh video in review"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/reject", "fresh in review"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/approve", "fresh in review"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/approve", "awaiting review"):  # not claimed first
                                                          (NO,   NO,   NO,   NO,   NOW,  NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/recall", "fresh released"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/recall", "viewed"):  # opened: too late to call back
                                                          (NO,   NO,   NO,   NO,   NOW,  NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/incident", "viewed"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/schedule", "awaiting review"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/actions/retry", "awaiting review"):
                                                          (NO,   NO,   NO,   NO,   NOW,  NO,   NO,   NO,   ANON),
    ("GET", "/review-queue", "-"):                        (OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   ANON),
    # tus resumable uploads (shuttle/web/tus.py): only the author side puts bytes into its own
    # media message; an upload then belongs to the one who made it (a proxy starts its own).
    ("OPTIONS", "/uploads", "-"):  # tus discovery: the protocol's version and limits, no data
                                                          (OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK),
    ("POST", "/uploads", "video draft"):                  (OK,   NO,   NO,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/uploads", "video awaiting review"):        (NOW,  NO,   NOW,  NO,   NO,   NO,   NO,   NO,   ANON),
    ("HEAD", "/uploads/{upload_id}", "open upload"):      (OK,   NO,   NO,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("PATCH", "/uploads/{upload_id}", "open upload"):     (OK,   NO,   NO,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("PATCH", "/uploads/{upload_id}", "finished upload"): (NOW,  NO,   NO,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("DELETE", "/uploads/{upload_id}", "open upload"):    (OK,   NO,   NO,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("DELETE", "/uploads/{upload_id}", "sent upload"):  # now the body of a version: not the author's to end
                                                          (NOW,  NO,   NO,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("PUT", "/messages/{message_id}/media", "video draft"):
                                                          (OK,   NO,   NO,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("PUT", "/messages/{message_id}/media", "video awaiting review"):
                                                          (NOW,  NO,   NOW,  NO,   NO,   NO,   NO,   NO,   ANON),
    # processed media (shuttle/web/media.py): the case's facilitators, the author side, and the
    # recipient side only once it chose to open the message (released but unopened: nothing yet).
    ("GET", "/messages/{message_id}/media", "video awaiting review"):
                                                          (OK,   NO,   OK,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("GET", "/messages/{message_id}/media", "video released"):
                                                          (OK,   NO,   OK,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("GET", "/messages/{message_id}/media", "video viewed"):
                                                          (OK,   OK,   OK,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("GET", "/messages/{message_id}/poster", "video awaiting review"):
                                                          (OK,   NO,   OK,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("GET", "/messages/{message_id}/poster", "video released"):
                                                          (OK,   NO,   OK,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("GET", "/messages/{message_id}/poster", "video viewed"):
                                                          (OK,   OK,   OK,   NO,   OK,   NO,   NO,   NO,   ANON),
    # the participants' pages (shuttle/web/participant_api.py): an author's draft flags; a media
    # message's transcript as its media; a recipient's requests and the facilitators' answers.
    ("GET", "/messages/{message_id}/draft/flags", "draft"):
                                                          (OK,   NO,   NO,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("GET", "/messages/{message_id}/transcript", "video awaiting review"):
                                                          (OK,   NO,   OK,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("GET", "/messages/{message_id}/transcript", "video released"):  # not opened yet: nothing shown
                                                          (OK,   NO,   OK,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("GET", "/messages/{message_id}/transcript", "video viewed"):
                                                          (OK,   OK,   OK,   NO,   OK,   NO,   NO,   NO,   ANON),
    # captions of a recording whose transcript was timed (shuttle/web/media.py): the transcript's gate
    ("GET", "/messages/{message_id}/captions.vtt", "video awaiting review"):  # not approved: no caption text
                                                          (OK,   NO,   OK,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("GET", "/messages/{message_id}/captions.vtt", "video released"):  # not opened yet: nothing shown
                                                          (OK,   NO,   OK,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("GET", "/messages/{message_id}/captions.vtt", "video viewed"):
                                                          (OK,   OK,   OK,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("GET", "/messages/{message_id}/requests", "released"):
                                                          (NO,   OK,   NO,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/requests", "released"):
                                                          (NO,   OK,   NO,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/requests", "awaiting review"):
                                                          (NO,   NO,   NO,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("GET", "/cases/{case_id}/requests", "case"):         (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/requests/{request_id}/handle", "open request"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/requests/{request_id}/handle", "handled request"):
                                                          (NO,   NO,   NO,   NO,   NOW,  NO,   NO,   NO,   ANON),
    # receiving with support (shuttle/web/supported_api.py): the recipient side asks to open a released
    # message with its facilitator, or withdraws that; the case's facilitators arrange a time and start or
    # end the session ("supported message": a released message with such a request waiting)
    ("GET", "/messages/{message_id}/supported-opening", "released"):
                                                          (NO,   OK,   NO,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/supported-opening", "released"):
                                                          (NO,   OK,   NO,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/supported-opening", "viewed"):  # opened already
                                                          (NO,   NOW,  NO,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/supported-opening/withdraw", "supported message"):
                                                          (NO,   OK,   NO,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/messages/{message_id}/supported-opening/withdraw", "released"):  # nothing to withdraw
                                                          (NO,   NOW,  NO,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("GET", "/cases/{case_id}/supported-openings", "case"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/supported-openings/{request_id}/arrange", "supported request"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/supported-openings/{request_id}/session", "supported request"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/supported-openings/{request_id}/session/end", "supported request"):  # no session running
                                                          (NO,   NO,   NO,   NO,   NOW,  NO,   NO,   NO,   ANON),
    ("POST", "/supported-openings/{request_id}/session/end", "supported session"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    # a facilitator's casework (shuttle/web/casework_api.py): preparation, private notes and letters
    # entered on a participant's behalf are the case's facilitators' only; a recipient shares an opened
    # message with a supporter of its side; the supporter sees only what is shared ("reply" targets:
    # the responsible side's letter delivered to the harmed side, where the supporter is)
    ("GET", "/cases/{case_id}/participants/{participant_id}/preparation", "case"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/participants/{participant_id}/meetings", "case"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("PUT", "/cases/{case_id}/participants/{participant_id}/wishes", "case"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/participants/{participant_id}/letters", "case"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/participants/{participant_id}/photos", "case"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("GET", "/cases/{case_id}/notes", "case"):            (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/notes", "case"):           (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("GET", "/messages/{message_id}/supporters", "reply viewed"):
                                                          (OK,   NO,   OK,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("PUT", "/messages/{message_id}/supporters/{supporter_id}", "reply viewed"):
                                                          (OK,   NO,   OK,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("PUT", "/messages/{message_id}/supporters/{supporter_id}", "reply released"):  # not opened by them yet
                                                          (NOW,  NO,   NOW,  NO,   NO,   NO,   NO,   NO,   ANON),
    ("GET", "/shared", "-"):                              (OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   ANON),
    ("GET", "/shared/{message_id}", "reply viewed"):      (NO,   NO,   NO,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("GET", "/shared/{message_id}", "shared reply"):      (NO,   NO,   NO,   OK,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/shared/{message_id}/open", "shared reply"):
                                                          (NO,   NO,   NO,   OK,   NO,   NO,   NO,   NO,   ANON),
    # referrals (shuttle/web/referral_api.py): anyone may send one; the rest is the coordinator's
    ("POST", "/referrals", "-"):                          (OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK),
    ("GET", "/referrals", "-"):                           (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    ("GET", "/referrals/{referral_id}", "referral"):      (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    ("POST", "/referrals/{referral_id}/contact-attempts", "referral"):
                                                          (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    ("POST", "/referrals/{referral_id}/decline", "referral"):
                                                          (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    ("POST", "/referrals/{referral_id}/decline", "declined referral"):
                                                          (NO,   NO,   NO,   NO,   NO,   NO,   NO,   NOW,  ANON),
    ("POST", "/referrals/{referral_id}/accept", "referral"):
                                                          (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    # the coordinator (shuttle/web/coordinator_api.py): staff, case staffing, organisations; a "staffed
    # case" has two facilitators (the world's facilitator is {account_id}), a "solo case" one; {joining}
    # is a facilitator on no case. A facilitator of a case records their own conflict of interest.
    ("GET", "/coordinator/staff", "-"):                   (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    ("POST", "/coordinator/staff", "-"):                  (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    ("POST", "/coordinator/staff/{account_id}/deactivate", "staff member"):
                                                          (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    ("POST", "/coordinator/staff/{account_id}/reactivate", "deactivated staff member"):
                                                          (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    ("POST", "/coordinator/staff/{account_id}/reset-second-factor", "staff member"):
                                                          (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    ("POST", "/coordinator/staff/{account_id}/enrolment-link", "pending staff member"):
                                                          (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    ("POST", "/coordinator/staff/{account_id}/enrolment-link", "staff member"):  # enrolled already
                                                          (NO,   NO,   NO,   NO,   NO,   NO,   NO,   NOW,  ANON),
    ("GET", "/coordinator/cases", "-"):                   (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    ("GET", "/coordinator/cases/{case_id}", "case"):      (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    ("POST", "/coordinator/cases/{case_id}/reassign", "staffed case"):
                                                          (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    ("POST", "/coordinator/cases/{case_id}/facilitators", "solo case"):
                                                          (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    ("DELETE", "/coordinator/cases/{case_id}/facilitators/{account_id}", "staffed case"):
                                                          (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    ("POST", "/coordinator/cases/{case_id}/conflicts", "staffed case"):
                                                          (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    ("POST", "/cases/{case_id}/conflict", "staffed case"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    # the certified case record (shuttle/web/export_api.py): the case's facilitators and the coordinator
    ("POST", "/cases/{case_id}/export", "case"):          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   OK,   ANON),
    ("GET", "/coordinator/export-key", "-"):              (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    # the service's figures (shuttle/web/figures_api.py): the coordinator only
    ("GET", "/coordinator/figures", "-"):                 (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    # retention (shuttle/web/retention_api.py): what is due to be destroyed and legal holds; the coordinator
    # only ("held case": a staffed case the coordinator placed on legal hold)
    ("GET", "/coordinator/retention", "-"):               (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    ("POST", "/cases/{case_id}/legal-hold", "staffed case"):
                                                          (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    ("POST", "/cases/{case_id}/legal-hold", "held case"):  # held already
                                                          (NO,   NO,   NO,   NO,   NO,   NO,   NO,   NOW,  ANON),
    ("DELETE", "/cases/{case_id}/legal-hold", "held case"):
                                                          (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    ("DELETE", "/cases/{case_id}/legal-hold", "staffed case"):  # not on legal hold
                                                          (NO,   NO,   NO,   NO,   NO,   NO,   NO,   NOW,  ANON),
    ("GET", "/coordinator/organisations", "-"):           (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    ("POST", "/coordinator/organisations", "-"):          (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    ("PATCH", "/coordinator/organisations/{organisation_id}", "organisation"):
                                                          (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    ("POST", "/coordinator/organisations/{organisation_id}/deactivate", "organisation"):
                                                          (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    ("POST", "/coordinator/organisations/{organisation_id}/reactivate", "deactivated organisation"):
                                                          (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    # the end of a case (shuttle/web/agreement_api.py): the facilitators draft the agreement, track its
    # items and close the case with a reason; each side's principal or proxy answers the agreement; every
    # participant answers the questionnaire once the case is closing ("agreement case": a case of the same
    # people with a drafted agreement; "agreed agreement": one both sides agreed to, with its first item;
    # "closable case": an open case of the same people; "closing case": one closed with a reason)
    ("GET", "/cases/{case_id}/agreement", "case"):        (OK,   OK,   OK,   OK,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/agreement/versions", "case"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/agreement/answers", "agreement case"):
                                                          (OK,   OK,   OK,   NO,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/agreement/items/{item_id}/updates", "agreed agreement"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/closure", "closable case"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/closure/finish", "closing case"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/feedback", "closing case"):
                                                          (OK,   OK,   OK,   OK,   NO,   NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/feedback", "case"):        (NOW,  NOW,  NOW,  NOW,  NO,   NO,   NO,   NO,   ANON),
    # aftercare: check-ins are the case's facilitators'; the directory is the coordinator's, which any
    # facilitator reads ("checkin": the first check-in of a closing case; "support service": a directory
    # entry, with the world's case and Jessica to share it with)
    ("GET", "/cases/{case_id}/checkins", "case"):         (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("POST", "/cases/{case_id}/checkins/{checkin_id}", "checkin"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
    ("GET", "/support-services", "-"):                    (NO,   NO,   NO,   NO,   OK,   OK,   NO,   OK,   ANON),
    ("POST", "/support-services", "-"):                   (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    ("PATCH", "/support-services/{service_id}", "support service"):
                                                          (NO,   NO,   NO,   NO,   NO,   NO,   NO,   OK,   ANON),
    ("POST", "/cases/{case_id}/participants/{participant_id}/support", "support service"):
                                                          (NO,   NO,   NO,   NO,   OK,   NO,   NO,   NO,   ANON),
}

#: The body each request sends (None: no body). Actions not listed send {}.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PATCH", "/cases/{case_id}/settings"): {"label_harmed": "the person harmed"},
    ("POST", "/cases/{case_id}/status"): {"status": "open"},
    ("POST", "/cases/{case_id}/participants/{participant_id}/consents"): {"kind": "receive_messages", "granted": True},
    ("POST", "/cases/{case_id}/participants/{participant_id}/assessments"): {"outcome": "suitable"},
    ("POST", "/cases/{case_id}/participants"): {"name": "Dan Green", "side": "responsible", "role": "supporter"},
    ("POST", "/cases/{case_id}/participants/{participant_id}/deactivate"): {"reason": "Moved away."},
    ("POST", "/cases/{case_id}/proceedings"): {"ongoing": False, "reason": "No trial."},
    ("POST", "/cases/{case_id}/consents/withdraw"): {"kind": "receive_messages"},
    ("POST", "/cases/{case_id}/holding"): {"holding": False},
    ("POST", "/cases/{case_id}/withdraw"): {},
    ("POST", "/cases/{case_id}/messages"): {"text": "Dear Sam, hello."},
    ("PUT", "/messages/{message_id}/draft"): {"text": "Dear Sam, a second go."},
    ("POST", "/messages/{message_id}/open"): {},
    ("POST", "/messages/{message_id}/actions/request-changes"): {"note": "Please say it in your own words."},
    ("POST", "/messages/{message_id}/actions/edit"): {"text": "Dear Sam, shorter."},
    ("POST", "/messages/{message_id}/actions/edit-media"): {"edits": {"mutes": [{"start": 0.2, "end": 0.4}]}},
    ("POST", "/messages/{message_id}/actions/reject"): {"code": "other"},
    ("POST", "/messages/{message_id}/actions/recall"): {"reason": "Sent before the support session."},
    ("POST", "/messages/{message_id}/actions/incident"): {"note": "It named the school; called the family."},
    ("POST", "/messages/{message_id}/actions/schedule"): {"at": "2099-01-01T09:00:00+00:00"},
    ("POST", "/messages/{message_id}/requests"): {"kind": "hold", "note": "Not before the court date."},
    ("POST", "/requests/{request_id}/handle"): {"outcome": "done", "note": "I am keeping it for you."},
    ("POST", "/messages/{message_id}/supported-opening"): {"note": "With Fiona, please."},
    ("POST", "/supported-openings/{request_id}/arrange"): {"at": "2099-01-01T09:00:00+00:00"},
    ("POST", "/cases/{case_id}/participants/{participant_id}/meetings"): {
        "held_on": "2026-01-05", "how": "phone", "attended": "Jessica and Fiona", "notes": "Wants to wait."},
    ("PUT", "/cases/{case_id}/participants/{participant_id}/wishes"): {
        "questions": ["Why our house?"], "wants_reply": True, "wants_outcome_news": None},
    ("POST", "/cases/{case_id}/participants/{participant_id}/letters"): {"text": "Dear Sam, as I told Fiona."},
    ("POST", "/cases/{case_id}/notes"): {"text": "Jessica asked us not to ring on Mondays."},
    ("PUT", "/messages/{message_id}/supporters/{supporter_id}"): {"shared": True},
    ("PUT", "/me/notifications"): {"address": "someone@example.org", "wants": True},
    ("POST", "/referrals"): {"source": "self_harmed", "person_name": "Jessica", "offence": "Burglary", "court": "no",
                             "contact_email": "jessica@example.org"},
    ("POST", "/referrals/{referral_id}/contact-attempts"): {"method": "phone", "outcome": "reached"},
    ("POST", "/referrals/{referral_id}/decline"): {"reason": "not_eligible"},
    # the case's two facilitators (the service has more): filled in from the world (Targets.body)
    ("POST", "/referrals/{referral_id}/accept"): {"facilitators": ["{facilitator}", "{co_facilitator}"]},
    # "{name}" values are the row's ids (Targets.ids), filled in by _send
    ("POST", "/coordinator/staff"): {"username": "nina.reyes", "display_name": "Nina Reyes", "role": "facilitator"},
    ("POST", "/coordinator/cases/{case_id}/reassign"): {"leaving": "{account_id}", "joining": "{joining}",
                                                        "reason": "sickness"},
    ("POST", "/coordinator/cases/{case_id}/facilitators"): {"account_id": "{joining}"},
    ("POST", "/coordinator/cases/{case_id}/conflicts"): {"account_id": "{joining}"},
    ("POST", "/cases/{case_id}/export"): {"reason": "Court order 17."},
    ("POST", "/cases/{case_id}/legal-hold"): {"reason": "Court order 2033/17."},
    ("POST", "/coordinator/organisations"): {"name": "Northshire Police", "kind": "police"},
    ("PATCH", "/coordinator/organisations/{organisation_id}"): {"name": "Northshire Probation Service"},
    ("POST", "/cases/{case_id}/agreement/versions"): {"items": [
        {"what": "Sam repairs the fence", "owner": "responsible", "due_on": None, "check": "Fiona looks"}]},
    ("POST", "/cases/{case_id}/agreement/answers"): {"version": 1, "decision": "agree"},
    ("POST", "/cases/{case_id}/agreement/items/{item_id}/updates"): {"status": "done", "note": "Seen it."},
    ("POST", "/cases/{case_id}/closure"): {"reason": "completed"},
    ("POST", "/cases/{case_id}/closure/finish"): {},
    ("POST", "/cases/{case_id}/feedback"): {"satisfied": 4, "recommend": True},
    ("POST", "/cases/{case_id}/checkins/{checkin_id}"): {"wellbeing": "Calmer.", "got_what_wanted": "yes"},
    ("POST", "/support-services"): {"name": "Victim Support", "helps_with": "Support", "how_to_reach": "0808"},
    ("PATCH", "/support-services/{service_id}"): {"active": False},
    ("POST", "/cases/{case_id}/participants/{participant_id}/support"): {"service_id": "{service_id}"},
}

TUS = {"Tus-Resumable": "1.0.0"}
#: The routes that take headers and raw bytes instead of JSON: (headers, content). A header
#: value may name ids as a path does; Upload-Metadata values are sent base64 as tus wants.
RAW: dict[tuple[str, str], tuple[dict[str, str], bytes | None]] = {
    ("OPTIONS", "/uploads"): (TUS, None),
    ("POST", "/uploads"): (TUS | {"Upload-Length": "5", "Upload-Metadata": "message_id {message_id}"}, None),
    ("HEAD", "/uploads/{upload_id}"): (TUS, None),
    ("PATCH", "/uploads/{upload_id}"): (TUS | {"Content-Type": "application/offset+octet-stream",
                                               "Upload-Offset": "0"}, b"\xff\xd8\xff\xe0\x00"),  # a JPEG's start
    ("DELETE", "/uploads/{upload_id}"): (TUS, None),
    ("PUT", "/messages/{message_id}/media"): ({"Content-Type": "application/octet-stream"},
                                              b"\x00\x00\x00\x18ftypisom" + b"\x00" * 12),  # an MP4's start
    ("GET", "/messages/{message_id}/media"): ({"Range": "bytes=0-"}, None),  # as a <video> asks
    ("POST", "/cases/{case_id}/participants/{participant_id}/consent-scans"): (
        {"Content-Type": "application/pdf"}, b"%PDF-1.4 a signed consent to take part"),
    ("POST", "/cases/{case_id}/participants/{participant_id}/photos"): ({"Content-Type": "image/jpeg"},
                                                                       b"\xff\xd8\xff\xe0" + b"\x00" * 60),
}
SAFE = {"GET", "HEAD", "OPTIONS"}


def _api_routes() -> set[tuple[str, str]]:
    """Every (method, path) of the API, message actions expanded one by one."""
    found = set()
    for route in api.ROUTES:
        methods = route.methods or set()
        for method in sorted(methods - {"HEAD"} if "GET" in methods else methods):  # Starlette adds HEAD to GET
            if route.path == ACTION_PATH:
                found |= {(method, ACTION_PATH.replace("{action}", a)) for a in api.ACTIONS}
            else:
                found.add((method, route.path))
    return found - SIGN_IN_ROUTES - UNCHECKED_ROUTES


def test_every_api_route_and_action_has_an_expectation() -> None:
    routes = _api_routes()
    covered = {(method, path) for method, path, _ in EXPECTED}
    assert routes - covered == set(), "routes without a row in EXPECTED: add one"
    assert covered - routes == set(), "rows in EXPECTED for routes that no longer exist"
    assert all(len(row) == len(ROLES) for row in EXPECTED.values())


# --- the world the requests are made in ---------------------------------------------------------


@dataclass
class Targets:
    """The cases and messages the table's targets name.

    A new message is made for every unsafe request expected to succeed, so each success
    starts from the state its row names; refused requests change nothing and share one.
    """

    world: World
    case_id: str
    people: People
    spare_case_id: str
    quiet_case_id: str
    shared: dict[str, dict[str, str]] = field(default_factory=dict)

    def _as(self, use_case: Callable[..., Any], actor: Actor, *args: Any, **kwargs: Any) -> Any:
        return self.world.do(use_case, actor, *args, **kwargs)

    def draft(self) -> str:
        message = self._as(authoring.start_draft, self.people.harmed, self.case_id, "Dear Sam, I have waited.")
        return str(message.id)

    def awaiting_review(self) -> str:
        message_id = self.draft()
        self._as(authoring.submit, self.people.harmed, message_id)
        self.world.run_jobs()
        return message_id

    def in_review(self) -> str:
        message_id = self.awaiting_review()
        self._as(review.claim, self.people.facilitator, message_id)
        return message_id

    def awaiting_author(self) -> str:
        message_id = self.in_review()
        self._as(review.propose_edit, self.people.facilitator, message_id, text="Dear Sam, I waited.")
        self.world.run_jobs()
        return message_id

    def released(self) -> str:
        message_id = self.in_review()
        self._as(review.approve, self.people.facilitator, message_id)
        return message_id

    def viewed(self) -> str:
        message_id = self.released()
        self._as(delivery.open_message, self.people.responsible, message_id)
        return message_id

    def video_draft(self) -> str:
        message = self._as(authoring.start_media, self.people.harmed, self.case_id, "video")
        return str(message.id)

    def _upload(self, message_id: str, *, finished: bool) -> str:
        """An upload of five bytes by the author; finished, it is the draft's content."""
        upload = self._as(uploads.create, self.people.harmed, message_id, 5)
        if finished:
            self._as(uploads.record_part, self.people.harmed, upload.id, 0, self.world.svc.store.put_bytes(b"hello"))
        return str(upload.id)

    def open_upload(self) -> dict[str, str]:
        return {"upload_id": self._upload(self.video_draft(), finished=False)}

    def finished_upload(self) -> dict[str, str]:
        return {"upload_id": self._upload(self.video_draft(), finished=True)}

    def _processed_video(self) -> tuple[str, str]:
        """A video sent, with the media worker's reporting use cases standing in for the worker:
        (message id, upload id). Awaiting review, like a processed letter."""
        message_id = self.video_draft()
        upload_id = self._upload(message_id, finished=True)
        self._as(authoring.submit, self.people.harmed, message_id)
        svc = self.world.svc
        with svc.db.uow() as uow:
            message = uow.session.get(Message, message_id)
            assert message is not None and message.current_version_id is not None
            wanted = processing.begin(uow.session, svc, message.current_version_id)
            assert wanted is not None
            media = blobs.store_bytes(uow.session, svc.store, b"played" * 100)
            poster = blobs.store_bytes(uow.session, svc.store, b"poster")
            report = blobs.store_text(uow.session, svc.store, '{"flags": []}')
            timed = blobs.store_text(uow.session, svc.store, "WEBVTT\n\n00:00.000 --> 00:01.000\nHello.\n")
            uow.session.flush()
            processing.finish(uow.session, svc, wanted.version_id, processed_blob_id=media.id,
                              report_blob_id=report.id, flag_count=0,
                              media=processing.MediaFacts("video/mp4", 1000, poster.id), captions_blob_id=timed.id)
            uow.commit()
        return message_id, upload_id

    def sent_upload(self) -> dict[str, str]:
        return {"upload_id": self._processed_video()[1]}

    def video_awaiting_review(self) -> str:
        return self._processed_video()[0]

    def video_in_review(self) -> str:
        message_id = self.video_awaiting_review()
        self._as(review.claim, self.people.facilitator, message_id)
        return message_id

    def video_released(self) -> str:
        message_id = self.video_awaiting_review()
        self._as(review.claim, self.people.facilitator, message_id)
        self._as(review.approve, self.people.facilitator, message_id)
        return message_id

    def video_viewed(self) -> str:
        message_id = self.video_released()
        self._as(delivery.open_message, self.people.responsible, message_id)
        return message_id

    def open_request(self) -> dict[str, str]:
        """The recipient asked the facilitators to hold a released message."""
        message_id = self.released()
        made = self._as(recipient_requests.request, self.people.responsible, message_id, "hold", "")
        return {"request_id": str(made.id)}

    def handled_request(self) -> dict[str, str]:
        made = self.open_request()
        self._as(recipient_requests.handle, self.people.facilitator, made["request_id"], "done", "")
        return made

    def supported_message(self) -> str:
        """A released message its recipient asked to open with the facilitator."""
        message_id = self.released()
        self._as(supported_opening.ask, self.people.responsible, message_id, "")
        return message_id

    def supported_request(self) -> dict[str, str]:
        message_id = self.released()
        made = self._as(supported_opening.ask, self.people.responsible, message_id, "")
        return {"request_id": str(made.id)}

    def supported_session(self) -> dict[str, str]:
        made = self.supported_request()
        self._as(supported_opening.start_session, self.people.facilitator, made["request_id"])
        return made

    def referral(self) -> dict[str, str]:
        """A referral sent through the public form's use case, waiting for first contact."""
        answers = {"source": "self_harmed", "person_name": "Jessica", "offence": "Burglary", "court": "no",
                   "contact_email": "jessica@example.org"}
        made = self.world.do(referrals.submit, answers, client="192.0.2.10")
        return {"referral_id": str(made.id)}

    def declined_referral(self) -> dict[str, str]:
        made = self.referral()
        self._as(referrals.decline, self.people.coordinator, made["referral_id"], reason="not_eligible")
        return made

    def body(self, body: Any) -> Any:
        """A row's body with the world's account ids in place of {facilitator} and {co_facilitator}."""
        if not isinstance(body, dict) or "facilitators" not in body:
            return body
        named = {"{facilitator}": self.people.facilitator.account_id,
                 "{co_facilitator}": self.people.co_facilitator.account_id}
        return {**body, "facilitators": [named.get(f, f) for f in body["facilitators"]]}

    def _reply(self, *, opened: bool) -> dict[str, str]:
        """The responsible side's letter, delivered to the harmed side (opened by its principal, or
        not yet), with the id of the harmed side's supporter."""
        reply = self._as(authoring.start_draft, self.people.responsible, self.case_id, "Dear Jessica, thank you.")
        self._as(authoring.submit, self.people.responsible, reply.id)
        self.world.run_jobs()
        self._as(review.claim, self.people.facilitator, reply.id)
        self._as(review.approve, self.people.facilitator, reply.id)
        if opened:
            self._as(delivery.open_message, self.people.harmed, reply.id)
        return {"message_id": str(reply.id),
                "supporter_id": self.people.participant_ids[self.people.supporter.account_id or ""]}

    def reply_viewed(self) -> dict[str, str]:
        return self._reply(opened=True)

    def reply_released(self) -> dict[str, str]:
        return self._reply(opened=False)

    def shared_reply(self) -> dict[str, str]:
        made = self._reply(opened=True)
        self._as(sharing.share, self.people.harmed, made["message_id"], made["supporter_id"])
        return made

    def _facilitator(self) -> str:
        """A new facilitator account, on no case."""
        self.made = getattr(self, "made", 0) + 1
        return str(self.world.account(f"nadia{self.made}", "facilitator").account_id)

    def staff_member(self) -> dict[str, str]:
        return {"account_id": self._facilitator()}

    def deactivated_staff_member(self) -> dict[str, str]:
        made = self.staff_member()
        self._as(enrolment.deactivate_staff, self.people.coordinator, made["account_id"])
        return made

    def pending_staff_member(self) -> dict[str, str]:
        self.made = getattr(self, "made", 0) + 1
        issued = self._as(enrolment.create_staff, self.people.coordinator, username=f"pending{self.made}",
                          display_name="Pending", role="facilitator")
        return {"account_id": issued.account_id}

    def _staffed(self, facilitators: list[str | None]) -> dict[str, str]:
        self.made = getattr(self, "made", 0) + 1
        with self.world.svc.db.uow() as uow:
            case = cases.create_case(uow.session, self.people.facilitator, reference=f"ST-2026-{self.made:04d}",
                                     facilitators=facilitators, now=self.world.svc.now())
            uow.commit()
            case_id = case.id
        return {"case_id": case_id, "account_id": self.people.facilitator.account_id or "",
                "joining": self._facilitator()}

    def staffed_case(self) -> dict[str, str]:
        return self._staffed([self.people.facilitator.account_id, self.people.co_facilitator.account_id])

    def solo_case(self) -> dict[str, str]:
        return self._staffed([self.people.facilitator.account_id])

    def held_case(self) -> dict[str, str]:
        made = self.staffed_case()
        with self.world.svc.db.uow() as uow:
            reference = uow.session.get(Case, made["case_id"]).reference  # type: ignore[union-attr]
        self._as(retention_policy.place_hold, self.people.coordinator, reference, "Court order 2033/17.")
        return made

    def organisation(self) -> dict[str, str]:
        self.made = getattr(self, "made", 0) + 1
        made = self._as(organisations.add, self.people.coordinator, name=f"Partner {self.made}", kind="other")
        return {"organisation_id": made.id}

    def deactivated_organisation(self) -> dict[str, str]:
        made = self.organisation()
        self._as(organisations.set_active, self.people.coordinator, made["organisation_id"], False)
        return made

    def closable_case(self) -> dict[str, str]:
        """Another open case of the same people, ready for the exchange (closing it changes nothing in
        "case"). Its own reference series: World.case numbers as accepting a referral does."""
        self.made = getattr(self, "made", 0) + 1
        staff = self.people.facilitator
        with self.world.svc.db.uow() as uow:
            case_id = cases.create_case(uow.session, staff, reference=f"AG-2026-{self.made:04d}",
                                        facilitators=[staff.account_id or ""], now=self.world.svc.now()).id
            uow.commit()
        members = (("harmed", self.people.harmed, "principal", ""), ("responsible", self.people.responsible,
                   "principal", ""), ("harmed", self.people.harmed_proxy, "proxy", "mother of Jessica"),
                   ("harmed", self.people.supporter, "supporter", ""))
        for side, actor, role, acting_for in members:
            added = self._as(cases.add_participant, staff, case_id, account_id=actor.account_id, side=side,
                             role=role, acting_for=acting_for)
            for kind in ("take_part", "receive_messages"):
                self._as(cases.record_consent, staff, case_id, added.id, kind=kind, granted=True)
            self._as(cases.record_assessment, staff, case_id, added.id, outcome="suitable")
        self._as(cases.set_status, staff, case_id, "open")
        return {"case_id": case_id}

    def agreement_case(self) -> dict[str, str]:
        made = self.closable_case()
        self._as(agreement_service.draft_version, self.people.facilitator, made["case_id"],
                 [AgreementItem("Sam repairs the fence", "responsible", None, "Fiona looks")])
        return made

    def agreed_agreement(self) -> dict[str, str]:
        made = self.agreement_case()
        for side in (self.people.harmed, self.people.responsible):
            self._as(agreement_service.answer, side, made["case_id"], version=1, decision="agree")
        page = self._as(agreement_views.staff_page, self.people.facilitator, made["case_id"])
        return {**made, "item_id": page.versions[0].items[0].id}

    def checkin(self) -> dict[str, str]:
        made = self.closing_case()
        found = self._as(aftercare.checkins, self.people.facilitator, made["case_id"])
        return {**made, "checkin_id": found[0].id}

    def support_service(self) -> dict[str, str]:
        self.made = getattr(self, "made", 0) + 1
        entry = self._as(aftercare.add_support_service, self.people.coordinator, name=f"Support {self.made}",
                         helps_with="Listening", how_to_reach="0808 000")
        return {"service_id": entry.id, "case_id": self.case_id,
                "participant_id": self.people.participant_ids[self.people.harmed.account_id or ""]}

    def closing_case(self) -> dict[str, str]:
        made = self.closable_case()
        self._as(agreement_service.close_case, self.people.facilitator, made["case_id"], reason="completed")
        return made

    def spare_participant(self) -> dict[str, str]:
        """A supporter added to the case for this request (deactivating them changes nothing else)."""
        added = self._as(participation.add_person, self.people.facilitator, self.case_id, display_name="Spare",
                         side="harmed", role="supporter")
        return {"case_id": self.case_id, "participant_id": str(added.id)}

    def ids(self, target: str, *, fresh: bool) -> dict[str, str]:
        """Path parameters for a target; message targets also give the current version's id."""
        if target in {"case", "-", "own session"}:
            return {"case_id": self.case_id,
                    "participant_id": self.people.participant_ids[self.people.harmed.account_id or ""]}
        if target == "spare case":
            return {"case_id": self.spare_case_id}
        if target == "quiet case":
            return {"case_id": self.quiet_case_id}
        kind = target.removeprefix("fresh ")
        if not fresh and kind in self.shared:
            return self.shared[kind]
        made = getattr(self, kind.replace(" ", "_"))()
        if isinstance(made, str):
            made = self._message_ids(made)
        if not fresh:
            self.shared[kind] = made
        return made

    def _message_ids(self, message_id: str) -> dict[str, str]:
        with self.world.svc.db.uow() as uow:
            message = uow.session.get(Message, message_id)
            assert message is not None
            made = {"message_id": message_id}
            if message.current_version_id:  # a draft has none yet
                made["version_id"] = message.current_version_id
        return made


def _actors(p: People, foreign: People) -> dict[str, Actor | None]:
    return {"author": p.harmed, "other_side": p.responsible, "proxy": p.harmed_proxy, "supporter": p.supporter,
            "facilitator": p.facilitator, "foreign_facilitator": foreign.facilitator,
            "foreign_participant": foreign.harmed, "coordinator": p.coordinator, "anonymous": None}


def _expected_status(expected: Any, status: int) -> bool:
    return 200 <= status < 300 if expected == OK else status == expected


def test_permission_matrix(svc: Services) -> None:
    world = World(svc)
    case_id, p = world.case()
    foreign_case_id, foreign = world.case()  # the foreign facilitator and participant have a case of their own
    spare_case_id, _ = world.case(people=p)
    quiet_case_id, _ = world.case(people=p)  # nothing sent yet: the responsible side may not begin
    targets = Targets(world, case_id, p, spare_case_id, quiet_case_id)
    targets.ids("released", fresh=False)  # the harmed side has sent: now the responsible side may write too
    app = build_app(svc, check_schema=False)
    actors = _actors(p, foreign)
    clients: dict[str, TestClient] = {role: _client(world, app, actor) for role, actor in actors.items()}

    failures = []
    for (method, path, target), row in EXPECTED.items():
        body = targets.body(BODIES.get((method, path), {} if method != "GET" and "/actions/" in path else None))
        for role, expected in zip(ROLES, row, strict=True):
            client = clients[role]
            if target == "own session":
                client = _client(world, app, actors[role])
            ids = targets.ids(target, fresh=expected == OK and method not in SAFE)
            answer = _send(client, method, path, ids, body)
            if not _expected_status(expected, answer.status_code):
                failures.append(f"{method} {path} [{target}] as {role}: expected {expected}, "
                                f"got {answer.status_code} {answer.text[:120]}")
                continue
            failures += _compare_wrong_ids(client, method, path, ids, body, answer, role, target)
    assert failures == [], "\n".join(failures)


def _client(world: World, app: Any, actor: Actor | None) -> TestClient:
    return web_client(app) if actor is None else world.sign_in(app, actor)


def _send(client: TestClient, method: str, path: str, ids: dict[str, str], body: Any) -> Any:
    """The request a row makes, its ids filled into the path (and, for tus, the headers)."""
    url = "/api/v1" + path.format(**ids)
    if isinstance(body, dict):  # "{name}" values name the row's ids
        body = {k: ids.get(v[1:-1], v) if isinstance(v, str) and v[:1] + v[-1:] == "{}" else v
                for k, v in body.items()}
    if (method, path) not in RAW:
        return client.request(method, url, json=body)
    headers, content = RAW[(method, path)]
    encoded = {name: base64.b64encode(value.encode()).decode() for name, value in ids.items()}
    filled = {name: value.format(**(encoded if name == "Upload-Metadata" else ids)) for name, value in headers.items()}
    return client.request(method, url, headers=filled, content=content)


def _ids_sent(method: str, path: str, ids: dict[str, str]) -> list[str]:
    headers = RAW.get((method, path), ({}, None))[0]
    return [name for name in ids if "{" + name + "}" in path + "".join(headers.values())]


def _said(method: str, answer: Any) -> Any:
    """What an answer says besides its status: its JSON body; a HEAD answer has none, only a length."""
    return answer.headers.get("content-length") if method == "HEAD" else answer.json()


def _compare_wrong_ids(client: TestClient, method: str, path: str, ids: dict[str, str], body: Any,
                       answer: Any, role: str, target: str) -> list[str]:
    """Each id replaced by a random one answers like a foreign id: 401 as before, else 404 and the same body."""
    failures = []
    not_found = NOT_FOUND_LENGTH if method == "HEAD" else NOT_FOUND
    for name in _ids_sent(method, path, ids):
        wrong = _send(client, method, path, {**ids, name: uuid.uuid4().hex}, body)
        expected = (answer.status_code, _said(method, answer)) if answer.status_code in (401, 404) else (404, not_found)
        if (wrong.status_code, _said(method, wrong)) != expected:
            failures.append(f"{method} {path} [{target}] as {role} with a random {name}: "
                            f"{wrong.status_code} {wrong.text[:120]}, but a foreign id gives {expected}")
        if answer.status_code == 404 and _said(method, answer) != not_found:
            failures.append(f"{method} {path} [{target}] as {role}: 404 body {answer.text[:120]}")
    return failures


def test_foreign_ids_inside_ones_own_case_answer_like_missing_ones(sqlite_svc: Services) -> None:
    """A facilitator's own case with another case's participant, or a message with another message's version
    (also as the media's ?version=)."""
    world = World(sqlite_svc)
    case_id, p = world.case()
    foreign_case_id, foreign = world.case()
    app = build_app(sqlite_svc, check_schema=False)
    mine = Targets(world, case_id, p, case_id, case_id).ids("awaiting review", fresh=True)
    theirs = Targets(world, foreign_case_id, foreign, foreign_case_id, foreign_case_id).ids("awaiting review",
                                                                                           fresh=True)
    my_video = Targets(world, case_id, p, case_id, case_id).ids("video awaiting review", fresh=True)
    their_video = Targets(world, foreign_case_id, foreign, foreign_case_id, foreign_case_id).ids(
        "video awaiting review", fresh=True)
    facilitator = world.sign_in(app, p.facilitator)
    foreign_participant = foreign.participant_ids[foreign.harmed.account_id or ""]
    requests = [
        ("GET", f"/messages/{mine['message_id']}/versions/{theirs['version_id']}", None),
        ("GET", f"/messages/{my_video['message_id']}/media?version={their_video['version_id']}", None),
        ("GET", f"/messages/{my_video['message_id']}/poster?version={their_video['version_id']}", None),
        ("POST", f"/cases/{case_id}/participants/{foreign_participant}/consents",
         {"kind": "take_part", "granted": False}),
        ("POST", f"/cases/{case_id}/participants/{foreign_participant}/assessments", {"outcome": "not_suitable"}),
        ("POST", f"/cases/{case_id}/participants/{foreign_participant}/invitation", None),
        ("GET", f"/messages/{theirs['message_id']}", None),
    ]
    for method, path, body in requests:
        answer = facilitator.request(method, "/api/v1" + path, json=body)
        assert (answer.status_code, answer.json()) == (404, NOT_FOUND), path
    # The foreign participant is untouched.
    foreign_facilitator = world.sign_in(app, foreign.facilitator)
    view = foreign_facilitator.get(f"/api/v1/cases/{foreign_case_id}").json()
    row = next(x for x in view["participants"] if x["id"] == foreign_participant)
    assert row["consent_take_part"] and row["assessment"] == "suitable"


def test_lists_show_each_role_only_its_room(sqlite_svc: Services) -> None:
    world = World(sqlite_svc)
    case_id, p = world.case()
    _, foreign = world.case()
    targets = Targets(world, case_id, p, case_id, case_id)
    waiting = targets.ids("awaiting review", fresh=True)["message_id"]
    released = targets.ids("released", fresh=True)["message_id"]
    app = build_app(sqlite_svc, check_schema=False)

    def listed(actor: Actor, path: str) -> list[str]:
        answer = world.sign_in(app, actor).get("/api/v1" + path)
        assert answer.status_code == 200, answer.text
        return [m["id"] for m in answer.json()]

    assert listed(p.facilitator, "/review-queue") == [waiting]  # the released one needs nothing more
    for actor in (p.harmed, p.responsible, p.supporter, p.coordinator, foreign.facilitator):
        assert listed(actor, "/review-queue") == []
    assert set(listed(p.harmed, f"/cases/{case_id}/messages")) == {waiting, released}
    assert set(listed(p.harmed_proxy, f"/cases/{case_id}/messages")) == {waiting, released}
    assert listed(p.responsible, f"/cases/{case_id}/messages") == [released]
    assert listed(p.supporter, f"/cases/{case_id}/messages") == []
    assert listed(p.coordinator, "/cases") == []
    assert case_id not in listed(foreign.harmed, "/cases") and case_id not in listed(foreign.facilitator, "/cases")
    me = world.sign_in(app, p.coordinator).get("/api/v1/me").json()
    assert me["role"] == "coordinator" and me["cases"] == []


@pytest.mark.parametrize("role", ["supporter", "coordinator"])
def test_roles_without_messages_cannot_read_content(sqlite_svc: Services, role: str) -> None:
    world = World(sqlite_svc)
    case_id, p = world.case()
    targets = Targets(world, case_id, p, case_id, case_id)
    released = targets.ids("released", fresh=True)
    client = world.sign_in(build_app(sqlite_svc, check_schema=False), getattr(p, role))
    for method, path in [("GET", "/messages/{message_id}"), ("POST", "/messages/{message_id}/open"),
                         ("GET", "/messages/{message_id}/versions/{version_id}")]:
        answer = client.request(method, "/api/v1" + path.format(**released), json={} if method == "POST" else None)
        assert (answer.status_code, answer.json()) == (404, NOT_FOUND), path
