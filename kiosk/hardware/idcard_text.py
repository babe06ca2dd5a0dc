"""The 256-byte UCS-2LE text block of a second-generation card, both ways.

Three layouts share the block; the character at byte 248 (UCS-2 index 124)
tells them apart: blank/NUL for the resident ID card, ``I`` for the foreign
permanent-resident card (2017 layout), ``J`` for the Hong Kong / Macao /
Taiwan residence permit. Field tables are in docs/idcard.md.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any
from dataclasses import dataclass, field

from kiosk.core import idnumber
from kiosk.core.person import Person
from kiosk.hardware.gb_codes import GENDER_CODES, GENDERS, NATIONS  # noqa: F401 - re-exported
from kiosk.hardware.idcard_protocol import IdCardError, TEXT_LEN

RESIDENT = "resident_id"
FOREIGN = "foreign_permanent"
HMT = "hmt_permit"

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

_FOREIGN_NO = re.compile(r"^[A-Z]{3}\d{12}$")
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
    issue_count: str = ""              # HMT permits: 签发次数
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
def _split(text: str, layout: tuple[tuple[str, int], ...]) -> dict[str, str]:
    out, pos = {}, 0
    for name, n in layout:
        out[name] = text[pos:pos + n].replace("\x00", " ").strip()
        pos += n
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
    if ch == "J":
        return HMT
    raise UnsupportedCardError(f"unsupported card type marker {ch!r} at byte {TYPE_CHAR_OFFSET}")


def parse_text(block: bytes, photo: bytes = b"", fingerprint: bytes = b"") -> IdCardRecord:
    """Parse and validate a 256-byte text block; typed errors only."""
    block = bytes(block)
    if len(block) != TEXT_LEN:
        raise CardDataError(f"text block is {len(block)} bytes, expected {TEXT_LEN}")
    try:
        text = block.decode("utf-16-le")
    except UnicodeDecodeError as exc:
        raise CardDataError(f"text block is not valid UCS-2LE: {exc.reason} at byte {exc.start}") from None
    if len(text) != TEXT_LEN // 2:  # surrogate pairs are not UCS-2
        raise CardDataError("text block holds characters outside UCS-2")
    kind = card_type_of(block)
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
                            card_version=f["card_version"], photo=photo, fingerprint=fingerprint)
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
                  address=f["address"], photo=photo, fingerprint=fingerprint)
    if kind == HMT:
        if not number.startswith(_HMT_PREFIXES):
            raise CardDataError("residence-permit number does not start with 810000/820000/830000")
        return IdCardRecord(card_type=HMT, pass_number=f["pass_number"], issue_count=f["issue_count"],
                            **common)
    if f["nation"] not in NATIONS:
        raise CardDataError(f"unknown nation code {f['nation']!r}")
    return IdCardRecord(card_type=RESIDENT, nation_code=f["nation"], nation=NATIONS[f["nation"]],
                        **common)


# ---------------------------------------------------------------- encoding


def _pack(values: dict[str, str], layout: tuple[tuple[str, int], ...]) -> bytes:
    out = []
    for name, n in layout:
        v = values.get(name, "")
        if len(v) > n:
            raise ValueError(f"field {name} longer than {n} characters")
        out.append(v.ljust(n))
    block = "".join(out).encode("utf-16-le")
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
    if rec.card_type == FOREIGN:
        return _pack({**common, "english_name": rec.english_name, "nationality": rec.nationality,
                      "card_version": rec.card_version, "card_type": "I"}, FOREIGN_FIELDS)
    if rec.card_type == HMT:
        return _pack({**common, "pass_number": rec.pass_number, "issue_count": rec.issue_count,
                      "card_type": "J"}, HMT_FIELDS)
    return _pack({**common, "nation": rec.nation_code}, RESIDENT_FIELDS)
