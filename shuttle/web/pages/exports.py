"""Exporting a case's certified record from the pages (issue 11), and the coordinator's page that
publishes the service's public signing key.

A facilitator exports from their case page (/staff/cases/{id}/export), the coordinator from the case
list (/coordinator/cases/{id}/export): a form asks why (required: shown again, naming the field, when
empty); the answer is the zip itself. Anyone else gets the same 404 as a missing case.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shuttle.errors import BadInput, NotFound
from shuttle.exports import record, signing
from shuttle.web.http import read_form, run
from shuttle.web.pages.common import go, render, signed_in

#: Which role each address is for: the form is drawn in that role's layout.
AREAS = {"staff": ("facilitator", "exports/staff_form.html"),
         "coordinator": ("coordinator", "exports/coordinator_form.html")}


def zip_answer(done: record.Export) -> Response:
    """The record as a download; never cached (it holds the case's words)."""
    return Response(done.data, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{done.filename}"',
        "Cache-Control": "no-store",
        "X-Manifest-SHA256": done.manifest_sha256,
    })


async def export_page(request: Request) -> Response:
    principal = await signed_in(request)
    role, template = AREAS[request.url.path.split("/")[1]]
    if principal.role != role:
        raise NotFound()
    case_id = request.path_params["case_id"]
    reason, error, status = "", "", 200
    if request.method == "POST":
        form = await read_form(request)
        reason = form.get("reason", "")
        try:
            done = await run(request, record.export_case, case_id, reason, csrf=form.get("csrf_token"))
            return zip_answer(done)
        except BadInput as exc:  # the form again, naming the field
            error, status = exc.message, exc.status
    about = await run(request, record.export_form, case_id, csrf=principal.csrf_token)
    return render(request, template, status=status, principal=principal, about=about, reason=reason,
                  error=error, section="cases")


async def export_key_page(request: Request) -> Response:
    """The service's public key and fingerprint, for courts and inspectors to check a record offline."""
    principal = await signed_in(request)
    if principal.role != "coordinator":
        raise NotFound()
    if request.method == "POST":
        form = await read_form(request)
        await run(request, signing.make_key, csrf=form.get("csrf_token"))
        return go("/coordinator/export-key")
    key = await run(request, signing.public_key_page)
    return render(request, "coordinator/export_key.html", principal=principal, key=key, section="export-key")


ROUTES = [
    Route("/staff/cases/{case_id}/export", export_page, methods=["GET", "POST"]),
    Route("/coordinator/cases/{case_id}/export", export_page, methods=["GET", "POST"]),
    Route("/coordinator/export-key", export_key_page, methods=["GET", "POST"]),
]
