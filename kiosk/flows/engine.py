"""The flow engine: one state machine that runs any of the 40 catalog items.

``ServiceFlow(item, person, platform, outbox, site=...)`` walks

    identify → check conditions → [photo] → [form] → confirm → submit (outbox) → result → done
    identify → check conditions → query → result (paging, filters) → done
    identify → check conditions → [form: pre-fill] → counter checklist → done

and returns a ``Step`` (kiosk.flows.step) from every call. Screens render a Step
generically and call the methods named in ``Step.actions``. The engine never
raises for user input or platform failures: those become ``refused`` or
``error`` steps carrying the platform's ``message_zh`` and whether a retry makes
sense. Calls block on the platform (the UI calls them off the UI thread). Kivy-free.

This module is the coordinator: identification, the conditions and the moves
between steps. Each mode lives in its own module (kiosk.flows.enquiry,
.submission, .counter) over the shared state in kiosk.flows.base; what is special
about one item is catalog data (``flow`` in config/catalog.json), never an item
number here.

Which items complete on the kiosk is catalog data (``kiosk_mode`` of each item in
config/catalog.json): the kiosk-channel items (自助机) plus four the list marks
柜面 that the kiosk carries, 21 (certification with a photo) and 38–40 (card
services). Every other item gives the counter checklist (一次性告知), with the
application pre-filled on it.
"""

from __future__ import annotations

import logging

from kiosk.flows.counter import CounterFlow
from kiosk.flows.enquiry import EnquiryFlow
from kiosk.flows.rules import FactFinder, ResidentFacts, beneficiary_facts, evaluate, needs_fields
from kiosk.flows.step import APPLICATION, COUNTER_MODE, DONE, ENQUIRY, Step, done_words, form_errors_zh
from kiosk.flows.submission import SubmissionFlow
from kiosk.platform.adapter import TRANSIENT_ERRORS

log = logging.getLogger("kiosk.flows")


class ServiceFlow(EnquiryFlow, SubmissionFlow, CounterFlow):
    """One resident doing one item. Not thread-safe: one UI worker drives it."""

    def start(self) -> Step:
        """Identify the resident with the platform and check the guide's conditions."""
        return self._guarded(self._start)

    def next(self) -> Step:
        """Go on from the current step (form → confirm, result → done, ...)."""
        if self.state == "form":
            return self._guarded(self._submit_form)
        if self.state == "photo":
            return (
                self._photo_step("请先拍照。")
                if self.photo is None
                else (self._form_step() if self.item.fields else self._guarded(self._after_form))
            )
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
        return self._set(
            Step(
                DONE,
                self._title(),
                message,
                receipt=receipt,
                can_print=receipt is not None,
                notes_zh=notes,
                related=related,
                outcome=outcome,
                reference=prev.reference if prev else "",
                actions=[],
            ),
            "done",
        )

    # -- identification and conditions ---------------------------------------------------
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

    def _submit_form(self) -> Step:
        for f in self.item.fields:
            self.set_field(f.name, self._fields[f.name].value)
        bad = [fs for fs in self._fields.values() if fs.error_zh]
        if bad:
            return self._form_step(form_errors_zh(bad))
        return self._after_form()

    def _after_form(self) -> Step:
        """The conditions that need the answers (someone else's ID number, a certificate date), then
        the confirm step or the counter checklist."""
        post = [r for r in self.item.rules if needs_fields(r)]
        for rule in post:
            if rule.applies_to:
                other = str(self.answers.get(rule.applies_to, ""))
                if not other:
                    continue
                facts = (
                    (self.facts or ResidentFacts(self.id_number))
                    if other == self.id_number
                    else beneficiary_facts(self.platform, other, [rule])
                )
            else:
                facts = self.facts or ResidentFacts(self.id_number)
            if evaluate([rule], facts, self.today, self.answers) is not None:
                return self._refused(rule.message)
        if self.mode == COUNTER_MODE:
            return self._counter_step()
        return self._confirm_step()
