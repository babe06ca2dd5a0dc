"""The 256-byte UCS-2LE text block of a second-generation card, both ways.

Four layouts share the block; the character at byte 248 (UCS-2 index 124)
tells them apart: blank/NUL for the resident ID card, ``I`` for the foreign
permanent-resident card (2017 layout), ``Y`` for the foreign permanent-resident
card issued since 2023-12-01 (18-digit number starting with 9), ``J`` for the
Hong Kong / Macao / Taiwan residence permit. Field tables are in docs/idcard.md.

Characters outside the card's 2-byte set: issuing offices store rare name
characters in the Unicode private-use area (and a card may even carry UTF-16
surrogates). Such a card is never refused for it: the character is shown as
〓 (the GB 2312 "geta" mark Chinese systems use for a character they cannot
show), the record says so (``rare_chars``), and the log counts them without
naming anyone.
"""

from __future__ import annotations

import datetime as _dt
import logging
import re
from typing import Any
from dataclasses import dataclass, field

from kiosk.core import idnumber
from kiosk.core.person import Person
from kiosk.hardware.gb_codes import GENDER_CODES, GENDERS, NATIONS  # noqa: F401 - re-exported
from kiosk.hardware.idcard_protocol import IdCardError, TEXT_LEN

log = logging.getLogger("kiosk.hardware.idcard")

RESIDENT = "resident_id"
FOREIGN = "foreign_permanent"
FOREIGN_2023 = "foreign_permanent_2023"
HMT = "hmt_permit"

#: What a character the kiosk cannot show becomes on screen and paper (U+3013, in GB 2312).
UNSHOWN = "\u3013"

TYPE_CHAR_OFFSET = 248

LONG_TERM = "长期"

# (name, characters) in block order; each character is 2 bytes.
RESIDENT_FIELDS = (("name", 15), ("gender", 1), ("nation", 2), ("birth", 8), ("address", 35),
                   ("id_number", 18), ("authority", 15), ("valid_from", 8), ("valid_until", 8),
                   ("reserved", 18))
HMT_FIELDS = (("name", 15), ("gender", 1), ("reserved0", 2), ("birth", 8), ("address", 35),
              ("id_number", 18), ("authority", 15), ("valid_from", 8), ("valid_until", 8),
              ("pass_number", 9), ("issue_count", 2), ("reserved1", 3), ("card_type", 1),
              ("reserved2", 3))
FOREIGN_FIELDS = (("english_name", 60), ("gender", 1), ("id_number", 15), ("nationality", 3),
                  ("name", 15), ("valid_from", 8), ("valid_until", 8), ("birth", 8),
                  ("card_version", 2), ("authority", 4), ("card_type", 1), ("reserved", 3))

# 2023 layout (type 'Y'). The National Immigration Administration's 机读信息规则 (2023) keeps the
# resident card's positions where the items coincide; the item lengths below are our reading of it
# (docs/idcard.md lists it as partly UNCONFIRMED): Chinese name in the name slot, English name in the
# address slot (35) with its overflow in the authority slot (15), the 18-digit number in the ID slot.
FOREIGN_2023_FIELDS = (("name", 15), ("gender", 1), ("renewal_count", 2), ("birth", 8), ("english_name", 35),
                       ("id_number", 18), ("english_name_ext", 15), ("valid_from", 8), ("valid_until", 8),
                       ("nationality", 3), ("authority", 4), ("card_version", 2), ("reserved0", 5),
                       ("card_type", 1), ("reserved1", 3))

_FOREIGN_NO = re.compile(r"^[A-Z]{3}\d{12}$")
_FOREIGN_2023_NO = re.compile(r"^9\d{16}[\dX]$")
_HMT_PREFIXES = ("810000", "820000", "830000")


class CardDataError(IdCardError):
    """The text block is readable but its content is invalid."""

    message_zh = "证件信息校验未通过，请重新放置；仍不行请到柜台办理。"


class UnsupportedCardError(IdCardError):
    message_zh = "暂不支持此类证件，请使用居民身份证或社保卡。"


