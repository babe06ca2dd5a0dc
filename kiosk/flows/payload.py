"""The catalog's form answers → the platform contract's ``fields`` for each item.

The catalog names fields as the guide's form does (``certificate_level`` =
"中级（四级）"); the platform contract (docs/platform-openapi.json, rules in
kiosk/platform/simulator/rules.py) expects its own keys and codes
(``level`` = "中级"). The catalog's names and values are sent unchanged, and
the contract's keys are added next to them, so the confirm screen shows
exactly the answers the resident gave and the platform gets what it checks.
Pure; one named conversion per kind of form that needs it, chosen by the catalog
(``flow.platform_fields``), never by item number.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

CARD_ACTIONS = {"临时挂失": "temp_loss", "正式挂失": "formal_loss", "解除挂失": "unlock"}
PAUSE_ACTIONS = {"暂停缴费": "pause", "恢复缴费": "resume"}
CHANGE_KEYS = {"性别": "gender", "民族": "nation", "居住地址": "address", "联系电话": "phone"}


def _level(text: str) -> str:
    for level in ("初级", "中级", "高级"):
        if str(text).startswith(level):
            return level
    return str(text)


def _job_title(answers: dict[str, Any]) -> dict[str, Any]:
    return {**answers, "job_title": answers.get("job_type", "")}


def _certificate_level(answers: dict[str, Any]) -> dict[str, Any]:
    return {**answers, "level": _level(answers.get("certificate_level", ""))}


def _involuntary_separation(answers: dict[str, Any]) -> dict[str, Any]:
    # Every reason the guide's form offers is a break of employment not of one's own will.
    return {**answers, "involuntary": True}


def _base_ratio(answers: dict[str, Any]) -> dict[str, Any]:
    if "base_percent" not in answers:
        return dict(answers)
    return {**answers, "base_ratio": round(int(answers["base_percent"]) / 100, 2)}


def _pause_action(answers: dict[str, Any]) -> dict[str, Any]:
    return {**answers, "action": PAUSE_ACTIONS.get(str(answers.get("action", "")), answers.get("action"))}


def _change_item(answers: dict[str, Any]) -> dict[str, Any]:
    key = CHANGE_KEYS.get(str(answers.get("change_item", "")))
    return {key: answers.get("new_value", "")} if key else dict(answers)


def _card_action(answers: dict[str, Any]) -> dict[str, Any]:
    return {**answers, "action": CARD_ACTIONS.get(str(answers.get("action", "")), answers.get("action"))}


#: The catalog's ``flow.platform_fields`` names one of these (validated at load).
CONVERSIONS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "job_title": _job_title,  # 招聘零工登记: the contract's job_title
    "certificate_level": _certificate_level,  # 技能提升补贴: 中级（四级） -> 中级
    "involuntary_separation": _involuntary_separation,  # 失业保险金申领
    "base_ratio": _base_ratio,  # 灵活就业参保: 60 (%) -> 0.6
    "pause_action": _pause_action,  # 暂停/恢复缴费: pause / resume
    "change_item": _change_item,  # 非关键信息变更: only the changed key
    "card_action": _card_action,  # 社保卡挂失与解挂: temp_loss / formal_loss / unlock
}


def to_platform(conversion: str, answers: dict[str, Any]) -> dict[str, Any]:
    """The ``fields`` object sent with an application whose catalog ``flow.platform_fields`` is ``conversion``
    ("" = the answers unchanged)."""
    convert = CONVERSIONS.get(conversion)
    return convert(answers) if convert is not None else dict(answers)
