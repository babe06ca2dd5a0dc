"""The simulated province in memory: residents and staff (``data``), submissions, idempotency keys,
photos, fault tickets, heartbeats, the fault-injection settings and the simulated clock.

What must survive a restart (submissions, idempotency keys, tickets, replies) is
appended to a journal file and replayed at start; the journal names residents by
a keyed digest, never by ID number, and is kept bounded.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import json
import logging
import os
import random
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.core.idnumber import age_on, id_problem, mask_id, normalize
from kiosk.platform.simulator import data as simdata
from kiosk.platform.simulator import rules
from kiosk.platform.simulator.errors import ApiError
from kiosk.platform.simulator.essc import EsscIssuer
from kiosk.platform.simulator.models import ResidentOut
from kiosk.platform.simulator.status import ResidentStatusOut, resident_status

log = logging.getLogger("kiosk.platform.sim")

CHINA_TZ = _dt.timezone(_dt.timedelta(hours=8))


@dataclass
class Faults:
    """Fault injection on /v1 (set through /admin/fault-injection or the server's flags)."""

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
                return bool(chinese_calendar.is_workday(d))
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
    """Everything the simulator knows; one per app."""

    def __init__(
        self, seed: int, today: _dt.date | None, state_path: Path | None, device_secret: str, n_residents: int = 3000
    ) -> None:
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
            self._journal = open(fd, "a", encoding="utf-8")  # noqa: SIM115 - the journal stays open for the app's life
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
            entry = {
                **entry,
                "id_number": mask_id(entry["id_number"]),
                "rid": self.rid(entry["id_number"]),
                "fields": {k: v for k, v in entry["fields"].items() if k in REPLAY_FIELDS},
            }
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
        self._journal = open(self.state_path, "a", encoding="utf-8")  # noqa: SIM115 - as in __init__
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
            raise ApiError(
                404,
                "not_found",
                f"no resident {mask_id(n)}",
                "未查询到您的参保信息，请到乡镇（街道）便民服务中心柜台咨询。",
            )
        return r

    def resident_out(self, r: simdata.ResidentRec) -> ResidentOut:
        today = self.today()
        return ResidentOut(
            id_number=r.id_number,
            name=r.name,
            gender=r.gender,
            birth_date=r.birth_date,
            age=age_on(r.id_number, today),
            county=r.county,
            ss_number=r.id_number,
            card_number=r.card_number,
            card_state=r.effective_card_state(today),  # type: ignore[arg-type]
            phone=r.phone,
            address=r.address,
        )

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
