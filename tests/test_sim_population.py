"""The simulator's seeded residents look like a village, and every fact the rules use has both sides."""

from __future__ import annotations

import datetime as _dt
from collections import Counter

from kiosk.platform.simulator import data as simdata
from kiosk.platform.simulator.status import resident_status

TODAY = _dt.date(2026, 6, 15)


def test_population_is_village_like_with_every_kind_of_resident():
    world = simdata.generate(42, TODAY)
    rs = list(world.residents.values())
    n = len(rs)
    ages = [r.age(TODAY) for r in rs]
    working = [r for r, a in zip(rs, ages) if 18 <= a < 55]
    assert sum(a >= 60 for a in ages) / n >= 0.25                      # many elderly
    assert sum(r.away for r in working) / len(working) >= 0.10           # migrants working away
    assert 0.02 <= sum(r.student for r in rs) / n <= 0.10                # some students
    assert Counter(r.employment for r in rs).keys() >= {"employed", "flexible", "unemployed", "farmer",
                                                          "retired", "student", "child"}
    status = [resident_status(r, TODAY) for r in rs]
    groups = Counter(g for s in status for g in s.recipient_groups)
    assert set(groups) == {"enterprise_pension", "institution_pension", "resident_pension", "work_injury_1_4",
                           "survivor_dependant"}
    # both sides of every fact the rule table reads from the status record
    for fact in (lambda s: s.student.full_time, lambda s: s.student.graduating_this_year,
                 lambda s: s.employment.employer_kind == "institution",
                 lambda s: s.employment.contributing_employee_pension_this_year,
                 lambda s: s.employment.able_to_work, lambda s: s.unemployment.registered,
                 lambda s: s.unemployment.involuntary is True, lambda s: s.unemployment.involuntary is False,
                 lambda s: s.training.subsidised_this_year, lambda s: bool(s.training.certificates),
                 lambda s: s.pensions.resident.makeup_eligible, lambda s: s.pensions.institution_receiving,
                 lambda s: s.card.reissue == "issued", lambda s: s.card.state == "none"):
        seen = Counter(bool(fact(s)) for s in status)
        assert seen[True] and seen[False]
