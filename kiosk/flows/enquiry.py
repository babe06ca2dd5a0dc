"""Enquiry mode: the platform's answer as a result table, with paging, browse filters and receipts.

The catalog says what is special about an item (``flow`` in config/catalog.json):
``recommend`` (a list the platform ranks for the resident), ``filters`` and
``pay_column`` (browse lists), ``masks_names`` (lists of other residents),
``card_status_notes`` (the card status answer in words).
"""

from __future__ import annotations

import re
from typing import Any

from kiosk.core.idnumber import mask_name
from kiosk.flows.base import FlowBase
from kiosk.flows.card_notes import CARD_STATE_ZH, card_progress, card_state, card_status_notes
from kiosk.flows.fields import FieldState
from kiosk.flows.step import (
    ENQUIRY,
    MAX_PRINT_ROWS,
    RESULT,
    Step,
    cell_zh,
    display_label,
    print_columns,
    record_period,
    related_items,
)
from kiosk.platform.adapter import Column, EnquiryResult
from kiosk.receipts.model import Receipt

PAY_RE = re.compile(r"(\d+)")
#: The platform's ranked lists (catalog ``flow.recommend``): the job kind, or seekers for an employer.
_JOB_KINDS = {"fixed_jobs": "fixed", "gig_jobs": "gig"}
#: The browse filters as the result screen offers them (catalog ``flow.filters`` picks and orders).
_FILTER_FIELDS = {
    "township": ("乡镇/区县", "text_zh", "pinyin"),
    "type": ("工种/关键字", "text_zh", "pinyin"),
    "min_pay": ("最低报酬（元）", "money", "decimal"),
}


def _pay_floor(text: object) -> int:
    m = PAY_RE.search(str(text))
    return int(m.group(1)) if m else 0


