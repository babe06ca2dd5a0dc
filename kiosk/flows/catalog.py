"""The service catalog: the 40 items of the county's list, as validated data.

``config/catalog.json`` is built from the seed documents by
``scripts/build_catalog.py`` (see docs/catalog.md). This module loads it,
checks every part the app, CLI and flows rely on, and returns immutable
dataclasses. A bad file raises :class:`kiosk.core.errors.CatalogError` whose log
text names the item number and the field, e.g.
``catalog.json item 21: channels: unknown channel 'web'``.

Kivy-free: flows and the CLI import it.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk import CONFIG_DIR
from kiosk.core.errors import CatalogError
from kiosk.flows.item_flow import FlowTraits, parse_flow

log = logging.getLogger("kiosk.catalog")

DEFAULT_PATH = CONFIG_DIR / "catalog.json"
RULES_FILE = "rules.json"  # the rule table, beside the catalog it belongs to
EXPECTED_ITEMS = 40
SCHEMA_VERSION = 1

CHANNELS = frozenset({"counter", "kiosk"})
KINDS = frozenset({"enquiry", "application", "registration", "certification", "card", "info"})
#: How the kiosk handles an item: the one source of truth for labels ("自助机可办") and the engine.
KIOSK_MODES = ("enquiry", "application", "counter")
RECEIPTS = frozenset({"acceptance", "enquiry", "checklist", "certification"})
FIELD_TYPES = frozenset({"text_zh", "digits", "phone", "date", "id_number", "money", "choice", "certificate_no"})
#: Labels of the lines the confirm screen and the receipts show above an item's own answers
#: (kiosk.flows.submission / counter): a field labelled the same would read as a repeated line
#: ("办理事项：40 社会保障卡挂失与解挂" then "办理事项：临时挂失").
SUMMARY_LABELS = frozenset(
    {"办理事项", "申请人", "身份证号", "认证照片", "办理渠道", "办理地点", "办理窗口", "办结时限"}
)
GUIDE_KEYS = (
    "description",
    "audience",
    "conditions",
    "place",
    "materials",
    "procedure",
    "time_limit",
    "notes",
    "phone",
)

# Insurance schemes a rule can name (what the platform reports per resident).
SCHEMES = frozenset(
    {
        "employee_pension",  # 企业职工基本养老保险
        "unemployment_insurance",  # 失业保险
        "urban_rural_basic_pension",  # 城乡居民基本养老保险
        "urban_rural_supplementary_pension",  # 城乡居民补充养老保险
    }
)
# Benefit kinds for receiving_benefit / not_receiving_benefit: a scheme, or
# "monthly_benefit" (any monthly social-insurance benefit), or
# "other_pension" (a pension other than the urban-rural basic one).
BENEFITS = SCHEMES | {"monthly_benefit", "other_pension"}
# Prior registrations the platform knows about.
REGISTRATIONS = frozenset(
    {
        "job_seeker",  # 固定工求职登记 (item 1)
        "gig_seeker",  # 零工求职登记 (item 4)
        "gig_employer",  # 招聘零工登记 (item 7)
        "flexible_employment",  # 灵活就业登记 (item 10)
        "unemployment",  # 失业登记 (item 11)
        "employment_certificate",  # 《就业创业证》已申领
        "training_intention",  # 培训意向登记 (item 16)
        "training_referral",  # 培训机构推荐 (item 17)
    }
)
# Social-security card states (社会保障卡应用状态).
CARD_STATES = frozenset(
    {
        "none",
        "in_production",
        "issued_not_activated",
        "active",
        "lost_temporary",
        "lost_formal",
        "sealed",
        "cancelled",
    }
)

# rule name -> what its value must be (checked by _check_rule_value).
RULE_NAMES = frozenset(
    {
        "min_age",  # int: age on the day >= value (from the ID number)
        "under_age",  # int: age on the day < value
        "min_contribution_years",  # int, with "scheme": paid-in years in that scheme >= value
        "insured",  # scheme: resident is enrolled in it
        "not_insured",  # scheme: resident is not enrolled in it
        "receiving_benefit",  # benefit: resident currently receives it
        "not_receiving_benefit",  # benefit: resident does not receive it
        "registered",  # registration: resident has done it before
        "card_state",  # list of card states allowed
        "not_student",  # true, or "graduating_ok": not a full-time student (or one in the graduation year)
        "certificate_within_months",  # int: the certificate_date field is at most value months old
        # Facts from the platform's status record (POST /v1/residents/status, issue 14):
        "not_employee",  # list of employer kinds (enterprise, institution): not in post at one
        "employment_status",  # list of employment states the resident must be in
        "within_working_age",  # true: age below the platform's working-age limit for this person
        "able_to_work",  # true: 有劳动能力
        "not_registered",  # registration: resident has NOT done it (e.g. 已登记就业信息)
        "no_subsidised_training",  # true: no government-subsidised training this year
        "in_post_or_receiving_ui",  # true: employee in post, or drawing unemployment benefit (item 22)
        "unemployment_involuntary",  # true: the unemployment registration says 非因本人意愿
        "makeup_eligible",  # true: item 32's make-up conditions (late starter or gaps), under 15 years
        "card_not_reissued",  # true: no replacement card issued (item 40: unlocking the old card)
        # Conditions no data decides (value: true), kept in the table so the table is the whole guide:
        "declared",  # the resident's own statement by applying (有就业意愿, 补缴意愿 ...)
        "platform",  # checked by the platform on the submitted form (e.g. 歧视性要求)
        "counter",  # checked by counter staff on papers; printed on the checklist
    }
)
EMPLOYER_KINDS = frozenset({"enterprise", "institution"})
EMPLOYMENT_STATES = frozenset({"employed", "flexible", "unemployed", "farmer", "retired", "student", "child"})
# Rules whose value is just `true`.
FLAG_RULES = frozenset(
    {
        "within_working_age",
        "able_to_work",
        "no_subsidised_training",
        "in_post_or_receiving_ui",
        "unemployment_involuntary",
        "makeup_eligible",
        "card_not_reissued",
        "declared",
        "platform",
        "counter",
    }
)
# Rules no fact decides: evaluate() never refuses on them.
UNDECIDED_RULES = frozenset({"declared", "platform", "counter"})


@dataclass(frozen=True)
class Category:
    id: str
    name: str


@dataclass(frozen=True)
class TimeLimit:
    kind: str  # "instant" or "working_days"
    days: int = 0
    exclude_application_day: bool = False

    @property
    def is_instant(self) -> bool:
        return self.kind == "instant"

    def to_dict(self) -> dict[str, Any]:
        if self.is_instant:
            return {"kind": "instant"}
        return {"kind": self.kind, "days": self.days, "exclude_application_day": self.exclude_application_day}


@dataclass(frozen=True)
class GuideText:
    """One item's 办事指南 (seed 002); "" where the guide lacks a part."""

    description: str = ""
    audience: str = ""
    conditions: str = ""
    place: str = ""
    materials: str = ""
    procedure: str = ""
    time_limit: str = ""
    notes: str = ""
    phone: str = ""

    def to_dict(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in GUIDE_KEYS}


