"""Citizen ID numbers (GB 11643-1999) and masking of personal data.

Pure functions: every place a number enters the system validates it here, and
every place one is shown, printed or logged masks it here.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"  # index = weighted sum mod 11 (ISO 7064 MOD 11-2)
_ID18 = re.compile(r"^\d{17}[\dX]$", re.ASCII)  # ASCII: "١" or "²" are not ID digits
# Anything that looks like an 18-character ID number inside free text.
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(\d{3})\d{11}(\d{3}[\dXx])(?![0-9A-Za-z])")


def check_char(first17: str) -> str:
    """Check character for the first 17 digits of an ID number."""
    if len(first17) != 17 or not (first17.isascii() and first17.isdigit()):
        raise ValueError("need exactly 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalize(number: str) -> str:
    """Strip spaces, fold full-width digits and letters (１２３ｘ) to ASCII, upper-case a trailing x."""
    return unicodedata.normalize("NFKC", str(number)).strip().replace(" ", "").upper()


def id_problem(number: str) -> str | None:
    """English reason why ``number`` is not a valid 18-digit ID number, or None."""
    n = normalize(number)
    if len(n) != 18:
        return f"ID number must have 18 characters, got {len(n)}"
    if not _ID18.match(n):
        return "ID number must be 17 digits followed by a digit or X"
    try:
        _dt.date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError:
        return "ID number holds an impossible birth date"
    if check_char(n[:17]) != n[17]:
        return "ID number check character does not match"
    return None


def is_valid_id(number: str) -> bool:
    return id_problem(number) is None


def birth_date(number: str) -> _dt.date:
    n = normalize(number)
    return _dt.date(int(n[6:10]), int(n[10:12]), int(n[12:14]))


def gender_of(number: str) -> str:
    """'男' or '女' from the 17th digit (odd = male)."""
    return "男" if int(normalize(number)[16]) % 2 else "女"


def age_on(number: str, today: _dt.date) -> int:
    b = birth_date(number)
    return today.year - b.year - ((today.month, today.day) < (b.month, b.day))


def mask_id(number: str | None) -> str:
    """Show at most the first 3 and last 4 characters: ``140***********1234``.

    Short or odd values are masked harder, never revealed.
    """
    if not number:
        return ""
    n = str(number).strip()
    if len(n) >= 15:
        return n[:3] + "*" * (len(n) - 7) + n[-4:]
    if len(n) >= 8:
        return n[:2] + "*" * (len(n) - 4) + n[-2:]
    return "*" * len(n)


def mask_name(name: str | None) -> str:
    """Keep the first character (the surname for Chinese names): ``张**``.

    At most two stars: a long name's length is itself telling (compound and
    minority names), and a 15-character name must not push the screen header apart.
    """
    if not name:
        return ""
    name = name.strip()
    return name[0] + "*" * min(2, len(name) - 1) if len(name) > 1 else "*"


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    p = phone.strip()
    return p[:3] + "****" + p[-4:] if len(p) == 11 else "*" * len(p)


def scrub(text: str) -> str:
    """Mask every ID-number-shaped run in free text (log lines, fault reports)."""
    return _ID_IN_TEXT.sub(lambda m: m.group(1) + "*" * 11 + m.group(2), text)


def make_id(region: str, born: _dt.date, seq: int) -> str:
    """A syntactically valid ID number (for simulators and tests)."""
    first17 = f"{region:0>6}{born:%Y%m%d}{seq % 1000:03d}"
    return first17 + check_char(first17)
