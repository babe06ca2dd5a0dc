"""/v1/health and /v1/items (tag ``kiosk``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from kiosk.platform.simulator.errors import ERRORS
from kiosk.platform.simulator.items import ITEMS
from kiosk.platform.simulator.middleware import device_of
from kiosk.platform.simulator.models import API_VERSION, HealthResponse, ItemOut, ItemsResponse
from kiosk.platform.simulator.state import SimState

R: dict[str, Any] = {"responses": ERRORS}


def router(state: SimState) -> APIRouter:
    api = APIRouter()

    @api.get("/v1/health", response_model=HealthResponse, tags=["kiosk"])
    async def health() -> HealthResponse:
        """Liveness probe (no signature needed)."""
        return HealthResponse(status="ok", version=API_VERSION, seed=state.seed, today=state.today())

    @api.get("/v1/items", response_model=ItemsResponse, tags=["kiosk"], **R)
    async def items(request: Request) -> ItemsResponse:
        await device_of(request)
        return ItemsResponse(
            items=[
                ItemOut(item_no=i.no, title_zh=i.title, kind=i.kind, time_limit_days=i.days)  # type: ignore[arg-type]
                for i in ITEMS.values()
            ]
        )

    return api
