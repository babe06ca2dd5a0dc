"""Application mode: photo, form, confirm, submit through the outbox, result and receipt.

A submission is sent exactly as the confirm step showed it, returns only once the
outbox holds it durably, and is never sent twice: the outbox's earlier record of
the same application is shown instead (issue 12, fault 11). The catalog says what
is special about an item (``flow`` in config/catalog.json): ``platform_fields``
(how the answers become the platform's fields), ``card_loss_notes``,
``result_notes`` and ``follow_ups``.
"""

from __future__ import annotations

import datetime as _dt
import logging
from typing import Any

from kiosk.core.idnumber import mask_id, mask_name
from kiosk.core.workdays import CompletionDate, expected_completion
from kiosk.flows import fields as fieldmod
from kiosk.flows import payload
from kiosk.flows.base import FlowBase
from kiosk.flows.card_notes import card_loss_notes
from kiosk.flows.step import CONFIRM, ERROR, PHOTO, RESULT, Step
from kiosk.platform.outbox import Outcome
from kiosk.receipts.model import STATUS_ACCEPTED, STATUS_COMPLETED, STATUS_QUEUED, Receipt

log = logging.getLogger("kiosk.flows")

#: What to hold for the certification photo, in the words of seed 002's guide for item 21
#: ("手持身份证和近期报刊、杂志等能够证明是当前日期"), said plainly.
PHOTO_INSTRUCTION_ZH = "请一手拿身份证，一手拿今天的报纸或最近的杂志，放在脸旁边，对准镜头后点拍照。"
MAX_PHOTO_BYTES = 5 * 1024 * 1024


