"""/v1/residents/* and /v1/essc/verify (tag ``residents``): who is at the kiosk."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request

from kiosk.platform.simulator.errors import ERRORS, ApiError
from kiosk.platform.simulator.essc import QrError
from kiosk.platform.simulator.middleware import device_of
from kiosk.platform.simulator.models import (
    ErrorResponse,
    EsscVerifyRequest,
    EsscVerifyResponse,
    LookupRequest,
    ResidentOut,
    StaffOut,
)
from kiosk.platform.simulator.state import SimState
from kiosk.platform.simulator.status import ResidentStatusOut

R: dict[str, Any] = {"responses": ERRORS}


def router(state: SimState) -> APIRouter:
    api = APIRouter()

    @api.post("/v1/residents/lookup", response_model=ResidentOut, tags=["residents"], **R)
    async def lookup(request: Request, body: LookupRequest) -> ResidentOut:
        """Resident by ID number or social-security number (POST: personal numbers never go into URLs or access logs)."""
        await device_of(request)
        return state.resident_out(state.resident(body.id_number or body.ss_number))

    @api.post("/v1/residents/status", response_model=ResidentStatusOut, tags=["residents"], **R)
    async def status(request: Request, body: LookupRequest) -> ResidentStatusOut:
        """The facts the guides' conditions need (student, employment, unemployment, training, pensions,
        benefit groups, card reissue), so the kiosk decides eligibility from data rather than leaving it to the counter."""
        await device_of(request)
        return state.status_out(state.resident(body.id_number or body.ss_number))

    @api.post(
        "/v1/essc/verify",
        response_model=EsscVerifyResponse,
        tags=["residents"],
        responses={**ERRORS, 410: {"model": ErrorResponse, "description": "QR code expired or already used"}},
    )
    async def essc_verify(request: Request, body: EsscVerifyRequest) -> EsscVerifyResponse:
        """Verify a scanned e-SSC QR code. Single use: a second verification fails with qr_replayed."""
        await device_of(request)
        try:
            claims = state.essc.verify(body.qr_text, time.time())
        except QrError as exc:
            status = 410 if exc.code in ("qr_expired", "qr_replayed") else 422
            raise ApiError(status, exc.code, f"e-SSC QR rejected: {exc.code}", exc.reason_zh) from None
        if claims.kind == "staff":
            s = state.world.staff.get(claims.subject)
            if s is None:
                raise ApiError(404, "not_found", "unknown staff account", "未查询到该工作人员账号。")
            if s.locked(state.today()):
                raise ApiError(
                    422,
                    "account_locked",
                    f"staff account {s.username} locked (unused > 3 months)",
                    "该账号超过3个月未登录已被锁定，请联系县级系统管理员解锁。",
                )
            s.last_login = state.today()
            return EsscVerifyResponse(
                kind="staff",
                staff=StaffOut(
                    username=s.username,
                    name=s.name,
                    id_number=s.id_number,
                    roles=s.roles,  # type: ignore[arg-type]
                    county=s.county,
                    last_login=s.last_login,
                ),
            )
        return EsscVerifyResponse(kind="resident", resident=state.resident_out(state.resident(claims.subject)))

    return api
