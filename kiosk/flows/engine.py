"""The flow engine: one state machine that runs any of the 40 catalog items.

``ServiceFlow(item, person, platform, outbox, site=...)`` walks

    identify → check conditions → [photo] → [form] → confirm → submit (outbox) → result → done
    identify → check conditions → query → result (paging, filters) → done
    identify → check conditions → [form: pre-fill] → counter checklist → done

and returns a ``Step`` from every call. Screens render a Step generically
(form / confirm / result table / receipt preview) and call the methods named
in ``Step.actions``. The engine never raises for user input or platform
failures: those become ``refused`` or ``error`` steps carrying the platform's
``message_zh`` and whether a retry makes sense. Calls block on the platform
(the UI calls them off the UI thread). Kivy-free.

Which items complete on the kiosk is catalog data (``kiosk_mode`` of each item in
config/catalog.json): the kiosk-channel items (自助机) plus four the list marks
柜面 that the kiosk carries, 21 (certification with a photo) and 38–40 (card
services). Every other item gives the counter checklist (一次性告知), with the
application pre-filled on it.
"""

from __future__ import annotations

import datetime as _dt
import logging
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from kiosk.core import clock as kclock
from kiosk.core.errors import KioskError
from kiosk.flows import fields as fieldmod
from kiosk.flows import payload
from kiosk.flows.catalog import ServiceItem
from kiosk.flows.fields import FieldState
from kiosk.core.idnumber import mask_id, mask_name, mask_phone
from kiosk.core.person import Person
from kiosk.flows.rules import (
    CARD_STATE_FROM_PLATFORM, FactFinder, ResidentFacts, beneficiary_facts, counter_note, evaluate, needs_fields, unverified,
)
from kiosk.core.workdays import CompletionDate, expected_completion
from kiosk.platform.adapter import TRANSIENT_ERRORS, Column, EnquiryResult, Platform, Refused, Resident
from kiosk.receipts.model import STATUS_ACCEPTED, STATUS_COMPLETED, STATUS_QUEUED, Receipt

log = logging.getLogger("kiosk.flows")

# Step kinds
REFUSED, PHOTO, FORM, CONFIRM, RESULT, COUNTER, ERROR, DONE = (
    "refused", "photo", "form", "confirm", "result", "counter", "error", "done")
STEP_KINDS = (REFUSED, PHOTO, FORM, CONFIRM, RESULT, COUNTER, ERROR, DONE)

# Modes
ENQUIRY, APPLICATION, COUNTER_MODE = "enquiry", "application", "counter"

#: Browsing items with filters (township, type, pay).
BROWSE_ITEMS = frozenset({3, 6, 9})
#: Recommendation items ranked by the platform.
RECOMMEND_ITEMS = {2: "fixed", 5: "gig"}
PAGE_SIZE = 10
#: What to hold for the certification photo, in the words of seed 002's guide for item 21
#: ("手持身份证和近期报刊、杂志等能够证明是当前日期"), said plainly.
PHOTO_INSTRUCTION_ZH = "请一手拿身份证，一手拿今天的报纸或最近的杂志，放在脸旁边，对准镜头后点拍照。"
MAX_PHOTO_BYTES = 5 * 1024 * 1024
SUBMIT_WAIT_S = 8.0

CARD_STATE_ZH = {"active": "正常（社保功能已启用）", "lost_temporary": "临时挂失", "lost_formal": "正式挂失",
                 "issued_not_activated": "已领卡，社保功能未启用", "in_production": "制卡中"}
CARD_PROGRESS = ("已申领", "制卡中", "已领卡", "社保功能已启用")
# seeds/002 item 40, 办理须知 3: remind the holder to report the financial function's loss at the bank.
BANK_REMINDER_ZH = "社保卡的金融功能（银行账户）不随本次挂失一同挂失，请及时到发卡银行或拨打银行客服电话办理金融功能挂失。"
TEMP_LOSS_DAYS = 7
PAY_RE = re.compile(r"(\d+)")
#: What to offer after a successful registration (the guides: recommendations follow registration).
FOLLOW_UPS: dict[int, list[int]] = {1: [2, 3], 4: [5, 6], 7: [8], 11: [23], 39: [40]}
_QUOTED = re.compile(r"[“\"]([^”\"]+)[”\"]")


def related_items(text: str, exclude: int = 0) -> list[int]:
    """Items a message names in quotes (“固定工求职登记”), as numbers for buttons."""
    from kiosk.flows.catalog import load_catalog

    by_name = {item.name: item.no for item in load_catalog().items}
    out: list[int] = []
    for name in _QUOTED.findall(text or ""):
        no = by_name.get(name.strip())
        if no and no != exclude and no not in out:
            out.append(no)
    return out


@dataclass(frozen=True)
class Site:
    """Where this kiosk is: printed on receipts and checklists."""

    name: str
    device_id: str
    county: str = ""
    office_phone: str = ""
    office_name: str = ""
    office_address: str = ""
    tracking_url: str = ""

    @classmethod
    def from_config(cls, cfg: Any) -> "Site":
        s = cfg["site"] if "site" in cfg else {}
        county = s.get("county", "")
        return cls(name=s.get("name", ""), device_id=s.get("device_id", ""), county=county,
                   office_phone=s.get("office_phone", ""),
                   office_name=s.get("office_name", "") or (f"{county}乡镇（街道）便民服务中心" if county else ""),
                   office_address=s.get("office_address", ""), tracking_url=s.get("tracking_url", ""))


