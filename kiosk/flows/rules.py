"""The guide's conditions (catalog rules), checked before the resident fills anything in.

Two halves:

* ``ResidentFacts`` + ``evaluate(rules, facts, ...)``: pure. A fact that is
  ``None`` is *unknown* (the platform does not say): the rule is not failed
  here, so the kiosk never refuses someone on a guess, but it is not passed
  silently either: ``unverified(rules, facts, ...)`` lists it, and the
  checklist / confirm screen names the condition the counter or the platform
  will check. Rows of kind declared/platform/counter (config/rules.json) are
  never decided here.
* ``FactFinder``: learns the facts a set of rules needs from the ``Platform``
  adapter, lazily and once per flow: age from the ID number; card state from
  the resident record; everything else from the status record
  (``Platform.resident_status``), or, when a platform does not serve it, from
  the enquiries that show it (docs/flows.md).
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from kiosk.core.idnumber import age_on, is_valid_id, mask_id
from kiosk.flows.catalog import UNDECIDED_RULES, Rule
from kiosk.platform.adapter import BadResponse, EnquiryResult, Platform, Refused, ResidentStatus

log = logging.getLogger("kiosk.flows")

# The platform's card states → the catalog's vocabulary.
CARD_STATE_FROM_PLATFORM = {
    "none": "none",
    "normal": "active",
    "temp_lost": "lost_temporary",
    "lost": "lost_formal",
    "not_activated": "issued_not_activated",
    "in_production": "in_production",
}


@dataclass
class ResidentFacts:
    """What the rules need to know; None = the platform does not tell us."""

    id_number: str = field(repr=False)  # never in a repr that reaches a log
    card_state: str | None = None  # catalog vocabulary (CARD_STATES)
    insured: dict[str, bool | None] = field(default_factory=dict)
    receiving: dict[str, bool | None] = field(default_factory=dict)
    contribution_years: dict[str, float | None] = field(default_factory=dict)
    registered: dict[str, bool | None] = field(default_factory=dict)
    student: bool | None = None
    status: ResidentStatus | None = None  # the platform's status record; None = not served/unknown


# The catalog's registration names -> the platform's (status record ``registrations``).
REGISTRATION_FROM_CATALOG = {
    "job_seeker": "fixed_seeker",
    "gig_seeker": "gig_seeker",
    "gig_employer": "gig_employer",
    "flexible_employment": "flexible",
    "unemployment": "unemployment",
    "employment_certificate": "employment_certificate",
    "training_intention": "training_intention",
    "training_referral": "training_referral",
}
# Rules decided from the status record alone (nothing else knows these facts).
STATUS_RULES = frozenset(
    {
        "not_employee",
        "employment_status",
        "within_working_age",
        "able_to_work",
        "no_subsidised_training",
        "in_post_or_receiving_ui",
        "unemployment_involuntary",
        "makeup_eligible",
        "card_not_reissued",
        "not_student",
    }
)


def _negate(x: bool | None) -> bool | None:
    return None if x is None else not x


def _status_rule(rule: Rule, facts: ResidentFacts, today: _dt.date) -> bool | None:
    st = facts.status
    r, v = rule.rule, rule.value
    if r == "not_student":
        student = facts.student if facts.student is not None else (st.student if st else None)
        if student is None or not student:
            return _negate(student)
        if v == "graduating_ok" and st is not None and st.graduating_this_year is not None:
            return st.graduating_this_year
        return False
    if st is None:
        return None
    if r == "not_employee":
        if st.employment is None:
            return None
        if st.employment != "employed":
            return True
        return None if st.employer_kind is None else st.employer_kind not in v
    if r == "employment_status":
        return None if st.employment is None else st.employment in v
    if r == "within_working_age":
        if st.working_age_limit is None or not is_valid_id(facts.id_number):
            return None
        return age_on(facts.id_number, today) < st.working_age_limit
    if r == "able_to_work":
        return st.able_to_work
    if r == "no_subsidised_training":
        return _negate(st.subsidised_training_this_year)
    if r == "in_post_or_receiving_ui":
        if st.receiving_unemployment:
            return True
        if st.employment is None or st.receiving_unemployment is None:
            return None
        return st.employment == "employed" and st.employer_kind == "enterprise"
    if r == "unemployment_involuntary":
        return st.unemployment_involuntary
    if r == "makeup_eligible":
        return st.makeup_eligible
    if r == "card_not_reissued":
        return None if st.card_reissue is None else st.card_reissue != "issued"
    return None


def _failed(rule: Rule, ok: bool | None) -> bool:
    return ok is False  # None (unknown) passes: the platform decides at submission


def check_rule(rule: Rule, facts: ResidentFacts, today: _dt.date, fields: dict[str, Any] | None = None) -> bool | None:
    """True = satisfied, False = not, None = unknown (let the platform decide)."""
    r, v = rule.rule, rule.value
    if r in ("min_age", "under_age"):
        if not is_valid_id(facts.id_number):
            return None
        age = age_on(facts.id_number, today)
        return bool(age >= v if r == "min_age" else age < v)
    if r == "card_state":
        return None if facts.card_state is None else facts.card_state in v
    if r == "insured":
        return facts.insured.get(v)
    if r == "not_insured":
        x = facts.insured.get(v)
        return None if x is None else not x
    if r == "receiving_benefit":
        return facts.receiving.get(v)
    if r == "not_receiving_benefit":
        x = facts.receiving.get(v)
        return None if x is None else not x
    if r == "min_contribution_years":
        years = facts.contribution_years.get(rule.scheme or "")
        return None if years is None else years >= v
    if r == "registered":
        return facts.registered.get(v)
    if r == "not_registered":
        return _negate(facts.registered.get(v))
    if r in STATUS_RULES:
        return _status_rule(rule, facts, today)
    if r == "certificate_within_months":
        raw = (fields or {}).get("certificate_date")
        if not raw:
            return None
        issued = _dt.date.fromisoformat(str(raw))
        limit = _add_months(issued, int(v))
        return issued <= today <= limit
    return None


def _add_months(d: _dt.date, months: int) -> _dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    for day in (d.day, 30, 29, 28):
        try:
            return _dt.date(year, month, day)
        except ValueError:
            continue
    raise ValueError(d)  # pragma: no cover


def needs_fields(rule: Rule) -> bool:
    """Rules that can only be checked once the form is filled in."""
    return rule.applies_to is not None or rule.rule == "certificate_within_months"


def evaluate(
    rules: Iterable[Rule], facts: ResidentFacts, today: _dt.date, fields: dict[str, Any] | None = None
) -> Rule | None:
    """The first rule the resident fails (its ``message`` is the guide's words), or None."""
    for rule in rules:
        if rule.rule in UNDECIDED_RULES:
            continue
        if _failed(rule, check_rule(rule, facts, today, fields)):
            return rule
    return None


def unverified(
    rules: Iterable[Rule], facts: ResidentFacts, today: _dt.date, fields: dict[str, Any] | None = None
) -> list[Rule]:
    """Conditions the kiosk could not decide for this resident: unknown facts and counter rows.

    Declared rows (the resident's own statement) and platform rows (checked on the submitted form)
    are left out: the resident is not asked to prove them at the counter.
    """
    out = []
    for rule in rules:
        if rule.rule in ("declared", "platform"):
            continue
        if rule.rule == "counter" or check_rule(rule, facts, today, fields) is None:
            out.append(rule)
    return out


def decided_by(rule: Rule) -> str:
    """Who decides a table row: kiosk (from the ID number, card or platform record), or
    declared / platform / counter (see config/rules.json)."""
    return rule.rule if rule.rule in UNDECIDED_RULES else "kiosk"


def counter_note(rules: list[Rule]) -> str:
    """The checklist's plain sentence naming what the counter will check (empty when nothing)."""
    conds = [r.condition_zh or r.message for r in rules]
    if not conds:
        return ""
    return "以下办理条件本机无法核实，将由柜台工作人员核对：" + "；".join(dict.fromkeys(conds)) + "。"


# ---------------------------------------------------------------------------
# Learning the facts from the platform


def _ok_enquiry(call: Callable[[], EnquiryResult]) -> EnquiryResult | None:
    """An enquiry's answer, or None when the platform says there is no such record."""
    try:
        return call()
    except Refused as exc:
        if exc.code in ("no_record", "not_registered", "not_eligible", "not_found"):
            return None
        raise


class FactFinder:
    """Fills ``ResidentFacts`` for the rules at hand, asking the platform only what they need.

    Platform errors other than "no record" (network, timeout) propagate: the
    engine turns them into an error step with a retry.
    """

    def __init__(self, platform: Platform, id_number: str, *, card_state: str | None = None) -> None:
        self.platform = platform
        self.id_number = id_number
        self._cache: dict[Any, EnquiryResult | None] = {}
        self.facts = ResidentFacts(id_number, CARD_STATE_FROM_PLATFORM.get(card_state or ""))

    def _enquiry(self, item_no: int) -> EnquiryResult | None:
        # Only record enquiries decide facts (25, 26, 33, 36 below); ranked lists never do.
        if item_no not in self._cache:
            self._cache[item_no] = _ok_enquiry(
                lambda: self.platform.enquiry(item_no, self.id_number, {}, page=1, page_size=100)
            )
        return self._cache[item_no]

    def cached(self, item_no: int) -> EnquiryResult | None:
        """A successful enquiry answer already fetched for a condition (None if not fetched or refused)."""
        return self._cache.get(item_no)

    def _has(self, item_no: int) -> bool:
        res = self._enquiry(item_no)
        return res is not None and res.total > 0

    def _status(self) -> ResidentStatus | None:
        """The status record, fetched once; None when the platform does not serve it."""
        if "status" not in self._cache:
            try:
                self._cache["status"] = self.platform.resident_status(self.id_number)  # type: ignore[assignment]
            except Refused as exc:
                if exc.code not in ("no_record", "not_found", "not_supported"):
                    raise
                self._cache["status"] = None
            except BadResponse as exc:
                # An older platform without the endpoint (404 without our error body) or a malformed
                # record: decide what the enquiries show and name the rest on the checklist.
                log.warning("resident status unavailable for %s: %s", mask_id(self.id_number), exc)
                self._cache["status"] = None
        return self._cache["status"]  # type: ignore[return-value]

    def learn(self, rules: Iterable[Rule]) -> ResidentFacts:
        f = self.facts
        rules = list(rules)
        if any(
            r.rule not in ("min_age", "under_age", "card_state", "certificate_within_months")
            and r.rule not in UNDECIDED_RULES
            for r in rules
        ):
            f.status = self._status()
            if f.status is not None:
                f.student = f.status.student
        for rule in rules:
            r, v = rule.rule, rule.value
            if r in ("insured", "not_insured") and v not in f.insured:
                f.insured[v] = self._insured(v)
            elif r in ("receiving_benefit", "not_receiving_benefit") and v not in f.receiving:
                f.receiving[v] = self._receiving(v)
            elif r == "min_contribution_years" and rule.scheme not in f.contribution_years:
                f.contribution_years[rule.scheme or ""] = self._years(rule.scheme or "")
            elif r in ("registered", "not_registered") and v not in f.registered:
                f.registered[v] = self._registered(v)
        log.debug(
            "facts for %s: insured=%s receiving=%s years=%s registered=%s card=%s",
            mask_id(self.id_number),
            f.insured,
            f.receiving,
            f.contribution_years,
            f.registered,
            f.card_state,
        )
        return f

    def _insured(self, scheme: str) -> bool | None:
        st = self.facts.status
        if st is not None:
            known = {
                "employee_pension": st.employee_pension_insured,
                "urban_rural_basic_pension": st.resident_pension_enrolled,
                "urban_rural_supplementary_pension": st.supplementary_enrolled,
                "unemployment_insurance": None
                if st.unemployment_insurance_months is None
                else st.unemployment_insurance_months > 0,
            }.get(scheme)
            if known is not None:
                return known
        if scheme == "employee_pension":
            return self._has(25)
        if scheme == "urban_rural_basic_pension":
            return self._has(33)
        if scheme == "urban_rural_supplementary_pension":
            res = self._enquiry(33)
            if res is None:
                return False
            return any(str(row.get("type", "")) == "补充险" for row in res.rows)
        return None  # unemployment insurance: no enquiry shows it

    def _receiving(self, benefit: str) -> bool | None:
        st = self.facts.status
        if st is not None:
            other = None
            if st.employee_pension_receiving is not None and st.institution_pension_receiving is not None:
                other = st.employee_pension_receiving or st.institution_pension_receiving
            known = {
                "employee_pension": st.employee_pension_receiving,
                "urban_rural_basic_pension": st.resident_pension_receiving,
                "urban_rural_supplementary_pension": st.supplementary_receiving,
                "unemployment_insurance": st.receiving_unemployment,
                # item 21: every group that must certify yearly (seeds/002 item 21 服务对象)
                "monthly_benefit": None if st.recipient_groups is None else bool(st.recipient_groups),
                # item 34: "未享受其他养老保险待遇" — enterprise or 机关事业 pension
                "other_pension": other,
            }.get(benefit)
            if known is not None:
                return known
        if benefit == "employee_pension":
            return self._has(26)
        if benefit == "urban_rural_basic_pension":
            return self._has(36)
        if benefit == "unemployment_insurance":
            return self._has(27)
        if benefit == "monthly_benefit":
            return self._has(26) or self._has(36)
        if benefit == "other_pension":
            return self._has(26)
        return None

    def _years(self, scheme: str) -> float | None:
        st = self.facts.status
        if st is not None:
            months = {
                "employee_pension": st.employee_pension_months,
                "unemployment_insurance": st.unemployment_insurance_months,
            }.get(scheme)
            if months is not None:
                return months / 12
            if scheme == "urban_rural_basic_pension" and st.resident_pension_years is not None:
                return float(st.resident_pension_years)
        if scheme == "employee_pension":
            res = self._enquiry(25)
            if res is None:
                return 0.0
            months = res.summary.get("total_months")
            return None if months is None else float(months) / 12
        if scheme == "urban_rural_basic_pension":
            res = self._enquiry(33)
            if res is None:
                return 0.0
            years = res.summary.get("years")
            return None if years is None else float(years)
        return None  # unemployment insurance months are not exposed by the platform

    def _registered(self, what: str) -> bool | None:
        st = self.facts.status
        if st is not None and st.registrations is not None and what in REGISTRATION_FROM_CATALOG:
            return REGISTRATION_FROM_CATALOG[what] in st.registrations
        probe = {
            "job_seeker": 2,
            "gig_seeker": 5,
            "gig_employer": 8,
            "employment_certificate": 13,
            "training_intention": 17,
            "training_referral": 18,
        }.get(what)
        if probe is None:
            return None  # unemployment / flexible-employment registration: not exposed
        return self._enquiry(probe) is not None


def beneficiary_facts(platform: Platform, id_number: str, rules: Iterable[Rule]) -> ResidentFacts:
    """Facts about another person named in the form (item 24/37's 待遇领取人)."""
    return FactFinder(platform, id_number).learn(rules)
