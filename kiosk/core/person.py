"""Who is at the kiosk: the identity a device or the platform reported."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

from kiosk.core.idnumber import mask_id, mask_name


@dataclass
class Person:
    """A resident (or staff member) identified at the kiosk.

    ``id_number`` is the citizen ID number (for citizens equal to the
    social-security number), the key by which every source resolves to the
    same resident. ``source`` is "idcard", "sscard" or "qr".
    """

    id_number: str
    name: str
    source: str
    gender: str = ""
    nation: str = ""
    birth_date: _dt.date | None = None
    address: str = ""
    card_number: str = ""  # social-security card number, if any
    roles: list[str] = field(default_factory=list)  # staff roles from e-SSC login
    document: str = "resident_id"  # resident_id, foreign_permanent(_2023), hmt_permit, sscard, essc

    @property
    def masked_id(self) -> str:
        return mask_id(self.id_number)

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    def __repr__(self) -> str:  # never leak personal data through a repr in a log
        return f"Person(id={self.masked_id}, name={self.masked_name}, source={self.source})"
