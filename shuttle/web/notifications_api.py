"""API routes for a person's digest e-mails: their address (kept encrypted) and whether they want one."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shuttle.notifications import service as notifications
from shuttle.web import contract as c
from shuttle.web.contract import answer, read
from shuttle.web.http import run


async def get_notifications(request: Request) -> Response:
    return answer(c.Notifications, await run(request, notifications.view))


async def put_notifications(request: Request) -> Response:
    body = await read(request, c.NotificationChoice)
    await run(request, lambda s, svc, actor: notifications.save(s, svc, actor, address=body.address, wants=body.wants))
    return answer(c.Notifications, await run(request, notifications.view))


async def delete_notifications(request: Request) -> Response:
    await run(request, notifications.remove)
    return answer(c.Notifications, await run(request, notifications.view))


ROUTES = [
    Route("/me/notifications", get_notifications),
    Route("/me/notifications", put_notifications, methods=["PUT"]),
    Route("/me/notifications", delete_notifications, methods=["DELETE"]),
]
