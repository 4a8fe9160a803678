"""The coordinator's pages: the service's manager (staff, referrals, cases, organisations).

This module holds the coordinator's start page; each area has its own page module beside it
(staff accounts, referrals, cases, organisations) and adds its routes to `ROUTES`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shuttle.errors import NotFound
from shuttle.notifications import service as notifications
from shuttle.web.http import run
from shuttle.web.pages.common import render, signed_in


async def coordinator_home(request: Request) -> Response:
    principal = await signed_in(request)
    if principal.role != "coordinator":
        raise NotFound()
    undelivered = await run(request, lambda s, svc, actor: notifications.undelivered(s))
    return render(request, "coordinator/home.html", principal=principal, undelivered=undelivered)


ROUTES = [Route("/coordinator", coordinator_home)]
