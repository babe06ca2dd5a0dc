"""/v1/enquiries/{item_no} and /v1/recommendations/* (tag ``enquiries``): read-only tables, one page each."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from kiosk.platform.simulator import enquiries
from kiosk.platform.simulator.errors import ERRORS, ApiError, item_or_404
from kiosk.platform.simulator.items import PUBLIC_ENQUIRIES
from kiosk.platform.simulator.middleware import device_of
from kiosk.platform.simulator.models import (
    ColumnOut,
    EnquiryRequest,
    EnquiryResponse,
    RecommendJobsRequest,
    RecommendSeekersRequest,
    Scalar,
)
from kiosk.platform.simulator.state import SimState

R: dict[str, Any] = {"responses": ERRORS}


def page_of(item_no: int, title: str, table: enquiries.Table, page: int, page_size: int) -> EnquiryResponse:
    cols, rows, notice, summary = table
    start = (page - 1) * page_size
    return EnquiryResponse(
        item_no=item_no,
        title_zh=title,
        columns=[ColumnOut(key=k, label_zh=l) for k, l in cols],
        rows=rows[start : start + page_size],
        total=len(rows),
        page=page,
        page_size=page_size,
        notice_zh=notice,
        summary=summary,
    )


def run_enquiry(
    state: SimState, item_no: int, id_number: str | None, params: dict[str, Scalar], page: int, page_size: int
) -> EnquiryResponse:
    item = item_or_404(item_no, ("enquiry", "recommendation"))
    r = None if item_no in PUBLIC_ENQUIRIES and not id_number else state.resident(id_number)
    try:
        table = enquiries.enquire(item_no, state.world, r, params, state.today())
    except enquiries.EnquiryRefused as exc:
        status = 404 if exc.refusal.code == "no_record" else 422
        raise ApiError(
            status, exc.refusal.code, f"enquiry {item_no} refused: {exc.refusal.code}", exc.refusal.reason_zh
        ) from None
    return page_of(item_no, item.title, table, page, page_size)


def router(state: SimState) -> APIRouter:
    api = APIRouter()

    @api.post("/v1/enquiries/{item_no}", response_model=EnquiryResponse, tags=["enquiries"], **R)
    async def enquiry(request: Request, item_no: int, body: EnquiryRequest) -> EnquiryResponse:
        """Enquiry or recommendation ``item_no`` of the 40-item list, one page, as a generic table."""
        await device_of(request)
        return run_enquiry(state, item_no, body.id_number, body.params, body.page, body.page_size)

    @api.post("/v1/recommendations/jobs", response_model=EnquiryResponse, tags=["enquiries"], **R)
    async def recommend_jobs(request: Request, body: RecommendJobsRequest) -> EnquiryResponse:
        """Jobs matched to a registered seeker (item 2 fixed, item 5 gig)."""
        await device_of(request)
        return run_enquiry(state, 2 if body.kind == "fixed" else 5, body.id_number, {}, body.page, body.page_size)

    @api.post("/v1/recommendations/seekers", response_model=EnquiryResponse, tags=["enquiries"], **R)
    async def recommend_seekers(request: Request, body: RecommendSeekersRequest) -> EnquiryResponse:
        """Gig seekers matched to a registered gig employer (item 8)."""
        await device_of(request)
        return run_enquiry(state, 8, body.id_number, {}, body.page, body.page_size)

    return api