class EnquiryFlow(FlowBase):
    """The enquiry mode of :class:`kiosk.flows.engine.ServiceFlow`."""

    def page(self, n: int) -> Step:
        if self.state != "result" or self.mode != ENQUIRY:
            return self.step or self.start()
        return self._guarded(lambda: self._query(n))

    def filter(self, **kw: Any) -> Step:
        """Browse filters: ``township`` (county/town name), ``type`` (keyword), ``min_pay`` (yuan)."""
        if self.mode != ENQUIRY or not self.item.flow.filters:
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

    def receipt_all(self) -> Receipt | None:
        """The receipt of an enquiry with every record, not only the page on screen (the first
        ``MAX_PRINT_ROWS`` and the period they cover when there are more). Blocks on the platform."""
        res = self.result
        if self.mode != ENQUIRY or res is None or res.pages <= 1:
            return self.step.receipt if self.step else None
        rows = self._all_records(res)
        return self._enquiry_receipt(res, self._enquiry_summary(res), self._result_notes_of(res), rows=rows)

    # -- fetching and paging -------------------------------------------------------------
    def _fetch(self, page: int, page_size: int) -> EnquiryResult:
        flow = self.item.flow
        if flow.recommend in _JOB_KINDS:
            return self.platform.recommend_jobs(
                self.id_number, _JOB_KINDS[flow.recommend], page=page, page_size=page_size
            )
        if flow.recommend == "gig_seekers":
            return self.platform.recommend_seekers(self.id_number, page=page, page_size=page_size)
        params: dict[str, Any] = {}
        if flow.filters:
            if self.filters["township"]:
                params["county"] = self.filters["township"]
            if self.filters["type"]:
                params["keyword"] = self.filters["type"]
        return self.platform.enquiry(self.item.no, self.id_number, params, page=page, page_size=page_size)

    def _query(self, page: int) -> Step:
        by_pay = self.filters["min_pay"] and "min_pay" in self.item.flow.filters
        min_pay = int(self.filters["min_pay"]) if by_pay else 0
        if min_pay:
            # The platform has no pay filter: fetch the (short) list once and page locally.
            if self._all_rows is None or self._template is None:
                first = self._fetch(1, 100)
                rows = list(first.rows)
                for p in range(2, first.pages + 1):
                    rows += self._fetch(p, 100).rows
                key = self.item.flow.pay_column
                self._all_rows = [r for r in rows if _pay_floor(r.get(key, "")) >= min_pay]
                self._template = first
            rows = self._all_rows
            pages = max(1, -(-len(rows) // self.page_size))
            page = min(max(1, page), pages)
            t = self._template
            res = EnquiryResult(
                t.item_no,
                t.title_zh,
                t.columns,
                rows[(page - 1) * self.page_size : page * self.page_size],
                len(rows),
                page,
                self.page_size,
                t.notice_zh,
                t.summary,
            )
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
        rows = [dict(r) for r in full.rows[(page - 1) * self.page_size : page * self.page_size]]
        return EnquiryResult(
            full.item_no,
            full.title_zh,
            full.columns,
            rows,
            full.total,
            page,
            self.page_size,
            full.notice_zh,
            full.summary,
        )

    def _masked(self, res: EnquiryResult) -> EnquiryResult:
        """Lists of other residents are shown masked (surname only), whatever the platform sent."""
        if self.item.flow.masks_names:
            for row in res.rows:
                if "name" in row:
                    row["name"] = mask_name(str(row["name"]))
        return res

    def _all_records(self, res: EnquiryResult) -> list[dict[str, Any]]:
        if self._all_rows is not None:  # filtered by pay: already complete
            return list(self._all_rows)
        full = (
            self._finder.cached(self.item.no) if self._finder is not None and not any(self.filters.values()) else None
        )
        if full is not None and len(full.rows) >= full.total:
            rows = [dict(r) for r in full.rows]
        else:
            first = self._fetch(1, 100)
            rows = list(first.rows)
            for p in range(2, first.pages + 1):
                if len(rows) >= MAX_PRINT_ROWS:
                    break
                rows += self._fetch(p, 100).rows
        return self._masked(
            EnquiryResult(res.item_no, res.title_zh, res.columns, rows, len(rows), 1, max(1, len(rows)))
        ).rows

    # -- the result step -----------------------------------------------------------------
    def _result_notes_of(self, res: EnquiryResult) -> list[str]:
        notes = [res.notice_zh] if res.notice_zh else []
        if self.item.flow.card_status_notes:
            notes += card_status_notes(res.summary, res.rows)
        return notes

    def _result_step(self, res: EnquiryResult) -> Step:
        notes = self._result_notes_of(res)
        summary = self._enquiry_summary(res)
        msg = f"共{res.total}条，第{res.page}/{res.pages}页。" if res.total else "未查询到记录。"
        filters = []
        for name in self.item.flow.filters:
            label, ftype, keyboard = _FILTER_FIELDS[name]
            filters.append(FieldState(name, label, ftype, self.filters[name], keyboard=keyboard, required=False))
        actions = ["finish"]
        if res.pages > 1:
            actions.insert(0, "page")
        if filters:
            actions.insert(0, "filter")
        receipt = self._enquiry_receipt(res, summary, notes)
        related = list(self.item.flow.follow_ups) + related_items(" ".join(notes), self.item.no)
        return self._set(
            Step(
                RESULT,
                self._title(),
                msg,
                summary=summary,
                table=res,
                receipt=receipt,
                can_print=True,
                notes_zh=notes,
                outcome="shown",
                filters=filters,
                actions=actions,
                related=related,
            ),
            "result",
        )

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
            state = card_state(s["state"])
            out.append(("社保卡状态", CARD_STATE_ZH.get(state, state)))
            out.append(("办卡进度", card_progress(state)))
        if self.filters.get("township") or self.filters.get("type") or self.filters.get("min_pay"):
            f = self.filters
            parts = [p for p in (f["township"], f["type"], f"{f['min_pay']}元以上" if f["min_pay"] else "") if p]
            out.append(("筛选条件", "、".join(parts)))
        return out

    def _enquiry_receipt(
        self,
        res: EnquiryResult,
        summary: list[tuple[str, str]],
        notes: list[str],
        rows: list[dict[str, Any]] | None = None,
    ) -> Receipt:
        """``rows`` given: every record of the enquiry is printed; else the page on screen."""
        cols: list[Column] = print_columns(res.columns)
        fields = list(summary)
        if rows is not None:
            printed = rows[:MAX_PRINT_ROWS]
            period = record_period(res.columns, printed)
            if period:
                fields.append(("查询期间", period))
            fields.append(
                (
                    "记录",
                    f"共{res.total}条，全部列在下面"
                    if len(printed) >= res.total
                    else f"共{res.total}条，下面列出前{len(printed)}条，其余请在屏幕上查看",
                )
            )
        else:
            printed = res.rows
            if res.pages > 1:
                fields.append(("页码", f"第{res.page}/{res.pages}页，共{res.total}条"))
        cols_zh = [display_label(c) for c in cols]
        rows_zh = [[cell_zh(c, r.get(c.key, "")) for c in cols] for r in printed]
        return self._receipt(
            "enquiry",
            title=res.title_zh or self.item.name,
            columns=cols_zh,
            rows=rows_zh,
            office_phone=self.site.office_phone,
            fields=fields,
            notes=notes,
        )
