"""What the card services say beyond the platform's answer: card state and progress in words,
when a temporary loss ends, and the bank reminder (seeds/002, items 39 and 40). Pure."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from kiosk.flows.rules import CARD_STATE_FROM_PLATFORM

CARD_STATE_ZH = {
    "active": "正常（社保功能已启用）",
    "lost_temporary": "临时挂失",
    "lost_formal": "正式挂失",
    "issued_not_activated": "已领卡，社保功能未启用",
    "in_production": "制卡中",
}
CARD_PROGRESS = ("已申领", "制卡中", "已领卡", "社保功能已启用")
# seeds/002 item 40, 办理须知 3: remind the holder to report the financial function's loss at the bank.
BANK_REMINDER_ZH = (
    "社保卡的金融功能（银行账户）不随本次挂失一同挂失，请及时到发卡银行或拨打银行客服电话办理金融功能挂失。"
)
TEMP_LOSS_DAYS = 7


def card_state(platform_state: object) -> str:
    """The catalog's card state for the platform's word (unknown words pass through)."""
    text = str(platform_state)
    return CARD_STATE_FROM_PLATFORM.get(text, text)


def card_progress(state: str) -> str:
    """已申领 → 制卡中 → 已领卡 → 社保功能已启用, with the current stage marked."""
    reached = {"in_production": 1, "issued_not_activated": 2}.get(state, 3)
    return " → ".join(f"【{s}】" if i == reached else s for i, s in enumerate(CARD_PROGRESS))


def card_status_notes(summary: dict[str, Any] | None, rows: list[dict[str, Any]]) -> list[str]:
    """Notes under a card status answer: the automatic end of a temporary loss, the bank reminder,
    and the activation to do next."""
    notes = []
    state = CARD_STATE_FROM_PLATFORM.get(str((summary or {}).get("state", "")), "")
    lost_on = str(rows[0].get("lost_on", "")) if rows else ""
    if state == "lost_temporary" and lost_on:
        try:
            until = _dt.date.fromisoformat(lost_on) + _dt.timedelta(days=TEMP_LOSS_DAYS)
            notes.append(f"临时挂失将于{until.year}年{until.month}月{until.day}日自动解挂。")
        except ValueError:
            pass
    if state in ("lost_temporary", "lost_formal"):
        notes.append(BANK_REMINDER_ZH)
    if state == "issued_not_activated":
        notes.append("您的社会保障卡社保功能尚未启用，可办理“社会保障卡启用”。")
    return notes


def card_loss_notes(action: object, today: _dt.date) -> list[str]:
    """Notes of a loss report (``action`` as the form offers it): when a temporary loss ends, the bank reminder."""
    notes = []
    if action == "临时挂失":
        until = today + _dt.timedelta(days=TEMP_LOSS_DAYS)
        notes.append(f"临时挂失有效期7天，{until.year}年{until.month}月{until.day}日后自动解挂。")
    if action in ("临时挂失", "正式挂失"):
        notes.append(BANK_REMINDER_ZH)
    return notes