@dataclass(eq=True)
class IdCardRecord:
    """Everything the text block (plus photo) says about the holder."""

    card_type: str                     # RESIDENT, FOREIGN or HMT (= Person.document)
    name: str
    gender: str                        # 男 / 女 / 未知 / 未说明
    birth_date: _dt.date
    id_number: str                     # 18-digit number; 15-char number on foreign cards
    authority: str                     # issuing authority (code on foreign cards)
    valid_from: _dt.date
    valid_until: _dt.date | None       # None = 长期 (no expiry)
    address: str = ""
    nation_code: str = ""
    nation: str = ""
    english_name: str = ""             # foreign cards
    nationality: str = ""              # foreign cards, ISO 3166-1 alpha-3
    card_version: str = ""             # foreign cards
    pass_number: str = ""              # HMT permits: 通行证号码
    issue_count: str = ""              # HMT permits: 签发次数; 2023 foreign cards: 换证次数
    rare_chars: int = 0                # characters shown as 〓 (private use / outside UCS-2)
    photo: bytes = field(default=b"", repr=False)        # WLT, vendor-encoded; never logged
    fingerprint: bytes = field(default=b"", repr=False)

    def __repr__(self) -> str:  # never leak personal data through a repr in a log
        return (f"IdCardRecord(type={self.card_type}, id={idnumber.mask_id(self.id_number)}, "
                f"name={idnumber.mask_name(self.name)}, photo={len(self.photo)} bytes)")

    __str__ = __repr__

    @property
    def long_term(self) -> bool:
        return self.valid_until is None

    @property
    def validity_text(self) -> str:
        end = LONG_TERM if self.valid_until is None else f"{self.valid_until:%Y.%m.%d}"
        return f"{self.valid_from:%Y.%m.%d}-{end}"

    def is_expired(self, on: _dt.date) -> bool:
        return self.valid_until is not None and on > self.valid_until

    def to_person(self) -> Person:
        return Person(id_number=self.id_number, name=self.name or self.english_name, source="idcard",
                      gender=self.gender, nation=self.nation or self.nationality,
                      birth_date=self.birth_date, address=self.address, document=self.card_type)


# ---------------------------------------------------------------- decoding
def _is_unshowable(ch: str) -> bool:
    cp = ord(ch)
    return 0xE000 <= cp <= 0xF8FF or 0xD800 <= cp <= 0xDFFF


def _shown(value: str) -> tuple[str, int]:
    """``value`` with private-use characters and surrogates (a pair counts once) as 〓, and how many."""
    out, count, i = [], 0, 0
    while i < len(value):
        ch = value[i]
        if _is_unshowable(ch):
            count += 1
            out.append(UNSHOWN)
            if 0xD800 <= ord(ch) <= 0xDBFF and i + 1 < len(value) and 0xDC00 <= ord(value[i + 1]) <= 0xDFFF:
                i += 1  # a surrogate pair is one character
        else:
            out.append(ch)
        i += 1
    return "".join(out), count


_TEXT_FIELDS = ("name", "english_name", "english_name_ext", "address", "authority")


def _raw(text: str, layout: tuple[tuple[str, int], ...], field_name: str) -> str:
    pos = 0
    for name, n in layout:
        if name == field_name:
            return text[pos:pos + n]
        pos += n
    raise KeyError(field_name)


def _split(text: str, layout: tuple[tuple[str, int], ...]) -> dict[str, str]:
    """Fields by name; in the free-text ones, unshowable characters become 〓 (counted in ``_rare``)."""
    out, pos, rare = {}, 0, 0
    for name, n in layout:
        value = text[pos:pos + n].replace("\x00", " ").strip()
        if name in _TEXT_FIELDS:
            value, k = _shown(value)
            rare += k
        out[name] = value
        pos += n
    if rare:
        # Counted, never shown: the name itself is personal data.
        log.info("card text holds %d character(s) outside the 2-byte set (private use); shown as U+3013", rare)
    out["_rare"] = str(rare)
    return out


def _date(value: str, what: str) -> _dt.date:
    if not re.fullmatch(r"\d{8}", value):
        raise CardDataError(f"{what} is not YYYYMMDD: {value!r}")
    try:
        return _dt.date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        raise CardDataError(f"{what} is not a calendar date: {value!r}") from None


