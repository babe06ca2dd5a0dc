"""The contract's request and response models (pydantic): what docs/platform-openapi.json describes.

The class names are the schema names in the OpenAPI document, so renaming one
changes the contract. The resident-status models live in ``status``.
"""

from __future__ import annotations

import datetime as _dt
from typing import Literal

from pydantic import BaseModel, Field

#: The contract's version: bump it for any incompatible change to /v1 (scripts/export_platform_openapi.py).
API_VERSION = "1.1.0"  # 1.1: POST /v1/residents/status (issue 14)
Scalar = str | int | float | bool | None


class ErrorBody(BaseModel):
    code: str = Field(description="machine-readable reason, e.g. not_eligible, not_found, qr_expired, bad_signature")
    message: str = Field(description="English, for logs")
    message_zh: str = Field(description="Simplified Chinese, for the screen (the guide's words for refusals)")


class ErrorResponse(BaseModel):
    error: ErrorBody


class LookupRequest(BaseModel):
    id_number: str | None = Field(None, description="18-character citizen ID number")
    ss_number: str | None = Field(None, description="social-security number (equal to the ID number for citizens)")


class ResidentOut(BaseModel):
    id_number: str
    name: str
    gender: str
    birth_date: _dt.date
    age: int
    county: str
    ss_number: str
    card_number: str
    card_state: Literal["none", "normal", "temp_lost", "lost", "not_activated", "in_production"] = Field(
        description="none: no card applied for (1.1)"
    )
    phone: str
    address: str


class EsscVerifyRequest(BaseModel):
    qr_text: str = Field(min_length=1, max_length=4096)


class StaffOut(BaseModel):
    username: str
    name: str
    id_number: str
    roles: list[Literal["system_admin", "business_admin", "operator", "technician"]]
    county: str
    last_login: _dt.date | None


class EsscVerifyResponse(BaseModel):
    kind: Literal["resident", "staff"]
    resident: ResidentOut | None = None
    staff: StaffOut | None = None


class ItemOut(BaseModel):
    item_no: int
    title_zh: str
    kind: Literal["enquiry", "recommendation", "application"]
    time_limit_days: int


class ItemsResponse(BaseModel):
    items: list[ItemOut]


class EnquiryRequest(BaseModel):
    id_number: str | None = Field(None, description="required except for public enquiries (items 3, 6, 9, 12, 14)")
    params: dict[str, Scalar] = Field(default_factory=dict, description="filters, e.g. keyword, county")
    page: int = Field(1, ge=1)
    page_size: int = Field(20, ge=1, le=100)


class ColumnOut(BaseModel):
    key: str
    label_zh: str


class EnquiryResponse(BaseModel):
    item_no: int
    title_zh: str
    columns: list[ColumnOut]
    rows: list[dict[str, Scalar]]
    total: int
    page: int
    page_size: int
    notice_zh: str = ""
    summary: dict[str, Scalar] = Field(default_factory=dict)


class RecommendJobsRequest(BaseModel):
    id_number: str
    kind: Literal["fixed", "gig"] = "fixed"
    page: int = Field(1, ge=1)
    page_size: int = Field(20, ge=1, le=100)


class RecommendSeekersRequest(BaseModel):
    id_number: str
    page: int = Field(1, ge=1)
    page_size: int = Field(20, ge=1, le=100)


class ApplicationRequest(BaseModel):
    id_number: str
    fields: dict[str, Scalar] = Field(default_factory=dict)
    photo_id: str | None = None


class AcceptanceOut(BaseModel):
    acceptance_no: str
    item_no: int
    status: Literal["accepted", "processing", "completed", "rejected"]
    status_zh: str
    expected_completion: _dt.date | None
    accepted_at: str
    message_zh: str


class TrackEventOut(BaseModel):
    at: str
    status: str
    note_zh: str


class TrackingOut(BaseModel):
    acceptance_no: str
    item_no: int
    status: Literal["accepted", "processing", "completed", "rejected"]
    status_zh: str
    expected_completion: _dt.date | None
    history: list[TrackEventOut]


class PhotoOut(BaseModel):
    photo_id: str
    sha256: str
    size: int


class FaultRequest(BaseModel):
    category: Literal["system", "function", "guidance"] = Field(
        description="system: 系统性问题; function: 功能性问题 (both to 省工作专班); guidance: 业务指导性问题 (to 县人社部门)"
    )
    description: str = Field(min_length=1, max_length=2000)
    contact: str = Field("", max_length=100)


class FaultTicketOut(BaseModel):
    fault_no: str
    category: str
    routed_to_zh: str
    reply_due: _dt.date | None


class FaultReplyOut(BaseModel):
    fault_no: str
    at: str
    by_zh: str
    text_zh: str


class FaultRepliesResponse(BaseModel):
    replies: list[FaultReplyOut]


class HeartbeatRequest(BaseModel):
    status: dict[str, Scalar] = Field(default_factory=dict)


class HeartbeatResponse(BaseModel):
    server_time: str
    ok: bool
    message: str = ""


class HealthResponse(BaseModel):
    status: str
    version: str
    seed: int
    today: _dt.date
