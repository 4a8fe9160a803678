"""API routes for a person's digest e-mails: their address (kept encrypted) and whether they want one."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shuttle.notifications import service as notifications
from shuttle.web.http import field, read_json, run


async def get_notifications(request: Request) -> Response:
    return JSONResponse(await run(request, notifications.view))


async def put_notifications(request: Request) -> Response:
    data = await read_json(request)
    address, wants = field(data, "address", str), field(data, "wants", bool)
    await run(request, lambda s, svc, actor: notifications.save(s, svc, actor, address=address, wants=wants))
    return JSONResponse(await run(request, notifications.view))


async def delete_notifications(request: Request) -> Response:
    await run(request, notifications.remove)
    return JSONResponse(await run(request, notifications.view))


ROUTES = [
    Route("/me/notifications", get_notifications),
    Route("/me/notifications", put_notifications, methods=["PUT"]),
    Route("/me/notifications", delete_notifications, methods=["DELETE"]),
]
