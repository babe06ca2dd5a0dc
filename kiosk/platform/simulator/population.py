"""Simulated residents described for tests and demos: who qualifies for what, who has records.

Served by ``/admin/residents/sample`` and printed by ``kiosk platform-sim residents``.
Full ID numbers: simulator-only, never part of the contract.
"""

from __future__ import annotations

from typing import Any

from kiosk.platform.simulator import data as simdata
from kiosk.platform.simulator import enquiries, rules
from kiosk.platform.simulator.items import ITEMS
from kiosk.platform.simulator.state import SimState
from kiosk.platform.simulator.status import resident_status


def resident_facts(state: SimState, r: simdata.ResidentRec) -> dict[str, Any]:
    today = state.today()
    qualifies = [n for n, it in ITEMS.items() if it.kind == "application" and rules.qualifies(n, r, today)]
    can_enquire = []
    for n, it in ITEMS.items():
        if it.kind in ("enquiry", "recommendation"):
            try:
                enquiries.enquire(n, state.world, r, {}, today)
                can_enquire.append(n)
            except enquiries.EnquiryRefused:
                pass
    return {
        "id_number": r.id_number,
        "name": r.name,
        "gender": r.gender,
        "age": r.age(today),
        "county": r.county,
        "employment": r.employment,
        "student": r.student,
        "card_state": r.effective_card_state(today),
        "employee_pension": {"insured": r.emp_insured, "months": r.emp_months, "receiving": r.emp_receiving},
        "resident_pension": {
            "enrolled": r.res_enrolled,
            "years": r.res_years,
            "receiving": r.res_receiving,
            "paused": r.res_paused,
            "supplementary": r.supp_enrolled,
        },
        "unemployment_insurance_months": r.ui_months,
        "registrations": sorted(r.registrations),
        "qualifies": qualifies,
        "has_records_for": can_enquire,
        "status": resident_status(r, today).model_dump(mode="json"),
    }


def sample_residents(state: SimState, n: int, qualifies: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
    out = []
    today = state.today()
    for r in list(state.world.residents.values())[offset:]:
        if qualifies is not None:
            want = qualifies > 0
            if rules.qualifies(abs(qualifies), r, today) != want:
                continue
        out.append(resident_facts(state, r))
        if len(out) >= n:
            break
    return out
