"""What the kiosk needs from the provincial platform ("就近办").

The kiosk codes against ``Platform`` only. ``kiosk.platform.http_client``
implements it for the HTTP contract in ``docs/platform-openapi.json`` (served by
our simulator); a province whose platform speaks another API writes another
implementation of this Protocol (see docs/platform.md). Nothing outside the
implementation knows about HTTP.

Items are keyed by their number in the 40-item list (seeds/004): enquiries and
recommendations go through ``enquiry`` (or the two ``recommend_*`` helpers),
applications and registrations through ``submit``.

Every method either returns a dataclass below or raises a subclass of
``PlatformError`` whose ``message_zh`` is ready for the screen.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from kiosk.core.errors import PlatformError
from kiosk.core.idnumber import mask_id, mask_name
from kiosk.core.person import Person

# ---------------------------------------------------------------------------
# Errors


class Unreachable(PlatformError):
    """No answer: DNS/connect failure, connection dropped, 502/503/504, outage."""

    message_zh = "暂时无法连接服务平台（网络不通）。查询类业务请稍后再试；申请类业务可先暂存，网络恢复后自动提交；急办请到乡镇便民服务中心柜台办理。"


class Timeout(PlatformError):
    """The platform did not finish answering within the deadline."""

    message_zh = "服务平台响应超时，请稍后再试；如多次超时，请到柜台办理或联系工作人员。"


class BadResponse(PlatformError):
    """The platform answered something the contract does not allow."""

    message_zh = "服务平台返回的数据有误，请稍后再试或联系工作人员。"

    def __init__(self, log_message: str, message_zh: str | None = None, *, status: int | None = None) -> None:
        super().__init__(log_message, message_zh)
        self.status = status


class Refused(PlatformError):
    """A business rule says no; ``reason_zh`` quotes the service guide.

    ``code`` is machine-readable (``not_eligible``, ``not_found``,
    ``qr_expired``, ``qr_forged``, ``qr_replayed``, ``qr_malformed``,
    ``account_locked``, ``invalid_fields``, ``idempotency_mismatch``, ...).
    """

    def __init__(self, reason_zh: str, code: str = "refused", log_message: str | None = None) -> None:
        super().__init__(log_message or f"platform refused: {code}", reason_zh)
        self.reason_zh = reason_zh
        self.code = code


class AuthError(PlatformError):
    """The platform rejected this device's credentials (bad or stale signature, unknown device)."""

    message_zh = "本机未通过服务平台认证（可能是设备密钥或时钟有误），请联系技术人员。"

    def __init__(self, log_message: str, message_zh: str | None = None, *, code: str = "auth") -> None:
        super().__init__(log_message, message_zh)
        self.code = code


#: Errors after which retrying the same request later can succeed.
TRANSIENT_ERRORS = (Unreachable, Timeout)

# ---------------------------------------------------------------------------
# Records


@dataclass
class Resident:
    id_number: str
    name: str
    gender: str
    birth_date: _dt.date
    age: int
    county: str
    ss_number: str
    card_number: str
    card_state: str  # none, normal, temp_lost, lost, not_activated, in_production
    phone: str = ""
    address: str = ""

    def __repr__(self) -> str:
        return f"Resident(id={mask_id(self.id_number)}, name={mask_name(self.name)}, county={self.county})"

    def as_person(self, source: str = "qr") -> Person:
        return Person(
            id_number=self.id_number,
            name=self.name,
            source=source,
            gender=self.gender,
            birth_date=self.birth_date,
            address=self.address,
            card_number=self.card_number,
            document="essc" if source == "qr" else "resident_id",
        )


@dataclass
class ResidentStatus:
    """The facts the guides' conditions need (POST /v1/residents/status).

    Every field may be None: a platform that does not know a fact says nothing, and the kiosk
    then tells the resident that the counter will check that condition (never a silent pass).
    """

    id_number: str = field(repr=False)
    student: bool | None = None  # full-time student (全日制在校生)
    graduating_this_year: bool | None = None  # in the graduation year (毕业年度)
    employment: str | None = None  # employed | flexible | unemployed | farmer | retired | student | child
    employer_kind: str | None = None  # enterprise | institution | ""
    contributing_employee_pension: bool | None = None  # employee-pension contributions this year
    away_from_home: bool | None = None
    able_to_work: bool | None = None  # 有劳动能力
    working_age_limit: int | None = None
    unemployment_registered: bool | None = None
    unemployment_registered_on: _dt.date | None = None
    unemployment_involuntary: bool | None = None  # 非因本人意愿中断就业
    unemployment_insurance_months: int | None = None
    receiving_unemployment: bool | None = None
    subsidised_training_this_year: bool | None = None
    certificates: list[dict[str, Any]] | None = None
    employee_pension_insured: bool | None = None
    employee_pension_months: int | None = None
    employee_pension_receiving: bool | None = None
    resident_pension_enrolled: bool | None = None
    resident_pension_years: int | None = None
    resident_pension_receiving: bool | None = None
    resident_pension_paused: bool | None = None
    resident_pension_start: _dt.date | None = None
    resident_pension_gap_years: int | None = None
    makeup_eligible: bool | None = None  # item 32
    supplementary_enrolled: bool | None = None
    supplementary_receiving: bool | None = None
    institution_pension_receiving: bool | None = None
    recipient_groups: list[str] | None = None  # item 21's monthly-benefit groups
    card_reissue: str | None = None  # none | applied | issued
    registrations: list[str] | None = None