@dataclass(frozen=True)
class Rule:
    """A machine-checkable condition and the guide's words when it fails."""

    rule: str
    value: Any
    message: str
    scheme: str | None = None  # only for min_contribution_years
    applies_to: str | None = None  # a field holding another person's ID number; None = the resident
    # From the rule table (config/rules.json): the condition in a few words, the seed sentence it
    # comes from and the seed file; ``why`` says why a declared/platform/counter row is not decided here.
    condition_zh: str = field(default="", compare=False)
    quote: str = field(default="", compare=False)
    source: str = field(default="", compare=False)
    why: str = field(default="", compare=False)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "value": list(self.value) if isinstance(self.value, tuple) else self.value,
        }
        if self.scheme is not None:
            out["scheme"] = self.scheme
        if self.applies_to is not None:
            out["applies_to"] = self.applies_to
        out["message"] = self.message
        for key in ("condition_zh", "quote", "source", "why"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    type: str
    required: bool = True
    choices: tuple[str, ...] = ()
    min: int | None = None
    max: int | None = None
    #: one-tap answers shown above the keypad of a text field (any other text can still be typed)
    suggestions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "label": self.label, "type": self.type, "required": self.required}
        if self.choices:
            out["choices"] = list(self.choices)
        if self.suggestions:
            out["suggestions"] = list(self.suggestions)
        if self.min is not None:
            out["min"] = self.min
        if self.max is not None:
            out["max"] = self.max
        return out


