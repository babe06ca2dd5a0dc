"""``HttpPlatform``: the ``Platform`` adapter for the HTTP contract (docs/platform-openapi.json).

The only module of the kiosk that knows HTTP. Properties:

* connect/read timeouts, and a hard per-attempt deadline (connect + read
  timeout) enforced on every socket read, so a slow-loris answer trickling a
  byte at a time fails with ``Timeout`` instead of hanging;
* retries with exponential backoff and full jitter for idempotent calls only:
  enquiries, lookups, tracking, heartbeat, photo upload (content-addressed) and
  keyed submissions/fault reports (the Idempotency-Key makes them safe).
  ``verify_essc`` is single-use on the platform side, so it is retried only
  when the request provably never left (connection refused);
* an ``Idempotency-Key`` header on every submission;
* an HMAC-SHA256 device signature over method, path, timestamp, device id and
  body (``kiosk.platform.signing``);
* TLS certificate verification on for https URLs (optionally against a
  province's CA bundle); it cannot be switched off.

Every failure is one of the typed errors in ``kiosk.platform.adapter``.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import quote

import httpcore
import httpx

from kiosk.core.idnumber import scrub
from kiosk.platform import signing
from kiosk.platform.adapter import (
    Acceptance,
    AuthError,
    BadResponse,
    Column,
    EnquiryResult,
    EsscIdentity,
    FaultReply,
    FaultTicket,
    HeartbeatAck,
    PhotoRef,
    Refused,
    Resident,
    ResidentStatus,
    StaffAccount,
    Timeout,
    TrackEvent,
    Tracking,
    Unreachable,
)

log = logging.getLogger("kiosk.platform")

QR_MAX_CHARS = 4096  # the contract's limit on qr_text (docs/platform-openapi.json)
QR_MALFORMED_ZH = "这不是电子社保卡二维码，请在手机上打开电子社保卡二维码后重新扫码。"
UNREADABLE_TEXT_ZH = "填写的内容含有无法识别的字符，请重新输入。"
MAX_ANSWER_BYTES = 8 * 1024 * 1024  # far above any contract answer; a bigger one is refused, not buffered
MAX_MESSAGE_CHARS = 200  # platform-supplied texts shown on screen or logged


def _clean_message(text: str) -> str:
    """A platform-supplied message, safe to log or show: no control characters, bounded, ID numbers masked."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    if len(cleaned) > MAX_MESSAGE_CHARS:
        cleaned = cleaned[:MAX_MESSAGE_CHARS] + "…"
    return scrub(cleaned)


T = TypeVar("T")

# ---------------------------------------------------------------------------
# A per-thread deadline applied to every socket operation of a request.


class _Deadline(threading.local):
    at: float | None = None

    def bound(self, timeout: float | None, exc: type[Exception]) -> float | None:
        if self.at is None:
            return timeout
        left = self.at - time.monotonic()
        if left <= 0:
            raise exc("request deadline passed")
        return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, dl: _Deadline) -> None:
        self._inner, self._dl = inner, dl

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._dl.bound(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._dl.bound(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, self._dl.bound(timeout, httpcore.ConnectTimeout)),
            self._dl,
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, dl: _Deadline) -> None:
        self._inner = httpcore.SyncBackend()
        self._dl = dl

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host, port, self._dl.bound(timeout, httpcore.ConnectTimeout), local_address, socket_options
        )
        return _DeadlineStream(stream, self._dl)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:  # pragma: no cover
        return _DeadlineStream(self._inner.connect_unix_socket(path, timeout, socket_options), self._dl)

    def sleep(self, seconds: float) -> None:  # pragma: no cover
        self._inner.sleep(seconds)


# ---------------------------------------------------------------------------
# Strict parsing of answers: a contract violation is a BadResponse, never a KeyError later.


def _get(obj: Any, key: str, types: type | tuple[type, ...], *, optional: bool = False) -> Any:
    if not isinstance(obj, dict):
        raise BadResponse(f"expected an object holding {key!r}, got {type(obj).__name__}")
    if key not in obj or obj[key] is None:
        if optional:
            return None
        raise BadResponse(f"answer lacks {key!r}")
    value = obj[key]
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        raise BadResponse(f"{key!r} has type bool")
    if not isinstance(value, types):
        raise BadResponse(f"{key!r} has type {type(value).__name__}")
    return value


def _date(obj: Any, key: str, *, optional: bool = False) -> _dt.date | None:
    text = _get(obj, key, str, optional=optional)
    if text is None:
        return None
    try:
        return _dt.date.fromisoformat(text)
    except ValueError:
        raise BadResponse(f"{key!r} is not a date") from None


