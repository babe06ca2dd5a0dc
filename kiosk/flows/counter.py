"""Counter-only mode: the guide, the one-time checklist (一次性告知) and the pre-filled application.

Items the kiosk does not complete end here: what to bring, where to go, how long it
takes, the answers pre-filled for the counter to confirm, and any condition the
kiosk could not check, so nothing unknown passes silently (issue 14).
"""

from __future__ import annotations

from kiosk.core.idnumber import mask_id
from kiosk.flows.base import FlowBase
from kiosk.flows.rules import ResidentFacts, counter_note, unverified
from kiosk.flows.step import COUNTER, Step, materials_list


class CounterFlow(FlowBase):
    """The counter-only mode of :class:`kiosk.flows.engine.ServiceFlow`."""

    def _counter_step(self) -> Step:
        g = self.item.guide
        place = g.place.strip() or "社会保障卡服务窗口"
        office = self.site.office_name or place
        summary: list[tuple[str, str]] = [
            ("办理事项", f"{self.item.no} {self.item.name}"),
            ("办理渠道", "柜面办理"),
            ("办理地点", place or office),
            ("办结时限", self.item.time_limit_text),
        ]
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
        unsure = counter_note(
            unverified(
                [r for r in self.item.rules if not r.applies_to],
                self.facts or ResidentFacts(self.id_number),
                self.today,
                self.answers,
            )
        )
        if unsure:
            notes.append(unsure)
        notes.append(f"办结时限：{self.item.time_limit_text}")
        receipt = self._receipt(
            "checklist",
            materials=materials,
            office_name=office or place,
            office_address=self.site.office_address or place,
            office_phone=self.site.office_phone,
            fields=prefill,
            notes=notes,
        )
        guide = [
            (label, text)
            for label, text in (
                ("事项说明", g.description),
                ("服务对象", g.audience),
                ("办理条件", g.conditions),
                ("所需材料", g.materials),
                ("办理流程", g.procedure),
                ("办结时限", g.time_limit),
                ("注意事项", g.notes),
            )
            if text.strip()
        ]
        self.outcome = "counter"
        return self._set(
            Step(
                COUNTER,
                self._title(),
                "本事项需到柜台办理。请带齐以下材料，可打印告知单。",
                fields=list(self._fields.values()) if self.item.fields else [],
                summary=summary + guide,
                receipt=receipt,
                can_print=True,
                notes_zh=notes,
                can_back=bool(self.item.fields),
                outcome="counter",
                actions=["finish"],
            ),
            "counter",
        )
