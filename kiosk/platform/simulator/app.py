"""The platform simulator: a FastAPI app serving the contract (docs/platform-openapi.json).

``create_app(seed, ...)`` builds the app; ``kiosk.platform.simulator.server``
runs it on uvicorn. Everything under ``/v1`` is the contract the kiosk's
``HttpPlatform`` speaks; ``/admin`` endpoints are simulator-only (fault
injection, issuing e-SSC codes, listing stored submissions for tests) and are
left out of the OpenAPI document.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import hashlib
import hmac
import json
import logging
import os
import random
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from fastapi import Body, Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from kiosk.core.idnumber import age_on, id_problem, mask_id, normalize
from kiosk.platform import signing
from kiosk.platform.simulator import data as simdata
from kiosk.platform.simulator import enquiries, rules
from kiosk.platform.simulator.essc import EsscIssuer, QrError
from kiosk.platform.simulator.items import ITEMS, PUBLIC_ENQUIRIES

log = logging.getLogger("kiosk.platform.sim")

API_VERSION = "1.1.0"  # 1.1: POST /v1/residents/status (issue 14)
CHINA_TZ = _dt.timezone(_dt.timedelta(hours=8))
MAX_PHOTO_BYTES = 5 * 1024 * 1024
Scalar = str | int | float | bool | None

# ---------------------------------------------------------------------------
# Contract models


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
        description="none: no card applied for (1.1)")
    phone: str
    address: str


class StudentOut(BaseModel):
    full_time: bool = Field(description="full-time student (全日制在校生)")
    graduating_this_year: bool = Field(description="in the graduation year (毕业年度)")


class EmploymentOut(BaseModel):
    status: Literal["employed", "flexible", "unemployed", "farmer", "retired", "student", "child"]
    employer_kind: Literal["enterprise", "institution", ""] = Field(
        description="for status employed: enterprise (企业) or institution (机关事业单位)")
    contributing_employee_pension_this_year: bool = Field(
        description="employee pension contributions recorded this year (the item-25 record)")
    away_from_home: bool = Field(description="working away from the village (外出务工)")
    able_to_work: bool = Field(description="有劳动能力")
    working_age_limit: int = Field(description="statutory retirement age that ends working age for this person")


class UnemploymentOut(BaseModel):
    registered: bool = Field(description="失业登记 on record")
    registered_on: _dt.date | None = None
    involuntary: bool | None = Field(None, description="非因本人意愿中断就业, as registered; null when not registered")
    reason_zh: str = ""
    insurance_months: int = Field(description="unemployment-insurance months paid")
    receiving: bool = Field(description="receiving unemployment-insurance benefit")


class CertificateOut(BaseModel):
    name: str
    kind: str
    issued: _dt.date


class TrainingOut(BaseModel):
    subsidised_this_year: bool = Field(description="took part in government-subsidised training this year")
    intention_registered: bool
    enrolments: int
    certificates: list[CertificateOut]


class EnterprisePensionOut(BaseModel):
    insured: bool
    months: int
    receiving: bool


class ResidentPensionOut(BaseModel):
    enrolled: bool
    years: int
    receiving: bool
    paused: bool
    scheme_start: _dt.date | None = Field(None, description="when this resident entered the resident-pension scheme")
    gap_years: int = Field(description="years without contribution since enrolment")
    makeup_eligible: bool = Field(description="item 32: may declare make-up contributions")
    supplementary_enrolled: bool
    supplementary_receiving: bool


class PensionsOut(BaseModel):
    enterprise: EnterprisePensionOut
    resident: ResidentPensionOut
    institution_receiving: bool = Field(description="按月领取机关事业单位基本养老保险待遇")


class CardStatusOut(BaseModel):
    state: Literal["none", "normal", "temp_lost", "lost", "not_activated", "in_production"]
    reissue: Literal["none", "applied", "issued"] = Field(description="补办社保卡: a reissued card ends the old one")


class ResidentStatusOut(BaseModel):
    """The facts the service guides' conditions need (issue 14): what the kiosk checks before a form."""

    id_number: str
    student: StudentOut
    employment: EmploymentOut
    unemployment: UnemploymentOut
    training: TrainingOut
    pensions: PensionsOut
    recipient_groups: list[Literal["enterprise_pension", "institution_pension", "resident_pension",
                                   "work_injury_1_4", "survivor_dependant"]] = Field(
        description="monthly benefits that need the yearly eligibility certification (item 21)")
    card: CardStatusOut
    registrations: list[Literal["fixed_seeker", "gig_seeker", "gig_employer", "flexible", "unemployment",
                                "employment_certificate", "training_intention", "training_referral"]]


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
        description="system: 系统性问题; function: 功能性问题 (both to 省工作专班); guidance: 业务指导性问题 (to 县人社部门)")
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


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "request does not match the contract"},
    401: {"model": ErrorResponse, "description": "bad, stale or missing device signature"},
    404: {"model": ErrorResponse, "description": "resident, item or record not found"},
    422: {"model": ErrorResponse, "description": "refused by a business rule (message_zh quotes the guide)"},
}

