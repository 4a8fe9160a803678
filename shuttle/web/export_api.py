"""API routes of the certified case record (issue 11): POST a reason, get the signed zip; and the
service's public signing key, for the coordinator to publish.

A facilitator of the case or the coordinator exports; anyone else gets the 404 of a missing case. The
reason is required (400 naming it); the export is audited with it and the manifest's SHA-256.
"""

from __future__ import annotations

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shuttle.exports import record, signing
from shuttle.web.contract import Answer, Body, answer, read
from shuttle.web.http import run
from shuttle.web.pages.exports import zip_answer


class ExportReason(Body):
    reason: str = Field(default="", description="Why the record is exported (required; up to 500 characters; "
                                                "kept in the audit log and in the record)")


class PublicSigningKey(Answer):
    made: bool = Field(description="False until the first export (or the coordinator's page) makes the key")
    algorithm: str
    fingerprint: str | None = Field(description="SHA256: and 64 hex digits of the raw public key")
    pem: str | None = Field(description="The public key, SubjectPublicKeyInfo PEM")


async def export_case(request: Request) -> Response:
    body = await read(request, ExportReason)
    done = await run(request, record.export_case, request.path_params["case_id"], body.reason)
    return zip_answer(done)


async def export_key(request: Request) -> Response:
    key = await run(request, signing.public_key_page)
    return answer(PublicSigningKey, {"made": key is not None, "algorithm": "Ed25519",
                                     "fingerprint": key.fingerprint if key else None, "pem": key.pem if key else None})


ROUTES = [
    Route("/cases/{case_id}/export", export_case, methods=["POST"]),
    Route("/coordinator/export-key", export_key),
]