@dataclass(frozen=True)
class ServiceItem:
    no: int
    category: str
    name: str
    content: str
    audience: str
    conditions: str
    materials: str
    channels: tuple[str, ...]
    time_limit: TimeLimit
    time_limit_text: str
    kind: str
    guide: GuideText
    rules: tuple[Rule, ...] = ()
    fields: tuple[FormField, ...] = ()
    requires_photo: bool = False
    receipt: str = "enquiry"
    #: enquiry | application | counter: what the kiosk does with it (catalog key ``kiosk_mode``)
    kiosk_mode: str = "counter"
    flow: FlowTraits = FlowTraits()  # noqa: RUF009 - frozen, so one shared default is safe

    @property
    def is_kiosk_channel(self) -> bool:
        """The seed's list marks it 自助机 (what the county publishes; see completes_on_kiosk)."""
        return "kiosk" in self.channels

    @property
    def completes_on_kiosk(self) -> bool:
        """The kiosk finishes it (enquiry or application), whatever the list's channel cell says.

        Every label a resident sees ("自助机可办" / "需到柜台办理") reads this, as does the engine.
        """
        return self.kiosk_mode != "counter"

    @property
    def is_counter_only(self) -> bool:
        return not self.completes_on_kiosk

    def field(self, name: str) -> FormField:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "no": self.no,
            "category": self.category,
            "name": self.name,
            "content": self.content,
            "audience": self.audience,
            "conditions": self.conditions,
            "materials": self.materials,
            "channels": list(self.channels),
            "time_limit": self.time_limit.to_dict(),
            "time_limit_text": self.time_limit_text,
            "kind": self.kind,
            "guide": self.guide.to_dict(),
            "rules": [r.to_dict() for r in self.rules],
            "fields": [f.to_dict() for f in self.fields],
            "requires_photo": self.requires_photo,
            "receipt": self.receipt,
            "kiosk_mode": self.kiosk_mode,
        }
        flow = self.flow.to_dict()
        if flow:
            out["flow"] = flow
        return out


@dataclass(frozen=True)
class Catalog:
    version: int
    sources: dict[str, str]
    categories: tuple[Category, ...]
    items: tuple[ServiceItem, ...]
    path: str = field(default="", compare=False)

    def by_no(self, no: int) -> ServiceItem:
        found = {item.no: item for item in self.items}.get(no)
        if found is None:
            raise CatalogError(f"catalog has no item {no}", "没有这个服务事项，请返回重新选择。")
        return found

    def in_category(self, category_id: str) -> list[ServiceItem]:
        if category_id not in {c.id for c in self.categories}:
            raise CatalogError(f"catalog has no category {category_id!r}", "没有这个服务类别，请返回重新选择。")
        return [item for item in self.items if item.category == category_id]

    def category(self, category_id: str) -> Category:
        for c in self.categories:
            if c.id == category_id:
                return c
        raise CatalogError(f"catalog has no category {category_id!r}", "没有这个服务类别，请返回重新选择。")

    def kiosk_items(self) -> list[ServiceItem]:
        """The items the kiosk completes (not only those the list marks 自助机)."""
        return [item for item in self.items if item.completes_on_kiosk]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "sources": dict(self.sources),
            "categories": [{"id": c.id, "name": c.name} for c in self.categories],
            "items": [item.to_dict() for item in self.items],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)


# --------------------------------------------------------------------------
# loading and validation


class _Checker:
    """Collects the location for error messages: file, item number, field."""

    def __init__(self, path: str) -> None:
        self.name = Path(path).name if path else "catalog"
        self.where = ""

    def fail(self, field_name: str, problem: str) -> CatalogError:
        where = f" {self.where}" if self.where else ""
        return CatalogError(f"{self.name}{where}: {field_name}: {problem}")

    def need(self, obj: dict[str, Any], key: str, typ: type | tuple[type, ...], prefix: str = "") -> Any:
        label = f"{prefix}{key}"
        if not isinstance(obj, dict):
            raise self.fail(prefix.rstrip(".") or "(root)", f"expected an object, got {type(obj).__name__}")
        if key not in obj:
            raise self.fail(label, "missing")
        value = obj[key]
        # bool is an int subclass: never accept it where a number is meant.
        if isinstance(value, bool) and bool not in (typ if isinstance(typ, tuple) else (typ,)):
            raise self.fail(label, f"expected {_type_name(typ)}, got {value!r}")
        if not isinstance(value, typ):
            raise self.fail(label, f"expected {_type_name(typ)}, got {type(value).__name__} {value!r}")
        return value

    def text(self, obj: dict[str, Any], key: str, prefix: str = "", allow_empty: bool = False) -> str:
        value: str = self.need(obj, key, str, prefix)
        if not allow_empty and not value.strip():
            raise self.fail(f"{prefix}{key}", "empty")
        return value


