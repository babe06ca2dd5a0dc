"""The catalog's form answers → the platform contract's ``fields`` for each item.

The catalog names fields as the guide's form does (``certificate_level`` =
"中级（四级）"); the platform contract (docs/platform-openapi.json, rules in
kiosk/platform/simulator/rules.py) expects its own keys and codes
(``level`` = "中级"). The catalog's names and values are sent unchanged, and
the contract's keys are added next to them, so the confirm screen shows
exactly the answers the resident gave and the platform gets what it checks.
Pure; one function per item that needs it.
"""

from __future__ import annotations

from typing import Any

CARD_ACTIONS = {"临时挂失": "temp_loss", "正式挂失": "formal_loss", "解除挂失": "unlock"}
PAUSE_ACTIONS = {"暂停缴费": "pause", "恢复缴费": "resume"}
CHANGE_KEYS = {"性别": "gender", "民族": "nation", "居住地址": "address", "联系电话": "phone"}


def _level(text: str) -> str:
    for level in ("初级", "中级", "高级"):
        if str(text).startswith(level):
            return level
    return str(text)


def to_platform(item_no: int, answers: dict[str, Any]) -> dict[str, Any]:
    """The ``fields`` object sent with application ``item_no``."""
    out = dict(answers)
    if item_no == 7:
        out["job_title"] = answers.get("job_type", "")
    elif item_no == 22:
        out["level"] = _level(answers.get("certificate_level", ""))
    elif item_no == 23:
        # Every reason the guide's form offers is a break of employment not of one's own will.
        out["involuntary"] = True
    elif item_no == 20 and "base_percent" in answers:
        out["base_ratio"] = round(int(answers["base_percent"]) / 100, 2)
    elif item_no == 31:
        out["action"] = PAUSE_ACTIONS.get(str(answers.get("action", "")), answers.get("action"))
    elif item_no == 30:
        key = CHANGE_KEYS.get(str(answers.get("change_item", "")))
        return {key: answers.get("new_value", "")} if key else out
    elif item_no == 40:
        out["action"] = CARD_ACTIONS.get(str(answers.get("action", "")), answers.get("action"))
    return out
