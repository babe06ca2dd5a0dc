"""What one catalog item does on the kiosk beyond its mode: the ``flow`` object of
config/catalog.json (docs/catalog.md, "Per-item behaviour").

The flow engine reads these traits instead of item numbers. Parsed and checked here,
for :mod:`kiosk.flows.catalog`, which names the item in any error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.flows.payload import CONVERSIONS

#: ``fail(key, problem)``: the catalog's error for this item (kiosk.core.errors.CatalogError).
Fail = Callable[[str, str], Exception]

#: Lists the platform ranks for the resident (catalog ``flow.recommend``).
RECOMMENDERS = frozenset({"fixed_jobs", "gig_jobs", "gig_seekers"})
#: Filters a browse list offers, in the order shown (catalog ``flow.filters``).
BROWSE_FILTERS = ("township", "type", "min_pay")
FLOW_KEYS = (
    "does_zh",
    "recommend",
    "filters",
    "pay_column",
    "masks_names",
    "card_status_notes",
    "card_loss_notes",
    "result_notes",
    "follow_ups",
    "platform_fields",
)


@dataclass(frozen=True)
class FlowTraits:
    """What one item does on the kiosk beyond its mode (catalog key ``flow``, docs/catalog.md).

    The engine reads these instead of item numbers; every default means "nothing special".
    """

    #: one line for `kiosk flow list`: what the resident does here (enquiry and application items)
    does_zh: str = ""
    #: "" = the item's own enquiry; else the platform's ranked list shown instead
    recommend: str = ""
    #: browse filters offered on the result (subset of BROWSE_FILTERS, in that order)
    filters: tuple[str, ...] = ()
    #: the result column the ``min_pay`` filter reads ("salary", "pay")
    pay_column: str = ""
    #: rows name other residents: show the surname only, whatever the platform sent
    masks_names: bool = False
    #: card state, progress and loss notes from the card-status answer (the card status enquiry)
    card_status_notes: bool = False
    #: the ``action`` answer is a card loss: when a temporary loss ends and the bank reminder
    card_loss_notes: bool = False
    #: notes printed on every result and receipt of a submission
    result_notes: tuple[str, ...] = ()
    #: items to offer after a success (the guides: recommendations follow registration)
    follow_ups: tuple[int, ...] = ()
    #: how the answers become the platform contract's ``fields`` (kiosk.flows.payload.CONVERSIONS)
    platform_fields: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Only what differs from the defaults (the catalog file carries no empty keys)."""
        default = FlowTraits()
        out: dict[str, Any] = {}
        for key in FLOW_KEYS:
            value = getattr(self, key)
            if value != getattr(default, key):
                out[key] = list(value) if isinstance(value, tuple) else value
        return out


def _known(value: Any, names: Any) -> bool:
    """``value in names`` for JSON values: a list or object is never a known name (and is unhashable)."""
    return isinstance(value, str) and value in names


def _texts(fail: Fail, value: Any, label: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise fail(label, f"expected a non-empty list of texts, got {value!r}")
    return tuple(value)


def _flag(fail: Fail, value: Any, label: str) -> bool:
    if value is not True:
        raise fail(label, f"expected true (leave the key out for false), got {value!r}")
    return True


def parse_flow(
    raw: Any, *, kiosk_mode: str, no: int, max_no: int, field_types: dict[str, str], fail: Fail
) -> FlowTraits:
    """Item ``no``'s ``flow`` object (None: all defaults), each key checked against the mode and
    the form (``field_types``: field name -> type) it belongs to; ``fail(key, problem)`` makes the
    catalog's error naming the item."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise fail("flow", f"expected an object, got {raw!r}")
    extra = set(raw) - set(FLOW_KEYS)
    if extra:
        raise fail("flow", f"unknown keys {sorted(extra)} (known: {', '.join(FLOW_KEYS)})")
    enquiry, application = kiosk_mode == "enquiry", kiosk_mode == "application"
    for key, ok in (
        ("recommend", enquiry),
        ("filters", enquiry),
        ("pay_column", enquiry),
        ("masks_names", enquiry),
        ("card_status_notes", enquiry),
        ("card_loss_notes", application),
        ("result_notes", application),
    ):
        if key in raw and not ok:
            raise fail(f"flow.{key}", f"not for a {kiosk_mode} item")
    does_zh = raw.get("does_zh", "")
    if not isinstance(does_zh, str):
        raise fail("flow.does_zh", f"expected text, got {does_zh!r}")
    if kiosk_mode != "counter" and not does_zh.strip():
        raise fail("flow.does_zh", f"a {kiosk_mode} item says what it does (`kiosk flow list`)")
    recommend = raw.get("recommend", "")
    if "recommend" in raw and not _known(recommend, RECOMMENDERS):
        raise fail("flow.recommend", f"expected one of {sorted(RECOMMENDERS)}, got {recommend!r}")
    filters: tuple[str, ...] = ()
    if "filters" in raw:
        filters = raw["filters"]
        if not isinstance(filters, list) or not filters or list(filters) != [f for f in BROWSE_FILTERS if f in filters]:
            raise fail(
                "flow.filters", f"expected distinct names of {list(BROWSE_FILTERS)} in that order, got {filters!r}"
            )
        filters = tuple(filters)
        if recommend:
            raise fail("flow.filters", "a ranked list (recommend) has no filters")
    pay_column = raw.get("pay_column", "")
    if ("min_pay" in filters) != ("pay_column" in raw):
        raise fail("flow.pay_column", "needed exactly when the filters include min_pay")
    if "pay_column" in raw and not (isinstance(pay_column, str) and pay_column.isidentifier()):
        raise fail("flow.pay_column", f"expected a column key, got {pay_column!r}")
    masks = _flag(fail, raw["masks_names"], "flow.masks_names") if "masks_names" in raw else False
    card_status = (
        _flag(fail, raw["card_status_notes"], "flow.card_status_notes") if "card_status_notes" in raw else False
    )
    card_loss = _flag(fail, raw["card_loss_notes"], "flow.card_loss_notes") if "card_loss_notes" in raw else False
    if card_loss and field_types.get("action") != "choice":
        raise fail("flow.card_loss_notes", "needs a choice field named action (临时挂失 / 正式挂失 / 解除挂失)")
    result_notes = _texts(fail, raw["result_notes"], "flow.result_notes") if "result_notes" in raw else ()
    follow_ups: tuple[int, ...] = ()
    if "follow_ups" in raw:
        ups = raw["follow_ups"]
        if (
            not isinstance(ups, list)
            or not ups
            or any(isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= max_no or n == no for n in ups)
        ):
            raise fail("flow.follow_ups", f"expected a non-empty list of other item numbers, got {ups!r}")
        follow_ups = tuple(ups)
    conversion = raw.get("platform_fields", "")
    if "platform_fields" in raw and not _known(conversion, CONVERSIONS):
        raise fail("flow.platform_fields", f"expected one of {sorted(CONVERSIONS)}, got {conversion!r}")
    return FlowTraits(
        does_zh=does_zh,
        recommend=recommend,
        filters=filters,
        pay_column=pay_column,
        masks_names=masks,
        card_status_notes=card_status,
        card_loss_notes=card_loss,
        result_notes=result_notes,
        follow_ups=follow_ups,
        platform_fields=conversion,
    )