def _type_name(typ: type | tuple[type, ...]) -> str:
    if isinstance(typ, tuple):
        return " or ".join(t.__name__ for t in typ)
    return typ.__name__


def _positive_int(ck: _Checker, value: Any, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ck.fail(label, f"expected a positive whole number, got {value!r}")
    return value


def _parse_time_limit(ck: _Checker, raw: Any) -> TimeLimit:
    if not isinstance(raw, dict):
        raise ck.fail("time_limit", f"expected an object, got {raw!r}")
    kind = ck.need(raw, "kind", str, "time_limit.")
    if kind == "instant":
        extra = set(raw) - {"kind"}
        if extra:
            raise ck.fail("time_limit", f"instant takes no {sorted(extra)}")
        return TimeLimit("instant")
    if kind == "working_days":
        days = _positive_int(ck, raw.get("days"), "time_limit.days")
        excl = ck.need(raw, "exclude_application_day", bool, "time_limit.")
        extra = set(raw) - {"kind", "days", "exclude_application_day"}
        if extra:
            raise ck.fail("time_limit", f"unknown keys {sorted(extra)}")
        return TimeLimit("working_days", days, excl)
    raise ck.fail("time_limit.kind", f"expected 'instant' or 'working_days', got {kind!r}")


def _known(value: Any, names: Any) -> bool:
    """``value in names`` for JSON values: a list or object is never a known name (and is unhashable)."""
    return isinstance(value, str) and value in names


# Rules whose value is a non-empty list of names from a vocabulary.
_LIST_RULES = {"card_state": CARD_STATES, "not_employee": EMPLOYER_KINDS, "employment_status": EMPLOYMENT_STATES}


def _name_list(ck: _Checker, value: Any, vlabel: str, names: frozenset[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or any(not _known(v, names) for v in value):
        raise ck.fail(vlabel, f"expected a non-empty list of {sorted(names)}, got {value!r}")
    return tuple(value)


def _parse_rule(ck: _Checker, raw: Any, i: int, field_names: dict[str, str]) -> Rule:
    label = f"rules[{i}]"
    if not isinstance(raw, dict):
        raise ck.fail(label, f"expected an object, got {raw!r}")
    name = ck.need(raw, "rule", str, f"{label}.")
    if name not in RULE_NAMES:
        raise ck.fail(f"{label}.rule", f"unknown rule {name!r} (known: {', '.join(sorted(RULE_NAMES))})")
    message = ck.text(raw, "message", f"{label}.")
    if "value" not in raw:
        raise ck.fail(f"{label}.value", "missing")
    value = raw["value"]
    vlabel = f"{label}.value"
    scheme = raw.get("scheme")
    if name in ("min_age", "under_age", "certificate_within_months"):
        _positive_int(ck, value, vlabel)
    elif name == "min_contribution_years":
        _positive_int(ck, value, vlabel)
        if not _known(scheme, SCHEMES):
            raise ck.fail(f"{label}.scheme", f"expected one of {sorted(SCHEMES)}, got {scheme!r}")
    elif name in ("insured", "not_insured"):
        if not _known(value, SCHEMES):
            raise ck.fail(vlabel, f"unknown scheme {value!r}")
    elif name in ("receiving_benefit", "not_receiving_benefit"):
        if not _known(value, BENEFITS):
            raise ck.fail(vlabel, f"unknown benefit {value!r}")
    elif name == "registered":
        if not _known(value, REGISTRATIONS):
            raise ck.fail(vlabel, f"unknown registration {value!r}")
    elif name in _LIST_RULES:
        value = _name_list(ck, value, vlabel, _LIST_RULES[name])
    elif name == "not_student":
        if value is not True and value != "graduating_ok":
            raise ck.fail(vlabel, f'expected true or "graduating_ok", got {value!r}')
    elif name == "not_registered":
        if not _known(value, REGISTRATIONS):
            raise ck.fail(vlabel, f"unknown registration {value!r}")
    elif name in FLAG_RULES and value is not True:
        raise ck.fail(vlabel, f"expected true, got {value!r}")
    if scheme is not None and name != "min_contribution_years":
        raise ck.fail(f"{label}.scheme", "only min_contribution_years takes a scheme")
    applies_to = raw.get("applies_to")
    if applies_to is not None and field_names.get(applies_to) != "id_number":
        raise ck.fail(f"{label}.applies_to", f"{applies_to!r} is not an id_number field of this item")
    texts = {}
    for key in ("condition_zh", "quote", "source", "why"):
        v = raw.get(key, "")
        if not isinstance(v, str):
            raise ck.fail(f"{label}.{key}", f"expected text, got {v!r}")
        texts[key] = v
    if name in UNDECIDED_RULES and not texts["why"]:
        raise ck.fail(f"{label}.why", f"a {name} row must say why the kiosk does not decide it")
    extra = set(raw) - {
        "rule",
        "value",
        "message",
        "scheme",
        "applies_to",
        "item",
        "condition_zh",
        "quote",
        "source",
        "why",
    }
    if extra:
        raise ck.fail(label, f"unknown keys {sorted(extra)}")
    return Rule(name, value, message, scheme, applies_to, **texts)


def _parse_field(ck: _Checker, raw: Any, i: int) -> FormField:
    label = f"fields[{i}]"
    if not isinstance(raw, dict):
        raise ck.fail(label, f"expected an object, got {raw!r}")
    name = ck.text(raw, "name", f"{label}.")
    flabel = ck.text(raw, "label", f"{label}.")
    if flabel in SUMMARY_LABELS:
        raise ck.fail(f"{label}.label", f"{flabel!r} is already a summary line above the answers; name the field")
    ftype = ck.need(raw, "type", str, f"{label}.")
    if ftype not in FIELD_TYPES:
        raise ck.fail(f"{label}.type", f"unknown field type {ftype!r} (known: {', '.join(sorted(FIELD_TYPES))})")
    required = ck.need(raw, "required", bool, f"{label}.")
    choices: tuple[str, ...] = ()
    if ftype == "choice":
        raw_choices = raw.get("choices")
        if (
            not isinstance(raw_choices, list)
            or not raw_choices
            or not all(isinstance(c, str) and c for c in raw_choices)
        ):
            raise ck.fail(f"{label}.choices", f"a choice field needs a non-empty list of texts, got {raw_choices!r}")
        if len(set(raw_choices)) != len(raw_choices):
            raise ck.fail(f"{label}.choices", "duplicate choices")
        choices = tuple(raw_choices)
    elif "choices" in raw:
        raise ck.fail(f"{label}.choices", f"only choice fields take choices (type is {ftype})")
    lo, hi = raw.get("min"), raw.get("max")
    for key, v in (("min", lo), ("max", hi)):
        if v is not None:
            if ftype not in ("digits", "money"):
                raise ck.fail(f"{label}.{key}", f"only digits/money fields take {key}")
            if isinstance(v, bool) or not isinstance(v, int):
                raise ck.fail(f"{label}.{key}", f"expected a whole number, got {v!r}")
    if lo is not None and hi is not None and lo > hi:
        raise ck.fail(label, f"min {lo} > max {hi}")
    suggestions: tuple[str, ...] = ()
    if "suggestions" in raw:
        raw_sugg = raw["suggestions"]
        if ftype != "text_zh":
            raise ck.fail(f"{label}.suggestions", f"only text_zh fields take suggestions (type is {ftype})")
        if (
            not isinstance(raw_sugg, list)
            or not raw_sugg
            or not all(isinstance(c, str) and c for c in raw_sugg)
            or len(set(raw_sugg)) != len(raw_sugg)
        ):
            raise ck.fail(f"{label}.suggestions", f"expected a non-empty list of distinct texts, got {raw_sugg!r}")
        suggestions = tuple(raw_sugg)
    extra = set(raw) - {"name", "label", "type", "required", "choices", "min", "max", "suggestions"}
    if extra:
        raise ck.fail(label, f"unknown keys {sorted(extra)}")
    return FormField(name, flabel, ftype, required, choices, lo, hi, suggestions)


def _parse_item(ck: _Checker, raw: Any, index: int, category_ids: set[str]) -> ServiceItem:
    ck.where = f"items[{index}]"
    if not isinstance(raw, dict):
        raise ck.fail("(item)", f"expected an object, got {type(raw).__name__}")
    no = raw.get("no")
    if isinstance(no, bool) or not isinstance(no, int):
        raise ck.fail("no", f"expected a whole number, got {no!r}")
    ck.where = f"item {no}"
    if not 1 <= no <= EXPECTED_ITEMS:
        raise ck.fail("no", f"must be 1..{EXPECTED_ITEMS}")
    category = ck.need(raw, "category", str)
    if category not in category_ids:
        raise ck.fail("category", f"unknown category {category!r} (known: {', '.join(sorted(category_ids))})")
    name = ck.text(raw, "name")
    content = ck.text(raw, "content")
    audience = ck.text(raw, "audience")
    conditions = ck.text(raw, "conditions")
    materials = ck.text(raw, "materials", allow_empty=True)
    channels = ck.need(raw, "channels", list)
    if not channels:
        raise ck.fail("channels", "empty: an item is offered at the counter, the kiosk or both")
    for c in channels:
        if not isinstance(c, str) or c not in CHANNELS:
            raise ck.fail("channels", f"unknown channel {c!r} (known: counter, kiosk)")
    if len(set(channels)) != len(channels):
        raise ck.fail("channels", f"duplicate channel in {channels!r}")
    time_limit = _parse_time_limit(ck, raw.get("time_limit"))
    time_limit_text = ck.text(raw, "time_limit_text")
    kind = ck.need(raw, "kind", str)
    if kind not in KINDS:
        raise ck.fail("kind", f"unknown kind {kind!r} (known: {', '.join(sorted(KINDS))})")
    graw = ck.need(raw, "guide", dict)
    for key in GUIDE_KEYS:
        ck.need(graw, key, str, "guide.")
    extra = set(graw) - set(GUIDE_KEYS)
    if extra:
        raise ck.fail("guide", f"unknown keys {sorted(extra)}")
    if not graw["description"].strip():
        raise ck.fail("guide.description", "empty")
    guide = GuideText(**{k: graw[k] for k in GUIDE_KEYS})
    fields = tuple(_parse_field(ck, f, i) for i, f in enumerate(ck.need(raw, "fields", list)))
    names = [f.name for f in fields]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ck.fail("fields", f"duplicate field names {sorted(dup)}")
    field_types = {f.name: f.type for f in fields}
    raw_rules = raw.get("rules", [])
    if not isinstance(raw_rules, list):
        raise ck.fail("rules", f"expected a list, got {raw_rules!r}")
    rules = tuple(_parse_rule(ck, r, i, field_types) for i, r in enumerate(raw_rules))
    for r in rules:
        if r.rule == "certificate_within_months" and field_types.get("certificate_date") != "date":
            raise ck.fail("rules", "certificate_within_months needs a date field named certificate_date")
    requires_photo = ck.need(raw, "requires_photo", bool)
    receipt = ck.need(raw, "receipt", str)
    if receipt not in RECEIPTS:
        raise ck.fail("receipt", f"unknown receipt {receipt!r} (known: {', '.join(sorted(RECEIPTS))})")
    kiosk_mode = ck.need(raw, "kiosk_mode", str)
    if kiosk_mode not in KIOSK_MODES:
        raise ck.fail("kiosk_mode", f"unknown mode {kiosk_mode!r} (known: {', '.join(KIOSK_MODES)})")
    if "kiosk" in channels and kiosk_mode == "counter":
        raise ck.fail("kiosk_mode", "the list offers it on the kiosk (channels has kiosk) but kiosk_mode is counter")
    known = {
        "no",
        "category",
        "name",
        "content",
        "audience",
        "conditions",
        "materials",
        "channels",
        "time_limit",
        "time_limit_text",
        "kind",
        "guide",
        "rules",
        "fields",
        "requires_photo",
        "receipt",
        "kiosk_mode",
        "flow",
    }
    extra = set(raw) - known
    if extra:
        raise ck.fail("(item)", f"unknown keys {sorted(extra)}")
    return ServiceItem(
        no=no,
        category=category,
        name=name,
        content=content,
        audience=audience,
        conditions=conditions,
        materials=materials,
        channels=tuple(channels),
        time_limit=time_limit,
        time_limit_text=time_limit_text,
        kind=kind,
        guide=guide,
        rules=rules,
        fields=fields,
        requires_photo=requires_photo,
        receipt=receipt,
        kiosk_mode=kiosk_mode,
        flow=parse_flow(
            raw.get("flow"), kiosk_mode=kiosk_mode, no=no, max_no=EXPECTED_ITEMS, field_types=field_types, fail=ck.fail
        ),
    )


def parse_catalog(data: Any, path: str = "") -> Catalog:
    """Validate an already-decoded catalog document and build the dataclasses."""
    ck = _Checker(path)
    if not isinstance(data, dict):
        raise ck.fail("(root)", f"expected an object, got {type(data).__name__}")
    version = ck.need(data, "version", int)
    if version != SCHEMA_VERSION:
        raise ck.fail("version", f"expected {SCHEMA_VERSION}, got {version!r}")
    sources = ck.need(data, "sources", dict)
    for key in ("list", "guides"):
        ck.text(sources, key, "sources.")
    raw_categories = ck.need(data, "categories", list)
    categories = []
    for i, c in enumerate(raw_categories):
        cid = ck.text(c, "id", f"categories[{i}].")
        cname = ck.text(c, "name", f"categories[{i}].")
        categories.append(Category(cid, cname))
    category_ids = {c.id for c in categories}
    if not categories or len(category_ids) != len(categories):
        raise ck.fail("categories", "empty or duplicate category ids")
    raw_items = ck.need(data, "items", list)
    items = [_parse_item(ck, raw, i, category_ids) for i, raw in enumerate(raw_items)]
    ck.where = ""
    numbers = [item.no for item in items]
    dup = sorted({n for n in numbers if numbers.count(n) > 1})
    if dup:
        ck.where = f"item {dup[0]}"
        raise ck.fail("no", f"duplicate item number (numbers used twice: {dup})")
    if len(items) != EXPECTED_ITEMS:
        missing = sorted(set(range(1, EXPECTED_ITEMS + 1)) - set(numbers))
        raise ck.fail("items", f"expected {EXPECTED_ITEMS} items, found {len(items)} (missing: {missing})")
    items.sort(key=lambda item: item.no)
    return Catalog(
        version=version,
        sources={"list": sources["list"], "guides": sources["guides"]},
        categories=tuple(categories),
        items=tuple(items),
        path=path,
    )


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Load and validate the catalog (default config/catalog.json), cached per path.

    Raises CatalogError naming the item and field when the file is bad.
    """
    resolved = Path(path) if path is not None else DEFAULT_PATH
    return _load_cached(str(resolved.resolve()))


@functools.lru_cache(maxsize=8)
def _load_cached(path: str) -> Catalog:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"cannot read catalog {path}: {exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(
            f"{Path(path).name}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    table = Path(path).with_name(RULES_FILE)
    if table.exists():
        attach_rule_table(data, read_rule_table(table), path)
    catalog = parse_catalog(data, path)
    log.debug("catalog loaded: %d items from %s", len(catalog.items), path)
    return catalog


def read_rule_table(path: str | Path) -> list[dict[str, Any]]:
    """The rows of the rule table (config/rules.json), undecoded beyond JSON."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"cannot read rule table {path}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise CatalogError(
            f"{Path(path).name}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    rows = doc.get("rules") if isinstance(doc, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, dict) and isinstance(r.get("item"), int) for r in rows):
        raise CatalogError(f'{Path(path).name}: expected {{"rules": [{{"item": N, ...}}, ...]}}')
    return rows


def attach_rule_table(data: Any, rows: list[dict[str, Any]], path: str = "") -> None:
    """Give each catalog item its rows of the rule table (in table order).

    The table is the one place rules live; a catalog item that also carries inline rules is an error
    (two sources would drift apart).
    """
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        return  # parse_catalog reports the shape problem
    by_no: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_no.setdefault(row["item"], []).append(row)
    known = {it.get("no") for it in data["items"] if isinstance(it, dict)}
    stray = sorted(set(by_no) - known)
    if stray:
        raise CatalogError(f"{RULES_FILE}: rules for items not in the catalog: {stray}")
    for it in data["items"]:
        if isinstance(it, dict) and it.get("no") in by_no:
            if it.get("rules"):
                raise CatalogError(f"{Path(path).name}: item {it['no']} has inline rules and rows in {RULES_FILE}")
            it["rules"] = by_no[it["no"]]


# Tests and a technician's "reload" clear the cache this way.
load_catalog.cache_clear = _load_cached.cache_clear  # type: ignore[attr-defined]
