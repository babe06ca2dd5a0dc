"""Who the simulated devices present: residents the platform simulator knows.

On embedded defaults the kiosk talks to the local platform simulator, which
generates its residents deterministically from ``[platform] simulator_seed``.
The simulated ID card and social-security card must carry people that
platform knows, or every service would answer "not found". So the demo
residents are picked from the same generated world, one per kind of visit a
tester wants to try (F1..F5). Against any other platform the ID-card
simulator's own synthetic residents are used.
"""

from __future__ import annotations

import datetime as _dt
import functools
import logging

from kiosk.core import clock
from kiosk.core.config import Config
from kiosk.hardware.idcard_text import RESIDENT, IdCardRecord

log = logging.getLogger("kiosk.sim_people")

# (what a tester tries, predicate on the simulator's ResidentRec)
PROFILES = [
    ("enterprise pensioner (item 26 payments)", lambda r, t: r.emp_receiving and bool(r.pension_payments)),
    ("rural resident in the resident pension, age 60+ (items 33, 36)", lambda r, t: r.res_enrolled and r.age(t) >= 60),
    ("unemployed job seeker (items 1-3, 10, 27)", lambda r, t: r.employment == "unemployed" and 18 <= r.age(t) < 50),
    ("young farmer looking for gig work (items 4-6)", lambda r, t: r.employment == "farmer" and r.age(t) < 45),
    ("card temporarily lost (item 40)", lambda r, t: r.effective_card_state(t) == "temp_lost"),
]


def _card_for(r, today: _dt.date) -> IdCardRecord:
    from kiosk.hardware.idcard_sim import synthetic_photo

    issued = _dt.date(max(r.birth_date.year + 16, 2010), 6, 1)
    age_at_issue = issued.year - r.birth_date.year
    until = None if age_at_issue >= 46 else issued.replace(year=issued.year + (20 if age_at_issue >= 26 else 10))
    return IdCardRecord(card_type=RESIDENT, name=r.name, gender=r.gender, birth_date=r.birth_date,
                        id_number=r.id_number, authority=f"{r.county}公安局", valid_from=issued,
                        valid_until=until, address=r.address, nation_code="01", nation="汉",
                        photo=synthetic_photo(r.id_number))


@functools.lru_cache(maxsize=4)
def _from_simulator(seed: int, today: _dt.date) -> tuple[IdCardRecord, ...]:
    from kiosk.platform.simulator.data import generate

    world = generate(seed, today)
    picked: list[IdCardRecord] = []
    for label, pred in PROFILES:
        for r in world.residents.values():
            if pred(r, today) and all(c.id_number != r.id_number for c in picked):
                picked.append(_card_for(r, today))
                log.info("simulated residents: F%d = %s", len(picked), label)
                break
    return tuple(picked)


def demo_cards(cfg: Config | None = None, today: _dt.date | None = None) -> list[IdCardRecord]:
    """ID cards for the simulated reader (F1..F5), known to the configured platform."""
    from kiosk.hardware.idcard_sim import SYNTHETIC_RESIDENTS
    from kiosk.platform.simulator.launcher import is_local_default

    platform = cfg.settings.platform if cfg is not None else None
    if platform is not None and platform.start_simulator and is_local_default(platform.url):
        cards = list(_from_simulator(platform.simulator_seed, today or clock.today()))
        if len(cards) == len(PROFILES):
            return cards + [c for c in SYNTHETIC_RESIDENTS if c.card_type != RESIDENT]
    return list(SYNTHETIC_RESIDENTS)



def demo_essc_code(cfg: Config, id_number: str, kind: str = "resident") -> str:
    """A fresh e-SSC QR text the local platform simulator accepts (F9 in the kiosk).

    The simulator derives its issuer key from its seed, as its own
    ``kiosk platform-sim issue-qr`` does; a real platform's codes come from
    the resident's phone.
    """
    import hashlib
    import time

    from kiosk.platform.simulator.essc import EsscIssuer

    issuer = EsscIssuer(hashlib.sha256(f"essc-key-{cfg.settings.platform.simulator_seed}".encode()).digest())
    text, _exp = issuer.issue(kind, id_number, time.time())
    return text