def _resident(d: Any) -> Resident:
    return Resident(
        id_number=_get(d, "id_number", str),
        name=_get(d, "name", str),
        gender=_get(d, "gender", str),
        birth_date=_date(d, "birth_date"),  # type: ignore[arg-type]
        age=_get(d, "age", int),
        county=_get(d, "county", str),
        ss_number=_get(d, "ss_number", str),
        card_number=_get(d, "card_number", str),
        card_state=_get(d, "card_state", str),
        phone=_get(d, "phone", str, optional=True) or "",
        address=_get(d, "address", str, optional=True) or "",
    )


def _opt(obj: Any, key: str, types: type | tuple[type, ...]) -> Any:
    """An optional part of the status record: absent or null means "the platform does not say"."""
    return _get(obj, key, types, optional=True) if isinstance(obj, dict) else None


def _status(d: Any) -> ResidentStatus:
    st, emp, un = _opt(d, "student", dict), _opt(d, "employment", dict), _opt(d, "unemployment", dict)
    tr, pen, card = _opt(d, "training", dict), _opt(d, "pensions", dict), _opt(d, "card", dict)
    ent, res = _opt(pen, "enterprise", dict), _opt(pen, "resident", dict)
    certs = _opt(tr, "certificates", list)
    if certs is not None and not all(isinstance(c, dict) for c in certs):
        raise BadResponse("certificates must be objects")
    groups, regs = _opt(d, "recipient_groups", list), _opt(d, "registrations", list)
    for name, lst in (("recipient_groups", groups), ("registrations", regs)):
        if lst is not None and not all(isinstance(x, str) for x in lst):
            raise BadResponse(f"{name} must be strings")
    return ResidentStatus(
        id_number=_get(d, "id_number", str),
        student=_opt(st, "full_time", bool),
        graduating_this_year=_opt(st, "graduating_this_year", bool),
        employment=_opt(emp, "status", str),
        employer_kind=_opt(emp, "employer_kind", str),
        contributing_employee_pension=_opt(emp, "contributing_employee_pension_this_year", bool),
        away_from_home=_opt(emp, "away_from_home", bool),
        able_to_work=_opt(emp, "able_to_work", bool),
        working_age_limit=_opt(emp, "working_age_limit", int),
        unemployment_registered=_opt(un, "registered", bool),
        unemployment_registered_on=_date(un, "registered_on", optional=True) if un else None,
        unemployment_involuntary=_opt(un, "involuntary", bool),
        unemployment_insurance_months=_opt(un, "insurance_months", int),
        receiving_unemployment=_opt(un, "receiving", bool),
        subsidised_training_this_year=_opt(tr, "subsidised_this_year", bool),
        certificates=certs,
        employee_pension_insured=_opt(ent, "insured", bool),
        employee_pension_months=_opt(ent, "months", int),
        employee_pension_receiving=_opt(ent, "receiving", bool),
        resident_pension_enrolled=_opt(res, "enrolled", bool),
        resident_pension_years=_opt(res, "years", int),
        resident_pension_receiving=_opt(res, "receiving", bool),
        resident_pension_paused=_opt(res, "paused", bool),
        resident_pension_start=_date(res, "scheme_start", optional=True) if res else None,
        resident_pension_gap_years=_opt(res, "gap_years", int),
        makeup_eligible=_opt(res, "makeup_eligible", bool),
        supplementary_enrolled=_opt(res, "supplementary_enrolled", bool),
        supplementary_receiving=_opt(res, "supplementary_receiving", bool),
        institution_pension_receiving=_opt(pen, "institution_receiving", bool),
        recipient_groups=groups,
        card_reissue=_opt(card, "reissue", str),
        registrations=regs,
    )


def _essc(d: Any) -> EsscIdentity:
    kind = _get(d, "kind", str)
    if kind == "resident":
        return EsscIdentity("resident", resident=_resident(_get(d, "resident", dict)))
    if kind == "staff":
        s = _get(d, "staff", dict)
        roles = _get(s, "roles", list)
        if not all(isinstance(x, str) for x in roles):
            raise BadResponse("staff roles must be strings")
        return EsscIdentity(
            "staff",
            staff=StaffAccount(
                username=_get(s, "username", str),
                name=_get(s, "name", str),
                id_number=_get(s, "id_number", str),
                roles=roles,
                county=_get(s, "county", str),
                last_login=_date(s, "last_login", optional=True),
            ),
        )
    raise BadResponse(f"unknown identity kind {kind!r}")


