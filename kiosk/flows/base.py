"""The state of one resident doing one item, and what every mode of the flow shares.

:class:`FlowBase` holds the resident, the answers and the current step, turns
platform trouble into ``refused``/``error`` steps, validates form fields and
builds the form step. The modes (kiosk.flows.enquiry, .submission, .counter)
extend it and kiosk.flows.engine.ServiceFlow ties them together. Kivy-free.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Callable
from typing import Any

from kiosk.core import clock as kclock
from kiosk.core.errors import KioskError
from kiosk.core.idnumber import mask_id, mask_phone
from kiosk.core.person import Person
from kiosk.flows import fields as fieldmod
from kiosk.flows.catalog import ServiceItem
from kiosk.flows.rules import FactFinder, ResidentFacts
from kiosk.flows.site import Site
from kiosk.flows.step import (
    APPLICATION,
    CONFIRM,
    COUNTER_MODE,
    ERROR,
    FORM,
    PHOTO,
    REFUSED,
    Step,
    mode_of,
    related_items,
)
from kiosk.platform.adapter import TRANSIENT_ERRORS, EnquiryResult, Platform, Refused, Resident
from kiosk.platform.outbox import Outbox
from kiosk.receipts.model import Receipt

log = logging.getLogger("kiosk.flows")

PAGE_SIZE = 10
SUBMIT_WAIT_S = 8.0


class FlowBase:
    """One resident doing one item. Not thread-safe: one UI worker drives it."""

    def __init__(
        self,
        item: ServiceItem,
        person: Person,
        platform: Platform,
        outbox: Outbox,
        *,
        site: Site,
        today: _dt.date | None = None,
        page_size: int = PAGE_SIZE,
        submit_wait: float = SUBMIT_WAIT_S,
        clock: Callable[[], _dt.datetime] = kclock.now,
    ) -> None:
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
        self._template: EnquiryResult | None = None  # the first page of a list paged locally
        self.state = "new"
        self.step: Step | None = None
        self._retry: Callable[[], Step] | None = None
        #: accepted | queued | refused | failed | shown | counter | duplicate | error, None while in progress
        self.outcome: str | None = None
        self.offline = False
        self._finder: FactFinder | None = None

    # -- who and when ------------------------------------------------------------------
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

    def _receipt(self, kind: str, **fields: Any) -> Receipt:
        """A receipt of this visit: site, item, resident and time filled in, ``fields`` for the rest."""
        return Receipt(
            kind=kind,
            site_name=self.site.name,
            device_id=self.site.device_id,
            service_name=self.item.name,
            service_no=str(self.item.no),
            name=self.name,
            id_number=self.id_number,
            time=self._clock(),
            **fields,
        )

    # -- steps -------------------------------------------------------------------------
    def start(self) -> Step:
        raise NotImplementedError  # ServiceFlow

    def _after_form(self) -> Step:
        raise NotImplementedError  # ServiceFlow: the conditions on the answers, then confirm or counter

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
            return self._set(
                Step(
                    ERROR,
                    self._title(),
                    exc.message_zh,
                    can_retry=transient,
                    can_back=True,
                    actions=(["retry"] if transient else []) + ["finish"],
                ),
                "error",
            )

    def _refused(self, reason_zh: str, extra_notes: list[str] | None = None) -> Step:
        notes = list(extra_notes or [])
        place = self.item.guide.place or self.site.office_name
        if place:
            notes.append(f"如有疑问，请到{place.rstrip('。')}咨询。")
        if self.site.office_phone:
            notes.append(f"咨询电话：{self.site.office_phone}")
        self.outcome = "refused"
        return self._set(
            Step(
                REFUSED,
                self._title(),
                reason_zh,
                notes_zh=notes,
                outcome="refused",
                actions=["finish"],
                related=related_items(reason_zh, self.item.no),
            ),
            "refused",
        )

    # -- the form ----------------------------------------------------------------------
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

    def _form_step(self, message: str = "") -> Step:
        if not message:
            message = (
                "请填写以下内容，打印后带到柜台，工作人员核对即可办理。"
                if self.mode == COUNTER_MODE
                else "请填写以下内容，填好后点“下一步”。"
            )
        return self._set(
            Step(
                FORM,
                self._title(),
                message,
                fields=list(self._fields.values()),
                can_back=self.item.requires_photo and self.mode == APPLICATION,
                actions=["set_field", "next"],
            ),
            "form",
        )

    def _receipt_fields(self) -> list[tuple[str, str]]:
        """The answers as printed (phone numbers masked)."""
        out = []
        for f in self.item.fields:
            v = self.answers.get(f.name)
            if f.type == "phone":
                out.append((f.label, mask_phone(str(v or ""))))
            else:
                out.append((fieldmod.field_label(f), fieldmod.display_value(f, v)))
        return out
