"""/v1/applications/* and /v1/photos (tag ``applications``): submissions, their progress, their photos."""

from __future__ import annotations

import datetime as _dt
import hashlib
import logging
from typing import Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from kiosk.core.idnumber import mask_id
from kiosk.platform.simulator import data as simdata
from kiosk.platform.simulator import rules
from kiosk.platform.simulator.errors import ERRORS, ApiError, item_or_404
from kiosk.platform.simulator.items import ITEMS
from kiosk.platform.simulator.middleware import device_of
from kiosk.platform.simulator.models import (
    AcceptanceOut,
    ApplicationRequest,
    ErrorResponse,
    PhotoOut,
    TrackEventOut,
    TrackingOut,
)
from kiosk.platform.simulator.state import STATUS_ZH, SimState, working_days_after

log = logging.getLogger("kiosk.platform.sim")

MAX_PHOTO_BYTES = 5 * 1024 * 1024
R: dict[str, Any] = {"responses": ERRORS}


def router(state: SimState) -> APIRouter:
    api = APIRouter()

    @api.post(
        "/v1/applications/{item_no}",
        response_model=AcceptanceOut,
        status_code=201,
        tags=["applications"],
        responses={
            **ERRORS,
            409: {"model": ErrorResponse, "description": "Idempotency-Key reused with a different request"},
        },
    )
    async def submit(
        request: Request,
        item_no: int,
        body: ApplicationRequest,
        idempotency_key: str = Header(..., alias="Idempotency-Key", min_length=8, max_length=128),
    ) -> JSONResponse:
        """Application or registration ``item_no``. Same Idempotency-Key → same answer, recorded once."""
        device = await device_of(request)
        key = f"{device}:{idempotency_key}"
        digest = hashlib.sha256(await request.body() + request.url.path.encode()).hexdigest()
        prior = state.idem.get(key)
        if prior is not None:
            if prior["digest"] != digest:
                raise ApiError(
                    409,
                    "idempotency_mismatch",
                    "Idempotency-Key reused with a different request",
                    "重复提交的数据不一致，请联系工作人员。",
                )
            return JSONResponse(prior["body"], status_code=prior["status"], headers={"Idempotent-Replayed": "true"})
        item = item_or_404(item_no, ("application",))
        r = state.resident(body.id_number)
        today = state.today()
        photo_ok = bool(body.photo_id and body.photo_id in state.photos)
        if body.photo_id and not photo_ok:
            raise ApiError(400, "unknown_photo", "photo_id not uploaded", "照片未上传成功，请重新拍照。")
        refusal = rules.check(item_no, r, body.fields, today, photo_ok=photo_ok)
        if refusal is not None:
            status = 422
            payload = {
                "error": {
                    "code": refusal.code,
                    "message": f"item {item_no} refused: {refusal.code}",
                    "message_zh": refusal.reason_zh,
                }
            }
        else:
            rules.apply(item_no, r, body.fields, today)
            acc_no = state.next_acceptance_no()
            expected = working_days_after(today, item.days) if item.days else today
            status_s = "accepted" if item.days else "completed"
            extra = ""
            if item_no == 22:
                extra = f"补贴标准{simdata.LEVELS[str(body.fields['level'])]}元。"
            msg = (
                f"{item.title}已受理，受理编号{acc_no}。"
                + extra
                + ("已即时办结。" if not item.days else f"预计{expected:%Y年%m月%d日}前办结。")
            )
            now = state.now_iso()
            sub = {
                "acceptance_no": acc_no,
                "item_no": item_no,
                "id_number": r.id_number,
                "fields": body.fields,
                "photo_id": body.photo_id,
                "device_id": device,
                "idempotency_key": idempotency_key,
                "accepted_at": now,
                "status": status_s,
                "expected_completion": str(expected),
            }
            state.submissions[acc_no] = sub
            state._record({"t": "sub", **sub})
            status = 201
            payload = AcceptanceOut(
                acceptance_no=acc_no,
                item_no=item_no,
                status=status_s,  # type: ignore[arg-type]
                status_zh=STATUS_ZH[status_s],
                expected_completion=expected,
                accepted_at=now,
                message_zh=msg,
            ).model_dump(mode="json")
            log.info("accepted item %d for %s as %s (device %s)", item_no, mask_id(r.id_number), acc_no, device)
        entry = {"key": key, "digest": digest, "status": status, "body": payload}
        state.idem[key] = entry
        state._record({"t": "idem", **entry})
        return JSONResponse(payload, status_code=status)

    @api.get("/v1/applications/{acceptance_no}", response_model=TrackingOut, tags=["applications"], **R)
    async def track(request: Request, acceptance_no: str) -> TrackingOut:
        """Progress of an application by its acceptance number."""
        await device_of(request)
        sub = state.submissions.get(acceptance_no)
        if sub is None:
            raise ApiError(404, "not_found", "unknown acceptance number", "未查询到该受理编号，请核对后重试。")
        status = state.status_of(sub)
        history = [TrackEventOut(at=sub["accepted_at"], status="accepted", note_zh="基层服务点自助机受理")]
        if status == "processing":
            history.append(TrackEventOut(at=f"{state.today()}", status="processing", note_zh="县级经办机构审核中"))
        if status == "completed":
            history.append(TrackEventOut(at=sub["expected_completion"], status="completed", note_zh="已办结"))
        item = ITEMS[sub["item_no"]]
        return TrackingOut(
            acceptance_no=acceptance_no,
            item_no=item.no,
            status=status,  # type: ignore[arg-type]
            status_zh=STATUS_ZH[status],
            expected_completion=_dt.date.fromisoformat(sub["expected_completion"]),
            history=history,
        )

    @api.post(
        "/v1/photos",
        response_model=PhotoOut,
        tags=["applications"],
        # OpenAPI 3.1 names a raw binary body by its media type; 3.0's `format: binary`
        # string is wrong in 3.1 (openapi-core rejects the bytes as "not a string").
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "image/jpeg": {"schema": {"contentMediaType": "image/jpeg"}},
                    "image/png": {"schema": {"contentMediaType": "image/png"}},
                },
            }
        },
        responses={**ERRORS, 413: {"model": ErrorResponse, "description": "photo larger than 5 MB"}},
    )
    async def upload_photo(request: Request) -> PhotoOut:
        """Upload an eligibility-certification photo (raw JPEG/PNG body). Content-addressed, so idempotent."""
        await device_of(request)
        data = await request.body()
        ctype = request.headers.get("content-type", "")
        if ctype not in ("image/jpeg", "image/png") or not data:
            raise ApiError(
                400,
                "bad_photo",
                f"unsupported photo content-type {ctype!r} or empty body",
                "照片格式有误，请重新拍照。",
            )
        if len(data) > MAX_PHOTO_BYTES:
            raise ApiError(413, "photo_too_large", f"photo of {len(data)} bytes", "照片过大，请重新拍照。")
        digest = hashlib.sha256(data).hexdigest()
        state.photos[f"P{digest[:24]}"] = data
        return PhotoOut(photo_id=f"P{digest[:24]}", sha256=digest, size=len(data))

    return api