# ---------------------------------------------------------------------------
# State


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.message_zh = status, code, message, message_zh


@dataclass
class Faults:
    latency_ms: int = 0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    outage: bool = False


def working_days_after(start: _dt.date, n: int) -> _dt.date:
    """``n`` working days after ``start`` (不含申请日当天), with China's statutory holidays when known."""
    try:
        import chinese_calendar

        def is_work(d: _dt.date) -> bool:
            try:
                return chinese_calendar.is_workday(d)
            except NotImplementedError:
                return d.weekday() < 5
    except ImportError:  # pragma: no cover
        def is_work(d: _dt.date) -> bool:
            return d.weekday() < 5
    d = start
    while n > 0:
        d += _dt.timedelta(days=1)
        if is_work(d):
            n -= 1
    return d


#: Journal bounds (issue 12, fault 3): past JOURNAL_MAX lines the oldest are dropped down to JOURNAL_KEEP.
JOURNAL_MAX, JOURNAL_KEEP = 20_000, 10_000
#: Form fields the journal keeps: only those ``rules.apply`` needs to rebuild a resident's state at a
#: restart, none of them personal. A phone or address changed by item 30 is not replayed after a restart.
REPLAY_FIELDS = ("occupation", "level", "action")

STATUS_ZH = {"accepted": "已受理", "processing": "审核中", "completed": "已办结", "rejected": "未通过"}