class SubmissionFlow(FlowBase):
    """The application mode of :class:`kiosk.flows.engine.ServiceFlow`."""

    def set_photo(self, data: bytes) -> Step:
        """The certification photo (gates — face, ID card, newspaper — done by the camera screen)."""
        if self.state != "photo":
            return self.step or self.start()
        if not data or data[:3] != b"\xff\xd8\xff":
            return self._photo_step("照片格式不对，请重新拍照。")
        if len(data) > MAX_PHOTO_BYTES:
            return self._photo_step("照片过大，请重新拍照。")
        self.photo = bytes(data)
        return self._form_step() if self.item.fields else self._guarded(self._after_form)

    def confirm(self) -> Step:
        """Send exactly what the confirm step showed; returns only after it is durable."""
        if self.state != "confirm":
            return self.step or self.start()
        return self._guarded(self._submit)

    def summary(self) -> list[tuple[str, str]]:
        """The confirm screen's lines: who, what, and every answer as it will be sent."""
        lines = [
            ("办理事项", f"{self.item.no} {self.item.name}"),
            ("申请人", mask_name(self.name)),
            ("身份证号", mask_id(self.id_number)),
        ]
        for f in self.item.fields:
            value = fieldmod.display_value(f, self.answers.get(f.name))
            lines.append((fieldmod.field_label(f), value))
        if self.photo is not None:
            lines.append(("认证照片", f"已拍摄（{len(self.photo) // 1024 + 1}KB）"))
        return lines

    def platform_fields(self) -> dict[str, Any]:
        """Exactly the ``fields`` object the platform receives."""
        return payload.to_platform(self.item.flow.platform_fields, self.answers)

    # -- steps ---------------------------------------------------------------------------
    def _photo_step(self, message: str = "") -> Step:
        msg = message or PHOTO_INSTRUCTION_ZH
        return self._set(
            Step(
                PHOTO,
                self._title(),
                msg,
                can_back=False,
                notes_zh=["照片：手持身份证和近期报刊、杂志等能够证明是当前日期。"],
                actions=["set_photo"],
            ),
            "photo",
        )

    def _confirm_step(self) -> Step:
        notes = []
        if self.offline:
            notes.append("网络暂时不通：确认后先保存在本机，网络恢复后自动提交，办理条件由服务平台届时核验。")
        notes += self._card_loss_notes()
        return self._set(
            Step(
                CONFIRM,
                self._title(),
                "请核对以下信息，确认无误后点“确认提交”。",
                summary=self.summary(),
                can_back=bool(self.item.fields or self.item.requires_photo),
                notes_zh=notes,
                actions=["confirm", "back"],
            ),
            "confirm",
        )

    def _submit(self) -> Step:
        fields = self.platform_fields()
        earlier = self._earlier(fields)
        if earlier is not None:
            return self._earlier_step(earlier)
        try:
            ref = self.outbox.enqueue(self.item.no, self.id_number, fields, self.photo)
        except OSError as exc:
            log.error("item %d: outbox write failed: %s", self.item.no, exc)
            return self._set(
                Step(
                    ERROR,
                    self._title(),
                    "本机存储故障，申请未能保存，请到柜台办理或联系工作人员。",
                    can_retry=True,
                    actions=["retry", "finish"],
                ),
                "error",
            )
        self.photo = None  # the outbox holds it now; the session keeps no copy
        return self._submit_result(self.outbox.wait(ref.ref, self.submit_wait))

    def _earlier(self, fields: dict[str, Any]) -> Outcome | None:
        """A pending or recently delivered outbox record of this very application, or None.

        The platform de-duplicates only by idempotency key: a resident who starts again
        after a power cut would otherwise lodge a second application (issue 12, fault 11).
        """
        try:
            return self.outbox.earlier(self.item.no, self.id_number, fields)
        except OSError as exc:  # the duplicate key could not be read or written: submit as before
            log.error("item %d: duplicate check skipped: %s", self.item.no, exc)
            return None

    def _earlier_step(self, out: Outcome) -> Step:
        """Show the earlier submission (with its receipt to print again) instead of sending a second one."""
        self.photo = None  # not sent: the session keeps no copy
        step = self._submit_result(out)
        log.info(
            "item %d for %s: already submitted as %s (%s), not sent again",
            self.item.no,
            mask_id(self.id_number),
            out.ref,
            out.state,
        )
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

    def _submit_result(self, out: Outcome) -> Step:
        if out.state == "refused":
            self.outcome = "refused"
            return self._refused(out.refusal_zh)
        if out.state == "failed":
            self.outcome = "failed"
            return self._set(
                Step(
                    ERROR,
                    self._title(),
                    f"提交未成功，请联系工作人员处理。本机暂存编号：{out.ref}",
                    outcome="failed",
                    reference=out.ref,
                    actions=["finish"],
                ),
                "error",
            )
        acc = out.acceptance
        queued = out.state != "delivered" or acc is None  # delivered always carries the acceptance
        reference = out.ref if queued or acc is None else acc.acceptance_no
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
        msg = status if queued or acc is None else (acc.message_zh or f"{STATUS_ACCEPTED}，受理编号{reference}。")
        summary = [("办理状态", status), ("受理编号" if not queued else "本机暂存编号", reference)]
        if completion is not None:
            summary.append(
                (
                    "预计办结",
                    completion.text_zh()
                    if isinstance(completion, CompletionDate)
                    else f"{completion.year}年{completion.month}月{completion.day}日",
                )
            )
        self.outcome = "queued" if queued else "accepted"
        return self._set(
            Step(
                RESULT,
                self._title(),
                msg,
                summary=summary,
                receipt=receipt,
                can_print=True,
                notes_zh=notes,
                outcome=self.outcome,
                reference=reference,
                actions=["finish"],
                related=list(self.item.flow.follow_ups),
            ),
            "result",
        )

    def _result_notes(self, queued: bool) -> list[str]:
        notes: list[str] = []
        if queued:
            notes.append("网络恢复后本机自动提交，无需重复办理。")
        notes += self._card_loss_notes()
        notes += self.item.flow.result_notes
        return notes

    def _card_loss_notes(self) -> list[str]:
        """A card loss report: when a temporary loss ends, and the guide's bank reminder."""
        if not self.item.flow.card_loss_notes:
            return []
        return card_loss_notes(self.answers.get("action"), self.today)

    def _receipt_for_submission(
        self,
        queued: bool,
        reference: str,
        completion: CompletionDate | _dt.date | None,
        notes: list[str],
        completed: bool = False,
    ) -> Receipt:
        kind = "certification" if self.item.receipt == "certification" else "acceptance"
        extra = self._receipt_fields()
        if queued:
            extra.insert(0, ("本机暂存编号", reference))
        return self._receipt(
            kind,
            acceptance_no="" if queued else reference,
            expected_completion=completion,
            status=STATUS_QUEUED
            if queued
            else STATUS_COMPLETED
            if completed
            else (STATUS_ACCEPTED if kind == "acceptance" else "认证信息已受理"),
            tracking_url=self._tracking(reference) if not queued else "",
            office_phone=self.site.office_phone,
            fields=extra,
            notes=notes,
        )

    def _tracking(self, reference: str) -> str:
        return f"{self.site.tracking_url}{reference}" if self.site.tracking_url else ""
