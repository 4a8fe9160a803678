"""API route of the certified case record (issue 11): POST a reason, get the signed zip.

A facilitator of the case or the coordinator; anyone else gets the 404 of a missing case. The reason
is required (400 naming it); the export is audited with it and the manifest's SHA-256.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shuttle.exports import record
from shuttle.web.http import field, read_json, run
from shuttle.web.pages.exports import zip_answer


async def export_case(request: Request) -> Response:
    data = await read_json(request)
    reason = field(data, "reason", str, default="", required=False)
    done = await run(request, record.export_case, request.path_params["case_id"], reason)
    return zip_answer(done)


ROUTES = [Route("/cases/{case_id}/export", export_case, methods=["POST"])]