@dataclass
class Step:
    """What the screen shows now; ``actions`` names the engine methods that make sense."""

    kind: str
    title_zh: str
    message_zh: str = ""
    fields: list[FieldState] = field(default_factory=list)
    summary: list[tuple[str, str]] = field(default_factory=list)
    table: EnquiryResult | None = None
    receipt: Receipt | None = None
    can_back: bool = False
    can_print: bool = False
    can_retry: bool = False
    notes_zh: list[str] = field(default_factory=list)
    #: accepted | queued | refused | failed | shown | counter | cancelled | duplicate (the same
    #: application was already pending or delivered recently: shown, not sent again) | "" (in progress)
    outcome: str = ""
    #: acceptance number (online), local reference (offline) or ""
    reference: str = ""
    #: filters a browse screen offers (township, type, pay) with their current values
    filters: list[FieldState] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    #: item numbers to offer next ("请先办理…" after a refusal, recommendations after a registration)
    related: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe, personal data masked (for `kiosk flow run` and logs)."""
        d: dict[str, Any] = {"kind": self.kind, "title_zh": self.title_zh, "message_zh": self.message_zh,
                             "can_back": self.can_back, "can_print": self.can_print, "can_retry": self.can_retry,
                             "outcome": self.outcome, "reference": self.reference, "actions": self.actions}
        if self.related:
            d["related"] = self.related
        if self.fields:
            d["fields"] = [_masked_field(f) for f in self.fields]
        if self.summary:
            d["summary"] = [[k, v] for k, v in self.summary]
        if self.notes_zh:
            d["notes_zh"] = self.notes_zh
        if self.filters:
            d["filters"] = {f.name: f.value for f in self.filters}
        if self.table is not None:
            t = self.table
            d["table"] = {"title_zh": t.title_zh, "columns": [c.label_zh for c in t.columns], "total": t.total,
                          "page": t.page, "pages": t.pages,
                          "rows": [[str(r.get(c.key, "")) for c in t.columns] for r in t.rows],
                          "notice_zh": t.notice_zh}
        if self.receipt is not None:
            d["receipt"] = {"kind": self.receipt.kind, "acceptance_no": self.receipt.acceptance_no,
                            "status": self.receipt.status}
        return d


def _masked_field(f: FieldState) -> dict[str, Any]:
    d = asdict(f)
    if f.type == "id_number":
        d["value"] = mask_id(f.value)
    elif f.type == "phone":
        d["value"] = mask_phone(f.value)
    return d


#: Records printed on one enquiry receipt (three years of monthly payments); more are summarised
#: by count and period (a list of 100 vacancies would be a metre of paper).
MAX_PRINT_ROWS = 36
_YUAN = re.compile(r"[（(]元[)）]$")


def display_label(column: Column) -> str:
    """A column heading without "（元）": the amounts carry 元 themselves."""
    return _YUAN.sub("", column.label_zh)


def cell_zh(column: Column, value: Any) -> str:
    """A table cell as shown and printed: amounts of a "（元）" column read "1656.00元"."""
    text = "" if value is None else str(value)
    if _YUAN.search(column.label_zh) and text:
        try:
            return f"{float(text):.2f}元"
        except ValueError:
            return text if text.endswith("元") else text + "元"
    return text


def record_period(columns: list[Column], rows: list[dict[str, Any]]) -> str:
    """"2025-06至2026-11": the span of the month/date column of ``rows``, or ""."""
    key = next((c.key for c in columns if c.key in ("month", "date", "period", "paid_on")), None)
    values = sorted(str(r.get(key, "")) for r in rows if key and r.get(key))
    return f"{values[0]}至{values[-1]}" if values else ""


def print_columns(columns: list[Column], limit: int = 4) -> list[Column]:
    """The columns that fit a receipt: internal numbers and publish dates left out, at most ``limit``."""
    keep = [c for c in columns if not c.key.endswith("_id") and c.key not in ("published", "state")]
    return keep[:limit] or columns[:limit]


def mode_of(item: ServiceItem) -> str:
    """enquiry | application | counter: how the kiosk handles ``item`` (the catalog's ``kiosk_mode``)."""
    return item.kiosk_mode


#: What the last screen of a visit says, by outcome. A visit that did not succeed never says 办理完成.
DONE_ZH = {
    "accepted": "办理完成。",
    "queued": "申请已保存在本机，网络恢复后会自动提交。请保管好回执。",
    "shown": "查询完成。",
    "counter": "请带上打印的材料清单，到柜台办理。",
    "cancelled": "已结束，没有提交任何内容。",
    "duplicate": "没有重复提交，之前的申请照常办理。",
    "refused": "本次没有办成。",
    "failed": "本次没有办成。",
    "error": "本次没有办成。",
}


def done_words(outcome: str, prev: "Step | None", site: Site) -> tuple[str, list[str], list[int]]:
    """(message, notes, related items) of the done step: after a refusal or failure, the reason
    again and what to do next (the counter, the phone, the item to do first)."""
    message = DONE_ZH.get(outcome, "已结束。")
    if outcome == "duplicate" and prev is not None and prev.message_zh:
        return prev.message_zh, [], []  # the earlier receipt number stays in sight, with the reprint offer
    if outcome not in ("refused", "failed", "error"):
        return message, [], []
    reason = (prev.message_zh if prev else "").strip()
    if reason:
        message += reason
    notes = list(prev.notes_zh) if prev else []
    if not any("咨询" in n for n in notes):
        where = site.office_name or "乡镇（街道）便民服务中心"
        notes.append(f"下一步：请带上身份证到{where}柜台咨询办理。")
        if site.office_phone:
            notes.append(f"咨询电话：{site.office_phone}")
    return message, notes, list(prev.related) if prev else []


def form_errors_zh(bad: list[FieldState]) -> str:
    """The form's error summary: what to do, naming the fields ("请填写…", "请选择…")."""
    if len(bad) == 1:
        return bad[0].error_zh or ""
    names = "、".join(re.sub(r"（元）$", "", fs.label) for fs in bad)
    return f"还有{len(bad)}项没填好：{names}。请按下面的红字填写。"


def materials_list(text: str) -> list[str]:
    """The guide's materials paragraph as one line per thing to bring."""
    out = []
    for part in re.split(r"[\n；;]+", text or ""):
        part = re.sub(r"^\s*(\d+[.、．]|[①-⑩]|（[一二三四五六七八九十]+）)\s*", "", part).strip(" 。")
        if part:
            out.append(part)
    return out


def _pay_floor(text: str) -> int:
    m = PAY_RE.search(str(text))
    return int(m.group(1)) if m else 0


class ServiceFlow:
    """One resident doing one item. Not thread-safe: one UI worker drives it."""

    def __init__(self, item: ServiceItem, person: Person, platform: Platform, outbox: Any, *, site: Site,
                 today: _dt.date | None = None, page_size: int = PAGE_SIZE, submit_wait: float = SUBMIT_WAIT_S,
                 clock: Callable[[], _dt.datetime] = kclock.now) -> None:
        self.item = item
        self.person = person
        self.platform = platform
        self.outbox = outbox
        self.site = site
        self.mode = mode_of(item)
        self.page_size = page_size
        self.submit_wait = submit_wait
        self._clock = clock
        self._today = today
        self.resident: Resident | None = None
        self.facts: ResidentFacts | None = None
        self._fields = {f.name: fieldmod.field_state(f) for f in item.fields}
        self.answers: dict[str, Any] = {}
        self.photo: bytes | None = None
        self.params: dict[str, Any] = {}
        self.filters: dict[str, str] = {"township": "", "type": "", "min_pay": ""}
        self.result: EnquiryResult | None = None
        self._all_rows: list[dict[str, Any]] | None = None  # local paging when filtering by pay
        self.state = "new"
        self.step: Step | None = None
        self._retry: Callable[[], Step] | None = None
        self.outcome: Any = None
        self.offline = False
        self._finder: FactFinder | None = None

    # -- helpers ---------------------------------------------------------------
    @property
    def today(self) -> _dt.date:
        return self._today or self._clock().date()

    @property
    def id_number(self) -> str:
        return self.person.id_number

    @property
    def name(self) -> str:
        return self.person.name or (self.resident.name if self.resident else "")

    def _title(self) -> str:
        return self.item.name

    def _set(self, step: Step, state: str) -> Step:
        if step.kind in (PHOTO, FORM, CONFIRM):
            self.outcome = None  # back in progress (e.g. after a retry)
        elif step.kind == ERROR and not step.outcome:
            step.outcome = self.outcome = "error"
        if step.can_back and "back" not in step.actions:
            step.actions.append("back")
        self.state = state
        self.step = step
        log.info("item %d for %s: %s (%s)", self.item.no, mask_id(self.id_number), step.kind, state)
        return step

    def _guarded(self, action: Callable[[], Step]) -> Step:
        """Run ``action``; platform trouble becomes an error step that can retry it."""
        try:
            return action()
        except Refused as exc:
            return self._refused(exc.reason_zh)
        except KioskError as exc:
            transient = isinstance(exc, TRANSIENT_ERRORS)
            log.warning("item %d: %s: %s", self.item.no, type(exc).__name__, exc)
            self._retry = action if transient else None
            return self._set(Step(ERROR, self._title(), exc.message_zh, can_retry=transient, can_back=True,
                                  actions=(["retry"] if transient else []) + ["finish"]), "error")

    def _refused(self, reason_zh: str, extra_notes: list[str] | None = None) -> Step:
        notes = list(extra_notes or [])
        place = self.item.guide.place or self.site.office_name
        if place:
            notes.append(f"如有疑问，请到{place.rstrip('。')}咨询。")
        if self.site.office_phone:
            notes.append(f"咨询电话：{self.site.office_phone}")
        self.outcome = "refused"
        return self._set(Step(REFUSED, self._title(), reason_zh, notes_zh=notes, outcome="refused",
                              actions=["finish"], related=related_items(reason_zh, self.item.no)), "refused")

    # -- public API ---------------------------------------------------------------
    def start(self) -> Step:
        """Identify the resident with the platform and check the guide's conditions."""
        return self._guarded(self._start)

    def _start(self) -> Step:
        pre = [r for r in self.item.rules if not needs_fields(r)]
        try:
            self.resident = self.platform.lookup_resident(self.id_number)
            if not self.person.name:
                self.person.name = self.resident.name
            self._finder = FactFinder(self.platform, self.id_number, card_state=self.resident.card_state)
            self.facts = self._finder.learn(pre)
        except TRANSIENT_ERRORS as exc:
            if self.mode == ENQUIRY:
                raise
            # Applications may be stored and sent later: check what the ID number tells
            # (age) now and leave the rest to the platform's check at delivery.
            log.warning("item %d: platform unreachable at start (%s); continuing offline", self.item.no, exc)
            self.offline = True
            self.facts = ResidentFacts(self.id_number)
        failed = evaluate(pre, self.facts, self.today)
        if failed is not None:
            log.info("item %d refused before the form: rule %s", self.item.no, failed.rule)
            return self._refused(failed.message)
        self._prefill()
        if self.mode == ENQUIRY:
            return self._query(1)
        if self.item.requires_photo and self.mode == APPLICATION:
            return self._photo_step()
        if self.item.fields:
            return self._form_step()
        return self._after_form()

    def _prefill(self) -> None:
        phone = self.resident.phone if self.resident else ""
        if "phone" in self._fields and phone and not self._fields["phone"].value:
            self.set_field("phone", phone)

    def set_field(self, name: str, value: Any) -> str | None:
        """Validate one field as typed; returns the error to show beside it, or None."""
        fs = self._fields.get(name)
        if fs is None:
            raise KeyError(f"item {self.item.no} has no field {name!r}")
        f = self.item.field(name)
        fs.value = "" if value is None else str(value)
        norm, err = fieldmod.validate(f, value, self.today)
        fs.error_zh = err
        if err is None:
            self.answers[name] = norm
        else:
            self.answers.pop(name, None)
        return err

    def set_photo(self, data: bytes) -> Step:
        """The certification photo (gates — face, ID card, newspaper — done by the camera screen)."""
        if self.state != "photo":
            return self.step or self.start()
        if not data or not (data[:3] == b"\xff\xd8\xff"):
            return self._photo_step("照片格式不对，请重新拍照。")
        if len(data) > MAX_PHOTO_BYTES:
            return self._photo_step("照片过大，请重新拍照。")
        self.photo = bytes(data)
        return self._form_step() if self.item.fields else self._guarded(self._after_form)

    def next(self) -> Step:
        """Go on from the current step (form → confirm, result → done, ...)."""
        if self.state == "form":
            return self._guarded(self._submit_form)
        if self.state == "photo":
            return self._photo_step("请先拍照。") if self.photo is None else (
                self._form_step() if self.item.fields else self._guarded(self._after_form))
        if self.state == "confirm":
            return self.confirm()
        if self.state in ("result", "counter", "refused", "error"):
            return self.finish()
        return self.step or self.start()

    def back(self) -> Step:
        """One step back where that is safe (never after a submission)."""
        if self.state == "confirm":
            if self.item.fields:
                return self._form_step()
            if self.item.requires_photo:
                return self._photo_step()
        if self.state == "form" and self.item.requires_photo and self.mode == APPLICATION:
            return self._photo_step()
        if self.state == "counter" and self.item.fields:
            return self._form_step()
        if self.state == "error" and self.step is not None:
            return self.finish() if self._retry is None else self.step
        if self.step is None:
            return self.start()
        return self.step

    def confirm(self) -> Step:
        """Send exactly what the confirm step showed; returns only after it is durable."""
        if self.state != "confirm":
            return self.step or self.start()
        return self._guarded(self._submit)

    def page(self, n: int) -> Step:
        if self.state != "result" or self.mode != ENQUIRY:
            return self.step or self.start()
        return self._guarded(lambda: self._query(n))

    def filter(self, **kw: Any) -> Step:
        """Browse filters: ``township`` (county/town name), ``type`` (keyword), ``min_pay`` (yuan)."""
        if self.mode != ENQUIRY or self.item.no not in BROWSE_ITEMS:
            return self.step or self.start()
        for k, v in kw.items():
            if k not in self.filters:
                raise KeyError(f"unknown filter {k!r}")
            self.filters[k] = "" if v is None else str(v).strip()
        mp = self.filters["min_pay"]
        if mp and not (mp.isascii() and mp.isdigit() and len(mp) <= 9):  # "²".isdigit() is True; int("²") raises
            self.filters["min_pay"] = ""
        self._all_rows = None
        return self._guarded(lambda: self._query(1))

    def retry(self) -> Step:
        if self.state == "error" and self._retry is not None:
            action, self._retry = self._retry, None
            return self._guarded(action)
        return self.step or self.start()

    def finish(self) -> Step:
        """Done: the receipt (if any) stays on the step for printing."""
        prev = self.step
        receipt = prev.receipt if prev else None
        outcome = self.outcome or ("cancelled" if self.state not in ("result", "counter") else "shown")
        message, notes, related = done_words(outcome, prev, self.site)
        return self._set(Step(DONE, self._title(), message, receipt=receipt, can_print=receipt is not None,
                              notes_zh=notes, related=related,
                              outcome=outcome, reference=prev.reference if prev else "", actions=[]), "done")

    # -- steps -----------------------------------------------------------------
    def _photo_step(self, message: str = "") -> Step:
        msg = message or PHOTO_INSTRUCTION_ZH
        return self._set(Step(PHOTO, self._title(), msg, can_back=False,
                              notes_zh=["照片：手持身份证和近期报刊、杂志等能够证明是当前日期。"],
                              actions=["set_photo"]), "photo")

    def _form_step(self, message: str = "") -> Step:
        if not message:
            message = ("请填写以下内容，打印后带到柜台，工作人员核对即可办理。" if self.mode == COUNTER_MODE
                       else "请填写以下内容，填好后点“下一步”。")
        return self._set(Step(FORM, self._title(), message, fields=list(self._fields.values()),
                              can_back=self.item.requires_photo and self.mode == APPLICATION,
                              actions=["set_field", "next"]), "form")

    def _submit_form(self) -> Step:
        for f in self.item.fields:
            self.set_field(f.name, self._fields[f.name].value)
        bad = [fs for fs in self._fields.values() if fs.error_zh]
        if bad:
            return self._form_step(form_errors_zh(bad))
        return self._after_form()

    def _after_form(self) -> Step:
        post = [r for r in self.item.rules if needs_fields(r)]
        for rule in post:
            if rule.applies_to:
                other = str(self.answers.get(rule.applies_to, ""))
                if not other:
                    continue
                facts = self.facts if other == self.id_number else beneficiary_facts(self.platform, other, [rule])
            else:
                facts = self.facts or ResidentFacts(self.id_number)
            if evaluate([rule], facts, self.today, self.answers) is not None:
                return self._refused(rule.message)
        if self.mode == COUNTER_MODE:
            return self._counter_step()
        return self._confirm_step()

    def summary(self) -> list[tuple[str, str]]:
        """The confirm screen's lines: who, what, and every answer as it will be sent."""
        lines = [("办理事项", f"{self.item.no} {self.item.name}"), ("申请人", mask_name(self.name)),
                 ("身份证号", mask_id(self.id_number))]
        for f in self.item.fields:
            value = fieldmod.display_value(f, self.answers.get(f.name))
            lines.append((fieldmod.field_label(f), value))
        if self.photo is not None:
            lines.append(("认证照片", f"已拍摄（{len(self.photo) // 1024 + 1}KB）"))
        return lines

    def _confirm_step(self) -> Step:
        notes = []
        if self.offline:
            notes.append("网络暂时不通：确认后先保存在本机，网络恢复后自动提交，办理条件由服务平台届时核验。")
        notes += self._card_loss_notes()
        return self._set(Step(CONFIRM, self._title(), "请核对以下信息，确认无误后点“确认提交”。",
                              summary=self.summary(), can_back=bool(self.item.fields or self.item.requires_photo),
                              notes_zh=notes, actions=["confirm", "back"]), "confirm")

    def platform_fields(self) -> dict[str, Any]:
        """Exactly the ``fields`` object the platform receives."""
        return payload.to_platform(self.item.no, self.answers)

    def _submit(self) -> Step:
        fields = self.platform_fields()
        earlier = self._earlier(fields)
        if earlier is not None:
            return self._earlier_step(earlier)
        try:
            ref = self.outbox.enqueue(self.item.no, self.id_number, fields, self.photo)
        except OSError as exc:
            log.error("item %d: outbox write failed: %s", self.item.no, exc)
            return self._set(Step(ERROR, self._title(), "本机存储故障，申请未能保存，请到柜台办理或联系工作人员。",
                                  can_retry=True, actions=["retry", "finish"]), "error")
        self.photo = None  # the outbox holds it now; the session keeps no copy
        out = self.outbox.wait(ref.ref, self.submit_wait)
        self.outcome = out
        return self._submit_result(out)

    def _earlier(self, fields: dict[str, Any]) -> Any:
        """A pending or recently delivered outbox record of this very application, or None.

        The platform de-duplicates only by idempotency key: a resident who starts again
        after a power cut would otherwise lodge a second application (issue 12, fault 11).
        """
        find = getattr(self.outbox, "earlier", None)
        if find is None:
            return None
        try:
            return find(self.item.no, self.id_number, fields)
        except OSError as exc:  # the duplicate key could not be read or written: submit as before
            log.error("item %d: duplicate check skipped: %s", self.item.no, exc)
            return None

    def _earlier_step(self, out: Any) -> Step:
        """Show the earlier submission (with its receipt to print again) instead of sending a second one."""
        self.photo = None  # not sent: the session keeps no copy
        step = self._submit_result(out)
        log.info("item %d for %s: already submitted as %s (%s), not sent again",
                 self.item.no, mask_id(self.id_number), out.ref, out.state)
        when = ""
        try:
            t = _dt.datetime.fromisoformat(out.created_at)
            when = f"{t.month}月{t.day}日{t.hour:02d}:{t.minute:02d}"
        except (TypeError, ValueError):
            pass
        if out.state == "delivered" and out.acceptance is not None:
            what = f"受理编号{out.acceptance.acceptance_no}，{step.summary[0][1]}"
        else:
            what = f"本机暂存编号{out.ref}，网络恢复后自动提交"
        step.message_zh = f"您{when}已提交过这项申请（{what}），无需重复提交。可点“打印回执”再打印一份。"
        step.outcome = self.outcome = "duplicate"
        return step

    def _submit_result(self, out: Any) -> Step:
        if out.state == "refused":
            self.outcome = "refused"
            return self._refused(out.refusal_zh)
        if out.state == "failed":
            self.outcome = "failed"
            return self._set(Step(ERROR, self._title(), f"提交未成功，请联系工作人员处理。本机暂存编号：{out.ref}",
                                  outcome="failed", reference=out.ref, actions=["finish"]), "error")
        queued = out.state != "delivered"
        acc = out.acceptance
        reference = out.ref if queued else acc.acceptance_no
        completion: CompletionDate | _dt.date | None
        tl = self.item.time_limit
        if acc is not None and acc.expected_completion and not tl.is_instant:
            completion = acc.expected_completion
        elif not tl.is_instant:
            completion = expected_completion(self.today, tl.days, tl.exclude_application_day)
        else:
            completion = None
        notes = self._result_notes(queued)
        # The platform completes instant items at once: say 已办结, as its message does.
        completed = not queued and acc is not None and acc.status == "completed"
        status = STATUS_QUEUED if queued else STATUS_COMPLETED if completed else STATUS_ACCEPTED
        receipt = self._receipt_for_submission(queued, reference, completion, notes, completed)
        msg = status if queued else (acc.message_zh or f"{STATUS_ACCEPTED}，受理编号{reference}。")
        summary = [("办理状态", status), ("受理编号" if not queued else "本机暂存编号", reference)]
        if completion is not None:
            summary.append(("预计办结", completion.text_zh() if isinstance(completion, CompletionDate)
                            else f"{completion.year}年{completion.month}月{completion.day}日"))
        self.outcome = "queued" if queued else "accepted"
        return self._set(Step(RESULT, self._title(), msg, summary=summary, receipt=receipt, can_print=True,
                              notes_zh=notes, outcome=self.outcome, reference=reference,
                              actions=["finish"], related=FOLLOW_UPS.get(self.item.no, [])), "result")

    def _result_notes(self, queued: bool) -> list[str]:
        notes: list[str] = []
        if queued:
            notes.append("网络恢复后本机自动提交，无需重复办理。")
        notes += self._card_loss_notes()
        if self.item.no == 38:
            notes.append("本业务仅指社会保障卡社保功能的启用，不包括金融功能的启用。")
        if self.item.no == 21:
            notes.append("认证结果由县级社保经办机构审核后反馈，可通过“民生山西”手机软件查询。")
        return notes

    def _card_loss_notes(self) -> list[str]:
        """Item 40: when a temporary loss ends, and the guide's bank reminder."""
        if self.item.no != 40:
            return []
        notes = []
        action = self.answers.get("action")
        if action == "临时挂失":
            until = self.today + _dt.timedelta(days=TEMP_LOSS_DAYS)
            notes.append(f"临时挂失有效期7天，{until.year}年{until.month}月{until.day}日后自动解挂。")
        if action in ("临时挂失", "正式挂失"):
            notes.append(BANK_REMINDER_ZH)
        return notes

    def _receipt_fields(self) -> list[tuple[str, str]]:
        out = []
        for f in self.item.fields:
            v = self.answers.get(f.name)
            if f.type == "phone":
                out.append((f.label, mask_phone(str(v or ""))))
            else:
                out.append((fieldmod.field_label(f), fieldmod.display_value(f, v)))
        return out

    def _receipt_for_submission(self, queued: bool, reference: str, completion: Any, notes: list[str],
                                completed: bool = False) -> Receipt:
        kind = "certification" if self.item.receipt == "certification" else "acceptance"
        extra = self._receipt_fields()
        if queued:
            extra.insert(0, ("本机暂存编号", reference))
        return Receipt(kind=kind, site_name=self.site.name, device_id=self.site.device_id,
                       service_name=self.item.name, service_no=str(self.item.no), name=self.name,
                       id_number=self.id_number, time=self._clock(),
                       acceptance_no="" if queued else reference, expected_completion=completion,
                       status=STATUS_QUEUED if queued else STATUS_COMPLETED if completed
                       else (STATUS_ACCEPTED if kind == "acceptance" else "认证信息已受理"),
                       tracking_url=self._tracking(reference) if not queued else "",
                       office_phone=self.site.office_phone, fields=extra, notes=notes)

    def _tracking(self, reference: str) -> str:
        return f"{self.site.tracking_url}{reference}" if self.site.tracking_url else ""

    # -- enquiries ---------------------------------------------------------------
    def _fetch(self, page: int, page_size: int) -> EnquiryResult:
        no = self.item.no
        if no in RECOMMEND_ITEMS:
            return self.platform.recommend_jobs(self.id_number, RECOMMEND_ITEMS[no], page=page, page_size=page_size)
        if no == 8:
            return self.platform.recommend_seekers(self.id_number, page=page, page_size=page_size)
        params: dict[str, Any] = {}
        if no in BROWSE_ITEMS:
            if self.filters["township"]:
                params["county"] = self.filters["township"]
            if self.filters["type"]:
                params["keyword"] = self.filters["type"]
        return self.platform.enquiry(no, self.id_number, params, page=page, page_size=page_size)

    def _query(self, page: int) -> Step:
        min_pay = int(self.filters["min_pay"]) if self.filters["min_pay"] and self.item.no != 9 else 0
        if min_pay:
            # The platform has no pay filter: fetch the (short) list once and page locally.
            if self._all_rows is None:
                first = self._fetch(1, 100)
                rows = list(first.rows)
                for p in range(2, first.pages + 1):
                    rows += self._fetch(p, 100).rows
                key = "salary" if self.item.no == 3 else "pay"
                self._all_rows = [r for r in rows if _pay_floor(r.get(key, "")) >= min_pay]
                self._template = first
            rows = self._all_rows
            pages = max(1, -(-len(rows) // self.page_size))
            page = min(max(1, page), pages)
            t = self._template
            res = EnquiryResult(t.item_no, t.title_zh, t.columns, rows[(page - 1) * self.page_size: page * self.page_size],
                                len(rows), page, self.page_size, t.notice_zh, t.summary)
        else:
            res = self._from_probe(max(1, page)) or self._fetch(max(1, page), self.page_size)
        res = self._masked(res)
        self.result = res
        self.outcome = "shown"
        return self._result_step(res)

    def _from_probe(self, page: int) -> EnquiryResult | None:
        """The page cut from the condition check's complete answer, saving a round trip."""
        if self._finder is None or any(self.filters.values()):
            return None
        full = self._finder.cached(self.item.no)
        if full is None or len(full.rows) < full.total:
            return None
        pages = max(1, -(-full.total // self.page_size))
        page = min(page, pages)
        rows = [dict(r) for r in full.rows[(page - 1) * self.page_size: page * self.page_size]]
        return EnquiryResult(full.item_no, full.title_zh, full.columns, rows, full.total, page, self.page_size,
                             full.notice_zh, full.summary)

    def _masked(self, res: EnquiryResult) -> EnquiryResult:
        """Seekers are shown masked (surname only), whatever the platform sent."""
        if self.item.no in (8, 9):
            for row in res.rows:
                if "name" in row:
                    row["name"] = mask_name(str(row["name"]))
        return res

    def _result_step(self, res: EnquiryResult) -> Step:
        notes = [res.notice_zh] if res.notice_zh else []
        summary = self._enquiry_summary(res)
        if self.item.no == 39:
            notes += self._card_notes(res)
        msg = f"共{res.total}条，第{res.page}/{res.pages}页。" if res.total else "未查询到记录。"
        filters = []
        if self.item.no in BROWSE_ITEMS:
            filters = [FieldState("township", "乡镇/区县", "text_zh", self.filters["township"], keyboard="pinyin", required=False),
                       FieldState("type", "工种/关键字", "text_zh", self.filters["type"], keyboard="pinyin", required=False),
                       FieldState("min_pay", "最低报酬（元）", "money", self.filters["min_pay"], keyboard="decimal", required=False)]
            if self.item.no == 9:
                filters = filters[:2]  # seekers state no pay
        actions = ["finish"]
        if res.pages > 1:
            actions.insert(0, "page")
        if filters:
            actions.insert(0, "filter")
        receipt = self._enquiry_receipt(res, summary, notes)
        related = FOLLOW_UPS.get(self.item.no, []) + related_items(" ".join(notes), self.item.no)
        return self._set(Step(RESULT, self._title(), msg, summary=summary, table=res, receipt=receipt,
                              can_print=True, notes_zh=notes, outcome="shown", filters=filters,
                              actions=actions, related=related), "result")

    def _enquiry_summary(self, res: EnquiryResult) -> list[tuple[str, str]]:
        s = res.summary or {}
        out: list[tuple[str, str]] = []
        if "total_months" in s:
            months = int(s["total_months"])
            out.append(("累计缴费", f"{months // 12}年{months % 12}个月（{months}个月）"))
        if "years" in s:
            out.append(("累计缴费年限", f"{s['years']}年"))
        if s.get("paused"):
            out.append(("缴费状态", "已暂停缴费"))
        if s.get("status"):
            out.append(("参保状态", str(s["status"])))
        if s.get("last_certified"):
            out.append(("最近一次资格认证", str(s["last_certified"])))
        if "state" in s:
            state = CARD_STATE_FROM_PLATFORM.get(str(s["state"]), str(s["state"]))
            out.append(("社保卡状态", CARD_STATE_ZH.get(state, state)))
            out.append(("办卡进度", self._card_progress(state)))
        if self.filters.get("township") or self.filters.get("type") or self.filters.get("min_pay"):
            f = self.filters
            parts = [p for p in (f["township"], f["type"], f"{f['min_pay']}元以上" if f["min_pay"] else "") if p]
            out.append(("筛选条件", "、".join(parts)))
        return out

    @staticmethod
    def _card_progress(state: str) -> str:
        """已申领 → 制卡中 → 已领卡 → 社保功能已启用, with the current stage marked."""
        reached = {"in_production": 1, "issued_not_activated": 2}.get(state, 3)
        return " → ".join(f"【{s}】" if i == reached else s for i, s in enumerate(CARD_PROGRESS))

    def _card_notes(self, res: EnquiryResult) -> list[str]:
        notes = []
        state = CARD_STATE_FROM_PLATFORM.get(str((res.summary or {}).get("state", "")), "")
        lost_on = str(res.rows[0].get("lost_on", "")) if res.rows else ""
        if state == "lost_temporary" and lost_on:
            try:
                until = _dt.date.fromisoformat(lost_on) + _dt.timedelta(days=TEMP_LOSS_DAYS)
                notes.append(f"临时挂失将于{until.year}年{until.month}月{until.day}日自动解挂。")
            except ValueError:
                pass
        if state in ("lost_temporary", "lost_formal"):
            notes.append(BANK_REMINDER_ZH)
        if state == "issued_not_activated":
            notes.append("您的社会保障卡社保功能尚未启用，可办理“社会保障卡启用”。")
        return notes

    def receipt_all(self) -> Receipt | None:
        """The receipt of an enquiry with every record, not only the page on screen (the first
        ``MAX_PRINT_ROWS`` and the period they cover when there are more). Blocks on the platform."""
        res = self.result
        if self.mode != ENQUIRY or res is None or res.pages <= 1:
            return self.step.receipt if self.step else None
        rows = self._all_records(res)
        notes = [res.notice_zh] if res.notice_zh else []
        if self.item.no == 39:
            notes += self._card_notes(res)
        return self._enquiry_receipt(res, self._enquiry_summary(res), notes, rows=rows)

    def _all_records(self, res: EnquiryResult) -> list[dict[str, Any]]:
        if self._all_rows is not None:  # filtered by pay: already complete
            rows = list(self._all_rows)
        else:
            full = self._finder.cached(self.item.no) if self._finder is not None and not any(self.filters.values()) else None
            if full is not None and len(full.rows) >= full.total:
                rows = [dict(r) for r in full.rows]
            else:
                first = self._fetch(1, 100)
                rows = list(first.rows)
                for p in range(2, first.pages + 1):
                    if len(rows) >= MAX_PRINT_ROWS:
                        break
                    rows += self._fetch(p, 100).rows
            rows = self._masked(EnquiryResult(res.item_no, res.title_zh, res.columns, rows, len(rows), 1,
                                              max(1, len(rows)))).rows
        return rows

    def _enquiry_receipt(self, res: EnquiryResult, summary: list[tuple[str, str]], notes: list[str],
                         rows: list[dict[str, Any]] | None = None) -> Receipt:
        """``rows`` given: every record of the enquiry is printed; else the page on screen."""
        cols: list[Column] = print_columns(res.columns)
        fields = list(summary)
        if rows is not None:
            printed = rows[:MAX_PRINT_ROWS]
            period = record_period(res.columns, printed)
            if period:
                fields.append(("查询期间", period))
            fields.append(("记录", f"共{res.total}条，全部列在下面" if len(printed) >= res.total
                           else f"共{res.total}条，下面列出前{len(printed)}条，其余请在屏幕上查看"))
        else:
            printed = res.rows
            if res.pages > 1:
                fields.append(("页码", f"第{res.page}/{res.pages}页，共{res.total}条"))
        cols_zh = [display_label(c) for c in cols]
        rows_zh = [[cell_zh(c, r.get(c.key, "")) for c in cols] for r in printed]
        return Receipt(kind="enquiry", site_name=self.site.name, device_id=self.site.device_id,
                       service_name=self.item.name, service_no=str(self.item.no), name=self.name,
                       id_number=self.id_number, time=self._clock(), title=res.title_zh or self.item.name,
                       columns=cols_zh, rows=rows_zh, office_phone=self.site.office_phone,
                       fields=fields, notes=notes)

    # -- counter-only ----------------------------------------------------------------
    def _counter_step(self) -> Step:
        g = self.item.guide
        place = g.place.strip() or "社会保障卡服务窗口"
        office = self.site.office_name or place
        summary: list[tuple[str, str]] = [("办理事项", f"{self.item.no} {self.item.name}"),
                                          ("办理渠道", "柜面办理"),
                                          ("办理地点", place or office),
                                          ("办结时限", self.item.time_limit_text)]
        if office and office != place:
            summary.insert(3, ("办理窗口", office))
        if self.site.office_address:
            summary.append(("地址", self.site.office_address))
        if self.site.office_phone:
            summary.append(("咨询电话", self.site.office_phone))
        prefill = [("身份证号", mask_id(self.id_number))] + (self._receipt_fields() if self.item.fields else [])
        materials = materials_list(g.materials)
        if not materials or materials == ["无"]:
            materials = materials_list(self.item.materials)
        notes = []
        if self.item.fields:
            notes.append("以上内容已在本机预填，请将本单交给柜台工作人员核对确认。")
        # An unknown fact never passes silently: name what the counter will check (issue 14).
        unsure = counter_note(unverified([r for r in self.item.rules if not r.applies_to],
                                         self.facts or ResidentFacts(self.id_number), self.today, self.answers))
        if unsure:
            notes.append(unsure)
        notes.append(f"办结时限：{self.item.time_limit_text}")
        receipt = Receipt(kind="checklist", site_name=self.site.name, device_id=self.site.device_id,
                          service_name=self.item.name, service_no=str(self.item.no), name=self.name,
                          id_number=self.id_number, time=self._clock(),
                          materials=materials,
                          office_name=office or place, office_address=self.site.office_address or place,
                          office_phone=self.site.office_phone, fields=prefill, notes=notes)
        guide = [(label, text) for label, text in (
            ("事项说明", g.description), ("服务对象", g.audience), ("办理条件", g.conditions), ("所需材料", g.materials),
            ("办理流程", g.procedure), ("办结时限", g.time_limit), ("注意事项", g.notes)) if text.strip()]
        self.outcome = "counter"
        return self._set(Step(COUNTER, self._title(), "本事项需到柜台办理。请带齐以下材料，可打印告知单。",
                              fields=list(self._fields.values()) if self.item.fields else [],
                              summary=summary + guide, receipt=receipt, can_print=True, notes_zh=notes,
                              can_back=bool(self.item.fields), outcome="counter", actions=["finish"]), "counter")


# ---------------------------------------------------------------------------
# What each item does on the kiosk (the `kiosk flow list` table, docs/flows.md)

_DOES_ZH = {
    1: "登记求职意向（工种、地点、月薪、学历），受理回执",
    2: "平台按求职登记排序推荐固定工岗位，分页，可打印",
    3: "浏览固定工岗位：按乡镇/区县、工种、月薪筛选，分页，可打印",
    4: "登记零工意向（工种、地点、日薪、时间），受理回执",
    5: "平台按零工登记排序推荐零工岗位，分页，可打印",
    6: "浏览零工岗位：按地点、工种、日薪筛选，分页，可打印",
    7: "雇主登记零工需求（工种、地点、人数、日薪、开工日期、天数），受理回执",
    8: "平台为已登记雇主推荐匹配的零工求职者（姓名脱敏）",
    9: "浏览零工求职者（姓名脱敏），可筛选",
    10: "灵活就业登记，受理回执（5个工作日）",
    11: "失业登记（失业情形、日期、电话），受理回执（10个工作日）",
    12: "就业政策法规列表，可打印",
    13: "查询本人《就业创业证》，可打印",
    14: "近期招聘会列表，可打印",
    15: "查询本人档案存放机构，可打印",
    21: "拍照（手持身份证和当天报纸）认证，认证回执（柜面事项，按议题在自助机办理）",
    22: "填写证书编号、等级、发证日期、工种，核验证书一年内，受理回执",
    23: "填写中断就业日期和原因，受理回执",
    25: "逐年参保缴费记录和累计缴费月数，可打印",
    26: "逐月养老金发放记录及失败原因，可打印",
    27: "逐月失业保险金发放记录及失败原因，可打印",
    33: "逐年城乡居民养老保险缴费记录和累计年限，可打印",
    36: "逐月城乡居民养老金发放记录及失败原因，可打印",
    38: "启用社保卡社保功能（柜面事项，按议题在自助机办理），受理回执",
    39: "社保卡状态和办卡进度，挂失自动解挂日期，银行挂失提醒",
    40: "临时挂失（7天后自动解挂，显示日期）、正式挂失、解除挂失，提醒到银行挂失金融功能",
}


def describe_item(item: ServiceItem) -> dict[str, Any]:
    mode = mode_of(item)
    if mode == COUNTER_MODE:
        does = "柜面办理：完整办事指南、一次性告知材料清单、办理地点和电话，打印告知单"
        if item.fields:
            does += "；本机预填申请信息印在告知单上，柜台核对即可"
        if item.rules:
            does += "；先核验办理条件"
    else:
        does = _DOES_ZH.get(item.no, "")
    receipt = "checklist" if mode == COUNTER_MODE else (
        "enquiry" if mode == ENQUIRY else ("certification" if item.receipt == "certification" else "acceptance"))
    return {"no": item.no, "name": item.name, "channels": list(item.channels), "mode": mode, "receipt": receipt,
            "rules": [r.rule for r in item.rules], "fields": [f.name for f in item.fields],
            "photo": item.requires_photo and mode == APPLICATION, "does_zh": does}


# ---------------------------------------------------------------------------
# Driving a flow from a dict of answers (the CLI and tests)


def drive(item: ServiceItem, person: Person, platform: Platform, outbox: Any, site: Site,
          answers: dict[str, Any], *, emit: Callable[[Step], None] = lambda s: None,
          today: _dt.date | None = None, photo: bytes | None = None) -> tuple[int, Step]:
    """Run ``item`` to its end with ``answers``; returns (exit code, last step).

    Exit code: 0 done, 1 refused (does not qualify), 2 answers missing or
    invalid, 3 platform/storage error.
    """
    flow = ServiceFlow(item, person, platform, outbox, site=site, today=today)
    step = flow.start()
    emit(step)
    for _ in range(12):
        if step.kind == REFUSED:
            return 1, step
        if step.kind == ERROR:
            return 3, step
        if step.kind == PHOTO:
            data = photo
            if data is None and answers.get("photo"):
                from kiosk.core.bounded import read_regular
                from kiosk.core.errors import ConfigError

                try:
                    # a regular file of at most MAX_PHOTO_BYTES: "/dev/zero" must not hang or eat memory
                    data = read_regular(str(answers["photo"]), MAX_PHOTO_BYTES)
                except OSError as exc:
                    raise ConfigError(f"photo file {answers['photo']!s:.200}: {exc.strerror or exc}",
                                      "照片文件无法读取，请检查文件路径。") from None
            if data is None:
                return 2, step
            step = flow.set_photo(data)
            emit(step)
            if step.kind == PHOTO:
                return 2, step
            continue
        if step.kind == FORM:
            for f in item.fields:
                if f.name in answers:
                    flow.set_field(f.name, answers[f.name])
            step = flow.next()
            emit(step)
            if step.kind == FORM:
                return 2, step
            continue
        if step.kind == CONFIRM:
            step = flow.confirm()
            emit(step)
            continue
        if step.kind == RESULT and flow.mode == ENQUIRY:
            if answers.get("filters") and item.no in BROWSE_ITEMS:
                filters = answers["filters"]
                if not isinstance(filters, dict) or set(filters) - set(flow.filters):
                    from kiosk.core.errors import ConfigError

                    raise ConfigError(f"answers: filters must be an object with keys {sorted(flow.filters)}",
                                      "查询条件有误，请检查答案文件。")
                step = flow.filter(**filters)
                emit(step)
                answers = {k: v for k, v in answers.items() if k != "filters"}
                continue
            if answers.get("page") and not isinstance(answers["page"], int):
                from kiosk.core.errors import ConfigError

                raise ConfigError(f"answers: page must be a whole number, got {type(answers['page']).__name__}",
                                  "页码有误，请检查答案文件。")
            if answers.get("page") and step.table is not None and step.table.page != int(answers["page"]):
                step = flow.page(int(answers["page"]))
                emit(step)
                answers = {k: v for k, v in answers.items() if k != "page"}
                continue
        if step.kind in (RESULT, COUNTER):
            step = flow.finish()
            emit(step)
            continue
        if step.kind == DONE:
            return 0, step
    return 3, step