class SimState:
    def __init__(self, seed: int, today: _dt.date | None, state_path: Path | None, device_secret: str,
                 n_residents: int = 3000) -> None:
        self.seed = seed
        self.clock_offset = _dt.timedelta()
        self.start_today = today or _dt.datetime.now(CHINA_TZ).date()
        self.world = simdata.generate(seed, self.start_today, n_residents)
        self.device_secret = device_secret
        self.essc = EsscIssuer(hashlib.sha256(f"essc-key-{seed}".encode()).digest())
        self.faults = Faults()
        self.fault_rng = random.Random(seed ^ 0x5EED)
        self.submissions: dict[str, dict[str, Any]] = {}
        self.idem: dict[str, dict[str, Any]] = {}
        self.photos: dict[str, bytes] = {}
        self.tickets: dict[str, dict[str, Any]] = {}
        self.replies: list[dict[str, Any]] = []
        self.heartbeats: dict[str, dict[str, Any]] = {}
        self.counts = {"requests": 0, "auth_rejected": 0, "injected_errors": 0, "dropped": 0}
        self._journal_lock = threading.Lock()
        self.state_path = state_path
        self._journal = None
        self._journal_lines = 0
        # The journal names residents by a keyed digest, never by ID number (fault 3); the
        # synthetic residents are known to the simulator, so replay maps digests back.
        self._rid_key = hashlib.sha256(f"journal-key-{seed}".encode()).digest()
        if state_path is not None:
            state_path.parent.mkdir(parents=True, exist_ok=True)
            if state_path.exists():
                self._replay(state_path)
            fd = os.open(state_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.fchmod(fd, 0o600)
            self._journal = open(fd, "a", encoding="utf-8")
            if self._journal_lines > JOURNAL_MAX or getattr(self, "_unmasked", False):
                self._compact()  # bounded, and a journal from before fault 3 loses its full ID numbers

    # time ---------------------------------------------------------------
    _live_clock = True  # False when a fixed ``today`` was given (fully reproducible runs)

    def today(self) -> _dt.date:
        base = _dt.datetime.now(CHINA_TZ).date() if self._live_clock else self.start_today
        return base + self.clock_offset

    def now_iso(self) -> str:
        return (_dt.datetime.now(CHINA_TZ) + self.clock_offset).isoformat(timespec="seconds")

    # persistence --------------------------------------------------------
    def rid(self, id_number: str) -> str:
        return hmac.new(self._rid_key, id_number.encode(), hashlib.sha256).hexdigest()[:32]

    def _record(self, entry: dict[str, Any]) -> None:
        """Append to the journal: ID numbers masked, only replay fields kept, size bounded."""
        if self._journal is None:
            return
        with self._journal_lock:
            self._journal.write(self._journal_line(entry))
            self._journal.flush()
            self._journal_lines += 1
            if self._journal_lines > JOURNAL_MAX:
                self._compact()

    def _journal_line(self, entry: dict[str, Any]) -> str:
        if entry.get("t") == "sub" and "rid" not in entry:
            entry = {**entry, "id_number": mask_id(entry["id_number"]), "rid": self.rid(entry["id_number"]),
                     "fields": {k: v for k, v in entry["fields"].items() if k in REPLAY_FIELDS}}
        return json.dumps(entry, ensure_ascii=False) + "\n"

    def _compact(self) -> None:
        """Keep the newest JOURNAL_KEEP lines (written beside, then renamed over: never half a journal)."""
        from kiosk.core.storage import write_text_atomic

        assert self.state_path is not None and self._journal is not None
        self._journal.close()
        lines = []
        for ln in self.state_path.read_text(encoding="utf-8").splitlines()[-JOURNAL_KEEP:]:
            try:
                lines.append(self._journal_line(json.loads(ln)).rstrip("\n"))  # masks a pre-fault-3 journal too
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
        write_text_atomic(self.state_path, "".join(ln + "\n" for ln in lines), mode=0o600)
        self._journal = open(self.state_path, "a", encoding="utf-8")
        self._journal_lines = len(lines)
        log.info("journal %s compacted to its newest %d entries", self.state_path.name, len(lines))

    def _replay(self, path: Path) -> None:
        by_rid: dict[str, str] | None = None
        self._unmasked = False
        lines = path.read_text(encoding="utf-8").splitlines()
        self._journal_lines = len(lines)
        for line in lines:
            try:
                e = json.loads(line)
            except ValueError:
                continue  # a torn last line from a crash: that request was never answered
            t = e.pop("t", None)
            if t == "sub":
                rid = e.pop("rid", None)
                self._unmasked |= rid is None
                if rid is not None:
                    if by_rid is None:
                        by_rid = {self.rid(i): i for i in self.world.residents}
                    e["id_number"] = by_rid.get(rid, e["id_number"])
                self.submissions[e["acceptance_no"]] = e
                r = self.world.residents.get(e["id_number"])
                if r is not None:
                    rules.apply(e["item_no"], r, e["fields"], _dt.date.fromisoformat(e["accepted_at"][:10]))
            elif t == "idem":
                self.idem[e["key"]] = e
            elif t == "ticket":
                self.tickets[e["fault_no"]] = e
            elif t == "reply":
                self.replies.append(e)

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    # helpers ------------------------------------------------------------
    def resident(self, id_number: str | None) -> simdata.ResidentRec:
        if not id_number:
            raise ApiError(400, "id_required", "id_number is required", "请先刷身份证或社保卡。")
        n = normalize(id_number)
        problem = id_problem(n)
        if problem:
            raise ApiError(400, "invalid_id_number", problem, "身份证号码有误，请核对后重试。")
        r = self.world.residents.get(n)
        if r is None:
            raise ApiError(404, "not_found", f"no resident {mask_id(n)}", "未查询到您的参保信息，请到乡镇（街道）便民服务中心柜台咨询。")
        return r

    def resident_out(self, r: simdata.ResidentRec) -> ResidentOut:
        today = self.today()
        return ResidentOut(id_number=r.id_number, name=r.name, gender=r.gender, birth_date=r.birth_date,
                           age=age_on(r.id_number, today), county=r.county, ss_number=r.id_number,
                           card_number=r.card_number, card_state=r.effective_card_state(today),  # type: ignore[arg-type]
                           phone=r.phone, address=r.address)

    def status_out(self, r: simdata.ResidentRec) -> ResidentStatusOut:
        return resident_status(r, self.today())

    def next_acceptance_no(self) -> str:
        return f"SX{self.today():%Y%m%d}{len(self.submissions) + 1:06d}"

    def status_of(self, sub: dict[str, Any]) -> str:
        if sub["status"] == "completed":
            return "completed"
        exp = sub.get("expected_completion")
        if exp and self.today() >= _dt.date.fromisoformat(exp):
            return "completed"
        if exp and self.today() > _dt.date.fromisoformat(sub["accepted_at"][:10]):
            return "processing"
        return "accepted"


# ---------------------------------------------------------------------------
# Fault injection (pure ASGI: it must be able to drop a connection)

_DROP_MSG = "ASGI callable returned without completing response."


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return _DROP_MSG not in record.getMessage()


class FaultMiddleware:
    def __init__(self, app, state: SimState) -> None:
        self.app = app
        self.state = state
        logging.getLogger("uvicorn.error").addFilter(_QuietDrops())

    async def _drop(self, send) -> None:
        # Start an answer and stop half-way: uvicorn closes the connection.
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"400")]})
        await send({"type": "http.response.body", "body": b'{"dropped', "more_body": True})
        self.state.counts["dropped"] += 1

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            return await self.app(scope, receive, send)
        f, rng = self.state.faults, self.state.fault_rng
        if f.latency_ms:
            await asyncio.sleep(f.latency_ms / 1000)
        if f.outage:
            return await self._drop(send)
        if f.error_rate and rng.random() < f.error_rate:
            self.state.counts["injected_errors"] += 1
            status = rng.choice([500, 502, 503])
            body = json.dumps({"error": {"code": "injected", "message": f"injected {status}", "message_zh": "服务平台繁忙"}}).encode()
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        if f.drop_rate and rng.random() < f.drop_rate:
            if rng.random() < 0.5:
                return await self._drop(send)  # lost before the platform saw it

            async def swallow(message):  # the platform did the work; the answer is lost
                pass
            await self.app(scope, receive, swallow)
            return await self._drop(send)
        return await self.app(scope, receive, send)


