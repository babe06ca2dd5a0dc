"""Form fields: validation as typed, normalised values and the keyboard each type needs.

Pure functions over ``kiosk.flows.catalog.FormField``. ``validate`` returns
``(value, None)`` with the normalised value the platform receives, or
``(None, error_zh)`` with a short sentence the screen shows beside the field.
Screens call it on every keystroke (through ``ServiceFlow.set_field``), so it
must be cheap and never raise for user input.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from kiosk.core.idnumber import id_problem, normalize
from kiosk.flows.catalog import FormField

#: Which on-screen keyboard a field type needs (screens map these to widgets).
KEYBOARDS: dict[str, str] = {
    "text_zh": "pinyin",  # pinyin keypad with candidate bar
    "digits": "numeric",
    "phone": "numeric",
    "date": "date",  # numeric keypad laid out as YYYY-MM-DD
    "id_number": "id_number",  # digits and X
    "money": "decimal",
    "choice": "choice",  # a list of buttons
    "certificate_no": "alnum",  # letters and digits
}

HINTS_ZH: dict[str, str] = {
    "phone": "11位手机号码",
    "date": "年-月-日，例如 2026-06-01",
    "id_number": "18位身份证号码",
    "money": "金额（元）",
    "certificate_no": "证书上的编号（字母和数字）",
    "text_zh": "请用拼音键盘输入",
}

# Dates the guides describe as something that already happened.
PAST_DATES = frozenset({"certificate_date", "separation_date", "unemployed_since", "event_date"})

# re.ASCII: Python's \d also matches "١" and "٣"; the platform gets ASCII digits only.
_MOBILE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$", re.ASCII)
_CERT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{3,39}$", re.ASCII)
_MONEY = re.compile(r"^\d{1,9}(\.\d{1,2})?$", re.ASCII)
MAX_TEXT = 60
MAX_INPUT = 200  # longer than any field needs: refused before any parsing
# Unicode categories no form value may hold: controls, format characters (bidi
# overrides, zero-width), lone surrogates (unencodable in UTF-8), private use,
# unassigned, and symbols such as emoji (neither the printer font nor GBK has them).
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "So"})


def _has_bad_chars(text: str) -> bool:
    return any(unicodedata.category(ch) in _BAD_CATEGORIES for ch in text)


@dataclass
class FieldState:
    """One field as a form screen renders it."""

    name: str
    label: str
    type: str
    value: str = ""
    error_zh: str | None = None
    choices: list[str] = field(default_factory=list)
    keyboard: str = "pinyin"
    required: bool = True
    hint_zh: str = ""

    @property
    def ok(self) -> bool:
        return self.error_zh is None and (bool(self.value) or not self.required)


def field_state(f: FormField, value: str = "") -> FieldState:
    return FieldState(
        f.name,
        f.label,
        f.type,
        value,
        None,
        list(f.choices),
        KEYBOARDS.get(f.type, "pinyin"),
        f.required,
        HINTS_ZH.get(f.type, ""),
    )


def parse_date(text: str) -> _dt.date | None:
    """``2026-06-01``, ``2026/6/1``, ``2026年6月1日`` or ``20260601``."""
    t = text.strip()
    m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", t) or re.fullmatch(
        r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", t
    )
    if not m:
        return None
    try:
        return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def validate(f: FormField, raw: Any, today: _dt.date) -> tuple[Any, str | None]:
    """Check one value as typed; returns (normalised value, None) or (None, error_zh)."""
    text = "" if raw is None else str(raw).strip()
    if not text:
        verb = "请选择" if f.type == "choice" else "请填写"
        return (None, f"{verb}{field_label(f)}。") if f.required else ("", None)
    if len(text) > MAX_INPUT:
        return None, f"{f.label}内容过长，请核对后重新输入。"
    if _has_bad_chars(text):
        return None, f"{f.label}含有无法识别的字符。"
    t = f.type
    if t != "text_zh" and t != "choice":
        # Full-width digits and letters (１３９…, ＡＢ) as typed on a phone-style keyboard.
        text = unicodedata.normalize("NFKC", text)
    if t == "phone":
        digits = text.replace(" ", "")
        if _MOBILE.match(digits) or _LANDLINE.match(digits):
            return digits, None
        if digits.isdigit() and digits.startswith("1") and len(digits) != 11:
            return None, f"手机号码应为11位，您输入了{len(digits)}位。"
        return None, "请输入11位手机号码（以1开头）或带区号的固定电话。"
    if t == "id_number":
        n = normalize(text)
        problem = id_problem(n)
        if problem is None:
            return n, None
        if len(n) != 18:
            return None, f"身份证号码应为18位，您输入了{len(n)}位。"
        if not n[:17].isdigit():
            return None, "身份证号码前17位应为数字。"
        if "check" in problem.lower():
            return None, "身份证号码最后一位（校验码）不对，请核对。"
        return None, "身份证号码有误（出生日期或格式不对），请核对。"
    if t == "date":
        d = parse_date(text)
        if d is None:
            return None, "日期格式不对，请按“年-月-日”输入，例如 2026-06-01。"
        if d.year < 1900 or d > today + _dt.timedelta(days=366):
            return None, "日期超出合理范围，请核对。"
        if f.name in PAST_DATES and d > today:
            return None, f"{f.label}不能晚于今天。"
        return d.isoformat(), None
    if t == "digits":
        if not (text.isascii() and text.isdigit()):  # "²".isdigit() is True, int("²") raises
            return None, f"{f.label}只能填数字。"
        value = int(text)
        if f.min is not None and value < f.min:
            return None, f"{f.label}不能小于{f.min}。"
        if f.max is not None and value > f.max:
            return None, f"{f.label}不能大于{f.max}。"
        return value, None
    if t == "money":
        s = text.replace(",", "").replace("元", "")
        if not _MONEY.match(s):
            return None, "金额请填数字（元），最多两位小数。"
        v = float(s)
        if v <= 0:
            return None, "金额应大于0。"
        if f.min is not None and v < f.min:
            return None, f"{f.label}不能小于{f.min}元。"
        if f.max is not None and v > f.max:
            return None, f"{f.label}不能大于{f.max}元。"
        return (int(v) if v.is_integer() else v), None
    if t == "choice":
        if text in f.choices:
            return text, None
        return None, f"请从列表中选择{f.label}。"
    if t == "certificate_no":
        if _CERT.match(text):
            return text.upper(), None
        return None, "证书编号为4-40位字母或数字，请照证书填写。"
    # text_zh
    if len(text) > MAX_TEXT:
        return None, f"{f.label}最多{MAX_TEXT}个字。"
    if re.search(r"\d{15,}", text):
        return None, f"{f.label}里不要填写证件号码。"
    return text, None


def field_label(f: FormField) -> str:
    """The label without its unit when the value carries it ("期望月薪", the value reads "3000元"):
    never "期望月薪（元）：3000元"."""
    if f.type == "money":
        return re.sub(r"[（(]元[)）]$", "", f.label)
    return f.label


def display_value(f: FormField, value: Any) -> str:
    """How a normalised value reads on the confirm screen and receipt."""
    if value is None or value == "":
        return "（未填写）"
    if f.type == "date":
        d = parse_date(str(value))
        return f"{d.year}年{d.month}月{d.day}日" if d else str(value)
    if f.type == "money":
        return f"{value}元"
    if f.type == "id_number":
        from kiosk.core.idnumber import mask_id

        return mask_id(str(value))
    if f.type == "phone":
        # Confirm pages stand in a public room: the middle four digits stay hidden.
        from kiosk.core.idnumber import mask_phone

        return mask_phone(str(value))
    return str(value)
