"""The step model the screens render, and the display helpers they share with receipts.

Every call of a flow returns a :class:`Step`: what the screen shows now and which
flow methods make sense next (``Step.actions``). Screens render a Step generically
(form / confirm / result table / receipt preview / counter checklist); they import
the table types from here, never from the platform adapter. Kivy-free, pure.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from kiosk.core.idnumber import mask_id, mask_phone
from kiosk.flows.catalog import ServiceItem, load_catalog
from kiosk.flows.fields import FieldState
from kiosk.flows.site import Site
from kiosk.platform.adapter import Column, EnquiryResult
from kiosk.receipts.model import Receipt

# The table types a result step carries, for the screens (which stay above the platform adapter).
__all__ = [
    "APPLICATION",
    "CONFIRM",
    "COUNTER",
    "COUNTER_MODE",
    "DONE",
    "DONE_ZH",
    "ENQUIRY",
    "ERROR",
    "FORM",
    "MAX_PRINT_ROWS",
    "PHOTO",
    "REFUSED",
    "RESULT",
    "STEP_KINDS",
    "Column",
    "EnquiryResult",
    "Step",
    "cell_zh",
    "display_label",
    "done_words",
    "form_errors_zh",
    "materials_list",
    "mode_of",
    "print_columns",
    "record_period",
    "related_items",
]

# Step kinds
REFUSED, PHOTO, FORM, CONFIRM, RESULT, COUNTER, ERROR, DONE = (
    "refused",
    "photo",
    "form",
    "confirm",
    "result",
    "counter",
    "error",
    "done",
)
STEP_KINDS = (REFUSED, PHOTO, FORM, CONFIRM, RESULT, COUNTER, ERROR, DONE)

# Modes (the catalog's ``kiosk_mode``)
ENQUIRY, APPLICATION, COUNTER_MODE = "enquiry", "application", "counter"

#: Records printed on one enquiry receipt (three years of monthly payments); more are summarised
#: by count and period (a list of 100 vacancies would be a metre of paper).
MAX_PRINT_ROWS = 36
_YUAN = re.compile(r"[（(]元[)）]$")
_QUOTED = re.compile(r"[“\"]([^”\"]+)[”\"]")


@dataclass
class Step:
    """What the screen shows now; ``actions`` names the flow methods that make sense."""

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
        d: dict[str, Any] = {
            "kind": self.kind,
            "title_zh": self.title_zh,
            "message_zh": self.message_zh,
            "can_back": self.can_back,
            "can_print": self.can_print,
            "can_retry": self.can_retry,
            "outcome": self.outcome,
            "reference": self.reference,
            "actions": self.actions,
        }
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
            d["table"] = {
                "title_zh": t.title_zh,
                "columns": [c.label_zh for c in t.columns],
                "total": t.total,
                "page": t.page,
                "pages": t.pages,
                "rows": [[str(r.get(c.key, "")) for c in t.columns] for r in t.rows],
                "notice_zh": t.notice_zh,
            }
        if self.receipt is not None:
            d["receipt"] = {
                "kind": self.receipt.kind,
                "acceptance_no": self.receipt.acceptance_no,
                "status": self.receipt.status,
            }
        return d


def _masked_field(f: FieldState) -> dict[str, Any]:
    d = asdict(f)
    if f.type == "id_number":
        d["value"] = mask_id(f.value)
    elif f.type == "phone":
        d["value"] = mask_phone(f.value)
    return d


def mode_of(item: ServiceItem) -> str:
    """enquiry | application | counter: how the kiosk handles ``item`` (the catalog's ``kiosk_mode``)."""
    return item.kiosk_mode


def related_items(text: str, exclude: int = 0) -> list[int]:
    """Items a message names in quotes (“固定工求职登记”), as numbers for buttons."""
    by_name = {item.name: item.no for item in load_catalog().items}
    out: list[int] = []
    for name in _QUOTED.findall(text or ""):
        no = by_name.get(name.strip())
        if no and no != exclude and no not in out:
            out.append(no)
    return out


# -- tables as shown and printed ------------------------------------------------------


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
    """ "2025-06至2026-11": the span of the month/date column of ``rows``, or ""."""
    key = next((c.key for c in columns if c.key in ("month", "date", "period", "paid_on")), None)
    values = sorted(str(r.get(key, "")) for r in rows if key and r.get(key))
    return f"{values[0]}至{values[-1]}" if values else ""


def print_columns(columns: list[Column], limit: int = 4) -> list[Column]:
    """The columns that fit a receipt: internal numbers and publish dates left out, at most ``limit``."""
    keep = [c for c in columns if not c.key.endswith("_id") and c.key not in ("published", "state")]
    return keep[:limit] or columns[:limit]


# -- words ------------------------------------------------------------------------------

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


def done_words(outcome: str, prev: Step | None, site: Site) -> tuple[str, list[str], list[int]]:
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