class AuthMiddleware:
    """Verify the device signature (kiosk.platform.signing) before any parsing of the request."""

    def __init__(self, app, state: SimState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/v1/") or scope["path"] == "/v1/health":
            return await self.app(scope, receive, send)
        state = self.state
        state.counts["requests"] += 1
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        device = headers.get(signing.HEADER_DEVICE.lower(), "")
        ts = headers.get(signing.HEADER_TIMESTAMP.lower(), "")
        sig = headers.get(signing.HEADER_SIGNATURE.lower(), "")
        target = scope.get("raw_path", scope["path"].encode()).decode("latin-1")
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        error = None
        if not device or not ts or not sig:
            error = ("unsigned", "missing device signature headers", "本机未通过服务平台认证。")
        elif not signing.verify(state.device_secret, sig, scope["method"], target, ts, device, body):
            error = ("bad_signature", f"bad signature from device {device}", "本机未通过服务平台认证。")
        else:
            try:
                skew = abs(time.time() - float(ts))
            except ValueError:
                skew = float("inf")
            if skew > signing.MAX_SKEW_S:
                error = ("stale_signature", f"timestamp off by {skew:.0f}s", "本机时钟与服务平台不一致，请联系技术人员校准时间。")
        if error is not None:
            state.counts["auth_rejected"] += 1
            payload = json.dumps({"error": dict(zip(("code", "message", "message_zh"), error))}, ensure_ascii=False).encode()
            await send({"type": "http.response.start", "status": 401,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
            await send({"type": "http.response.body", "body": payload})
            return
        scope.setdefault("state", {})["device_id"] = device
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()
        await self.app(scope, replay, send)


# ---------------------------------------------------------------------------
# App


def create_app(seed: int = 42, *, today: _dt.date | None = None, state_path: str | Path | None = None,
               device_secret: str = "dev-secret-change-me", n_residents: int = 3000,
               admin_token: str | None = None) -> FastAPI:
    """``admin_token``: the bearer token every ``/admin`` route requires (issue 12, fault 3);
    None = a random one nobody knows (admin routes closed)."""
    state = SimState(seed, today, Path(state_path) if state_path else None, device_secret, n_residents)
    token = admin_token or secrets.token_urlsafe(32)
    if today is not None:
        state._live_clock = False
    @contextlib.asynccontextmanager
    async def lifespan(_app):
        yield
        state.close()

    app = FastAPI(
        lifespan=lifespan,
        title="就近办 provincial platform API (kiosk contract)",
        version=API_VERSION,
        description=("The API the village self-service kiosk needs from the provincial employment & social-security "
                     "platform. Every /v1 call except /v1/health carries the device signature headers "
                     "(X-Device-Id, X-Timestamp, X-Signature; see docs/platform.md). Submissions carry an "
                     "Idempotency-Key: the same key always yields the same answer and is recorded once."),
    )
    app.state.sim = state
    app.add_middleware(AuthMiddleware, state=state)
    app.add_middleware(FaultMiddleware, state=state)  # outermost: faults hit before anything else

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return JSONResponse({"error": {"code": exc.code, "message": exc.message, "message_zh": exc.message_zh}},
                            status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        msg = "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors())[:500]
        return JSONResponse({"error": {"code": "invalid_request", "message": msg, "message_zh": "请求数据有误，请联系工作人员。"}},
                            status_code=400)

    async def auth(request: Request) -> str:
        """The device id AuthMiddleware verified for this request."""
        return request.scope["state"]["device_id"]

    def item_or_404(item_no: int, kinds: tuple[str, ...]):
        item = ITEMS.get(item_no)
        if item is None or item.kind not in kinds:
            raise ApiError(404, "no_such_item", f"item {item_no} is not one of {kinds}", "该服务事项不能在自助机办理。")
        return item

    def page_of(item_no: int, title: str, table: enquiries.Table, page: int, page_size: int) -> EnquiryResponse:
        cols, rows, notice, summary = table
        start = (page - 1) * page_size
        return EnquiryResponse(item_no=item_no, title_zh=title, columns=[ColumnOut(key=k, label_zh=l) for k, l in cols],
                               rows=rows[start:start + page_size], total=len(rows), page=page, page_size=page_size,
                               notice_zh=notice, summary=summary)

    def run_enquiry(item_no: int, id_number: str | None, params: dict, page: int, page_size: int) -> EnquiryResponse:
        item = item_or_404(item_no, ("enquiry", "recommendation"))
        r = None if item_no in PUBLIC_ENQUIRIES and not id_number else state.resident(id_number)
        try:
            table = enquiries.enquire(item_no, state.world, r, params, state.today())
        except enquiries.EnquiryRefused as exc:
            status = 404 if exc.refusal.code == "no_record" else 422
            raise ApiError(status, exc.refusal.code, f"enquiry {item_no} refused: {exc.refusal.code}", exc.refusal.reason_zh) from None
        return page_of(item_no, item.title, table, page, page_size)

    R: dict[str, Any] = dict(responses=ERRORS)

    @app.get("/v1/health", response_model=HealthResponse, tags=["kiosk"])
    async def health():
        """Liveness probe (no signature needed)."""
        return HealthResponse(status="ok", version=API_VERSION, seed=state.seed, today=state.today())

    @app.get("/v1/items", response_model=ItemsResponse, tags=["kiosk"], **R)
    async def items(request: Request):
        await auth(request)
        return ItemsResponse(items=[ItemOut(item_no=i.no, title_zh=i.title, kind=i.kind, time_limit_days=i.days)  # type: ignore[arg-type]
                                    for i in ITEMS.values()])

    @app.post("/v1/residents/lookup", response_model=ResidentOut, tags=["residents"], **R)
    async def lookup(request: Request, body: LookupRequest):
        """Resident by ID number or social-security number (POST: personal numbers never go into URLs or access logs)."""
        await auth(request)
        return state.resident_out(state.resident(body.id_number or body.ss_number))

    @app.post("/v1/residents/status", response_model=ResidentStatusOut, tags=["residents"], **R)
    async def status(request: Request, body: LookupRequest):
        """The facts the guides' conditions need (student, employment, unemployment, training, pensions,
        benefit groups, card reissue), so the kiosk decides eligibility from data rather than leaving it to the counter."""
        await auth(request)
        return state.status_out(state.resident(body.id_number or body.ss_number))

    @app.post("/v1/essc/verify", response_model=EsscVerifyResponse, tags=["residents"],
              responses={**ERRORS, 410: {"model": ErrorResponse, "description": "QR code expired or already used"}})
    async def essc_verify(request: Request, body: EsscVerifyRequest):
        """Verify a scanned e-SSC QR code. Single use: a second verification fails with qr_replayed."""
        await auth(request)
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
                raise ApiError(422, "account_locked", f"staff account {s.username} locked (unused > 3 months)",
                               "该账号超过3个月未登录已被锁定，请联系县级系统管理员解锁。")
            s.last_login = state.today()
            return EsscVerifyResponse(kind="staff", staff=StaffOut(username=s.username, name=s.name, id_number=s.id_number,
                                                                   roles=s.roles, county=s.county, last_login=s.last_login))  # type: ignore[arg-type]
        return EsscVerifyResponse(kind="resident", resident=state.resident_out(state.resident(claims.subject)))

    @app.post("/v1/enquiries/{item_no}", response_model=EnquiryResponse, tags=["enquiries"], **R)
    async def enquiry(request: Request, item_no: int, body: EnquiryRequest):
        """Enquiry or recommendation ``item_no`` of the 40-item list, one page, as a generic table."""
        await auth(request)
        return run_enquiry(item_no, body.id_number, body.params, body.page, body.page_size)

    @app.post("/v1/recommendations/jobs", response_model=EnquiryResponse, tags=["enquiries"], **R)
    async def recommend_jobs(request: Request, body: RecommendJobsRequest):
        """Jobs matched to a registered seeker (item 2 fixed, item 5 gig)."""
        await auth(request)
        return run_enquiry(2 if body.kind == "fixed" else 5, body.id_number, {}, body.page, body.page_size)

    @app.post("/v1/recommendations/seekers", response_model=EnquiryResponse, tags=["enquiries"], **R)
    async def recommend_seekers(request: Request, body: RecommendSeekersRequest):
        """Gig seekers matched to a registered gig employer (item 8)."""
        await auth(request)
        return run_enquiry(8, body.id_number, {}, body.page, body.page_size)

    @app.post("/v1/applications/{item_no}", response_model=AcceptanceOut, status_code=201, tags=["applications"],
              responses={**ERRORS, 409: {"model": ErrorResponse, "description": "Idempotency-Key reused with a different request"}})
    async def submit(request: Request, item_no: int, body: ApplicationRequest,
                     idempotency_key: str = Header(..., alias="Idempotency-Key", min_length=8, max_length=128)):
        """Application or registration ``item_no``. Same Idempotency-Key → same answer, recorded once."""
        device = await auth(request)
        key = f"{device}:{idempotency_key}"
        digest = hashlib.sha256(await request.body() + request.url.path.encode()).hexdigest()
        prior = state.idem.get(key)
        if prior is not None:
            if prior["digest"] != digest:
                raise ApiError(409, "idempotency_mismatch", "Idempotency-Key reused with a different request",
                               "重复提交的数据不一致，请联系工作人员。")
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
            payload = {"error": {"code": refusal.code, "message": f"item {item_no} refused: {refusal.code}", "message_zh": refusal.reason_zh}}
        else:
            rules.apply(item_no, r, body.fields, today)
            acc_no = state.next_acceptance_no()
            expected = working_days_after(today, item.days) if item.days else today
            status_s = "accepted" if item.days else "completed"
            extra = ""
            if item_no == 22:
                extra = f"补贴标准{simdata.LEVELS[str(body.fields['level'])]}元。"
            msg = (f"{item.title}已受理，受理编号{acc_no}。" + extra +
                   ("已即时办结。" if not item.days else f"预计{expected:%Y年%m月%d日}前办结。"))
            now = state.now_iso()
            sub = {"acceptance_no": acc_no, "item_no": item_no, "id_number": r.id_number, "fields": body.fields,
                   "photo_id": body.photo_id, "device_id": device, "idempotency_key": idempotency_key,
                   "accepted_at": now, "status": status_s, "expected_completion": str(expected)}
            state.submissions[acc_no] = sub
            state._record({"t": "sub", **sub})
            status = 201
            payload = AcceptanceOut(acceptance_no=acc_no, item_no=item_no, status=status_s, status_zh=STATUS_ZH[status_s],  # type: ignore[arg-type]
                                    expected_completion=expected, accepted_at=now, message_zh=msg).model_dump(mode="json")
            log.info("accepted item %d for %s as %s (device %s)", item_no, mask_id(r.id_number), acc_no, device)
        entry = {"key": key, "digest": digest, "status": status, "body": payload}
        state.idem[key] = entry
        state._record({"t": "idem", **entry})
        return JSONResponse(payload, status_code=status)

    @app.get("/v1/applications/{acceptance_no}", response_model=TrackingOut, tags=["applications"], **R)
    async def track(request: Request, acceptance_no: str):
        """Progress of an application by its acceptance number."""
        await auth(request)
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
        return TrackingOut(acceptance_no=acceptance_no, item_no=item.no, status=status, status_zh=STATUS_ZH[status],  # type: ignore[arg-type]
                           expected_completion=_dt.date.fromisoformat(sub["expected_completion"]), history=history)

    @app.post("/v1/photos", response_model=PhotoOut, tags=["applications"],
              # OpenAPI 3.1 names a raw binary body by its media type; 3.0's `format: binary`
              # string is wrong in 3.1 (openapi-core rejects the bytes as "not a string").
              openapi_extra={"requestBody": {"required": True, "content": {
                  "image/jpeg": {"schema": {"contentMediaType": "image/jpeg"}},
                  "image/png": {"schema": {"contentMediaType": "image/png"}}}}},
              responses={**ERRORS, 413: {"model": ErrorResponse, "description": "photo larger than 5 MB"}})
    async def upload_photo(request: Request):
        """Upload an eligibility-certification photo (raw JPEG/PNG body). Content-addressed, so idempotent."""
        await auth(request)
        data = await request.body()
        ctype = request.headers.get("content-type", "")
        if ctype not in ("image/jpeg", "image/png") or not data:
            raise ApiError(400, "bad_photo", f"unsupported photo content-type {ctype!r} or empty body", "照片格式有误，请重新拍照。")
        if len(data) > MAX_PHOTO_BYTES:
            raise ApiError(413, "photo_too_large", f"photo of {len(data)} bytes", "照片过大，请重新拍照。")
        digest = hashlib.sha256(data).hexdigest()
        state.photos[f"P{digest[:24]}"] = data
        return PhotoOut(photo_id=f"P{digest[:24]}", sha256=digest, size=len(data))

    @app.post("/v1/faults", response_model=FaultTicketOut, status_code=201, tags=["service"], **R)
    async def report_fault(request: Request, body: FaultRequest,
                           idempotency_key: str = Header(..., alias="Idempotency-Key", min_length=8, max_length=128)):
        """Report a problem (seeds/004 annex 4): system/function problems go to the provincial team, guidance questions to the county bureau."""
        device = await auth(request)
        key = f"{device}:fault:{idempotency_key}"
        if key in state.idem:
            return JSONResponse(state.idem[key]["body"], status_code=201, headers={"Idempotent-Replayed": "true"})
        today = state.today()
        routed = "县人社部门" if body.category == "guidance" else "省工作专班"
        due = working_days_after(today, 3 if body.category == "guidance" else 5)
        fault_no = f"GZ{today:%Y%m%d}{len(state.tickets) + 1:05d}"
        ticket = {"fault_no": fault_no, "category": body.category, "routed_to_zh": routed, "reply_due": str(due),
                  "device_id": device, "description": body.description, "contact": body.contact, "at": state.now_iso()}
        state.tickets[fault_no] = ticket
        state._record({"t": "ticket", **ticket})
        reply = {"fault_no": fault_no, "at": state.now_iso(), "by_zh": routed,
                 "text_zh": f"已收到问题反映，{routed}将于{due:%Y年%m月%d日}前反馈处理结果。"}
        state.replies.append(reply)
        state._record({"t": "reply", **reply})
        out = FaultTicketOut(fault_no=fault_no, category=body.category, routed_to_zh=routed, reply_due=due).model_dump(mode="json")
        state.idem[key] = {"key": key, "digest": "", "status": 201, "body": out}
        state._record({"t": "idem", **state.idem[key]})
        return JSONResponse(out, status_code=201)

    @app.get("/v1/faults/replies", response_model=FaultRepliesResponse, tags=["service"], **R)
    async def fault_replies(request: Request, fault_no: str | None = Query(None)):
        """Replies to this device's fault reports (all, or one ticket's)."""
        device = await auth(request)
        mine = {n for n, t in state.tickets.items() if t["device_id"] == device}
        out = [FaultReplyOut(**rp) for rp in state.replies if rp["fault_no"] in mine and (fault_no is None or rp["fault_no"] == fault_no)]
        return FaultRepliesResponse(replies=out)

    @app.post("/v1/heartbeat", response_model=HeartbeatResponse, tags=["service"], **R)
    async def heartbeat(request: Request, body: HeartbeatRequest):
        """Kiosk liveness and status (outbox depth, devices) for the county's monitoring."""
        device = await auth(request)
        state.heartbeats[device] = {"at": state.now_iso(), "status": body.status}
        return HeartbeatResponse(server_time=state.now_iso(), ok=True)

    # -- admin (simulator only, not part of the contract) ---------------------
    async def admin_only(request: Request) -> None:
        """Admin routes mint staff login QR codes and show full ID numbers: bearer token only."""
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
            state.counts["auth_rejected"] += 1
            log.warning("admin request %s %s refused: %s", request.method, request.url.path,
                        "no token" if not given else "wrong token")
            raise ApiError(401, "admin_token_required", "admin routes need Authorization: Bearer <token>",
                           "需要模拟平台的管理令牌。")

    admin: dict[str, Any] = dict(include_in_schema=False, dependencies=[Depends(admin_only)])

    @app.get("/admin/submissions", **admin)
    async def admin_submissions():
        return {"submissions": list(state.submissions.values())}

    @app.get("/admin/stats", **admin)
    async def admin_stats():
        return {**state.counts, "submissions": len(state.submissions), "idempotency_keys": len(state.idem),
                "photos": len(state.photos), "tickets": len(state.tickets), "heartbeats": state.heartbeats}

    @app.get("/admin/fault-injection", **admin)
    async def get_faults():
        return state.faults.__dict__

    @app.post("/admin/fault-injection", **admin)
    async def set_faults(body: dict = Body(...)):
        for k, v in body.items():
            if k in Faults.__dataclass_fields__:
                setattr(state.faults, k, type(getattr(Faults(), k))(v))
        log.warning("fault injection now %s", state.faults)
        return state.faults.__dict__

    @app.post("/admin/essc/issue", **admin)
    async def issue_qr(body: dict = Body(...)):
        lifetime = int(body.get("lifetime", 60))
        if body.get("username"):
            if body["username"] not in state.world.staff:
                raise ApiError(404, "not_found", "unknown staff", "未查询到该工作人员账号。")
            text, exp = state.essc.issue("staff", body["username"], time.time(), lifetime)
        else:
            r = state.resident(body.get("id_number"))
            text, exp = state.essc.issue("resident", r.id_number, time.time(), lifetime)
        return {"qr_text": text, "expires_at": exp}

    @app.get("/admin/residents/sample", **admin)
    async def sample(n: int = 10, qualifies: int | None = None, offset: int = 0):
        return {"residents": sample_residents(state, n, qualifies, offset)}

    @app.get("/admin/staff", **admin)
    async def staff():
        today = state.today()
        return {"staff": [{"username": s.username, "roles": s.roles, "county": s.county, "last_login": str(s.last_login),
                           "locked": s.locked(today)} for s in state.world.staff.values()]}

    @app.post("/admin/clock", **admin)
    async def clock(body: dict = Body(...)):
        state.clock_offset = _dt.timedelta(days=float(body.get("offset_days", 0)))
        return {"today": str(state.today())}

    @app.post("/admin/faults/{fault_no}/reply", **admin)
    async def admin_reply(fault_no: str, body: dict = Body(...)):
        if fault_no not in state.tickets:
            raise ApiError(404, "not_found", "unknown fault", "未查询到该问题。")
        reply = {"fault_no": fault_no, "at": state.now_iso(), "by_zh": body.get("by_zh", state.tickets[fault_no]["routed_to_zh"]),
                 "text_zh": body.get("text_zh", "")}
        state.replies.append(reply)
        state._record({"t": "reply", **reply})
        return reply

    return app


def resident_status(r: simdata.ResidentRec, today: _dt.date) -> ResidentStatusOut:
    groups = [g for g, on in (("enterprise_pension", r.emp_receiving), ("institution_pension", r.institution_pension),
                              ("resident_pension", r.res_receiving), ("work_injury_1_4", 1 <= r.injury_level <= 4),
                              ("survivor_dependant", r.survivor_allowance)) if on]
    regs = set(r.registrations)
    if r.unemployed_registered:
        regs.add("unemployment")
    if r.jyc_cert:
        regs.add("employment_certificate")
    if r.training_intent:
        regs.add("training_intention")
    if r.training_intent or r.training_enrolments:
        regs.add("training_referral")  # as the item-18 enquiry sees it: registered intent gets referrals
    contributing = r.emp_insured and r.employment in ("employed", "flexible") and not r.emp_receiving \
        and r.employer_kind != "institution"
    return ResidentStatusOut(
        id_number=r.id_number,
        student=StudentOut(full_time=r.student, graduating_this_year=r.graduating),
        employment=EmploymentOut(status=r.employment, employer_kind=r.employer_kind,  # type: ignore[arg-type]
                                 contributing_employee_pension_this_year=contributing, away_from_home=r.away,
                                 able_to_work=r.able_to_work, working_age_limit=simdata.working_age_limit(r)),
        unemployment=UnemploymentOut(registered=r.unemployed_registered, registered_on=r.unemployed_since,
                                     involuntary=r.involuntary, reason_zh=r.unemployment_reason,
                                     insurance_months=r.ui_months, receiving=r.ui_receiving),
        training=TrainingOut(subsidised_this_year=r.subsidised_training_this_year, intention_registered=r.training_intent,
                             enrolments=len(r.training_enrolments),
                             certificates=[CertificateOut(name=c["name"], kind=c["kind"], issued=_dt.date.fromisoformat(c["issued"]))
                                           for c in r.certificates]),
        pensions=PensionsOut(
            enterprise=EnterprisePensionOut(insured=r.emp_insured, months=r.emp_months, receiving=r.emp_receiving),
            resident=ResidentPensionOut(enrolled=r.res_enrolled, years=r.res_years, receiving=r.res_receiving,
                                        paused=r.res_paused, scheme_start=r.res_start, gap_years=r.res_gap_years,
                                        makeup_eligible=simdata.makeup_eligible(r, today),
                                        supplementary_enrolled=r.supp_enrolled, supplementary_receiving=r.supp_receiving),
            institution_receiving=r.institution_pension),
        recipient_groups=groups,  # type: ignore[arg-type]
        card=CardStatusOut(state=r.effective_card_state(today), reissue=r.card_reissue),  # type: ignore[arg-type]
        registrations=sorted(regs),  # type: ignore[arg-type]
    )


def resident_facts(state: SimState, r: simdata.ResidentRec) -> dict[str, Any]:
    today = state.today()
    qualifies = [n for n, it in ITEMS.items() if it.kind == "application" and rules.qualifies(n, r, today)]
    can_enquire = []
    for n, it in ITEMS.items():
        if it.kind in ("enquiry", "recommendation"):
            try:
                enquiries.enquire(n, state.world, r, {}, today)
                can_enquire.append(n)
            except enquiries.EnquiryRefused:
                pass
    return {"id_number": r.id_number, "name": r.name, "gender": r.gender, "age": r.age(today), "county": r.county,
            "employment": r.employment, "student": r.student, "card_state": r.effective_card_state(today),
            "employee_pension": {"insured": r.emp_insured, "months": r.emp_months, "receiving": r.emp_receiving},
            "resident_pension": {"enrolled": r.res_enrolled, "years": r.res_years, "receiving": r.res_receiving,
                                 "paused": r.res_paused, "supplementary": r.supp_enrolled},
            "unemployment_insurance_months": r.ui_months, "registrations": sorted(r.registrations),
            "qualifies": qualifies, "has_records_for": can_enquire,
            "status": resident_status(r, today).model_dump(mode="json")}


def sample_residents(state: SimState, n: int, qualifies: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
    out = []
    today = state.today()
    for r in list(state.world.residents.values())[offset:]:
        if qualifies is not None:
            want = qualifies > 0
            if rules.qualifies(abs(qualifies), r, today) != want:
                continue
        out.append(resident_facts(state, r))
        if len(out) >= n:
            break
    return out


def openapi_document() -> dict[str, Any]:
    """The contract as served by the simulator (what docs/platform-openapi.json must equal)."""
    app = create_app(0, today=_dt.date(2026, 1, 1), n_residents=1)
    return app.openapi()
