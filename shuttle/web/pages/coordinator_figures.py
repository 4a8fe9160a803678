"""The coordinator's figures page (by quarter, or all time) and its CSV download: parse the quarter, call
`figures.view.figures`, render. The numbers, the suppression and the CSV are the feature's."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shuttle.errors import BadInput, NotFound
from shuttle.figures.rules import THRESHOLD
from shuttle.figures.view import csv_text, figures
from shuttle.web.http import run
from shuttle.web.pages.common import render, signed_in


async def _coordinator(request: Request) -> Any:
    principal = await signed_in(request)
    if principal.role != "coordinator":
        raise NotFound()
    return principal


async def figures_page(request: Request) -> Response:
    principal = await _coordinator(request)
    asked = request.query_params.get("quarter")
    error, status = "", 200
    try:
        view = await run(request, figures, asked)
    except BadInput as exc:  # a mistyped quarter: said on the page, over the current quarter's figures
        error, status = exc.message, exc.status
        view = await run(request, figures, None)
    return render(request, "coordinator/figures.html", status=status, principal=principal, view=view,
                  error=error, threshold=THRESHOLD)


async def figures_csv(request: Request) -> Response:
    await _coordinator(request)
    view = await run(request, figures, request.query_params.get("quarter"))
    return Response(csv_text(view), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="shuttle-figures-{view.period.key}.csv"'})


ROUTES = [
    Route("/coordinator/figures", figures_page),
    Route("/coordinator/figures.csv", figures_csv),
]
