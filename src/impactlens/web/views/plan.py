"""The plan page: the impact plan with its ``check`` findings and how to fix them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from impactlens.web.access import dashboard
from impactlens.web.rendering import page
from impactlens.web.routing import twin

router = APIRouter()


@twin(router, "/programs/{program}/plan", "analyst", "A program's impact plan and check findings")
def plan(request: Request, program: str) -> Response:
    """The plan and what ``impactlens check`` finds in it."""
    return page(request, "plan", dashboard(request).plan(program))
