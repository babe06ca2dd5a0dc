"""The social-security card record: parse EF05/EF06 TLVs, encode them back,
check expiry, and turn the holder into a :class:`Person`.

EF05 (card-identification file) holds data items 01..07, EF06 (holder file)
items 08..0D; each is one TLV record whose tag is the item number. See
docs/sscard.md for the byte layout and what is assumed.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from dataclasses import dataclass

from kiosk.core.idnumber import id_problem, mask_id, mask_name, normalize
from kiosk.core.person import Person
from kiosk.hardware.gb_codes import GENDER_CODES, GENDERS, NATION_CODES, NATIONS  # noqa: F401 - re-exported
from kiosk.hardware.sscard_errors import SsCardDataError, SsCardExpiredError
from kiosk.hardware.sscard_tlv import (
    decode_an,
    decode_bcd,
    decode_date,
    decode_gbk,
    decode_optional_date,
    encode_bcd,
    encode_date,
    encode_gbk,
    encode_tlv,
    parse_record,
)

# Data items: (file, position in file, tag).
EF05_ITEMS = (0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07)
EF06_ITEMS = (0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D)
NAME_WIDTH = 30  # bytes of GBK in item 09


@dataclass(frozen=True)
class SsCardRecord:
    """What EF05 and EF06 of a social-security card say."""

    # EF05 card identification
    card_id: str             # 01 卡的识别码 (16 bytes, shown as hex)
    card_type: str           # 02 卡的类别
    version: str             # 03 规范版本, e.g. "3.00"
    issuer_code: str         # 04 初始化机构编号 (issuing institution)
    issue_date: _dt.date     # 05 发卡日期
    expiry_date: _dt.date | None  # 06 卡有效期 (valid through this day); None = unset (all F)
    card_number: str         # 07 卡号
    # EF06 holder
    ssn: str                 # 08 社会保障号码 (= citizen ID number)
    name: str                # 09 姓名 (GBK)
    gender: str              # 10 性别: 男/女/未知/未说明
    nation: str              # 11 民族 name, e.g. 汉
    nation_code: str         # 11 民族 code, e.g. "01"
    birthplace: str          # 12 出生地 (6-digit region code)
    birth_date: _dt.date     # 13 出生日期

    @property
    def region_code(self) -> str:
        """Issuing region from the first 3 bytes of the card identifier (BCD)."""
        return self.card_id[:6]

    @property
    def generation(self) -> int:
        """2 or 3 (第三代社会保障卡, spec version 3.x, issued since 2021)."""
        return 3 if self.version.startswith("3") else 2

    def is_expired(self, today: _dt.date) -> bool:
        # A card whose expiry item is unset (all F) is not refused for it: the platform knows
        # the card's state, and third-generation cards no longer print an expiry.
        return self.expiry_date is not None and today > self.expiry_date

    def check_expiry(self, today: _dt.date) -> None:
        """Raise :class:`SsCardExpiredError` when the card is past its expiry date."""
        if self.expiry_date is not None and today > self.expiry_date:
            raise SsCardExpiredError(
                f"social-security card {mask_id(self.card_number)} expired on {self.expiry_date}",
                expiry_date=self.expiry_date, record=self)

    def to_person(self) -> Person:
        """The resident; for citizens the social-security number is the ID number."""
        return Person(
            id_number=self.ssn,
            name=self.name,
            source="sscard",
            gender=self.gender,
            nation=self.nation,
            birth_date=self.birth_date,
            card_number=self.card_number,
            document="sscard",
        )

    def __repr__(self) -> str:  # never leak personal data through a log
        return (f"SsCardRecord(card={mask_id(self.card_number)}, ssn={mask_id(self.ssn)}, "
                f"name={mask_name(self.name)}, expires={self.expiry_date})")

    __str__ = __repr__


def parse_records(ef05: list[bytes], ef06: list[bytes]) -> SsCardRecord:
    """Build a record from the raw READ RECORD data of EF05 (7) and EF06 (6)."""
    if len(ef05) != len(EF05_ITEMS) or len(ef06) != len(EF06_ITEMS):
        raise SsCardDataError(f"expected 7+6 records, got {len(ef05)}+{len(ef06)}")
    v = {tag: parse_record(raw, tag) for tag, raw in zip(EF05_ITEMS + EF06_ITEMS, ef05 + ef06)}

    if not v[0x01]:
        raise SsCardDataError("card identifier is empty")
    card_number = decode_an(v[0x07], "card number")
    if not card_number or not card_number.isalnum():
        raise SsCardDataError("card number is empty or not alphanumeric")
    ssn = normalize(decode_an(v[0x08], "social-security number"))
    problem = id_problem(ssn)
    if problem:
        raise SsCardDataError(f"social-security number {mask_id(ssn)}: {problem}")
    name = decode_gbk(v[0x09], "name")
    if not name:
        raise SsCardDataError("holder name is empty")
    gender_code = decode_an(v[0x0A], "gender")
    if gender_code not in GENDERS:
        raise SsCardDataError(f"unknown gender code {gender_code!r}")
    if len(v[0x0B]) != 1:
        raise SsCardDataError(f"nation needs 1 byte, got {len(v[0x0B])}")
    # cn items are F-padded (人社信息函〔2012〕37号); optional ones may be all F.
    nation_code = decode_bcd(v[0x0B], "nation", allow_empty=True)
    birthplace = decode_bcd(v[0x0C], "birthplace", allow_empty=True) if v[0x0C] else ""
    return SsCardRecord(
        card_id=bytes(v[0x01]).hex().upper(),
        card_type=decode_an(v[0x02], "card type"),
        version=decode_an(v[0x03], "version"),
        issuer_code=decode_an(v[0x04], "issuer"),
        issue_date=decode_date(v[0x05], "issue date"),
        expiry_date=decode_optional_date(v[0x06], "expiry date"),
        card_number=card_number,
        ssn=ssn,
        name=name,
        gender=GENDERS[gender_code],
        nation=NATIONS.get(nation_code, ""),
        nation_code=nation_code,
        birthplace=birthplace,
        birth_date=decode_date(v[0x0D], "birth date"),
    )


def encode_records(rec: SsCardRecord) -> tuple[list[bytes], list[bytes]]:
    """The TLV records a card holding ``rec`` returns (used by the simulator)."""
    values = {
        0x01: bytes.fromhex(rec.card_id),
        0x02: rec.card_type.encode("ascii"),
        0x03: rec.version.encode("ascii"),
        0x04: rec.issuer_code.encode("ascii"),
        0x05: encode_date(rec.issue_date),
        0x06: encode_date(rec.expiry_date),
        0x07: rec.card_number.encode("ascii"),
        0x08: rec.ssn.encode("ascii"),
        0x09: encode_gbk(rec.name, NAME_WIDTH),
        0x0A: GENDER_CODES[rec.gender].encode("ascii"),
        0x0B: encode_bcd(rec.nation_code) if rec.nation_code else b"\xff",
        0x0C: encode_bcd(rec.birthplace, 3) if rec.birthplace else b"",
        0x0D: encode_date(rec.birth_date),
    }
    ef05 = [encode_tlv(t, values[t]) for t in EF05_ITEMS]
    ef06 = [encode_tlv(t, values[t]) for t in EF06_ITEMS]
    return ef05, ef06


def make_record(ssn: str, name: str, *, nation: str = "汉", gender: str | None = None,
                birthplace: str | None = None, issue_date: _dt.date = _dt.date(2021, 6, 1),
                expiry_date: _dt.date | None = None, card_number: str | None = None,
                issuer_code: str | None = None, generation: int = 3, no_expiry: bool = False) -> SsCardRecord:
    """A well-formed card record for ``ssn`` (simulators, tests, demos).

    Gender and birth date come from the ID number; the card number and
    identifier are derived from it deterministically.
    """
    from kiosk.core.idnumber import birth_date, gender_of

    ssn = normalize(ssn)
    problem = id_problem(ssn)
    if problem:
        raise ValueError(problem)
    digest = hashlib.sha256(ssn.encode()).hexdigest().upper()
    region = ssn[:6]
    if card_number is None:
        card_number = "A" + str(int(digest[:12], 16))[-8:].zfill(8)
    return SsCardRecord(
        card_id=region + "00D156000005" + digest[:14],  # region BCD + RID + serial (16 bytes)
        card_type="3",
        version="3.00" if generation == 3 else "2.00",
        issuer_code=issuer_code or region + "000000",
        issue_date=issue_date,
        expiry_date=None if no_expiry else (expiry_date or issue_date.replace(year=issue_date.year + 10)),
        card_number=card_number,
        ssn=ssn,
        name=name,
        gender=gender or gender_of(ssn),
        nation=nation,
        nation_code=NATION_CODES[nation],
        birthplace=birthplace or region,
        birth_date=birth_date(ssn),
    )
