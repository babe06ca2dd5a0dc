"""The guide's conditions (catalog rules), checked before the resident fills anything in.

Two halves:

* ``ResidentFacts`` + ``evaluate(rules, facts, ...)``: pure. A fact that is
  ``None`` is *unknown* (the platform does not expose it): the rule then
  passes here and the platform's own check at submission decides, so the
  kiosk never refuses someone on a guess.
* ``FactFinder``: learns the facts a set of rules needs from the ``Platform``
  adapter, lazily and once per flow (age from the ID number; card state from
  the resident record; insurance, benefits, contribution years and prior
  registrations from the enquiries that show them). See docs/flows.md for
  which enquiry answers which fact.
"""

from __future__ import annotations

import datetime as _dt
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from kiosk.flows.catalog import Rule
from kiosk.core.idnumber import age_on, is_valid_id, mask_id
from kiosk.platform.adapter import EnquiryResult, Platform, Refused

log = logging.getLogger("kiosk.flows")

# The platform's card states → the catalog's vocabulary.
CARD_STATE_FROM_PLATFORM = {
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
    card_state: str | None = None                       # catalog vocabulary (CARD_STATES)
    insured: dict[str, bool | None] = field(default_factory=dict)
    receiving: dict[str, bool | None] = field(default_factory=dict)
    contribution_years: dict[str, float | None] = field(default_factory=dict)
    registered: dict[str, bool | None] = field(default_factory=dict)
    student: bool | None = None


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
    if r == "not_student":
        return None if facts.student is None else not facts.student
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


def evaluate(rules: Iterable[Rule], facts: ResidentFacts, today: _dt.date,
             fields: dict[str, Any] | None = None) -> Rule | None:
    """The first rule the resident fails (its ``message`` is the guide's words), or None."""
    for rule in rules:
        if _failed(rule, check_rule(rule, facts, today, fields)):
            return rule
    return None


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
        self.facts = ResidentFacts(id_number, CARD_STATE_FROM_PLATFORM.get(card_state or "", None))

    def _enquiry(self, item_no: int) -> EnquiryResult | None:
        if item_no not in self._cache:
            if item_no == 2:
                call = lambda: self.platform.recommend_jobs(self.id_number, "fixed", page=1, page_size=1)  # noqa: E731
            elif item_no == 5:
                call = lambda: self.platform.recommend_jobs(self.id_number, "gig", page=1, page_size=1)  # noqa: E731
            elif item_no == 8:
                call = lambda: self.platform.recommend_seekers(self.id_number, page=1, page_size=1)  # noqa: E731
            else:
                call = lambda: self.platform.enquiry(item_no, self.id_number, {}, page=1, page_size=100)  # noqa: E731
            self._cache[item_no] = _ok_enquiry(call)
        return self._cache[item_no]

    def cached(self, item_no: int) -> EnquiryResult | None:
        """A successful enquiry answer already fetched for a condition (None if not fetched or refused)."""
        return self._cache.get(item_no)

    def _has(self, item_no: int) -> bool:
        res = self._enquiry(item_no)
        return res is not None and res.total > 0

    def learn(self, rules: Iterable[Rule]) -> ResidentFacts:
        f = self.facts
        for rule in rules:
            r, v = rule.rule, rule.value
            if r in ("insured", "not_insured") and v not in f.insured:
                f.insured[v] = self._insured(v)
            elif r in ("receiving_benefit", "not_receiving_benefit") and v not in f.receiving:
                f.receiving[v] = self._receiving(v)
            elif r == "min_contribution_years" and rule.scheme not in f.contribution_years:
                f.contribution_years[rule.scheme or ""] = self._years(rule.scheme or "")
            elif r == "registered" and v not in f.registered:
                f.registered[v] = self._registered(v)
        log.debug("facts for %s: insured=%s receiving=%s years=%s registered=%s card=%s", mask_id(self.id_number),
                  f.insured, f.receiving, f.contribution_years, f.registered, f.card_state)
        return f

    def _insured(self, scheme: str) -> bool | None:
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
        probe = {"job_seeker": 2, "gig_seeker": 5, "gig_employer": 8, "employment_certificate": 13,
                 "training_intention": 17, "training_referral": 18}.get(what)
        if probe is None:
            return None  # unemployment / flexible-employment registration: not exposed
        return self._enquiry(probe) is not None


def beneficiary_facts(platform: Platform, id_number: str, rules: Iterable[Rule]) -> ResidentFacts:
    """Facts about another person named in the form (item 24/37's 待遇领取人)."""
    return FactFinder(platform, id_number).learn(rules)