def _enquiry(d: Any) -> EnquiryResult:
    cols = [Column(_get(c, "key", str), _get(c, "label_zh", str)) for c in _get(d, "columns", list)]
    rows = _get(d, "rows", list)
    if not all(isinstance(r, dict) for r in rows):
        raise BadResponse("enquiry rows must be objects")
    return EnquiryResult(
        item_no=_get(d, "item_no", int),
        title_zh=_get(d, "title_zh", str),
        columns=cols,
        rows=rows,
        total=_get(d, "total", int),
        page=_get(d, "page", int),
        page_size=_get(d, "page_size", int),
        notice_zh=_get(d, "notice_zh", str, optional=True) or "",
        summary=_get(d, "summary", dict, optional=True) or {},
    )


def _acceptance(d: Any) -> Acceptance:
    return Acceptance(
        acceptance_no=_get(d, "acceptance_no", str),
        status=_get(d, "status", str),
        expected_completion=_date(d, "expected_completion", optional=True),
        item_no=_get(d, "item_no", int),
        message_zh=_get(d, "message_zh", str, optional=True) or "",
        accepted_at=_get(d, "accepted_at", str, optional=True) or "",
    )


def _tracking(d: Any) -> Tracking:
    history = [
        TrackEvent(_get(e, "at", str), _get(e, "status", str), _get(e, "note_zh", str))
        for e in _get(d, "history", list)
    ]
    return Tracking(
        acceptance_no=_get(d, "acceptance_no", str),
        item_no=_get(d, "item_no", int),
        status=_get(d, "status", str),
        status_zh=_get(d, "status_zh", str),
        expected_completion=_date(d, "expected_completion", optional=True),
        history=history,
    )


# ---------------------------------------------------------------------------


