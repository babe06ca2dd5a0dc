"""Driving a flow headless from a dict of answers (`kiosk flow run`, tests), and what each item
does on the kiosk (`kiosk flow list`, docs/flows.md)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

from kiosk.core.bounded import read_regular
from kiosk.core.errors import ConfigError
from kiosk.core.person import Person
from kiosk.flows.catalog import ServiceItem
from kiosk.flows.engine import ServiceFlow
from kiosk.flows.site import Site
from kiosk.flows.step import (
    APPLICATION,
    CONFIRM,
    COUNTER,
    COUNTER_MODE,
    DONE,
    ENQUIRY,
    ERROR,
    FORM,
    PHOTO,
    REFUSED,
    RESULT,
    Step,
    mode_of,
)
from kiosk.flows.submission import MAX_PHOTO_BYTES
from kiosk.platform.adapter import Platform
from kiosk.platform.outbox import Outbox

#: Exit codes of :func:`drive`.
DONE_OK, REFUSED_EXIT, ANSWERS_EXIT, ERROR_EXIT = 0, 1, 2, 3


def describe_item(item: ServiceItem) -> dict[str, Any]:
    """One row of `kiosk flow list`: mode, receipt, rules, fields and what the resident does here."""
    mode = mode_of(item)
    if mode == COUNTER_MODE:
        does = "柜面办理：完整办事指南、一次性告知材料清单、办理地点和电话，打印告知单"
        if item.fields:
            does += "；本机预填申请信息印在告知单上，柜台核对即可"
        if item.rules:
            does += "；先核验办理条件"
    else:
        does = item.flow.does_zh
    receipt = (
        "checklist"
        if mode == COUNTER_MODE
        else ("enquiry" if mode == ENQUIRY else ("certification" if item.receipt == "certification" else "acceptance"))
    )
    return {
        "no": item.no,
        "name": item.name,
        "channels": list(item.channels),
        "mode": mode,
        "receipt": receipt,
        "rules": [r.rule for r in item.rules],
        "fields": [f.name for f in item.fields],
        "photo": item.requires_photo and mode == APPLICATION,
        "does_zh": does,
    }


def _photo_file(path: object) -> bytes:
    try:
        # a regular file of at most MAX_PHOTO_BYTES: "/dev/zero" must not hang or eat memory
        return read_regular(str(path), MAX_PHOTO_BYTES)
    except OSError as exc:
        raise ConfigError(
            f"photo file {path!s:.200}: {exc.strerror or exc}", "照片文件无法读取，请检查文件路径。"
        ) from None


def drive(
    item: ServiceItem,
    person: Person,
    platform: Platform,
    outbox: Outbox,
    site: Site,
    answers: dict[str, Any],
    *,
    emit: Callable[[Step], None] = lambda s: None,
    today: _dt.date | None = None,
    photo: bytes | None = None,
) -> tuple[int, Step]:
    """Run ``item`` to its end with ``answers``; returns (exit code, last step).

    Exit code: 0 done, 1 refused (does not qualify), 2 answers missing or
    invalid, 3 platform/storage error.
    """
    flow = ServiceFlow(item, person, platform, outbox, site=site, today=today)
    step = flow.start()
    emit(step)
    for _ in range(12):
        if step.kind == REFUSED:
            return REFUSED_EXIT, step
        if step.kind == ERROR:
            return ERROR_EXIT, step
        if step.kind == PHOTO:
            data = photo
            if data is None and answers.get("photo"):
                data = _photo_file(answers["photo"])
            if data is None:
                return ANSWERS_EXIT, step
            step = flow.set_photo(data)
            emit(step)
            if step.kind == PHOTO:
                return ANSWERS_EXIT, step
            continue
        if step.kind == FORM:
            for f in item.fields:
                if f.name in answers:
                    flow.set_field(f.name, answers[f.name])
            step = flow.next()
            emit(step)
            if step.kind == FORM:
                return ANSWERS_EXIT, step
            continue
        if step.kind == CONFIRM:
            step = flow.confirm()
            emit(step)
            continue
        if step.kind == RESULT and flow.mode == ENQUIRY:
            if answers.get("filters") and item.flow.filters:
                filters = answers["filters"]
                if not isinstance(filters, dict) or set(filters) - set(flow.filters):
                    raise ConfigError(
                        f"answers: filters must be an object with keys {sorted(flow.filters)}",
                        "查询条件有误，请检查答案文件。",
                    )
                step = flow.filter(**filters)
                emit(step)
                answers = {k: v for k, v in answers.items() if k != "filters"}
                continue
            if answers.get("page") and not isinstance(answers["page"], int):
                raise ConfigError(
                    f"answers: page must be a whole number, got {type(answers['page']).__name__}",
                    "页码有误，请检查答案文件。",
                )
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
            return DONE_OK, step
    return ERROR_EXIT, step