def _validity(start: str, end: str) -> tuple[_dt.date, _dt.date | None]:
    valid_from = _date(start, "validity start")
    valid_until = None if end == LONG_TERM else _date(end, "validity end")
    if valid_until is not None and valid_until <= valid_from:
        raise CardDataError("validity end is not after validity start")
    return valid_from, valid_until


def _gender(code: str) -> str:
    if code not in GENDERS:
        raise CardDataError(f"unknown gender code {code!r}")
    return GENDERS[code]


def _citizen_number(number: str, birth: _dt.date) -> str:
    problem = idnumber.id_problem(number)
    if problem:
        raise CardDataError(f"{problem} ({idnumber.mask_id(number)})")
    if idnumber.birth_date(number) != birth:
        raise CardDataError("birth date field does not match the ID number")
    return number


def _check_gender(number: str, gender: str) -> None:
    # GB 11643: the 17th digit is odd for men, even for women.
    if gender in ("男", "女") and idnumber.gender_of(number) != gender:
        raise CardDataError("gender field does not match the ID number")


def card_type_of(block: bytes) -> str:
    """Which layout the block uses, from its type character."""
    ch = block[TYPE_CHAR_OFFSET:TYPE_CHAR_OFFSET + 2].decode("utf-16-le", errors="replace")
    if ch in (" ", "\x00"):
        return RESIDENT
    if ch == "I":
        return FOREIGN
    if ch == "Y":
        return FOREIGN_2023
    if ch == "J":
        return HMT
    raise UnsupportedCardError(f"unsupported card type marker {ch!r} at byte {TYPE_CHAR_OFFSET}")


def parse_text(block: bytes, photo: bytes = b"", fingerprint: bytes = b"") -> IdCardRecord:
    """Parse and validate a 256-byte text block; typed errors only."""
    block = bytes(block)
    if len(block) != TEXT_LEN:
        raise CardDataError(f"text block is {len(block)} bytes, expected {TEXT_LEN}")
    # One character per 2-byte unit, so the field positions hold whatever the units are.
    text = "".join(chr(block[i] | block[i + 1] << 8) for i in range(0, TEXT_LEN, 2))
    kind = card_type_of(block)
    if kind == FOREIGN_2023:
        return _foreign_2023(text, photo, fingerprint)
    if kind == FOREIGN:
        f = _split(text, FOREIGN_FIELDS)
        if not _FOREIGN_NO.match(f["id_number"]):
            raise CardDataError("permanent-residence number is not 3 letters + 12 digits "
                                f"({idnumber.mask_id(f['id_number'])})")
        if not re.fullmatch(r"[A-Z]{3}", f["nationality"]):
            raise CardDataError(f"nationality code is not ISO alpha-3: {f['nationality']!r}")
        if not (f["name"] or f["english_name"]):
            raise CardDataError("card holds no name")
        valid_from, valid_until = _validity(f["valid_from"], f["valid_until"])
        return IdCardRecord(card_type=FOREIGN, name=f["name"], gender=_gender(f["gender"]),
                            birth_date=_date(f["birth"], "birth date"), id_number=f["id_number"],
                            authority=f["authority"], valid_from=valid_from, valid_until=valid_until,
                            english_name=f["english_name"], nationality=f["nationality"],
                            card_version=f["card_version"], photo=photo, fingerprint=fingerprint,
                            rare_chars=int(f["_rare"]))
    f = _split(text, HMT_FIELDS if kind == HMT else RESIDENT_FIELDS)
    if not f["name"]:
        raise CardDataError("card holds no name")
    birth = _date(f["birth"], "birth date")
    number = _citizen_number(f["id_number"], birth)
    gender = _gender(f["gender"])
    _check_gender(number, gender)
    valid_from, valid_until = _validity(f["valid_from"], f["valid_until"])
    common: dict[str, Any] = dict(name=f["name"], gender=gender, birth_date=birth, id_number=number,
                  authority=f["authority"], valid_from=valid_from, valid_until=valid_until,
                  address=f["address"], photo=photo, fingerprint=fingerprint, rare_chars=int(f["_rare"]))
    if kind == HMT:
        if not number.startswith(_HMT_PREFIXES):
            raise CardDataError("residence-permit number does not start with 810000/820000/830000")
        return IdCardRecord(card_type=HMT, pass_number=f["pass_number"], issue_count=f["issue_count"],
                            **common)
    if f["nation"] not in NATIONS:
        raise CardDataError(f"unknown nation code {f['nation']!r}")
    return IdCardRecord(card_type=RESIDENT, nation_code=f["nation"], nation=NATIONS[f["nation"]],
                        **common)