class HttpPlatform:
    """``Platform`` over HTTP. Thread-safe (httpx.Client is); create one per kiosk."""

    def __init__(
        self,
        base_url: str,
        device_id: str,
        device_secret: str,
        connect_timeout: float = 3.0,
        read_timeout: float = 8.0,
        *,
        max_attempts: int = 3,
        backoff_base: float = 0.2,
        backoff_cap: float = 2.0,
        ca_bundle: str | None = None,
        event_hooks: dict[str, list[Callable[..., Any]]] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.device_id = device_id
        self._secret = device_secret
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_attempts = max(1, max_attempts)
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self._dl = _Deadline()
        verify: bool | ssl.SSLContext = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True
        # TCP_NODELAY: httpcore writes headers and body separately; without it
        # Nagle + delayed ACK add ~40 ms to every POST.
        transport = httpx.HTTPTransport(
            verify=verify, retries=0, socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
        )
        # httpx exposes no hook for the network backend; the pool reads this
        # attribute for every new connection (tested in test_platform_client).
        transport._pool._network_backend = _DeadlineBackend(self._dl)
        self._client = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            timeout=httpx.Timeout(connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout),
            headers={"User-Agent": "kiosk-platform-client/1", "Accept": "application/json"},
            event_hooks=event_hooks or {},
        )

    # -- plumbing ------------------------------------------------------------
    def _send_once(
        self, method: str, path: str, body: bytes, headers: dict[str, str], params: dict[str, str] | None
    ) -> tuple[int, bytes, httpx.Request]:
        request = self._client.build_request(method, path, content=body or None, headers=headers, params=params)
        ts = str(int(time.time()))
        target = request.url.raw_path.decode("ascii")
        request.headers[signing.HEADER_DEVICE] = self.device_id
        request.headers[signing.HEADER_TIMESTAMP] = ts
        request.headers[signing.HEADER_SIGNATURE] = signing.sign(self._secret, method, target, ts, self.device_id, body)
        self._dl.at = time.monotonic() + self.connect_timeout + self.read_timeout
        try:
            response = self._client.send(request, stream=True)
            try:
                chunks = []
                size = 0
                for chunk in response.iter_raw():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > MAX_ANSWER_BYTES:
                        raise BadResponse(
                            f"{method} {path}: answer larger than {MAX_ANSWER_BYTES} bytes; not read",
                            status=response.status_code,
                        )
                    if time.monotonic() > self._dl.at:
                        raise httpx.ReadTimeout("response deadline passed", request=request)
                return response.status_code, b"".join(chunks), request
            finally:
                response.close()
        finally:
            self._dl.at = None

    def _call(
        self,
        method: str,
        path: str,
        parse: Callable[[Any], T],
        *,
        json_body: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
        idempotency_key: str | None = None,
        params: dict[str, str] | None = None,
        retry: bool = True,
    ) -> T:
        headers: dict[str, str] = {}
        body = b""
        if json_body is not None:
            try:
                body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            except (UnicodeEncodeError, TypeError, ValueError) as exc:
                # A lone surrogate (argv, a broken decoder) or a value JSON cannot hold: never sendable.
                raise Refused(
                    UNREADABLE_TEXT_ZH,
                    "unencodable_request",
                    log_message=f"{method} {path}: request body not encodable as JSON/UTF-8 ({type(exc).__name__})",
                ) from None
            headers["Content-Type"] = "application/json"
        elif content is not None:
            body = content
            headers["Content-Type"] = content_type or "application/octet-stream"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                status, raw, _req = self._send_mapped(method, path, body, headers, params)
                result = self._interpret(method, path, status, raw, parse)
                log.debug("%s %s -> %d in %.0f ms", method, path, status, (time.monotonic() - started) * 1000)
                return result
            except (Unreachable, Timeout, BadResponse) as exc:
                transient = isinstance(exc, (Unreachable, Timeout)) or (getattr(exc, "status", None) or 0) >= 500
                never_sent = getattr(exc, "never_sent", False)
                may_retry = transient and (retry or never_sent) and attempt < self.max_attempts
                log.warning(
                    "%s %s failed (attempt %d/%d): %s%s",
                    method,
                    path,
                    attempt,
                    self.max_attempts,
                    exc,
                    "; retrying" if may_retry else "",
                )
                if not may_retry:
                    raise
                time.sleep(random.uniform(0, min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))))

    def _send_mapped(
        self, method: str, path: str, body: bytes, headers: dict[str, str], params: dict[str, str] | None
    ) -> tuple[int, bytes, httpx.Request]:
        """``_send_once`` with transport failures turned into typed errors."""
        where = f"{method} {self.base_url}{path}"
        try:
            return self._send_once(method, path, body, headers, params)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            err = Unreachable(f"{where}: cannot connect ({type(exc).__name__}: {exc})")
            err.never_sent = True  # type: ignore[attr-defined]
            raise err from None
        except httpx.TimeoutException as exc:
            raise Timeout(
                f"{where}: no complete answer within {self.connect_timeout + self.read_timeout:.1f}s "
                f"({type(exc).__name__})"
            ) from None
        except httpx.HTTPError as exc:  # dropped connection, protocol error, decoding error
            raise Unreachable(f"{where}: connection failed ({type(exc).__name__}: {exc})") from None

    def _interpret(self, method: str, path: str, status: int, raw: bytes, parse: Callable[[Any], T]) -> T:
        if 200 <= status < 300:
            try:
                data = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                raise BadResponse(
                    f"{method} {path}: malformed JSON in a {status} answer ({len(raw)} bytes)", status=status
                ) from None
            try:
                return parse(data)
            except BadResponse as exc:
                raise BadResponse(f"{method} {path}: {exc}", status=status) from None
        err = self._error_body(raw)
        code = err.get("code", "") if err else ""
        detail = f"{method} {path}: HTTP {status}" + (
            f" {code}: {err.get('message', '')}" if err else " without error body"
        )
        detail = _clean_message(detail)
        if status in (401, 403):
            raise AuthError(detail, err.get("message_zh") if err and status == 403 else None, code=code or "auth")
        if status in (404, 409, 410, 413, 422) and err:
            raise Refused(err["message_zh"], code or "refused", log_message=detail)
        if status in (429, 502, 503, 504):
            raise Unreachable(detail)
        raise BadResponse(detail, status=status)

    @staticmethod
    def _error_body(raw: bytes) -> dict[str, str] | None:
        try:
            e = json.loads(raw.decode("utf-8"))["error"]
            if (
                isinstance(e, dict)
                and isinstance(e.get("message_zh"), str)
                and e["message_zh"]
                and isinstance(e.get("code"), str)
            ):
                message = e.get("message")
                return {
                    "code": _clean_message(e["code"])[:64],
                    "message_zh": _clean_message(e["message_zh"]),
                    "message": _clean_message(message) if isinstance(message, str) else "",
                }
        except (UnicodeDecodeError, ValueError, KeyError, TypeError):
            pass
        return None

    # -- Platform API ------------------------------------------------------------
    def lookup_resident(self, id_number: str | None = None, *, ss_number: str | None = None) -> Resident:
        return self._call(
            "POST", "/v1/residents/lookup", _resident, json_body={"id_number": id_number, "ss_number": ss_number}
        )

    def resident_status(self, id_number: str) -> ResidentStatus:
        return self._call("POST", "/v1/residents/status", _status, json_body={"id_number": id_number})

    def verify_essc(self, qr_text: str) -> EsscIdentity:
        # What can never be an e-SSC code is refused here, as the platform
        # would (not as "the platform answered badly").
        if not isinstance(qr_text, str) or not qr_text.strip() or len(qr_text) > QR_MAX_CHARS:
            size = len(qr_text) if isinstance(qr_text, str) else type(qr_text).__name__
            raise Refused(
                QR_MALFORMED_ZH,
                "qr_malformed",
                log_message=f"e-SSC QR text refused locally: empty or too long ({size})",
            )
        return self._call("POST", "/v1/essc/verify", _essc, json_body={"qr_text": qr_text}, retry=False)

    def enquiry(
        self,
        item_no: int,
        id_number: str | None,
        params: dict[str, Any] | None = None,
        *,
        page: int = 1,
        page_size: int = 20,
    ) -> EnquiryResult:
        return self._call(
            "POST",
            f"/v1/enquiries/{int(item_no)}",
            _enquiry,
            json_body={"id_number": id_number, "params": params or {}, "page": page, "page_size": page_size},
        )

    def submit(
        self, item_no: int, id_number: str, fields: dict[str, Any], idempotency_key: str, *, photo_id: str | None = None
    ) -> Acceptance:
        body: dict[str, Any] = {"id_number": id_number, "fields": fields}
        if photo_id:
            body["photo_id"] = photo_id
        return self._call(
            "POST", f"/v1/applications/{int(item_no)}", _acceptance, json_body=body, idempotency_key=idempotency_key
        )

    def track(self, acceptance_no: str) -> Tracking:
        return self._call("GET", f"/v1/applications/{quote(acceptance_no, safe='')}", _tracking)

    def upload_photo(self, data: bytes, content_type: str = "image/jpeg") -> PhotoRef:
        return self._call(
            "POST",
            "/v1/photos",
            lambda d: PhotoRef(_get(d, "photo_id", str), _get(d, "sha256", str), _get(d, "size", int)),
            content=data,
            content_type=content_type,
        )

    def recommend_jobs(
        self, id_number: str, kind: str = "fixed", *, page: int = 1, page_size: int = 20
    ) -> EnquiryResult:
        return self._call(
            "POST",
            "/v1/recommendations/jobs",
            _enquiry,
            json_body={"id_number": id_number, "kind": kind, "page": page, "page_size": page_size},
        )

    def recommend_seekers(self, id_number: str, *, page: int = 1, page_size: int = 20) -> EnquiryResult:
        return self._call(
            "POST",
            "/v1/recommendations/seekers",
            _enquiry,
            json_body={"id_number": id_number, "page": page, "page_size": page_size},
        )

    def report_fault(self, category: str, description: str, idempotency_key: str, *, contact: str = "") -> FaultTicket:
        return self._call(
            "POST",
            "/v1/faults",
            lambda d: FaultTicket(
                _get(d, "fault_no", str), _get(d, "routed_to_zh", str), _date(d, "reply_due", optional=True)
            ),
            json_body={"category": category, "description": description, "contact": contact},
            idempotency_key=idempotency_key,
        )

    def fault_replies(self, fault_no: str | None = None) -> list[FaultReply]:
        def parse(d: Any) -> list[FaultReply]:
            return [
                FaultReply(_get(r, "fault_no", str), _get(r, "at", str), _get(r, "by_zh", str), _get(r, "text_zh", str))
                for r in _get(d, "replies", list)
            ]

        return self._call("GET", "/v1/faults/replies", parse, params={"fault_no": fault_no} if fault_no else None)

    def heartbeat(self, status: dict[str, Any]) -> HeartbeatAck:
        return self._call(
            "POST",
            "/v1/heartbeat",
            lambda d: HeartbeatAck(
                _get(d, "server_time", str), _get(d, "ok", bool), _get(d, "message", str, optional=True) or ""
            ),
            json_body={"status": status},
        )

    def items(self) -> list[dict[str, Any]]:
        """The platform's item list (item_no, title_zh, kind, time_limit_days)."""

        def parse(d: Any) -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = _get(d, "items", list)
            for it in out:
                _get(it, "item_no", int), _get(it, "kind", str)
            return out

        return self._call("GET", "/v1/items", parse)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpPlatform:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
