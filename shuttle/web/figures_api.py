"""API route of the service's figures (issue 11): GET /coordinator/figures?quarter=2026Q4 (or all; the
current quarter when left out), the same numbers as the coordinator's page and its CSV, hidden by the
same rules (`shuttle.figures.rules`). The coordinator only; anyone else gets the 404 of a missing route."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shuttle.figures.view import Figures, Row, figures
from shuttle.web.contract import Answer, answer
from shuttle.web.http import run


class FigureValue(Answer):
    key: str
    label: str
    value: float | None = Field(description="The number, or null when it is not shown (see 'text')")
    text: str = Field(description="As the CSV writes it: the number, '<5' (a count under 5), 'not shown' (a "
                                  "total that would give a hidden count away) or 'not enough answers to show' "
                                  "(a share or median from fewer than 5)")


class FigureTable(Answer):
    key: str
    title: str
    rows: list[FigureValue]
    total: FigureValue


class FigureSection(Answer):
    key: str
    title: str
    about: str = Field(description="What is counted")
    tables: list[FigureTable]
    stats: list[FigureValue] = Field(description="Shares, medians and single counts")


class ServiceFigures(Answer):
    period: str = Field(description="'2026Q4', or 'all'")
    label: str
    counted_at: str
    sections: list[FigureSection]


def _value(row: Row) -> dict[str, Any]:
    return {"key": row.key, "label": row.label, "value": row.cell.value, "text": row.cell.csv}


def shape(view: Figures) -> dict[str, Any]:
    return {"period": view.period.key, "label": view.period.label, "counted_at": view.made_at.isoformat(),
            "sections": [{"key": s.key, "title": s.title, "about": s.about,
                          "tables": [{"key": t.key, "title": t.title, "rows": [_value(r) for r in t.rows],
                                      "total": _value(t.total)} for t in s.tables],
                          "stats": [_value(r) for r in s.stats]} for s in view.sections]}


async def service_figures(request: Request) -> Response:
    view = await run(request, figures, request.query_params.get("quarter"))
    return answer(ServiceFigures, shape(view))


ROUTES = [Route("/coordinator/figures", service_figures)]
