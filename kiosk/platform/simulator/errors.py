"""Refusals as the contract spells them: ``{"error": {code, message, message_zh}}`` with a status.

Routes raise ``ApiError``; ``install(app)`` turns it, and a request that does not
match the models, into that body. ``ERRORS`` documents the shared statuses in the
OpenAPI document.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from kiosk.platform.simulator.items import ITEMS, Item
from kiosk.platform.simulator.models import ErrorResponse

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "request does not match the contract"},
    401: {"model": ErrorResponse, "description": "bad, stale or missing device signature"},
    404: {"model": ErrorResponse, "description": "resident, item or record not found"},
    422: {"model": ErrorResponse, "description": "refused by a business rule (message_zh quotes the guide)"},
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.message_zh = status, code, message, message_zh


def item_or_404(item_no: int, kinds: tuple[str, ...]) -> Item:
    """Item ``item_no`` of the 40-item list when it is one of ``kinds``."""
    item = ITEMS.get(item_no)
    if item is None or item.kind not in kinds:
        raise ApiError(404, "no_such_item", f"item {item_no} is not one of {kinds}", "该服务事项不能在自助机办理。")
    return item


def install(app: FastAPI) -> None:
    """Answer ``ApiError`` and invalid requests with the contract's error body."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            {"error": {"code": exc.code, "message": exc.message, "message_zh": exc.message_zh}}, status_code=exc.status
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        msg = "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors())[:500]
        return JSONResponse(
            {"error": {"code": "invalid_request", "message": msg, "message_zh": "请求数据有误，请联系工作人员。"}},
            status_code=400,
        )