def _foreign_2023(text: str, photo: bytes, fingerprint: bytes) -> IdCardRecord:
    """The 2023 foreign permanent-resident card: 18-digit number "9" + province (2) + nationality (3,
    numeric GB/T 2659) + birth date (8) + sequence (3, odd = male) + MOD 11-2 check, like a citizen's."""
    f = _split(text, FOREIGN_2023_FIELDS)
    number = f["id_number"]
    if not _FOREIGN_2023_NO.match(number):
        raise CardDataError(f"2023 permanent-residence number is not 9 + 16 digits + check ({idnumber.mask_id(number)})")
    birth = _date(f["birth"], "birth date")
    number = _citizen_number(number, birth)  # same check character and birth-date rule as GB 11643
    gender = _gender(f["gender"])
    _check_gender(number, gender)
    nationality = f["nationality"]
    if not re.fullmatch(r"[A-Z]{3}|\d{3}", nationality):
        raise CardDataError(f"nationality code is not GB/T 2659 alpha-3 or numeric: {nationality!r}")
    if nationality.isdigit() and nationality != number[3:6]:
        raise CardDataError("nationality code does not match the permanent-residence number")
    # The overflow slot continues the English name exactly where its 35 characters end (a space may
    # fall at the seam, so join the raw slots before trimming).
    english, _k = _shown((_raw(text, FOREIGN_2023_FIELDS, "english_name")
                          + _raw(text, FOREIGN_2023_FIELDS, "english_name_ext")).replace("\x00", " ").strip())
    if not (f["name"] or english):
        raise CardDataError("card holds no name")
    valid_from, valid_until = _validity(f["valid_from"], f["valid_until"])
    return IdCardRecord(card_type=FOREIGN_2023, name=f["name"], gender=gender, birth_date=birth, id_number=number,
                        authority=f["authority"], valid_from=valid_from, valid_until=valid_until,
                        english_name=english, nationality=nationality, card_version=f["card_version"],
                        issue_count=f["renewal_count"], photo=photo, fingerprint=fingerprint,
                        rare_chars=int(f["_rare"]))


# ---------------------------------------------------------------- encoding


def _pack(values: dict[str, str], layout: tuple[tuple[str, int], ...]) -> bytes:
    out = []
    for name, n in layout:
        v = values.get(name, "")
        if len(v) > n:
            raise ValueError(f"field {name} longer than {n} characters")
        out.append(v.ljust(n))
    block = "".join(out).encode("utf-16-le", "surrogatepass")  # tests put raw surrogates on cards
    assert len(block) == TEXT_LEN
    return block


def encode_text(rec: IdCardRecord) -> bytes:
    """The 256-byte block a card would hold for ``rec`` (simulator, tests)."""
    common = {
        "name": rec.name,
        "gender": GENDER_CODES[rec.gender],
        "birth": f"{rec.birth_date:%Y%m%d}",
        "id_number": rec.id_number,
        "authority": rec.authority,
        "valid_from": f"{rec.valid_from:%Y%m%d}",
        "valid_until": LONG_TERM if rec.valid_until is None else f"{rec.valid_until:%Y%m%d}",
        "address": rec.address,
    }
    if rec.card_type == FOREIGN_2023:
        eng = rec.english_name
        return _pack({**common, "english_name": eng[:35], "english_name_ext": eng[35:50],
                      "nationality": rec.nationality, "card_version": rec.card_version,
                      "renewal_count": rec.issue_count, "card_type": "Y"}, FOREIGN_2023_FIELDS)
    if rec.card_type == FOREIGN:
        return _pack({**common, "english_name": rec.english_name, "nationality": rec.nationality,
                      "card_version": rec.card_version, "card_type": "I"}, FOREIGN_FIELDS)
    if rec.card_type == HMT:
        return _pack({**common, "pass_number": rec.pass_number, "issue_count": rec.issue_count,
                      "card_type": "J"}, HMT_FIELDS)
    return _pack({**common, "nation": rec.nation_code}, RESIDENT_FIELDS)