@dataclass
class StaffAccount:
    username: str
    name: str
    id_number: str
    roles: list[str]  # system_admin, business_admin, operator, technician
    county: str
    last_login: _dt.date | None = None

    def __repr__(self) -> str:
        return f"StaffAccount(user={self.username}, roles={self.roles})"

    def as_person(self) -> Person:
        return Person(id_number=self.id_number, name=self.name, source="qr", roles=list(self.roles), document="essc")


@dataclass
class EsscIdentity:
    """Who a verified e-SSC QR code belongs to: a resident or a staff account."""

    kind: str  # "resident" | "staff"
    resident: Resident | None = None
    staff: StaffAccount | None = None

    def as_person(self) -> Person:
        """The identity as the flows know it (``roles`` set for staff)."""
        if self.staff is not None:
            return self.staff.as_person()
        assert self.resident is not None
        return self.resident.as_person("qr")


@dataclass
class Column:
    key: str
    label_zh: str


@dataclass
class EnquiryResult:
    """A page of an enquiry, as a table the screen can render generically."""

    item_no: int
    title_zh: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    total: int
    page: int
    page_size: int
    notice_zh: str = ""
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size)) if self.page_size else 1


@dataclass
class Acceptance:
    acceptance_no: str
    status: str  # accepted | completed | processing | rejected
    expected_completion: _dt.date | None
    item_no: int = 0
    message_zh: str = ""
    accepted_at: str = ""


@dataclass
class TrackEvent:
    at: str
    status: str
    note_zh: str


@dataclass
class Tracking:
    acceptance_no: str
    item_no: int
    status: str
    status_zh: str
    expected_completion: _dt.date | None
    history: list[TrackEvent]


@dataclass
class PhotoRef:
    photo_id: str
    sha256: str
    size: int


@dataclass
class FaultTicket:
    fault_no: str
    routed_to_zh: str  # 省工作专班 or 县人社部门 (seeds/004 annex 4)
    reply_due: _dt.date | None


@dataclass
class FaultReply:
    fault_no: str
    at: str
    by_zh: str
    text_zh: str


@dataclass
class HeartbeatAck:
    server_time: str
    ok: bool
    message: str = ""


# ---------------------------------------------------------------------------
# The interface


@runtime_checkable
class Platform(Protocol):
    def lookup_resident(self, id_number: str | None = None, *, ss_number: str | None = None) -> Resident:
        """Resident by citizen ID number (or social-security number). Refused(code=not_found) if unknown."""

    def resident_status(self, id_number: str) -> ResidentStatus:
        """The facts the guides' conditions need. Refused(code=not_found) if the resident is unknown."""

    def verify_essc(self, qr_text: str) -> EsscIdentity:
        """Verify a scanned e-SSC QR code (single use: never retried after it was sent)."""

    def enquiry(
        self,
        item_no: int,
        id_number: str | None,
        params: dict[str, Any] | None = None,
        *,
        page: int = 1,
        page_size: int = 20,
    ) -> EnquiryResult:
        """One page of enquiry/recommendation ``item_no`` for the resident."""

    def submit(
        self, item_no: int, id_number: str, fields: dict[str, Any], idempotency_key: str, *, photo_id: str | None = None
    ) -> Acceptance:
        """Application/registration ``item_no``. Same key → same acceptance, recorded once."""

    def track(self, acceptance_no: str) -> Tracking: ...

    def upload_photo(self, data: bytes, content_type: str = "image/jpeg") -> PhotoRef:
        """Store a photo (eligibility certification); content-addressed, so idempotent."""

    def recommend_jobs(
        self, id_number: str, kind: str = "fixed", *, page: int = 1, page_size: int = 20
    ) -> EnquiryResult:
        """Jobs for a registered seeker: kind "fixed" (item 2) or "gig" (item 5)."""

    def recommend_seekers(self, id_number: str, *, page: int = 1, page_size: int = 20) -> EnquiryResult:
        """Gig seekers for a registered gig employer (item 8)."""

    def report_fault(self, category: str, description: str, idempotency_key: str, *, contact: str = "") -> FaultTicket:
        """category: "system" | "function" | "guidance" (seeds/004 annex 4)."""

    def fault_replies(self, fault_no: str | None = None) -> list[FaultReply]: ...

    def heartbeat(self, status: dict[str, Any]) -> HeartbeatAck: ...

    def close(self) -> None: ...
