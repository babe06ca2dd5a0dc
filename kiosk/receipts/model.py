"""What a receipt says, before it is laid out for paper."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

from kiosk.core import clock as kclock
from kiosk.core.workdays import CompletionDate

KINDS = ("acceptance", "enquiry", "checklist", "certification")

STATUS_ACCEPTED = "已受理"
STATUS_QUEUED = "已暂存，网络恢复后自动提交"


@dataclass
class Receipt:
    """Input of ``render_receipt``.

    ``name`` and ``id_number`` may be given whole or already masked: the
    renderer masks them (name: first character; ID: first 3 and last 4) and
    scrubs every other text, so an unmasked ID number never reaches paper.
    They are left out of the repr so a log line cannot leak them.
    """

    kind: str
    site_name: str
    device_id: str
    service_name: str
    service_no: str = ""
    name: str = field(default="", repr=False)
    id_number: str = field(default="", repr=False)
    time: _dt.datetime = field(default_factory=kclock.now)
    acceptance_no: str = ""
    expected_completion: CompletionDate | _dt.date | str | None = None
    status: str = STATUS_ACCEPTED
    tracking_url: str = ""
    office_phone: str = ""
    office_name: str = ""
    office_address: str = ""
    #: overrides the template's title (e.g. "养老金发放记录")
    title: str = ""
    #: extra label/value lines (e.g. ("认证有效期至", "2027年11月24日"))
    fields: list[tuple[str, str]] = field(default_factory=list)
    #: enquiry result table: header and rows of cells
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list, repr=False)
    #: checklist materials, one item each
    materials: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"receipt kind must be one of {KINDS}, got {self.kind!r}")
