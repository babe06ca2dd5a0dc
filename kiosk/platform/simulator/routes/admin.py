"""/admin/* (simulator only, left out of the OpenAPI document): test and demo controls.

Fault injection, the simulated clock, issuing e-SSC codes, stored submissions,
sample residents, staff and replies to fault tickets. They mint staff login QR
codes and show full ID numbers, so every route needs the bearer token.
"""

from __future__ import annotations

import datetime as _dt
import hmac
import logging
import time
from typing import Any

from fastapi import APIRouter, Body, Depends, Request

from kiosk.platform.simulator.errors import ApiError
from kiosk.platform.simulator.population import sample_residents
from kiosk.platform.simulator.state import Faults, SimState

log = logging.getLogger("kiosk.platform.sim")


def router(state: SimState, token: str) -> APIRouter:
    api = APIRouter()

    async def admin_only(request: Request) -> None:
        """Admin routes mint staff login QR codes and show full ID numbers: bearer token only."""
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
            state.counts["auth_rejected"] += 1
            log.warning(
                "admin request %s %s refused: %s",
                request.method,
                request.url.path,
                "no token" if not given else "wrong token",
            )
            raise ApiError(
                401,
                "admin_token_required",
                "admin routes need Authorization: Bearer <token>",
                "需要模拟平台的管理令牌。",
            )

    # response_model=None: answered as plain JSON (jsonable_encoder), not through the return annotation.
    admin: dict[str, Any] = {"include_in_schema": False, "response_model": None, "dependencies": [Depends(admin_only)]}

    @api.get("/admin/submissions", **admin)
    async def admin_submissions() -> dict[str, Any]:
        return {"submissions": list(state.submissions.values())}

    @api.get("/admin/stats", **admin)
    async def admin_stats() -> dict[str, Any]:
        return {
            **state.counts,
            "submissions": len(state.submissions),
            "idempotency_keys": len(state.idem),
            "photos": len(state.photos),
            "tickets": len(state.tickets),
            "heartbeats": state.heartbeats,
        }

    @api.get("/admin/fault-injection", **admin)
    async def get_faults() -> dict[str, Any]:
        return state.faults.__dict__

    @api.post("/admin/fault-injection", **admin)
    async def set_faults(body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        for k, v in body.items():
            if k in Faults.__dataclass_fields__:
                setattr(state.faults, k, type(getattr(Faults(), k))(v))
        log.warning("fault injection now %s", state.faults)
        return state.faults.__dict__

    @api.post("/admin/essc/issue", **admin)
    async def issue_qr(body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        lifetime = int(body.get("lifetime", 60))
        if body.get("username"):
            if body["username"] not in state.world.staff:
                raise ApiError(404, "not_found", "unknown staff", "未查询到该工作人员账号。")
            text, exp = state.essc.issue("staff", body["username"], time.time(), lifetime)
        else:
            r = state.resident(body.get("id_number"))
            text, exp = state.essc.issue("resident", r.id_number, time.time(), lifetime)
        return {"qr_text": text, "expires_at": exp}

    @api.get("/admin/residents/sample", **admin)
    async def sample(n: int = 10, qualifies: int | None = None, offset: int = 0) -> dict[str, Any]:
        return {"residents": sample_residents(state, n, qualifies, offset)}

    @api.get("/admin/staff", **admin)
    async def staff() -> dict[str, Any]:
        today = state.today()
        return {
            "staff": [
                {
                    "username": s.username,
                    "roles": s.roles,
                    "county": s.county,
                    "last_login": str(s.last_login),
                    "locked": s.locked(today),
                }
                for s in state.world.staff.values()
            ]
        }

    @api.post("/admin/clock", **admin)
    async def clock(body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        state.clock_offset = _dt.timedelta(days=float(body.get("offset_days", 0)))
        return {"today": str(state.today())}

    @api.post("/admin/faults/{fault_no}/reply", **admin)
    async def admin_reply(fault_no: str, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        if fault_no not in state.tickets:
            raise ApiError(404, "not_found", "unknown fault", "未查询到该问题。")
        reply = {
            "fault_no": fault_no,
            "at": state.now_iso(),
            "by_zh": body.get("by_zh", state.tickets[fault_no]["routed_to_zh"]),
            "text_zh": body.get("text_zh", ""),
        }
        state.replies.append(reply)
        state._record({"t": "reply", **reply})
        return reply

    return api
