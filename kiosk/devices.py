"""The kiosk's devices, built from config, behind one small hub.

The hub turns driver events into three things the app cares about: a person
identified, a card taken away, and a device error. Callbacks run on driver
threads; the app moves them onto the UI thread with Clock. The hub never
knows about screens.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Callable

from kiosk.config import Config
from kiosk.errors import KioskError
from kiosk.flows.idnumber import make_id
from kiosk.flows.person import Person

log = logging.getLogger("kiosk.devices")


def synthetic_people() -> list[Person]:
    """Residents the simulated devices can present (hotkeys F1..F5)."""
    rows = [
        ("140123", dt.date(1958, 3, 14), 21, "王秀兰", "汉", "山西省吕梁市临县城庄镇王家村12号"),
        ("140123", dt.date(1963, 11, 2), 35, "李建国", "汉", "山西省吕梁市临县白文镇李家塔村5号"),
        ("140212", dt.date(1990, 6, 30), 17, "马海燕", "回", "山西省大同市云州区西坪镇马家庄3号"),
        ("140123", dt.date(2001, 1, 9), 44, "张伟", "汉", "山西省吕梁市临县安业乡张家沟8号"),
        ("360702", dt.date(1975, 8, 21), 62, "刘芳", "汉", "江西省赣州市章贡区水东镇刘屋村2号"),
    ]
    people = []
    for region, born, seq, name, nation, address in rows:
        number = make_id(region, born, seq)
        people.append(Person(id_number=number, name=name, source="idcard", nation=nation,
                             gender="男" if int(number[16]) % 2 else "女", birth_date=born, address=address))
    return people


class DeviceHub:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.when_person: Callable[[Person], None] | None = None
        self.when_card_removed: Callable[[str], None] | None = None
        self.when_error: Callable[[KioskError], None] | None = None
        self.people = synthetic_people()
        self._inserted: dict[str, Person | None] = {"idcard": None, "sscard": None}

    # -- lifecycle ---------------------------------------------------------
    def start(self) -> None:
        log.info("devices: idcard=%s sscard=%s camera=%s printer=%s",
                 self.cfg["devices.idcard"]["driver"], self.cfg["devices.sscard"]["driver"],
                 self.cfg["devices.camera"]["driver"], self.cfg["devices.printer"]["driver"])

    def close(self) -> None:
        pass

    def status(self) -> dict[str, str]:
        return {name: ("simulated" if self.cfg[f"devices.{name}"]["driver"] == "sim" else "configured")
                for name in ("idcard", "sscard", "camera", "printer")}

    # -- simulated devices (hotkeys, kiosk control) --------------------------
    def sim_insert(self, source: str, index: int) -> None:
        person = self.people[index % len(self.people)]
        self._inserted[source] = person
        p = Person(**{**person.__dict__, "source": source})
        self._emit_person(p)

    def sim_remove(self, source: str) -> None:
        if self._inserted.get(source) is not None:
            self._inserted[source] = None
            if self.when_card_removed:
                self.when_card_removed(source)

    def _emit_person(self, person: Person) -> None:
        if self.when_person:
            self.when_person(person)
