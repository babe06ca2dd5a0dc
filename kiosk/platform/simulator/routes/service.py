"""/v1/faults* and /v1/heartbeat (tag ``service``): problem reports and their replies, kiosk liveness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse

from kiosk.platform.simulator.errors import ERRORS
from kiosk.platform.simulator.middleware import device_of
from kiosk.platform.simulator.models import (
    FaultRepliesResponse,
    FaultReplyOut,
    FaultRequest,
    FaultTicketOut,
    HeartbeatRequest,
    HeartbeatResponse,
)
from kiosk.platform.simulator.state import SimState, working_days_after

R: dict[str, Any] = {"responses": ERRORS}


def router(state: SimState) -> APIRouter:
    api = APIRouter()

    @api.post("/v1/faults", response_model=FaultTicketOut, status_code=201, tags=["service"], **R)
    async def report_fault(
        request: Request,
        body: FaultRequest,
        idempotency_key: str = Header(..., alias="Idempotency-Key", min_length=8, max_length=128),
    ) -> JSONResponse:
        """Report a problem (seeds/004 annex 4): system/function problems go to the provincial team, guidance questions to the county bureau."""
        device = await device_of(request)
        key = f"{device}:fault:{idempotency_key}"
        if key in state.idem:
            return JSONResponse(state.idem[key]["body"], status_code=201, headers={"Idempotent-Replayed": "true"})
        today = state.today()
        routed = "县人社部门" if body.category == "guidance" else "省工作专班"
        due = working_days_after(today, 3 if body.category == "guidance" else 5)
        fault_no = f"GZ{today:%Y%m%d}{len(state.tickets) + 1:05d}"
        ticket = {
            "fault_no": fault_no,
            "category": body.category,
            "routed_to_zh": routed,
            "reply_due": str(due),
            "device_id": device,
            "description": body.description,
            "contact": body.contact,
            "at": state.now_iso(),
        }
        state.tickets[fault_no] = ticket
        state._record({"t": "ticket", **ticket})
        reply = {
            "fault_no": fault_no,
            "at": state.now_iso(),
            "by_zh": routed,
            "text_zh": f"已收到问题反映，{routed}将于{due:%Y年%m月%d日}前反馈处理结果。",
        }
        state.replies.append(reply)
        state._record({"t": "reply", **reply})
        out = FaultTicketOut(fault_no=fault_no, category=body.category, routed_to_zh=routed, reply_due=due).model_dump(
            mode="json"
        )
        state.idem[key] = {"key": key, "digest": "", "status": 201, "body": out}
        state._record({"t": "idem", **state.idem[key]})
        return JSONResponse(out, status_code=201)

    @api.get("/v1/faults/replies", response_model=FaultRepliesResponse, tags=["service"], **R)
    async def fault_replies(request: Request, fault_no: str | None = Query(None)) -> FaultRepliesResponse:
        """Replies to this device's fault reports (all, or one ticket's)."""
        device = await device_of(request)
        mine = {n for n, t in state.tickets.items() if t["device_id"] == device}
        out = [
            FaultReplyOut(**rp)
            for rp in state.replies
            if rp["fault_no"] in mine and (fault_no is None or rp["fault_no"] == fault_no)
        ]
        return FaultRepliesResponse(replies=out)

    @api.post("/v1/heartbeat", response_model=HeartbeatResponse, tags=["service"], **R)
    async def heartbeat(request: Request, body: HeartbeatRequest) -> HeartbeatResponse:
        """Kiosk liveness and status (outbox depth, devices) for the county's monitoring."""
        device = await device_of(request)
        state.heartbeats[device] = {"at": state.now_iso(), "status": body.status}
        return HeartbeatResponse(server_time=state.now_iso(), ok=True)

    return api
